//! The customer page figures: requests per second and latency of the server-rendered page with eight concurrent
//! clients, against a plain axum handler that runs the same queries (the cookie's session, then the page's
//! statement) and writes the rows as HTML by hand; and the page's read of the heavy customer (10,000 calls and
//! 10,000 messages) with its values in plaintext, as before keys, against the same read once they are sealed
//! again (the tables vacuumed after each rewrite).

use std::fmt::{Display, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use customer_data_console::server::db;
use customer_data_console::server::db::customers::page as customers;
use customer_data_console::server::keys::Keyring;
use customer_data_console::server::keys::existing::{SEAL_CALLS_SQL, SEAL_MESSAGES_SQL};
use customer_data_console::server::sessions::{SessionKey, presented_token};
use customer_data_console::server::synthetic;
use sqlx::PgPool;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::Bench;
use crate::report::{Row, Stats, ms, stats};

const PAGE_SECONDS: u64 = 8;
const PAGE_CLIENTS: usize = 8;

/// The customer whose page both sides serve.
pub fn page_customer() -> Uuid {
    synthetic::row_id(1, 1)
}

/// The baseline's route: `/customers/{id}`, the plain handler.
pub fn plain_routes() -> Router<PgPool> {
    Router::new().route("/customers/{id}", get(plain_customer_page))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A time as the console shows it (`2024-05-01 14:03 UTC`).
struct ShownTime(OffsetDateTime);

impl Display for ShownTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.0.to_offset(UtcOffset::UTC);
        let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
        let (hour, minute) = (at.hour(), at.minute());
        write!(f, "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
    }
}

/// A duration as the console shows it (`m:ss`, or `h:mm:ss` from an hour).
struct ShownDuration(i32);

impl Display for ShownDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.max(0);
        let (hours, minutes, seconds) = (s / 3600, (s % 3600) / 60, s % 60);
        if hours > 0 {
            write!(f, "{hours}:{minutes:02}:{seconds:02}")
        } else {
            write!(f, "{minutes}:{seconds:02}")
        }
    }
}

/// Writes one activity row: when, the direction and the two numbers (escaped here), then the entry's own cells.
fn write_row(html: &mut String, at: OffsetDateTime, parties: [&str; 3], own_cells: impl Display) {
    let [direction, from, to] = parties.map(escape);
    let _ = write!(
        html,
        "<tr><td>{}</td><td>{direction}</td><td>{from}</td><td>{to}</td>{own_cells}</tr>",
        ShownTime(at)
    );
}

