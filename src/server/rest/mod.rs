//! The public API, `/api/v1` (DESIGN.md, "R2: Public API v1"): JSON for privacy platforms and the capture
//! pipeline, authorized by an API token (`Authorization: Bearer <secret>`), errors as RFC 9457
//! `application/problem+json` with stable `type` URIs, and the OpenAPI 3.1 document generated from the
//! handlers' types by `utoipa` (`GET /api/v1/openapi.json`). Handlers are thin, like the server functions: find
//! the token, ask `authz`, parse input, make one call into `server/`.

mod audit_events;
mod bulk_jobs;
mod erasure_requests;
mod exports;
pub mod idempotency;
mod ingestion;
mod request_writes;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::AppError;
use crate::server::authz::{self, ApiScope, TokenPrincipal};
use crate::server::db;
use crate::server::state::{AppState, db_failure};

/// Largest request body the API accepts: a call with its notes and transcript at their longest.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// Every operation's path, as the router serves it and the OpenAPI document must list it.
pub const OPERATION_PATHS: [&str; 10] = [
    audit_events::AUDIT_EVENTS_PATH,
    erasure_requests::REQUESTS_PATH,
    erasure_requests::REQUEST_PATH,
    erasure_requests::RECEIPT_PATH,
    request_writes::CANCEL_PATH,
    ingestion::CALLS_PATH,
    ingestion::MESSAGES_PATH,
    exports::EXPORTS_PATH,
    bulk_jobs::BULK_JOBS_PATH,
    bulk_jobs::BULK_JOB_PATH,
];

/// The /api/v1 routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(OPENAPI_PATH, get(openapi_document))
        .route(
            audit_events::AUDIT_EVENTS_PATH,
            get(audit_events::list_audit_events),
        )
        .route(
            erasure_requests::REQUESTS_PATH,
            get(erasure_requests::list_requests).post(request_writes::create_request),
        )
        .route(
            request_writes::CANCEL_PATH,
            post(request_writes::cancel_request),
        )
        .route(
            erasure_requests::REQUEST_PATH,
            get(erasure_requests::get_request),
        )
        .route(
            erasure_requests::RECEIPT_PATH,
            get(erasure_requests::get_receipt),
        )
        .route(ingestion::CALLS_PATH, post(ingestion::record_call))
        .route(ingestion::MESSAGES_PATH, post(ingestion::record_message))
        .route(exports::EXPORTS_PATH, post(exports::create_export))
        .route(bulk_jobs::BULK_JOB_PATH, get(bulk_jobs::get_bulk_job))
}

/// The route that takes a whole bulk file (up to `bulk::MAX_FILE_BYTES`, the limit the router's layer sets
/// around it; axum's own smaller default is lifted), apart from `routes` and its smaller body limit.
pub fn bulk_routes() -> Router<AppState> {
    Router::new()
        .route(bulk_jobs::BULK_JOBS_PATH, post(bulk_jobs::create_bulk_job))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// The API as OpenAPI 3.1, from the handlers' `#[utoipa::path]` and the types they answer.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Customer Data Console API",
        version = "1",
        description = "Erasure requests, their receipts, exports of a person's data and the audit log of one account, for privacy platforms and the capture pipeline. Every operation needs an API token of the account (`Authorization: Bearer <secret>`) holding the operation's scope, while the account's Manage Customer Data setting is on."
    ),
    paths(
        audit_events::list_audit_events,
        erasure_requests::list_requests,
        erasure_requests::get_request,
        erasure_requests::get_receipt,
        request_writes::create_request,
        request_writes::cancel_request,
        ingestion::record_call,
        ingestion::record_message,
        exports::create_export,
        bulk_jobs::create_bulk_job,
        bulk_jobs::get_bulk_job
    ),
    components(schemas(
        Problem,
        audit_events::AuditEventsPage,
        db::audit::ChainEvent,
        erasure_requests::RequestsPage,
        erasure_requests::ApiRequest,
        erasure_requests::ApiRequestDetail,
        erasure_requests::ApiRequestRecord,
        request_writes::NewRequestInput,
        request_writes::PreviewRecord,
        request_writes::RequestPreview,
        ingestion::CallInput,
        ingestion::MessageInput,
        ingestion::Direction,
        ingestion::RecordedActivity,
        exports::ExportInput,
        bulk_jobs::ApiBulkJob,
        bulk_jobs::ApiBulkRow,
        bulk_jobs::ApiBulkRecord,
        bulk_jobs::ApiBulkProgress
    )),
    modifiers(&DocumentDetails),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// Declares the bearer token scheme every operation uses, the rate limit's 429 that every operation may answer,
