//! The cross-site request guard over HTTP: a request with the session cookie but neither `Origin` nor
//! `Sec-Fetch-Site` is refused, server functions take only form-encoded bodies, `Origin` is compared with the
//! configured public origin (never with the `Host` the sender chose), and a plain form's call is answered,
//! not redirected to its `Referer`. Each refused request leaves the database as it was.

mod common;

use common::*;
use reqwest::StatusCode;
use sqlx::PgPool;

/// The `Cookie` header of a session of `email`.
async fn session_cookie_of(console: &Console, email: &str) -> String {
    let line = session_cookie_line(console, email).await;
    line.split(';').next().expect("name=value").to_owned()
}

#[sqlx::test]
async fn a_request_with_the_session_cookie_but_neither_origin_header_is_refused(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let (lead, _) = jordans(&console).await;
    let cookie = session_cookie_of(&console, ALEX).await;
    let before = console.snapshot().await;
    let bare = bare_client()
        .post(console.url("/api/customers/erase"))
        .header("cookie", &cookie)
        .form(&[
            ("customer_id", lead.to_string().as_str()),
            ("confirmation", "DELETE"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    assert_eq!(console.snapshot().await, before, "nothing was erased");

    let viewer = viewer_presenting(&console, &cookie).await;
    assert_eq!(
        viewer["email"],
        serde_json::json!(ALEX),
        "the same cookie from the console's page works"
    );
}

#[sqlx::test]
async fn server_functions_take_only_form_encoded_bodies(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let before = console.snapshot().await;
    let body = format!("customer_id={lead}&confirmation=DELETE");
    for content_type in [
        "text/plain",
        "text/plain; charset=UTF-8",
        "multipart/form-data; boundary=x",
        "application/json",
    ] {
        let response = alex
            .http
            .post(console.url("/api/customers/erase"))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        let refusal: serde_json::Value = response.json().await.unwrap();
        assert!(refusal["Invalid"].is_string(), "{content_type}: {refusal}");
    }
    let untyped = alex
        .http
        .post(console.url("/api/customers/erase"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(console.snapshot().await, before, "nothing was erased");

    let erased = alex
        .http
        .post(console.url("/api/customers/erase"))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        erased.status(),
        StatusCode::OK,
        "the form type with a charset is a form"
    );
}

#[sqlx::test]
async fn the_origin_is_compared_with_the_public_origin_not_the_host_header(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let before = console.snapshot().await;
    let rebound = alex
        .http
        .post(console.url("/api/settings/customer-data"))
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .form(&[("enabled", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        rebound.status(),
        StatusCode::FORBIDDEN,
        "an origin matching the Host the sender chose is still foreign"
    );
    assert_eq!(console.snapshot().await, before);
}

#[sqlx::test]
async fn a_console_behind_a_proxy_takes_requests_from_its_public_origin_only(pool: PgPool) {
    let console = Console::start_configured(pool, |web| {
        web.public_origin = "https://console.example".into();
    })
    .await;
    let login = |origin: &'static str| {
        bare_client()
            .post(console.url("/api/auth/login"))
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .form(&[("email", ALEX), ("password", PASSWORD)])
            .send()
    };
    assert_eq!(
        login("https://console.example").await.unwrap().status(),
        StatusCode::OK
    );
    let host_origin: &'static str = Box::leak(console.base.clone().into_boxed_str());
    assert_eq!(
        login(host_origin).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "the address the console listens on is not where browsers reach it"
    );
}

#[sqlx::test]
async fn a_plain_form_post_is_answered_and_not_sent_on_to_its_referer(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let (lead, _) = jordans(&console).await;
    let mut alex = browser_headers(&console.base);
    let cookie = session_cookie_of(&console, ALEX).await;
    alex.insert("cookie", cookie.parse().unwrap());
    let as_a_plain_form = |path: &str, form: Vec<(&'static str, String)>| {
        bare_client()
            .post(console.url(path))
            .headers(alex.clone())
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("referer", "https://phish.example/sign-in-again")
            .form(&form)
            .send()
    };
    let succeeded = as_a_plain_form("/api/auth/viewer", vec![]).await.unwrap();
    let failed = as_a_plain_form(
        "/api/customers/erase",
        vec![
            ("customer_id", lead.to_string()),
            ("confirmation", "delete".into()),
        ],
    )
    .await
    .unwrap();
    for (response, status) in [
        (succeeded, StatusCode::OK),
        (failed, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        assert_eq!(response.status(), status);
        assert_eq!(response.headers().get("location"), None, "no redirect");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert!(answer.is_object(), "the answer itself: {answer}");
    }
}
