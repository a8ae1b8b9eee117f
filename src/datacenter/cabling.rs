//! Ports of assets and the cables between them. A port holds at most one cable;
//! the database enforces it with a unique cable end per port.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Action, Actor};
use crate::db::{self, Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::templates;
use crate::{exec, on};

/// Creates an asset's ports from its template's port lines.
pub async fn create_ports(tx: &mut Tx, asset_id: i64, port_lines: &str) -> AppResult<()> {
    let ports = templates::parse_port_lines(port_lines).map_err(AppError::Conflict)?;
    let now = crate::clock::now();
    for (name, speed) in ports {
        exec!(tx, |c| {
            sqlx::query("insert into ports (asset_id, name, speed, created_at, updated_at) values ($1, $2, $3, $4, $4)")
                .bind(asset_id)
                .bind(&name)
                .bind(&speed)
                .bind(now)
                .execute(c)
                .await
        })?;
    }
    Ok(())
}

/// A port and, if cabled, what is at the other end.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PortRow {
    /// Port id.
    pub id: i64,
    /// Port name (`swp12`).
    pub name: String,
    /// Speed as written (`25G`).
    pub speed: String,
    /// Cable id, if cabled.
    pub cable_id: Option<i64>,
    /// Asset at the other end.
    pub peer_asset_id: Option<i64>,
    /// Its tag.
    pub peer_asset_tag: Option<String>,
    /// Its port.
    pub peer_port: Option<String>,
}

/// An asset's ports with their peers: the port map of a switch, the
/// connections of a server.
pub async fn ports_of(db: &Db, asset_id: i64) -> Result<Vec<PortRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select p.id, p.name, p.speed, e.cable_id, pa.id as peer_asset_id, pa.asset_tag as peer_asset_tag, pp.name as peer_port
             from ports p
             left join cable_ends e on e.port_id = p.id
             left join cable_ends pe on pe.cable_id = e.cable_id and pe.port_id <> p.id
             left join ports pp on pp.id = pe.port_id
             left join assets pa on pa.id = pp.asset_id
             where p.asset_id = $1 order by p.id",
        )
        .bind(asset_id)
        .fetch_all(p)
        .await
    })?)
}

/// A cable to lay from one of an asset's ports to another asset's port.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CableInput {
    /// Port id on this asset.
    pub port_id: i64,
    /// Asset tag at the other end.
    pub peer_asset_tag: String,
    /// Port name at the other end.
    pub peer_port: String,
    /// Label printed on the cable.
    #[serde(default)]
    pub label: String,
}

async fn port_owner(tx: &mut Tx, port_id: i64) -> AppResult<(String, String)> {
    Ok(on!(tx, |c| {
        sqlx::query_as("select a.asset_tag, p.name from ports p join assets a on a.id = p.asset_id where p.id = $1")
            .bind(port_id)
            .fetch_one(c)
            .await
    })?)
}

/// The port named `$2` of the asset tagged `$1` (either case).
fn port_by_tag_sql(tx: &Tx) -> String {
    let c = tx.collate_c();
    format!(
        "select p.id from ports p join assets a on a.id = p.asset_id where lower(a.asset_tag) = lower($1{c}) and p.name = $2"
    )
}

/// The asset a port belongs to.
pub async fn asset_of_port(db: &Db, port_id: i64) -> Result<i64, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_scalar("select asset_id from ports where id = $1")
            .bind(port_id)
            .fetch_one(p)
            .await
    })?)
}

/// The asset whose port holds a cable's first end, if the cable exists.
pub async fn asset_of_cable(db: &Db, cable_id: i64) -> Result<Option<i64>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_scalar(
            "select p.asset_id from cable_ends e join ports p on p.id = e.port_id where e.cable_id = $1 order by e.id limit 1",
        )
        .bind(cable_id)
        .fetch_optional(p)
        .await
    })?)
}

/// Lays a cable between two ports; refuses a port that already has one,
/// naming what it is connected to.
pub async fn connect(db: &Db, actor: &Actor, input: &CableInput) -> AppResult<i64> {
    let mut tx = db.begin().await?;
    let sql = port_by_tag_sql(&tx);
    let peer: Option<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(input.peer_asset_tag.trim())
            .bind(input.peer_port.trim())
            .fetch_optional(c)
            .await
    })?;
    let Some(peer) = peer else {
        let mut f = FieldErrors::default();
        f.add(
            "peer_port",
            Msg::new("cables.no_port")
                .arg("tag", input.peer_asset_tag.trim())
                .arg("port", input.peer_port.trim()),
        );
        return Err(AppError::Validation(f));
    };
    if peer == input.port_id {
        return Err(AppError::Conflict(Msg::new("cables.same_port")));
    }
    for port in [input.port_id, peer] {
        let taken: i64 = on!(&mut tx, |c| {
            sqlx::query_scalar("select count(*) from cable_ends where port_id = $1")
                .bind(port)
                .fetch_one(c)
                .await
        })?;
        if taken > 0 {
            let (tag, name) = port_owner(&mut tx, port).await?;
            return Err(AppError::Conflict(
                Msg::new("cables.port_taken")
                    .arg("tag", tag)
                    .arg("port", name),
            ));
        }
    }
    let now = crate::clock::now();
    let cable: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into cables (label, created_at, updated_at) values ($1, $2, $2) returning id",
        )
        .bind(input.label.trim())
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    for port in [input.port_id, peer] {
        let inserted = exec!(&mut tx, |c| {
            sqlx::query("insert into cable_ends (cable_id, port_id, created_at, updated_at) values ($1, $2, $3, $3)")
                .bind(cable)
                .bind(port)
                .bind(now)
                .execute(c)
                .await
        });
        // The unique cable end per port is the last guard if two requests race.
        inserted.map_err(|e| match DbError::from(e) {
            DbError::Unique(_) => AppError::Conflict(
                Msg::new("cables.port_taken")
                    .arg("tag", "")
                    .arg("port", port),
            ),
            other => other.into(),
        })?;
    }
    let (a_tag, a_port) = port_owner(&mut tx, input.port_id).await?;
    let after = serde_json::json!({"a": format!("{a_tag} {a_port}"), "b": format!("{} {}", input.peer_asset_tag.trim(), input.peer_port.trim()), "label": input.label.trim()});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "cable",
        cable,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(cable)
}

