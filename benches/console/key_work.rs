//! The key figures, on the keyring beside the bench's database: the key work of one erasure (`Keyring::destroy`:
//! the key deleted, its path and the root re-keyed, the root file replaced) with 1,000,000 data keys in the
//! keyring, against the limit of 20 ms; and, for reference, how fast a record's data keys are made (the keyring
//! is filled to 1,000,000 keys by 16 concurrent writers) and how fast a value is sealed and opened.

use std::time::{Duration, Instant};

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
/// Concurrent writers filling the keyring.
const WRITERS: i64 = 16;

pub async fn measure(bench: &Bench) {
    let keyring = bench.keyring.clone();
    let held: i64 = sqlx::query_scalar("select count(*) from data_keys")
        .fetch_one(keyring.pool())
        .await
        .expect("count");
    let missing = KEYS - held + ERASURES as i64;
    if missing > 0 {
        let started = Instant::now();
        let mut writers = Vec::new();
        for _ in 0..WRITERS {
            let keyring = keyring.clone();
            let account = bench.account;
            writers.push(tokio::spawn(async move {
                for _ in 0..(missing + WRITERS - 1) / WRITERS {
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
        let seconds = started.elapsed().as_secs_f64();
        reference(
            "keys made (16 writers) while filling the keyring to 1,000,000 data keys",
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
}
