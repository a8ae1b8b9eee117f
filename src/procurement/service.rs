//! Rules for suppliers and part models: validation, writes, audit.

use tracing::instrument;

use super::model::{Category, PartModelInput, Specs, SupplierInput, parse_price};
use super::repo::{self, PartFields, SupplierFields};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;

fn required<'a>(field: &str, value: &'a str, max: usize, errors: &mut FieldErrors) -> &'a str {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, Msg::new("validation.required"));
    } else if v.chars().count() > max {
        errors.add(field, Msg::new("validation.too_long").arg("max", max));
    }
    v
}

fn unique_to_field(e: DbError, field: &str) -> AppError {
    match e {
        DbError::Unique(_) => {
            let mut f = FieldErrors::default();
            f.add(field, Msg::new("validation.duplicate"));
            AppError::Validation(f)
        }
        other => other.into(),
    }
}

/// Validated supplier fields (owned).
struct CleanSupplier {
    name: String,
    country: String,
    currency: String,
    lead_time_days: i32,
    input: SupplierInput,
}

fn clean_supplier(input: &SupplierInput) -> AppResult<CleanSupplier> {
    let mut errors = FieldErrors::default();
    let name = required("name", &input.name, 200, &mut errors).to_owned();
    let country = input.country.trim().to_ascii_uppercase();
    if !super::country::is_assigned(&country) {
        errors.add(
            "country",
            Msg::new("validation.country").arg("value", input.country.trim()),
        );
    }
    let currency = match Currency::parse(&input.currency) {
        Some(c) => c.code().to_owned(),
        None => {
            errors.add(
                "currency",
                Msg::new("validation.currency").arg("value", input.currency.trim()),
            );
            String::new()
        }
    };
    // The column holds a number: a lead time left blank is asked for rather
    // than stored as 0 days; one not sent at all (an API call) is 0.
    let lead = input.lead_time_days.as_deref().map(str::trim);
    let lead_time_days = match lead.map(str::parse::<i32>) {
        None => 0,
        Some(_) if lead == Some("") => {
            errors.add("lead_time_days", Msg::new("forms4.lead_time_blank"));
            0
        }
        Some(Ok(d)) if (0..=3650).contains(&d) => d,
        Some(_) => {
            errors.add("lead_time_days", Msg::new("validation.days"));
            0
        }
    };
    errors.into_result()?;
    Ok(CleanSupplier {
        name,
        country,
        currency,
        lead_time_days,
        input: input.clone(),
    })
}

impl CleanSupplier {
    fn fields(&self) -> SupplierFields<'_> {
        SupplierFields {
            name: &self.name,
            country: &self.country,
            currency: &self.currency,
            lead_time_days: self.lead_time_days,
            payment_terms: self.input.payment_terms.trim(),
            contact: self.input.contact.trim(),
            notes: self.input.notes.trim(),
        }
    }
}

