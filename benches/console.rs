//! The console benchmark (`scripts/bench`): on a database seeded by `customer-data-console seed`, measures each
//! figure beside its limit in the same run and prints one Markdown table: search over HTTP vs the same SQL on
//! the same pool (with, for reference, the console's own statement on the pool, that statement behind a plain
//! axum handler, the console's search through a minimal HTTP client, and a bare HTTP exchange); the SSR customer page vs a plain axum handler running the same
//! queries (the session lookup, then the page's statement); erasing 10,000 calls + 10,000 messages vs the same
//! DELETEs in one transaction; the release wasm and JS sizes; hydration time and the longest main-thread task
//! in Chromium.

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::{get, post};
use customer_data_console::format::urlencode;
use customer_data_console::model::CustomerMatches;
use customer_data_console::server::db::customers::{self, CustomerQuery};
use customer_data_console::server::sessions::{SESSION_COOKIE, SessionKey, presented_token};
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{db, demo, erasure, http, input, synthetic};
use sqlx::PgPool;
use uuid::Uuid;

const SEARCH_REPS: usize = 1_000;
const PAGE_SECONDS: u64 = 8;
const PAGE_CLIENTS: usize = 8;
/// Erasures and page loads measured on each side. With 15, the same code's erasure ratio ranged from 0.91x to
/// 1.39x between runs on a 2-core machine; a median of more moves less.
const ERASE_REPS: usize = 40;
const HYDRATION_REPS: usize = 40;
/// The hydration figure's reference: a page with no wasm, whose one inline module script sets `data-hydrated`.
const STATIC_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Static</title></head><body><p>Static</p><script type="module">document.body.setAttribute("data-hydrated", "")</script></body></html>"#;

/// The customer page as the console served it, with its wasm loader replaced by the static page's one inline
/// script (set once the console has answered): what this browser needs for the page's content alone.
static PAGE_WITHOUT_WASM: OnceLock<String> = OnceLock::new();

fn without_wasm(html: &str, console: &str) -> String {
    let start = html
        .find("<script>window.__cdcWasm")
        .expect("the shell starts compiling the wasm");
    let loader = start
        + html[start..]
            .find(r#"<script type="module""#)
            .expect("the loader follows the compile and the preload");
    let end =
        loader + html[loader..].find("</script>").expect("the loader ends") + "</script>".len();
    let marker =
        r#"<script type="module">document.body.setAttribute("data-hydrated", "")</script></body>"#;
    format!("{}{}", &html[..start], &html[end..])
        .replace("</body>", marker)
        .replace(r#"="/pkg/"#, &format!(r#"="{console}/pkg/"#))
        .replace(
            r#"="/favicon.svg""#,
            &format!(r#"="{console}/favicon.svg""#),
        )
}

struct Stats {
    p50: f64,
    p99: f64,
}

fn stats(mut millis: Vec<f64>) -> Stats {
    millis.sort_by(f64::total_cmp);
    let at =
        |p: f64| millis[((p * millis.len() as f64).ceil() as usize).clamp(1, millis.len()) - 1];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The comparison handler: the customer page's queries (the cookie's session, then the page's statement) and
/// its rows, written as HTML by hand.
async fn plain_customer_page(
    State(pool): State<PgPool>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Html<String> {
    let key = SessionKey::of_token(presented_token(&headers).expect("session cookie"));
    let principal = db::sessions::principal(&pool, &key)
        .await
        .expect("session")
        .expect("a live session")
        .principal;
    let page = customers::customer_page(&pool, principal.account_id, id, None, None)
        .await
        .expect("customer page")
        .expect("customer");
    let (customer, pending) = (&page.customer, &page.pending);
    let phone = page.phone.as_deref();
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!DOCTYPE html><html><head><title>Customer</title></head><body><main>");
    html.push_str(&format!(
        "<h1>{}</h1><p>{} {}</p><dl><dt>Email</dt><dd>{}</dd><dt>Phone</dt><dd>{}</dd><dt>Calls</dt><dd>{}</dd><dt>Messages</dt><dd>{}</dd></dl>",
        escape(&customer.name),
        escape(&customer.object_type),
        escape(&customer.salesforce_id),
        escape(customer.email.as_deref().unwrap_or("")),
        escape(phone.unwrap_or("")),
        pending.calls,
        pending.messages
    ));
    if page.erasure.is_some() {
        html.push_str("<p>Call and message data deleted</p>");
    }
    html.push_str("<table><tbody>");
    for call in &page.calls {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            customer_data_console::format::format_time(call.started_at),
            escape(&call.direction),
            escape(&call.from_number),
            escape(&call.to_number),
            customer_data_console::format::format_duration(call.duration_seconds),
            escape(call.disposition.as_deref().unwrap_or(""))
        ));
    }
    html.push_str("</tbody></table><table><tbody>");
    for message in &page.messages {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            customer_data_console::format::format_time(message.sent_at),
            escape(&message.direction),
            escape(&message.from_number),
            escape(&message.to_number),
            escape(&message.body),
            message.media_count
        ));
    }
    html.push_str("</tbody></table></main></body></html>");
    Html(html)
}

/// The reference search handler: the console's statement (the search with its session lookup) for the form's
/// `query` and the cookie's session, answered as the same JSON, without Leptos or the console's middleware.
async fn plain_search(
    State(pool): State<PgPool>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<CustomerMatches> {
    let key = SessionKey::of_token(presented_token(&headers).expect("session cookie"));
    let query = input::customer_query(&form["query"]).expect("query");
    let (principal, found) = customers::search_in_session(&pool, &key, &query)
        .await
        .expect("search");
    assert!(principal.is_some(), "a live session");
    Json(found)
}

fn synthetic_account() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, b"synthetic-tenant")
}

