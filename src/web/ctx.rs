//! `Ctx`: what every page needs to render (language, user, CSRF token,
//! request id, time zone) and the helpers templates call on it.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::app::REQUEST_ID;
use crate::auth::{AuthVia, CurrentUser, Permission};
use crate::i18n::{self, Lang, Msg};
use crate::money::Money;

/// Cookie remembering the language picked before logging in.
pub const LANG_COOKIE: &str = "rl_lang";

/// The per-request view context given to every page template.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Interface language.
    pub lang: Lang,
    /// The logged-in user, if any.
    pub user: Option<CurrentUser>,
    /// CSRF token forms must carry.
    pub csrf: String,
    /// Request id, shown on error pages.
    pub request_id: String,
    /// Time zone for showing times.
    pub time_zone: String,
    /// Current path, for the login redirect and the language switch.
    pub path: String,
    /// Flash message shown once after a redirect.
    pub flash: Option<String>,
    /// Navigation section to highlight.
    pub section: &'static str,
}

#[derive(Deserialize)]
struct FlashQuery {
    flash: Option<String>,
}

impl Ctx {
    /// Builds the context from request parts; never fails.
    pub fn from_parts(parts: &Parts) -> Ctx {
        let user = parts.extensions.get::<CurrentUser>().cloned();
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = user
            .as_ref()
            .and_then(|u| u.lang)
            .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
            .unwrap_or_else(|| {
                Lang::negotiate(header_str(&parts.headers, header::ACCEPT_LANGUAGE))
            });
        let csrf = match user.as_ref().map(|u| &u.via) {
            Some(AuthVia::Session { csrf_token, .. }) => csrf_token.clone(),
            _ => jar
                .get(crate::web::auth::PRELOGIN_COOKIE)
                .map(|c| c.value().to_owned())
                .unwrap_or_default(),
        };
        let flash = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<FlashQuery>(q).ok())
            .and_then(|f| f.flash)
            .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(|f| i18n::t(lang, &format!("flash.{f}")).to_owned());
        Ctx {
            lang,
            time_zone: user
                .as_ref()
                .map_or_else(|| "Asia/Seoul".to_owned(), |u| u.time_zone.clone()),
            user,
            csrf,
            request_id: header_str(&parts.headers, REQUEST_ID)
                .unwrap_or_default()
                .to_owned(),
            path: parts.uri.path().to_owned(),
            flash,
            section: "",
        }
    }

    /// The same context with a navigation section highlighted.
    pub fn section(mut self, section: &'static str) -> Ctx {
        self.section = section;
        self
    }

    /// A fresh token for a form's `_once` field (see `web::once`).
    pub fn once(&self) -> String {
        crate::auth::random_token()
    }

    /// The catalogue text for `key` in the page's language.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }

    /// The catalogue text for `prefix.key`, for keys that come from data
    /// (`ctx.tk("role", u.role)`).
    pub fn tk(&self, prefix: &str, key: &str) -> String {
        i18n::t(self.lang, &format!("{prefix}.{key}")).to_owned()
    }

    /// A message rendered in the page's language.
    pub fn msg(&self, m: &Msg) -> String {
        m.render(self.lang)
    }

    /// A UTC time in the user's time zone, `2026-11-27 16:43`.
    pub fn datetime(&self, t: &OffsetDateTime) -> String {
        self.local(t, "%Y-%m-%d %H:%M")
    }

    /// A UTC time in the user's time zone to the second, `2026-11-27 16:43:05`,
    /// where seconds matter (a login back-off that ends in a few).
    pub fn datetime_secs(&self, t: &OffsetDateTime) -> String {
        self.local(t, "%Y-%m-%d %H:%M:%S")
    }

    /// Today's date in the user's time zone (for "overdue", "ends in 90 days").
    pub fn today(&self) -> time::Date {
        let now = crate::clock::now();
        let tz = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        jiff::Timestamp::from_second(now.unix_timestamp())
            .ok()
            .and_then(|ts| {
                let d = ts.to_zoned(tz).date();
                let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
                time::Date::from_calendar_date(
                    i32::from(d.year()),
                    month,
                    u8::try_from(d.day()).ok()?,
                )
                .ok()
            })
            .unwrap_or_else(|| now.date())
    }

    fn local(&self, t: &OffsetDateTime, format: &str) -> String {
        local_time(t, &self.time_zone, format)
    }

    /// Same as [`Ctx::datetime`] for optional values; empty when absent.
    pub fn datetime_opt(&self, t: &Option<OffsetDateTime>) -> String {
        t.as_ref().map(|t| self.datetime(t)).unwrap_or_default()
    }

    /// Money formatted for its currency, or a dash for users who may not see money.
    pub fn money(&self, m: &Money) -> String {
        if self.can_money() {
            m.to_string()
        } else {
            "—".to_owned()
        }
    }

    /// The languages the page is not shown in, for the language switch.
    pub fn other_langs(&self) -> Vec<Lang> {
        Lang::ALL.into_iter().filter(|l| *l != self.lang).collect()
    }

    /// Whether the user may see prices and costs.
    pub fn can_money(&self) -> bool {
        self.can(Permission::ViewMoney)
    }

    /// Whether the user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.can(Permission::ManageUsers)
    }

    /// Whether the user's role holds `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.user.as_ref().is_some_and(|u| u.can(p))
    }

    /// The user's role name in the page's language.
    pub fn role_name(&self) -> String {
        self.user.as_ref().map_or_else(String::new, |u| {
            self.t(&format!("role.{}", u.role.as_str())).to_owned()
        })
    }
}

/// A UTC time in the IANA zone `zone` (UTC when unknown), in a `strftime`
/// `format`: the one place times are put in a reader's zone.
pub fn local_time(t: &OffsetDateTime, zone: &str, format: &str) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(t.unix_timestamp()) else {
        return t.to_string();
    };
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).strftime(format).to_string()
}

fn header_str(h: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx::from_parts(parts))
    }
}
