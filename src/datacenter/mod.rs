//! Datacenter: sites, rooms, rows and racks, placing assets at U positions,
//! rack elevations and locating an asset or a part.

pub mod cabling;
pub mod netbox;
pub mod placement;
pub mod racks;
