//! Sign-in, sign-out and the signed-in principal. Passwords are Argon2id hashes; sessions live in Postgres
//! (`server::sessions`) and point at the user, so every request reads the user's current role and grants.

use std::net::SocketAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::ConnectInfo;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use leptos::prelude::{use_context, with_context};
use leptos_axum::ResponseOptions;
use rand_core::OsRng;
use sqlx::PgPool;

use crate::api::auth::SIGN_IN_FIELDS_MISSING;
use crate::error::AppError;
use crate::server::authz::{self, Principal};
use crate::server::client_address::client_key;
use crate::server::config::SignInSettings;
use crate::server::db;
use crate::server::db::sessions::SessionPrincipal;
use crate::server::db::sign_in::{AttemptLimits, LoginRow};
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::evidence::identity::PersonId;
use crate::server::security_log::{EventKind, SecurityEvent};
use crate::server::sessions::{self, BrowserKey, SessionKey};
use crate::server::state::{AppState, app_state, db_failure};

/// Failed sign-ins for one email within `LOGIN_WINDOW_MINUTES` before further attempts get 429. Counted apart
/// for each browser the user has signed in with before and once for all other browsers, so that wrong passwords
/// sent from elsewhere lock out only browsers the user has never signed in with. Each attempt is reserved
/// against the limit before its password check (see `db::sign_in::reserve_attempt`), so attempts still being
/// checked count too and simultaneous attempts cannot outrun it; a successful sign-in counts as no failure but
/// leaves the failures before it counted.
pub const LOGIN_FAILURE_LIMIT: i64 = 10;
/// How far back sign-in attempts (failed, or still being checked) count against `LOGIN_FAILURE_LIMIT` and the
/// per-client limit, in minutes.
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// The longest password a sign-in checks (longer ones are refused unchecked), and so the longest a user gets.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What a sign-in answered 503 (the password-check queue is full) tells the browser to wait, in seconds.
const BUSY_RETRY_AFTER_SECONDS: &str = "1";

/// The sign-in's protection beyond the per-email limit: the per-client limit and the trusted proxies
/// (`settings`), and the bounded password-check queue.
pub struct SignInGuard {
    /// The per-client limit, the queue's size and the trusted proxies, as configured.
    pub settings: SignInSettings,
    /// One permit per password check waiting or running; a sign-in that finds none left is answered 503.
    password_checks: tokio::sync::Semaphore,
}

impl SignInGuard {
    /// A guard with these settings and a password-check queue of `settings.password_check_queue` places.
    pub fn new(settings: SignInSettings) -> SignInGuard {
        SignInGuard {
            password_checks: tokio::sync::Semaphore::new(settings.password_check_queue.get()),
            settings,
        }
    }
}

/// A stored password hash; never serialized, never shown.
pub struct PasswordDigest(String);

impl PasswordDigest {
    /// The hash as stored in `users.password_hash` (an Argon2id PHC string).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hashes `password` with Argon2id (default parameters) and a new random salt, for storing a user's password.
pub fn hash_password(password: &str) -> Result<PasswordDigest, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| PasswordDigest(hash.to_string()))
        .map_err(|err| {
            tracing::error!(error = %err, "password hashing failed");
            AppError::Internal
        })
}

/// Whether `password` matches `stored_hash`; a hash that does not parse matches nothing. Costs tens of
/// milliseconds of CPU: sign-ins run it on the password-check threads, not on the async workers.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Argon2id verification costs about 19 MiB and tens of milliseconds of CPU. It runs on a fixed set of threads,
/// one per core, fed through a queue: a burst of sign-ins waits its turn instead of stalling the async workers,
/// and the memory stays bounded because the same few threads (and so the same allocator arenas) do all of it.
struct PasswordCheck {
    password: String,
    stored_hash: String,
    answer: tokio::sync::oneshot::Sender<bool>,
}

static PASSWORD_CHECKERS: std::sync::LazyLock<
    std::sync::Mutex<std::sync::mpsc::Sender<PasswordCheck>>,
