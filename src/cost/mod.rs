//! Cost: what each asset, server model, instance type and pricing tier costs
//! per day, from landed cost, power, rack space, network and labour, with
//! versioned parameters and what-if scenarios. See `docs/cost-model.md`.
//!
//! `model` and `pricing` are the pure engine, `scenario` applies overrides in
//! memory, `service` loads inputs and runs it, `repo` and `catalog` hold the SQL.

pub mod catalog;
pub mod charts;
pub mod model;
pub mod params;
pub mod pricing;
pub mod repo;
pub mod reports;
pub mod scenario;
pub mod service;
pub mod views;
