//! Session tokens and the session cookie, and the known-browser cookie. Each cookie carries 32 random bytes as
//! hex; the database keeps only their SHA-256 (`SessionKey`, `BrowserKey`), so a copy of it signs nobody in. A
//! session ends at sign-out, when ended from another session (the user's own, or an Admin's), after eight hours
//! without a request, and at the latest `SESSION_MAX_HOURS` after sign-in; the idle end moves forward at most
//! once an hour (see `db::sessions`), so an ordinary request reads its session without writing it. Over https
//! the session cookie is `SECURE_SESSION_COOKIE`, and only that name is read.

use axum::http::{HeaderMap, HeaderValue, header};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// The session cookie's name over plain http (a console on a loopback address).
pub const SESSION_COOKIE: &str = "cdc_session";
/// The session cookie's name when cookies are Secure. Browsers accept a `__Host-` cookie only when it is
/// Secure, set by this very host, for the whole site, so no sibling subdomain and no plain-http answer can
/// plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-cdc_session";
/// Marks a browser that has signed in before, for the sign-in rate limit. Sent only to the sign-in endpoint.
pub const BROWSER_COOKIE: &str = "cdc_browser";
const BROWSER_COOKIE_PATH: &str = "/api/auth/login";
/// How long a browser stays known after it signed in: a year.
pub const BROWSER_COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 60 * 60;
const TOKEN_BYTES: usize = 32;

/// What identifies a session in the database: the SHA-256 of the cookie's token.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// The key of the session whose cookie carries `token`.
    pub fn of_token(token: &str) -> SessionKey {
        SessionKey(Sha256::digest(token.as_bytes()).into())
    }

    /// The 32 bytes stored in `sessions.token_hash`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What identifies a known browser in the database: the SHA-256 of its cookie's token.
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserKey([u8; 32]);

impl BrowserKey {
    /// The key of the browser whose cookie carries `token`.
    pub fn of_token(token: &str) -> BrowserKey {
        BrowserKey(Sha256::digest(token.as_bytes()).into())
    }

