//! Erasure requests as the console lists and shows them: the account's requests newest first, and one request
//! with its records, the deletion of its stored files, its timeline and its signed receipt (the file, and its
//! summary for the request's and the records' pages). The requests themselves are written by
//! the erasure (`server::erasure`).

use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{
    REQUEST_PAGE_SIZE, ReceiptSummary, RecordReceipt, RequestActions, RequestDetail, RequestEvent,
    RequestPage, RequestRecord, RequestState, RequestSummary, StoredFilesStatus,
};
use crate::server::evidence::receipts::stored_receipt;
use crate::server::input::Cursor;

/// The columns of a request's summary, from `erasure_requests r` joined with its requester `u` (named with "via
/// the API" for a request a token made for them).
const SUMMARY_COLUMNS: &str =
    "r.id, r.state, r.requested_by,
        u.name || case when r.api_token_id is null then '' else ' via the API' end as requested_by_name,
        r.received_at, r.due_at, r.completed_at,
        case when r.state in ('awaiting_approval', 'scheduled') then r.not_before end as not_before, r.failure,
        (select count(*) from erasure_request_records rr
         where rr.account_id = r.account_id and rr.request_id = r.id) as records, r.bulk_job_id";

/// The account's requests (`$1`), in state `$2` (any when null), newest first, after the cursor `$3`/`$4` (from
/// the start when null), at most `$5`.
pub static LIST_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select {SUMMARY_COLUMNS}
         from erasure_requests r join users u on u.account_id = r.account_id and u.id = r.requested_by
         where r.account_id = $1 and ($2::text is null or r.state = $2)
           and ($3::timestamptz is null or (r.received_at, r.id) < ($3, $4))
         order by r.received_at desc, r.id desc
         limit $5"
    )
});

#[derive(FromRow)]
struct SummaryRow {
    id: Uuid,
    state: String,
    requested_by: Uuid,
    requested_by_name: String,
    received_at: OffsetDateTime,
    due_at: OffsetDateTime,
    completed_at: Option<OffsetDateTime>,
    not_before: Option<OffsetDateTime>,
    failure: Option<String>,
    records: i64,
    bulk_job_id: Option<Uuid>,
}

impl SummaryRow {
    fn into_summary(self) -> sqlx::Result<RequestSummary> {
        let state = RequestState::from_key(&self.state).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown request state {:?}", self.state).into())
        })?;
        Ok(RequestSummary {
            id: self.id,
            state,
            records: self.records,
            requested_by_name: self.requested_by_name,
            received_at: self.received_at,
            due_at: self.due_at,
            completed_at: self.completed_at,
            requested_by: self.requested_by,
            not_before: self.not_before,
            failure: self.failure,
            bulk_job_id: self.bulk_job_id,
        })
    }
}

/// One page of account `account_id`'s requests in `state` (all when `None`), newest first, after `after`.
pub async fn list(
    pool: &PgPool,
    account_id: Uuid,
    state: Option<RequestState>,
    after: Option<Cursor>,
) -> sqlx::Result<RequestPage> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&LIST_SQL)
        .bind(account_id)
        .bind(state.map(RequestState::key))
        .bind(after.map(|cursor| cursor.at))
        .bind(after.map(|cursor| cursor.id))
        .bind(REQUEST_PAGE_SIZE as i64 + 1)
        .fetch_all(pool)
        .await?;
    let more = rows.len() > REQUEST_PAGE_SIZE;
    let requests = rows
        .into_iter()
        .take(REQUEST_PAGE_SIZE)
        .map(SummaryRow::into_summary)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let older = more.then(|| requests.last()).flatten().map(|last| {
        Cursor {
            at: last.received_at,
            id: last.id,
        }
        .encode()
    });
    Ok(RequestPage { requests, older })
}

/// The account's open requests (`$1`: awaiting approval, scheduled, erasing or failed), soonest due first, at
/// most `$2`.
pub static OPEN_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select {SUMMARY_COLUMNS}
         from erasure_requests r join users u on u.account_id = r.account_id and u.id = r.requested_by
         where r.account_id = $1 and r.state in ('awaiting_approval', 'scheduled', 'erasing', 'failed')
         order by r.due_at, r.id
         limit $2"
    )
});

