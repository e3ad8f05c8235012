//! Hostile input against every endpoint: the corpus in tests/corpus/bad_inputs.txt (plus overlong strings,
//! wrong types, missing fields and oversized bodies) goes into every argument. Each answer has the one status
//! the contract gives it (the parsers' verdict, then the lookup's), none carries database or stack text, every
//! sign-in that takes the password reaches the password check (the failure it records is checked and taken
//! out, so the rate limit never answers in its place), and the database is otherwise unchanged.

mod common;

use common::corpus::{corpus, corpus_file};
use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::error::AppError;
use customer_data_console::model::{ErasurePolicy, SearchKind};
use customer_data_console::server::input;
use reqwest::StatusCode;
use sqlx::PgPool;

/// The ids the valid arguments name: Blair, Jordan's Lead and Alex's two saved searches.
struct Ids {
    blair: String,
    lead: String,
    request: String,
    customer_search: String,
    user_search: String,
}

/// Every endpoint and argument, with valid values for the other arguments.
fn targets(ids: &Ids) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let Ids {
        blair,
        lead,
        request,
        customer_search,
        user_search,
    } = ids;
    vec![
        (
            "/api/searches",
            vec![("kind", "customers".into()), ("query", JORDAN.into())],
        ),
        (
            "/api/customers/saved-search",
            vec![("search_id", customer_search.clone())],
        ),
        (
            "/api/users/saved-search",
            vec![("search_id", user_search.clone()), ("page", "0".into())],
        ),
        (
            "/api/auth/login",
            vec![
                ("email", ALEX.into()),
                ("password", "wrong-password".into()),
                ("next", "/customers".into()),
            ],
        ),
        (
            "/api/settings/customer-data",
            vec![("enabled", "true".into())],
        ),
        (
            "/api/users/search",
            vec![("query", "blair".into()), ("page", "0".into())],
        ),
        ("/api/users/profile", vec![("user_id", blair.clone())]),
        (
            "/api/users/customer-data-permission",
            vec![("user_id", blair.clone()), ("enabled", "true".into())],
        ),
        ("/api/customers/search", vec![("query", JORDAN.into())]),
        (
            "/api/customers/detail",
            vec![
                ("customer_id", lead.clone()),
                ("calls_before", String::new()),
                ("messages_before", String::new()),
            ],
        ),
        (
            "/api/customers/erase",
            vec![
                ("customer_id", lead.clone()),
                ("confirmation", format!("{ERASE_CONFIRMATION}-NOT")),
                ("password", String::new()),
            ],
        ),
        (
            "/api/requests/list",
            vec![("state", "completed".into()), ("cursor", String::new())],
        ),
        (
            "/api/requests/detail",
            vec![("request_id", request.clone())],
        ),
        (
            "/api/requests/create",
            vec![
                ("customer_ids", lead.clone()),
                ("query", JORDAN.into()),
                ("confirmation", format!("{ERASE_CONFIRMATION}-NOT")),
                ("password", String::new()),
            ],
        ),
        ("/api/users/end-sessions", vec![("user_id", blair.clone())]),
        (
            "/api/settings/erasure-policy",
            vec![
                ("hold_hours", "0".into()),
                ("deadline_days", "30".into()),
                ("approval_min_records", String::new()),
                ("approval_min_items", String::new()),
            ],
        ),
        (
            "/api/requests/approve",
            vec![("request_id", request.clone()), ("password", String::new())],
        ),
        (
            "/api/requests/reject",
            vec![
                ("request_id", request.clone()),
                ("reason", "Not this person".into()),
            ],
        ),
        (
            "/api/requests/cancel",
            vec![("request_id", request.clone())],
        ),
        (
            "/api/requests/erase-now",
            vec![("request_id", request.clone()), ("password", String::new())],
        ),
        ("/api/requests/open", vec![("unexpected", String::new())]),
        (
            "/api/settings/erasure-policy/current",
            vec![("unexpected", String::new())],
        ),
        // Takes no argument: the input goes in a field it does not expect.
        (
            "/api/auth/end-other-sessions",
            vec![("unexpected", String::new())],
        ),
        ("/api/auth/access", vec![("unexpected", String::new())]),
        (
            "/api/audit/list",
            vec![
                ("action", String::new()),
                ("actor", String::new()),
                ("from", String::new()),
                ("to", String::new()),
                ("cursor", String::new()),
            ],
        ),
        ("/api/audit/overview", vec![("unexpected", String::new())]),
        ("/api/suppressions/list", vec![("cursor", String::new())]),
        (
            "/api/suppressions/lift",
            vec![
                ("suppression_id", uuid::Uuid::from_u128(7).to_string()),
                ("reason", "Asked to be contacted again".into()),
            ],
        ),
    ]
}

