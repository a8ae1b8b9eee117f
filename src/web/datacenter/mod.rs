//! Datacenter pages: racks, elevations, placing and cabling (`racks`), and
//! the NetBox CSV files (`netbox`).

pub mod netbox;
pub mod racks;

use axum::Router;

use super::AppState;

/// Datacenter routes: racks and placements, and the NetBox CSV files.
pub fn routes() -> Router<AppState> {
    racks::routes().merge(netbox::routes())
}
