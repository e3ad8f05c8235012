//! /api/v1 over HTTP against a real Postgres: an API token reads its account's audit log chain page by page,
//! and every row it answers recomputes to its hash, so a client can verify the chain without the console; no
//! token, a wrong, revoked or expired one is 401, a token without the scope or of an account whose setting is
//! off is 403, another account's token sees only its own chain, malformed paging is 422, each as
//! `application/problem+json`; making and revoking a token is audited; and the OpenAPI 3.1 document lists every
//! operation the router serves.

mod common;

use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::db::api_tokens::{self, NewToken};
use customer_data_console::server::evidence::audit_log::{self, Actor, RowFields};
use customer_data_console::server::rest::{OPENAPI_PATH, OPERATION_PATHS};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const AUDIT_EVENTS: &str = "/api/v1/audit-events";

async fn account_of_user(console: &Console, email: &str) -> Uuid {
    scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        email,
    )
    .await
}

/// A token of `email`'s account with `scopes`, expiring after `expires_in` when given.
async fn token(
    console: &Console,
    email: &str,
    scopes: &[ApiScope],
    expires_in: Option<Duration>,
) -> NewToken {
    api_token(console, email, scopes, expires_in).await
}

/// GETs `path` with `secret` as the bearer token (none when `None`): the status, content type and JSON body.
async fn get(console: &Console, path: &str, secret: Option<&str>) -> (StatusCode, String, Value) {
    let mut request = bare_client().get(console.url(path));
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    let response = request.send().await.expect("the console answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

fn assert_problem(answer: &(StatusCode, String, Value), status: StatusCode, kind: &str) {
    let (got, content_type, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["type"], format!("/api/v1/problems/{kind}"), "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

/// The bytes of a hex string.
fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Recomputes `event`'s hash from its fields and `prev_hash`, as a client would.
fn recomputed_hash(account: Uuid, event: &Value) -> Vec<u8> {
    let id = |name: &str| {
        event[name]
            .as_str()
            .map(|id| Uuid::parse_str(id).expect("uuid"))
    };
    let at = OffsetDateTime::parse(
        event["at"].as_str().expect("at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let subject = event["subject"].as_str().map(unhex);
    let prev: [u8; 32] = unhex(event["prev_hash"].as_str().expect("prev_hash"))
        .try_into()
        .expect("32 bytes");
    let fields = RowFields {
        account_id: account,
        seq: event["seq"].as_i64().expect("seq"),
        at,
        actor_kind: event["actor_kind"].as_str().expect("actor_kind"),
        actor_id: id("actor_id"),
        action: event["action"].as_str().expect("action"),
        target_user_id: id("target_user_id"),
        customer_id: id("customer_id"),
        request_id: id("request_id"),
        subject: subject.as_deref(),
        details: &event["details"],
    };
    audit_log::row_hash(&prev, &fields).to_vec()
}

#[sqlx::test]
async fn a_token_reads_its_chain_page_by_page_and_every_row_recomputes(pool: PgPool) {
    let (console, _alex, account) = console_with_a_trail(pool).await;
    let reader = token(&console, ALEX, &[ApiScope::AuditRead], None).await;
    let head: i64 = console
        .count("select seq from audit_heads where account_id = $1", account)
        .await;
    let mut seen = Vec::new();
    let mut previous = vec![0u8; 32];
    let mut after = 0;
    loop {
        let (status, content_type, page) = get(
            &console,
            &format!("{AUDIT_EVENTS}?after={after}&limit=3"),
            Some(&reader.secret),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(content_type, "application/json");
        for event in page["events"].as_array().expect("events") {
            assert_eq!(unhex(event["prev_hash"].as_str().unwrap()), previous);
            let hash = unhex(event["hash"].as_str().unwrap());
            assert_eq!(recomputed_hash(account, event), hash, "{event}");
            previous = hash;
            seen.push(event["seq"].as_i64().unwrap());
        }
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());
    let text = get(&console, AUDIT_EVENTS, Some(&reader.secret))
        .await
        .2
        .to_string();
    assert!(!text.contains(JORDAN), "no person's email in the chain");
}

#[sqlx::test]
async fn a_token_is_refused_unless_live_scoped_and_its_account_on(pool: PgPool) {
    let (console, _alex, account) = console_with_a_trail(pool).await;
    assert_problem(
        &get(&console, AUDIT_EVENTS, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    for secret in ["", "cdc_", "cdc_0000", "Basic abc", &"cdc_a".repeat(40)] {
        assert_problem(
            &get(&console, AUDIT_EVENTS, Some(secret)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
    }
    let expired = token(
        &console,
        ALEX,
        &[ApiScope::AuditRead],
        Some(Duration::seconds(-1)),
    )
    .await;
    assert_problem(
        &get(&console, AUDIT_EVENTS, Some(&expired.secret)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let revoked = token(&console, ALEX, &[ApiScope::AuditRead], None).await;
    assert_eq!(
        get(&console, AUDIT_EVENTS, Some(&revoked.secret)).await.0,
        StatusCode::OK
    );
    assert!(
        api_tokens::revoke(&console.pool, None, revoked.id, Actor::System)
            .await
            .unwrap()
    );
    assert!(
        !api_tokens::revoke(&console.pool, None, revoked.id, Actor::System)
            .await
            .unwrap(),
        "a token is revoked once"
    );
    assert_problem(
        &get(&console, AUDIT_EVENTS, Some(&revoked.secret)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let without_scope = token(
        &console,
        ALEX,
        &[ApiScope::RequestsRead, ApiScope::Ingest],
        None,
    )
    .await;
    assert_problem(
        &get(&console, AUDIT_EVENTS, Some(&without_scope.secret)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let reader = token(&console, ALEX, &[ApiScope::AuditRead], None).await;
    for query in [
        "after=-1",
        "limit=0",
        "limit=1001",
        "after=one",
        "after=1&after=2",
        "seq=2",
    ] {
        assert_problem(
            &get(
                &console,
                &format!("{AUDIT_EVENTS}?{query}"),
                Some(&reader.secret),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        );
    }
    console.set_account_setting(ALEX, false).await;
    assert_problem(
        &get(&console, AUDIT_EVENTS, Some(&reader.secret)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let actions: Vec<String> = column_for(
        &console.pool,
        "select action from audit_log where account_id = $1 and action like 'api_token_%' order by seq",
        account,
    )
    .await;
    assert_eq!(
        actions,
        [
            "api_token_created",
            "api_token_created",
            "api_token_revoked",
            "api_token_created",
            "api_token_created"
        ]
    );
    let used: i64 = console
        .count(
            "select count(*) from api_tokens where account_id = $1 and last_used_at is not null",
            account,
        )
        .await;
    assert_eq!(
        used, 3,
        "the revoked, the scopeless and the reading token were used"
    );
}

#[sqlx::test]
async fn a_token_sees_only_its_own_accounts_chain(pool: PgPool) {
    let (console, _alex, acme) = console_with_a_trail(pool).await;
    console.set_account_setting(GINA, true).await;
    let globex = account_of_user(&console, GINA).await;
    let reader = token(&console, GINA, &[ApiScope::AuditRead], None).await;
    let (status, _, page) = get(
        &console,
        &format!("{AUDIT_EVENTS}?limit=1000"),
        Some(&reader.secret),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let hashes: Vec<String> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["hash"].as_str().unwrap().to_owned())
        .collect();
    let globex_hashes: Vec<String> = column_for(
        &console.pool,
        "select encode(hash, 'hex') from audit_log where account_id = $1 order by seq",
        globex,
    )
    .await;
    assert_eq!(hashes, globex_hashes);
    let acme_rows = console
        .count("select count(*) from audit_log where account_id = $1", acme)
        .await;
    assert!(acme_rows > 0);
    assert!(
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|event| recomputed_hash(globex, event) == unhex(event["hash"].as_str().unwrap()))
    );
}

#[sqlx::test]
async fn the_openapi_document_is_3_1_and_lists_every_operation(pool: PgPool) {
    let console = Console::start(pool).await;
    let (status, content_type, document) = get(&console, OPENAPI_PATH, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("paths");
    for path in OPERATION_PATHS {
        assert!(
            paths.contains_key(path),
            "{path} is missing from the document"
        );
    }
    assert_eq!(
        paths.len(),
        OPERATION_PATHS.len(),
        "every documented path is served"
    );
    for (path, operations) in paths {
        let methods = operations.as_object().expect("operations");
        assert!(!methods.is_empty(), "{path}");
        for method in methods.keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                .expect("an HTTP method");
            let answer = bare_client()
                .request(method.clone(), console.url(path))
                .send()
                .await
                .expect("the console answers");
            assert_eq!(
                answer.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} without a token"
            );
            assert_eq!(answer.headers()["www-authenticate"], "Bearer");
        }
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    for method in [
        reqwest::Method::POST,
        reqwest::Method::DELETE,
        reqwest::Method::TRACE,
    ] {
        let answer = bare_client()
            .request(method.clone(), console.url(AUDIT_EVENTS))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("the console answers");
        assert_eq!(
            answer.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} on a GET-only operation"
        );
    }
}

/// Runs the binary with `args` against `pool`'s database.
fn run(pool: &PgPool, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
        .args(args)
        .env("DATABASE_URL", database_url_of(pool))
        .env("RUST_LOG", "off")
        .output()
        .expect("run the binary")
}

#[sqlx::test]
async fn create_token_prints_a_working_secret_once_and_revoke_token_ends_it(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(ALEX, true).await;
    let made = run(
        &console.pool,
        &[
            "create-token",
            "--account",
            "Acme Corp",
            "--name",
            "privacy platform",
            "--scopes",
            "audit:read, requests:read",
            "--expires-days",
            "30",
        ],
    );
    assert!(made.status.success(), "{made:?}");
    let stdout = String::from_utf8(made.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let id = lines[0]
        .strip_prefix("made the API token ")
        .and_then(|rest| rest.split(' ').next())
        .expect("the id");
    let secret = lines[1];
    assert!(secret.starts_with("cdc_") && secret.len() == 68, "{secret}");
    let stored: i64 = scalar(
        &console.pool,
        &format!(
            "select count(*) from api_tokens where id = '{id}' and expires_at > now() + interval '29 days'
               and scopes = array['audit:read', 'requests:read']"
        ),
    )
    .await;
    assert_eq!(stored, 1);
    let leaked: i64 = scalar_for(
        &console.pool,
        "select count(*) from api_tokens t where t::text like '%' || $1 || '%'",
        secret,
    )
    .await;
    assert_eq!(leaked, 0, "the secret itself is not stored");
    assert_eq!(
        get(&console, AUDIT_EVENTS, Some(secret)).await.0,
        StatusCode::OK
    );

    for (scopes, account, admin, says) in [
        ("audit:write", "Acme Corp", ALEX, "not one of"),
        (" , ", "Acme Corp", ALEX, "at least one scope"),
        ("ingest", "No Such Corp", ALEX, "no account is named"),
        (
            "requests:write",
            "Acme Corp",
            CASEY,
            "no Admin with the email",
        ),
        (
            "requests:write",
            "Acme Corp",
            GINA,
            "no Admin with the email",
        ),
    ] {
        let refused = run(
            &console.pool,
            &[
                "create-token",
                "--name",
                "x",
                "--account",
                account,
                "--scopes",
                scopes,
                "--admin",
                admin,
            ],
        );
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(says), "{stderr}");
    }

    let without_admin = run(
        &console.pool,
        &[
            "create-token",
            "--account",
            "Acme Corp",
            "--name",
            "x",
            "--scopes",
            "requests:write",
        ],
    );
    assert!(!without_admin.status.success());
    assert!(String::from_utf8_lossy(&without_admin.stderr).contains("acts for an Admin"));
    let acting = run(
        &console.pool,
        &[
            "create-token",
            "--account",
            "Acme Corp",
            "--name",
            "privacy platform",
            "--scopes",
            "requests:write",
            "--admin",
            "Alex.Admin@Acme.example",
        ],
    );
    assert!(acting.status.success(), "{acting:?}");
    let alex = console.user_id(ALEX).await;
    assert_eq!(
        console
            .count(
                "select count(*) from api_tokens where created_by = $1 and scopes = array['requests:write']",
                alex
            )
            .await,
        1
    );

    let revoked = run(&console.pool, &["revoke-token", id]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert_problem(
        &get(&console, AUDIT_EVENTS, Some(secret)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let again = run(&console.pool, &["revoke-token", id]);
    assert!(!again.status.success(), "a token is revoked once");
}

#[sqlx::test]
async fn a_token_reads_its_accounts_requests_and_a_completed_ones_receipt(pool: PgPool) {
    let (console, _alex, _) = console_with_a_trail(pool).await;
    let lead = jordans_lead(&console.pool).await;
    let request: Uuid = scalar_for(
        &console.pool,
        "select request_id from erasures where customer_id = $1",
        lead,
    )
    .await;
    let reader = token(&console, ALEX, &[ApiScope::RequestsRead], None).await;

    let (status, _, page) = get(&console, "/api/v1/erasure-requests", Some(&reader.secret)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["requests"][0]["id"], request.to_string(), "{page}");
    assert_eq!(page["requests"][0]["state"], "completed");
    assert_eq!(page["next_cursor"], Value::Null);
    let (_, _, none) = get(
        &console,
        "/api/v1/erasure-requests?state=scheduled",
        Some(&reader.secret),
    )
    .await;
    assert_eq!(none["requests"], serde_json::json!([]));

    let (status, _, detail) = get(
        &console,
        &format!("/api/v1/erasure-requests/{request}"),
        Some(&reader.secret),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["records"][0]["customer_id"], lead.to_string());
    assert_eq!(detail["records"][0]["erased"], true);
    let text = detail.to_string();
    assert!(
        !text.contains("Jordan") && !text.contains(JORDAN),
        "no name or email: {text}"
    );

    let receipt_path = format!("/api/v1/erasure-requests/{request}/receipt");
    let keys = console.state.receipt_keys.as_ref().expect("receipt keys");
    customer_data_console::server::erasure::delete_due_objects(
        &console.pool,
        &console.state.storage,
        100,
    )
    .await
    .expect("outbox pass");
    customer_data_console::server::keys::destructions::destroy_due_keys(
        &console.pool,
        &console.state.keyring,
        100,
    )
    .await
    .expect("key pass");
    customer_data_console::server::evidence::receipts::issue_due_receipts(
        &console.pool,
        &console.state.storage,
        &console.state.keyring,
        keys,
    )
    .await
    .expect("issuing pass");
    let answer = bare_client()
        .get(console.url(&receipt_path))
        .bearer_auth(&reader.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "application/jose");
    let jws = answer.text().await.unwrap();
    let stored: String = scalar_for(
        &console.pool,
        "select receipt_jws from erasure_requests where id = $1",
        request,
    )
    .await;
    assert_eq!(jws, stored);

    for path in [
        "/api/v1/erasure-requests/not-an-id".to_owned(),
        format!("/api/v1/erasure-requests/{}", Uuid::new_v4()),
        format!("/api/v1/erasure-requests/{}/receipt", Uuid::new_v4()),
    ] {
        assert_problem(
            &get(&console, &path, Some(&reader.secret)).await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
    }
    for query in [
        "state=done",
        "cursor=%%%",
        "page=2",
        "state=completed&state=failed",
    ] {
        assert_problem(
            &get(
                &console,
                &format!("/api/v1/erasure-requests?{query}"),
                Some(&reader.secret),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        );
    }

    console.set_account_setting(GINA, true).await;
    let globex = token(&console, GINA, &[ApiScope::RequestsRead], None).await;
    for path in [
        format!("/api/v1/erasure-requests/{request}"),
        receipt_path.clone(),
    ] {
        assert_problem(
            &get(&console, &path, Some(&globex.secret)).await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
    }
    let (_, _, globex_page) = get(&console, "/api/v1/erasure-requests", Some(&globex.secret)).await;
    assert_eq!(globex_page["requests"], serde_json::json!([]));
    let auditor = token(&console, ALEX, &[ApiScope::AuditRead], None).await;
    assert_problem(
        &get(&console, &receipt_path, Some(&auditor.secret)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

#[sqlx::test]
async fn an_admin_makes_lists_and_revokes_tokens_of_their_account(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(ALEX, true).await;
    let alex = console.signed_in(ALEX).await;
    let (status, made) = alex
        .post(
            "/api/tokens/create",
            &[
                ("name", "OneTrust"),
                ("scopes", "audit:read,requests:write,audit:read"),
                ("expires_days", "90"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let secret = made["secret"].as_str().expect("the secret").to_owned();
    let id = made["id"].as_str().expect("the id").to_owned();
    assert_eq!(
        get(&console, AUDIT_EVENTS, Some(&secret)).await.0,
        StatusCode::OK
    );
    let (status, listed) = alex.post("/api/tokens/list", NO_FIELDS).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let token = &listed[0];
    assert_eq!(token["name"], "OneTrust");
    assert_eq!(
        token["scopes"],
        serde_json::json!(["audit:read", "requests:write"])
    );
    assert_eq!(token["acts_for"], "Alex Admin");
    assert!(!token["last_used_at"].is_null(), "{token}");
    assert!(
        !listed.to_string().contains(&secret),
        "the list holds no secret"
    );

    let gina = console.signed_in(GINA).await;
    let (status, _) = gina.post("/api/tokens/revoke", &[("token_id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another account's token");
    let (status, listed) = gina.post("/api/tokens/list", NO_FIELDS).await;
    assert_eq!((status, listed), (StatusCode::OK, serde_json::json!([])));

    let (status, answer) = alex.post("/api/tokens/revoke", &[("token_id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_problem(
        &get(&console, AUDIT_EVENTS, Some(&secret)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let (status, _) = alex.post("/api/tokens/revoke", &[("token_id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a token is revoked once");
    let alex_id = console.user_id(ALEX).await;
    let acts: Vec<String> = column_for(
        &console.pool,
        "select action from audit_log where actor_kind = 'user' and actor_id = $1
           and action like 'api_token_%' order by seq",
        alex_id,
    )
    .await;
    assert_eq!(acts, ["api_token_created", "api_token_revoked"]);
    for (name, scopes, days) in [
        ("", "ingest", ""),
        ("x", "", ""),
        ("x", "audit:write", ""),
        ("x", "ingest", "0"),
        ("x", "ingest", "3651"),
    ] {
        let (status, _) = alex
            .post(
                "/api/tokens/create",
                &[("name", name), ("scopes", scopes), ("expires_days", days)],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?} {scopes:?} {days:?}"
        );
    }
}

#[sqlx::test]
async fn with_the_account_setting_off_every_operation_answers_403(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let every_scope = token(&console, ALEX, &ApiScope::ALL, None).await;
    console.set_account_setting(ALEX, false).await;
    let (_, _, document) = get(&console, OPENAPI_PATH, None).await;
    let mut operations = 0;
    for (path, methods) in document["paths"].as_object().expect("paths") {
        let path = path.replace("{id}", &Uuid::new_v4().to_string());
        for method in methods.as_object().expect("operations").keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                .expect("an HTTP method");
            let answer = bare_client()
                .request(method.clone(), console.url(&path))
                .bearer_auth(&every_scope.secret)
                .json(&serde_json::json!({}))
                .send()
                .await
                .expect("the console answers");
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{method} {path}");
            operations += 1;
        }
    }
    assert_eq!(operations, 11, "every documented operation was tried");
}