/// Creates a supplier; returns its id.
#[instrument(skip_all)]
pub async fn create_supplier(db: &Db, actor: &Actor, input: &SupplierInput) -> AppResult<i64> {
    let clean = clean_supplier(input)?;
    let mut tx = db.begin().await?;
    let id = repo::insert_supplier(&mut tx, &clean.fields())
        .await
        .map_err(|e| unique_to_field(e, "name"))?;
    let after = repo::get_supplier(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "supplier",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a supplier.
#[instrument(skip_all, fields(supplier_id = id))]
pub async fn update_supplier(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &SupplierInput,
) -> AppResult<()> {
    let clean = clean_supplier(input)?;
    let mut tx = db.begin().await?;
    let before = repo::get_supplier(&mut tx, id).await?;
    repo::update_supplier(&mut tx, id, &clean.fields())
        .await
        .map_err(|e| unique_to_field(e, "name"))?;
    let after = repo::get_supplier(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "supplier",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A validated part model (owned).
struct CleanPart {
    manufacturer: String,
    mpn: String,
    category: String,
    description: String,
    serial_tracked: bool,
    price: Option<(rust_decimal::Decimal, Currency)>,
    specs: Specs,
    end_of_life: Option<time::Date>,
}

impl CleanPart {
    fn fields(&self) -> PartFields<'_> {
        PartFields {
            manufacturer: &self.manufacturer,
            mpn: &self.mpn,
            category: &self.category,
            description: &self.description,
            serial_tracked: self.serial_tracked,
            last_price: self.price.map(|(p, c)| (p, c.code())),
            specs: &self.specs,
            end_of_life: self.end_of_life,
        }
    }
}

fn whole(field: &str, v: &Option<String>, errors: &mut FieldErrors) -> Option<i64> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    match t.replace(',', "").parse::<i64>() {
        Ok(n) if (0..=1_000_000_000).contains(&n) => Some(n),
        _ => {
            errors.add(field, Msg::new("validation.whole_number").arg("value", t));
            None
        }
    }
}

fn short(field: &str, v: &Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if t.chars().count() > 50 {
        errors.add(field, Msg::new("validation.too_long").arg("max", 50));
    }
    Some(t.to_owned())
}

fn clean_part(input: &PartModelInput) -> AppResult<CleanPart> {
    let mut errors = FieldErrors::default();
    let manufacturer = required("manufacturer", &input.manufacturer, 100, &mut errors).to_owned();
    let mpn = required("mpn", &input.mpn, 100, &mut errors).to_owned();
    let category = Category::parse(&input.category);
    if category.is_none() {
        errors.add("category", Msg::new("validation.category"));
    }
    let price_text = input
        .last_price
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let price = price_text.and_then(|raw| {
        let p = parse_price(raw);
        if p.is_none() {
            errors.add("last_price", Msg::new("validation.price"));
        }
        p
    });
    let currency = input
        .last_price_currency
        .as_deref()
        .and_then(Currency::parse);
    if price.is_some() && currency.is_none() {
        let given = input.last_price_currency.as_deref().unwrap_or("");
        errors.add(
            "last_price_currency",
            Msg::new("validation.currency").arg("value", given),
        );
    }
    let specs = Specs {
        cores: whole("cores", &input.cores, &mut errors),
        memory_gib: whole("memory_gib", &input.memory_gib, &mut errors),
        capacity_gb: whole("capacity_gb", &input.capacity_gb, &mut errors),
        power_watts: whole("power_watts", &input.power_watts, &mut errors),
        speed: short("speed", &input.speed, &mut errors),
        form_factor: short("form_factor", &input.form_factor, &mut errors),
    };
    let eol_text = input
        .end_of_life
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let end_of_life = eol_text.and_then(|t| {
        let d = super::fx::parse_date(t);
        if d.is_none() {
            errors.add("end_of_life", Msg::new("validation.date").arg("value", t));
        }
        d
    });
    errors.into_result()?;
    Ok(CleanPart {
        end_of_life,
        manufacturer,
        mpn,
        category: category.map_or_else(|| "other".to_owned(), |c| c.0),
        description: input.description.trim().to_owned(),
        serial_tracked: matches!(
            input.serial_tracked.as_deref(),
            Some("true" | "on" | "1" | "yes")
        ),
        price: price.zip(currency),
        specs,
    })
}

/// Adds a part model to the catalogue; returns its id.
#[instrument(skip_all)]
pub async fn create_part_model(db: &Db, actor: &Actor, input: &PartModelInput) -> AppResult<i64> {
    let clean = clean_part(input)?;
    let mut tx = db.begin().await?;
    let id = repo::insert_part_model(&mut tx, &clean.fields())
        .await
        .map_err(|e| unique_to_field(e, "mpn"))?;
    let after = repo::get_part_model(&mut tx, id).await?.view(true);
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "part_model",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a part model.
#[instrument(skip_all, fields(part_model_id = id))]
pub async fn update_part_model(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &PartModelInput,
) -> AppResult<()> {
    let clean = clean_part(input)?;
    let mut tx = db.begin().await?;
    let before = repo::get_part_model(&mut tx, id).await?.view(true);
    repo::update_part_model(&mut tx, id, &clean.fields())
        .await
        .map_err(|e| unique_to_field(e, "mpn"))?;
    let after = repo::get_part_model(&mut tx, id).await?.view(true);
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "part_model",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
