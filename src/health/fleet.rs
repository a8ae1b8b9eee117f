//! What the fleet page shows: how many BMCs there are, which do not answer,
//! and which assets report Warning or Critical.

use time::OffsetDateTime;

use crate::db::{Db, DbError};
use crate::on;

/// BMCs on record, and how many of them skip TLS verification (`insecure`).
pub async fn bmc_counts(db: &Db) -> Result<(i64, i64), DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select cast(count(*) as bigint), cast(coalesce(sum(case when tls_policy = 'insecure' then 1 else 0 end), 0) as bigint) from bmcs",
        )
        .fetch_one(p)
        .await
    })?)
}

/// A BMC that does not answer, for the fleet page.
#[derive(sqlx::FromRow)]
pub struct Silent {
    /// Asset.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// BMC URL.
    pub url: String,
    /// Since when, UTC.
    pub failing_since: OffsetDateTime,
    /// Failures in a row.
    pub consecutive_failures: i64,
    /// Last reason.
    pub last_error: Option<String>,
    /// TLS policy (insecure is flagged).
    pub tls_policy: String,
}

impl Silent {
    /// Why the last poll failed, in the user's words.
    pub fn problem(&self) -> Option<crate::i18n::Msg> {
        self.last_error
            .as_deref()
            .map(super::redfish::client::explain_stored)
    }

    /// The technical text of the last error, when the message does not quote it.
    pub fn problem_detail(&self) -> Option<&str> {
        self.last_error
            .as_deref()
            .and_then(super::redfish::client::stored_detail)
    }
}

/// An asset whose BMC reports Warning or Critical.
#[derive(sqlx::FromRow)]
pub struct Unhealthy {
    /// Asset.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// warning or critical.
    pub worst: String,
    /// Last poll, UTC.
    pub polled_at: OffsetDateTime,
}

/// Assets whose BMC is failing, longest first.
pub async fn silent(db: &Db) -> Result<Vec<Silent>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select b.asset_id, a.asset_tag, b.url, b.failing_since, b.consecutive_failures, b.last_error, b.tls_policy
             from bmcs b join assets a on a.id = b.asset_id where b.failing_since is not null
             order by b.failing_since, a.asset_tag",
        )
        .fetch_all(p)
        .await
    })?)
}

/// Assets whose BMC reports Warning or Critical, critical first.
pub async fn unhealthy(db: &Db) -> Result<Vec<Unhealthy>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select h.asset_id, a.asset_tag, h.worst, h.polled_at from health_latest h join assets a on a.id = h.asset_id
             where h.worst <> 'ok' order by h.worst = 'critical' desc, a.asset_tag",
        )
        .fetch_all(p)
        .await
    })?)
}

/// One BMC as the BMC list shows it.
#[derive(sqlx::FromRow)]
pub struct BmcRow {
    /// BMC id.
    pub id: i64,
    /// Asset.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// BMC URL.
    pub url: String,
    /// Login user.
    pub username: String,
    /// TLS policy.
    pub tls_policy: String,
    /// Polled at all.
    pub enabled: bool,
    /// Failures in a row (0 when answering).
    pub consecutive_failures: i64,
    /// Last answer, UTC.
    pub last_success_at: Option<OffsetDateTime>,
}

/// The columns the BMC list sorts by (`key`, SQL).
pub const BMC_SORTS: &[(&str, &str)] = &[
    ("asset", "lower(a.asset_tag)"),
    ("url", "lower(b.url)"),
    ("tls", "b.tls_policy"),
    ("failures", "b.consecutive_failures"),
    ("last_success", "b.last_success_at"),
];

/// BMCs whose asset tag or URL holds `q` (any case), in the order of `sort`
/// (a key of [`BMC_SORTS`]; else by asset tag), one page, and how many match.
pub async fn bmcs(
    db: &Db,
    q: Option<&str>,
    sort: &crate::db::Sort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<BmcRow>, i64), DbError> {
    let pattern = q.map(crate::db::like_contains);
    let order = sort.order_by(BMC_SORTS, "lower(a.asset_tag)", "b.id");
    crate::db::Paged {
        columns: "b.id, b.asset_id, a.asset_tag, b.url, b.username, b.tls_policy, b.enabled,
                b.consecutive_failures, b.last_success_at",
        from: "from bmcs b join assets a on a.id = b.asset_id
        where (cast($1 as text) is null or lower(a.asset_tag) like $1 escape '\\' or lower(b.url) like $1 escape '\\')",
        order: &order,
        texts: &[pattern.as_deref()],
    }
    .fetch(db, limit, offset)
    .await
}
