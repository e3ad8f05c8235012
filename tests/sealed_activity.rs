//! Call and message values stored sealed under their record's data key: 100 unique markers sent through the
//! API as message bodies, notes and transcripts are shown by the console (page and export) and found nowhere in
//! Postgres's files, its WAL or a dump of either database; a sealed value copied into another row or record does
//! not open; and a dump of the data database and a copy of the object store taken before an erasure, restored
//! beside the live keyring, open every record's values and files except the erased record's; `seal-existing`
//! seals the rows and files written before keys existed and the page shows them as before; a recording the
//! platform stored is sealed in place once its call is recorded through the API.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::keys::Keyring;
use customer_data_console::server::keys::destructions::destroy_due_keys;
use customer_data_console::server::keys::existing::{seal_existing, unsealed_rows_remain};
use customer_data_console::server::keys::files::is_sealed;
use customer_data_console::server::keys::tree::Unopened;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The files of `pool`'s database under the server's data directory, after a checkpoint wrote them.
async fn database_files(pool: &PgPool) -> String {
    sqlx::query("checkpoint")
        .execute(pool)
        .await
        .expect("checkpoint");
    let (data, oid): (String, sqlx::postgres::types::Oid) = sqlx::query_as(
        "select current_setting('data_directory'), oid from pg_database where datname = current_database()",
    )
    .fetch_one(pool)
    .await
    .expect("data directory");
    format!("{data}/base/{}", oid.0)
}

/// Whether `needle` is in any file under `paths` (grep, byte for byte).
fn found_in_files(needle: &str, paths: &[String]) -> bool {
    let status = Command::new("grep")
        .args(["-r", "-q", "-F", "-a", needle])
        .args(paths)
        .status()
        .expect("grep runs");
    assert!(
        status.code().is_some_and(|code| code <= 1),
        "grep failed: {status}"
    );
    status.success()
}

/// A console whose API takes Alex's ingestion token without a rate limit, and a record of Alex's account (not
/// Jordan's) to record activity of.
struct Ingesting {
    console: Console,
    token: customer_data_console::server::db::api_tokens::NewToken,
    account: Uuid,
    customer: Uuid,
    salesforce_id: String,
}

async fn ingesting(pool: PgPool) -> Ingesting {
    let console =
        Console::start_configured(pool, |web| web.api_requests_per_minute = 1_000_000).await;
    console.give_alex_customer_data_access().await;
    let token = api_token(&console, ALEX, &[ApiScope::Ingest], None).await;
    let (account, customer, salesforce_id): (Uuid, Uuid, String) = sqlx::query_as(
        "select c.account_id, c.id, c.salesforce_id from customers c join users u on u.account_id = c.account_id
         where u.email = $1 and c.email <> $2 order by c.salesforce_id limit 1",
    )
    .bind(ALEX)
    .bind(JORDAN)
    .fetch_one(&console.pool)
    .await
    .expect("a customer");
    Ingesting {
        console,
        token,
        account,
        customer,
        salesforce_id,
    }
}

