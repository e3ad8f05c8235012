//! The audit figures: `audit verify` over a chain of 1,000,000 rows (rows per second, against the goal of all of
//! them in under 10 s), and the cost of the audit log's append on a customer search (the console's statements
//! behind a plain handler, with and without the append, p50).

use std::time::Instant;

use customer_data_console::server::evidence::audit_log::{self, RowFields, Verification};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Bench;
use crate::report::{Row, reference, stats};
use crate::search;

/// Rows the verify figure's chain holds.
const CHAIN_ROWS: i64 = 1_000_000;
/// Rows written per statement while the chain is built.
const BATCH: i64 = 10_000;
/// Searches per way for the append's cost, after `WARM_UP`.
const SEARCHES: usize = 1_000;
const WARM_UP: usize = 20;

/// Extends the synthetic account's chain to `CHAIN_ROWS` rows (page views by the console itself), hashed as the
/// console hashes them, in one transaction that holds the chain's head.
async fn fill_chain(bench: &Bench) {
    let mut tx = bench.pool.begin().await.expect("begin");
    let (mut seq, hash): (i64, Vec<u8>) =
        sqlx::query_as("select seq, hash from audit_heads where account_id = $1 for update")
            .bind(bench.account)
            .fetch_one(&mut *tx)
            .await
            .expect("head");
    let mut prev: [u8; 32] = hash.try_into().expect("32 bytes");
    let details = Value::Object(serde_json::Map::new());
    let start = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    while seq < CHAIN_ROWS {
        let mut seqs = Vec::new();
        let mut ats = Vec::new();
        let mut customers = Vec::new();
        let mut prevs = Vec::new();
        let mut hashes = Vec::new();
        for _ in 0..BATCH.min(CHAIN_ROWS - seq) {
            seq += 1;
            let at = start + time::Duration::microseconds(seq);
            let customer = Uuid::from_u128(seq as u128);
            let fields = RowFields {
                account_id: bench.account,
                seq,
                at,
                actor_kind: "system",
                actor_id: None,
                action: "customer_viewed",
                target_user_id: None,
                customer_id: Some(customer),
                request_id: None,
                subject: None,
                details: &details,
            };
            let hash = audit_log::row_hash(&prev, &fields);
            seqs.push(seq);
            ats.push(at);
            customers.push(customer);
            prevs.push(prev.to_vec());
            hashes.push(hash.to_vec());
            prev = hash;
        }
        sqlx::query(
            "insert into audit_log (account_id, seq, at, actor_kind, action, customer_id, prev_hash, hash)
             select $1, s, a, 'system', 'customer_viewed', c, p, h
             from unnest($2::bigint[], $3::timestamptz[], $4::uuid[], $5::bytea[], $6::bytea[]) as r(s, a, c, p, h)",
        )
        .bind(bench.account)
        .bind(&seqs)
        .bind(&ats)
        .bind(&customers)
        .bind(&prevs)
        .bind(&hashes)
        .execute(&mut *tx)
        .await
        .expect("rows");
    }
    sqlx::query("update audit_heads set seq = $2, hash = $3 where account_id = $1")
        .bind(bench.account)
        .bind(seq)
        .bind(prev.as_slice())
        .execute(&mut *tx)
        .await
        .expect("head");
    tx.commit().await.expect("commit");
}

/// Prints the audit rows.
pub async fn measure(bench: &Bench) {
    fill_chain(bench).await;
    let started = Instant::now();
    let verified = audit_log::verify(&bench.pool, Some(bench.account))
        .await
        .expect("verify");
    let seconds = started.elapsed().as_secs_f64();
    let Verification::Intact { rows, .. } = verified else {
        panic!("the benchmark's chain is broken: {verified}");
    };
    Row {
        figure: &format!("audit verify over {rows} rows"),
        console: format!("{seconds:.2} s ({:.0} rows/s)", rows as f64 / seconds),
        baseline: "-".into(),
        ratio: None,
        limit: "1,000,000 rows in < 10 s",
        met: rows >= CHAIN_ROWS as u64 && seconds < 10.0,
    }
    .print();

    let inputs = search::email_inputs(bench).await;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for (k, input) in inputs.iter().cycle().take(SEARCHES + WARM_UP).enumerate() {
        // Each goes first every other time, so that neither always finds the rows cached by the other.
        let (a, u) = if k % 2 == 0 {
            let a = search::plain_search_ms(bench, "/search", input).await;
            (
                a,
                search::plain_search_ms(bench, "/search-unaudited", input).await,
            )
        } else {
            let u = search::plain_search_ms(bench, "/search-unaudited", input).await;
            (search::plain_search_ms(bench, "/search", input).await, u)
        };
        if k >= WARM_UP {
            with.push(a);
            without.push(u);
        }
    }
    let (with, without) = (stats(with), stats(without));
    reference(
        "search by email with / without the audit log's append (the console's statements behind a plain handler), p50 (p99)",
        format!(
            "{:.2} ({:.2}) / {:.2} ({:.2}) ms: the append adds {:.2} ms at p50",
            with.p50,
            with.p99,
            without.p50,
            without.p99,
            with.p50 - without.p50
        ),
    );
}
