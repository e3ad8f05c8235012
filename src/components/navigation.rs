//! The fixed left navigation and the header: what the signed-in user may open, who they are, and sign-out.
//! Entries mirror `server::authz` through the `Viewer` the server computed for this request. Below about 900 px
//! wide the navigation and the user's menu collapse behind a Menu button, a `<details>` disclosure, so that it
//! opens with or without the wasm (see `style/main.css`).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::auth::SignOut;
use crate::components::hydration::{CUSTOMER_DATA_LINKS, CUSTOMER_DATA_NAV, load_page};
use crate::error::AppError;
use crate::model::Viewer;

/// The left navigation: Home, and the Admin Console, Users and Customer Data entries that the user may open.
/// The Customer Data entries carry `data-nav`, so that after a change of the setting or permission an island can
/// add or remove them in place (`navigation_after_change`).
#[component]
pub fn Sidebar(
    /// The signed-in user; their permissions decide which entries are listed.
    viewer: Viewer,
) -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    view! {
        <nav class="sidebar" aria-label="Main">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true">"CD"</span>
                <span>"Customer Data Console"</span>
            </a>
            <ul class="nav-list">
                {nav_link(&path, "/", "Home")}
                {viewer.can_use_admin_console.then(|| view! {
                    <li class="nav-group">"Admin Console"</li>
                    {nav_link(&path, "/admin", "Overview")}
                    {nav_link(&path, "/admin/tokens", "API tokens")}
                    <li class="nav-group">"Users"</li>
                    {nav_link(&path, "/users", "Manage")}
                })}
                {viewer.can_manage_customer_data.then(|| view! {
                    <li class="nav-group" data-nav=CUSTOMER_DATA_NAV>"Customer Data"</li>
                    {CUSTOMER_DATA_LINKS.iter().map(|&(href, label)| {
                        let current = is_within(&path, href).then_some("page");
                        view! { <li data-nav=CUSTOMER_DATA_NAV><a href=href aria-current=current>{label}</a></li> }
                    }).collect_view()}
                })}
            </ul>
        </nav>
    }
}

/// One entry of the navigation, marked as the current page (`aria-current`) when `path` is its page or one
/// below it. Pages load from the server, so a plain link whose mark is decided once per render is all an entry
/// needs.
fn nav_link(path: &str, href: &'static str, label: &'static str) -> impl IntoView + use<> {
    let current = is_within(path, href).then_some("page");
    view! { <li><a href=href aria-current=current>{label}</a></li> }
}

/// Entries that are marked only on their own page: Home, and the Admin Console's Overview (API tokens, below
/// it, has an entry of its own).
const ONLY_THEIR_OWN_PAGE: [&str; 2] = ["/", "/admin"];

/// Whether `path` is the page `href` or one below it (`ONLY_THEIR_OWN_PAGE` match only themselves).
fn is_within(path: &str, href: &str) -> bool {
    match path.strip_prefix(href) {
        Some("") => true,
        Some(below) => !ONLY_THEIR_OWN_PAGE.contains(&href) && below.starts_with('/'),
        None => false,
    }
}

/// The header: the account's name, then the navigation (`Sidebar`, fixed on the left on wide screens), the
/// user's name and role, and Sign out, all behind the Menu button on narrow ones. On wide screens the
/// disclosure's content is always shown and its button hidden.
#[component]
pub fn Topbar(
    /// The signed-in user.
    viewer: Viewer,
) -> impl IntoView {
    view! {
        <header class="topbar">
            <div class="account-name">{viewer.account_name.clone()}</div>
            <details class="nav-menu">
                <summary class="button menu-button">"Menu"</summary>
                <div class="menu-panel">
                    <Sidebar viewer=viewer.clone()/>
                    <div class="user-menu">
                        <span class="user-name">{viewer.name.clone()}</span>
                        <span class="badge">{viewer.role.label()}</span>
                        <SignOutButton/>
                    </div>
                </div>
            </details>
        </header>
    }
}

/// Ends the session, then loads the sign-in page; also when the session had already ended (in another tab, or
/// it expired). Any other failure is shown, since the session may still be live. A plain form too: without the
/// wasm the browser posts it itself and is sent to the sign-in page.
#[island]
fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(()) | Err(AppError::Unauthorized)) = sign_out.value().get() {
            load_page("/login");
        }
    });
    let failure = move || match sign_out.value().get() {
        Some(Err(error)) if error != AppError::Unauthorized => Some(view! {
            <span class="sign-out-error" role="alert">"Not signed out. " {error.to_string()}</span>
        }),
        _ => None,
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sign_out.dispatch(SignOut {});
    };
    view! {
        {failure}
        <form action="/api/auth/logout" method="post" on:submit=submit>
            <button type="submit" class="button ghost" disabled=move || sign_out.pending().get()>
                "Sign out"
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::is_within;

    #[test]
    fn an_entry_is_current_on_its_page_and_the_pages_below_it() {
        assert!(is_within("/customers", "/customers"));
        assert!(is_within("/customers/5eed0001", "/customers"));
        assert!(is_within("/users/42", "/users"));
        assert!(!is_within("/customers-archive", "/customers"));
        assert!(!is_within("/users", "/customers"));
        assert!(is_within("/", "/"));
        assert!(!is_within("/customers", "/"));
        assert!(!is_within("/admin", "/"));
        assert!(is_within("/admin/tokens", "/admin/tokens"));
        assert!(!is_within("/admin/tokens", "/admin"));
    }
}
