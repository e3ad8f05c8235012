//! On a seeded synthetic tenant: the queries behind search, the customer page and the erasure read customers,
//! calls and messages through indexes only (no sequential scan), and the `seed` data has the promised shapes,
//! its values sealed.

mod common;

use std::sync::Arc;

use common::test_keyring;
use customer_data_console::salesforce::SalesforceId;
use customer_data_console::server::db::customers::page::{CUSTOMER_PAGE_SQL, SAME_EMAIL_SQL};
use customer_data_console::server::db::customers::search::{
    listed_in_account_sql, search_in_session_sql, search_sql,
};
use customer_data_console::server::erasure::{
    COUNT_AND_QUEUE_SQL, DELETE_ACTIVITY_SQL, LOCK_CUSTOMERS_SQL, MARK_ERASED_SQL,
};
use customer_data_console::server::input::CustomerQuery;
use customer_data_console::server::keys::Keyring;
use customer_data_console::server::sessions::SessionKey;
use customer_data_console::server::storage::{MEDIA, RECORDINGS, account_key_pattern};
use customer_data_console::server::synthetic::{self, HEAVY_ACTIVITY, HEAVY_EMAIL, Size};
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Row};
use uuid::Uuid;

const SIZE: Size = Size {
    customers: 5_000,
    calls: 60_000,
    messages: 60_000,
};
const WATCHED: [&str; 3] = ["customers", "calls", "messages"];

