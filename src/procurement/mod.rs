//! Procurement: suppliers, the part catalogue, exchange rates, purchase
//! orders with extra costs and landed cost, receiving, and reports. Supplier
//! file imports live in `crate::importers`.

pub mod country;
pub mod fx;
pub mod landed;
pub mod model;
pub mod orders;
pub mod orders_repo;
pub mod po_status;
pub mod receiving;
pub mod repo;
pub mod reports;
pub mod restate;
pub mod service;

pub use model::{Category, PartModel, Supplier};

use crate::db::{Db, DbError};

/// Headline counts for the home page.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Number of suppliers.
    pub suppliers: i64,
    /// Number of part models in the catalogue.
    pub part_models: i64,
}

/// Counts suppliers and part models.
pub async fn counts(db: &Db) -> Result<Counts, DbError> {
    Ok(Counts {
        suppliers: repo::count_suppliers(db).await?,
        part_models: repo::count_part_models(db).await?,
    })
}
