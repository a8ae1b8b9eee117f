//! The figures of each role's home. Every count is read from the same
//! function (and filter) as the list its link opens, so the two agree.

use rust_decimal::Decimal;
use std::collections::HashMap;

use crate::error::AppResult;
use crate::i18n::Msg;
use crate::money::Money;
use crate::web::{AppState, Ctx};
use crate::workorders::Filter;

/// How many of a technician's own work orders the home lists.
const MY_WORK_SHOWN: i64 = 8;
/// How many cost drivers a manager's home lists.
const DRIVERS_SHOWN: usize = 5;
/// Days ahead in which a warranty counts as ending (as on the warranty page).
const WARRANTY_DAYS: i64 = 90;
/// Days back the cost trend compares with.
const TREND_DAYS: i64 = 7;

/// One count on a home, linked to the list of exactly those rows.
#[derive(Clone, Debug)]
pub struct Card {
    /// Element id (tests and links find the card by it).
    pub id: &'static str,
    /// Catalogue key of the heading.
    pub title: &'static str,
    /// The figure shown (a count, or an amount).
    pub figure: String,
    /// Whether there is nothing to show (the empty state is shown instead).
    pub zero: bool,
    /// The filtered list.
    pub href: String,
    /// Catalogue key of what to do when there is nothing.
    pub empty: &'static str,
}

impl Card {
    fn count(
        id: &'static str,
        title: &'static str,
        n: i64,
        href: &str,
        empty: &'static str,
    ) -> Card {
        Card {
            id,
            title,
            figure: n.to_string(),
            zero: n == 0,
            href: href.to_owned(),
            empty,
        }
    }
}

