//! The `rackledger` command: serve, migrate, user add, backup.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use rackledger::app;
use rackledger::audit::Actor;
use rackledger::auth::service::{self, NewUserInput};
use rackledger::config::Config;
use rackledger::db::Db;
use rackledger::web::AppState;
use tracing_subscriber::EnvFilter;

mod cli_health;
mod cli_import;

/// Hardware procurement and datacenter asset inventory.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (optional; env RACKLEDGER_* and DATABASE_URL override it).
    #[arg(long, global = true, default_value = "rackledger.toml")]
    config: PathBuf,
    /// Database URL: sqlite://FILE (default sqlite://rackledger.sqlite) or postgres://...
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI and JSON API (migrations run first).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; env RACKLEDGER_BIND).
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Fill an empty database with demo data and print the demo logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import a supplier file: price_list, order_confirmation or packing_list.
    /// Checks every row first; writes nothing with --dry-run or when a row is bad
    /// (unless --skip-errors).
    Import(cli_import::Args),
    /// Write a consistent copy of the SQLite database to FILE while the server runs.
    Backup {
        /// Destination file (must not exist).
        file: PathBuf,
    },
    /// Poll the BMCs only (no web server), for large fleets; several may share PostgreSQL.
    Poll {
        /// Poll every BMC that is due (`concurrency` at a time), then exit.
        #[arg(long)]
        once: bool,
    },
    /// BMCs: probe one, generate or rotate the master key.
    Bmc {
        #[command(subcommand)]
        command: cli_health::BmcCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is asked on the terminal or read from stdin.
    Add {
        /// Login name.
        name: String,
        /// admin, procurement, technician, manager or viewer.
        #[arg(long)]
        role: String,
        /// Name shown in the interface.
        #[arg(long, default_value = "")]
        display_name: String,
    },
}

fn main() -> anyhow::Result<()> {
    #[cfg(feature = "tuned-alloc")]
    rackledger::alloc::tune();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(&cli.config)?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    init_tracing(&config);
    match cli.command {
        Command::Serve { bind, demo } => serve(config, bind, demo).await,
        Command::Migrate => {
            let db = open(&config).await?;
            db.close().await;
            say(&format!("migrations applied ({})", db.engine()));
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    display_name,
                },
        } => {
            let db = open(&config).await?;
            let password = read_password()?;
            let input = NewUserInput {
                username: name,
                display_name,
                password,
                role,
                home_site_id: None,
            };
            let id = service::create_user(
                &db,
                &Actor::system("cli"),
                &input,
                &config.default_time_zone,
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.message(rackledger::i18n::Lang::En)))?;
            say(&format!(
                "created user {} (id {id})",
                input.username.trim().to_lowercase()
            ));
            Ok(())
        }
        Command::Backup { file } => backup(&config, &file).await,
        Command::Import(args) => {
            let db = open(&config).await?;
            let ok = cli_import::run(&db, &config, args).await?;
            db.close().await;
            if ok { Ok(()) } else { std::process::exit(2) }
        }
        Command::Poll { once } => {
            let db = open(&config).await?;
            cli_health::poll(&config, db, once, shutdown_signal()).await
        }
        Command::Bmc { command } => {
            cli_health::bmc(&config, command, async || open(&config).await).await
        }
    }
}

fn init_tracing(config: &Config) {
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file or journal.
        .with_ansi(std::io::stderr().is_terminal());
    if config.log_format == "json" {
        builder.json().init()
    } else {
        builder.init()
    }
}

#[allow(clippy::print_stdout, reason = "command-line output")]
fn say(line: &str) {
    println!("{line}");
}

