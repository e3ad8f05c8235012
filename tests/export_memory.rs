//! An export streams: downloading the ZIP of a record of 10,000 calls and 10,000 messages whose recordings add up
//! to 160 MB raises the server's resident memory by far less than the archive's size (at most 64 MB above
//! where it stood before), measured in this process, which serves the console (one test in this binary, so
//! nothing else runs beside it).

mod common;

use std::time::Duration;

use common::*;
use customer_data_console::server::http::CUSTOMER_EXPORT_PATH;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Recordings of the heavy record, and the size of each.
const RECORDINGS: usize = 1_250;
const RECORDING_BYTES: usize = 128 * 1024;

/// The most the server's resident memory may grow while it streams the export.
const MAX_GROWTH_BYTES: u64 = 64 * 1024 * 1024;

/// This process's resident memory, in bytes (`VmRSS` of /proc/self/status).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

#[sqlx::test]
async fn exporting_a_record_of_160_mb_raises_memory_by_less_than_64_mb(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    let account = console.account_of(lead).await;
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                            duration_seconds, transcript, recording_key)
         select $1, $2, 'outbound', '+14155550100', '+14155550142', now() - make_interval(secs => g),
                60, 'transcript of call ' || g,
                case when g <= $3 then 'recordings/' || $1 || '/heavy-' || g || '.wav' end
           from generate_series(1, 10000) g",
    )
    .bind(account)
    .bind(lead)
    .bind(RECORDINGS as i32)
    .execute(&console.pool)
    .await
    .expect("calls");
    sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select $1, $2, 'inbound', '+14155550142', '+14155550100', 'message ' || g, now() - make_interval(secs => g)
           from generate_series(1, 10000) g",
    )
    .bind(account)
    .bind(lead)
    .execute(&console.pool)
    .await
    .expect("messages");
    let folder = console
        .object_store_dir()
        .join(format!("recordings/{account}"));
    std::fs::create_dir_all(&folder).expect("folder");
    for n in 1..=RECORDINGS {
        let content: Vec<u8> = (0..RECORDING_BYTES)
            .map(|i| ((i * 31 + n) % 251) as u8)
            .collect();
        std::fs::write(folder.join(format!("heavy-{n}.wav")), content).expect("recording");
    }

    let before = resident_bytes();
    let response = alex
        .http
        .get(console.url(&CUSTOMER_EXPORT_PATH.replace("{id}", &lead.to_string())))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    let mut peak = before;
    let mut received: u64 = 0;
    let mut response = response;
    let mut sampled = std::time::Instant::now();
    while let Some(chunk) = response.chunk().await.expect("the download completes") {
        received += chunk.len() as u64;
        if sampled.elapsed() > Duration::from_millis(5) {
            peak = peak.max(resident_bytes());
            sampled = std::time::Instant::now();
        }
    }
    peak = peak.max(resident_bytes());
    let recordings_total = (RECORDINGS * RECORDING_BYTES) as u64;
    assert!(
        received > recordings_total,
        "the archive holds every recording: {received} bytes"
    );
    let growth = peak.saturating_sub(before);
    eprintln!(
        "export of {} MB: resident memory grew by {:.1} MB at most",
        received / 1_000_000,
        growth as f64 / 1_048_576.0
    );
    assert!(
        growth < MAX_GROWTH_BYTES,
        "memory grew by {growth} bytes while a {received}-byte archive streamed"
    );
}
