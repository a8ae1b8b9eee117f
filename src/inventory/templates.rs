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

pub use super::slot_lines::{SlotLine, expand_slots, parse_port_lines, parse_slot_lines};

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

/// A template form, checked: everything but the MPNs, which are looked up
/// as the slots are written.
struct Clean {
    name: String,
    height_u: i64,
    watts: i64,
    /// `None` when the form left it empty.
    labour: Option<i64>,
    lines: Vec<SlotLine>,
}

fn clean(input: &TemplateInput) -> AppResult<Clean> {
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
    let labour = (!input.assembly_labour.trim().is_empty())
        .then(|| whole("assembly_labour", &input.assembly_labour, 0, &mut errors));
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
    Ok(Clean {
        name: name.to_owned(),
        height_u,
        watts,
        labour,
        lines,
    })
}

/// Creates a template with its slots; every MPN must be in the catalogue.
pub async fn create(db: &Db, actor: &Actor, input: &TemplateInput) -> AppResult<i64> {
    let c = clean(input)?;
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, input, &c, c.labour.unwrap_or(0), None).await?;
    let after = serde_json::json!({"name": c.name, "asset_kind": input.asset_kind, "height_u": c.height_u,
        "nameplate_watts": c.watts, "assembly_labour_minor": c.labour.unwrap_or(0), "slots": input.slots});
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

/// Writes a template version and its slots: a new template, or version
/// `version` of the family `family_id`. Returns its id.
async fn insert(
    tx: &mut crate::db::Tx,
    input: &TemplateInput,
    c: &Clean,
    labour: i64,
    family: Option<(i64, i64)>,
) -> AppResult<i64> {
    let now = crate::clock::now();
    let (family_id, version) = family.map_or((None, 1), |(f, v)| (Some(f), v));
    let id: i64 = on!(&mut *tx, |c_| {
        sqlx::query_scalar(
            "insert into build_templates (name, asset_kind, height_u, nameplate_watts, assembly_labour_minor, notes, ports,
               family_id, version, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) returning id",
        )
        .bind(&c.name)
        .bind(&input.asset_kind)
        .bind(c.height_u)
        .bind(c.watts)
        .bind(labour)
        .bind(input.notes.trim())
        .bind(input.ports.trim())
        .bind(family_id)
        .bind(version)
        .bind(now)
        .fetch_one(c_)
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
    if family_id.is_none() {
        // The first version heads its own family.
        crate::exec!(&mut *tx, |c_| {
            sqlx::query("update build_templates set family_id = id where id = $1")
                .bind(id)
                .execute(c_)
                .await
        })?;
    }
    let mut position = 0i64;
    for line in &c.lines {
        let mut part_ids = Vec::new();
        for mpn in &line.mpns {
            let found: Option<i64> = on!(&mut *tx, |c| {
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
            let slot_id: i64 = on!(&mut *tx, |c| {
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
                crate::exec!(&mut *tx, |c| {
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
    Ok(id)
}

/// Saves an edit of template `id` as its next version, returns the new
/// version's id. Assets and assembly orders keep the version they were
/// built from; the old version is renamed `name · vN` and no longer offered.
/// Only the current version can be edited; labour left empty keeps the
/// old version's.
pub async fn revise(db: &Db, actor: &Actor, id: i64, input: &TemplateInput) -> AppResult<i64> {
    let c = clean(input)?;
    let mut tx = db.begin().await?;
    let before: Option<(String, i64, i64, i64, Option<String>)> = on!(&mut tx, |c_| {
        sqlx::query_as(
            "select name, coalesce(family_id, id), version, assembly_labour_minor,
                    case when superseded_at is null then null else 'superseded' end
             from build_templates where id = $1",
        )
        .bind(id)
        .fetch_optional(c_)
        .await
    })?;
    let Some((old_name, family_id, version, old_labour, superseded)) = before else {
        return Err(AppError::NotFound);
    };
    // Claimed first: of two edits of one version, the second finds it superseded.
    let now = crate::clock::now();
    let claimed = crate::exec!(&mut tx, |c_| {
        sqlx::query(
            "update build_templates set name = $1, superseded_at = $2, updated_at = $2
             where id = $3 and superseded_at is null",
        )
        .bind(format!("{old_name} · v{version}"))
        .bind(now)
        .bind(id)
        .execute(c_)
        .await
    })?;
    if superseded.is_some() || claimed == 0 {
        return Err(AppError::Conflict(
            Msg::new("templates.not_current").arg("name", &old_name),
        ));
    }
    let labour = c.labour.unwrap_or(old_labour);
    let new_id = insert(&mut tx, input, &c, labour, Some((family_id, version + 1))).await?;
    let before = serde_json::json!({"id": id, "name": old_name, "version": version});
    let after = serde_json::json!({"id": new_id, "name": c.name, "version": version + 1, "asset_kind": input.asset_kind,
        "height_u": c.height_u, "nameplate_watts": c.watts, "assembly_labour_minor": labour, "slots": input.slots});
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "build_template",
        family_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(new_id)
}

/// One version of a template, for its page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Version {
    /// Template row id of this version.
    pub id: i64,
    /// 1, 2, …
    pub version: i64,
    /// Name this version carries (`name · v1` once superseded).
    pub name: String,
    /// Whether a newer version replaced it.
    pub superseded: bool,
    /// Assets built from this version.
    pub assets: i64,
    /// When it was saved, UTC.
    pub created_at: time::OffsetDateTime,
}

/// Every version of the template `id` belongs to, newest first.
pub async fn versions(db: &Db, id: i64) -> Result<Vec<Version>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select t.id, t.version, t.name, t.superseded_at is not null as superseded,
                    cast((select count(*) from assets a where a.template_id = t.id) as bigint) as assets,
                    t.created_at
             from build_templates t
             where coalesce(t.family_id, t.id) = (select coalesce(family_id, id) from build_templates where id = $1)
             order by t.version desc",
        )
        .bind(id)
        .fetch_all(p)
        .await
    })?)
}

/// The template `id` as its edit form: its slots written back as lines.
pub async fn input_of(db: &Db, id: i64) -> Result<TemplateInput, DbError> {
    let t = get(db, id).await?;
    let slots = slots(db, id).await?;
    Ok(TemplateInput {
        name: t.name,
        asset_kind: t.asset_kind,
        height_u: t.height_u.to_string(),
        nameplate_watts: t.nameplate_watts.to_string(),
        assembly_labour: t.assembly_labour_minor.to_string(),
        slots: super::slot_lines::slot_lines_of(&slots),
        notes: t.notes,
        ports: t.ports,
    })
}

/// Every template's current version, by name.
pub async fn list(db: &Db) -> Result<Vec<Template>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select id, name, asset_kind, height_u, nameplate_watts, assembly_labour_minor, notes, ports from build_templates
             where superseded_at is null order by name",
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
