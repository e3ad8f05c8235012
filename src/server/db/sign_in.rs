//! Sign-in records: the login look-up by email, failed sign-ins (the rate limit counts them per email and
//! browser), the browsers each user signed in with, and forgetting what the limit and the cookies no longer need.

use sqlx::PgPool;
use uuid::Uuid;

use crate::server::sessions::{BROWSER_COOKIE_MAX_AGE_SECS, BrowserKey};

pub struct LoginRow {
    pub id: Uuid,
    pub password_hash: String,
}

/// The user signing in with `email`, compared case-insensitively by Postgres.
pub async fn find_login(pool: &PgPool, email: &str) -> sqlx::Result<Option<LoginRow>> {
    sqlx::query_as!(
        LoginRow,
        "select id, password_hash from users where lower(email) = lower($1)",
        email
    )
    .fetch_optional(pool)
    .await
}

/// The failed sign-ins for `email_key` within the last `window_minutes`, from known browser `browser` of that
/// user, or with `None` from every other browser.
pub async fn recent_login_failures(
    pool: &PgPool,
    email_key: &str,
    browser: Option<&BrowserKey>,
    window_minutes: i64,
) -> sqlx::Result<i64> {
    let sql = format!(
        "select count(*) from login_failures
         where email_key = $1 and {} and failed_at > now() - make_interval(mins => $3::int)",
        browser_condition(browser)
    );
    sqlx::query_scalar(&sql)
        .bind(email_key)
        .bind(browser.map(BrowserKey::as_bytes))
        .bind(window_minutes)
        .fetch_one(pool)
        .await
}

pub async fn record_login_failure(
    pool: &PgPool,
    email_key: &str,
    browser: Option<&BrowserKey>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into login_failures (email_key, browser_hash) values ($1, $2)",
        email_key,
        browser.map(BrowserKey::as_bytes)
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the failures counted against the browser that just signed in (`None`: every unknown browser).
pub async fn clear_login_failures(
    pool: &PgPool,
    email_key: &str,
    browser: Option<&BrowserKey>,
) -> sqlx::Result<()> {
    let sql = format!(
        "delete from login_failures where email_key = $1 and {}",
        browser_condition(browser)
    );
    sqlx::query(&sql)
        .bind(email_key)
        .bind(browser.map(BrowserKey::as_bytes))
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
