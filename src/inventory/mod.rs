//! Inventory: stock locations, units and the stock movement ledger. Receiving
//! (procurement) creates units and movements; assembly, swaps and RMA build on
//! these.

pub mod assembly;
pub mod assets;
pub mod locations;
pub mod reorder;
pub mod rma;
pub mod slot_lines;
pub mod stock;
pub mod templates;
pub mod units;
pub mod warranty;
