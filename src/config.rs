//! Settings: built-in defaults < `rackledger.toml` < `RACKLEDGER_*` env (and `DATABASE_URL`).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
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
    /// Failed logins per user name in `login_window_minutes` before refusing.
    pub login_max_failures: i64,
    /// Window for counting failed logins, minutes.
    pub login_window_minutes: i64,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Address users reach rackledger at (`https://rackledger.example.com`),
    /// printed in label QR codes; unset means `http://` + `bind`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// BMC polling (`[health]` in rackledger.toml).
    #[serde(default)]
    pub health: crate::health::HealthConfig,
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
            log_format: "text".into(),
            public_url: None,
            health: crate::health::HealthConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` if it exists, then the environment.
    pub fn load(file: &Path) -> anyhow::Result<Config> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("RACKLEDGER_"))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .extract::<Config>()
            .context("reading configuration")?
            .validated()
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
        if self.session_hours <= 0 || self.login_max_failures <= 0 || self.login_window_minutes <= 0
        {
            anyhow::bail!(
                "session_hours, login_max_failures and login_window_minutes must be above zero"
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

    /// The base currency every cost is reported in (checked when loaded).
    pub fn base(&self) -> crate::money::Currency {
        crate::money::Currency::parse(&self.base_currency).unwrap_or(crate::money::Currency::KRW)
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
}
