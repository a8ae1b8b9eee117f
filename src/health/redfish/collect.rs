//! Walks a BMC's Redfish tree into a [`Snapshot`], following `@odata.id`
//! links exactly as given. Only the service root and the system are needed;
//! every other document is read on its own, and a member that fails (HTTP
//! error, bad JSON, timeout) is recorded in `Snapshot::errors` while the
//! others are kept.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinSet;

use super::client::{FetchError, RedfishClient};
use super::model::{Dimm, Drive, Processor, Snapshot};
use super::read::{array, field, integer, is_absent, link, links, number, status, text};
use super::thermal;

/// Which thermal and power schema to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schema {
    /// The older `Thermal`/`Power` (two requests) when the chassis has them,
    /// else the newer `ThermalSubsystem`/`PowerSubsystem`/`Sensors`.
    #[default]
    Auto,
    /// Only `ThermalSubsystem`, `PowerSubsystem` and `Sensors`.
    Subsystem,
}

/// Documents fetched at once from one BMC (BMCs are small computers).
pub(crate) const PARALLEL_PER_BMC: usize = 4;

/// The service root's path.
pub const SERVICE_ROOT: &str = "/redfish/v1/";

/// What a poller remembers of a BMC's last full read, to decide whether the
/// next poll needs one.
#[derive(Clone, Debug)]
pub struct LastInventory {
    /// When it was read.
    pub at: Instant,
    /// The system's `Status` as it was then (health, rollup, conditions), as JSON.
    pub status: String,
    /// The present parts it found, whose health every poll reads.
    pub parts: PartLinks,
}

/// The links of the present processors, DIMMs and drives (or the
/// `SimpleStorage` documents listing drives) of a full read.
#[derive(Clone, Debug, Default)]
pub struct PartLinks {
    /// Processor documents.
    pub processors: Vec<String>,
    /// Memory documents.
    pub memory: Vec<String>,
    /// Drive documents, and `SimpleStorage` documents with their `Devices`.
    pub drives: Vec<String>,
}

/// Whether a poll reads the inventory or health only.
#[derive(Clone, Copy, Debug)]
pub enum Depth<'a> {
    /// Everything (a technician's probe, "poll now", a BMC's first poll).
    Full,
    /// Health only, unless the last full read is older than `max_age` or the
    /// system's `Status` changed since (a component that degrades changes the
    /// rollup, and on newer BMCs the conditions). Health includes the
    /// health of each part the last full read found: a DIMM going Critical
    /// need not move the rollup (it may already be Warning or Critical).
    Since(Option<&'a LastInventory>, Duration),
}

/// Reads everything rackledger keeps from the BMC behind `client`.
pub async fn collect(client: Arc<RedfishClient>, schema: Schema) -> Result<Snapshot, FetchError> {
    Ok(collect_at(client, schema, Depth::Full).await?.0)
}

