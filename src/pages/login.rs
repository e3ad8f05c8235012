//! /login: sign in with email and password.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::auth::{SignIn, current_viewer};
use crate::components::hydration::{load_page, use_hydrated};

/// The sign-in form; a visitor who is already signed in is sent on to `/`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| current_viewer());
    view! {
        <Title text="Sign in"/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(viewer.await, Ok(Some(_))).then(|| view! { <Redirect path="/"/> })
            })}
        </Transition>
        <main class="login-page">
            <div class="card login-card">
                <div class="brand login-brand">
                    <span class="brand-mark" aria-hidden="true">"CD"</span>
                    <span>"Customer Data Console"</span>
                </div>
                <h1>"Sign in"</h1>
                <SignInForm/>
            </div>
        </main>
    }
}

/// Email and password; on success, loads the console's home page. The browser checks that both are filled in
/// before `submit` fires.
#[island]
fn SignInForm() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let hydrated = use_hydrated();
    let email = NodeRef::<html::Input>::new();
    let password = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_in.value().get() {
            load_page("/");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let (Some(email), Some(password)) = (email.get_untracked(), password.get_untracked()) {
            sign_in.dispatch(SignIn {
                email: email.value(),
                password: password.value(),
            });
        }
    };
    view! {
        <form class="stack" on:submit=submit>
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="username" required node_ref=email/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required node_ref=password/>
            {move || sign_in.value().get().and_then(Result::err).map(|error| view! {
                <p class="notice notice-error" role="alert">{error.to_string()}</p>
            })}
            <button type="submit" class="button primary" disabled=move || !hydrated.get() || sign_in.pending().get()>
                {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