#[sqlx::test]
async fn markers_sent_through_the_api_are_shown_and_stored_nowhere_in_plaintext(pool: PgPool) {
    let Ingesting {
        console,
        token,
        customer,
        salesforce_id,
        ..
    } = ingesting(pool).await;
    let prefix = format!("zq{}", Uuid::new_v4().simple());
    let markers: Vec<String> = (0..100).map(|n| format!("{prefix}-{n:03}")).collect();
    let (bodies, rest) = markers.split_at(34);
    let (notes, transcripts) = rest.split_at(33);
    for body in bodies {
        let message = json!({
            "salesforce_id": salesforce_id, "direction": "outbound", "from_number": "+1 628 555 0100",
            "to_number": "+1 628 555 0199", "sent_at": "2026-12-03T10:00:00Z", "body": body,
        });
        let (status, _, answer) =
            post_api(&console, "/api/v1/messages", &token.secret, None, &message).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    for (note, transcript) in notes.iter().zip(transcripts.iter().map(Some).chain([None])) {
        let mut call = json!({
            "salesforce_id": salesforce_id, "direction": "inbound", "from_number": "+1 628 555 0199",
            "to_number": "+1 628 555 0100", "started_at": "2026-12-03T10:00:00Z", "duration_seconds": 95,
            "notes": note,
        });
        if let Some(transcript) = transcript {
            call["transcript"] = Value::from(transcript.as_str());
        }
        let (status, _, answer) =
            post_api(&console, "/api/v1/calls", &token.secret, None, &call).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    let alex = console.signed_in(ALEX).await;
    let (status, detail) = alex.customer_detail(&customer.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let shown: HashSet<&str> = detail["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|message| message["body"].as_str())
        .collect();
    for body in bodies {
        assert!(shown.contains(body.as_str()), "the page shows {body}");
    }
    let archive = alex
        .http
        .get(console.url(&format!("/customers/{customer}/export.zip")))
        .send()
        .await
        .expect("export")
        .bytes()
        .await
        .expect("archive");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP");
    let mut calls = String::new();
    zip.by_name("calls.json")
        .expect("calls.json")
        .read_to_string(&mut calls)
        .expect("read");
    for value in notes.iter().chain(transcripts) {
        assert!(calls.contains(value.as_str()), "the export holds {value}");
    }

    // The check itself: a value stored in plaintext is found in the same files.
    let canary = format!("canary{}", Uuid::new_v4().simple());
    sqlx::query("update customers set name = $1 where id = $2")
        .bind(&canary)
        .bind(customer)
        .execute(&console.pool)
        .await
        .expect("canary");
    let keyring_pool = console.state.keyring.pool();
    let paths = vec![
        database_files(&console.pool).await,
        database_files(keyring_pool).await,
        format!(
            "{}/pg_wal",
            database_files(&console.pool)
                .await
                .rsplit_once("/base/")
                .expect("base")
                .0
        ),
    ];
    assert!(
        found_in_files(&canary, &paths[..1]),
        "the scan finds a plaintext value"
    );
    assert!(
        !found_in_files(&prefix, &paths),
        "a marker is in Postgres's files: {paths:?}"
    );
    for options in [
        console.pool.connect_options(),
        keyring_pool.connect_options(),
    ] {
        assert!(
            !contains(&pg_dump(&options), &prefix),
            "a marker is in a dump"
        );
    }
}

async fn status_of_page(client: &Client, customer: Uuid) -> StatusCode {
    client.customer_detail(&customer.to_string()).await.0
}

#[sqlx::test]
async fn a_sealed_value_copied_into_another_row_or_record_does_not_open(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let ids = console.customer_ids_with_email(JORDAN).await;
    let (lead, contact) = (ids[0].0, ids[1].0);
    let messages = |customer: Uuid| {
        let pool = console.pool.clone();
        async move {
            sqlx::query_as::<_, (Uuid, Vec<u8>)>(
                "select id, body_sealed from messages where customer_id = $1 order by id",
            )
            .bind(customer)
            .fetch_all(&pool)
            .await
            .expect("messages")
        }
    };
    let lead_messages = messages(lead).await;
    let contact_messages = messages(contact).await;
    assert!(lead_messages.len() >= 2 && !contact_messages.is_empty());
    assert_eq!(status_of_page(&alex, lead).await, StatusCode::OK);
    let set_body = |id: Uuid, sealed: Vec<u8>| {
        let pool = console.pool.clone();
        async move {
            sqlx::query("update messages set body_sealed = $2 where id = $1")
                .bind(id)
                .bind(sealed)
                .execute(&pool)
                .await
                .expect("update");
        }
    };
    let (first, second) = (&lead_messages[0], &lead_messages[1]);
    set_body(second.0, first.1.clone()).await;
    assert_eq!(
        status_of_page(&alex, lead).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    set_body(second.0, contact_messages[0].1.clone()).await;
    assert_eq!(
        status_of_page(&alex, lead).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    set_body(second.0, second.1.clone()).await;
    assert_eq!(status_of_page(&alex, lead).await, StatusCode::OK);
}

/// A stored sealed value: account, record, table, column, row and the sealed bytes.
type SealedValue = (Uuid, Uuid, &'static str, &'static str, Uuid, Vec<u8>);

/// Every sealed value of `pool`'s calls and messages.
async fn sealed_values(pool: &PgPool) -> Vec<SealedValue> {
    let mut values = Vec::new();
    for (table, column) in [
        ("messages", "body_sealed"),
        ("messages", "from_number_sealed"),
        ("calls", "notes_sealed"),
        ("calls", "transcript_sealed"),
        ("calls", "to_number_sealed"),
    ] {
        let rows: Vec<(Uuid, Uuid, Uuid, Vec<u8>)> = sqlx::query_as(&format!(
            "select account_id, customer_id, id, {column} from {table} where {column} is not null order by id"
        ))
        .fetch_all(pool)
        .await
        .expect("sealed values");
        let plain_column = column.trim_end_matches("_sealed");
        for (account, customer, row, sealed) in rows {
            values.push((account, customer, table, plain_column, row, sealed));
        }
    }
    values
}

async fn open_all(
    keyring: &Keyring,
    values: &[SealedValue],
) -> Vec<(Uuid, Result<String, Unopened>)> {
    let mut out = Vec::new();
    for (account, customer, table, column, row, sealed) in values {
        let opener = keyring.opener(*account, *customer).await.expect("keyring");
        out.push((
            *customer,
            opener.required(table, column, *row, None, Some(sealed)),
        ));
    }
    out
}

/// A stored file a row names: its account, its record and its key in the store.
type StoredFile = (Uuid, Uuid, String);

async fn stored_files(pool: &PgPool) -> Vec<StoredFile> {
    sqlx::query_as(
        "select account_id, customer_id, recording_key from calls where recording_key is not null
         union all select account_id, customer_id, unnest(media_keys) from messages order by 3",
    )
    .fetch_all(pool)
    .await
    .expect("stored files")
}

/// Each of `files` as it is stored in the object store folder `folder`, opened with the record's key.
async fn open_files(
    keyring: &Keyring,
    folder: &Path,
    files: &[StoredFile],
) -> Vec<(Uuid, Result<Vec<u8>, Unopened>)> {
    let mut out = Vec::new();
    for (account, customer, key) in files {
        let stored = std::fs::read(folder.join(key)).expect("a stored file");
        assert!(is_sealed(&stored), "{key} is stored sealed");
        assert!(!contains(&stored, "WAVEfmt"), "{key} shows no plaintext");
        let opener = keyring.opener(*account, *customer).await.expect("keyring");
        out.push((*customer, opened_file(&opener, key, &stored)));
    }
    out
}

/// A copy of the object store folder `folder`, as a backup of it would hold.
fn copy_of_folder(folder: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("temp dir");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(folder.join("."))
        .arg(copy.path())
        .status()
        .expect("cp runs");
    assert!(copied.success(), "the object store was copied");
    copy
}

/// Compares what opens after the erasure of `erased` with what opened before it, item by item: each of
/// `erased`'s fails authentication, every other record's opens as it was; answers how many were `erased`'s.
fn erased_ones_fail<T: PartialEq + std::fmt::Debug>(
    erased: Uuid,
    before: &[(Uuid, Result<T, Unopened>)],
    after: &[(Uuid, Result<T, Unopened>)],
    what: &str,
) -> usize {
    let mut erased_items = 0;
    for ((customer, original), (_, now)) in before.iter().zip(after) {
        if *customer == erased {
            erased_items += 1;
            assert_eq!(
                now,
                &Err(Unopened),
                "an erased record's {what} does not open"
            );
        } else {
            assert_eq!(now, original, "every other record's {what} opens as it was");
        }
    }
    erased_items
}

#[sqlx::test]
async fn a_dump_taken_before_an_erasure_opens_every_record_but_the_erased_one(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let ids = console.customer_ids_with_email(JORDAN).await;
    let lead = ids[0].0;
    let keyring = &console.state.keyring;
    let before = sealed_values(&console.pool).await;
    assert!(before.len() > 100, "{} sealed values", before.len());
    let originals = open_all(keyring, &before).await;
    assert!(originals.iter().all(|(_, value)| value.is_ok()));
    let files = stored_files(&console.pool).await;
    let original_files = open_files(keyring, console.object_store_dir(), &files).await;
    assert!(original_files.iter().all(|(_, file)| file.is_ok()));
    let options = (*console.pool.connect_options()).clone();
    let dumped = pg_dump(&options);
    let copied_store = copy_of_folder(console.object_store_dir());

    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let pass = destroy_due_keys(&console.pool, keyring, 20)
        .await
        .expect("key pass");
    assert_eq!(pass.destroyed, 1);

    let database = options.get_database().expect("db");
    let restored = format!(
        "cdc_test_restored_{}",
        &database[database.len().saturating_sub(40)..]
    );
    restore_as(&options, &dumped, &restored);

    let restored_pool = PgPool::connect_with(options.clone().database(&restored))
        .await
        .expect("restored database");
    let after = sealed_values(&restored_pool).await;
    assert_eq!(
        after.len(),
        before.len(),
        "the dump holds every sealed value"
    );
    let reopened = open_all(keyring, &after).await;
    let erased_values = erased_ones_fail(lead, &originals, &reopened, "value");
    assert!(
        erased_values > 5,
        "{erased_values} values of the erased record"
    );
    assert_eq!(stored_files(&restored_pool).await, files);
    let reopened_files = open_files(keyring, copied_store.path(), &files).await;
    let erased_files = erased_ones_fail(lead, &original_files, &reopened_files, "file");
    assert!(erased_files > 0, "the erased record had files");
    restored_pool.close().await;
    sqlx::query(&format!("drop database \"{restored}\" with (force)"))
        .execute(&console.pool)
        .await
        .expect("restored database dropped");
}

#[sqlx::test]
async fn seal_existing_seals_the_rows_and_files_written_before_keys_and_the_page_shows_them_as_before(
    pool: PgPool,
) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = console.customer_ids_with_email(JORDAN).await[0].0;
    let account = console.account_of(lead).await;
    assert!(!unsealed_rows_remain(&console.pool).await.expect("looked"));
    let storage = &console.state.storage;
    let mut plaintext_files = Vec::new();
    for n in 0..3 {
        let media_key = format!("media/{account}/before-keys/{n}.jpg");
        let content = format!("JFIF a picture from before keys {n}").repeat(n as usize * 3000 + 1);
        storage
            .put(&media_key, content.clone().into_bytes())
            .await
            .expect("a plaintext file");
        plaintext_files.push((media_key.clone(), content));
        sqlx::query(
            "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at,
                 media_keys)
             values ($1, $2, 'inbound', '+16285550199', '+16285550100', $3, now() - make_interval(mins => $4),
                 array[$5])",
        )
        .bind(account)
        .bind(lead)
        .bind(format!("Written before keys, message {n}"))
        .bind(n)
        .bind(&media_key)
        .execute(&console.pool)
        .await
        .expect("a plaintext message");
        sqlx::query(
            "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                 duration_seconds, notes, transcript)
             values ($1, $2, 'outbound', '+16285550100', '+16285550199', now() - make_interval(mins => $3), 60,
                 $4, $5)",
        )
        .bind(account)
        .bind(lead)
        .bind(n)
        .bind(format!("Notes from before keys {n}"))
        .bind((n == 0).then_some("A transcript from before keys"))
        .execute(&console.pool)
        .await
        .expect("a plaintext call");
    }
    assert!(unsealed_rows_remain(&console.pool).await.expect("looked"));
    let (status, before) = alex.customer_detail(&lead.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{before}");

    let keyring = &console.state.keyring;
    let report = seal_existing(&console.pool, storage, keyring, false)
        .await
        .expect("sealed");
    assert_eq!(
        (report.calls, report.messages, report.files),
        (3, 3, 3),
        "the demo's files were sealed already"
    );
    let opener = keyring.opener(account, lead).await.expect("keyring");
    for (media_key, content) in &plaintext_files {
        let stored =
            std::fs::read(console.object_store_dir().join(media_key)).expect("the file is stored");
        assert!(is_sealed(&stored), "{media_key} is sealed");
        assert!(
            !contains(&stored, "before keys"),
            "{media_key} shows no plaintext"
        );
        let opened = opened_file(&opener, media_key, &stored).expect("opens");
        assert_eq!(opened, content.as_bytes(), "{media_key} opens as it was");
    }
    assert!(!unsealed_rows_remain(&console.pool).await.expect("looked"));
    let plaintext: i64 = sqlx::query_scalar(
        "select (select count(*) from calls where notes is not null or transcript is not null
                     or from_number is not null or to_number is not null)
              + (select count(*) from messages where body is not null or from_number is not null
                     or to_number is not null)",
    )
    .fetch_one(&console.pool)
    .await
    .expect("count");
    assert_eq!(plaintext, 0);
    let (status, after) = alex.customer_detail(&lead.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(before["messages"], after["messages"]);
    assert_eq!(before["calls"], after["calls"]);
    assert_eq!(
        before["pending"], after["pending"],
        "the transcript is still counted"
    );

    let again = seal_existing(&console.pool, storage, keyring, false)
        .await
        .expect("again");
    assert_eq!(
        (again.calls, again.messages, again.files),
        (0, 0, 0),
        "a second run finds nothing"
    );
}

#[sqlx::test]
async fn a_recording_the_platform_stored_is_sealed_once_its_call_is_recorded(pool: PgPool) {
    let Ingesting {
        console,
        token,
        account,
        customer,
        salesforce_id,
    } = ingesting(pool).await;
    let key = format!("recordings/{account}/platform-upload.wav");
    let recording =
        format!("RIFF a recording the platform stored {}", Uuid::new_v4()).repeat(5_000);
    console
        .state
        .storage
        .put(&key, recording.clone().into_bytes())
        .await
        .expect("the platform stores the recording");
    let call = json!({
        "salesforce_id": salesforce_id, "direction": "inbound", "from_number": "+1 628 555 0199",
        "to_number": "+1 628 555 0100", "started_at": "2026-12-03T10:00:00Z", "duration_seconds": 95,
        "recording_key": key,
    });
    let (status, _, answer) = post_api(&console, "/api/v1/calls", &token.secret, None, &call).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    let path = console.object_store_dir().join(&key);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let stored = loop {
        let stored = std::fs::read(&path).expect("the recording is stored");
        if is_sealed(&stored) {
            break stored;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the recording was not sealed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        !contains(&stored, "the platform stored"),
        "no plaintext is left"
    );
    let opener = console
        .state
        .keyring
        .opener(account, customer)
        .await
        .expect("keyring");
    let opened = opened_file(&opener, &key, &stored).expect("opens");
    assert_eq!(
        opened,
        recording.as_bytes(),
        "it opens as the platform stored it"
    );
}
