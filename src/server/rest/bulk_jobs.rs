//! `POST /api/v1/bulk-jobs` (scope `requests:write`) and `GET /api/v1/bulk-jobs/{id}` (scope `requests:read`):
//! a privacy platform sends a CSV of identifiers (as the console's /requests/bulk takes it) and gets the dry
//! run's verdict for every row; with `dry_run=false` the job is confirmed in the same call, one erasure request
//! per person, as the Admin the token acts for, under the account's erasure policy. The job's progress and
//! results are read back by id. Thin: find the token, ask `authz`, one call into `server::bulk`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::request_writes::acting_admin;
use super::{Problem, Refusal, authorized, post_once, problem, respond, respond_with};
use crate::error::AppError;
use crate::model::{BulkJob, BulkRow};
use crate::server::authz::{ApiScope, TokenPrincipal};
use crate::server::bulk::{self, JobActor};
use crate::server::input;
use crate::server::state::{AppState, db_failure};

/// Where bulk jobs are made.
pub const BULK_JOBS_PATH: &str = "/api/v1/bulk-jobs";
/// One bulk job.
pub const BULK_JOB_PATH: &str = "/api/v1/bulk-jobs/{id}";

/// How a bulk job is made.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewBulkJobQuery {
    /// Only check the file (default true): `false` also confirms the job, making one request per person.
    dry_run: Option<bool>,
    /// Put the erased people on the suppression list (default true).
    suppress: Option<bool>,
}

impl NewBulkJobQuery {
    /// The query string `raw` read leniently: unknown parameters are ignored, and `dry_run` or `suppress` other
    /// than `true` or `false` is 422 (as a problem, where axum's own extractor would answer a bare 400).
    fn parse(raw: Option<&str>) -> Result<NewBulkJobQuery, AppError> {
        let mut asked = NewBulkJobQuery::default();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let slot = match name.as_ref() {
                "dry_run" => &mut asked.dry_run,
                "suppress" => &mut asked.suppress,
                _ => continue,
            };
            *slot = Some(match value.as_ref() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(AppError::Invalid(format!("{name} must be true or false.")));
                }
            });
        }
        Ok(asked)
    }
}

/// A record a row matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBulkRecord {
    /// The record's id in the console.
    pub customer_id: String,
    /// Lead, Contact, Account or Opportunity.
    pub object_type: String,
    /// Its 18-character Salesforce id.
    pub salesforce_id: String,
}

/// One row of the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBulkRow {
    /// The row's line in the file (the header is line 1).
    pub line: i32,
    /// `email`, `phone` or `salesforce_id`, when the row held a readable identifier.
    pub identifier_kind: Option<String>,
    /// `erase`, `malformed`, `not_found`, `already_erased`, `suppressed` or `duplicate`.
    pub verdict: String,
    /// Why a malformed row is.
    pub reason: Option<String>,
    /// The earlier line a duplicate repeats.
    pub duplicate_of: Option<i32>,
    /// The records it matched: to erase, or erased already.
    pub records: Vec<ApiBulkRecord>,
    /// Calls of the records to erase, at the dry run.
    pub calls: i64,
    /// Messages of the records to erase, at the dry run.
    pub messages: i64,
    /// The request the confirmation made for the row.
    pub request_id: Option<String>,
    /// Where that request stands.
    pub request_state: Option<String>,
    /// Calls its erasure removed, once completed.
    pub calls_erased: Option<i64>,
    /// Messages its erasure removed, once completed.
    pub messages_erased: Option<i64>,
}

impl From<BulkRow> for ApiBulkRow {
    fn from(row: BulkRow) -> Self {
        ApiBulkRow {
            line: row.line,
            identifier_kind: row.kind,
            verdict: row.verdict.key().to_owned(),
            reason: row.reason,
            duplicate_of: row.duplicate_of,
            records: row
                .records
                .into_iter()
                .map(|record| ApiBulkRecord {
                    customer_id: record.customer_id.to_string(),
                    object_type: record.object_type,
                    salesforce_id: record.salesforce_id,
                })
                .collect(),
            calls: row.calls,
            messages: row.messages,
            request_id: row.request_id.map(|id| id.to_string()),
            request_state: row.request_state.map(|state| state.key().to_owned()),
            calls_erased: row.erased.map(|(calls, _)| calls),
            messages_erased: row.erased.map(|(_, messages)| messages),
        }
    }
}

