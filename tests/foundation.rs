//! The foundation against a real Postgres: migrations, demo data, sign-in and sessions, cookies, the
//! cross-site guard, the login rate limit, response compression and the connection pool's liveness check.

mod common;

use common::*;
use customer_data_console::model::Role;
use customer_data_console::server::auth;
use customer_data_console::server::db::{self, MIGRATOR};
use customer_data_console::server::demo;
use customer_data_console::server::sessions::SessionKey;
use customer_data_console::server::storage::Storage;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;

#[sqlx::test(migrations = false)]
async fn migrations_apply_to_an_empty_database(pool: PgPool) {
    MIGRATOR.run(&pool).await.expect("migrations apply");
    let tables: Vec<String> = column(
        &pool,
        "select table_name::text from information_schema.tables where table_schema = 'public' order by 1",
    )
    .await;
    for expected in [
        "accounts",
        "audit_log",
        "calls",
        "customers",
        "erasures",
        "known_browsers",
        "login_failures",
        "messages",
        "object_deletions",
        "sessions",
        "users",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "missing table {expected}: {tables:?}"
        );
    }
    MIGRATOR.run(&pool).await.expect("a second run is a no-op");
}

#[sqlx::test]
async fn seeding_the_demo_twice_leaves_the_same_rows(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path()).unwrap();
    let keyring = test_keyring(&pool, dir.path()).await;
    let first = demo::seed(&pool, &storage, &keyring).await.unwrap();
    assert_eq!(first.users, 4);
    assert!(first.customers >= 60 && first.calls > 50 && first.messages > 50 && first.files > 10);
    let counts = |pool: PgPool| async move {
        sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(
            "select (select count(*) from accounts), (select count(*) from users), (select count(*) from customers),
                    (select count(*) from calls), (select count(*) from messages)",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let before = counts(pool.clone()).await;
    let second = demo::seed(&pool, &storage, &keyring).await.unwrap();
    assert_eq!(second, demo::SeedReport::default());
    assert_eq!(counts(pool.clone()).await, before);
    let jordans: i64 = scalar_for(
        &pool,
        "select count(*) from customers where email = $1",
        JORDAN,
    )
    .await;
    assert_eq!(jordans, 2);
}

/// Every cookie the sign-in sets (the session's and, for a browser new to the user, the known-browser one).
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("Set-Cookie headers are ASCII").to_owned())
        .collect()
}

#[sqlx::test]
async fn sign_in_sets_a_strict_http_only_session_cookie(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    let response = client.sign_in(ALEX).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(&response);
    let names: Vec<&str> = cookies
        .iter()
        .map(|c| c.split('=').next().unwrap())
        .collect();
    assert_eq!(names, ["cdc_browser", "cdc_session"]);
    for cookie in &cookies {
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(
            !cookie.contains("Secure"),
            "plain http must not mark the cookie Secure: {cookie}"
        );
    }
    let (status, viewer) = client.post("/api/auth/viewer", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(viewer["email"], json!(ALEX));
    assert_eq!(viewer["can_use_admin_console"], json!(true));
}

#[sqlx::test]
async fn over_https_the_cookie_is_secure(pool: PgPool) {
    let console = Console::start_with(pool, true).await;
    let response = console.anonymous().sign_in(ALEX).await;
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 2);
    for cookie in cookies {
        assert!(cookie.ends_with("; Secure"), "{cookie}");
    }
}

