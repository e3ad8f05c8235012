//! The headers every answer carries: caching as `assets::cache_control` says, and the browser protections.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::server::http::assets::cache_control;

/// Caching as `cache_control` says (for successful and not-modified answers; others are never kept), and no
/// frame shows a page.
pub(super) async fn security_headers(
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
