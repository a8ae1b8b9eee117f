//! What rackledger keeps from a BMC, and lenient readers for Redfish JSON.
//!
//! Every field is read on its own from the document's `serde_json::Value`: a
//! field of the wrong type, a `null` or a missing one loses that field only,
//! never the document. Strings are trimmed and empty strings count as absent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The properties the collector reads, at any depth (`Status` is kept whole).
/// [`parse_kept`] drops every other property while parsing; a test reads the
/// collector's sources and fails on a property read that is not here. Sorted.
pub const KEPT: &[&str] = &[
    "@odata.id",
    "BiosVersion",
    "CapacityBytes",
    "CapacityMiB",
    "Chassis",
    "DeviceLocator",
    "Devices",
    "Drives",
    "EnvironmentMetrics",
    "ExpandQuery",
    "FanName",
    "Fans",
    "FirmwareVersion",
    "Id",
    "InputPowerWatts",
    "LastPowerOutputWatts",
    "Levels",
    "Links",
    "ManagedBy",
    "Managers",
    "Manufacturer",
    "MediaType",
    "Members",
    "Memory",
    "Metrics",
    "Model",
    "Name",
    "NoLinks",
    "OutputPowerWatts",
    "PartLocation",
    "PartNumber",
    "PhysicalContext",
    "PhysicalLocation",
    "Power",
    "PowerCapacityWatts",
    "PowerConsumedWatts",
    "PowerControl",
    "PowerInputWatts",
    "PowerState",
    "PowerSubsystem",
    "PowerSupplies",
    "PowerWatts",
    "PredictedMediaLifeLeftPercent",
    "ProcessorType",
    "Processors",
    "Protocol",
    "ProtocolFeaturesSupported",
    "Reading",
    "ReadingCelsius",
    "ReadingType",
    "ReadingUnits",
    "Sensors",
    "SerialNumber",
    "ServiceLabel",
    "Sessions",
    "SimpleStorage",
    "Socket",
    "SpeedPercent",
    "SpeedRPM",
    "Status",
    "Storage",
    "Systems",
    "Temperatures",
    "Thermal",
    "ThermalSubsystem",
    "Thresholds",
    "TotalCores",
    "UpperCaution",
    "UpperCritical",
    "UpperFatal",
    "UpperThresholdCritical",
    "UpperThresholdFatal",
    "UpperThresholdNonCritical",
];

fn is_kept(property: &str) -> bool {
    KEPT.binary_search(&property).is_ok()
}

/// Parses a Redfish document keeping only the properties in [`KEPT`]: the
/// rest (OEM sections, actions, descriptions, links the collector never
/// follows) is skipped without being built. A `public-rackmount1` poll
/// parses about a third of the values it would otherwise, and building
/// `Value`s (their maps and strings) was most of the poller's JSON and
/// allocation time (poll benchmark).
pub fn parse_kept(body: &[u8]) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(body);
    let v = Kept { whole: false }.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Builds a `Value` of the kept properties (`whole`: everything, inside `Status`).
#[derive(Clone, Copy)]
struct Kept {
    whole: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Kept {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Kept {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            if self.whole || is_kept(&key) {
                let whole = self.whole || key == "Status";
                let v = map.next_value_seed(Kept { whole })?;
                out.insert(key.into_owned(), v);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// A property name, borrowed from the document when it has no escapes.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a property name")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(s))
    }
}

/// The property `name` of an object (a kept one, see [`KEPT`]).
pub fn field<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.get(name)
}

/// The array in property `name` (empty when absent or not an array).
pub fn array<'v>(v: &'v Value, name: &str) -> &'v [Value] {
    field(v, name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The value at a JSON pointer, as [`Value::pointer`] finds it, without
/// its two `String`s per step (it unescapes `~1` and `~0` in each step even
/// when there are none): a poll reads a few hundred pointers, and
/// `Value::pointer` was 3% of the poller's thread (poll benchmark).
pub fn at<'v>(v: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() || pointer.contains('~') {
        return v.pointer(pointer);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(v, |v, step| match v {
            Value::Object(map) => map.get(step),
            Value::Array(items) => array_index(step).and_then(|i| items.get(i)),
            _ => None,
        })
}

