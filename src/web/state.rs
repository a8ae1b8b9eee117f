//! What every handler shares.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;

/// Shared by every request: the database and the settings.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Settings in force.
    pub config: Arc<Config>,
    /// The simulated BMCs of `serve --demo`; `None` outside the demo.
    pub demo: Option<crate::demo::bmcs::DemoBmcs>,
}
