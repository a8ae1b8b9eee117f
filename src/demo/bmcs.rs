//! The demo's BMCs: a simulated BMC ([`super::sim`]) for every demo server,
//! registered as that server's BMC (so the poller polls it), and the admin's
//! "simulate a DIMM failure" and "restore" that make one of its DIMMs fail
//! and recover.

use std::sync::Arc;

use serde::Serialize;

use super::sim::{SimBmc, SimDimm, SimServer, Source};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult};
use crate::health::bmc::{self, BmcInput};
use crate::health::secret::MasterKey;
use crate::on;

/// The user name the demo BMCs accept.
const USERNAME: &str = "demo";

/// The slot that fails when an admin asks, when the server has it.
const FAILING_SLOT: &str = "DIMM A5";

/// What the BMC of the demo server `asset_id` reports: the DIMMs and power
/// supply installed in it now (all healthy; the BMC keeps which fail).
async fn installed(
    db: &Db,
    asset_id: i64,
    asset_tag: &str,
    hostname: &str,
) -> Result<SimServer, DbError> {
    let parts = on!(db, |p| sqlx::query_as::<_, PartRow>(
        "select coalesce(u.slot_name, ''), u.serial, m.mpn, m.category from units u
         join part_models m on m.id = u.part_model_id
         where u.asset_id = $1 and u.status = 'installed' order by u.slot_name"
    )
    .bind(asset_id)
    .fetch_all(p)
    .await)?;
    Ok(SimServer {
        serial: asset_tag.to_owned(),
        hostname: hostname.to_owned(),
        dimms: parts
            .iter()
            .filter(|p| p.3 == "memory")
            .map(|(slot, serial, mpn, _)| SimDimm {
                slot: slot.clone(),
                serial: serial.clone(),
                part_number: mpn.clone(),
                health: "OK",
            })
            .collect(),
        psu_serial: parts.iter().find(|p| p.3 == "psu").map(|p| p.1.clone()),
    })
}

/// One demo server with its BMC.
#[derive(Debug)]
pub struct DemoServer {
    /// The asset.
    pub asset_id: i64,
    /// Its tag (`SRV-C3-0002`).
    pub asset_tag: String,
    /// Its simulated BMC.
    pub bmc: SimBmc,
}

/// Every demo server's BMC, for the life of `serve --demo`.
#[derive(Clone, Debug, Default)]
pub struct DemoBmcs {
    servers: Arc<Vec<DemoServer>>,
}

/// A demo server: asset id, tag, host name.
type ServerRow = (i64, String, Option<String>);
/// An installed unit: slot, serial, part number, category.
type PartRow = (String, String, String, String);

impl DemoBmcs {
    /// Starts a BMC for every demo server (a `SRV-C3-*` asset with DIMMs
    /// installed) and registers it as the server's BMC, with a fresh
    /// password sealed by `key`. Polled at once: saving makes it due.
    pub async fn start(db: &Db, key: &MasterKey) -> anyhow::Result<DemoBmcs> {
        let rows = on!(db, |p| sqlx::query_as::<_, ServerRow>(
            "select a.id, a.asset_tag, a.hostname from assets a
             where a.asset_tag like 'SRV-C3-%' and exists (select 1 from units u
               join part_models m on m.id = u.part_model_id
               where u.asset_id = a.id and u.status = 'installed' and m.category = 'memory')
             order by a.asset_tag"
        )
        .fetch_all(p)
        .await)?;
        let actor = Actor::system("demo");
        let mut servers = Vec::new();
        for (asset_id, asset_tag, hostname) in rows {
            let hostname = hostname.unwrap_or_default();
            let server = installed(db, asset_id, &asset_tag, &hostname).await?;
            // The BMC reports what rackledger has installed in the server at
            // each request, so a swapped DIMM is the new one (its serial, healthy).
            let source: Source = {
                let (db, tag) = (db.clone(), asset_tag.clone());
                Arc::new(move || {
                    let (db, tag, hostname) = (db.clone(), tag.clone(), hostname.clone());
                    Box::pin(async move {
                        installed(&db, asset_id, &tag, &hostname)
                            .await
                            .map_err(|e| tracing::warn!(error = ?e, "demo BMC: reading {tag}"))
                            .ok()
                    })
                })
            };
            let password = crate::auth::random_token();
            let sim = SimBmc::start(server, Some(source), USERNAME, &password).await?;
            let input = BmcInput {
                url: sim.url.clone(),
                username: USERNAME.into(),
                password,
                tls_policy: "verify".into(),
                ca_cert_pem: String::new(),
            };
            bmc::save(db, Some(key), &actor, asset_id, &input)
                .await
                .map_err(|e| anyhow::anyhow!("registering the demo BMC of {asset_tag}: {e:?}"))?;
            servers.push(DemoServer {
                asset_id,
                asset_tag,
                bmc: sim,
            });
        }
        Ok(DemoBmcs {
            servers: Arc::new(servers),
        })
    }

