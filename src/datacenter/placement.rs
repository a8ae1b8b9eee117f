//! Placing assets in racks. An asset occupies U positions `u ..= u + height - 1`
//! on one face; a full-depth device blocks both faces, a half-depth one only
//! its own. Overlaps are refused with the occupant named.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::racks;
use crate::audit::{self, Action, Actor};
use crate::db::{self, Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::health::HealthSummary;
use crate::i18n::Msg;
use crate::{exec, on};

/// Where an asset sits.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Placement {
    /// Asset id.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// Hostname.
    pub hostname: Option<String>,
    /// Asset kind (server, switch, storage, pdu, other).
    pub kind: String,
    /// Rack id.
    pub rack_id: i64,
    /// Lowest U occupied.
    pub u_position: i64,
    /// Height in U.
    pub height_u: i64,
    /// front or rear.
    pub face: String,
    /// full or half.
    pub depth: String,
    /// Nameplate watts from the asset's template.
    pub nameplate_watts: i64,
}

impl Placement {
    /// Highest U occupied.
    pub fn top_u(&self) -> i64 {
        self.u_position + self.height_u - 1
    }

    /// Whether this placement and another (same rack) would use the same space.
    pub fn collides(&self, u: i64, height: i64, face: &str, depth: &str) -> bool {
        let overlaps = u <= self.top_u() && self.u_position < u + height;
        overlaps && (self.depth == "full" || depth == "full" || self.face == face)
    }
}

const PLACEMENT_SELECT: &str = "select p.asset_id, a.asset_tag, a.hostname, a.kind, p.rack_id, p.u_position, p.height_u,
    p.face, p.depth, coalesce(t.nameplate_watts, 0) as nameplate_watts
    from placements p join assets a on a.id = p.asset_id left join build_templates t on t.id = a.template_id";

/// Everything in a rack, top first.
pub async fn in_rack(db: impl Into<Conn<'_>>, rack_id: i64) -> Result<Vec<Placement>, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("{PLACEMENT_SELECT} where p.rack_id = $1 order by p.u_position desc, p.face");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(rack_id)
    .fetch_all(p)
    .await)?)
}

/// A rack, one of its placements (none when it is empty) and that asset's
/// latest health, as the elevation reads them.
#[derive(sqlx::FromRow)]
struct ElevationRow {
    #[sqlx(flatten)]
    rack: racks::Rack,
    asset_id: Option<i64>,
    asset_tag: Option<String>,
    hostname: Option<String>,
    kind: Option<String>,
    u_position: Option<i64>,
    placed_height_u: Option<i64>,
    face: Option<String>,
    depth: Option<String>,
    nameplate_watts: Option<i64>,
    worst: Option<String>,
    power_state: Option<String>,
    power_watts: Option<i64>,
    max_temp_c: Option<f64>,
    polled_at: Option<time::OffsetDateTime>,
    failing_since: Option<time::OffsetDateTime>,
}