    /// The 32 bytes stored in `known_browsers.token_hash` and `login_failures.browser_hash`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A new, unguessable session token.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// `bytes` as lower-case hexadecimal, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session cookie's name: `SECURE_SESSION_COOKIE` when cookies are Secure, else `SESSION_COOKIE`.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session token the request's cookies present under the session cookie's name, if it has the shape of
/// one.
pub fn presented_token(headers: &HeaderMap, secure: bool) -> Option<&str> {
    presented_cookie_token(headers, session_cookie_name(secure))
}

/// Whether the request's cookies include a session cookie, well-formed or not.
pub fn presents_session_cookie(headers: &HeaderMap) -> bool {
    [SESSION_COOKIE, SECURE_SESSION_COOKIE]
        .iter()
        .any(|name| cookie_values(headers, name).next().is_some())
}

/// The known-browser token the request's cookies present, if it has the shape of one.
pub fn presented_browser_token(headers: &HeaderMap) -> Option<&str> {
    presented_cookie_token(headers, BROWSER_COOKIE)
}

fn presented_cookie_token<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    cookie_values(headers, name).find(|token| {
        token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// Every value the request's `Cookie` headers give the cookie `name`.
pub fn cookie_values<'h>(headers: &'h HeaderMap, name: &str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(move |pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The cookie that marks this browser as known: HttpOnly, SameSite=Strict, Secure when served over https,
/// sent only to the sign-in endpoint, kept for a year.
pub fn browser_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{BROWSER_COOKIE}={token}; Path={BROWSER_COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age={BROWSER_COOKIE_MAX_AGE_SECS}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("cdc_browser=; Path=/api/auth/login; Max-Age=0"))
}

/// The cookie that carries `token`: HttpOnly, SameSite=Strict, Secure and `__Host-` named when served over
/// https, and gone when the browser closes.
pub fn cookie(token: &str, secure: bool) -> HeaderValue {
    cookie_header(token, "", secure)
}

/// The cookie that makes the browser forget its session token.
pub fn removal_cookie(secure: bool) -> HeaderValue {
    cookie_header("", "; Max-Age=0", secure)
}

fn cookie_header(token: &str, lifetime: &str, secure: bool) -> HeaderValue {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={token}; Path=/; HttpOnly; SameSite=Strict{lifetime}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("cdc_session=; Path=/; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for c in cookies {
            map.append(header::COOKIE, HeaderValue::from_static(c));
        }
        map
    }

    #[test]
    fn tokens_are_long_random_hex() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(SessionKey::of_token(&a) != SessionKey::of_token(&b));
        assert_eq!(SessionKey::of_token(&a).as_bytes().len(), 32);
    }

    #[test]
    fn the_session_token_is_found_among_other_cookies() {
        let token = "ab".repeat(32);
        let line: &'static str =
            Box::leak(format!("theme=dark; {SESSION_COOKIE}={token}; other=1").into_boxed_str());
        assert_eq!(
            presented_token(&headers(&[line]), false),
            Some(token.as_str())
        );
        assert_eq!(
            presented_token(&headers(&["theme=dark", line]), false),
            Some(token.as_str())
        );
    }

    #[test]
    fn malformed_or_absent_tokens_present_nothing() {
        assert_eq!(presented_token(&headers(&[]), false), None);
        assert_eq!(
            presented_token(&headers(&["cdc_session=short"]), false),
            None
        );
        assert_eq!(
            presented_token(
                &headers(&[
                    "cdc_session=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
                ]),
                false
            ),
            None
        );
        assert_eq!(
            presented_token(&headers(&["cdc_sessionx=abc"]), false),
            None
        );
    }

    #[test]
    fn cookies_are_strict_http_only_and_secure_only_over_https() {
        let plain = cookie("abc", false);
        let plain = plain.to_str().unwrap();
        assert!(plain.starts_with("cdc_session=abc;"));
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure") && !plain.contains("Max-Age"));
        assert!(cookie("abc", true).to_str().unwrap().ends_with("; Secure"));
        let removal = removal_cookie(false);
        assert!(removal.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn over_https_the_session_cookie_is_host_prefixed_and_only_that_name_is_read() {
        let secure = cookie("abc", true);
        let secure = secure.to_str().unwrap();
        assert!(
            secure.starts_with("__Host-cdc_session=abc; Path=/;"),
            "{secure}"
        );
        assert!(secure.ends_with("; Secure") && !secure.contains("Domain"));
        let removal = removal_cookie(true);
        assert!(
            removal
                .to_str()
                .unwrap()
                .starts_with("__Host-cdc_session=;")
        );
        let token = "ef".repeat(32);
        let prefixed: &'static str =
            Box::leak(format!("{SECURE_SESSION_COOKIE}={token}").into_boxed_str());
        let plain: &'static str = Box::leak(format!("{SESSION_COOKIE}={token}").into_boxed_str());
        assert_eq!(
            presented_token(&headers(&[prefixed]), true),
            Some(token.as_str())
        );
        assert_eq!(presented_token(&headers(&[plain]), true), None);
        assert_eq!(presented_token(&headers(&[prefixed]), false), None);
        assert!(presents_session_cookie(&headers(&[prefixed])));
        assert!(presents_session_cookie(&headers(&["cdc_session=x"])));
        assert!(!presents_session_cookie(&headers(&[
            "cdc_browser=x; cdc_wasm=1"
        ])));
    }

    #[test]
    fn the_browser_cookie_goes_only_to_sign_in_and_is_told_apart_from_the_session() {
        let token = "cd".repeat(32);
        let cookie = browser_cookie(&token, true);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with(&format!("cdc_browser={token};")));
        assert!(cookie.contains("; Path=/api/auth/login;"));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Max-Age=31536000") && cookie.ends_with("; Secure"));
        let line: &'static str = Box::leak(format!("cdc_browser={token}").into_boxed_str());
        assert_eq!(
            presented_browser_token(&headers(&[line])),
            Some(token.as_str())
        );
        assert_eq!(presented_token(&headers(&[line]), false), None);
    }
}
