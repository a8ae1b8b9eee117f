//! Stock locations: a tree of warehouse / cabinet / shelf / bin.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::audit::{self, Action, Actor};
use crate::db::{Conn, Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::{exec, on};

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
    let tree = LocationTree::load(db).await?;
    let mut out: Vec<LocationView> = tree
        .nodes
        .values()
        .map(|n| LocationView {
            id: n.location.id,
            kind: n.location.kind.clone(),
            path: tree.path(n.location.id).unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
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
    let id: i64 = on!(&mut tx, |c| {
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

/// Puts a location at a datacenter site (the locations inside it inherit it).
pub async fn set_site(db: &Db, actor: &Actor, id: i64, site_id: Option<i64>) -> AppResult<()> {
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let before: Option<Option<i64>> = on!(&mut tx, |c| {
        sqlx::query_scalar("select site_id from stock_locations where id = $1")
            .bind(id)
            .fetch_optional(c)
            .await
    })?;
    let Some(before) = before else {
        return Err(AppError::NotFound);
    };
    exec!(&mut tx, |c| {
        sqlx::query("update stock_locations set site_id = $1, updated_at = $2 where id = $3")
            .bind(site_id)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "stock_location",
        id,
        Some(&serde_json::json!({ "site_id": before })),
        Some(&serde_json::json!({ "site_id": site_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a location exists.
pub async fn exists(db: impl Into<Conn<'_>>, id: i64) -> Result<bool, DbError> {
    let mut db: Conn<'_> = db.into();
    let n: i64 = on!(db, |p| {
        sqlx::query_scalar("select count(*) from stock_locations where id = $1")
            .bind(id)
            .fetch_one(p)
            .await
    })?;
    Ok(n > 0)
}

/// How many locations a walk up the tree passes at most (the start
/// included): a guard against a parent chain written by hand in the
/// database, deeper than any real one.
const MAX_DEPTH: usize = 32;

/// A location as the tree holds it, with the site set on it (not inherited).
#[derive(sqlx::FromRow)]
struct Node {
    #[sqlx(flatten)]
    location: Location,
    site_id: Option<i64>,
    site: Option<String>,
}

/// Every stock location, loaded once, for walking the tree: paths, the site
/// a location is at, and the locations inside one. Each walk stops at a
/// location it has passed already, so a cycle written by hand in the
/// database ends it rather than looping.
pub struct LocationTree {
    nodes: HashMap<i64, Node>,
    children: HashMap<i64, Vec<i64>>,
}

impl LocationTree {
    /// Reads every location and the name of the site set on it.
    pub async fn load(db: &Db) -> Result<LocationTree, DbError> {
        let rows: Vec<Node> = on!(db, |p| {
            sqlx::query_as(
                "select l.id, l.parent_id, l.name, l.kind, l.site_id, s.name as site
                 from stock_locations l left join sites s on s.id = l.site_id",
            )
            .fetch_all(p)
            .await
        })?;
        Ok(LocationTree::from_nodes(rows))
    }

    fn from_nodes(rows: Vec<Node>) -> LocationTree {
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        for n in &rows {
            if let Some(p) = n.location.parent_id {
                children.entry(p).or_default().push(n.location.id);
            }
        }
        let nodes = rows.into_iter().map(|n| (n.location.id, n)).collect();
        LocationTree { nodes, children }
    }

    /// Every location's id, in no order.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.nodes.keys().copied()
    }

    /// `id` and then each of its parents in turn, up to the root: at most
    /// [`MAX_DEPTH`] ids, none twice (a cycle ends the walk), and none past
    /// an id that is not a location.
    fn up_from(&self, id: i64) -> Vec<i64> {
        let mut chain = vec![id];
        let mut next = self.nodes.get(&id).and_then(|n| n.location.parent_id);
        while let Some(p) = next {
            if chain.len() >= MAX_DEPTH || chain.contains(&p) {
                break;
            }
            chain.push(p);
            next = self.nodes.get(&p).and_then(|n| n.location.parent_id);
        }
        chain
    }

    /// A location's path, names from the root down joined by " / "
    /// (`Seoul DC1 / Cage 3 / Shelf A`); `None` for an unknown id.
    pub fn path(&self, id: i64) -> Option<String> {
        self.nodes.get(&id)?;
        let mut names: Vec<&str> = self
            .up_from(id)
            .iter()
            .filter_map(|i| self.nodes.get(i))
            .map(|n| n.location.name.as_str())
            .collect();
        names.reverse();
        Some(names.join(" / "))
    }

    /// The datacenter site a location is at: its own, else its nearest
    /// ancestor's; as the site's id and name.
    pub fn site_of(&self, id: i64) -> Option<(i64, Option<&str>)> {
        self.up_from(id).iter().find_map(|i| {
            let n = self.nodes.get(i)?;
            n.site_id.map(|s| (s, n.site.as_deref()))
        })
    }

    /// Whether `id` is `root` or inside it.
    pub fn is_within(&self, id: i64, root: i64) -> bool {
        self.up_from(id).contains(&root)
    }

    /// `root` and every location inside it, at any depth.
    pub fn descendants(&self, root: i64) -> BTreeSet<i64> {
        let mut inside = BTreeSet::from([root]);
        let mut todo = vec![root];
        while let Some(id) = todo.pop() {
            for &child in self.children.get(&id).into_iter().flatten() {
                // A location met before (a cycle) is not walked again.
                if inside.insert(child) {
                    todo.push(child);
                }
            }
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree from (id, parent, name, site).
    fn tree(rows: &[(i64, Option<i64>, &str, Option<i64>)]) -> LocationTree {
        LocationTree::from_nodes(
            rows.iter()
                .map(|&(id, parent_id, name, site_id)| Node {
                    location: Location {
                        id,
                        parent_id,
                        name: name.to_owned(),
                        kind: "shelf".to_owned(),
                    },
                    site_id,
                    site: site_id.map(|s| format!("Site {s}")),
                })
                .collect(),
        )
    }

    #[test]
    fn a_path_runs_from_the_root_down_and_an_unknown_location_has_none() {
        let t = tree(&[
            (1, None, "Seoul DC1", None),
            (2, Some(1), "Cage 3", None),
            (3, Some(2), "Shelf A", None),
        ]);
        assert_eq!(t.path(3).as_deref(), Some("Seoul DC1 / Cage 3 / Shelf A"));
        assert_eq!(t.path(1).as_deref(), Some("Seoul DC1"));
        assert_eq!(t.path(9), None);
    }

    #[test]
    fn a_location_is_at_its_own_site_else_its_nearest_ancestors() {
        let t = tree(&[
            (1, None, "Seoul", Some(10)),
            (2, Some(1), "Cage 3", None),
            (3, Some(2), "Shelf A", None),
            (4, Some(2), "Shelf B", Some(20)),
            (5, None, "Depot", None),
            (6, Some(5), "Bin", None),
        ]);
        assert_eq!(t.site_of(3), Some((10, Some("Site 10"))));
        assert_eq!(t.site_of(4), Some((20, Some("Site 20"))));
        assert_eq!(t.site_of(6), None);
        assert_eq!(t.site_of(9), None);
    }

    #[test]
    fn a_location_is_within_itself_and_its_ancestors_only() {
        let t = tree(&[
            (1, None, "a", None),
            (2, Some(1), "b", None),
            (3, Some(2), "c", None),
            (4, None, "d", None),
        ]);
        assert!(t.is_within(3, 1));
        assert!(t.is_within(2, 2));
        assert!(!t.is_within(1, 3));
        assert!(!t.is_within(4, 1));
        assert_eq!(t.descendants(2), BTreeSet::from([2, 3]));
        assert_eq!(t.descendants(1), BTreeSet::from([1, 2, 3]));
        assert_eq!(t.descendants(9), BTreeSet::from([9]));
    }

    #[test]
    fn a_cycle_written_in_the_database_ends_every_walk() {
        // 1 -> 2 -> 3 -> 1, and 4 hangs below the loop.
        let t = tree(&[
            (1, Some(3), "a", None),
            (2, Some(1), "b", None),
            (3, Some(2), "c", None),
            (4, Some(3), "d", None),
        ]);
        assert_eq!(t.path(4).as_deref(), Some("a / b / c / d"));
        assert_eq!(t.site_of(4), None);
        assert!(!t.is_within(4, 9));
        assert_eq!(t.descendants(1), BTreeSet::from([1, 2, 3, 4]));
    }

    #[test]
    fn a_chain_deeper_than_the_bound_gives_a_bounded_path() {
        let rows: Vec<(i64, Option<i64>, &str, Option<i64>)> = (0..1000)
            .map(|i| (i, (i > 0).then(|| i - 1), "x", (i == 0).then_some(7)))
            .collect();
        let t = tree(&rows);
        assert_eq!(t.path(999).map(|p| p.split(" / ").count()), Some(MAX_DEPTH));
        assert_eq!(t.site_of(999), None);
        assert_eq!(t.site_of(5), Some((7, Some("Site 7"))));
        assert_eq!(t.descendants(0).len(), 1000);
    }
}