/// A rack, everything in it (top first) and the latest health of each asset
/// that has been polled: the elevation page's data in one statement (the
/// pages benchmark counts every round trip).
pub async fn elevation(
    db: &Db,
    rack_id: i64,
) -> Result<(racks::Rack, Vec<Placement>, HashMap<i64, HealthSummary>), DbError> {
    let sql = "select k.id, k.name, k.height_u, coalesce(k.usable_u, k.height_u) as usable_u, k.power_budget_watts, k.monthly_cost_minor, k.numbering,
           k.row_id, w.name as row_name, r.name as room_name, s.name as site_name, s.id as site_id,
           p.asset_id, a.asset_tag, a.hostname, a.kind, p.u_position, p.height_u as placed_height_u,
           p.face, p.depth, coalesce(t.nameplate_watts, 0) as nameplate_watts,
           h.worst, h.power_state, h.power_watts, h.max_temp_c, h.polled_at, b.failing_since
         from racks k join rack_rows w on w.id = k.row_id join rooms r on r.id = w.room_id
         join sites s on s.id = r.site_id
         left join placements p on p.rack_id = k.id left join assets a on a.id = p.asset_id
         left join build_templates t on t.id = a.template_id
         left join health_latest h on h.asset_id = p.asset_id left join bmcs b on b.asset_id = h.asset_id
         where k.id = $1 order by p.u_position desc, p.face";
    let rows: Vec<ElevationRow> =
        on!(db, |p| sqlx::query_as(sql).bind(rack_id).fetch_all(p).await)?;
    let rack = rows
        .first()
        .map(|r| r.rack.clone())
        .ok_or(DbError::NotFound)?;
    let mut health = HashMap::new();
    let mut placements = Vec::with_capacity(rows.len());
    for r in rows {
        let (Some(asset_id), Some(u_position), Some(height_u)) =
            (r.asset_id, r.u_position, r.placed_height_u)
        else {
            continue; // the empty rack's one row
        };
        if let (Some(worst), Some(polled_at)) = (r.worst, r.polled_at) {
            let h = HealthSummary {
                asset_id,
                worst,
                power_state: r.power_state,
                power_watts: r.power_watts,
                max_temp_c: r.max_temp_c,
                polled_at,
                failing_since: r.failing_since,
            };
            health.insert(asset_id, h);
        }
        placements.push(Placement {
            asset_id,
            asset_tag: r.asset_tag.unwrap_or_default(),
            hostname: r.hostname,
            kind: r.kind.unwrap_or_default(),
            rack_id,
            u_position,
            height_u,
            face: r.face.unwrap_or_default(),
            depth: r.depth.unwrap_or_default(),
            nameplate_watts: r.nameplate_watts.unwrap_or(0),
        });
    }
    Ok((rack, placements, health))
}

/// Where one asset sits, if placed.
pub async fn of_asset(db: &Db, asset_id: i64) -> Result<Option<Placement>, DbError> {
    let sql = format!("{PLACEMENT_SELECT} where p.asset_id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(asset_id)
    .fetch_optional(p)
    .await)?)
}

/// A placement request.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PlaceInput {
    /// Rack id.
    pub rack_id: i64,
    /// Lowest U the asset will occupy.
    pub u_position: String,
    /// front or rear.
    pub face: String,
    /// full or half.
    pub depth: String,
}

/// Checks a typed U position, face and depth; returns the U when it is a
/// whole number from 1.
pub fn check_position(u: &str, face: &str, depth: &str, errors: &mut FieldErrors) -> Option<i64> {
    let parsed = u.trim().parse::<i64>().ok().filter(|u| *u >= 1);
    if parsed.is_none() {
        errors.add(
            "u_position",
            Msg::new("validation.whole_number").arg("value", u.trim()),
        );
    }
    if !matches!(face, "front" | "rear") {
        errors.add("face", Msg::new("validation.required"));
    }
    if !matches!(depth, "full" | "half") {
        errors.add("depth", Msg::new("validation.required"));
    }
    parsed
}

/// Places (or moves) an asset; its height comes from its template (1 U
/// without one). Refuses overlaps, naming the occupant.
#[instrument(skip_all, fields(asset = asset_id))]
pub async fn place(
    db: impl Into<Conn<'_>>,
    actor: &Actor,
    asset_id: i64,
    input: &PlaceInput,
) -> AppResult<()> {
    let mut work = db::work(db).await?;
    let rack = racks::get(&mut *work, input.rack_id).await?;
    place_input(&mut work, actor, asset_id, &rack, input).await?;
    work.commit().await?;
    Ok(())
}

/// [`place`] inside the caller's transaction, from a typed request (the
/// NetBox import). Every refusal comes before the first write, so the
/// transaction stays usable.
pub async fn place_input(
    tx: &mut Tx,
    actor: &Actor,
    asset_id: i64,
    rack: &racks::Rack,
    input: &PlaceInput,
) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    let u = check_position(&input.u_position, &input.face, &input.depth, &mut errors);
    errors.into_result()?;
    let Some(u) = u else {
        return Err(AppError::NotFound);
    };
    place_at(tx, actor, asset_id, rack, u, &input.face, &input.depth).await
}

