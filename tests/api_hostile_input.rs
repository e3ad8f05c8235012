//! The hostile-input corpus (tests/corpus/bad_inputs.txt and its overlong strings) through every field of the
//! public API: each identifier of an erasure request's dry run and of an export, each text field of a call and
//! of a message,
//! each query parameter and path id of the reads, and the Idempotency-Key header. No input gets a server error
//! or an answer carrying database text; a refusal is an `application/problem+json` 4xx; an identifier the
//! console's parser refuses is 422, one it accepts is previewed (200).

mod common;

use common::corpus::corpus;
use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::input::{self, CustomerQuery, CustomerSearch};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

/// The status the dry run answers for `input` in the identifier `field`: 200 when the console's parser takes it
/// as that kind of identifier (in the account's country, US), else 422.
fn dry_run_status(field: &str, input: &str) -> u16 {
    let taken = match field {
        "email" => matches!(input::customer_query(input), Ok(CustomerQuery::Email(_))),
        "phone" => matches!(
            input::customer_search(input),
            Ok(CustomerSearch::Phone(number)) if number.to_e164("US").is_ok()
        ),
        _ => matches!(
            input::customer_query(input),
            Ok(CustomerQuery::SalesforceId(_))
        ),
    };
    if taken { 200 } else { 422 }
}

/// Asserts that an answer is no server error, carries no database text, and is a problem when it refuses.
fn assert_sound(
    what: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) {
    assert!(!status.is_server_error(), "{what}: {status} {body}");
    assert_no_internal_text(body);
    if status.is_client_error() {
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{what}: {body}"
        );
    }
}

#[sqlx::test]
async fn every_input_in_every_field_is_answered_soundly(pool: PgPool) {
    let console =
        Console::start_configured(pool, |web| web.api_requests_per_minute = 1_000_000).await;
    console.give_alex_customer_data_access().await;
    let token = api_token(&console, ALEX, &ApiScope::ALL, None).await;
    let other: String = scalar_for(
        &console.pool,
        "select c.salesforce_id from customers c join users u on u.account_id = c.account_id
         where u.email = $1 and c.email <> 'jordan.rivera@example.com' order by c.salesforce_id limit 1",
        ALEX,
    )
    .await;
    let call = json!({
        "salesforce_id": other,
        "direction": "inbound",
        "from_number": "+1 628 555 0199",
        "to_number": "+1 628 555 0100",
        "started_at": "2026-12-03T10:00:00Z",
        "duration_seconds": 95
    });
    let message = json!({
        "salesforce_id": other,
        "direction": "outbound",
        "from_number": "+1 628 555 0100",
        "to_number": "+1 628 555 0199",
        "sent_at": "2026-12-03T10:00:00Z",
        "body": "Following up."
    });
    let inputs = corpus();
    let mut requests = 0;
    for input in &inputs {
        for field in ["email", "phone", "salesforce_id"] {
            let body = json!({ field: input, "dry_run": true });
            let (status, headers, answer) = post_api(
                &console,
                "/api/v1/erasure-requests",
                &token.secret,
                None,
                &body,
            )
            .await;
            assert_sound(&format!("{field}={input:?}"), status, &headers, &answer);
            assert_eq!(
                status.as_u16(),
                dry_run_status(field, input),
                "{field}={input:?}: {answer}"
            );
            requests += 1;
        }
        for field in ["customer_id", "email", "phone", "salesforce_id"] {
            let body = json!({ field: input });
            let (status, headers, answer) =
                post_api(&console, "/api/v1/exports", &token.secret, None, &body).await;
            assert_sound(
                &format!("export {field}={input:?}"),
                status,
                &headers,
                &answer,
            );
            let parsed = match field {
                "customer_id" => uuid::Uuid::parse_str(input.trim()).is_ok(),
                _ => dry_run_status(field, input) == 200,
            };
            if parsed {
                assert!(
                    [200, 404, 409].contains(&status.as_u16()),
                    "export {field}={input:?}: {status} {answer}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "export {field}={input:?}"
                );
            }
            requests += 1;
        }
        for (path, base, fields) in [
            (
                "/api/v1/calls",
                &call,
                &[
                    "salesforce_id",
                    "email",
                    "from_number",
                    "to_number",
                    "started_at",
                    "disposition",
                    "notes",
                    "transcript",
                    "recording_key",
                ][..],
            ),
            (
                "/api/v1/messages",
                &message,
                &[
                    "salesforce_id",
                    "from_number",
                    "to_number",
                    "sent_at",
                    "body",
                ][..],
            ),
        ] {
            for field in fields {
                let mut body = base.clone();
                body[*field] = Value::from(input.as_str());
                let (status, headers, answer) =
                    post_api(&console, path, &token.secret, None, &body).await;
                assert_sound(
                    &format!("{path} {field}={input:?}"),
                    status,
                    &headers,
                    &answer,
                );
                assert!(
                    [201, 404, 422].contains(&status.as_u16()),
                    "{path} {field}={input:?}: {status} {answer}"
                );
                requests += 1;
            }
        }
        let encoded = urlencode(input);
        for path in [
            format!("/api/v1/erasure-requests?state={encoded}"),
            format!("/api/v1/erasure-requests?cursor={encoded}"),
            format!("/api/v1/erasure-requests/{encoded}"),
            format!("/api/v1/erasure-requests/{encoded}/receipt"),
            format!("/api/v1/audit-events?after={encoded}"),
            format!("/api/v1/audit-events?limit={encoded}"),
        ] {
            let response = bare_client()
                .get(console.url(&path))
                .bearer_auth(&token.secret)
                .send()
                .await
                .expect("the console answers");
            let status = response.status();
            let headers = response.headers().clone();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            assert_sound(&path, status, &headers, &answer);
            requests += 1;
        }
        if reqwest::header::HeaderValue::from_str(input).is_ok() {
            let (status, headers, answer) =
                post_api(&console, "/api/v1/calls", &token.secret, Some(input), &call).await;
            assert_sound(
                &format!("Idempotency-Key {input:?}"),
                status,
                &headers,
                &answer,
            );
            requests += 1;
        }
    }
    eprintln!(
        "hostile input through /api/v1: {} inputs, {requests} requests",
        inputs.len()
    );
}

/// `text` as a URL's query value or path segment.
fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
