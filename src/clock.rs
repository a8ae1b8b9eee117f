//! The one source of "now".

use time::OffsetDateTime;

/// The current UTC time, truncated to whole seconds so that every stored
/// timestamp has the same text form on SQLite and compares correctly as text.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}
