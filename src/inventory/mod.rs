//! Inventory: stock locations, units and the stock movement ledger. Receiving
//! (procurement) creates units and movements; assembly, swaps and RMA build on
//! these.

pub mod assembly;
mod assembly_web;
pub mod assets;
pub mod locations;
pub mod reorder;
pub mod rma;
pub mod templates;
pub mod units;
mod units_web;
pub mod warranty;
mod web;

/// Every inventory page route (and the search box).
pub fn routes() -> axum::Router<crate::app::AppState> {
    web::routes()
        .merge(units_web::routes())
        .merge(assembly_web::routes())
}