/// Where a confirmed job's requests stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBulkProgress {
    /// Requests completed.
    pub done: i64,
    /// Requests failed.
    pub failed: i64,
    /// Requests not ended yet (awaiting approval, held, or waiting their turn).
    pub remaining: i64,
    /// Of the remaining, those awaiting approval.
    pub awaiting_approval: i64,
    /// Requests rejected or cancelled.
    pub stopped: i64,
}

/// A bulk job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBulkJob {
    /// Its id.
    pub id: String,
    /// When the file was checked (RFC 3339).
    pub created_at: String,
    /// Data rows in the file.
    pub rows_total: i32,
    /// Where the identifiers were read: `email`, `phone`, `salesforce_id`, or `detected` per cell.
    pub identifier_column: String,
    /// Whether the erased people go on the suppression list.
    pub suppress: bool,
    /// Rows per verdict.
    pub verdicts: std::collections::BTreeMap<String, i64>,
    /// Persons to erase.
    pub persons: i64,
    /// Their records.
    pub records: i64,
    /// Their calls.
    pub calls: i64,
    /// Their messages.
    pub messages: i64,
    /// What the account's erasure policy does with the batch: `erase_now`, `scheduled` or `awaiting_approval`.
    pub outcome: String,
    /// When it was confirmed (RFC 3339), if it was.
    pub confirmed_at: Option<String>,
    /// Its requests' progress, once confirmed.
    pub progress: Option<ApiBulkProgress>,
    /// Every row, in line order (`GET /api/v1/bulk-jobs/{id}`; the POST that makes the job answers none, to stay
    /// small).
    pub rows: Vec<ApiBulkRow>,
}

impl ApiBulkJob {
    fn of(job: BulkJob, rows: Vec<BulkRow>) -> Self {
        ApiBulkJob {
            id: job.id.to_string(),
            created_at: job.created_at.format(&Rfc3339).unwrap_or_default(),
            rows_total: job.rows_total,
            identifier_column: job.identifier_column,
            suppress: job.suppress,
            verdicts: job
                .totals
                .rows
                .iter()
                .map(|(verdict, rows)| (verdict.key().to_owned(), *rows))
                .collect(),
            persons: job.totals.persons,
            records: job.totals.records,
            calls: job.totals.calls,
            messages: job.totals.messages,
            outcome: job.outcome,
            confirmed_at: job
                .confirmed
                .map(|(at, _)| at.format(&Rfc3339).unwrap_or_default()),
            progress: job.progress.map(|progress| ApiBulkProgress {
                done: progress.done,
                failed: progress.failed,
                remaining: progress.remaining,
                awaiting_approval: progress.awaiting_approval,
                stopped: progress.stopped,
            }),
            rows: rows.into_iter().map(ApiBulkRow::from).collect(),
        }
    }
}

/// Job `job_id` of the token's account, with every row when `with_rows` (a POST answers without them, so that
/// its answer stays small enough to be kept for its `Idempotency-Key`; GET reads them); 404 for any other id.
async fn job_answer(
    state: &AppState,
    token: &TokenPrincipal,
    job_id: Uuid,
    with_rows: bool,
) -> Result<ApiBulkJob, Refusal> {
    let viewer = token.created_by.unwrap_or_default();
    let job = bulk::report::job(&state.pool, token.account_id, job_id, 0, viewer)
        .await
        .map_err(db_failure)?
        .ok_or_else(no_such_job)?;
    let rows = if with_rows {
        bulk::report::rows(
            &state.pool,
            token.account_id,
            job_id,
            0,
            bulk::MAX_ROWS as i64,
        )
        .await
        .map_err(db_failure)?
    } else {
        Vec::new()
    };
    Ok(ApiBulkJob::of(job, rows))
}

