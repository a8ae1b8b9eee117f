//! Exchange rates: base-currency units per one unit of a foreign currency,
//! each with its date and source. Orders copy the rate they used, so changing
//! or adding a rate never changes an old order.

use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use tracing::instrument;

use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbDecimal, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;
use crate::{exec, on};

/// One recorded rate.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FxRate {
    /// Row id.
    pub id: i64,
    /// Foreign currency (ISO 4217).
    pub currency: String,
    /// Base currency it converts to.
    pub base_currency: String,
    /// Day the rate applies to.
    #[schema(value_type = String, format = Date)]
    pub rate_date: Date,
    /// Base units per one unit of `currency`, exact.
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// Where it came from (bank, customs notice, hand entry).
    pub source: String,
}

#[derive(sqlx::FromRow)]
struct FxRow {
    id: i64,
    currency: String,
    base_currency: String,
    rate_date: Date,
    rate: DbDecimal,
    source: String,
}

impl From<FxRow> for FxRate {
    fn from(r: FxRow) -> Self {
        FxRate {
            id: r.id,
            currency: r.currency,
            base_currency: r.base_currency,
            rate_date: r.rate_date,
            rate: r.rate.0,
            source: r.source,
        }
    }
}

const COLUMNS: &str = "id, currency, base_currency, rate_date, rate, source";

/// The most recent rates first, optionally for one currency.
pub async fn list(db: &Db, currency: Option<&str>, limit: i64) -> Result<Vec<FxRate>, DbError> {
    let sql = format!(
        "select {COLUMNS} from fx_rates where (cast($1 as text) is null or currency = $1)
         order by rate_date desc, currency limit $2"
    );
    let rows: Vec<FxRow> = on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(currency)
            .bind(limit)
            .fetch_all(p)
            .await
    })?;
    Ok(rows.into_iter().map(FxRate::from).collect())
}

/// The rate in force on `date`: the latest recorded on or before it.
pub async fn rate_on(
    db: &Db,
    currency: Currency,
    base: Currency,
    date: Date,
) -> Result<Option<FxRate>, DbError> {
    if currency == base {
        return Ok(Some(FxRate {
            id: 0,
            currency: currency.code().into(),
            base_currency: base.code().into(),
            rate_date: date,
            rate: Decimal::ONE,
            source: "identity".into(),
        }));
    }
    let sql = format!(
        "select {COLUMNS} from fx_rates where currency = $1 and base_currency = $2 and rate_date <= $3
         order by rate_date desc limit 1"
    );
    let row: Option<FxRow> = on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(currency.code())
            .bind(base.code())
            .bind(date)
            .fetch_optional(p)
            .await
    })?;
    Ok(row.map(FxRate::from))
}

/// A validated rate to record.
#[derive(Clone, Debug)]
pub struct NewRate {
    /// Foreign currency.
    pub currency: Currency,
    /// Day it applies to.
    pub date: Date,
    /// Base units per unit, > 0.
    pub rate: Decimal,
    /// Source text.
    pub source: String,
}

/// Parses one rate from form or CSV text; errors name the field.
pub fn parse_rate(
    currency: &str,
    date: &str,
    rate: &str,
    source: &str,
    base: Currency,
) -> Result<NewRate, FieldErrors> {
    let mut errors = FieldErrors::default();
    let cur = Currency::parse(currency);
    match cur {
        None => errors.add(
            "currency",
            Msg::new("validation.currency").arg("value", currency.trim()),
        ),
        Some(c) if c == base => errors.add(
            "currency",
            Msg::new("fx.same_as_base").arg("value", c.code()),
        ),
        Some(_) => {}
    }
    let d = parse_date(date);
    if d.is_none() {
        errors.add(
            "rate_date",
            Msg::new("validation.date").arg("value", date.trim()),
        );
    }
    let r = rate
        .trim()
        .replace(',', "")
        .parse::<Decimal>()
        .ok()
        .filter(|r| *r > Decimal::ZERO && r.scale() <= 10);
    if r.is_none() {
        errors.add(
            "rate",
            Msg::new("validation.rate").arg("value", rate.trim()),
        );
    }
    match (cur, d, r) {
        (Some(currency), Some(date), Some(rate)) if errors.is_empty() => Ok(NewRate {
            currency,
            date,
            rate: rate.normalize(),
            source: source.trim().chars().take(200).collect(),
        }),
        _ => Err(errors),
    }
}

