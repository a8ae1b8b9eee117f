//! Build templates: named bills of materials with slots, each slot accepting
//! some part models.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::on;

/// Kinds of asset a template builds.
pub const ASSET_KINDS: [&str; 5] = ["server", "switch", "storage", "pdu", "other"];

/// A template as stored.
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Template {
    /// Row id.
    pub id: i64,
    /// Name, unique (`compute node gen3`).
    pub name: String,
    /// server, switch, storage, pdu or other.
    pub asset_kind: String,
    /// Height in rack units.
    pub height_u: i64,
    /// Nameplate power, watts.
    pub nameplate_watts: i64,
    /// Assembly labour per asset, base-currency minor units.
    pub assembly_labour_minor: i64,
    /// Notes.
    pub notes: String,
    /// Port lines (`swp1-48: 25G`); each built asset gets these ports.
    pub ports: String,
}

/// One slot of a template with the MPNs it accepts.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Slot {
    /// Row id.
    pub id: i64,
    /// Slot name (`CPU1`, `DIMM A1`).
    pub slot_name: String,
    /// May be left empty.
    pub optional: bool,
    /// Accepted part models: (id, MPN).
    pub accepts: Vec<(i64, String)>,
}

/// Input for a new template; `slots` is one line per slot group:
/// `CPU1-2: 100-000001463`, `DIMM A1-A8: M321R4GA3BB6-CQK`,
/// `NIC1: MCX631432AN-ADAB, MCX623106AN-CDAT`, `GPU1?: ...` (`?` = optional).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TemplateInput {
    /// Name.
    pub name: String,
    /// Asset kind.
    pub asset_kind: String,
    /// Height in U.
    pub height_u: String,
    /// Nameplate watts.
    pub nameplate_watts: String,
    /// Assembly labour per asset in the base currency (whole units).
    #[serde(default)]
    pub assembly_labour: String,
    /// Slot lines.
    pub slots: String,
    /// Notes.
    #[serde(default)]
    pub notes: String,
    /// Network ports, one line per group: `swp1-48: 25G`, `eth0-1: 25G` (optional).
    #[serde(default)]
    pub ports: String,
}

impl crate::money::MoneyInput for TemplateInput {
    fn money_fields(&self) -> Vec<&'static str> {
        if crate::money::sets_money(&self.assembly_labour) {
            vec!["assembly_labour"]
        } else {
            Vec::new()
        }
    }
}

/// One parsed slot line: the slot names it expands to, optional flag, MPNs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotLine {
    /// Expanded slot names.
    pub names: Vec<String>,
    /// Whether the slots may stay empty.
    pub optional: bool,
    /// Accepted MPNs.
    pub mpns: Vec<String>,
}

/// Expands `CPU1-2` to `CPU1, CPU2` and `DIMM A1-A8` to `DIMM A1 … DIMM A8`;
/// anything else is one slot.
pub fn expand_slots(spec: &str) -> Vec<String> {
    let spec = spec.trim();
    let Some((head, tail)) = spec.rsplit_once('-') else {
        return vec![spec.to_owned()];
    };
    let digits_at = head.len() - head.chars().rev().take_while(char::is_ascii_digit).count();
    let (prefix, from) = head.split_at(digits_at);
    let to_text = tail.trim_start_matches(|c: char| !c.is_ascii_digit());
    let tail_prefix = &tail[..tail.len() - to_text.len()];
    let (Ok(from), Ok(to)) = (from.parse::<u32>(), to_text.parse::<u32>()) else {
        return vec![spec.to_owned()];
    };
    let same_prefix = tail_prefix.is_empty() || prefix.trim_end().ends_with(tail_prefix.trim());
    if !same_prefix || to < from || to - from > 64 {
        return vec![spec.to_owned()];
    }
    (from..=to).map(|n| format!("{prefix}{n}")).collect()
}

/// Parses port lines (`swp1-48: 25G`) into (port name, speed) pairs.
pub fn parse_port_lines(text: &str) -> Result<Vec<(String, String)>, Msg> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (names, speed) = line.split_once(':').unwrap_or((line, ""));
        if names.trim().is_empty() {
            return Err(Msg::new("templates.bad_line")
                .arg("line", i + 1)
                .arg("text", line.trim()));
        }
        out.extend(
            expand_slots(names)
                .into_iter()
                .map(|n| (n, speed.trim().to_owned())),
        );
    }
    Ok(out)
}

