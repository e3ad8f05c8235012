//! The export figure: Export of a record of 10,000 calls and 10,000 messages whose 5,000 recordings (32 KB each)
//! are stored files, downloaded through the console by the signed-in Admin: MB/s, and how far the process's
//! resident memory (console and client together) rose above where it stood before, against the limit of 64 MB.

use std::time::Instant;

use crate::report::Row;
use crate::{Bench, erasure};

/// The size of each stored recording.
const RECORDING_BYTES: usize = 32 * 1024;

/// The most the process's memory may rise while the export streams.
const MAX_GROWTH_MB: f64 = 64.0;

/// This process's resident memory, in MB (`VmRSS` of /proc/self/status).
fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

pub async fn measure(bench: &Bench) {
    let customer = erasure::heavy_clone(&bench.pool, bench.account, None).await;
    let keys: Vec<String> = sqlx::query_scalar(
        "select recording_key from calls
         where account_id = $1 and customer_id = $2 and recording_key is not null",
    )
    .bind(bench.account)
    .bind(customer)
    .fetch_all(&bench.pool)
    .await
    .expect("the clone's recordings");
    let recording: Vec<u8> = (0..RECORDING_BYTES).map(|i| (i % 251) as u8).collect();
    for key in &keys {
        let path = bench.objects.join(key);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(&path, &recording).expect("a recording");
    }

    let before = resident_mb();
    let started = Instant::now();
    let mut response = bench
        .client
        .get(format!("{}/customers/{customer}/export.zip", bench.console))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200, "the export starts");
    let mut received = 0usize;
    let mut peak = before;
    while let Some(chunk) = response.chunk().await.expect("the export completes") {
        received += chunk.len();
        peak = peak.max(resident_mb());
    }
    let seconds = started.elapsed().as_secs_f64();
    let growth = (peak - before).max(0.0);
    Row {
        figure: &format!(
            "export of a record of 10,000 calls + 10,000 messages with {} recordings ({:.0} MB): throughput, memory above idle",
            keys.len(),
            received as f64 / 1e6
        ),
        console: format!("{:.0} MB/s, +{growth:.1} MB", received as f64 / 1e6 / seconds),
        baseline: "-".into(),
        ratio: None,
        limit: "memory < +64 MB",
        met: growth < MAX_GROWTH_MB,
    }
    .print();
    for key in &keys {
        let _ = std::fs::remove_file(bench.objects.join(key));
    }
}