/// the 413 of a POST whose body is over `MAX_BODY_BYTES`, and no license (the crate names none, which `utoipa` would write as an empty one).
struct DocumentDetails;

impl Modify for DocumentDetails {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, ResponseBuilder, schema::Type,
        };
        openapi.info.license = None;
        let too_many = ResponseBuilder::new()
            .description("The token's requests of this minute are used up")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until the token may make requests again"))
                    .build(),
            )
            .build();
        let too_large = ResponseBuilder::new()
            .description("The body is larger than 2 MiB")
            .content(
                "text/plain",
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .insert("429".to_owned(), too_many.clone().into());
            }
            if let Some(operation) = &mut item.post {
                operation
                    .responses
                    .responses
                    .entry("413".to_owned())
                    .or_insert_with(|| too_large.clone().into());
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token's secret, as `create-token` printed it."))
                    .build(),
            ),
        );
    }
}

/// Anyone: the OpenAPI document.
async fn openapi_document() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => problem(AppError::Internal),
    }
}

/// An error as RFC 9457 describes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem (`/api/v1/problems/<kind>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The kind of problem, in words.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request, for a person to read.
    pub detail: String,
}

/// Why an operation was refused, as the API answers it: an error of the console's own (its status names the
/// problem), or one of the API's refusals, each with its stable problem type.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The console's error; the problem type follows its status.
    App(AppError),
    /// The token's requests of this minute are used up: 429 with `Retry-After` (seconds).
    RateLimited {
        /// Seconds until the window ends.
        retry_after: i64,
    },
    /// One of the person's identifiers is on the account's suppression list: 409 `suppressed`.
    Suppressed,
    /// The customer record was erased: 409 `record-erased`.
    RecordErased,
    /// A request with this `Idempotency-Key` is still running: 409 `idempotency-key-in-use`.
    KeyInUse,
    /// The `Idempotency-Key` was used with another request: 422 `idempotency-key-reused`.
    KeyReused,
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Refusal {
        Refusal::App(error)
    }
}

impl Refusal {
    /// The status, the problem's kind (the last part of its type URI), its title and the detail.
    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        match self {
            Refusal::App(error) => {
                let (kind, title) = match error.status() {
                    401 => ("unauthorized", "The request has no valid API token"),
                    403 => ("forbidden", "The token may not do this"),
                    404 => ("not-found", "No such thing in the token's account"),
                    413 => ("too-large", "The request body is too large"),
                    409 => ("conflict", "The request conflicts with the current state"),
                    422 => ("invalid", "The request's input is not acceptable"),
                    503 => ("busy", "The console is busy"),
                    _ => ("internal", "The console failed"),
                };
                let status = StatusCode::from_u16(error.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let detail = if status == StatusCode::UNAUTHORIZED {
                    "Send a live API token of the account as `Authorization: Bearer <secret>`."
                        .to_owned()
                } else {
                    error.to_string()
                };
                (status, kind, title, detail)
            }
            Refusal::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                format!("This token made too many requests this minute. Try again in {retry_after} s."),
            ),
            Refusal::Suppressed => (
                StatusCode::CONFLICT,
                "suppressed",
                "The person is on the suppression list",
                "One of this activity's identifiers belongs to a person whose data was erased and who is on the account's suppression list, so nothing was stored.".to_owned(),
            ),
            Refusal::RecordErased => (
                StatusCode::CONFLICT,
                "record-erased",
                "The customer record was erased",
                "This customer record's call and message data was erased, so no activity is recorded for it.".to_owned(),
            ),
            Refusal::KeyInUse => (
                StatusCode::CONFLICT,
                "idempotency-key-in-use",
                "A request with this Idempotency-Key is running",
                "Another request with this Idempotency-Key has not finished yet. Send it again later to get its answer.".to_owned(),
            ),
            Refusal::KeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "The Idempotency-Key was used for another request",
                "This Idempotency-Key was used with another method, path or body in the last 24 hours. Use a new key for a new request.".to_owned(),
            ),
        }
    }
}