/// An array index as a JSON pointer step gives it: digits, no leading zero.
fn array_index(step: &str) -> Option<usize> {
    let digits = !step.is_empty() && step.bytes().all(|b| b.is_ascii_digit());
    if !digits || (step.len() > 1 && step.starts_with('0')) {
        return None;
    }
    step.parse().ok()
}

/// A string at a JSON pointer, trimmed; `None` when absent, not a string, or empty.
pub fn text(v: &Value, pointer: &str) -> Option<String> {
    let s = at(v, pointer)?.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A number at a JSON pointer (numbers given as strings are accepted too).
pub fn number(v: &Value, pointer: &str) -> Option<f64> {
    match at(v, pointer)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// A whole number at a JSON pointer.
pub fn integer(v: &Value, pointer: &str) -> Option<i64> {
    number(v, pointer).map(|n| n.round() as i64)
}

/// The `@odata.id` of a navigation property (`{"@odata.id": "..."}`).
pub fn link(v: &Value, property: &str) -> Option<String> {
    text(field(v, property)?, "/@odata.id")
}

/// The `@odata.id` of every member of a collection or link array.
pub fn links(v: &Value, property: &str) -> Vec<String> {
    array(v, property)
        .iter()
        .filter_map(|m| text(m, "/@odata.id"))
        .collect()
}

/// `Status.Health` and `Status.State` of a resource.
pub fn status(v: &Value) -> (Option<String>, Option<String>) {
    (text(v, "/Status/Health"), text(v, "/Status/State"))
}

/// Whether a resource is absent (`Status.State` = `Absent`); a missing state counts as present.
pub fn is_absent(v: &Value) -> bool {
    text(v, "/Status/State").is_some_and(|s| s.eq_ignore_ascii_case("absent"))
}

/// The rank of a Redfish health value: OK 0, Warning 1, Critical 2 (unknown 0).
pub fn health_rank(h: Option<&str>) -> u8 {
    match h.map(str::to_ascii_lowercase).as_deref() {
        Some("critical") => 2,
        Some("warning") => 1,
        _ => 0,
    }
}

/// A processor socket (CPU, GPU, FPGA...), present ones only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Processor {
    /// `@odata.id` of the document.
    pub id: String,
    /// Socket label, else the resource Id.
    pub socket: Option<String>,
    /// Model string.
    pub model: Option<String>,
    /// `ProcessorType` (CPU, GPU, FPGA...); missing means CPU.
    pub kind: Option<String>,
    /// Cores.
    pub cores: Option<i64>,
    /// Serial where exposed.
    pub serial: Option<String>,
    /// Health (OK, Warning, Critical).
    pub health: Option<String>,
    /// State (Enabled, ...).
    pub state: Option<String>,
}

impl Processor {
    /// Whether it counts as a CPU (type CPU or not given).
    pub fn is_cpu(&self) -> bool {
        self.kind
            .as_deref()
            .is_none_or(|k| k.eq_ignore_ascii_case("cpu"))
    }
}

/// One populated DIMM slot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dimm {
    /// `@odata.id` of the document.
    pub id: String,
    /// Slot (`DeviceLocator`, else the name or Id).
    pub slot: String,
    /// Size, MiB.
    pub size_mib: Option<i64>,
    /// Part number.
    pub part_number: Option<String>,
    /// Serial.
    pub serial: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Health.
    pub health: Option<String>,
    /// State.
    pub state: Option<String>,
}

/// A drive (SSD, HDD, NVMe).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Drive {
    /// `@odata.id` of the document (or of its storage for simple storage).
    pub id: String,
    /// Name or bay.
    pub name: String,
    /// Model.
    pub model: Option<String>,
    /// Serial.
    pub serial: Option<String>,
    /// Capacity, bytes.
    pub capacity_bytes: Option<i64>,
    /// SSD or HDD.
    pub media: Option<String>,
    /// Protocol (NVMe, SAS, SATA).
    pub protocol: Option<String>,
    /// Health.
    pub health: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Predicted media life left, percent.
    pub life_left_percent: Option<f64>,
}

/// A power supply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Psu {
    /// `@odata.id` (may carry a fragment for the older schema).
    pub id: String,
    /// Name.
    pub name: String,
    /// Model.
    pub model: Option<String>,
    /// Serial.
    pub serial: Option<String>,
    /// Rated capacity, watts.
    pub capacity_watts: Option<f64>,
    /// Power it delivers or draws now, watts.
    pub watts: Option<f64>,
    /// Health.
    pub health: Option<String>,
    /// State.
    pub state: Option<String>,
}