/// Parses an ISO date `2026-11-27`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Records (or replaces) the rate of a currency on a day.
#[instrument(skip_all)]
pub async fn set_rate(db: &Db, actor: &Actor, base: Currency, r: &NewRate) -> AppResult<i64> {
    let mut tx = db.begin().await?;
    let id = upsert(&mut tx, actor, base, r).await?;
    tx.commit().await?;
    Ok(id)
}

async fn upsert(tx: &mut Tx, actor: &Actor, base: Currency, r: &NewRate) -> AppResult<i64> {
    let now = crate::clock::now();
    let existing: Option<FxRow> = on!(tx, |c| {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from fx_rates where currency = $1 and base_currency = $2 and rate_date = $3"
        )))
        .bind(r.currency.code())
        .bind(base.code())
        .bind(r.date)
        .fetch_optional(c)
        .await
    })?;
    let after = |id| FxRate {
        id,
        currency: r.currency.code().into(),
        base_currency: base.code().into(),
        rate_date: r.date,
        rate: r.rate,
        source: r.source.clone(),
    };
    match existing {
        Some(old) => {
            exec!(tx, |c| {
                sqlx::query(
                    "update fx_rates set rate = $1, source = $2, updated_at = $3 where id = $4",
                )
                .bind(DbDecimal(r.rate))
                .bind(&r.source)
                .bind(now)
                .bind(old.id)
                .execute(c)
                .await
            })?;
            let id = old.id;
            audit::record(
                tx,
                actor,
                Action::Update,
                "fx_rate",
                id,
                Some(&FxRate::from(old)),
                Some(&after(id)),
            )
            .await?;
            Ok(id)
        }
        None => {
            let id: i64 = on!(tx, |c| {
                sqlx::query_scalar(
                    "insert into fx_rates (currency, base_currency, rate_date, rate, source, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, $6) returning id",
                )
                .bind(r.currency.code())
                .bind(base.code())
                .bind(r.date)
                .bind(DbDecimal(r.rate))
                .bind(&r.source)
                .bind(now)
                .fetch_one(c)
                .await
            })?;
            audit::record(
                tx,
                actor,
                Action::Create,
                "fx_rate",
                id,
                None,
                Some(&after(id)),
            )
            .await?;
            Ok(id)
        }
    }
}

/// Outcome of a rates CSV import.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RatesImport {
    /// Rates written.
    pub written: usize,
    /// Problems, one per bad row: (line number, message).
    pub errors: Vec<(usize, Msg)>,
}

/// Imports rates from CSV text with a header `currency,date,rate[,source]`.
/// All rows are checked first; nothing is written unless every row is good.
pub async fn import_csv(
    db: &Db,
    actor: &Actor,
    base: Currency,
    text: &str,
) -> AppResult<RatesImport> {
    // The header line is optional: reading the first line as a header
    // unconditionally silently dropped the first rate of a headerless paste.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut good = Vec::new();
    let mut out = RatesImport::default();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.errors
                    .push((line, Msg::new("fx.bad_csv").arg("detail", e)));
                continue;
            }
        };
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let field = |n| rec.get(n).unwrap_or("");
        if i == 0 && looks_like_header(field(0), field(2)) {
            continue;
        }
        match parse_rate(field(0), field(1), field(2), field(3), base) {
            Ok(r) => good.push(r),
            Err(errs) => out.errors.extend(
                errs.0
                    .into_iter()
                    .map(|e| (line, e.message.arg("field", e.field))),
            ),
        }
    }
    if !out.errors.is_empty() {
        return Ok(out);
    }
    let mut tx = db.begin().await?;
    for r in &good {
        upsert(&mut tx, actor, base, r).await?;
    }
    tx.commit().await?;
    out.written = good.len();
    Ok(out)
}

/// Whether a first line is a header (`currency,date,rate,...`) rather than a
/// rate: its rate field is not a number and its first field is not a
/// three-letter code. A mistyped rate line is then still reported, not skipped.
fn looks_like_header(currency: &str, rate: &str) -> bool {
    let code = currency.trim();
    let is_code = code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic());
    let is_number = rate.trim().replace(',', "").parse::<Decimal>().is_ok();
    !is_number && !is_code
}

/// Today's date in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Turns field errors into an application error.
pub fn invalid(errors: FieldErrors) -> AppError {
    AppError::Validation(errors)
}
