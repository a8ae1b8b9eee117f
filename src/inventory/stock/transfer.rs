//! Stock transfers: pick the destination, scan or paste many serials, see
//! what will move (with a problem per serial), then move them all or none.
//! Each unit moved is one `transfer` movement in the ledger, from its
//! location to the destination, and one audit record.
//!
//! A serial moves when its unit is in stock or faulty on a shelf. One listed
//! twice moves once, and one already at the destination stays: both are
//! noted, not refused. An unknown serial, an installed, reserved, returned or
//! scrapped unit, or a serial two units share in different cases, is a
//! problem, and nothing moves while any is left. A move to a location of
//! another site is allowed, and said beside the serial.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::audit::{self, Action, Actor};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::locations::LocationTree;
use crate::inventory::units::{self, Candidate, Movement, Serial, UnitStatus, serial_key};

/// Most serials one transfer takes: a bigger paste is refused whole, naming
/// the count, so nothing is moved in part.
pub const MAX_SERIALS: usize = 1000;

/// What the transfer form and the API send.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TransferInput {
    /// Destination stock location id (the form's choice; empty until chosen).
    #[serde(default)]
    pub to_location_id: String,
    /// Serials, one per line (also commas or tabs), as scanned or pasted.
    #[serde(default)]
    pub serials: String,
}

/// One listed serial and what the transfer does with it.
#[derive(Clone, Debug)]
pub struct Line {
    /// The serial as listed.
    pub serial: String,
    /// The unit it names, if one.
    pub unit: Option<Candidate>,
    /// Where the unit is now (path), if on a shelf.
    pub from: Option<String>,
    /// Whether this line moves a unit.
    pub moves: bool,
    /// Why it cannot move (nothing moves while any line has one).
    pub problem: Option<Msg>,
    /// Something to know that does not stop the transfer.
    pub note: Option<Msg>,
}

/// What a transfer will do, serial by serial.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Destination id.
    pub to_id: i64,
    /// Destination path.
    pub to: String,
    /// Every listed serial, in the order given.
    pub lines: Vec<Line>,
}

impl Plan {
    /// Units that will move.
    pub fn moving(&self) -> usize {
        self.lines.iter().filter(|l| l.moves).count()
    }

    /// Lines with a problem.
    pub fn problems(&self) -> usize {
        self.lines.iter().filter(|l| l.problem.is_some()).count()
    }
}

