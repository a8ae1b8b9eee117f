//! The site / room / row / rack tree.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Action, Actor};
use crate::db::{self, Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::on;

/// A rack with the names of the places above it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Rack {
    /// Row id.
    pub id: i64,
    /// Rack name (`A01`).
    pub name: String,
    /// Height in U.
    pub height_u: i64,
    /// U that can hold equipment (patch panels, PDUs and cable managers take
    /// the rest), 1..=height; the full height unless set. Rack space cost is
    /// shared over these.
    pub usable_u: i64,
    /// Power budget, watts.
    pub power_budget_watts: i64,
    /// Monthly cost, base minor units.
    pub monthly_cost_minor: i64,
    /// `bottom_up` (U1 at the bottom) or `top_down`.
    pub numbering: String,
    /// Row id.
    pub row_id: i64,
    /// Row name.
    pub row_name: String,
    /// Room name.
    pub room_name: String,
    /// Site name.
    pub site_name: String,
    /// Site id.
    pub site_id: i64,
}

impl Rack {
    /// `Site / Room / Row / Rack`.
    pub fn path(&self) -> String {
        format!(
            "{} / {} / {} / {}",
            self.site_name, self.room_name, self.row_name, self.name
        )
    }
}

const RACK_SELECT: &str = "select k.id, k.name, k.height_u, coalesce(k.usable_u, k.height_u) as usable_u, k.power_budget_watts, k.monthly_cost_minor, k.numbering,
    k.row_id, w.name as row_name, r.name as room_name, s.name as site_name, s.id as site_id
    from racks k join rack_rows w on w.id = k.row_id join rooms r on r.id = w.room_id join sites s on s.id = r.site_id";

/// Every rack, by site, room, row and name.
pub async fn list(db: &Db) -> Result<Vec<Rack>, DbError> {
    let sql = format!("{RACK_SELECT} order by s.name, r.name, w.name, k.name");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// One rack.
pub async fn get(db: impl Into<Conn<'_>>, id: i64) -> Result<Rack, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("{RACK_SELECT} where k.id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// Every site (id, name), by name.
pub async fn sites(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(on!(db, |p| sqlx::query_as(
        "select id, name from sites order by name"
    )
    .fetch_all(p)
    .await)?)
}

/// A new rack, creating its site, room and row by name when they do not exist.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RackInput {
    /// Site name (`Seoul DC1`).
    pub site: String,
    /// Room name (`Hall 2`).
    pub room: String,
    /// Row name (`Row C`).
    pub row: String,
    /// Rack name (`C07`).
    pub name: String,
    /// Height in U (default 42).
    #[serde(default)]
    pub height_u: Option<String>,
    /// Power budget in kW (`8.5`).
    #[serde(default)]
    pub power_budget_kw: Option<String>,
    /// `bottom_up` or `top_down`.
    #[serde(default)]
    pub numbering: Option<String>,
}

fn required<'a>(field: &str, v: &'a str, errors: &mut FieldErrors) -> &'a str {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 100 {
        errors.add(field, Msg::new("validation.required"));
    }
    v
}

/// Creates a rack (and its site, room and row if new); returns its id.
pub async fn create(db: impl Into<Conn<'_>>, actor: &Actor, input: &RackInput) -> AppResult<i64> {
    create_with_usable_u(db, actor, input, None).await
}

