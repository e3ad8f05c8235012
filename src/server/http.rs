//! The HTTP stack: Leptos pages and server functions on axum, wrapped in the cross-site request guard, the
//! body limit, security headers, and the mapping of error answers to their HTTP status.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::PgPool;
use tokio::sync::Notify;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;

use crate::app::{App, shell};
use crate::error::AppError;
use crate::server::auth::RequestPrincipal;
use crate::server::state::AppState;
use crate::server::storage::Storage;

/// Largest request body the console accepts; every form it sends is far smaller.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Leptos options for a site folder and address, without reading Cargo.toml (the built binary runs alone).
pub fn leptos_options(site_root: &str, listen: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(
            std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "customer-data-console".into()),
        )
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(listen)
        .build()
}

/// The shared state; `secure_cookies` marks the session cookie Secure (set it when served over https).
pub fn app_state(
    leptos_options: LeptosOptions,
    pool: PgPool,
    storage: Storage,
    secure_cookies: bool,
) -> AppState {
    let watching = std::env::var("LEPTOS_WATCH").is_ok_and(|value| value == "true");
    let asset_version = (!watching)
        .then(|| asset_version(&leptos_options.site_root, &leptos_options.output_name))
        .flatten();
    AppState {
        leptos_options,
        pool,
        storage,
        outbox_wakeup: Arc::new(Notify::new()),
        secure_cookies,
        asset_version: asset_version.map(Arc::from),
    }
}

/// The extensions of the built files a page loads from `/pkg/`.
pub const PKG_EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// A digest of the wasm, JS and CSS in the site folder, read once at start. Pages load them as
/// `/pkg/<name>.<ext>?v=<digest>`, answered as cacheable for a year: a browser fetches them once per release
/// and never asks again, and a release that changes any of them changes every URL, so no browser runs last
/// release's wasm against this release's pages. `None` when the folder holds none of them. The digest is
/// read once, so it is not used under `cargo leptos watch` (`LEPTOS_WATCH=true`), which rebuilds the files
/// while the server runs: there the files are unversioned and always checked.
pub fn asset_version(site_root: &str, output_name: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    let mut found = false;
    for extension in PKG_EXTENSIONS {
        if let Ok(bytes) = std::fs::read(format!("{site_root}/pkg/{output_name}.{extension}")) {
            digest.update(extension.as_bytes());
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(&bytes);
            found = true;
        }
    }
    found.then(|| crate::server::sessions::hex(&digest.finalize()[..8]))
}

/// The whole console as one axum router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                provide_context(RequestPrincipal::default());
            },
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(status_from_error_body))
        .layer(middleware::from_fn_with_state(
            state.asset_version.clone(),
            security_headers,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_cross_site))
        .layer(CompressionLayer::new().compress_when(worth_compressing()))
        .with_state(state)
}

/// Answers of a known size under this many bytes go uncompressed: a search answer of a few records is a few
/// hundred bytes, and Brotli on it cost more than it saved. Measured on loopback, 2,000 searches for a 410-byte
/// answer, p50: 0.54 and 0.54 ms when the client accepted Brotli against 0.48 and 0.52 ms when it did not;
/// with this floor 0.49 and 0.49 against 0.46 and 0.49 ms. Pages, whose size is not known up front, and the
/// wasm, JS and CSS are still compressed.
const COMPRESS_ABOVE_BYTES: u16 = 1024;

/// tower-http's default rule (no gRPC, images or event streams) with the size floor above.
fn worth_compressing() -> impl Predicate {
    SizeAbove::new(COMPRESS_ABOVE_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
}

/// Whether a state-changing request comes from another site. Browsers send `Sec-Fetch-Site` and `Origin` on
/// every POST; a request with neither is not a browser acting with someone's cookie.
pub fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    match headers.get(header::ORIGIN) {
        None => false,
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            let origin = origin.to_str().unwrap_or("null");
            let origin_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            origin_host != Some(host) || host.is_empty()
        }
    }
}

async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if is_cross_site(request.method(), request.headers()) {
        return error_response(&AppError::forbidden("Cross-site requests are refused."));
    }
    next.run(request).await
}

/// The files of `public/`, served from the site folder's root.
pub const PUBLIC_FILES: [&str; 2] = ["/favicon.svg", "/robots.txt"];

