//! /: where a signed-in user lands; says what they can do here, tells Agents the console is for Admins, shows
//! an Admin the three steps to Customer Data until they are done, shows whoever has customer-data access the
//! open erasure requests and those due soon, and lets the user end their other sessions.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::{EndOtherSessions, current_access, current_viewer};
use crate::api::requests::open_requests;
use crate::components::data_table::DataTable;
use crate::components::hydration::use_hydrated;
use crate::components::loaded::Loaded;
use crate::components::notice::{ErrorNotice, Notice, Tone};
use crate::model::{Refusal, RequestSummary, Viewer};
use crate::pages::requests::{DUE_SOON_DAYS, days_left, request_row};

/// The landing page: a tile for each part of the console the user may open (or, for an Agent, that the
/// console is for Admins), and ending the user's other sessions.
#[component]
pub fn HomePage() -> impl IntoView {
    let viewer = current_viewer();
    let access = current_access();
    view! {
        <Title text="Home"/>
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => {
                        let setup = access.await.ok().and_then(|access| access.customer_data);
                        view! { <Welcome viewer setup/> }.into_any()
                    }
                    _ => view! { <h1>"Home"</h1> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Welcome(viewer: Viewer, setup: Option<Refusal>) -> impl IntoView {
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
                {setup.map(|refusal| view! { <SetupChecklist refusal/> })}
                {viewer.can_manage_customer_data.then(|| view! {
                    <Loaded loading="Loading requests…" data=open_requests() let:requests>
                        <OpenRequests requests/>
                    </Loaded>
                })}
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

/// How many requests are open and how many of them are due within `DUE_SOON_DAYS` (or overdue), and the five
/// due soonest.
#[component]
fn OpenRequests(requests: Vec<RequestSummary>) -> impl IntoView {
    let now = time::OffsetDateTime::now_utc();
    let due_soon = requests
        .iter()
        .filter(|request| days_left(request.due_at, now) < DUE_SOON_DAYS)
        .count();
    let open = requests.len();
    let summary = if open == 0 {
        "No request is open.".to_owned()
    } else {
        format!("Open: {open}. Due within {DUE_SOON_DAYS} days or overdue: {due_soon}.")
    };
    view! {
        <section class="card" aria-labelledby="open-requests">
            <h2 id="open-requests">"Open erasure requests"</h2>
            <p>{summary} " " <a href="/requests">"All requests"</a></p>
            {(open > 0).then(|| view! {
                <DataTable caption="Open requests, soonest due first" headings=&["Request", "State", "Records", "Requested by", "Received", "Due", "Days left"] numeric=&["Records", "Days left"]>
                    <tbody>
                        {requests.into_iter().take(5).map(|request| request_row(request, now)).collect_view()}
                    </tbody>
                </DataTable>
            })}
        </section>
    }
}

/// The three steps to Customer Data for an Admin who cannot open it yet, each marked done or to do: turn the
/// account setting on, give the permission, open Customer Data. `refusal` is why they cannot yet.
#[component]
fn SetupChecklist(refusal: Refusal) -> impl IntoView {
    let (setting_on, permission_held) = match refusal {
        Refusal::SettingOff {
            holds_permission, ..
        } => (false, holds_permission),
        Refusal::NoPermission { .. } | Refusal::AdminsOnly { .. } => (true, false),
    };
    let state = |done: bool| if done { "Done: " } else { "To do: " };
    view! {
        <section class="card" aria-labelledby="setup">
            <h2 id="setup">"Set up Customer Data"</h2>
            <ol class="checklist">
                <li>
                    <strong>{state(setting_on)}</strong>
                    <a href="/admin">"Turn Manage Customer Data on for the account"</a>
                    " (Admin Console > Overview)"
                </li>
                <li>
                    <strong>{state(permission_held)}</strong>
                    <a href="/users">"Give the permission to yourself or another Admin"</a>
                    " (Users > Manage, then the Admin's profile)"
                </li>
                <li>
                    <strong>{state(false)}</strong>
                    "Open Customer Data: it appears in the navigation once both steps are done"
                </li>
            </ol>
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