#[test]
fn the_corpus_holds_at_least_200_distinct_inputs() {
    let inputs = corpus();
    let distinct: std::collections::HashSet<&String> = inputs.iter().collect();
    assert!(distinct.len() >= 200, "{} inputs", distinct.len());
    assert!(inputs.iter().any(|i| i.contains('\0')));
    assert!(inputs.iter().any(|i| i.contains('\u{202E}')));
    assert!(
        inputs.iter().any(|i| i == "#fragment"),
        "a line starting with # but no space is an input"
    );
    assert_eq!(corpus_file().len(), CORPUS_FILE_INPUTS);
    eprintln!(
        "corpus: {} inputs ({} distinct), {CORPUS_FILE_INPUTS} of them from tests/corpus/bad_inputs.txt",
        inputs.len(),
        distinct.len()
    );
}

/// The inputs the corpus file holds (its lines less its two comment lines).
const CORPUS_FILE_INPUTS: usize = 230;

/// What the contract answers when `input` goes into argument `field` of `path` and the other arguments are
/// valid: the one status, and for a sign-in the email (which Postgres lower-cases into the key) of the one
/// failure it records when the password check ran (none when the input was refused before it).
fn expected(path: &str, field: &str, input: &str, ids: &Ids) -> (u16, Option<String>) {
    let id_status = |found: &str| match input::record_id(input, "any") {
        Ok(id) if id.to_string() == found => 200,
        Ok(_) => 404,
        Err(refusal) => refusal.status(),
    };
    let status = match (path, field) {
        ("/api/auth/login", "email") => {
            let email_key = input.trim().to_lowercase();
            return if email_key.is_empty() {
                (422, None)
            } else if email_key.len() > 320 || email_key.chars().any(char::is_control) {
                (401, None)
            } else {
                (401, Some(input.trim().to_owned()))
            };
        }
        // Where to go after signing in never changes the verdict on the password.
        ("/api/auth/login", "next") => return (401, Some(ALEX.to_owned())),
        ("/api/auth/login", "password") => {
            return if input.is_empty() {
                (422, None)
            } else if input.len() > 1024 {
                (401, None)
            } else {
                (401, Some(ALEX.to_owned()))
            };
        }
        // A kept search answers 303 to its page, which the client follows.
        ("/api/searches", "kind") => {
            if input == "customers" || input == "users" {
                200
            } else {
                422
            }
        }
        ("/api/searches", "query") => status_of(input::saved_search_query(
            SearchKind::Customers,
            input,
            "US",
        )),
        ("/api/customers/saved-search", "search_id") => id_status(&ids.customer_search),
        ("/api/users/saved-search", "search_id") => id_status(&ids.user_search),
        ("/api/users/search", "query") => status_of(input::search_text(input)),
        ("/api/users/search" | "/api/users/saved-search", "page") => {
            if input.parse::<u32>().is_ok() {
                200
            } else {
                422
            }
        }
        (
            "/api/users/profile"
            | "/api/users/customer-data-permission"
            | "/api/users/end-sessions",
            "user_id",
        ) => id_status(&ids.blair),
        ("/api/customers/search", "query") => status_of(input::customer_query_in(input, "US")),
        ("/api/customers/detail", "customer_id") => id_status(""),
        ("/api/requests/detail", "request_id") => id_status(&ids.request),
        // The request is cancelled: found, it can be taken nowhere (409). A fresh sign-in needs no password.
        (
            "/api/requests/approve"
            | "/api/requests/reject"
            | "/api/requests/cancel"
            | "/api/requests/erase-now",
            "request_id",
        ) => match id_status(&ids.request) {
            200 => 409,
            refused => refused,
        },
        ("/api/requests/approve" | "/api/requests/erase-now", "password") => 409,
        ("/api/requests/reject", "reason") => match status_of(input::rejection_reason(input)) {
            200 => 409,
            refused => refused,
        },
        ("/api/settings/erasure-policy", field) => status_of(policy_with(field, input)),
        ("/api/tokens/create", field) => {
            let mut form = ["privacy platform", "ingest", "0"];
            form[["name", "scopes", "expires_days"]
                .iter()
                .position(|name| *name == field)
                .expect("a field of the token form")] = input;
            status_of(input::api_token(form[0], form[1], form[2]))
        }
        ("/api/tokens/revoke", "token_id") => id_status(""),
        // No entry has that id: a valid one is not found (404).
        ("/api/suppressions/lift", "suppression_id") => id_status(""),
        ("/api/suppressions/lift", "reason") => match status_of(input::lift_reason(input)) {
            200 => 404,
            refused => refused,
        },
        ("/api/audit/list", "cursor") => status_of(input::audit_cursor(Some(input))),
        ("/api/audit/list", field) => status_of(match field {
            "action" => input::audit_filter(input, "", "", ""),
            "actor" => input::audit_filter("", input, "", ""),
            "from" => input::audit_filter("", "", input, ""),
            _ => input::audit_filter("", "", "", input),
        }),
        ("/api/requests/list", "state") => status_of(input::request_state(input)),
        ("/api/requests/list" | "/api/suppressions/list", "cursor") => {
            status_of(input::cursor(Some(input)))
        }
        ("/api/customers/detail", "calls_before" | "messages_before") => {
            status_of(input::cursor(Some(input)))
        }
        ("/api/customers/erase" | "/api/requests/create", "confirmation") => {
            assert_ne!(
                input, ERASE_CONFIRMATION,
                "the corpus would erase the record"
            );
            422
        }
        // A switch takes only `true` or `false`; an erasure needs a record id and the confirmation word, and a
        // request whose ids and search parse still lacks that word.
        ("/api/settings/customer-data" | "/api/users/customer-data-permission", "enabled")
        | ("/api/customers/erase", "customer_id")
        | ("/api/requests/create", "customer_ids" | "query") => 422,
        // The confirmation word is checked before the password (which a fresh sign-in does not need anyway).
        ("/api/customers/erase" | "/api/requests/create", "password") => 422,
        // It takes no argument and ignores one it does not know; the caller has no other session to end.
        ("/api/auth/end-other-sessions", "unexpected") => 200,
        // They read what the caller may open and ignore an argument they do not know.
        (
            "/api/auth/access"
            | "/api/audit/overview"
            | "/api/tokens/list"
            | "/api/requests/open"
            | "/api/settings/erasure-policy/current",
            "unexpected",
        ) => 200,
        other => panic!("no expectation for {other:?}"),
    };
    (status, None)
}

