//! The fixed left navigation and the header: what the signed-in user may open, who they are, and sign-out.
//! Entries mirror `server::authz` through the `Viewer` the server computed for this request.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::SignOut;
use crate::components::hydration::{load_page, use_hydrated};
use crate::error::AppError;
use crate::model::Viewer;

#[component]
pub fn Sidebar(viewer: Viewer) -> impl IntoView {
    view! {
        <nav class="sidebar" aria-label="Main">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true">"CD"</span>
                <span>"Customer Data Console"</span>
            </a>
            <ul class="nav-list">
                <li><A href="/" exact=true>"Home"</A></li>
                {viewer.can_use_admin_console.then(|| view! {
                    <li class="nav-group">"Admin Console"</li>
                    <li><A href="/admin">"Overview"</A></li>
                    <li class="nav-group">"Users"</li>
                    <li><A href="/users">"Manage"</A></li>
                })}
                {viewer.can_manage_customer_data.then(|| view! {
                    <li class="nav-group">"Customer Data"</li>
                    <li><A href="/customers">"Customers"</A></li>
                })}
            </ul>
        </nav>
    }
}

#[component]
pub fn Topbar(viewer: Viewer) -> impl IntoView {
    view! {
        <header class="topbar">
            <div class="account-name">{viewer.account_name.clone()}</div>
            <div class="user-menu">
                <span class="user-name">{viewer.name.clone()}</span>
                <span class="badge">{viewer.role.label()}</span>
                <SignOutButton/>
            </div>
        </header>
    }
}

/// Ends the session, then loads the sign-in page; also when the session had already ended (in another tab, or
/// it expired). Any other failure is shown, since the session may still be live.
#[island]
fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let hydrated = use_hydrated();
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
    view! {
        {failure}
        <button type="button" class="button ghost" disabled=move || !hydrated.get() || sign_out.pending().get() on:click=move |_| {
            sign_out.dispatch(SignOut {});
        }>
            "Sign out"
        </button>
    }
}