/// A fan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fan {
    /// Name.
    pub name: String,
    /// Reading.
    pub reading: Option<f64>,
    /// Units of the reading (RPM, Percent).
    pub units: Option<String>,
    /// Health.
    pub health: Option<String>,
    /// State.
    pub state: Option<String>,
}

/// A temperature sensor, °C.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// Name.
    pub name: String,
    /// Where (Intake, CPU, ...).
    pub context: Option<String>,
    /// Reading, °C.
    pub reading_c: Option<f64>,
    /// Upper caution (non-critical) threshold, °C.
    pub upper_caution_c: Option<f64>,
    /// Upper critical threshold, °C.
    pub upper_critical_c: Option<f64>,
    /// Upper fatal threshold, °C.
    pub upper_fatal_c: Option<f64>,
    /// Health.
    pub health: Option<String>,
    /// State.
    pub state: Option<String>,
}

/// Everything collected from one BMC in one poll.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Manufacturer of the system.
    pub manufacturer: Option<String>,
    /// Model of the system.
    pub model: Option<String>,
    /// System serial.
    pub system_serial: Option<String>,
    /// Chassis serial.
    pub chassis_serial: Option<String>,
    /// On, Off, ...
    pub power_state: Option<String>,
    /// System `Status.Health`.
    pub health: Option<String>,
    /// System `Status.HealthRollup`.
    pub health_rollup: Option<String>,
    /// BIOS version.
    pub bios_version: Option<String>,
    /// BMC firmware version.
    pub bmc_firmware: Option<String>,
    /// Present processors (CPUs and others).
    pub processors: Vec<Processor>,
    /// Populated DIMMs.
    pub memory: Vec<Dimm>,
    /// Drives.
    pub drives: Vec<Drive>,
    /// Power supplies.
    pub psus: Vec<Psu>,
    /// Fans.
    pub fans: Vec<Fan>,
    /// Temperatures.
    pub temperatures: Vec<Temperature>,
    /// Power drawn by the chassis, watts.
    pub power_watts: Option<f64>,
    /// Which thermal and power schema was read: `legacy` or `subsystem`.
    pub schema: String,
    /// Members that could not be read, one line each.
    pub errors: Vec<String>,
    /// This poll read health only (system, chassis, thermal, power) and left
    /// processors, memory, drives and the BMC firmware to the last full read;
    /// the recorder fills them in from the stored snapshot.
    #[serde(skip)]
    pub inventory_skipped: bool,
}

/// One component in a form alerts and reconciliation can share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// cpu, memory, drive, psu, fan or temperature.
    pub kind: &'static str,
    /// Slot, socket, bay or sensor name.
    pub slot: String,
    /// Serial, when reported.
    pub serial: Option<String>,
    /// Model or part number, when reported.
    pub model: Option<String>,
    /// Health.
    pub health: Option<String>,
    /// State.
    pub state: Option<String>,
}

impl Component {
    /// Whether the component has failed: health Critical, or offline while present.
    pub fn failed(&self) -> bool {
        health_rank(self.health.as_deref()) == 2
            || self.state.as_deref() == Some("UnavailableOffline")
    }

    /// `warning` or `critical` when the component needs attention, else `None`.
    pub fn severity(&self) -> Option<&'static str> {
        // An empty bay or slot has nothing to replace; some BMCs (HPE iLO) still
        // give it Health Warning, which the system rollup already shows.
        if self.state.as_deref() == Some("Absent") {
            return None;
        }
        if self.failed() {
            return Some("critical");
        }
        match health_rank(self.health.as_deref()) {
            2 => Some("critical"),
            1 => Some("warning"),
            _ => None,
        }
    }
}

impl Snapshot {
    /// A health-only snapshot completed with the inventory of the last full
    /// read (`full`): processors, memory, drives and the BMC firmware.
    pub fn with_inventory_of(&self, full: &Snapshot) -> Snapshot {
        Snapshot {
            processors: full.processors.clone(),
            memory: full.memory.clone(),
            drives: full.drives.clone(),
            bmc_firmware: full.bmc_firmware.clone(),
            inventory_skipped: false,
            ..self.clone()
        }
    }

    /// Present CPUs: processors of type CPU (or of no stated type). The
    /// `ProcessorSummary` is not trusted: it counts GPUs on some BMCs.
    pub fn cpu_count(&self) -> usize {
        self.processors.iter().filter(|p| p.is_cpu()).count()
    }

