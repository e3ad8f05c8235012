//! A search form that puts its text in the page URL (`?q=`), so results survive a reload, need no script and
//! can be shared as a link.

use leptos::prelude::*;

/// A search field and its Search button, in a GET form that submits the text as `q` to `action`.
#[component]
pub fn SearchBox(
    /// The page the form submits to, e.g. "/users".
    action: &'static str,
    /// The field's label, read by screen readers (it is visually hidden), e.g. "Search users".
    label: &'static str,
    /// The hint shown in the empty field, e.g. "Email or Salesforce ID".
    placeholder: &'static str,
    /// The current query, shown in the field.
    value: String,
) -> impl IntoView {
    view! {
        <form action=action method="get" class="search-box" role="search">
            <label for="search" class="visually-hidden">{label}</label>
            <input id="search" type="search" name="q" value=value placeholder=placeholder autocomplete="off" maxlength="200"/>
            <button type="submit" class="button primary">"Search"</button>
        </form>
    }
}
