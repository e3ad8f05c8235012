//! Re-authentication for the irreversible step: once the session's last sign-in is over 15 minutes old, the
//! erasure is refused without the password (403 `PasswordRequired`, nothing erased), refused with a wrong one
//! (422, counted as a failed sign-in under the sign-in's limits), and goes ahead with the right one, which
//! re-confirms the session for the next 15 minutes.

mod common;

use common::*;
use customer_data_console::server::auth::{LOGIN_FAILURE_LIMIT, WRONG_PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

/// Makes the last sign-in of every session of `email` `minutes` old.
async fn age_sign_ins(console: &Console, email: &str, minutes: i32) {
    sqlx::query(
        "update sessions set authenticated_at = now() - make_interval(mins => $2)
         where user_id = (select id from users where email = $1)",
    )
    .bind(email)
    .bind(minutes)
    .execute(&console.pool)
    .await
    .expect("aged sessions");
}

/// Erases `customer` as `client`, with `password` when given.
async fn erase_with(
    client: &Client,
    customer: Uuid,
    password: Option<&str>,
) -> (StatusCode, Value) {
    let id = customer.to_string();
    let mut form = erase_form(&id).to_vec();
    if let Some(password) = password {
        form.push(("password", password));
    }
    client.post("/api/customers/erase", &form).await
}

async fn erased(console: &Console, customer: Uuid) -> bool {
    console
        .count(
            "select count(*) from customers where id = $1 and erased_at is not null",
            customer,
        )
        .await
        == 1
}

#[sqlx::test]
async fn a_fresh_sign_in_erases_without_the_password(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    age_sign_ins(&console, ALEX, 14).await;
    let (status, body) = erase_with(&alex, lead, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test]
async fn an_old_sign_in_is_refused_without_the_password(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    age_sign_ins(&console, ALEX, 16).await;
    let before = console.snapshot().await;
    for password in [None, Some("")] {
        let (status, body) = erase_with(&alex, lead, password).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body, Value::String("PasswordRequired".into()));
    }
    console
        .assert_unchanged(&before, "an erasure without the password")
        .await;
    assert!(!erased(&console, lead).await);
}

#[sqlx::test]
async fn an_old_sign_in_with_the_right_password_erases_and_is_fresh_again(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    age_sign_ins(&console, ALEX, 16).await;
    let (status, body) = erase_with(&alex, lead, Some(PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(erased(&console, lead).await);
    assert!(console.take_login_failures().await.is_empty());
    // The password re-confirmed the session: the next erasure needs none.
    let (status, body) = erase_with(&alex, contact, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test]
async fn a_wrong_password_is_refused_and_counts_against_the_sign_in_limits(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    age_sign_ins(&console, ALEX, 16).await;
    let (status, body) = erase_with(&alex, lead, Some("not-the-password")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Invalid"], WRONG_PASSWORD);
    assert!(!erased(&console, lead).await);
    assert_eq!(console.take_login_failures().await, [ALEX]);
    wait_until(
        &console.pool,
        "select count(*) = 1 from audit_log a join users u on u.id = a.actor_id
         where a.action = 'password_confirmation_failed' and u.email = 'alex.admin@acme.example'",
        "the wrong password in the audit log, by Alex",
    )
    .await;

    for _ in 0..LOGIN_FAILURE_LIMIT {
        erase_with(&alex, lead, Some("not-the-password")).await;
    }
    let (status, body) = erase_with(&alex, lead, Some(PASSWORD)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(!erased(&console, lead).await);
}
