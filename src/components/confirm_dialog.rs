//! The erasure confirmation dialog, shared by Delete on a record and "Delete all N records" on a search: its
//! caller says exactly what will be erased; the dialog adds that it cannot be undone and that Salesforce is not
//! touched, and keeps the confirm button disabled until `DELETE` is typed. It is modal: Escape and Cancel close
//! it, Tab stays inside it, and focus returns to the button that opened it. When the erasure settles without
//! going through (the record was erased already, in another tab or by another Admin; or the records listed
//! changed, so nothing was erased), the dialog shows that outcome instead of the confirmation, and only Close
//! remains. When the server asks for the admin's password again (their last sign-in is over 15 minutes old), a
//! password field joins the confirmation. `use_erase_state` makes the dialog's state of an erasure action's
//! answers.

use leptos::html;
use leptos::prelude::*;

use crate::api::customers::ERASE_CONFIRMATION;
use crate::components::hydration::{now, reload_page};
use crate::components::same_person::{Placement, SamePersonLine};
use crate::error::AppError;
use crate::format::format_time;
use crate::model::{ErasureCounts, ErasurePolicy, ErasureReceipt};
use time::{Duration, OffsetDateTime};

/// How an erasure ended without the confirmation going through: the dialog shows it in place of the
/// confirmation, with only Close, and the page is loaded again once it is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The record had been erased before (in another tab, or by another Admin): that erasure's receipt.
    ErasedBefore(ErasureReceipt),
    /// Nothing was erased because the records changed since they were listed: the server's reason.
    NothingErased(String),
}

/// The dialog's state, made of an erasure action's answers by `use_erase_state`.
#[derive(Debug, Clone, Copy)]
pub struct EraseState {
    /// Whether the dialog is shown. Cancel and Escape set it to `false`, except while the erasure is pending.
    pub open: RwSignal<bool>,
    /// Whether the erasure is under way, or went through (the page is loading, or the request is held): both
    /// buttons are disabled and Delete says "Deleting…".
    pub pending: Signal<bool>,
    /// Why the last attempt failed, shown in the dialog (`role="alert"`); `None` when it did not.
    pub error: Signal<Option<String>>,
    /// How the erasure ended without going through, once it did.
    pub settled: Signal<Option<Settled>>,
    /// Whether the server asked for the admin's password again: the dialog then shows a password field, and
    /// Delete waits for it.
    pub ask_password: Signal<bool>,
}

/// The state of the dialog shown while `open`, for the erasure action whose answers are `value` and which is
/// running while `running`. `settle` says which refusals end the erasure as an outcome (`Settled`) rather than
/// as an error to try again; `done` runs once the request went through (to load what the database now holds, or
/// to show a request that is held). The page is loaded again when a settled dialog is closed.
pub fn use_erase_state<T>(
    open: RwSignal<bool>,
    value: MappedSignal<Option<Result<T, AppError>>>,
    running: Memo<bool>,
    settle: fn(&AppError) -> Option<Settled>,
    done: impl Fn(&T) + 'static,
) -> EraseState
where
    T: Clone + Send + Sync + 'static,
{
    let went_through = move || matches!(value.get(), Some(Ok(_)));
    Effect::new(move |_| {
        if let Some(Ok(answer)) = value.get() {
            done(&answer);
        }
    });
    let settled = Memo::new(move |_| match value.get() {
        Some(Err(error)) => settle(&error),
        _ => None,
    });
    Effect::new(move |_| {
        if settled.with(Option::is_some) && !open.get() {
            reload_page();
        }
    });
    let ask_password = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Err(AppError::PasswordRequired)) = value.get()
            && !ask_password.get_untracked()
        {
            ask_password.set(true);
        }
    });
    let error = Signal::derive(move || match value.get() {
        Some(Err(AppError::PasswordRequired)) | Some(Ok(_)) | None => None,
        Some(Err(error)) if settle(&error).is_some() => None,
        Some(Err(error)) => Some(error.to_string()),
    });
    EraseState {
        open,
        pending: Signal::derive(move || running.get() || went_through()),
        error,
        settled: settled.into(),
        ask_password: ask_password.into(),
    }
}

/// The record's erasure that came first, as an outcome of Delete on one record: `AlreadyErased`.
pub fn erased_before(error: &AppError) -> Option<Settled> {
    match error {
        AppError::AlreadyErased { receipt, .. } => Some(Settled::ErasedBefore(*receipt.clone())),
        _ => None,
    }
}