/// The erasure policy of the default form (no hold, 30 days, no approval) with `input` in `field`.
fn policy_with(field: &str, input: &str) -> Result<ErasurePolicy, AppError> {
    let mut form = ["0", "30", "", ""];
    let position = [
        "hold_hours",
        "deadline_days",
        "approval_min_records",
        "approval_min_items",
    ]
    .iter()
    .position(|name| *name == field)
    .expect("a field of the policy form");
    form[position] = input;
    input::erasure_policy(form[0], form[1], form[2], form[3])
}

fn status_of<T>(parsed: Result<T, AppError>) -> u16 {
    parsed.map_or_else(|refusal| refusal.status(), |_| 200)
}

#[sqlx::test]
async fn every_input_gets_its_one_expected_status_and_changes_nothing(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    console.set_permission(BLAIR, true).await;
    let alex = console.signed_in(ALEX).await;
    let ids = Ids {
        blair: console.user_id(BLAIR).await.to_string(),
        lead: jordans_lead(&console.pool).await.to_string(),
        request: console
            .cancelled_request(jordans_lead(&console.pool).await)
            .await
            .to_string(),
        customer_search: console
            .saved_search(ALEX, "customers", JORDAN)
            .await
            .to_string(),
        user_search: console
            .saved_search(ALEX, "users", "blair")
            .await
            .to_string(),
    };
    let before = console
        .snapshot_except(&["saved_searches", "audit_log", "audit_heads"])
        .await;
    let mut kept_searches = 2;
    let mut requests = std::collections::BTreeMap::<String, usize>::new();
    let mut password_checks = std::collections::BTreeMap::<&str, usize>::new();
    let inputs = corpus();
    for input in &inputs {
        for (path, form) in targets(&ids) {
            for position in 0..form.len() {
                let field = form[position].0;
                if field == "enabled" && (input == "true" || input == "false") {
                    continue; // a valid value for a switch, not a hostile one
                }
                if path == "/api/settings/erasure-policy"
                    && policy_with(field, input).is_ok_and(|p| p != ErasurePolicy::default())
                {
                    continue; // a valid policy, not a hostile one
                }
                let mut pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                pairs[position].1 = input;
                let (status, body) = alex.post(path, &pairs).await;
                *requests.entry(format!("{path} {field}")).or_default() += 1;
                let (expected_status, expected_failure) = expected(path, field, input, &ids);
                if path == "/api/searches" && expected_status == 200 {
                    kept_searches += 1;
                }
                assert_eq!(
                    status.as_u16(),
                    expected_status,
                    "{path} {field}={input:?}: {body}"
                );
                assert_no_internal_text(&body);
                let failures = console.take_login_failures().await;
                // The limit's key is the email as Postgres lower-cases it (as the user look-up matches).
                let mut expected_keys = Vec::new();
                if let Some(email) = expected_failure {
                    expected_keys
                        .push(scalar_for::<String>(&console.pool, "select lower($1)", email).await);
                }
                assert_eq!(
                    failures, expected_keys,
                    "the sign-in failures {path} {field}={input:?} recorded"
                );
                if !failures.is_empty() {
                    *password_checks.entry(field).or_default() += 1;
                }
            }
        }
    }
    let total: usize = requests.values().sum();
    eprintln!(
        "hostile input: {} inputs, {total} requests; per argument: {requests:?}; \
         sign-ins that reached the password check, per argument: {password_checks:?}",
        inputs.len()
    );
    assert!(total > 2_500, "{total} requests");
    assert_eq!(
        password_checks["password"],
        inputs.iter().filter(|i| i.len() <= 1024).count(),
        "every password a sign-in takes reached the password check"
    );
    assert_eq!(
        console
            .snapshot_except(&["saved_searches", "audit_log", "audit_heads"])
            .await,
        before,
        "hostile input changed the database"
    );
    assert_eq!(
        scalar::<i64>(&console.pool, "select count(*) from saved_searches").await,
        kept_searches,
        "only the searches the parser accepts are kept"
    );
    let (_, viewer) = alex.post("/api/auth/viewer", &[]).await;
    assert_eq!(
        viewer["email"],
        serde_json::json!(ALEX),
        "the session survived"
    );
}

