//! The search figure: the console's search over HTTP, by email, by Salesforce id and by phone number (typed in
//! the spellings people use), against the console's own statements (the search with its session lookup; for a
//! phone number, the session lookup, then the search with the number read in the account's country; then the
//! search's append to the audit log) behind a
//! plain axum handler over HTTP; for reference, the ratio to the same SQL on the pool, those statements on the
//! pool, the console's search through the minimal HTTP client, and a bare HTTP exchange.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use customer_data_console::model::CustomerMatches;
use customer_data_console::salesforce::SalesforceId;
use customer_data_console::server::db::customers::search as customers;
use customer_data_console::server::db::sessions;
use customer_data_console::server::evidence::audit_log;
use customer_data_console::server::input;
use customer_data_console::server::input::{CustomerQuery, CustomerSearch};
use customer_data_console::server::sessions::{SessionKey, presented_token};
use customer_data_console::server::synthetic;
use sqlx::PgPool;

use crate::Bench;
use crate::http_client::MinimalHttp;
use crate::report::{Row, Stats, ms, reference, stats};

const SEARCH_REPS: usize = 1_000;
/// The first searches of each kind warm the caches and are not counted.
const WARM_UP: usize = 20;

/// The baselines' routes: `/search`, the console's statements behind a plain handler, `/search-unaudited`, the
/// same without the audit log's append (for the audit figure), and `/ping`, a handler that answers `[]` at once.
pub fn plain_routes() -> Router<PgPool> {
    Router::new()
        .route("/ping", post(|| async { "[]" }))
        .route("/search", post(plain_search))
        .route("/search-unaudited", post(plain_search_unaudited))
}

