//! The headers every answer carries, whatever produced it (a page, a file, a server function, or a refusal of
//! the cross-site guard or the body limit, which is why this is the outermost layer): caching as
//! `assets::cache_control` says, and the browser protections: a Content-Security-Policy that lets scripts run
//! only by a nonce new for each answer, no framing, no window or resource shared with another origin, no
//! powerful browser features, and Strict-Transport-Security when the console is served over https. Pages also
//! carry the preload of the wasm their head's script fetches (`wasm_preload`).
//!
//! The nonce is made here, before the request goes on, and handed to Leptos as its `Nonce` context
//! (`provide_script_nonce`, called from the router's per-request context) so that the page's inline scripts
//! carry the value the header names. leptos_axum also generates one per page render, but it lives in the
//! render's reactive owner, which is gone by the time a middleware sees the answer, and only page renders have
//! one, while the policy goes on every answer; so the console's own nonce replaces it in the context.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, with_context};
use rand_core::{OsRng, RngCore};

use crate::server::http::assets::cache_control;
use crate::server::sessions::hex;

/// What the headers depend on beyond the request.
#[derive(Clone)]
pub(super) struct HeaderSettings {
    /// The release's asset version, for `cache_control`.
    pub asset_version: Option<Arc<str>>,
    /// Whether the console is served over https (its cookies are Secure): then browsers are told to use
    /// nothing else.
    pub over_https: bool,
    /// The `Link` header every page carries (`wasm_preload`).
    pub wasm_preload: Option<HeaderValue>,
}

/// The `Link` header that asks the browser to fetch the wasm at `wasm_url` as the page's answer arrives, for
/// the head's script, which asks for it with `fetch` (hence `as=fetch` and `crossorigin`, so that the two
/// requests match). The browser starts reading it before the page's document exists, rather than once the head
/// is parsed: on a warm cache the customer page hydrated 5 to 10 ms sooner this way (BENCHMARKS.md).
pub(super) fn wasm_preload(wasm_url: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("<{wasm_url}>; rel=preload; as=fetch; crossorigin")).ok()
}

/// The script nonce of the request being answered, in its extensions.
#[derive(Clone)]
struct ScriptNonce(Arc<str>);

/// 128 random bits, as the CSP specification asks of a nonce.
const NONCE_BYTES: usize = 16;

/// No camera, microphone, location, payment, USB, motion sensors or screen capture: the console uses none.
const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), display-capture=(), geolocation=(), \
     gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// One year, the least that browsers' preload lists accept.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The policy for an answer whose scripts run by `nonce`: everything else from the console's own origin,
/// scripts only by the nonce or loaded by a script that has it (`'strict-dynamic'`, which also lets the
/// loader import the built JS), the wasm compiled by the loader, no plugins, no `<base>`, no framing, and
/// forms sent only to the console.
fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// Sets the headers on the answer, after giving the request its script nonce.
pub(super) async fn security_headers(
    State(settings): State<HeaderSettings>,
    mut request: Request,
    next: Next,
) -> Response {
    let cache = cache_control(
        request.uri().path(),
        request.uri().query(),
        settings.asset_version.as_deref(),
    );
    let mut bytes = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let nonce = hex(&bytes);
    request
        .extensions_mut()
        .insert(ScriptNonce(Arc::from(nonce.as_str())));
    let mut response = next.run(request).await;
    let cache = if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        cache
    } else {
        "no-store"
    };
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let headers = response.headers_mut();
    if let Some(preload) = settings.wasm_preload.filter(|_| is_page) {
        headers.insert(header::LINK, preload);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if settings.over_https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    response
}

/// Gives the page being rendered the nonce of its answer, as Leptos's `Nonce` context, which the shell's
/// scripts (and any script Leptos adds) carry. Reads the request's parts, which leptos_axum provides before
/// this runs; does nothing for a request that has none (a file served by the fallback).
pub(super) fn provide_script_nonce() {
    let nonce = with_context::<Parts, _>(|parts| parts.extensions.get::<ScriptNonce>().cloned());
    if let Some(ScriptNonce(nonce)) = nonce.flatten() {
        provide_context(Nonce::from_value(nonce));
    }
}

/// `response` as a download: `content_type`, and `Content-Disposition: attachment` with `filename` (which the
/// callers build from ids and dates only, so it needs no escaping).
pub(crate) fn attachment(
    mut response: axum::response::Response,
    content_type: &'static str,
    filename: &str,
) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    if let Ok(value) =
        axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
    {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_scripts_by_the_nonce_only() {
        let policy = content_security_policy("abc123");
        assert!(policy.starts_with("default-src 'self'; "));
        assert!(policy.contains("script-src 'nonce-abc123' 'strict-dynamic' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(HeaderValue::from_str(&policy).is_ok());
    }
}
