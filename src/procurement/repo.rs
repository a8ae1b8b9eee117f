//! Queries for suppliers and part models.

use rust_decimal::Decimal;

use super::model::{PartModelRow, Supplier};
use crate::db::{Conn, Db, DbDecimal, DbError, Tx};
use crate::{exec, on};

const SUPPLIER_COLUMNS: &str = "id, name, country, currency, lead_time_days, payment_terms, contact, notes, created_at, updated_at";

/// Supplier fields, validated.
pub struct SupplierFields<'a> {
    /// Name.
    pub name: &'a str,
    /// Country code.
    pub country: &'a str,
    /// Currency code.
    pub currency: &'a str,
    /// Lead time, days.
    pub lead_time_days: i32,
    /// Payment terms.
    pub payment_terms: &'a str,
    /// Contacts.
    pub contact: &'a str,
    /// Notes.
    pub notes: &'a str,
}

/// The `order by` of the supplier list for `sort`: a key of
/// [`SUPPLIER_SORTS`], `-key` for descending; else by name.
pub fn supplier_order(sort: &str) -> String {
    // `updated` was "recently changed first" before sorts had a direction.
    let sort = if sort == "updated" { "-updated" } else { sort };
    crate::db::Sort::parse(sort).order_by(SUPPLIER_SORTS, "lower(name)", "id")
}

/// The columns the supplier list sorts by (`key`, SQL).
pub const SUPPLIER_SORTS: &[(&str, &str)] = &[
    ("name", "lower(name)"),
    ("country", "country"),
    ("currency", "currency"),
    ("lead_time", "lead_time_days"),
    ("payment_terms", "lower(payment_terms)"),
    ("updated", "updated_at"),
];

/// A page of suppliers matching `q` (name, country, currency), and the total.
pub async fn list_suppliers(
    db: &Db,
    q: Option<&str>,
    sort: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Supplier>, i64), DbError> {
    let pattern = q.map(crate::db::like_contains);
    let order = supplier_order(sort);
    crate::db::Paged {
        columns: SUPPLIER_COLUMNS,
        from: "from suppliers where (cast($1 as text) is null or lower(name) like $1 escape '\\' or lower(country) like $1 escape '\\' or lower(currency) like $1 escape '\\')",
        order: &order,
        texts: &[pattern.as_deref()],
    }
    .fetch(db, limit, offset)
    .await
}