/// `refusal` as an RFC 9457 `application/problem+json` answer; a 401 also says how to authenticate
/// (`WWW-Authenticate`), a 429 when to come back (`Retry-After`).
pub(crate) fn problem(refusal: impl Into<Refusal>) -> Response {
    let refusal = refusal.into();
    let (status, kind, title, detail) = refusal.parts();
    let body = Problem {
        problem_type: format!("/api/v1/problems/{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json,
    )
        .into_response();
    let headers = response.headers_mut();
    match refusal {
        Refusal::App(_) if status == StatusCode::UNAUTHORIZED => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        Refusal::RateLimited { retry_after } => {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
        }
        _ => {}
    }
    response
}

/// The parameters of a query string, each at most once, not empty, and each one of `names`; anything else is
/// 422.
fn query_parameters(
    query: &str,
    names: &[&str],
) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut found = std::collections::BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if !names.contains(&name.as_ref()) {
            return Err(AppError::invalid(&format!(
                "Unknown parameter {name:?}: only {} are read.",
                names.join(" and ")
            )));
        }
        if value.trim().is_empty() {
            return Err(AppError::invalid(&format!(
                "{name} is empty: leave it out instead."
            )));
        }
        if found.insert(name.to_string(), value.to_string()).is_some() {
            return Err(AppError::invalid(&format!("{name} is given twice.")));
        }
    }
    Ok(found)
}

/// An operation's outcome as the API answers it: JSON, or the problem.
fn respond<T: Serialize, E: Into<Refusal>>(outcome: Result<T, E>) -> Response {
    respond_with(StatusCode::OK, outcome)
}

/// An operation's outcome as the API answers it: JSON with `status`, or the problem.
fn respond_with<T: Serialize, E: Into<Refusal>>(
    status: StatusCode,
    outcome: Result<T, E>,
) -> Response {
    match outcome.map(|value| serde_json::to_string(&value)) {
        Ok(Ok(body)) => {
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Ok(Err(_)) => problem(AppError::Internal),
        Err(refusal) => problem(refusal),
    }
}

/// A POST of the API: the token (holding `scope`, as `authorized` decides), then `operation` for it, under the
/// request's `Idempotency-Key` (the POST's path and body are what the key names), keeping the answers `keep`
/// names for the key's retries.
async fn post_once<F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    scope: ApiScope,
    request: (&str, &[u8]),
    keep: fn(StatusCode) -> bool,
    operation: F,
) -> Response
where
    F: FnOnce(TokenPrincipal) -> Fut,
    Fut: Future<Output = Response>,
{
    match authorized(state, headers, scope).await {
        Ok(token) => {
            let operation = operation(token.clone());
            idempotency::run_once(state, &token, headers, request, keep, operation).await
        }
        Err(refusal) => problem(refusal),
    }
}

/// The longest secret looked up; anything longer is refused without a query.
const MAX_SECRET_CHARS: usize = 100;

/// The live API token the request presents, within its rate limit, holding `scope` while its account's setting
/// is on: 401 without one (`presented_token`), 429 once the token's requests of this minute are used up
/// (`AppState::api_requests_per_minute`), 403 when `authz::require_scope` refuses it.
async fn authorized(
    state: &AppState,
    headers: &HeaderMap,
    scope: ApiScope,
) -> Result<TokenPrincipal, Refusal> {
    let presented = presented_token(state, headers).await?;
    let limit = i32::try_from(state.api_requests_per_minute).unwrap_or(i32::MAX);
    if presented.window_requests > limit {
        let ends = presented.window_started_at + db::api_tokens::RATE_WINDOW;
        let left = (ends - time::OffsetDateTime::now_utc()).whole_seconds() + 1;
        return Err(Refusal::RateLimited {
            retry_after: left.clamp(1, db::api_tokens::RATE_WINDOW.whole_seconds()),
        });
    }
    authz::require_scope(&presented.token, scope)?;
    Ok(presented.token)
}

/// The live API token the request presents (`Authorization: Bearer <secret>`), or 401.
async fn presented_token(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<db::api_tokens::Presented, AppError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| {
            secret.starts_with(db::api_tokens::SECRET_PREFIX) && secret.len() <= MAX_SECRET_CHARS
        })
        .ok_or(AppError::Unauthorized)?;
    db::api_tokens::presented(&state.pool, secret)
        .await
        .map_err(db_failure)?
        .ok_or(AppError::Unauthorized)
}
