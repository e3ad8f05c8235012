//! Erasure receipts: an erasure in the demo gets a signed receipt once the outbox has deleted its files (and
//! not before), which verifies with the published keys, in the library and with `receipt verify`; a changed
//! byte anywhere in it is caught; the residual check reports nothing left after a real erasure and names what a
//! test leaves behind; rotation keeps old receipts verifiable; only the users who may see the request download
//! it; and it holds none of the erased person's name, email, phone or messages.

mod common;

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use customer_data_console::server::erasure::{delete_due_objects, run_outbox_worker};
use customer_data_console::server::evidence::receipt_keys::{Jwks, ReceiptKeys};
use customer_data_console::server::evidence::receipts::{
    IssuePass, Receipt, issue_due_receipts, verify, verify_file,
};
use customer_data_console::server::keys::destructions::destroy_due_keys;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

/// The request that erased record `customer`.
async fn request_of(console: &Console, customer: Uuid) -> Uuid {
    scalar_for(
        &console.pool,
        "select request_id from erasures where customer_id = $1",
        customer,
    )
    .await
}

/// The stored receipt of request `request`, if issued.
async fn stored_receipt(console: &Console, request: Uuid) -> Option<String> {
    scalar_for(
        &console.pool,
        "select receipt_jws from erasure_requests where id = $1",
        request,
    )
    .await
}

/// One pass of the outbox and of the receipts, as the worker runs them.
async fn run_outbox(console: &Console) -> IssuePass {
    delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .expect("outbox pass");
    issue_receipts(console).await
}

async fn issue_receipts(console: &Console) -> IssuePass {
    let keys = console.state.receipt_keys.as_ref().expect("receipt keys");
    destroy_due_keys(&console.pool, &console.state.keyring, 100)
        .await
        .expect("key pass");
    issue_due_receipts(
        &console.pool,
        &console.state.storage,
        &console.state.keyring,
        keys,
    )
    .await
    .expect("issuing pass")
}

/// The console's published key set.
async fn published_keys(console: &Console) -> Jwks {
    let (status, body) = console
        .anonymous()
        .get("/.well-known/receipt-keys.json")
        .await;
    assert_eq!(status, StatusCode::OK);
    Jwks::parse(&body).expect("JWKS")
}

/// Erases Jordan's Lead as Alex and runs the outbox: the Lead, its request and its receipt.
async fn erased_lead_with_receipt(console: &Console, alex: &Client) -> (Uuid, Uuid, String) {
    let (lead, _) = jordans(console).await;
    let (status, answer) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let request = request_of(console, lead).await;
    assert_eq!(run_outbox(console).await.issued, 1);
    let token = stored_receipt(console, request).await.expect("issued");
    (lead, request, token)
}

/// `token` with byte `position` of its part `part` (0 header, 1 payload, 2 signature), decoded, XORed with
/// `flip`, and encoded again.
fn with_decoded_byte_flipped(token: &str, part: usize, position: usize, flip: u8) -> String {
    let mut parts: Vec<Vec<u8>> = token
        .split('.')
        .map(|p| URL_SAFE_NO_PAD.decode(p).expect("base64url"))
        .collect();
    parts[part][position] ^= flip;
    parts
        .iter()
        .map(|p| URL_SAFE_NO_PAD.encode(p))
        .collect::<Vec<_>>()
        .join(".")
}

fn decoded_part_length(token: &str, part: usize) -> usize {
    URL_SAFE_NO_PAD
        .decode(token.split('.').nth(part).expect("part"))
        .expect("base64url")
        .len()
}

