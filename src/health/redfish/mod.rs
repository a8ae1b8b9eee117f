//! Redfish: a thin client of our own over hyper and lenient readers for
//! what BMCs send (see `docs/health.md` for why not the `redfish` crate).

pub mod client;
pub mod collect;
mod kept;
pub mod model;
mod read;
mod thermal;

pub use client::{Credentials, FetchError, Limits, RedfishClient, TlsPolicy};
pub use collect::{Depth, LastInventory, Schema, collect, collect_at};
pub use model::Snapshot;