/// [`collect`] at a depth; also returns the mark of the full read, when this
/// was one and every document was read. Processors, memory, storage and the manager are two thirds of a
/// typical BMC's documents and change only when hardware does, so the
/// poller reads them once an hour or when the system's status moves.
pub async fn collect_at(
    client: Arc<RedfishClient>,
    schema: Schema,
    depth: Depth<'_>,
) -> Result<(Snapshot, Option<LastInventory>), FetchError> {
    let root = client.get_kept(SERVICE_ROOT).await?;
    client.login(&root).await?;
    client.offer_expand(&root);
    let mut snap = Snapshot::default();
    let systems_link = link(&root, "Systems")
        .ok_or_else(|| FetchError::Malformed("the service root has no Systems".into()))?;
    let system = first_system(&client, &systems_link).await?;
    read_system(&system, &mut snap);
    let status = field(&system, "Status")
        .map(Value::to_string)
        .unwrap_or_default();
    let last = match depth {
        Depth::Full | Depth::Since(None, _) => None,
        Depth::Since(Some(last), max_age) => {
            (last.at.elapsed() < max_age && last.status == status).then_some(last)
        }
    };
    if let Some(last) = last {
        snap.inventory_skipped = true;
        read_part_health(&client, &system, &last.parts, &mut snap).await;
        read_health(&client, &root, &system, schema, &mut snap).await;
        return Ok((snap, None));
    }

    let mut parts = PartLinks::default();
    if let Some(l) = link(&system, "Processors") {
        for (id, doc) in present_members(&client, &l, &mut snap.errors).await {
            parts.processors.push(id.clone());
            snap.processors.push(processor(&id, &doc));
        }
    }
    if let Some(l) = link(&system, "Memory") {
        for (id, doc) in present_members(&client, &l, &mut snap.errors).await {
            parts.memory.push(id.clone());
            snap.memory.push(dimm(&id, &doc));
        }
    }
    read_storage(&client, &system, &mut snap).await;
    read_health(&client, &root, &system, schema, &mut snap).await;
    let manager = match links(field(&system, "Links").unwrap_or(&Value::Null), "ManagedBy")
        .into_iter()
        .next()
    {
        Some(l) => Some(l),
        None => first_member(&client, &root, "Managers").await,
    };
    if let Some(l) = manager {
        match client.get_kept(&l).await {
            Ok(m) => snap.bmc_firmware = text(&m, "/FirmwareVersion"),
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
    // A read that lost members is not a baseline to skip the next one on.
    parts.drives = snap
        .drives
        .iter()
        .map(|d| d.id.split('#').next().unwrap_or(&d.id).to_owned())
        .collect();
    parts.drives.dedup();
    let mark = snap.errors.is_empty().then(|| LastInventory {
        at: Instant::now(),
        status,
        parts,
    });
    Ok((snap, mark))
}

/// The health of the parts a full read found, on a poll that reads health
/// only. Processors and memory come in one request each from a BMC that
/// answers `$expand` (inline members; a member it leaves as a link is
/// fetched only when the last full read found it present); otherwise, and
/// for drives, each known part is fetched on its own (`PARALLEL_PER_BMC` at a
/// time), absent slots not at all. A part that fails is an error line, and
/// the recorder keeps it as the last full read saw it.
async fn read_part_health(
    client: &Arc<RedfishClient>,
    system: &Value,
    parts: &PartLinks,
    snap: &mut Snapshot,
) {
    for (id, doc) in part_docs(
        client,
        system,
        "Processors",
        &parts.processors,
        &mut snap.errors,
    )
    .await
    {
        snap.processors.push(processor(&id, &doc));
    }
    for (id, doc) in part_docs(client, system, "Memory", &parts.memory, &mut snap.errors).await {
        snap.memory.push(dimm(&id, &doc));
    }
    for (id, doc) in fetch_all(client, parts.drives.clone(), &mut snap.errors).await {
        match doc.get("Devices").and_then(Value::as_array) {
            // A SimpleStorage document lists its drives inline.
            Some(devices) => {
                for (i, d) in devices.iter().enumerate() {
                    if !is_absent(d) {
                        snap.drives.push(drive(&format!("{id}#/Devices/{i}"), d));
                    }
                }
            }
            None if !is_absent(&doc) => snap.drives.push(drive(&id, &doc)),
            None => {}
        }
    }
}

/// The present members of the system's collection `name` among `known`:
/// inline from a BMC that answers `$expand`, else fetched one by one.
async fn part_docs(
    client: &Arc<RedfishClient>,
    system: &Value,
    name: &str,
    known: &[String],
    errors: &mut Vec<String>,
) -> Vec<(String, Value)> {
    if known.is_empty() {
        return Vec::new();
    }
    let expanded = match link(system, name) {
        Some(l) => get_expanded(client, &l).await,
        None => None,
    };
    let mut docs = Vec::new();
    let mut wanted: Vec<String> = known.to_vec();
    if let Some(mut doc) = expanded
        && let Some(Value::Array(members)) = doc.get_mut("Members").map(Value::take)
    {
        for m in members {
            if let Some(l) = text(&m, "/@odata.id")
                && is_inline(&m)
            {
                wanted.retain(|k| *k != l);
                docs.push((l, m));
            }
        }
    }
    docs.extend(fetch_all(client, wanted, errors).await);
    docs.retain(|(_, doc)| !is_absent(doc));
    docs
}

/// The system's chassis: its serial, thermal and power.
async fn read_health(
    client: &Arc<RedfishClient>,
    root: &Value,
    system: &Value,
    schema: Schema,
    snap: &mut Snapshot,
) {
    let chassis = match links(field(system, "Links").unwrap_or(&Value::Null), "Chassis")
        .into_iter()
        .next()
    {
        Some(l) => Some(l),
        None => first_member(client, root, "Chassis").await,
    };
    if let Some(l) = chassis {
        match client.get_kept(&l).await {
            Ok(ch) => read_chassis(client, &ch, schema, snap).await,
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
}

fn read_system(system: &Value, snap: &mut Snapshot) {
    snap.manufacturer = text(system, "/Manufacturer");
    snap.model = text(system, "/Model");
    snap.system_serial = text(system, "/SerialNumber");
    snap.power_state = text(system, "/PowerState");
    snap.health = text(system, "/Status/Health");
    snap.health_rollup = text(system, "/Status/HealthRollup");
    snap.bios_version = text(system, "/BiosVersion");
}

/// The first member of the Systems collection: inline when the collection
/// is asked with `$expand` and the BMC puts it there (one request rather
/// than two on every poll), else fetched by its link.
async fn first_system(client: &RedfishClient, systems: &str) -> Result<Value, FetchError> {
    let mut doc = match get_expanded(client, systems).await {
        Some(doc) => doc,
        None => client.get_kept(systems).await?,
    };
    let first = match doc.get_mut("Members").and_then(Value::as_array_mut) {
        Some(members) if !members.is_empty() => members.swap_remove(0),
        _ => Value::Null,
    };
    match text(&first, "/@odata.id") {
        Some(_) if is_inline(&first) => Ok(first),
        Some(l) => client.get_kept(&l).await,
        None => Err(FetchError::Malformed(
            "the Systems collection is empty".into(),
        )),
    }
}

/// A collection asked with `$expand`, when the BMC offers it; `None` when it
/// does not, or when the request fails in any way. When the BMC got the
/// request and did not answer it well ([`refuses_expand`]), it is not asked
/// with `$expand` again (see [`RedfishClient::refuse_expand`]); otherwise
/// (the connection failed, say) only for the rest of this poll.
async fn get_expanded(client: &RedfishClient, collection: &str) -> Option<Value> {
    let query = client.expand()?;
    let sep = if collection.contains('?') { '&' } else { '?' };
    match client.get_kept(&format!("{collection}{sep}{query}")).await {
        Ok(doc) => Some(doc),
        Err(e) if refuses_expand(&e) => {
            client.refuse_expand();
            None
        }
        Err(_) => {
            client.set_expand(None);
            None
        }
    }
}

/// Whether a request with `$expand` failing this way says the BMC cannot
/// serve it: an HTTP error (`sushy-static` answers 404), a timeout, bad JSON
/// or a body over the limit. A connection or TLS failure, or refused
/// credentials, say nothing about `$expand`, and a BMC down for a moment
/// must not lose it for good.
fn refuses_expand(e: &FetchError) -> bool {
    matches!(
        e,
        FetchError::Status(_)
            | FetchError::Timeout
            | FetchError::Malformed(_)
            | FetchError::TooLarge(_)
    )
}

/// A member given inline (an object with more than its `@odata.id`).
fn is_inline(m: &Value) -> bool {
    m.as_object().is_some_and(|o| o.len() > 1)
}

async fn first_member(client: &RedfishClient, root: &Value, collection: &str) -> Option<String> {
    let l = link(root, collection)?;
    let doc = client.get_kept(&l).await.ok()?;
    links(&doc, "Members").into_iter().next()
}

/// A collection's members; failures go to `errors`. A BMC that says it can
/// (see [`RedfishClient::offer_expand`]) is asked for them inline, in one
/// request: `public-rackmount1`'s processors and memory are 9 requests
/// without, 2 with. Members it leaves as links (a BMC that ignores
/// `$expand`) are fetched on their own. When the request with `$expand`
/// fails, the collection is asked for plainly (see [`get_expanded`]).
pub(super) async fn members(
    client: &Arc<RedfishClient>,
    collection: &str,
    errors: &mut Vec<String>,
) -> Vec<(String, Value)> {
    if let Some(doc) = get_expanded(client, collection).await {
        return expanded(client, doc, errors).await;
    }
    match client.get_kept(collection).await {
        Ok(doc) => fetch_all(client, links(&doc, "Members"), errors).await,
        Err(e) => {
            errors.push(format!("{collection}: {e}"));
            Vec::new()
        }
    }
}

/// The members of a collection asked for with `$expand`, in their order:
/// an expanded one (an object with more than its `@odata.id`) as it came,
/// the others fetched.
async fn expanded(
    client: &Arc<RedfishClient>,
    mut doc: Value,
    errors: &mut Vec<String>,
) -> Vec<(String, Value)> {
    let given = match doc.get_mut("Members").map(Value::take) {
        Some(Value::Array(members)) => members,
        _ => Vec::new(),
    };
    let wanted: Vec<String> = given
        .iter()
        .filter(|m| !is_inline(m))
        .filter_map(|m| text(m, "/@odata.id"))
        .collect();
    let mut fetched: HashMap<String, Value> = fetch_all(client, wanted, errors)
        .await
        .into_iter()
        .collect();
    given
        .into_iter()
        .filter_map(|m| {
            let l = text(&m, "/@odata.id")?;
            if is_inline(&m) {
                Some((l, m))
            } else {
                fetched.remove(&l).map(|doc| (l, doc))
            }
        })
        .collect()
}

/// Like [`members`], without the absent ones (empty sockets and slots).
async fn present_members(
    client: &Arc<RedfishClient>,
    collection: &str,
    errors: &mut Vec<String>,
) -> Vec<(String, Value)> {
    let mut all = members(client, collection, errors).await;
    all.retain(|(_, doc)| !is_absent(doc));
    all
}

/// Fetches documents a few at a time, keeping their order; failures go to `errors`.
async fn fetch_all(
    client: &Arc<RedfishClient>,
    wanted: Vec<String>,
    errors: &mut Vec<String>,
) -> Vec<(String, Value)> {
    let mut slots: Vec<Option<Result<Value, FetchError>>> = vec![None; wanted.len()];
    let mut set = JoinSet::new();
    let mut next = 0;
    while next < wanted.len() || !set.is_empty() {
        while next < wanted.len() && set.len() < PARALLEL_PER_BMC {
            let (c, l, i) = (client.clone(), wanted[next].clone(), next);
            set.spawn(async move { (i, c.get_kept(&l).await) });
            next += 1;
        }
        if let Some(Ok((i, r))) = set.join_next().await {
            slots[i] = Some(r);
        }
    }
    let mut out = Vec::new();
    for (l, r) in wanted.into_iter().zip(slots) {
        match r {
            Some(Ok(Value::Object(m))) => out.push((l, Value::Object(m))),
            Some(Ok(_)) => errors.push(format!("{l}: not a JSON object")),
            Some(Err(e)) => errors.push(format!("{l}: {e}")),
            None => errors.push(format!("{l}: task failed")),
        }
    }
    out
}

/// The document's own `@odata.id`, else the link it was fetched by.
fn self_link(v: &Value, link: &str) -> String {
    text(v, "/@odata.id").unwrap_or_else(|| link.to_owned())
}

/// A label: the field at `first`, else `Name`, else `Id`, else the link.
fn label(v: &Value, first: &str, link: &str) -> String {
    text(v, first)
        .or_else(|| text(v, "/Name"))
        .or_else(|| text(v, "/Id"))
        .unwrap_or_else(|| link.to_owned())
}

fn processor(id: &str, v: &Value) -> Processor {
    let (health, state) = status(v);
    Processor {
        id: self_link(v, id),
        socket: text(v, "/Socket").or_else(|| text(v, "/Id")),
        model: text(v, "/Model"),
        kind: text(v, "/ProcessorType"),
        cores: integer(v, "/TotalCores"),
        serial: text(v, "/SerialNumber"),
        health,
        state,
    }
}

fn dimm(id: &str, v: &Value) -> Dimm {
    let (health, state) = status(v);
    Dimm {
        id: self_link(v, id),
        slot: label(v, "/DeviceLocator", id),
        size_mib: integer(v, "/CapacityMiB"),
        part_number: text(v, "/PartNumber"),
        serial: text(v, "/SerialNumber"),
        manufacturer: text(v, "/Manufacturer"),
        health,
        state,
    }
}

fn drive(id: &str, v: &Value) -> Drive {
    let (health, state) = status(v);
    Drive {
        id: self_link(v, id),
        name: label(v, "/PhysicalLocation/PartLocation/ServiceLabel", id),
        model: text(v, "/Model"),
        serial: text(v, "/SerialNumber"),
        capacity_bytes: integer(v, "/CapacityBytes"),
        media: text(v, "/MediaType"),
        protocol: text(v, "/Protocol"),
        health,
        state,
        life_left_percent: number(v, "/PredictedMediaLifeLeftPercent"),
    }
}

async fn read_storage(client: &Arc<RedfishClient>, system: &Value, snap: &mut Snapshot) {
    let mut drive_links = Vec::new();
    if let Some(l) = link(system, "Storage") {
        for (_, storage) in members(client, &l, &mut snap.errors).await {
            drive_links.extend(links(&storage, "Drives"));
        }
    }
    for (id, doc) in fetch_all(client, drive_links, &mut snap.errors).await {
        if !is_absent(&doc) {
            snap.drives.push(drive(&id, &doc));
        }
    }
    if snap.drives.is_empty()
        && let Some(l) = link(system, "SimpleStorage")
    {
        for (id, storage) in members(client, &l, &mut snap.errors).await {
            for (i, d) in array(&storage, "Devices").iter().enumerate() {
                if !is_absent(d) {
                    snap.drives.push(drive(&format!("{id}#/Devices/{i}"), d));
                }
            }
        }
    }
}

async fn read_chassis(
    client: &Arc<RedfishClient>,
    ch: &Value,
    schema: Schema,
    snap: &mut Snapshot,
) {
    snap.chassis_serial = text(ch, "/SerialNumber");
    // Drives may hang off the chassis rather than the system's storage.
    if !snap.inventory_skipped
        && snap.drives.is_empty()
        && let Some(l) = link(ch, "Drives")
    {
        for (id, doc) in present_members(client, &l, &mut snap.errors).await {
            snap.drives.push(drive(&id, &doc));
        }
    }
    let legacy =
        schema == Schema::Auto && link(ch, "Thermal").is_some() && link(ch, "Power").is_some();
    if legacy && thermal::read_legacy(client, ch, snap).await {
        snap.schema = "legacy".into();
    } else {
        snap.schema = "subsystem".into();
        thermal::read_subsystems(client, ch, snap).await;
    }
    thermal::disambiguate(snap.psus.iter_mut().map(|p| (&mut p.name, p.id.as_str())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bad_answer_or_none_in_time_counts_as_refusing_expand() {
        let refusals = [
            FetchError::Status(404),
            FetchError::Status(400),
            FetchError::Timeout,
            FetchError::Malformed("expected value".into()),
            FetchError::TooLarge(4 << 20),
        ];
        for e in refusals {
            assert!(refuses_expand(&e), "{e:?}");
        }
        let others = [
            FetchError::Connect("connection refused".into()),
            FetchError::Tls("unknown issuer".into()),
            FetchError::Auth(401),
            FetchError::OffHost("10.0.0.9".into()),
            FetchError::BadUrl("x".into()),
        ];
        for e in others {
            assert!(!refuses_expand(&e), "{e:?}");
        }
    }
}
