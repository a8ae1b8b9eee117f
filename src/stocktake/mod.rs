//! Audits (stocktakes): a technician walks a rack or a stock location,
//! scanning asset tags, hostnames and serials (a keyboard-wedge scanner types
//! the code and Enter). Finishing compares the scans with the records and
//! keeps what was fine, missing, unexpected or unknown; each discrepancy can
//! then be fixed in the records or handed to a work order.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tracing::instrument;

use crate::audit::{self, Action, Actor};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::units::serial_key;
use crate::{exec, on};

mod findings;

pub use findings::{Finding, findings, finish, fix, open_work_order};

/// An audit with the name of what it covers.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Stocktake {
    /// Id.
    pub id: i64,
    /// The rack audited, or
    pub rack_id: Option<i64>,
    /// the stock location audited (with the locations inside it).
    pub location_id: Option<i64>,
    /// open or finished.
    pub status: String,
    /// Who started it.
    pub started_by: Option<String>,
    /// Codes scanned so far.
    pub scans: i64,
    /// Started.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Rack path or location path, filled in after loading.
    #[sqlx(skip)]
    pub target: String,
}

const SELECT: &str = "select s.id, s.rack_id, s.location_id, s.status, u.display_name as started_by,
    (select count(*) from stocktake_scans c where c.stocktake_id = s.id) as scans, s.created_at, s.finished_at
    from stocktakes s left join users u on u.id = s.started_by";

async fn name_targets(db: &Db, rows: &mut [Stocktake]) -> AppResult<()> {
    let places = crate::inventory::locations::LocationTree::load(db).await?;
    let racks: HashMap<i64, String> = crate::datacenter::racks::list(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.path()))
        .collect();
    for r in rows {
        r.target = match (r.rack_id, r.location_id) {
            (Some(k), _) => racks.get(&k).cloned().unwrap_or_default(),
            (_, Some(l)) => places.path(l).unwrap_or_default(),
            _ => String::new(),
        };
    }
    Ok(())
}

/// Audits, newest first, one page; and how many there are.
pub async fn list(
    db: &Db,
    open_only: bool,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<Stocktake>, i64)> {
    let filter = "where ($1 = 0 or s.status = 'open')";
    let sql = format!("{SELECT} {filter} order by s.id desc limit $2 offset $3");
    let open = i64::from(open_only);
    let mut rows: Vec<Stocktake> = on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(open)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await)?;
    let total: i64 = on!(db, |p| sqlx::query_scalar(
        "select count(*) from stocktakes s where ($1 = 0 or s.status = 'open')"
    )
    .bind(open)
    .fetch_one(p)
    .await)?;
    name_targets(db, &mut rows).await?;
    Ok((rows, total))
}

/// As [`list`], only the audits at `site_id` (a rack there, or a stock
/// location at that site or inside one that is); every audit with `None`.
pub async fn list_at_site(
    db: &Db,
    open_only: bool,
    site_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<Stocktake>, i64)> {
    let Some(site) = site_id else {
        return list(db, open_only, limit, offset).await;
    };
    let (all, _) = list(db, open_only, i64::MAX, 0).await?;
    let places = crate::inventory::locations::LocationTree::load(db).await?;
    let racks: HashMap<i64, i64> = crate::datacenter::racks::list(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.site_id))
        .collect();
    let at: Vec<Stocktake> = all
        .into_iter()
        .filter(|a| match (a.rack_id, a.location_id) {
            (Some(k), _) => racks.get(&k) == Some(&site),
            (_, Some(l)) => places.site_of(l).map(|(s, _)| s) == Some(site),
            _ => false,
        })
        .collect();
    let total = i64::try_from(at.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(offset).unwrap_or(0);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok((at.into_iter().skip(skip).take(take).collect(), total))
}

/// One audit.
pub async fn get(db: &Db, id: i64) -> AppResult<Stocktake> {
    let sql = format!("{SELECT} where s.id = $1");
    let row: Stocktake = on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id)
        .fetch_one(p)
        .await)?;
    let mut rows = [row];
    name_targets(db, &mut rows).await?;
    let [row] = rows;
    Ok(row)
}

