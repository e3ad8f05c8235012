//! The browser figures, measured by Chromium (`end2end/bench/hydration.cjs`): the release wasm and JS sizes,
//! the navigation to `data-hydrated` on the customer page against the same page without its wasm (and a static
//! page), with a warm cache and with a cold one (a new browser profile for every sample), and the longest
//! main-thread task.

use std::process::Command;
use std::sync::OnceLock;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use customer_data_console::server::{demo, synthetic};
use serde_json::Value;
use sqlx::PgPool;

use crate::Bench;
use crate::customer_page::page_customer;
use crate::report::Row;

/// Page loads measured on each side.
const HYDRATION_REPS: usize = 40;
/// Cold page loads (a browser on a new profile each) measured on each side.
const COLD_REPS: usize = 15;
/// The hydration figure's reference: a page with no wasm, whose one inline module script sets `data-hydrated`.
const STATIC_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Static</title></head><body><p>Static</p><script type="module">document.body.setAttribute("data-hydrated", "")</script></body></html>"#;

/// The customer page as the console served it, with its wasm loader replaced by the static page's one inline
/// script (set once the console has answered): what this browser needs for the page's content alone.
static PAGE_WITHOUT_WASM: OnceLock<String> = OnceLock::new();

/// The baselines' routes: `/static` and `/customer-without-wasm`.
pub fn plain_routes() -> Router<PgPool> {
    Router::new()
        .route("/static", get(|| async { Html(STATIC_PAGE) }))
        .route(
            "/customer-without-wasm",
            get(|| async { Html(PAGE_WITHOUT_WASM.get().cloned().unwrap_or_default()) }),
        )
}

fn without_wasm(html: &str, console: &str) -> String {
    let compile = html
        .find("window.__cdcWasm")
        .expect("the shell starts compiling the wasm");
    let start = html[..compile]
        .rfind("<script")
        .expect("in a script of its own");
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

/// Runs the Chromium script and returns what it measured.
async fn measured_in_chromium(bench: &Bench) -> Value {
    let path = format!("/customers/{}", page_customer());
    let page_html = bench
        .client
        .get(format!("{}{path}", bench.console))
        .send()
        .await
        .expect("customer page")
        .text()
        .await
        .expect("page body");
    PAGE_WITHOUT_WASM
        .set(without_wasm(&page_html, &bench.console))
        .expect("set once");
    let output = Command::new("node")
        .current_dir("end2end")
        .args([
            "bench/hydration.cjs",
            &bench.console,
            &format!("../{}/pkg", bench.site_root),
            &path,
            synthetic::ADMIN_EMAIL,
            demo::DEMO_PASSWORD,
            &HYDRATION_REPS.to_string(),
            &format!("{}/static", bench.plain),
            &format!("{}/customer-without-wasm", bench.plain),
            &COLD_REPS.to_string(),
        ])
        .output()
        .expect("node");
    assert!(
        output.status.success(),
        "hydration bench: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

fn kb(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0) / 1024.0
}

/// "raw / gzip / brotli KB" of a file's sizes.
fn sizes(file: &Value) -> String {
    let [raw, gzip, brotli] = ["raw", "gzip", "brotli"].map(|k| kb(&file[k]));
    format!("{raw:.0} / {gzip:.0} / {brotli:.0} KB")
}

/// "p50 / p99 ms" of a figure the script measured.
fn p50_p99(figure: &Value) -> String {
    let [p50, p99] = ["p50", "p99"].map(|k| figure[k].as_f64().unwrap_or(f64::NAN));
    format!("{p50:.0} / {p99:.0} ms")
}

/// A row with no baseline and no limit, for the struct update of the rows that have either.
fn unlimited(figure: &str, console: String) -> Row<'_> {
    Row {
        figure,
        console,
        baseline: "-".into(),
        ratio: None,
        limit: "-",
        met: true,
    }
}

/// Prints the size rows and the browser rows.
pub async fn measure(bench: &Bench) {
    let browser = measured_in_chromium(bench).await;
    let p99 = |figure: &str| browser[figure]["p99"].as_f64().unwrap_or(f64::NAN);
    Row {
        limit: "≤ 150 KB brotli",
        met: kb(&browser["wasm"]["brotli"]) <= 150.0,
        ..unlimited("release wasm: raw / gzip / brotli", sizes(&browser["wasm"]))
    }
    .print();
    unlimited("release JS: raw / gzip / brotli", sizes(&browser["js"])).print();
    let p50 = |figure: &str| browser[figure]["p50"].as_f64().unwrap_or(f64::NAN);
    let warm_cost = p50("hydration_ms") - p50("without_wasm_ms");
    Row {
        baseline: format!(
            "this page without wasm {} (static page {})",
            p50_p99(&browser["without_wasm_ms"]),
            p50_p99(&browser["static_page_ms"])
        ),
        limit: "p50 ≤ 25 ms after the page without wasm",
        met: warm_cost <= 25.0,
        ..unlimited(
            &format!(
                "navigation to data-hydrated, warm cache, p50 / p99 of {HYDRATION_REPS} (p50 {warm_cost:+.0} ms)"
            ),
            p50_p99(&browser["hydration_ms"]),
        )
    }
    .print();
    Row {
        baseline: format!(
            "this page without wasm, cold {}",
            p50_p99(&browser["cold_without_wasm_ms"])
        ),
        limit: "p50 < 150 ms",
        met: p50("cold_hydration_ms") < 150.0,
        ..unlimited(
            &format!(
                "navigation to data-hydrated, cold cache (a new browser profile each), p50 / p99 of {COLD_REPS}"
            ),
            p50_p99(&browser["cold_hydration_ms"]),
        )
    }
    .print();
    Row {
        limit: "no task over 50 ms",
        met: p99("longest_task_ms") <= 50.0,
        ..unlimited(
            "longest main-thread task (0 = none over 50 ms), p50 / p99",
            p50_p99(&browser["longest_task_ms"]),
        )
    }
    .print();
}