> = std::sync::LazyLock::new(|| {
    let (queue, jobs) = std::sync::mpsc::channel::<PasswordCheck>();
    let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
    for n in 0..std::thread::available_parallelism().map_or(2, std::num::NonZero::get) {
        let jobs = jobs.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-check-{n}"))
            .spawn(move || {
                loop {
                    let job = match jobs.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let verified = verify_password(&job.password, &job.stored_hash);
                    let _ = job.answer.send(verified);
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start a password check thread");
        }
    }
    std::sync::Mutex::new(queue)
});

async fn verify_password_off_thread(password: &str, stored_hash: &str) -> bool {
    let (answer, verified) = tokio::sync::oneshot::channel();
    let job = PasswordCheck {
        password: password.to_owned(),
        stored_hash: stored_hash.to_owned(),
        answer,
    };
    let queued = PASSWORD_CHECKERS
        .lock()
        .map(|queue| queue.send(job).is_ok())
        .unwrap_or(false);
    queued && verified.await.unwrap_or(false)
}

/// Checks email and password and starts a new session (ending the one the browser presented, if any).
/// A wrong email and a wrong password get the same answer, after the same amount of hashing work. The attempt
/// is reserved against the per-email and per-client limits before the password is checked (429 when either is
/// reached), and the check waits in a bounded queue (503 with `Retry-After` when it is full).
pub async fn sign_in(email: &str, password: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let client = presented_client(&state.sign_in.settings)?;
    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(AppError::invalid(SIGN_IN_FIELDS_MISSING));
    }
    if email.len() > 320
        || password.len() > MAX_PASSWORD_BYTES
        || email.chars().any(char::is_control)
    {
        return Err(AppError::BadCredentials);
    }
    let candidate = db::sign_in::find_login(&state.pool, email)
        .await
        .map_err(db_failure)?;
    let browser = match (&candidate, presented_browser()) {
        (Some(login), Some(browser))
            if db::sign_in::is_known_browser(&state.pool, &browser, login.id)
                .await
                .map_err(db_failure)? =>
        {
            Some(browser)
        }
        _ => None,
    };
    let stored_hash = candidate.as_ref().map(|login| login.password_hash.as_str());
    let attempted = match reserved_password_check(
        &state,
        email,
        browser.as_ref(),
        &client,
        password,
        stored_hash,
    )
    .await
    {
        Err(AppError::BadCredentials) => {
            if let Some(login) = &candidate {
                log_failed_sign_in(&state, login, email);
            }
            return Err(AppError::BadCredentials);
        }
        attempted => attempted?,
    };
    let Some(login) = candidate else {
        return Err(AppError::BadCredentials);
    };
    if browser.is_none() {
        let token = sessions::new_token();
        db::sign_in::add_known_browser(&state.pool, &BrowserKey::of_token(&token), login.id)
            .await
            .map_err(db_failure)?;
        add_header(
            SET_COOKIE,
            sessions::browser_cookie(&token, state.secure_cookies),
        )?;
    }
    let token = sessions::new_token();
    start_session(&state, &SessionKey::of_token(&token), &login)
        .await
        .map_err(db_failure)?;
    attempted
        .kind(EventKind::SignInSucceeded)
        .user(login.id, login.account_id)
        .new_session(&SessionKey::of_token(&token))
        .emit();
    add_header(SET_COOKIE, sessions::cookie(&token, state.secure_cookies))
}

/// Starts the session with key `key` for `login` (ending the one the browser presented, if any) and appends the
/// sign-in to the account's audit log, in one transaction.
async fn start_session(state: &AppState, key: &SessionKey, login: &LoginRow) -> sqlx::Result<()> {
    let mut tx = state.pool.begin().await?;
    db::sessions::start(
        &mut *tx,
        key,
        login.id,
        presented_session().as_ref(),
        state.session_max_hours,
    )
    .await?;
    let entry = Entry::new(login.account_id, Actor::User(login.id), Action::SignedIn);
    audit_log::append(&mut tx, &entry).await?;
    tx.commit().await
}

/// Appends a failed sign-in with the email of `login` (a user of the account) to the account's audit log: by
/// someone not signed in, concerning that user, with the email's keyed hash as the subject. It is written beside
/// the answer, not before it, so that a wrong password for a user's email answers as fast as one for an email
/// no user has (whose failure no account's log can hold; the security log records those). Only attempts that
/// reached the password check are appended, at most the sign-in limit's per email and window: the ones the
/// limits refuse before it (429) cost an attacker nothing, and go to the security log alone, so that they cannot
/// flood an account's chain.
fn log_failed_sign_in(state: &AppState, login: &LoginRow, email: &str) {
    let subject = state
        .evidence_secret
        .subject(login.account_id, &PersonId::Email(email));
    let entry = Entry::new(login.account_id, Actor::Anonymous, Action::SignInFailed)
        .target_user(login.id)
        .subject(subject);
    append_beside_the_answer(state, entry);
}

/// Appends `entry` in a task of its own, so that the answer does not wait for it (see `log_failed_sign_in`).
fn append_beside_the_answer(state: &AppState, entry: Entry) {
    let pool = state.pool.clone();
    tokio::spawn(async move {
        if let Err(err) = audit_log::append_alone(&pool, &entry).await {
            tracing::error!(error = %err, "cannot append a refused password to the audit log");
        }
    });
}

/// One password attempt for `email` under the sign-in's limits: reserved against the per-email and per-client
/// limits before the check (429 when either is reached), checked against `stored_hash` on the bounded queue of
/// password-check threads (503 with `Retry-After` when it is full), then forgotten when it matched or recorded
/// as a failure (`BadCredentials`) when it did not. Without a stored hash (no such user) it checks against
/// `UNKNOWN_USER_HASH`, so that the failure takes as long. On a match, answers the attempt's security event,
/// for the caller to emit as it completes.
async fn reserved_password_check(
    state: &AppState,
    email: &str,
    known_browser: Option<&BrowserKey>,
    client: &str,
    password: &str,
    stored_hash: Option<&str>,
) -> Result<SecurityEvent, AppError> {
    let limits = AttemptLimits {
        window_minutes: LOGIN_WINDOW_MINUTES,
        per_email: LOGIN_FAILURE_LIMIT,
        per_client: state.sign_in.settings.client_limit,
    };
    let (email_key, attempt) =
        db::sign_in::reserve_attempt(&state.pool, email, known_browser, client, &limits)
            .await
            .map_err(db_failure)?;
    let attempted = SecurityEvent::of_request(EventKind::SignInFailed)
        .email_key(state.log_key.email_key(&email_key));
    let Some(attempt) = attempt else {
        attempted.kind(EventKind::SignInLimited).emit();
        return Err(AppError::TooManyRequests);
    };
    let Ok(_queued) = state.sign_in.password_checks.try_acquire() else {
        db::sign_in::forget_attempt(&state.pool, attempt)
            .await
            .map_err(db_failure)?;
        attempted.kind(EventKind::SignInBusy).emit();
        add_header(
            RETRY_AFTER,
            HeaderValue::from_static(BUSY_RETRY_AFTER_SECONDS),
        )?;
        return Err(AppError::Busy);
    };
    let verified = verify_password_off_thread(password, stored_hash.unwrap_or(UNKNOWN_USER_HASH))
        .await
        && stored_hash.is_some();
    if !verified {
        db::sign_in::record_failure(&state.pool, attempt)
            .await
            .map_err(db_failure)?;
        attempted.emit();
        return Err(AppError::BadCredentials);
    }
    db::sign_in::forget_attempt(&state.pool, attempt)
        .await
        .map_err(db_failure)?;
    Ok(attempted)
}

/// What an erasure answers when the password entered to confirm it is wrong.
pub const WRONG_PASSWORD: &str =
    "That password is wrong, so nothing was erased. Enter your password again.";

/// For the irreversible step: goes on when the session `key` entered its user's password within
/// `authz::REAUTHENTICATE_AFTER_MINUTES`; otherwise needs `password` (`PasswordRequired` without one). The
/// password is checked as a sign-in's is, under the same limits (`reserved_password_check`): a wrong one counts
/// as a failed sign-in of the user's email, is appended to the audit log (`password_confirmation_failed`) and is
/// answered 422 (`WRONG_PASSWORD`), a correct one re-confirms
/// the session for another `REAUTHENTICATE_AFTER_MINUTES`.
pub async fn require_recent_password(
    key: &SessionKey,
    principal: &Principal,
    password: Option<&str>,
) -> Result<(), AppError> {
    let state = app_state()?;
    let recent =
        db::sessions::authenticated_within(&state.pool, key, authz::REAUTHENTICATE_AFTER_MINUTES)
            .await
            .map_err(db_failure)?;
    let Err(refusal) = authz::require_recent_password(recent) else {
        return Ok(());
    };
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(refusal);
    };
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid(WRONG_PASSWORD));
    }
    let client = presented_client(&state.sign_in.settings)?;
    let login = db::sign_in::find_login(&state.pool, &principal.email)
        .await
        .map_err(db_failure)?
        .filter(|login| login.id == principal.user_id)
        .ok_or(AppError::Unauthorized)?;
    let browser = match presented_browser() {
        Some(browser)
            if db::sign_in::is_known_browser(&state.pool, &browser, login.id)
                .await
                .map_err(db_failure)? =>
        {
            Some(browser)
        }
        _ => None,
    };
    reserved_password_check(
        &state,
        &principal.email,
        browser.as_ref(),
        &client,
        password,
        Some(&login.password_hash),
    )
    .await
    .map_err(|refusal| match refusal {
        AppError::BadCredentials => {
            let entry = Entry::new(
                principal.account_id,
                Actor::User(principal.user_id),
                Action::PasswordConfirmationFailed,
            );
            append_beside_the_answer(&state, entry);
            AppError::invalid(WRONG_PASSWORD)
        }
        refusal => refusal,
    })?;
    db::sessions::reauthenticated(&state.pool, key)
        .await
        .map_err(db_failure)
}