#[sqlx::test]
async fn an_erasure_gets_a_receipt_from_the_outbox_worker_once_its_files_are_gone(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let stored_keys = console.stored_keys(lead).await;
    assert!(!stored_keys.is_empty(), "the demo Lead has stored files");

    let (status, answer) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let request = request_of(&console, lead).await;
    assert_eq!(
        issue_receipts(&console).await.issued,
        0,
        "no receipt while files are pending"
    );
    let (_, page) = alex.get(&format!("/requests/{request}")).await;
    assert!(page.contains("Files pending, 0 of"), "{page}");
    assert_eq!(
        alex.get_status(&format!("/requests/{request}/receipt.jws"))
            .await,
        StatusCode::NOT_FOUND,
        "not downloadable before it is issued"
    );

    tokio::spawn(run_outbox_worker(console.state.clone()));
    console.state.outbox_wakeup.notify_one();
    wait_until(
        &console.pool,
        &format!("select receipt_jws is not null from erasure_requests where id = '{request}'"),
        "the worker issues the receipt",
    )
    .await;

    let response = alex
        .http
        .get(console.url(&format!("/requests/{request}/receipt.jws")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("content-type").as_deref(), Some("application/jose"));
    assert!(
        header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    let token = response.text().await.unwrap();
    assert_eq!(
        Some(&token),
        stored_receipt(&console, request).await.as_ref()
    );

    let receipt = verify(&token, &published_keys(&console).await).expect("verifies");
    assert_eq!(receipt.request_id, request);
    assert_eq!(receipt.account_id, console.account_of(lead).await);
    assert_eq!(receipt.records.len(), 1);
    assert_eq!(receipt.records[0].id, lead);
    assert_eq!(receipt.records[0].object_type, "Lead");
    assert!(receipt.counts.calls > 0 && receipt.counts.messages > 0);
    assert_eq!(
        receipt.stores.database.rows_deleted,
        receipt.counts.calls + receipt.counts.messages
    );
    assert_eq!(
        receipt.stores.files.deleted, receipt.stores.files.queued,
        "final: every file deleted"
    );
    assert!(receipt.activity.is_some());
    let check = &receipt.residual_check;
    assert!(check.is_clean(), "{check:?}");
    let tables: Vec<&str> = check.tables.iter().map(|t| t.table.as_str()).collect();
    assert!(
        tables.contains(&"calls") && tables.contains(&"messages"),
        "{tables:?}"
    );
    assert_eq!(check.storage_keys_checked, stored_keys.len() as i64);
    assert_eq!(check.objects_left, 0);
    assert_eq!(check.data_keys_left, Some(0));
    let keys = receipt.stores.keys.expect("the keys are recorded");
    assert_eq!((keys.destroyed, keys.never_made), (1, 0), "{keys:?}");
    assert!(
        keys.destroyed_at
            .is_some_and(|at| at >= receipt.completed_at && at <= receipt.issued_at),
        "{keys:?}"
    );
    let (erased_at_seq, head_hash): (i64, String) = sqlx::query_as(
        "select (select seq from audit_log where account_id = $1 and request_id = $2
                   and action = 'request_erased'),
                (select encode(hash, 'hex') from audit_log where account_id = $1 and seq = $3)",
    )
    .bind(receipt.account_id)
    .bind(request)
    .bind(receipt.audit_chain.seq)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert!(
        receipt.audit_chain.seq >= erased_at_seq,
        "the receipt's chain head comes after the request's erasure entry"
    );
    assert_eq!(receipt.audit_chain.hash, head_hash);
    assert_eq!(
        console
            .count(
                "select count(*) from residual_check_keys where erasure_id in
                 (select id from erasures where customer_id = $1)",
                lead
            )
            .await,
        0,
        "the checked keys go once the receipt holds their count"
    );

    for page in [format!("/requests/{request}"), format!("/customers/{lead}")] {
        let (status, html) = alex.get(&page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Download receipt (.jws)"), "{page}: {html}");
        assert!(
            html.contains(&format!("/requests/{request}/receipt.jws")),
            "{page}"
        );
        assert!(html.contains("Nothing left"), "{page}");
    }
}

#[sqlx::test]
async fn a_receipt_waits_until_the_records_data_key_is_destroyed(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let (status, answer) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    while delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .expect("outbox pass")
        .rows
        > 0
    {}
    let keys = console.state.receipt_keys.as_ref().expect("receipt keys");
    let keyring = &console.state.keyring;
    let early = issue_due_receipts(&console.pool, &console.state.storage, keyring, keys)
        .await
        .expect("issuing pass");
    assert_eq!(early.issued, 0, "the key is not destroyed yet");
    let request = request_of(&console, lead).await;
    assert!(stored_receipt(&console, request).await.is_none());

    let pass = destroy_due_keys(&console.pool, keyring, 100)
        .await
        .expect("key pass");
    assert_eq!(pass.destroyed, 1);
    let issued = issue_due_receipts(&console.pool, &console.state.storage, keyring, keys)
        .await
        .expect("issuing pass");
    assert_eq!(issued.issued, 1);
    let token = stored_receipt(&console, request).await.expect("issued");
    let receipt = verify(&token, &keys.jwks()).expect("verifies");
    let destroyed_at: time::OffsetDateTime =
        sqlx::query_scalar("select destroyed_at from key_destructions where customer_id = $1")
            .bind(lead)
            .fetch_one(&console.pool)
            .await
            .expect("the destruction's time");
    assert_eq!(
        receipt.stores.keys.and_then(|keys| keys.destroyed_at),
        Some(destroyed_at)
    );
    assert!(
        receipt
            .summary_lines()
            .iter()
            .any(|line| line.starts_with("Data keys: 1 destroyed"))
    );
}

#[sqlx::test]
async fn a_record_without_stored_files_gets_its_receipt_at_once(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let bare: Uuid = scalar(
        &console.pool,
        "select c.id from customers c join users u on u.account_id = c.account_id
         where u.email = 'alex.admin@acme.example'
           and not exists (select 1 from calls where customer_id = c.id and recording_key is not null)
           and not exists (select 1 from messages where customer_id = c.id and cardinality(media_keys) > 0)
         order by c.id limit 1",
    )
    .await;
    let (status, answer) = alex.erase(bare).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(issue_receipts(&console).await.issued, 1);
    let token = stored_receipt(&console, request_of(&console, bare).await)
        .await
        .expect("issued at once");
    let receipt = verify(&token, &console.state.receipt_keys.as_ref().unwrap().jwks()).unwrap();
    assert_eq!(receipt.stores.files.queued, 0);
    assert_eq!(receipt.residual_check.storage_keys_checked, 0);
    assert!(receipt.residual_check.is_clean());
}

#[sqlx::test]
async fn a_receipt_missing_after_a_crash_is_issued_by_the_next_pass_and_never_twice(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    alex.erase(lead).await;
    let request = request_of(&console, lead).await;
    // The outbox deleted every file, then the process stopped before issuing the receipt.
    delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .unwrap();
    assert_eq!(stored_receipt(&console, request).await, None);

    assert_eq!(
        issue_receipts(&console).await.issued,
        1,
        "the first pass after a restart"
    );
    let token = stored_receipt(&console, request).await.unwrap();
    assert_eq!(issue_receipts(&console).await, IssuePass::default());
    assert_eq!(stored_receipt(&console, request).await, Some(token));
    let changed = sqlx::query("update erasure_requests set receipt_jws = 'x' where id = $1")
        .bind(request)
        .execute(&console.pool)
        .await;
    assert!(changed.is_err(), "an issued receipt is final");
}

#[sqlx::test]
async fn a_byte_changed_anywhere_fails_verification(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (_, _, token) = erased_lead_with_receipt(&console, &alex).await;
    let keys = published_keys(&console).await;
    assert!(verify(&token, &keys).is_ok());

    let mut tried = 0;
    for part in 0..3 {
        for position in 0..decoded_part_length(&token, part) {
            for flip in [0x01u8, 0x80] {
                let changed = with_decoded_byte_flipped(&token, part, position, flip);
                assert!(
                    verify(&changed, &keys).is_err(),
                    "part {part}, byte {position} ^ {flip:#x} accepted"
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 500, "{tried}");
    for position in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[position] ^= 0x01;
        let changed = String::from_utf8(bytes).unwrap();
        assert!(
            verify(&changed, &keys).is_err(),
            "character {position} changed and accepted"
        );
    }
}

/// Runs the built binary's `receipt verify` on `token` with the key set `keys`.
fn verify_with_binary(token: &str, keys: &Jwks) -> std::process::Output {
    let folder = tempfile::tempdir().expect("temp dir");
    let receipt = folder.path().join("receipt.jws");
    let jwks = folder.path().join("keys.json");
    std::fs::write(&receipt, token).expect("receipt file");
    std::fs::write(&jwks, serde_json::to_string(keys).expect("JSON")).expect("key set file");
    Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
        .args(["receipt", "verify"])
        .arg(&receipt)
        .arg("--keys")
        .arg(&jwks)
        .env_remove("DATABASE_URL")
        .env_remove("RECEIPT_SIGNING_KEY_FILE")
        .env("RUST_LOG", "off")
        .output()
        .expect("run the binary")
}

#[sqlx::test]
async fn the_receipt_verify_command_accepts_a_receipt_and_refuses_a_changed_one(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (_, request, token) = erased_lead_with_receipt(&console, &alex).await;
    let keys = published_keys(&console).await;

    let output = verify_with_binary(&token, &keys);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("Signature: valid"), "{printed}");
    assert!(
        printed.contains(&format!("Erasure request {request}")),
        "{printed}"
    );
    assert!(printed.contains("Residual check: clean"), "{printed}");

    for (part, position) in [(0, 3), (1, 0), (1, 40), (1, 200), (2, 0), (2, 31), (2, 63)] {
        let changed = with_decoded_byte_flipped(&token, part, position, 0x01);
        let output = verify_with_binary(&changed, &keys);
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "part {part} byte {position} accepted"
        );
        assert!(error.contains("does not verify"), "{error}");
    }
    let other_keys = ReceiptKeys::generate().jwks();
    let output = verify_with_binary(&token, &other_keys);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no key with id"));
}

#[sqlx::test]
async fn the_residual_check_names_the_table_and_the_object_a_test_leaves_behind(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let kept_key = console.stored_keys(lead).await.remove(0);
    alex.erase(lead).await;
    let request = request_of(&console, lead).await;
    delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .unwrap();
    // Before the receipt is issued: a call for the erased record, past the trigger that refuses it, and one of
    // its files stored again.
    console
        .run_sql("alter table calls disable trigger calls_refuse_erased")
        .await;
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                            duration_seconds)
         select account_id, id, 'inbound', '+14155550100', '+14155559000', now(), 5 from customers where id = $1",
    )
    .bind(lead)
    .execute(&console.pool)
    .await
    .unwrap();
    console
        .run_sql("alter table calls enable trigger calls_refuse_erased")
        .await;
    console
        .state
        .storage
        .put(&kept_key, b"RIFF".to_vec())
        .await
        .unwrap();

    assert_eq!(issue_receipts(&console).await.issued, 1);
    let token = stored_receipt(&console, request).await.unwrap();
    let receipt: Receipt = verify(&token, &published_keys(&console).await).unwrap();
    let check = &receipt.residual_check;
    assert!(!check.is_clean());
    let left: Vec<(&str, i64)> = check
        .tables_with_rows()
        .map(|t| (t.table.as_str(), t.rows))
        .collect();
    assert_eq!(left, [("calls", 1)]);
    assert_eq!(check.objects_left, 1);
    let (_, page) = alex.get(&format!("/requests/{request}")).await;
    assert!(page.contains("Data left: 1 row in calls"), "{page}");
}

