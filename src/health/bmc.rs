//! BMC records: one per asset, with its URL, user, sealed password and TLS
//! policy. The password is write-only: it is sealed with the master key on
//! save and opened only by the poller; no page, API response, log line or
//! audit row carries it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tracing::instrument;

use super::redfish::{Credentials, TlsPolicy, client::parse_bmc_url};
use super::secret::{MasterKey, Sealed};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::{exec, on};

/// A BMC as pages and the API show it (never the password).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Bmc {
    /// Row id.
    pub id: i64,
    /// Asset it belongs to.
    pub asset_id: i64,
    /// Origin of the Redfish service (`https://10.0.0.5`).
    pub url: String,
    /// Redfish user name.
    pub username: String,
    /// Whether a password is stored.
    pub has_password: bool,
    /// `verify`, `pinned` or `insecure`.
    pub tls_policy: String,
    /// The pinned CA (PEM), for `pinned`.
    pub ca_cert_pem: Option<String>,
    /// Polled at all.
    pub enabled: bool,
    /// When the poller is next due, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub next_poll_at: OffsetDateTime,
    /// Failed polls in a row.
    pub consecutive_failures: i64,
    /// Last poll attempt, UTC.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub last_polled_at: Option<OffsetDateTime>,
    /// Last successful poll, UTC.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub last_success_at: Option<OffsetDateTime>,
    /// Why the last poll failed.
    pub last_error: Option<String>,
    /// Not answering since, UTC.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub failing_since: Option<OffsetDateTime>,
    /// Last change of the settings, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
}

impl Bmc {
    /// Why the last poll failed, in the user's words (when it may be seen).
    pub fn problem(&self) -> Option<Msg> {
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

    /// As `admin` may see it: the last poll's error names what answered at
    /// the BMC's address (a refused port, a timeout, a TLS failure), which
    /// would let anyone who may set a BMC URL map the network behind it; so
    /// only admins read it, and others see only that the BMC is not answering.
    pub fn for_viewer(mut self, admin: bool) -> Bmc {
        if !admin {
            self.last_error = None;
        }
        self
    }

    /// Whether certificate checks are off (shown as a warning wherever it applies).
    pub fn insecure(&self) -> bool {
        self.tls_policy == "insecure"
    }

    /// The TLS policy as the client takes it.
    pub fn tls(&self) -> TlsPolicy {
        match self.tls_policy.as_str() {
            "pinned" => TlsPolicy::Pinned(self.ca_cert_pem.clone().unwrap_or_default()),
            "insecure" => TlsPolicy::Insecure,
            _ => TlsPolicy::Verify,
        }
    }
}

/// The columns of a [`Bmc`] (for `select` and `returning`).
pub(crate) const BMC_COLUMNS: &str = "id, asset_id, url, username, password_ciphertext is not null as has_password,
    tls_policy, ca_cert_pem, enabled, next_poll_at, consecutive_failures, last_polled_at, last_success_at,
    last_error, failing_since, updated_at";

/// The BMC of an asset, if it has one.
pub async fn for_asset(db: &Db, asset_id: i64) -> Result<Option<Bmc>, DbError> {
    let sql = format!("select {BMC_COLUMNS} from bmcs where asset_id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(asset_id)
    .fetch_optional(p)
    .await)?)
}