/// The destination and the listed serials, checked for shape: a chosen
/// location that exists, at least one serial, at most [`MAX_SERIALS`].
fn parse(input: &TransferInput, tree: &LocationTree) -> AppResult<(i64, Vec<String>)> {
    let mut errors = FieldErrors::default();
    let to = input.to_location_id.trim().parse::<i64>().ok();
    match to {
        None => errors.add("to_location_id", Msg::new("transfer.choose_location")),
        Some(id) if tree.path(id).is_none() => {
            errors.add("to_location_id", Msg::new("transfer.choose_location"))
        }
        Some(_) => {}
    }
    let serials = crate::procurement::receiving::split_serials(&input.serials);
    if serials.is_empty() {
        errors.add("serials", Msg::new("validation.required"));
    } else if serials.len() > MAX_SERIALS {
        errors.add(
            "serials",
            Msg::new("transfer.too_many")
                .arg("count", serials.len())
                .arg("max", MAX_SERIALS),
        );
    }
    match to {
        Some(to) if errors.is_empty() => Ok((to, serials)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// What a transfer of `input` would do now, without changing anything.
pub async fn preview(db: &Db, input: &TransferInput) -> AppResult<Plan> {
    let tree = LocationTree::load(db).await?;
    let (to, serials) = parse(input, &tree)?;
    let mut tx = db.begin_read().await?;
    let plan = plan(&mut tx, &tree, to, serials).await?;
    tx.rollback().await?;
    Ok(plan)
}

async fn plan(tx: &mut Tx, tree: &LocationTree, to: i64, serials: Vec<String>) -> AppResult<Plan> {
    let keys: Vec<String> = {
        let mut k: Vec<String> = serials.iter().map(|s| serial_key(s)).collect();
        k.sort();
        k.dedup();
        k
    };
    let mut by_key: HashMap<String, Vec<Candidate>> = HashMap::new();
    for c in units::candidates(tx.conn(), &keys).await? {
        by_key.entry(serial_key(&c.serial)).or_default().push(c);
    }
    let to_site = tree.site_of(to).map(|(id, _)| id);
    let mut seen: HashSet<String> = HashSet::new();
    let mut lines = Vec::with_capacity(serials.len());
    for serial in serials {
        let key = serial_key(&serial);
        let mut line = Line {
            serial: serial.clone(),
            unit: None,
            from: None,
            moves: false,
            problem: None,
            note: None,
        };
        if let Err(bad) = Serial::parse(&serial) {
            line.problem = Some(bad.msg(&serial));
            lines.push(line);
            continue;
        }
        if !seen.insert(key.clone()) {
            line.note = Some(Msg::new("transfer.twice"));
            lines.push(line);
            continue;
        }
        let found = by_key.get(&key).map(Vec::as_slice).unwrap_or_default();
        // Two units answer only when two makers, or two spellings, share the
        // serial: the one spelled exactly as listed is meant, else ask.
        let exact: Vec<&Candidate> = found.iter().filter(|c| c.serial == serial).collect();
        let unit = match (found, exact.as_slice()) {
            ([], _) => None,
            ([only], _) | (_, &[only]) => Some(only.clone()),
            (many, _) => {
                line.problem = Some(Msg::new("transfer.ambiguous").arg("count", many.len()));
                lines.push(line);
                continue;
            }
        };
        let Some(unit) = unit else {
            line.problem = Some(Msg::new("transfer.unknown"));
            lines.push(line);
            continue;
        };
        line.from = unit.location_id.and_then(|l| tree.path(l));
        line.problem = match (unit.status, unit.location_id) {
            (UnitStatus::InStock | UnitStatus::Faulty, Some(_)) => None,
            (UnitStatus::Installed, _) => Some(
                Msg::new("transfer.installed")
                    .arg("asset", unit.asset_tag.clone().unwrap_or_default()),
            ),
            (UnitStatus::Reserved, _) => Some(Msg::new("transfer.reserved")),
            (status, _) => {
                Some(Msg::new("transfer.status").arg_code("status", "unit_status", status.as_str()))
            }
        };
        if line.problem.is_none() {
            let from = unit.location_id;
            if from == Some(to) {
                line.note = Some(Msg::new("transfer.already_there"));
            } else {
                line.moves = true;
                let from_site = from.and_then(|l| tree.site_of(l));
                if from_site.map(|(id, _)| id) != to_site {
                    let name = from_site.and_then(|(_, n)| n).unwrap_or("—");
                    line.note = Some(Msg::new("transfer.other_site").arg("site", name));
                }
            }
        }
        line.unit = Some(unit);
        lines.push(line);
    }
    Ok(Plan {
        to_id: to,
        to: tree.path(to).unwrap_or_default(),
        lines,
    })
}

/// Before and after of one unit's place, for the audit log.
#[derive(Serialize)]
struct Place {
    location_id: Option<i64>,
    reason: &'static str,
}

/// Moves every unit of `input` to its destination, in one transaction, or
/// none: the plan is made again inside it, and refused with its problems
/// (422, naming how many serials) while any serial has one. A unit that
/// another request moved or took between the plan and its move is a
/// conflict (409), and nothing moves. Returns the plan carried out.
#[instrument(skip_all)]
pub async fn commit(db: &Db, actor: &Actor, input: &TransferInput) -> AppResult<Plan> {
    let tree = LocationTree::load(db).await?;
    let (to, serials) = parse(input, &tree)?;
    let mut tx = db.begin().await?;
    let plan = plan(&mut tx, &tree, to, serials).await?;
    if plan.problems() > 0 {
        tx.rollback().await?;
        let mut f = FieldErrors::default();
        f.add(
            "serials",
            Msg::new("transfer.refused").arg("count", plan.problems()),
        );
        for (i, line) in plan.lines.iter().enumerate() {
            if let Some(m) = &line.problem {
                f.add(
                    &format!("serials[{i}]"),
                    m.clone().arg("serial", &line.serial),
                );
            }
        }
        return Err(AppError::Validation(f));
    }
    let mut audits: Vec<(String, Option<Place>, Option<Place>)> = Vec::new();
    for line in plan.lines.iter().filter(|l| l.moves) {
        let (Some(unit), Some(from)) = (&line.unit, line.unit.as_ref().and_then(|u| u.location_id))
        else {
            continue;
        };
        if !units::transfer(&mut tx, unit.id, unit.status, from, to).await? {
            tx.rollback().await?;
            return Err(AppError::Conflict(
                Msg::new("transfer.changed").arg("serial", &line.serial),
            ));
        }
        let m = Movement {
            part_model_id: unit.part_model_id,
            unit_id: Some(unit.id),
            from: Some(from),
            to: Some(to),
            quantity: 1,
            reason: "transfer",
            receipt_line_id: None,
        };
        units::record_movement(&mut tx, actor, &m).await?;
        audits.push((
            unit.id.to_string(),
            Some(Place {
                location_id: Some(from),
                reason: "transfer",
            }),
            Some(Place {
                location_id: Some(to),
                reason: "transfer",
            }),
        ));
    }
    let rows: Vec<(String, Option<&Place>, Option<&Place>)> = audits
        .iter()
        .map(|(id, b, a)| (id.clone(), b.as_ref(), a.as_ref()))
        .collect();
    audit::record_many(&mut tx, actor, Action::Update, "unit", &rows).await?;
    tx.commit().await?;
    Ok(plan)
}
