//! Who may search, view and erase customer records: every actor without access is refused on each customer
//! data endpoint with the database unchanged, and another account's Admin cannot reach a record by its id.

mod common;

use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test]
async fn every_actor_without_access_is_refused_and_nothing_changes(pool: PgPool) {
    let console = Console::start(pool).await;
    let (lead, _) = jordans(&console).await;
    let lead = lead.to_string();
    // Blair: an Admin without the permission; Alex: holds it, but the setting is off for this part.
    console.set_permission(ALEX, true).await;
    let mut cases = vec![("signed out", console.anonymous(), StatusCode::UNAUTHORIZED)];
    for (who, email) in [
        ("agent", CASEY),
        ("admin without the permission", BLAIR),
        ("admin with the permission, setting off", ALEX),
        ("admin of another account", GINA),
    ] {
        cases.push((who, console.signed_in(email).await, StatusCode::FORBIDDEN));
    }
    for (who, client, expected) in &cases {
        let before = console.snapshot().await;
        let calls: [(&str, Vec<(&str, &str)>); 3] = [
            ("/api/customers/search", vec![("query", JORDAN)]),
            ("/api/customers/detail", vec![("customer_id", &lead)]),
            (
                "/api/customers/erase",
                vec![("customer_id", &lead), ("confirmation", ERASE_CONFIRMATION)],
            ),
        ];
        for (path, form) in calls {
            let (status, body) = client.post(path, &form).await;
            assert_eq!(status, *expected, "{who} on {path}: {body}");
            assert_no_internal_text(&body);
        }
        assert_eq!(
            console.snapshot().await,
            before,
            "{who} changed the database"
        );
    }
}

#[sqlx::test]
async fn another_accounts_admin_cannot_see_or_erase_a_record_by_its_id(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(GINA, true).await;
    console.set_permission(GINA, true).await;
    let gina = console.signed_in(GINA).await;
    let (lead, _) = jordans(&console).await;
    let before = console.snapshot_outside_the_audit_log().await;
    let (status, body) = gina.customer_detail(&lead.to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = gina.erase(lead).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, found) = gina.search_customers(JORDAN).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found, json!({"records": [], "more": false}));
    assert_eq!(console.snapshot_outside_the_audit_log().await, before);
    let searched: Vec<String> =
        column(&console.pool, "select action from audit_log order by seq").await;
    assert_eq!(
        searched,
        ["signed_in", "customer_searched"],
        "only Gina's sign-in and search are appended, to Globex's log"
    );
}
