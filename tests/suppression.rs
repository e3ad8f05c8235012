//! The suppression list and ingestion over HTTP against a real Postgres: a completed request puts its people's
//! email, E.164 phone and Salesforce ids on the account's list (as keyed hashes, once each, with an audit
//! event); `POST /api/v1/calls` and `/messages` then answer 409 `suppressed` for any of them under ten spellings
//! each and store nothing; activity for an erased record that was not suppressed is 409 `record-erased`; a lifted
//! entry lets activity in again; another account's token finds no record; `Idempotency-Key` makes twenty
//! concurrent POSTs store one call; and a token over its rate limit gets 429 with `Retry-After`.

mod common;

use common::post_api as post;
use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::db::api_tokens::NewToken;
use customer_data_console::server::db::suppressions;
use customer_data_console::server::evidence::identity::PersonId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

const CALLS: &str = "/api/v1/calls";
const MESSAGES: &str = "/api/v1/messages";

/// A token of `email`'s account with `scopes`.
async fn token(console: &Console, email: &str, scopes: &[ApiScope]) -> NewToken {
    api_token(console, email, scopes, None).await
}

/// POSTs a plain call of the record with Salesforce id `salesforce_id` with `secret`: the status and the answer.
async fn post_call(console: &Console, secret: &str, salesforce_id: &str) -> (StatusCode, Value) {
    let body = call(salesforce_id, None, "+1 628 555 0199");
    let (status, _, answer) = post(console, CALLS, secret, None, &body).await;
    (status, answer)
}

fn problem_type(answer: &Value) -> &str {
    answer["type"].as_str().unwrap_or_default()
}

/// A call of the record with Salesforce id `salesforce_id` from `from_number`, with the person's `email` if
/// given.
fn call(salesforce_id: &str, email: Option<&str>, from_number: &str) -> Value {
    let mut call = json!({
        "salesforce_id": salesforce_id,
        "direction": "inbound",
        "from_number": from_number,
        "to_number": "+1 628 555 0100",
        "started_at": "2026-12-03T10:00:00Z",
        "duration_seconds": 95,
        "notes": "Asked about the renewal."
    });
    if let Some(email) = email {
        call["email"] = Value::from(email);
    }
    call
}

/// The Salesforce id of one of Acme's records that is not Jordan's.
async fn someone_else(console: &Console) -> String {
    scalar_for(
        &console.pool,
        "select c.salesforce_id from customers c join users u on u.account_id = c.account_id
         where u.email = $1 and c.email <> 'jordan.rivera@example.com'
         order by c.salesforce_id limit 1",
        ALEX,
    )
    .await
}

async fn calls_and_messages(console: &Console) -> i64 {
    scalar(
        &console.pool,
        "select (select count(*) from calls) + (select count(*) from messages)",
    )
    .await
}

/// Erases Jordan's two records as Alex (one request, erased at once) and answers the request's id.
async fn erase_jordan(console: &Console, alex: &Client) -> Uuid {
    let request = request_jordan(alex, console).await;
    Uuid::parse_str(&request_id_of(&request)).expect("a request id")
}

#[sqlx::test]
async fn a_completed_request_puts_each_identifier_of_the_person_on_the_list_once(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let account = console.account_of(lead).await;
    let request = erase_jordan(&console, &alex).await;
    let entries: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "select kind, identifier_hmac from suppressions
         where account_id = $1 and request_id = $2 and lifted_at is null order by kind",
    )
    .bind(account)
    .bind(request)
    .fetch_all(&console.pool)
    .await
    .unwrap();
    let kinds: Vec<&str> = entries.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["email", "phone", "salesforce_id", "salesforce_id"]);
    let secret = &console.state.evidence_secret;
    let email = secret.subject(account, &PersonId::Email(JORDAN));
    let phone = secret.subject(account, &PersonId::Phone("+14155550142"));
    assert_eq!(entries[0].1, email.as_bytes().to_vec());
    assert_eq!(entries[1].1, phone.as_bytes().to_vec());
    let stored: String = scalar(
        &console.pool,
        "select string_agg(encode(identifier_hmac, 'escape'), '') from suppressions",
    )
    .await;
    assert!(!stored.contains("jordan") && !stored.contains("4155550142"));
    assert_eq!(
        console
            .count(
                "select count(*) from audit_log where request_id = $1 and action = 'suppression_added'",
                request,
            )
            .await,
        1
    );
    assert_eq!(
        suppressions::add_due(&console.pool, secret).await.unwrap(),
        0,
        "a request is suppressed once"
    );
    for customer in [lead, contact] {
        assert_eq!(
            console
                .count(
                    "select count(*) from erasure_request_records where customer_id = $1",
                    customer
                )
                .await,
            1
        );
    }
}

