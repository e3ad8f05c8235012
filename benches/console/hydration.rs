//! The browser figures, measured by Chromium (`end2end/bench/hydration.cjs`): the release wasm and JS sizes,
//! the navigation to `data-hydrated` on the customer page against the same page without its wasm (and a static
//! page), with a warm cache and with a cold one (a new browser profile for every sample), and the longest
//! main-thread task; and, when the bench has a no-op site (`Bench::noop_console`), the same figures on a console
//! serving a wasm whose exports do nothing, the floor of any wasm through the console's loader.
//!
//! The reference pages are served on the console's own origin, beside its routes ([`with_reference_pages`]),
//! with the headers the console sent: the page without wasm is the customer page the console renders for that
//! very request, so that the two differ in the wasm alone, not in the server's render, the connection or the
//! cross-origin isolation a page asks for (a first navigation to a page with `Cross-Origin-Opener-Policy`
//! starts a new renderer process, about 50 ms on this machine).

use std::process::Command;
use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, DATE, HeaderValue, LINK,
    SET_COOKIE,
};
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use customer_data_console::server::{demo, synthetic};
use serde_json::Value;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;

use crate::Bench;
use crate::customer_page::page_customer;
use crate::report::Row;

/// Page loads measured on each side.
const HYDRATION_REPS: usize = 40;
/// Cold page loads (a browser on a new profile each) measured on each side.
const COLD_REPS: usize = 15;
/// The reference page without the console's page: one paragraph, and `{marker}` for the inline module script
/// that sets `data-hydrated` (`hydrated_marker`).
const STATIC_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Static</title></head><body><p>Static</p>{marker}</body></html>"#;
/// Where the page without wasm is served, beside the console's routes (with the customer's id after it).
const WITHOUT_WASM_PATH: &str = "/bench/customer-without-wasm";
/// Where the static page is served, beside the console's routes.
const STATIC_PATH: &str = "/bench/static";

/// The headers the console answered the customer page with, but for the wasm's preload (the static reference
/// page is served with them), and the script nonce its policy names. Set once the console has answered.
static CONSOLE_HEADERS: OnceLock<(HeaderMap, String)> = OnceLock::new();

/// The console's router with the two reference pages beside it: `WITHOUT_WASM_PATH/{id}`, the customer page
/// as the console renders it for this request with its wasm loader replaced by one inline script that sets
/// `data-hydrated`, and `STATIC_PATH`. Both are compressed as the console compresses its pages.
pub fn with_reference_pages(console: Router) -> Router {
    Router::new()
        .route(
            &format!("{WITHOUT_WASM_PATH}/{{id}}"),
            get(customer_without_wasm),
        )
        .route(STATIC_PATH, get(static_page))
        .layer(CompressionLayer::new())
        .with_state(console.clone())
        .fallback_service(console)
}

/// The customer page `id`, rendered by the console for this request (its cookies, its headers), without its
/// wasm loader, answered with the console's headers but for the wasm's preload.
async fn customer_without_wasm(
    State(console): State<Router>,
    Path(id): Path<String>,
    mut request: Request,
) -> Response {
    *request.uri_mut() = Uri::try_from(format!("/customers/{id}")).expect("uri");
    request
        .headers_mut()
        .insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    let (mut parts, body) = console
        .oneshot(request)
        .await
        .expect("console")
        .into_parts();
    let html = to_bytes(body, usize::MAX).await.expect("page");
    let html = String::from_utf8(html.to_vec()).expect("utf-8");
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.remove(LINK);
    let page = without_wasm(&html, &policy_nonce(&parts.headers));
    Response::from_parts(parts, Body::from(page))
}

/// `STATIC_PAGE` with the headers the console answered the customer page with.
async fn static_page() -> Response {
    let (headers, nonce) = CONSOLE_HEADERS.get().expect("the console answered first");
    let mut response =
        Html(STATIC_PAGE.replace("{marker}", &hydrated_marker(nonce))).into_response();
    response.headers_mut().extend(headers.clone());
    response
}

