//! Login back-off: claimed before the password check, per user and address.

use std::sync::Arc;

use rackledger::auth::service;
use rackledger::config::Config;
use rackledger::error::AppError;

use crate::app::TestApp;
use crate::support::backends;

const STORM: usize = 200;

/// Fires `n` wrong logins for `buyer` from `remote` at once; returns how many
/// had their password checked (401) and how many were refused unchecked (429).
async fn storm(app: &TestApp, cfg: &Arc<Config>, remote: &str, n: usize) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (db, cfg, remote) = (app.db.clone(), cfg.clone(), remote.to_owned());
        tasks.spawn(async move {
            service::login(&db, &cfg, "buyer", "wrong-password", &remote)
                .await
                .err()
        });
    }
    let (mut checked, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Some(AppError::Unauthorized) => checked += 1,
            Some(AppError::TooManyRequests(_)) => refused += 1,
            other => panic!("unexpected outcome: {:?}", other.map(|e| e.to_string())),
        }
    }
    (checked, refused)
}

#[tokio::test]
async fn concurrent_wrong_passwords_get_no_more_checks_than_the_limit() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let cfg = Arc::new(Config::default());
        let (checked, refused) = storm(&app, &cfg, "203.0.113.5", STORM).await;
        assert_eq!(checked + refused, STORM);
        assert!(
            checked as i64 <= cfg.login_max_failures,
            "{checked} passwords checked in a burst of {STORM}, limit {} on {backend:?}",
            cfg.login_max_failures
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_storm_from_one_address_does_not_lock_the_owner_out_from_another() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let cfg = Arc::new(Config::default());
        storm(&app, &cfg, "203.0.113.5", 50).await;
        // From the storm's address the right password waits for the back-off too.
        let same = service::login(&app.db, &cfg, "buyer", "rackledger-buyer", "203.0.113.5").await;
        assert!(
            matches!(same, Err(AppError::TooManyRequests(_))),
            "the storm's address is slowed on {backend:?}"
        );
        // The owner elsewhere logs straight in.
        let other =
            service::login(&app.db, &cfg, "buyer", "rackledger-buyer", "198.51.100.9").await;
        assert!(other.is_ok(), "owner locked out on {backend:?}");
        app.finish().await;
    }
}
