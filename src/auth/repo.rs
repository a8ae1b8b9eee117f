//! Queries for users, sessions and API tokens.

use serde::Serialize;
use time::OffsetDateTime;

use crate::db::{Conn, Db, DbError, Tx};
use crate::{exec, on};

/// A user as stored, without the password hash. Also the audit snapshot.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct UserRow {
    /// Row id.
    pub id: i64,
    /// Login name, lower case.
    pub username: String,
    /// Name shown in the interface.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// Disabled users cannot log in and their sessions and tokens stop working.
    pub disabled: bool,
    /// Chosen language code.
    pub lang: Option<String>,
    /// IANA time zone.
    pub time_zone: String,
    /// Home site (a technician's home shows its alerts and work), if chosen.
    pub home_site_id: Option<i64>,
    /// Created, UTC.
    #[serde(skip)]
    pub created_at: OffsetDateTime,
    /// Last changed, UTC.
    #[serde(skip)]
    pub updated_at: OffsetDateTime,
}

const USER_COLUMNS: &str = "id, username, display_name, role, disabled, lang, time_zone, home_site_id, created_at, updated_at";

/// Fields of a new user.
pub struct NewUser<'a> {
    /// Login name, already normalised.
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// PHC hash.
    pub password_hash: &'a str,
    /// Role name.
    pub role: &'a str,
    /// Time zone.
    pub time_zone: &'a str,
}

/// Inserts a user and returns its id.
pub async fn insert_user(tx: &mut Tx, u: &NewUser<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into users (username, display_name, password_hash, role, disabled, time_zone, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7) returning id",
        )
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.password_hash)
        .bind(u.role)
        .bind(false)
        .bind(u.time_zone)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// One user by id.
pub async fn get_user(db: impl Into<Conn<'_>>, id: i64) -> Result<UserRow, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("select {USER_COLUMNS} from users where id = $1");
    Ok(on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_one(p)
            .await
    })?)
}

/// A page of users whose name matches `q` (substring, case-insensitive), by name.
pub async fn list_users(
    db: &Db,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), DbError> {
    let pattern = q.map(crate::db::like_contains);
    crate::db::Paged {
        columns: USER_COLUMNS,
        from: "from users where (cast($1 as text) is null or lower(username) like $1 escape '\\' or lower(display_name) like $1 escape '\\')",
        order: "username",
        texts: &[pattern.as_deref()],
    }
    .fetch(db, limit, offset)
    .await
}

/// Number of users (zero on a fresh install).
pub async fn count_users(db: &Db) -> Result<i64, DbError> {
    Ok(on!(db, |p| sqlx::query_scalar(
        "select count(*) from users"
    )
    .fetch_one(p)
    .await)?)
}

/// What a login needs: id, hash and whether the account is disabled.
#[derive(sqlx::FromRow)]
pub struct LoginRow {
    /// User id.
    pub id: i64,
    /// PHC hash.
    pub password_hash: String,
    /// Disabled flag.
    pub disabled: bool,
}

/// Looks a user up by login name for password checking.
pub async fn find_login(db: &Db, username: &str) -> Result<Option<LoginRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as("select id, password_hash, disabled from users where username = $1")
            .bind(username)
            .fetch_optional(p)
            .await
    })?)
}

/// The password hash of a user.
pub async fn password_hash(db: impl Into<Conn<'_>>, id: i64) -> Result<String, DbError> {
    let mut db: Conn<'_> = db.into();
    Ok(on!(db, |c| {
        sqlx::query_scalar("select password_hash from users where id = $1")
            .bind(id)
            .fetch_one(c)
            .await
    })?)
}

/// Changes the editable account fields.
pub async fn update_user(
    tx: &mut Tx,
    id: i64,
    display_name: &str,
    role: &str,
    disabled: bool,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update users set display_name = $1, role = $2, disabled = $3, updated_at = $4 where id = $5")
            .bind(display_name)
            .bind(role)
            .bind(disabled)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Replaces a user's password hash.
pub async fn set_password(tx: &mut Tx, id: i64, hash: &str) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update users set password_hash = $1, updated_at = $2 where id = $3")
            .bind(hash)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Sets (or clears) a user's home site.
pub async fn set_home_site(tx: &mut Tx, id: i64, site_id: Option<i64>) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update users set home_site_id = $1, updated_at = $2 where id = $3")
            .bind(site_id)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Sets a user's language and time zone.
pub async fn set_preferences(
    tx: &mut Tx,
    id: i64,
    lang: Option<&str>,
    time_zone: &str,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update users set lang = $1, time_zone = $2, updated_at = $3 where id = $4")
            .bind(lang)
            .bind(time_zone)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// The user behind a live session or token.
#[derive(sqlx::FromRow)]
pub struct AuthRow {
    /// User id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// Language code.
    pub lang: Option<String>,
    /// Time zone.
    pub time_zone: String,
    /// Session CSRF token, or empty for API tokens.
    pub csrf_token: String,
    /// Session expiry, or token creation time for tokens.
    pub expires_at: OffsetDateTime,
    /// Token id, or 0 for sessions.
    pub token_id: i64,
    /// When the token was last used (tokens only).
    #[sqlx(default)]
    pub last_used_at: Option<OffsetDateTime>,
}

/// Stores a new session (its id is the cookie's hash).
pub async fn insert_session(
    db: &Db,
    id: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(db, |p| {
        sqlx::query(
            "insert into sessions (id, user_id, csrf_token, expires_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(user_id)
        .bind(csrf_token)
        .bind(expires_at)
        .bind(now)
        .execute(p)
        .await
    })?;
    Ok(())
}

/// The enabled user of an unexpired session.
pub async fn session_user(
    db: &Db,
    id: &str,
    now: OffsetDateTime,
) -> Result<Option<AuthRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select u.id, u.username, u.display_name, u.role, u.lang, u.time_zone,
                    s.csrf_token, s.expires_at, cast(0 as bigint) as token_id
             from sessions s join users u on u.id = s.user_id
             where s.id = $1 and s.expires_at > $2 and u.disabled = $3",
        )
        .bind(id)
        .bind(now)
        .bind(false)
        .fetch_optional(p)
        .await
    })?)
}

