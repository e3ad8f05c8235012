//! The files of bulk erasure in the console: `POST /requests/bulk`, the upload form of /requests/bulk (a plain
//! `multipart/form-data` form, so it works before and without the wasm), which checks the file (the dry run)
//! and sends the browser to the job's page, or back to the form with the reason a file was refused; and the two
//! downloads of a job, `GET /requests/bulk/{id}/dry-run.csv` and `GET /requests/bulk/{id}/results.csv`. Thin
//! like a server function: each reads the principal and asks `authz` itself, then makes one call into
//! `server::bulk`.

use axum::Router;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::BulkFileRefusal;
use crate::server::bulk::{self, JobActor, report::Sheet};
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::http::errors::error_response;
use crate::server::http::headers::attachment;
use crate::server::input;
use crate::server::state::{AppState, db_failure};
use crate::server::{auth, authz};

/// Where the upload form posts.
pub const BULK_UPLOAD_PATH: &str = "/requests/bulk";
/// Where a job's dry run downloads as CSV.
pub const BULK_DRY_RUN_PATH: &str = "/requests/bulk/{id}/dry-run.csv";
/// Where a job's results download as CSV.
pub const BULK_RESULTS_PATH: &str = "/requests/bulk/{id}/results.csv";

/// The largest upload body: the largest file and room for the form's other fields and boundaries.
pub const MAX_UPLOAD_BODY_BYTES: usize = bulk::MAX_FILE_BYTES + 64 * 1024;

/// The routes, with their own body limit (larger than the console's other forms take). The upload's limit is
/// axum's, which the multipart reader meets as it reads, so that `upload` answers it itself (a browser's own
/// submission goes back to the form, naming the reason) rather than a layer's bare 413.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(BULK_UPLOAD_PATH, post(upload))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY_BYTES))
        .route(BULK_DRY_RUN_PATH, get(dry_run_csv))
        .route(BULK_RESULTS_PATH, get(results_csv))
}

/// Whether the browser submitted the form itself, to show the answer as its next page.
fn is_navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode == "navigate")
}

/// Users with access to Customer Data (Admins holding Manage Customer Data while the account setting is on):
/// checks the uploaded `file` (its dry run; nothing is erased) and answers 303 to the job's page. The form's
/// `suppress` box, when ticked, puts the erased people on the suppression list. A file refused whole is 413 or
/// 422 with nothing stored; for the browser's own form submission, a 303 back to the form naming the reason.
pub(super) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let navigation = is_navigation(&headers);
    match checked(&state, &headers, request).await {
        Ok(job_id) if navigation => {
            Redirect::to(&format!("/requests/bulk/{job_id}")).into_response()
        }
        Ok(job_id) => (
            StatusCode::CREATED,
            [(header::LOCATION, format!("/requests/bulk/{job_id}"))],
        )
            .into_response(),
        Err(Upload::Refused(refusal)) if navigation => {
            Redirect::to(&format!("/requests/bulk?refused={}", refusal.key())).into_response()
        }
        Err(Upload::Refused(refusal)) => error_response(&refusal.error()),
        Err(Upload::Failed(AppError::Unauthorized)) if navigation => {
            Redirect::to("/login?next=/requests/bulk").into_response()
        }
        Err(Upload::Failed(error)) => error_response(&error),
    }
}

/// Why an upload made no job.
enum Upload {
    /// The file cannot be a bulk file.
    Refused(BulkFileRefusal),
    /// Anything else: not signed in, no access, a database failure.
    Failed(AppError),
}

impl From<AppError> for Upload {
    fn from(error: AppError) -> Self {
        Upload::Failed(error)
    }
}

