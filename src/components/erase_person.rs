//! A person's erasure from the search that lists their records: "Delete all N records" (the
//! `ErasePersonControl` island, which opens the shared erasure dialog listing every record with its own counts,
//! the total, and the records skipped as already erased), and the notice of the request it made
//! (`RequestOutcome`), shown by the search page once it is loaded again.

use leptos::html;
use leptos::prelude::*;

use crate::api::requests::CreateRequest;
use crate::components::confirm_dialog::{EraseDialog, Settled, held_back, use_erase_state};
use crate::components::data_table::DataTable;
use crate::components::hydration::{load_page, now, use_hydrated};
use crate::components::notice::{Notice, Tone};
use crate::error::AppError;
use crate::format::{format_time, urlencode};
use crate::model::{
    CustomerSummary, ErasureCounts, ErasurePolicy, RequestReceipt, RequestState, RequestSummary,
};

/// "Delete all N records" and its dialog, for the records a saved search listed. Confirming creates one request
/// for the records not yet erased, with the search's text, so that the server can tell when the search now finds
/// others. Once the request is made (erased at once, or held by the account's erasure policy), the search's page
/// is loaded again with the request (`&request=`), whose outcome it shows above the records as they now stand.
/// When the server answers that the records changed since they were listed (409: nothing was erased), the dialog
/// says so, and closing it loads the page again with what the search finds now. An old sign-in is asked for the
/// password, as on a record's Delete.
#[island]
pub(crate) fn ErasePersonControl(
    /// The saved search's id (`?search=` of the page), for the page loaded after the request.
    search_id: String,
    /// The search's text, sent with the request: the server runs it again before erasing anything.
    query: String,
    /// Every record the search listed, those already erased included (the dialog shows them as skipped).
    records: Vec<CustomerSummary>,
    /// The account's erasure policy, for what the dialog says of a hold or an approval.
    policy: ErasurePolicy,
) -> impl IntoView {
    let create = ServerAction::<CreateRequest>::new();
    let hydrated = use_hydrated();
    let open = RwSignal::new(false);
    let state = use_erase_state(
        open,
        create.value(),
        create.pending(),
        nothing_erased,
        move |receipt: &RequestReceipt| {
            load_page(&format!(
                "/customers?search={}&request={}",
                urlencode(&search_id),
                receipt.request_id
            ));
        },
    );
    let (skipped, to_erase): (Vec<_>, Vec<_>) =
        records.into_iter().partition(|r| r.erased_at.is_some());
    let count = to_erase.len();
    let customer_ids = to_erase
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let open_button = NodeRef::<html::Button>::new();
    let query = StoredValue::new(query);
    let suppress = RwSignal::new(true);
    let on_confirm = Callback::new(move |(confirmation, password): (String, String)| {
        create.dispatch(CreateRequest {
            customer_ids: customer_ids.clone(),
            query: query.get_value(),
            confirmation,
            password: (!password.is_empty()).then_some(password),
            suppress: Some(suppress.get_untracked()),
        });
    });
    let title = format!("Delete all call and message data of {}?", records_of(count));
    view! {
        <button
            type="button"
            class="button danger"
            node_ref=open_button
            disabled=move || !hydrated.get() || state.pending.get()
            on:click=move |_| open.set(true)
        >
            {delete_all_label(count)}
        </button>
        <EraseDialog state title on_confirm return_focus=open_button>
            <PersonCounts query=query.get_value() to_erase=to_erase.clone() skipped=skipped.clone() policy/>
            <label class="checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || suppress.get()
                    on:change=move |event| suppress.set(event_target_checked(&event))
                />
                " Keep this person on the suppression list, so that new calls and messages with their email, phone number or Salesforce ID are refused"
            </label>
        </EraseDialog>
    }
}

/// What the person's dialog says will be deleted: a row of counts per record and their total, when that
/// activity took place, the records skipped because they are already erased, and what the account's erasure
/// policy holds back.
#[component]
fn PersonCounts(
    /// The search that listed the records.
    query: String,
    /// The records to erase.
    to_erase: Vec<CustomerSummary>,
    /// The records listed but already erased.
    skipped: Vec<CustomerSummary>,
    /// The account's erasure policy.
    policy: ErasurePolicy,
) -> impl IntoView {
    let total = ErasureCounts::total(to_erase.iter().map(|r| &r.pending));
    let activity = total.activity_range();
    let held = held_back(&policy, to_erase.len(), &total, now());
    view! {
        <p>
            "For the " {records_of(to_erase.len())} " that the search for " <strong>{query}</strong>
            " lists, this permanently deletes:"
        </p>
        <DataTable
            caption="What will be deleted, by record"
            headings=&["Record", "Calls", "Recordings", "Voicemails", "Transcripts", "Messages", "Media files"]
            numeric=&["Calls", "Recordings", "Voicemails", "Transcripts", "Messages", "Media files"]
        >
            <tbody>
                {to_erase.iter().map(|record| view! {
                    <tr>
                        <th scope="row">
                            {record_label(record)} " "
                            <span class="muted mono nowrap">{record.salesforce_id.clone()}</span>
                        </th>
                        <CountCells counts=record.pending.clone()/>
                    </tr>
                }).collect_view()}
            </tbody>
            <tfoot>
                <tr>
                    <th scope="row">"Total"</th>
                    <CountCells counts=total/>
                </tr>
            </tfoot>
        </DataTable>
        <p class="muted">"Activity " {activity} "."</p>
        {(!skipped.is_empty()).then(|| view! {
            <p>"Skipped, already deleted:"</p>
            <ul class="skipped-records">
                {skipped.iter().map(|record| view! {
                    <li>
                        {record_label(record)}
                        {record.erased_at.map(|at| format!(", data deleted {}", format_time(at)))}
                    </li>
                }).collect_view()}
            </ul>
        })}
        {held.map(|held| view! { <p class="notice notice-info">{held}</p> })}
    }
}

