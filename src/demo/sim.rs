//! A small Redfish service for `serve --demo`, so the demo's servers have
//! BMCs that answer without extra tools: one listener per server on
//! 127.0.0.1 (an ephemeral port), Basic authentication like a real BMC, the
//! DMTF `public-rackmount1` mockup (embedded) with the server's own DIMMs,
//! serials and host name. [`SimBmc::set_dimm_health`] makes one DIMM fail
//! or recover, so the poller sees what a real BMC would report. A failure
//! belongs to the DIMM's serial: with a [`Source`], the BMC reports what the
//! source says is installed now, so a DIMM swapped out takes its failure with it.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rust_embed::RustEmbed;
use serde_json::{Value, json};

/// The mockup tree: `<path>/index.json` is the document of `/redfish/v1/<path>`.
#[derive(RustEmbed)]
#[folder = "tests/fixtures/redfish-mockups/public-rackmount1/"]
struct Mockup;

/// The mockup's one system.
const SYSTEM: &str = "/redfish/v1/Systems/437XR1138R2";

/// One DIMM the simulated BMC reports.
#[derive(Clone, Debug)]
pub struct SimDimm {
    /// Slot as rackledger names it (`DIMM A3`), reported as `DeviceLocator`.
    pub slot: String,
    /// Serial number.
    pub serial: String,
    /// Part number.
    pub part_number: String,
    /// `OK` or `Critical` (follows the failing serials of its BMC).
    pub health: &'static str,
}

/// What a simulated server has installed now (`None`: keep what it reported
/// last), asked before every answer. It only reads.
pub type Source =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Option<SimServer>> + Send>> + Send + Sync>;

/// What one simulated server reports.
#[derive(Clone, Debug, Default)]
pub struct SimServer {
    /// System serial number.
    pub serial: String,
    /// Host name.
    pub hostname: String,
    /// Populated DIMM slots.
    pub dimms: Vec<SimDimm>,
    /// Serial of the power supply, when the server has one.
    pub psu_serial: Option<String>,
}

struct Inner {
    server: Mutex<SimServer>,
    /// Serials of the DIMMs that fail, wherever they are.
    failing: Mutex<HashSet<String>>,
    source: Option<Source>,
    /// `Basic ...` as the BMC expects it.
    authorization: String,
    task: tokio::task::AbortHandle,
}

impl Inner {
    async fn refresh(&self) {
        let Some(source) = &self.source else {
            return;
        };
        if let Some(now) = source().await
            && let Ok(mut s) = self.server.lock()
        {
            *s = now;
        }
        self.apply_failing();
    }

    /// Each DIMM's health from the failing serials.
    fn apply_failing(&self) {
        let (Ok(mut s), Ok(failing)) = (self.server.lock(), self.failing.lock()) else {
            return;
        };
        for d in &mut s.dimms {
            d.health = if failing.contains(&d.serial) {
                "Critical"
            } else {
                "OK"
            };
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A running simulated BMC; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct SimBmc {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimBmc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimBmc").field("url", &self.url).finish()
    }
}

#[derive(Clone)]
struct Shared(std::sync::Weak<Inner>);

impl SimBmc {
    /// Starts a BMC for `server` on 127.0.0.1 that accepts `username` and
    /// `password`; with a `source`, it reports what the source says is
    /// installed at each request (its DIMMs failing by serial).
    pub async fn start(
        server: SimServer,
        source: Option<Source>,
        username: &str,
        password: &str,
    ) -> anyhow::Result<SimBmc> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        let authorization = format!("Basic {basic}");
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            let app = Router::new()
                .fallback(answer)
                .with_state(Shared(weak.clone()));
            let task = tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::warn!(error = %e, "demo BMC stopped");
                }
            });
            let failing = server
                .dimms
                .iter()
                .filter(|d| d.health != "OK")
                .map(|d| d.serial.clone())
                .collect();
            Inner {
                server: Mutex::new(server),
                failing: Mutex::new(failing),
                source,
                authorization,
                task: task.abort_handle(),
            }
        });
        Ok(SimBmc { url, inner })
    }

    /// Sets the health of the DIMM in `slot` now, by its serial: it keeps
    /// that health when swapped into another server or out of this one.
    /// False when there is no such DIMM.
    pub fn set_dimm_health(&self, slot: &str, health: &'static str) -> bool {
        let Some(serial) = self
            .server()
            .dimms
            .into_iter()
            .find(|d| d.slot == slot)
            .map(|d| d.serial)
        else {
            return false;
        };
        if let Ok(mut failing) = self.inner.failing.lock() {
            if health == "OK" {
                failing.remove(&serial);
            } else {
                failing.insert(serial);
            }
        }
        self.inner.apply_failing();
        true
    }

    /// Reads what is installed now from the source, if any.
    pub async fn refresh(&self) {
        self.inner.refresh().await;
    }

    /// What the BMC reports now.
    pub fn server(&self) -> SimServer {
        self.inner
            .server
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}

