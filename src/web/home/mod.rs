//! The home page: each role lands on what it works on. A technician sees
//! their work orders, alerts and audits with a scan box; procurement its late
//! and expected orders, imports waiting, reorders and warranties; a manager
//! the cost per day, losing tiers, cost drivers and fleet health; an admin
//! users, failed logins and silent BMCs. Every count links to the list that
//! shows exactly those rows. The figures are gathered in [`cards`].

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::Ctx;
use crate::auth::{CurrentUser, Role};
use crate::error::AppResult;
use crate::web::AppState;

mod cards;

use cards::{Card, CostSummary, MyWorkOrder};

/// Routes of the shared pages.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    /// The counts, in the order shown.
    cards: Vec<Card>,
    /// A technician's own open work orders (the first few).
    my_work: Vec<MyWorkOrder>,
    /// Whether to show the scan box (roles that work on the floor).
    scan: bool,
    /// A manager's cost figures.
    cost: Option<CostSummary>,
    /// A technician's home site: `Some(None)` when none is chosen (a hint
    /// to choose one is shown), `Some(Some((id, name)))` when chosen.
    site: Option<Option<(i64, String)>>,
}

async fn home(State(state): State<AppState>, ctx: Ctx, user: CurrentUser) -> AppResult<HomePage> {
    let mut page = HomePage {
        ctx: ctx.section("home"),
        cards: Vec::new(),
        my_work: Vec::new(),
        scan: matches!(user.role, Role::Technician | Role::Viewer),
        cost: None,
        site: None,
    };
    match user.role {
        Role::Technician => {
            let site = home_site(&state, user.id).await?;
            let id = site.as_ref().map(|(id, _)| *id);
            let (mine, cards) = cards::technician(&state, &page.ctx, user.id, id).await?;
            page.site = Some(site);
            page.my_work = mine;
            page.cards = cards;
        }
        Role::Procurement => page.cards = cards::procurement(&state).await?,
        Role::Manager => {
            let (cost, fleet) = (
                cards::cost(&state, &page.ctx).await?,
                cards::fleet(&state).await?,
            );
            page.cards = [cost.cards.clone(), fleet].concat();
            page.cost = Some(cost);
        }
        Role::Admin => {
            page.cards = [cards::admin(&state).await?, cards::fleet(&state).await?].concat();
        }
        Role::Viewer => page.cards = cards::fleet(&state).await?,
    }
    Ok(page)
}

/// The user's home site (id, name), if chosen.
async fn home_site(state: &AppState, user_id: i64) -> AppResult<Option<(i64, String)>> {
    let me = crate::auth::repo::get_user(&state.db, user_id).await?;
    let Some(id) = me.home_site_id else {
        return Ok(None);
    };
    let sites = crate::datacenter::racks::sites(&state.db).await?;
    Ok(sites.into_iter().find(|(s, _)| *s == id))
}