/// Account `account_id`'s open requests, soonest due first: at most `REQUEST_PAGE_SIZE`.
pub async fn open(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<RequestSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&OPEN_SQL)
        .bind(account_id)
        .bind(REQUEST_PAGE_SIZE as i64)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// One record of a request, as its page lists it.
#[derive(FromRow)]
struct RecordRow {
    customer_id: Uuid,
    object_type: String,
    name: String,
    salesforce_id: String,
    calls: i32,
    messages: i32,
    erasure_id: Option<Uuid>,
}

/// A request's summary and the columns of its timeline, read in one statement.
#[derive(FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    #[sqlx(flatten)]
    transitions: TransitionsRow,
}

/// What the timeline of a request is made of: who did what and when, as its columns hold it.
#[derive(FromRow)]
struct TransitionsRow {
    requested_by_name: String,
    received_at: OffsetDateTime,
    approved_by_name: Option<String>,
    approved_at: Option<OffsetDateTime>,
    rejected_by_name: Option<String>,
    rejected_at: Option<OffsetDateTime>,
    rejection_reason: Option<String>,
    cancelled_by_name: Option<String>,
    cancelled_at: Option<OffsetDateTime>,
    completed_at: Option<OffsetDateTime>,
    failures: sqlx::types::Json<Vec<Failure>>,
}

/// One failure of a request's erasure, as `erasure_requests.failures` keeps it.
#[derive(serde::Deserialize)]
struct Failure {
    /// When, in seconds since the Unix epoch.
    at: f64,
    reason: String,
}

impl TransitionsRow {
    /// The transitions, oldest first.
    fn timeline(self) -> Vec<RequestEvent> {
        let mut events = vec![RequestEvent {
            at: self.received_at,
            what: "Received".into(),
            by: Some(self.requested_by_name),
        }];
        if let Some(at) = self.approved_at {
            events.push(RequestEvent {
                at,
                what: "Approved".into(),
                by: self.approved_by_name,
            });
        }
        if let Some(at) = self.rejected_at {
            let what = match self.rejection_reason {
                Some(reason) => format!("Rejected: {reason}"),
                None => "Rejected".into(),
            };
            events.push(RequestEvent {
                at,
                what,
                by: self.rejected_by_name,
            });
        }
        if let Some(at) = self.cancelled_at {
            events.push(RequestEvent {
                at,
                what: "Cancelled".into(),
                by: self.cancelled_by_name,
            });
        }
        for failure in self.failures.0 {
            events.push(RequestEvent {
                at: OffsetDateTime::from_unix_timestamp_nanos((failure.at * 1e9) as i128)
                    .unwrap_or(self.received_at),
                what: format!("Failed: {}", failure.reason),
                by: None,
            });
        }
        if let Some(at) = self.completed_at {
            events.push(RequestEvent {
                at,
                what: "Data deleted".into(),
                by: None,
            });
        }
        events.sort_by_key(|event| event.at);
        events
    }
}

