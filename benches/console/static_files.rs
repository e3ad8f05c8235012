//! The static file figure: 20 requests in a row on one kept-alive HTTP/1.1 connection (the way a browser
//! reuses its connection) for the stylesheet (about 10 KB) against the server-rendered sign-in page (about
//! 2 KB); for reference, the wasm as stored in Brotli and as it is.

use std::time::Instant;

use crate::Bench;
use crate::report::{Row, Stats, ms, reference, stats};

/// Requests of each kind, taking turns on the one connection.
const REQUESTS: usize = 20;

/// The median and 99th percentile of `REQUESTS` GETs of each of `paths` (with the `Accept-Encoding` given) on
/// one connection, and each answer's size.
async fn on_one_connection(bench: &Bench, paths: &[(&str, &str)]) -> Vec<(Stats, usize)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .build()
        .expect("client");
    let mut millis = vec![Vec::new(); paths.len()];
    let mut sizes = vec![0; paths.len()];
    for round in 0..=REQUESTS {
        for (n, (path, encoding)) in paths.iter().enumerate() {
            let started = Instant::now();
            let answer = client
                .get(format!("{}{path}", bench.console))
                .header("accept-encoding", *encoding)
                .send()
                .await
                .expect("request");
            assert!(answer.status().is_success(), "{path}: {}", answer.status());
            let body = answer.bytes().await.expect("body");
            let elapsed = ms(started);
            if round > 0 {
                millis[n].push(elapsed);
                sizes[n] = body.len();
            }
        }
    }
    millis.into_iter().map(stats).zip(sizes).collect()
}

/// Prints the static file row and its reference rows.
pub async fn measure(bench: &Bench) {
    let version = bench.asset_version.as_deref().unwrap_or("");
    let css = format!("/pkg/customer-data-console.css?v={version}");
    let wasm = format!("/pkg/customer-data-console.wasm?v={version}");
    let measured = on_one_connection(
        bench,
        &[
            (&css, "identity"),
            ("/login", "identity"),
            (&wasm, "br"),
            (&wasm, "identity"),
        ],
    )
    .await;
    let [
        (css_ms, css_bytes),
        (page_ms, page_bytes),
        (wasm_br, br_bytes),
        (wasm_raw, raw_bytes),
    ] = <[(Stats, usize); 4]>::try_from(measured).unwrap_or_else(|_| unreachable!("four paths"));
    let ratio = css_ms.p50 / page_ms.p50;
    Row {
        figure: &format!(
            "stylesheet ({:.1} KB), {REQUESTS} on one kept-alive connection, p50 / p99",
            css_bytes as f64 / 1024.0
        ),
        console: css_ms.p50_p99(2),
        baseline: format!(
            "sign-in page ({:.1} KB, server-rendered) {}",
            page_bytes as f64 / 1024.0,
            page_ms.p50_p99(2)
        ),
        ratio: Some(ratio),
        limit: "p50 ≤ 2x the page",
        met: ratio <= 2.0,
    }
    .print();
    reference(
        "the wasm on that connection: stored Brotli / as built, size and p50",
        format!(
            "{:.0} KB {:.2} ms / {:.0} KB {:.2} ms",
            br_bytes as f64 / 1024.0,
            wasm_br.p50,
            raw_bytes as f64 / 1024.0,
            wasm_raw.p50
        ),
    );
}
