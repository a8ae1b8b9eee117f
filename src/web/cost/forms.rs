//! Cost pages with forms: parameter versions, instance types and tiers,
//! competitors (scenarios: `scenarios_web.rs`). Viewing needs `ViewMoney`,
//! saving `EditCost`.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_decimal::Decimal;

use super::overview::load;
use crate::auth::{CurrentUser, Permission};
use crate::cost::catalog::{
    self, CompetitorInput, CompetitorPriceInput, InstanceTypeInput, TierInput,
};
use crate::cost::params::{self, ClassInput, ParamsInput, SiteInput, Version};
use crate::cost::pricing::{Competitor, InstanceType, Tier};
use crate::cost::repo::ParamsRow;
use crate::cost::service::ReportQuery;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::inventory::templates::ASSET_KINDS;
use crate::money::{Currency, Money};
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Routes of the form pages.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditCost],
        Router::new()
            .route("/cost/params", get(params_page).post(add_params))
            .route("/cost/pricing", get(pricing_page))
            .route(
                "/cost/instance-types",
                axum::routing::post(add_instance_type),
            )
            .route("/cost/tiers", axum::routing::post(add_tier))
            .route(
                "/cost/competitors",
                get(competitors_page).post(add_competitor),
            ),
    )
}

type Fields = HashMap<String, String>;

