//! Session tokens and the session cookie. The cookie carries 32 random bytes as hex; the `sessions` table keeps
//! only their SHA-256 (`SessionKey`), so a copy of the database signs nobody in. A session ends at sign-out or
//! after eight hours without a request; that end moves forward at most once an hour (see `db::sessions`), so
//! an ordinary request reads its session without writing it.

use axum::http::{HeaderMap, HeaderValue, header};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "cdc_session";
const TOKEN_BYTES: usize = 32;

/// What identifies a session in the database: the SHA-256 of the cookie's token.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    pub fn of_token(token: &str) -> SessionKey {
        SessionKey(Sha256::digest(token.as_bytes()).into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A new, unguessable session token.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session token the request's cookies present, if it has the shape of one.
pub fn presented_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .find(|token| {
            token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// The cookie that carries `token`: HttpOnly, SameSite=Strict, Secure when served over https, and gone when
/// the browser closes.
pub fn cookie(token: &str, secure: bool) -> HeaderValue {
    cookie_header(token, "", secure)
}

/// The cookie that makes the browser forget its session token.
pub fn removal_cookie(secure: bool) -> HeaderValue {
    cookie_header("", "; Max-Age=0", secure)
}

fn cookie_header(token: &str, lifetime: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{lifetime}{secure}"
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
        assert_eq!(presented_token(&headers(&[line])), Some(token.as_str()));
        assert_eq!(
            presented_token(&headers(&["theme=dark", line])),
            Some(token.as_str())
        );
    }

    #[test]
    fn malformed_or_absent_tokens_present_nothing() {
        assert_eq!(presented_token(&headers(&[])), None);
        assert_eq!(presented_token(&headers(&["cdc_session=short"])), None);
        assert_eq!(
            presented_token(&headers(&[
                "cdc_session=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
            ])),
            None
        );
        assert_eq!(presented_token(&headers(&["cdc_sessionx=abc"])), None);
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
}