/// Ends the session on the server (the old cookie stops working at once) and clears the cookie.
pub async fn sign_out(principal: &Principal) -> Result<(), AppError> {
    let state = app_state()?;
    SecurityEvent::of_request(EventKind::SignedOut)
        .user(principal.user_id, principal.account_id)
        .emit();
    if let Some(key) = presented_session() {
        end_session(&state.pool, &key, principal)
            .await
            .map_err(db_failure)?;
    }
    add_header(SET_COOKIE, sessions::removal_cookie(state.secure_cookies))
}

/// Ends the session with key `key` of `principal` and appends the sign-out to the account's audit log, in one
/// transaction (nothing is appended when the session had already ended).
async fn end_session(pool: &PgPool, key: &SessionKey, principal: &Principal) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    if db::sessions::end(&mut *tx, key).await? {
        let entry = Entry::new(
            principal.account_id,
            Actor::User(principal.user_id),
            Action::SignedOut,
        );
        audit_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await
}

fn add_header(name: HeaderName, value: HeaderValue) -> Result<(), AppError> {
    let response = use_context::<ResponseOptions>().ok_or_else(|| {
        tracing::error!("ResponseOptions missing from the request context");
        AppError::Internal
    })?;
    response.append_header(name, value);
    Ok(())
}

/// The per-client limit's key for the request being served (see `client_address`). The connection's address
/// is there when the router is served with `into_make_service_with_connect_info`; without it no sign-in is
/// allowed, since every client would count as one.
fn presented_client(settings: &SignInSettings) -> Result<String, AppError> {
    let key = use_context::<Parts>().and_then(|parts| {
        let ConnectInfo(peer) = *parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
        Some(client_key(peer.ip(), &parts.headers, settings))
    });
    key.ok_or_else(|| {
        tracing::error!("the client's address is missing: serve the router with connect info");
        AppError::Internal
    })
}