/// The comparison handler: the customer page's queries (the cookie's session, then the page's statement, its
/// sealed values opened) and its rows, written as HTML by hand.
async fn plain_customer_page(
    State(pool): State<PgPool>,
    axum::Extension(keyring): axum::Extension<Arc<Keyring>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Html<String> {
    let key = SessionKey::of_token(presented_token(&headers, false).expect("session cookie"));
    let principal = db::sessions::principal(&pool, &key)
        .await
        .expect("session")
        .expect("a live session")
        .principal;
    let page = customers::customer_page(&pool, &keyring, principal.account_id, id, None, None)
        .await
        .expect("customer page")
        .expect("customer");
    let (customer, pending) = (&page.customer, &page.pending);
    let phone = page.phone.as_deref();
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!DOCTYPE html><html><head><title>Customer</title></head><body><main>");
    let _ = write!(
        html,
        "<h1>{}</h1><p>{} {}</p><dl><dt>Email</dt><dd>{}</dd><dt>Phone</dt><dd>{}</dd><dt>Calls</dt><dd>{}</dd><dt>Messages</dt><dd>{}</dd></dl>",
        escape(&customer.name),
        escape(&customer.object_type),
        escape(&customer.salesforce_id),
        escape(customer.email.as_deref().unwrap_or("")),
        escape(phone.unwrap_or("")),
        pending.calls,
        pending.messages
    );
    if page.erasure.is_some() {
        html.push_str("<p>Call and message data deleted</p>");
    }
    html.push_str("<table><tbody>");
    for call in &page.calls {
        let parties: [&str; 3] = [&call.direction, &call.from_number, &call.to_number];
        let duration = ShownDuration(call.duration_seconds);
        let disposition = escape(call.disposition.as_deref().unwrap_or(""));
        let own_cells = format_args!("<td>{duration}</td><td>{disposition}</td>");
        write_row(&mut html, call.started_at, parties, own_cells);
    }
    html.push_str("</tbody></table><table><tbody>");
    for message in &page.messages {
        let parties: [&str; 3] = [&message.direction, &message.from_number, &message.to_number];
        let (body, media) = (escape(&message.body), message.media_count);
        let own_cells = format_args!("<td>{body}</td><td>{media}</td>");
        write_row(&mut html, message.sent_at, parties, own_cells);
    }
    html.push_str("</tbody></table></main></body></html>");
    Html(html)
}

/// Requests per second and latency of GET `url` with `PAGE_CLIENTS` concurrent clients for `PAGE_SECONDS`.
async fn throughput(client: &reqwest::Client, url: String) -> (f64, Stats) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..PAGE_CLIENTS {
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
    tokio::time::sleep(Duration::from_secs(PAGE_SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    (rps, stats(all))
}

/// Prints the customer page row.
pub async fn measure(bench: &Bench) {
    let path = format!("/customers/{}", page_customer());
    let page_of = |base: &str| format!("{base}{path}");
    let (ssr_rps, ssr) = throughput(&bench.client, page_of(&bench.console)).await;
    let (plain_rps, plain) = throughput(&bench.client, page_of(&bench.plain)).await;
    let ratio = ssr_rps / plain_rps;
    let latency = |s: &Stats| format!("{:.1} / {:.1} ms", s.p50, s.p99);
    Row {
        figure: &format!("customer page, {PAGE_CLIENTS} clients: req/s (p50 / p99)"),
        console: format!("{ssr_rps:.0} ({})", latency(&ssr)),
        baseline: format!("plain axum {plain_rps:.0} ({})", latency(&plain)),
        ratio: Some(ratio),
        limit: "≥ 0.7x plain",
        met: ratio >= 0.7,
    }
    .print();
    measure_sealed_against_plaintext(bench).await;
}

/// Reads of the page that are timed per storage.
const PAGE_READS: usize = 300;
/// The most the sealed page may take against the plaintext one (p50).
const SEALED_LIMIT: f64 = 1.1;

/// The heavy customer's page read in-process (its statement, then its values opened), sealed and in plaintext.
async fn measure_sealed_against_plaintext(bench: &Bench) {
    let heavy = synthetic::row_id(1, 0);
    let saved = stored_in_plaintext(bench, heavy).await;
    vacuum(&bench.pool).await;
    let plain = page_reads(bench, heavy).await;
    saved.restore(&bench.pool).await;
    vacuum(&bench.pool).await;
    let sealed = page_reads(bench, heavy).await;
    let ratio = sealed.p50 / plain.p50;
    Row {
        figure: "customer page of 10,000 calls and 10,000 messages, sealed, read in-process (p50 / p99)",
        console: sealed.p50_p99(2),
        baseline: format!("the same in plaintext {}", plain.p50_p99(2)),
        ratio: Some(ratio),
        limit: "p50 ≤ 1.1x plaintext",
        met: ratio <= SEALED_LIMIT,
    }
    .print();
}

/// Vacuums the activity tables, so both storages are read without the dead rows their rewrite left.
async fn vacuum(pool: &PgPool) {
    sqlx::query("vacuum (analyze) calls, messages")
        .execute(pool)
        .await
        .expect("vacuumed");
}

async fn page_reads(bench: &Bench, customer: Uuid) -> Stats {
    let mut millis = Vec::with_capacity(PAGE_READS);
    for _ in 0..PAGE_READS {
        let started = Instant::now();
        let page = customers::customer_page(
            &bench.pool,
            &bench.keyring,
            bench.account,
            customer,
            None,
            None,
        )
        .await
        .expect("the page reads");
        millis.push(ms(started));
        assert!(
            page.is_some_and(|page| page.calls.len() == customers::ACTIVITY_PAGE_SIZE as usize)
        );
    }
    stats(millis)
}

/// A sealed value, or none.
type Sealed = Option<Vec<u8>>;
/// Rows' ids with `N` columns of their sealed values, one vector per column.
type SealedColumns<const N: usize> = (Vec<Uuid>, [Vec<Sealed>; N]);

/// The sealed values of one customer's calls and messages, kept while they are stored in plaintext.
struct SavedSealed {
    calls: SealedColumns<4>,
    messages: SealedColumns<3>,
}

/// Stores `customer`'s call and message values in plaintext (opened under its key), as rows from before keys;
/// answers the sealed values to restore.
async fn stored_in_plaintext(bench: &Bench, customer: Uuid) -> SavedSealed {
    let opener = bench
        .keyring
        .opener(bench.account, customer)
        .await
        .expect("the key");
    type Sealed = Option<Vec<u8>>;
    let calls: Vec<(Uuid, Sealed, Sealed, Sealed, Sealed)> = sqlx::query_as(
        "select id, from_number_sealed, to_number_sealed, notes_sealed, transcript_sealed from calls
         where customer_id = $1",
    )
    .bind(customer)
    .fetch_all(&bench.pool)
    .await
    .expect("calls");
    let messages: Vec<(Uuid, Sealed, Sealed, Sealed)> = sqlx::query_as(
        "select id, from_number_sealed, to_number_sealed, body_sealed from messages where customer_id = $1",
    )
    .bind(customer)
    .fetch_all(&bench.pool)
    .await
    .expect("messages");
    let open = |table, column, id, sealed: &Sealed| {
        opener
            .value(table, column, id, None, sealed.as_deref())
            .expect("opens")
    };
    let mut plain_calls: [Vec<Option<String>>; 4] = Default::default();
    let mut saved_calls: [Vec<Sealed>; 4] = Default::default();
    for (id, from, to, notes, transcript) in &calls {
        for (n, (column, sealed)) in [
            ("from_number", from),
            ("to_number", to),
            ("notes", notes),
            ("transcript", transcript),
        ]
        .into_iter()
        .enumerate()
        {
            plain_calls[n].push(open("calls", column, *id, sealed));
            saved_calls[n].push(sealed.clone());
        }
    }
    let mut plain_messages: [Vec<Option<String>>; 3] = Default::default();
    let mut saved_messages: [Vec<Sealed>; 3] = Default::default();
    for (id, from, to, body) in &messages {
        for (n, (column, sealed)) in [("from_number", from), ("to_number", to), ("body", body)]
            .into_iter()
            .enumerate()
        {
            plain_messages[n].push(open("messages", column, *id, sealed));
            saved_messages[n].push(sealed.clone());
        }
    }
    let call_ids: Vec<Uuid> = calls.iter().map(|call| call.0).collect();
    let message_ids: Vec<Uuid> = messages.iter().map(|message| message.0).collect();
    let [from, to, notes, transcripts] = &plain_calls;
    sqlx::query(
        "update calls c set from_number = u.from_number, to_number = u.to_number, notes = u.notes,
             transcript = u.transcript, from_number_sealed = null, to_number_sealed = null, notes_sealed = null,
             transcript_sealed = null
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
             as u(id, from_number, to_number, notes, transcript)
         where c.id = u.id",
    )
    .bind(&call_ids)
    .bind(from)
    .bind(to)
    .bind(notes)
    .bind(transcripts)
    .execute(&bench.pool)
    .await
    .expect("calls in plaintext");
    let [from, to, bodies] = &plain_messages;
    sqlx::query(
        "update messages m set from_number = u.from_number, to_number = u.to_number, body = u.body,
             from_number_sealed = null, to_number_sealed = null, body_sealed = null
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as u(id, from_number, to_number, body)
         where m.id = u.id",
    )
    .bind(&message_ids)
    .bind(from)
    .bind(to)
    .bind(bodies)
    .execute(&bench.pool)
    .await
    .expect("messages in plaintext");
    SavedSealed {
        calls: (call_ids, saved_calls),
        messages: (message_ids, saved_messages),
    }
}

impl SavedSealed {
    /// Stores the saved sealed values again and empties the plaintext columns.
    async fn restore(self, pool: &PgPool) {
        let (ids, [from, to, notes, transcripts]) = self.calls;
        sqlx::query(SEAL_CALLS_SQL)
            .bind(&ids)
            .bind(&from)
            .bind(&to)
            .bind(&notes)
            .bind(&transcripts)
            .execute(pool)
            .await
            .expect("calls sealed again");
        let (ids, [from, to, bodies]) = self.messages;
        sqlx::query(SEAL_MESSAGES_SQL)
            .bind(&ids)
            .bind(&from)
            .bind(&to)
            .bind(&bodies)
            .execute(pool)
            .await
            .expect("messages sealed again");
    }
}
