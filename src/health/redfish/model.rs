//! What rackledger keeps from a BMC: the snapshot of one poll and its
//! components.
//!
//! The lenient readers of Redfish JSON (`read.rs`) and the parser that keeps
//! only the properties read (`kept.rs`) live beside it; this module re-exports
//! them, their public path.

use serde::{Deserialize, Serialize};

pub use super::kept::{KEPT, parse_kept};
pub use super::read::{array, at, field, integer, is_absent, link, links, number, status, text};

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

/// The parts of the last full read (`stored`), each as `read` now when it
/// was read (a health poll reads the health of the parts it knows), else as
/// it was (a member that failed this time, or one only a full read finds).
fn merged<T: Clone>(read: &[T], stored: &[T], id: impl Fn(&T) -> &String) -> Vec<T> {
    let mut out: Vec<T> = stored
        .iter()
        .map(|s| read.iter().find(|r| id(r) == id(s)).unwrap_or(s).clone())
        .collect();
    out.extend(
        read.iter()
            .filter(|r| !stored.iter().any(|s| id(s) == id(r)))
            .cloned(),
    );
    out
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
            processors: merged(&self.processors, &full.processors, |p| &p.id),
            memory: merged(&self.memory, &full.memory, |d| &d.id),
            drives: merged(&self.drives, &full.drives, |d| &d.id),
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
