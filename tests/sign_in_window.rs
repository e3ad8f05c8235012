//! The sign-in rate limit's window as the database holds it, without the clean-up job: failures 14 minutes old
//! still count, 16 minutes old no longer do. And what the database keeps of a browser's sign-in: the SHA-256
//! of each cookie's token, never the token itself.

mod common;

use common::*;
use customer_data_console::server::auth::LOGIN_FAILURE_LIMIT;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Signs in as Blair with `password` from `client`.
async fn sign_in_as_blair(client: &Client, password: &str) -> StatusCode {
    client
        .post_status(
            "/api/auth/login",
            &[("email", BLAIR), ("password", password)],
        )
        .await
}

/// Dates every failed sign-in `minutes` ago.
async fn age_failures(console: &Console, minutes: i32) {
    sqlx::query("update login_failures set failed_at = now() - make_interval(mins => $1)")
        .bind(minutes)
        .execute(&console.pool)
        .await
        .expect("the failures can be dated back");
}

#[sqlx::test]
async fn failures_count_for_fifteen_minutes_without_the_clean_up_job(pool: PgPool) {
    let console = Console::start(pool).await;
    let elsewhere = console.anonymous();
    for _ in 0..LOGIN_FAILURE_LIMIT {
        assert_eq!(
            sign_in_as_blair(&elsewhere, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }

    age_failures(&console, 14).await;
    assert_eq!(
        sign_in_as_blair(&elsewhere, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "failures 14 minutes old still count"
    );

    age_failures(&console, 16).await;
    let kept: i64 = scalar(&console.pool, "select count(*) from login_failures").await;
    assert_eq!(
        kept, LOGIN_FAILURE_LIMIT,
        "no clean-up removed the failures: the window alone lets the sign-in through"
    );
    assert_eq!(
        sign_in_as_blair(&elsewhere, PASSWORD).await,
        StatusCode::OK,
        "failures 16 minutes old no longer count"
    );
}

/// The value `response` sets for cookie `name`.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

#[sqlx::test]
async fn the_database_keeps_the_sha256_of_each_cookie_and_never_the_token(pool: PgPool) {
    let console = Console::start(pool).await;
    let response = console.anonymous().sign_in(BLAIR).await;
    assert_eq!(response.status(), StatusCode::OK);
    let browser = cookie(&response, "cdc_browser");
    let session = cookie(&response, "cdc_session");
    assert_ne!(browser, session);

    let blair = console.user_id(BLAIR).await;
    let known = console.token_hashes("known_browsers", blair).await;
    assert_eq!(known, vec![Sha256::digest(browser.as_bytes()).to_vec()]);
    let sessions = console.token_hashes("sessions", blair).await;
    assert_eq!(sessions, vec![Sha256::digest(session.as_bytes()).to_vec()]);

    let tables: Vec<String> = column(
        &console.pool,
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE'",
    )
    .await;
    assert!(tables.len() >= 11, "{tables:?}");
    for table in tables {
        for token in [&browser, &session] {
            let sql = format!(
                "select count(*) from {table} t where strpos(t::text, $1) > 0 or strpos(t::text, upper($1)) > 0"
            );
            let found: i64 = scalar_for(&console.pool, &sql, token.as_str()).await;
            assert_eq!(found, 0, "{table} stores a cookie's token");
        }
    }
}