/// Pushes a session's expiry forward.
pub async fn extend_session(db: &Db, id: &str, expires_at: OffsetDateTime) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(db, |p| {
        sqlx::query("update sessions set expires_at = $1, updated_at = $2 where id = $3")
            .bind(expires_at)
            .bind(now)
            .bind(id)
            .execute(p)
            .await
    })?;
    Ok(())
}

/// Ends one session.
pub async fn delete_session(db: &Db, id: &str) -> Result<(), DbError> {
    exec!(db, |p| sqlx::query("delete from sessions where id = $1")
        .bind(id)
        .execute(p)
        .await)?;
    Ok(())
}

/// Ends every session of a user but `keep` (disable, password change).
pub async fn delete_user_sessions(
    tx: &mut Tx,
    user_id: i64,
    keep: Option<&str>,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
            "delete from sessions where user_id = $1 and (cast($2 as text) is null or id <> $2)",
        )
        .bind(user_id)
        .bind(keep)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Removes expired sessions; returns rows removed.
pub async fn purge_expired(db: &Db, now: OffsetDateTime) -> Result<u64, DbError> {
    Ok(exec!(db, |p| {
        sqlx::query("delete from sessions where expires_at <= $1")
            .bind(now)
            .execute(p)
            .await
    })?)
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    /// Row id.
    pub id: i64,
    /// Owner's id.
    pub user_id: i64,
    /// Owner's login name.
    pub username: String,
    /// What the token is for.
    pub name: String,
    /// First characters, to recognise it.
    pub token_prefix: String,
    /// Last use, UTC.
    #[serde(skip)]
    pub last_used_at: Option<OffsetDateTime>,
    /// When revoked, UTC.
    #[serde(skip)]
    pub revoked_at: Option<OffsetDateTime>,
    /// Created, UTC.
    #[serde(skip)]
    pub created_at: OffsetDateTime,
}

const TOKEN_SELECT: &str =
    "select t.id, t.user_id, u.username, t.name, t.token_prefix, t.last_used_at,
        t.revoked_at, t.created_at from api_tokens t join users u on u.id = t.user_id";

/// Stores a new token's hash; returns its id.
pub async fn insert_token(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    hash: &str,
    prefix: &str,
) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into api_tokens (user_id, name, token_hash, token_prefix, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5) returning id",
        )
        .bind(user_id)
        .bind(name)
        .bind(hash)
        .bind(prefix)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// Every token, newest first.
pub async fn list_tokens(db: &Db) -> Result<Vec<TokenRow>, DbError> {
    let sql = format!("{TOKEN_SELECT} order by t.id desc");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// One token, inside a transaction.
pub async fn get_token(tx: &mut Tx, id: i64) -> Result<TokenRow, DbError> {
    let sql = format!("{TOKEN_SELECT} where t.id = $1");
    Ok(on!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(c)
    .await)?)
}

/// Marks a token revoked.
pub async fn revoke_token(tx: &mut Tx, id: i64) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update api_tokens set revoked_at = $1, updated_at = $1 where id = $2 and revoked_at is null")
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// The enabled user behind an unrevoked token.
pub async fn token_user(db: &Db, hash: &str) -> Result<Option<AuthRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select u.id, u.username, u.display_name, u.role, u.lang, u.time_zone,
                    '' as csrf_token, t.created_at as expires_at, t.id as token_id, t.last_used_at
             from api_tokens t join users u on u.id = t.user_id
             where t.token_hash = $1 and t.revoked_at is null and u.disabled = $2",
        )
        .bind(hash)
        .bind(false)
        .fetch_optional(p)
        .await
    })?)
}

/// Records that a token was used (at most once a minute per token), given
/// when it was last used as read with the token: when that was under a
/// minute ago nothing is written (on SQLite even an update that matches
/// nothing waits for the writer lock, which a long import can hold).
pub async fn touch_token(
    db: &Db,
    id: i64,
    last_used_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    let a_minute_ago = now - time::Duration::minutes(1);
    if last_used_at.is_some_and(|t| t >= a_minute_ago) {
        return Ok(());
    }
    exec!(db, |p| {
        sqlx::query(
            "update api_tokens set last_used_at = $1
             where id = $2 and (last_used_at is null or last_used_at < $3)",
        )
        .bind(now)
        .bind(id)
        .bind(a_minute_ago)
        .execute(p)
        .await
    })?;
    Ok(())
}
