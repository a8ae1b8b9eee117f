//! Health pages: the fleet page (`/health`), and the health section of an
//! asset page with its BMC form, poll-now button and reconciliation.

mod bmcs;
mod demo;

use crate::web::Form;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::health::alerts::{self, Alert};
use crate::health::bmc::{self, Bmc, BmcInput};
use crate::health::fleet;
use crate::health::reconcile::{self, AssetDiff, Diff};
use crate::health::redfish::Snapshot;
use crate::health::store::{self, Event};
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(demo::routes())
        .route("/health", get(fleet))
        .route("/health/bmcs", get(bmcs::list_bmcs))
        .merge(crate::web::needs(
            &[Permission::EditHealth],
            Router::new()
                .route("/health/assets/{id}/bmc", post(save_bmc))
                .route("/health/assets/{id}/bmc/delete", post(delete_bmc))
                .route("/health/assets/{id}/poll", post(poll_now)),
        ))
        .merge(crate::web::needs(
            &[Permission::EditInventory],
            Router::new().route("/health/assets/{id}/accept", post(accept)),
        ))
}

/// A component for a page: the kind word, then the slot, the word left out
/// when the slot already says it ("DIMM A5", not "DIMM DIMM A5").
pub fn component(ctx: &Ctx, kind: &str, slot: &str) -> String {
    if alerts::slot_names_kind(kind, slot) {
        slot.to_owned()
    } else {
        format!("{} {slot}", ctx.tk("health.kind", kind))
            .trim()
            .to_owned()
    }
}

/// A recorded value in the reader's words: a health state through the
/// catalogue (`OK`, `ok`, `Critical`), present or gone; others as they are.
pub fn event_value(ctx: &Ctx, value: Option<&str>) -> String {
    let Some(v) = value else {
        return "–".to_owned();
    };
    let low = v.to_lowercase();
    match low.as_str() {
        "ok" | "warning" | "critical" => ctx.tk("health.sev", &low),
        "present" | "gone" => ctx.tk("bmc2", &low),
        _ => v.to_owned(),
    }
}

/// What an event says after its kind, in the reader's words: since when a
/// BMC had not answered, why it does not answer (the explanation, to admins
/// only, as [`Bmc::for_viewer`] keeps the last error), or a change.
pub fn event_detail(ctx: &Ctx, e: &Event) -> String {
    match e.kind.as_str() {
        "recovered" => e.failing_since().map_or_else(String::new, |since| {
            format!("· {} {}", ctx.t("health.since"), ctx.datetime(&since))
        }),
        "unreachable" => match e.to_value.as_deref() {
            Some(why) if ctx.is_admin() => format!(
                "· {}",
                ctx.msg(&crate::health::redfish::client::explain_stored(why))
            ),
            _ => String::new(),
        },
        _ => {
            let what = match e.component.split_once(':') {
                Some((kind, slot)) => component(ctx, kind, slot),
                None => e.component.clone(),
            };
            let change = format!(
                "{} → {}",
                event_value(ctx, e.from_value.as_deref()),
                event_value(ctx, e.to_value.as_deref())
            );
            if what.is_empty() {
                change
            } else {
                format!("{what}: {change}")
            }
        }
    }
}

/// Formats an optional number for a table cell.
pub fn num(v: &Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |n| format!("{n}"))
}

/// Formats an optional whole number for a table cell.
pub fn int(v: &Option<i64>) -> String {
    v.map_or_else(|| "–".to_owned(), |n| n.to_string())
}

/// Formats a byte count as decimal gigabytes (as drive makers count).
pub fn gb(v: &Option<i64>) -> String {
    v.map_or_else(|| "–".to_owned(), |b| format!("{:.1} GB", b as f64 / 1e9))
}

/// The health section of an asset page.
pub struct AssetHealth {
    /// Its BMC, if configured.
    pub bmc: Option<Bmc>,
    /// The latest snapshot and when it was taken.
    pub latest: Option<(Snapshot, OffsetDateTime)>,
    /// Serials: BMC against rackledger.
    pub diff: Option<Diff>,
    /// Open alerts.
    pub alerts: Vec<Alert>,
    /// Latest events.
    pub events: Vec<Event>,
    /// Whether no master key is configured (passwords cannot be saved).
    pub no_key: bool,
    /// The BMC form as sent when it was refused (the password never comes back).
    pub form: Option<BmcInput>,
    /// Why the BMC form was refused, at its fields.
    pub errors: FieldErrors,
}