/// The known-browser key the request's cookies present, if well-formed (whose browser it is, is checked apart).
fn presented_browser() -> Option<BrowserKey> {
    let parts = use_context::<Parts>()?;
    sessions::presented_browser_token(&parts.headers).map(BrowserKey::of_token)
}

/// The session key of the request being served (page render or server function call), if its session cookie
/// (the `__Host-` one when cookies are Secure) presents a well-formed token.
pub fn presented_session() -> Option<SessionKey> {
    let parts = use_context::<Parts>()?;
    let secure = with_context::<AppState, _>(|state| state.secure_cookies).unwrap_or(false);
    sessions::presented_token(&parts.headers, secure).map(SessionKey::of_token)
}

/// Asks the permission `rule` (one of `authz`'s) whether `principal` may go on. A refusal (403) is logged as a
/// security event with the request's path, whether a page render or a server function call asked.
pub fn authorize(
    principal: &Principal,
    rule: impl FnOnce(&Principal) -> Result<(), AppError>,
) -> Result<(), AppError> {
    rule(principal).inspect_err(|refusal| {
        if refusal.status() == 403 {
            SecurityEvent::of_request(EventKind::AccessRefused)
                .user(principal.user_id, principal.account_id)
                .status(refusal.status())
                .emit();
        }
    })
}

