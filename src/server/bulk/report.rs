//! What a bulk job shows: its dry run's totals, its rows a page at a time with the records they matched and,
//! once confirmed, their requests' states and what their erasures removed; its progress (done, failed,
//! remaining); the account's recent jobs; and the two CSV downloads, the dry run and the results, whose every
//! cell a spreadsheet shows as text.

use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{
    BulkJob, BulkJobSummary, BulkProgress, BulkRecord, BulkRow, BulkTotals, BulkVerdict,
    ErasurePolicy, RequestState,
};
use crate::server::db;
use crate::server::spreadsheet::text_cell;

/// The rows of job `$2` of account `$1` from line `$3` on, at most `$4`, with their records (as JSON), their
/// requests' states and, for a completed request, the calls and messages its erasures removed.
pub const JOB_ROWS_SQL: &str = "select b.line, b.kind, b.verdict, b.reason, b.duplicate_of, b.calls, b.messages,
                b.request_id, r.state as request_state,
                (select coalesce(jsonb_agg(jsonb_build_array(c.id, c.object_type, c.salesforce_id)
                                           order by c.object_type, c.salesforce_id), '[]'::jsonb)::text
                 from customers c where c.account_id = b.account_id and c.id = any(b.customer_ids)) as records,
                e.calls_deleted, e.messages_deleted
         from bulk_job_rows b
         left join erasure_requests r on r.account_id = b.account_id and r.id = b.request_id
         left join lateral (
             select sum(calls_deleted)::bigint as calls_deleted, sum(messages_deleted)::bigint as messages_deleted
             from erasures x where x.account_id = b.account_id and x.request_id = b.request_id
         ) e on r.state = 'completed'
         where b.account_id = $1 and b.job_id = $2 and b.line >= $3
         order by b.line
         limit $4";

#[derive(FromRow)]
struct RowRecord {
    line: i32,
    kind: Option<String>,
    verdict: String,
    reason: Option<String>,
    duplicate_of: Option<i32>,
    calls: i64,
    messages: i64,
    request_id: Option<Uuid>,
    request_state: Option<String>,
    records: String,
    calls_deleted: Option<i64>,
    messages_deleted: Option<i64>,
}

impl RowRecord {
    fn into_row(self) -> BulkRow {
        let records: Vec<(Uuid, String, String)> =
            serde_json::from_str(&self.records).unwrap_or_default();
        BulkRow {
            line: self.line,
            kind: self.kind,
            verdict: BulkVerdict::from_key(&self.verdict).unwrap_or(BulkVerdict::Malformed),
            reason: self.reason,
            duplicate_of: self.duplicate_of,
            records: records
                .into_iter()
                .map(|(customer_id, object_type, salesforce_id)| BulkRecord {
                    customer_id,
                    object_type,
                    salesforce_id,
                })
                .collect(),
            calls: self.calls,
            messages: self.messages,
            request_id: self.request_id,
            request_state: self
                .request_state
                .as_deref()
                .and_then(RequestState::from_key),
            erased: self.calls_deleted.zip(self.messages_deleted),
        }
    }
}

/// Job `job_id`'s rows from `from_line` on, at most `limit`, in line order.
pub async fn rows(
    pool: &PgPool,
    account_id: Uuid,
    job_id: Uuid,
    from_line: i32,
    limit: i64,
) -> sqlx::Result<Vec<BulkRow>> {
    let rows: Vec<RowRecord> = sqlx::query_as(JOB_ROWS_SQL)
        .bind(account_id)
        .bind(job_id)
        .bind(from_line)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(RowRecord::into_row).collect())
}

#[derive(FromRow)]
struct JobRecord {
    id: Uuid,
    created_at: OffsetDateTime,
    created_by_name: String,
    rows_total: i32,
    identifier_column: String,
    suppress: bool,
    confirmed_at: Option<OffsetDateTime>,
    confirmed_by_name: Option<String>,
}

/// Whether account `account_id` has job `job_id`.
pub async fn exists(pool: &PgPool, account_id: Uuid, job_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from bulk_jobs where account_id = $1 and id = $2)")
        .bind(account_id)
        .bind(job_id)
        .fetch_one(pool)
        .await
}

