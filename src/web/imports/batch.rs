//! `/procurement/imports/{id}`: one upload's preview with progress, its
//! commit (one button per choice) and discarding it.

use crate::web::Form;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::spawn_run;
use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;
use crate::importers::batches::{self, Batch};
use crate::importers::{Mode, Summary};
use crate::web::AppState;
use crate::web::{Ctx, see_other};

/// An earlier upload of the same file, linked from the preview.
struct Earlier {
    id: i64,
    committed: bool,
    status: String,
    when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/batch.html")]
struct BatchPage {
    ctx: Ctx,
    batch: Batch,
    summary: Option<Summary>,
    running: bool,
    percent: i64,
    earlier: Option<Earlier>,
    /// The one commit button's words ("Import all 9 rows", "Import the 6 good rows, skip the 3 bad ones").
    commit_label: String,
    /// "1 total row ignored (row 12)".
    summary_note: Option<String>,
    /// "First 1,000 of 3,000 rows shown".
    sample_note: Option<String>,
    /// The order the file is for (id, number), said before the commit.
    order: Option<(i64, String)>,
    /// The stock location its units go to.
    location: Option<String>,
}

/// The words of the page that depend on the counts, in the reader's language.
fn labels(ctx: &Ctx, s: &Summary) -> (String, Option<String>, Option<String>) {
    let lang = ctx.lang;
    let commit = if s.errors == 0 {
        Msg::new("import.commit_all").arg("rows", s.rows)
    } else {
        Msg::new("import.commit_good")
            .arg("good", s.rows.saturating_sub(s.errors))
            .arg("bad", s.errors)
    };
    let rows = s
        .summary_row_numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let summary_note = (s.summary_rows > 0).then(|| {
        Msg::new("import.summary_rows")
            .arg("count", s.summary_rows)
            .arg("rows", rows)
            .render(lang)
    });
    let sample_note = (s.sample.len() < s.rows).then(|| {
        Msg::new("import.sample_shown")
            .arg("shown", s.sample.len())
            .arg("rows", s.rows)
            .render(lang)
    });
    (commit.render(lang), summary_note, sample_note)
}

pub(super) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let batch = batches::get(&state.db, id).await?;
    let summary = batch
        .summary_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<Summary>(j).ok());
    let running = matches!(
        batch.status.as_str(),
        "queued" | "previewing" | "committing"
    );
    let percent = match batch.rows_total {
        Some(t) if t > 0 => (batch.rows_done * 100 / t).clamp(0, 100),
        _ => 0,
    };
    let earlier = batches::earlier_upload(&state.db, &batch)
        .await?
        .map(|(id, status, at)| Earlier {
            id,
            committed: status == "committed",
            status,
            when: ctx.datetime(&at),
        });
    let (commit_label, summary_note, sample_note) = summary
        .as_ref()
        .map(|s| labels(&ctx, s))
        .unwrap_or_default();
    let order = match batch.po_id {
        Some(po) => Some((
            po,
            crate::procurement::orders_repo::get_po(&state.db, po)
                .await?
                .number,
        )),
        None => None,
    };
    let location = match batch.location_id {
        Some(l) => crate::inventory::locations::LocationTree::load(&state.db)
            .await?
            .path(l),
        None => None,
    };
    let page = BatchPage {
        ctx: ctx.section("procurement"),
        batch,
        summary,
        running,
        percent,
        earlier,
        commit_label,
        summary_note,
        sample_note,
        order,
        location,
    };
    // While it runs, the page refreshes itself (works without JavaScript).
    Ok(if running {
        ([(axum::http::header::REFRESH, "1")], page).into_response()
    } else {
        page.into_response()
    })
}

#[derive(Deserialize)]
pub(super) struct CommitForm {
    skip_errors: Option<String>,
    allow_over: Option<String>,
}

fn not_ready(status: &str) -> AppError {
    AppError::Conflict(Msg::new("import.not_ready").arg_code("status", "import_status", status))
}

pub(super) async fn commit(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<CommitForm>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let batch = batches::get(&state.db, id).await?;
    if batch.kind == "packing_list" && matches!(batch.status.as_str(), "previewed" | "refused") {
        batches::set_allow_over(&state.db, id, f.allow_over.is_some()).await?;
    }
    // Claimed before the work starts: the page never shows the old preview as
    // current, and a second commit (another tab) finds it taken.
    if !batches::claim_commit(&state.db, id).await? {
        return Err(not_ready(&batch.status));
    }
    let mode = Mode::Commit {
        skip_errors: f.skip_errors.is_some(),
    };
    spawn_run(state, id, mode, ctx.lang, user.actor());
    Ok(see_other(&format!("/procurement/imports/{id}"), None))
}

pub(super) async fn discard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let batch = batches::get(&state.db, id).await?;
    if !batches::discard(&state.db, id).await? {
        return Err(not_ready(&batch.status));
    }
    Ok(see_other("/procurement/imports", Some("import_discarded")))
}
