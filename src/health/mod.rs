//! Health: BMCs (Redfish endpoints) of assets, the poller that reads them,
//! the latest state, readings history, events and alerts, and reconciliation
//! of the serials a BMC reports against what rackledger has installed.
//! See `docs/health.md`.

pub mod alerts;
pub mod bmc;
pub mod fleet;
pub mod history;
pub mod poller;
pub mod probe;
pub mod reconcile;
pub mod redfish;
pub mod secret;
pub mod serials;
pub mod store;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use alerts::{Alert, AlertSpec};
pub use store::{HealthSummary, latest_for_assets};

/// Poller settings (`[health]` in rackledger.toml).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct HealthConfig {
    /// Run the poller inside `rackledger serve` (turn off when `rackledger poll` runs apart).
    pub poll_in_serve: bool,
    /// Seconds between polls of one BMC.
    pub poll_interval_secs: u64,
    /// Seconds between full reads of a BMC's inventory (processors, memory,
    /// drives, BMC firmware); polls between them read health only, unless the
    /// system's status changed. A BMC's first poll, one after a failure and
    /// "poll now" always read everything.
    pub inventory_interval_secs: u64,
    /// BMCs polled at once by one process.
    pub concurrency: usize,
    /// Seconds one HTTP request may take.
    pub request_timeout_secs: u64,
    /// Seconds a whole poll of one BMC may take.
    pub bmc_deadline_secs: u64,
    /// Largest response body accepted, bytes.
    pub max_body_bytes: usize,
    /// Ask a BMC for a collection's members in one request (`$expand`) when
    /// its service root offers it; off asks for each member on its own.
    pub expand: bool,
    /// Longest wait before retrying a failing BMC, seconds (the wait doubles per failure).
    pub backoff_cap_secs: u64,
    /// Days raw readings are kept before they are averaged per hour.
    pub raw_retention_days: i64,
    /// Days hourly averages are kept.
    pub hourly_retention_days: i64,
    /// File holding the base64 master key for BMC passwords (when neither
    /// `RACKLEDGER_MASTER_KEY` nor `RACKLEDGER_MASTER_KEY_FILE` is set).
    pub master_key_file: Option<std::path::PathBuf>,
    /// A key held in memory for this run only: `serve --demo` on a database
    /// with no place for a key file (PostgreSQL, in memory), whose demo BMCs
    /// are registered again with new passwords at every start.
    #[serde(skip)]
    pub session_key: Option<secret::MasterKey>,
    /// Hours from a critical alert to the due time of its work order.
    pub alert_due_critical_hours: i64,
    /// Hours from a warning alert to the due time of its work order.
    pub alert_due_warning_hours: i64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            poll_in_serve: true,
            poll_interval_secs: 120,
            inventory_interval_secs: 3600,
            concurrency: 32,
            request_timeout_secs: 10,
            bmc_deadline_secs: 60,
            max_body_bytes: 4 * 1024 * 1024,
            expand: true,
            backoff_cap_secs: 3600,
            raw_retention_days: 7,
            hourly_retention_days: 400,
            master_key_file: None,
            session_key: None,
            alert_due_critical_hours: 4,
            alert_due_warning_hours: 72,
        }
    }
}

impl HealthConfig {
    /// The due date (UTC) of a work order opened at `now` for an alert of
    /// `severity` (`critical`, else a warning).
    pub fn alert_due(&self, severity: &str, now: time::OffsetDateTime) -> time::Date {
        let hours = if severity == "critical" {
            self.alert_due_critical_hours
        } else {
            self.alert_due_warning_hours
        };
        (now + time::Duration::hours(hours.max(0))).date()
    }

    /// The master key: the environment first, then `master_key_file`, then
    /// the session's; `None` when unset.
    pub fn master_key(&self) -> anyhow::Result<Option<secret::MasterKey>> {
        if let Some(k) = secret::MasterKey::from_env()? {
            return Ok(Some(k));
        }
        match self.master_key_file.as_deref() {
            Some(file) => secret::MasterKey::from_file(file).map(Some),
            None => Ok(self.session_key.clone()),
        }
    }

    /// The per-request limits of the Redfish client.
    pub fn limits(&self) -> redfish::Limits {
        redfish::Limits {
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            connect_timeout: Duration::from_secs(self.request_timeout_secs.clamp(1, 5)),
            max_body_bytes: self.max_body_bytes.max(1024),
            expand: self.expand,
        }
    }
}
