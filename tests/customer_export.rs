//! Export on the customer page (`GET /customers/{id}/export.zip`) and through the API (`POST /api/v1/exports`):
//! the ZIP holds every call, message and stored file of the record (or of the person's records) with a manifest
//! whose sizes and SHA-256 match, the export is in the audit log, and it is refused (and not recorded) to
//! whoever may not read the record, and for an erased record.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::http::{CUSTOMER_EXPORT_PATH, PERSON_EXPORT_PATH};
use customer_data_console::server::keys::files::is_sealed;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

fn export_path(customer: Uuid) -> String {
    CUSTOMER_EXPORT_PATH.replace("{id}", &customer.to_string())
}

/// The answer to `client` downloading `customer`'s export.
async fn download(console: &Console, client: &Client, customer: Uuid) -> reqwest::Response {
    client
        .http
        .get(console.url(&export_path(customer)))
        .send()
        .await
        .expect("an answer")
}

/// The archive's files by name.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("an entry");
            let mut content = Vec::new();
            file.read_to_end(&mut content).expect("its bytes");
            (file.name().expect("a UTF-8 name").into_owned(), content)
        })
        .collect()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many exports of `customer` the audit log holds.
async fn exports_of(console: &Console, customer: Uuid) -> i64 {
    console
        .count(
            "select count(*) from audit_log where action = 'customer_exported' and customer_id = $1",
            customer,
        )
        .await
}

/// Gives Jordan's Lead `extra` more calls, each with a recording stored under a key of its own, so the export
/// reads them in several batches; they start in groups of 300 at one time, so batches end inside a group.
async fn add_recorded_calls(console: &Console, customer: Uuid, extra: i64) {
    let account = console.account_of(customer).await;
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                            duration_seconds, notes, recording_key)
         select $1, $2, 'outbound', '+14155550100', '+14155550142', date_trunc('second', now()) - make_interval(mins => (n / 300)::int),
                30, 'call ' || n, 'recordings/' || $1 || '/extra-' || n || '.wav'
           from generate_series(1, $3) n",
    )
    .bind(account)
    .bind(customer)
    .bind(extra)
    .execute(&console.pool)
    .await
    .expect("calls added");
    for n in 1..=extra {
        let path = console
            .object_store_dir()
            .join(format!("recordings/{account}/extra-{n}.wav"));
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(&path, format!("RIFF recording {n}").repeat(50)).expect("recording");
    }
}

#[sqlx::test]
async fn an_export_holds_every_call_message_and_file_with_a_manifest_that_matches(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    add_recorded_calls(&console, lead, 1_100).await;
    let (calls, messages) = console.activity(lead).await;
    let stored = console.stored_keys(lead).await;

    let response = download(&console, &alex, lead).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/zip");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"customer-data-"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        !headers.contains_key("content-encoding"),
        "a ZIP is not compressed again"
    );
    let files = unzip(&response.bytes().await.unwrap());

    let call_rows: Vec<Value> = serde_json::from_slice(&files["calls.json"]).unwrap();
    assert_eq!(call_rows.len() as i64, calls);
    let call_ids: HashSet<&str> = call_rows
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(call_ids.len(), call_rows.len(), "every call once");
    let started: Vec<time::OffsetDateTime> = call_rows
        .iter()
        .map(|c| {
            time::OffsetDateTime::parse(
                c["started_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        })
        .collect();
    assert!(
        started.windows(2).all(|pair| pair[0] <= pair[1]),
        "oldest first"
    );
    let message_rows: Vec<Value> = serde_json::from_slice(&files["messages.json"]).unwrap();
    assert_eq!(message_rows.len() as i64, messages);
    assert!(
        message_rows.iter().all(|m| m["body"].is_string()),
        "messages carry their text"
    );

    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["records"][0]["id"], lead.to_string());
    assert_eq!(manifest["records"][0]["email"], JORDAN);
    assert_eq!(manifest["records"].as_array().unwrap().len(), 1);
    assert!(
        call_rows
            .iter()
            .chain(&message_rows)
            .all(|row| row["record_id"] == lead.to_string()),
        "every row names its record"
    );
    assert_eq!(manifest["exported_by"]["name"], "Alex Admin");
    assert_eq!(manifest["counts"]["calls"], calls);
    assert_eq!(manifest["counts"]["messages"], messages);
    assert_eq!(
        manifest["counts"]["recordings"].as_u64().unwrap()
            + manifest["counts"]["media"].as_u64().unwrap(),
        stored.len() as u64
    );
    assert_eq!(manifest["files_missing"], Value::Array(Vec::new()));
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        files.len() - 1,
        "every file but the manifest is listed"
    );
    for entry in listed {
        let path = entry["path"].as_str().unwrap();
        let content = &files[path];
        assert_eq!(
            entry["bytes"].as_u64().unwrap(),
            content.len() as u64,
            "{path}"
        );
        assert_eq!(
            entry["sha256"].as_str().unwrap(),
            hex_sha256(content),
            "{path}"
        );
    }
    // Each stored file is in the archive as it was stored: the demo's sealed files opened under the record's
    // key, the plaintext ones byte for byte.
    let archived: HashSet<String> = files.values().map(|content| hex_sha256(content)).collect();
    let account = console.account_of(lead).await;
    let opener = console
        .state
        .keyring
        .opener(account, lead)
        .await
        .expect("keyring");
    let mut sealed = 0;
    for key in &stored {
        let original = std::fs::read(console.object_store_dir().join(key)).expect("stored");
        sealed += usize::from(is_sealed(&original));
        let content = opened_file(&opener, key, &original).expect("opens");
        assert!(
            archived.contains(&hex_sha256(&content)),
            "{key} is archived"
        );
    }
    assert!(
        sealed > 0 && sealed < stored.len(),
        "{sealed} of {} sealed",
        stored.len()
    );

    assert_eq!(exports_of(&console, lead).await, 1);
}

#[sqlx::test]
async fn a_stored_file_that_is_gone_is_listed_as_missing_and_the_rest_is_exported(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let stored = console.stored_keys(lead).await;
    let gone = stored.first().expect("Jordan has stored files");
    std::fs::remove_file(console.object_store_dir().join(gone)).expect("removed");

    let response = download(&console, &alex, lead).await;
    assert_eq!(response.status(), StatusCode::OK);
    let files = unzip(&response.bytes().await.unwrap());
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let missing = manifest["files_missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{manifest}");
    assert_eq!(
        manifest["files"].as_array().unwrap().len(),
        2 + stored.len() - 1,
        "the two JSON files and every other stored file"
    );
}

#[sqlx::test]
async fn a_store_that_fails_mid_export_fails_the_download_and_writes_no_manifest(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let stored = console.stored_keys(lead).await;
    let broken = console
        .object_store_dir()
        .join(stored.last().expect("Jordan has stored files"));
    std::fs::remove_file(&broken).expect("removed");
    std::os::unix::fs::symlink(&broken, &broken)
        .expect("a link to itself where the file was: the store cannot open it");

    let response = download(&console, &alex, lead).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the failure comes after the first byte"
    );
    let body = response.bytes().await;
    assert!(
        body.is_err(),
        "the download fails rather than ending as if complete"
    );
}