#[sqlx::test]
async fn a_suppressed_person_is_refused_under_every_spelling_and_nothing_is_stored(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let lead_id: String = scalar_for(
        &console.pool,
        "select salesforce_id from customers where id = $1",
        lead,
    )
    .await;
    erase_jordan(&console, &alex).await;
    let pipeline = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let other = someone_else(&console).await;
    let before = calls_and_messages(&console).await;
    let emails = [
        "jordan.rivera@example.com",
        "Jordan.Rivera@Example.com",
        "JORDAN.RIVERA@EXAMPLE.COM",
        " jordan.rivera@example.com",
        "jordan.rivera@example.com ",
        "\tJordan.Rivera@example.com\n",
        "jordan.RIVERA@example.COM",
        "JoRdAn.RiVeRa@ExAmPlE.cOm",
        "  JORDAN.rivera@EXAMPLE.com  ",
        "jordan.rivera@EXAMPLE.com",
    ];
    let phones = [
        "+14155550142",
        "+1 415 555 0142",
        "+1 (415) 555-0142",
        "(415) 555-0142",
        "415.555.0142",
        "415-555-0142",
        "0014155550142",
        "001 415 555 0142",
        "1 415 555 0142",
        "4155550142",
    ];
    let short = &lead_id[..15];
    let ids = [
        lead_id.clone(),
        short.to_owned(),
        lead_id.to_lowercase(),
        lead_id.to_uppercase(),
        format!(" {lead_id} "),
        format!("{short}\t"),
        format!("\n{short}"),
        format!("{}{}", &lead_id[..15], lead_id[15..].to_lowercase()),
        format!("  {}", lead_id.to_lowercase()),
        format!("{}  ", lead_id.to_uppercase()),
    ];
    let mut bodies = Vec::new();
    for email in emails {
        bodies.push((CALLS, call(&other, Some(email), "+1 628 555 0199")));
    }
    for phone in phones {
        bodies.push((CALLS, call(&other, None, phone)));
        bodies.push((
            MESSAGES,
            json!({
                "salesforce_id": other,
                "direction": "outbound",
                "from_number": "+1 628 555 0100",
                "to_number": phone,
                "sent_at": "2026-12-03T10:00:00Z",
                "body": "Following up on our call."
            }),
        ));
    }
    for id in &ids {
        bodies.push((CALLS, call(id, None, "+1 628 555 0199")));
    }
    // A handle in place of a number (as iMessage writes an email), and a new record of Jordan's, named by its
    // own Salesforce id with neither the email nor a number of Jordan's in the activity.
    bodies.push((
        MESSAGES,
        json!({
            "salesforce_id": other,
            "direction": "inbound",
            "from_number": "Jordan.Rivera@Example.com",
            "to_number": "+1 628 555 0100",
            "sent_at": "2026-12-03T10:00:00Z",
            "body": "Hi again."
        }),
    ));
    let new_record = customer_data_console::salesforce::SalesforceId::parse("003000000000777")
        .expect("an id")
        .as_str()
        .to_owned();
    sqlx::query(
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         select account_id, $1, 'Contact', 'J. Rivera', 'JORDAN.RIVERA@example.com' from customers where id = $2",
    )
    .bind(&new_record)
    .bind(lead)
    .execute(&console.pool)
    .await
    .expect("a new record of Jordan's");
    bodies.push((CALLS, call(&new_record, None, "+1 628 555 0199")));
    assert_eq!(bodies.len(), 42);
    for (path, body) in &bodies {
        let (status, _, answer) = post(&console, path, &pipeline.secret, None, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body} {answer}");
        assert_eq!(
            problem_type(&answer),
            "/api/v1/problems/suppressed",
            "{body}"
        );
        assert!(!answer.to_string().contains("jordan"), "{answer}");
    }
    assert_eq!(calls_and_messages(&console).await, before, "nothing stored");
    let (status, _, answer) = post(
        &console,
        CALLS,
        &pipeline.secret,
        None,
        &call(&other, Some("blair@example.com"), "+1 628 555 0199"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(calls_and_messages(&console).await, before + 1);
}

#[sqlx::test]
async fn a_lifted_entry_lets_activity_in_and_an_unsuppressed_erased_record_still_refuses(
    pool: PgPool,
) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let account = console.account_of(lead).await;
    let (status, answer) = alex
        .post(
            "/api/requests/create",
            &[
                ("customer_ids", lead.to_string().as_str()),
                ("confirmation", "DELETE"),
                ("suppress", "false"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        scalar::<i64>(&console.pool, "select count(*) from suppressions").await,
        0,
        "an unticked box suppresses nobody"
    );
    let pipeline = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let lead_id: String = scalar_for(
        &console.pool,
        "select salesforce_id from customers where id = $1",
        lead,
    )
    .await;
    let before = calls_and_messages(&console).await;
    let (status, answer) = post_call(&console, &pipeline.secret, &lead_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(problem_type(&answer), "/api/v1/problems/record-erased");
    assert_eq!(calls_and_messages(&console).await, before);

    let (status, answer) = alex
        .post(
            "/api/requests/create",
            &[
                ("customer_ids", contact.to_string().as_str()),
                ("confirmation", "DELETE"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let other = someone_else(&console).await;
    let jordan_writes = call(&other, Some(JORDAN), "+1 628 555 0199");
    let before = calls_and_messages(&console).await;
    let (status, _, answer) = post(&console, CALLS, &pipeline.secret, None, &jordan_writes).await;
    assert_eq!(
        problem_type(&answer),
        "/api/v1/problems/suppressed",
        "{status}"
    );
    let email_entry: Uuid = scalar(
        &console.pool,
        "select id from suppressions where kind = 'email' and lifted_at is null",
    )
    .await;
    let blair = console.user_id(BLAIR).await;
    assert!(
        suppressions::lift(
            &console.pool,
            account,
            email_entry,
            blair,
            "Jordan asked to be contacted again"
        )
        .await
        .unwrap()
    );
    assert!(
        !suppressions::lift(&console.pool, account, email_entry, blair, "again")
            .await
            .unwrap(),
        "an entry is lifted once"
    );
    let (status, _, answer) = post(&console, CALLS, &pipeline.secret, None, &jordan_writes).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(calls_and_messages(&console).await, before + 1);
    assert_eq!(
        console
            .count(
                "select count(*) from audit_log where account_id = $1 and action = 'suppression_lifted'",
                account,
            )
            .await,
        1
    );
}

#[sqlx::test]
async fn tokens_are_held_to_their_scope_account_and_setting(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let other = someone_else(&console).await;
    let reader = token(&console, ALEX, &[ApiScope::RequestsRead]).await;
    let (status, answer) = post_call(&console, &reader.secret, &other).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let globex = token(&console, GINA, &[ApiScope::Ingest]).await;
    console.set_account_setting(GINA, true).await;
    let before = calls_and_messages(&console).await;
    let (status, answer) = post_call(&console, &globex.secret, &other).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's record: {answer}"
    );
    console.set_account_setting(ALEX, false).await;
    let pipeline = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let (status, _) = post_call(&console, &pipeline.secret, &other).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the setting is off");
    assert_eq!(calls_and_messages(&console).await, before);
    let (status, _, answer) = post(
        &console,
        CALLS,
        "cdc_nothing",
        None,
        &call(&other, None, "+1"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
}

#[sqlx::test]
async fn malformed_activity_is_refused_with_a_problem(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let pipeline = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let other = someone_else(&console).await;
    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        ALEX,
    )
    .await;
    let before = calls_and_messages(&console).await;
    let good = call(&other, None, "+1 628 555 0199");
    let mut cases = Vec::new();
    for (field, value) in [
        ("salesforce_id", json!("00Q12")),
        ("email", json!("not an email")),
        ("direction", json!("sideways")),
        ("from_number", json!("")),
        ("from_number", json!("+1\u{0}415")),
        ("started_at", json!("yesterday")),
        ("duration_seconds", json!(-1)),
        ("duration_seconds", json!(1_000_000)),
        ("notes", json!("bell\u{7}")),
        ("recording_key", json!("recordings/another-account/x.wav")),
        (
            "recording_key",
            json!(format!("recordings/{account}/../x.wav")),
        ),
        ("unknown_field", json!(1)),
    ] {
        let mut body = good.clone();
        body[field] = value;
        cases.push(body);
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("started_at");
    cases.push(missing);
    for body in &cases {
        let (status, headers, answer) = post(&console, CALLS, &pipeline.secret, None, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} {answer}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem_type(&answer), "/api/v1/problems/invalid");
    }
    let (status, answer) = post_call(&console, &pipeline.secret, "00Q000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(calls_and_messages(&console).await, before);
}

#[sqlx::test]
async fn twenty_concurrent_posts_with_one_key_store_one_call(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let pipeline = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let other = someone_else(&console).await;
    let body = call(&other, None, "+1 628 555 0199");
    let before = calls_and_messages(&console).await;
    let answers = futures::future::join_all((0..20).map(|_| {
        post(
            &console,
            CALLS,
            &pipeline.secret,
            Some("capture-7f3a"),
            &body,
        )
    }))
    .await;
    assert_eq!(calls_and_messages(&console).await, before + 1);
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::CREATED)
        .map(|(_, _, answer)| answer)
        .collect();
    assert!(!created.is_empty());
    assert!(
        created
            .iter()
            .all(|answer| answer["id"] == created[0]["id"])
    );
    for (status, _, answer) in &answers {
        assert!(
            *status == StatusCode::CREATED
                || problem_type(answer) == "/api/v1/problems/idempotency-key-in-use",
            "{status} {answer}"
        );
    }
    let (status, headers, again) = post(
        &console,
        CALLS,
        &pipeline.secret,
        Some("capture-7f3a"),
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["id"], created[0]["id"]);
    assert_eq!(headers["idempotent-replayed"], "true");
    let mut other_body = body.clone();
    other_body["duration_seconds"] = json!(96);
    let (status, _, answer) = post(
        &console,
        CALLS,
        &pipeline.secret,
        Some("capture-7f3a"),
        &other_body,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        problem_type(&answer),
        "/api/v1/problems/idempotency-key-reused"
    );
    let (status, _, answer) = post(
        &console,
        MESSAGES,
        &pipeline.secret,
        Some("capture-7f3a"),
        &body,
    )
    .await;
    assert_eq!(
        problem_type(&answer),
        "/api/v1/problems/idempotency-key-reused",
        "another path is another request: {status}"
    );
    assert_eq!(calls_and_messages(&console).await, before + 1);
}

#[sqlx::test]
async fn a_token_over_its_rate_limit_is_told_when_to_come_back(pool: PgPool) {
    let console = Console::start_configured(pool, |web| web.api_requests_per_minute = 3).await;
    console.give_alex_customer_data_access().await;
    let pipeline = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let body = call("00Q000000000000", None, "+1 628 555 0199");
    for _ in 0..3 {
        let (status, _, answer) = post(&console, CALLS, &pipeline.secret, None, &body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    }
    let (status, headers, answer) = post(&console, CALLS, &pipeline.secret, None, &body).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(problem_type(&answer), "/api/v1/problems/too-many-requests");
    let retry_after: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let fresh = token(&console, ALEX, &[ApiScope::Ingest]).await;
    let (status, _, _) = post(&console, CALLS, &fresh.secret, None, &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the limit is per token");
    sqlx::query("update api_tokens set window_started_at = now() - interval '61 seconds'")
        .execute(&console.pool)
        .await
        .unwrap();
    let (status, _, _) = post(&console, CALLS, &pipeline.secret, None, &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a new window begins");
}

#[sqlx::test]
async fn the_list_pages_through_every_entry_once(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let request = console.cancelled_request(lead).await;
    sqlx::query(
        "insert into suppressions (account_id, kind, identifier_hmac, request_id, added_at)
         select account_id, 'email', sha256(convert_to('entry-' || g, 'UTF8')), id,
                now() - make_interval(secs => g / 2)
         from erasure_requests, generate_series(1, 150) g where id = $1",
    )
    .bind(request)
    .execute(&console.pool)
    .await
    .expect("150 entries");
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (status, page) = alex
            .post("/api/suppressions/list", &[("cursor", cursor.as_str())])
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for entry in page["entries"].as_array().expect("entries") {
            assert!(
                seen.insert(entry["id"].as_str().expect("an id").to_owned()),
                "repeated"
            );
        }
        match page["older"].as_str() {
            Some(older) => cursor = older.to_owned(),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (2, 150));
    let (status, html) = alex.get("/suppressions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Older entries"),
        "the first page links the next"
    );
    let (status, _) = alex
        .post("/api/suppressions/list", &[("cursor", "not a cursor")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
