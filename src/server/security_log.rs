//! The security event log: one JSON line per event on the tracing target `security`, apart from the
//! diagnostic log, for sign-ins (succeeded, failed, limited, busy), sign-outs, ended sessions, refused requests
//! (cross-site, not signed in, not allowed), erasure attempts and their outcomes, and views of a customer record.
//!
//! Events carry no personal data: users and records by id, an email only as its keyed hash (`email_key`,
//! HMAC-SHA-256 under the deployment's `LogKey`, so equal emails can be correlated without being readable), a
//! session as the first bytes of its stored hash, and the client as the sign-in limit sees it (the address, or
//! an IPv6 client's /64). This log, not the sign-in rate limit's table, is the record of what happened.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

use crate::error::AppError;
use crate::server::client_address::client_key;
use crate::server::sessions::{self, SessionKey};
use crate::server::state::AppState;

/// The tracing target every security event is emitted on.
pub const TARGET: &str = "security";

/// The deployment's key for `email_key`, kept in the database (`security_log_key`) so every instance and every
/// restart hashes an email alike.
#[derive(Clone)]
pub struct LogKey([u8; 32]);

impl LogKey {
    /// A key from its 32 stored bytes; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<LogKey> {
        bytes.try_into().ok().map(LogKey)
    }

    /// A new random key.
    pub fn random() -> LogKey {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        LogKey(bytes)
    }

    /// The key's bytes, to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The log's name for an email: the first 16 bytes of HMAC-SHA-256 over the email as the sign-in limit keys
    /// it (`lower(email)` as Postgres computes it), in hex.
    pub fn email_key(&self, normalized_email: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(normalized_email.as_bytes());
        sessions::hex(&mac.finalize().into_bytes()[..16])
    }
}

/// What happened, as the `event` field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A password was right and a session started.
    SignInSucceeded,
    /// A password was wrong, or the email unknown (answered alike).
    SignInFailed,
    /// Answered 429: the email's or the client's limit was reached.
    SignInLimited,
    /// Answered 503: the password-check queue was full.
    SignInBusy,
    /// A user signed out.
    SignedOut,
    /// A user's sessions were ended: their own other sessions, or all of a user's by an Admin.
    SessionsEnded,
    /// A state-changing request from another site (or with neither `Origin` nor `Sec-Fetch-Site`) was refused.
    CrossSiteRefused,
    /// A request was answered 401 (not signed in) or 403 (not allowed).
    AccessRefused,
    /// An Admin with access confirmed an erasure; its outcome follows.
    ErasureAttempted,
    /// The erasure committed; `erasure_id` is its receipt.
    ErasureCompleted,
    /// The erasure was refused or failed; `status` says how.
    ErasureRefused,
    /// The request was stored, held by the account's erasure policy (a hold period or an approval); nothing
    /// was erased yet.
    ErasureHeld,
    /// A customer record's page (or its details) was read.
    RecordViewed,
}

impl EventKind {
    /// The `event` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignInSucceeded => "sign_in_succeeded",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::SignInLimited => "sign_in_limited",
            EventKind::SignInBusy => "sign_in_busy",
            EventKind::SignedOut => "signed_out",
            EventKind::SessionsEnded => "sessions_ended",
            EventKind::CrossSiteRefused => "cross_site_refused",
            EventKind::AccessRefused => "access_refused",
            EventKind::ErasureAttempted => "erasure_attempted",
            EventKind::ErasureHeld => "erasure_held",
            EventKind::ErasureCompleted => "erasure_completed",
            EventKind::ErasureRefused => "erasure_refused",
            EventKind::RecordViewed => "record_viewed",
        }
    }
}

/// One security event; fields left unset are left out of its line.
#[derive(Debug, Clone)]
pub struct SecurityEvent {
    kind: EventKind,
    client: Option<String>,
    session: Option<String>,
    user_id: Option<Uuid>,
    account_id: Option<Uuid>,
    email_key: Option<String>,
    customer_id: Option<Uuid>,
    erasure_id: Option<Uuid>,
    target_user_id: Option<Uuid>,
    count: Option<u64>,
    status: Option<u16>,
    method: Option<String>,
    path: Option<String>,
}

