//! /users/{id}: a user's profile, Overview tab, with the Manage Customer Data toggle when the account setting
//! is on and the user is an Admin, and a way to end all of the user's sessions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::users::{EndUserSessions, SetCustomerDataPermission, get_user_profile};
use crate::components::hydration::{load_page, navigation_after_change, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::{ErrorNotice, Notice, Tone, save_outcome};
use crate::components::save_button::SaveButton;
use crate::components::switch::Switch;
use crate::error::AppError;
use crate::format::format_time;
use crate::model::{Role, UserProfile};

/// One user of the account: details, the Manage Customer Data permission (a switch when it can be given, else
/// why not), and ending all of the user's sessions. When the user cannot be shown, the page is still headed
/// "Profile", above the reason.
#[component]
pub fn UserProfilePage() -> impl IntoView {
    let user_id = use_params_map()
        .read_untracked()
        .get("id")
        .unwrap_or_default();
    let profile = get_user_profile(user_id);
    let profile = async move { Ok::<_, AppError>(profile.await) };
    view! {
        <Title text="User"/>
        <p class="breadcrumb"><a href="/users">"Users"</a> " / Profile"</p>
        <Loaded loading="Loading…" data=profile let:profile>
            {match profile {
                Ok(profile) => view! { <Profile profile/> }.into_any(),
                Err(error) => view! { <h1>"Profile"</h1> <ErrorNotice error/> }.into_any(),
            }}
        </Loaded>
    }
}

#[component]
fn Profile(profile: UserProfile) -> impl IntoView {
    let user = profile.user.clone();
    let permission = if profile.permission_toggle_offered {
        view! { <PermissionEditor user_id=user.id.to_string() enabled=user.manage_customer_data/> }
            .into_any()
    } else if user.role == Role::Agent {
        view! { <p class="muted">"Manage Customer Data is only for Admins. This user is an Agent."</p> }.into_any()
    } else {
        view! {
            <p class="muted">
                "Manage Customer Data is turned off for this account. Turn it on under "
                <a href="/admin">"Admin Console, General Settings"</a> " to give it to Admins."
            </p>
        }
        .into_any()
    };
    view! {
        <h1>{user.name.clone()}</h1>
        <div class="tabs" role="tablist" aria-label="User profile">
            <span role="tab" aria-selected="true" class="tab active">"Overview"</span>
        </div>
        <section class="card" aria-labelledby="details">
            <h2 id="details">"Details"</h2>
            <dl class="details">
                <dt>"Email"</dt><dd>{user.email.clone()}</dd>
                <dt>"Role"</dt><dd>{user.role.label()}</dd>
                <dt>"Salesforce ID"</dt><dd class="mono">{user.salesforce_id.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Created"</dt><dd>{format_time(profile.created_at)}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="permissions">
            <h2 id="permissions">"Permissions"</h2>
            {permission}
        </section>
        <section class="card" aria-labelledby="sessions">
            <h2 id="sessions">"Sessions"</h2>
            <p class="muted">"Signs this user out on every computer and browser at once."</p>
            <SessionsEnder user_id=user.id.to_string() name=user.name.clone()/>
        </section>
    }
}

/// "End all sessions" for one user, and how many it ended; when the Admin ended their own, the sign-in page.
#[island]
fn SessionsEnder(user_id: String, name: String) -> impl IntoView {
    let end = ServerAction::<EndUserSessions>::new();
    let hydrated = use_hydrated();
    let name = StoredValue::new(name);
    Effect::new(move |_| {
        if let Some(Ok(done)) = end.value().get()
            && done.signed_out
        {
            load_page("/login");
        }
    });
    view! {
        <div class="form-actions">
            <button type="button" class="button" disabled=move || !hydrated.get() || end.pending().get() on:click=move |_| {
                end.dispatch(EndUserSessions { user_id: user_id.clone() });
            }>
                {move || if end.pending().get() { "Ending sessions…" } else { "End all sessions" }}
            </button>
        </div>
        {move || match end.value().get() {
            Some(Ok(done)) => Some(view! {
                <Notice tone=Tone::Success>{sessions_ended(&name.get_value(), done.ended)}</Notice>
            }.into_any()),
            Some(Err(error)) => Some(view! { <ErrorNotice error/> }.into_any()),
            None => None,
        }}
    }
}

fn sessions_ended(name: &str, ended: u64) -> String {
    match ended {
        0 => format!("{name} had no open session."),
        1 => format!("Ended 1 session of {name}."),
        n => format!("Ended {n} sessions of {name}."),
    }
}

/// The Manage Customer Data switch for one Admin, Save, and what the save did, with a link to Customer Data when
/// the signed-in Admin may now open it; the navigation is brought up to date in place.
#[island]
fn PermissionEditor(user_id: String, enabled: bool) -> impl IntoView {
    let save = ServerAction::<SetCustomerDataPermission>::new();
    let enabled = RwSignal::new(enabled);
    let hydrated = use_hydrated();
    // Whether the signed-in Admin may open Customer Data after the save (they may have given it to themself).
    let can_open = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            leptos::task::spawn_local(async move {
                if let Some(viewer) = navigation_after_change().await {
                    can_open.set(viewer.can_manage_customer_data);
                }
            });
        }
    });
    let on_save = Callback::new(move |()| {
        save.dispatch(SetCustomerDataPermission {
            user_id: user_id.clone(),
            enabled: enabled.get_untracked(),
        });
    });
    view! {
        <Switch
            id="user-manage-customer-data"
            label="Manage Customer Data"
            description="Lets this Admin search customers and delete their call and message data."
            checked=enabled
            hydrated
        />
        <div class="form-actions">
            <SaveButton hydrated pending=save.pending() on_save/>
        </div>
        {move || save_outcome(save.value().get(), |saved| view! {
            "Saved. " {saved.name} {if saved.manage_customer_data { " can now manage customer data. " } else { " can no longer manage customer data." }}
            {move || (saved.manage_customer_data && can_open.get()).then(|| view! { <a href="/customers">"Open Customer Data"</a> })}
        })}
    }
}
