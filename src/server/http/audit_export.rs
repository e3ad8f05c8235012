//! `GET /audit/export.csv`: the audit log's events that pass the /audit page's filter, as a CSV download. Thin
//! like a server function: it reads the principal, asks `authz`, parses the filter, records the export in the
//! log, and streams the events batch by batch (`db::audit::export_batch`), so a long log never sits in memory.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::error::AppError;
use crate::server::db::audit::{EXPORT_BATCH, ExportedEvent, export_batch};
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::http::errors::error_response;
use crate::server::http::headers::attachment;
use crate::server::input::{self, AuditFilter};
use crate::server::spreadsheet::text_cell;
use crate::server::state::{AppState, db_failure};
use crate::server::{auth, authz};

/// Where the export is downloaded.
pub const AUDIT_EXPORT_PATH: &str = "/audit/export.csv";

/// The columns of the export, in order.
pub const EXPORT_COLUMNS: [&str; 11] = [
    "seq",
    "at",
    "actor",
    "action",
    "action_label",
    "target_user",
    "customer_id",
    "request_id",
    "subject_hmac",
    "details",
    "row_hash",
];

/// The filter as the page's form sends it (every field optional).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ExportQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// Admins holding Manage Customer Data while the account setting is on: their account's events that pass the
/// filter, newest first, as `text/csv` (an attachment, never cached). Signed out is 401, without the access 403,
/// a malformed filter 422, each as the console's JSON error; HEAD is 405.
pub(super) async fn export_audit_log(
    State(state): State<AppState>,
    method: Method,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Response {
    // axum answers HEAD with the GET handler; a HEAD exports nothing, so it must not be logged as an export.
    if method == Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response();
    }
    match start_export(&state, &query, &headers).await {
        Ok((account_id, filter)) => attachment(
            Body::from_stream(csv_stream(state, account_id, filter)).into_response(),
            "text/csv; charset=utf-8",
            &format!("audit-log-{}.csv", time::OffsetDateTime::now_utc().date()),
        ),
        Err(error) => error_response(&error),
    }
}

/// Authorizes the export, parses its filter and records it in the account's log (before a byte goes out, so an
/// export is never unrecorded).
async fn start_export(
    state: &AppState,
    query: &ExportQuery,
    headers: &HeaderMap,
) -> Result<(Uuid, AuditFilter), AppError> {
    let principal = auth::principal_of_headers(state, headers)
        .await?
        .ok_or(AppError::Unauthorized)?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let filter = input::audit_filter(&query.action, &query.actor, &query.from, &query.to)?;
    let entry = Entry::new(
        principal.account_id,
        Actor::User(principal.user_id),
        Action::AuditLogExported,
    );
    audit_log::append_alone(&state.pool, &entry)
        .await
        .map_err(db_failure)?;
    Ok((principal.account_id, filter))
}

/// Where the export stands.
enum ExportPosition {
    /// The header row is next.
    Header,
    /// The next batch: the events below this seq (from the newest when `None`).
    Below(Option<i64>),
    /// The last batch went out.
    Done,
}

/// The export's bytes: the header row, then one chunk per batch of events. A database error ends the stream
/// with an error, so the download fails rather than ending early and looking complete.
fn csv_stream(
    state: AppState,
    account_id: Uuid,
    filter: AuditFilter,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::try_unfold(ExportPosition::Header, move |position| {
        let state = state.clone();
        async move {
            let before = match position {
                ExportPosition::Done => return Ok(None),
                ExportPosition::Header => {
                    return Ok(Some((csv_rows(&[], true)?, ExportPosition::Below(None))));
                }
                ExportPosition::Below(before) => before,
            };
            let batch = export_batch(&state.pool, account_id, &filter, before)
                .await
                .map_err(|err| {
                    db_failure(err);
                    std::io::Error::other("the audit log could not be read")
                })?;
            let next = match batch.last() {
                Some(last) if batch.len() == EXPORT_BATCH => {
                    ExportPosition::Below(Some(last.event.seq))
                }
                Some(_) => ExportPosition::Done,
                None => return Ok(None),
            };
            Ok(Some((csv_rows(&batch, false)?, next)))
        }
    })
}

/// `events` as CSV rows (after the header row when `header`).
fn csv_rows(events: &[ExportedEvent], header: bool) -> std::io::Result<Bytes> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if header {
        writer.write_record(EXPORT_COLUMNS)?;
    }
    for exported in events {
        writer.write_record(export_row(exported))?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|err| std::io::Error::other(err.to_string()))
}

/// One event's cells, in `EXPORT_COLUMNS`' order. Text a person typed (a user's name) is kept from being read
/// as a formula by a spreadsheet (`text_cell`).
fn export_row(exported: &ExportedEvent) -> [String; 11] {
    let event = &exported.event;
    [
        event.seq.to_string(),
        event.at.format(&Rfc3339).unwrap_or_default(),
        text_cell(&event.actor),
        event.action.key().to_owned(),
        event.action.label().to_owned(),
        text_cell(event.target_user.as_deref().unwrap_or_default()),
        event
            .customer_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        event
            .request_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        exported.subject.clone().unwrap_or_default(),
        text_cell(&event.details_text()),
        exported.hash.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_row_names_every_column() {
        let bytes = csv_rows(&[], true).unwrap();
        assert_eq!(
            String::from_utf8(bytes.to_vec()).unwrap(),
            format!("{}\n", EXPORT_COLUMNS.join(","))
        );
    }
}