impl SecurityEvent {
    /// An event with no fields but its kind.
    pub fn new(kind: EventKind) -> SecurityEvent {
        SecurityEvent {
            kind,
            client: None,
            session: None,
            user_id: None,
            account_id: None,
            email_key: None,
            customer_id: None,
            erasure_id: None,
            target_user_id: None,
            count: None,
            status: None,
            method: None,
            path: None,
        }
    }

    /// An event about the request being served (page render or server function call): its client, session,
    /// method and path (never its query) filled in from the request's parts, when there are any.
    pub fn of_request(kind: EventKind) -> SecurityEvent {
        let event = SecurityEvent::new(kind);
        let Some(parts) = leptos::prelude::use_context::<Parts>() else {
            return event;
        };
        let Some(state) = leptos::prelude::use_context::<AppState>() else {
            return event;
        };
        event.with_request_facts(
            &parts.method,
            &parts.uri,
            &parts.headers,
            &parts.extensions,
            &state,
        )
    }

    /// An event about `request`, seen by a middleware: its client, session, method and path (never its query).
    pub fn of_http_request(kind: EventKind, request: &Request, state: &AppState) -> SecurityEvent {
        SecurityEvent::new(kind).with_request_facts(
            request.method(),
            request.uri(),
            request.headers(),
            request.extensions(),
            state,
        )
    }

    fn with_request_facts(
        mut self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        extensions: &Extensions,
        state: &AppState,
    ) -> SecurityEvent {
        if let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() {
            self.client = Some(client_key(peer.ip(), headers, &state.sign_in.settings));
        }
        self.session = sessions::presented_token(headers, state.secure_cookies)
            .map(|token| session_reference(&SessionKey::of_token(token)));
        self.method = Some(method.to_string());
        self.path = Some(uri.path().to_owned());
        self
    }

    /// The same event's fields under another kind (an attempt's outcome, say).
    pub fn kind(self, kind: EventKind) -> SecurityEvent {
        SecurityEvent { kind, ..self }
    }

    /// The session a sign-in started (the request presented none, or the one it replaces).
    pub fn new_session(mut self, key: &SessionKey) -> SecurityEvent {
        self.session = Some(session_reference(key));
        self
    }

    /// The acting user and their account.
    pub fn user(mut self, user_id: Uuid, account_id: Uuid) -> SecurityEvent {
        self.user_id = Some(user_id);
        self.account_id = Some(account_id);
        self
    }

    /// The email a sign-in was for, as its keyed hash (see `LogKey::email_key`).
    pub fn email_key(mut self, email_key: String) -> SecurityEvent {
        self.email_key = Some(email_key);
        self
    }

    /// The customer record concerned.
    pub fn customer(mut self, customer_id: Uuid) -> SecurityEvent {
        self.customer_id = Some(customer_id);
        self
    }

    /// The erasure's receipt id.
    pub fn erasure(mut self, erasure_id: Uuid) -> SecurityEvent {
        self.erasure_id = Some(erasure_id);
        self
    }

    /// The user whose sessions were ended, and how many.
    pub fn sessions_of(mut self, target_user_id: Uuid, count: u64) -> SecurityEvent {
        self.target_user_id = Some(target_user_id);
        self.count = Some(count);
        self
    }

    /// The HTTP status the request was answered with.
    pub fn status(mut self, status: u16) -> SecurityEvent {
        self.status = Some(status);
        self
    }

    /// Writes the event as one line on the `security` target.
    pub fn emit(self) {
        tracing::info!(
            target: TARGET,
            event = self.kind.as_str(),
            client = self.client.as_deref(),
            session = self.session.as_deref(),
            user_id = self.user_id.map(tracing::field::display),
            account_id = self.account_id.map(tracing::field::display),
            email_key = self.email_key.as_deref(),
            customer_id = self.customer_id.map(tracing::field::display),
            erasure_id = self.erasure_id.map(tracing::field::display),
            target_user_id = self.target_user_id.map(tracing::field::display),
            count = self.count,
            status = self.status,
            method = self.method.as_deref(),
            path = self.path.as_deref(),
        );
    }
}

