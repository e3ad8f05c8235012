//! Answers to the console's plain HTML forms. A form the browser submits itself (with or without the wasm) is
//! a navigation: the browser shows whatever the answer is, so it gets a 303 redirect to a page rather than
//! JSON. Browsers say so in `Sec-Fetch-Mode`; scripts and API clients do not send `navigate`. Also where a
//! sign-in may send the browser next (`safe_next`): only to a page of the console.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

/// Whether the request being served is the browser submitting a form to show its answer as the next page.
pub fn is_navigation() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get("sec-fetch-mode")
            .is_some_and(|mode| mode == "navigate")
    })
}

/// Answers the request being served with 303 See Other to `location` (a path of the console).
pub fn see_other(location: &str) -> Result<(), AppError> {
    let response = use_context::<ResponseOptions>().ok_or_else(|| {
        tracing::error!("ResponseOptions missing from the request context");
        AppError::Internal
    })?;
    let location = HeaderValue::from_str(location).map_err(|_| AppError::Internal)?;
    response.set_status(StatusCode::SEE_OTHER);
    response.insert_header(header::LOCATION, location);
    Ok(())
}

/// The longest `next` path kept, in bytes; anything longer goes to `/`.
const MAX_NEXT_BYTES: usize = 2_048;

/// Where to send a user after they sign in: `next` when it is a path of this console (one leading `/`, then
/// no second `/`, no backslash, no scheme, no spaces or control characters that a browser would drop or
/// reinterpret), otherwise `/`. A sign-in link must never send anyone to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_console_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Whether `path` is a same-origin path that a `Location` header may carry as it is.
fn is_console_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && path.len() <= MAX_NEXT_BYTES
        && path.chars().all(|c| c.is_ascii_graphic() && c != '\\')
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn console_paths_are_kept() {
        for path in [
            "/",
            "/customers",
            "/customers?search=5eed0001-0000-0000-0000-000000000001",
            "/users/42?page=2#top",
        ] {
            assert_eq!(safe_next(Some(path)), path);
        }
    }

    #[test]
    fn anything_that_could_leave_the_console_goes_home() {
        for hostile in [
            "//evil.example",
            "//evil.example/customers",
            "/\\evil",
            "/\\/evil.example",
            "\\\\evil.example",
            "https://x",
            "http://evil.example/",
            "javascript:alert(1)",
            "javascript://%0aalert(1)",
            "data:text/html,hi",
            "customers",
            "",
            " /customers",
            "/\t/evil.example",
            "/\n/evil.example",
            "/customers\r\nSet-Cookie: x=1",
            "/évil",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5_000)))), "/");
    }
}