async fn checked(state: &AppState, headers: &HeaderMap, request: Request) -> Result<Uuid, Upload> {
    let principal = auth::principal_of_headers(state, headers)
        .await?
        .ok_or(AppError::Unauthorized)?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::invalid("The upload is not a multipart form."))?;
    let mut file = None;
    let mut suppress = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Upload::Refused(BulkFileRefusal::TooLarge));
            }
            Err(_) => return Err(AppError::invalid("The upload could not be read.").into()),
        };
        match field.name() {
            Some("file") => file = Some(read_file_field(field).await?),
            Some("suppress") => suppress = true,
            _ => {}
        }
    }
    let file = file
        .filter(|file| !file.is_empty())
        .ok_or(Upload::Refused(BulkFileRefusal::NoFile))?;
    let actor = JobActor {
        user_id: principal.user_id,
        token_id: None,
    };
    bulk::check_file(state, principal.account_id, actor, &file, suppress, false)
        .await
        .map(|checked| checked.job_id)
        .map_err(|error| match refusal_of(&error) {
            Some(refusal) => Upload::Refused(refusal),
            None => Upload::Failed(error),
        })
}

/// The refusal a check's error stands for, if it is one.
fn refusal_of(error: &AppError) -> Option<BulkFileRefusal> {
    BulkFileRefusal::ALL
        .into_iter()
        .find(|refusal| refusal.error() == *error)
}

/// The file field's bytes, refused as too large past `MAX_FILE_BYTES` without reading further.
async fn read_file_field(mut field: Field<'_>) -> Result<Vec<u8>, Upload> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > bulk::MAX_FILE_BYTES {
                    return Err(Upload::Refused(BulkFileRefusal::TooLarge));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Upload::Refused(BulkFileRefusal::TooLarge));
            }
            Err(_) => return Err(AppError::invalid("The upload could not be read.").into()),
        }
    }
}

/// Users with access to Customer Data: job `id`'s dry run as CSV (every row's verdict, the records it matched,
/// their calls and messages), recorded in the audit log before it is sent; another account's job or an unknown
/// one is 404, a malformed id 422.
pub(super) async fn dry_run_csv(
    State(state): State<AppState>,
    method: Method,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    sheet(&state, &method, &headers, &raw_id, Sheet::DryRun).await
}

/// Users with access to Customer Data: job `id`'s results as CSV (every row's request, its state and what its
/// erasure removed), recorded in the audit log before it is sent; another account's job or an unknown one is
/// 404, a malformed id 422.
pub(super) async fn results_csv(
    State(state): State<AppState>,
    method: Method,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    sheet(&state, &method, &headers, &raw_id, Sheet::Results).await
}

async fn sheet(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    raw_id: &str,
    sheet: Sheet,
) -> Response {
    if method == Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response();
    }
    let answer = async {
        let principal = auth::principal_of_headers(state, headers)
            .await?
            .ok_or(AppError::Unauthorized)?;
        auth::authorize(&principal, authz::require_customer_data_access)?;
        let job_id = input::record_id(raw_id, "bulk job")?;
        if !bulk::report::exists(&state.pool, principal.account_id, job_id)
            .await
            .map_err(db_failure)?
        {
            return Err(AppError::not_found("No such bulk job in your account."));
        }
        let (bytes, rows) = bulk::report::csv(&state.pool, principal.account_id, job_id, sheet)
            .await
            .map_err(db_failure)?;
        let downloaded = Entry::new(
            principal.account_id,
            Actor::User(principal.user_id),
            Action::BulkJobDownloaded,
        )
        .ids("bulk_job", &[job_id])
        .count("rows", rows as i64);
        audit_log::append_alone(&state.pool, &downloaded)
            .await
            .map_err(db_failure)?;
        Ok((job_id, bytes))
    };
    match answer.await {
        Ok((job_id, bytes)) => {
            let name = match sheet {
                Sheet::DryRun => "dry-run",
                Sheet::Results => "results",
            };
            attachment(
                bytes.into_response(),
                "text/csv; charset=utf-8",
                &format!("bulk-{}-{name}.csv", &job_id.to_string()[..8]),
            )
        }
        Err(error) => error_response(&error),
    }
}
