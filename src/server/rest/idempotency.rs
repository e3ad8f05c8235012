//! `Idempotency-Key` on the API's POSTs: a client that sends a request again with the same key (after a
//! timeout, a lost answer) gets the first answer instead of a second effect. Per token and key, within
//! `KEY_LIFETIME`: the same request (method, path and body, compared by a keyed digest) answers the stored
//! answer; another request answers 422 `idempotency-key-reused`; while the first is still running, another use
//! answers 409 `idempotency-key-in-use` (a transaction-scoped advisory lock on the key, which a crashed instance
//! releases with its connection). Answers of 5xx are not kept, so a retry after a failure runs again.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use time::Duration;

use super::{Refusal, problem};
use crate::error::AppError;
use crate::server::authz::TokenPrincipal;
use crate::server::state::{AppState, db_failure};

/// The request header that names a request.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// How long a key's answer is kept.
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// The longest key accepted.
const MAX_KEY_CHARS: usize = 255;

/// The longest answer kept (bytes); the API's POSTs answer far less.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The header on an answer given again from the store.
const REPLAYED: &str = "idempotent-replayed";

/// The key a request names, if it names one: 1 to 255 visible ASCII characters, else 422.
fn key_of(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|key| (1..=MAX_KEY_CHARS).contains(&key.len()))
        .filter(|key| key.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            AppError::invalid("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        })?;
    Ok(Some(key.to_owned()))
}

/// The advisory lock that marks token `token`'s key `key` as running: the first 8 bytes of a SHA-256 of both.
fn lock_id(token: &TokenPrincipal, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"idempotency-key\0")
        .chain_update(token.token_id.as_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Runs `operation` (a POST of `token` to `path` with `body`) under the request's `Idempotency-Key`, if it has
/// one, as the module says; without one it just runs.
pub(super) async fn run_once<F>(
    state: &AppState,
    token: &TokenPrincipal,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    operation: F,
) -> Response
where
    F: Future<Output = Response>,
{
    let key = match key_of(headers) {
        Ok(Some(key)) => key,
        Ok(None) => return operation.await,
        Err(error) => return problem(error),
    };
    match keyed(state, token, &key, path, body, operation).await {
        Ok(response) => response,
        Err(refusal) => problem(refusal),
    }
}

async fn keyed<F>(
    state: &AppState,
    token: &TokenPrincipal,
    key: &str,
    path: &str,
    body: &[u8],
    operation: F,
) -> Result<Response, Refusal>
where
    F: Future<Output = Response>,
{
    let digest = state
        .evidence_secret
        .account_key(token.account_id)
        .digest(&[b"POST", path.as_bytes(), body]);
    let mut tx = state.pool.begin().await.map_err(db_failure)?;
    let running_elsewhere = !sqlx::query_scalar!(
        "select pg_try_advisory_xact_lock($1) as \"locked!\"",
        lock_id(token, key)
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(db_failure)?;
    if running_elsewhere {
        return Err(Refusal::KeyInUse);
    }
    let stored = sqlx::query!(
        "select request_hmac, status, content_type, answer from idempotency_keys
         where token_id = $1 and key = $2 and expires_at > now()",
        token.token_id,
        key
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_failure)?;
    if let Some(stored) = stored {
        if stored.request_hmac != digest {
            return Err(Refusal::KeyReused);
        }
        let status = StatusCode::from_u16(stored.status as u16).map_err(|_| AppError::Internal)?;
        let mut response = (status, stored.answer).into_response();
        let headers = response.headers_mut();
        if let Ok(content_type) = HeaderValue::from_str(&stored.content_type) {
            headers.insert(header::CONTENT_TYPE, content_type);
        }
        headers.insert(REPLAYED, HeaderValue::from_static("true"));
        return Ok(response);
    }
    let response = operation.await;
    let status = response.status();
    if status.is_server_error() {
        return Ok(response);
    }
    let (parts, answer) = response.into_parts();
    let answer = axum::body::to_bytes(answer, MAX_ANSWER_BYTES)
        .await
        .map_err(|_| AppError::Internal)?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let text = String::from_utf8_lossy(&answer).into_owned();
    sqlx::query!(
        "insert into idempotency_keys
             (token_id, key, request_hmac, status, content_type, answer, expires_at)
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
         on conflict (token_id, key) do update
         set request_hmac = excluded.request_hmac, status = excluded.status,
             content_type = excluded.content_type, answer = excluded.answer,
             created_at = now(), expires_at = excluded.expires_at",
        token.token_id,
        key,
        digest.as_slice(),
        status.as_u16() as i16,
        content_type,
        text,
        KEY_LIFETIME.whole_seconds() as f64
    )
    .execute(&mut *tx)
    .await
    .map_err(db_failure)?;
    tx.commit().await.map_err(db_failure)?;
    Ok(Response::from_parts(parts, Body::from(answer)))
}

/// Deletes the keys whose time is over; answers how many.
pub async fn drop_expired(pool: &sqlx::PgPool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("delete from idempotency_keys where expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with(key: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_bytes(key).unwrap());
        headers
    }

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(key_of(&HeaderMap::new()), Ok(None));
        assert_eq!(
            key_of(&headers_with(b"order-7f3a")),
            Ok(Some("order-7f3a".to_owned()))
        );
        assert!(key_of(&headers_with(b"")).is_err());
        assert!(key_of(&headers_with(b"two words")).is_err());
        assert!(key_of(&headers_with(&[b'k'; 256])).is_err());
        assert!(key_of(&headers_with(&[b'k'; 255])).is_ok());
    }
}
