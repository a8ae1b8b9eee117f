//! NetBox CSV: import sites, locations, racks, device types and devices in
//! the column shape of NetBox's bulk import, and export ours in the same
//! shape (see `docs/datacenter.md#netbox-csv`).
//!
//! Mapping: a NetBox location without a parent is a room; a location under
//! it is a row; a rack's `location` names its row. `desc_units` is the
//! `top_down` numbering. A device type is a build template (model = name), a
//! device is an asset (`asset_tag`, `name` = hostname), placed at
//! `position`/`face` with the usual collision rules.

mod devices;
mod export;
mod import;
mod racks;

pub use export::export_csv;
pub use import::{Counts, Files, Outcome, RowError, run};

/// The files, in import order, with their columns as written on export.
pub const FILES: [(&str, &[&str]); 5] = [
    ("sites", &["name", "slug", "status"]),
    ("locations", &["site", "parent", "name", "slug", "status"]),
    (
        "device_types",
        &["manufacturer", "model", "slug", "u_height"],
    ),
    (
        "racks",
        &[
            "site",
            "location",
            "name",
            "status",
            "width",
            "u_height",
            "desc_units",
        ],
    ),
    (
        "devices",
        &[
            "name",
            "role",
            "manufacturer",
            "device_type",
            "status",
            "site",
            "location",
            "rack",
            "position",
            "face",
            "serial",
            "asset_tag",
        ],
    ),
];

/// NetBox's slug of a name: lowercase letters, digits, `-` and `_`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Our asset status as a NetBox device status.
pub fn status_to_netbox(status: &str) -> &'static str {
    match status {
        "building" => "planned",
        "burn_in" => "staged",
        "racked" => "offline",
        "maintenance" => "failed",
        "decommissioned" => "decommissioning",
        _ => "active",
    }
}

/// A NetBox device status as ours (`inventory` counts as building).
pub fn status_from_netbox(status: &str) -> Option<&'static str> {
    Some(match status.to_lowercase().as_str() {
        "planned" | "inventory" => "building",
        "staged" => "burn_in",
        "offline" => "racked",
        "active" => "in_service",
        "failed" => "maintenance",
        "decommissioning" => "decommissioned",
        _ => return None,
    })
}

/// Our asset kind for a NetBox device role: our own kinds as they are, else
/// by the words in the role's name, else `other`.
pub fn kind_from_role(role: &str) -> &'static str {
    let r = role.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
    if has(&["switch", "router", "firewall", "network", "spine", "leaf"]) {
        "switch"
    } else if has(&["storage", "ceph", "nas", "san"]) {
        "storage"
    } else if has(&["pdu", "power"]) {
        "pdu"
    } else if has(&["server", "compute", "host", "node", "hypervisor"]) {
        "server"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_of_ours_comes_back_from_netbox() {
        for s in [
            "building",
            "burn_in",
            "racked",
            "in_service",
            "maintenance",
            "decommissioned",
        ] {
            assert_eq!(status_from_netbox(status_to_netbox(s)), Some(s));
        }
        assert_eq!(status_from_netbox("Inventory"), Some("building"));
        assert_eq!(status_from_netbox("lost"), None);
    }

    #[test]
    fn roles_map_to_kinds_and_our_kinds_to_themselves() {
        for k in ["server", "switch", "storage", "pdu", "other"] {
            assert_eq!(kind_from_role(k), k);
        }
        assert_eq!(kind_from_role("Leaf Switch"), "switch");
        assert_eq!(kind_from_role("Compute Node"), "server");
        assert_eq!(kind_from_role("Patch Panel"), "other");
        assert_eq!(slugify(" Seoul DC1 / Hall 1 "), "seoul-dc1-hall-1");
    }
}
