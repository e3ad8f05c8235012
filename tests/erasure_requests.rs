//! Erasing a person: every record a search listed, in one request and one transaction, over HTTP. The request
//! erases exactly the records named and counted in the preview, refuses (and erases nothing) when the search
//! now finds another record or one of them was erased meanwhile, and never reaches another account's record.
//! The customer page's Delete is a request of one record.

mod common;

use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::server::erasure::delete_due_objects;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// Copies of Jordan's Lead, with its email and a call and a message each, so that the search for Jordan's
/// email finds `copies` more records. Answers their ids.
async fn add_jordan_duplicates(console: &Console, copies: usize) -> Vec<Uuid> {
    let lead = jordans_lead(&console.pool).await;
    let mut ids = Vec::new();
    for n in 0..copies {
        let id: Uuid = sqlx::query_scalar(
            "insert into customers (account_id, salesforce_id, object_type, name, email)
             select account_id, '00Q' || lpad($2::text, 15, '0'), 'Lead', name, email from customers where id = $1
             returning id",
        )
        .bind(lead)
        .bind(900 + n as i32)
        .fetch_one(&console.pool)
        .await
        .expect("a duplicate of Jordan's Lead");
        console
            .run_sql(&format!(
                "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
                 select account_id, id, 'inbound', '+14155550142', '+14155550100', now() - interval '1 day', 30
                 from customers where id = '{id}';
                 insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
                 select account_id, id, 'outbound', '+14155550100', '+14155550142', 'Hello', now() - interval '2 days'
                 from customers where id = '{id}';"
            ))
            .await;
        ids.push(id);
    }
    ids
}

fn request_form<'a>(ids: &'a str, query: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("customer_ids", ids),
        ("query", query),
        ("confirmation", ERASE_CONFIRMATION),
    ]
}

