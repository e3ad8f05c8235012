//! /requests/bulk/{id}: one bulk job. Its dry run (totals per verdict, what the account's erasure policy will do
//! with the batch, the downloads, and every row a page at a time with the records it matched or why not); before
//! it is confirmed, the confirmation (`ConfirmBulk`: typed DELETE and the number of persons); once confirmed,
//! its progress, followed live (`BulkProgressMeter`), and the approval of the batch (`DecideBulk`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::bulk::{
    BULK_CONFIRMATION, BulkJobProgress, ConfirmBulkJob, DecideBulkJob, get_bulk_job,
};
use crate::components::data_table::DataTable;
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::{Notice, Tone};
use crate::error::AppError;
use crate::format::{counted, format_time};
use crate::model::{BulkJob, BulkProgress, BulkRow, BulkVerdict};

/// One bulk job of the account, its rows from `?from=` on.
#[component]
pub fn BulkJobPage() -> impl IntoView {
    let id = use_params_map()
        .read_untracked()
        .get("id")
        .unwrap_or_default();
    let from = use_query_map()
        .with_untracked(|query| query.get("from"))
        .and_then(|from| from.parse().ok());
    let job = get_bulk_job(id, from);
    view! {
        <Title text="Bulk job"/>
        <p class="breadcrumb"><a href="/requests">"Requests"</a> " / " <a href="/requests/bulk">"Bulk erasure"</a> " / Job"</p>
        <h1>"Bulk erasure job"</h1>
        <Loaded loading="Loading…" data=job let:job>
            <Job job/>
        </Loaded>
    }
}

