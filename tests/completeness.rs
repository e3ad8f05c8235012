//! After an erasure, once the outbox has deleted its files and its receipt is issued (what the outbox worker
//! does after each pass), nothing of the record's calls and messages is left anywhere: every column of every table
//! (read from the catalog, so a new table is covered without editing this test) and every file of the object
//! store are scanned for the record's content, phone number and storage keys. Only the Salesforce mirror fields
//! of the customer row may keep the person's name, email and phone. Once the key worker ran, the keyring holds no
//! key of the record, only the tombstone of its destruction, and nothing of its content in any column.

mod common;

use std::path::Path;

use common::*;
use customer_data_console::server::erasure::delete_due_objects;
use customer_data_console::server::evidence::receipts::issue_due_receipts;
use customer_data_console::server::keys::destructions::destroy_due_keys;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

const PHONE: &str = "+19995550123";
const MIRROR_COLUMNS: [&str; 6] = [
    "salesforce_id",
    "object_type",
    "name",
    "email",
    "phone",
    "phone_e164",
];

fn files_under(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
}

/// Looks for each of `needles` in every column of every table of `pool`'s database (read from the catalog, which
/// must list `expected_tables`), except the Salesforce mirror fields of `customers`, and fails naming the first
/// it finds; answers how many column scans it made.
async fn scan_every_column(pool: &PgPool, expected_tables: &[&str], needles: &[&str]) -> usize {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text, c.data_type::text
         from information_schema.columns c join information_schema.tables t
           on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = 'public' and t.table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .expect("the catalog's columns");
    let tables: std::collections::HashSet<&str> =
        columns.iter().map(|(t, _, _)| t.as_str()).collect();
    for expected in expected_tables {
        assert!(
            tables.contains(expected),
            "the catalog scan misses {expected}"
        );
    }
    let mut scanned = 0;
    for (table, column, data_type) in &columns {
        let value = if data_type == "bytea" {
            format!("encode(\"{column}\", 'escape')")
        } else {
            format!("\"{column}\"::text")
        };
        for needle in needles {
            let is_mirror = table == "customers" && MIRROR_COLUMNS.contains(&column.as_str());
            if is_mirror {
                continue;
            }
            let sql = format!("select count(*) from \"{table}\" where strpos({value}, $1) > 0");
            let found: i64 = scalar_for(pool, &sql, *needle).await;
            assert_eq!(found, 0, "{table}.{column} still holds {needle}");
            scanned += 1;
        }
    }
    scanned
}

#[sqlx::test]
async fn nothing_of_an_erased_record_is_left_in_any_table_or_file(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let marker = format!("mark{}", Uuid::new_v4().simple());
    let customer: Uuid = scalar_for(
        &console.pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email, phone)
         select id, '0035e00MarkedOnAEI', 'Contact', 'Marked Person', 'marked.person@example.com', $1
         from accounts where name = 'Acme Corp' returning id",
        PHONE,
    )
    .await;
    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from customers where id = $1",
        customer,
    )
    .await;
    let storage = &console.state.storage;
    let mut keys = Vec::new();
    for n in 0..5 {
        let recording = format!("recordings/{account}/{marker}/{n}.wav");
        let media = format!("media/{account}/{marker}/{n}.jpg");
        sqlx::query(
            "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds,
                                disposition, notes, transcript, is_voicemail, recording_key)
             select account_id, id, 'inbound', $2, '+14155559000', now() - make_interval(days => $3), 90,
                    'Connected', 'notes ' || $4, 'transcript ' || $4, $3 = 0, $5
             from customers where id = $1",
        )
        .bind(customer)
        .bind(PHONE)
        .bind(n)
        .bind(&marker)
        .bind(&recording)
        .execute(&console.pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at, media_keys)
             select account_id, id, 'outbound', '+14155559000', $2, 'body ' || $3, now() - make_interval(days => $4),
                    array[$5]
             from customers where id = $1",
        )
        .bind(customer)
        .bind(PHONE)
        .bind(&marker)
        .bind(n)
        .bind(&media)
        .execute(&console.pool)
        .await
        .unwrap();
        for key in [recording, media] {
            storage
                .put(&key, format!("content of {marker}").into_bytes())
                .await
                .unwrap();
            keys.push(key);
        }
    }

    let sealer = console
        .state
        .keyring
        .sealer(account, customer)
        .await
        .unwrap();
    let sealed_row = Uuid::new_v4();
    sqlx::query(
        "insert into messages (id, account_id, customer_id, direction, from_number_sealed, to_number_sealed,
                               body_sealed, sent_at)
         values ($1, $2, $3, 'inbound', $4, $5, $6, now())",
    )
    .bind(sealed_row)
    .bind(account)
    .bind(customer)
    .bind(sealer.seal("messages", "from_number", sealed_row, PHONE))
    .bind(sealer.seal("messages", "to_number", sealed_row, "+14155559000"))
    .bind(sealer.seal("messages", "body", sealed_row, &format!("sealed body {marker}")))
    .execute(&console.pool)
    .await
    .unwrap();

    let alex = console.signed_in(ALEX).await;
    let (status, body) = alex.erase(customer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    while delete_due_objects(&console.pool, storage, 100)
        .await
        .unwrap()
        .deleted
        > 0
    {}
    let receipt_keys = console.state.receipt_keys.as_ref().unwrap();
    let keys_destroyed = destroy_due_keys(&console.pool, &console.state.keyring, 100)
        .await
        .unwrap();
    assert_eq!(
        (keys_destroyed.destroyed, keys_destroyed.failed),
        (1, 0),
        "the record had a data key"
    );
    let issued = issue_due_receipts(&console.pool, storage, &console.state.keyring, receipt_keys)
        .await
        .unwrap();
    assert_eq!(issued.issued, 1);

    let data_tables = [
        "calls",
        "messages",
        "erasures",
        "object_deletions",
        "audit_log",
        "sessions",
        "customers",
        "key_destructions",
    ];
    let scanned = scan_every_column(&console.pool, &data_tables, &[marker.as_str(), PHONE]).await;
    assert!(scanned > 100, "{scanned} column scans");

    // The keyring: the record's key destroyed (its tombstone left), nothing of its content in any column.
    let keyring = &console.state.keyring;
    let (keys_left, tombstones): (i64, i64) = sqlx::query_as(
        "select (select count(*) from data_keys where customer_id = $1),
                (select count(*) from destroyed_keys where customer_id = $1 and had_key)",
    )
    .bind(customer)
    .fetch_one(keyring.pool())
    .await
    .unwrap();
    assert_eq!((keys_left, tombstones), (0, 1));
    assert!(keyring.existing_key(customer).await.unwrap().is_none());
    let keyring_tables = ["data_keys", "key_nodes", "key_root", "destroyed_keys"];
    assert!(
        scan_every_column(keyring.pool(), &keyring_tables, &[marker.as_str(), PHONE]).await >= 8
    );

    let mut files = Vec::new();
    for key in &keys {
        assert!(!storage.exists(key).await.unwrap(), "{key} is still stored");
    }
    files_under(console.object_store_dir(), &mut files);
    assert!(
        !files.is_empty(),
        "the other records' files are still there"
    );
    assert!(
        files.iter().all(|f| !f.contains(&marker)),
        "a file of the erased record is left"
    );
    for file in &files {
        let content = std::fs::read(file).unwrap();
        assert!(
            !String::from_utf8_lossy(&content).contains(&marker),
            "{file} holds erased content"
        );
    }
}
