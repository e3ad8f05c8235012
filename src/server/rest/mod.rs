//! The public API, `/api/v1` (DESIGN.md, "R2: Public API v1"): JSON for privacy platforms and the capture
//! pipeline, authorized by an API token (`Authorization: Bearer <secret>`), errors as RFC 9457
//! `application/problem+json` with stable `type` URIs, and the OpenAPI 3.1 document generated from the
//! handlers' types by `utoipa` (`GET /api/v1/openapi.json`). Handlers are thin, like the server functions: find
//! the token, ask `authz`, parse input, make one call into `server/`.

mod audit_events;
mod erasure_requests;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::AppError;
use crate::server::authz::{self, ApiScope, TokenPrincipal};
use crate::server::db;
use crate::server::state::{AppState, db_failure};

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// Every operation's path, as the router serves it and the OpenAPI document must list it.
pub const OPERATION_PATHS: [&str; 4] = [
    audit_events::AUDIT_EVENTS_PATH,
    erasure_requests::REQUESTS_PATH,
    erasure_requests::REQUEST_PATH,
    erasure_requests::RECEIPT_PATH,
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
            get(erasure_requests::list_requests),
        )
        .route(
            erasure_requests::REQUEST_PATH,
            get(erasure_requests::get_request),
        )
        .route(
            erasure_requests::RECEIPT_PATH,
            get(erasure_requests::get_receipt),
        )
}

/// The API as OpenAPI 3.1, from the handlers' `#[utoipa::path]` and the types they answer.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Customer Data Console API",
        version = "1",
        description = "Erasure requests, their receipts and the audit log of one account, for privacy platforms and the capture pipeline. Every operation needs an API token of the account (`Authorization: Bearer <secret>`) holding the operation's scope, while the account's Manage Customer Data setting is on."
    ),
    paths(
        audit_events::list_audit_events,
        erasure_requests::list_requests,
        erasure_requests::get_request,
        erasure_requests::get_receipt
    ),
    components(schemas(
        Problem,
        audit_events::AuditEventsPage,
        db::audit::ChainEvent,
        erasure_requests::RequestsPage,
        erasure_requests::ApiRequest,
        erasure_requests::ApiRequestDetail,
        erasure_requests::ApiRequestRecord
    )),
    modifiers(&DocumentDetails),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// Declares the bearer token scheme every operation uses, and no license (the crate names none, which `utoipa`
/// would write as an empty one).
struct DocumentDetails;

impl Modify for DocumentDetails {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.license = None;
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
        Err(_) => problem(&AppError::Internal),
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

/// `error` as an `application/problem+json` answer; a 401 also says how to authenticate (`WWW-Authenticate`).
pub(crate) fn problem(error: &AppError) -> Response {
    let (kind, title) = match error.status() {
        401 => ("unauthorized", "The request has no valid API token"),
        403 => ("forbidden", "The token may not do this"),
        404 => ("not-found", "No such thing in the token's account"),
        409 => ("conflict", "The request conflicts with the current state"),
        422 => ("invalid", "The request's input is not acceptable"),
        429 => ("too-many-requests", "Too many requests"),
        503 => ("busy", "The console is busy"),
        _ => ("internal", "The console failed"),
    };
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = Problem {
        problem_type: format!("/api/v1/problems/{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail: if status == StatusCode::UNAUTHORIZED {
            "Send a live API token of the account as `Authorization: Bearer <secret>`.".to_owned()
        } else {
            error.to_string()
        },
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json,
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
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
fn respond<T: Serialize>(outcome: Result<T, AppError>) -> Response {
    match outcome.map(|value| serde_json::to_string(&value)) {
        Ok(Ok(body)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Err(_)) => problem(&AppError::Internal),
        Err(error) => problem(&error),
    }
}

/// The longest secret looked up; anything longer is refused without a query.
const MAX_SECRET_CHARS: usize = 100;

/// The live API token the request presents, holding `scope` while its account's setting is on: 401 without
/// one (`presented_token`), 403 when `authz::require_scope` refuses it.
async fn authorized(
    state: &AppState,
    headers: &HeaderMap,
    scope: ApiScope,
) -> Result<TokenPrincipal, AppError> {
    let token = presented_token(state, headers).await?;
    authz::require_scope(&token, scope)?;
    Ok(token)
}

/// The live API token the request presents (`Authorization: Bearer <secret>`), or 401.
async fn presented_token(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<TokenPrincipal, AppError> {
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
