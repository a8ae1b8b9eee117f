//! Login back-off: slows password guessing per user name and client address
//! without locking the owner out.
//!
//! Every attempt is claimed before its password is checked, by one statement
//! on each of two rows (`throttle_repo::claim`) inside one transaction: the
//! user name from this address, and this address for any name. The first
//! `login_max_failures` attempts on a user name from an address (four times
//! that on an address) go through at once; from then on each must wait, a
//! delay that starts at `login_backoff_secs` and doubles with every further
//! failure up to `login_window_minutes`. A claim that must wait changes
//! nothing. A right password clears its user name's row and gives its
//! address back the attempt; a row whose wait ended `login_window_minutes`
//! ago is forgotten. Another address is never slowed by this one's rows.

use time::{Duration, OffsetDateTime};
use tracing::instrument;

use super::throttle_repo::{self as repo, ClaimTimes, Key, ThrottleRow};
use crate::audit::{self, Action, Actor};
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;

/// How many attempts an address gets, as a multiple of a user name's, so that
/// an office behind one address is slowed later than one name.
const ADDRESS_FACTOR: i64 = 4;

/// The back-off settings, from [`Config`].
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts on a user name from an address before waits begin.
    pub free_per_user: i64,
    /// Attempts from an address (any names) before waits begin.
    pub free_per_address: i64,
    /// The first wait.
    pub first_delay: Duration,
    /// The longest wait; also how long after a wait ends a row is forgotten.
    pub longest: Duration,
}

impl Policy {
    /// The policy `cfg` sets.
    pub fn from_config(cfg: &Config) -> Policy {
        Policy {
            free_per_user: cfg.login_max_failures,
            free_per_address: cfg.login_max_failures * ADDRESS_FACTOR,
            first_delay: Duration::seconds(cfg.login_backoff_secs),
            longest: Duration::minutes(cfg.login_window_minutes),
        }
    }

    /// The wait after the `failures`th failure when `free` go without one:
    /// none before `free`, then the first delay doubling, at most `longest`.
    pub fn delay_after(&self, failures: i64, free: i64) -> Duration {
        if failures < free {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(30);
        let delay = self.first_delay * 2_i32.pow(doublings).max(1);
        delay.min(self.longest).max(Duration::ZERO)
    }
}

/// A claimed attempt: record its outcome with [`settle`].
#[derive(Debug)]
pub struct Claim {
    username: String,
    remote: String,
    user_count: i64,
    address_count: i64,
}

impl Claim {
    fn user_key(&self) -> Key<'_> {
        Key {
            scope: "user",
            username: &self.username,
            remote_addr: &self.remote,
        }
    }

    fn address_key(&self) -> Key<'_> {
        Key {
            scope: "address",
            username: "",
            remote_addr: &self.remote,
        }
    }
}

/// Claims an attempt to check `username`'s password from `remote`, before
/// it is checked; `TooManyRequests` saying how long to wait when this user
/// name or address must wait.
#[instrument(skip_all)]
pub async fn claim(db: &Db, policy: &Policy, username: &str, remote: &str) -> AppResult<Claim> {
    let now = crate::clock::now();
    let mut claim = Claim {
        username: username.to_owned(),
        remote: remote.to_owned(),
        user_count: 0,
        address_count: 0,
    };
    let times = |free: i64| ClaimTimes {
        now,
        forget_before: now - policy.longest,
        free,
        // Until the outcome is known the next attempt waits the longest.
        hold_until: now + policy.longest,
    };
    let mut tx = db.begin().await?;
    let user = repo::claim(&mut tx, claim.user_key(), &times(policy.free_per_user)).await?;
    let address = match user {
        Some(_) => {
            repo::claim(
                &mut tx,
                claim.address_key(),
                &times(policy.free_per_address),
            )
            .await?
        }
        None => None,
    };
    let (Some(user), Some(address)) = (user, address) else {
        tx.rollback().await?;
        metrics::counter!("rackledger_login_refused_total").increment(1);
        let until = repo::next_allowed(db, &[claim.user_key(), claim.address_key()]).await?;
        let wait = until.map_or(Duration::SECOND, |t| t - now);
        let seconds = wait.whole_seconds().max(1);
        return Err(AppError::TooManyRequests(
            Msg::new("login.rate_limited").arg("seconds", seconds),
        ));
    };
    tx.commit().await?;
    claim.user_count = user;
    claim.address_count = address;
    Ok(claim)
}

/// Records how a claimed attempt ended: a right password clears its user
/// name's back-off and gives the address its attempt back; a wrong one sets
/// the waits its count has earned.
pub async fn settle(db: &Db, policy: &Policy, claim: &Claim, ok: bool) -> AppResult<()> {
    if ok {
        repo::delete_key(db, claim.user_key()).await?;
        repo::record_success(db, claim.address_key(), claim.address_count).await?;
        return Ok(());
    }
    let now = crate::clock::now();
    for (key, count, free) in [
        (claim.user_key(), claim.user_count, policy.free_per_user),
        (
            claim.address_key(),
            claim.address_count,
            policy.free_per_address,
        ),
    ] {
        // Before the free attempts are used up there is no wait to set.
        if count >= free {
            let next = now + policy.delay_after(count, free);
            repo::record_failure(db, key, count, next).await?;
        }
    }
    Ok(())
}

/// The back-offs not yet forgotten, latest first (at most 500).
pub async fn list(db: &Db, cfg: &Config) -> AppResult<Vec<ThrottleRow>> {
    let since = crate::clock::now() - Policy::from_config(cfg).longest;
    Ok(repo::list(db, since, 500).await?)
}

/// One back-off by id.
pub async fn get(db: &Db, id: i64) -> AppResult<ThrottleRow> {
    Ok(repo::get(db, id).await?)
}

/// Clears one back-off (an admin letting a user in at once), audited.
#[instrument(skip_all, fields(id))]
pub async fn clear(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = repo::get(&mut tx, id).await?;
    repo::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Delete,
        "login_throttle",
        id,
        Some(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes back-offs forgotten before `now`; returns rows removed.
pub async fn purge(db: &Db, cfg: &Config, now: OffsetDateTime) -> AppResult<u64> {
    Ok(repo::purge(db, now - Policy::from_config(cfg).longest).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_attempts_double_and_stop_at_the_longest() {
        let p = Policy::from_config(&Config::default());
        let secs = |n| p.delay_after(n, 5).whole_seconds();
        assert_eq!((secs(1), secs(4)), (0, 0));
        assert_eq!((secs(5), secs(6), secs(7)), (10, 20, 40));
        assert_eq!(secs(12), 15 * 60, "capped at the window");
        assert_eq!(secs(i64::MAX), 15 * 60, "no overflow");
    }
}
