//! Assets (assembled servers, switches, storage nodes): what is installed in
//! them, what they cost, and part swaps.

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::units::UnitStatus;
use crate::audit::{self, Action, Actor};
use crate::db::{self, Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::{exec, on};

/// An asset with its cost.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Asset {
    /// Row id.
    pub id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// Hostname.
    pub hostname: Option<String>,
    /// Template name (joined).
    pub template_name: Option<String>,
    /// server, switch, storage, pdu or other.
    pub kind: String,
    /// Lifecycle status.
    pub status: String,
    /// Assembly labour, base minor units.
    pub assembly_labour_minor: i64,
    /// Landed cost of the units installed now, base minor units.
    pub units_cost_minor: i64,
    /// The chassis serial it was registered with (imported assets), as given.
    pub serial: Option<String>,
}

const ASSET_COLUMNS: &str = "a.id, a.asset_tag, a.hostname, t.name as template_name, a.kind, a.status,
    a.assembly_labour_minor,
    cast(coalesce((select sum(u.landed_cost_minor) from units u where u.asset_id = a.id and u.status = 'installed'), 0) as bigint)
      as units_cost_minor, a.serial";

const ASSET_FROM: &str = "from assets a left join build_templates t on t.id = a.template_id";

/// Assets whose tag, hostname or registered serial starts with `q` (in any
/// case of its ASCII letters, as `lower()` folds on both engines), by tag, at
/// most `limit`. The prefix is a range over `lower(...)`, which the expression
/// indexes of migrations 0023 and 0034 serve on both engines (a `like` would
/// not be).
pub async fn list(db: &Db, q: Option<&str>, limit: i64) -> Result<Vec<Asset>, DbError> {
    list_sorted(db, q, &db::Sort::default(), limit).await
}

/// The columns the asset list sorts by (`key`, SQL); a role that does not
/// see money has the [`ASSET_MONEY_SORTS`] taken out.
pub const ASSET_SORTS: &[(&str, &str)] = &[
    ("tag", "lower(a.asset_tag)"),
    ("hostname", "lower(a.hostname)"),
    ("template", "lower(t.name)"),
    ("status", "a.status"),
    (
        "cost",
        "a.assembly_labour_minor + coalesce((select sum(u.landed_cost_minor) from units u where u.asset_id = a.id and u.status = 'installed'), 0)",
    ),
];

/// The asset list's sorts only for roles that see money (the cost: labour
/// and installed units).
pub const ASSET_MONEY_SORTS: &[&str] = &["cost"];

/// As [`list`], in the order of `sort` (a key of [`ASSET_SORTS`]; else by tag).
pub async fn list_sorted(
    db: &Db,
    q: Option<&str>,
    sort: &db::Sort,
    limit: i64,
) -> Result<Vec<Asset>, DbError> {
    Ok(page_sorted(db, q, sort, limit, 0).await?.0)
}

/// One page of [`list_sorted`] (`limit` from `offset`) and how many match.
pub async fn page_sorted(
    db: &Db,
    q: Option<&str>,
    sort: &db::Sort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Asset>, i64), DbError> {
    let (lo, hi) = match q {
        Some(q) => {
            let lo = super::units::serial_key(q);
            let hi = super::units::prefix_upper(&lo);
            (Some(lo), Some(hi))
        }
        None => (None, None),
    };
    let filter = if q.is_some() {
        "where (lower(a.asset_tag) >= $1 and lower(a.asset_tag) < $2)
            or (lower(a.hostname) >= $1 and lower(a.hostname) < $2)
            or (lower(a.serial) >= $1 and lower(a.serial) < $2)"
    } else {
        "where cast($1 as text) is null and cast($2 as text) is null"
    };
    // The web layer kept the sort only when its user may use it (cost: money roles).
    let order = sort.order_by(ASSET_SORTS, "a.asset_tag", "a.id");
    db::Paged {
        columns: ASSET_COLUMNS,
        from: &format!("{ASSET_FROM} {filter}"),
        order: &order,
        texts: &[lo.as_deref(), hi.as_deref()],
    }
    .fetch(db, limit, offset)
    .await
}