    /// Highest temperature reading, °C.
    pub fn max_temp_c(&self) -> Option<f64> {
        self.temperatures
            .iter()
            .filter_map(|t| t.reading_c)
            .reduce(f64::max)
    }

    /// Inlet (intake / ambient) temperature, °C.
    pub fn inlet_temp_c(&self) -> Option<f64> {
        self.temperatures
            .iter()
            .find(|t| {
                t.context
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case("intake"))
                    || t.name.to_ascii_lowercase().contains("inlet")
            })
            .and_then(|t| t.reading_c)
    }

    /// The worst health anywhere: `ok`, `warning` or `critical`.
    pub fn worst(&self) -> &'static str {
        let mut rank =
            health_rank(self.health.as_deref()).max(health_rank(self.health_rollup.as_deref()));
        for c in self.components() {
            rank = rank.max(health_rank(c.health.as_deref()));
        }
        match rank {
            2 => "critical",
            1 => "warning",
            _ => "ok",
        }
    }

    /// Every component with its slot, serial and health.
    pub fn components(&self) -> Vec<Component> {
        let mut out = Vec::new();
        for p in &self.processors {
            out.push(Component {
                kind: if p.is_cpu() { "cpu" } else { "accelerator" },
                slot: p.socket.clone().unwrap_or_else(|| p.id.clone()),
                serial: p.serial.clone(),
                model: p.model.clone(),
                health: p.health.clone(),
                state: p.state.clone(),
            });
        }
        for d in &self.memory {
            out.push(Component {
                kind: "memory",
                slot: d.slot.clone(),
                serial: d.serial.clone(),
                model: d.part_number.clone(),
                health: d.health.clone(),
                state: d.state.clone(),
            });
        }
        for d in &self.drives {
            out.push(Component {
                kind: "drive",
                slot: d.name.clone(),
                serial: d.serial.clone(),
                model: d.model.clone(),
                health: d.health.clone(),
                state: d.state.clone(),
            });
        }
        for p in &self.psus {
            out.push(Component {
                kind: "psu",
                slot: p.name.clone(),
                serial: p.serial.clone(),
                model: p.model.clone(),
                health: p.health.clone(),
                state: p.state.clone(),
            });
        }
        for f in &self.fans {
            out.push(Component {
                kind: "fan",
                slot: f.name.clone(),
                serial: None,
                model: None,
                health: f.health.clone(),
                state: f.state.clone(),
            });
        }
        for t in &self.temperatures {
            out.push(Component {
                kind: "temperature",
                slot: t.name.clone(),
                serial: None,
                model: None,
                health: t.health.clone(),
                state: t.state.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What [`parse_kept`] must give, written the plain way: the whole
    /// document, then every property not in [`KEPT`] removed.
    fn pruned(v: Value, whole: bool) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .filter(|(k, _)| whole || is_kept(k))
                    .map(|(k, v)| {
                        let whole = whole || k == "Status";
                        (k, pruned(v, whole))
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| pruned(v, whole)).collect()),
            other => other,
        }
    }

    fn documents(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("mockups") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                documents(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }

    #[test]
    fn kept_properties_are_sorted_so_they_can_be_searched() {
        assert!(KEPT.windows(2).all(|w| w[0] < w[1]));
    }

    /// The string literals of `src`, without their quotes (no escapes in them).
    fn literals(src: &str) -> Vec<&str> {
        src.split('"').skip(1).step_by(2).collect()
    }

    #[test]
    fn pointers_find_what_serde_json_finds() {
        let v = json!({
            "Status": { "Health": "OK" },
            "PowerControl": [{ "PowerConsumedWatts": 344 }, { "x": null }],
            "a/b": 1, "m~n": 2, "": { "": 3 }, "10": "ten",
            "Arr": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        });
        let pointers = [
            "",
            "/",
            "//",
            "/Status",
            "/Status/Health",
            "/Status/Health/x",
            "/Status/",
            "Status",
            "/PowerControl/0/PowerConsumedWatts",
            "/PowerControl/1/x",
            "/PowerControl/2",
            "/PowerControl/-1",
            "/PowerControl/+1",
            "/PowerControl/01",
            "/PowerControl/0x1",
            "/PowerControl/",
            "/a~1b",
            "/m~0n",
            "/a/b",
            "/10",
            "/Arr/11",
            "/Arr/011",
            "/Arr/",
            "/Arr/99999999999999999999999",
            "/Missing/Health",
        ];
        for p in pointers {
            assert_eq!(at(&v, p), v.pointer(p), "{p:?}");
        }
    }

    #[test]
    fn every_property_the_collector_reads_is_kept() {
        let sources = [
            include_str!("collect.rs"),
            include_str!("thermal.rs"),
            include_str!("client.rs"),
        ];
        let mut read = Vec::new();
        for src in sources {
            let code = src.split("#[cfg(test)]").next().unwrap_or(src);
            // JSON pointers: "/Status/Health", "/PowerControl/0/PowerConsumedWatts".
            for lit in literals(code) {
                if lit.starts_with('/') && !lit.starts_with("/redfish") && lit.len() > 1 {
                    // Everything inside `Status` is kept.
                    let segs = lit.split('/').skip(1).take_while(|s| *s != "Status");
                    read.extend(segs.map(str::to_owned));
                }
            }
            // Properties by name: link(v, "Thermal"), array(&t, "Fans"), ...
            for call in ["link(", "links(", "field(", "array("] {
                for (i, _) in code.match_indices(call) {
                    // Our functions, not methods such as `debug_struct().field(`.
                    let before = code[..i].chars().next_back().unwrap_or(' ');
                    if before == '.' || before == '_' || before.is_alphanumeric() {
                        continue;
                    }
                    let args = &code[i + call.len()..];
                    let args = &args[..args.find(')').unwrap_or(args.len())];
                    read.extend(literals(args).into_iter().map(str::to_owned));
                }
            }
        }
        assert!(read.len() > 50, "{read:?}");
        let missing: Vec<&String> = read
            .iter()
            .filter(|seg| seg.parse::<usize>().is_err() && !is_kept(seg))
            .collect();
        assert!(missing.is_empty(), "read but not in KEPT: {missing:?}");
        // And the scan does find what it looks for.
        assert!(read.iter().any(|s| s == "PowerConsumedWatts"));
        assert!(read.iter().any(|s| s == "Temperatures"));
    }

    #[test]
    fn every_mockup_document_parses_to_its_kept_properties() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redfish-mockups");
        let mut files = Vec::new();
        documents(&root, &mut files);
        assert!(files.len() > 100, "{} documents", files.len());
        let (mut before, mut after) = (0, 0);
        for f in files {
            let bytes = std::fs::read(&f).expect("read");
            let whole: Value = serde_json::from_slice(&bytes).expect("JSON");
            let kept = parse_kept(&bytes).expect("parses");
            before += whole.to_string().len();
            after += kept.to_string().len();
            assert_eq!(kept, pruned(whole, false), "{}", f.display());
        }
        assert!(after < before / 2, "{after} of {before} bytes kept");
    }

    #[test]
    fn kept_parsing_refuses_what_json_refuses_and_reads_escaped_names() {
        assert!(parse_kept(br#"{"Name": "a"} x"#).is_err());
        assert!(parse_kept(br#"{"Name": "a""#).is_err());
        assert!(parse_kept(br#"{"Oem": {"x": [1, }}"#).is_err());
        let v = parse_kept(br#"{"Na\u006de": "CPU1", "Oem": {"Name": 1}, "Status": {"Oem": 2}}"#)
            .expect("parses");
        assert_eq!(v, json!({"Name": "CPU1", "Status": {"Oem": 2}}));
    }

    #[test]
    fn fields_are_read_one_by_one_and_a_bad_one_loses_only_itself() {
        let v = json!({"Model": "  EPYC  ", "TotalCores": "64", "SerialNumber": null,
                        "CapacityMiB": {"oops": 1}, "Status": {"State": "Absent"}, "Name": ""});
        assert_eq!(text(&v, "/Model").as_deref(), Some("EPYC"));
        assert_eq!(integer(&v, "/TotalCores"), Some(64));
        assert_eq!(text(&v, "/SerialNumber"), None);
        assert_eq!(integer(&v, "/CapacityMiB"), None);
        assert_eq!(text(&v, "/Name"), None);
        assert!(is_absent(&v));
        assert!(!is_absent(&json!({})), "no state counts as present");
        assert_eq!(link(&json!({"Thermal": {}}), "Thermal"), None);
    }
}