/// As [`create`], with the U that can hold equipment (`usable_u`, typed:
/// empty or absent is the full height, else 1..=height).
pub async fn create_with_usable_u(
    db: impl Into<Conn<'_>>,
    actor: &Actor,
    input: &RackInput,
    usable_u: Option<&str>,
) -> AppResult<i64> {
    let mut work = db::work(db).await?;
    let tx: &mut Tx = &mut work;
    let mut errors = FieldErrors::default();
    let site = required("site", &input.site, &mut errors);
    let room = required("room", &input.room, &mut errors);
    let row = required("row", &input.row, &mut errors);
    let name = required("name", &input.name, &mut errors);
    let height = match input
        .height_u
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 42,
        Some(h) => h
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=60).contains(h))
            .unwrap_or_else(|| {
                errors.add(
                    "height_u",
                    Msg::new("validation.whole_number").arg("value", h),
                );
                42
            }),
    };
    let usable = parse_usable_u(usable_u, height, &mut errors);
    let budget_w = match input
        .power_budget_kw
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 0,
        Some(k) => match k.replace(',', ".").parse::<rust_decimal::Decimal>() {
            Ok(d) if !d.is_sign_negative() => {
                i64::try_from((d * rust_decimal::Decimal::from(1000)).round()).unwrap_or(0)
            }
            _ => {
                errors.add("power_budget_kw", Msg::new("validation.price"));
                0
            }
        },
    };
    let numbering = input.numbering.as_deref().unwrap_or("bottom_up");
    if !matches!(numbering, "bottom_up" | "top_down") {
        errors.add("numbering", Msg::new("validation.required"));
    }
    errors.into_result()?;
    let now = crate::clock::now();
    let site_id = upsert_named(tx, "sites", None, site, now).await?;
    let room_id = upsert_named(tx, "rooms", Some(("site_id", site_id)), room, now).await?;
    let row_id = upsert_named(tx, "rack_rows", Some(("room_id", room_id)), row, now).await?;
    let id: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "insert into racks (row_id, name, height_u, usable_u, power_budget_watts, numbering, created_at, updated_at)
             values ($1, $2, $3, $7, $4, $5, $6, $6) returning id",
        )
        .bind(row_id)
        .bind(name)
        .bind(height)
        .bind(budget_w)
        .bind(numbering)
        .bind(now)
        .bind(usable)
        .fetch_one(c)
        .await
    })
    .map_err(|e| match DbError::from(e) {
        DbError::Unique(_) => {
            let mut f = FieldErrors::default();
            f.add("name", Msg::new("validation.duplicate"));
            AppError::Validation(f)
        }
        other => other.into(),
    })?;
    let after = serde_json::json!({"site": site, "room": room, "row": row, "name": name, "height_u": height, "usable_u": usable.unwrap_or(height), "power_budget_watts": budget_w});
    audit::record(tx, actor, Action::Create, "rack", id, None, Some(&after)).await?;
    work.commit().await?;
    Ok(id)
}

/// Usable U typed for a rack of `height` U: empty means the full height
/// (stored as null, so it follows the height); else a whole number 1..=height.
fn parse_usable_u(v: Option<&str>, height: i64, errors: &mut FieldErrors) -> Option<i64> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match v.parse::<i64>() {
        Ok(u) if (1..=height).contains(&u) => Some(u),
        _ => {
            errors.add(
                "usable_u",
                Msg::new("dc.usable_u_range")
                    .arg("value", v)
                    .arg("height", height),
            );
            None
        }
    }
}

/// Refuses a usable U below the highest U something installed occupies,
/// naming that asset (rack cost is shared over the usable U).
async fn check_installed_below(
    tx: &mut Tx,
    rack_id: i64,
    usable: i64,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let placed = super::placement::in_rack(&mut *tx, rack_id).await?;
    if let Some(top) = placed.iter().max_by_key(|p| p.top_u())
        && top.top_u() > usable
    {
        errors.add(
            "usable_u",
            Msg::new("ops2.usable_below_installed")
                .arg("value", usable)
                .arg("top", top.top_u())
                .arg("asset", top.asset_tag.clone()),
        );
    }
    Ok(())
}

