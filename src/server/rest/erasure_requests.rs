//! `GET /api/v1/erasure-requests`, `GET /api/v1/erasure-requests/{id}` and its `/receipt` (scope
//! `requests:read`): the account's erasure requests, newest first and paged, one request with its records,
//! counts and stored files, and a completed request's signed receipt (a compact JWS, as
//! `GET /requests/{id}/receipt.jws` serves it to the console). Records appear by id, object type and
//! Salesforce id, never by name.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::{Problem, Refusal, authorized, problem, query_parameters, respond};
use crate::error::AppError;
use crate::model::{RequestDetail, RequestState, RequestSummary};
use crate::server::authz::ApiScope;
use crate::server::db;
use crate::server::input;
use crate::server::state::{AppState, db_failure};

/// The requests of the token's account.
pub const REQUESTS_PATH: &str = "/api/v1/erasure-requests";
/// One request.
pub const REQUEST_PATH: &str = "/api/v1/erasure-requests/{id}";
/// One request's receipt.
pub const RECEIPT_PATH: &str = "/api/v1/erasure-requests/{id}/receipt";

/// The list's filter and where its page starts.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Only requests in this state.
    #[param(schema_with = state_schema)]
    state: Option<String>,
    /// Where the page continues: the `next_cursor` of an earlier answer (a cursor the console did not write is
    /// 422).
    #[param(
        pattern = "^-?[0-9]{1,21}~[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    cursor: Option<String>,
}

/// The `state` parameter's schema: one of the states' keys (`RequestState::ALL`).
fn state_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(RequestState::ALL.map(RequestState::key)))
        .build()
}

/// An erasure request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRequest {
    /// Its id.
    pub id: String,
    /// Where it stands: `awaiting_approval`, `scheduled`, `erasing`, `completed`, `rejected`, `cancelled` or
    /// `failed`.
    pub state: String,
    /// How many customer records it names.
    pub records: i64,
    /// The user who confirmed it.
    pub requested_by: String,
    /// When it was received (RFC 3339).
    pub received_at: String,
    /// When it must be done by (RFC 3339).
    pub due_at: String,
    /// When its hold ends, while it is held (RFC 3339).
    pub not_before: Option<String>,
    /// When its records were erased (RFC 3339).
    pub completed_at: Option<String>,
    /// Why its erasure failed, while it is `failed`.
    pub failure: Option<String>,
}

/// A page of requests, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestsPage {
    /// The requests.
    pub requests: Vec<ApiRequest>,
    /// The `cursor` of the next (older) page, when there is one.
    pub next_cursor: Option<String>,
}

/// One record of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRequestRecord {
    /// The record's id in the console.
    pub customer_id: String,
    /// Lead, Contact, Account or Opportunity.
    pub object_type: String,
    /// Its 18-character Salesforce id.
    pub salesforce_id: String,
    /// Calls it held (erased, once the request completed).
    pub calls: i64,
    /// Messages it held (erased, once the request completed).
    pub messages: i64,
    /// Whether this request erased it.
    pub erased: bool,
}

/// A request with its records and the deletion of its stored files.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRequestDetail {
    /// The request.
    pub request: ApiRequest,
    /// Its records.
    pub records: Vec<ApiRequestRecord>,
    /// Stored files (recordings, voicemails, media) its erasure queued.
    pub files_total: i64,
    /// How many of them are deleted.
    pub files_deleted: i64,
    /// Whether its signed receipt is issued (at `/api/v1/erasure-requests/{id}/receipt`).
    pub receipt_issued: bool,
}

/// A time as RFC 3339.
fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl From<RequestSummary> for ApiRequest {
    fn from(request: RequestSummary) -> ApiRequest {
        ApiRequest {
            id: request.id.to_string(),
            state: request.state.key().to_owned(),
            records: request.records,
            requested_by: request.requested_by.to_string(),
            received_at: rfc3339(request.received_at),
            due_at: rfc3339(request.due_at),
            not_before: request.not_before.map(rfc3339),
            completed_at: request.completed_at.map(rfc3339),
            failure: request.failure,
        }
    }
}

