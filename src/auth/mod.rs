//! Accounts, roles, sessions, API tokens, CSRF protection and the login back-off.

pub mod model;
pub mod repo;
pub mod secret;
pub mod service;
pub mod submissions;
pub mod throttle;
mod throttle_repo;

pub use model::{AuthVia, CurrentUser, Permission, Role};
pub use repo::purge_expired;
pub use secret::{MIN_PASSWORD_CHARS, hash_password, random_token, sha256_b64};
pub use throttle_repo::ThrottleRow;