/// What to audit: a rack id or a location id (exactly one).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct StartInput {
    /// Rack id.
    #[serde(default)]
    pub rack_id: String,
    /// Stock location id.
    #[serde(default)]
    pub location_id: String,
}

/// Starts an audit of a rack or a stock location.
pub async fn start(db: &Db, actor: &Actor, input: &StartInput) -> AppResult<i64> {
    let rack = input.rack_id.trim().parse::<i64>().ok();
    let location = input.location_id.trim().parse::<i64>().ok();
    if rack.is_some() == location.is_some() {
        let mut f = FieldErrors::default();
        f.add("rack_id", Msg::new("stocktake.one_target"));
        return Err(AppError::Validation(f));
    }
    if let Some(r) = rack {
        crate::datacenter::racks::get(db, r).await?;
    }
    if let Some(l) = location
        && !crate::inventory::locations::exists(db, l).await?
    {
        return Err(AppError::NotFound);
    }
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into stocktakes (rack_id, location_id, status, started_by, created_at, updated_at)
             values ($1, $2, 'open', $3, $4, $4) returning id",
        )
        .bind(rack)
        .bind(location)
        .bind(actor.user_id)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    let after = serde_json::json!({"rack_id": rack, "location_id": location});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "stocktake",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn open(tx: &mut Tx, id: i64) -> AppResult<()> {
    let status: String = on!(tx, |c| sqlx::query_scalar(
        "select status from stocktakes where id = $1"
    )
    .bind(id)
    .fetch_one(c)
    .await)?;
    if status != "open" {
        return Err(AppError::Conflict(Msg::new("stocktake.finished")));
    }
    Ok(())
}

/// What one scan turned out to be, as the technician sees it at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanResult {
    /// Recorded here.
    Expected,
    /// Known, but recorded somewhere else.
    Elsewhere,
    /// Not in the records at all.
    Unknown,
    /// Scanned before in this audit.
    Repeated,
}

/// Records one scanned code (trimmed; empty codes are ignored by the caller).
#[instrument(skip_all, fields(stocktake = id))]
pub async fn scan(db: &Db, id: i64, code: &str) -> AppResult<ScanResult> {
    let code = code.trim();
    if code.is_empty() || code.chars().count() > 200 {
        let mut f = FieldErrors::default();
        f.add("code", Msg::new("validation.required"));
        return Err(AppError::Validation(f));
    }
    let take = get(db, id).await?;
    let expected = expected(db, &take).await?;
    let mut tx = db.begin().await?;
    open(&mut tx, id).await?;
    let seen: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
        "select count(*) from stocktake_scans where stocktake_id = $1 and lower(code) = lower($2)"
    )
    .bind(id)
    .bind(code)
    .fetch_one(c)
    .await
    })?;
    if seen > 0 {
        tx.rollback().await?;
        return Ok(ScanResult::Repeated);
    }
    let now = crate::clock::now();
    exec!(&mut tx, |c| {
        sqlx::query(
            "insert into stocktake_scans (stocktake_id, code, created_at, updated_at) values ($1, $2, $3, $3)",
        )
        .bind(id)
        .bind(code)
        .bind(now)
        .execute(c)
        .await
    })?;
    tx.commit().await?;
    if expected.iter().any(|e| e.matches(code)) {
        return Ok(ScanResult::Expected);
    }
    Ok(match identify(db, code).await? {
        Some(_) => ScanResult::Elsewhere,
        None => ScanResult::Unknown,
    })
}

/// Something the records say is in the audited place.
#[derive(Clone, Debug)]
struct Item {
    asset_id: Option<i64>,
    unit_id: Option<i64>,
    /// Codes that identify it (tag, hostname, serial), ASCII letters
    /// lowered as the database's `lower()` does ([`serial_key`]).
    codes: Vec<String>,
    /// How to show it.
    label: String,
}

impl Item {
    fn matches(&self, code: &str) -> bool {
        self.codes.contains(&serial_key(code.trim()))
    }
}

