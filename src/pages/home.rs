//! /: where a signed-in user lands; says what they can do here, tells Agents the console is for Admins, and
//! lets the user end their other sessions.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::{EndOtherSessions, current_viewer};
use crate::components::hydration::use_hydrated;
use crate::components::notice::{ErrorNotice, Notice, Tone};
use crate::model::Viewer;

/// The landing page: a tile for each part of the console the user may open (or, for an Agent, that the
/// console is for Admins), and ending the user's other sessions.
#[component]
pub fn HomePage() -> impl IntoView {
    let viewer = current_viewer();
    view! {
        <Title text="Home"/>
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => view! { <Welcome viewer/> }.into_any(),
                    _ => view! { <h1>"Home"</h1> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Welcome(viewer: Viewer) -> impl IntoView {
    let first_name = viewer
        .name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    view! {
        <h1>"Welcome, " {first_name}</h1>
        {if viewer.can_use_admin_console {
            view! {
                <div class="card-grid">
                    <a class="card tile" href="/admin">
                        <h2>"Admin Console"</h2>
                        <p>"Turn Manage Customer Data on or off for " {viewer.account_name.clone()} "."</p>
                    </a>
                    <a class="card tile" href="/users">
                        <h2>"Users"</h2>
                        <p>"Find users by name, email or Salesforce ID and give Admins the Manage Customer Data permission."</p>
                    </a>
                    {viewer.can_manage_customer_data.then(|| view! {
                        <a class="card tile" href="/customers">
                            <h2>"Customer Data"</h2>
                            <p>"Find a person by email, Salesforce ID or phone number and delete their call and message data."</p>
                        </a>
                    })}
                </div>
            }
            .into_any()
        } else {
            view! {
                <Notice tone=Tone::Info>
                    <p><strong>"This console is for Admins."</strong></p>
                    <p>"You are signed in as an Agent, so there is nothing here for you to manage. Ask an Admin of your account if you need access."</p>
                </Notice>
            }
            .into_any()
        }}
        <section class="card" aria-labelledby="sessions">
            <h2 id="sessions">"Sessions"</h2>
            <p class="muted">"Signed in on a computer or browser you no longer use? End those sessions from here; this browser stays signed in."</p>
            <EndOtherSessionsButton/>
        </section>
    }
}

/// "End other sessions", and how many it ended. (Not "Sign out …": the top bar's "Sign out" button stays the
/// only button by that name.)
#[island]
fn EndOtherSessionsButton() -> impl IntoView {
    let end = ServerAction::<EndOtherSessions>::new();
    let hydrated = use_hydrated();
    view! {
        <div class="form-actions">
            <button type="button" class="button" disabled=move || !hydrated.get() || end.pending().get() on:click=move |_| {
                end.dispatch(EndOtherSessions {});
            }>
                {move || if end.pending().get() { "Ending sessions…" } else { "End other sessions" }}
            </button>
        </div>
        {move || match end.value().get() {
            Some(Ok(done)) => Some(view! {
                <Notice tone=Tone::Success>{other_sessions_ended(done.ended)}</Notice>
            }.into_any()),
            Some(Err(error)) => Some(view! { <ErrorNotice error/> }.into_any()),
            None => None,
        }}
    }
}

fn other_sessions_ended(ended: u64) -> String {
    match ended {
        0 => "No other session was open.".to_owned(),
        1 => "Ended 1 other session.".to_owned(),
        n => format!("Ended {n} other sessions."),
    }
}
