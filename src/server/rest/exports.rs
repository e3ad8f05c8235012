//! `POST /api/v1/exports` (scope `requests:read`): a privacy platform fetches a copy of a person's data before
//! erasing it (GDPR Art. 15 and 20): one record by its console id, or every record of the person that the
//! console's search finds by email, phone or Salesforce id, as the ZIP that Export on a customer page gives
//! (`server::export`). Like a request, an export is the Admin's who made the token, and only while that Admin
//! has access to Customer Data: a token acting for no Admin exports nothing. Each exported record is in the
//! audit log, as the token's.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ingestion::parse_body;
use super::request_writes::{PersonIdentifiers, acting_admin, person_query, person_records};
use super::{Problem, Refusal, post_once, problem};
use crate::error::AppError;
use crate::server::authz::{ApiScope, TokenPrincipal};
use crate::server::db;
use crate::server::db::exports::ExportedRecord;
use crate::server::evidence::audit_log;
use crate::server::export::{self, Requester};
use crate::server::http::attachment;
use crate::server::input;
use crate::server::state::{AppState, db_failure};

/// Where exports are made.
pub const EXPORTS_PATH: &str = "/api/v1/exports";

/// Whose data to export: exactly one of a record's id and a person's identifier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportInput {
    /// One record, by its id in the console (as the erasure requests name their records).
    pub customer_id: Option<String>,
    /// A person's email address: every record with it.
    pub email: Option<String>,
    /// A person's phone number, in any common spelling (a national number is read with the account's country).
    pub phone: Option<String>,
    /// The Salesforce id of one of the person's records (15 or 18 characters).
    pub salesforce_id: Option<String>,
}

/// The records of the account the body names, none erased: 404 when it names none, 409 `record-erased` when
/// every one it names has been erased (nothing is left to export); a person's erased records are left out.
async fn named_records(
    state: &AppState,
    token: &TokenPrincipal,
    asked: &ExportInput,
) -> Result<Vec<ExportedRecord>, Refusal> {
    let person = PersonIdentifiers {
        email: &asked.email,
        phone: &asked.phone,
        salesforce_id: &asked.salesforce_id,
    };
    let ids = match (&asked.customer_id, person.given()) {
        (Some(raw), 0) => vec![input::record_id(raw, "customer")?],
        (None, _) => {
            let country = db::accounts::default_country(&state.pool, token.account_id)
                .await
                .map_err(db_failure)?;
            let query = person_query(&person, &country)?;
            let found = person_records(state, token, &query).await?;
            found.records.iter().map(|record| record.id).collect()
        }
        (Some(_), _) => {
            return Err(AppError::invalid(
                "Name whose data to export by exactly one of customer_id, email, phone and salesforce_id.",
            )
            .into());
        }
    };
    let records = db::exports::records(&state.pool, token.account_id, &ids)
        .await
        .map_err(db_failure)?;
    if records.is_empty() {
        return Err(AppError::not_found("No such record in the token's account.").into());
    }
    let left: Vec<ExportedRecord> = records
        .into_iter()
        .filter(|record| record.erased_at.is_none())
        .collect();
    if left.is_empty() {
        return Err(Refusal::RecordErased);
    }
    Ok(left)
}

/// Of an export's answers only a body that can never succeed (422) is kept for its key's retries: the ZIP is
/// read again on a retry (an export changes nothing).
fn kept_refusal(status: StatusCode) -> bool {
    status == StatusCode::UNPROCESSABLE_ENTITY
}

/// Tokens with `requests:read` of an account whose Manage Customer Data setting is on, acting for an Admin with
/// access to Customer Data: the data of one record of
/// the account (`customer_id`) or of every record of a person (`email`, `phone` or `salesforce_id`) that is not
/// erased, as a ZIP (`manifest.json` with each file's size and SHA-256, `calls.json`, `messages.json`, the stored
/// files). 404 when nothing of the account is named, 409 `record-erased` when all of it was erased. Each
/// exported record is in the audit log. Takes `Idempotency-Key` (a retry exports again).
#[utoipa::path(
    post,
    path = "/api/v1/exports",
    tag = "Exports",
    request_body(content = ExportInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Names the request: while it runs, another use of the key answers 409, and with another body 422")),
    responses(
        (status = 200, description = "The ZIP of the records' data", body = String, content_type = "application/zip"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `requests:read` or acts for no Admin, the Admin lacks access to Customer Data, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or no record of the person, in the token's account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`record-erased`: every record named was erased, so nothing is left to export; or `idempotency-key-in-use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body or the Idempotency-Key is not acceptable, or the key was used for another request", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (state, body) = (&state, &body);
    post_once(
        state,
        &headers,
        ApiScope::RequestsRead,
        (EXPORTS_PATH, body),
        kept_refusal,
        |token| async move {
            let started = async {
                acting_admin(state, &token).await?;
                let asked: ExportInput = parse_body(body)?;
                let records = named_records(state, &token, &asked).await?;
                let actor = audit_log::Actor::Token(token.token_id);
                export::record_exports(&state.pool, token.account_id, actor, &records)
                    .await
                    .map_err(db_failure)?;
                Ok::<_, Refusal>((token, records))
            };
            match started.await {
                Ok((token, records)) => archive_answer(state, token, records),
                Err(refusal) => problem(refusal),
            }
        },
    )
    .await
}

/// The 200 answer streaming the archive of `records` for `token`.
fn archive_answer(
    state: &AppState,
    token: TokenPrincipal,
    records: Vec<ExportedRecord>,
) -> Response {
    let filename = format!(
        "customer-data-{}.zip",
        time::OffsetDateTime::now_utc().date()
    );
    let requester = Requester {
        kind: "api_token",
        id: token.token_id,
        name: None,
    };
    let archive = export::archive(
        state.pool.clone(),
        state.storage.clone(),
        state.keyring.clone(),
        token.account_id,
        records,
        requester,
    );
    attachment(
        Body::from_stream(archive).into_response(),
        "application/zip",
        &filename,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_body_that_can_never_succeed_is_kept() {
        assert!(kept_refusal(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(!kept_refusal(StatusCode::OK));
        assert!(!kept_refusal(StatusCode::NOT_FOUND));
    }
}
