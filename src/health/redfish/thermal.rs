//! Thermal and power: the older `Thermal`/`Power` resources (two requests)
//! and the newer `ThermalSubsystem`, `PowerSubsystem`, `Sensors` and
//! `EnvironmentMetrics` (one request per member).

use std::sync::Arc;

use serde_json::Value;

use super::client::RedfishClient;
use super::collect::members;
use super::model::{Fan, Psu, Snapshot, Temperature};
use super::read::{array, is_absent, link, number, status, text};

/// Makes repeated names unique (iLO calls every PSU `HpeServerPowerSupply`):
/// a repeated name gets its member id (the last segment of its link) or position.
pub(super) fn disambiguate<'a>(items: impl Iterator<Item = (&'a mut String, &'a str)>) {
    let mut items: Vec<_> = items.collect();
    let mut counts = std::collections::HashMap::new();
    for (name, _) in &items {
        *counts.entry(name.to_string()).or_insert(0) += 1;
    }
    for (i, (name, id)) in items.iter_mut().enumerate() {
        if counts.get(name.as_str()).copied().unwrap_or(0) > 1 {
            let tail = id.rsplit('/').next().filter(|t| !t.is_empty());
            let suffix = tail.map_or_else(|| (i + 1).to_string(), str::to_owned);
            **name = format!("{name} {suffix}");
        }
    }
}

/// The older `Thermal` and `Power` resources; false if neither could be read.
pub(super) async fn read_legacy(client: &RedfishClient, ch: &Value, snap: &mut Snapshot) -> bool {
    let mut any = false;
    if let Some(l) = link(ch, "Thermal") {
        match client.get_kept(&l).await {
            Ok(t) => {
                any = true;
                for m in array(&t, "Temperatures") {
                    if is_absent(m) {
                        continue;
                    }
                    let (health, state) = status(m);
                    snap.temperatures.push(Temperature {
                        name: text(m, "/Name").unwrap_or_else(|| "?".into()),
                        context: text(m, "/PhysicalContext"),
                        reading_c: number(m, "/ReadingCelsius"),
                        upper_caution_c: number(m, "/UpperThresholdNonCritical"),
                        upper_critical_c: number(m, "/UpperThresholdCritical"),
                        upper_fatal_c: number(m, "/UpperThresholdFatal"),
                        health,
                        state,
                    });
                }
                for m in array(&t, "Fans") {
                    if is_absent(m) {
                        continue;
                    }
                    let (health, state) = status(m);
                    snap.fans.push(Fan {
                        name: text(m, "/Name")
                            .or_else(|| text(m, "/FanName"))
                            .unwrap_or_else(|| "?".into()),
                        reading: number(m, "/Reading"),
                        units: text(m, "/ReadingUnits"),
                        health,
                        state,
                    });
                }
            }
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
    if let Some(l) = link(ch, "Power") {
        match client.get_kept(&l).await {
            Ok(p) => {
                any = true;
                snap.power_watts = number(&p, "/PowerControl/0/PowerConsumedWatts");
                // Empty bays stay listed: BMCs flag a missing PSU (lost redundancy) on the bay.
                for m in array(&p, "PowerSupplies") {
                    let (health, state) = status(m);
                    snap.psus.push(Psu {
                        id: text(m, "/@odata.id").unwrap_or_default(),
                        name: text(m, "/Name").unwrap_or_else(|| "PSU".into()),
                        model: text(m, "/Model"),
                        serial: text(m, "/SerialNumber"),
                        capacity_watts: number(m, "/PowerCapacityWatts"),
                        watts: number(m, "/LastPowerOutputWatts")
                            .or_else(|| number(m, "/PowerInputWatts")),
                        health,
                        state,
                    });
                }
            }
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
    any
}

/// The newer `ThermalSubsystem`, `PowerSubsystem` and `Sensors`.
pub(super) async fn read_subsystems(client: &Arc<RedfishClient>, ch: &Value, snap: &mut Snapshot) {
    if let Some(l) = link(ch, "Sensors") {
        for (_, s) in members(client, &l, &mut snap.errors).await {
            let kind = text(&s, "/ReadingType");
            let units = text(&s, "/ReadingUnits");
            let is_temp = kind.as_deref() == Some("Temperature")
                || (kind.is_none() && units.as_deref() == Some("Cel"));
            if is_temp && !is_absent(&s) {
                let (health, state) = status(&s);
                snap.temperatures.push(Temperature {
                    name: text(&s, "/Name")
                        .or_else(|| text(&s, "/Id"))
                        .unwrap_or_else(|| "?".into()),
                    context: text(&s, "/PhysicalContext"),
                    reading_c: number(&s, "/Reading"),
                    upper_caution_c: number(&s, "/Thresholds/UpperCaution/Reading"),
                    upper_critical_c: number(&s, "/Thresholds/UpperCritical/Reading"),
                    upper_fatal_c: number(&s, "/Thresholds/UpperFatal/Reading"),
                    health,
                    state,
                });
            }
        }
    }
    if let Some(l) = link(ch, "ThermalSubsystem") {
        match client.get_kept(&l).await {
            Ok(ts) => {
                if let Some(fl) = link(&ts, "Fans") {
                    for (_, f) in members(client, &fl, &mut snap.errors).await {
                        if is_absent(&f) {
                            continue;
                        }
                        let (health, state) = status(&f);
                        let (reading, units) = match number(&f, "/SpeedPercent/Reading") {
                            Some(p) => (Some(p), Some("Percent".to_owned())),
                            None => (number(&f, "/SpeedPercent/SpeedRPM"), Some("RPM".to_owned())),
                        };
                        snap.fans.push(Fan {
                            name: text(&f, "/Name").unwrap_or_else(|| "?".into()),
                            reading,
                            units,
                            health,
                            state,
                        });
                    }
                }
            }
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
    if let Some(l) = link(ch, "PowerSubsystem") {
        match client.get_kept(&l).await {
            Ok(ps) => {
                if let Some(pl) = link(&ps, "PowerSupplies") {
                    for (id, p) in members(client, &pl, &mut snap.errors).await {
                        let watts = match link(&p, "Metrics") {
                            Some(ml) => match client.get_kept(&ml).await {
                                Ok(m) => number(&m, "/InputPowerWatts/Reading")
                                    .or_else(|| number(&m, "/OutputPowerWatts/Reading")),
                                Err(e) => {
                                    snap.errors.push(format!("{ml}: {e}"));
                                    None
                                }
                            },
                            None => None,
                        };
                        let (health, state) = status(&p);
                        snap.psus.push(Psu {
                            id,
                            name: text(&p, "/Name").unwrap_or_else(|| "PSU".into()),
                            model: text(&p, "/Model"),
                            serial: text(&p, "/SerialNumber"),
                            capacity_watts: number(&p, "/PowerCapacityWatts"),
                            watts,
                            health,
                            state,
                        });
                    }
                }
            }
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
    if let Some(l) = link(ch, "EnvironmentMetrics") {
        match client.get_kept(&l).await {
            Ok(m) => snap.power_watts = number(&m, "/PowerWatts/Reading"),
            Err(e) => snap.errors.push(format!("{l}: {e}")),
        }
    }
}
