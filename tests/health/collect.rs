//! The client against sushy-static serving the real mockups: the collected
//! facts must match what the mockup JSON says.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rackledger::health::redfish::{Limits, RedfishClient, Schema, Snapshot, TlsPolicy, collect};
use serde_json::Value;

use crate::fake::{Behavior, FakeBmc};
use crate::sushy::{Sushy, doc};

fn member_ids(tree: &str, collection: &str) -> Vec<String> {
    doc(tree, collection)["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.id"].as_str().unwrap().to_owned())
        .collect()
}

fn present(v: &Value) -> bool {
    v.pointer("/Status/State").and_then(Value::as_str) != Some("Absent")
}

fn trimmed(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

async fn snapshot(tree: &str, schema: Schema) -> Option<Snapshot> {
    let sushy = Sushy::start(tree).await?;
    let client = Arc::new(
        RedfishClient::new(&sushy.url, &TlsPolicy::Verify, None, Limits::default()).unwrap(),
    );
    let snap = collect(client, schema).await.expect("collect");
    Some(snap)
}

/// What the mockup files say about a system's DIMMs: (slot count, serials of present ones).
fn expected_dimms(tree: &str, system: &str) -> (usize, Vec<Option<String>>) {
    let docs: Vec<Value> = member_ids(tree, &format!("{system}/Memory"))
        .iter()
        .map(|m| doc(tree, m))
        .filter(present)
        .collect();
    (
        docs.len(),
        sorted(docs.iter().map(|d| trimmed(d, "SerialNumber")).collect()),
    )
}

fn expected_cpus(tree: &str, system: &str) -> usize {
    member_ids(tree, &format!("{system}/Processors"))
        .iter()
        .map(|m| doc(tree, m))
        .filter(|d| {
            present(d)
                && d.get("ProcessorType")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "CPU")
        })
        .count()
}

