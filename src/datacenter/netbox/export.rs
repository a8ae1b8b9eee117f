//! Our sites, rooms and rows, racks, templates and assets as NetBox CSV files.

use super::{FILES, slugify, status_to_netbox};
use crate::datacenter::racks;
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult};
use crate::inventory::templates;
use crate::on;

/// NetBox needs a manufacturer for every device type.
const NO_MANUFACTURER: &str = "Generic";

fn manufacturer(m: &str) -> String {
    if m.is_empty() {
        NO_MANUFACTURER.to_owned()
    } else {
        m.to_owned()
    }
}

/// `file` (`sites`, `locations`, `device_types`, `racks` or `devices`) as
/// CSV: NetBox's columns, no BOM (NetBox would read it into the first
/// header), formula-like cells neutralised. `None` for another name.
pub async fn export_csv(db: &Db, file: &str) -> AppResult<Option<Vec<u8>>> {
    let Some((_, columns)) = FILES.iter().find(|(name, _)| *name == file) else {
        return Ok(None);
    };
    let mut rows = match file {
        "sites" => sites(db).await?,
        "locations" => locations(db).await?,
        "device_types" => device_types(db).await?,
        "racks" => rack_rows(db).await?,
        _ => devices(db).await?,
    };
    rows.sort();
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(columns.iter())
            .map_err(|e| AppError::Internal(e.into()))?;
        for row in &rows {
            w.write_record(row.iter().map(|c| crate::export::neutralise(c)))
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        w.flush().map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(Some(out))
}

async fn sites(db: &Db) -> Result<Vec<Vec<String>>, DbError> {
    let names: Vec<String> = on!(db, |p| sqlx::query_scalar("select name from sites")
        .fetch_all(p)
        .await)?;
    Ok(names
        .into_iter()
        .map(|n| {
            let slug = slugify(&n);
            vec![n, slug, "active".into()]
        })
        .collect())
}

/// Rooms (no parent) sort before rows (parent = room): `site`, then an
/// empty parent first.
async fn locations(db: &Db) -> Result<Vec<Vec<String>>, DbError> {
    let rooms: Vec<(String, String)> = on!(db, |p| sqlx::query_as(
        "select s.name, r.name from rooms r join sites s on s.id = r.site_id"
    )
    .fetch_all(p)
    .await)?;
    let rows: Vec<(String, String, String)> = on!(db, |p| {
        sqlx::query_as(
        "select s.name, r.name, w.name from rack_rows w join rooms r on r.id = w.room_id join sites s on s.id = r.site_id"
    )
    .fetch_all(p)
    .await
    })?;
    let place = |site: String, parent: String, name: String| {
        let slug = slugify(&format!("{parent} {name}"));
        vec![site, parent, name, slug, "active".into()]
    };
    Ok(rooms
        .into_iter()
        .map(|(s, r)| place(s, String::new(), r))
        .chain(rows.into_iter().map(|(s, r, w)| place(s, r, w)))
        .collect())
}

async fn device_types(db: &Db) -> Result<Vec<Vec<String>>, DbError> {
    Ok(templates::device_types(db)
        .await?
        .into_iter()
        .map(|t| {
            vec![
                manufacturer(&t.manufacturer),
                t.name.clone(),
                slugify(&t.name),
                t.height_u.to_string(),
            ]
        })
        .collect())
}

async fn rack_rows(db: &Db) -> Result<Vec<Vec<String>>, DbError> {
    Ok(racks::list(db)
        .await?
        .into_iter()
        .map(|k| {
            vec![
                k.site_name,
                k.row_name,
                k.name,
                "active".into(),
                "19".into(),
                k.height_u.to_string(),
                (k.numbering == "top_down").to_string(),
            ]
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    asset_tag: String,
    hostname: Option<String>,
    kind: String,
    status: String,
    serial: Option<String>,
    template_name: Option<String>,
    manufacturer: Option<String>,
    site: Option<String>,
    row_name: Option<String>,
    rack: Option<String>,
    u_position: Option<i64>,
    face: Option<String>,
}

async fn devices(db: &Db) -> Result<Vec<Vec<String>>, DbError> {
    let rows: Vec<DeviceRow> = on!(db, |p| {
        sqlx::query_as(
            "select a.asset_tag, a.hostname, a.kind, a.status,
                    coalesce(a.serial, (select u.serial from units u join part_models m on m.id = u.part_model_id
                        where u.asset_id = a.id and u.status = 'installed' and m.category = 'chassis'
                        order by u.id limit 1)) as serial,
                    t.name as template_name, t.manufacturer,
                    s.name as site, w.name as row_name, k.name as rack, p.u_position, p.face
             from assets a left join build_templates t on t.id = a.template_id
             left join placements p on p.asset_id = a.id left join racks k on k.id = p.rack_id
             left join rack_rows w on w.id = k.row_id left join rooms r on r.id = w.room_id
             left join sites s on s.id = r.site_id",
        )
        .fetch_all(p)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let manufacturer = d.manufacturer.as_deref().map(manufacturer);
            vec![
                d.hostname.unwrap_or_default(),
                d.kind,
                manufacturer.unwrap_or_default(),
                d.template_name.unwrap_or_default(),
                status_to_netbox(&d.status).to_owned(),
                d.site.unwrap_or_default(),
                d.row_name.unwrap_or_default(),
                d.rack.unwrap_or_default(),
                d.u_position.map(|u| u.to_string()).unwrap_or_default(),
                d.face.unwrap_or_default(),
                d.serial.unwrap_or_default(),
                d.asset_tag,
            ]
        })
        .collect())
}
