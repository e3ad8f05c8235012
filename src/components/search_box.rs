//! A search form that posts its text (`/api/searches`) and never puts it in a URL: the console keeps the search
//! and sends the browser to the page with the search's id, so results survive a reload and need no script. It
//! is a plain form, not an island: the browser submits it itself, with the wasm or without.

use leptos::prelude::*;

use crate::model::SearchKind;

/// A search field and its Search button, in a form that posts the text with the search's kind.
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
) -> impl IntoView {
    view! {
        <form action="/api/searches" method="post" class="search-box" role="search">
            <input type="hidden" name="kind" value=kind.as_str()/>
            <label for="search" class="visually-hidden">{label}</label>
            <input id="search" type="search" name="query" value=value placeholder=placeholder autocomplete="off" maxlength="200"/>
            <button type="submit" class="button primary">"Search"</button>
        </form>
    }
}
