//! `POST /api/v1/erasure-requests` and `POST /api/v1/erasure-requests/{id}/cancel` (scope `requests:write`):
//! a privacy platform previews (`dry_run`) or makes the erasure request of one person, named by email, phone
//! number or Salesforce id (every record of the account that the console's search finds for it, as the person
//! dialog lists them), and cancels one while it waits. A request made here is the Admin's who made the token: it
//! runs with that Admin's access to Customer Data, decided again inside its erasure, under the account's erasure
//! policy (hold, approval), exactly as one confirmed in the console does; the audit log names the token.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::erasure_requests::{ApiRequest, request_id};
use super::ingestion::parse_body;
use super::{Problem, Refusal, post_once, problem, respond, respond_with};
use crate::error::AppError;
use crate::model::{CustomerMatches, RequestState};
use crate::server::authz::{self, ApiScope, TokenPrincipal};
use crate::server::db;
use crate::server::erasure::{self, EraseError, ErasurePlan, Submitted};
use crate::server::evidence::audit_log::{self, Action, Entry};
use crate::server::evidence::identity::PersonId;
use crate::server::input::{self, CustomerQuery};
use crate::server::state::{AppState, db_failure};

/// Where a request is cancelled.
pub const CANCEL_PATH: &str = "/api/v1/erasure-requests/{id}/cancel";

/// The person to erase, by exactly one identifier, and how.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestInput {
    /// The person's email address.
    pub email: Option<String>,
    /// The person's phone number, in any common spelling (a national number is read with the account's country).
    pub phone: Option<String>,
    /// The Salesforce id of one of the person's records (15 or 18 characters).
    pub salesforce_id: Option<String>,
    /// Answer what the request would erase, and make nothing (default false).
    pub dry_run: Option<bool>,
    /// Put the person's email, phone numbers and Salesforce ids on the suppression list once they are erased
    /// (default true).
    pub suppress: Option<bool>,
}

/// One record a request would name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewRecord {
    /// The record's id in the console.
    pub customer_id: String,
    /// Lead, Contact, Account or Opportunity.
    pub object_type: String,
    /// Its 18-character Salesforce id.
    pub salesforce_id: String,
    /// Its calls.
    pub calls: i64,
    /// Its messages.
    pub messages: i64,
    /// Whether its data was erased already (such a record is left out of a request).
    pub erased: bool,
}

/// What a request for the person would do now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestPreview {
    /// Every record that the person's identifier finds.
    pub records: Vec<PreviewRecord>,
    /// Calls of the records not yet erased.
    pub calls: i64,
    /// Messages of the records not yet erased.
    pub messages: i64,
    /// What the account's erasure policy does with the request: `erase_now`, `scheduled` (held for its hold
    /// period), `awaiting_approval`, or `nothing_to_erase` when no record is left to erase.
    pub outcome: String,
}

/// The person's records a request (or an export) would name: the records the console's search finds, or 422
/// when more match than one request takes. The search is in the audit log, as the token's, with the person as
/// their keyed hash.
pub(super) async fn person_records(
    state: &AppState,
    token: &TokenPrincipal,
    query: &CustomerQuery,
) -> Result<CustomerMatches, Refusal> {
    let found = db::customers::search::matches_in_account(&state.pool, token.account_id, query)
        .await
        .map_err(db_failure)?;
    if found.more {
        return Err(AppError::invalid(
            "More records match than one request or export takes: name the person by a Salesforce ID.",
        )
        .into());
    }
    let subject = state
        .evidence_secret
        .subject(token.account_id, &PersonId::of_query(query));
    let searched = Entry::new(
        token.account_id,
        audit_log::Actor::Token(token.token_id),
        Action::CustomerSearched,
    )
    .subject(subject)
    .count("matches", found.records.len() as i64);
    audit_log::append_alone(&state.pool, &searched)
        .await
        .map_err(db_failure)?;
    Ok(found)
}

/// A person as a body names them: by email, phone or Salesforce id.
pub(super) struct PersonIdentifiers<'a> {
    pub email: &'a Option<String>,
    pub phone: &'a Option<String>,
    pub salesforce_id: &'a Option<String>,
}

impl PersonIdentifiers<'_> {
    /// How many of the identifiers are given.
    pub fn given(&self) -> usize {
        [self.email, self.phone, self.salesforce_id]
            .iter()
            .filter(|field| field.is_some())
            .count()
    }
}

