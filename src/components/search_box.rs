//! A search form that posts its text (`/api/searches`) and never puts it in a URL: the console keeps the search
//! and sends the browser to the page with the search's id, so results survive a reload and need no script. It
//! is a plain form, not an island: the browser submits it itself, with the wasm or without. Only its button is
//! an island, which says "Searching…" while the next page loads.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SearchKind;

/// The id of the text that says why a search was refused, which the field names (`aria-describedby`).
const REFUSAL_ID: &str = "search-refusal";

/// A search field (focused when the page opens) and its Search button, in a form that posts the text with the
/// search's kind. A refused search's reason is shown under the field and tied to it.
#[component]
pub fn SearchBox(
    /// Which page the search is for; its answer redirects there.
    kind: SearchKind,
    /// The field's label, read by screen readers (it is visually hidden), e.g. "Search users".
    label: &'static str,
    /// The hint shown in the empty field, e.g. "Email or Salesforce ID".
    placeholder: &'static str,
    /// The current search's text, shown in the field.
    value: String,
    /// Why the server refused the search's text (its 422 message, see `refusal_of`), shown under the field,
    /// which is marked invalid (`aria-invalid`) and described by it (`aria-describedby`); `None` when it was
    /// not refused.
    #[prop(optional_no_strip)]
    refusal: Option<String>,
) -> impl IntoView {
    let invalid = refusal.is_some();
    view! {
        <form action="/api/searches" method="post" class="search-box" role="search">
            <input type="hidden" name="kind" value=kind.as_str()/>
            <label for="search" class="visually-hidden">{label}</label>
            <div class="search-row">
                <input
                    id="search"
                    type="search"
                    name="query"
                    value=value
                    placeholder=placeholder
                    autocomplete="off"
                    autofocus
                    aria-invalid=invalid.then_some("true")
                    aria-describedby=invalid.then_some(REFUSAL_ID)
                />
                <SearchButton/>
            </div>
            {refusal.map(|message| view! {
                <p id=REFUSAL_ID class="notice notice-error field-error" role="alert">{message}</p>
            })}
        </form>
    }
}

/// The message of `error` when it is a refusal of the search's text (422), which `SearchBox` shows with the
/// field; any other error (no access, an expired search) is not about what was typed.
pub fn refusal_of(error: &AppError) -> Option<String> {
    match error {
        AppError::Invalid(message) => Some(message.clone()),
        _ => None,
    }
}

/// Search; once hydrated, a click (or Enter in the field) marks it busy and says "Searching…" until the next
/// page replaces this one. The form is still sent by the browser itself.
#[island]
fn SearchButton() -> impl IntoView {
    let searching = RwSignal::new(false);
    view! {
        <button
            type="submit"
            class="button primary"
            aria-busy=move || searching.get().then_some("true")
            on:click=move |_| searching.set(true)
        >
            {move || if searching.get() { "Searching…" } else { "Search" }}
        </button>
    }
}
