//! `rackledger bmc probe` prints what a BMC reports.

use crate::sushy::Sushy;

#[tokio::test]
async fn probe_prints_a_readable_report_of_what_the_bmc_reports() {
    let Some(sushy) = Sushy::start("public-rackmount1").await else {
        return;
    };
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rackledger"))
        .args(["bmc", "probe", &sushy.url])
        .env_remove("DATABASE_URL")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("serial 437XR1138R2"), "{text}");
    assert!(
        text.contains("Processors (1 CPU)"),
        "the FPGA and the absent socket are no CPUs: {text}"
    );
    assert!(text.contains("Memory (3 DIMMs)"), "{text}");
    assert!(text.contains("rollup Warning"), "{text}");
}

#[tokio::test]
async fn poll_once_polls_the_due_bmcs_and_stores_their_state() {
    let Some(sushy) = Sushy::start("public-localstorage").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rl.sqlite").display());
    let db = rackledger::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let (asset, _) = crate::poller::add_bmc(&db, "SRV-CLI", &sushy.url).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rackledger"))
        .args(["poll", "--once"])
        .env("DATABASE_URL", &url)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "polled 1 BMCs, 0 failed"
    );
    let latest = rackledger::health::latest_for_assets(&db, &[asset])
        .await
        .unwrap();
    assert_eq!(latest[&asset].power_state.as_deref(), Some("On"));
    db.close().await;
}

#[tokio::test]
async fn poll_once_polls_every_due_bmc_not_only_four_times_the_concurrency() {
    // One fake BMC answers for twelve assets; at concurrency 2 a round used
    // to claim at most 2 x 4 = 8 of them and leave the rest for later.
    let server =
        crate::fake::FakeBmc::start(crate::fake::Behavior::Mockup("public-localstorage", None))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rl.sqlite").display());
    let db = rackledger::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let mut assets = Vec::new();
    for i in 0..12 {
        let (asset, _) = crate::poller::add_bmc(&db, &format!("SRV-{i:02}"), &server.url).await;
        assets.push(asset);
    }
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rackledger"))
        .args(["poll", "--once"])
        .env("DATABASE_URL", &url)
        .env("RACKLEDGER_HEALTH.CONCURRENCY", "2")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "polled 12 BMCs, 0 failed"
    );
    let latest = rackledger::health::latest_for_assets(&db, &assets)
        .await
        .unwrap();
    assert_eq!(latest.len(), 12, "every due BMC has a state");
    assert_eq!(
        server.root_hits.load(std::sync::atomic::Ordering::SeqCst),
        12,
        "each BMC polled once in the round"
    );
    db.close().await;
}
