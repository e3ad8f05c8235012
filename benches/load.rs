//! The load and soak run (`scripts/load`): against a running console (`LOAD_URL`, process `LOAD_SERVER_PID`) on
//! a database seeded by `customer-data-console seed`, drives concurrent signed-in clients with a mix of
//! searches (70%), customer pages (25%) and erasures (5%, each of a different record) for a set time on
//! loopback, then prints requests served, errors, p50/p99 latency and the server's peak memory.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use customer_data_console::server::synthetic;
use uuid::Uuid;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_memory_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() {
    let base = std::env::var("LOAD_URL").expect("LOAD_URL of the running console");
    let pid = std::env::var("LOAD_SERVER_PID").expect("LOAD_SERVER_PID");
    let clients = env_number("LOAD_CLIENTS", 50) as usize;
    let seconds = env_number("LOAD_SECONDS", 300);
    let customers = env_number("LOAD_CUSTOMERS", 100_000);
    let next_erasure = Arc::new(AtomicU64::new(customers / 2));
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let mut tasks = Vec::new();
    for worker in 0..clients as u64 {
        let base = base.clone();
        let next_erasure = next_erasure.clone();
        tasks.push(tokio::spawn(async move {
            let (client, _) = common::signed_in_client(&base).await;
            let mut latencies = Vec::new();
            let (mut errors, mut erasures) = (0u64, 0u64);
            let mut n = worker * 7_919;
            while Instant::now() < deadline {
                n = n
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let pick = (n >> 33) % 100;
                let customer = 1 + (n >> 20) % (customers / 2 - 1);
                let started = Instant::now();
                let response = if pick < 70 {
                    let query = if pick % 2 == 0 {
                        synthetic::email(customer)
                    } else {
                        synthetic::salesforce_id_of(customer).to_string()
                    };
                    client
                        .post(format!("{base}/api/customers/search"))
                        .form(&[("query", query)])
                        .send()
                        .await
                } else if pick < 95 {
                    client
                        .get(format!(
                            "{base}/customers/{}",
                            synthetic::row_id(1, customer)
                        ))
                        .send()
                        .await
                } else {
                    erasures += 1;
                    let target: Uuid =
                        synthetic::row_id(1, next_erasure.fetch_add(1, Ordering::Relaxed));
                    common::erase(&client, &base, target).await
                };
                match response {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                    }
                    _ => errors += 1,
                }
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            (latencies, errors, erasures)
        }));
    }
    let mut all = Vec::new();
    let (mut errors, mut erasures) = (0, 0);
    for task in tasks {
        let (latencies, e, x) = task.await.expect("client");
        all.extend(latencies);
        errors += e;
        erasures += x;
    }
    all.sort_by(f64::total_cmp);
    let at = |p: f64| all[((p * all.len() as f64).ceil() as usize).clamp(1, all.len()) - 1];
    println!(
        "| clients | seconds | requests | req/s | erasures | errors | p50 | p99 | server peak memory |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {clients} | {seconds} | {} | {:.0} | {erasures} | {errors} | {:.1} ms | {:.1} ms | {:.0} MiB |",
        all.len(),
        all.len() as f64 / seconds as f64,
        at(0.50),
        at(0.99),
        peak_memory_kib(&pid).unwrap_or(0) as f64 / 1024.0
    );
    assert_eq!(errors, 0, "the load run saw errors");
}