/// The two ends of a cable, as "TAG port" each, for the audit log.
async fn cable_ends_text(tx: &mut Tx, cable_id: i64) -> AppResult<Vec<String>> {
    let ends: Vec<(String, String)> = on!(tx, |c| {
        sqlx::query_as(
            "select a.asset_tag, p.name from cable_ends e join ports p on p.id = e.port_id
             join assets a on a.id = p.asset_id where e.cable_id = $1 order by e.id",
        )
        .bind(cable_id)
        .fetch_all(c)
        .await
    })?;
    Ok(ends.into_iter().map(|(t, p)| format!("{t} {p}")).collect())
}

/// Removes a cable; both its ports become free.
pub async fn disconnect(db: impl Into<Conn<'_>>, actor: &Actor, cable_id: i64) -> AppResult<()> {
    let mut work = db::work(db).await?;
    let tx: &mut Tx = &mut work;
    let ends = cable_ends_text(tx, cable_id).await?;
    let deleted = exec!(tx, |c| sqlx::query("delete from cables where id = $1")
        .bind(cable_id)
        .execute(c)
        .await)?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    let before = serde_json::json!({ "ends": ends });
    audit::record(
        tx,
        actor,
        Action::Delete,
        "cable",
        cable_id,
        Some(&before),
        None,
    )
    .await?;
    work.commit().await?;
    Ok(())
}

/// Removes every cable on an asset's ports (an asset leaving its rack).
pub async fn disconnect_asset(tx: &mut Tx, actor: &Actor, asset_id: i64) -> AppResult<usize> {
    let cables: Vec<i64> = on!(tx, |c| {
        sqlx::query_scalar(
            "select distinct e.cable_id from cable_ends e join ports p on p.id = e.port_id where p.asset_id = $1",
        )
        .bind(asset_id)
        .fetch_all(c)
        .await
    })?;
    for cable in &cables {
        disconnect(&mut *tx, actor, *cable).await?;
    }
    Ok(cables.len())
}

/// Moving one end of a cable to another port.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MoveEndInput {
    /// The port the end is on now.
    pub from_port_id: i64,
    /// Asset tag of the new port.
    pub to_asset_tag: String,
    /// Name of the new port.
    pub to_port: String,
}

/// Moves one end of a cable to a free port, keeping the other end and the
/// cable's label.
pub async fn move_end(
    db: &Db,
    actor: &Actor,
    cable_id: i64,
    input: &MoveEndInput,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = cable_ends_text(&mut tx, cable_id).await?;
    if before.is_empty() {
        return Err(AppError::NotFound);
    }
    let sql = port_by_tag_sql(&tx);
    let target: Option<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(input.to_asset_tag.trim())
            .bind(input.to_port.trim())
            .fetch_optional(c)
            .await
    })?;
    let Some(target) = target else {
        let mut f = FieldErrors::default();
        f.add(
            "to_port",
            Msg::new("cables.no_port")
                .arg("tag", input.to_asset_tag.trim())
                .arg("port", input.to_port.trim()),
        );
        return Err(AppError::Validation(f));
    };
    let taken: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar("select count(*) from cable_ends where port_id = $1")
            .bind(target)
            .fetch_one(c)
            .await
    })?;
    if taken > 0 {
        let (tag, name) = port_owner(&mut tx, target).await?;
        return Err(AppError::Conflict(
            Msg::new("cables.port_taken")
                .arg("tag", tag)
                .arg("port", name),
        ));
    }
    let now = crate::clock::now();
    let moved = exec!(&mut tx, |c| {
        sqlx::query("update cable_ends set port_id = $1, updated_at = $2 where cable_id = $3 and port_id = $4")
            .bind(target)
            .bind(now)
            .bind(cable_id)
            .bind(input.from_port_id)
            .execute(c)
            .await
    })?;
    if moved != 1 {
        return Err(AppError::NotFound);
    }
    let after = cable_ends_text(&mut tx, cable_id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "cable",
        cable_id,
        Some(&serde_json::json!({ "ends": before })),
        Some(&serde_json::json!({ "ends": after })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
