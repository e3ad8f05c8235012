//! The sign-in limits under attack: simultaneous guesses for one email, with the password-check queue busy or
//! not, get no more checks than the limit allows, and the right password sent once it is reached waits too; one
//! client gets a limited number of failures across all emails (its address taken from a trusted proxy's header
//! only); a full password-check queue answers 503 with `Retry-After`.

mod common;

use common::*;
use customer_data_console::error::AppError;
use customer_data_console::server::auth::LOGIN_FAILURE_LIMIT;
use customer_data_console::server::config::SignInSettings;
use futures::future::join_all;
use reqwest::StatusCode;
use sqlx::PgPool;

/// How many sign-ins a burst sends at once.
const BURST: usize = 50;

async fn sign_in_status(client: &Client, email: &str, password: &str) -> StatusCode {
    client
        .post_status(
            "/api/auth/login",
            &[("email", email), ("password", password)],
        )
        .await
}

/// Asserts that a burst of wrong passwords for one email got at most the limit of checks (401) and that every
/// other attempt was refused before its check (429).
fn assert_limited(answers: &[StatusCode]) {
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked as i64 <= LOGIN_FAILURE_LIMIT,
        "{checked} passwords checked: {answers:?}"
    );
    assert_eq!(checked + refused, answers.len(), "{answers:?}");
}

#[sqlx::test]
async fn simultaneous_wrong_passwords_for_one_email_get_at_most_the_limit_of_checks(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    let guesses: Vec<String> = (0..BURST).map(|n| format!("guess-{n}")).collect();
    let answers = join_all(
        guesses
            .iter()
            .map(|guess| sign_in_status(&client, BLAIR, guess)),
    )
    .await;
    assert_limited(&answers);
}

