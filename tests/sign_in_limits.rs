//! The sign-in limit under attack: simultaneous guesses for one email, with the password-check queue busy or
//! not, get no more checks than the limit allows, and the right password sent once it is reached waits too.

mod common;

use common::*;
use customer_data_console::server::auth::LOGIN_FAILURE_LIMIT;
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