fn sequential_scans(plan: &Value, found: &mut Vec<String>) {
    match plan {
        Value::Object(node) => {
            if node.get("Node Type").and_then(Value::as_str) == Some("Seq Scan") {
                let relation = node
                    .get("Relation Name")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned();
                if WATCHED.contains(&relation.as_str()) {
                    found.push(relation);
                }
            }
            node.values().for_each(|v| sequential_scans(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| sequential_scans(v, found)),
        _ => {}
    }
}

async fn assert_index_only(pool: &PgPool, name: &str, query: Query<'_, Postgres, PgArguments>) {
    let row = query
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN {name}: {e}"));
    let plan: Value = row.get(0);
    let mut scans = Vec::new();
    sequential_scans(&plan, &mut scans);
    assert!(
        scans.is_empty(),
        "{name} scans {scans:?} sequentially:\n{plan:#}"
    );
}

/// The synthetic tenant seeded: its account, its heavy customer, and the keyring its values are sealed with
/// (with the folder of its root file).
async fn seeded(pool: &PgPool) -> (Uuid, Uuid, Arc<Keyring>, tempfile::TempDir) {
    let keys = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(pool, keys.path()).await;
    let report = synthetic::seed(pool, &keyring, SIZE, false)
        .await
        .expect("seed");
    (report.account_id, report.heavy_customer_id, keyring, keys)
}

#[sqlx::test]
async fn search_page_and_erasure_queries_use_indexes(pool: PgPool) {
    let (account, heavy, _keyring, _keys) = seeded(&pool).await;
    let sf: String = sqlx::query_scalar("select salesforce_id from customers where id = $1")
        .bind(heavy)
        .fetch_one(&pool)
        .await
        .unwrap();
    let by_email = CustomerQuery::Email("person42@loadtest.example".into());
    let by_id = CustomerQuery::SalesforceId(SalesforceId::parse(&sf).unwrap());
    let by_phone = CustomerQuery::Phone("+14155550042".into());
    for (name, query) in [
        ("search by email", &by_email),
        ("search by Salesforce id", &by_id),
        ("search by phone", &by_phone),
    ] {
        let (sql, value) = search_sql(query);
        let explain = format!("explain (format json) {sql}");
        assert_index_only(
            &pool,
            name,
            sqlx::query(&explain)
                .bind(account)
                .bind(value)
                .bind(100_i64),
        )
        .await;
        let (sql, value) = listed_in_account_sql(query);
        let explain = format!("explain (format json) {sql}");
        assert_index_only(
            &pool,
            &format!("{name}, uncounted, as an erasure checks it"),
            sqlx::query(&explain)
                .bind(account)
                .bind(value)
                .bind(100_i64),
        )
        .await;
        let (sql, value) = search_in_session_sql(query);
        let explain = format!("explain (format json) {sql}");
        assert_index_only(
            &pool,
            &format!("{name} with the session lookup"),
            sqlx::query(&explain)
                .bind(SessionKey::of_token("any").as_bytes().to_vec())
                .bind(value)
                .bind(100_i64),
        )
        .await;
    }
    let explain = |sql: &str| format!("explain (format json) {sql}");
    let page = explain(CUSTOMER_PAGE_SQL);
    let cursor_at = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let cursor = Some((cursor_at, Uuid::max()));
    for (calls_before, messages_before) in [
        (None, None),
        (cursor, None),
        (None, cursor),
        (cursor, cursor),
    ] {
        let q = sqlx::query(&page)
            .bind(account)
            .bind(heavy)
            .bind(calls_before.map(|(at, _)| at))
            .bind(calls_before.map(|(_, id)| id))
            .bind(51_i64)
            .bind(messages_before.map(|(at, _)| at))
            .bind(messages_before.map(|(_, id)| id));
        assert_index_only(&pool, "customer page", q).await;
    }
    let e = explain(LOCK_CUSTOMERS_SQL);
    assert_index_only(
        &pool,
        "lock",
        sqlx::query(&e).bind(account).bind(vec![heavy]),
    )
    .await;
    let e = explain(SAME_EMAIL_SQL);
    assert_index_only(
        &pool,
        "records with the same email",
        sqlx::query(&e).bind(account).bind(heavy).bind(100_i64),
    )
    .await;
    for (name, sql) in [
        ("delete messages with media", DELETE_ACTIVITY_SQL[0]),
        ("delete messages", DELETE_ACTIVITY_SQL[1]),
        ("delete calls", DELETE_ACTIVITY_SQL[2]),
    ] {
        let e = explain(sql);
        assert_index_only(&pool, name, sqlx::query(&e).bind(account).bind(heavy)).await;
    }
    let e = explain(COUNT_AND_QUEUE_SQL);
    assert_index_only(
        &pool,
        "count and queue",
        sqlx::query(&e)
            .bind(account)
            .bind(heavy)
            .bind(Uuid::new_v4())
            .bind(account_key_pattern(RECORDINGS, account))
            .bind(account_key_pattern(MEDIA, account)),
    )
    .await;
    let e = explain(MARK_ERASED_SQL);
    let mut mark = sqlx::query(&e)
        .bind(account)
        .bind(heavy)
        .bind(Uuid::new_v4())
        .bind(Uuid::new_v4());
    for count in 0..6_i32 {
        mark = mark.bind(count);
    }
    let now = Some(time::OffsetDateTime::now_utc());
    let refused = 0_i32;
    let request = Uuid::new_v4();
    assert_index_only(
        &pool,
        "mark erased",
        mark.bind(now).bind(now).bind(refused).bind(request),
    )
    .await;
}

#[sqlx::test]
async fn the_seed_has_duplicates_a_heavy_customer_and_valid_ids(pool: PgPool) {
    let (account, heavy, keyring, _keys) = seeded(&pool).await;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from customers where account_id = $1), (select count(*) from calls where account_id = $1),
                (select count(*) from messages where account_id = $1)",
    )
    .bind(account)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        counts,
        (
            SIZE.customers as i64,
            SIZE.calls as i64,
            SIZE.messages as i64
        )
    );

    let plaintext: i64 = sqlx::query_scalar(
        "select (select count(*) from calls where from_number is not null or to_number is not null
                     or transcript is not null or from_number_sealed is null)
              + (select count(*) from messages where body is not null or from_number is not null
                     or body_sealed is null)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(plaintext, 0, "every value is stored sealed");
    let (message, body): (Uuid, Vec<u8>) = sqlx::query_as(
        "select id, body_sealed from messages where customer_id = $1 order by id limit 1",
    )
    .bind(heavy)
    .fetch_one(&pool)
    .await
    .unwrap();
    let opener = keyring
        .opener(account, heavy)
        .await
        .expect("the heavy customer's key");
    assert_eq!(
        opener.required("messages", "body", message, None, Some(&body)),
        Ok("Synthetic message 0".to_owned())
    );

    let heavy_row: (String, i64, i64) = sqlx::query_as(
        "select email, (select count(*) from calls where customer_id = $1), (select count(*) from messages where customer_id = $1)
         from customers where id = $1",
    )
    .bind(heavy)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        heavy_row,
        (
            HEAVY_EMAIL.to_owned(),
            HEAVY_ACTIVITY as i64,
            HEAVY_ACTIVITY as i64
        )
    );

    let shared: Vec<(String, Vec<String>)> = sqlx::query_as(
        "select lower(email), array_agg(object_type order by object_type) from customers where account_id = $1
         group by lower(email) having count(*) > 1",
    )
    .bind(account)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        shared.len() >= (SIZE.customers / 10 - 1) as usize,
        "{} shared emails",
        shared.len()
    );
    assert!(
        shared
            .iter()
            .all(|(_, types)| types == &vec!["Contact".to_owned(), "Lead".to_owned()])
    );

    let ids: Vec<(String, String)> =
        sqlx::query_as("select salesforce_id, object_type from customers where account_id = $1")
            .bind(account)
            .fetch_all(&pool)
            .await
            .unwrap();
    for (id, object_type) in &ids {
        let parsed = SalesforceId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(parsed.as_str(), id, "stored ids are canonical");
        assert_eq!(parsed.object_type(), Some(object_type.as_str()));
    }

    let busiest: i64 = sqlx::query_scalar(
        "select max(n) from (select count(*) as n from calls where account_id = $1 and customer_id <> $2 group by customer_id) t",
    )
    .bind(account)
    .bind(heavy)
    .fetch_one(&pool)
    .await
    .unwrap();
    let typical = SIZE.calls as i64 / SIZE.customers as i64;
    assert!(
        busiest > 5 * typical,
        "a long tail: busiest {busiest}, typical {typical}"
    );
    let recordings: i64 = sqlx::query_scalar(
        "select count(*) from calls where account_id = $1 and recording_key like 'recordings/%'",
    )
    .bind(account)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(recordings > SIZE.calls as i64 / 4);

    let triggers_back: bool = sqlx::query_scalar(
        "select count(*) = 2 from pg_trigger where tgname in ('calls_refuse_erased', 'messages_refuse_erased') and tgenabled = 'O'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(triggers_back);
    let indexes: i64 = sqlx::query_scalar(
        "select count(*) from pg_indexes where indexname in ('calls_customer_started_idx', 'messages_customer_sent_idx', 'customers_account_email_idx')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, 3, "the indexes dropped for the load are back");
}
