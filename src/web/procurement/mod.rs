//! Procurement pages: suppliers, the part catalogue and rates (`catalogue`),
//! purchase orders and receiving (`orders`), reports (`reports`).

mod catalogue;
mod order_list;
mod orders;
mod reports;

use axum::Router;

use super::AppState;

/// Every procurement page route (imports are `super::imports`).
pub fn routes() -> Router<AppState> {
    catalogue::routes()
        .merge(orders::routes())
        .merge(reports::routes())
}