async fn answer(State(shared): State<Shared>, req: Request) -> Response {
    let Some(inner) = shared.0.upgrade() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    if *req.method() != Method::GET {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = req.uri().path().trim_end_matches('/').to_owned();
    // Like a real BMC: the service root is open, everything else needs a login.
    if path != "/redfish" && path != "/redfish/v1" {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(inner.authorization.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"demo BMC\"")],
            )
                .into_response();
        }
    }
    inner.refresh().await;
    let server = inner.server.lock().map(|s| s.clone()).unwrap_or_default();
    match document(&server, &path) {
        Some(doc) => axum::Json(doc).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The DIMM's id in URLs: its slot without spaces.
fn dimm_id(slot: &str) -> String {
    slot.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
}

/// The document at `path` as `server` reports it.
fn document(server: &SimServer, path: &str) -> Option<Value> {
    if path == "/redfish" {
        return Some(json!({"v1": "/redfish/v1/"}));
    }
    let memory = format!("{SYSTEM}/Memory");
    if path == memory {
        let members: Vec<Value> = server
            .dimms
            .iter()
            .map(|d| json!({"@odata.id": format!("{memory}/{}", dimm_id(&d.slot))}))
            .collect();
        return Some(json!({
            "@odata.type": "#MemoryCollection.MemoryCollection",
            "@odata.id": memory,
            "Name": "Memory Module Collection",
            "Members@odata.count": members.len(),
            "Members": members,
        }));
    }
    if let Some(id) = path.strip_prefix(&format!("{memory}/")) {
        let d = server.dimms.iter().find(|d| dimm_id(&d.slot) == id)?;
        let mut doc = mockup(&format!("{memory}/DIMM1"))?;
        calm(&mut doc);
        doc["@odata.id"] = json!(path);
        doc["Id"] = json!(id);
        doc["Name"] = json!(d.slot);
        doc["DeviceLocator"] = json!(d.slot);
        doc["SerialNumber"] = json!(d.serial);
        doc["PartNumber"] = json!(d.part_number);
        doc["Manufacturer"] = json!("Samsung");
        doc["MemoryDeviceType"] = json!("DDR5");
        doc["Status"] = json!({"State": "Enabled", "Health": d.health});
        if let Some(o) = doc.as_object_mut() {
            o.remove("EnvironmentMetrics");
        }
        return Some(doc);
    }
    let mut doc = mockup(path)?;
    calm(&mut doc);
    let rollup = if server.dimms.iter().any(|d| d.health != "OK") {
        "Critical"
    } else {
        "OK"
    };
    match path {
        "/redfish/v1" => {
            // Basic authentication on every request, and collections asked
            // member by member (no sessions, no `$expand` here).
            if let Some(o) = doc.as_object_mut() {
                o.remove("ProtocolFeaturesSupported");
            }
            if let Some(links) = doc.get_mut("Links").and_then(Value::as_object_mut) {
                links.remove("Sessions");
            }
        }
        SYSTEM => {
            doc["SerialNumber"] = json!(server.serial);
            doc["HostName"] = json!(server.hostname);
            doc["Status"] = json!({
                "State": "Enabled",
                "Health": "OK",
                "HealthRollup": rollup,
            });
        }
        "/redfish/v1/Chassis/1U" => doc["SerialNumber"] = json!(server.serial),
        "/redfish/v1/Chassis/1U/Power" => {
            if let Some(psus) = doc.get_mut("PowerSupplies").and_then(Value::as_array_mut) {
                psus.truncate(1);
                for p in psus {
                    p["SerialNumber"] = json!(server.psu_serial);
                }
            }
        }
        "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/Bay1" => {
            doc["SerialNumber"] = json!(server.psu_serial);
        }
        _ => {}
    }
    Some(doc)
}

/// The embedded mockup document at `path`, if any.
fn mockup(path: &str) -> Option<Value> {
    let rel = path.strip_prefix("/redfish/v1")?.trim_start_matches('/');
    let file = if rel.is_empty() {
        "index.json".to_owned()
    } else {
        format!("{rel}/index.json")
    };
    let raw = Mockup::get(&file)?;
    serde_json::from_slice(&raw.data).ok()
}

/// Every part of the mockup healthy: the demo's failures are the ones an
/// admin asks for (the mockup ships a Warning rollup, PSU and sensor).
fn calm(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for key in ["Health", "HealthRollup"] {
                if o.get(key).is_some_and(|h| h.is_string()) {
                    o.insert(key.to_owned(), json!("OK"));
                }
            }
            o.remove("Conditions");
            for child in o.values_mut() {
                calm(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(calm),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> SimServer {
        SimServer {
            serial: "SRV-1".into(),
            hostname: "cn-1".into(),
            dimms: vec![SimDimm {
                slot: "DIMM A1".into(),
                serial: "S4EMNX1A00001".into(),
                part_number: "M321R4GA3BB6-CQK".into(),
                health: "Critical",
            }],
            psu_serial: Some("DPS16A00001".into()),
        }
    }

    #[test]
    fn the_memory_is_the_servers_own_and_the_rest_comes_from_the_mockup() {
        let s = server();
        let members = document(&s, &format!("{SYSTEM}/Memory")).expect("memory collection");
        assert_eq!(members["Members"].as_array().expect("members").len(), 1);
        let dimm = document(&s, &format!("{SYSTEM}/Memory/DIMM_A1")).expect("DIMM A1");
        assert_eq!(dimm["DeviceLocator"], "DIMM A1");
        assert_eq!(dimm["SerialNumber"], "S4EMNX1A00001");
        assert_eq!(dimm["Status"]["Health"], "Critical");
        let system = document(&s, SYSTEM).expect("system");
        assert_eq!(system["Status"]["HealthRollup"], "Critical");
        assert!(document(&s, "/redfish/v1/Chassis/1U/Thermal").is_some());
        assert!(document(&s, &format!("{SYSTEM}/Memory/DIMM1")).is_none());
        let root = document(&s, "/redfish/v1").expect("service root");
        assert!(root.pointer("/Links/Sessions").is_none());
    }

    #[test]
    fn the_mockups_own_warnings_are_calmed() {
        let mut v = json!({"Status": {"Health": "Warning", "HealthRollup": "Critical",
            "Conditions": [{}]}, "Members": [{"Status": {"Health": "Critical"}}]});
        calm(&mut v);
        assert_eq!(v["Status"]["Health"], "OK");
        assert_eq!(v["Status"]["HealthRollup"], "OK");
        assert!(v["Status"].get("Conditions").is_none());
        assert_eq!(v["Members"][0]["Status"]["Health"], "OK");
    }
}