#[sqlx::test]
async fn wrong_types_missing_fields_and_oversized_bodies_are_client_errors(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let blair = console.user_id(BLAIR).await.to_string();
    let before = console.snapshot().await;
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("/api/settings/customer-data", vec![]),
        (
            "/api/settings/customer-data",
            vec![("enabled", "banana".into())],
        ),
        (
            "/api/settings/customer-data",
            vec![("enabled[]", "true".into())],
        ),
        ("/api/searches", vec![]),
        ("/api/searches", vec![("kind", "customers".into())]),
        ("/api/searches", vec![("query", JORDAN.into())]),
        (
            "/api/searches",
            vec![("kind", "Customers".into()), ("query", JORDAN.into())],
        ),
        ("/api/customers/saved-search", vec![]),
        ("/api/users/saved-search", vec![]),
        ("/api/users/search", vec![]),
        (
            "/api/users/search",
            vec![("query", "a".into()), ("page", "-1".into())],
        ),
        (
            "/api/users/search",
            vec![
                ("query", "a".into()),
                ("page", "99999999999999999999".into()),
            ],
        ),
        (
            "/api/users/customer-data-permission",
            vec![("user_id", blair.clone())],
        ),
        (
            "/api/users/customer-data-permission",
            vec![("enabled", "true".into())],
        ),
        ("/api/users/profile", vec![]),
        ("/api/users/end-sessions", vec![]),
        ("/api/customers/search", vec![]),
        ("/api/customers/detail", vec![]),
        ("/api/requests/detail", vec![]),
        (
            "/api/customers/erase",
            vec![("confirmation", ERASE_CONFIRMATION.into())],
        ),
        (
            "/api/requests/create",
            vec![("confirmation", ERASE_CONFIRMATION.into())],
        ),
        ("/api/requests/approve", vec![]),
        ("/api/requests/reject", vec![("request_id", blair.clone())]),
        ("/api/requests/cancel", vec![]),
        ("/api/requests/erase-now", vec![]),
        (
            "/api/settings/erasure-policy",
            vec![("hold_hours", "0".into())],
        ),
        ("/api/auth/login", vec![("email", ALEX.into())]),
    ];
    for (path, form) in cases {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = alex.post(path, &pairs).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {form:?}: {body}"
        );
        assert_no_internal_text(&body);
    }
    for path in [
        "/api/searches",
        "/api/customers/search",
        "/api/users/search",
        "/api/auth/login",
    ] {
        let huge = "q".repeat(200_000);
        let response = alex
            .http
            .post(console.url(path))
            .form(&[("query", huge.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let json = alex
            .http
            .post(console.url(path))
            .header("content-type", "application/json")
            .body("{\"query\": 1}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            json.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path} JSON body"
        );
    }
    let page_big = alex
        .http
        .get(console.url(&format!("/customers/{}", "x".repeat(5_000))))
        .send()
        .await
        .unwrap();
    assert_eq!(page_big.status(), StatusCode::OK);
    let page = page_big.text().await.unwrap();
    assert!(
        page.contains("That is not a valid customer id."),
        "the page says why it shows no record"
    );
    assert_eq!(console.snapshot().await, before);
}
