//! Instance types, pricing tiers and competitors' price lists: validation,
//! SQL and audit in one file, like the inventory topics.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::pricing::{Competitor, CompetitorPrice, InstanceType, Per, Tier};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbDecimal, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;
use crate::{exec, on};

/// A whole number ≥ 0 typed in a field, or a field error.
pub(crate) fn whole(field: &str, v: &str, min: i64, errors: &mut FieldErrors) -> i64 {
    match v.trim().replace(',', "").parse::<i64>() {
        Ok(n) if n >= min && n <= 1_000_000_000 => n,
        _ => {
            errors.add(field, Msg::new("validation.whole_number").arg("value", v));
            0
        }
    }
}

/// A decimal ≥ 0 with at most 6 places typed in a field, or a field error.
pub(crate) fn decimal(field: &str, v: &str, errors: &mut FieldErrors) -> Decimal {
    match v.trim().replace(',', "").parse::<Decimal>() {
        Ok(d) if !d.is_sign_negative() && d.normalize().scale() <= 6 => d.normalize(),
        _ => {
            errors.add(field, Msg::new("validation.price"));
            Decimal::ZERO
        }
    }
}

/// A positive rate with at most 10 places, or a field error.
pub(crate) fn rate(field: &str, v: &str, errors: &mut FieldErrors) -> Decimal {
    match v.trim().replace(',', "").parse::<Decimal>() {
        Ok(d) if d > Decimal::ZERO && d.normalize().scale() <= 10 => d.normalize(),
        _ => {
            errors.add(field, Msg::new("validation.rate").arg("value", v));
            Decimal::ZERO
        }
    }
}

pub(crate) fn name(field: &str, v: &str, errors: &mut FieldErrors) -> String {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 100 {
        errors.add(field, Msg::new("validation.required"));
    }
    v.to_owned()
}

/// A validation error on one field.
pub(crate) fn field_error(field: &str, msg: Msg) -> AppError {
    let mut f = FieldErrors::default();
    f.add(field, msg);
    AppError::Validation(f)
}

/// Turns a unique violation into `msg` on `field`; other errors pass through.
pub(crate) fn unique_as<'a>(
    field: &'a str,
    msg: &'static str,
) -> impl Fn(DbError) -> AppError + 'a {
    move |e| match e {
        DbError::Unique(_) => field_error(field, Msg::new(msg)),
        other => other.into(),
    }
}

fn duplicate<'a>(field: &'a str) -> impl Fn(DbError) -> AppError + 'a {
    unique_as(field, "validation.duplicate")
}

/// A new instance type, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct InstanceTypeInput {
    /// Name.
    pub name: String,
    /// vCPUs.
    pub vcpus: String,
    /// RAM, GiB.
    pub ram_gib: String,
    /// Disk, GB.
    pub disk_gb: String,
    /// Included traffic per month, GB.
    #[serde(default)]
    pub included_traffic_gb: String,
}

/// Adds an instance type; returns its id.
pub async fn create_instance_type(db: &Db, actor: &Actor, i: &InstanceTypeInput) -> AppResult<i64> {
    let mut e = FieldErrors::default();
    let t = InstanceType {
        id: 0,
        name: name("name", &i.name, &mut e),
        vcpus: whole("vcpus", &i.vcpus, 1, &mut e),
        ram_gib: whole("ram_gib", &i.ram_gib, 1, &mut e),
        disk_gb: whole("disk_gb", &i.disk_gb, 0, &mut e),
        included_traffic_gb: whole(
            "included_traffic_gb",
            or_zero(&i.included_traffic_gb),
            0,
            &mut e,
        ),
    };
    e.into_result()?;
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on!(&mut tx, |c| sqlx::query_scalar(
        "insert into instance_types (name, vcpus, ram_gib, disk_gb, included_traffic_gb, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6) returning id"
    )
    .bind(&t.name)
    .bind(t.vcpus)
    .bind(t.ram_gib)
    .bind(t.disk_gb)
    .bind(t.included_traffic_gb)
    .bind(now)
    .fetch_one(c)
    .await)
    .map_err(DbError::from)
    .map_err(duplicate("name"))?;
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "instance_type",
        id,
        None,
        Some(&t),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn or_zero(s: &str) -> &str {
    if s.trim().is_empty() { "0" } else { s }
}

/// Every instance type, by name.
pub async fn instance_types(db: &Db) -> Result<Vec<InstanceType>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
        "select id, name, vcpus, ram_gib, disk_gb, included_traffic_gb from instance_types order by name"
    )
    .fetch_all(p)
    .await
    })?)
}

