//! Ports of assets and the cables between them. A port holds at most one cable;
//! the database enforces it with a unique cable end per port.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::templates;
use crate::{exec_tx, on_db, on_tx};

/// Creates an asset's ports from its template's port lines.
pub async fn create_ports(tx: &mut Tx, asset_id: i64, port_lines: &str) -> AppResult<()> {
    let ports = templates::parse_port_lines(port_lines).map_err(AppError::Conflict)?;
    let now = crate::clock::now();
    for (name, speed) in ports {
        exec_tx!(tx, |c| {
            sqlx::query("insert into ports (asset_id, name, speed, created_at, updated_at) values ($1, $2, $3, $4, $4)")
                .bind(asset_id)
                .bind(&name)
                .bind(&speed)
                .bind(now)
                .execute(c)
                .await
        })
        .map_err(DbError::from)?;
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
    Ok(on_db!(db, |p| {
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
    Ok(on_tx!(tx, |c| {
        sqlx::query_as("select a.asset_tag, p.name from ports p join assets a on a.id = p.asset_id where p.id = $1")
            .bind(port_id)
            .fetch_one(c)
            .await
    })
    .map_err(DbError::from)?)
}

/// Lays a cable between two ports; refuses a port that already has one,
/// naming what it is connected to.
pub async fn connect(db: &Db, actor: &Actor, input: &CableInput) -> AppResult<i64> {
    let mut tx = db.begin().await?;
    let peer: Option<i64> = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "select p.id from ports p join assets a on a.id = p.asset_id where lower(a.asset_tag) = lower($1) and p.name = $2",
        )
        .bind(input.peer_asset_tag.trim())
        .bind(input.peer_port.trim())
        .fetch_optional(c)
        .await
    })
    .map_err(DbError::from)?;
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
        let taken: i64 = on_tx!(&mut tx, |c| {
            sqlx::query_scalar("select count(*) from cable_ends where port_id = $1")
                .bind(port)
                .fetch_one(c)
                .await
        })
        .map_err(DbError::from)?;
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
    let cable: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into cables (label, created_at, updated_at) values ($1, $2, $2) returning id",
        )
        .bind(input.label.trim())
        .bind(now)
        .fetch_one(c)
        .await
    })
    .map_err(DbError::from)?;
    for port in [input.port_id, peer] {
        let inserted = exec_tx!(&mut tx, |c| {
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
