//! `rackledger bmc probe`: what a BMC reports, as a readable report for a
//! technician at a new server.

use std::fmt::Write;

use super::redfish::Snapshot;

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |n| format!("{n}"))
}

/// The report for one snapshot, plain text.
pub fn report(url: &str, snap: &Snapshot) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "BMC {url}");
    let _ = writeln!(
        o,
        "System     {} {} serial {} (chassis serial {})",
        opt(&snap.manufacturer),
        opt(&snap.model),
        opt(&snap.system_serial),
        opt(&snap.chassis_serial)
    );
    let _ = writeln!(
        o,
        "State      power {}, health {}, rollup {}, worst {}",
        opt(&snap.power_state),
        opt(&snap.health),
        opt(&snap.health_rollup),
        snap.worst()
    );
    let _ = writeln!(
        o,
        "Firmware   BMC {}, BIOS {}",
        opt(&snap.bmc_firmware),
        opt(&snap.bios_version)
    );
    let _ = writeln!(
        o,
        "Power      {} W ({} schema)",
        num(snap.power_watts),
        snap.schema
    );
    let _ = writeln!(o, "\nProcessors ({} CPU)", snap.cpu_count());
    for p in &snap.processors {
        let cores = p.cores.map_or_else(|| "-".into(), |c| c.to_string());
        let _ = writeln!(
            o,
            "  {:<12} {:<8} {} cores {} serial {} health {}",
            opt(&p.socket),
            opt(&p.kind),
            opt(&p.model),
            cores,
            opt(&p.serial),
            opt(&p.health)
        );
    }
    let _ = writeln!(o, "\nMemory ({} DIMMs)", snap.memory.len());
    for d in &snap.memory {
        let size = d
            .size_mib
            .map_or_else(|| "-".into(), |m| format!("{} GiB", m / 1024));
        let _ = writeln!(
            o,
            "  {:<16} {:>7} part {} serial {} health {}",
            d.slot,
            size,
            opt(&d.part_number),
            opt(&d.serial),
            opt(&d.health)
        );
    }
    let _ = writeln!(o, "\nDrives ({})", snap.drives.len());
    for d in &snap.drives {
        let cap = d
            .capacity_bytes
            .map_or_else(|| "-".into(), |b| format!("{:.1} GB", b as f64 / 1e9));
        let life = d
            .life_left_percent
            .map_or_else(|| "-".into(), |l| format!("{l}%"));
        let _ = writeln!(
            o,
            "  {:<20} {} {} {} serial {} health {} life left {}",
            d.name,
            opt(&d.model),
            cap,
            opt(&d.media),
            opt(&d.serial),
            opt(&d.health),
            life
        );
    }
    let _ = writeln!(o, "\nPower supplies ({})", snap.psus.len());
    for p in &snap.psus {
        let _ = writeln!(
            o,
            "  {:<24} {} serial {} {} W of {} W health {} state {}",
            p.name,
            opt(&p.model),
            opt(&p.serial),
            num(p.watts),
            num(p.capacity_watts),
            opt(&p.health),
            opt(&p.state)
        );
    }
    let _ = writeln!(o, "\nFans ({})", snap.fans.len());
    for f in &snap.fans {
        let _ = writeln!(
            o,
            "  {:<24} {} {} health {}",
            f.name,
            num(f.reading),
            opt(&f.units),
            opt(&f.health)
        );
    }
    let _ = writeln!(o, "\nTemperatures ({})", snap.temperatures.len());
    for t in &snap.temperatures {
        let _ = writeln!(
            o,
            "  {:<28} {} °C (caution {}, critical {}) health {}",
            t.name,
            num(t.reading_c),
            num(t.upper_caution_c),
            num(t.upper_critical_c),
            opt(&t.health)
        );
    }
    if !snap.errors.is_empty() {
        let _ = writeln!(o, "\nNot readable ({})", snap.errors.len());
        for e in &snap.errors {
            let _ = writeln!(o, "  {e}");
        }
    }
    o
}