/// What the records say is in the audited rack (assets placed in it) or
/// location (units kept there or in the locations inside it).
async fn expected(db: &Db, take: &Stocktake) -> AppResult<Vec<Item>> {
    if let Some(rack) = take.rack_id {
        let rows: Vec<(i64, String, Option<String>, Option<String>)> = on!(db, |p| {
            sqlx::query_as(
            "select a.id, a.asset_tag, a.hostname, a.serial from placements p join assets a on a.id = p.asset_id where p.rack_id = $1 order by p.u_position"
        )
        .bind(rack)
        .fetch_all(p)
        .await
        })?;
        return Ok(rows
            .into_iter()
            .map(|(id, tag, host, serial)| Item {
                asset_id: Some(id),
                unit_id: None,
                codes: [Some(&tag), host.as_ref(), serial.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|c| serial_key(c))
                    .collect(),
                label: tag,
            })
            .collect());
    }
    let Some(root) = take.location_id else {
        return Ok(Vec::new());
    };
    let inside = locations_within(db, root).await?;
    let rows: Vec<(i64, String, Option<i64>)> = on!(db, |p| {
        sqlx::query_as(
        "select id, serial, location_id from units where location_id is not null and status in ('in_stock', 'reserved', 'faulty') order by id"
    )
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, l)| l.is_some_and(|l| inside.contains(&l)))
        .map(|(id, serial, _)| Item {
            asset_id: None,
            unit_id: Some(id),
            codes: vec![serial_key(&serial)],
            label: serial,
        })
        .collect())
}

/// A location and every location inside it.
async fn locations_within(db: &Db, root: i64) -> AppResult<BTreeSet<i64>> {
    let tree = crate::inventory::locations::LocationTree::load(db).await?;
    Ok(tree.descendants(root))
}

/// What a code is, anywhere in the records.
#[derive(Clone, Debug)]
enum Known {
    Asset {
        id: i64,
        place: String,
    },
    /// `status`: the place is the unit's status code (it is in no location).
    Unit {
        id: i64,
        place: String,
        status: bool,
    },
}

async fn identify(db: &Db, code: &str) -> AppResult<Option<Known>> {
    let c = db.collate_c();
    let sql = format!(
        "select id from assets where lower(asset_tag) = lower($1{c}) or lower(hostname) = lower($1{c})
           or lower(serial) = lower($1{c}) order by id limit 1"
    );
    let asset: Option<i64> = on!(db, |p| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(code)
            .fetch_optional(p)
            .await
    })?;
    if let Some(id) = asset {
        let place = match crate::datacenter::placement::locate_asset(db, id).await? {
            Some((rack, pl)) => format!("{} / U{}", rack.path(), pl.u_position),
            None => String::new(),
        };
        return Ok(Some(Known::Asset { id, place }));
    }
    let unit: Option<(i64, Option<i64>, Option<String>, String)> = on!(db, |p| {
        sqlx::query_as(
        "select u.id, u.location_id, a.asset_tag, u.status from units u left join assets a on a.id = u.asset_id where lower(u.serial) = $1
         order by case when u.serial = $2 then 0 else 1 end, u.id limit 1"
    )
    .bind(serial_key(code))
    .bind(code)
    .fetch_optional(p)
    .await
    })?;
    let Some((id, location, asset_tag, status)) = unit else {
        return Ok(None);
    };
    let (place, is_status) = match (asset_tag, location) {
        (Some(tag), _) => (tag, false),
        (None, Some(l)) => (
            crate::inventory::locations::LocationTree::load(db)
                .await?
                .path(l)
                .unwrap_or_default(),
            false,
        ),
        (None, None) => (status, true),
    };
    Ok(Some(Known::Unit {
        id,
        place,
        status: is_status,
    }))
}

/// The codes scanned so far, newest first.
pub async fn scans(db: &Db, id: i64) -> AppResult<Vec<String>> {
    Ok(on!(db, |p| sqlx::query_scalar(
        "select code from stocktake_scans where stocktake_id = $1 order by id desc"
    )
    .bind(id)
    .fetch_all(p)
    .await)?)
}