async fn open(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

async fn serve(mut config: Config, bind: Option<SocketAddr>, demo: bool) -> anyhow::Result<()> {
    if let Some(b) = bind {
        config.bind = b;
    }
    let db = open(&config).await?;
    // On SQLite this is the one server, so an import still marked running was
    // cut off by a crash or a kill: say so rather than show it running forever.
    // PostgreSQL may have other servers running theirs: there an import is
    // taken for dead when its progress stops being written for minutes.
    if matches!(db, Db::Sqlite(_)) {
        let n = rackledger::importers::fail_interrupted(&db, Default::default()).await?;
        if n > 0 {
            tracing::warn!(
                batches = n,
                "imports interrupted by the last shutdown marked failed"
            );
        }
    } else {
        let db = db.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                match rackledger::importers::fail_stale(&db, Default::default()).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(batches = n, "imports whose server stopped marked failed")
                    }
                    Err(e) => tracing::warn!(error = %e, "checking for stopped imports failed"),
                }
            }
        });
    }
    if demo {
        cli_health::demo_key(&mut config)?;
        if config.health.master_key()?.is_none() {
            // No file to keep a key in: one for this run (the demo BMCs get
            // new passwords at every start anyway).
            let key = rackledger::health::secret::MasterKey::generate_base64();
            config.health.session_key =
                Some(rackledger::health::secret::MasterKey::from_base64(&key)?);
        }
    }
    if demo && rackledger::demo::seed(&db, &config.default_time_zone).await? {
        rackledger::demo::seed_showcase(&db).await?;
        say("demo data loaded; log in as one of:");
        for (user, role, password) in rackledger::demo::DEMO_USERS {
            say(&format!("  {user:<6} / {password:<18} ({role})"));
        }
    } else if rackledger::auth::repo::count_users(&db).await? == 0 {
        say(
            "no users yet: create one with `rackledger user add NAME --role admin`, or start with --demo",
        );
    }
    let demo_bmcs = match (demo, config.health.master_key()?) {
        (true, Some(key)) => {
            let bmcs = rackledger::demo::bmcs::DemoBmcs::start(&db, &key).await?;
            if !bmcs.servers().is_empty() {
                say(&format!(
                    "demo: {} servers have a simulated BMC on 127.0.0.1; an admin can simulate a DIMM failure on /health",
                    bmcs.servers().len()
                ));
            }
            Some(bmcs)
        }
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    say(&format!(
        "rackledger listening on http://{} ({})",
        listener.local_addr()?,
        db.engine()
    ));
    let poller = config.health.poll_in_serve.then(|| {
        let key = config.health.master_key();
        let key = key.unwrap_or_else(|e| {
            tracing::error!(error = %e, "master key unusable: stored BMC passwords cannot be opened");
            None
        });
        rackledger::health::poller::spawn_thread(
            &db,
            &config.database_url,
            config.health.clone(),
            key,
        )
    });
    let poller = match poller {
        Some(Err(e)) => {
            tracing::error!(error = %e, "the BMC poller could not start");
            None
        }
        Some(Ok(p)) => Some(p),
        None => None,
    };
    let state = AppState {
        db: db.clone(),
        config: Arc::new(config),
        demo: demo_bmcs,
    };
    app::serve(listener, state, shutdown_signal()).await?;
    if let Some(p) = poller {
        let _ = tokio::task::spawn_blocking(move || p.stop()).await;
    }
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading password from stdin")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    if file.exists() {
        bail!("{} exists; choose a new file", file.display());
    }
    let db = Db::connect(&config.database_url).await?;
    let path = file
        .to_str()
        .context("backup path is not UTF-8")?
        .to_owned();
    match &db {
        Db::Sqlite(pool) => {
            // VACUUM INTO writes a transactionally consistent copy, even while the server writes.
            sqlx::query("vacuum into $1")
                .bind(&path)
                .execute(pool)
                .await
                .context("VACUUM INTO")?;
            say(&format!("backup written to {path}"));
            Ok(())
        }
        Db::Postgres(_) => bail!(
            "this is a PostgreSQL database: back it up with `pg_dump --format=custom --file {path} \"$DATABASE_URL\"` \
             (or your provider's snapshots); restore with pg_restore"
        ),
    }
}