/// Job `job_id` of account `account_id` with the page of rows from `from_line` on (`None` when the account has
/// no such job); `viewer` decides whether the batch's approval is offered.
pub async fn job(
    pool: &PgPool,
    account_id: Uuid,
    job_id: Uuid,
    from_line: i32,
    viewer: Uuid,
) -> sqlx::Result<Option<BulkJob>> {
    let Some(job) = sqlx::query_as::<_, JobRecord>(
        "select j.id, j.created_at, u.name as created_by_name, j.rows_total, j.identifier_column, j.suppress,
                j.confirmed_at, c.name as confirmed_by_name
         from bulk_jobs j
         join users u on u.account_id = j.account_id and u.id = j.created_by
         left join users c on c.account_id = j.account_id and c.id = j.confirmed_by
         where j.account_id = $1 and j.id = $2",
    )
    .bind(account_id)
    .bind(job_id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let totals = totals(pool, account_id, job_id).await?;
    let policy = db::accounts::erasure_policy(pool, account_id).await?;
    let confirmed = job.confirmed_at.zip(job.confirmed_by_name);
    let (progress, can_decide) = if confirmed.is_some() {
        let (progress, requester) = progress(pool, account_id, job_id).await?;
        let can_decide = progress.awaiting_approval > 0 && requester != Some(viewer);
        (Some(progress), can_decide)
    } else {
        (None, false)
    };
    let page_size = crate::model::BULK_PAGE_ROWS;
    let mut rows = rows(pool, account_id, job_id, from_line, page_size + 1).await?;
    let next_line = (rows.len() as i64 > page_size)
        .then(|| rows.pop().map(|row| row.line))
        .flatten();
    Ok(Some(BulkJob {
        id: job.id,
        created_at: job.created_at,
        created_by_name: job.created_by_name,
        rows_total: job.rows_total,
        identifier_column: job.identifier_column,
        suppress: job.suppress,
        outcome: outcome(&policy, &totals).to_owned(),
        totals,
        confirmed,
        progress,
        can_decide,
        rows,
        next_line,
    }))
}

/// What the account's `policy` does with a batch of `totals`.
fn outcome(policy: &ErasurePolicy, totals: &BulkTotals) -> &'static str {
    if policy.needs_approval(totals.records, totals.calls + totals.messages) {
        RequestState::AwaitingApproval.key()
    } else if policy.hold_hours > 0 {
        RequestState::Scheduled.key()
    } else {
        "erase_now"
    }
}

/// Job `job_id`'s rows per verdict and what its rows to erase hold.
pub async fn totals(pool: &PgPool, account_id: Uuid, job_id: Uuid) -> sqlx::Result<BulkTotals> {
    let counted: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        "select verdict, count(*), coalesce(sum(cardinality(customer_ids)), 0)::bigint,
                coalesce(sum(calls), 0)::bigint, coalesce(sum(messages), 0)::bigint
         from bulk_job_rows where account_id = $1 and job_id = $2 group by verdict",
    )
    .bind(account_id)
    .bind(job_id)
    .fetch_all(pool)
    .await?;
    let mut totals = BulkTotals {
        rows: BulkVerdict::ALL
            .iter()
            .map(|verdict| (*verdict, 0))
            .collect(),
        ..BulkTotals::default()
    };
    for (key, rows, records, calls, messages) in counted {
        let Some(verdict) = BulkVerdict::from_key(&key) else {
            continue;
        };
        if let Some(slot) = totals.rows.iter_mut().find(|(v, _)| *v == verdict) {
            slot.1 = rows;
        }
        if verdict == BulkVerdict::Erase {
            totals.persons = rows;
            totals.records = records;
            totals.calls = calls;
            totals.messages = messages;
        }
    }
    Ok(totals)
}

/// Where job `job_id`'s requests stand, and who requested them.
pub async fn progress(
    pool: &PgPool,
    account_id: Uuid,
    job_id: Uuid,
) -> sqlx::Result<(BulkProgress, Option<Uuid>)> {
    let states: Vec<(String, i64, Option<Uuid>)> = sqlx::query_as(
        "select state, count(*), min(requested_by::text)::uuid from erasure_requests
         where account_id = $1 and bulk_job_id = $2 group by state",
    )
    .bind(account_id)
    .bind(job_id)
    .fetch_all(pool)
    .await?;
    let mut progress = BulkProgress::default();
    let mut requester = None;
    for (state, count, requested_by) in states {
        requester = requester.or(requested_by);
        match RequestState::from_key(&state) {
            Some(RequestState::Completed) => progress.done += count,
            Some(RequestState::Failed) => progress.failed += count,
            Some(RequestState::Rejected | RequestState::Cancelled) => progress.stopped += count,
            Some(RequestState::AwaitingApproval) => {
                progress.awaiting_approval += count;
                progress.remaining += count;
            }
            _ => progress.remaining += count,
        }
    }
    Ok((progress, requester))
}

