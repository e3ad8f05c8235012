//! The key figures, on the keyring beside the bench's database: the key work of one erasure (`Keyring::destroy`:
//! the key deleted, its path and the root re-keyed, the root file replaced) with 1,000,000 data keys in the
//! keyring, against the limit of 20 ms; and, for reference, how fast data keys are made one at a time (16
//! concurrent writers) and in batches (filling the keyring to 1,000,000 keys), how fast a value is sealed and
//! opened, and how fast a 100 MB recording is sealed and opened chunk by chunk.

use std::time::{Duration, Instant};

use customer_data_console::server::keys::files::{FileOpening, FileSealing};
use customer_data_console::server::keys::seal::{Place, open_text, seal_text};
use customer_data_console::server::keys::tree::Key;
use uuid::Uuid;

use crate::Bench;
use crate::report::{Row, ms, reference, stats};

/// Data keys the keyring holds while the erasure's key work is measured.
const KEYS: i64 = 1_000_000;
/// Erasures whose key work is timed.
const ERASURES: usize = 50;
/// The most one erasure's key work may take (p50).
const LIMIT: Duration = Duration::from_millis(20);
/// Concurrent writers making keys one at a time.
const WRITERS: i64 = 16;
/// The recording whose sealing is timed: 100 MB, handed over in pieces of 1 MiB as a store's stream would.
const RECORDING_BYTES: usize = 100_000_000;
const PIECE_BYTES: usize = 1 << 20;

pub async fn measure(bench: &Bench) {
    let keyring = bench.keyring.clone();
    let held: i64 = sqlx::query_scalar("select count(*) from data_keys")
        .fetch_one(keyring.pool())
        .await
        .expect("count");
    let one_at_a_time = (WRITERS * 250) as usize;
    let started = Instant::now();
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let keyring = keyring.clone();
        let account = bench.account;
        writers.push(tokio::spawn(async move {
            for _ in 0..one_at_a_time / WRITERS as usize {
                keyring
                    .key_for_new_activity(account, Uuid::new_v4())
                    .await
                    .expect("a key");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer");
    }
    reference(
        "data keys made one at a time, as ingestion makes them (16 writers)",
        format!(
            "{:.0} keys/s ({one_at_a_time} keys)",
            one_at_a_time as f64 / started.elapsed().as_secs_f64()
        ),
    );
    let missing = KEYS - held - one_at_a_time as i64 + ERASURES as i64;
    if missing > 0 {
        let started = Instant::now();
        let records: Vec<Uuid> = (0..missing).map(|_| Uuid::new_v4()).collect();
        keyring
            .keys_for_new_records(bench.account, &records)
            .await
            .expect("keys");
        let seconds = started.elapsed().as_secs_f64();
        reference(
            "data keys made in batches of 10,000, as seed makes them, filling the keyring to 1,000,000",
            format!(
                "{:.0} keys/s ({missing} in {seconds:.0} s)",
                missing as f64 / seconds
            ),
        );
    }
    let victims: Vec<Uuid> =
        sqlx::query_scalar("select customer_id from data_keys order by leaf desc limit $1")
            .bind(ERASURES as i64)
            .fetch_all(keyring.pool())
            .await
            .expect("keys to destroy");
    let mut millis = Vec::new();
    for victim in victims {
        let started = Instant::now();
        keyring.destroy(victim).await.expect("destroyed");
        millis.push(ms(started));
    }
    let held: i64 = sqlx::query_scalar("select count(*) from data_keys")
        .fetch_one(keyring.pool())
        .await
        .expect("count");
    let work = stats(millis);
    Row {
        figure: &format!(
            "key work of one erasure at {held} data keys (destroy, re-key the path and the root, replace the root file; {ERASURES} erasures)"
        ),
        console: work.p50_p99(1),
        baseline: "-".into(),
        ratio: None,
        limit: "p50 < 20 ms",
        met: work.p50 < LIMIT.as_secs_f64() * 1000.0,
    }
    .print();

    let key = Key::random();
    let place = Place {
        account: bench.account,
        customer: Uuid::new_v4(),
        table: "messages",
        column: "body",
        row: Uuid::new_v4(),
    };
    let text = "x".repeat(160);
    let started = Instant::now();
    let rounds = 100_000;
    for _ in 0..rounds {
        let sealed = seal_text(&key, &place, &text);
        assert!(open_text(&key, &place, &sealed).is_ok());
    }
    reference(
        "a 160-byte message body sealed and opened",
        format!("{:.2} µs each", ms(started) * 1000.0 / f64::from(rounds)),
    );
    measure_recording(bench.account);
}

/// Seals a 100 MB recording and opens it again, each in 1 MiB pieces; prints both rates.
fn measure_recording(account: Uuid) {
    let key = Key::random();
    let customer = Uuid::new_v4();
    let store_key = format!("recordings/{account}/bench.wav");
    let recording: Vec<u8> = (0..RECORDING_BYTES).map(|n| (n % 251) as u8).collect();
    let started = Instant::now();
    let mut sealing = FileSealing::new(&key, account, customer, &store_key);
    let mut sealed = Vec::with_capacity(RECORDING_BYTES + RECORDING_BYTES / 4096 + 64);
    for piece in recording.chunks(PIECE_BYTES) {
        sealed.extend_from_slice(&sealing.push(piece));
    }
    sealed.extend_from_slice(&sealing.finish());
    let sealing_rate = megabytes_per_second(started);
    let started = Instant::now();
    let mut opening = FileOpening::new(Some(key), account, customer, &store_key);
    let mut opened = 0;
    for piece in sealed.chunks(PIECE_BYTES) {
        opened += opening.push(piece).expect("opens").len();
    }
    opened += opening.finish().expect("opens to the end").len();
    let opening_rate = megabytes_per_second(started);
    assert_eq!(opened, RECORDING_BYTES);
    reference(
        "a 100 MB recording sealed, then opened (64 KiB chunks, handed over in 1 MiB pieces, one core)",
        format!("{sealing_rate:.0} MB/s sealed, {opening_rate:.0} MB/s opened"),
    );
}

fn megabytes_per_second(started: Instant) -> f64 {
    RECORDING_BYTES as f64 / 1e6 / started.elapsed().as_secs_f64()
}