impl AssetHealth {
    /// What the BMC form shows in `field`: as sent when refused, else as saved.
    pub fn field(&self, field: &str) -> String {
        if let Some(f) = &self.form {
            return match field {
                "url" => f.url.clone(),
                "username" => f.username.clone(),
                "tls_policy" => f.tls_policy.clone(),
                _ => f.ca_cert_pem.clone(),
            };
        }
        let Some(b) = &self.bmc else {
            return if field == "tls_policy" {
                "verify".into()
            } else {
                String::new()
            };
        };
        match field {
            "url" => b.url.clone(),
            "username" => b.username.clone(),
            "tls_policy" => b.tls_policy.clone(),
            _ => b.ca_cert_pem.clone().unwrap_or_default(),
        }
    }
}

/// Loads the health section of asset `id` (for `inventory`'s asset page), as
/// an admin (`admin`) or another role may see it.
pub async fn asset_health(state: &AppState, id: i64, admin: bool) -> AppResult<AssetHealth> {
    Ok(AssetHealth {
        bmc: bmc::for_asset(&state.db, id)
            .await?
            .map(|b| b.for_viewer(admin)),
        latest: store::latest(&state.db, id).await?,
        diff: reconcile::for_asset(&state.db, id).await?,
        alerts: alerts::open(&state.db, Some(id)).await?,
        events: store::events(&state.db, id, 20).await?,
        no_key: !matches!(state.config.health.master_key(), Ok(Some(_))),
        form: None,
        errors: FieldErrors::default(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "health/fleet.html")]
struct FleetPage {
    ctx: Ctx,
    bmcs: i64,
    insecure: i64,
    silent: Vec<fleet::Silent>,
    unhealthy: Vec<fleet::Unhealthy>,
    alerts: Vec<Alert>,
    /// The site the alerts are limited to, if any.
    alerts_site: Option<i64>,
    diffs: Vec<AssetDiff>,
    demo: Option<demo::DemoPanel>,
}

/// `?site=`: only the alerts at that site (a technician's home links so).
#[derive(serde::Deserialize, Default)]
struct FleetQuery {
    site: Option<String>,
}

async fn fleet(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<FleetQuery>,
) -> AppResult<FleetPage> {
    let db = &state.db;
    let site = q.site.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let (bmcs, insecure) = fleet::bmc_counts(db).await?;
    Ok(FleetPage {
        bmcs,
        insecure,
        silent: fleet::silent(db).await?,
        unhealthy: fleet::unhealthy(db).await?,
        alerts: alerts::open_at_site(db, site).await?,
        alerts_site: site,
        diffs: reconcile::fleet(db).await?,
        demo: demo::panel(&state, ctx.is_admin()),
        ctx: ctx.section("health"),
    })
}

fn back(id: i64) -> String {
    format!("/inventory/assets/{id}#health")
}

async fn save_bmc(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { mut input, refused }: Checked<BmcInput>,
) -> AppResult<Response> {
    user.require(Permission::EditHealth)?;
    crate::inventory::assets::get(&state.db, id).await?;
    let key = state
        .config
        .health
        .master_key()
        .map_err(AppError::Internal)?;
    let saved = unless_refused(
        &refused,
        bmc::save(&state.db, key.as_ref(), &user.actor(), id, &input),
    )
    .await;
    match saved {
        Ok(_) => Ok(see_other(&back(id), Some("saved"))),
        // The form lives on the asset page, shown again there as sent.
        Err(AppError::Validation(errors)) => {
            input.password.clear();
            let mut health = asset_health(&state, id, ctx.is_admin()).await?;
            health.form = Some(input);
            health.errors = errors;
            crate::web::inventory::asset_page_with_health(&state, ctx, id, health).await
        }
        Err(e) => Err(e),
    }
}

async fn delete_bmc(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditHealth)?;
    bmc::delete(&state.db, &user.actor(), id).await?;
    Ok(see_other(&back(id), Some("saved")))
}

async fn poll_now(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditHealth)?;
    if !bmc::poll_soon(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&back(id), None))
}

/// Accepting the BMC's truth for one slot.
#[derive(Deserialize)]
struct AcceptForm {
    slot_name: String,
    serial: String,
    old_to: String,
    location_id: i64,
}

async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AcceptForm>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    reconcile::accept(
        &state.db,
        &user.actor(),
        id,
        &f.slot_name,
        &f.serial,
        &f.old_to,
        f.location_id,
    )
    .await?;
    Ok(see_other(&back(id), Some("saved")))
}