#[component]
fn Job(job: BulkJob) -> impl IntoView {
    let id = job.id.to_string();
    let totals = job.totals.clone();
    let outcome = match job.outcome.as_str() {
        "awaiting_approval" => {
            "The batch reaches your account's approval threshold: once confirmed, another Admin with Manage Customer Data must approve it before anything is erased."
        }
        "scheduled" => {
            "Your account holds requests before erasing: once confirmed, each person's data is erased when the hold ends, unless cancelled."
        }
        _ => {
            "Once confirmed, each person's call and message data is erased right away, one person at a time. This cannot be undone."
        }
    };
    let next = job
        .next_line
        .map(|line| format!("/requests/bulk/{id}?from={line}"));
    view! {
        <div class="card">
            <dl class="details">
                <dt>"Checked"</dt><dd>{format_time(job.created_at)}" by "{job.created_by_name.clone()}</dd>
                <dt>"Rows"</dt><dd>{job.rows_total}</dd>
                <dt>"Identifiers"</dt><dd>{match job.identifier_column.as_str() {
                    "detected" => "Read from each cell".to_owned(),
                    column => format!("The {column} column"),
                }}</dd>
                <dt>"Suppression"</dt><dd>{if job.suppress { "The erased people go on the suppression list" } else { "Not requested" }}</dd>
                <dt>"Confirmed"</dt><dd>{match &job.confirmed {
                    Some((at, by)) => format!("{} by {by}", format_time(*at)),
                    None => "Not yet: nothing has been erased".into(),
                }}</dd>
            </dl>
        </div>
        <h2>"Dry run"</h2>
        <div class="card table-card">
            <DataTable caption="Rows per verdict" headings=&["Verdict", "Rows"] numeric=&["Rows"]>
                <tbody>
                    {totals.rows.iter().map(|(verdict, rows)| view! {
                        <tr><td>{verdict.label()}</td><td class="num">{*rows}</td></tr>
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
        <p>
            <strong>{format!("{} to erase", counted(totals.persons, "person", "persons"))}</strong>
            {format!(
                ": {}, {} and {}.",
                counted(totals.records, "record", "records"),
                counted(totals.calls, "call", "calls"),
                counted(totals.messages, "message", "messages")
            )}
        </p>
        <p class="form-actions">
            <a class="button" href=format!("/requests/bulk/{id}/dry-run.csv") download>"Download the dry run (CSV)"</a>
            {job.confirmed.is_some().then(|| view! {
                <a class="button" href=format!("/requests/bulk/{id}/results.csv") download>"Download the results (CSV)"</a>
            })}
        </p>
        {match (job.confirmed.is_some(), job.progress) {
            (false, _) if totals.persons > 0 => view! {
                <Notice tone=Tone::Warning><p>{outcome}</p></Notice>
                <ConfirmBulk job_id=id.clone() persons=totals.persons/>
            }.into_any(),
            (false, _) => view! {
                <Notice tone=Tone::Info><p>"No row of this file names a person with data to erase."</p></Notice>
            }.into_any(),
            (true, progress) => view! {
                <BulkProgressMeter job_id=id.clone() initial=progress.unwrap_or_default()/>
                {job.can_decide.then(|| view! { <DecideBulk job_id=id.clone()/> })}
            }.into_any(),
        }}
        <h2>"Rows"</h2>
        <div class="card table-card">
            <DataTable caption="Rows of the file" headings=&["Line", "Verdict", "Records", "Calls", "Messages", "Request"] numeric=&["Line", "Calls", "Messages"]>
                <tbody>
                    {job.rows.into_iter().map(row_view).collect_view()}
                </tbody>
            </DataTable>
        </div>
        <nav class="pager" aria-label="Pages">
            {next.map(|href| view! { <a href=href class="button">"Next rows"</a> })}
        </nav>
    }
}

fn row_view(row: BulkRow) -> impl IntoView {
    let verdict = match (row.verdict, &row.reason, row.duplicate_of) {
        (BulkVerdict::Malformed, Some(reason), _) => format!("Malformed: {reason}"),
        (BulkVerdict::Duplicate, _, Some(line)) => format!("Duplicate of line {line}"),
        (verdict, _, _) => verdict.label().to_owned(),
    };
    let records = row
        .records
        .iter()
        .map(|record| format!("{} {}", record.object_type, record.salesforce_id))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <tr>
            <td class="num">{row.line}</td>
            <td>{verdict}</td>
            <td class="mono">{records}</td>
            <td class="num">{row.calls}</td>
            <td class="num">{row.messages}</td>
            <td>{row.request_id.map(|request| view! {
                <a href=format!("/requests/{request}")>{row.request_state.map(|state| state.label()).unwrap_or("Request")}</a>
            })}</td>
        </tr>
    }
}

/// The confirmation: the number of persons and DELETE, typed, then Delete. When the server answers that the
/// Admin's sign-in is too old for an irreversible step, the password is asked for too. The page loads again on
/// success, showing the progress.
#[island]
fn ConfirmBulk(
    /// The job's id.
    job_id: String,
    /// The dry run's persons to erase.
    persons: i64,
) -> impl IntoView {
    let confirm = ServerAction::<ConfirmBulkJob>::new();
    let hydrated = use_hydrated();
    let typed_persons = RwSignal::new(String::new());
    let typed_word = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ask_password = RwSignal::new(false);
    Effect::new(move |_| match confirm.value().get() {
        Some(Ok(_)) => reload_page(),
        Some(Err(AppError::PasswordRequired)) => ask_password.set(true),
        _ => {}
    });
    let ready = move || {
        typed_word.get() == BULK_CONFIRMATION && typed_persons.get().trim() == persons.to_string()
    };
    let id = StoredValue::new(job_id);
    view! {
        <section class="card" aria-labelledby="bulk-confirm">
            <h2 id="bulk-confirm">"Confirm the erasure"</h2>
            <p>{format!("This makes one erasure request for each of the {persons} persons above, for exactly the records the dry run lists. Their calls, recordings, voicemails, transcripts and messages will be permanently deleted. Salesforce is not changed. This cannot be undone.")}</p>
            <p>
                <label for="bulk-persons">"Type the number of persons to erase"</label>
                <input id="bulk-persons" inputmode="numeric" autocomplete="off"
                    prop:value=move || typed_persons.get()
                    on:input=move |ev| typed_persons.set(event_target_value(&ev))/>
            </p>
            <p>
                <label for="bulk-word">{format!("Type {BULK_CONFIRMATION} to confirm")}</label>
                <input id="bulk-word" autocomplete="off"
                    prop:value=move || typed_word.get()
                    on:input=move |ev| typed_word.set(event_target_value(&ev))/>
            </p>
            {move || ask_password.get().then(|| view! {
                <p>
                    <label for="bulk-password">"Your password"</label>
                    <input id="bulk-password" type="password" autocomplete="current-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </p>
            })}
            {move || match confirm.value().get() {
                Some(Err(AppError::PasswordRequired)) => Some(view! {
                    <Notice tone=Tone::Info><p>"Enter your password again to go on: your sign-in is over 15 minutes old."</p></Notice>
                }.into_any()),
                Some(Err(error)) => Some(view! {
                    <Notice tone=Tone::Error><p>{error.to_string()}</p></Notice>
                }.into_any()),
                _ => None,
            }}
            <div class="form-actions">
                <button type="button" class="button danger"
                    disabled=move || !hydrated.get() || !ready() || confirm.pending().get()
                    on:click=move |_| {
                        let entered = password.get_untracked();
                        confirm.dispatch(ConfirmBulkJob {
                            job_id: id.get_value(),
                            confirmation: typed_word.get_untracked(),
                            persons: typed_persons.get_untracked(),
                            password: (!entered.is_empty()).then_some(entered),
                        });
                    }>
                    {move || if confirm.pending().get() { "Deleting…" } else { "Delete" }}
                </button>
            </div>
        </section>
    }
}

/// How often the progress is read while requests remain.
const PROGRESS_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// Done, failed and remaining, read again every `PROGRESS_PERIOD` while requests remain, in place (the page is
/// not loaded again); once the last one ends, a link loads the page again to show every row's outcome.
#[island]
fn BulkProgressMeter(
    /// The job's id.
    job_id: String,
    /// The progress as the page was rendered.
    initial: BulkProgress,
) -> impl IntoView {
    let progress = RwSignal::new(initial);
    let rows_stale = RwSignal::new(false);
    let read = ServerAction::<BulkJobProgress>::new();
    let page = format!("/requests/bulk/{job_id}");
    let id = StoredValue::new(job_id);
    Effect::new(move |_| {
        if let Some(Ok(now)) = read.value().get() {
            if now != progress.get_untracked() {
                rows_stale.set(true);
            }
            progress.set(now);
        }
    });
    Effect::new(move |_| {
        if initial.finished() {
            return;
        }
        let handle = set_interval_with_handle(
            move || {
                if !progress.get_untracked().finished() && !read.pending().get_untracked() {
                    read.dispatch(BulkJobProgress {
                        job_id: id.get_value(),
                    });
                }
            },
            PROGRESS_PERIOD,
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    let total = move || {
        let now = progress.get();
        now.done + now.failed + now.remaining + now.stopped
    };
    view! {
        <section class="card" aria-labelledby="bulk-progress">
            <h2 id="bulk-progress">"Progress"</h2>
            <progress max=move || total().max(1) value=move || progress.get().done + progress.get().failed + progress.get().stopped
                aria-label="Requests ended"></progress>
            <dl class="details" aria-live="polite">
                <dt>"Done"</dt><dd data-testid="bulk-done">{move || progress.get().done}</dd>
                <dt>"Failed"</dt><dd data-testid="bulk-failed">{move || progress.get().failed}</dd>
                <dt>"Remaining"</dt><dd data-testid="bulk-remaining">{move || progress.get().remaining}</dd>
                {move || (progress.get().awaiting_approval > 0).then(|| view! {
                    <dt>"Awaiting approval"</dt><dd>{progress.get().awaiting_approval}</dd>
                })}
                {move || (progress.get().stopped > 0).then(|| view! {
                    <dt>"Rejected or cancelled"</dt><dd>{progress.get().stopped}</dd>
                })}
            </dl>
            <p class="muted">{move || if progress.get().finished() { "Finished." } else { "Erasing one person at a time. You can leave this page: the job goes on." }}</p>
            {move || rows_stale.get().then(|| view! {
                <p><a href=page.clone()>"Show each row's outcome"</a></p>
            })}
        </section>
    }
}

/// Approve or reject the batch: every request of the job that awaits approval at once. Reject asks for the
/// reason; both ask for the password when the server says the sign-in is too old.
#[island]
fn DecideBulk(
    /// The job's id.
    job_id: String,
) -> impl IntoView {
    let decide = ServerAction::<DecideBulkJob>::new();
    let hydrated = use_hydrated();
    let reason = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ask_password = RwSignal::new(false);
    Effect::new(move |_| match decide.value().get() {
        Some(Ok(_)) => reload_page(),
        Some(Err(AppError::PasswordRequired)) => ask_password.set(true),
        _ => {}
    });
    let id = StoredValue::new(job_id);
    let send = move |approve: bool| {
        let entered = password.get_untracked();
        let why = reason.get_untracked();
        decide.dispatch(DecideBulkJob {
            job_id: id.get_value(),
            approve,
            reason: (!approve).then_some(why),
            password: (!entered.is_empty()).then_some(entered),
        });
    };
    view! {
        <section class="card" aria-labelledby="bulk-decide">
            <h2 id="bulk-decide">"Approve the batch"</h2>
            <p>"Approving lets every request of this job that awaits approval go ahead; rejecting stops them all, and nothing is erased."</p>
            <p>
                <label for="bulk-reason">"Reason (to reject)"</label>
                <input id="bulk-reason" prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))/>
            </p>
            {move || ask_password.get().then(|| view! {
                <p>
                    <label for="bulk-decide-password">"Your password"</label>
                    <input id="bulk-decide-password" type="password" autocomplete="current-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </p>
            })}
            {move || match decide.value().get() {
                Some(Err(AppError::PasswordRequired)) | None | Some(Ok(_)) => None,
                Some(Err(error)) => Some(view! { <Notice tone=Tone::Error><p>{error.to_string()}</p></Notice> }),
            }}
            <div class="form-actions">
                <button type="button" class="button primary" disabled=move || !hydrated.get() || decide.pending().get()
                    on:click=move |_| send(true)>"Approve all"</button>
                <button type="button" class="button danger" disabled=move || !hydrated.get() || decide.pending().get()
                    on:click=move |_| send(false)>"Reject all"</button>
            </div>
        </section>
    }
}
