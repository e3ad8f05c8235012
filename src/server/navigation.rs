//! Answers to the console's plain HTML forms. A form the browser submits itself (with or without the wasm) is
//! a navigation: the browser shows whatever the answer is, so it gets a 303 redirect to a page rather than
//! JSON. Browsers say so in `Sec-Fetch-Mode`; scripts and API clients do not send `navigate`.

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