/// The signed-in user, read fresh from the database; `Unauthorized` when nobody is signed in.
pub async fn current_principal() -> Result<Principal, AppError> {
    current_principal_if_any()
        .await?
        .ok_or(AppError::Unauthorized)
}

/// The principal of the request being served, read at most once per request: a page render calls several
/// server functions, and they all see the same user. Each request gets a new one (see `server::http`), so a
/// changed permission still applies on the very next request. The read is a shared future, not a lock: each
/// caller that awaits it drives it, so two parts of a render that both wait for the user (the layout and a
/// page, each in its own `Suspense`) never wait for one another, whichever the renderer polls first.
#[derive(Clone, Default)]
pub struct RequestPrincipal(std::sync::Arc<std::sync::OnceLock<PrincipalRead>>);

type PrincipalRead = Shared<BoxFuture<'static, Result<Option<Principal>, AppError>>>;

/// Like `current_principal`, but signed out is `None` rather than an error.
pub async fn current_principal_if_any() -> Result<Option<Principal>, AppError> {
    match use_context::<RequestPrincipal>() {
        Some(cached) => {
            cached
                .0
                .get_or_init(|| load_principal().shared())
                .clone()
                .await
        }
        None => load_principal().await,
    }
}

/// Reads the request's session cookie and the state now, and the session from the database when awaited.
fn load_principal() -> BoxFuture<'static, Result<Option<Principal>, AppError>> {
    let Some(key) = presented_session() else {
        return async { Ok(None) }.boxed();
    };
    let state = app_state();
    async move {
        let pool = state?.pool;
        let found = db::sessions::principal(&pool, &key)
            .await
            .map_err(db_failure)?;
        admit(&pool, &key, found).await
    }
    .boxed()
}

/// The principal of a plain HTTP route's request (a download, outside the server functions): the user whose
/// session cookie `headers` present, or `None` when there is none or it has ended.
pub async fn principal_of_headers(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Principal>, AppError> {
    let Some(key) =
        sessions::presented_token(headers, state.secure_cookies).map(SessionKey::of_token)
    else {
        return Ok(None);
    };
    let found = db::sessions::principal(&state.pool, &key)
        .await
        .map_err(db_failure)?;
    admit(&state.pool, &key, found).await
}

/// The principal a session lookup found (alone, or in the same statement as a read's rows), after moving the
/// session's end forward when it is due.
pub async fn admit(
    pool: &PgPool,
    key: &SessionKey,
    found: Option<SessionPrincipal>,
) -> Result<Option<Principal>, AppError> {
    let Some(found) = found else {
        return Ok(None);
    };
    if found.due_for_renewal {
        db::sessions::renew(pool, key).await.map_err(db_failure)?;
    }
    Ok(Some(found.principal))
}

/// Every ten minutes, deletes the sessions that expired, the failed sign-ins the rate limit no longer counts,
/// the known browsers whose cookie has expired and the saved searches that expired.
pub async fn forget_expired_state(pool: PgPool) {
    loop {
        if let Err(err) = db::saved_searches::delete_expired(&pool).await {
            tracing::warn!(error = %err, "deleting expired saved searches failed");
        }
        if let Err(err) = db::sessions::delete_expired(&pool).await {
            tracing::warn!(error = %err, "deleting expired sessions failed");
        }
        if let Err(err) = db::sign_in::forget_old_sign_in_records(&pool, LOGIN_WINDOW_MINUTES).await
        {
            tracing::warn!(error = %err, "deleting old sign-in records failed");
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

/// A valid Argon2id hash of a random string, verified against when the email is unknown so that both
/// failures take as long.
const UNKNOWN_USER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ht0gRjJ3DEsxqz9Bp+1b1v0w1mF1+7yKQ2xFJ9dU3zE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let digest = hash_password("demo-password").unwrap();
        assert!(digest.as_str().starts_with("$argon2id$"));
        assert!(verify_password("demo-password", digest.as_str()));
        assert!(!verify_password("demo-passwore", digest.as_str()));
    }

    #[test]
    fn a_malformed_stored_hash_never_verifies() {
        assert!(!verify_password("anything", "not-a-hash"));
        assert!(!verify_password("anything", UNKNOWN_USER_HASH));
    }

    #[test]
    fn the_unknown_user_hash_parses_so_it_costs_a_real_verification() {
        assert!(PasswordHash::new(UNKNOWN_USER_HASH).is_ok());
    }
}
