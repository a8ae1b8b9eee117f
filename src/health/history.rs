//! Readings over time (watts, inlet and hottest temperature, fan speeds) per asset: a raw
//! row per poll, and past `raw_retention_days` the raw rows of each hour are
//! replaced by one hourly average; hourly rows older than
//! `hourly_retention_days` are deleted. Averaging is done in Rust so both
//! engines give the same result.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::db::{Db, DbError, Tx};
use crate::{exec, on};

/// Inserts one raw reading.
pub async fn insert_raw(
    tx: &mut Tx,
    asset_id: i64,
    at: OffsetDateTime,
    watts: Option<i64>,
    inlet_c: Option<f64>,
    max_c: Option<f64>,
) -> Result<(), DbError> {
    let r = RawReading {
        asset_id,
        at,
        watts,
        inlet_c,
        max_c,
        fans: Fans::default(),
    };
    insert_raw_many(tx, &[r]).await
}

/// Fan speeds of one poll or hour, RPM.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fans {
    /// Mean of the fans reporting RPM.
    pub avg_rpm: Option<f64>,
    /// The slowest of them.
    pub min_rpm: Option<f64>,
}

impl Fans {
    /// The mean and the slowest of these readings (RPM); none when empty.
    pub fn of(rpms: &[f64]) -> Fans {
        let ok: Vec<f64> = rpms.iter().copied().filter(|r| r.is_finite()).collect();
        if ok.is_empty() {
            return Fans::default();
        }
        Fans {
            avg_rpm: Some((ok.iter().sum::<f64>() / ok.len() as f64).round()),
            min_rpm: ok.iter().copied().reduce(f64::min),
        }
    }
}

/// A raw reading of an asset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawReading {
    /// The asset.
    pub asset_id: i64,
    /// When, UTC.
    pub at: OffsetDateTime,
    /// Watts.
    pub watts: Option<i64>,
    /// Inlet, °C.
    pub inlet_c: Option<f64>,
    /// Hottest sensor, °C.
    pub max_c: Option<f64>,
    /// Fan speeds.
    pub fans: Fans,
}

/// Inserts many raw readings, 100 rows per statement.
pub async fn insert_raw_many(tx: &mut Tx, readings: &[RawReading]) -> Result<(), DbError> {
    let now = crate::clock::now();
    for chunk in readings.chunks(100) {
        let sql = format!(
            "insert into health_readings (asset_id, at, resolution, samples, power_watts, inlet_temp_c, max_temp_c, fan_avg_rpm, fan_min_rpm, created_at, updated_at)
             values {}",
            tx.rows(chunk.len(), 11)
        );
        exec!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for r in chunk {
                q = q
                    .bind(r.asset_id)
                    .bind(r.at)
                    .bind("raw")
                    .bind(1_i64)
                    .bind(r.watts)
                    .bind(r.inlet_c)
                    .bind(r.max_c)
                    .bind(r.fans.avg_rpm)
                    .bind(r.fans.min_rpm)
                    .bind(now)
                    .bind(now);
            }
            q.execute(c).await
        })?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments, reason = "one column each")]
async fn insert(
    tx: &mut Tx,
    asset_id: i64,
    at: OffsetDateTime,
    resolution: &str,
    samples: i64,
    watts: Option<i64>,
    inlet_c: Option<f64>,
    max_c: Option<f64>,
    fans: Fans,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query(
            "insert into health_readings (asset_id, at, resolution, samples, power_watts, inlet_temp_c, max_temp_c, fan_avg_rpm, fan_min_rpm, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(asset_id)
        .bind(at)
        .bind(resolution)
        .bind(samples)
        .bind(watts)
        .bind(inlet_c)
        .bind(max_c)
        .bind(fans.avg_rpm)
        .bind(fans.min_rpm)
        .bind(now)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// One reading (raw or hourly average).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Reading {
    /// Start of the sample (or of the hour), UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub at: OffsetDateTime,
    /// `raw` or `hour`.
    pub resolution: String,
    /// Raw samples behind it.
    pub samples: i64,
    /// Watts.
    pub power_watts: Option<i64>,
    /// Inlet, °C.
    pub inlet_temp_c: Option<f64>,
    /// Hottest sensor, °C.
    pub max_temp_c: Option<f64>,
    /// Mean fan speed, RPM.
    pub fan_avg_rpm: Option<f64>,
    /// Slowest fan, RPM.
    pub fan_min_rpm: Option<f64>,
}

/// Readings of an asset since `from`, oldest first.
pub async fn readings(
    db: &Db,
    asset_id: i64,
    from: OffsetDateTime,
) -> Result<Vec<Reading>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select at, resolution, samples, power_watts, inlet_temp_c, max_temp_c, fan_avg_rpm, fan_min_rpm from health_readings
             where asset_id = $1 and at >= $2 order by at, id",
        )
        .bind(asset_id)
        .bind(from)
        .fetch_all(p)
        .await
    })?)
}

