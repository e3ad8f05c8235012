//! Delete on a customer record (the `EraseControl` island, which opens `ConfirmEraseDialog`), the notice an
//! erased record shows in its place (when, by whom, and what was erased), and the notice of a request the
//! account's erasure policy holds.

use leptos::html;
use leptos::prelude::*;

use crate::api::customers::EraseCustomerData;
use crate::components::confirm_dialog::{ConfirmEraseDialog, erased_before, use_erase_state};
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::notice::{Notice, Tone};
use crate::components::same_person::{NextWithData, Placement};
use crate::format::format_time;
use crate::model::{
    ErasureCounts, ErasurePolicy, ErasureReceipt, RequestReceipt, RequestState, SamePersonRecord,
};

/// Delete and its confirmation dialog. Once the erasure has committed, the page is loaded again, so that
/// everything on it (lists, counts, the receipt) comes from the database after the erasure; a request the
/// account's erasure policy holds closes the dialog and shows `HeldNotice` instead. When the server answers that
/// the record was already erased (another tab or Admin came first), the dialog shows that outcome with its
/// receipt, and the page is loaded again when the dialog is closed. When the server answers that the admin's
/// last sign-in is too old for this step, the dialog asks for their password, sent with the next try.
#[island]
pub(crate) fn EraseControl(
    /// The record's id, as `erase_customer_data` takes it.
    customer_id: String,
    /// The record as the dialog names it: its name, object type and Salesforce id.
    customer_label: String,
    /// What an erasure would delete now, for the dialog.
    counts: ErasureCounts,
    /// When the activity took place (`ErasureCounts::activity_range`), for the dialog.
    activity: String,
    /// Where the record stands among the records that share its email, and the others; `None` when it is the
    /// only one.
    same_person: Option<Placement>,
    /// The account's erasure policy, for what the dialog says of a hold or an approval.
    policy: ErasurePolicy,
) -> impl IntoView {
    let erase = ServerAction::<EraseCustomerData>::new();
    let hydrated = use_hydrated();
    let open = RwSignal::new(false);
    let state = use_erase_state(
        open,
        erase.value(),
        erase.pending(),
        erased_before,
        move |request: &RequestReceipt| {
            if request.state == RequestState::Completed {
                reload_page();
            } else {
                open.set(false);
            }
        },
    );
    let held = Memo::new(move |_| match erase.value().get() {
        Some(Ok(request)) if request.state != RequestState::Completed => Some(request),
        _ => None,
    });
    let delete_button = NodeRef::<html::Button>::new();
    let on_confirm = Callback::new(move |(confirmation, password): (String, String)| {
        erase.dispatch(EraseCustomerData {
            customer_id: customer_id.clone(),
            confirmation,
            password: (!password.is_empty()).then_some(password),
        });
    });
    view! {
        <button
            type="button"
            class="button danger"
            node_ref=delete_button
            disabled=move || !hydrated.get() || state.pending.get()
            on:click=move |_| open.set(true)
        >
            "Delete"
        </button>
        <ConfirmEraseDialog state customer_label counts activity on_confirm same_person return_focus=delete_button policy/>
        {move || held.get().map(|request| view! { <HeldNotice request/> })}
    }
}

/// What a request held by the account's erasure policy shows once confirmed: that nothing is erased yet, until
/// when (or until whose approval), and where to follow or cancel it.
#[component]
pub fn HeldNotice(
    /// The request as its confirmation answered it.
    request: RequestReceipt,
) -> impl IntoView {
    let when = request
        .not_before
        .map(|at| format!("Will be deleted on {} unless cancelled.", format_time(at)));
    let what = match request.state {
        RequestState::AwaitingApproval => {
            "Request received: it needs another Admin's approval before anything is deleted."
        }
        _ => "Request received: nothing is deleted yet.",
    };
    view! {
        <Notice tone=Tone::Info>
            <p><strong>{what}</strong> " " {when}</p>
            <p><a href=format!("/requests/{}", request.request_id)>"Open the request"</a></p>
        </Notice>
    }
}

/// What an erased record shows where Delete was: the erasure's receipt, and the same person's next record that
/// still has data, when there is one.
#[component]
pub fn ErasedNotice(
    /// The record's erasure receipt.
    receipt: ErasureReceipt,
    /// The next record with the same email that still has call or message data.
    next: Option<SamePersonRecord>,
) -> impl IntoView {
    let c = receipt.counts;
    view! {
        <Notice tone=Tone::Success>
            <p><strong>"Call and message data deleted"</strong> " on " {format_time(receipt.erased_at)} " by " {receipt.erased_by_name}"."</p>
            <p class="muted">
                "Deleted: " {c.calls} " calls, " {c.recordings} " recordings, " {c.voicemails} " voicemails, "
                {c.transcripts} " transcripts, " {c.messages} " messages, " {c.media} " media files. Receipt "
                <span class="mono">{receipt.erasure_id.to_string()}</span> "."
            </p>
            {next.map(|next| view! { <NextWithData next/> })}
        </Notice>
    }
}