    /// The demo servers and their BMCs.
    pub fn servers(&self) -> &[DemoServer] {
        &self.servers
    }

    /// The server whose DIMM an admin can make fail, that slot, and
    /// whether it fails now; `None` without demo servers.
    pub fn describe(&self) -> Option<(String, String, bool)> {
        let (server, slot) = self.target().ok()?;
        let failing = server
            .bmc
            .server()
            .dimms
            .iter()
            .any(|d| d.slot == slot && d.health != "OK");
        Some((server.asset_tag.clone(), slot, failing))
    }

    /// The server whose DIMM fails: the last one (the first already had its
    /// DIMM swapped in the demo data), and its slot.
    fn target(&self) -> AppResult<(&DemoServer, String)> {
        let server = self.servers.last().ok_or(AppError::NotFound)?;
        let dimms = server.bmc.server().dimms;
        let slot = dimms
            .iter()
            .find(|d| d.slot == FAILING_SLOT)
            .or_else(|| dimms.first())
            .map(|d| d.slot.clone())
            .ok_or(AppError::NotFound)?;
        Ok((server, slot))
    }

    /// Makes one DIMM of a demo server report `Critical` and asks for a
    /// poll now; the alert and its work order follow from that poll.
    /// Returns the asset.
    pub async fn fail_dimm(&self, db: &Db, actor: &Actor) -> AppResult<i64> {
        self.set_health(db, actor, "Critical").await
    }

    /// Makes that DIMM healthy again, so the failure can be shown once more.
    pub async fn restore_dimm(&self, db: &Db, actor: &Actor) -> AppResult<i64> {
        self.set_health(db, actor, "OK").await
    }

    async fn set_health(&self, db: &Db, actor: &Actor, health: &'static str) -> AppResult<i64> {
        for s in self.servers.iter() {
            s.bmc.refresh().await;
        }
        let (server, slot) = self.target()?;
        let serial = server
            .bmc
            .server()
            .dimms
            .into_iter()
            .find(|d| d.slot == slot)
            .map(|d| d.serial)
            .unwrap_or_default();
        let before = server
            .bmc
            .server()
            .dimms
            .into_iter()
            .find(|d| d.slot == slot)
            .map(|d| d.health)
            .unwrap_or("OK");
        let mut tx = db.begin().await?;
        audit::record(
            &mut tx,
            actor,
            Action::Update,
            "demo_bmc",
            server.asset_id,
            Some(&SimDimmView {
                slot: &slot,
                serial: &serial,
                health: before,
            }),
            Some(&SimDimmView {
                slot: &slot,
                serial: &serial,
                health,
            }),
        )
        .await?;
        tx.commit().await?;
        server.bmc.set_dimm_health(&slot, health);
        bmc::poll_soon(db, server.asset_id).await?;
        Ok(server.asset_id)
    }
}

/// What the audit log keeps of a simulated DIMM change.
#[derive(Serialize)]
struct SimDimmView<'a> {
    slot: &'a str,
    serial: &'a str,
    health: &'a str,
}
