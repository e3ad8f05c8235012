//! /requests/bulk: bulk erasure from a CSV. The upload form (a plain `multipart/form-data` form posted to
//! `POST /requests/bulk`, so it works before and without the wasm), what a file must hold, the reason the last
//! upload was refused (named by `?refused=`, never text from the URL), and the account's recent bulk jobs; a
//! user without access to Customer Data sees the refusal instead.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::bulk::list_bulk_jobs;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, Notice, Tone};
use crate::format::format_time;
use crate::model::{BulkFileRefusal, BulkJobSummary};
use crate::pages::requests::short_id;

/// The upload form and the account's recent bulk jobs.
#[component]
pub fn BulkPage() -> impl IntoView {
    let refused = use_query_map()
        .with_untracked(|query| query.get("refused"))
        .and_then(|key| BulkFileRefusal::from_key(&key));
    let jobs = list_bulk_jobs();
    view! {
        <Title text="Bulk erasure"/>
        <p class="breadcrumb"><a href="/requests">"Requests"</a> " / Bulk erasure"</p>
        <h1>"Bulk erasure from a CSV"</h1>
        {refused.map(|refused| view! {
            <Notice tone=Tone::Error><p><strong>"The file was not checked. "</strong>{refused.message()}</p></Notice>
        })}
        <Loaded loading="Loading…" data=jobs let:jobs>
            <UploadForm/>
            <h2>"Recent bulk jobs"</h2>
            <JobTable jobs/>
        </Loaded>
    }
}

/// The upload form, shown to those who may use it (the list of jobs loaded).
#[component]
fn UploadForm() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="bulk-upload">
            <h2 id="bulk-upload">"Check a file"</h2>
            <p>"A CSV file (UTF-8, at most 10,000 rows and 5 MB) with a header row and one person per row: an email address, a phone number or a Salesforce ID, in the column named " <code>"email"</code> ", " <code>"phone"</code> " or " <code>"salesforce_id"</code> ". Other columns are ignored; a file of one column may mix the three."</p>
            <p>"Checking the file erases nothing: the next page lists what each row matches, or why it matches nothing, and asks you to confirm."</p>
            <form method="post" action="/requests/bulk" enctype="multipart/form-data" class="stack">
                <p>
                    <label for="bulk-file">"CSV file"</label>
                    <input id="bulk-file" name="file" type="file" accept=".csv,text/csv" required/>
                </p>
                <label class="checkbox">
                    <input name="suppress" type="checkbox" value="on" checked/>
                    " Put the erased people on the suppression list, so that new calls and messages with their email, phone number or Salesforce ID are refused"
                </label>
                <div class="form-actions">
                    <button type="submit" class="button primary">"Check file"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn JobTable(jobs: Vec<BulkJobSummary>) -> impl IntoView {
    if jobs.is_empty() {
        return view! {
            <EmptyState title="No bulk jobs yet">
                <p>"Check a file above to start one."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div class="card table-card">
            <DataTable caption="Recent bulk jobs" headings=&["Job", "Checked", "By", "Rows", "Persons to erase", "Confirmed"] numeric=&["Rows", "Persons to erase"]>
                <tbody>
                    {jobs.into_iter().map(|job| {
                        let id = job.id.to_string();
                        let short = short_id(&id).to_owned();
                        view! {
                            <tr>
                                <td><a class="mono" href=format!("/requests/bulk/{id}")>{short}</a></td>
                                <td>{format_time(job.created_at)}</td>
                                <td>{job.created_by_name}</td>
                                <td class="num">{job.rows_total}</td>
                                <td class="num">{job.persons}</td>
                                <td>{job.confirmed_at.map(format_time).unwrap_or_else(|| "Not yet".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
    }
    .into_any()
}
