//! Hostile input against every endpoint: the corpus in tests/corpus/bad_inputs.txt (plus overlong strings,
//! wrong types, missing fields and oversized bodies) goes into every argument. No answer is a 5xx, none carries
//! database or stack text, and the database is unchanged.

mod common;

use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Decodes the corpus escapes: \0, \xHH, \u{H..}, \n, \r, \t, \\.
fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(char::from(
                    u8::from_str_radix(&hex, 16).expect("\\x escape"),
                ));
            }
            Some('u') => {
                assert_eq!(chars.next(), Some('{'));
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push(
                    char::from_u32(u32::from_str_radix(&hex, 16).expect("\\u escape"))
                        .expect("char"),
                );
            }
            other => panic!("unknown escape \\{other:?} in corpus line {line:?}"),
        }
    }
    out
}

fn corpus() -> Vec<String> {
    let mut inputs: Vec<String> = include_str!("corpus/bad_inputs.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(unescape)
        .collect();
    inputs.push("x".repeat(201));
    inputs.push("a".repeat(10_000));
    inputs.push(format!("{}@example.com", "j".repeat(5_000)));
    inputs.push("\u{202E}".repeat(1_000));
    inputs
}

/// Every endpoint and argument, with valid values for the other arguments.
fn targets(blair: &str, lead: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        (
            "/api/auth/login",
            vec![
                ("email", ALEX.into()),
                ("password", "wrong-password".into()),
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
        ("/api/users/profile", vec![("user_id", blair.into())]),
        (
            "/api/users/customer-data-permission",
            vec![("user_id", blair.into()), ("enabled", "true".into())],
        ),
        ("/api/customers/search", vec![("query", JORDAN.into())]),
        (
            "/api/customers/detail",
            vec![
                ("customer_id", lead.into()),
                ("calls_before", String::new()),
                ("messages_before", String::new()),
            ],
        ),
        (
            "/api/customers/erase",
            vec![
                ("customer_id", lead.into()),
                ("confirmation", format!("{ERASE_CONFIRMATION}-NOT")),
            ],
        ),
        ("/api/users/end-sessions", vec![("user_id", blair.into())]),
        // Takes no argument: the input goes in a field it does not expect.
        (
            "/api/auth/end-other-sessions",
            vec![("unexpected", String::new())],
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
}

#[sqlx::test]
async fn no_input_causes_a_server_error_a_leak_or_a_change(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    console.set_permission(BLAIR, true).await;
    let alex = console.signed_in(ALEX).await;
    let blair = console.user_id(BLAIR).await.to_string();
    let lead = jordans_lead(&console.pool).await.to_string();
    let before = console.snapshot().await;
    let mut requests = 0;
    for input in corpus() {
        for (path, form) in targets(&blair, &lead) {
            for position in 0..form.len() {
                if form[position].0 == "enabled" && (input == "true" || input == "false") {
                    continue; // a valid value for a switch, not a hostile one
                }
                let mut pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                pairs[position].1 = &input;
                let (status, body) = alex.post(path, &pairs).await;
                requests += 1;
                assert!(
                    status.as_u16() < 500,
                    "{path} {}={input:?}: {status} {body}",
                    pairs[position].0
                );
                assert_no_internal_text(&body);
            }
        }
    }
    assert!(requests > 2_500, "{requests} requests");
    assert_eq!(
        console.snapshot().await,
        before,
        "hostile input changed the database"
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
        (
            "/api/customers/erase",
            vec![("confirmation", ERASE_CONFIRMATION.into())],
        ),
        ("/api/auth/login", vec![("email", ALEX.into())]),
    ];
    for (path, form) in cases {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = alex.post(path, &pairs).await;
        assert!(status.is_client_error(), "{path} {form:?}: {status} {body}");
        assert_no_internal_text(&body);
    }
    for path in [
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
        assert!(
            json.status().is_client_error(),
            "{path} JSON body: {}",
            json.status()
        );
    }
    let page_big = alex
        .http
        .get(console.url(&format!("/customers/{}", "x".repeat(5_000))))
        .send()
        .await
        .unwrap();
    assert!(page_big.status().as_u16() < 500);
    assert_eq!(console.snapshot().await, before);
}
