//! /admin: Admin Console, Overview tab, General Settings: the account's Manage Customer Data setting and its
//! erasure policy (hold, deadline, approval thresholds).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::{
    SetCustomerDataSetting, SetErasurePolicy, get_account_settings, get_erasure_policy,
};
use crate::components::hydration::{navigation_after_change, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::save_outcome;
use crate::components::save_button::SaveButton;
use crate::components::switch::Switch;
use crate::model::{AccountSettings, ErasurePolicy};

/// The Admin Console's Overview tab: the account's General Settings with the Manage Customer Data switch.
/// `get_account_settings` refuses anyone but an Admin, and the page then shows its error.
#[component]
pub fn AdminPage() -> impl IntoView {
    let settings = get_account_settings();
    let policy = get_erasure_policy();
    view! {
        <Title text="Admin Console"/>
        <h1>"Admin Console"</h1>
        <div class="tabs" role="tablist" aria-label="Admin Console">
            <span role="tab" aria-selected="true" class="tab active">"Overview"</span>
        </div>
        <Loaded loading="Loading settings…" data=settings let:current>
            <GeneralSettings current/>
        </Loaded>
        <Loaded loading="Loading the erasure policy…" data=policy let:current>
            <ErasurePolicySettings current/>
        </Loaded>
    }
}

/// The erasure policy's form: four numbers and Save. An empty threshold means that no request needs approval
/// on that count. The server checks every number and answers what it saved.
#[island]
fn ErasurePolicySettings(current: ErasurePolicy) -> impl IntoView {
    let save = ServerAction::<SetErasurePolicy>::new();
    let hydrated = use_hydrated();
    let optional = |value: Option<i32>| value.map(|n| n.to_string()).unwrap_or_default();
    let hold_hours = RwSignal::new(current.hold_hours.to_string());
    let deadline_days = RwSignal::new(current.deadline_days.to_string());
    let min_records = RwSignal::new(optional(current.approval_min_records));
    let min_items = RwSignal::new(optional(current.approval_min_items));
    let on_save = Callback::new(move |()| {
        save.dispatch(SetErasurePolicy {
            hold_hours: hold_hours.get_untracked(),
            deadline_days: deadline_days.get_untracked(),
            approval_min_records: min_records.get_untracked(),
            approval_min_items: min_items.get_untracked(),
        });
    });
    let field = move |id: &'static str,
                      label: &'static str,
                      hint: &'static str,
                      value: RwSignal<String>| {
        let hint_id = format!("{id}-hint");
        view! {
            <p class="field">
                <label for=id>{label}</label>
                <input id=id type="text" inputmode="numeric" aria-describedby=hint_id.clone()
                    prop:value=move || value.get()
                    disabled=move || !hydrated.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
                <span id=hint_id class="muted">{hint}</span>
            </p>
        }
    };
    view! {
        <section class="card" aria-labelledby="erasure-policy">
            <h2 id="erasure-policy">"Erasure policy"</h2>
            <p class="muted">"How customer data deletions are held, dated and approved. It applies to every Delete, one record or a whole person, from the next request on."</p>
            {field("hold-hours", "Hold before deleting (hours)", "0 deletes at once. During the hold the request can be cancelled.", hold_hours)}
            {field("deadline-days", "Deadline (days)", "When a request is due after it is received: 30 for GDPR's month, 45 for CCPA.", deadline_days)}
            {field("approval-min-records", "Approval needed from (records)", "A request with at least this many records needs another Admin's approval. Empty: never.", min_records)}
            {field("approval-min-items", "Approval needed from (calls and messages)", "A request with at least this many calls and messages needs another Admin's approval. Empty: never.", min_items)}
            <div class="form-actions">
                <SaveButton hydrated pending=save.pending() on_save label="Save policy"/>
            </div>
            {move || save_outcome(save.value().get(), |saved: ErasurePolicy| view! {
                "Saved. " {policy_summary(&saved)}
            })}
        </section>
    }
}

/// The policy in one sentence, as the notice after a save says it.
pub fn policy_summary(policy: &ErasurePolicy) -> String {
    let hold = match policy.hold_hours {
        0 => "Requests are deleted at once".to_owned(),
        1 => "Requests are held 1 hour".to_owned(),
        hours => format!("Requests are held {hours} hours"),
    };
    let approval = match (policy.approval_min_records, policy.approval_min_items) {
        (None, None) => "no approval is needed".to_owned(),
        (Some(records), None) => format!("those of {records} or more records need approval"),
        (None, Some(items)) => format!("those of {items} or more calls and messages need approval"),
        (Some(records), Some(items)) => format!(
            "those of {records} or more records, or {items} or more calls and messages, need approval"
        ),
    };
    format!(
        "{hold}, are due {} days after they are received, and {approval}.",
        policy.deadline_days
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_policy_is_said_in_one_sentence() {
        let mut policy = ErasurePolicy::default();
        assert_eq!(
            policy_summary(&policy),
            "Requests are deleted at once, are due 30 days after they are received, and no approval is needed."
        );
        policy.hold_hours = 24;
        policy.approval_min_records = Some(2);
        policy.approval_min_items = Some(500);
        assert_eq!(
            policy_summary(&policy),
            "Requests are held 24 hours, are due 30 days after they are received, and those of 2 or more records, or 500 or more calls and messages, need approval."
        );
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
