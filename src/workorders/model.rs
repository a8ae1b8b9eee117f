//! Work order types: what a work order is, what a form or the API sends to
//! open or complete one, and what a pick list offers.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::datacenter::racks;
use crate::i18n::{Lang, Msg};

/// Kinds of work, in menu order.
pub const KINDS: [&str; 5] = ["install", "move", "replace", "decommission", "other"];

/// Statuses, in life order.
pub const STATUSES: [&str; 4] = ["open", "in_progress", "done", "cancelled"];

/// Asset statuses a work order may set.
pub const ASSET_STATUSES: [&str; 6] = [
    "building",
    "burn_in",
    "racked",
    "in_service",
    "maintenance",
    "decommissioned",
];

/// A work order with the names of what it refers to.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WorkOrder {
    /// Id.
    pub id: i64,
    /// install, move, replace, decommission or other.
    pub kind: String,
    /// Short description, in the reader's language when the application
    /// wrote it (see [`WorkOrder::localized`]).
    pub title: String,
    /// Free text, likewise.
    pub notes: String,
    /// The title as a stored message (JSON `Msg`), when the application wrote it.
    #[serde(skip)]
    pub title_msg: Option<String>,
    /// The notes as stored messages (a JSON array of `Msg`, one a line).
    #[serde(skip)]
    pub notes_msg: Option<String>,
    /// open, in_progress, done or cancelled.
    pub status: String,
    /// The asset worked on.
    pub asset_id: Option<i64>,
    /// Its tag.
    pub asset_tag: Option<String>,
    /// Who does it.
    pub assignee_id: Option<i64>,
    /// Their display name.
    pub assignee: Option<String>,
    /// When it is due.
    pub due_date: Option<Date>,
    /// Target rack (install, move).
    pub rack_id: Option<i64>,
    /// Target lowest U.
    pub u_position: Option<i64>,
    /// Target face.
    pub face: Option<String>,
    /// Target depth.
    pub depth: Option<String>,
    /// Slot whose part is replaced.
    pub slot_name: Option<String>,
    /// Part model needed (replace).
    pub part_model_id: Option<i64>,
    /// Its MPN.
    pub mpn: Option<String>,
    /// Asset status set on completion.
    pub target_status: Option<String>,
    /// manual, alert or audit.
    pub source: String,
    /// Spare installed on completion.
    pub spare_unit_id: Option<i64>,
    /// Unit removed on completion.
    pub removed_unit_id: Option<i64>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Completed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// How a done work order ended, when not by its changes: `no_fault_found`.
    pub outcome: Option<String>,
}

impl WorkOrder {
    /// Whether it can still be worked on.
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "open" | "in_progress")
    }

    /// The work order with its title and notes in `lang` where they were
    /// stored as messages (an alert's, an audit's, a kind's default); text a
    /// user typed, and rows written before messages were kept, stay as they are.
    pub fn localized(mut self, lang: Lang) -> WorkOrder {
        if let Some(m) = self.title_msg.as_deref().and_then(Msg::from_json) {
            self.title = m.render(lang);
        }
        if let Some(lines) = self.notes_msg.as_deref().and_then(msg_lines) {
            self.notes = lines
                .iter()
                .map(|m| m.render(lang))
                .collect::<Vec<_>>()
                .join("\n");
        }
        self
    }

    /// Whether it is past its due date and not finished.
    pub fn overdue(&self, today: Date) -> bool {
        self.is_active() && self.due_date.is_some_and(|d| d < today)
    }
}

/// List filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// `active` (open and in progress; the default), a status, or `all`.
    pub status: String,
    /// Only this assignee.
    pub assignee_id: Option<i64>,
    /// Only work orders nobody is assigned to (ignored with `assignee_id`).
    pub unassigned: bool,
    /// Only this asset.
    pub asset_id: Option<i64>,
    /// Only work orders at this site (by their rack, else their asset's rack).
    pub site_id: Option<i64>,
    /// Words in the title or the asset tag.
    pub q: String,
    /// The order (a key of `repo::WO_SORTS`); else by due date.
    pub sort: crate::db::Sort,
}

/// A checklist item.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Check {
    /// Id.
    pub id: i64,
    /// What to do (in the reader's language for a default item: see
    /// [`Check::localized`]).
    pub text: String,
    /// The text as a stored message (JSON `Msg`) for a default item.
    #[serde(skip)]
    pub text_msg: Option<String>,
    /// When it was ticked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    /// By whom.
    pub done_by: Option<String>,
}

impl Check {
    /// The item with its text in `lang` when it was stored as a message.
    pub fn localized(mut self, lang: Lang) -> Check {
        if let Some(m) = self.text_msg.as_deref().and_then(Msg::from_json) {
            self.text = m.render(lang);
        }
        self
    }
}

