//! /login: sign in with email and password, with the wasm or as a plain form, then go on to the page the user
//! was on their way to (`?next=`, which the server checks).

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SIGN_IN_FIELDS_MISSING, SignIn, current_viewer};
use crate::components::hydration::load_page;
use crate::error::AppError;

/// The sign-in form; a visitor who is already signed in is sent on to `/`. `?next=` is handed to the sign-in
/// as it is: the server decides whether it is a page of the console.
#[component]
pub fn LoginPage() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| current_viewer());
    let (refused, next) = use_query_map().with_untracked(|query| {
        (
            query
                .get("refused")
                .and_then(|status| refusal_of_status(&status)),
            query.get("next"),
        )
    });
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
                <SignInForm refused next/>
            </div>
        </main>
    }
}

/// Email (focused when the page opens) and password; on success, loads the page the server answers with (`next`
/// when it is a page of the console, else `/`). A plain form too: posted by the browser before the wasm has
/// hydrated it, or with JavaScript off, the sign-in answers with a redirect (to that page, or back here with
/// `?refused=<status>`, whose message `refused` is, and `next` kept). The browser checks that both are filled
/// in before `submit` fires.
#[island]
fn SignInForm(refused: Option<AppError>, next: Option<String>) -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let email = NodeRef::<html::Input>::new();
    let password = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(destination)) = sign_in.value().get() {
            load_page(&destination);
        }
    });
    let next_field = next.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let (Some(email), Some(password)) = (email.get_untracked(), password.get_untracked()) {
            sign_in.dispatch(SignIn {
                email: email.value(),
                password: password.value(),
                next: next.clone(),
            });
        }
    };
    let error = move || match sign_in.value().get() {
        Some(outcome) => outcome.err(),
        None => refused.clone(),
    };
    view! {
        <form class="stack" action="/api/auth/login" method="post" on:submit=submit>
            {next_field.map(|next| view! { <input type="hidden" name="next" value=next/> })}
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="username" required autofocus node_ref=email/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required node_ref=password/>
            {move || error().map(|error| view! {
                <p class="notice notice-error" role="alert">{error.to_string()}</p>
            })}
            <button type="submit" class="button primary" disabled=move || sign_in.pending().get()>
                {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}

/// The refusal a plain-form sign-in was sent back with (`?refused=<status>`, see `sign_in`).
fn refusal_of_status(status: &str) -> Option<AppError> {
    Some(match status {
        "401" => AppError::BadCredentials,
        "422" => AppError::invalid(SIGN_IN_FIELDS_MISSING),
        "429" => AppError::TooManyRequests,
        "500" => AppError::Internal,
        "503" => AppError::Busy,
        _ => return None,
    })
}