fn joined(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// (calls, messages) each record had before, as the search listed them: the preview the dialog shows.
async fn preview(alex: &Client, ids: &[Uuid]) -> Vec<(Uuid, i64, i64)> {
    let (status, found) = alex.search_customers(JORDAN).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    ids.iter()
        .map(|id| {
            let record = found["records"]
                .as_array()
                .expect("the search answers records")
                .iter()
                .find(|r| r["id"] == id.to_string())
                .unwrap_or_else(|| panic!("the search lists {id}"));
            (
                *id,
                record["calls"].as_i64().expect("a count of calls"),
                record["messages"].as_i64().expect("a count of messages"),
            )
        })
        .collect()
}

/// Checks that the request answered in `receipt` erased exactly `expected` (records with their preview counts)
/// in one request: each record erased, its receipt and the request's record row counting what the preview
/// showed, no call or message of theirs left.
async fn assert_one_request_erased(
    console: &Console,
    receipt: &Value,
    expected: &[(Uuid, i64, i64)],
) {
    let request: Uuid = receipt["request_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the receipt names its request");
    let state: String = scalar_for(
        &console.pool,
        "select state from erasure_requests where id = $1",
        request,
    )
    .await;
    assert_eq!(state, "completed");
    let records = receipt["records"]
        .as_array()
        .expect("the receipt lists records");
    assert_eq!(records.len(), expected.len(), "{receipt}");
    for (id, calls, messages) in expected {
        let answered = records
            .iter()
            .find(|r| r["customer_id"] == id.to_string())
            .unwrap_or_else(|| panic!("the receipt names {id}: {receipt}"));
        assert_eq!(
            answered["receipt"]["counts"]["calls"].as_i64(),
            Some(*calls)
        );
        assert_eq!(
            answered["receipt"]["counts"]["messages"].as_i64(),
            Some(*messages)
        );
        assert_eq!(
            console.activity(*id).await,
            (0, 0),
            "{id} keeps no activity"
        );
        let (erasure_request, erased_calls, erased_messages): (Uuid, i32, i32) = sqlx::query_as(
            "select request_id, calls_deleted, messages_deleted from erasures where customer_id = $1",
        )
        .bind(id)
        .fetch_one(&console.pool)
        .await
        .expect("the record's erasure");
        assert_eq!(
            erasure_request, request,
            "{id}'s erasure belongs to the request"
        );
        assert_eq!(
            (i64::from(erased_calls), i64::from(erased_messages)),
            (*calls, *messages)
        );
        let previewed: (i32, i32) = sqlx::query_as(
            "select preview_calls, preview_messages from erasure_request_records
             where request_id = $1 and customer_id = $2",
        )
        .bind(request)
        .bind(id)
        .fetch_one(&console.pool)
        .await
        .expect("the record's row in the request");
        assert_eq!(
            (i64::from(previewed.0), i64::from(previewed.1)),
            (*calls, *messages)
        );
    }
    let in_request: i64 = scalar_for(
        &console.pool,
        "select count(*) from erasure_request_records where request_id = $1",
        request,
    )
    .await;
    assert_eq!(in_request, expected.len() as i64);
}

#[sqlx::test]
async fn erasing_a_person_erases_both_records_in_one_request(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let expected = preview(&alex, &[lead, contact]).await;
    assert!(expected.iter().all(|(_, calls, _)| *calls > 0));

    let (status, receipt) = alex
        .post(
            "/api/requests/create",
            &request_form(&joined(&[contact, lead]), JORDAN),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_one_request_erased(&console, &receipt, &expected).await;
    let requests: i64 = scalar(&console.pool, "select count(*) from erasure_requests").await;
    assert_eq!(requests, 1);
}

#[sqlx::test]
async fn a_person_with_five_records_one_already_erased_is_erased_in_one_request(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let copies = add_jordan_duplicates(&console, 3).await;
    let (status, first) = alex.erase(copies[0]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let left = [lead, contact, copies[1], copies[2]];
    let expected = preview(&alex, &left).await;

    let mut named_with_the_erased = left.to_vec();
    named_with_the_erased.push(copies[0]);
    let before = console.snapshot().await;
    let (status, body) = alex
        .post(
            "/api/requests/create",
            &request_form(&joined(&named_with_the_erased), JORDAN),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    console
        .assert_unchanged(&before, "a request naming an erased record")
        .await;

    let (status, receipt) = alex
        .post(
            "/api/requests/create",
            &request_form(&joined(&left), JORDAN),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_one_request_erased(&console, &receipt, &expected).await;
    let requests: i64 = scalar(&console.pool, "select count(*) from erasure_requests").await;
    assert_eq!(requests, 2, "the earlier Delete was a request of its own");
}

#[sqlx::test]
async fn a_new_duplicate_after_the_preview_erases_nothing(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    preview(&alex, &[lead, contact]).await;
    add_jordan_duplicates(&console, 1).await;

    let before = console.snapshot().await;
    let (status, body) = alex
        .post(
            "/api/requests/create",
            &request_form(&joined(&[lead, contact]), JORDAN),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["Conflict"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was erased")),
        "{body}"
    );
    console
        .assert_unchanged(&before, "a request whose search found a new record")
        .await;
}

#[sqlx::test]
async fn another_accounts_admin_cannot_name_these_records(pool: PgPool) {
    let console = Console::start(pool).await;
    let gina = console.client_of(Actor::AdminOfAnotherAccount).await;
    let (lead, contact) = jordans(&console).await;
    let before = console.snapshot().await;
    for (ids, query) in [(joined(&[lead, contact]), JORDAN), (lead.to_string(), "")] {
        let (status, body) = gina
            .post("/api/requests/create", &request_form(&ids, query))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    console
        .assert_unchanged(&before, "another account's request")
        .await;
}

#[sqlx::test]
async fn a_request_names_its_search_unless_it_names_one_record(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let too_many = joined(&vec![lead; 101]);
    let too_long = "x".repeat(201);
    let before = console.snapshot().await;
    for (ids, query, confirmation) in [
        (joined(&[lead, contact]), "", ERASE_CONFIRMATION),
        (too_many, JORDAN, ERASE_CONFIRMATION),
        (lead.to_string(), too_long.as_str(), ERASE_CONFIRMATION),
        (lead.to_string(), JORDAN, "delete"),
    ] {
        let (status, body) = alex
            .post(
                "/api/requests/create",
                &[
                    ("customer_ids", ids.as_str()),
                    ("query", query),
                    ("confirmation", confirmation),
                ],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{ids} {query}: {body}"
        );
    }
    console.assert_unchanged(&before, "refused requests").await;

    let expected = preview(&alex, &[lead]).await;
    let (status, receipt) = alex
        .post("/api/requests/create", &request_form(&lead.to_string(), ""))
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_one_request_erased(&console, &receipt, &expected).await;
    let (status, body) = alex
        .post("/api/requests/create", &request_form(&lead.to_string(), ""))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[sqlx::test]
async fn the_customer_pages_delete_is_a_request_of_one_record(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let (state, records, due_days): (String, i64, f64) = sqlx::query_as(
        "select r.state, (select count(*) from erasure_request_records rr where rr.request_id = r.id),
                extract(epoch from r.due_at - r.received_at)::float8 / 86400
         from erasures e join erasure_requests r on r.id = e.request_id where e.customer_id = $1",
    )
    .bind(lead)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!((state.as_str(), records), ("completed", 1));
    assert_eq!(
        due_days, 30.0,
        "due the account's 30 deadline days after it was received"
    );
}

#[sqlx::test]
async fn requests_are_listed_newest_first_and_shown_with_records_files_and_timeline(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let copy = add_jordan_duplicates(&console, 1).await[0];
    let (status, single) = alex.erase(copy).await;
    assert_eq!(status, StatusCode::OK, "{single}");
    let (status, person) = alex
        .post(
            "/api/requests/create",
            &request_form(&joined(&[lead, contact]), JORDAN),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{person}");
    let person_id = person["request_id"].as_str().expect("a request id");

    let (status, listed) = alex.post("/api/requests/list", &[]).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let requests = listed["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["id"], person_id, "newest first");
    assert_eq!(requests[0]["records"], 2);
    assert_eq!(requests[0]["state"], "completed");
    assert_eq!(requests[0]["requested_by_name"], "Alex Admin");
    assert_eq!(requests[1]["records"], 1);
    assert_eq!(listed["older"], Value::Null);
    let (status, none) = alex
        .post("/api/requests/list", &[("state", "scheduled")])
        .await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none["requests"].as_array().map(Vec::len), Some(0));
    let (status, refused) = alex.post("/api/requests/list", &[("state", "done")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    let (status, detail) = alex
        .post("/api/requests/detail", &[("request_id", person_id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let records = detail["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["erasure_id"].is_string()));
    let files = &detail["files"];
    assert!(files["total"].as_i64().expect("a total") > 0, "{files}");
    assert_eq!(files["deleted"], 0, "the outbox has not run: {files}");
    let timeline: Vec<&str> = detail["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .map(|event| event["what"].as_str().expect("what happened"))
        .collect();
    assert_eq!(timeline, ["Received", "Data deleted"]);

    while delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .expect("the outbox runs")
        .deleted
        > 0
    {}
    let (_, detail) = alex
        .post("/api/requests/detail", &[("request_id", person_id)])
        .await;
    assert_eq!(detail["files"]["deleted"], detail["files"]["total"]);

    let gina = console.client_of(Actor::AdminOfAnotherAccount).await;
    let (status, theirs) = gina.post("/api/requests/list", &[]).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert_eq!(theirs["requests"].as_array().map(Vec::len), Some(0));
    let (status, body) = gina
        .post("/api/requests/detail", &[("request_id", person_id)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