#[sqlx::test]
async fn an_export_is_refused_to_whoever_may_not_read_the_record_and_for_an_erased_one(
    pool: PgPool,
) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let url = console.url(&export_path(lead));

    let signed_out = console.anonymous().http.get(&url).send().await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let casey = console.signed_in(CASEY).await;
    assert_eq!(
        casey.http.get(&url).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    console.set_account_setting(GINA, true).await;
    console.set_permission(GINA, true).await;
    let gina = console.signed_in(GINA).await;
    assert_eq!(
        gina.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "another account's record is not found"
    );
    let malformed = alex
        .http
        .get(console.url("/customers/not-an-id/export.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let head = alex.http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        exports_of(&console, lead).await,
        0,
        "a refusal is no export"
    );

    request_jordan(&alex, &console).await;
    let erased = download(&console, &alex, contact).await;
    assert_eq!(erased.status(), StatusCode::CONFLICT);
    let error: Value = erased.json().await.unwrap();
    assert!(
        error.to_string().contains("nothing left to export"),
        "{error}"
    );
    assert_eq!(exports_of(&console, contact).await, 0);
}

/// The answer to a token's `POST /api/v1/exports` with `body`, as its status, content type and bytes.
async fn export_through_api(
    console: &Console,
    secret: &str,
    body: &Value,
) -> (StatusCode, String, Vec<u8>) {
    let response = bare_client()
        .post(console.url("/api/v1/exports"))
        .bearer_auth(secret)
        .json(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("a text content type")
        .to_owned();
    (
        status,
        content_type,
        response.bytes().await.expect("the body").to_vec(),
    )
}

#[sqlx::test]
async fn a_token_exports_a_person_or_one_record_of_its_account_only(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let (lead, contact) = jordans(&console).await;
    let (lead_calls, lead_messages) = console.activity(lead).await;
    let (contact_calls, contact_messages) = console.activity(contact).await;
    let reader = api_token(&console, ALEX, &[ApiScope::RequestsRead], None).await;

    let (status, content_type, bytes) =
        export_through_api(&console, &reader.secret, &json!({ "email": JORDAN })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/zip");
    let files = unzip(&bytes);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let mut records: Vec<&str> = manifest["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["id"].as_str().unwrap())
        .collect();
    records.sort_unstable();
    let mut both = [lead.to_string(), contact.to_string()];
    both.sort_unstable();
    assert_eq!(records, both);
    assert_eq!(manifest["counts"]["calls"], lead_calls + contact_calls);
    assert_eq!(
        manifest["counts"]["messages"],
        lead_messages + contact_messages
    );
    assert_eq!(manifest["exported_by"]["kind"], "api_token");
    assert_eq!(manifest["exported_by"]["id"], reader.id.to_string());
    let calls: Vec<Value> = serde_json::from_slice(&files["calls.json"]).unwrap();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c["record_id"] == contact.to_string())
            .count() as i64,
        contact_calls
    );
    let by_token = console
        .count(
            "select count(*) from audit_log where action = 'customer_exported' and actor_kind = 'token' and actor_id = $1",
            reader.id,
        )
        .await;
    assert_eq!(
        by_token, 2,
        "each exported record is in the log, as the token's"
    );

    let (status, _, bytes) = export_through_api(
        &console,
        &reader.secret,
        &json!({ "customer_id": lead.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let manifest: Value = serde_json::from_slice(&unzip(&bytes)["manifest.json"]).unwrap();
    assert_eq!(manifest["records"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["counts"]["calls"], lead_calls);

    console.set_account_setting(GINA, true).await;
    console.set_permission(GINA, true).await;
    let globex = api_token(&console, GINA, &ApiScope::ALL, None).await;
    for body in [
        json!({ "customer_id": lead.to_string() }),
        json!({ "email": JORDAN }),
    ] {
        let (status, content_type, _) = export_through_api(&console, &globex.secret, &body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(content_type, "application/problem+json");
    }
    let no_admin = api_token(&console, CASEY, &[ApiScope::RequestsRead], None).await;
    let (status, _, _) =
        export_through_api(&console, &no_admin.secret, &json!({ "email": JORDAN })).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a token acting for no Admin exports nothing"
    );
    console.set_permission(ALEX, false).await;
    let (status, _, _) =
        export_through_api(&console, &reader.secret, &json!({ "email": JORDAN })).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "nor one whose Admin lost access"
    );
    console.set_permission(ALEX, true).await;
    let ingest_only = api_token(&console, ALEX, &[ApiScope::Ingest], None).await;
    let (status, _, _) =
        export_through_api(&console, &ingest_only.secret, &json!({ "email": JORDAN })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) =
        export_through_api(&console, "cdc_nothing", &json!({ "email": JORDAN })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for body in [
        json!({}),
        json!({ "email": JORDAN, "customer_id": lead.to_string() }),
        json!({ "email": JORDAN, "phone": "+14155550142" }),
        json!({ "customer_id": "not-an-id" }),
        json!({ "email": JORDAN, "dry_run": true }),
    ] {
        let (status, content_type, _) = export_through_api(&console, &reader.secret, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(content_type, "application/problem+json");
    }
}

#[sqlx::test]
async fn an_erased_record_is_left_out_and_a_person_all_erased_is_refused(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let reader = api_token(&console, ALEX, &[ApiScope::RequestsRead], None).await;
    let (status, _) = alex
        .post("/api/customers/erase", &erase_form(&contact.to_string()))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, bytes) =
        export_through_api(&console, &reader.secret, &json!({ "email": JORDAN })).await;
    assert_eq!(status, StatusCode::OK);
    let manifest: Value = serde_json::from_slice(&unzip(&bytes)["manifest.json"]).unwrap();
    let records = manifest["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], lead.to_string());

    let (status, content_type, body) = export_through_api(
        &console,
        &reader.secret,
        &json!({ "customer_id": contact.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["type"], "/api/v1/problems/record-erased");
}

#[sqlx::test]
async fn a_persons_records_export_as_one_archive_from_the_search_results(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let (lead_calls, _) = console.activity(lead).await;
    let (contact_calls, _) = console.activity(contact).await;
    let person = |ids: &str| console.url(&format!("{PERSON_EXPORT_PATH}?ids={ids}"));

    let response = alex
        .http
        .get(person(&format!("{lead},{contact}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("customer-data-2-records-")
    );
    let manifest: Value =
        serde_json::from_slice(&unzip(&response.bytes().await.unwrap())["manifest.json"]).unwrap();
    assert_eq!(manifest["records"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["counts"]["calls"], lead_calls + contact_calls);
    assert_eq!(exports_of(&console, lead).await, 1);
    assert_eq!(exports_of(&console, contact).await, 1);

    let globex_record: Uuid = scalar_for(
        &console.pool,
        "select c.id from customers c join users u on u.account_id = c.account_id
         where u.email = $1 limit 1",
        GINA,
    )
    .await;
    let refusals = [
        (format!("{lead},{globex_record}"), StatusCode::NOT_FOUND),
        (format!("{lead},nope"), StatusCode::UNPROCESSABLE_ENTITY),
        (String::new(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            vec![lead.to_string(); 101].join(","),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (ids, status) in refusals {
        let answer = alex.http.get(person(&ids)).send().await.unwrap();
        assert_eq!(answer.status(), status, "{ids}");
    }
    assert_eq!(
        exports_of(&console, lead).await,
        1,
        "a refusal is no export"
    );

    request_jordan(&alex, &console).await;
    let erased = alex
        .http
        .get(person(&format!("{lead},{contact}")))
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), StatusCode::CONFLICT);
}
