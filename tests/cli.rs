//! The command line: `user add` with a password on stdin, `migrate`, `backup`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

fn rackledger(db_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rackledger"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_add_reads_the_password_from_stdin_and_backup_writes_a_usable_copy() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.sqlite").display());

    let out = rackledger(
        &url,
        &["user", "add", "Kim.Admin", "--role", "admin"],
        "a-long-password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user kim.admin"));

    let short = rackledger(&url, &["user", "add", "lee", "--role", "viewer"], "short\n");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("password"),
        "says what is wrong"
    );
    let bad_role = rackledger(
        &url,
        &["user", "add", "park", "--role", "root"],
        "a-long-password\n",
    );
    assert!(!bad_role.status.success());

    let backup = dir.path().join("copy.sqlite");
    let out = rackledger(&url, &["backup", backup.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = rackledger(&url, &["backup", backup.to_str().unwrap()], "");
    assert!(!again.status.success(), "never overwrites an existing file");

    // The copy is a complete database: adding the same user to it is refused as a duplicate.
    let copy_url = format!("sqlite://{}", backup.display());
    let dup = rackledger(
        &copy_url,
        &["user", "add", "kim.admin", "--role", "viewer"],
        "a-long-password\n",
    );
    assert!(!dup.status.success());
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("taken"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
}

#[test]
fn backup_of_a_postgres_database_explains_pg_dump() {
    if !support::backends().contains(&support::Backend::Postgres) {
        return;
    }
    let url = std::env::var("TEST_DATABASE_URL").unwrap();
    let out = rackledger(&url, &["backup", "/tmp/rl-never-written.dump"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump --format=custom"), "{err}");
    assert!(!std::path::Path::new("/tmp/rl-never-written.dump").exists());
}

#[test]
fn import_checks_first_then_writes_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("imp.sqlite").display());
    let sample = |name: &str| format!("{}/importers/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    let seed = Command::new(env!("CARGO_BIN_EXE_rackledger"))
        .args(["migrate"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(seed.status.success());
    let missing = rackledger(
        &url,
        &[
            "import",
            "price_list",
            &sample("price_list.csv"),
            "--supplier",
            "Nobody",
        ],
        "",
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no supplier matches"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = rackledger::db::Db::connect(&url).await.unwrap();
        let input = rackledger::procurement::model::SupplierInput {
            name: "Kingston Technology".into(),
            country: "TW".into(),
            currency: "USD".into(),
            ..Default::default()
        };
        rackledger::procurement::service::create_supplier(
            &db,
            &rackledger::audit::Actor::system("test"),
            &input,
        )
        .await
        .unwrap();
        db.close().await;
    });
    let file = sample("price_list.xlsx");
    let dry = rackledger(
        &url,
        &[
            "import",
            "price_list",
            &file,
            "--supplier",
            "Kingston",
            "--dry-run",
        ],
        "",
    );
    let out = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(dry.status.success(), "{out}");
    assert!(out.contains("6 new") && out.contains("dry run"), "{out}");
    let real = rackledger(
        &url,
        &["import", "price_list", &file, "--supplier", "Kingston"],
        "",
    );
    assert!(String::from_utf8_lossy(&real.stdout).contains("written"));
    let again = rackledger(
        &url,
        &["import", "price_list", &file, "--supplier", "Kingston"],
        "",
    );
    let out = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(
        out.contains("6 unchanged") && out.contains("nothing to change"),
        "{out}"
    );
}
