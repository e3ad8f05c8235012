//! /requests/{id}: one erasure request: its records with their counts, where the deletion of its stored files
//! stands, its signed receipt once the files are gone (`ReceiptCard`), its timeline, and what the viewer may do with it (approve or reject, cancel, erase now or try again:
//! the `RequestControls` island).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::requests::{
    ApproveRequest, CancelRequest, EraseRequestNow, RejectRequest, get_request,
};
use crate::components::data_table::DataTable;
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::{Notice, Tone};
use crate::components::receipt::ReceiptCard;
use crate::error::AppError;
use crate::format::format_time;
use crate::model::{RequestActions, RequestDetail, RequestState, StoredFilesStatus};

/// One request of the account.
#[component]
pub fn RequestPage() -> impl IntoView {
    let id = use_params_map()
        .read_untracked()
        .get("id")
        .unwrap_or_default();
    let detail = get_request(id);
    view! {
        <Title text="Request"/>
        <p class="breadcrumb"><a href="/requests">"Requests"</a> " / Request"</p>
        <h1>"Erasure request"</h1>
        <Loaded loading="Loading…" data=detail let:detail>
            <Request detail/>
        </Loaded>
    }
}

#[component]
fn Request(detail: RequestDetail) -> impl IntoView {
    let RequestDetail {
        summary,
        records,
        files,
        timeline,
        actions,
        receipt,
    } = detail;
    let completed = summary.state == RequestState::Completed;
    let receipt_files = files.clone();
    let hold = match (summary.state, summary.not_before) {
        (RequestState::Scheduled, Some(at)) => Some(format!(
            "Will be deleted on {} unless cancelled.",
            format_time(at)
        )),
        (RequestState::AwaitingApproval, Some(at)) => Some(format!(
            "Needs another Admin's approval. Once approved, it will be deleted on {} or at approval if later, unless cancelled.",
            format_time(at)
        )),
        _ => None,
    };
    let failure = summary.failure.clone();
    let batch = summary
        .bulk_job_id
        .filter(|_| summary.state == RequestState::AwaitingApproval);
    view! {
        {hold.map(|hold| view! { <Notice tone=Tone::Info><p>{hold}</p></Notice> })}
        {batch.map(|job| view! {
            <Notice tone=Tone::Info><p>
                "This request belongs to a bulk job: it is approved or rejected with its whole batch, on "
                <a href=format!("/requests/bulk/{job}")>"the job's page"</a>"."
            </p></Notice>
        })}
        {failure.map(|failure| view! {
            <Notice tone=Tone::Warning><p><strong>"The erasure failed: "</strong>{failure}" Nothing was deleted."</p></Notice>
        })}
        {(actions != RequestActions::default()).then(|| view! {
            <RequestControls request_id=summary.id.to_string() actions state=summary.state/>
        })}
        <div class="card">
            <dl class="details">
                <dt>"Request"</dt><dd class="mono">{summary.id.to_string()}</dd>
                <dt>"State"</dt><dd><span class="badge">{summary.state.label()}</span></dd>
                <dt>"Requested by"</dt><dd>{summary.requested_by_name}</dd>
                <dt>"Received"</dt><dd>{format_time(summary.received_at)}</dd>
                <dt>"Due"</dt><dd>{format_time(summary.due_at)}</dd>
                <dt>"Database"</dt><dd>{match summary.completed_at {
                    Some(at) => format!("Erased {}", format_time(at)),
                    None => "Not erased yet".into(),
                }}</dd>
                <dt>"Stored files"</dt><dd>{files_status(&files)}</dd>
            </dl>
        </div>
        {completed.then(|| view! { <ReceiptCard request_id=summary.id files=receipt_files signed=receipt/> })}
        <h2>"Records"</h2>
        <div class="card table-card">
            <DataTable caption="Records of this request" headings=&["Record", "Type", "Salesforce ID", "Calls", "Messages", "Erased"] numeric=&["Calls", "Messages"]>
                <tbody>
                    {records.into_iter().map(|record| view! {
                        <tr>
                            <td><a href=format!("/customers/{}", record.customer_id)>{record.name}</a></td>
                            <td>{record.object_type}</td>
                            <td class="mono">{record.salesforce_id}</td>
                            <td class="num">{record.calls}</td>
                            <td class="num">{record.messages}</td>
                            <td>{if record.erasure_id.is_some() { "Yes" } else { "No" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
        <h2>"Timeline"</h2>
        <ol class="timeline">
            {timeline.into_iter().map(|event| view! {
                <li>
                    <span class="muted">{format_time(event.at)}</span>" "
                    {event.what}
                    {event.by.map(|name| format!(" by {name}"))}
                </li>
            }).collect_view()}
        </ol>
    }
}

/// The buttons of the actions the viewer may take. Each answer reloads the page, so everything on it comes from
/// the database after the step. Approve and Delete now ask for the password when the server says the viewer's
/// last sign-in is too old for an irreversible step; Reject asks for the reason.
#[island]
fn RequestControls(
    /// The request's id.
    request_id: String,
    /// What the viewer may do.
    actions: RequestActions,
    /// Where the request stands (Delete now says "Try again" for a failed one).
    state: RequestState,
) -> impl IntoView {
    let approve = ServerAction::<ApproveRequest>::new();
    let reject = ServerAction::<RejectRequest>::new();
    let cancel = ServerAction::<CancelRequest>::new();
    let erase_now = ServerAction::<EraseRequestNow>::new();
    let hydrated = use_hydrated();
    let reason = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ask_password = RwSignal::new(false);
    let done = move || {
        [
            approve.value().get().map(|answer| answer.map(|_| ())),
            reject.value().get().map(|answer| answer.map(|_| ())),
            cancel.value().get().map(|answer| answer.map(|_| ())),
            erase_now.value().get().map(|answer| answer.map(|_| ())),
        ]
    };
    Effect::new(move |_| {
        let answers = done();
        if answers.iter().any(|answer| matches!(answer, Some(Ok(())))) {
            reload_page();
        }
        if answers
            .iter()
            .any(|answer| matches!(answer, Some(Err(AppError::PasswordRequired))))
        {
            ask_password.set(true);
        }
    });
    let error = move || {
        done().into_iter().find_map(|answer| match answer {
            Some(Err(AppError::PasswordRequired)) => Some(
                "Enter your password again to go on: your sign-in is over 15 minutes old."
                    .to_owned(),
            ),
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        })
    };
    let busy = move || {
        !hydrated.get()
            || approve.pending().get()
            || reject.pending().get()
            || cancel.pending().get()
            || erase_now.pending().get()
    };
    let entered_password = move || {
        let entered = password.get_untracked();
        (!entered.is_empty()).then_some(entered)
    };
    let id = StoredValue::new(request_id);
    view! {
        <section class="card" aria-labelledby="request-actions">
            <h2 id="request-actions">"Actions"</h2>
            {move || ask_password.get().then(|| view! {
                <p>
                    <label for="request-password">"Your password"</label>
                    <input id="request-password" type="password" autocomplete="current-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </p>
            })}
            <div class="form-actions">
                {actions.decide.then(|| view! {
                    <button type="button" class="button primary" disabled=busy
                        on:click=move |_| { approve.dispatch(ApproveRequest { request_id: id.get_value(), password: entered_password() }); }>
                        "Approve"
                    </button>
                })}
                {actions.erase_now.then(|| view! {
                    <button type="button" class="button danger" disabled=busy
                        on:click=move |_| { erase_now.dispatch(EraseRequestNow { request_id: id.get_value(), password: entered_password() }); }>
                        {if state == RequestState::Failed { "Try again" } else { "Delete now" }}
                    </button>
                })}
                {actions.cancel.then(|| view! {
                    <button type="button" class="button" disabled=busy
                        on:click=move |_| { cancel.dispatch(CancelRequest { request_id: id.get_value() }); }>
                        "Cancel request"
                    </button>
                })}
            </div>
            {actions.decide.then(|| view! {
                <p>
                    <label for="reject-reason">"Reason for rejecting"</label>
                    <textarea id="reject-reason" maxlength="500" rows="2"
                        prop:value=move || reason.get()
                        on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                </p>
                <div class="form-actions">
                    <button type="button" class="button" disabled=busy
                        on:click=move |_| { reject.dispatch(RejectRequest { request_id: id.get_value(), reason: reason.get_untracked() }); }>
                        "Reject"
                    </button>
                </div>
            })}
            {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </section>
    }
}

/// Where the deletion of the stored files stands, in words: "3 of 4 deleted; the last attempt failed, next
/// attempt …".
pub fn files_status(files: &StoredFilesStatus) -> String {
    if files.total == 0 {
        return "None".into();
    }
    let mut status = format!("{} of {} deleted", files.deleted, files.total);
    if files.deleted < files.total {
        if files.last_attempt_failed {
            status.push_str("; the last attempt failed");
        }
        if let Some(at) = files.next_attempt_at {
            status.push_str(&format!("; next attempt {}", format_time(at)));
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_files_say_how_many_are_deleted_and_what_is_next() {
        let at = time::macros::datetime!(2026-12-02 12:00 UTC);
        let mut files = StoredFilesStatus {
            total: 0,
            deleted: 0,
            last_attempt_failed: false,
            next_attempt_at: None,
        };
        assert_eq!(files_status(&files), "None");
        files.total = 4;
        files.deleted = 4;
        assert_eq!(files_status(&files), "4 of 4 deleted");
        files.deleted = 3;
        files.last_attempt_failed = true;
        files.next_attempt_at = Some(at);
        assert_eq!(
            files_status(&files),
            format!(
                "3 of 4 deleted; the last attempt failed; next attempt {}",
                format_time(at)
            )
        );
    }
}
