//! The erasure confirmation dialog: says exactly what will be erased, that it cannot be undone and that
//! Salesforce is not touched; the confirm button stays disabled until `DELETE` is typed. It is modal: Escape
//! and Cancel close it, Tab stays inside it, and focus returns to the button that opened it. When the record
//! turns out to have been erased already (in another tab, or by another Admin), the dialog shows that outcome
//! with the earlier erasure's receipt instead of the confirmation, and only Close remains. When the server asks
//! for the admin's password again (their last sign-in is over 15 minutes old), a password field joins the
//! confirmation.

use leptos::html;
use leptos::prelude::*;

use crate::api::customers::ERASE_CONFIRMATION;
use crate::components::same_person::{Placement, SamePersonLine};
use crate::format::format_time;
use crate::model::{ErasureCounts, ErasureReceipt};

/// The modal that confirms an erasure: what will be deleted, when that activity took place, the warnings, and
/// the field `ERASE_CONFIRMATION` is typed into (and the password, once asked for). Its Delete button hands the
/// typed text and password to `on_confirm`.
#[component]
pub fn ConfirmEraseDialog(
    /// Whether the dialog is shown. Cancel and Escape set it to `false`, except while the erasure is pending.
    open: RwSignal<bool>,
    /// The record as the dialog names it: its name, object type and Salesforce id.
    customer_label: String,
    /// What the erasure would delete, shown as a table of counts.
    counts: ErasureCounts,
    /// When the activity took place (`ErasureCounts::activity_range`, formatted on the server).
    activity: String,
    /// Called with the typed confirmation and the typed password (empty when it was not asked for).
    on_confirm: Callback<(String, String)>,
    /// Whether the erasure is under way: both buttons are disabled and Delete says "Deleting…".
    pending: Signal<bool>,
    /// Why the last erasure attempt failed, shown in the dialog (`role="alert"`); `None` when it did not.
    error: Signal<Option<String>>,
    /// The receipt of an erasure that came first, once the server answered that the record was already erased:
    /// the dialog then shows it as the outcome, without the confirmation.
    erased_before: Signal<Option<ErasureReceipt>>,
    /// Whether the server asked for the admin's password again: the dialog then shows a password field, and
    /// Delete waits for it.
    ask_password: Signal<bool>,
    /// Where the record stands among the records that share its email, and the others, so that the dialog says
    /// that only this one is erased; `None` when it is the only one.
    same_person: Option<Placement>,
    /// Where focus goes back when the dialog closes.
    return_focus: NodeRef<html::Button>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let dialog_ref = NodeRef::<html::Div>::new();
    let input_ref = NodeRef::<html::Input>::new();
    let close_ref = NodeRef::<html::Button>::new();
    let password = RwSignal::new(String::new());
    let password_ref = NodeRef::<html::Input>::new();
    let customer_label = StoredValue::new(customer_label);
    let activity = StoredValue::new(activity);
    let same_person = StoredValue::new(same_person);
    let close = move || {
        if pending.get_untracked() {
            return;
        }
        open.set(false);
        typed.set(String::new());
        password.set(String::new());
        if let Some(button) = return_focus.get_untracked() {
            let _ = button.focus();
        }
    };
    Effect::new(move |_| {
        if open.get()
            && let Some(input) = input_ref.get()
        {
            let _ = input.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(button) = close_ref.get() {
            let _ = button.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(input) = password_ref.get() {
            let _ = input.focus();
        }
    });
    let ready = move || {
        typed.get() == ERASE_CONFIRMATION
            && !pending.get()
            && (!ask_password.get() || !password.get().is_empty())
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        "Tab" => keep_focus_inside(&ev, dialog_ref),
        _ => {}
    };
    let rows = [
        ("Calls", counts.calls),
        ("Recordings", counts.recordings),
        ("Voicemails", counts.voicemails),
        ("Transcripts", counts.transcripts),
        ("Messages", counts.messages),
        ("Message media files", counts.media),
    ];
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop">
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="erase-title"
                    aria-describedby="erase-warning"
                    node_ref=dialog_ref
                    on:keydown=on_keydown
                >
                    {move || match erased_before.get() {
                        Some(receipt) => view! { <ErasedBefore receipt close_ref on_close=Callback::new(move |()| close())/> }.into_any(),
                        None => view! {
                            <h2 id="erase-title">"Delete all call and message data?"</h2>
                            <p>"For " <strong>{customer_label.get_value()}</strong> ", this permanently deletes:"</p>
                            <table class="counts-table">
                                <caption class="visually-hidden">"What will be deleted"</caption>
                                <tbody>
                                    {rows.iter().map(|(label, count)| view! {
                                        <tr><th scope="row">{*label}</th><td class="num">{*count}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="muted">"Activity " {activity.get_value()} "."</p>
                            {same_person.get_value().map(|placement| view! {
                                <SamePersonLine placement/>
                                <p class="muted">"Only this record's data is deleted; each of the others is deleted on its own."</p>
                            })}
                            <div id="erase-warning" class="notice notice-warning">
                                <p><strong>"This cannot be undone."</strong> " The data is deleted from the platform, including stored recordings and media."</p>
                                <p>"Salesforce records are not affected; manage them in Salesforce."</p>
                            </div>
                            <label for="erase-confirmation">"Type " <code>{ERASE_CONFIRMATION}</code> " to confirm"</label>
                            <input
                                id="erase-confirmation"
                                type="text"
                                autocomplete="off"
                                spellcheck="false"
                                node_ref=input_ref
                                prop:value=move || typed.get()
                                on:input=move |ev| typed.set(event_target_value(&ev))
                            />
                            {move || ask_password.get().then(|| view! {
                                <p class="notice notice-info" id="erase-password-why">
                                    "Your last sign-in was more than 15 minutes ago. Enter your password to confirm this erasure."
                                </p>
                                <label for="erase-password">"Your password"</label>
                                <input
                                    id="erase-password"
                                    type="password"
                                    autocomplete="current-password"
                                    aria-describedby="erase-password-why"
                                    node_ref=password_ref
                                    prop:value=move || password.get()
                                    on:input=move |ev| password.set(event_target_value(&ev))
                                />
                            })}
                            {move || error.get().map(|message| view! { <p class="notice notice-error" role="alert">{message}</p> })}
                            <div class="modal-actions">
                                <button type="button" class="button" on:click=move |_| close() disabled=move || pending.get()>
                                    "Cancel"
                                </button>
                                <button
                                    type="button"
                                    class="button danger"
                                    disabled=move || !ready()
                                    aria-busy=move || pending.get().to_string()
                                    on:click=move |_| {
                                        if ready() {
                                            on_confirm.run((typed.get_untracked(), password.get_untracked()));
                                        }
                                    }
                                >
                                    {move || if pending.get() { "Deleting…" } else { "Delete all data" }}
                                </button>
                            </div>
                        }.into_any(),
                    }}
                </div>
            </div>
        </Show>
    }
}

/// What the dialog shows in place of the confirmation when the record was already erased: when, by whom, the
/// receipt, and Close.
#[component]
fn ErasedBefore(
    /// The receipt of the erasure that came first.
    receipt: ErasureReceipt,
    /// Close, which takes focus when the outcome shows.
    close_ref: NodeRef<html::Button>,
    /// Closes the dialog.
    on_close: Callback<()>,
) -> impl IntoView {
    let c = receipt.counts;
    view! {
        <h2 id="erase-title">"Already erased"</h2>
        <div id="erase-warning" class="notice notice-success" role="status">
            <p>
                <strong>"Already erased on " {format_time(receipt.erased_at)} " by " {receipt.erased_by_name} "."</strong>
                " Nothing more was deleted: the record's call and message data was erased before your confirmation arrived."
            </p>
            <p class="muted">
                "Erased: " {c.calls} " calls, " {c.recordings} " recordings, " {c.voicemails} " voicemails, "
                {c.transcripts} " transcripts, " {c.messages} " messages, " {c.media} " media files. Receipt "
                <span class="mono">{receipt.erasure_id.to_string()}</span> "."
            </p>
        </div>
        <div class="modal-actions">
            <button type="button" class="button" node_ref=close_ref on:click=move |_| on_close.run(())>
                "Close"
            </button>
        </div>
    }
}

/// Wraps Tab and Shift+Tab around the first and last enabled controls of the dialog.
#[cfg(feature = "hydrate")]
fn keep_focus_inside(ev: &leptos::ev::KeyboardEvent, dialog: NodeRef<html::Div>) {
    use leptos::wasm_bindgen::JsCast;
    let Some(dialog) = dialog.get_untracked() else {
        return;
    };
    let Ok(nodes) = dialog.query_selector_all("input:not([disabled]), button:not([disabled])")
    else {
        return;
    };
    let focusable: Vec<leptos::web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        return;
    };
    let active = document().active_element();
    let active_is = |el: &leptos::web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<leptos::web_sys::Element>())
    };
    let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
    if ev.shift_key() && (active_is(first) || !inside) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (active_is(last) || !inside) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

#[cfg(not(feature = "hydrate"))]
fn keep_focus_inside(_ev: &leptos::ev::KeyboardEvent, _dialog: NodeRef<html::Div>) {}
