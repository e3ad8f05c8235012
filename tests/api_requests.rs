//! Erasure requests made through /api/v1 against a real Postgres: a dry run previews a person's records and
//! makes nothing; a request erases every record of the person at once (or holds it, under a hold) as the Admin
//! the token acts for, names the token in the audit log and suppresses the person; twenty concurrent POSTs with
//! one Idempotency-Key make one request; another account's token finds nobody and makes nothing; a token acting
//! for no Admin, or for one who lost access, makes nothing; a held request is cancelled once.

mod common;

use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::db::api_tokens::{self, NewToken, TokenSpec};
use customer_data_console::server::evidence::audit_log::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

const REQUESTS: &str = "/api/v1/erasure-requests";

/// POSTs `body` to the API path `path` (`post_api`): the status and the answer.
async fn post(
    console: &Console,
    path: &str,
    secret: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let (status, _, answer) = post_api(console, path, secret, key, body).await;
    (status, answer)
}

async fn writer(console: &Console, email: &str) -> NewToken {
    api_token(
        console,
        email,
        &[ApiScope::RequestsRead, ApiScope::RequestsWrite],
        None,
    )
    .await
}

async fn requests_made(console: &Console) -> i64 {
    scalar(&console.pool, "select count(*) from erasure_requests").await
}

