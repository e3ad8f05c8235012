//! Sign-in records: the login look-up by email, sign-in attempts (the rate limit reserves and counts them per
//! email and browser, and per client), the browsers each user signed in with, and forgetting what the limit
//! and the cookies no longer need.

use sqlx::PgPool;
use uuid::Uuid;

use crate::server::sessions::{BROWSER_COOKIE_MAX_AGE_SECS, BrowserKey};

/// What a sign-in needs of the user an email names.
pub struct LoginRow {
    /// The user's id.
    pub id: Uuid,
    /// The user's account.
    pub account_id: Uuid,
    /// The user's Argon2id password hash (PHC string), checked against the password typed.
    pub password_hash: String,
}

/// The user signing in with `email`, compared case-insensitively by Postgres.
pub async fn find_login(pool: &PgPool, email: &str) -> sqlx::Result<Option<LoginRow>> {
    sqlx::query_as!(
        LoginRow,
        "select id, account_id, password_hash from users where lower(email) = lower($1)",
        email
    )
    .fetch_optional(pool)
    .await
}

/// A sign-in attempt reserved against the limit before its password check (a pending row of `login_failures`).
pub struct ReservedAttempt(i64);

/// How many attempts (failed, or still being checked) the window allows.
pub struct AttemptLimits {
    /// How far back attempts count, in minutes.
    pub window_minutes: i64,
    /// Per email and browser: apart for each known browser of the user, once for all other browsers.
    pub per_email: i64,
    /// Per client across all emails; an attempt from a known browser of the user is not held to it.
    pub per_client: i64,
}

/// Reserves an attempt for `email` by client `client_key` from known browser `browser` of that user (`None`:
/// from any other browser), unless the window's attempts reached one of the `limits`. The email's key is
/// `lower(email)` as Postgres computes it, the way `find_login` matches, so every spelling that finds one user
/// counts under one key (Rust's `to_lowercase` differs from it, for `İ` for one). Advisory locks on the
/// email's and the client's keys (taken in that order) make simultaneous sign-ins for one email or from one
/// client count one after another, so none can pass a limit. Answers the email's key, and the attempt or `None`
/// when a limit is reached.
pub async fn reserve_attempt(
    pool: &PgPool,
    email: &str,
    browser: Option<&BrowserKey>,
    client_key: &str,
    limits: &AttemptLimits,
) -> sqlx::Result<(String, Option<ReservedAttempt>)> {
    let mut tx = pool.begin().await?;
    let email_key = sqlx::query_scalar!(
        r#"select lower($1) as "email_key!"
           from (select pg_advisory_xact_lock(hashtextextended('sign-in email ' || lower($1), 0))) as locked"#,
        email
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('sign-in client ' || $1, 0))",
        client_key
    )
    .execute(&mut *tx)
    .await?;
    let sql = format!(
        "insert into login_failures (email_key, browser_hash, client_key, pending)
         select lower($1), $2, $3, true
         where (select count(*) from login_failures
                where email_key = lower($1) and {} and failed_at > now() - make_interval(mins => $4::int)) < $5
           and ($2::bytea is not null
                or (select count(*) from login_failures
                    where client_key = $3 and failed_at > now() - make_interval(mins => $4::int)) < $6)
         returning id",
        browser_condition(browser)
    );
    let reserved = sqlx::query_scalar(&sql)
        .bind(email)
        .bind(browser.map(BrowserKey::as_bytes))
        .bind(client_key)
        .bind(limits.window_minutes)
        .bind(limits.per_email)
        .bind(limits.per_client)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((email_key, reserved.map(ReservedAttempt)))
}

/// The reserved attempt's password was wrong: it stays counted, as a failure.
pub async fn record_failure(pool: &PgPool, attempt: ReservedAttempt) -> sqlx::Result<()> {
    sqlx::query!(
        "update login_failures set pending = false where id = $1",
        attempt.0
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The reserved attempt signed in, or was never checked: it no longer counts (failures before it still do).
pub async fn forget_attempt(pool: &PgPool, attempt: ReservedAttempt) -> sqlx::Result<()> {
    sqlx::query!("delete from login_failures where id = $1", attempt.0)
        .execute(pool)
        .await?;
    Ok(())
}

/// `$2` is the browser's key, or null for the failures of unknown browsers (two forms, so both use the index).
fn browser_condition(browser: Option<&BrowserKey>) -> &'static str {
    match browser {
        Some(_) => "browser_hash = $2",
        None => "browser_hash is null and $2::bytea is null",
    }
}

/// Whether `browser` is a known browser of user `user_id` (one it signed in with).
pub async fn is_known_browser(
    pool: &PgPool,
    browser: &BrowserKey,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from known_browsers where token_hash = $1 and user_id = $2) as "known!""#,
        browser.as_bytes(),
        user_id
    )
    .fetch_one(pool)
    .await
}

/// Records `browser` as a known browser of user `user_id`.
pub async fn add_known_browser(
    pool: &PgPool,
    browser: &BrowserKey,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into known_browsers (token_hash, user_id) values ($1, $2)",
        browser.as_bytes(),
        user_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes login failures older than `window_minutes` and known browsers older than their cookie; returns how
/// many rows went.
pub async fn forget_old_sign_in_records(pool: &PgPool, window_minutes: i64) -> sqlx::Result<u64> {
    let failures = sqlx::query!(
        "delete from login_failures where failed_at <= now() - make_interval(mins => $1::bigint::int)",
        window_minutes
    )
    .execute(pool)
    .await?
    .rows_affected();
    let browsers = sqlx::query!(
        "delete from known_browsers where created_at <= now() - make_interval(secs => $1)",
        BROWSER_COOKIE_MAX_AGE_SECS as f64
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(failures + browsers)
}
