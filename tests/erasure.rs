//! What an erasure removes and keeps: exactly the record's calls, messages and stored files, a receipt that counts
//! what the dialog showed, the Salesforce mirror kept, nothing without the confirmation word, the same result
//! without an idle pooled connection, and no new activity on an erased record.

mod common;

use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::server::db::customers::page::customer_page;
use customer_data_console::server::db::sessions;
use customer_data_console::server::erasure::{delete_due_objects, erase_customer};
use customer_data_console::server::sessions::{SessionKey, new_token};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

/// (calls, messages) of every customer record but `customer`.
async fn activity_of_all_but(console: &Console, customer: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "select (select count(*) from calls where customer_id <> $1), (select count(*) from messages where customer_id <> $1)",
    )
    .bind(customer)
    .fetch_one(&console.pool)
    .await
    .expect("the other records' activity can be counted")
}

#[sqlx::test]
async fn erasing_one_record_removes_exactly_its_data_and_writes_a_matching_receipt(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let contact_before = console.activity(contact).await;
    let contact_keys = console.stored_keys(contact).await;
    let lead_keys = console.stored_keys(lead).await;
    assert!(!lead_keys.is_empty(), "the demo Lead has recordings");
    let others_before = activity_of_all_but(&console, lead).await;

    let (status, detail) = alex.customer_detail(&lead.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let shown: Value = detail["pending"].clone();
    assert_eq!(
        shown["calls"].as_i64().unwrap() as usize,
        detail["calls"].as_array().unwrap().len()
    );

    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        receipt["counts"], shown,
        "the receipt counts what the dialog showed"
    );
    assert_eq!(receipt["erased_by_name"], json!("Alex Admin"));

    assert_eq!(console.activity(lead).await, (0, 0));
    assert_eq!(
        console.activity(contact).await,
        contact_before,
        "the other record keeps its data"
    );
    assert_eq!(activity_of_all_but(&console, lead).await, others_before);

    let row: (i32, i32, i32, i32, i32, i32, Uuid, String) = sqlx::query_as(
        "select calls_deleted, recordings_deleted, voicemails_deleted, transcripts_deleted, messages_deleted,
                media_deleted, erased_by, object_type from erasures where customer_id = $1",
    )
    .bind(lead)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(i64::from(row.0), shown["calls"].as_i64().unwrap());
    assert_eq!(i64::from(row.1), shown["recordings"].as_i64().unwrap());
    assert_eq!(i64::from(row.2), shown["voicemails"].as_i64().unwrap());
    assert_eq!(i64::from(row.3), shown["transcripts"].as_i64().unwrap());
    assert_eq!(i64::from(row.4), shown["messages"].as_i64().unwrap());
    assert_eq!(i64::from(row.5), shown["media"].as_i64().unwrap());
    assert_eq!(row.6, console.user_id(ALEX).await);
    assert_eq!(row.7, "Lead");
    let (name, email): (String, Option<String>) =
        sqlx::query_as("select name, email from customers where id = $1")
            .bind(lead)
            .fetch_one(&console.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), email.as_deref()),
        ("Jordan Rivera", Some(JORDAN)),
        "the Salesforce mirror stays"
    );

    let queued: Vec<String> = column(
        &console.pool,
        "select unnest(object_keys) as object_key from object_deletions order by 1",
    )
    .await;
    let mut expected = lead_keys.clone();
    expected.sort();
    assert_eq!(
        queued, expected,
        "every stored object of the record is queued"
    );

    let storage = &console.state.storage;
    while delete_due_objects(&console.pool, storage, 100)
        .await
        .unwrap()
        .deleted
        > 0
    {}
    for key in &lead_keys {
        assert!(!storage.exists(key).await.unwrap(), "{key} is still stored");
    }
    for key in &contact_keys {
        assert!(
            storage.exists(key).await.unwrap(),
            "{key} of the other record was deleted"
        );
    }
    let left: i64 = scalar(&console.pool, "select count(*) from object_deletions").await;
    assert_eq!(left, 0);

    let (status, detail) = alex.customer_detail(&lead.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["calls"], json!([]));
    assert_eq!(detail["messages"], json!([]));
    assert_eq!(detail["erasure"]["counts"], shown);
}

#[sqlx::test]
async fn a_missing_or_wrong_confirmation_erases_nothing(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let id = lead.to_string();
    let lower_case = ERASE_CONFIRMATION.to_lowercase();
    let leading_space = format!(" {ERASE_CONFIRMATION}");
    let before = console.snapshot().await;
    for form in [
        vec![("customer_id", id.as_str())],
        vec![("customer_id", id.as_str()), ("confirmation", "")],
        vec![("customer_id", id.as_str()), ("confirmation", &lower_case)],
        vec![
            ("customer_id", id.as_str()),
            ("confirmation", &leading_space),
        ],
        erase_form("not-a-uuid").to_vec(),
    ] {
        let (status, body) = alex.post("/api/customers/erase", &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}: {body}");
    }
    let (status, _) = alex.erase(Uuid::new_v4()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(console.snapshot().await, before);
}

/// With every pooled connection busy, the erasure counts in its own transaction, before it deletes, instead of
/// beside it; the receipt and the outbox are the same.
#[sqlx::test]
async fn an_erasure_without_an_idle_connection_counts_in_its_own_transaction(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let (lead, _) = jordans(&console).await;
    let (account, alex): (Uuid, Uuid) = sqlx::query_as(
        "select c.account_id, u.id from customers c join users u using (account_id) where c.id = $1 and u.email = $2",
    )
    .bind(lead)
    .bind(ALEX)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    let expected = customer_page(
        &console.pool,
        &console.state.keyring,
        account,
        lead,
        None,
        None,
    )
    .await
    .unwrap()
    .unwrap()
    .pending;
    let mut keys = console.stored_keys(lead).await;
    assert!(expected.calls > 0 && expected.messages > 0 && !keys.is_empty());

    let one_connection = PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*console.pool.connect_options()).clone())
        .await
        .unwrap();
    let alex_session = SessionKey::of_token(&new_token());
    sessions::start(&console.pool, &alex_session, alex, None, 12)
        .await
        .unwrap();
    let erased = erase_customer(&one_connection, &alex_session, account, lead)
        .await
        .unwrap();
    assert_eq!(erased.counts, expected);
    assert_eq!(console.activity(lead).await, (0, 0));
    let mut queued: Vec<String> = column_for(
        &console.pool,
        "select unnest(object_keys) from object_deletions where erasure_id = $1",
        erased.erasure_id,
    )
    .await;
    keys.sort();
    queued.sort();
    assert_eq!(queued, keys);
}

#[sqlx::test]
async fn an_erased_record_takes_no_new_calls_or_messages(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let (status, _) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK);
    let call = sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
         select account_id, id, 'inbound', '+1', '+2', now(), 10 from customers where id = $1",
    )
    .bind(lead)
    .execute(&console.pool)
    .await;
    assert_refused_as_erased(call, lead);
    let message = sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select account_id, id, 'inbound', '+1', '+2', 'hi', now() from customers where id = $1",
    )
    .bind(lead)
    .execute(&console.pool)
    .await;
    assert_refused_as_erased(message, lead);
}