/// The account's most recent jobs, newest first, at most 20.
pub async fn recent(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<BulkJobSummary>> {
    sqlx::query_as::<
        _,
        (
            Uuid,
            OffsetDateTime,
            String,
            i32,
            i64,
            Option<OffsetDateTime>,
        ),
    >(
        "select j.id, j.created_at, u.name, j.rows_total,
                (select count(*) from bulk_job_rows b
                 where b.account_id = j.account_id and b.job_id = j.id and b.verdict = 'erase'),
                j.confirmed_at
         from bulk_jobs j join users u on u.account_id = j.account_id and u.id = j.created_by
         where j.account_id = $1 order by j.created_at desc limit 20",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await
    .map(|jobs| {
        jobs.into_iter()
            .map(
                |(id, created_at, created_by_name, rows_total, persons, confirmed_at)| {
                    BulkJobSummary {
                        id,
                        created_at,
                        created_by_name,
                        rows_total,
                        persons,
                        confirmed_at,
                    }
                },
            )
            .collect()
    })
}

/// The columns of the dry run's CSV.
pub const DRY_RUN_COLUMNS: [&str; 8] = [
    "line",
    "identifier_kind",
    "verdict",
    "reason",
    "duplicate_of",
    "records",
    "calls",
    "messages",
];

/// The columns of the results' CSV.
pub const RESULTS_COLUMNS: [&str; 9] = [
    "line",
    "verdict",
    "request_id",
    "state",
    "records",
    "calls_erased",
    "messages_erased",
    "reason",
    "duplicate_of",
];

/// Which of the two CSVs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// Every row's verdict and what it matched.
    DryRun,
    /// Every row's request and what its erasure removed.
    Results,
}

/// Job `job_id`'s `sheet` as CSV bytes, every row of the job (at most `parse::MAX_ROWS`), and how many rows.
pub async fn csv(
    pool: &PgPool,
    account_id: Uuid,
    job_id: Uuid,
    sheet: Sheet,
) -> sqlx::Result<(Vec<u8>, usize)> {
    let all = rows(pool, account_id, job_id, 0, super::MAX_ROWS as i64).await?;
    Ok((write_csv(&all, sheet), all.len()))
}

/// `rows` as `sheet`'s CSV.
fn write_csv(rows: &[BulkRow], sheet: Sheet) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = match sheet {
        Sheet::DryRun => writer.write_record(DRY_RUN_COLUMNS),
        Sheet::Results => writer.write_record(RESULTS_COLUMNS),
    };
    let mut outcome = written;
    for row in rows {
        if outcome.is_err() {
            break;
        }
        let cells = match sheet {
            Sheet::DryRun => dry_run_cells(row),
            Sheet::Results => results_cells(row),
        };
        outcome = writer.write_record(cells.iter().map(|cell| text_cell(cell)));
    }
    if let Err(err) = outcome {
        tracing::error!(error = %err, "bulk CSV could not be written");
    }
    writer.into_inner().unwrap_or_default()
}

fn records_cell(row: &BulkRow) -> String {
    row.records
        .iter()
        .map(|record| format!("{} {}", record.object_type, record.salesforce_id))
        .collect::<Vec<_>>()
        .join("; ")
}

fn dry_run_cells(row: &BulkRow) -> Vec<String> {
    vec![
        row.line.to_string(),
        row.kind.clone().unwrap_or_default(),
        row.verdict.key().to_owned(),
        row.reason.clone().unwrap_or_default(),
        row.duplicate_of
            .map(|line| line.to_string())
            .unwrap_or_default(),
        records_cell(row),
        row.calls.to_string(),
        row.messages.to_string(),
    ]
}

fn results_cells(row: &BulkRow) -> Vec<String> {
    let (calls, messages) = row
        .erased
        .map(|(calls, messages)| (calls.to_string(), messages.to_string()))
        .unwrap_or_default();
    vec![
        row.line.to_string(),
        row.verdict.key().to_owned(),
        row.request_id.map(|id| id.to_string()).unwrap_or_default(),
        row.request_state
            .map(|state| state.key().to_owned())
            .unwrap_or_default(),
        records_cell(row),
        calls,
        messages,
        row.reason.clone().unwrap_or_default(),
        row.duplicate_of
            .map(|line| line.to_string())
            .unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reason: &str) -> BulkRow {
        BulkRow {
            line: 7,
            kind: None,
            verdict: BulkVerdict::Malformed,
            reason: Some(reason.into()),
            duplicate_of: None,
            records: Vec::new(),
            calls: 0,
            messages: 0,
            request_id: None,
            request_state: None,
            erased: None,
        }
    }

    #[test]
    fn every_cell_of_both_sheets_is_text_to_a_spreadsheet() {
        for sheet in [Sheet::DryRun, Sheet::Results] {
            let text = String::from_utf8(write_csv(&[row("=cmd|' /C calc'!A0")], sheet)).unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            assert!(
                record.iter().any(|cell| cell == "'=cmd|' /C calc'!A0"),
                "{text}"
            );
            assert!(record.iter().all(|cell| !cell.starts_with('=')), "{text}");
        }
    }

    #[test]
    fn a_batch_is_weighed_whole_by_the_policy() {
        let policy = ErasurePolicy {
            hold_hours: 0,
            deadline_days: 30,
            approval_min_records: Some(10),
            approval_min_items: None,
        };
        let small = BulkTotals {
            records: 9,
            ..BulkTotals::default()
        };
        let large = BulkTotals {
            records: 10,
            ..BulkTotals::default()
        };
        assert_eq!(outcome(&policy, &small), "erase_now");
        assert_eq!(outcome(&policy, &large), "awaiting_approval");
    }
}
