//! The two plain HTTP answers of the receipts: a request's signed receipt as a `.jws` download, for the users
//! who may see the request's page, and the public keys that verify every receipt, as a JWKS. Each is thin, like
//! a server function: it reads the principal, asks `authz`, makes one call into `server/`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::server::auth;
use crate::server::authz;
use crate::server::db;
use crate::server::evidence::receipt_keys::Jwks;
use crate::server::http::errors::error_response;
use crate::server::http::headers::attachment;
use crate::server::input;
use crate::server::state::{AppState, db_failure};

/// Where the public keys of the receipts are served.
pub const RECEIPT_KEYS_PATH: &str = "/.well-known/receipt-keys.json";

/// Where a request's receipt is downloaded (`{id}`: the request's id).
pub const RECEIPT_DOWNLOAD_PATH: &str = "/requests/{id}/receipt.jws";

/// Anyone. Every public key that signed or signs receipts, retired ones included (an empty set when the console
/// has no signing key), as a JWKS; cacheable for a few minutes (see `assets::cache_control`).
pub(super) async fn receipt_keys(State(state): State<AppState>) -> Response {
    let keys = state
        .receipt_keys
        .as_ref()
        .map(|keys| keys.jwks())
        .unwrap_or_else(|| Jwks { keys: Vec::new() });
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&keys).unwrap_or_default(),
    )
        .into_response()
}

/// Admins holding Manage Customer Data while the account setting is on, for a request of their account whose
/// receipt is issued: the receipt as a compact JWS file (`application/jose`, an attachment, never cached).
/// Anyone else, another account's request, an unknown id and a receipt not issued yet are all 404, so the
/// answer says nothing of requests the user may not see.
pub(super) async fn download_receipt(
    State(state): State<AppState>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match receipt_for(&state, &request_id, &headers).await {
        Ok((request_id, token)) => attachment(
            token.into_response(),
            "application/jose",
            &format!("erasure-receipt-{request_id}.jws"),
        ),
        Err(error) => error_response(&error),
    }
}

/// The signed-in user's receipt of request `raw_id`, or 404 for every reason it is not theirs to download.
async fn receipt_for(
    state: &AppState,
    raw_id: &str,
    headers: &HeaderMap,
) -> Result<(uuid::Uuid, String), AppError> {
    let not_found = || AppError::not_found("No receipt of that request in your account.");
    let principal = auth::principal_of_headers(state, headers)
        .await?
        .ok_or_else(not_found)?;
    auth::authorize(&principal, authz::require_customer_data_access).map_err(|_| not_found())?;
    let request_id = input::record_id(raw_id, "request").map_err(|_| not_found())?;
    let token = db::requests::receipt(&state.pool, principal.account_id, request_id)
        .await
        .map_err(db_failure)?
        .ok_or_else(not_found)?;
    Ok((request_id, token))
}