/// Request `request_id` of account `account_id` (`None` when the account has no such request): its summary,
/// records in id order, the deletion of its stored files, its timeline and its signed receipt's summary; no
/// actions (they depend on the viewer, see `RequestActions::for_viewer`).
pub async fn detail(
    pool: &PgPool,
    account_id: Uuid,
    request_id: Uuid,
) -> sqlx::Result<Option<RequestDetail>> {
    let request: Option<DetailRow> = sqlx::query_as(&format!(
        "select {SUMMARY_COLUMNS},
                approver.name as approved_by_name, r.approved_at,
                rejecter.name as rejected_by_name, r.rejected_at, r.rejection_reason,
                canceller.name as cancelled_by_name, r.cancelled_at, r.failures
         from erasure_requests r
         join users u on u.account_id = r.account_id and u.id = r.requested_by
         left join users approver on approver.account_id = r.account_id and approver.id = r.approved_by
         left join users rejecter on rejecter.account_id = r.account_id and rejecter.id = r.rejected_by
         left join users canceller on canceller.account_id = r.account_id and canceller.id = r.cancelled_by
         where r.account_id = $1 and r.id = $2"
    ))
    .bind(account_id)
    .bind(request_id)
    .fetch_optional(pool)
    .await?;
    let Some(DetailRow {
        summary,
        transitions,
    }) = request
    else {
        return Ok(None);
    };
    let records: Vec<RecordRow> = sqlx::query_as(
        "select rr.customer_id, c.object_type, c.name, c.salesforce_id, rr.preview_calls as calls,
                rr.preview_messages as messages, e.id as erasure_id
         from erasure_request_records rr
         join customers c on c.account_id = rr.account_id and c.id = rr.customer_id
         left join erasures e on e.account_id = rr.account_id and e.customer_id = rr.customer_id
              and e.request_id = rr.request_id
         where rr.account_id = $1 and rr.request_id = $2
         order by rr.customer_id",
    )
    .bind(account_id)
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    let (files, receipt) = receipt_status(pool, account_id, request_id).await?;
    Ok(Some(RequestDetail {
        summary: summary.into_summary()?,
        records: records
            .into_iter()
            .map(|record| RequestRecord {
                customer_id: record.customer_id,
                object_type: record.object_type,
                name: record.name,
                salesforce_id: record.salesforce_id,
                calls: record.calls.into(),
                messages: record.messages.into(),
                erasure_id: record.erasure_id,
            })
            .collect(),
        files,
        timeline: transitions.timeline(),
        receipt,
        actions: RequestActions::default(),
    }))
}

/// Where request `request_id` of account `account_id` stands on its way to a final receipt: the deletion of its
/// stored files (the recordings, voicemails and media its erasures counted; those whose outbox batches are still
/// queued are waiting, the others are deleted) and its signed receipt's summary, once issued.
async fn receipt_status(
    pool: &PgPool,
    account_id: Uuid,
    request_id: Uuid,
) -> sqlx::Result<(StoredFilesStatus, Option<ReceiptSummary>)> {
    let (total, waiting, last_attempt_failed, next_attempt_at, receipt_jws): (
        i64,
        i64,
        bool,
        Option<OffsetDateTime>,
        Option<String>,
    ) = sqlx::query_as(
        "with erased as (
             select id, recordings_deleted + voicemails_deleted + media_deleted as files
             from erasures where account_id = $1 and request_id = $2
         ), queued as (
             select o.object_keys, o.last_error, o.next_attempt_at
             from object_deletions o join erased on erased.id = o.erasure_id
         )
         select (select coalesce(sum(files), 0) from erased)::bigint,
                (select coalesce(sum(cardinality(object_keys)), 0) from queued)::bigint,
                coalesce((select bool_or(last_error is not null) from queued), false),
                (select min(next_attempt_at) from queued),
                (select receipt_jws from erasure_requests where account_id = $1 and id = $2)",
    )
    .bind(account_id)
    .bind(request_id)
    .fetch_one(pool)
    .await?;
    let files = StoredFilesStatus {
        total,
        deleted: (total - waiting).max(0),
        last_attempt_failed,
        next_attempt_at,
    };
    let summary = receipt_jws
        .as_deref()
        .and_then(stored_receipt)
        .map(|receipt| receipt.page_summary());
    Ok((files, summary))
}

/// The receipt of the request that erased record `customer_id` of account `account_id`, or where it stands;
/// `None` when the record is not erased.
pub async fn record_receipt(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<Option<RecordReceipt>> {
    let request_id: Option<Uuid> = sqlx::query_scalar(
        "select request_id from erasures where account_id = $1 and customer_id = $2",
    )
    .bind(account_id)
    .bind(customer_id)
    .fetch_optional(pool)
    .await?;
    let Some(request_id) = request_id else {
        return Ok(None);
    };
    let (files, signed) = receipt_status(pool, account_id, request_id).await?;
    Ok(Some(RecordReceipt {
        request_id,
        files,
        signed,
    }))
}

/// The signed receipt (a compact JWS) of request `request_id` of account `account_id`, once issued.
pub async fn receipt(
    pool: &PgPool,
    account_id: Uuid,
    request_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "select receipt_jws from erasure_requests
         where account_id = $1 and id = $2 and receipt_jws is not null",
    )
    .bind(account_id)
    .bind(request_id)
    .fetch_optional(pool)
    .await
}
