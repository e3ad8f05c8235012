//! `GET /customers/{id}/export.zip`: **Export** on a customer page, the record's calls, messages and files as a
//! ZIP (`server::export`); and `GET /customers/export.zip?ids=`, the same for a person's records from the
//! search results. Thin like a server function: it reads the principal, asks `authz`, finds the record
//! in the user's account, records the export in the audit log before the first byte, and streams the archive.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
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

/// Where the export of a person's records, as a search lists them, is downloaded (`?ids=<id>,<id>`).
pub const PERSON_EXPORT_PATH: &str = "/customers/export.zip";

/// The most records one export names (a search lists at most as many).
const MAX_EXPORT_RECORDS: usize = crate::server::db::customers::search::SEARCH_LIMIT as usize;

/// The records of a person's export, as the search results' link names them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PersonExport {
    #[serde(default)]
    ids: String,
}

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
    let ids = input::record_id(&raw_id, "customer").map(|id| vec![id]);
    download(&state, &method, &headers, ids).await
}

/// The same as `export_customer`, for several records of the account at once (a person's records, from the
/// search results): one archive of every one of them not erased; 404 when any is not the account's, 409 when
/// all are erased.
pub(super) async fn export_person(
    State(state): State<AppState>,
    method: Method,
    Query(query): Query<PersonExport>,
    headers: HeaderMap,
) -> Response {
    let ids = input::record_ids(&query.ids, "customer", MAX_EXPORT_RECORDS);
    download(&state, &method, &headers, ids).await
}

/// The export of the records `ids` names, streamed once it is authorized and recorded.
async fn download(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    ids: Result<Vec<Uuid>, AppError>,
) -> Response {
    // axum answers HEAD with the GET handler; a HEAD exports nothing, so it must not be logged as an export.
    if method == Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response();
    }
    match start_export(state, ids, headers).await {
        Ok((account_id, records, requester)) => {
            let today = time::OffsetDateTime::now_utc().date();
            let filename = match records.as_slice() {
                [record] => format!("customer-data-{}-{today}.zip", record.salesforce_id),
                several => format!("customer-data-{}-records-{today}.zip", several.len()),
            };
            let archive = export::archive(
                state.pool.clone(),
                state.storage.clone(),
                state.keyring.clone(),
                account_id,
                records,
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

/// Authorizes the export, finds the records (leaving out erased ones) and records the export in the account's
/// log.
async fn start_export(
    state: &AppState,
    ids: Result<Vec<Uuid>, AppError>,
    headers: &HeaderMap,
) -> Result<(Uuid, Vec<ExportedRecord>, Requester), AppError> {
    let principal = auth::principal_of_headers(state, headers)
        .await?
        .ok_or(AppError::Unauthorized)?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let mut ids = ids?;
    ids.sort_unstable();
    ids.dedup();
    let found = exports::records(&state.pool, principal.account_id, &ids)
        .await
        .map_err(db_failure)?;
    if found.len() < ids.len() {
        return Err(AppError::not_found("No such customer in your account."));
    }
    let records: Vec<ExportedRecord> = found
        .into_iter()
        .filter(|record| record.erased_at.is_none())
        .collect();
    if records.is_empty() {
        return Err(AppError::Conflict(
            "The call and message data has been deleted: there is nothing left to export.".into(),
        ));
    }
    let actor = Actor::User(principal.user_id);
    export::record_exports(&state.pool, principal.account_id, actor, &records)
        .await
        .map_err(db_failure)?;
    let requester = Requester {
        kind: "user",
        id: principal.user_id,
        name: Some(principal.name),
    };
    Ok((principal.account_id, records, requester))
}
