//! Accounts, roles, sessions, API tokens, CSRF protection and the login rate limit.

mod middleware;
pub mod model;
pub mod repo;
mod secret;
pub mod service;
mod web;

pub use middleware::{
    CSRF_FIELD, CSRF_HEADER, PRELOGIN_COOKIE as PRELOGIN_COOKIE_NAME, SESSION_COOKIE, authenticate,
    csrf_guard, require_login,
};
pub use model::{AuthVia, CurrentUser, Permission, Role};
pub use repo::purge_expired;
pub use secret::{MIN_PASSWORD_CHARS, hash_password, random_token, sha256_b64};
pub use web::{protected_routes, public_routes};
