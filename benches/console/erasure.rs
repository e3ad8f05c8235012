//! The erasure figures: erasing a record of 10,000 calls and 10,000 messages through the console, and a person
//! of two such records (the request a search's "Erase all" makes), each against the erasure's own DELETE
//! statements on fresh clones of the same size, in one transaction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::model::{RequestReceipt, RequestState};
use customer_data_console::server::{demo, erasure, synthetic};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::report::{Row, ms, stats};
use crate::{Bench, common};

/// Erasures measured on each side, of each figure. With 15, the same code's erasure ratio ranged from 0.91x to
/// 1.39x between runs on a 2-core machine; a median of more moves less.
const ERASE_REPS: usize = 40;

/// How many clones this run has made, so that each gets a Salesforce id of its own.
static CLONES_MADE: AtomicU64 = AtomicU64::new(0);

/// Runs each of `statements`, with `$1` the account and `$2` the customer, on `connection`.
async fn run_for_customer(
    connection: &mut PgConnection,
    statements: impl IntoIterator<Item = &str>,
    account: Uuid,
    customer: Uuid,
) {
    for sql in statements {
        let query = sqlx::query(sql).bind(account).bind(customer);
        query.execute(&mut *connection).await.expect(sql);
    }
}

/// A fresh customer with 10,000 calls (half recorded, half transcribed) and 10,000 messages, and `email` (by
/// default one of its own).
pub async fn heavy_clone(pool: &PgPool, account: Uuid, email: Option<&str>) -> Uuid {
    let n = u64::from(std::process::id()) * 1_000 + CLONES_MADE.fetch_add(1, Ordering::Relaxed);
    let email = email.map_or_else(|| format!("clone{n}@loadtest.example"), str::to_owned);
    let mut tx = pool.begin().await.expect("tx");
    let id: Uuid = sqlx::query_scalar(
        "insert into customers (account_id, salesforce_id, object_type, name, email, phone)
         values ($1, $2, 'Lead', 'Bench clone', $3, '+14155550100') returning id",
    )
    .bind(account)
    .bind(demo::salesforce_id("00Q", 50_000_000 + n).as_str())
    .bind(email)
    .fetch_one(&mut *tx)
    .await
    .expect("clone");
    let inserts = [
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds,
                            transcript, recording_key)
         select $1, $2, 'outbound', '+14155559000', '+14155550100', now() - make_interval(secs => g), 60,
                case when g % 2 = 0 then 'transcript' end,
                case when g % 2 = 0 then 'recordings/' || $1 || '/bench/' || $2 || '/' || g || '.wav' end
         from generate_series(1, 10000) g",
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select $1, $2, 'inbound', '+14155550100', '+14155559000', 'message ' || g, now() - make_interval(secs => g)
         from generate_series(1, 10000) g",
    ];
    run_for_customer(&mut tx, inserts, account, id).await;
    tx.commit().await.expect("commit");
    id
}

/// Milliseconds for the erasure's DELETE statements on each of `targets`, in one transaction.
async fn deletes_alone(pool: &PgPool, account: Uuid, targets: &[Uuid]) -> f64 {
    let t = Instant::now();
    let mut tx = pool.begin().await.expect("tx");
    for &target in targets {
        run_for_customer(&mut tx, erasure::DELETE_ACTIVITY_SQL, account, target).await;
    }
    tx.commit().await.expect("commit");
    ms(t)
}

/// Two fresh clones sharing an email no other record has: one person's records, which a search for that email
/// lists.
async fn heavy_person(pool: &PgPool, account: Uuid) -> (String, [Uuid; 2]) {
    let email = format!("person.{}@loadtest.example", Uuid::new_v4().simple());
    let first = heavy_clone(pool, account, Some(&email)).await;
    let second = heavy_clone(pool, account, Some(&email)).await;
    (email, [first, second])
}

