//! `Idempotency-Key` on the API's POSTs: a client that sends a request again with the same key (after a
//! timeout, a lost answer) gets the first answer instead of a second effect. Per token and key, within
//! `KEY_LIFETIME`: the same request (method, path and body, compared by a keyed digest) answers the stored
//! answer; another request answers 422 `idempotency-key-reused`; while the first is still running, another use
//! answers 409 `idempotency-key-in-use`. The first use claims the key with a committed row, so no connection is
//! held while it runs; a claim whose instance stopped is taken over after `ABANDONED_AFTER` (if that instance
//! had committed its work, the retry runs it again). Only the answers `keep` names are kept (`kept_answer`: a
//! success, or 422); after any other, the claim is removed and a retry runs again.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

/// Which answers are kept for the key's retries: `status` is one (a success, or 422 for a request that can never
/// succeed). Other refusals (404 for a record not synced yet, 403 while a permission is off, 409) depend on a
/// state that passes, so a retry runs again; so does one after a 5xx.
pub fn kept_answer(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY
}

/// Runs `operation` (a POST of `token` to `path` with `body`) under the request's `Idempotency-Key`, if it has
/// one, as the module says, keeping its answer when `keep` says so; without a key it just runs.
pub(super) async fn run_once<F>(
    state: &AppState,
    token: &TokenPrincipal,
    headers: &HeaderMap,
    request: (&str, &[u8]),
    keep: fn(StatusCode) -> bool,
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
    match keyed(state, token, &key, request, keep, operation).await {
        Ok(response) => response,
        Err(refusal) => problem(refusal),
    }
}

/// How long a claim without an answer stands before another request with the same key and body may take it over
/// (its instance stopped): longer than any operation may run (an erasure's statements time out after 10 minutes).
const ABANDONED_AFTER: Duration = Duration::minutes(15);

async fn keyed<F>(
    state: &AppState,
    token: &TokenPrincipal,
    key: &str,
    (path, body): (&str, &[u8]),
    keep: fn(StatusCode) -> bool,
    operation: F,
) -> Result<Response, Refusal>
where
    F: Future<Output = Response>,
{
    let digest = state
        .evidence_secret
        .account_key(token.account_id)
        .digest(&[b"POST", path.as_bytes(), body]);
    let claimed = sqlx::query_scalar!(
        "insert into idempotency_keys (token_id, key, request_hmac, expires_at)
         values ($1, $2, $3, now() + make_interval(secs => $4))
         on conflict (token_id, key) do update
         set request_hmac = excluded.request_hmac, status = null, content_type = null, answer = null,
             claimed_at = now(), expires_at = excluded.expires_at
         where idempotency_keys.expires_at <= now()
            or (idempotency_keys.status is null and idempotency_keys.request_hmac = excluded.request_hmac
                and idempotency_keys.claimed_at < now() - make_interval(secs => $5))
         returning claimed_at",
        token.token_id,
        key,
        digest.as_slice(),
        KEY_LIFETIME.whole_seconds() as f64,
        ABANDONED_AFTER.whole_seconds() as f64
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(db_failure)?;
    let Some(claimed_at) = claimed else {
        return stored_answer(state, token, key, &digest).await;
    };
    let response = operation.await;
    let status = response.status();
    if !keep(status) {
        sqlx::query!(
            "delete from idempotency_keys where token_id = $1 and key = $2 and claimed_at = $3",
            token.token_id,
            key,
            claimed_at
        )
        .execute(&state.pool)
        .await
        .map_err(db_failure)?;
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
    sqlx::query!(
        "update idempotency_keys set status = $4, content_type = $5, answer = $6
         where token_id = $1 and key = $2 and claimed_at = $3",
        token.token_id,
        key,
        claimed_at,
        status.as_u16() as i16,
        content_type,
        String::from_utf8_lossy(&answer).into_owned()
    )
    .execute(&state.pool)
    .await
    .map_err(db_failure)?;
    Ok(Response::from_parts(parts, Body::from(answer)))
}

/// The answer for a key another request holds: its stored answer when it is the same request and has ended, 409
/// while it runs, 422 when the key named another request.
async fn stored_answer(
    state: &AppState,
    token: &TokenPrincipal,
    key: &str,
    digest: &[u8; 32],
) -> Result<Response, Refusal> {
    let stored = sqlx::query!(
        "select request_hmac, status, content_type, answer from idempotency_keys
         where token_id = $1 and key = $2",
        token.token_id,
        key
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(db_failure)?
    .ok_or(Refusal::KeyInUse)?;
    if stored.request_hmac != digest {
        return Err(Refusal::KeyReused);
    }
    let (Some(status), Some(content_type), Some(answer)) =
        (stored.status, stored.content_type, stored.answer)
    else {
        return Err(Refusal::KeyInUse);
    };
    let status = StatusCode::from_u16(status as u16).map_err(|_| AppError::Internal)?;
    let mut response = (status, answer).into_response();
    let headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
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
