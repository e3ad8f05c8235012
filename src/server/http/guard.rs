//! The request guard: a state-changing request from another site is refused before it reaches a page or
//! server function, and a server function is called only the way the console's own pages call it.
//! - `Sec-Fetch-Site` must say the request comes from the console's own origin (or from the user, `none`),
//!   and `Origin` must be the configured public origin (`PUBLIC_ORIGIN`), never compared with the request's
//!   own `Host`, which the sender chooses.
//! - A request that carries a session cookie but neither header is refused: every browser sends at least one
//!   of them on a POST, so such a request is not the console's page acting for its user.
//! - Server functions (`/api/*`, not the public API under `/api/v1/`) take only
//!   `application/x-www-form-urlencoded` bodies, as the console's pages send them: a
//!   `<form enctype="text/plain">` or a JSON body never reaches one.
//! - Their `Accept` and `Referer` are dropped: leptos_axum and server_fn answer a request that accepts HTML
//!   with a redirect to its `Referer`, a way for a plain form to send the browser wherever its page says.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::AppError;
use crate::server::http::errors::error_response;
use crate::server::security_log::{EventKind, SecurityEvent};
use crate::server::sessions::presents_session_cookie;
use crate::server::state::AppState;

/// The only body type server functions take.
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Whether a request with this method changes nothing (and so passes the guard whatever its origin).
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a state-changing request is to be refused as cross-site: sent from another site or origin than
/// `public_origin` (as `Sec-Fetch-Site` or `Origin` say), or with a session cookie and neither header.
pub fn is_cross_site(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if is_safe(method) {
        return false;
    }
    let fetch_site = headers.get("sec-fetch-site");
    if let Some(site) = fetch_site
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.as_bytes() != public_origin.as_bytes(),
        None => fetch_site.is_none() && presents_session_cookie(headers),
    }
}

/// Whether the request's body is form-encoded (with or without parameters such as a charset).
fn is_form_encoded(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE))
}

/// Whether `path` is a server function's (`/api/...`), whose bodies are forms; the public API (`/api/v1/...`)
/// takes JSON and its own authorization (`server::rest`), so these rules are not its.
fn is_server_function_path(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/v1/")
}

/// The guard as a middleware; it compares `Origin` with the state's public origin, and logs each cross-site
/// refusal as a security event.
pub(super) async fn guard_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_cross_site(request.method(), request.headers(), &state.public_origin) {
        SecurityEvent::of_http_request(EventKind::CrossSiteRefused, &request, &state)
            .status(StatusCode::FORBIDDEN.as_u16())
            .emit();
        return error_response(&AppError::forbidden("Cross-site requests are refused."));
    }
    if is_server_function_path(request.uri().path()) {
        if !is_safe(request.method()) && !is_form_encoded(request.headers()) {
            let mut refusal = error_response(&AppError::invalid(
                "Send the form as application/x-www-form-urlencoded.",
            ));
            *refusal.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            return refusal;
        }
        let headers = request.headers_mut();
        headers.remove(header::ACCEPT);
        headers.remove(header::REFERER);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const CONSOLE: &str = "https://console.example";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    const SESSION: &str =
        "cdc_session=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn same_origin_posts_pass() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", CONSOLE),
            ("sec-fetch-site", "same-origin"),
            ("cookie", SESSION),
        ]);
        assert!(!is_cross_site(&Method::POST, &h, CONSOLE));
        let origin_only = headers(&[("origin", CONSOLE), ("cookie", SESSION)]);
        assert!(!is_cross_site(&Method::POST, &origin_only, CONSOLE));
        let fetch_site_only = headers(&[("sec-fetch-site", "same-origin"), ("cookie", SESSION)]);
        assert!(!is_cross_site(&Method::POST, &fetch_site_only, CONSOLE));
    }

    #[test]
    fn foreign_origins_and_sites_are_refused() {
        let foreign = headers(&[("origin", "http://evil.example")]);
        assert!(is_cross_site(&Method::POST, &foreign, CONSOLE));
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(is_cross_site(&Method::POST, &cross, CONSOLE));
        let same_site = headers(&[("sec-fetch-site", "same-site")]);
        assert!(is_cross_site(&Method::POST, &same_site, CONSOLE));
        let null = headers(&[("origin", "null")]);
        assert!(is_cross_site(&Method::POST, &null, CONSOLE));
        let other_scheme = headers(&[("origin", "http://console.example")]);
        assert!(is_cross_site(&Method::POST, &other_scheme, CONSOLE));
    }

    #[test]
    fn the_origin_is_compared_with_the_public_origin_not_the_host() {
        let rebound = headers(&[("host", "evil.example"), ("origin", "http://evil.example")]);
        assert!(is_cross_site(&Method::POST, &rebound, CONSOLE));
    }

    #[test]
    fn a_session_cookie_without_either_header_is_refused() {
        let bare = headers(&[("host", "console.example"), ("cookie", SESSION)]);
        assert!(is_cross_site(&Method::POST, &bare, CONSOLE));
        let no_session = headers(&[("host", "console.example"), ("cookie", "theme=dark")]);
        assert!(!is_cross_site(&Method::POST, &no_session, CONSOLE));
    }

    #[test]
    fn reads_pass_whatever_their_origin() {
        let foreign = headers(&[("origin", "http://evil.example"), ("cookie", SESSION)]);
        assert!(!is_cross_site(&Method::GET, &foreign, CONSOLE));
        assert!(!is_cross_site(
            &Method::HEAD,
            &headers(&[("cookie", SESSION)]),
            CONSOLE
        ));
    }

    #[test]
    fn the_public_api_is_not_held_to_the_server_functions_rules() {
        assert!(is_server_function_path("/api/customers/search"));
        assert!(!is_server_function_path("/api/v1/audit-events"));
        assert!(!is_server_function_path("/customers"));
    }

    #[test]
    fn only_form_encoded_bodies_are_forms() {
        for form in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "Application/X-WWW-Form-Urlencoded",
        ] {
            assert!(
                is_form_encoded(&headers(&[("content-type", form)])),
                "{form}"
            );
        }
        for other in [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/json",
            "application/x-www-form-urlencodedx",
        ] {
            assert!(
                !is_form_encoded(&headers(&[("content-type", other)])),
                "{other}"
            );
        }
        assert!(!is_form_encoded(&HeaderMap::new()));
    }
}