/// The modal that confirms an erasure: its title, what will be deleted (`children`), the warnings, and the field
/// `ERASE_CONFIRMATION` is typed into (and the password, once asked for). Its Delete button hands the typed text
/// and password to `on_confirm`.
#[component]
pub fn EraseDialog(
    /// Whether it is shown, and how the erasure stands.
    state: EraseState,
    /// The dialog's title, its accessible name.
    #[prop(into)]
    title: String,
    /// Called with the typed confirmation and the typed password (empty when it was not asked for).
    on_confirm: Callback<(String, String)>,
    /// Where focus goes back when the dialog closes.
    return_focus: NodeRef<html::Button>,
    /// What will be deleted, and anything to know before confirming.
    children: ChildrenFn,
) -> impl IntoView {
    let EraseState {
        open,
        pending,
        error,
        settled,
        ask_password,
    } = state;
    let typed = RwSignal::new(String::new());
    let dialog_ref = NodeRef::<html::Div>::new();
    let input_ref = NodeRef::<html::Input>::new();
    let close_ref = NodeRef::<html::Button>::new();
    let password = RwSignal::new(String::new());
    let password_ref = NodeRef::<html::Input>::new();
    let title = StoredValue::new(title);
    let children = StoredValue::new(children);
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
    let on_close = Callback::new(move |()| close());
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
                    {move || match settled.get() {
                        Some(Settled::ErasedBefore(receipt)) => view! { <ErasedBefore receipt close_ref on_close/> }.into_any(),
                        Some(Settled::NothingErased(reason)) => view! { <NothingErased reason close_ref on_close/> }.into_any(),
                        None => view! {
                            <h2 id="erase-title">{title.get_value()}</h2>
                            {children.with_value(|children| children())}
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

/// What the erasure policy holds back of a request of `records` records removing `total`, confirmed `now`: the
/// approval it needs, and the end of its hold; `None` when it is erased as it is confirmed.
pub fn held_back(
    policy: &ErasurePolicy,
    records: usize,
    total: &ErasureCounts,
    now: OffsetDateTime,
) -> Option<String> {
    let records = i64::try_from(records).unwrap_or(i64::MAX);
    let approval = policy.needs_approval(records, total.calls + total.messages);
    let hold_ends = (policy.hold_hours > 0)
        .then(|| format_time(now + Duration::hours(i64::from(policy.hold_hours))));
    match (approval, hold_ends) {
        (false, None) => None,
        (false, Some(at)) => Some(format!("Will be deleted on {at} unless cancelled.")),
        (true, None) => {
            Some("Needs another Admin's approval before anything is deleted.".to_owned())
        }
        (true, Some(at)) => Some(format!(
            "Needs another Admin's approval before anything is deleted. Once approved, it will be deleted on {at} or at approval if later, unless cancelled."
        )),
    }
}

/// The dialog of Delete on one record: what its erasure would delete, when that activity took place, and where
/// the record stands among the person's other records.
#[component]
pub fn ConfirmEraseDialog(
    /// Whether it is shown, and how the erasure stands.
    state: EraseState,
    /// The record as the dialog names it: its name, object type and Salesforce id.
    customer_label: String,
    /// What the erasure would delete, shown as a table of counts.
    counts: ErasureCounts,
    /// When the activity took place (`ErasureCounts::activity_range`, formatted on the server).
    activity: String,
    /// Called with the typed confirmation and the typed password (empty when it was not asked for).
    on_confirm: Callback<(String, String)>,
    /// Where the record stands among the records that share its email, and the others, so that the dialog says
    /// that only this one is erased; `None` when it is the only one.
    same_person: Option<Placement>,
    /// Where focus goes back when the dialog closes.
    return_focus: NodeRef<html::Button>,
    /// The account's erasure policy, for what the dialog says of a hold or an approval.
    policy: ErasurePolicy,
) -> impl IntoView {
    let held = held_back(&policy, 1, &counts, now());
    let rows = [
        ("Calls", counts.calls),
        ("Recordings", counts.recordings),
        ("Voicemails", counts.voicemails),
        ("Transcripts", counts.transcripts),
        ("Messages", counts.messages),
        ("Message media files", counts.media),
    ];
    view! {
        <EraseDialog state title="Delete all call and message data?" on_confirm return_focus>
            <p>"For " <strong>{customer_label.clone()}</strong> ", this permanently deletes:"</p>
            <table class="counts-table">
                <caption class="visually-hidden">"What will be deleted"</caption>
                <tbody>
                    {rows.iter().map(|(label, count)| view! {
                        <tr><th scope="row">{*label}</th><td class="num">{*count}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="muted">"Activity " {activity.clone()} "."</p>
            {same_person.clone().map(|placement| view! {
                <SamePersonLine placement/>
                <p class="muted">"Only this record's data is deleted; each of the others is deleted on its own."</p>
            })}
            {held.clone().map(|held| view! { <p class="notice notice-info">{held}</p> })}
        </EraseDialog>
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
        <CloseOnly close_ref on_close/>
    }
}

/// What the dialog shows in place of the confirmation when nothing was erased because the records changed since
/// they were listed: the server's reason, and Close, which loads the page again with what the search finds now.
#[component]
fn NothingErased(
    /// Why nothing was erased, as the server said it.
    reason: String,
    /// Close, which takes focus when the outcome shows.
    close_ref: NodeRef<html::Button>,
    /// Closes the dialog.
    on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <h2 id="erase-title">"Nothing was erased"</h2>
        <div id="erase-warning" class="notice notice-warning" role="alert">
            <p>{reason}</p>
        </div>
        <CloseOnly close_ref on_close/>
    }
}

/// The only action of a settled dialog: Close, which takes focus when it shows.
#[component]
fn CloseOnly(
    /// The button, focused once it is in the page.
    close_ref: NodeRef<html::Button>,
    /// Closes the dialog.
    on_close: Callback<()>,
) -> impl IntoView {
    view! {
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