/// Parses the slot lines of a template form; errors name the line.
pub fn parse_slot_lines(text: &str) -> Result<Vec<SlotLine>, Msg> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Some((slots, mpns)) = line.split_once(':') else {
            return Err(Msg::new("templates.bad_line")
                .arg("line", i + 1)
                .arg("text", line.trim()));
        };
        let (slots, optional) = match slots.trim().strip_suffix('?') {
            Some(s) => (s, true),
            None => (slots.trim(), false),
        };
        let mpns: Vec<String> = mpns
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        if slots.is_empty() || mpns.is_empty() {
            return Err(Msg::new("templates.bad_line")
                .arg("line", i + 1)
                .arg("text", line.trim()));
        }
        out.push(SlotLine {
            names: expand_slots(slots),
            optional,
            mpns,
        });
    }
    if out.is_empty() {
        return Err(Msg::new("templates.no_slots"));
    }
    Ok(out)
}

fn whole(field: &str, text: &str, min: i64, errors: &mut FieldErrors) -> i64 {
    match text.trim().replace(',', "").parse::<i64>() {
        Ok(n) if n >= min => n,
        _ => {
            errors.add(
                field,
                Msg::new("validation.whole_number").arg("value", text.trim()),
            );
            0
        }
    }
}

/// Creates a template with its slots; every MPN must be in the catalogue.
pub async fn create(db: &Db, actor: &Actor, input: &TemplateInput) -> AppResult<i64> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim();
    if name.is_empty() {
        errors.add("name", Msg::new("validation.required"));
    }
    if !ASSET_KINDS.contains(&input.asset_kind.as_str()) {
        errors.add("asset_kind", Msg::new("validation.required"));
    }
    let height_u = whole("height_u", &input.height_u, 1, &mut errors);
    let watts = whole("nameplate_watts", &input.nameplate_watts, 0, &mut errors);
    let labour = if input.assembly_labour.trim().is_empty() {
        0
    } else {
        whole("assembly_labour", &input.assembly_labour, 0, &mut errors)
    };
    if let Err(m) = parse_port_lines(&input.ports) {
        errors.add("ports", m);
    }
    let lines = match parse_slot_lines(&input.slots) {
        Ok(l) => l,
        Err(m) => {
            errors.add("slots", m);
            Vec::new()
        }
    };
    errors.into_result()?;
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into build_templates (name, asset_kind, height_u, nameplate_watts, assembly_labour_minor, notes, ports,
               created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning id",
        )
        .bind(name)
        .bind(&input.asset_kind)
        .bind(height_u)
        .bind(watts)
        .bind(labour)
        .bind(input.notes.trim())
        .bind(input.ports.trim())
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
        other => other.into(),
    })?;
    let mut position = 0i64;
    for line in &lines {
        let mut part_ids = Vec::new();
        for mpn in &line.mpns {
            let found: Option<i64> = on!(&mut tx, |c| {
                sqlx::query_scalar("select id from part_models where lower(mpn) = lower($1)")
                    .bind(mpn)
                    .fetch_optional(c)
                    .await
            })?;
            let Some(pid) = found else {
                let mut f = FieldErrors::default();
                f.add("slots", Msg::new("import.unknown_mpn").arg("mpn", mpn));
                return Err(AppError::Validation(f));
            };
            part_ids.push(pid);
        }
        for slot in &line.names {
            position += 1;
            let slot_id: i64 = on!(&mut tx, |c| {
                sqlx::query_scalar(
                    "insert into template_slots (template_id, position, slot_name, optional, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $5) returning id",
                )
                .bind(id)
                .bind(position)
                .bind(slot)
                .bind(line.optional)
                .bind(now)
                .fetch_one(c)
                .await
            })
            .map_err(|e| match DbError::from(e) {
                DbError::Unique(_) => {
                    let mut f = FieldErrors::default();
                    f.add("slots", Msg::new("templates.slot_twice").arg("slot", slot));
                    AppError::Validation(f)
                }
                other => other.into(),
            })?;
            for pid in &part_ids {
                crate::exec!(&mut tx, |c| {
                    sqlx::query("insert into slot_part_models (slot_id, part_model_id, created_at, updated_at) values ($1, $2, $3, $3)")
                        .bind(slot_id)
                        .bind(pid)
                        .bind(now)
                        .execute(c)
                        .await
                })?;
            }
        }
    }
    let after = serde_json::json!({"name": name, "asset_kind": input.asset_kind, "height_u": height_u,
        "nameplate_watts": watts, "assembly_labour_minor": labour, "slots": input.slots});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "build_template",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Every template, by name.
pub async fn list(db: &Db) -> Result<Vec<Template>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select id, name, asset_kind, height_u, nameplate_watts, assembly_labour_minor, notes, ports from build_templates order by name",
        )
        .fetch_all(p)
        .await
    })?)
}