/// One asset.
pub async fn get(db: &Db, id: i64) -> Result<Asset, DbError> {
    let sql = format!("select {ASSET_COLUMNS} {ASSET_FROM} where a.id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// A unit installed in an asset, or once installed (with when it left).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Installed {
    /// Unit id.
    pub unit_id: i64,
    /// Slot.
    pub slot_name: String,
    /// Serial.
    pub serial: String,
    /// MPN.
    pub mpn: String,
    /// Landed cost, base minor units.
    pub landed_cost_minor: i64,
    /// When installed, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub installed_at: time::OffsetDateTime,
    /// When removed, UTC, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub removed_at: Option<time::OffsetDateTime>,
    /// Why it was removed (`faulty`, `in_stock`).
    pub removal_reason: Option<String>,
}

/// Every installation of an asset, current ones first, by slot.
pub async fn installations(db: &Db, asset_id: i64) -> Result<Vec<Installed>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select i.unit_id, i.slot_name, u.serial, m.mpn, u.landed_cost_minor, i.installed_at, i.removed_at, i.removal_reason
             from installations i join units u on u.id = i.unit_id join part_models m on m.id = u.part_model_id
             where i.asset_id = $1 order by i.removed_at is not null, i.slot_name, i.id",
        )
        .bind(asset_id)
        .fetch_all(p)
        .await
    })?)
}

/// A part swap: what comes out of a slot, where it goes, and what goes in.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SwapInput {
    /// Slot to swap.
    pub slot_name: String,
    /// Serial of the unit to install (in stock).
    pub new_serial: String,
    /// `faulty` or `in_stock`: what happens to the removed unit.
    pub old_to: String,
    /// Stock location for a removed unit going back to stock (or to the faulty shelf).
    pub location_id: i64,
}

/// What the removed unit becomes: faulty, or back in stock.
fn removed_to(input: &SwapInput) -> AppResult<UnitStatus> {
    match input.old_to.parse() {
        Ok(st @ (UnitStatus::Faulty | UnitStatus::InStock)) => Ok(st),
        _ => {
            let mut f = FieldErrors::default();
            f.add("old_to", Msg::new("validation.required"));
            Err(AppError::Validation(f))
        }
    }
}

/// Removes the unit in a slot (to faulty, or back to stock) and installs
/// another in one step; the asset's cost follows from what is installed.
#[instrument(skip_all, fields(asset = asset_id))]
pub async fn swap(
    db: impl Into<Conn<'_>>,
    actor: &Actor,
    asset_id: i64,
    input: &SwapInput,
) -> AppResult<i64> {
    let mut work = db::work(db).await?;
    let tx: &mut Tx = &mut work;
    let old_to = removed_to(input)?;
    let now = crate::clock::now();
    let old: Option<(i64, i64)> = on!(tx, |c| {
        sqlx::query_as("select id, part_model_id from units where asset_id = $1 and slot_name = $2 and status = 'installed'")
            .bind(asset_id)
            .bind(input.slot_name.trim())
            .fetch_optional(c)
            .await
    })?;
    let Some((old_id, old_part)) = old else {
        return Err(AppError::Conflict(
            Msg::new("swap.empty_slot").arg("slot", input.slot_name.trim()),
        ));
    };
    let found = super::units::find_by_serial(tx, &input.new_serial, UnitStatus::InStock).await?;
    let new: Option<(i64, i64, Option<i64>)> = match found {
        None => None,
        Some(id) => {
            on!(tx, |c| {
                sqlx::query_as("select id, part_model_id, location_id from units where id = $1 and status = $2")
                .bind(id)
                .bind(UnitStatus::InStock)
                .fetch_optional(c)
                .await
            })?
        }
    };
    let Some((new_id, new_part, new_location)) = new else {
        let mut f = FieldErrors::default();
        f.add(
            "new_serial",
            Msg::new("swap.not_in_stock").arg("serial", input.new_serial.trim()),
        );
        return Err(AppError::Validation(f));
    };
    // A slot of the asset's template takes only the part models it lists.
    let (listed, fits): (i64, i64) = on!(tx, |c| {
        sqlx::query_as(
            "select cast(count(distinct s.id) as bigint),
                    cast(coalesce(sum(case when sp.part_model_id = $3 then 1 else 0 end), 0) as bigint)
             from assets a join template_slots s on s.template_id = a.template_id and s.slot_name = $2
             left join slot_part_models sp on sp.slot_id = s.id
             where a.id = $1",
        )
        .bind(asset_id)
        .bind(input.slot_name.trim())
        .bind(new_part)
        .fetch_one(c)
        .await
    })?;
    if listed > 0 && fits == 0 {
        let msg = Msg::new("assembly.not_accepted")
            .arg("serial", input.new_serial.trim())
            .arg("slot", input.slot_name.trim());
        return Err(AppError::Conflict(msg));
    }
    // The removed unit leaves the asset: history, status and (back) into a location.
    exec!(tx, |c| {
        sqlx::query(
            "update installations set removed_at = $1, removal_reason = $2, updated_at = $1
             where unit_id = $3 and asset_id = $4 and removed_at is null",
        )
        .bind(now)
        .bind(&input.old_to)
        .bind(old_id)
        .bind(asset_id)
        .execute(c)
        .await
    })?;
    super::units::remove_from_asset(tx, old_id, old_to, input.location_id).await?;
    let removal = super::units::Movement {
        part_model_id: old_part,
        unit_id: Some(old_id),
        from: None,
        to: Some(input.location_id),
        quantity: 1,
        reason: "removal",
        receipt_line_id: None,
    };
    super::units::record_movement(tx, actor, &removal).await?;
    // The new unit goes in only if it is still in stock (one winner if two swaps race).
    if !super::units::reserve(tx, new_id).await? {
        return Err(AppError::Conflict(
            Msg::new("swap.not_in_stock").arg("serial", input.new_serial.trim()),
        ));
    }
    super::assembly::install(
        tx,
        actor,
        asset_id,
        new_id,
        new_part,
        new_location,
        input.slot_name.trim(),
    )
    .await?;
    let note = serde_json::json!({"slot": input.slot_name.trim(), "removed_unit": old_id, "removed_to": input.old_to, "installed_unit": new_id});
    audit::record(
        tx,
        actor,
        Action::Update,
        "asset",
        asset_id,
        None,
        Some(&note),
    )
    .await?;
    work.commit().await?;
    Ok(old_id)
}