fn len(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A work order on a technician's home: what, when, where.
#[derive(Clone, Debug)]
pub struct MyWorkOrder {
    /// Work order id.
    pub id: i64,
    /// Title in the reader's language.
    pub title: String,
    /// Due date, if any.
    pub due: Option<time::Date>,
    /// Whether it is past due.
    pub overdue: bool,
    /// Site of its rack.
    pub site: String,
    /// Rack name and U position (`R01 U12`), or empty.
    pub place: String,
}

/// A technician's own open work orders and their counts.
/// Alerts and unassigned work orders are those at `site` (the user's home
/// site; fleet-wide when none), and their links carry `site=`.
pub async fn technician(
    state: &AppState,
    ctx: &Ctx,
    user_id: i64,
    site: Option<i64>,
) -> AppResult<(Vec<MyWorkOrder>, Vec<Card>)> {
    let db = &state.db;
    let mine = Filter {
        assignee_id: Some(user_id),
        ..Filter::default()
    };
    let (rows, my_total) = crate::workorders::list(db, &mine, MY_WORK_SHOWN, 0).await?;
    let unassigned = Filter {
        unassigned: true,
        site_id: site,
        ..Filter::default()
    };
    let at = site.map(|s| format!("site={s}")).unwrap_or_default();
    let (_, unassigned_total) = crate::workorders::list(db, &unassigned, 1, 0).await?;
    let racks: HashMap<i64, (String, String)> = crate::datacenter::racks::list(db)
        .await?
        .into_iter()
        .map(|r| (r.id, (r.name, r.site_name)))
        .collect();
    let today = crate::clock::now().date();
    let my_work = rows
        .into_iter()
        .map(|w| {
            let w = w.localized(ctx.lang);
            let rack = w.rack_id.and_then(|id| racks.get(&id));
            let place = match (rack, w.u_position) {
                (Some((name, _)), Some(u)) => format!("{name} U{u}"),
                (Some((name, _)), None) => name.clone(),
                _ => String::new(),
            };
            MyWorkOrder {
                id: w.id,
                overdue: w.overdue(today),
                title: w.title,
                due: w.due_date,
                site: rack.map(|(_, site)| site.clone()).unwrap_or_default(),
                place,
            }
        })
        .collect();
    let alerts = crate::health::alerts::open_at_site(db, site).await?;
    let (_, audits) = crate::stocktake::list_at_site(db, true, site, 1, 0).await?;
    let cards = vec![
        Card::count(
            "my-work",
            "home_tech.my_work",
            my_total,
            "/workorders?mine=1",
            "home_tech.my_work_empty",
        ),
        Card::count(
            "unassigned-work",
            "home_tech.unassigned",
            unassigned_total,
            &join_query("/workorders?unassigned=1", &at),
            "home_tech.unassigned_empty",
        ),
        Card::count(
            "open-alerts",
            "home_tech.alerts",
            len(alerts.len()),
            &format!("{}#alerts", join_query("/health", &at)),
            "home_tech.alerts_empty",
        ),
        Card::count(
            "open-audits",
            "home_tech.audits",
            audits,
            &join_query("/datacenter/audits?status=open", &at),
            "home_tech.audits_empty",
        ),
    ];
    Ok((my_work, cards))
}

/// `path` with `query` appended (`?` or `&`), or `path` when it is empty.
fn join_query(path: &str, query: &str) -> String {
    match (query.is_empty(), path.contains('?')) {
        (true, _) => path.to_owned(),
        (false, true) => format!("{path}&{query}"),
        (false, false) => format!("{path}?{query}"),
    }
}

/// Procurement: orders late, due this week and awaited, imports waiting,
/// reorder shortfalls and warranties ending.
pub async fn procurement(state: &AppState) -> AppResult<Vec<Card>> {
    let db = &state.db;
    let orders = |status: &'static str| async move {
        crate::procurement::orders_repo::list_pos(db, None, Some(status), 1, 0)
            .await
            .map(|(_, n)| n)
    };
    let today = crate::clock::now().date();
    let until = today + time::Duration::days(WARRANTY_DAYS);
    let (_, imports) = crate::importers::batches::waiting(db, 1).await?;
    let reorder = crate::inventory::reorder::below_minimum(db, false).await?;
    let warranties = crate::inventory::warranty::ending(db, today, until).await?;
    Ok(vec![
        Card::count(
            "orders-late",
            "home_proc.late",
            orders("late").await?,
            "/procurement/orders?status=late",
            "home_proc.late_empty",
        ),
        Card::count(
            "orders-due-week",
            "home_proc.due_week",
            orders("due_week").await?,
            "/procurement/orders?status=due_week",
            "home_proc.due_week_empty",
        ),
        Card::count(
            "orders-awaiting",
            "home_proc.awaiting",
            orders("awaiting").await?,
            "/procurement/orders?status=awaiting",
            "home_proc.awaiting_empty",
        ),
        Card::count(
            "imports-waiting",
            "home_proc.imports_waiting",
            imports,
            "/procurement/imports?status=previewed",
            "home_proc.imports_empty",
        ),
        Card::count(
            "reorder",
            "home_proc.reorder",
            len(reorder.len()),
            "/inventory/reorder",
            "home_proc.reorder_empty",
        ),
        Card::count(
            "warranties-ending",
            "home_proc.warranties",
            len(warranties.len()),
            "/inventory/warranty",
            "home_proc.warranties_empty",
        ),
    ])
}

/// One of the assets that cost most per day.
#[derive(Clone, Debug)]
pub struct Driver {
    /// Asset tag.
    pub name: String,
    /// Asset id.
    pub asset_id: Option<i64>,
    /// Cost per day, base currency.
    pub total: Money,
}

/// A manager's cost figures: per day, its change over a week, the top
/// drivers, and the card of tiers losing money.
#[derive(Clone, Debug)]
pub struct CostSummary {
    /// Cost per day today, base currency.
    pub per_day: Money,
    /// Whether any asset is costed (else the figure is a bare zero).
    pub costed: bool,
    /// The change since [`TREND_DAYS`] ago, in words; empty when unknown.
    pub trend: String,
    /// Whether cost went up.
    pub rising: bool,
    /// The assets that cost most per day.
    pub drivers: Vec<Driver>,
    /// Cards (tiers losing money).
    pub cards: Vec<Card>,
}

