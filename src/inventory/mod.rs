//! Inventory: stock locations, units and the stock movement ledger. Receiving
//! (procurement) creates units and movements; assembly, swaps and RMA build on
//! these.

pub mod locations;
pub mod units;
mod web;

pub use web::routes;
