//! /requests/{id}: one erasure request: its records with their counts, where the deletion of its stored files
//! stands, and its timeline.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::requests::get_request;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::format::format_time;
use crate::model::{RequestDetail, StoredFilesStatus};

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
    } = detail;
    view! {
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