/// How the log names a session: the first 8 bytes of its stored hash, in hex. Enough to follow one session
/// through the log; the token itself cannot be recovered from it.
fn session_reference(key: &SessionKey) -> String {
    sessions::hex(&key.as_bytes()[..8])
}

/// The event for an erasure's outcome: completed with its receipt, held by the account's policy (`None`), or
/// refused with the status it answered.
pub fn erasure_outcome(
    attempted: SecurityEvent,
    outcome: Result<Option<Uuid>, &AppError>,
) -> SecurityEvent {
    match outcome {
        Ok(Some(erasure_id)) => attempted
            .kind(EventKind::ErasureCompleted)
            .erasure(erasure_id),
        Ok(None) => attempted.kind(EventKind::ErasureHeld),
        Err(error) => attempted
            .kind(EventKind::ErasureRefused)
            .status(error.status()),
    }
}

/// Middleware: logs the server function calls answered 401 (no valid session; the sign-in endpoint logs its own
/// answers). Refusals of a signed-in user (403) are logged where they are decided (`auth::authorize`), so that
/// a page render, which shows the refusal in a 200 page, logs them too, and cross-site refusals by the guard.
/// Only server function calls are looked at: pages and files pass untouched.
pub async fn log_refusals(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") || path == SIGN_IN_PATH {
        return next.run(request).await;
    }
    let event = SecurityEvent::of_http_request(EventKind::AccessRefused, &request, &state);
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        event.status(StatusCode::UNAUTHORIZED.as_u16()).emit();
    }
    response
}

/// The sign-in endpoint, whose answers are logged by the sign-in itself.
const SIGN_IN_PATH: &str = "/api/auth/login";

/// The layer that writes the security events, and nothing else, as JSON lines to `writer`, whatever the
/// diagnostic log's filter says.
pub fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(writer)
        .with_filter(filter_fn(|metadata| metadata.target() == TARGET))
}

/// Whether an event belongs to the diagnostic log (everything but the security events).
pub fn is_diagnostic(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.target() != TARGET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_key_is_stable_per_key_and_reveals_nothing_of_the_email() {
        let key = LogKey::from_bytes(&[7u8; 32]).expect("32 bytes");
        let first = key.email_key("alex.admin@acme.example");
        assert_eq!(first, key.email_key("alex.admin@acme.example"));
        assert_eq!(first.len(), 32);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, key.email_key("blair.admin@acme.example"));
        assert_ne!(first, LogKey::random().email_key("alex.admin@acme.example"));
    }

    #[test]
    fn only_32_byte_keys_are_accepted() {
        assert!(LogKey::from_bytes(&[0u8; 31]).is_none());
        assert!(LogKey::from_bytes(&[0u8; 33]).is_none());
    }

    #[test]
    fn an_outcome_keeps_the_attempts_fields() {
        let customer = Uuid::from_u128(5);
        let attempted = SecurityEvent::new(EventKind::ErasureAttempted)
            .user(Uuid::from_u128(1), Uuid::from_u128(2))
            .customer(customer);
        let done = erasure_outcome(attempted.clone(), Ok(Some(Uuid::from_u128(9))));
        assert_eq!(done.kind, EventKind::ErasureCompleted);
        assert_eq!(done.customer_id, Some(customer));
        assert_eq!(done.erasure_id, Some(Uuid::from_u128(9)));
        let held = erasure_outcome(attempted.clone(), Ok(None));
        assert_eq!(held.kind, EventKind::ErasureHeld);
        assert_eq!(held.erasure_id, None);
        let refused = erasure_outcome(attempted, Err(&AppError::Unauthorized));
        assert_eq!(refused.kind, EventKind::ErasureRefused);
        assert_eq!(refused.status, Some(401));
        assert_eq!(refused.user_id, Some(Uuid::from_u128(1)));
    }
}