#[sqlx::test]
async fn a_table_added_later_that_references_customers_is_checked_too(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    console
        .run_sql(
            "create table call_notes (account_id uuid not null, customer_id uuid not null, note text,
                 foreign key (account_id, customer_id) references customers (account_id, id))",
        )
        .await;
    let (_, _, token) = erased_lead_with_receipt(&console, &alex).await;
    let receipt = verify(&token, &published_keys(&console).await).unwrap();
    let tables: Vec<&str> = receipt
        .residual_check
        .tables
        .iter()
        .map(|t| t.table.as_str())
        .collect();
    assert!(tables.contains(&"call_notes"), "{tables:?}");
    let kept: Vec<&str> = receipt
        .residual_check
        .kept_as_evidence
        .iter()
        .map(|t| t.table.as_str())
        .collect();
    assert_eq!(kept, ["erasure_request_records", "erasures"]);
}

#[sqlx::test]
async fn the_keys_endpoint_serves_every_public_key_briefly_cacheable(pool: PgPool) {
    let console = Console::start(pool).await;
    let response = console
        .anonymous()
        .http
        .get(console.url("/.well-known/receipt-keys.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=300"
    );
    let jwks: serde_json::Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(
        key["kid"],
        console
            .state
            .receipt_keys
            .as_ref()
            .unwrap()
            .current_kid()
            .unwrap()
    );
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(key["x"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert!(key.get("d").is_none(), "no private part");
}

#[sqlx::test]
async fn rotation_keeps_an_old_receipt_verifiable(pool: PgPool) {
    let folder = tempfile::tempdir().unwrap();
    let key_file = folder.path().join("receipt-keys.json");
    let rotate = || {
        Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
            .arg("rotate-receipt-key")
            .env("RECEIPT_SIGNING_KEY_FILE", &key_file)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "off")
            .output()
            .expect("run the binary")
    };
    assert!(rotate().status.success());
    let (mut console, alex) = Console::with_alex_managing_customer_data(pool).await;
    console.state = console
        .state
        .clone()
        .with_receipt_keys(ReceiptKeys::load(&key_file).unwrap());
    let (_, _, old) = erased_lead_with_receipt(&console, &alex).await;

    let output = rotate();
    assert!(output.status.success());
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(
        listed.contains("current") && listed.contains("retired"),
        "{listed}"
    );
    let rotated = ReceiptKeys::load(&key_file).unwrap();
    assert_eq!(rotated.jwks().keys.len(), 2);
    assert!(verify(&old, &rotated.jwks()).is_ok());

    let receipt_file = folder.path().join("old.jws");
    std::fs::write(&receipt_file, &old).unwrap();
    let summary = verify_file(&receipt_file, None, Some(key_file.as_path())).expect("verifies");
    assert!(summary[0].starts_with("Signature: valid"));
    let output = Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
        .args(["receipt", "verify"])
        .arg(&receipt_file)
        .env("RECEIPT_SIGNING_KEY_FILE", &key_file)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (_, contact) = jordans(&console).await;
    console.state = console.state.clone().with_receipt_keys(rotated.clone());
    alex.erase(contact).await;
    run_outbox(&console).await;
    let new = stored_receipt(&console, request_of(&console, contact).await)
        .await
        .unwrap();
    let kid_of = |token: &str| -> String {
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(kid_of(&old), kid_of(&new));
    assert_eq!(Some(kid_of(&new).as_str()), rotated.current_kid());
}

async fn download_as(pool: PgPool, actor: Actor) {
    let console = Console::start(pool).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    let (lead, _) = jordans(&console).await;
    alex.erase(lead).await;
    run_outbox(&console).await;
    let request = request_of(&console, lead).await;
    let path = format!("/requests/{request}/receipt.jws");
    console.set_account_setting(ALEX, false).await;
    console.set_permission(ALEX, false).await;
    let client = console.client_of(actor).await;
    let expected = if actor == Actor::AdminWithAccess {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    assert_eq!(client.get_status(&path).await, expected, "{actor:?}");
    for other in [
        format!("/requests/{}/receipt.jws", Uuid::new_v4()),
        "/requests/not-an-id/receipt.jws".to_owned(),
    ] {
        assert_eq!(
            client.get_status(&other).await,
            StatusCode::NOT_FOUND,
            "{other}"
        );
    }
}

one_test_per_actor!(download_as);

#[sqlx::test]
async fn a_receipt_holds_none_of_the_erased_persons_details(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let mut personal: Vec<String> = Vec::new();
    for record in [lead, contact] {
        let (name, email, phone): (String, Option<String>, Option<String>) =
            sqlx::query_as("select name, email, phone from customers where id = $1")
                .bind(record)
                .fetch_one(&console.pool)
                .await
                .unwrap();
        personal.push(name);
        personal.extend(email);
        personal.extend(phone);
        personal.extend(console.record_texts(record).await);
    }
    personal.push("+14155550142".into());
    personal.push("Jordan".into());
    personal.push("Rivera".into());
    let (_, _, token) = erased_lead_with_receipt(&console, &alex).await;
    let payload = String::from_utf8(
        URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    for detail in personal.iter().filter(|d| d.len() >= 6) {
        let lowered = detail.to_lowercase();
        assert!(
            !payload.to_lowercase().contains(&lowered) && !token.contains(detail.as_str()),
            "the receipt holds {detail:?}: {payload}"
        );
    }
}