/// A client signed in as the synthetic admin, and its session token.
async fn signed_in_client(base: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let response = client
        .post(format!("{base}/api/auth/login"))
        .form(&[
            ("email", synthetic::ADMIN_EMAIL),
            ("password", demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 200, "bench admin sign-in");
    let token = response
        .cookies()
        .find(|c| c.name() == SESSION_COOKIE)
        .expect("session cookie")
        .value()
        .to_owned();
    (client, token)
}

/// A minimal HTTP/1.1 client on one kept-alive connection: it writes a form POST with the session cookie and
/// reads the answer by its `Content-Length`, in the calling task. The reference rows use it to show the HTTP
/// exchange without a client library's own work (reqwest's connection pool, cookie store and the task that
/// drives its connection).
struct MinimalHttp {
    stream: tokio::net::TcpStream,
    host: String,
    cookie: String,
    answer: Vec<u8>,
}

impl MinimalHttp {
    async fn connect(base: &str, session_token: &str) -> Self {
        let host = base.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&host)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        MinimalHttp {
            stream,
            host,
            cookie: format!("{SESSION_COOKIE}={session_token}"),
            answer: Vec::with_capacity(16 * 1024),
        }
    }

    /// Milliseconds for one form POST of `query` to `path`, which must answer 200 with a body.
    async fn post_query(&mut self, path: &str, query: &str) -> f64 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = format!("query={}", urlencode(query));
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncookie: {}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
            self.host,
            self.cookie,
            body.len()
        );
        let t = Instant::now();
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        self.answer.clear();
        let mut expected = None;
        while expected.is_none_or(|total| self.answer.len() < total) {
            let n = self.stream.read_buf(&mut self.answer).await.expect("read");
            assert!(n > 0, "the server closed the connection");
            if expected.is_none() {
                expected = answer_length(&self.answer);
            }
        }
        let elapsed = ms(t);
        assert!(
            self.answer.starts_with(b"HTTP/1.1 200"),
            "{path} answered 200"
        );
        elapsed
    }
}

/// The whole length (head and body) of an HTTP/1.1 answer once its head has arrived.
fn answer_length(answer: &[u8]) -> Option<usize> {
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&answer[..head_end]).expect("an ASCII head");
    let body = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>().expect("a length"))
        .expect("the answer states its length");
    Some(head_end + body)
}

/// Requests per second and latency of GET `url` with `clients` concurrent clients for `seconds`.
async fn throughput(
    client: &reqwest::Client,
    url: String,
    clients: usize,
    seconds: u64,
) -> (f64, Stats) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = client.clone();
        let url = url.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let response = client.get(&url).send().await.expect("page");
                assert_eq!(response.status(), 200);
                response.bytes().await.expect("body");
                latencies.push(ms(t));
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    (rps, stats(all))
}

/// A fresh customer with 10,000 calls (half recorded, half transcribed) and 10,000 messages.
async fn heavy_clone(pool: &PgPool, n: u64) -> Uuid {
    let account = synthetic_account();
    let mut tx = pool.begin().await.expect("tx");
    let id: Uuid = sqlx::query_scalar(
        "insert into customers (account_id, salesforce_id, object_type, name, email, phone)
         values ($1, $2, 'Lead', 'Bench clone', $3, '+14155550100') returning id",
    )
    .bind(account)
    .bind(demo::salesforce_id("00Q", 50_000_000 + n).as_str())
    .bind(format!("clone{n}@loadtest.example"))
    .fetch_one(&mut *tx)
    .await
    .expect("clone");
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds,
                            transcript, recording_key)
         select $1, $2, 'outbound', '+14155559000', '+14155550100', now() - make_interval(secs => g), 60,
                case when g % 2 = 0 then 'transcript' end,
                case when g % 2 = 0 then 'recordings/bench/' || $2 || '/' || g || '.wav' end
         from generate_series(1, 10000) g",
    )
    .bind(account)
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("calls");
    sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select $1, $2, 'inbound', '+14155550100', '+14155559000', 'message ' || g, now() - make_interval(secs => g)
         from generate_series(1, 10000) g",
    )
    .bind(account)
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("messages");
    tx.commit().await.expect("commit");
    id
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

