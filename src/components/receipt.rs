//! A completed request's receipt, as the request's page and an erased record's page show it: while stored files
//! are still being deleted, "files pending, k of n"; once the signed receipt is issued, its readable summary
//! (counts, activity dates, what each store did, the data keys destroyed, the residual check) beside the link that downloads it as a
//! `.jws` file, which anyone verifies offline against `/.well-known/receipt-keys.json`.

use leptos::prelude::*;
use uuid::Uuid;

use crate::format::{counted, format_time};
use crate::model::{ReceiptSummary, StoredFilesStatus};

/// The receipt card of request `request_id`.
#[component]
pub fn ReceiptCard(
    /// The request the receipt is of.
    request_id: Uuid,
    /// Where the deletion of its stored files stands.
    files: StoredFilesStatus,
    /// The signed receipt's summary, once issued.
    signed: Option<ReceiptSummary>,
) -> impl IntoView {
    let body = match signed {
        Some(summary) => view! { <SignedReceipt request_id summary/> }.into_any(),
        None => {
            let pending = if files.deleted < files.total {
                format!(
                    "Files pending, {} of {} deleted. The signed receipt is issued once every stored file is deleted.",
                    files.deleted, files.total
                )
            } else {
                "Every stored file is deleted; the signed receipt is being issued.".to_owned()
            };
            view! { <p>{pending}</p> }.into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="receipt-heading">
            <h2 id="receipt-heading">"Receipt"</h2>
            {body}
        </section>
    }
}

/// The summary of an issued receipt and its download.
#[component]
fn SignedReceipt(request_id: Uuid, summary: ReceiptSummary) -> impl IntoView {
    let counts = &summary.counts;
    let erased = format!(
        "{} ({}, {}, {}), {}, {}",
        counted(counts.calls, "call", "calls"),
        counted(counts.recordings, "recording", "recordings"),
        counted(counts.voicemails, "voicemail", "voicemails"),
        counted(counts.transcripts, "transcript", "transcripts"),
        counted(counts.messages, "message", "messages"),
        counted(counts.media, "media file", "media files")
    );
    let activity = counts.activity_range();
    let residual = residual_result(&summary);
    let clean = summary.is_clean();
    let keys = match (summary.keys_destroyed, summary.keys_destroyed_at) {
        (Some(destroyed), Some(at)) => format!(
            "{} destroyed, the last at {}",
            counted(destroyed, "key", "keys"),
            format_time(at)
        ),
        (Some(_), None) => "none to destroy".to_owned(),
        (None, _) => "not recorded".to_owned(),
    };
    view! {
        <dl class="details">
            <dt>"Issued"</dt><dd>{format_time(summary.issued_at)}</dd>
            <dt>"Records"</dt><dd class="num-inline">{summary.records}</dd>
            <dt>"Erased"</dt><dd>{erased}</dd>
            <dt>"Activity"</dt><dd>{activity}</dd>
            <dt>"Database"</dt><dd>{format!("{} deleted", counted(summary.rows_deleted, "row", "rows"))}</dd>
            <dt>"Stored files"</dt><dd>{format!("{} of {} deleted", summary.files_deleted, summary.files_queued)}</dd>
            <dt>"Data keys"</dt><dd>{keys}</dd>
            <dt>"Residual check"</dt><dd class=(!clean).then_some("residual-left")>{residual}</dd>
        </dl>
        <p>
            <a class="button" href=format!("/requests/{request_id}/receipt.jws") download=format!("erasure-receipt-{request_id}.jws")>"Download receipt (.jws)"</a>
            " "
            <span class="muted">"Signed with Ed25519; verify it with any JOSE library and the keys at "
                <a href="/.well-known/receipt-keys.json">"/.well-known/receipt-keys.json"</a>"."</span>
        </p>
    }
}

/// The residual check's result in words: what was checked and what was left.
pub fn residual_result(summary: &ReceiptSummary) -> String {
    let tables = format!(
        "{} checked ({})",
        counted(summary.tables_checked.len() as i64, "table", "tables"),
        summary.tables_checked.join(", ")
    );
    let keys = format!(
        "{} checked, {} left{}",
        counted(summary.storage_keys_checked, "stored key", "stored keys"),
        counted(summary.objects_left, "object", "objects"),
        summary
            .data_keys_left
            .map(|left| format!("; {} left", counted(left, "data key", "data keys")))
            .unwrap_or_default()
    );
    if summary.is_clean() {
        format!("Nothing left: {tables}, 0 rows left; {keys}.")
    } else {
        format!(
            "Data left: {} in {}; {tables}; {keys}.",
            counted(summary.rows_left, "row", "rows"),
            if summary.tables_with_rows_left.is_empty() {
                "no table".to_owned()
            } else {
                summary.tables_with_rows_left.join(", ")
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErasureCounts;

    fn summary() -> ReceiptSummary {
        ReceiptSummary {
            issued_at: time::macros::datetime!(2026-12-02 12:00 UTC),
            records: 1,
            counts: ErasureCounts::default(),
            rows_deleted: 3,
            files_deleted: 2,
            files_queued: 2,
            tables_checked: vec!["calls".into(), "messages".into()],
            tables_with_rows_left: vec![],
            rows_left: 0,
            storage_keys_checked: 2,
            objects_left: 0,
            keys_destroyed: Some(1),
            keys_destroyed_at: Some(time::macros::datetime!(2026-12-02 11:59 UTC)),
            data_keys_left: Some(0),
        }
    }

    #[test]
    fn the_residual_check_says_what_was_checked_and_names_a_table_with_rows_left() {
        let mut summary = summary();
        assert_eq!(
            residual_result(&summary),
            "Nothing left: 2 tables checked (calls, messages), 0 rows left; 2 stored keys checked, 0 objects left; 0 data keys left."
        );
        summary.rows_left = 1;
        summary.tables_with_rows_left = vec!["calls".into()];
        assert!(residual_result(&summary).starts_with("Data left: 1 row in calls;"));
        summary.rows_left = 0;
        summary.tables_with_rows_left = vec![];
        summary.data_keys_left = Some(1);
        assert!(residual_result(&summary).ends_with("1 data key left."));
    }
}
