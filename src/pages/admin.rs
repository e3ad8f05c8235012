//! /admin: Admin Console, Overview tab, General Settings: the account's Manage Customer Data setting.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::{SetCustomerDataSetting, get_account_settings};
use crate::components::hydration::{navigation_after_change, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::save_outcome;
use crate::components::save_button::SaveButton;
use crate::components::switch::Switch;
use crate::model::AccountSettings;

/// The Admin Console's Overview tab: the account's General Settings with the Manage Customer Data switch.
/// `get_account_settings` refuses anyone but an Admin, and the page then shows its error.
#[component]
pub fn AdminPage() -> impl IntoView {
    let settings = get_account_settings();
    view! {
        <Title text="Admin Console"/>
        <h1>"Admin Console"</h1>
        <div class="tabs" role="tablist" aria-label="Admin Console">
            <span role="tab" aria-selected="true" class="tab active">"Overview"</span>
        </div>
        <Loaded loading="Loading settings…" data=settings let:current>
            <GeneralSettings current/>
        </Loaded>
    }
}

/// The switch and Save. What was last saved is kept here, so "Unsaved change" compares against it. After a save
/// the navigation is brought up to date in place, and the notice links to the next step.
#[island]
fn GeneralSettings(current: AccountSettings) -> impl IntoView {
    let save = ServerAction::<SetCustomerDataSetting>::new();
    let initial = current.manage_customer_data;
    let enabled = RwSignal::new(initial);
    let hydrated = use_hydrated();
    let saved = move || match save.value().get() {
        Some(Ok(saved)) => saved.manage_customer_data,
        _ => initial,
    };
    let changed = move || enabled.get() != saved();
    // Whether the signed-in Admin may open Customer Data after the save, as read again after it.
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
        save.dispatch(SetCustomerDataSetting {
            enabled: enabled.get_untracked(),
        });
    });
    view! {
        <section class="card" aria-labelledby="general-settings">
            <h2 id="general-settings">"General Settings"</h2>
            <Switch
                id="manage-customer-data"
                label="Manage Customer Data"
                description="Lets Admins you choose find customers and delete their call and message data (GDPR, CCPA). Turning it off closes Customer Data for everyone at once; the users you chose keep their permission for when it is on again."
                checked=enabled
                hydrated
            />
            <div class="form-actions">
                <SaveButton hydrated pending=save.pending() on_save/>
                {move || changed().then(|| view! { <span class="muted">"Unsaved change"</span> })}
            </div>
            {move || save_outcome(save.value().get(), |saved| view! {
                "Saved. Manage Customer Data is now " {if saved.manage_customer_data { "on" } else { "off" }} ". "
                {move || match (saved.manage_customer_data, can_open.get()) {
                    (true, true) => Some(view! { <a href="/customers">"Open Customer Data"</a> }.into_any()),
                    (true, false) => Some(view! {
                        "Next: " <a href="/users">"Give the permission under Users > Manage"</a>
                    }.into_any()),
                    (false, _) => None,
                }}
            })}
        </section>
    }
}
