//! /: where a signed-in user lands; says what they can do here, and tells Agents the console is for Admins.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::current_viewer;
use crate::components::notice::{Notice, Tone};
use crate::model::Viewer;

#[component]
pub fn HomePage() -> impl IntoView {
    let viewer = current_viewer();
    view! {
        <Title text="Home"/>
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                viewer.await.ok().flatten().map(|viewer| view! { <Welcome viewer/> })
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
                            <p>"Find a person by email or Salesforce ID and erase their call and message data."</p>
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
    }
}