fn start_of_hour(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(t)
}

#[derive(Default)]
struct Acc {
    samples: i64,
    watts: (i64, i64),
    inlet: (f64, i64),
    max: (f64, i64),
    fan_avg: (f64, i64),
    fan_min: Option<f64>,
}

fn avg_i(sum: i64, n: i64) -> Option<i64> {
    (n > 0).then(|| (sum as f64 / n as f64).round() as i64)
}

fn avg_f(sum: f64, n: i64) -> Option<f64> {
    (n > 0).then(|| ((sum / n as f64) * 10.0).round() / 10.0)
}

/// What one retention run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Raw rows folded into hourly rows.
    pub raw_folded: u64,
    /// Hourly rows written.
    pub hours_written: u64,
    /// Hourly rows deleted as too old.
    pub hours_deleted: u64,
}

/// Folds raw readings older than `raw_days` into hourly averages and drops
/// hourly rows older than `hourly_days`, in one transaction.
pub async fn compact(
    db: &Db,
    now: OffsetDateTime,
    raw_days: i64,
    hourly_days: i64,
) -> Result<Compacted, DbError> {
    // Whole hours only, so an hour is never split between two runs.
    let raw_cutoff = start_of_hour(now - Duration::days(raw_days.max(0)));
    let hour_cutoff = now - Duration::days(hourly_days.max(raw_days));
    let mut tx = db.begin().await?;
    type Row = (
        i64,
        OffsetDateTime,
        i64,
        Option<i64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = on!(&mut tx, |c| {
        sqlx::query_as(
            "select asset_id, at, samples, power_watts, inlet_temp_c, max_temp_c, fan_avg_rpm, fan_min_rpm from health_readings
             where resolution = 'raw' and at < $1",
        )
        .bind(raw_cutoff)
        .fetch_all(c)
        .await
    })?;
    let mut buckets: BTreeMap<(i64, OffsetDateTime), Acc> = BTreeMap::new();
    for (asset, at, samples, w, inlet, max, fan_avg, fan_min) in &rows {
        let hour = start_of_hour(*at);
        let a = buckets.entry((*asset, hour)).or_default();
        a.samples += samples;
        if let Some(w) = w {
            a.watts = (a.watts.0 + w, a.watts.1 + 1);
        }
        if let Some(t) = inlet {
            a.inlet = (a.inlet.0 + t, a.inlet.1 + 1);
        }
        if let Some(t) = max {
            a.max = (a.max.0 + t, a.max.1 + 1);
        }
        if let Some(f) = fan_avg {
            a.fan_avg = (a.fan_avg.0 + f, a.fan_avg.1 + 1);
        }
        if let Some(f) = fan_min {
            a.fan_min = Some(a.fan_min.map_or(*f, |m| m.min(*f)));
        }
    }
    let mut out = Compacted {
        raw_folded: rows.len() as u64,
        ..Compacted::default()
    };
    for ((asset, hour), a) in &buckets {
        insert(
            &mut tx,
            *asset,
            *hour,
            "hour",
            a.samples,
            avg_i(a.watts.0, a.watts.1),
            avg_f(a.inlet.0, a.inlet.1),
            avg_f(a.max.0, a.max.1),
            Fans {
                avg_rpm: avg_i(a.fan_avg.0.round() as i64, a.fan_avg.1).map(|v| v as f64),
                min_rpm: a.fan_min,
            },
        )
        .await?;
        out.hours_written += 1;
    }
    exec!(&mut tx, |c| {
        sqlx::query("delete from health_readings where resolution = 'raw' and at < $1")
            .bind(raw_cutoff)
            .execute(c)
            .await
    })?;
    out.hours_deleted = exec!(&mut tx, |c| {
        sqlx::query("delete from health_readings where resolution = 'hour' and at < $1")
            .bind(hour_cutoff)
            .execute(c)
            .await
    })?;
    tx.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fans_give_their_mean_and_slowest_and_nothing_when_none_report() {
        let f = Fans::of(&[6000.0, 6600.0, f64::NAN, 5900.0]);
        assert_eq!((f.avg_rpm, f.min_rpm), (Some(6167.0), Some(5900.0)));
        assert_eq!(Fans::of(&[]), Fans::default());
    }
}