/// One time a unit was in an asset.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnitInstall {
    /// Asset id.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// Slot.
    pub slot_name: String,
    /// Installed, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub installed_at: time::OffsetDateTime,
    /// Removed, UTC.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub removed_at: Option<time::OffsetDateTime>,
    /// Why removed.
    pub removal_reason: Option<String>,
}

/// Every asset a unit was installed in, oldest first.
pub async fn unit_installs(db: &Db, unit_id: i64) -> Result<Vec<UnitInstall>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select i.asset_id, a.asset_tag, i.slot_name, i.installed_at, i.removed_at, i.removal_reason
             from installations i join assets a on a.id = i.asset_id where i.unit_id = $1 order by i.id",
        )
        .bind(unit_id)
        .fetch_all(p)
        .await
    })?)
}

/// An asset registered as it stands, for assets that were not assembled here
/// (the NetBox import): no units are installed and none are consumed, so its
/// cost is its assembly labour (zero) until parts are swapped in.
#[derive(Clone, Debug)]
pub struct RegisterAsset<'a> {
    /// Asset tag (unique).
    pub asset_tag: &'a str,
    /// Hostname (unique when set).
    pub hostname: Option<&'a str>,
    /// Build template, for its height and name.
    pub template_id: Option<i64>,
    /// server, switch, storage, pdu or other.
    pub kind: &'a str,
    /// Lifecycle status.
    pub status: &'a str,
    /// Chassis serial as the other system knew it.
    pub serial: Option<&'a str>,
}

/// Whether an asset already has this tag, and whether one has this hostname.
pub async fn taken(
    tx: &mut crate::db::Tx,
    asset_tag: &str,
    hostname: Option<&str>,
) -> Result<(bool, bool), DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "select exists (select 1 from assets where asset_tag = $1),
                    exists (select 1 from assets where hostname = $2)",
        )
        .bind(asset_tag)
        .bind(hostname)
        .fetch_one(c)
        .await
    })?)
}

/// Registers an existing asset inside the caller's transaction (check
/// [`taken`] first); returns its id.
pub async fn register(
    tx: &mut crate::db::Tx,
    actor: &Actor,
    a: &RegisterAsset<'_>,
) -> AppResult<i64> {
    let now = crate::clock::now();
    let id: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "insert into assets (asset_tag, hostname, template_id, kind, status, serial, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7) returning id",
        )
        .bind(a.asset_tag)
        .bind(a.hostname)
        .bind(a.template_id)
        .bind(a.kind)
        .bind(a.status)
        .bind(a.serial)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    let after = serde_json::json!({"asset_tag": a.asset_tag, "hostname": a.hostname, "template_id": a.template_id,
        "kind": a.kind, "status": a.status, "serial": a.serial, "registered": true});
    audit::record(tx, actor, Action::Create, "asset", id, None, Some(&after)).await?;
    Ok(id)
}

/// Sets an asset's status (a work order's target status, on completion).
pub async fn set_status(
    tx: &mut Tx,
    asset_id: i64,
    status: &str,
    now: time::OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query("update assets set status = $1, updated_at = $2 where id = $3")
            .bind(status)
            .bind(now)
            .bind(asset_id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Marks an asset still being built as racked (it was placed in a rack).
pub async fn mark_racked(
    tx: &mut Tx,
    asset_id: i64,
    now: time::OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query("update assets set status = 'racked', updated_at = $1 where id = $2 and status = 'building'")
            .bind(now)
            .bind(asset_id)
            .execute(c)
            .await
    })?;
    Ok(())
}