/// A new pricing tier, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TierInput {
    /// Name.
    pub name: String,
    /// Instance type id.
    pub instance_type_id: i64,
    /// Price per instance per day, won.
    pub price_per_day: String,
    /// Included traffic per month, GB; the instance type's when empty.
    #[serde(default)]
    pub included_traffic_gb: String,
    /// Price per GB beyond that, won.
    #[serde(default)]
    pub extra_gb_price: String,
}

/// Adds a pricing tier; returns its id.
pub async fn create_tier(db: &Db, actor: &Actor, i: &TierInput) -> AppResult<i64> {
    let types = instance_types(db).await?;
    let mut e = FieldErrors::default();
    let Some(it) = types.iter().find(|t| t.id == i.instance_type_id) else {
        e.add("instance_type_id", Msg::new("validation.required"));
        return Err(AppError::Validation(e));
    };
    let included = if i.included_traffic_gb.trim().is_empty() {
        it.included_traffic_gb
    } else {
        whole("included_traffic_gb", &i.included_traffic_gb, 0, &mut e)
    };
    let t = Tier {
        id: 0,
        name: name("name", &i.name, &mut e),
        instance_type_id: it.id,
        price_per_day: decimal("price_per_day", &i.price_per_day, &mut e),
        included_traffic_gb: included,
        extra_gb_price: decimal("extra_gb_price", or_zero(&i.extra_gb_price), &mut e),
    };
    e.into_result()?;
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on!(&mut tx, |c| sqlx::query_scalar(
        "insert into pricing_tiers (name, instance_type_id, price_per_day, included_traffic_gb, extra_gb_price, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6) returning id"
    )
    .bind(&t.name)
    .bind(t.instance_type_id)
    .bind(DbDecimal(t.price_per_day))
    .bind(t.included_traffic_gb)
    .bind(DbDecimal(t.extra_gb_price))
    .bind(now)
    .fetch_one(c)
    .await)
    .map_err(DbError::from)
    .map_err(duplicate("name"))?;
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "pricing_tier",
        id,
        None,
        Some(&t),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Every tier, by name.
pub async fn tiers(db: &Db) -> Result<Vec<Tier>, DbError> {
    let rows: Vec<(i64, String, i64, DbDecimal, i64, DbDecimal)> = on!(db, |p| {
        sqlx::query_as(
        "select id, name, instance_type_id, price_per_day, included_traffic_gb, extra_gb_price from pricing_tiers order by name"
    )
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, instance_type_id, price, included_traffic_gb, extra)| Tier {
                id,
                name,
                instance_type_id,
                price_per_day: price.0,
                included_traffic_gb,
                extra_gb_price: extra.0,
            },
        )
        .collect())
}

/// One instance price of a competitor, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CompetitorPriceInput {
    /// Our instance type id.
    pub instance_type_id: i64,
    /// Their name for it.
    #[serde(default)]
    pub their_name: String,
    /// Price in their currency.
    pub price: String,
    /// `hour` or `month`.
    pub per: String,
}

/// A competitor's price list, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CompetitorInput {
    /// Name.
    pub name: String,
    /// ISO currency code of the prices.
    pub currency: String,
    /// Won per unit of that currency.
    pub fx_rate: String,
    /// Egress price per GB, their currency.
    pub egress_per_gb: String,
    /// Free egress per month, GB.
    #[serde(default)]
    pub free_egress_gb: String,
    /// Instance prices.
    #[serde(default)]
    pub prices: Vec<CompetitorPriceInput>,
}