/// A form re-shown with its errors (422), or a redirect when saved.
fn saved_or<P: IntoResponse>(
    r: AppResult<i64>,
    to: &str,
    page: impl FnOnce(FieldErrors) -> P,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(see_other(to, Some("saved"))),
        Err(AppError::Validation(e)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(e)).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/params.html")]
struct ParamsPage {
    ctx: Ctx,
    current: Option<Version>,
    versions: Vec<ParamsRow>,
    sites: Vec<(i64, String)>,
    kinds: [&'static str; 5],
    form: Fields,
    errors: FieldErrors,
}

impl ParamsPage {
    fn v(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }
}

fn won(minor: i64, base: Currency) -> String {
    Money::from_minor(minor, base).amount.to_string()
}

/// The form prefilled from the version in force, or sensible defaults.
fn params_form(v: Option<&Version>, base: Currency) -> Fields {
    let mut f = Fields::new();
    let mut set = |k: String, v: String| {
        f.insert(k, v);
    };
    set(
        "effective_from".into(),
        crate::procurement::fx::today().to_string(),
    );
    let defaults = [
        ("depreciation_method", "straight_line"),
        ("vcpus_per_core", "2"),
        ("cpu_overcommit", "4"),
        ("ram_overcommit", "1"),
        ("host_reserved_vcpus", "4"),
        ("host_reserved_ram_gib", "16"),
        ("ceph_replication", "3"),
        ("ceph_target_fill", "0.75"),
        ("utilisation", "0.7"),
        ("watts_window_days", "7"),
    ];
    for (k, d) in defaults {
        set(k.into(), d.into());
    }
    let Some(v) = v else { return f };
    let r = &v.row;
    for (k, d) in [
        ("depreciation_method", r.depreciation_method.clone()),
        ("vcpus_per_core", r.vcpus_per_core.0.to_string()),
        ("cpu_overcommit", r.cpu_overcommit.0.to_string()),
        ("ram_overcommit", r.ram_overcommit.0.to_string()),
        ("host_reserved_vcpus", r.host_reserved_vcpus.0.to_string()),
        (
            "host_reserved_ram_gib",
            r.host_reserved_ram_gib.0.to_string(),
        ),
        ("ceph_replication", r.ceph_replication.0.to_string()),
        ("ceph_target_fill", r.ceph_target_fill.0.to_string()),
        ("utilisation", r.utilisation.0.to_string()),
        ("watts_window_days", r.watts_window_days.to_string()),
    ] {
        set(k.into(), d);
    }
    for s in &v.sites {
        let p = format!("site_{}_", s.site_id);
        set(
            format!("{p}electricity_per_kwh"),
            s.electricity_per_kwh.0.to_string(),
        );
        set(format!("{p}pue"), s.pue.0.to_string());
        set(format!("{p}rack_monthly"), won(s.rack_monthly_minor, base));
        set(
            format!("{p}network_monthly"),
            won(s.network_monthly_minor, base),
        );
        set(format!("{p}network_share"), s.network_share.clone());
        set(
            format!("{p}traffic_gb_month"),
            s.traffic_gb_month.to_string(),
        );
    }
    for c in &v.classes {
        let p = format!("class_{}_", c.asset_kind);
        set(
            format!("{p}depreciation_months"),
            c.depreciation_months.to_string(),
        );
        set(
            format!("{p}support_monthly"),
            won(c.support_monthly_minor, base),
        );
    }
    f
}

/// The flat form as a [`ParamsInput`]: a site or class row is included when
/// its first field is filled in.
fn params_input(f: &Fields, sites: &[(i64, String)]) -> ParamsInput {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    ParamsInput {
        effective_from: g("effective_from"),
        depreciation_method: g("depreciation_method"),
        vcpus_per_core: g("vcpus_per_core"),
        cpu_overcommit: g("cpu_overcommit"),
        ram_overcommit: g("ram_overcommit"),
        host_reserved_vcpus: g("host_reserved_vcpus"),
        host_reserved_ram_gib: g("host_reserved_ram_gib"),
        ceph_replication: g("ceph_replication"),
        ceph_target_fill: g("ceph_target_fill"),
        utilisation: g("utilisation"),
        watts_window_days: g("watts_window_days"),
        note: g("note"),
        sites: sites
            .iter()
            .filter(|(id, _)| {
                !g(&format!("site_{id}_electricity_per_kwh"))
                    .trim()
                    .is_empty()
            })
            .map(|(id, _)| {
                let s = |k: &str| g(&format!("site_{id}_{k}"));
                SiteInput {
                    site_id: *id,
                    electricity_per_kwh: s("electricity_per_kwh"),
                    pue: s("pue"),
                    rack_monthly: s("rack_monthly"),
                    network_monthly: s("network_monthly"),
                    network_share: s("network_share"),
                    traffic_gb_month: s("traffic_gb_month"),
                }
            })
            .collect(),
        classes: ASSET_KINDS
            .iter()
            .filter(|k| {
                !g(&format!("class_{k}_depreciation_months"))
                    .trim()
                    .is_empty()
            })
            .map(|k| ClassInput {
                asset_kind: (*k).to_owned(),
                depreciation_months: g(&format!("class_{k}_depreciation_months")),
                support_monthly: g(&format!("class_{k}_support_monthly")),
            })
            .collect(),
    }
}

async fn params_view(state: &AppState, ctx: Ctx) -> AppResult<ParamsPage> {
    let current = params::version_on(&state.db, crate::procurement::fx::today()).await?;
    Ok(ParamsPage {
        form: params_form(current.as_ref(), state.config.base()),
        current,
        versions: crate::cost::repo::versions(&state.db).await?,
        sites: crate::datacenter::racks::sites(&state.db).await?,
        kinds: ASSET_KINDS,
        errors: FieldErrors::default(),
        ctx: ctx.section("cost"),
    })
}

async fn params_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
) -> AppResult<ParamsPage> {
    user.require(Permission::ViewMoney)?;
    params_view(&state, ctx).await
}

async fn add_params(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked {
        input: form,
        refused,
    }: Checked<Fields>,
) -> AppResult<Response> {
    user.require(Permission::EditCost)?;
    let mut page = params_view(&state, ctx).await?;
    let input = params_input(&form, &page.sites);
    let r = unless_refused(
        &refused,
        params::add_version(&state.db, &user.actor(), state.config.base(), &input),
    )
    .await;
    saved_or(r, "/cost/params", |errors| {
        page.form = form;
        page.errors = errors;
        page
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/pricing.html")]
struct PricingPage {
    ctx: Ctx,
    types: Vec<InstanceType>,
    tiers: Vec<(Tier, String, Money, Money)>,
    type_form: InstanceTypeInput,
    tier_form: TierInput,
    /// Which form was refused ("type" or "tier"): its fields show the messages.
    refused: &'static str,
    errors: FieldErrors,
}

async fn pricing_view(state: &AppState, ctx: Ctx) -> AppResult<PricingPage> {
    let base = state.config.base();
    let types = catalog::instance_types(&state.db).await?;
    let tiers = catalog::tiers(&state.db)
        .await?
        .into_iter()
        .map(|t| {
            let name = types
                .iter()
                .find(|i| i.id == t.instance_type_id)
                .map(|i| i.name.clone())
                .unwrap_or_default();
            let (p, x) = (
                Money::new(t.price_per_day, base),
                Money::new(t.extra_gb_price, base),
            );
            (t, name, p, x)
        })
        .collect();
    Ok(PricingPage {
        types,
        tiers,
        type_form: InstanceTypeInput::default(),
        tier_form: TierInput::default(),
        refused: "",
        errors: FieldErrors::default(),
        ctx: ctx.section("cost"),
    })
}

async fn pricing_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
) -> AppResult<PricingPage> {
    user.require(Permission::ViewMoney)?;
    pricing_view(&state, ctx).await
}

async fn add_instance_type(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<InstanceTypeInput>,
) -> AppResult<Response> {
    user.require(Permission::EditCost)?;
    let mut page = pricing_view(&state, ctx).await?;
    let r = unless_refused(
        &refused,
        catalog::create_instance_type(&state.db, &user.actor(), &input),
    )
    .await;
    saved_or(r, "/cost/pricing", |errors| {
        page.type_form = input;
        page.refused = "type";
        page.errors = errors;
        page
    })
}

async fn add_tier(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<TierInput>,
) -> AppResult<Response> {
    user.require(Permission::EditCost)?;
    let mut page = pricing_view(&state, ctx).await?;
    let r = unless_refused(
        &refused,
        catalog::create_tier(&state.db, &user.actor(), &input),
    )
    .await;
    saved_or(r, "/cost/pricing", |errors| {
        page.tier_form = input;
        page.refused = "tier";
        page.errors = errors;
        page
    })
}

/// One comparison row as money.
struct ComparisonRow {
    tier: String,
    competitor: String,
    their_name: String,
    there: Money,
    here: Money,
    allowance_saves: Money,
    customer_saves: Money,
    dearer: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/competitors.html")]
struct CompetitorsPage {
    ctx: Ctx,
    competitors: Vec<Competitor>,
    types: Vec<InstanceType>,
    traffic_gb: i64,
    rows: Vec<ComparisonRow>,
    form: Fields,
    errors: FieldErrors,
}

impl CompetitorsPage {
    fn v(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }

    fn type_name(&self, id: &i64) -> String {
        self.types
            .iter()
            .find(|t| t.id == *id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }
}

async fn competitors_view(
    state: &AppState,
    ctx: Ctx,
    q: &ReportQuery,
) -> AppResult<CompetitorsPage> {
    let base = state.config.base();
    let (_, _, r) = load(state, q).await?;
    let m = |d: Decimal| Money::new(d, base);
    Ok(CompetitorsPage {
        rows: r
            .comparisons
            .iter()
            .map(|c| ComparisonRow {
                tier: c.tier.clone(),
                competitor: c.competitor.clone(),
                their_name: c.their_name.clone(),
                there: m(c.there_total),
                here: m(c.here_total),
                allowance_saves: m(c.allowance_saves),
                customer_saves: m(c.customer_saves),
                dearer: c.customer_saves.is_sign_negative(),
            })
            .collect(),
        traffic_gb: r.traffic_gb,
        competitors: r.competitors,
        types: r.instance_types,
        form: Fields::new(),
        errors: FieldErrors::default(),
        ctx: ctx.section("cost"),
    })
}

async fn competitors_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> AppResult<CompetitorsPage> {
    user.require(Permission::ViewMoney)?;
    competitors_view(&state, ctx, &q).await
}

async fn add_competitor(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked {
        input: form,
        refused,
    }: Checked<Fields>,
) -> AppResult<Response> {
    user.require(Permission::EditCost)?;
    let mut page = competitors_view(&state, ctx, &ReportQuery::default()).await?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = CompetitorInput {
        name: g("name"),
        currency: g("currency"),
        fx_rate: g("fx_rate"),
        egress_per_gb: g("egress_per_gb"),
        free_egress_gb: g("free_egress_gb"),
        prices: page
            .types
            .iter()
            .filter(|t| !g(&format!("price_{}", t.id)).trim().is_empty())
            .map(|t| CompetitorPriceInput {
                instance_type_id: t.id,
                their_name: g(&format!("their_name_{}", t.id)),
                price: g(&format!("price_{}", t.id)),
                per: g(&format!("per_{}", t.id)),
            })
            .collect(),
    };
    let r = unless_refused(
        &refused,
        catalog::create_competitor(&state.db, &user.actor(), &input),
    )
    .await;
    saved_or(r, "/cost/competitors", |errors| {
        page.form = form;
        page.errors = errors;
        page
    })
}
