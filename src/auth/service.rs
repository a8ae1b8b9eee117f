//! Account rules: creating and changing users, logging in and out, sessions,
//! API tokens; logins claim their attempt on the back-off (`throttle`).

use serde::Deserialize;
use time::Duration;
use tracing::instrument;

use super::model::{AuthVia, CurrentUser, Role};
use super::repo::{self, AuthRow, NewUser, UserRow};
use super::{secret, throttle};
use crate::audit::{self, Action, Actor};
use crate::config::Config;
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::{Lang, Msg};

/// What it takes to create a user.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserInput {
    /// Login name: 2-64 of a-z, 0-9, `.`, `_`, `-` (stored lower case).
    pub username: String,
    /// Name shown in the interface; the login name if empty.
    #[serde(default)]
    pub display_name: String,
    /// At least 10 characters.
    pub password: String,
    /// admin, procurement, technician, manager or viewer.
    pub role: String,
    /// Home site id (a technician's home shows its alerts and work); none if absent.
    #[serde(default)]
    pub home_site_id: Option<i64>,
}

/// The fields an admin can change on a user.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct UserUpdate {
    /// Name shown in the interface.
    pub display_name: String,
    /// New role name.
    pub role: String,
    /// Disable (true) or enable (false) the account.
    #[serde(default)]
    pub disabled: bool,
    /// A new password, set by the admin; empty keeps the old one.
    #[serde(default)]
    pub new_password: Option<String>,
    /// Home site id; `null` clears it, absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub home_site_id: Option<Option<i64>>,
}

/// A field that is present (even as `null`) is `Some`; absent is the default `None`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Adds an error on `home_site` unless `site` is none or an existing site.
async fn check_site(db: &Db, site: Option<i64>, errors: &mut FieldErrors) -> AppResult<()> {
    if let Some(id) = site {
        let sites = crate::datacenter::racks::sites(db).await?;
        if !sites.iter().any(|(s, _)| *s == id) {
            errors.add("home_site", Msg::new("home3.unknown_site"));
        }
    }
    Ok(())
}

fn normalise_username(raw: &str, errors: &mut FieldErrors) -> String {
    let name = raw.trim().to_lowercase();
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !(2..=64).contains(&name.chars().count()) || !ok_chars {
        errors.add("username", Msg::new("validation.username"));
    }
    name
}

fn check_password(field: &str, password: &str, errors: &mut FieldErrors) {
    if password.chars().count() < secret::MIN_PASSWORD_CHARS {
        errors.add(
            field,
            Msg::new("validation.password_short").arg("min", secret::MIN_PASSWORD_CHARS),
        );
    }
}

fn parse_role(raw: &str, errors: &mut FieldErrors) -> Role {
    Role::parse(raw).unwrap_or_else(|| {
        errors.add("role", Msg::new("validation.role"));
        Role::Viewer
    })
}