/// The identifier a body names (exactly one of email, phone and Salesforce id), as a search.
pub(super) fn person_query(
    person: &PersonIdentifiers<'_>,
    default_country: &str,
) -> Result<CustomerQuery, AppError> {
    if person.given() != 1 {
        return Err(AppError::invalid(
            "Name the person by exactly one of email, phone and salesforce_id.",
        ));
    }
    let query = match (person.email, person.phone, person.salesforce_id) {
        (Some(email), _, _) => match input::customer_query(email)? {
            query @ CustomerQuery::Email(_) => query,
            _ => return Err(AppError::invalid("email must be an email address.")),
        },
        (_, Some(phone), _) => match input::customer_search(phone)? {
            input::CustomerSearch::Phone(number) => {
                CustomerQuery::Phone(number.to_e164(default_country)?)
            }
            _ => return Err(AppError::invalid("phone must be a phone number.")),
        },
        (_, _, Some(id)) => match input::customer_query(id)? {
            query @ CustomerQuery::SalesforceId(_) => query,
            _ => {
                return Err(AppError::invalid(
                    "salesforce_id must be a 15- or 18-character Salesforce ID.",
                ));
            }
        },
        _ => unreachable!("exactly one identifier was given"),
    };
    Ok(query)
}

/// The preview of a request for `found` under the account's policy.
async fn preview(
    state: &AppState,
    token: &TokenPrincipal,
    found: CustomerMatches,
) -> Result<RequestPreview, Refusal> {
    let policy = db::accounts::erasure_policy(&state.pool, token.account_id)
        .await
        .map_err(db_failure)?;
    let waiting: Vec<_> = found
        .records
        .iter()
        .filter(|record| record.erased_at.is_none())
        .collect();
    let calls: i64 = waiting.iter().map(|record| record.pending.calls).sum();
    let messages: i64 = waiting.iter().map(|record| record.pending.messages).sum();
    let records = waiting.len() as i64;
    let outcome = if records == 0 {
        "nothing_to_erase"
    } else if policy.erases_at_once(records, calls + messages) {
        "erase_now"
    } else if policy.needs_approval(records, calls + messages) {
        RequestState::AwaitingApproval.key()
    } else {
        RequestState::Scheduled.key()
    };
    Ok(RequestPreview {
        records: found
            .records
            .into_iter()
            .map(|record| PreviewRecord {
                customer_id: record.id.to_string(),
                object_type: record.object_type,
                salesforce_id: record.salesforce_id,
                calls: record.pending.calls,
                messages: record.pending.messages,
                erased: record.erased_at.is_some(),
            })
            .collect(),
        calls,
        messages,
        outcome: outcome.to_owned(),
    })
}

/// The Admin a token makes and cancels requests (and exports) for, while they have access to Customer Data (as
/// they are now: a revoked permission stops their tokens at once); 403 otherwise.
pub(super) async fn acting_admin(
    state: &AppState,
    token: &TokenPrincipal,
) -> Result<Uuid, AppError> {
    let admin = token.created_by.ok_or_else(|| {
        AppError::forbidden(
            "This token acts for no Admin, so it cannot make or cancel requests or export data. Make one with --admin, or on the API tokens page.",
        )
    })?;
    let principal = db::sessions::principal_of_user(&state.pool, token.account_id, admin)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            AppError::forbidden("The Admin this token acts for is no longer a user of the account.")
        })?;
    authz::require_customer_data_access(&principal).map_err(|_| {
        AppError::forbidden(
            "The Admin this token acts for does not have access to Customer Data now, so the token cannot make or cancel requests or export data.",
        )
    })?;
    Ok(admin)
}

/// Makes the request for `found` (its records not yet erased), as the token's Admin, through the token.
async fn create(
    state: &AppState,
    token: &TokenPrincipal,
    admin: Uuid,
    query: CustomerQuery,
    found: CustomerMatches,
    suppress: bool,
) -> Result<ApiRequest, Refusal> {
    let ids: Vec<Uuid> = found
        .records
        .iter()
        .filter(|record| record.erased_at.is_none())
        .map(|record| record.id)
        .collect();
    let plan = ErasurePlan::listed(ids, query)
        .ok_or_else(|| {
            AppError::not_found("No record of this person is left to erase in the token's account.")
        })?
        .suppressing(suppress)
        .through_token(token.token_id);
    let submitted = erasure::erase_request(
        &state.pool,
        erasure::Actor::Requester(admin),
        token.account_id,
        &plan,
    )
    .await
    .map_err(|err| match err {
        EraseError::SignedOut => {
            AppError::forbidden("The Admin this token acts for is no longer a user of the account.")
        }
        err => AppError::from(err),
    })?;
    let request_id = match submitted {
        Submitted::Erased(erased) => {
            erasure::after_erasure(state).await;
            erased.request_id
        }
        Submitted::Held { request_id, .. } => request_id,
    };
    let detail = db::requests::detail(&state.pool, token.account_id, request_id)
        .await
        .map_err(db_failure)?
        .ok_or(AppError::Internal)?;
    Ok(ApiRequest::from(detail.summary))
}