/// How long a browser may keep an answer: the release's versioned files for a year, the files of `public/` for
/// a day, `/pkg/` files asked for without the current version only after checking with the server, and
/// nothing else at all (pages and answers hold customer data).
pub fn cache_control(path: &str, query: Option<&str>, version: Option<&str>) -> &'static str {
    if path.starts_with("/pkg/") {
        let current = version.is_some_and(|v| query.and_then(|q| q.strip_prefix("v=")) == Some(v));
        if current {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }
    } else if PUBLIC_FILES.contains(&path) {
        "public, max-age=86400"
    } else {
        "no-store"
    }
}

/// Caching as `cache_control` says (for successful and not-modified answers; others are never kept), and no
/// frame shows a page.
async fn security_headers(
    State(version): State<Option<Arc<str>>>,
    request: Request,
    next: Next,
) -> Response {
    let cache = cache_control(
        request.uri().path(),
        request.uri().query(),
        version.as_deref(),
    );
    let mut response = next.run(request).await;
    let cache = if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        cache
    } else {
        "no-store"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Server functions answer every error with status 500 and the `AppError` as JSON; this gives the answer the
/// status that the error itself names (401, 403, 404, 409, 422, 429), so one rule serves every endpoint.
async fn status_from_error_body(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn error_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_files_are_kept_a_year_and_pages_never() {
        let year = "public, max-age=31536000, immutable";
        let v = Some("0123abcd0123abcd");
        assert_eq!(
            cache_control("/pkg/c.wasm", Some("v=0123abcd0123abcd"), v),
            year
        );
        assert_eq!(
            cache_control("/pkg/c.js", Some("v=0123abcd0123abcd"), v),
            year
        );
        assert_eq!(cache_control("/pkg/c.js", Some("v=old"), v), "no-cache");
        assert_eq!(cache_control("/pkg/c.js", None, v), "no-cache");
        assert_eq!(cache_control("/pkg/c.js", Some("v="), None), "no-cache");
        assert_eq!(
            cache_control("/favicon.svg", None, v),
            "public, max-age=86400"
        );
        assert_eq!(cache_control("/customers/1", None, v), "no-store");
        assert_eq!(
            cache_control("/api/customers/search", Some("v=0123abcd0123abcd"), v),
            "no-store"
        );
    }

    #[test]
    fn the_public_file_list_is_what_public_holds() {
        let mut listed: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/public"))
                .unwrap()
                .map(|entry| format!("/{}", entry.unwrap().file_name().to_string_lossy()))
                .collect();
        listed.sort();
        let mut expected: Vec<&str> = PUBLIC_FILES.to_vec();
        expected.sort();
        assert_eq!(listed, expected);
    }

    #[test]
    fn the_asset_version_follows_the_files_content() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().to_str().unwrap();
        assert_eq!(asset_version(root, "app"), None);
        std::fs::create_dir(site.path().join("pkg")).unwrap();
        std::fs::write(site.path().join("pkg/app.wasm"), b"wasm one").unwrap();
        std::fs::write(site.path().join("pkg/app.js"), b"js").unwrap();
        let first = asset_version(root, "app").unwrap();
        assert_eq!(first.len(), 16);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(asset_version(root, "app").as_deref(), Some(first.as_str()));
        std::fs::write(site.path().join("pkg/app.wasm"), b"wasm two").unwrap();
        let second = asset_version(root, "app").unwrap();
        assert_ne!(first, second);
        std::fs::write(site.path().join("pkg/app.css"), b"css").unwrap();
        assert_ne!(asset_version(root, "app").unwrap(), second);
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!is_cross_site(&Method::POST, &h));
    }

    #[test]
    fn foreign_origins_and_sites_are_refused() {
        let foreign = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ]);
        assert!(is_cross_site(&Method::POST, &foreign));
        let cross = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]);
        assert!(is_cross_site(&Method::POST, &cross));
        let same_site = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-site")]);
        assert!(is_cross_site(&Method::POST, &same_site));
        let null = headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]);
        assert!(is_cross_site(&Method::POST, &null));
    }

    #[test]
    fn reads_and_non_browser_clients_pass() {
        let foreign = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ]);
        assert!(!is_cross_site(&Method::GET, &foreign));
        assert!(!is_cross_site(
            &Method::POST,
            &headers(&[("host", "127.0.0.1:3000")])
        ));
    }
}