/// Creates a user; the password is hashed with argon2id. Returns the new id.
#[instrument(skip_all, fields(username = %input.username))]
pub async fn create_user(db: &Db, actor: &Actor, input: &NewUserInput, tz: &str) -> AppResult<i64> {
    let mut errors = FieldErrors::default();
    let username = normalise_username(&input.username, &mut errors);
    check_password("password", &input.password, &mut errors);
    let role = parse_role(&input.role, &mut errors);
    check_site(db, input.home_site_id, &mut errors).await?;
    let display = input.display_name.trim();
    if display.chars().count() > 100 {
        errors.add(
            "display_name",
            Msg::new("validation.too_long").arg("max", 100),
        );
    }
    errors.into_result()?;
    let display = if display.is_empty() {
        username.as_str()
    } else {
        display
    };
    let hash = secret::hash_password(input.password.clone()).await?;
    let mut tx = db.begin().await?;
    let new = NewUser {
        username: &username,
        display_name: display,
        password_hash: &hash,
        role: role.as_str(),
        time_zone: tz,
    };
    let id = repo::insert_user(&mut tx, &new)
        .await
        .map_err(|e| match e {
            crate::db::DbError::Unique(_) => {
                let mut f = FieldErrors::default();
                f.add("username", Msg::new("validation.username_taken"));
                AppError::Validation(f)
            }
            other => other.into(),
        })?;
    if input.home_site_id.is_some() {
        repo::set_home_site(&mut tx, id, input.home_site_id).await?;
    }
    let after = repo::get_user(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "user",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a user's display name, role, disabled flag and optionally password.
/// Disabling ends the user's sessions at once; their tokens stop working
/// because every token lookup checks the flag. The last enabled admin cannot
/// be demoted or disabled.
#[instrument(skip_all, fields(user_id = id))]
pub async fn update_user(db: &Db, actor: &Actor, id: i64, input: &UserUpdate) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    let role = parse_role(&input.role, &mut errors);
    let display = input.display_name.trim();
    if display.is_empty() || display.chars().count() > 100 {
        errors.add("display_name", Msg::new("validation.required"));
    }
    let new_password = input.new_password.as_deref().filter(|p| !p.is_empty());
    if let Some(p) = new_password {
        check_password("new_password", p, &mut errors);
    }
    check_site(db, input.home_site_id.flatten(), &mut errors).await?;
    errors.into_result()?;
    let hash = match new_password {
        Some(p) => Some(secret::hash_password(p.to_owned()).await?),
        None => None,
    };
    let mut tx = db.begin().await?;
    let before = repo::get_user(&mut tx, id).await?;
    let loses_admin =
        before.role == "admin" && !before.disabled && (role != Role::Admin || input.disabled);
    if loses_admin && count_enabled_admins(&mut tx).await? <= 1 {
        return Err(AppError::Conflict(Msg::new("users.last_admin")));
    }
    repo::update_user(&mut tx, id, display, role.as_str(), input.disabled).await?;
    if let Some(site) = input.home_site_id {
        repo::set_home_site(&mut tx, id, site).await?;
    }
    if let Some(h) = &hash {
        repo::set_password(&mut tx, id, h).await?;
    }
    if input.disabled || hash.is_some() {
        repo::delete_user_sessions(&mut tx, id, None).await?;
    }
    let after = repo::get_user(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "user",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn count_enabled_admins(tx: &mut crate::db::Tx) -> AppResult<i64> {
    Ok(crate::on!(tx, |c| {
        sqlx::query_scalar("select count(*) from users where role = 'admin' and disabled = $1")
            .bind(false)
            .fetch_one(c)
            .await
    })?)
}

/// Changes the caller's own password after checking the current one; ends
/// their other sessions. The check is claimed on the login back-off of the
/// caller's name from `remote` first, so a stolen session cannot be used to
/// guess the password quickly.
#[instrument(skip_all, fields(user_id = user.id))]
pub async fn change_own_password(
    db: &Db,
    cfg: &Config,
    user: &CurrentUser,
    current: &str,
    new: &str,
    remote: &str,
) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    check_password("new_password", new, &mut errors);
    errors.into_result()?;
    let policy = throttle::Policy::from_config(cfg);
    let claim = throttle::claim(db, &policy, &user.username, remote).await?;
    let stored = repo::password_hash(db, user.id).await?;
    let ok = secret::verify_password(current.to_owned(), stored).await;
    // Recorded before the write transaction: on SQLite it holds the only
    // writer lock, which the back-off's own writes would wait for.
    throttle::settle(db, &policy, &claim, ok).await?;
    if !ok {
        let mut f = FieldErrors::default();
        f.add("current_password", Msg::new("validation.wrong_password"));
        return Err(AppError::Validation(f));
    }
    let mut tx = db.begin().await?;
    let hash = secret::hash_password(new.to_owned()).await?;
    repo::set_password(&mut tx, user.id, &hash).await?;
    let keep = match &user.via {
        AuthVia::Session { session_id, .. } => Some(session_id.as_str()),
        AuthVia::Token { .. } => None,
    };
    repo::delete_user_sessions(&mut tx, user.id, keep).await?;
    let snapshot = repo::get_user(&mut tx, user.id).await?;
    let marker = serde_json::json!({"password": "changed", "user": snapshot});
    audit::record(
        &mut tx,
        &user.actor(),
        Action::Update,
        "user",
        user.id,
        None,
        Some(&marker),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the caller's change to their own account (`before` is the row
/// as it was) in the audit log and commits.
async fn audit_own_change(mut tx: Tx, user: &CurrentUser, before: &UserRow) -> AppResult<()> {
    let after = repo::get_user(&mut tx, user.id).await?;
    audit::record(
        &mut tx,
        &user.actor(),
        Action::Update,
        "user",
        user.id,
        Some(before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets (or clears, with `None`) the caller's home site.
pub async fn set_home_site(db: &Db, user: &CurrentUser, site: Option<i64>) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    check_site(db, site, &mut errors).await?;
    errors.into_result()?;
    let mut tx = db.begin().await?;
    let before = repo::get_user(&mut tx, user.id).await?;
    repo::set_home_site(&mut tx, user.id, site).await?;
    audit_own_change(tx, user, &before).await
}

/// Sets the caller's language (None = from the browser) and time zone.
pub async fn set_preferences(
    db: &Db,
    user: &CurrentUser,
    lang: Option<Lang>,
    time_zone: &str,
) -> AppResult<()> {
    let tz = time_zone.trim();
    if jiff::tz::TimeZone::get(tz).is_err() {
        let mut f = FieldErrors::default();
        f.add(
            "time_zone",
            Msg::new("validation.time_zone").arg("value", tz),
        );
        return Err(AppError::Validation(f));
    }
    let mut tx = db.begin().await?;
    let before = repo::get_user(&mut tx, user.id).await?;
    repo::set_preferences(&mut tx, user.id, lang.map(Lang::code), tz).await?;
    audit_own_change(tx, user, &before).await
}

/// A successful login: the cookie value to hand the browser.
pub struct LoginOk {
    /// Secret session token (the cookie value); only its hash is stored.
    pub session_token: String,
}

/// Checks a user name and password and opens a session. The attempt is
/// claimed on the back-off of this name from `remote` before the password is
/// checked (`throttle`), so parallel guesses cannot slip past it.
#[instrument(skip_all, fields(username = %username))]
pub async fn login(
    db: &Db,
    cfg: &Config,
    username: &str,
    password: &str,
    remote: &str,
) -> AppResult<LoginOk> {
    let username = username.trim().to_lowercase();
    let now = crate::clock::now();
    let policy = throttle::Policy::from_config(cfg);
    let claim = throttle::claim(db, &policy, &username, remote).await?;
    let found = repo::find_login(db, &username).await?;
    let ok = match &found {
        Some(row) => {
            secret::verify_password(password.to_owned(), row.password_hash.clone()).await
                && !row.disabled
        }
        None => {
            // Spend the same time as a real check so names cannot be probed.
            let _ = secret::hash_password(password.to_owned()).await;
            false
        }
    };
    throttle::settle(db, &policy, &claim, ok).await?;
    let Some(row) = found.filter(|_| ok) else {
        metrics::counter!("rackledger_login_failures_total").increment(1);
        return Err(AppError::Unauthorized);
    };
    let token = secret::random_token();
    let expires = now + Duration::hours(cfg.session_hours);
    repo::insert_session(
        db,
        &secret::token_hash(&token),
        row.id,
        &secret::random_token(),
        expires,
    )
    .await?;
    tracing::info!(user_id = row.id, "logged in");
    Ok(LoginOk {
        session_token: token,
    })
}

/// Ends the session behind a cookie value.
pub async fn logout(db: &Db, session_token: &str) -> AppResult<()> {
    repo::delete_session(db, &secret::token_hash(session_token)).await?;
    Ok(())
}

fn current_user(row: AuthRow, via: AuthVia) -> CurrentUser {
    CurrentUser {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        lang: row.lang.as_deref().and_then(Lang::parse),
        time_zone: row.time_zone,
        via,
    }
}

/// The user of a session cookie, if it is live; slides the expiry forward once
/// half of it has passed.
pub async fn authenticate_session(
    db: &Db,
    cfg: &Config,
    session_token: &str,
) -> AppResult<Option<CurrentUser>> {
    let id = secret::token_hash(session_token);
    let now = crate::clock::now();
    let Some(row) = repo::session_user(db, &id, now).await? else {
        return Ok(None);
    };
    let lifetime = Duration::hours(cfg.session_hours);
    if row.expires_at - now < lifetime / 2 {
        repo::extend_session(db, &id, now + lifetime).await?;
    }
    let csrf_token = row.csrf_token.clone();
    Ok(Some(current_user(
        row,
        AuthVia::Session {
            session_id: id,
            csrf_token,
        },
    )))
}

/// The user of a bearer token, if it is live.
pub async fn authenticate_token(db: &Db, token: &str) -> AppResult<Option<CurrentUser>> {
    let Some(row) = repo::token_user(db, &secret::token_hash(token)).await? else {
        return Ok(None);
    };
    let token_id = row.token_id;
    // Bookkeeping, not a condition of access: a busy database must not turn
    // an API call into an error.
    if let Err(e) = repo::touch_token(db, token_id, row.last_used_at, crate::clock::now()).await {
        tracing::warn!(error = %e, token_id, "could not record the token's last use");
    }
    Ok(Some(current_user(row, AuthVia::Token { token_id })))
}

/// Issues an API token for `user_id`; returns its id and the token, which is
/// shown once and stored only as a hash.
#[instrument(skip_all, fields(user_id))]
pub async fn issue_token(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    name: &str,
) -> AppResult<(i64, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        let mut f = FieldErrors::default();
        f.add("name", Msg::new("validation.required"));
        return Err(AppError::Validation(f));
    }
    let token = format!("rl_{}", secret::random_token());
    let prefix: String = token.chars().take(10).collect();
    let mut tx = db.begin().await?;
    let _owner: UserRow = repo::get_user(&mut tx, user_id).await?;
    let id =
        repo::insert_token(&mut tx, user_id, name, &secret::token_hash(&token), &prefix).await?;
    let after = repo::get_token(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "api_token",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok((id, token))
}

/// Revokes a token; requests using it fail from now on.
pub async fn revoke_token(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = repo::get_token(&mut tx, id).await?;
    repo::revoke_token(&mut tx, id).await?;
    let after = repo::get_token(&mut tx, id).await?;
    let snap =
        |t: &repo::TokenRow| serde_json::json!({"token": t, "revoked": t.revoked_at.is_some()});
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "api_token",
        id,
        Some(&snap(&before)),
        Some(&snap(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
