//! Inventory pages: stock locations (`locations`); units, stock, reorder,
//! and the search box (`units`); warranty and RMA (`rma`); build templates and their
//! versions (`build_templates`); assembly orders, assets and part swaps
//! (`assembly`); transfers, faulty and scrap (`stock`).

pub(crate) mod assembly;
mod build_templates;
mod locations;
mod rma;
mod stock;
mod units;

pub(crate) use assembly::asset_page_with_health;

use axum::Router;

use super::AppState;

/// Every inventory page route (and the search box).
pub fn routes() -> Router<AppState> {
    locations::routes()
        .merge(units::routes())
        .merge(rma::routes())
        .merge(assembly::routes())
        .merge(stock::routes())
        .merge(build_templates::routes())
}