fn row(what: &str, measured: String, baseline: String, ratio: String, limit: &str, verdict: bool) {
    println!(
        "| {what} | {measured} | {baseline} | {ratio} | {limit} | {} |",
        if verdict { "met" } else { "MISSED" }
    );
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL of a database seeded by `seed`");
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let pool = db::connect(&url).await.expect("connect");
    let account = synthetic_account();
    // Seeded customers only: the erasure figure adds clones of the heavy customer on every run.
    let (customers_n, calls_n, messages_n): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from customers where account_id = $1 and id between $2 and $3),
                (select count(*) from calls where account_id = $1),
                (select count(*) from messages where account_id = $1)",
    )
    .bind(account)
    .bind(synthetic::row_id(1, 0))
    .bind(synthetic::row_id(1, u64::MAX))
    .fetch_one(&pool)
    .await
    .expect("sizes");
    assert!(
        customers_n > 0,
        "seed the database first: customer-data-console seed"
    );

    let objects = std::env::temp_dir().join("cdc-bench-objects");
    let storage = Storage::local(&objects).expect("store");
    let placeholder: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let state = http::app_state(
        http::leptos_options(&site_root, placeholder),
        pool.clone(),
        storage,
        false,
    );
    let console = serve(http::router(state)).await;
    let plain = serve(
        Router::new()
            .route("/customers/{id}", get(plain_customer_page))
            .route("/ping", post(|| async { "[]" }))
            .route("/search", post(plain_search))
            .route("/static", get(|| async { Html(STATIC_PAGE) }))
            .route(
                "/customer-without-wasm",
                get(|| async { Html(PAGE_WITHOUT_WASM.get().cloned().unwrap_or_default()) }),
            )
            .with_state(pool.clone()),
    )
    .await;
    let (client, session_token) = signed_in_client(&console).await;
    let session = SessionKey::of_token(&session_token);
    let mut minimal = MinimalHttp::connect(&console, &session_token).await;
    let mut minimal_plain = MinimalHttp::connect(&plain, &session_token).await;

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    println!(
        "Machine: {cores} cores, {:.1} GiB memory.",
        memory as f64 / 1_048_576.0
    );
    println!("Tenant: {customers_n} customers, {calls_n} calls, {messages_n} messages.\n");
    println!("| figure | console | baseline | ratio | limit | |");
    println!("|---|---|---|---|---|---|");

    // 1. Search, by email and by Salesforce id.
    let sample: Vec<u64> = (0..SEARCH_REPS as u64)
        .map(|k| 1 + (k * 7_919) % (customers_n as u64 - 1))
        .collect();
    let search_url = format!("{console}/api/customers/search");
    let plain_search_url = format!("{plain}/search");
    let (mut statements, mut handlers, mut minimals) = (Vec::new(), Vec::new(), Vec::new());
    for kind in ["email", "Salesforce id"] {
        let mut inputs = Vec::new();
        for &i in &sample {
            let id = synthetic::row_id(1, i);
            let (email, sf): (Option<String>, String) =
                sqlx::query_as("select email, salesforce_id from customers where id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .expect("sample");
            inputs.push(if kind == "email" {
                email.unwrap_or_default()
            } else {
                sf
            });
        }
        let (mut http_ms, mut sql_ms) = (Vec::new(), Vec::new());
        let (mut statement_ms, mut handler_ms, mut minimal_ms) =
            (Vec::new(), Vec::new(), Vec::new());
        for (k, input) in inputs.iter().enumerate() {
            let query = if kind == "email" {
                CustomerQuery::Email(input.clone())
            } else {
                CustomerQuery::SalesforceId(
                    customer_data_console::salesforce::SalesforceId::parse(input).expect("id"),
                )
            };
            let (sql, value) = customers::search_sql(&query);
            let (statement, _) = customers::search_in_session_sql(&query);
            // Rotate which goes first, so that none always finds the rows cached by the others.
            let (mut http, mut raw, mut own, mut handler, mut lean) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for step in 0..5 {
                match (k + step) % 5 {
                    0 => http = search_over_http(&client, &search_url, input).await,
                    1 => raw = search_in_sql(&pool, account, &sql, value).await,
                    2 => own = search_in_sql(&pool, session.as_bytes(), &statement, value).await,
                    3 => handler = search_over_http(&client, &plain_search_url, input).await,
                    _ => lean = minimal.post_query("/api/customers/search", input).await,
                }
            }
            if k >= 20 {
                http_ms.push(http);
                sql_ms.push(raw);
                statement_ms.push(own);
                handler_ms.push(handler);
                minimal_ms.push(lean);
            }
        }
        let (h, s) = (stats(http_ms), stats(sql_ms));
        let ratio = h.p50 / s.p50;
        row(
            &format!("search by {kind}, p50 / p99"),
            format!("{:.2} / {:.2} ms", h.p50, h.p99),
            format!("SQL {:.2} / {:.2} ms", s.p50, s.p99),
            format!("{ratio:.2}x"),
            "p50 ≤ 1.5x SQL, p99 < 10 ms",
            ratio <= 1.5 && h.p99 < 10.0,
        );
        statements.push(stats(statement_ms));
        handlers.push(stats(handler_ms));
        minimals.push(stats(minimal_ms));
    }
    println!(
        "| for reference: the console's statement (the search with its session lookup) on the pool, by email / by Salesforce id, p50 | - | {:.2} / {:.2} ms | - | - | - |",
        statements[0].p50, statements[1].p50
    );
    println!(
        "| for reference: that statement through a plain axum handler over HTTP (same JSON, no Leptos, no middleware), by email / by Salesforce id, p50 | - | {:.2} / {:.2} ms | - | - | - |",
        handlers[0].p50, handlers[1].p50
    );

    println!(
        "| for reference: the console's search through a minimal HTTP/1.1 client (one kept-alive connection, no client library), by email / by Salesforce id, p50 | - | {:.2} / {:.2} ms | - | - | - |",
        minimals[0].p50, minimals[1].p50
    );

    // For reference: the HTTP exchange alone, a form POST to a handler that answers `[]` at once, by reqwest
    // and by the minimal client in turn.
    let ping_url = format!("{plain}/ping");
    let (mut ping_ms, mut minimal_ping_ms) = (Vec::new(), Vec::new());
    for k in 0..SEARCH_REPS {
        let by_reqwest = search_over_http(&client, &ping_url, "person@example.com").await;
        let by_minimal = minimal_plain
            .post_query("/ping", "person@example.com")
            .await;
        if k >= 20 {
            ping_ms.push(by_reqwest);
            minimal_ping_ms.push(by_minimal);
        }
    }
    let (ping, minimal_ping) = (stats(ping_ms), stats(minimal_ping_ms));
    println!(
        "| for reference: HTTP POST to a bare axum handler, by reqwest / by the minimal client, p50 (p99) | - | {:.2} ({:.2}) / {:.2} ({:.2}) ms | - | - | - |",
        ping.p50, ping.p99, minimal_ping.p50, minimal_ping.p99
    );

    // 2. The SSR customer page against the plain handler.
    let page_customer = synthetic::row_id(1, 1);
    let (ssr_rps, ssr) = throughput(
        &client,
        format!("{console}/customers/{page_customer}"),
        PAGE_CLIENTS,
        PAGE_SECONDS,
    )
    .await;
    let (plain_rps, plain_stats) = throughput(
        &client,
        format!("{plain}/customers/{page_customer}"),
        PAGE_CLIENTS,
        PAGE_SECONDS,
    )
    .await;
    let ratio = ssr_rps / plain_rps;
    row(
        &format!("customer page, {PAGE_CLIENTS} clients: req/s (p50 / p99)"),
        format!("{ssr_rps:.0} ({:.1} / {:.1} ms)", ssr.p50, ssr.p99),
        format!(
            "plain axum {plain_rps:.0} ({:.1} / {:.1} ms)",
            plain_stats.p50, plain_stats.p99
        ),
        format!("{ratio:.2}x"),
        "≥ 0.7x plain",
        ratio >= 0.7,
    );

    // 3. Erasing 10,000 calls + 10,000 messages: the seeded heavy customer first (a fresh clone of it when a
    // previous run erased it), then fresh clones, each console erasure followed by the erasure's own DELETE
    // statements on a clone, in one transaction.
    let heavy = synthetic::row_id(1, 0);
    let heavy_erased: bool =
        sqlx::query_scalar("select erased_at is not null from customers where id = $1")
            .bind(heavy)
            .fetch_one(&pool)
            .await
            .expect("heavy customer");
    let run = std::process::id() as u64 * 100;
    let (mut api_ms, mut raw_ms) = (Vec::new(), Vec::new());
    for n in 0..ERASE_REPS as u64 {
        let target = if n == 0 && !heavy_erased {
            heavy
        } else {
            heavy_clone(&pool, run + n).await
        };
        let t = Instant::now();
        let response = client
            .post(format!("{console}/api/customers/erase"))
            .form(&[
                ("customer_id", target.to_string().as_str()),
                ("confirmation", "DELETE"),
            ])
            .send()
            .await
            .expect("erase");
        assert_eq!(response.status(), 200, "erase {target}");
        api_ms.push(ms(t));

        let target = heavy_clone(&pool, run + 50 + n).await;
        let t = Instant::now();
        let mut tx = pool.begin().await.expect("tx");
        for sql in erasure::DELETE_ACTIVITY_SQL {
            sqlx::query(sql)
                .bind(account)
                .bind(target)
                .execute(&mut *tx)
                .await
                .expect("delete");
        }
        tx.commit().await.expect("commit");
        raw_ms.push(ms(t));
    }
    let (api, raw) = (stats(api_ms), stats(raw_ms));
    let ratio = api.p50 / raw.p50;
    row(
        &format!("erase 10k calls + 10k messages, p50 / p99 of {ERASE_REPS}"),
        format!("{:.0} / {:.0} ms", api.p50, api.p99),
        format!("DELETEs {:.0} / {:.0} ms", raw.p50, raw.p99),
        format!("{ratio:.2}x"),
        "≤ 1.3x DELETEs, < 250 ms",
        ratio <= 1.3 && api.p50 < 250.0,
    );

    // 4 and 5. Sizes and hydration, measured by Chromium.
    let page_html = client
        .get(format!("{console}/customers/{page_customer}"))
        .send()
        .await
        .expect("customer page")
        .text()
        .await
        .expect("page body");
    PAGE_WITHOUT_WASM
        .set(without_wasm(&page_html, &console))
        .expect("set once");
    let output = Command::new("node")
        .current_dir("end2end")
        .args([
            "bench/hydration.cjs",
            &console,
            &format!("../{site_root}/pkg"),
            &format!("/customers/{page_customer}"),
            synthetic::ADMIN_EMAIL,
            demo::DEMO_PASSWORD,
            &HYDRATION_REPS.to_string(),
            &format!("{plain}/static"),
            &format!("{plain}/customer-without-wasm"),
        ])
        .output()
        .expect("node");
    assert!(
        output.status.success(),
        "hydration bench: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let browser: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let kb = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0) / 1024.0;
    let wasm = &browser["wasm"];
    row(
        "release wasm: raw / gzip / brotli",
        format!(
            "{:.0} / {:.0} / {:.0} KB",
            kb(&wasm["raw"]),
            kb(&wasm["gzip"]),
            kb(&wasm["brotli"])
        ),
        "-".into(),
        "-".into(),
        "≤ 150 KB brotli",
        kb(&wasm["brotli"]) <= 150.0,
    );
    let js = &browser["js"];
    row(
        "release JS: raw / gzip / brotli",
        format!(
            "{:.0} / {:.0} / {:.0} KB",
            kb(&js["raw"]),
            kb(&js["gzip"]),
            kb(&js["brotli"])
        ),
        "-".into(),
        "-".into(),
        "-",
        true,
    );
    let hydration = &browser["hydration_ms"];
    let longest = &browser["longest_task_ms"];
    let static_page = &browser["static_page_ms"];
    let content_only = &browser["without_wasm_ms"];
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    row(
        &format!("navigation to data-hydrated, p50 / p99 of {HYDRATION_REPS}"),
        format!(
            "{:.0} / {:.0} ms",
            f(&hydration["p50"]),
            f(&hydration["p99"])
        ),
        format!(
            "static page {:.0} / {:.0} ms; this page without wasm {:.0} / {:.0} ms",
            f(&static_page["p50"]),
            f(&static_page["p99"]),
            f(&content_only["p50"]),
            f(&content_only["p99"])
        ),
        "-".into(),
        "< 50 ms",
        f(&hydration["p99"]) < 50.0,
    );
    row(
        "longest main-thread task (0 = none over 50 ms), p50 / p99",
        format!("{:.0} / {:.0} ms", f(&longest["p50"]), f(&longest["p99"])),
        "-".into(),
        "-".into(),
        "no task over 50 ms",
        f(&longest["p99"]) <= 50.0,
    );
    let _ = std::fs::remove_dir_all(objects);
}