fn no_such_job() -> AppError {
    AppError::not_found("No such bulk job in the token's account.")
}

/// The answers of a job's POST kept for its key's retries: a job made (201), or a file that can never make
/// one (413, 422).
fn kept_creation(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::CREATED | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNPROCESSABLE_ENTITY
    )
}

/// Tokens with `requests:write` of an account whose Manage Customer Data setting is on, acting for an Admin
/// with access to Customer Data. Checks the CSV body (a header row and one email, phone number or Salesforce id
/// per row, at most 10,000 rows and 5 MiB) and answers the job with its totals per verdict (201; its GET lists
/// every row's verdict); nothing is erased. With `dry_run=false` the job is also confirmed, in the same
/// transaction: one erasure request per person, for exactly the records the dry run found, as the token's Admin
/// under the account's erasure policy (weighed for the whole batch). A file that cannot be a bulk file is 422
/// with nothing stored. Takes `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/api/v1/bulk-jobs",
    tag = "Bulk jobs",
    params(
        NewBulkJobQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Names the request: sent again with the same body within 24 hours, it answers the first answer")
    ),
    request_body(content = String, content_type = "text/csv", description = "The identifiers: a header row naming the column email, phone or salesforce_id, then one person per row"),
    responses(
        (status = 201, description = "The job: its totals per verdict and, confirmed, its progress (its rows are read with GET)", body = ApiBulkJob, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:write` or acts for no Admin, the Admin lacks access to Customer Data, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency-key-in-use`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 5 MiB", body = String, content_type = "text/plain"),
        (status = 422, description = "The file cannot be a bulk file (not UTF-8 or CSV, no header, no rows, more than 10,000 rows, no identifier column), `dry_run` or `suppress` is not `true` or `false`, or the Idempotency-Key is not acceptable or was used for another request", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_bulk_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let asked = match NewBulkJobQuery::parse(query.as_deref()) {
        Ok(asked) => asked,
        Err(refusal) => return problem(refusal),
    };
    let path = match asked.dry_run {
        Some(false) => format!("{BULK_JOBS_PATH}?dry_run=false"),
        _ => BULK_JOBS_PATH.to_owned(),
    };
    let path = match asked.suppress {
        Some(false) => format!("{path}&suppress=false"),
        _ => path,
    };
    let (state, body, asked) = (&state, &body, &asked);
    post_once(
        state,
        &headers,
        ApiScope::RequestsWrite,
        (&path, body),
        kept_creation,
        |token| async move {
            let token = &token;
            let made = async {
                let admin = acting_admin(state, token).await?;
                let actor = JobActor {
                    user_id: admin,
                    token_id: Some(token.token_id),
                };
                let suppress = asked.suppress.unwrap_or(true);
                let confirm = asked.dry_run == Some(false);
                let checked =
                    bulk::check_file(state, token.account_id, actor, body, suppress, confirm)
                        .await?;
                if checked.confirmed.is_some_and(|confirmed| confirmed.due_now) {
                    bulk::run_due_now(state);
                }
                let job_id = checked.job_id;
                job_answer(state, token, job_id, false).await
            };
            match made.await {
                Ok(job) => respond_with(StatusCode::CREATED, Ok::<_, Refusal>(job)),
                Err(refusal) => problem(refusal),
            }
        },
    )
    .await
}

/// Tokens with `requests:read` of an account whose Manage Customer Data setting is on: one bulk job of the
/// account (any other id is 404) with every row's verdict and, once confirmed, its progress and each row's
/// request, its state and what its erasure removed.
#[utoipa::path(
    get,
    path = "/api/v1/bulk-jobs/{id}",
    tag = "Bulk jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = ApiBulkJob, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:read`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job in the token's account", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_bulk_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Response {
    let answer = async {
        let token = authorized(&state, &headers, ApiScope::RequestsRead).await?;
        let job_id = input::record_id(&raw_id, "bulk job").map_err(|_| no_such_job())?;
        job_answer(&state, &token, job_id, true).await
    };
    respond(answer.await)
}