#[sqlx::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    let (wrong_password_status, wrong_password) = client
        .post(
            "/api/auth/login",
            &[("email", ALEX), ("password", "not-the-password")],
        )
        .await;
    let (unknown_status, unknown) = client
        .post(
            "/api/auth/login",
            &[("email", "nobody@acme.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(wrong_password_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, unknown);
    let (_, viewer) = client.post("/api/auth/viewer", &[]).await;
    assert_eq!(
        viewer,
        json!(null),
        "a failed sign-in must not sign anyone in"
    );
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix("cdc_session=")
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
        .expect("session cookie")
}

/// Signs in as `email` through `client` and returns the session token its answer set.
async fn sign_in_token(client: &Client, email: &str) -> String {
    session_cookie(&client.sign_in(email).await)
}

async fn viewer_with_cookie(console: &Console, cookie: &str) -> serde_json::Value {
    viewer_presenting(console, &format!("cdc_session={cookie}")).await
}

#[sqlx::test]
async fn sign_in_renews_the_session_id_and_sign_out_ends_it_on_the_server(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    let first = sign_in_token(&client, ALEX).await;
    let second = sign_in_token(&client, ALEX).await;
    assert_ne!(first, second, "signing in must issue a new session id");
    assert_eq!(
        viewer_with_cookie(&console, &first).await,
        json!(null),
        "the old id no longer signs anyone in"
    );
    assert_eq!(
        viewer_with_cookie(&console, &second).await["email"],
        json!(ALEX)
    );

    let (status, _) = client.post("/api/auth/logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        viewer_with_cookie(&console, &second).await,
        json!(null),
        "a signed-out cookie must not work"
    );
}

#[sqlx::test]
async fn the_database_keeps_only_a_hash_of_the_session_token(pool: PgPool) {
    let console = Console::start(pool.clone()).await;
    let token = sign_in_token(&console.anonymous(), ALEX).await;
    let stored: Vec<Vec<u8>> = column(&pool, "select token_hash from sessions").await;
    assert_eq!(
        stored,
        vec![SessionKey::of_token(&token).as_bytes().to_vec()]
    );
    let dump: String = scalar(&pool, "select string_agg(s::text, ' ') from sessions s").await;
    assert!(!dump.contains(&token), "the token itself is stored: {dump}");
}

#[sqlx::test]
async fn an_expired_session_signs_nobody_in(pool: PgPool) {
    let console = Console::start(pool.clone()).await;
    let token = sign_in_token(&console.anonymous(), ALEX).await;
    assert_eq!(
        viewer_with_cookie(&console, &token).await["email"],
        json!(ALEX)
    );
    sqlx::query("update sessions set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(viewer_with_cookie(&console, &token).await, json!(null));
    let response = reqwest::Client::new()
        .post(console.url("/api/customers/search"))
        .headers(browser_headers(&console.base))
        .header("cookie", format!("cdc_session={token}"))
        .form(&[("query", JORDAN)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(db::sessions::delete_expired(&pool).await.unwrap(), 1);
}

#[sqlx::test]
async fn a_session_in_use_moves_its_end_forward_at_most_once_an_hour(pool: PgPool) {
    let console = Console::start(pool.clone()).await;
    let token = sign_in_token(&console.anonymous(), ALEX).await;
    let hours_left = || async {
        scalar::<f64>(
            &pool,
            "select extract(epoch from expires_at - now())::float8 / 3600 from sessions",
        )
        .await
    };
    assert!(hours_left().await > 7.9);
    sqlx::query("update sessions set expires_at = now() + interval '7 hours 30 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    viewer_with_cookie(&console, &token).await;
    let untouched = hours_left().await;
    assert!(
        (7.4..7.6).contains(&untouched),
        "renewed too early: {untouched}"
    );
    sqlx::query("update sessions set expires_at = now() + interval '2 hours'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        viewer_with_cookie(&console, &token).await["email"],
        json!(ALEX)
    );
    assert!(hours_left().await > 7.9, "a session in use must be renewed");
}

#[sqlx::test]
async fn deleting_a_user_ends_their_sessions(pool: PgPool) {
    let console = Console::start(pool.clone()).await;
    let account: uuid::Uuid =
        scalar_for(&pool, "select account_id from users where email = $1", ALEX).await;
    let hash = auth::hash_password(PASSWORD).unwrap();
    let email = "dana.admin@acme.example";
    db::users::create(
        &pool,
        account,
        "Dana Admin",
        email,
        Role::Admin,
        None,
        hash.as_str(),
    )
    .await
    .unwrap()
    .expect("a new user");
    let token = sign_in_token(&console.anonymous(), email).await;
    assert_eq!(
        viewer_with_cookie(&console, &token).await["email"],
        json!(email)
    );
    sqlx::query("delete from users where email = $1")
        .bind(email)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(viewer_with_cookie(&console, &token).await, json!(null));
    let sessions: i64 = scalar(&pool, "select count(*) from sessions").await;
    assert_eq!(sessions, 0);
}

#[sqlx::test]
async fn cross_site_posts_are_refused_and_same_site_posts_work(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    let form = [("email", ALEX), ("password", PASSWORD)];
    let cross_site = [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ];
    let foreign = client
        .post_with_headers("/api/auth/login", &cross_site, &form)
        .await;
    assert_eq!(foreign, StatusCode::FORBIDDEN);
    assert_eq!(client.post("/api/auth/viewer", &[]).await.1, json!(null));

    let same_site = [
        ("origin", console.base.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let same = client
        .post_with_headers("/api/auth/login", &same_site, &form)
        .await;
    assert_eq!(same, StatusCode::OK);

    let alex = console.signed_in(ALEX).await;
    let before = console.snapshot().await;
    let forged = alex
        .post_with_headers(
            "/api/settings/customer-data",
            &[("origin", "http://evil.example")],
            &[("enabled", "true")],
        )
        .await;
    assert_eq!(forged, StatusCode::FORBIDDEN);
    assert_eq!(console.snapshot().await, before);
}

#[sqlx::test]
async fn a_get_to_an_endpoint_does_nothing(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let before = console.snapshot().await;
    let (status, _) = alex.get("/api/settings/customer-data?enabled=true").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(console.snapshot().await, before);
}

#[sqlx::test]
async fn repeated_failures_are_rate_limited_and_the_limit_expires(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    for _ in 0..customer_data_console::server::auth::LOGIN_FAILURE_LIMIT {
        let (status, _) = client
            .post(
                "/api/auth/login",
                &[("email", BLAIR), ("password", "guess")],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = client
        .post(
            "/api/auth/login",
            &[("email", BLAIR), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the limit"
    );
    sqlx::query("update login_failures set failed_at = failed_at - interval '1 hour'")
        .execute(&console.pool)
        .await
        .unwrap();
    let forgotten = customer_data_console::server::db::sign_in::forget_old_sign_in_records(
        &console.pool,
        customer_data_console::server::auth::LOGIN_WINDOW_MINUTES,
    )
    .await
    .unwrap();
    assert_eq!(
        forgotten, 10,
        "failures the limit no longer counts are deleted"
    );
    let (status, _) = client
        .post(
            "/api/auth/login",
            &[("email", BLAIR), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// Wrong passwords sent from elsewhere lock out only browsers that never signed in as that user: the user's own
/// browser still signs in, and its own failures are counted apart. The database keeps only the browser token's
/// hash.
#[sqlx::test]
async fn failures_from_elsewhere_do_not_lock_a_user_out_of_the_browser_they_use(pool: PgPool) {
    let console = Console::start(pool).await;
    let limit = customer_data_console::server::auth::LOGIN_FAILURE_LIMIT;
    let sign_in = |client: &Client, password: &'static str| {
        let client = client.clone();
        async move {
            client
                .post_status(
                    "/api/auth/login",
                    &[("email", BLAIR), ("password", password)],
                )
                .await
        }
    };
    let blairs_browser = console.signed_in(BLAIR).await;
    let elsewhere = console.anonymous();
    for _ in 0..limit {
        assert_eq!(sign_in(&elsewhere, "guess").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in(&elsewhere, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(sign_in(&blairs_browser, PASSWORD).await, StatusCode::OK);

    let alexs_browser = console.signed_in(ALEX).await;
    assert_eq!(
        sign_in(&alexs_browser, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a browser known for another user counts with the unknown ones"
    );

    for _ in 0..limit {
        assert_eq!(
            sign_in(&blairs_browser, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in(&blairs_browser, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    let blair = console.user_id(BLAIR).await;
    let stored = console.token_hashes("known_browsers", blair).await;
    assert_eq!(
        stored.len(),
        1,
        "one known browser: the one Blair signed in with"
    );
    assert_eq!(stored[0].len(), 32);
}

#[sqlx::test]
async fn pages_render_on_the_server_by_role(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.signed_in(ALEX).await;
    let (status, html) = alex.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Alex Admin") && html.contains(r#"href="/users""#),
        "{html}"
    );
    assert!(
        !html.contains(r#"href="/customers""#),
        "no Customer Data entry without the permission"
    );

    let casey = console.signed_in(CASEY).await;
    let (_, html) = casey.get("/").await;
    assert!(html.contains("This console is for Admins"));
    assert!(!html.contains(r#"href="/admin""#));

    let (_, html) = console.anonymous().get("/admin").await;
    assert!(
        !html.contains("General Settings"),
        "signed-out visitors see no admin page"
    );
}

/// Pages go compressed to a browser that accepts it; an answer too small to gain from it (a search finding
/// Jordan's two records) goes as it is.
#[sqlx::test]
async fn pages_are_compressed_and_small_answers_are_not(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let search = alex
        .http
        .post(console.url("/api/customers/search"))
        .header("accept-encoding", "br, gzip")
        .form(&[("query", JORDAN)])
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), StatusCode::OK);
    assert_eq!(search.headers().get("content-encoding"), None);
    let found: serde_json::Value = serde_json::from_str(&search.text().await.unwrap()).unwrap();
    assert_eq!(
        found["records"].as_array().map(Vec::len),
        Some(2),
        "{found}"
    );

    let page = alex
        .http
        .get(console.url("/customers"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers().get("content-encoding").unwrap(), "br");
}

/// A one-connection pool built with the console's settings, whose connection, once back in the pool, has its
/// server process ended from outside (as a database restart would).
async fn pool_with_a_dropped_connection(test_pool: &PgPool, ping_after_idle: Duration) -> PgPool {
    let pool = db::pool_options(ping_after_idle)
        .max_connections(1)
        .connect_with((*test_pool.connect_options()).clone())
        .await
        .expect("a one-connection pool to the test database");
    let pid: i32 = scalar(&pool, "select pg_backend_pid()").await;
    tokio::time::timeout(Duration::from_secs(5), async {
        while pool.num_idle() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the connection returns to the pool");
    let ended: bool = scalar_for(test_pool, "select pg_terminate_backend($1, 5000)", pid).await;
    assert!(ended);
    pool
}

#[sqlx::test]
async fn a_connection_dropped_and_idle_past_the_threshold_is_checked_and_replaced(pool: PgPool) {
    let console_pool = pool_with_a_dropped_connection(&pool, db::PING_AFTER_IDLE).await;
    tokio::time::sleep(db::PING_AFTER_IDLE).await;
    let answer: i32 = scalar(&console_pool, "select 1").await;
    assert_eq!(answer, 1);
}

#[sqlx::test]
async fn a_connection_used_within_the_threshold_is_handed_out_without_a_check(pool: PgPool) {
    let console_pool = pool_with_a_dropped_connection(&pool, Duration::from_secs(3600)).await;
    assert!(
        sqlx::query_scalar::<_, i32>("select 1")
            .fetch_one(&console_pool)
            .await
            .is_err(),
        "no round trip checks a connection that was just used"
    );
    let answer: i32 = scalar(&console_pool, "select 1").await;
    assert_eq!(answer, 1, "the broken connection was dropped, not reused");
}