/// The inline module script that sets `data-hydrated`, allowed by the page's `nonce`.
fn hydrated_marker(nonce: &str) -> String {
    format!(
        r#"<script type="module" nonce="{nonce}">document.body.setAttribute("data-hydrated", "")</script>"#
    )
}

/// The page `html` without its wasm: the head's compile script and the loader removed, `hydrated_marker`
/// (with the `nonce` its answer's policy names) at the end of the body.
fn without_wasm(html: &str, nonce: &str) -> String {
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
    format!("{}{}", &html[..start], &html[end..])
        .replace("</body>", &format!("{}</body>", hydrated_marker(nonce)))
}

/// The script nonce an answer's Content-Security-Policy names.
fn policy_nonce(headers: &HeaderMap) -> String {
    let policy = headers
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .expect("the console's answers carry a policy");
    policy
        .split_once("'nonce-")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .expect("the policy names a nonce")
}

/// A console serving a built site: its base URL, and the site's folder (relative to the repository).
pub struct Site {
    /// The console's base URL.
    pub console: String,
    /// The site's folder, whose `pkg/` the script weighs.
    pub site_root: String,
}

/// Runs the Chromium script against `site` and returns what it measured.
async fn measured_in_chromium(bench: &Bench, site: &Site) -> Value {
    let path = format!("/customers/{}", page_customer());
    let page = bench
        .client
        .get(format!("{}{path}", site.console))
        .send()
        .await
        .expect("customer page");
    let mut headers = page.headers().clone();
    for name in [
        CONTENT_LENGTH,
        CONTENT_ENCODING,
        CONTENT_TYPE,
        DATE,
        LINK,
        SET_COOKIE,
    ] {
        headers.remove(name);
    }
    let nonce = policy_nonce(&headers);
    CONSOLE_HEADERS.get_or_init(|| (headers, nonce));
    let output = Command::new("node")
        .current_dir("end2end")
        .args([
            "bench/hydration.cjs",
            &site.console,
            &format!("../{}/pkg", site.site_root),
            &path,
            synthetic::ADMIN_EMAIL,
            demo::DEMO_PASSWORD,
            &HYDRATION_REPS.to_string(),
            &format!("{}{STATIC_PATH}", site.console),
            &format!("{}{WITHOUT_WASM_PATH}/{}", site.console, page_customer()),
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

/// Prints the size rows and the browser rows, and the floor's row when the bench has a no-op site.
pub async fn measure(bench: &Bench) {
    let release = Site {
        console: bench.console.clone(),
        site_root: bench.site_root.clone(),
    };
    let browser = measured_in_chromium(bench, &release).await;
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
            "the same page without its wasm {} (static page {})",
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
            "the same page without its wasm, cold {}",
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
    if let Some(noop) = &bench.noop_console {
        print_floor(&measured_in_chromium(bench, noop).await);
    }
}

/// Prints the floor's row: the same figures with a wasm that has the console's exports, each doing nothing, so
/// that it measures what loading and starting any wasm through the console's loader costs on this page.
fn print_floor(browser: &Value) {
    let p50 = |figure: &str| browser[figure]["p50"].as_f64().unwrap_or(f64::NAN);
    unlimited(
        &format!(
            "for reference: the same page with a wasm of the console's exports that do nothing ({:.0} KB brotli), warm / cold p50",
            kb(&browser["wasm"]["brotli"])
        ),
        format!(
            "{:.0} ms ({:+.0} ms over {:.0} ms without wasm) / {:.0} ms ({:.0} ms without wasm)",
            p50("hydration_ms"),
            p50("hydration_ms") - p50("without_wasm_ms"),
            p50("without_wasm_ms"),
            p50("cold_hydration_ms"),
            p50("cold_without_wasm_ms"),
        ),
    )
    .print();
}