/// One template.
pub async fn get(db: &Db, id: i64) -> Result<Template, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select id, name, asset_kind, height_u, nameplate_watts, assembly_labour_minor, notes, ports from build_templates where id = $1",
        )
        .bind(id)
        .fetch_one(p)
        .await
    })?)
}

/// A slot joined with one accepted part model (id, name, optional, part id, MPN).
type SlotRow = (i64, String, bool, Option<i64>, Option<String>);

/// The slots of a template, in order, with what each accepts.
pub async fn slots(db: &Db, template_id: i64) -> Result<Vec<Slot>, DbError> {
    let rows: Vec<SlotRow> = on!(db, |p| {
        sqlx::query_as(
            "select s.id, s.slot_name, s.optional, m.id, m.mpn from template_slots s
             left join slot_part_models sp on sp.slot_id = s.id left join part_models m on m.id = sp.part_model_id
             where s.template_id = $1 order by s.position, m.mpn",
        )
        .bind(template_id)
        .fetch_all(p)
        .await
    })?;
    let mut out: Vec<Slot> = Vec::new();
    for (id, name, optional, pid, mpn) in rows {
        if out.last().is_none_or(|s| s.id != id) {
            out.push(Slot {
                id,
                slot_name: name,
                optional,
                accepts: Vec::new(),
            });
        }
        if let (Some(pid), Some(mpn), Some(slot)) = (pid, mpn, out.last_mut()) {
            slot.accepts.push((pid, mpn));
        }
    }
    Ok(out)
}

/// A build template as a NetBox device type: its id, height and manufacturer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeviceType {
    /// Template id.
    pub id: i64,
    /// Template name (the NetBox model).
    pub name: String,
    /// Manufacturer (empty when not recorded).
    pub manufacturer: String,
    /// Height in U.
    pub height_u: i64,
}

/// Every template as a device type, by name.
pub async fn device_types(db: &Db) -> Result<Vec<DeviceType>, DbError> {
    Ok(on!(db, |p| sqlx::query_as(
        "select id, name, manufacturer, height_u from build_templates order by name"
    )
    .fetch_all(p)
    .await)?)
}

/// The template with this name, if any.
pub async fn find(tx: &mut crate::db::Tx, name: &str) -> Result<Option<DeviceType>, DbError> {
    Ok(on!(tx, |c| sqlx::query_as(
        "select id, name, manufacturer, height_u from build_templates where name = $1"
    )
    .bind(name)
    .fetch_optional(c)
    .await)?)
}

/// Creates a template with no slots from a device type (the NetBox import);
/// the caller checks the name is free. Returns its id.
pub async fn register(
    tx: &mut crate::db::Tx,
    actor: &Actor,
    t: &DeviceType,
    asset_kind: &str,
) -> AppResult<i64> {
    let now = crate::clock::now();
    let id: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "insert into build_templates (name, manufacturer, asset_kind, height_u, nameplate_watts, created_at, updated_at)
             values ($1, $2, $3, $4, 0, $5, $5) returning id",
        )
        .bind(&t.name)
        .bind(&t.manufacturer)
        .bind(asset_kind)
        .bind(t.height_u)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    let after = serde_json::json!({"name": t.name, "manufacturer": t.manufacturer, "asset_kind": asset_kind, "height_u": t.height_u});
    audit::record(
        tx,
        actor,
        Action::Create,
        "build_template",
        id,
        None,
        Some(&after),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ranges_expand() {
        assert_eq!(expand_slots("CPU1-2"), vec!["CPU1", "CPU2"]);
        assert_eq!(
            expand_slots("DIMM A1-A4"),
            vec!["DIMM A1", "DIMM A2", "DIMM A3", "DIMM A4"]
        );
        assert_eq!(expand_slots("NVMe0-1"), vec!["NVMe0", "NVMe1"]);
        assert_eq!(expand_slots("PSU"), vec!["PSU"]);
        assert_eq!(expand_slots("X-Y"), vec!["X-Y"]);
    }

    #[test]
    fn slot_lines_parse_with_optional_marks_and_name_bad_lines() {
        let lines = parse_slot_lines("CPU1-2: 100-000001463\n\nGPU1?: A, B\n").expect("parses");
        assert_eq!(lines.len(), 2);
        assert!(lines[1].optional);
        assert_eq!(lines[1].mpns, vec!["A", "B"]);
        let e = parse_slot_lines("CPU1 100-000001463").expect_err("no colon");
        assert_eq!(e.key, "templates.bad_line");
    }
}
