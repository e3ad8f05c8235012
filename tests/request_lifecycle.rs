//! The erasure policy and the life of a held request, over HTTP against a real Postgres: a hold keeps the
//! records untouched until the scheduler runs the request when it is due (an injected clock, no sleeping),
//! cancelling leaves everything, erase-now runs at once, the requester's own approval is refused in the server,
//! another Admin's approval runs it, a rejection keeps everything, a request that cannot run fails with its
//! reason and can be tried again, and two schedulers never run one request twice.

mod common;

use common::*;
use customer_data_console::server::erasure::run_due;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

async fn state_of(console: &Console, request: &str) -> String {
    scalar_for(
        &console.pool,
        "select state from erasure_requests where id = $1",
        Uuid::parse_str(request).expect("a request id"),
    )
    .await
}

/// Whether both of Jordan's records are erased, and how many `erasures` rows they have.
async fn jordan_erased(console: &Console) -> (bool, bool, i64) {
    let (lead, contact) = jordans(console).await;
    let erased = |id: Uuid| async move {
        console
            .count(
                "select count(*) from customers where id = $1 and erased_at is not null",
                id,
            )
            .await
            == 1
    };
    let receipts = console
        .count("select count(*) from erasures where customer_id = $1", lead)
        .await
        + console
            .count(
                "select count(*) from erasures where customer_id = $1",
                contact,
            )
            .await;
    (erased(lead).await, erased(contact).await, receipts)
}

async fn with_blair_too(pool: PgPool) -> (Console, Client, Client) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    console.set_permission(BLAIR, true).await;
    let blair = console.signed_in(BLAIR).await;
    (console, alex, blair)
}