/// A record's counts as the cells of its row, in the order of the headings.
#[component]
fn CountCells(
    /// The counts.
    counts: ErasureCounts,
) -> impl IntoView {
    [
        counts.calls,
        counts.recordings,
        counts.voicemails,
        counts.transcripts,
        counts.messages,
        counts.media,
    ]
    .into_iter()
    .map(|count| view! { <td class="num">{count}</td> })
    .collect_view()
}

/// The outcome of the person's erasure as a notice: the request's records deleted, or, when the account's
/// erasure policy holds the request, that nothing is deleted yet and until when; with a link to the request.
#[component]
pub fn RequestOutcome(
    /// The request, as the list of requests shows it.
    request: RequestSummary,
) -> impl IntoView {
    let records = records_of(usize::try_from(request.records).unwrap_or_default());
    let hold_ends = request
        .not_before
        .map(|at| format!(" Will be deleted on {} unless cancelled.", format_time(at)))
        .unwrap_or_default();
    let (tone, said) = match (request.state, request.completed_at) {
        (RequestState::Completed, Some(at)) => (
            Tone::Success,
            format!(
                "Call and message data of {records} deleted on {} by {}.",
                format_time(at),
                request.requested_by_name
            ),
        ),
        (RequestState::AwaitingApproval, _) => (
            Tone::Info,
            format!(
                "Request received for {records}: it needs another Admin's approval before anything is deleted."
            ),
        ),
        (RequestState::Scheduled, _) => (
            Tone::Info,
            format!("Request received for {records}: nothing is deleted yet.{hold_ends}"),
        ),
        (state, _) => (
            Tone::Info,
            format!("Request received for {records}: {}.", state.label()),
        ),
    };
    view! {
        <Notice tone>
            <p><strong>{said}</strong></p>
            <p>"One request holds every record: " <a href=format!("/requests/{}", request.id)>"Open the erasure request"</a></p>
        </Notice>
    }
}

/// The answers of `requests/create` that end the person's erasure with nothing erased: the records changed
/// since they were listed (409).
fn nothing_erased(error: &AppError) -> Option<Settled> {
    match error {
        AppError::Conflict(reason) => Some(Settled::NothingErased(reason.clone())),
        _ => None,
    }
}

/// "1 record", "2 records".
fn records_of(count: usize) -> String {
    if count == 1 {
        "1 record".to_owned()
    } else {
        format!("{count} records")
    }
}

/// The button's words: "Delete all 2 records", or "Delete 1 record" when one is left to erase.
fn delete_all_label(count: usize) -> String {
    if count == 1 {
        "Delete 1 record".to_owned()
    } else {
        format!("Delete all {count} records")
    }
}

/// "Lead Jordan Rivera": a record's object type and name.
fn record_label(record: &CustomerSummary) -> String {
    format!("{} {}", record.object_type, record.name)
}

#[cfg(test)]
mod tests {
    use super::{delete_all_label, held_back, records_of};
    use crate::model::{ErasureCounts, ErasurePolicy};

    #[test]
    fn the_button_and_the_dialog_count_the_records() {
        assert_eq!(delete_all_label(2), "Delete all 2 records");
        assert_eq!(delete_all_label(1), "Delete 1 record");
        assert_eq!(records_of(1), "1 record");
        assert_eq!(records_of(5), "5 records");
    }

    #[test]
    fn the_dialog_says_what_the_policy_holds_back() {
        let now = time::macros::datetime!(2026-12-02 18:00 UTC);
        let total = ErasureCounts {
            calls: 3,
            messages: 4,
            ..ErasureCounts::default()
        };
        let at_once = ErasurePolicy::default();
        assert_eq!(held_back(&at_once, 2, &total, now), None);
        let hold = ErasurePolicy {
            hold_hours: 24,
            ..at_once
        };
        assert_eq!(
            held_back(&hold, 2, &total, now).as_deref(),
            Some("Will be deleted on 2026-12-03 18:00 UTC unless cancelled.")
        );
        let by_records = ErasurePolicy {
            approval_min_records: Some(2),
            ..at_once
        };
        assert_eq!(
            held_back(&by_records, 2, &total, now).as_deref(),
            Some("Needs another Admin's approval before anything is deleted.")
        );
        assert_eq!(held_back(&by_records, 1, &total, now), None);
        let by_items = ErasurePolicy {
            approval_min_items: Some(7),
            ..hold
        };
        assert!(
            held_back(&by_items, 1, &total, now)
                .is_some_and(|said| said.starts_with("Needs another Admin's approval")
                    && said.contains("2026-12-03 18:00 UTC"))
        );
        let more_items = ErasurePolicy {
            approval_min_items: Some(8),
            ..at_once
        };
        assert_eq!(held_back(&more_items, 1, &total, now), None);
    }
}
