//! Stored files belong to one account: the schema refuses a stored key outside its row's account, an erasure
//! neither deletes nor counts another account's files, and the outbox worker deletes only under the account's
//! prefixes.

mod common;

use common::*;
use customer_data_console::server::erasure::{OutboxPass, delete_due_objects};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// A recording key of one of Globex's calls and a media key of one of its messages, both with their file in the
/// store.
async fn globex_keys(console: &Console) -> (String, String) {
    let keys: (String, String) = sqlx::query_as(
        "select (select c.recording_key from calls c join accounts a on a.id = c.account_id
                 where a.name = 'Globex' and c.recording_key is not null order by c.id limit 1),
                (select m.media_keys[1] from messages m join accounts a on a.id = m.account_id
                 where a.name = 'Globex' and cardinality(m.media_keys) > 0 order by m.id limit 1)",
    )
    .fetch_one(&console.pool)
    .await
    .expect("the demo data gives Globex a recording and a media file");
    for key in [&keys.0, &keys.1] {
        assert!(
            console
                .state
                .storage
                .exists(key)
                .await
                .expect("the object store folder can be read"),
            "{key} is stored"
        );
    }
    keys
}

/// Runs each of `statements` with `$1` the record and `$2` the value, and asserts that `constraint` refused it.
async fn assert_refused_by<T>(
    console: &Console,
    constraint: &str,
    statements: [&str; 2],
    record: Uuid,
    value: &T,
) where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + std::fmt::Debug
        + Sync,
{
    for sql in statements {
        let result = sqlx::query(sql)
            .bind(record)
            .bind(value)
            .execute(&console.pool)
            .await;
        let refused_by = result
            .err()
            .and_then(|err| err.as_database_error()?.constraint().map(str::to_owned));
        assert_eq!(refused_by.as_deref(), Some(constraint), "{value:?}: {sql}");
    }
}

/// Erases `record` as `client`, which must succeed, lets the outbox delete what it queued, and returns the
/// receipt.
async fn erase_with_its_files(console: &Console, client: &Client, record: Uuid) -> Value {
    let (status, receipt) = client.erase(record).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    while delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .expect("the outbox pass runs")
        .deleted
        > 0
    {}
    receipt
}

/// A call or message holds only stored keys under its own account's prefix for its kind
/// (`recordings/<account>/...`, `media/<account>/...`): the schema refuses another account's key, a key of the
/// other kind, a key of no account, and a key that is only the prefix, on insert and on update.
#[sqlx::test]
async fn the_schema_refuses_a_stored_key_outside_the_rows_account(pool: PgPool) {
    let console = Console::start(pool).await;
    let (lead, _) = jordans(&console).await;
    let acme = console.account_of(lead).await;
    let (globex_recording, globex_media) = globex_keys(&console).await;
    let update_call = "update calls set recording_key = $2 where id = (select id from calls where customer_id = $1 limit 1)";
    let insert_call = "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                                          duration_seconds, recording_key)
         select account_id, id, 'inbound', '+14155550001', '+14155559000', now(), 5, $2 from customers where id = $1";
    for key in [
        globex_recording.clone(),
        format!("media/{acme}/new/0.jpg"),
        format!("recordings/{acme}"),
        format!("recordings/{acme}/"),
        "recordings/batch/7.wav".to_owned(),
    ] {
        let calls = [update_call, insert_call];
        assert_refused_by(
            &console,
            "calls_recording_key_in_account",
            calls,
            lead,
            &key,
        )
        .await;
    }
    let own_media = format!("media/{acme}/new/0.jpg");
    let update_message = "update messages set media_keys = $2 where id = (select id from messages where customer_id = $1 limit 1)";
    let insert_message = "insert into messages (account_id, customer_id, direction, from_number, to_number, body,
                                                sent_at, media_keys)
         select account_id, id, 'inbound', '+14155550001', '+14155559000', 'hello', now(), $2 from customers where id = $1";
    for keys in [
        vec![globex_media.clone()],
        vec![own_media.clone(), globex_media.clone()],
        vec![globex_recording.clone()],
    ] {
        let messages = [update_message, insert_message];
        assert_refused_by(
            &console,
            "messages_media_keys_in_account",
            messages,
            lead,
            &keys,
        )
        .await;
    }
    sqlx::query(insert_message)
        .bind(lead)
        .bind(vec![own_media])
        .execute(&console.pool)
        .await
        .expect("the account's own key is taken");
    sqlx::query(insert_call)
        .bind(lead)
        .bind(format!("recordings/{acme}/new.wav"))
        .execute(&console.pool)
        .await
        .expect("the account's own key is taken");
}