/// Made-up emails fill the password-check queue first, so every guess waits long for its check: the limit
/// still holds, and the right password sent once it is reached is refused while the guesses wait.
#[sqlx::test]
async fn with_the_check_queue_busy_the_limit_holds_and_the_right_password_waits(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.anonymous();
    let (answered, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..30 {
        let client = client.clone();
        tokio::spawn(async move {
            sign_in_status(&client, &format!("nobody-{n}@acme.example"), "guess").await
        });
    }
    for n in 0..BURST {
        let (client, answered) = (client.clone(), answered.clone());
        tokio::spawn(async move {
            let status = sign_in_status(&client, BLAIR, &format!("guess-{n}")).await;
            let _ = answered.send(status);
        });
    }
    let mut statuses = Vec::new();
    while statuses.len() < BURST {
        let status = answers.recv().await.expect("an answer");
        statuses.push(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(
        sign_in_status(&console.anonymous(), BLAIR, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password is refused once the limit is reached"
    );
    while statuses.len() < BURST {
        statuses.push(answers.recv().await.expect("an answer"));
    }
    assert_limited(&statuses);
}

/// A successful sign-in counts as no failure and leaves the failures before it counted, so a guess that comes
/// right does not wipe the count that stops the next guesser.
#[sqlx::test]
async fn a_successful_sign_in_leaves_the_failures_before_it_counted(pool: PgPool) {
    let console = Console::start(pool).await;
    for _ in 1..LOGIN_FAILURE_LIMIT {
        assert_eq!(
            sign_in_status(&console.anonymous(), BLAIR, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_status(&console.anonymous(), BLAIR, PASSWORD).await,
        StatusCode::OK
    );
    assert_eq!(
        sign_in_status(&console.anonymous(), BLAIR, "guess").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_status(&console.anonymous(), BLAIR, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The answer to a sign-in sent from client `client`, as a trusted proxy names it in `X-Forwarded-For`.
async fn sign_in_from(
    client: &Client,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> StatusCode {
    client
        .post_with_headers(
            "/api/auth/login",
            &[("x-forwarded-for", forwarded_for)],
            &[("email", email), ("password", password)],
        )
        .await
}

/// Behind a trusted proxy, one client fails at most its limit of sign-ins across all emails, simultaneous or
/// not, and then even the right password is refused before its check; another client, and the browser a user
/// signed in with before, are not held to it. Addresses the client wrote left of the proxy's are not believed.
#[sqlx::test]
async fn one_client_gets_a_limited_number_of_failures_across_all_emails(pool: PgPool) {
    let settings = SignInSettings {
        client_limit: 5,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..SignInSettings::default()
    };
    let console = Console::start_with_sign_in(pool, settings).await;
    let alexs_browser = console.signed_in(ALEX).await;
    let attacker = console.anonymous();
    let emails: Vec<String> = (0..20)
        .map(|n| format!("nobody-{n}@acme.example"))
        .collect();
    let answers = join_all(
        emails
            .iter()
            .map(|email| sign_in_from(&attacker, "203.0.113.7", email, "guess")),
    )
    .await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s))
    );
    let from_the_attacker = console.anonymous();
    assert_eq!(
        sign_in_from(&from_the_attacker, "203.0.113.7", ALEX, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_in_from(
            &from_the_attacker,
            "198.51.100.9, 203.0.113.7",
            ALEX,
            PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        "an address written left of the proxy's is not believed"
    );
    assert_eq!(
        sign_in_from(&console.anonymous(), "198.51.100.9", ALEX, PASSWORD).await,
        StatusCode::OK,
        "another client signs in"
    );
    assert_eq!(
        sign_in_from(&alexs_browser, "203.0.113.7", ALEX, PASSWORD).await,
        StatusCode::OK,
        "a browser Alex signed in with before is not held to its address's limit"
    );
    let failed: i64 = scalar(
        &console.pool,
        "select count(*) from audit_log where action = 'sign_in_failed'",
    )
    .await;
    assert_eq!(
        failed, 0,
        "sign-ins the limits refused before the password check are not in the audit log"
    );
}

/// With no trusted proxy, the client is the connection's peer whatever `X-Forwarded-For` says.
#[sqlx::test]
async fn without_a_trusted_proxy_a_forwarded_address_does_not_escape_the_client_limit(
    pool: PgPool,
) {
    let settings = SignInSettings {
        client_limit: 5,
        ..SignInSettings::default()
    };
    let console = Console::start_with_sign_in(pool, settings).await;
    let client = console.anonymous();
    for n in 0..5 {
        let email = format!("nobody-{n}@acme.example");
        assert_eq!(
            sign_in_from(&client, &format!("192.0.2.{n}"), &email, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(&client, "192.0.2.99", ALEX, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A sign-in that finds the password-check queue full is answered 503 with `Retry-After` at once, uncounted;
/// once the queue drains, sign-in works.
#[sqlx::test]
async fn a_full_password_check_queue_answers_503_with_retry_after(pool: PgPool) {
    let settings = SignInSettings {
        password_check_queue: std::num::NonZeroUsize::MIN,
        ..SignInSettings::default()
    };
    let console = Console::start_with_sign_in(pool, settings).await;
    let client = console.anonymous();
    let emails: Vec<String> = (0..40)
        .map(|n| format!("nobody-{n}@acme.example"))
        .collect();
    let answers = join_all(emails.iter().map(|email| {
        client
            .http
            .post(console.url("/api/auth/login"))
            .form(&[("email", email.as_str()), ("password", "guess")])
            .send()
    }))
    .await;
    let mut busy = 0;
    for answer in answers {
        let answer = answer.expect("answer");
        if answer.status() == StatusCode::SERVICE_UNAVAILABLE {
            busy += 1;
            assert_eq!(answer.headers()["retry-after"], "1");
            let body: serde_json::Value = answer.json().await.expect("json");
            assert_eq!(body, serde_json::to_value(AppError::Busy).unwrap());
        } else {
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        }
    }
    assert!(
        busy > 0,
        "forty simultaneous checks never found the queue full"
    );
    let counted: i64 = scalar(&console.pool, "select count(*) from login_failures").await;
    assert_eq!(counted, 40 - busy, "sign-ins answered 503 are not counted");
    assert_eq!(
        sign_in_status(&console.anonymous(), ALEX, PASSWORD).await,
        StatusCode::OK
    );
}

/// Every spelling that finds a user counts under one key: failures spelled with `İ` (U+0130, which Rust and
/// Postgres lower-case differently), `i` and `I` lock all three.
#[sqlx::test]
async fn failures_spelled_with_any_i_count_together(pool: PgPool) {
    let console = Console::start(pool).await;
    let spellings = [
        ALEX.replace('i', "İ"),
        ALEX.to_owned(),
        ALEX.replace('i', "I"),
    ];
    assert_eq!(
        sign_in_status(&console.anonymous(), &spellings[0], PASSWORD).await,
        StatusCode::OK,
        "the dotted capital finds Alex"
    );
    for spelling in spellings.iter().cycle().take(LOGIN_FAILURE_LIMIT as usize) {
        assert_eq!(
            sign_in_status(&console.anonymous(), spelling, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    for spelling in &spellings {
        assert_eq!(
            sign_in_status(&console.anonymous(), spelling, PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{spelling}"
        );
    }
}
