//! /suppressions: Customer Data > Suppression list. The people the account's completed requests put on the list,
//! each identifier as its kind and the first characters of its keyed hash (never the identifier itself), the
//! request that added it and when; and, per live entry, lifting it with a reason (the `LiftControl` island),
//! which lets activity with that identifier in again.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::suppressions::{LiftSuppression, list_suppressions};
use crate::components::data_table::DataTable;
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::EmptyState;
use crate::format::{format_time, urlencode};
use crate::model::Suppression;
use crate::pages::requests::short_id;

/// The account's suppression list, newest first, from the cursor `older` on.
#[component]
pub fn SuppressionsPage() -> impl IntoView {
    let older = use_query_map().with_untracked(|query| query.get("older"));
    let entries = list_suppressions(older);
    view! {
        <Title text="Suppression list"/>
        <h1>"Suppression list"</h1>
        <p class="muted">"When a request erases a person, their email, phone numbers and Salesforce IDs go on this list (unless the box in the dialog was cleared). New calls and messages with any of them are refused. The list holds keyed hashes only, never the identifiers."</p>
        <Loaded loading="Loading…" data=entries let:page>
            <SuppressionTable entries=page.entries/>
            <nav class="pager" aria-label="Pages">
                {page.older.map(|older| view! {
                    <a href=format!("/suppressions?older={}", urlencode(&older)) class="button">"Older entries"</a>
                })}
            </nav>
        </Loaded>
    }
}

#[component]
fn SuppressionTable(entries: Vec<Suppression>) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <EmptyState title="Nobody is suppressed">
                <p>"People appear here when a request erases their data from Customers."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div class="card table-card">
            <DataTable caption="Suppressed identifiers, newest first" headings=&["Kind", "Hash", "Request", "Added", "Status"] numeric=&[]>
                <tbody>
                    {entries.into_iter().map(|entry| {
                        let request = entry.request_id.to_string();
                        let kind = entry.kind_label();
                        view! {
                            <tr>
                                <td>{kind}</td>
                                <td class="mono">{entry.hash_prefix.clone()} "…"</td>
                                <td><a href=format!("/requests/{request}") class="mono">{short_id(&request).to_owned()}</a></td>
                                <td>{format_time(entry.added_at)}</td>
                                <td>
                                    {match entry.lifted.clone() {
                                        Some((by, at)) => view! {
                                            <span class="muted">"Lifted " {format_time(at)} " by " {by}</span>
                                        }.into_any(),
                                        None => view! {
                                            <LiftControl suppression_id=entry.id.to_string() label=format!("{kind} {}", entry.hash_prefix)/>
                                        }.into_any(),
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
    }
    .into_any()
}

/// "Lift" for one live entry: asks for the reason, lifts the entry and loads the page again.
#[island]
fn LiftControl(
    /// The entry's id.
    suppression_id: String,
    /// The entry as the table names it, for the field's label.
    label: String,
) -> impl IntoView {
    let lift = ServerAction::<LiftSuppression>::new();
    let hydrated = use_hydrated();
    let asking = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let field_id = format!("lift-{suppression_id}");
    let id = StoredValue::new(suppression_id);
    Effect::new(move |_| {
        if matches!(lift.value().get(), Some(Ok(()))) {
            reload_page();
        }
    });
    let error = move || match lift.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="button" disabled=move || !hydrated.get()
                    on:click=move |_| asking.set(true)>
                    "Lift"
                </button>
            }
        >
            <div class="lift-form">
                <label for=field_id.clone()>"Why lift " {label.clone()} "?"</label>
                <input id=field_id.clone() type="text" maxlength="500"
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))/>
                <button type="button" class="button primary" disabled=move || lift.pending().get()
                    on:click=move |_| {
                        lift.dispatch(LiftSuppression { suppression_id: id.get_value(), reason: reason.get_untracked() });
                    }>
                    "Lift entry"
                </button>
                {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            </div>
        </Show>
    }
}