/// Sets how many of a rack's U can hold equipment (`None` or empty: the full
/// height), audited. Refused unless 1..=height and at least the highest U
/// occupied.
pub async fn set_usable_u(
    db: &Db,
    actor: &Actor,
    id: i64,
    usable: Option<&str>,
) -> AppResult<Rack> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    let mut errors = FieldErrors::default();
    let u = parse_usable_u(usable, before.height_u, &mut errors);
    if let Some(u) = u {
        check_installed_below(&mut tx, id, u, &mut errors).await?;
    }
    errors.into_result()?;
    crate::exec!(&mut tx, |c| sqlx::query(
        "update racks set usable_u = $1, updated_at = $2 where id = $3"
    )
    .bind(u)
    .bind(crate::clock::now())
    .bind(id)
    .execute(c)
    .await)?;
    let after = get(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "rack",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Finds or creates a site, a room in it and a row in that room, by name, as
/// far down as given (a row needs a room); returns the id of the last. For
/// imports that bring places without racks.
pub async fn ensure_place(
    tx: &mut Tx,
    site: &str,
    room: Option<&str>,
    row: Option<&str>,
) -> AppResult<i64> {
    let now = crate::clock::now();
    let site_id = upsert_named(tx, "sites", None, site, now).await?;
    let Some(room) = room else {
        return Ok(site_id);
    };
    let room_id = upsert_named(tx, "rooms", Some(("site_id", site_id)), room, now).await?;
    match row {
        None => Ok(room_id),
        Some(row) => upsert_named(tx, "rack_rows", Some(("room_id", room_id)), row, now).await,
    }
}

/// The rooms of a site that have a row named `row`, by name.
pub async fn rooms_with_row(tx: &mut Tx, site: &str, row: &str) -> Result<Vec<String>, DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
        "select r.name from rack_rows w join rooms r on r.id = w.room_id join sites s on s.id = r.site_id
         where s.name = $1 and w.name = $2 order by r.name"
    )
    .bind(site)
    .bind(row)
    .fetch_all(c)
    .await
    })?)
}

/// The racks named `name` in a site, optionally only those in a row of that name.
pub async fn find(
    tx: &mut Tx,
    site: &str,
    row: Option<&str>,
    name: &str,
) -> Result<Vec<Rack>, DbError> {
    let sql = format!(
        "{RACK_SELECT} where s.name = $1 and k.name = $2 and (cast($3 as text) is null or w.name = $3) order by k.id"
    );
    Ok(on!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(site)
    .bind(name)
    .bind(row)
    .fetch_all(c)
    .await)?)
}

/// Sets a rack's monthly cost (base-currency minor units, ≥ 0), audited.
/// Used by the cost module, which owns the decision of what a rack costs.
pub async fn set_monthly_cost(db: &Db, actor: &Actor, id: i64, minor: i64) -> AppResult<()> {
    if minor < 0 {
        let mut f = FieldErrors::default();
        f.add("monthly_cost", Msg::new("validation.price"));
        return Err(AppError::Validation(f));
    }
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    crate::exec!(&mut tx, |c| sqlx::query(
        "update racks set monthly_cost_minor = $1, updated_at = $2 where id = $3"
    )
    .bind(minor)
    .bind(crate::clock::now())
    .bind(id)
    .execute(c)
    .await)?;
    let after = get(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "rack",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Finds a named place under a parent, or creates it; returns its id.
async fn upsert_named(
    tx: &mut crate::db::Tx,
    table: &'static str,
    parent: Option<(&'static str, i64)>,
    name: &str,
    now: time::OffsetDateTime,
) -> AppResult<i64> {
    let (pcol, pid) = parent.unwrap_or(("0", 0));
    let filter = if parent.is_some() {
        format!("{pcol} = $2 and ")
    } else {
        "cast($2 as bigint) = 0 and ".into()
    };
    let find = format!("select id from {table} where {filter}name = $1");
    let found: Option<i64> = on!(tx, |c| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(find.clone()))
            .bind(name)
            .bind(pid)
            .fetch_optional(c)
            .await
    })?;
    if let Some(id) = found {
        return Ok(id);
    }
    let insert = match parent {
        Some((col, _)) => format!(
            "insert into {table} ({col}, name, created_at, updated_at) values ($2, $1, $3, $3) returning id"
        ),
        None => format!(
            "insert into {table} (name, created_at, updated_at) values ($1, $3, $3) returning id"
        ),
    };
    let id: i64 = if parent.is_some() {
        on!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(
            insert.clone()
        ))
        .bind(name)
        .bind(pid)
        .bind(now)
        .fetch_one(c)
        .await)
    } else {
        on!(tx, |c| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(insert.replace("$3", "$2")))
                .bind(name)
                .bind(now)
                .fetch_one(c)
                .await
        })
    }?;
    Ok(id)
}