/// Places (or moves) an asset inside a transaction: the rules of [`place`],
/// for callers that apply several changes at once (work orders).
pub async fn place_at(
    tx: &mut Tx,
    actor: &Actor,
    asset_id: i64,
    rack: &racks::Rack,
    u: i64,
    face: &str,
    depth: &str,
) -> AppResult<()> {
    if let Tx::Postgres(t) = tx {
        // One placement at a time per rack, so two technicians cannot take the same U.
        sqlx::query("select id from racks where id = $1 for update")
            .bind(rack.id)
            .fetch_one(&mut **t)
            .await?;
    }
    let height: i64 = on!(tx, |c| {
        sqlx::query_scalar("select coalesce(t.height_u, 1) from assets a left join build_templates t on t.id = a.template_id where a.id = $1")
            .bind(asset_id)
            .fetch_one(c)
            .await
    })?;
    if u + height - 1 > rack.height_u {
        return Err(AppError::Conflict(
            Msg::new("placement.too_high")
                .arg("u", u)
                .arg("height", height)
                .arg("rack", rack.height_u),
        ));
    }
    let occupants = in_rack(&mut *tx, rack.id).await?;
    if let Some(o) = occupants
        .iter()
        .find(|o| o.asset_id != asset_id && o.collides(u, height, face, depth))
    {
        return Err(AppError::Conflict(
            Msg::new("placement.occupied")
                .arg("tag", &o.asset_tag)
                .arg("from", o.u_position)
                .arg("to", o.top_u())
                .arg("face", &o.face),
        ));
    }
    let now = crate::clock::now();
    exec!(tx, |c| sqlx::query(
        "delete from placements where asset_id = $1"
    )
    .bind(asset_id)
    .execute(c)
    .await)?;
    exec!(tx, |c| {
        sqlx::query(
            "insert into placements (asset_id, rack_id, u_position, height_u, face, depth, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(asset_id)
        .bind(rack.id)
        .bind(u)
        .bind(height)
        .bind(face)
        .bind(depth)
        .bind(now)
        .execute(c)
        .await
    })?;
    crate::inventory::assets::mark_racked(tx, asset_id, now).await?;
    let after = serde_json::json!({"rack": rack.path(), "u": u, "height_u": height, "face": face, "depth": depth});
    audit::record(
        tx,
        actor,
        Action::Update,
        "placement",
        asset_id,
        None,
        Some(&after),
    )
    .await?;
    Ok(())
}

/// Takes an asset out of its rack inside a caller's transaction. Returns
/// whether it was placed.
pub async fn unplace(tx: &mut Tx, actor: &Actor, asset_id: i64) -> AppResult<bool> {
    let removed = exec!(tx, |c| sqlx::query(
        "delete from placements where asset_id = $1"
    )
    .bind(asset_id)
    .execute(c)
    .await)?;
    if removed > 0 {
        audit::record(
            tx,
            actor,
            Action::Delete,
            "placement",
            asset_id,
            None::<&serde_json::Value>,
            None,
        )
        .await?;
    }
    Ok(removed > 0)
}

/// "Site / Room / Row / Rack / U7-8 / front" for a placed asset.
pub async fn locate_asset(db: &Db, asset_id: i64) -> AppResult<Option<(racks::Rack, Placement)>> {
    let Some(p) = of_asset(db, asset_id).await? else {
        return Ok(None);
    };
    Ok(Some((racks::get(db, p.rack_id).await?, p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(u: i64, h: i64, face: &str, depth: &str) -> Placement {
        Placement {
            asset_id: 1,
            asset_tag: "X".into(),
            hostname: None,
            kind: "server".into(),
            rack_id: 1,
            u_position: u,
            height_u: h,
            face: face.into(),
            depth: depth.into(),
            nameplate_watts: 0,
        }
    }

    #[test]
    fn overlapping_heights_collide_and_half_depth_faces_share_a_u() {
        let two_u = at(10, 2, "front", "full");
        assert!(
            two_u.collides(11, 1, "front", "full"),
            "U11 is inside U10-11"
        );
        assert!(two_u.collides(9, 2, "front", "half"), "U9-10 overlaps");
        assert!(!two_u.collides(12, 1, "front", "full"), "U12 is free");
        assert!(
            two_u.collides(10, 1, "rear", "half"),
            "a full-depth device blocks the rear too"
        );
        let half_front = at(20, 1, "front", "half");
        assert!(
            !half_front.collides(20, 1, "rear", "half"),
            "two half-depth devices back to back"
        );
        assert!(
            half_front.collides(20, 1, "front", "half"),
            "same face, same U"
        );
        assert!(
            half_front.collides(20, 1, "rear", "full"),
            "a full-depth device needs both faces"
        );
    }
}