/// The answers of a request's POST kept for its key's retries: a request made (201), or a body that can never
/// make one (422). A dry run's preview (200) is not kept: it changes nothing, and it names the person's records.
fn kept_creation(status: StatusCode) -> bool {
    status == StatusCode::CREATED || status == StatusCode::UNPROCESSABLE_ENTITY
}

/// Tokens with `requests:write` of an account whose Manage Customer Data setting is on. With `dry_run`: what a
/// request for the person would erase (their records and counts) and what the account's policy would do with it,
/// making nothing (200). Otherwise: makes one request for every record of the person not yet erased (201), as the
/// Admin the token acts for, under the account's policy: erased at once (`completed`), or held (`scheduled`,
/// `awaiting_approval`). Takes `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/api/v1/erasure-requests",
    tag = "Erasure requests",
    request_body(content = NewRequestInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Names the request: sent again with the same body within 24 hours, it answers the first answer")),
    responses(
        (status = 200, description = "The dry run's preview", body = RequestPreview, content_type = "application/json"),
        (status = 201, description = "The request was made", body = ApiRequest, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:write` or acts for no Admin, the Admin lacks access to Customer Data, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No record of the person is left to erase", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person's records changed while the request was made, or `idempotency-key-in-use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body or the Idempotency-Key is not acceptable, or the key was used for another request", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = super::erasure_requests::REQUESTS_PATH;
    let (state, body) = (&state, &body);
    post_once(
        state,
        &headers,
        ApiScope::RequestsWrite,
        (path, body),
        kept_creation,
        |token| async move {
            let token = &token;
            let made = async {
                let admin = acting_admin(state, token).await?;
                let asked: NewRequestInput = parse_body(body)?;
                let country = db::accounts::default_country(&state.pool, token.account_id)
                    .await
                    .map_err(db_failure)?;
                let person = PersonIdentifiers {
                    email: &asked.email,
                    phone: &asked.phone,
                    salesforce_id: &asked.salesforce_id,
                };
                let query = person_query(&person, &country)?;
                let found = person_records(state, token, &query).await?;
                if asked.dry_run.unwrap_or(false) {
                    return Ok(Err(preview(state, token, found).await?));
                }
                let suppress = asked.suppress.unwrap_or(true);
                let made = create(state, token, admin, query, found, suppress).await?;
                Ok::<_, Refusal>(Ok(made))
            };
            match made.await {
                Ok(Ok(request)) => respond_with(StatusCode::CREATED, Ok::<_, Refusal>(request)),
                Ok(Err(preview)) => respond(Ok::<_, Refusal>(preview)),
                Err(refusal) => problem(refusal),
            }
        },
    )
    .await
}

/// Tokens with `requests:write` of an account whose Manage Customer Data setting is on, acting for an Admin:
/// cancels a request of the account that awaits approval or is scheduled (nothing is erased), as that Admin, and
/// answers it; a request in another state is 409, another account's or an unknown one 404. Takes
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/api/v1/erasure-requests/{id}/cancel",
    tag = "Erasure requests",
    params(
        ("id" = String, Path, description = "The request's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Names the request: sent again within 24 hours, it answers the first answer")
    ),
    responses(
        (status = 200, description = "The request, cancelled", body = ApiRequest, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:write` or acts for no Admin, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request in the token's account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is past cancelling, or `idempotency-key-in-use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key is not acceptable, or was used for another request", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn cancel_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Response {
    let path = CANCEL_PATH.replace("{id}", &raw_id);
    let (state, raw_id) = (&state, &raw_id);
    post_once(
        state,
        &headers,
        ApiScope::RequestsWrite,
        (&path, &[]),
        super::idempotency::kept_answer,
        |token| async move {
            let token = &token;
            let cancelled = async {
                let admin = acting_admin(state, token).await?;
                let id = request_id(raw_id)?;
                let by = audit_log::Actor::Token(token.token_id);
                erasure::cancel(&state.pool, token.account_id, id, admin, by)
                    .await
                    .map_err(AppError::from)?;
                let detail = db::requests::detail(&state.pool, token.account_id, id)
                    .await
                    .map_err(db_failure)?
                    .ok_or(AppError::Internal)?;
                Ok::<_, Refusal>(ApiRequest::from(detail.summary))
            };
            respond(cancelled.await)
        },
    )
    .await
}
