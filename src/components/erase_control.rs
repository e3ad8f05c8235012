//! Delete on a customer record (the `EraseControl` island, which opens `ConfirmEraseDialog`), and the notice
//! an erased record shows in its place: when, by whom, and what was erased.

use leptos::html;
use leptos::prelude::*;

use crate::api::customers::EraseCustomerData;
use crate::components::confirm_dialog::ConfirmEraseDialog;
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::notice::{Notice, Tone};
use crate::format::format_time;
use crate::model::{ErasureCounts, ErasureReceipt};

/// Delete and its confirmation dialog. Once the erasure has committed, the page is loaded again, so that
/// everything on it (lists, counts, the receipt) comes from the database after the erasure.
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
) -> impl IntoView {
    let erase = ServerAction::<EraseCustomerData>::new();
    let hydrated = use_hydrated();
    let open = RwSignal::new(false);
    let delete_button = NodeRef::<html::Button>::new();
    let erased = move || matches!(erase.value().get(), Some(Ok(_)));
    Effect::new(move |_| {
        if erased() {
            reload_page();
        }
    });
    let pending = Signal::derive(move || erase.pending().get() || erased());
    let error = Signal::derive(move || {
        erase
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    });
    let on_confirm = Callback::new(move |confirmation: String| {
        erase.dispatch(EraseCustomerData {
            customer_id: customer_id.clone(),
            confirmation,
        });
    });
    view! {
        <button
            type="button"
            class="button danger"
            node_ref=delete_button
            disabled=move || !hydrated.get() || pending.get()
            on:click=move |_| open.set(true)
        >
            "Delete"
        </button>
        <ConfirmEraseDialog open customer_label counts activity on_confirm pending error return_focus=delete_button/>
    }
}

/// What an erased record shows where Delete was: the erasure's receipt.
#[component]
pub fn ErasedNotice(
    /// The record's erasure receipt.
    receipt: ErasureReceipt,
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
        </Notice>
    }
}
