//! A full disk under SQLite: writes fail while it is full, `can_write`
//! (behind `/healthz`) says so, and writes come back by themselves once
//! space is freed, with no restart. Needs root to mount a small tmpfs (CI
//! runs as root); elsewhere it says it was skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rackledger::db::{CanWrite, Db};

/// A 4 MiB tmpfs mounted on a temporary folder, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the disk refuses more.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5a_u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    // The last partial chunk may sit in no buffer; nothing to flush.
}

/// One write through the same path services use: a write transaction, an
/// insert, a commit.
async fn write_once(db: &Db, payload: &str) -> Result<(), String> {
    let mut tx = db.begin().await.map_err(|e| format!("begin: {e}"))?;
    rackledger::exec!(&mut tx, |c| sqlx::query(
        "insert into scratch (body) values ($1)"
    )
    .bind(payload)
    .execute(c)
    .await)
    .map_err(|e| format!("insert: {e}"))?;
    tx.commit().await.map_err(|e| format!("commit: {e}"))
}

#[tokio::test]
async fn sqlite_writes_recover_by_themselves_after_the_disk_was_full() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("SKIPPED: sqlite disk-full test needs root to mount a tmpfs");
        return;
    };
    let file: PathBuf = disk.path().join("rackledger.db");
    let db = Db::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    rackledger::exec!(&db, |c| sqlx::query(
        "create table scratch (id integer primary key, body text not null)"
    )
    .execute(c)
    .await)
    .unwrap();
    assert_eq!(db.can_write().await.unwrap(), CanWrite::Yes);

    // Fill the disk, then keep writing until SQLite runs out of room too.
    let filler = disk.path().join("filler");
    fill(&filler);
    let payload = "x".repeat(64 * 1024);
    let mut failures = 0;
    for _ in 0..200 {
        if write_once(&db, &payload).await.is_err() {
            failures += 1;
            if failures >= 5 {
                break;
            }
        }
    }
    assert!(failures >= 5, "writes kept succeeding on a full disk");
    assert!(
        db.can_write().await.is_err(),
        "the write probe said ok on a full disk"
    );

    // Space returns: writes must recover with no restart.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last;
    loop {
        match write_once(&db, "back").await {
            Ok(()) => break,
            Err(e) => last = e,
        }
        assert!(
            Instant::now() < deadline,
            "writes did not recover after space was freed: {last}"
        );
        // The interval between tries of a poll with a deadline, not a wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every pooled connection works again, not only the one that got through.
    for i in 0..40 {
        write_once(&db, "again")
            .await
            .unwrap_or_else(|e| panic!("write {i} after recovery failed: {e}"));
    }
    assert_eq!(db.can_write().await.unwrap(), CanWrite::Yes);
    db.close().await;
}
