//! Settings: built-in defaults < `rackledger.toml` < `RACKLEDGER_*` env (and `DATABASE_URL`).
//!
//! The layers are TOML tables merged key by key (a table into a table, any
//! other value replacing the one before), then read into [`Config`]. An
//! environment name is a key path after the prefix, in any case, `.` between
//! the parts (`RACKLEDGER_SESSION_HOURS`, `RACKLEDGER_HEALTH.CONCURRENCY`); its
//! value is read as a TOML value where it is one (`8`, `true`,
//! `{concurrency = 8}` for a whole table) and as text otherwise. Those are
//! the rules figment applied here before, but for the value syntax: figment
//! had its own, close to TOML's, which also took unquoted text inside `{...}`
//! and `[...]` as strings.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Everything rackledger can be told at start-up.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// Address the web server listens on.
    pub bind: SocketAddr,
    /// `sqlite://file`, `sqlite::memory:` or `postgres://...`.
    pub database_url: String,
    /// ISO 4217 code that every cost is reported in.
    pub base_currency: String,
    /// IANA time zone shown to users who have not chosen one.
    pub default_time_zone: String,
    /// Set the `Secure` flag on cookies (turn on behind HTTPS).
    pub cookie_secure: bool,
    /// Hours a login session lasts without activity.
    pub session_hours: i64,
    /// Login attempts on one user name from one client address that go
    /// through at once; later ones wait (`auth::throttle`). An address gets
    /// four times this over all names.
    pub login_max_failures: i64,
    /// The longest login back-off, minutes; a back-off is forgotten this long
    /// after it ends.
    pub login_window_minutes: i64,
    /// The first login back-off, seconds; it doubles with each further failure.
    #[serde(default = "default_backoff_secs")]
    pub login_backoff_secs: i64,
    /// Reverse proxies whose client address header is believed: IP addresses
    /// or CIDR ranges (`10.0.0.0/8`, `::1`). Empty (the default): the client
    /// address is the socket peer's.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header a trusted proxy puts the client address in:
    /// `x-forwarded-for` (the last address not of a trusted proxy counts) or
    /// one holding a single address (`x-real-ip`).
    #[serde(default = "default_client_ip_header")]
    pub client_ip_header: String,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Address users reach rackledger at (`https://rackledger.example.com`),
    /// printed in label QR codes; unset means `http://` + `bind`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// BMC polling (`[health]` in rackledger.toml).
    #[serde(default)]
    pub health: crate::health::HealthConfig,
    /// Connection limits and timeouts (`[server]` in rackledger.toml).
    #[serde(default)]
    pub server: crate::app::ServerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://rackledger.sqlite".into(),
            base_currency: "KRW".into(),
            default_time_zone: "Asia/Seoul".into(),
            cookie_secure: false,
            session_hours: 12,
            login_max_failures: 5,
            login_window_minutes: 15,
            login_backoff_secs: default_backoff_secs(),
            trusted_proxies: Vec::new(),
            client_ip_header: default_client_ip_header(),
            log_format: "text".into(),
            public_url: None,
            health: crate::health::HealthConfig::default(),
            server: crate::app::ServerConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` if it exists (a relative path is looked for
    /// in the current directory, then in each parent), then the environment.
    pub fn load(file: &Path) -> anyhow::Result<Config> {
        let env: Vec<(String, String)> = std::env::vars_os()
            .map(|(k, v)| {
                let lossy = |s: std::ffi::OsString| s.to_string_lossy().into_owned();
                (lossy(k), lossy(v))
            })
            .collect();
        Config::from_layers(find_file(file).as_deref(), &env)
            .context("reading configuration")?
            .validated()
    }

    /// Defaults, then the TOML `file`, then `env` (name, value pairs); an error
    /// names the setting and where its value came from.
    fn from_layers(file: Option<&Path>, env: &[(String, String)]) -> anyhow::Result<Config> {
        let mut table = toml::Table::try_from(Config::default())?;
        if let Some(path) = file {
            let read = |path: &Path| -> anyhow::Result<toml::Table> {
                Ok(std::fs::read_to_string(path)?.parse()?)
            };
            merge(
                &mut table,
                read(path).with_context(|| path.display().to_string())?,
            );
        }
        let overrides = env_overrides(env);
        for (_, path, value) in &overrides {
            let nested = path.iter().rev().fold(value.clone(), |v, key| {
                toml::Value::Table(toml::Table::from_iter([(key.clone(), v)]))
            });
            if let toml::Value::Table(t) = nested {
                merge(&mut table, t);
            }
        }
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let key = e.path().to_string();
            let within = |path: &[String]| {
                let p = path.join(".");
                key == p || key.starts_with(&format!("{p}."))
            };
            let from = match overrides.iter().rev().find(|(_, path, _)| within(path)) {
                Some((var, _, _)) => format!("{var} in the environment"),
                None => file.map_or("the defaults".into(), |f| f.display().to_string()),
            };
            anyhow::anyhow!("{key} (from {from}): {}", e.inner().message())
        })
    }

    /// Refuses settings that cannot work, naming the setting.
    pub fn validated(self) -> anyhow::Result<Config> {
        if crate::money::Currency::parse(&self.base_currency).is_none() {
            anyhow::bail!(
                "base_currency {:?} is not an ISO 4217 currency code",
                self.base_currency
            );
        }
        if jiff::tz::TimeZone::get(&self.default_time_zone).is_err() {
            anyhow::bail!(
                "default_time_zone {:?} is not a known IANA time zone",
                self.default_time_zone
            );
        }
        if self.session_hours <= 0
            || self.login_max_failures <= 0
            || self.login_window_minutes <= 0
            || self.login_backoff_secs <= 0
        {
            anyhow::bail!(
                "session_hours, login_max_failures, login_window_minutes and login_backoff_secs must be above zero"
            );
        }
        if self.login_max_failures > 1_000_000 || self.login_window_minutes > 60 * 24 * 365 {
            anyhow::bail!("login_max_failures or login_window_minutes is unreasonably large");
        }
        self.trusted_proxy_nets()?;
        if header_name(&self.client_ip_header).is_none() {
            anyhow::bail!(
                "client_ip_header {:?} is not a header name",
                self.client_ip_header
            );
        }
        let server = &self.server;
        if server.max_connections == 0
            || server.header_read_timeout_secs == 0
            || server.body_idle_timeout_secs == 0
        {
            anyhow::bail!(
                "server.max_connections, server.header_read_timeout_secs and server.body_idle_timeout_secs must be above zero"
            );
        }
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            anyhow::bail!("public_url {u:?} must start with http:// or https://");
        }
        Ok(self)
    }

    /// The absolute base URL of pages, without a trailing `/`: `public_url`,
    /// or `http://` + the bind address when it is unset.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }

    /// Whether users reach rackledger over HTTPS (`public_url` starts with
    /// `https://`): cookies are then `Secure` and pages send HSTS.
    pub fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }

    /// Whether cookies carry `Secure`: `cookie_secure`, or an HTTPS `public_url`.
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure || self.https()
    }

    /// `trusted_proxies` parsed; an error names the entry that is neither an
    /// IP address nor a CIDR range.
    pub fn trusted_proxy_nets(&self) -> anyhow::Result<Vec<IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|s| {
                IpNet::parse(s).with_context(|| {
                    format!("trusted_proxies: {s:?} is not an IP address or CIDR range")
                })
            })
            .collect()
    }

    /// The base currency every cost is reported in (checked when loaded).
    pub fn base(&self) -> crate::money::Currency {
        crate::money::Currency::parse(&self.base_currency).unwrap_or(crate::money::Currency::KRW)
    }
}