/// One BMC by id.
pub async fn get(db: &Db, id: i64) -> Result<Bmc, DbError> {
    let sql = format!("select {BMC_COLUMNS} from bmcs where id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// A BMC form or API body. An empty password keeps the stored one.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BmcInput {
    /// `https://host[:port]`.
    pub url: String,
    /// Redfish user name.
    #[serde(default)]
    pub username: String,
    /// New password; empty keeps the stored one. Never sent back.
    #[serde(default, skip_serializing)]
    pub password: String,
    /// `verify`, `pinned` or `insecure`.
    pub tls_policy: String,
    /// PEM of the CA to pin (for `pinned`).
    #[serde(default)]
    pub ca_cert_pem: String,
}

/// What a BMC URL holds beyond `scheme://host[:port]` (a path, a query or
/// a fragment), which would otherwise be dropped without a word; the
/// Redfish root `/redfish/v1` is where the client goes anyway, so allowed.
fn beyond_origin(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    let path = url.path().trim_end_matches('/');
    let extra = match (path, url.query(), url.fragment()) {
        ("" | "/redfish/v1", None, None) => return None,
        (p, q, f) => format!(
            "{p}{}{}",
            q.map(|q| format!("?{q}")).unwrap_or_default(),
            f.map(|f| format!("#{f}")).unwrap_or_default()
        ),
    };
    Some(extra)
}

fn validate(input: &BmcInput) -> Result<(), AppError> {
    let mut f = FieldErrors::default();
    if parse_bmc_url(&input.url).is_err() {
        f.add("url", Msg::new("health.bad_url"));
    } else if let Some(extra) = beyond_origin(&input.url) {
        f.add("url", Msg::new("ops2.bmc_url_origin").arg("extra", extra));
    }
    match input.tls_policy.as_str() {
        "verify" | "insecure" => {}
        "pinned" => {
            if super::redfish::client::pinned_roots(input.ca_cert_pem.trim()).is_err() {
                f.add("ca_cert_pem", Msg::new("health.bad_ca"));
            }
        }
        _ => f.add("tls_policy", Msg::new("validation.required")),
    }
    if input.username.trim().len() > 100 {
        f.add("username", Msg::new("validation.too_long").arg("max", 100));
    }
    f.into_result()
}

/// What the audit log keeps of a BMC (no password).
#[derive(Serialize)]
struct AuditView<'a> {
    url: &'a str,
    username: &'a str,
    tls_policy: &'a str,
    password_changed: bool,
}

/// Creates or updates the BMC of `asset_id`; a new password needs the master key.
#[instrument(skip_all, fields(asset = asset_id))]
pub async fn save(
    db: &Db,
    key: Option<&MasterKey>,
    actor: &Actor,
    asset_id: i64,
    input: &BmcInput,
) -> AppResult<i64> {
    validate(input)?;
    let new_password = !input.password.is_empty();
    if new_password && key.is_none() {
        let mut f = FieldErrors::default();
        f.add("password", Msg::new("health.no_master_key"));
        return Err(AppError::Validation(f));
    }
    let url = parse_bmc_url(&input.url)
        .map_err(|e| AppError::Upstream(e.to_string()))?
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let ca = (input.tls_policy == "pinned").then(|| input.ca_cert_pem.trim().to_owned());
    // New settings poll at once and count failures afresh (a failure with
    // them is a new `unreachable` event with its own reason), but keep
    // `failing_since`: the BMC has not answered since then, and the poll
    // that finds it answering records that it answers again.
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let before: Option<(String, String, String)> = on!(&mut tx, |c| {
        sqlx::query_as("select url, username, tls_policy from bmcs where asset_id = $1")
            .bind(asset_id)
            .fetch_optional(c)
            .await
    })?;
    let id: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into bmcs (asset_id, url, username, tls_policy, ca_cert_pem, next_poll_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $6, $6)
             on conflict (asset_id) do update set url = excluded.url, username = excluded.username,
               tls_policy = excluded.tls_policy, ca_cert_pem = excluded.ca_cert_pem,
               next_poll_at = excluded.next_poll_at, consecutive_failures = 0,
               updated_at = excluded.updated_at
             returning id",
        )
        .bind(asset_id)
        .bind(&url)
        .bind(input.username.trim())
        .bind(&input.tls_policy)
        .bind(&ca)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    if let (true, Some(key)) = (new_password, key) {
        let sealed = key.seal(id, &input.password)?;
        store_sealed(&mut tx, id, Some(&sealed), now).await?;
    }
    let view = AuditView {
        url: &url,
        username: input.username.trim(),
        tls_policy: &input.tls_policy,
        password_changed: new_password,
    };
    let before = before
        .as_ref()
        .map(|(url, username, tls_policy)| AuditView {
            url,
            username,
            tls_policy,
            password_changed: false,
        });
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "bmc",
        id,
        before.as_ref(),
        Some(&view),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn store_sealed(
    tx: &mut Tx,
    id: i64,
    sealed: Option<&Sealed>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
            "update bmcs set password_key_id = $1, password_nonce = $2, password_ciphertext = $3, updated_at = $4 where id = $5",
        )
        .bind(sealed.map(|s| &s.key_id))
        .bind(sealed.map(|s| &s.nonce))
        .bind(sealed.map(|s| &s.ciphertext))
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Removes the BMC of an asset (its readings and state stay).
pub async fn delete(db: &Db, actor: &Actor, asset_id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let id: Option<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar("delete from bmcs where asset_id = $1 returning id")
            .bind(asset_id)
            .fetch_optional(c)
            .await
    })?;
    let id = id.ok_or(AppError::NotFound)?;
    audit::record::<()>(&mut tx, actor, Action::Delete, "bmc", id, None, None).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    password_key_id: Option<String>,
    password_nonce: Option<String>,
    password_ciphertext: Option<String>,
}