/// `plain_search` without the audit log's append.
async fn plain_search_unaudited(
    State(pool): State<PgPool>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<CustomerMatches> {
    Json(search_with_statements(&pool, &headers, &form, false).await)
}

/// The reference search handler: the console's statements for the form's `query` and the cookie's session (the
/// search with its session lookup; for a phone number, the session lookup, then the search with the number
/// read in the account's country; then, when `audited`, the search's append to the audit log), answered as
/// the same JSON, without Leptos or the console's middleware.
async fn plain_search(
    State(pool): State<PgPool>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<CustomerMatches> {
    Json(search_with_statements(&pool, &headers, &form, true).await)
}

async fn search_with_statements(
    pool: &PgPool,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    audited: bool,
) -> CustomerMatches {
    let key = SessionKey::of_token(presented_token(headers, false).expect("session cookie"));
    let (principal, query, found) = match input::customer_search(&form["query"]).expect("query") {
        CustomerSearch::Ready(query) => {
            let (principal, found) = customers::search_in_session(pool, &key, &query)
                .await
                .expect("search");
            (principal.expect("a live session").principal, query, found)
        }
        phone => {
            let principal = sessions::principal(pool, &key)
                .await
                .expect("session")
                .expect("a live session")
                .principal;
            let query = phone
                .with_country(&principal.account_default_country)
                .expect("a valid number");
            let found = customers::matches_in_account(pool, principal.account_id, &query)
                .await
                .expect("search");
            (principal, query, found)
        }
    };
    if audited {
        audit_log::record_search(pool, &crate::EVIDENCE_SECRET, &principal, &query, &found)
            .await
            .expect("audit");
    }
    found
}

/// Milliseconds for one form POST of a customer search's `query` to `url` (the console's
/// /api/customers/search, or a reference handler), which must answer 200.
async fn search_over_http(client: &reqwest::Client, url: &str, input: &str) -> f64 {
    let t = Instant::now();
    let response = client
        .post(url)
        .form(&[("query", input)])
        .send()
        .await
        .expect("search");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body");
    ms(t)
}

/// Milliseconds for the same search's SQL on the console's pool; `$1` is the account, or the session key for
/// the console's own statement (the search with the session lookup, which answers no rows for a session that
/// is not live).
async fn search_in_sql<'q>(
    pool: &PgPool,
    first: impl sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + 'q,
    sql: &'q str,
    value: &'q str,
) -> f64 {
    let t = Instant::now();
    let rows = sqlx::query(sql)
        .bind(first)
        .bind(value)
        .bind(customers::SEARCH_LIMIT + 1)
        .fetch_all(pool)
        .await
        .expect("sql");
    let elapsed = ms(t);
    assert!(!rows.is_empty(), "the search finds its sample record");
    elapsed
}

/// Milliseconds for the console's statements of a phone search on the console's pool: the session lookup, then
/// the search in the session's account.
async fn phone_statements(pool: &PgPool, session: &SessionKey, sql: &str, value: &str) -> f64 {
    let t = Instant::now();
    let found = sessions::principal(pool, session)
        .await
        .expect("session")
        .expect("a live session");
    search_in_sql(pool, found.principal.account_id, sql, value).await;
    ms(t)
}

/// A US phone number in E.164 (`+14155550142`) as people type it, a different way for each `k`: with a country
/// code and brackets, with dots and no country code (read in the account's country), or with `00` before the
/// country code.
fn phone_spelling(e164: &str, k: u64) -> String {
    let digits = e164.strip_prefix("+1").expect("a US number");
    let (area, exchange, line) = (&digits[..3], &digits[3..6], &digits[6..]);
    match k % 3 {
        0 => format!("+1 ({area}) {exchange}-{line}"),
        1 => format!("{area}.{exchange}.{line}"),
        _ => format!("00 1 {area} {exchange} {line}"),
    }
}

/// The sampled customers' emails, Salesforce ids or phone numbers, as typed and as the query they make.
async fn inputs(bench: &Bench, kind: &str) -> Vec<(String, CustomerQuery)> {
    let mut inputs = Vec::new();
    for k in 0..SEARCH_REPS as u64 {
        let id = synthetic::row_id(1, 1 + (k * 7_919) % (bench.customers as u64 - 1));
        let (email, sf, phone): (Option<String>, String, Option<String>) =
            sqlx::query_as("select email, salesforce_id, phone_e164 from customers where id = $1")
                .bind(id)
                .fetch_one(&bench.pool)
                .await
                .expect("sample");
        inputs.push(match kind {
            "email" => {
                let email = email.unwrap_or_default();
                (email.clone(), CustomerQuery::Email(email))
            }
            "phone" => {
                let number = phone.expect("a normalized phone number");
                (phone_spelling(&number, k), CustomerQuery::Phone(number))
            }
            _ => {
                let id = SalesforceId::parse(&sf).expect("id");
                (sf, CustomerQuery::SalesforceId(id))
            }
        });
    }
    inputs
}

/// The fewest and the most records that one of the sampled phone numbers finds.
async fn records_a_number(bench: &Bench, inputs: &[(String, CustomerQuery)]) -> (i64, i64) {
    let numbers: Vec<&str> = inputs
        .iter()
        .filter_map(|(_, query)| match query {
            CustomerQuery::Phone(number) => Some(number.as_str()),
            _ => None,
        })
        .collect();
    sqlx::query_as(
        "select min(n), max(n) from (
             select count(*) as n from customers where account_id = $1 and phone_e164 = any($2)
             group by phone_e164
         ) per_number",
    )
    .bind(bench.account)
    .bind(numbers)
    .fetch_one(&bench.pool)
    .await
    .expect("records a number")
}

/// The statistics of one kind of search: the console, the same SQL, and the three references.
struct Searches {
    console: Stats,
    sql: Stats,
    statement: Stats,
    handler: Stats,
    minimal: Stats,
}

/// Milliseconds for one search of `input` by the console's statements behind a plain handler (`path` `/search`,
/// with the audit log's append, or `/search-unaudited`, without), for the audit figure.
pub async fn plain_search_ms(bench: &Bench, path: &str, input: &str) -> f64 {
    search_over_http(&bench.client, &format!("{}{path}", bench.plain), input).await
}

/// The sampled customers' emails, as typed, for the audit figure.
pub async fn email_inputs(bench: &Bench) -> Vec<String> {
    inputs(bench, "email")
        .await
        .into_iter()
        .map(|(input, _)| input)
        .collect()
}