/// The red-team proof: with a Globex recording key on an Acme call (and a Globex media key beside Acme's own on an
/// Acme message), Acme's erasure erased the call and message rows but deleted Globex's files and counted them
/// on Acme's receipt. Such keys can no longer be written (above); these stand for keys written before the schema
/// checked them, so the test drops the checks on its own database. The erasure erases the rows, neither queues,
/// deletes nor counts Globex's files, and counts the refused keys apart.
#[sqlx::test]
async fn an_erasure_neither_deletes_nor_counts_another_accounts_files(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let acme = console.account_of(lead).await;
    let (globex_recording, globex_media) = globex_keys(&console).await;
    sqlx::raw_sql(
        "alter table calls drop constraint if exists calls_recording_key_in_account;
         alter table messages drop constraint if exists messages_media_keys_in_account",
    )
    .execute(&console.pool)
    .await
    .unwrap();
    for (sql, globex_key) in [
        (
            "update calls set recording_key = $2, is_voicemail = false
             where id = (select id from calls where customer_id = $1 order by id limit 1)",
            &globex_recording,
        ),
        (
            "update messages set media_keys = media_keys || $2
             where id = (select id from messages where customer_id = $1 order by id limit 1)",
            &globex_media,
        ),
    ] {
        sqlx::query(sql)
            .bind(lead)
            .bind(globex_key)
            .execute(&console.pool)
            .await
            .unwrap();
    }
    let own_keys: Vec<String> = console
        .stored_keys(lead)
        .await
        .into_iter()
        .filter(|key| key != &globex_recording && key != &globex_media)
        .collect();
    assert!(!own_keys.is_empty());
    let (own_recordings, own_media): (i64, i64) = sqlx::query_as(
        "select (select count(*) from calls where customer_id = $1 and not is_voicemail
                 and recording_key like 'recordings/' || $2 || '/%'),
                (select count(*) from messages, unnest(media_keys) k where customer_id = $1
                 and k like 'media/' || $2 || '/%')",
    )
    .bind(lead)
    .bind(acme.to_string())
    .fetch_one(&console.pool)
    .await
    .unwrap();

    let receipt = erase_with_its_files(&console, &alex, lead).await;
    let storage = &console.state.storage;
    for key in [&globex_recording, &globex_media] {
        assert!(
            storage.exists(key).await.unwrap(),
            "Acme's erasure deleted Globex's {key}"
        );
    }
    for key in &own_keys {
        assert!(!storage.exists(key).await.unwrap(), "{key} is still stored");
    }
    assert_eq!(console.activity(lead).await, (0, 0));
    assert_eq!(
        receipt["counts"]["recordings"].as_i64(),
        Some(own_recordings)
    );
    assert_eq!(receipt["counts"]["media"].as_i64(), Some(own_media));
    let (recordings, media, refused): (i32, i32, i32) = sqlx::query_as(
        "select recordings_deleted, media_deleted, stored_keys_refused from erasures where customer_id = $1",
    )
    .bind(lead)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(
        (i64::from(recordings), i64::from(media), refused),
        (own_recordings, own_media, 2)
    );
}

/// The outbox worker deletes each row's keys through its account's part of the store: a key of another account
/// queued under Acme (as the erasure no longer does) is refused and left alone, and a key that climbs out of
/// Acme's prefix with `..` stays inside it.
#[sqlx::test]
async fn the_outbox_refuses_a_queued_key_of_another_account(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let acme = console.account_of(lead).await;
    let (globex_recording, globex_media) = globex_keys(&console).await;
    let receipt = erase_with_its_files(&console, &alex, lead).await;
    let storage = &console.state.storage;
    let climbing = format!("media/{acme}/../../{globex_media}");
    sqlx::query(
        "insert into object_deletions (account_id, erasure_id, object_keys) values ($1, $2, $3)",
    )
    .bind(acme)
    .bind(Uuid::parse_str(receipt["erasure_id"].as_str().unwrap()).unwrap())
    .bind(vec![globex_recording.clone(), climbing])
    .execute(&console.pool)
    .await
    .unwrap();

    let pass = delete_due_objects(&console.pool, storage, 100)
        .await
        .unwrap();
    for key in [&globex_recording, &globex_media] {
        assert!(
            storage.exists(key).await.unwrap(),
            "the outbox deleted Globex's {key}"
        );
    }
    assert_eq!(
        pass,
        OutboxPass {
            deleted: 1,
            failed: 0,
            refused: 1,
            rows: 1
        }
    );
    let left: i64 = sqlx::query_scalar("select count(*) from object_deletions")
        .fetch_one(&console.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "a refused key is not kept for a retry");
}
