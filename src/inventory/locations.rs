//! Stock locations: a tree of warehouse / cabinet / shelf / bin.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::{on_db, on_tx};

/// Kinds of location, outermost first.
pub const KINDS: [&str; 4] = ["warehouse", "cabinet", "shelf", "bin"];

/// A place stock can be, with its full path for display.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Location {
    /// Row id.
    pub id: i64,
    /// Parent location, if any.
    pub parent_id: Option<i64>,
    /// Own name.
    pub name: String,
    /// warehouse, cabinet, shelf or bin.
    pub kind: String,
}

/// A location with its path (`Seoul DC1 / Cage 3 / Shelf A`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LocationView {
    /// Row id.
    pub id: i64,
    /// warehouse, cabinet, shelf or bin.
    pub kind: String,
    /// Names from the root down, joined by " / ".
    pub path: String,
}

/// Every location with its path, sorted by path.
pub async fn list(db: &Db) -> Result<Vec<LocationView>, DbError> {
    let rows: Vec<Location> = on_db!(db, |p| {
        sqlx::query_as("select id, parent_id, name, kind from stock_locations")
            .fetch_all(p)
            .await
    })?;
    let by_id: std::collections::HashMap<i64, &Location> = rows.iter().map(|l| (l.id, l)).collect();
    let mut out: Vec<LocationView> = rows
        .iter()
        .map(|l| {
            let mut names = vec![l.name.as_str()];
            let mut cur = l.parent_id;
            // The depth bound guards against a cycle written by hand in the database.
            for _ in 0..16 {
                let Some(p) = cur.and_then(|id| by_id.get(&id)) else {
                    break;
                };
                names.push(p.name.as_str());
                cur = p.parent_id;
            }
            names.reverse();
            LocationView {
                id: l.id,
                kind: l.kind.clone(),
                path: names.join(" / "),
            }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Input for a new location.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LocationInput {
    /// Name.
    pub name: String,
    /// warehouse, cabinet, shelf or bin.
    pub kind: String,
    /// Parent location id (empty for a top-level warehouse).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Datacenter site this location is at (work orders prefer spares at
    /// the site of the work); inherited by the locations inside it.
    #[serde(default)]
    pub site_id: Option<String>,
}

/// Creates a location; returns its id.
pub async fn create(db: &Db, actor: &Actor, input: &LocationInput) -> AppResult<i64> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("name", Msg::new("validation.required"));
    }
    if !KINDS.contains(&input.kind.as_str()) {
        errors.add("kind", Msg::new("validation.required"));
    }
    let parent = input
        .parent_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse::<i64>);
    if matches!(parent, Some(Err(_))) {
        errors.add("parent_id", Msg::new("validation.required"));
    }
    let site = input
        .site_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse::<i64>);
    if matches!(site, Some(Err(_))) {
        errors.add("site_id", Msg::new("validation.required"));
    }
    errors.into_result()?;
    let parent = parent.and_then(Result::ok);
    let site = site.and_then(Result::ok);
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into stock_locations (parent_id, name, kind, site_id, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) returning id",
        )
        .bind(parent)
        .bind(name)
        .bind(&input.kind)
        .bind(site)
        .bind(now)
        .fetch_one(c)
        .await
    })
    .map_err(|e| match DbError::from(e) {
        DbError::Unique(_) => {
            let mut f = FieldErrors::default();
            f.add("name", Msg::new("validation.duplicate"));
            AppError::Validation(f)
        }
        DbError::Other(_) => {
            let mut f = FieldErrors::default();
            f.add("parent_id", Msg::new("validation.required"));
            AppError::Validation(f)
        }
        other => other.into(),
    })?;
    let after = serde_json::json!({"id": id, "name": name, "kind": input.kind, "parent_id": parent, "site_id": site});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "stock_location",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Whether a location exists.
pub async fn exists(db: &Db, id: i64) -> Result<bool, DbError> {
    let n: i64 = on_db!(db, |p| {
        sqlx::query_scalar("select count(*) from stock_locations where id = $1")
            .bind(id)
            .fetch_one(p)
            .await
    })?;
    Ok(n > 0)
}

/// Each location's parent, for walking the tree.
pub async fn parents(db: &Db) -> Result<std::collections::HashMap<i64, Option<i64>>, DbError> {
    let rows: Vec<(i64, Option<i64>)> = on_db!(db, |p| {
        sqlx::query_as("select id, parent_id from stock_locations")
            .fetch_all(p)
            .await
    })?;
    Ok(rows.into_iter().collect())
}