/// Milliseconds for erasing `records`, listed by a search for `email`, through the console as the "Erase all"
/// dialog does: one request, which must erase them at once.
async fn erase_person(bench: &Bench, email: &str, records: [Uuid; 2]) -> f64 {
    let ids = format!("{},{}", records[0], records[1]);
    let form = [
        ("customer_ids", ids.as_str()),
        ("query", email),
        ("confirmation", ERASE_CONFIRMATION),
    ];
    let url = format!("{}/api/requests/create", bench.console);
    let t = Instant::now();
    let response = bench
        .client
        .post(url)
        .form(&form)
        .send()
        .await
        .expect("erase a person");
    let taken = ms(t);
    assert_eq!(response.status(), 200, "erase {email}");
    let receipt: RequestReceipt = response.json().await.expect("the request's receipt");
    assert_eq!(receipt.state, RequestState::Completed, "erased at once");
    assert_eq!(receipt.records.len(), 2, "both records erased");
    taken
}

/// Prints the erasure rows. For a record: the seeded heavy customer goes first (a fresh clone of it when a
/// previous run erased it), then fresh clones, each console erasure followed by the DELETEs alone on another
/// clone. Then for a person, in the same way, two fresh clones at a time.
pub async fn measure(bench: &Bench) {
    let (pool, account) = (&bench.pool, bench.account);
    let heavy = synthetic::row_id(1, 0);
    let heavy_erased: bool =
        sqlx::query_scalar("select erased_at is not null from customers where id = $1")
            .bind(heavy)
            .fetch_one(pool)
            .await
            .expect("heavy customer");
    let (mut api_ms, mut raw_ms) = (Vec::new(), Vec::new());
    for n in 0..ERASE_REPS {
        let target = if n == 0 && !heavy_erased {
            heavy
        } else {
            heavy_clone(pool, account, None).await
        };
        let t = Instant::now();
        let response = common::erase(&bench.client, &bench.console, target)
            .await
            .expect("erase");
        assert_eq!(response.status(), 200, "erase {target}");
        api_ms.push(ms(t));

        let target = heavy_clone(pool, account, None).await;
        raw_ms.push(deletes_alone(pool, account, &[target]).await);
    }
    print_row(
        "erase 10k calls + 10k messages",
        (api_ms, raw_ms),
        "DELETEs",
        250.0,
    );
    person(bench).await;
}

/// Prints the person erasure's row: each console erasure of two fresh clones, listed by their email, followed
/// by the DELETEs alone on two others, in one transaction.
async fn person(bench: &Bench) {
    let (pool, account) = (&bench.pool, bench.account);
    let (mut api_ms, mut raw_ms) = (Vec::new(), Vec::new());
    for _ in 0..ERASE_REPS {
        let (email, records) = heavy_person(pool, account).await;
        api_ms.push(erase_person(bench, &email, records).await);

        let (_, records) = heavy_person(pool, account).await;
        raw_ms.push(deletes_alone(pool, account, &records).await);
    }
    print_row(
        "erase a person: 2 records of 10k calls + 10k messages each",
        (api_ms, raw_ms),
        "DELETEs of both",
        500.0,
    );
}

/// Prints an erasure row: `figure`'s p50 / p99 through the console beside its DELETEs alone (`deletes` names
/// them), met when the console's p50 is at most 1.3x theirs and under `max_p50_ms`.
fn print_row(
    figure: &str,
    (console_ms, deletes_ms): (Vec<f64>, Vec<f64>),
    deletes: &str,
    max_p50_ms: f64,
) {
    let (api, raw) = (stats(console_ms), stats(deletes_ms));
    let ratio = api.p50 / raw.p50;
    Row {
        figure: &format!("{figure}, p50 / p99 of {ERASE_REPS}"),
        console: api.p50_p99(0),
        baseline: format!("{deletes} {}", raw.p50_p99(0)),
        ratio: Some(ratio),
        limit: &format!("≤ 1.3x DELETEs, < {max_p50_ms} ms"),
        met: ratio <= 1.3 && api.p50 < max_p50_ms,
    }
    .print();
}
