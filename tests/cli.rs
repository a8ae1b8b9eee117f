//! The command line: `user add` with a password on stdin, `migrate`, `backup`,
//! and `serve` holding up against slow and half-open clients.

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

/// `rackledger serve` with few file descriptors (`ulimit -n 128`), a cap of
/// 32 connections and a one-second header timeout; killed when dropped.
struct Tight {
    port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Tight {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tight_server() -> Tight {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tight.db").display());
    let port = support::free_port();
    let child = Command::new("sh")
        .args(["-c", "ulimit -n 128 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_rackledger"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .env("RACKLEDGER_SERVER.MAX_CONNECTIONS", "32")
        .env("RACKLEDGER_SERVER.HEADER_READ_TIMEOUT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Tight {
        port,
        child,
        _dir: dir,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !matches!(
        support::http(port, "GET", "/healthz", &[], b""),
        Ok((200, _, _))
    ) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never answered /healthz"
        );
        std::thread::yield_now();
    }
    server
}

#[test]
fn serve_closes_clients_that_never_finish_their_headers() {
    use std::io::Read;
    let server = tight_server();
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let mut rest = Vec::new();
    // The server ends the connection (end of file, or a reset); a read that
    // times out means it still holds it.
    match slow.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server held a connection that never sent its headers: {e}"),
    }
}

#[test]
fn serve_answers_healthz_while_half_open_connections_pile_up() {
    use std::io::Read;
    let server = tight_server();
    // Far more idle connections than the server has file descriptors.
    let idle: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    let mut probe = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    probe
        .set_read_timeout(Some(std::time::Duration::from_secs(45)))
        .unwrap();
    let mut answer = Vec::new();
    probe
        .read_to_end(&mut answer)
        .expect("/healthz got no answer while idle connections were held");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The server is still whole: a fresh request is served as usual.
    let (status, _, _) = support::http(server.port, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(status, 200);
    drop(idle);
}
