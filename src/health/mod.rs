//! Health: BMCs (Redfish endpoints) of assets, the poller that reads them,
//! the latest state, readings history, events and alerts, and reconciliation
//! of the serials a BMC reports against what rackledger has installed.
//! See `docs/health.md`.

pub mod redfish;
pub mod secret;