#[sqlx::test]
async fn a_dry_run_previews_the_person_and_makes_nothing(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let platform = writer(&console, ALEX).await;
    let before = requests_made(&console).await;
    let snapshot = console.snapshot_outside_the_audit_log().await;
    let (status, preview) = post(
        &console,
        REQUESTS,
        &platform.secret,
        None,
        &json!({"email": "Jordan.Rivera@Example.com", "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["outcome"], "erase_now");
    let records = preview["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(preview["calls"], 7);
    assert_eq!(preview["messages"], 8);
    assert!(records.iter().all(|record| record["erased"] == false));
    assert!(!preview.to_string().contains("Jordan Rivera"), "no names");
    assert_eq!(requests_made(&console).await, before);
    assert_eq!(
        console.snapshot_outside_the_audit_log().await,
        snapshot,
        "a dry run changes nothing but the audit log"
    );
    let (status, by_phone) = post(
        &console,
        REQUESTS,
        &platform.secret,
        None,
        &json!({"phone": "(415) 555-0142", "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{by_phone}");
    assert_eq!(by_phone["records"], preview["records"]);
}

#[sqlx::test]
async fn a_request_erases_the_person_as_the_tokens_admin_and_names_the_token(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let platform = writer(&console, ALEX).await;
    let (status, made) = post(
        &console,
        REQUESTS,
        &platform.secret,
        None,
        &json!({"email": JORDAN}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["state"], "completed");
    assert_eq!(made["records"], 2);
    let id = Uuid::parse_str(made["id"].as_str().expect("an id")).expect("a uuid");
    for customer in [lead, contact] {
        assert_eq!(console.activity(customer).await, (0, 0));
    }
    let (source, token, requester): (String, Option<Uuid>, Uuid) = sqlx::query_as(
        "select source, api_token_id, requested_by from erasure_requests where id = $1",
    )
    .bind(id)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(source, "api");
    assert_eq!(token, Some(platform.id));
    assert_eq!(requester, console.user_id(ALEX).await);
    let actors: Vec<(String, String, Option<Uuid>)> = sqlx::query_as(
        "select action, actor_kind, actor_id from audit_log where request_id = $1 order by seq",
    )
    .bind(id)
    .fetch_all(&console.pool)
    .await
    .unwrap();
    let token_acts: Vec<&str> = actors
        .iter()
        .filter(|(_, kind, actor)| kind == "token" && *actor == Some(platform.id))
        .map(|(action, _, _)| action.as_str())
        .collect();
    assert_eq!(token_acts, ["request_created", "request_erased"]);
    assert_eq!(
        console
            .count(
                "select count(*) from suppressions where request_id = $1",
                id
            )
            .await,
        4
    );
    let (status, again) = post(
        &console,
        REQUESTS,
        &platform.secret,
        None,
        &json!({"email": JORDAN}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nobody left: {again}");
    let detail = bare_client()
        .get(console.url(&format!("{REQUESTS}/{id}")))
        .bearer_auth(&platform.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), StatusCode::OK);
    let (status, page) = alex.get(&format!("/requests/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Alex Admin via the API"),
        "the request page names the API"
    );
}

#[sqlx::test]
async fn twenty_concurrent_posts_with_one_key_make_one_request(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    set_policy(&alex, "24", "", "").await;
    let platform = writer(&console, ALEX).await;
    let body = json!({"email": JORDAN, "suppress": false});
    let before = requests_made(&console).await;
    let answers = futures::future::join_all((0..20).map(|_| {
        post(
            &console,
            REQUESTS,
            &platform.secret,
            Some("dsr-4711"),
            &body,
        )
    }))
    .await;
    assert_eq!(requests_made(&console).await, before + 1);
    let made: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, answer)| answer)
        .collect();
    assert!(!made.is_empty());
    assert!(made.iter().all(|answer| answer["id"] == made[0]["id"]));
    assert_eq!(made[0]["state"], "scheduled");
    for (status, answer) in &answers {
        assert!(
            *status == StatusCode::CREATED
                || answer["type"] == "/api/v1/problems/idempotency-key-in-use",
            "{status} {answer}"
        );
    }
    let id = made[0]["id"].as_str().expect("an id").to_owned();
    let cancel = format!("{REQUESTS}/{id}/cancel");
    let (status, cancelled) = post(&console, &cancel, &platform.secret, None, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    let (status, _) = post(&console, &cancel, &platform.secret, None, &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a request is cancelled once");
    let cancelled_by: (String, Option<Uuid>) = sqlx::query_as(
        "select actor_kind, actor_id from audit_log where action = 'request_cancelled' and request_id = $1",
    )
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(cancelled_by, ("token".to_owned(), Some(platform.id)));
    let (lead, _) = jordans(&console).await;
    assert_ne!(console.activity(lead).await, (0, 0), "nothing erased");
}

#[sqlx::test]
async fn tokens_make_requests_only_in_their_account_for_an_admin_with_access(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    console.set_account_setting(GINA, true).await;
    console.set_permission(GINA, true).await;
    let globex = writer(&console, GINA).await;
    let before = requests_made(&console).await;
    let (status, preview) = post(
        &console,
        REQUESTS,
        &globex.secret,
        None,
        &json!({"email": JORDAN, "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["outcome"], "nothing_to_erase");
    assert_eq!(preview["records"], json!([]));
    let (status, _) = post(
        &console,
        REQUESTS,
        &globex.secret,
        None,
        &json!({"email": JORDAN}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        ALEX,
    )
    .await;
    let scopes = [ApiScope::RequestsWrite];
    let spec = TokenSpec {
        name: "no admin",
        scopes: &scopes,
        expires_in: None,
        admin: None,
    };
    let orphan = api_tokens::create(&console.pool, account, &spec, Actor::System)
        .await
        .unwrap();
    let (status, answer) = post(
        &console,
        REQUESTS,
        &orphan.secret,
        None,
        &json!({"email": JORDAN}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");

    let blairs = writer(&console, BLAIR).await;
    let (status, answer) = post(
        &console,
        REQUESTS,
        &blairs.secret,
        None,
        &json!({"email": JORDAN}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "Blair lacks the permission: {answer}"
    );

    let reader = api_token(&console, ALEX, &[ApiScope::RequestsRead], None).await;
    let (status, _) = post(
        &console,
        REQUESTS,
        &reader.secret,
        None,
        &json!({"email": JORDAN}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(requests_made(&console).await, before);
}

#[sqlx::test]
async fn a_person_is_named_by_exactly_one_valid_identifier(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let platform = writer(&console, ALEX).await;
    let before = requests_made(&console).await;
    for body in [
        json!({}),
        json!({"dry_run": true}),
        json!({"email": JORDAN, "phone": "+14155550142"}),
        json!({"email": "not an email"}),
        json!({"email": "003000000000001"}),
        json!({"phone": JORDAN}),
        json!({"phone": "12"}),
        json!({"salesforce_id": JORDAN}),
        json!({"salesforce_id": "00Q12"}),
        json!({"email": JORDAN, "dry_run": "yes"}),
        json!({"email": JORDAN, "reason": "asked"}),
        json!([JORDAN]),
    ] {
        let (status, answer) = post(&console, REQUESTS, &platform.secret, None, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} {answer}");
        assert_eq!(answer["type"], "/api/v1/problems/invalid", "{body}");
    }
    assert_eq!(requests_made(&console).await, before);
}

#[sqlx::test]
async fn an_erasure_through_a_token_revoked_meanwhile_erases_nothing(pool: PgPool) {
    use customer_data_console::server::erasure::{self, EraseError, ErasurePlan};
    use customer_data_console::server::input::CustomerQuery;
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let platform = writer(&console, ALEX).await;
    let (lead, contact) = jordans(&console).await;
    let account = console.account_of(lead).await;
    assert!(
        api_tokens::revoke(&console.pool, Some(account), platform.id, Actor::System)
            .await
            .unwrap()
    );
    let plan = ErasurePlan::listed(vec![lead, contact], CustomerQuery::Email(JORDAN.into()))
        .expect("a plan")
        .through_token(platform.id);
    let outcome = erasure::erase_request(
        &console.pool,
        erasure::Actor::Requester(console.user_id(ALEX).await),
        account,
        &plan,
    )
    .await;
    assert!(matches!(outcome, Err(EraseError::SignedOut)), "{outcome:?}");
    assert_ne!(console.activity(lead).await, (0, 0), "nothing erased");
}