#[sqlx::test]
async fn a_held_request_waits_and_the_scheduler_runs_it_once_it_is_due(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    set_policy(&alex, "24", "", "").await;
    let (lead, contact) = jordans(&console).await;
    let before = (
        console.activity(lead).await,
        console.activity(contact).await,
    );

    let request = request_jordan(&alex, &console).await;
    assert_eq!(request["state"], "scheduled", "{request}");
    assert_eq!(request["records"], Value::Array(vec![]));
    assert!(!request["not_before"].is_null(), "{request}");
    let id = request_id_of(&request);
    let (hold, not_before): (i64, OffsetDateTime) = sqlx::query_as(
        "select extract(epoch from not_before - received_at)::bigint, not_before from erasure_requests
         where id = $1",
    )
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(hold, 24 * 3600);
    let (_, page) = alex
        .post("/api/requests/detail", &[("request_id", &id)])
        .await;
    assert_eq!(page["summary"]["state"], "scheduled");
    assert_eq!(page["actions"]["cancel"], true);
    assert_eq!(page["actions"]["erase_now"], true);
    assert_eq!(page["actions"]["decide"], false);
    let shown = |id: Uuid| {
        page["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["customer_id"] == id.to_string())
            .map(|r| {
                (
                    r["calls"].as_i64().unwrap(),
                    r["messages"].as_i64().unwrap(),
                )
            })
    };
    assert_eq!(shown(lead), Some(before.0), "the preview of the Lead");
    assert_eq!(shown(contact), Some(before.1), "the preview of the Contact");

    let pass = run_due(&console.pool, Some(OffsetDateTime::now_utc()))
        .await
        .unwrap();
    assert_eq!(pass.erased, 0, "not due yet");
    assert_eq!(jordan_erased(&console).await, (false, false, 0));
    assert_eq!(console.activity(lead).await, before.0);

    let pass = run_due(&console.pool, Some(not_before + Duration::minutes(1)))
        .await
        .unwrap();
    assert_eq!(pass.erased, 1);
    assert_eq!(state_of(&console, &id).await, "completed");
    assert_eq!(jordan_erased(&console).await, (true, true, 2));
    assert_eq!(console.activity(lead).await, (0, 0));
    let erased_by: String = scalar_for(
        &console.pool,
        "select u.email from erasures e join users u on u.id = e.erased_by where e.customer_id = $1",
        lead,
    )
    .await;
    assert_eq!(erased_by, ALEX, "the scheduler erases as the requester");

    let again = run_due(&console.pool, Some(not_before + Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(again.erased, 0, "a completed request never runs again");
}

#[sqlx::test]
async fn cancelling_a_held_request_leaves_everything(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    set_policy(&alex, "24", "", "").await;
    let id = request_id_of(&request_jordan(&alex, &console).await);
    let before = console
        .snapshot_except(&["erasure_requests", "audit_log", "audit_heads"])
        .await;

    let (status, page) = alex
        .post("/api/requests/cancel", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["summary"]["state"], "cancelled");
    assert_eq!(page["actions"]["cancel"], false);
    let pass = run_due(
        &console.pool,
        Some(OffsetDateTime::now_utc() + Duration::days(2)),
    )
    .await
    .unwrap();
    assert_eq!(pass.erased, 0);
    assert_eq!(
        console
            .snapshot_except(&["erasure_requests", "audit_log", "audit_heads"])
            .await,
        before,
        "a cancelled request changed the database"
    );
    let (status, refused) = alex
        .post("/api/requests/erase-now", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (status, _) = alex
        .post("/api/requests/cancel", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[sqlx::test]
async fn erase_now_runs_a_held_request_at_once(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    set_policy(&alex, "24", "", "").await;
    let id = request_id_of(&request_jordan(&alex, &console).await);
    let (status, page) = alex
        .post("/api/requests/erase-now", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["summary"]["state"], "completed");
    assert!(
        page["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["erasure_id"].is_string())
    );
    assert_eq!(jordan_erased(&console).await, (true, true, 2));
    let timeline: Vec<&str> = page["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(timeline, ["Received", "Data deleted"]);
}

#[sqlx::test]
async fn the_requester_cannot_approve_and_another_admins_approval_runs_it(pool: PgPool) {
    let (console, alex, blair) = with_blair_too(pool).await;
    set_policy(&alex, "0", "2", "").await;
    let request = request_jordan(&alex, &console).await;
    assert_eq!(request["state"], "awaiting_approval", "{request}");
    let id = request_id_of(&request);
    assert_eq!(jordan_erased(&console).await, (false, false, 0));

    let (_, own_page) = alex
        .post("/api/requests/detail", &[("request_id", &id)])
        .await;
    assert_eq!(own_page["actions"]["decide"], false);
    let (status, refused) = alex
        .post("/api/requests/approve", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, _) = alex
        .post(
            "/api/requests/reject",
            &[("request_id", &id), ("reason", "mine")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(state_of(&console, &id).await, "awaiting_approval");
    assert_eq!(jordan_erased(&console).await, (false, false, 0));

    let (_, blairs_page) = blair
        .post("/api/requests/detail", &[("request_id", &id)])
        .await;
    assert_eq!(blairs_page["actions"]["decide"], true);
    let (status, page) = blair
        .post("/api/requests/approve", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["summary"]["state"], "completed");
    assert_eq!(jordan_erased(&console).await, (true, true, 2));
    let timeline: Vec<(String, Value)> = page["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["what"].as_str().unwrap().to_owned(), e["by"].clone()))
        .collect();
    assert_eq!(
        timeline[1],
        ("Approved".to_owned(), Value::from("Blair Admin"))
    );
}

#[sqlx::test]
async fn a_rejection_keeps_everything_and_says_why(pool: PgPool) {
    let (console, alex, blair) = with_blair_too(pool).await;
    set_policy(&alex, "0", "", "1").await;
    let request = request_jordan(&alex, &console).await;
    assert_eq!(request["state"], "awaiting_approval", "{request}");
    let id = request_id_of(&request);
    let before = console
        .snapshot_except(&["erasure_requests", "audit_log", "audit_heads"])
        .await;

    let (status, refused) = blair
        .post(
            "/api/requests/reject",
            &[("request_id", &id), ("reason", "  ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, page) = blair
        .post(
            "/api/requests/reject",
            &[("request_id", &id), ("reason", "Not the same person")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["summary"]["state"], "rejected");
    let last = page["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["what"], "Rejected: Not the same person");
    assert_eq!(last["by"], "Blair Admin");
    assert_eq!(
        console
            .snapshot_except(&["erasure_requests", "audit_log", "audit_heads"])
            .await,
        before,
        "a rejected request changed the database"
    );
    let (status, _) = blair
        .post("/api/requests/approve", &[("request_id", &id)])
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a rejected request stays rejected"
    );
}

#[sqlx::test]
async fn the_single_record_delete_follows_the_policy(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    set_policy(&alex, "48", "", "").await;
    let (lead, _) = jordans(&console).await;
    let before = console.activity(lead).await;
    let (status, answer) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["state"], "scheduled");
    assert_eq!(console.activity(lead).await, before);
    let (_, page) = alex
        .post(
            "/api/customers/detail",
            &[("customer_id", &lead.to_string())],
        )
        .await;
    assert_eq!(page["held"]["state"], "scheduled", "{page}");
    assert_eq!(page["held"]["request_id"], answer["request_id"]);
    assert_eq!(page["policy"]["hold_hours"], 48);
    let (_, open) = alex.post("/api/requests/open", NO_FIELDS).await;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open[0]["records"].as_i64(), Some(1));

    set_policy(&alex, "0", "", "").await;
    let (_, contact) = jordans(&console).await;
    let (status, receipt) = alex.erase(contact).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert!(
        receipt["erasure_id"].is_string(),
        "hold 0 erases at once: {receipt}"
    );
}

#[sqlx::test]
async fn a_request_that_cannot_run_fails_with_its_reason_and_can_be_tried_again(pool: PgPool) {
    let (console, alex, blair) = with_blair_too(pool).await;
    set_policy(&alex, "1", "", "").await;
    let id = request_id_of(&request_jordan(&alex, &console).await);
    console.set_permission(ALEX, false).await;

    let due = OffsetDateTime::now_utc() + Duration::hours(2);
    let pass = run_due(&console.pool, Some(due)).await.unwrap();
    assert_eq!((pass.erased, pass.failed), (0, 1));
    let (_, page) = blair
        .post("/api/requests/detail", &[("request_id", &id)])
        .await;
    assert_eq!(page["summary"]["state"], "failed");
    let failure = page["summary"]["failure"].as_str().unwrap_or_default();
    assert!(
        failure.starts_with("Its requester may no longer erase"),
        "{failure}"
    );
    assert_eq!(page["actions"]["erase_now"], true);
    assert_eq!(jordan_erased(&console).await, (false, false, 0));
    assert_eq!(run_due(&console.pool, Some(due)).await.unwrap().failed, 0);

    let (status, page) = blair
        .post("/api/requests/erase-now", &[("request_id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["summary"]["state"], "completed");
    assert_eq!(page["summary"]["failure"], Value::Null);
    let whats: Vec<&str> = page["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats.len(), 3, "{whats:?}");
    assert!(whats[1].starts_with("Failed: Its requester"), "{whats:?}");
    assert_eq!(whats[2], "Data deleted");
    assert_eq!(jordan_erased(&console).await, (true, true, 2));
}

#[sqlx::test]
async fn two_schedulers_on_one_database_run_a_due_request_once(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    set_policy(&alex, "1", "", "").await;
    let id = request_id_of(&request_jordan(&alex, &console).await);
    let other_instance = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with((*console.pool.connect_options()).clone())
        .await
        .unwrap();
    let due = Some(OffsetDateTime::now_utc() + Duration::hours(2));
    let (first, second) = tokio::join!(run_due(&console.pool, due), run_due(&other_instance, due));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.erased + second.erased, 1, "{first:?} {second:?}");
    assert_eq!(first.failed + second.failed, 0);
    assert_eq!(state_of(&console, &id).await, "completed");
    assert_eq!(jordan_erased(&console).await, (true, true, 2));
}

#[sqlx::test]
async fn the_policy_is_saved_by_an_admin_checked_and_audited(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (status, policy) = alex
        .post("/api/settings/erasure-policy/current", NO_FIELDS)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        policy,
        serde_json::json!({"hold_hours": 0, "deadline_days": 30, "approval_min_records": null, "approval_min_items": null})
    );
    let before = console.snapshot().await;
    for (hold, deadline) in [("-1", "30"), ("24", "0"), ("x", "30"), ("8761", "30")] {
        let (status, refused) = alex
            .post(
                "/api/settings/erasure-policy",
                &[("hold_hours", hold), ("deadline_days", deadline)],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{hold} {deadline}: {refused}"
        );
    }
    console.assert_unchanged(&before, "a refused policy").await;
    set_policy(&alex, "24", "2", "").await;
    set_policy(&alex, "24", "2", "").await;
    let audited: i64 = scalar(
        &console.pool,
        "select count(*) from audit_log where action = 'erasure_policy_changed'",
    )
    .await;
    assert_eq!(audited, 1, "saving the same policy again records nothing");
    let (lead, _) = jordans(&console).await;
    let request = request_jordan(&alex, &console).await;
    assert_eq!(request["state"], "awaiting_approval");
    let due_days: i64 = scalar_for(
        &console.pool,
        "select extract(day from due_at - received_at)::bigint from erasure_requests r
         join erasure_request_records rr on rr.request_id = r.id where rr.customer_id = $1",
        lead,
    )
    .await;
    assert_eq!(due_days, 30);
}
