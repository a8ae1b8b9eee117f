//! What the ids in audit snapshots point to, by name, for the history tab:
//! one query per kind of record for a whole page of rows, never one per row.

use std::collections::{BTreeSet, HashMap};

use crate::db::{Db, DbError};
use crate::on;

/// The kind of record an id in a snapshot points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ref {
    /// `units`: its serial and part model.
    Unit,
    /// `build_templates`: its name.
    Template,
    /// `part_models`: manufacturer and MPN.
    PartModel,
    /// `stock_locations`: its path.
    Location,
    /// `sites`: its name.
    Site,
    /// `rooms`: site / room.
    Room,
    /// `rack_rows`: site / room / row.
    Row,
    /// `racks`: site / room / row / rack.
    Rack,
    /// `suppliers`: its name.
    Supplier,
    /// `assets`: its asset tag.
    Asset,
    /// `purchase_orders`: its number.
    Order,
    /// `users`: the user name.
    User,
    /// `work_orders`: its title.
    WorkOrder,
    /// `po_lines`: its order's number and line number.
    OrderLine,
    /// `rmas`: the serial of the unit sent back.
    Rma,
}

impl Ref {
    /// `select id, name ... where <id column> in` for this kind; `None` for
    /// locations, whose path comes from the inventory.
    fn select(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Ref::Unit => (
                "select u.id, u.serial || ' · ' || p.manufacturer || ' ' || p.mpn
                 from units u join part_models p on p.id = u.part_model_id",
                "u.id",
            ),
            Ref::Template => ("select id, name from build_templates", "id"),
            Ref::PartModel => (
                "select id, manufacturer || ' ' || mpn from part_models",
                "id",
            ),
            Ref::Location => return None,
            Ref::Site => ("select id, name from sites", "id"),
            Ref::Room => (
                "select r.id, s.name || ' / ' || r.name from rooms r join sites s on s.id = r.site_id",
                "r.id",
            ),
            Ref::Row => (
                "select w.id, s.name || ' / ' || r.name || ' / ' || w.name
                 from rack_rows w join rooms r on r.id = w.room_id join sites s on s.id = r.site_id",
                "w.id",
            ),
            Ref::Rack => (
                "select k.id, s.name || ' / ' || r.name || ' / ' || w.name || ' / ' || k.name
                 from racks k join rack_rows w on w.id = k.row_id
                 join rooms r on r.id = w.room_id join sites s on s.id = r.site_id",
                "k.id",
            ),
            Ref::Supplier => ("select id, name from suppliers", "id"),
            Ref::Asset => ("select id, asset_tag from assets", "id"),
            Ref::Order => ("select id, number from purchase_orders", "id"),
            Ref::User => ("select id, username from users", "id"),
            Ref::WorkOrder => ("select id, title from work_orders", "id"),
            Ref::OrderLine => (
                "select l.id, p.number || ' · ' || cast(l.line_no as text)
                 from po_lines l join purchase_orders p on p.id = l.po_id",
                "l.id",
            ),
            Ref::Rma => (
                "select r.id, u.serial from rmas r join units u on u.id = r.unit_id",
                "r.id",
            ),
        })
    }
}

/// Ids looked up per statement, so a giant page cannot build a giant query.
const CHUNK: usize = 500;

/// The names of `refs`, by kind and id; records that no longer exist are
/// left out (the caller shows their id).
pub async fn names(
    db: &Db,
    refs: &BTreeSet<(Ref, i64)>,
) -> Result<HashMap<(Ref, i64), String>, DbError> {
    let mut out = HashMap::new();
    let mut by_kind: HashMap<Ref, Vec<i64>> = HashMap::new();
    for (kind, id) in refs {
        by_kind.entry(*kind).or_default().push(*id);
    }
    for (kind, ids) in by_kind {
        let Some((select, column)) = kind.select() else {
            let wanted: BTreeSet<i64> = ids.into_iter().collect();
            for l in crate::inventory::locations::list(db).await? {
                if wanted.contains(&l.id) {
                    out.insert((kind, l.id), l.path);
                }
            }
            continue;
        };
        for chunk in ids.chunks(CHUNK) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("{select} where {column} in ({marks})");
            let rows: Vec<(i64, String)> = on!(db, |p| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows.into_iter().map(|(id, name)| ((kind, id), name)));
        }
    }
    Ok(out)
}
