//! `GET /customers/{id}/export.zip`: **Export** on a customer page, the record's calls, messages and files as a
//! ZIP (`server::export`). Thin like a server function: it reads the principal, asks `authz`, finds the record
//! in the user's account, records the export in the audit log before the first byte, and streams the archive.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::AppError;
use crate::server::db::exports::{self, ExportedRecord};
use crate::server::evidence::audit_log::Actor;
use crate::server::export::{self, Requester};
use crate::server::http::errors::error_response;
use crate::server::http::headers::attachment;
use crate::server::input;
use crate::server::state::{AppState, db_failure};
use crate::server::{auth, authz};

/// Where a record's export is downloaded (`{id}`: the record's id).
pub const CUSTOMER_EXPORT_PATH: &str = "/customers/{id}/export.zip";

/// Admins holding Manage Customer Data while the account setting is on, for a record of their account that has
/// not been erased: the record's data as `application/zip` (an attachment, never cached). Signed out is 401,
/// without the access 403, a malformed id 422, a record not in the account 404, an erased record 409 (nothing
/// is left to export), each as the console's JSON error; HEAD is 405.
pub(super) async fn export_customer(
    State(state): State<AppState>,
    method: Method,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    // axum answers HEAD with the GET handler; a HEAD exports nothing, so it must not be logged as an export.
    if method == Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response();
    }
    match start_export(&state, &raw_id, &headers).await {
        Ok((account_id, record, requester)) => {
            let filename = format!(
                "customer-data-{}-{}.zip",
                record.salesforce_id,
                time::OffsetDateTime::now_utc().date()
            );
            let archive = export::archive(
                state.pool.clone(),
                state.storage.clone(),
                account_id,
                vec![record],
                requester,
            );
            attachment(
                Body::from_stream(archive).into_response(),
                "application/zip",
                &filename,
            )
        }
        Err(error) => error_response(&error),
    }
}

/// Authorizes the export, finds the record and records the export in the account's log.
async fn start_export(
    state: &AppState,
    raw_id: &str,
    headers: &HeaderMap,
) -> Result<(Uuid, ExportedRecord, Requester), AppError> {
    let principal = auth::principal_of_headers(state, headers)
        .await?
        .ok_or(AppError::Unauthorized)?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let customer_id = input::record_id(raw_id, "customer")?;
    let record = exports::records(&state.pool, principal.account_id, &[customer_id])
        .await
        .map_err(db_failure)?
        .pop()
        .ok_or_else(|| AppError::not_found("No such customer in your account."))?;
    if record.erased_at.is_some() {
        return Err(AppError::Conflict(
            "This record's call and message data has been deleted: there is nothing left to export."
                .into(),
        ));
    }
    let actor = Actor::User(principal.user_id);
    let exported = std::slice::from_ref(&record);
    export::record_exports(&state.pool, principal.account_id, actor, exported)
        .await
        .map_err(db_failure)?;
    let requester = Requester {
        kind: "user",
        id: principal.user_id,
        name: Some(principal.name),
    };
    Ok((principal.account_id, record, requester))
}