/// Adds a competitor with its prices; returns its id.
pub async fn create_competitor(db: &Db, actor: &Actor, i: &CompetitorInput) -> AppResult<i64> {
    let types = instance_types(db).await?;
    let mut e = FieldErrors::default();
    let currency = Currency::parse(&i.currency);
    if currency.is_none() {
        e.add(
            "currency",
            Msg::new("validation.currency").arg("value", &i.currency),
        );
    }
    let fx_rate = rate("fx_rate", &i.fx_rate, &mut e);
    let mut prices = Vec::new();
    for p in &i.prices {
        if !types.iter().any(|t| t.id == p.instance_type_id) {
            e.add("instance_type_id", Msg::new("validation.required"));
        }
        let per = match p.per.as_str() {
            "hour" => Per::Hour,
            "month" => Per::Month,
            _ => {
                e.add("per", Msg::new("validation.required"));
                Per::Hour
            }
        };
        prices.push(CompetitorPrice {
            instance_type_id: p.instance_type_id,
            their_name: p.their_name.trim().to_owned(),
            price: decimal("price", &p.price, &mut e),
            per,
        });
    }
    let c = Competitor {
        id: 0,
        name: name("name", &i.name, &mut e),
        currency: currency.map(|c| c.code().to_owned()).unwrap_or_default(),
        fx_rate,
        egress_per_gb: decimal("egress_per_gb", &i.egress_per_gb, &mut e),
        free_egress_gb: whole("free_egress_gb", or_zero(&i.free_egress_gb), 0, &mut e),
        prices,
    };
    e.into_result()?;
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on!(&mut tx, |x| sqlx::query_scalar(
        "insert into competitors (name, currency, fx_rate, egress_per_gb, free_egress_gb, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6) returning id"
    )
    .bind(&c.name)
    .bind(&c.currency)
    .bind(DbDecimal(c.fx_rate))
    .bind(DbDecimal(c.egress_per_gb))
    .bind(c.free_egress_gb)
    .bind(now)
    .fetch_one(x)
    .await)
    .map_err(DbError::from)
    .map_err(duplicate("name"))?;
    for p in &c.prices {
        exec!(&mut tx, |x| sqlx::query(
            "insert into competitor_prices (competitor_id, instance_type_id, their_name, price, per, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $6)"
        )
        .bind(id)
        .bind(p.instance_type_id)
        .bind(&p.their_name)
        .bind(DbDecimal(p.price))
        .bind(p.per.as_str())
        .bind(now)
        .execute(x)
        .await)
        .map_err(DbError::from)
        .map_err(duplicate("instance_type_id"))?;
    }
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "competitor",
        id,
        None,
        Some(&c),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

type PriceRow = (i64, i64, String, DbDecimal, String);

/// Every competitor with its prices, by name.
pub async fn competitors(db: &Db) -> Result<Vec<Competitor>, DbError> {
    let rows: Vec<(i64, String, String, DbDecimal, DbDecimal, i64)> = on!(db, |p| {
        sqlx::query_as(
        "select id, name, currency, fx_rate, egress_per_gb, free_egress_gb from competitors order by name"
    )
    .fetch_all(p)
    .await
    })?;
    let prices: Vec<PriceRow> = on!(db, |p| {
        sqlx::query_as(
        "select competitor_id, instance_type_id, their_name, price, per from competitor_prices order by id"
    )
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, name, currency, fx, egress, free)| Competitor {
            id,
            name,
            currency,
            fx_rate: fx.0,
            egress_per_gb: egress.0,
            free_egress_gb: free,
            prices: prices
                .iter()
                .filter(|p| p.0 == id)
                .map(|p| CompetitorPrice {
                    instance_type_id: p.1,
                    their_name: p.2.clone(),
                    price: p.3.0,
                    per: if p.4 == "month" {
                        Per::Month
                    } else {
                        Per::Hour
                    },
                })
                .collect(),
        })
        .collect())
}