impl SealedRow {
    fn sealed(self) -> Option<Sealed> {
        Some(Sealed {
            key_id: self.password_key_id?,
            nonce: self.password_nonce?,
            ciphertext: self.password_ciphertext?,
        })
    }
}

/// The login for a BMC: its user and, when a password is stored, the opened
/// password. Fails when a password is stored but the key cannot open it.
pub async fn credentials(
    db: &Db,
    key: Option<&MasterKey>,
    bmc: &Bmc,
) -> anyhow::Result<Option<Credentials>> {
    if bmc.username.is_empty() {
        return Ok(None);
    }
    let row: SealedRow = on!(db, |p| {
        sqlx::query_as(
            "select password_key_id, password_nonce, password_ciphertext from bmcs where id = $1",
        )
        .bind(bmc.id)
        .fetch_one(p)
        .await
    })?;
    let password = match row.sealed() {
        None => zeroize::Zeroizing::new(String::new()),
        Some(sealed) => {
            let Some(key) = key else {
                anyhow::bail!(
                    "a BMC password is stored but no master key is set ({} or {})",
                    super::secret::KEY_ENV,
                    super::secret::KEY_FILE_ENV
                );
            };
            key.open(bmc.id, &sealed)?
        }
    };
    Ok(Some(Credentials {
        username: bmc.username.clone(),
        password,
    }))
}

/// Re-seals every stored password from `old` to `new` in one transaction;
/// returns how many were re-sealed. Rows already under `new` are left alone.
pub async fn rekey(db: &Db, old: &MasterKey, new: &MasterKey) -> anyhow::Result<u64> {
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let rows: Vec<(i64, String, String, String)> = on!(&mut tx, |c| {
        sqlx::query_as(
            "select id, password_key_id, password_nonce, password_ciphertext from bmcs
             where password_ciphertext is not null and password_key_id <> $1",
        )
        .bind(new.id())
        .fetch_all(c)
        .await
    })?;
    let mut n = 0;
    for (id, key_id, nonce, ciphertext) in rows {
        let sealed = Sealed {
            key_id,
            nonce,
            ciphertext,
        };
        let plain = old.open(id, &sealed)?;
        let resealed = new.seal(id, &plain)?;
        store_sealed(&mut tx, id, Some(&resealed), now).await?;
        n += 1;
    }
    audit::record(
        &mut tx,
        &Actor::system("cli"),
        Action::Update,
        "bmc_keys",
        0,
        None,
        Some(&serde_json::json!({"rekeyed": n, "key_id": new.id()})),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Makes a BMC due now (the "poll now" button); the poller picks it up on its next tick.
pub async fn poll_soon(db: &Db, asset_id: i64) -> Result<bool, DbError> {
    let now = crate::clock::now();
    let n = exec!(db, |p| {
        sqlx::query("update bmcs set next_poll_at = $1, updated_at = $1 where asset_id = $2")
            .bind(now)
            .bind(asset_id)
            .execute(p)
            .await
    })?;
    Ok(n == 1)
}