fn default_backoff_secs() -> i64 {
    10
}

fn default_client_ip_header() -> String {
    "x-forwarded-for".into()
}

/// A lower-case HTTP header name made of token characters, or `None`.
fn header_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    ok.then(|| name.to_ascii_lowercase())
}

/// An IP address range: an address and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `10.0.0.0/8`, `fd00::/8` or a single address (`::1`).
    pub fn parse(s: &str) -> anyhow::Result<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse()?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>()?,
            None => max,
        };
        anyhow::ensure!(prefix <= max, "prefix /{prefix} is longer than {max} bits");
        Ok(IpNet { addr, prefix })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |len: u32, a: u128, b: u128| {
            let shift = len - u32::from(self.prefix);
            shift >= len || a.checked_shr(shift) == b.checked_shr(shift)
        };
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                bits(32, u128::from(u32::from(n)), u128::from(u32::from(a)))
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => bits(128, u128::from(n), u128::from(a)),
            _ => false,
        }
    }
}

/// `file` itself when absolute; when relative, the first of it in the
/// current directory and its parents that is a file (as figment's
/// `Toml::file` did). `None` when there is none.
fn find_file(file: &Path) -> Option<PathBuf> {
    if file.is_absolute() {
        return file.is_file().then(|| file.to_path_buf());
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().map(|d| d.join(file)).find(|p| p.is_file())
}

/// The settings given in `env`, sorted by name: `RACKLEDGER_*` (the prefix in
/// any case) as (variable, lower-case key path, value), then `DATABASE_URL`,
/// which wins over `RACKLEDGER_DATABASE_URL`. Names with an empty part
/// (`RACKLEDGER_HEALTH.`) are skipped.
fn env_overrides(env: &[(String, String)]) -> Vec<(String, Vec<String>, toml::Value)> {
    const PREFIX: &str = "RACKLEDGER_";
    let mut out: Vec<_> = env
        .iter()
        .filter_map(|(var, raw)| {
            let name = var.trim();
            let head = name.get(..PREFIX.len())?;
            if !head.eq_ignore_ascii_case(PREFIX) {
                return None;
            }
            let key = name[PREFIX.len()..].trim().to_ascii_lowercase();
            let path: Vec<String> = key.split('.').map(str::to_owned).collect();
            if path.iter().any(String::is_empty) {
                return None;
            }
            Some((var.clone(), path, env_value(raw)))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    let database_url = env
        .iter()
        .find(|(var, _)| var.trim().eq_ignore_ascii_case("DATABASE_URL"));
    if let Some((var, raw)) = database_url {
        out.push((
            var.clone(),
            vec!["database_url".into()],
            toml::Value::String(raw.clone()),
        ));
    }
    out
}

/// An environment value as TOML (`8`, `true`, `"x"`, `[1, 2]`, `{a = 1}`),
/// or as text when it is not a TOML value or is a date (`sqlite://x`, `USD`).
fn env_value(raw: &str) -> toml::Value {
    match toml::Value::deserialize(toml::de::ValueDeserializer::new(raw)) {
        Ok(toml::Value::Datetime(_)) | Err(_) => toml::Value::String(raw.to_owned()),
        Ok(v) => v,
    }
}

/// Merges `over` into `base`: a table into a table key by key, anything else
/// replacing what was there.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (Some(slot), value) => *slot = value,
            (None, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_settings_are_refused_with_the_setting_named() {
        assert!(Config::default().validated().is_ok());
        let bad = Config {
            base_currency: "WON".into(),
            ..Config::default()
        };
        let e = bad.validated().expect_err("refused").to_string();
        assert!(e.contains("base_currency") && e.contains("WON"), "{e}");
        let bad = Config {
            default_time_zone: "Seoul".into(),
            ..Config::default()
        };
        assert!(
            bad.validated()
                .expect_err("refused")
                .to_string()
                .contains("default_time_zone")
        );
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn toml_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("rackledger.toml");
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn the_file_overrides_the_defaults_and_the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = toml_file(
            &dir,
            "session_hours = 8\nlog_format = \"json\"\ndatabase_url = \"sqlite://file.db\"\n",
        );
        let c = Config::from_layers(Some(&file), &[]).expect("loads");
        assert_eq!((c.session_hours, c.log_format.as_str()), (8, "json"));
        assert_eq!(c.login_max_failures, 5, "a default the file leaves alone");

        let c = Config::from_layers(
            Some(&file),
            &env(&[
                ("RACKLEDGER_SESSION_HOURS", "24"),
                ("rackledger_bind", "0.0.0.0:9000"),
                ("RACKLEDGER_DATABASE_URL", "sqlite://env.db"),
                ("DATABASE_URL", "postgres://db/rackledger"),
                ("RACKLEDGER_PUBLIC_URL", "https://racks.example.com"),
                // Shares the prefix but is no setting (read by health::secret).
                ("RACKLEDGER_MASTER_KEY", "AAAA+/=="),
                ("PATH", "/usr/bin"),
            ]),
        )
        .expect("loads");
        assert_eq!(c.session_hours, 24);
        assert_eq!(c.log_format, "json");
        assert_eq!(c.bind, SocketAddr::from(([0, 0, 0, 0], 9000)));
        assert_eq!(
            c.database_url, "postgres://db/rackledger",
            "DATABASE_URL wins"
        );
        assert_eq!(c.public_url.as_deref(), Some("https://racks.example.com"));
    }

    #[test]
    fn a_nested_setting_is_overridden_from_the_environment_keeping_its_neighbours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = toml_file(
            &dir,
            "[health]\nconcurrency = 16\npoll_interval_secs = 300\nexpand = false\n",
        );
        let c = Config::from_layers(
            Some(&file),
            &env(&[
                (
                    "RACKLEDGER_HEALTH",
                    "{ poll_in_serve = false, expand = true }",
                ),
                ("RACKLEDGER_HEALTH.CONCURRENCY", "4"),
            ]),
        )
        .expect("loads");
        let h = &c.health;
        assert_eq!(h.concurrency, 4, "the dotted name");
        assert!(!h.poll_in_serve && h.expand, "the inline table");
        assert_eq!(h.poll_interval_secs, 300, "the file's, left alone");
        assert_eq!(h.request_timeout_secs, 10, "the default, left alone");
    }

    #[test]
    fn an_invalid_value_is_refused_naming_the_setting_and_its_source() {
        let e = Config::from_layers(None, &env(&[("RACKLEDGER_SESSION_HOURS", "twelve")]))
            .expect_err("refused")
            .to_string();
        assert!(
            e.starts_with("session_hours (from RACKLEDGER_SESSION_HOURS in the environment)")
                && e.contains("twelve"),
            "{e}"
        );

        let e = Config::from_layers(
            None,
            &env(&[("RACKLEDGER_HEALTH", "{ concurrency = \"many\" }")]),
        )
        .expect_err("refused")
        .to_string();
        assert!(
            e.starts_with("health.concurrency (from RACKLEDGER_HEALTH in the environment)"),
            "{e}"
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let file = toml_file(&dir, "[health]\nconcurrency = -1\n");
        let e = Config::from_layers(Some(&file), &[])
            .expect_err("refused")
            .to_string();
        assert!(
            e.starts_with(&format!("health.concurrency (from {})", file.display())),
            "{e}"
        );

        let file = toml_file(&dir, "session_hours = \n");
        let e = Config::from_layers(Some(&file), &[]).expect_err("refused");
        assert!(format!("{e:#}").contains("rackledger.toml"), "{e:#}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_bad_ones_are_refused() {
        let net = |s: &str| IpNet::parse(s).expect(s);
        let ip = |s: &str| s.parse::<IpAddr>().expect(s);
        assert!(net("10.0.0.0/8").contains(ip("10.200.1.2")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(
            net("192.0.2.7").contains(ip("::ffff:192.0.2.7")),
            "mapped v4"
        );
        assert!(!net("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(net("fd00::/8").contains(ip("fd12::1")));
        assert!(!net("fd00::/8").contains(ip("10.0.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/", "::/129", ""] {
            let c = Config {
                trusted_proxies: vec![bad.into()],
                ..Config::default()
            };
            let e = format!("{:#}", c.validated().expect_err(bad));
            assert!(e.contains("trusted_proxies"), "{e}");
        }
        let c = Config {
            client_ip_header: "x real ip".into(),
            ..Config::default()
        };
        assert!(c.validated().is_err());
    }
}