/// Computes today's and last week's cost report.
pub async fn cost(state: &AppState, ctx: &Ctx) -> AppResult<CostSummary> {
    let base = state.config.base();
    let day = crate::procurement::fx::today();
    let before = day - time::Duration::days(TREND_DAYS);
    // One read of the inputs for both days (see `report_and_earlier_total`).
    let (now, earlier) =
        crate::cost::service::report_and_earlier_total(&state.db, base, day, before).await?;
    let view = crate::cost::views::ReportView::new(&now, base);
    let per_day = now.total.total();
    let change = per_day - earlier;
    let trend = if earlier.is_zero() {
        String::new()
    } else {
        let pct = (change * Decimal::from(100) / earlier).round_dp(1);
        let sign = if change.is_sign_negative() { "" } else { "+" };
        ctx.msg(
            &Msg::new("home_mgmt.trend")
                .arg(
                    "change",
                    format!("{sign}{}", ctx.money(&Money::new(change, base))),
                )
                .arg("percent", format!("{sign}{pct}"))
                .arg("days", TREND_DAYS),
        )
    };
    let mut assets = view.assets.clone();
    assets.sort_by_key(|a| std::cmp::Reverse(a.exact_total));
    let drivers = assets
        .into_iter()
        .filter(|a| a.exact_total > Decimal::ZERO)
        .take(DRIVERS_SHOWN)
        .map(|a| Driver {
            name: a.name,
            asset_id: a.asset_id,
            total: a.total,
        })
        .collect();
    let losing = len(view.tiers.iter().filter(|t| t.losing).count());
    let cards = vec![Card::count(
        "tiers-losing",
        "home_mgmt.losing",
        losing,
        "/cost?margin=negative#tier-margins",
        "home_mgmt.losing_empty",
    )];
    Ok(CostSummary {
        per_day: Money::new(per_day, base),
        costed: !view.assets.is_empty(),
        trend,
        rising: change > Decimal::ZERO,
        drivers,
        cards,
    })
}

/// Fleet health: open alerts, assets reporting trouble, BMCs not answering.
pub async fn fleet(state: &AppState) -> AppResult<Vec<Card>> {
    let db = &state.db;
    let alerts = crate::health::alerts::open(db, None).await?;
    let unhealthy = crate::health::fleet::unhealthy(db).await?;
    let silent = crate::health::fleet::silent(db).await?;
    Ok(vec![
        Card::count(
            "fleet-alerts",
            "home_tech.alerts",
            len(alerts.len()),
            "/health#alerts",
            "home_tech.alerts_empty",
        ),
        Card::count(
            "fleet-unhealthy",
            "home_admin.unhealthy",
            len(unhealthy.len()),
            "/health#unhealthy",
            "home_admin.unhealthy_empty",
        ),
        Card::count(
            "bmcs-silent",
            "home_admin.silent",
            len(silent.len()),
            "/health#silent",
            "home_admin.silent_empty",
        ),
    ])
}

/// Admin: users and failed logins (BMCs not answering come with [`fleet`]).
pub async fn admin(state: &AppState) -> AppResult<Vec<Card>> {
    let db = &state.db;
    let users = crate::auth::repo::count_users(db).await?;
    let failed = crate::auth::throttle::list(db, &state.config).await?;
    Ok(vec![
        Card::count(
            "users",
            "home_admin.users",
            users,
            "/admin/users",
            "home_admin.users_empty",
        ),
        Card::count(
            "failed-logins",
            "home_admin.failed_logins",
            len(failed.len()),
            "/admin/logins",
            "home_admin.failed_logins_empty",
        ),
    ])
}
