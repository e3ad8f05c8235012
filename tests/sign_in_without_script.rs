//! Signing in with JavaScript off: the sign-in page's form posts itself to `/api/auth/login`, whose answer to
//! the browser's own submission is a 303 to the console, or back to the sign-in page with the refusal's status
//! (never the email or the password) for the page to say what went wrong. Scripts still get JSON. A page that
//! sent a signed-out visitor to sign in (`/login?next=<path>`) is where the sign-in goes, when it is a page of
//! the console.

mod common;

use common::*;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Submits the sign-in form as the browser does itself, and returns the status and `Location` of the answer.
async fn submit(
    client: &Client,
    console: &Console,
    email: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    submit_form(client, console, &[("email", email), ("password", password)]).await
}

/// Submits the sign-in form with `fields`, as the browser does itself: the status and `Location` of the answer.
async fn submit_form(
    client: &Client,
    console: &Console,
    fields: &[(&str, &str)],
) -> (StatusCode, Option<String>) {
    let response = client
        .http
        .post(console.url("/api/auth/login"))
        .header("sec-fetch-mode", "navigate")
        .form(fields)
        .send()
        .await
        .expect("request");
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().expect("ASCII").to_owned());
    (response.status(), location)
}

#[sqlx::test]
async fn the_sign_in_page_is_a_form_that_posts_and_works_before_the_wasm(pool: PgPool) {
    let console = Console::start(pool).await;
    let (status, html) = console.anonymous().get("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("action=\"/api/auth/login\" method=\"post\""),
        "{html}"
    );
    let button = html.split("<button").nth(1).expect("a button");
    assert!(
        !button
            .split('>')
            .next()
            .unwrap_or_default()
            .contains("disabled"),
        "the button works without the wasm: {button}"
    );
}

#[sqlx::test]
async fn a_plain_form_sign_in_goes_to_the_console_with_a_session(pool: PgPool) {
    let console = Console::start(pool).await;
    let browser = console.client_without_redirects();
    assert_eq!(
        submit(&browser, &console, ALEX, PASSWORD).await,
        (StatusCode::SEE_OTHER, Some("/".to_owned()))
    );
    let (status, home) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Alex Admin"), "signed in: {home}");
}

#[sqlx::test]
async fn a_refused_plain_form_sign_in_comes_back_saying_why_with_nothing_typed_in_the_url(
    pool: PgPool,
) {
    let console = Console::start(pool).await;
    let browser = console.client_without_redirects();
    for (email, password, refused, message) in [
        (ALEX, "wrong-password", "401", "Wrong email or password."),
        (ALEX, "", "422", "Enter your email and password."),
    ] {
        let (status, location) = submit(&browser, &console, email, password).await;
        let location = location.expect("a Location");
        assert_eq!(
            (status, location.as_str()),
            (
                StatusCode::SEE_OTHER,
                format!("/login?refused={refused}").as_str()
            )
        );
        let (status, html) = browser.get(&location).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(message), "{refused}: {html}");
        assert!(html.contains("role=\"alert\""), "{refused}");
    }
    console.take_login_failures().await;
    let (status, body) = browser
        .post(
            "/api/auth/login",
            &[("email", ALEX), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a script still gets JSON: {body}"
    );
    let (_, html) = browser.get("/login?refused=abc").await;
    assert!(
        !html.contains("role=\"alert\""),
        "an unknown status shows nothing"
    );
}

#[sqlx::test]
async fn a_plain_form_sign_out_ends_the_session_and_goes_to_the_sign_in_page(pool: PgPool) {
    let console = Console::start(pool).await;
    let browser = console.client_without_redirects();
    submit(&browser, &console, ALEX, PASSWORD).await;
    let (_, home) = browser.get("/").await;
    assert!(
        home.contains("action=\"/api/auth/logout\" method=\"post\""),
        "sign-out is a form"
    );
    assert!(
        home.contains("class=\"notice notice-warning scripting-off\"")
            && home.contains("JavaScript is off."),
        "the page says what needs JavaScript"
    );
    let marked = home
        .find("setAttribute(\"data-scripting\"")
        .expect("the head's script marks the page");
    assert!(
        marked < home.find("<body").expect("a body"),
        "the head's first script hides the notice before the body is parsed"
    );
    for _ in 0..2 {
        let response = browser
            .http
            .post(console.url("/api/auth/logout"))
            .header("sec-fetch-mode", "navigate")
            .form(NO_FIELDS)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/login");
    }
    let sessions: i64 = scalar(&console.pool, "select count(*) from sessions").await;
    assert_eq!(sessions, 0, "the session ended");
    let response = browser
        .http
        .get(console.url("/"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["location"], "/login", "signed out");
}

#[sqlx::test]
async fn a_signed_out_visitor_is_sent_to_sign_in_and_the_plain_form_takes_them_back(pool: PgPool) {
    let console = Console::start(pool).await;
    let browser = console.client_without_redirects();
    let response = browser
        .http
        .get(console.url("/customers"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/login?next=/customers");
    let (status, html) = browser.get("/login?next=/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<input type="hidden" name="next" value="/customers">"#),
        "the plain form carries next: {html}"
    );
    assert!(html.contains("autofocus"), "the email field is focused");

    let (status, location) = submit_form(
        &browser,
        &console,
        &[
            ("email", ALEX),
            ("password", "wrong-password"),
            ("next", "/customers"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/login?refused=401&next=/customers")
        ),
        "a refusal keeps where the user was going"
    );
    console.take_login_failures().await;

    let (status, location) = submit_form(
        &browser,
        &console,
        &[
            ("email", ALEX),
            ("password", PASSWORD),
            ("next", "/customers"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/customers"))
    );
    assert_eq!(
        browser.get_status("/users").await,
        StatusCode::OK,
        "signed in"
    );
}

#[sqlx::test]
async fn a_sign_in_never_leaves_the_console_whatever_next_says(pool: PgPool) {
    let console = Console::start(pool).await;
    for hostile in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ] {
        let browser = console.client_without_redirects();
        let (status, location) = submit_form(
            &browser,
            &console,
            &[("email", ALEX), ("password", PASSWORD), ("next", hostile)],
        )
        .await;
        assert_eq!(
            (status, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/")),
            "{hostile:?}"
        );
        let (status, body) = console
            .anonymous()
            .post(
                "/api/auth/login",
                &[("email", ALEX), ("password", PASSWORD), ("next", hostile)],
            )
            .await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, serde_json::json!("/")),
            "a script is told the same: {hostile:?}"
        );
    }
    let (status, body) = console
        .anonymous()
        .post(
            "/api/auth/login",
            &[
                ("email", ALEX),
                ("password", PASSWORD),
                ("next", "/users?page=1"),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!("/users?page=1"))
    );
}
