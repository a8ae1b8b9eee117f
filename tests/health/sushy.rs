//! sushy-static (PyPI sushy-tools) serving the Redfish mockups on 127.0.0.1.
//!
//! The binary is `$SUSHY_STATIC` when set, else `target/sushy-venv/bin/sushy-static`,
//! installed on first use with `python3 -m venv` + `pip install sushy-tools==2.2.0`
//! under a file lock (parallel tests install once). When it cannot be had, the
//! tests that need it are skipped with a message, unless
//! `RACKLEDGER_REQUIRE_SUSHY=1` (set by `.ci/run`), which makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SUSHY_VERSION: &str = "sushy-tools==2.2.0";

fn required() -> bool {
    std::env::var("RACKLEDGER_REQUIRE_SUSHY").is_ok_and(|v| v == "1")
}

/// The mockup tree `name` (public-rackmount1, public-localstorage, XL675d_A100).
pub fn mockup_dir(name: &str) -> PathBuf {
    let base = std::env::var("RACKLEDGER_MOCKUPS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redfish-mockups")
        });
    base.join(name)
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn install(venv: &Path) -> Result<PathBuf, String> {
    let bin = venv.join("bin/sushy-static");
    std::fs::create_dir_all(target_dir()).map_err(|e| e.to_string())?;
    let lock_path = target_dir().join("sushy-venv.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| e.to_string())?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if bin.exists() {
        return Ok(bin);
    }
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .map_err(|e| format!("python3 -m venv: {e}"))?;
    if !ok.success() {
        return Err("python3 -m venv failed".into());
    }
    let out = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", SUSHY_VERSION])
        .output()
        .map_err(|e| format!("pip: {e}"))?;
    if !out.status.success() || !bin.exists() {
        let _ = std::fs::remove_dir_all(venv);
        return Err(format!(
            "pip install {SUSHY_VERSION} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(bin)
}

/// The sushy-static binary, or why there is none.
pub fn sushy_bin() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("SUSHY_STATIC")
        && !p.is_empty()
    {
        return Ok(PathBuf::from(p));
    }
    install(&target_dir().join("sushy-venv"))
}

/// A running sushy-static, killed on drop.
pub struct Sushy {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Drop for Sushy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Sushy {
    /// Serves mockup `name`, or `None` (skip) when sushy-static is unavailable.
    pub async fn start(name: &str) -> Option<Sushy> {
        Sushy::start_dir(&mockup_dir(name)).await
    }

    /// Serves the mockup tree in `dir` (a copy a test may change between polls).
    pub async fn start_dir(dir: &std::path::Path) -> Option<Sushy> {
        let name = dir.display().to_string();
        let bin = match sushy_bin() {
            Ok(b) => b,
            Err(e) if required() => {
                panic!("RACKLEDGER_REQUIRE_SUSHY=1 but sushy-static is unavailable: {e}")
            }
            Err(e) => {
                eprintln!(
                    "sushy-static tests SKIPPED: {e} (set SUSHY_STATIC or allow pip to reach PyPI)"
                );
                return None;
            }
        };
        assert!(
            dir.join("index.json").exists(),
            "mockup {} missing",
            dir.display()
        );
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(&bin)
                .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m"])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn sushy-static");
            let mut s = Sushy {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            if s.ready().await {
                return Some(s);
            }
        }
        panic!("sushy-static did not come up for {name}");
    }

    async fn ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = self.url.trim_start_matches("http://").to_owned();
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                return true;
            }
            // The interval of a poll with a deadline (above), not a wait.
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }
}

/// The mockup document for `odata_id` (as the BMC links it), read from disk.
pub fn doc(name: &str, odata_id: &str) -> serde_json::Value {
    let rel = odata_id
        .split('#')
        .next()
        .unwrap_or_default()
        .trim_start_matches("/redfish/v1")
        .trim_matches('/');
    let path = mockup_dir(name).join(rel).join("index.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("mockup JSON")
}
