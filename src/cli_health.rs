//! `rackledger poll` and `rackledger bmc ...`: the poller on its own, a probe
//! for a technician at a new server, and master key generation and rotation.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use rackledger::config::Config;
use rackledger::db::Db;
use rackledger::health::poller::Poller;
use rackledger::health::redfish::{Credentials, RedfishClient, Schema, TlsPolicy, collect};
use rackledger::health::secret::MasterKey;

/// `rackledger bmc ...`
#[derive(clap::Subcommand)]
pub enum BmcCommand {
    /// Print what a BMC reports (nothing is stored).
    Probe {
        /// The BMC, e.g. https://10.0.0.5
        url: String,
        /// Redfish user name.
        #[arg(long)]
        user: Option<String>,
        /// Name of an environment variable holding the password.
        #[arg(long)]
        password_env: Option<String>,
        /// Do not check the certificate (isolated management network only).
        #[arg(long, conflicts_with = "ca")]
        insecure: bool,
        /// Check the certificate against this CA (PEM) only.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Read only the newer ThermalSubsystem/PowerSubsystem/Sensors.
        #[arg(long)]
        subsystem: bool,
    },
    /// Print a new random master key (base64) for RACKLEDGER_MASTER_KEY(_FILE).
    Keygen,
    /// Re-encrypt every stored BMC password from the current master key to
    /// the key in NEW_KEY_FILE (then point RACKLEDGER_MASTER_KEY_FILE at it).
    Rekey {
        /// File with the new base64 key.
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[allow(clippy::print_stdout, reason = "command-line output")]
fn say(text: &str) {
    println!("{text}");
}

/// Runs a `bmc` subcommand.
pub async fn bmc(
    config: &Config,
    command: BmcCommand,
    db: impl AsyncFnOnce() -> anyhow::Result<Db>,
) -> anyhow::Result<()> {
    match command {
        BmcCommand::Probe {
            url,
            user,
            password_env,
            insecure,
            ca,
            subsystem,
        } => {
            let tls = match (insecure, ca) {
                (true, _) => TlsPolicy::Insecure,
                (false, Some(path)) => TlsPolicy::Pinned(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                (false, None) => TlsPolicy::Verify,
            };
            let password = match password_env {
                Some(var) => std::env::var(&var)
                    .with_context(|| format!("environment variable {var} is not set"))?,
                None => String::new(),
            };
            let creds = user.map(|username| Credentials {
                username,
                password: zeroize::Zeroizing::new(password),
            });
            let client = RedfishClient::new(&url, &tls, creds, config.health.limits())?;
            let origin = client.origin().to_string();
            let schema = if subsystem {
                Schema::Subsystem
            } else {
                Schema::Auto
            };
            let snap = collect(Arc::new(client), schema)
                .await
                .with_context(|| format!("probing {origin}"))?;
            if tls == TlsPolicy::Insecure {
                say("WARNING: certificate not checked (--insecure)");
            }
            say(&rackledger::health::probe::report(&origin, &snap));
            Ok(())
        }
        BmcCommand::Keygen => {
            say(&MasterKey::generate_base64());
            Ok(())
        }
        BmcCommand::Rekey { new_key_file } => {
            let Some(old) = config.health.master_key()? else {
                bail!("set the current key in RACKLEDGER_MASTER_KEY or RACKLEDGER_MASTER_KEY_FILE");
            };
            let new = MasterKey::from_file(&new_key_file)?;
            let db = db().await?;
            let n = rackledger::health::bmc::rekey(&db, &old, &new).await?;
            db.close().await;
            say(&format!(
                "re-encrypted {n} BMC passwords from key {} to key {}; now set RACKLEDGER_MASTER_KEY_FILE={}",
                old.id(),
                new.id(),
                new_key_file.display()
            ));
            Ok(())
        }
    }
}

/// `rackledger poll`: the poller alone, until Ctrl-C (or one round with `once`).
pub async fn poll(
    config: &Config,
    db: Db,
    once: bool,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let key = config.health.master_key()?;
    let poller = Poller::new(db.clone(), config.health.clone(), key);
    if once {
        let out = poller.run_round().await?;
        let failed = out.iter().filter(|o| o.error.is_some()).count();
        say(&format!("polled {} BMCs, {failed} failed", out.len()));
    } else {
        poller.run(shutdown).await;
    }
    db.close().await;
    Ok(())
}

/// For `serve --demo` on a SQLite file without a configured key: a key file
/// next to the database (created once, readable by the owner only).
pub fn demo_key(config: &mut Config) -> anyhow::Result<()> {
    if config.health.master_key()?.is_some() {
        return Ok(());
    }
    let Some(path) = config
        .database_url
        .strip_prefix("sqlite://")
        .filter(|p| !p.contains(":memory:"))
    else {
        return Ok(());
    };
    let file = PathBuf::from(format!(
        "{}.master-key",
        path.split('?').next().unwrap_or(path)
    ));
    if !file.exists() {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(&file)
            .with_context(|| format!("creating {}", file.display()))?;
        writeln!(f, "{}", MasterKey::generate_base64())?;
        // Quietly: the demo's BMCs are simulated, nothing for a newcomer to do.
        tracing::debug!(file = %file.display(), "demo master key created");
    }
    config.health.master_key_file = Some(file);
    Ok(())
}
