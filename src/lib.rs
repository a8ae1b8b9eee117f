//! rackledger: hardware procurement and datacenter asset inventory.
//!
//! `web → service → repo` per domain; see `docs/architecture.md`.

#[cfg(feature = "tuned-alloc")]
pub mod alloc;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod cost;
pub mod datacenter;
pub mod db;
pub mod demo;
pub mod error;
pub mod export;
pub mod health;
pub mod i18n;
pub mod importers;
pub mod inventory;
pub mod labels;
pub mod money;
pub mod procurement;
pub mod stocktake;
pub mod web;
pub mod workorders;