/// Searches for each of `inputs` every way in turn, rotating which goes first so that none always finds the rows
/// cached by the others.
async fn searches(
    bench: &Bench,
    inputs: &[(String, CustomerQuery)],
    minimal: &mut MinimalHttp,
) -> Searches {
    let search_url = format!("{}/api/customers/search", bench.console);
    let plain_search_url = format!("{}/search", bench.plain);
    let session = SessionKey::of_token(&bench.session_token);
    let mut millis: [Vec<f64>; 5] = Default::default();
    for (k, (input, query)) in inputs.iter().enumerate() {
        let (sql, value) = customers::search_sql(query);
        let (statement, _) = customers::search_in_session_sql(query);
        let mut taken = [0.0; 5];
        for step in 0..5 {
            let way = (k + step) % 5;
            taken[way] = match way {
                0 => search_over_http(&bench.client, &search_url, input).await,
                1 => search_in_sql(&bench.pool, bench.account, &sql, value).await,
                2 if matches!(query, CustomerQuery::Phone(_)) => {
                    phone_statements(&bench.pool, &session, &sql, value).await
                }
                2 => search_in_sql(&bench.pool, session.as_bytes(), &statement, value).await,
                3 => search_over_http(&bench.client, &plain_search_url, input).await,
                _ => minimal.post_query("/api/customers/search", input).await,
            };
        }
        if k >= WARM_UP {
            for (way, taken_ms) in taken.into_iter().enumerate() {
                millis[way].push(taken_ms);
            }
        }
    }
    let [console, sql, statement, handler, minimal] = millis.map(stats);
    Searches {
        console,
        sql,
        statement,
        handler,
        minimal,
    }
}

/// The HTTP exchange alone, a form POST to a handler that answers `[]` at once, by reqwest and by the minimal
/// client in turn.
async fn ping(bench: &Bench) -> (Stats, Stats) {
    let mut minimal = MinimalHttp::connect(&bench.plain, &bench.session_token).await;
    let ping_url = format!("{}/ping", bench.plain);
    let (mut by_reqwest, mut by_minimal) = (Vec::new(), Vec::new());
    for k in 0..SEARCH_REPS {
        let reqwest_ms = search_over_http(&bench.client, &ping_url, "person@example.com").await;
        let minimal_ms = minimal.post_query("/ping", "person@example.com").await;
        if k >= WARM_UP {
            by_reqwest.push(reqwest_ms);
            by_minimal.push(minimal_ms);
        }
    }
    (stats(by_reqwest), stats(by_minimal))
}

/// Prints the search rows: one a kind of search, then the reference rows.
pub async fn measure(bench: &Bench) {
    let mut minimal = MinimalHttp::connect(&bench.console, &bench.session_token).await;
    let mut kinds = Vec::new();
    for kind in ["email", "Salesforce id", "phone"] {
        let inputs = inputs(bench, kind).await;
        let found = searches(bench, &inputs, &mut minimal).await;
        let ratio = found.console.p50 / found.handler.p50;
        let what = if kind == "phone" {
            let (fewest, most) = records_a_number(bench, &inputs).await;
            let records = if fewest == most {
                format!("{most}")
            } else {
                format!("{fewest} to {most}")
            };
            format!("phone, typed 3 ways ({records} records a number)")
        } else {
            kind.to_owned()
        };
        Row {
            figure: &format!("search by {what}, p50 / p99"),
            console: found.console.p50_p99(2),
            baseline: format!(
                "the same {} behind a plain axum handler over HTTP {}",
                if kind == "phone" {
                    "statements"
                } else {
                    "statement"
                },
                found.handler.p50_p99(2)
            ),
            ratio: Some(ratio),
            limit: "p50 ≤ 1.15x the plain handler, p99 < 10 ms",
            met: ratio <= 1.15 && found.console.p99 < 10.0,
        }
        .print();
        reference(
            &format!(
                "search by {kind} against its SQL alone on the pool, p50 ratio (SQL p50 / p99)"
            ),
            format!(
                "{:.2}x ({})",
                found.console.p50 / found.sql.p50,
                found.sql.p50_p99(2)
            ),
        );
        kinds.push(found);
    }
    let by_kind = |of: fn(&Searches) -> &Stats| {
        let p50s: Vec<String> = kinds.iter().map(|s| format!("{:.2}", of(s).p50)).collect();
        format!("{} ms", p50s.join(" / "))
    };
    reference(
        "the console's statements on the pool (the search with its session lookup; by phone, the session lookup, then the search), by email / by Salesforce id / by phone, p50",
        by_kind(|s| &s.statement),
    );
    reference(
        "the console's search through a minimal HTTP/1.1 client (one kept-alive connection, no client library), by email / by Salesforce id / by phone, p50",
        by_kind(|s| &s.minimal),
    );
    let (by_reqwest, by_minimal) = ping(bench).await;
    reference(
        "HTTP POST to a bare axum handler, by reqwest / by the minimal client, p50 (p99)",
        format!(
            "{:.2} ({:.2}) / {:.2} ({:.2}) ms",
            by_reqwest.p50, by_reqwest.p99, by_minimal.p50, by_minimal.p99
        ),
    );
}