/// One supplier.
pub async fn get_supplier(db: impl Into<Conn<'_>>, id: i64) -> Result<Supplier, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("select {SUPPLIER_COLUMNS} from suppliers where id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// Inserts a supplier; returns its id.
pub async fn insert_supplier(tx: &mut Tx, f: &SupplierFields<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into suppliers (name, country, currency, lead_time_days, payment_terms, contact, notes, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning id",
        )
        .bind(f.name)
        .bind(f.country)
        .bind(f.currency)
        .bind(f.lead_time_days)
        .bind(f.payment_terms)
        .bind(f.contact)
        .bind(f.notes)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// Replaces a supplier's fields.
pub async fn update_supplier(tx: &mut Tx, id: i64, f: &SupplierFields<'_>) -> Result<(), DbError> {
    let now = crate::clock::now();
    let done = exec!(tx, |c| {
        sqlx::query(
            "update suppliers set name = $1, country = $2, currency = $3, lead_time_days = $4,
               payment_terms = $5, contact = $6, notes = $7, updated_at = $8 where id = $9",
        )
        .bind(f.name)
        .bind(f.country)
        .bind(f.currency)
        .bind(f.lead_time_days)
        .bind(f.payment_terms)
        .bind(f.contact)
        .bind(f.notes)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?;
    if done == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// Number of suppliers.
pub async fn count_suppliers(db: &Db) -> Result<i64, DbError> {
    Ok(on!(db, |p| sqlx::query_scalar(
        "select count(*) from suppliers"
    )
    .fetch_one(p)
    .await)?)
}

const PART_COLUMNS: &str = "id, manufacturer, mpn, category, description, serial_tracked, last_price,
    last_price_currency, cores, memory_gib, capacity_gb, power_watts, speed, form_factor, end_of_life, created_at,
    updated_at";

/// Part model fields, validated.
pub struct PartFields<'a> {
    /// Manufacturer.
    pub manufacturer: &'a str,
    /// MPN.
    pub mpn: &'a str,
    /// Category.
    pub category: &'a str,
    /// Description.
    pub description: &'a str,
    /// Serial-tracked.
    pub serial_tracked: bool,
    /// Last price and its currency.
    pub last_price: Option<(Decimal, &'a str)>,
    /// Typed specs.
    pub specs: &'a super::model::Specs,
    /// End of life.
    pub end_of_life: Option<time::Date>,
}

/// A page of part models matching `q` (manufacturer, MPN, description) and
/// `category`, and the total.
pub async fn list_part_models(
    db: &Db,
    q: Option<&str>,
    category: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PartModelRow>, i64), DbError> {
    list_part_models_sorted(db, q, category, "", limit, offset).await
}

/// Sort orders offered on the catalogue.
pub fn part_order(sort: &str) -> String {
    // `updated` was "recently changed first" before sorts had a direction.
    let sort = if sort == "updated" { "-updated" } else { sort };
    // The web layer kept the sort only when its user may use it (prices: money roles).
    crate::db::Sort::parse(sort).order_by(PART_SORTS, "category, lower(manufacturer), mpn", "id")
}

/// The specs column's sort: the part's headline figure (cores, memory,
/// capacity or power, whichever it has; meaningful within a category).
const SPECS_SORT: (&str, &str) = (
    "specs",
    "coalesce(cores, memory_gib, capacity_gb, power_watts)",
);

/// The last price's sort, for roles that see money only: by currency, then
/// the amount (prices in different currencies are not compared).
const LAST_PRICE_SORT: (&str, &str) = (
    "last_price",
    "last_price_currency | cast(last_price as numeric)",
);

/// The columns the part list sorts by (`key`, SQL); a role that does not
/// see money has the [`PART_MONEY_SORTS`] taken out.
pub const PART_SORTS: &[(&str, &str)] = &[
    SPECS_SORT,
    LAST_PRICE_SORT,
    ("category", "category"),
    ("manufacturer", "lower(manufacturer)"),
    ("mpn", "mpn"),
    ("description", "lower(description)"),
    ("tracking", "serial_tracked"),
    ("updated", "updated_at"),
];

/// The part list's sorts only for roles that see money.
pub const PART_MONEY_SORTS: &[&str] = &["last_price"];

/// [`list_part_models`] in a chosen order (see [`part_order`]).
pub async fn list_part_models_sorted(
    db: &Db,
    q: Option<&str>,
    category: Option<&str>,
    sort: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PartModelRow>, i64), DbError> {
    let pattern = q.map(crate::db::like_contains);
    let order = part_order(sort);
    crate::db::Paged {
        columns: PART_COLUMNS,
        from: "from part_models
            where (cast($1 as text) is null or lower(manufacturer) like $1 escape '\\' or lower(mpn) like $1 escape '\\'
                   or lower(description) like $1 escape '\\')
              and (cast($2 as text) is null or category = $2)",
        order: &order,
        texts: &[pattern.as_deref(), category],
    }
    .fetch(db, limit, offset)
    .await
}

/// Inserts a part model; returns its id.
pub async fn insert_part_model(tx: &mut Tx, f: &PartFields<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    let (price, currency) = match f.last_price {
        Some((p, c)) => (Some(DbDecimal(p)), Some(c)),
        None => (None, None),
    };
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into part_models (manufacturer, mpn, category, description, serial_tracked, last_price,
               last_price_currency, cores, memory_gib, capacity_gb, power_watts, speed, form_factor,
               end_of_life, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) returning id",
        )
        .bind(f.manufacturer)
        .bind(f.mpn)
        .bind(f.category)
        .bind(f.description)
        .bind(f.serial_tracked)
        .bind(price)
        .bind(currency)
        .bind(f.specs.cores)
        .bind(f.specs.memory_gib)
        .bind(f.specs.capacity_gb)
        .bind(f.specs.power_watts)
        .bind(&f.specs.speed)
        .bind(&f.specs.form_factor)
        .bind(f.end_of_life)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// Replaces a part model's fields.
pub async fn update_part_model(tx: &mut Tx, id: i64, f: &PartFields<'_>) -> Result<(), DbError> {
    let now = crate::clock::now();
    let (price, currency) = match f.last_price {
        Some((p, c)) => (Some(DbDecimal(p)), Some(c)),
        None => (None, None),
    };
    let n = crate::exec!(tx, |c| {
        sqlx::query(
            "update part_models set manufacturer = $1, mpn = $2, category = $3, description = $4, serial_tracked = $5,
               last_price = $6, last_price_currency = $7, cores = $8, memory_gib = $9, capacity_gb = $10,
               power_watts = $11, speed = $12, form_factor = $13, end_of_life = $14, updated_at = $15
             where id = $16",
        )
        .bind(f.manufacturer)
        .bind(f.mpn)
        .bind(f.category)
        .bind(f.description)
        .bind(f.serial_tracked)
        .bind(price)
        .bind(currency)
        .bind(f.specs.cores)
        .bind(f.specs.memory_gib)
        .bind(f.specs.capacity_gb)
        .bind(f.specs.power_watts)
        .bind(&f.specs.speed)
        .bind(&f.specs.form_factor)
        .bind(f.end_of_life)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// One part model.
pub async fn get_part_model(db: impl Into<Conn<'_>>, id: i64) -> Result<PartModelRow, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("select {PART_COLUMNS} from part_models where id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// Number of part models.
pub async fn count_part_models(db: &Db) -> Result<i64, DbError> {
    Ok(on!(db, |p| sqlx::query_scalar(
        "select count(*) from part_models"
    )
    .fetch_one(p)
    .await)?)
}

/// Records the price a supplier quoted last for a part model (a price list import).
pub async fn set_last_price(
    tx: &mut Tx,
    id: i64,
    price: rust_decimal::Decimal,
    currency: &str,
    now: time::OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query("update part_models set last_price = $1, last_price_currency = $2, updated_at = $3 where id = $4")
            .bind(DbDecimal(price))
            .bind(currency)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Sets the supplier a part model is reordered from.
pub async fn set_preferred_supplier(
    tx: &mut Tx,
    id: i64,
    supplier_id: i64,
    now: time::OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
            "update part_models set preferred_supplier_id = $1, updated_at = $2 where id = $3",
        )
        .bind(supplier_id)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?;
    Ok(())
}
