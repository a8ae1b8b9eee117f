//! Work orders: install, move, replace a part, decommission, other.
//!
//! A work order carries the changes it will make (a placement, a part swap,
//! an asset status), a checklist, and a pick list computed from stock that
//! prefers spares at the site of the work. Completing it applies every change
//! in one transaction: all of them, or none.
//!
//! `model` holds the types, `repo` the SQL, `service` the rules and
//! transactions, `picking` the pick list; `alerts` opens work orders for
//! health alerts; `entries` is a work order's log (the BMC reporting the
//! part healthy again, or failing again).

pub mod alerts;
pub mod entries;
mod model;
mod picking;
mod repo;
mod service;

pub use model::{
    ASSET_STATUSES, Check, CompleteInput, Filter, KINDS, Origin, Pull, STATUSES, Spare, WorkOrder,
    WorkOrderInput,
};
pub use picking::{home_location, part_to_pull, pick_list, spares_for};
pub use repo::{WO_SORTS, assignable_users, checks, get, list};
pub use service::{
    active_for_asset, assign, complete, complete_no_fault, create, create_many, no_fault_applies,
    set_status, tick,
};