impl From<RequestDetail> for ApiRequestDetail {
    fn from(detail: RequestDetail) -> ApiRequestDetail {
        ApiRequestDetail {
            request: detail.summary.into(),
            records: detail
                .records
                .into_iter()
                .map(|record| ApiRequestRecord {
                    customer_id: record.customer_id.to_string(),
                    object_type: record.object_type,
                    salesforce_id: record.salesforce_id,
                    calls: record.calls,
                    messages: record.messages,
                    erased: record.erasure_id.is_some(),
                })
                .collect(),
            files_total: detail.files.total,
            files_deleted: detail.files.deleted,
            receipt_issued: detail.receipt.is_some(),
        }
    }
}

/// Tokens with `requests:read` of an account whose Manage Customer Data setting is on: the account's erasure
/// requests, newest first, a page at a time, all or those in one state.
#[utoipa::path(
    get,
    path = "/api/v1/erasure-requests",
    tag = "Erasure requests",
    params(RequestsQuery),
    responses(
        (status = 200, description = "A page of requests, newest first", body = RequestsPage, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:read`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`state` or `cursor` is not acceptable", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let answer = async {
        let token = authorized(&state, &headers, ApiScope::RequestsRead).await?;
        let mut parameters =
            query_parameters(query.as_deref().unwrap_or_default(), &["state", "cursor"])?;
        let asked = RequestsQuery {
            state: parameters.remove("state"),
            cursor: parameters.remove("cursor"),
        };
        let filter = input::request_state(asked.state.as_deref().unwrap_or_default())?;
        let after = input::cursor(asked.cursor.as_deref())?;
        let page = db::requests::list(&state.pool, token.account_id, filter, after)
            .await
            .map_err(db_failure)?;
        Ok::<_, Refusal>(RequestsPage {
            requests: page.requests.into_iter().map(ApiRequest::from).collect(),
            next_cursor: page.older,
        })
    };
    respond(answer.await)
}

/// The answer for a request id the token's account does not have (another account's, or none).
fn no_such_request() -> AppError {
    AppError::not_found("No such erasure request in the token's account.")
}

/// The request id `raw_id`, or 404 when it is not one.
pub(super) fn request_id(raw_id: &str) -> Result<uuid::Uuid, AppError> {
    input::record_id(raw_id, "request").map_err(|_| no_such_request())
}

/// Tokens with `requests:read` of an account whose Manage Customer Data setting is on: one erasure request of
/// the account (any other id is 404), with its records, their counts and its stored files.
#[utoipa::path(
    get,
    path = "/api/v1/erasure-requests/{id}",
    tag = "Erasure requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = ApiRequestDetail, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:read`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request in the token's account", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Response {
    let answer = async {
        let token = authorized(&state, &headers, ApiScope::RequestsRead).await?;
        let id = request_id(&raw_id)?;
        let detail = db::requests::detail(&state.pool, token.account_id, id)
            .await
            .map_err(db_failure)?
            .map(ApiRequestDetail::from)
            .ok_or_else(no_such_request)?;
        Ok::<_, Refusal>(detail)
    };
    respond(answer.await)
}

/// Tokens with `requests:read` of an account whose Manage Customer Data setting is on: a completed request's
/// signed receipt, a compact JWS (RFC 7515, EdDSA) that verifies against `/.well-known/receipt-keys.json`; 404
/// until it is issued (when the request's stored files are deleted) and for any other account's request.
#[utoipa::path(
    get,
    path = "/api/v1/erasure-requests/{id}/receipt",
    tag = "Erasure requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The receipt, a compact JWS", body = String, content_type = "application/jose"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:read`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No receipt of such a request in the token's account (yet)", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_receipt(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Response {
    let answer = async {
        let token = authorized(&state, &headers, ApiScope::RequestsRead).await?;
        let id = request_id(&raw_id)?;
        let receipt = db::requests::receipt(&state.pool, token.account_id, id)
            .await
            .map_err(db_failure)?
            .ok_or_else(|| {
                AppError::not_found("No receipt of such a request in the token's account yet.")
            })?;
        Ok::<_, Refusal>(receipt)
    };
    match answer.await {
        Ok(jws) => ([(header::CONTENT_TYPE, "application/jose")], jws).into_response(),
        Err(refusal) => problem(refusal),
    }
}