#[tokio::test]
async fn xl675d_facts_match_the_mockup_json() {
    let tree = "XL675d_A100";
    let Some(snap) = snapshot(tree, Schema::Auto).await else {
        return;
    };
    let sys = "/redfish/v1/Systems/1/";
    let system = doc(tree, sys);
    assert_eq!(
        snap.health_rollup.as_deref(),
        system["Status"]["HealthRollup"].as_str()
    );
    assert_eq!(snap.health.as_deref(), Some("Warning"));
    assert_eq!(snap.power_state.as_deref(), system["PowerState"].as_str());
    assert_eq!(snap.system_serial, trimmed(&system, "SerialNumber"));
    assert_eq!(snap.bios_version, trimmed(&system, "BiosVersion"));
    let (dimms, serials) = expected_dimms(tree, sys);
    assert_eq!(dimms, 16, "16 of 32 slots populated");
    assert_eq!(snap.memory.len(), dimms);
    assert_eq!(
        sorted(snap.memory.iter().map(|d| d.serial.clone()).collect()),
        serials
    );
    assert!(
        snap.memory
            .iter()
            .all(|d| d.size_mib == Some(16384) && d.part_number.is_some())
    );
    assert_eq!(snap.cpu_count(), expected_cpus(tree, sys));
    assert_eq!(snap.cpu_count(), 2);
    assert!(
        snap.processors
            .iter()
            .all(|p| p.model.as_deref() == Some("AMD EPYC 7702 64-Core Processor")),
        "model trimmed"
    );
    assert!(
        snap.processors
            .iter()
            .all(|p| p.cores == Some(64) && p.serial.is_some())
    );
    // Drives: two, one without a serial, found by following Storage -> Drives links.
    let storage = doc(tree, "/redfish/v1/Systems/1/Storage/DE07A000");
    let drive_serials: Vec<Option<String>> = storage["Drives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| trimmed(&doc(tree, l["@odata.id"].as_str().unwrap()), "SerialNumber"))
        .collect();
    assert_eq!(snap.drives.len(), 2);
    assert_eq!(
        sorted(snap.drives.iter().map(|d| d.serial.clone()).collect()),
        sorted(drive_serials)
    );
    assert!(
        snap.drives.iter().any(|d| d.serial.is_none()),
        "one drive has a null serial"
    );
    let ssd = snap.drives.iter().find(|d| d.serial.is_some()).unwrap();
    assert_eq!(ssd.capacity_bytes, Some(960197124096));
    assert_eq!(ssd.media.as_deref(), Some("SSD"));
    assert_eq!(ssd.life_left_percent, Some(100.0));
    // Older Thermal/Power: 6 PSUs, 15 fans, 65 temperatures, as listed.
    let power = doc(tree, "/redfish/v1/Chassis/1/Power/");
    let thermal = doc(tree, "/redfish/v1/Chassis/1/Thermal/");
    assert_eq!(snap.schema, "legacy");
    assert_eq!(
        snap.psus.len(),
        power["PowerSupplies"].as_array().unwrap().len()
    );
    assert_eq!(snap.psus.len(), 6);
    let watts: Vec<Option<f64>> = power["PowerSupplies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["LastPowerOutputWatts"].as_f64())
        .collect();
    assert_eq!(snap.psus.iter().map(|p| p.watts).collect::<Vec<_>>(), watts);
    assert_eq!(
        snap.power_watts,
        power["PowerControl"][0]["PowerConsumedWatts"].as_f64()
    );
    assert_eq!(snap.fans.len(), 15);
    assert_eq!(
        snap.temperatures.len(),
        thermal["Temperatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| present(t))
            .count()
    );
    let inlet = &thermal["Temperatures"][0];
    assert_eq!(
        snap.temperatures[0].reading_c,
        inlet["ReadingCelsius"].as_f64()
    );
    assert_eq!(
        snap.temperatures[0].upper_critical_c,
        inlet["UpperThresholdCritical"].as_f64()
    );
    assert_eq!(snap.chassis_serial.as_deref(), Some("JS05NP0896"));
    assert_eq!(snap.bmc_firmware.as_deref(), Some("iLO 5 v2.70"));
    assert_eq!(snap.worst(), "critical", "the offline drive is critical");
}

#[tokio::test]
async fn rackmount1_counts_cpus_itself_and_reads_both_schemas() {
    let tree = "public-rackmount1";
    let sys = "/redfish/v1/Systems/437XR1138R2";
    let Some(snap) = snapshot(tree, Schema::Auto).await else {
        return;
    };
    let system = doc(tree, sys);
    assert_eq!(system["ProcessorSummary"]["Count"], 2, "the summary says 2");
    assert_eq!(snap.cpu_count(), expected_cpus(tree, sys));
    assert_eq!(
        snap.cpu_count(),
        1,
        "one CPU is absent and the FPGA is no CPU"
    );
    assert_eq!(snap.processors.len(), 2, "CPU1 and the FPGA are present");
    let (dimms, serials) = expected_dimms(tree, sys);
    assert_eq!((snap.memory.len(), dimms), (3, 3));
    assert_eq!(
        sorted(snap.memory.iter().map(|d| d.serial.clone()).collect()),
        serials
    );
    assert_eq!(snap.health_rollup.as_deref(), Some("Warning"));
    assert_eq!(snap.schema, "legacy");
    let power = doc(tree, "/redfish/v1/Chassis/1U/Power");
    assert_eq!(
        snap.psus.len(),
        power["PowerSupplies"].as_array().unwrap().len()
    );
    assert_eq!(
        snap.psus[0].watts,
        power["PowerSupplies"][0]["LastPowerOutputWatts"].as_f64()
    );
    assert_eq!(snap.psus[0].health.as_deref(), Some("Warning"));
    assert_eq!(
        snap.temperatures.len(),
        doc(tree, "/redfish/v1/Chassis/1U/Thermal")["Temperatures"]
            .as_array()
            .unwrap()
            .len()
    );
    assert!(!snap.drives.is_empty(), "SimpleStorage devices");

    // The newer schema of the same chassis: Sensors, ThermalSubsystem, PowerSubsystem.
    let Some(new) = snapshot(tree, Schema::Subsystem).await else {
        return;
    };
    assert_eq!(new.schema, "subsystem");
    let temps = member_ids(tree, "/redfish/v1/Chassis/1U/Sensors")
        .iter()
        .map(|m| doc(tree, m))
        .filter(|s| {
            s.get("ReadingType").and_then(Value::as_str) == Some("Temperature")
                || (s.get("ReadingType").is_none()
                    && s.get("ReadingUnits").and_then(Value::as_str) == Some("Cel"))
        })
        .count();
    assert_eq!(new.temperatures.len(), temps);
    let cpu1 = new
        .temperatures
        .iter()
        .find(|t| t.name == "CPU #1 Temperature")
        .unwrap();
    assert_eq!(
        (cpu1.reading_c, cpu1.upper_caution_c),
        (Some(44.0), Some(42.0))
    );
    assert_eq!(cpu1.health.as_deref(), Some("Warning"));
    let psus = member_ids(tree, "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies");
    assert_eq!(new.psus.len(), psus.len());
    let bay1 = doc(
        tree,
        "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/Bay1/Metrics",
    );
    assert_eq!(
        new.psus[0].watts,
        bay1["InputPowerWatts"]["Reading"].as_f64()
    );
    assert_eq!(new.psus[0].serial.as_deref(), Some("3488247"));
    assert_eq!(
        new.fans.len(),
        member_ids(tree, "/redfish/v1/Chassis/1U/ThermalSubsystem/Fans").len()
    );
    let env = doc(tree, "/redfish/v1/Chassis/1U/EnvironmentMetrics");
    assert_eq!(new.power_watts, env["PowerWatts"]["Reading"].as_f64());
}

#[tokio::test]
async fn localstorage_drives_have_serials_from_the_storage_links() {
    let tree = "public-localstorage";
    let Some(snap) = snapshot(tree, Schema::Auto).await else {
        return;
    };
    let storage = doc(tree, "/redfish/v1/Systems/437XR1138R2/Storage/1");
    let expected: Vec<Option<String>> = storage["Drives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| trimmed(&doc(tree, l["@odata.id"].as_str().unwrap()), "SerialNumber"))
        .collect();
    assert_eq!(expected.len(), 4);
    assert!(expected.iter().all(Option::is_some));
    assert_eq!(
        sorted(snap.drives.iter().map(|d| d.serial.clone()).collect()),
        sorted(expected)
    );
    let (dimms, serials) = expected_dimms(tree, "/redfish/v1/Systems/437XR1138R2");
    assert_eq!(snap.memory.len(), dimms);
    assert_eq!(
        sorted(snap.memory.iter().map(|d| d.serial.clone()).collect()),
        serials
    );
    assert_eq!(snap.schema, "legacy");
    assert!(snap.errors.is_empty(), "{:?}", snap.errors);
}

/// Collects from a fake BMC: the snapshot and the requests it took.
async fn from_fake(behavior: Behavior, schema: Schema, expand: bool) -> (Snapshot, usize) {
    let fake = FakeBmc::start(behavior).await;
    let limits = Limits {
        expand,
        ..Limits::default()
    };
    let client = Arc::new(RedfishClient::new(&fake.url, &TlsPolicy::Verify, None, limits).unwrap());
    let snap = collect(client, schema).await.expect("collect");
    (snap, fake.hits.load(Ordering::SeqCst))
}

#[tokio::test]
async fn bmcs_answering_ignoring_or_refusing_expand_give_the_same_snapshot() {
    // The DMTF mockup and the HPE iLO capture (32 DIMM slots, trailing `/` on links).
    for (tree, sys, schema) in [
        (
            "public-rackmount1",
            "/redfish/v1/Systems/437XR1138R2",
            Schema::Auto,
        ),
        (
            "public-rackmount1",
            "/redfish/v1/Systems/437XR1138R2",
            Schema::Subsystem,
        ),
        ("XL675d_A100", "/redfish/v1/Systems/1", Schema::Auto),
    ] {
        let inline = member_ids(tree, &format!("{sys}/Processors")).len()
            + member_ids(tree, &format!("{sys}/Memory")).len();
        // The plain fake ignores the query, as some BMCs do: members come as links.
        let (plain, plain_hits) = from_fake(Behavior::Mockup(tree, None), schema, true).await;
        assert!(plain.errors.is_empty(), "{:?}", plain.errors);
        assert_eq!(plain.cpu_count(), expected_cpus(tree, sys));
        assert_eq!(plain.memory.len(), expected_dimms(tree, sys).0);
        let (expanded, expanded_hits) = from_fake(Behavior::Expanding(tree), schema, true).await;
        assert_eq!(expanded, plain, "{tree} {schema:?}");
        // Processors, memory and the system itself come inline.
        let inline = inline + 1;
        assert!(
            expanded_hits + inline <= plain_hits,
            "{tree} {schema:?}: {expanded_hits} requests expanded, {plain_hits} plain"
        );
        let (refused, refused_hits) = from_fake(Behavior::RefusingExpand(tree), schema, true).await;
        assert_eq!(refused, plain, "{tree} {schema:?}");
        assert_eq!(refused_hits, plain_hits + 1, "{tree} {schema:?}");
        // The refusal is remembered: the same client's next poll asks plainly.
        let fake = FakeBmc::start(Behavior::RefusingExpand(tree)).await;
        let client = Arc::new(
            RedfishClient::new(&fake.url, &TlsPolicy::Verify, None, Limits::default()).unwrap(),
        );
        collect(client.clone(), schema).await.expect("collect");
        let after_first = fake.hits.load(Ordering::SeqCst);
        let again = collect(client, schema).await.expect("collect");
        assert_eq!(again, plain, "{tree} {schema:?}");
        assert_eq!(
            fake.hits.load(Ordering::SeqCst) - after_first,
            plain_hits,
            "{tree} {schema:?}: no request with `$expand` the second time"
        );
        // Turned off (`[health] expand = false`): asked plainly.
        let (off, off_hits) = from_fake(Behavior::Expanding(tree), schema, false).await;
        assert_eq!(
            (off, off_hits),
            (plain.clone(), plain_hits),
            "{tree} {schema:?}"
        );
    }
}