/// Lines of notes stored as a JSON array of messages.
fn msg_lines(json: &str) -> Option<Vec<Msg>> {
    serde_json::from_str(json).ok()
}

/// Notes as stored: a JSON array of messages, or nothing when there are none.
pub(super) fn notes_json(lines: &[Msg]) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    serde_json::to_string(lines).ok()
}

/// A new work order, as typed in a form or sent to the API. Numbers are
/// strings so a form's empty field is "not given" rather than an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct WorkOrderInput {
    /// install, move, replace, decommission or other.
    pub kind: String,
    /// Short description; made from the kind and asset when empty.
    #[serde(default)]
    pub title: String,
    /// Free text.
    #[serde(default)]
    pub notes: String,
    /// Asset tag or hostname (all kinds but `other`).
    #[serde(default)]
    pub asset_tag: String,
    /// User id of the assignee.
    #[serde(default)]
    pub assignee_id: String,
    /// Due date, YYYY-MM-DD.
    #[serde(default)]
    pub due_date: String,
    /// Target rack id (install, move).
    #[serde(default)]
    pub rack_id: String,
    /// Target lowest U (install, move).
    #[serde(default)]
    pub u_position: String,
    /// front or rear (install, move).
    #[serde(default)]
    pub face: String,
    /// full or half (install, move).
    #[serde(default)]
    pub depth: String,
    /// Slot whose part is replaced (replace).
    #[serde(default)]
    pub slot_name: String,
    /// Asset status to set on completion (optional; install and
    /// decommission have defaults).
    #[serde(default)]
    pub target_status: String,
    /// Checklist, one item per line; each kind has a default.
    #[serde(default)]
    pub checklist: String,
    /// The title as a message, shown in each reader's language (set by the
    /// application: alerts, audits; `title` holds it in the creator's).
    #[serde(skip)]
    pub title_msg: Option<Msg>,
    /// The notes as messages, one a line, likewise.
    #[serde(skip)]
    pub notes_msg: Vec<Msg>,
}

/// Where a work order came from, with a key that keeps one open work order
/// per alert episode.
#[derive(Clone, Debug)]
pub struct Origin {
    /// manual, alert or audit.
    pub source: &'static str,
    /// For alerts: the same key never opens a second active work order.
    pub dedup_key: Option<String>,
}

impl Default for Origin {
    fn default() -> Self {
        Origin {
            source: "manual",
            dedup_key: None,
        }
    }
}

/// What the technician says when completing.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CompleteInput {
    /// Serial of the spare installed (replace), as scanned.
    #[serde(default)]
    pub spare_serial: String,
    /// What happens to the removed part: `faulty`, `in_stock` or `rma`
    /// (faulty and sent back to its supplier at once).
    #[serde(default)]
    pub removed_to: String,
    /// Stock location for the removed part; the spare's location when empty.
    #[serde(default)]
    pub location_id: String,
}

/// One spare that could serve a work order.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Spare {
    /// Unit id.
    pub unit_id: i64,
    /// Serial.
    pub serial: String,
    /// MPN.
    pub mpn: String,
    /// Stock location id.
    pub location_id: Option<i64>,
    /// Location path (`Seoul / Cage 3 / Shelf 2 / Bin 4`).
    #[sqlx(skip)]
    pub location: String,
    /// The path without the bin (`Seoul / Cage 3 / Shelf 2`) when it is in one.
    #[sqlx(skip)]
    pub place: String,
    /// The bin's name when the spare is in a bin.
    #[sqlx(skip)]
    pub bin: Option<String>,
    /// Site of that location, if known.
    #[sqlx(skip)]
    pub site: Option<String>,
    /// Whether it is at the site of the work.
    #[sqlx(skip)]
    pub same_site: bool,
}

/// The part a work order takes out: the unit installed in its slot now.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Pull {
    /// Unit id.
    pub unit_id: i64,
    /// Its serial, to check against the part in the slot.
    pub serial: String,
    /// The slot.
    pub slot_name: String,
}

/// An input's references, checked and looked up.
pub(super) struct Resolved {
    pub(super) asset_id: Option<i64>,
    pub(super) assignee_id: Option<i64>,
    pub(super) due_date: Option<Date>,
    pub(super) rack: Option<racks::Rack>,
    pub(super) u: Option<i64>,
    pub(super) part_model_id: Option<i64>,
    pub(super) target_status: Option<String>,
}

/// A checked work order, ready to insert.
pub(super) struct NewRow<'a> {
    pub(super) input: &'a WorkOrderInput,
    pub(super) origin: &'a Origin,
    pub(super) resolved: Resolved,
    pub(super) title: String,
    pub(super) title_msg: Option<Msg>,
    /// Each item's text, and its message for a default item.
    pub(super) checklist: Vec<(String, Option<Msg>)>,
}
