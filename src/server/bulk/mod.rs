//! Bulk erasure (DESIGN.md /requests/bulk, `POST /api/v1/bulk-jobs`): a file of identifiers is checked in a
//! dry run that erases nothing and stores, per row, its verdict and the records it matched (`check_file`);
//! confirming it makes one erasure request per person for exactly the dry run's records, in one transaction,
//! held or awaiting approval under the account's erasure policy as one batch (`confirm`, `decide`); the
//! scheduler then erases the requests one by one, each in its own transaction, so a job stopped by a restart
//! goes on where it stood and no person is erased twice (a request runs once, and a record erased meanwhile is
//! left to the erasure that took it). The identifiers themselves are never stored.

pub mod parse;
pub mod report;

use std::collections::{HashMap, HashSet};

use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{BulkVerdict, RequestState};
use crate::server::db;
use crate::server::erasure;
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::evidence::identity::{PersonId, Subject};
use crate::server::input::CustomerQuery;
use crate::server::state::{AppState, db_failure};

pub use parse::{MAX_FILE_BYTES, MAX_ROWS};

/// The most records one row may match: as many as one search lists.
const MAX_ROW_RECORDS: usize = crate::server::db::customers::search::SEARCH_LIMIT as usize;

/// Who uploads or confirms a job: a user of the account, through the console or an API token acting for them.
#[derive(Debug, Clone, Copy)]
pub struct JobActor {
    /// The user.
    pub user_id: Uuid,
    /// The API token, when the job came through the API.
    pub token_id: Option<Uuid>,
}

impl JobActor {
    /// The actor as the audit log names it: the token when there is one.
    fn audit_actor(self) -> Actor {
        self.token_id
            .map_or(Actor::User(self.user_id), Actor::Token)
    }
}

/// The records of the account that match the rows `$2` (lines), `$3` (kinds) and `$4` (values: an email, an
/// 18-character Salesforce id, an E.164 number), each probed through its own index, at most `$5` + 1 per row (one
/// more than a row may match, so that a row matching more is known without reading them all), with the calls
/// and messages of the records not yet erased of the rows that match at most `$5`.
pub const MATCH_ROWS_SQL: &str = "with wanted as (
             select * from unnest($2::int[], $3::text[], $4::text[]) as w(line, kind, value)
         ), found as (
             select w.line, c.id, c.object_type, c.name, c.salesforce_id, c.erased_at
             from wanted w join customers c on c.account_id = $1 and lower(c.email) = lower(w.value)
             where w.kind = 'email'
             union all
             select w.line, c.id, c.object_type, c.name, c.salesforce_id, c.erased_at
             from wanted w join customers c on c.account_id = $1 and c.salesforce_id = w.value
             where w.kind = 'salesforce_id'
             union all
             select w.line, c.id, c.object_type, c.name, c.salesforce_id, c.erased_at
             from wanted w join customers c on c.account_id = $1 and c.phone_e164 = w.value
             where w.kind = 'phone'
         ), ranked as (
             select f.*, row_number() over (partition by f.line order by f.object_type, f.name, f.id) as n,
                    count(*) over (partition by f.line) as matches
             from found f
         )
         select r.line, r.id, r.erased_at is not null as erased,
                case when r.erased_at is null and r.matches <= $5 then
                    (select count(*) from calls k where k.account_id = $1 and k.customer_id = r.id) else 0 end as calls,
                case when r.erased_at is null and r.matches <= $5 then
                    (select count(*) from messages m where m.account_id = $1 and m.customer_id = r.id) else 0 end
                    as messages
         from ranked r where r.n <= $5 + 1 order by r.line, r.n";

/// Stores job `$2` of account `$1`.
const INSERT_JOB_SQL: &str = "insert into bulk_jobs
             (id, account_id, created_by, api_token_id, identifier_column, rows_total, suppress)
         values ($2, $1, $3, $4, $5, $6, $7)";

/// Stores the rows of job `$2` of account `$1`, one array per column; a row's records are its ids joined by
/// commas (`$9`).
const INSERT_ROWS_SQL: &str = "insert into bulk_job_rows
             (account_id, job_id, line, kind, verdict, reason, duplicate_of, customer_ids, calls, messages)
         select $1, $2, line, kind, verdict, reason, duplicate_of,
                coalesce(string_to_array(nullif(ids, ''), ',')::uuid[], '{}'), calls, messages
         from unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], $10::bigint[], $9::text[])
              as r(line, kind, verdict, reason, duplicate_of, calls, messages, ids)";

#[derive(FromRow)]
struct MatchedRecord {
    line: i32,
    id: Uuid,
    erased: bool,
    calls: i64,
    messages: i64,
}

/// What the dry run decided for one row.
#[derive(Debug, Default)]
struct RowVerdict {
    /// The person the row searched for, as their keyed hash, and how many records it found (a row that repeats
    /// an earlier row's identifier searched for nothing).
    searched: Option<(Subject, i64)>,
    kind: Option<&'static str>,
    verdict: Option<BulkVerdict>,
    reason: Option<String>,
    duplicate_of: Option<i32>,
    customer_ids: Vec<Uuid>,
    calls: i64,
    messages: i64,
}

/// What checking a file made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The job.
    pub job_id: Uuid,
    /// Its confirmation, when it was asked for and the dry run found persons to erase.
    pub confirmed: Option<Confirmed>,
}

/// Checks `file` for account `account_id` as `actor` (the dry run): reads it (`parse::read_file`: 413 or 422
/// for a file that cannot be a bulk file, with nothing stored), finds every row's records in a few statements,
/// decides each row's verdict, and stores the job and its rows with their audit entries (each row's search, as
/// its person's keyed hash, and the job's `bulk_job_checked`), in one transaction. Erases nothing. With
/// `then_confirm`, the same transaction also confirms the job for every person the dry run found (`confirm`),
/// so that either both are stored or neither.
pub async fn check_file(
    state: &AppState,
    account_id: Uuid,
    actor: JobActor,
    file: &[u8],
    suppress: bool,
    then_confirm: bool,
) -> Result<Checked, AppError> {
    let pool = &state.pool;
    let country = db::accounts::default_country(pool, account_id)
        .await
        .map_err(db_failure)?;
    let parsed = parse::read_file(file, &country).map_err(|refusal| refusal.error())?;
    let verdicts = verdicts(state, account_id, &parsed.rows)
        .await
        .map_err(db_failure)?;
    let job = NewJob {
        account_id,
        job_id: Uuid::new_v4(),
        actor,
        column: parsed.column.key(),
        suppress,
    };
    let persons = verdicts
        .iter()
        .filter(|v| v.verdict == Some(BulkVerdict::Erase))
        .count() as i64;
    let stored = async {
        let mut tx = pool.begin().await?;
        store_job(&mut tx, &job, &parsed.rows, &verdicts).await?;
        let confirmed = if then_confirm && persons > 0 {
            Some(confirm_in(&mut tx, account_id, job.job_id, actor, persons).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok::<_, ConfirmError>(confirmed)
    };
    let confirmed = stored.await.map_err(ConfirmError::into_app_error)?;
    Ok(Checked {
        job_id: job.job_id,
        confirmed,
    })
}

/// A job to store: whose, its id, by whom, where its identifiers were and whether its people go on the
/// suppression list.
struct NewJob<'a> {
    account_id: Uuid,
    job_id: Uuid,
    actor: JobActor,
    column: &'a str,
    suppress: bool,
}

/// The verdict of each of `rows`, in order.
async fn verdicts(
    state: &AppState,
    account_id: Uuid,
    rows: &[parse::ParsedRow],
) -> sqlx::Result<Vec<RowVerdict>> {
    let mut verdicts: Vec<RowVerdict> = rows.iter().map(|_| RowVerdict::default()).collect();
    let mut first_line_of: HashMap<String, i32> = HashMap::new();
    let (mut lines, mut kinds, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for (row, verdict) in rows.iter().zip(verdicts.iter_mut()) {
        let line = line_number(row.line);
        match &row.read {
            Err(reason) => {
                verdict.verdict = Some(BulkVerdict::Malformed);
                verdict.reason = Some(reason.clone());
            }
            Ok(query) => {
                let (kind, value) = query_parts(query);
                verdict.kind = Some(kind);
                let person = PersonId::of_query(query).normalized();
                if let Some(first) = first_line_of.get(&person) {
                    verdict.verdict = Some(BulkVerdict::Duplicate);
                    verdict.duplicate_of = Some(*first);
                } else {
                    first_line_of.insert(person, line);
                    lines.push(line);
                    kinds.push(kind);
                    values.push(value);
                }
            }
        }
    }
    let matched: Vec<MatchedRecord> = sqlx::query_as(MATCH_ROWS_SQL)
        .bind(account_id)
        .bind(&lines)
        .bind(&kinds)
        .bind(&values)
        .bind(MAX_ROW_RECORDS as i64)
        .fetch_all(&state.pool)
        .await?;
    let mut by_line: HashMap<i32, Vec<MatchedRecord>> = HashMap::new();
    for record in matched {
        by_line.entry(record.line).or_default().push(record);
    }
    let suppressed = suppressed_rows(state, account_id, rows, &verdicts, &by_line).await?;
    let key = state.evidence_secret.account_key(account_id);
    let mut claimed: HashMap<Uuid, i32> = HashMap::new();
    for (row, verdict) in rows.iter().zip(verdicts.iter_mut()) {
        let (None, Ok(query)) = (verdict.verdict, &row.read) else {
            continue;
        };
        let line = line_number(row.line);
        let records = by_line.remove(&line).unwrap_or_default();
        verdict.searched = Some((
            key.subject(&PersonId::of_query(query)),
            records.len() as i64,
        ));
        decide_row(
            verdict,
            line,
            records,
            suppressed.contains(&line),
            &mut claimed,
        );
    }
    Ok(verdicts)
}

/// The verdict of a searchable row at `line` that is not a repeated identifier, from its `records`: the records
/// not yet erased that no earlier row took are this row's to erase (a row whose records an earlier row took,
/// all of them, repeats that row: `Duplicate`; one that shares only some erases the others), so that every
/// record found is in exactly one request.
fn decide_row(
    verdict: &mut RowVerdict,
    line: i32,
    records: Vec<MatchedRecord>,
    suppressed: bool,
    claimed: &mut HashMap<Uuid, i32>,
) {
    if records.len() > MAX_ROW_RECORDS {
        verdict.verdict = Some(BulkVerdict::Malformed);
        verdict.reason = Some(format!(
            "More than {MAX_ROW_RECORDS} records match: name the person by a Salesforce ID."
        ));
        return;
    }
    let unerased: Vec<&MatchedRecord> = records.iter().filter(|record| !record.erased).collect();
    if unerased.is_empty() {
        verdict.verdict = Some(if suppressed {
            BulkVerdict::Suppressed
        } else if records.is_empty() {
            BulkVerdict::NotFound
        } else {
            BulkVerdict::AlreadyErased
        });
        verdict.customer_ids = records.iter().map(|record| record.id).collect();
        return;
    }
    let unclaimed: Vec<&MatchedRecord> = unerased
        .iter()
        .copied()
        .filter(|record| !claimed.contains_key(&record.id))
        .collect();
    if unclaimed.is_empty() {
        verdict.verdict = Some(BulkVerdict::Duplicate);
        verdict.duplicate_of = unerased
            .iter()
            .find_map(|record| claimed.get(&record.id))
            .copied();
        return;
    }
    for record in &unclaimed {
        claimed.insert(record.id, line);
    }
    verdict.verdict = Some(BulkVerdict::Erase);
    verdict.customer_ids = unclaimed.iter().map(|record| record.id).collect();
    verdict.calls = unclaimed.iter().map(|record| record.calls).sum();
    verdict.messages = unclaimed.iter().map(|record| record.messages).sum();
}

/// The lines, among the rows still undecided whose records are all erased (or none), whose identifier is on the
/// account's suppression list.
async fn suppressed_rows(
    state: &AppState,
    account_id: Uuid,
    rows: &[parse::ParsedRow],
    verdicts: &[RowVerdict],
    by_line: &HashMap<i32, Vec<MatchedRecord>>,
) -> sqlx::Result<HashSet<i32>> {
    let key = state.evidence_secret.account_key(account_id);
    let mut line_of: HashMap<Vec<u8>, i32> = HashMap::new();
    for (row, verdict) in rows.iter().zip(verdicts) {
        let line = line_number(row.line);
        let all_erased = by_line
            .get(&line)
            .is_none_or(|records| records.iter().all(|record| record.erased));
        if let (None, Ok(query), true) = (verdict.verdict, &row.read, all_erased) {
            let subject = key.subject(&PersonId::of_query(query));
            line_of.insert(subject.as_bytes().to_vec(), line);
        }
    }
    let hashes: Vec<Vec<u8>> = line_of.keys().cloned().collect();
    let listed: Vec<Vec<u8>> = sqlx::query_scalar(
        "select identifier_hmac from suppressions
         where account_id = $1 and identifier_hmac = any($2) and lifted_at is null",
    )
    .bind(account_id)
    .bind(&hashes)
    .fetch_all(&state.pool)
    .await?;
    Ok(listed
        .iter()
        .filter_map(|hash| line_of.get(hash).copied())
        .collect())
}

/// A line as stored.
fn line_number(line: u32) -> i32 {
    i32::try_from(line).unwrap_or(i32::MAX)
}

/// The kind and value of a search, as `MATCH_ROWS_SQL` takes them.
fn query_parts(query: &CustomerQuery) -> (&'static str, String) {
    match query {
        CustomerQuery::Email(email) => ("email", email.clone()),
        CustomerQuery::SalesforceId(id) => ("salesforce_id", id.as_str().to_owned()),
        CustomerQuery::Phone(number) => ("phone", number.clone()),
    }
}

/// Stores `job` with its rows' verdicts and its audit entries, in the caller's transaction `tx`.
async fn store_job(
    tx: &mut PgConnection,
    job: &NewJob<'_>,
    rows: &[parse::ParsedRow],
    verdicts: &[RowVerdict],
) -> sqlx::Result<()> {
    let NewJob {
        account_id,
        job_id,
        actor,
        column,
        suppress,
    } = *job;
    sqlx::query(INSERT_JOB_SQL)
        .bind(account_id)
        .bind(job_id)
        .bind(actor.user_id)
        .bind(actor.token_id)
        .bind(column)
        .bind(i32::try_from(rows.len()).unwrap_or(i32::MAX))
        .bind(suppress)
        .execute(&mut *tx)
        .await?;
    let lines: Vec<i32> = rows.iter().map(|row| line_number(row.line)).collect();
    let kinds: Vec<Option<&str>> = verdicts.iter().map(|v| v.kind).collect();
    let keys: Vec<&str> = verdicts
        .iter()
        .map(|v| v.verdict.unwrap_or(BulkVerdict::Malformed).key())
        .collect();
    let reasons: Vec<Option<&str>> = verdicts.iter().map(|v| v.reason.as_deref()).collect();
    let duplicates: Vec<Option<i32>> = verdicts.iter().map(|v| v.duplicate_of).collect();
    let calls: Vec<i64> = verdicts.iter().map(|v| v.calls).collect();
    let messages: Vec<i64> = verdicts.iter().map(|v| v.messages).collect();
    let ids: Vec<String> = verdicts
        .iter()
        .map(|v| {
            v.customer_ids
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    sqlx::query(INSERT_ROWS_SQL)
        .bind(account_id)
        .bind(job_id)
        .bind(&lines)
        .bind(&kinds)
        .bind(&keys)
        .bind(&reasons)
        .bind(&duplicates)
        .bind(&calls)
        .bind(&ids)
        .bind(&messages)
        .execute(&mut *tx)
        .await?;
    let persons = verdicts
        .iter()
        .filter(|v| v.verdict == Some(BulkVerdict::Erase))
        .count();
    let by = actor.audit_actor();
    let mut entries: Vec<Entry> = verdicts
        .iter()
        .filter_map(|v| v.searched)
        .map(|(subject, found)| {
            Entry::new(account_id, by, Action::CustomerSearched)
                .subject(subject)
                .count("matches", found.min(MAX_ROW_RECORDS as i64))
                .count("more", i64::from(found > MAX_ROW_RECORDS as i64))
        })
        .collect();
    entries.push(
        Entry::new(account_id, by, Action::BulkJobChecked)
            .count("rows", rows.len() as i64)
            .count("persons", persons as i64)
            .ids("bulk_job", &[job_id]),
    );
    audit_log::append_many(tx, account_id, &entries).await?;
    Ok(())
}

/// What a confirmation made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmed {
    /// Requests made, one per person.
    pub requests: usize,
    /// The state they wait in: `Scheduled` (their hold, or their turn) or `AwaitingApproval`.
    pub state: RequestState,
    /// Whether they are due now (no hold), so that a pass of the scheduler should start.
    pub due_now: bool,
}

/// Opens one request per person of job `$2`: the arrays `$2` (request ids), in state `$4`, requested by `$3`,
/// received now, due the account's deadline days later, held the account's hold hours, with the job's
/// suppression choice `$5`, through the API token `$6` if any, for job `$7`.
const OPEN_BULK_REQUESTS_SQL: &str = "insert into erasure_requests
             (id, account_id, requested_by, received_at, due_at, state, not_before, suppress, source,
              api_token_id, bulk_job_id)
         select r.id, a.id, $3, t.now, t.now + make_interval(days => a.deadline_days), $4,
                t.now + make_interval(hours => a.hold_hours), $5, 'bulk', $6, $7
         from unnest($2::uuid[]) as r(id), accounts a, (select clock_timestamp() as now) t
         where a.id = $1";

/// Records the records of the requests: parallel arrays of request ids `$2`, customer ids `$3` and their calls
/// `$4` and messages `$5` now.
const BULK_REQUEST_RECORDS_SQL: &str = "insert into erasure_request_records
             (account_id, request_id, customer_id, preview_calls, preview_messages)
         select $1, request_id, customer_id, calls, messages
         from unnest($2::uuid[], $3::uuid[], $4::int[], $5::int[]) as r(request_id, customer_id, calls, messages)";

/// Confirms job `job_id` of account `account_id` as `actor`, who typed `persons` (which must be the dry run's
/// number of persons to erase, else 422): in one transaction, locks the job (a job confirmed already is 409,
/// another account's or an unknown one 404), makes one request per row to erase for exactly that row's records
/// of the dry run, each awaiting approval when the account's thresholds weigh the whole batch as needing it and
/// held for the account's hold hours otherwise, marks the job confirmed, and appends the confirmation and every
/// request to the audit log.
pub async fn confirm(
    pool: &PgPool,
    account_id: Uuid,
    job_id: Uuid,
    actor: JobActor,
    persons: i64,
) -> Result<Confirmed, AppError> {
    let confirmed = async {
        let mut tx = pool.begin().await?;
        let confirmed = confirm_in(&mut tx, account_id, job_id, actor, persons).await?;
        tx.commit().await?;
        Ok(confirmed)
    };
    confirmed.await.map_err(ConfirmError::into_app_error)
}

/// Why storing or confirming a job did not happen.
enum ConfirmError {
    Refused(AppError),
    Database(sqlx::Error),
}

impl ConfirmError {
    fn into_app_error(self) -> AppError {
        match self {
            ConfirmError::Refused(refusal) => refusal,
            ConfirmError::Database(err) => db_failure(err),
        }
    }
}

impl From<sqlx::Error> for ConfirmError {
    fn from(err: sqlx::Error) -> Self {
        ConfirmError::Database(err)
    }
}

impl From<AppError> for ConfirmError {
    fn from(err: AppError) -> Self {
        ConfirmError::Refused(err)
    }
}

/// `confirm` inside the caller's transaction `tx`.
async fn confirm_in(
    tx: &mut PgConnection,
    account_id: Uuid,
    job_id: Uuid,
    actor: JobActor,
    persons: i64,
) -> Result<Confirmed, ConfirmError> {
    let (confirmed, suppress): (bool, bool) = sqlx::query_as(
        "select confirmed_at is not null, suppress from bulk_jobs where account_id = $1 and id = $2 for update",
    )
    .bind(account_id)
    .bind(job_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("No such bulk job in your account."))?;
    if confirmed {
        return Err(AppError::conflict("This bulk job was confirmed already.").into());
    }
    let rows: Vec<(i32, Vec<Uuid>)> = sqlx::query_as(
        "select line, customer_ids from bulk_job_rows
         where account_id = $1 and job_id = $2 and verdict = 'erase' order by line",
    )
    .bind(account_id)
    .bind(job_id)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Err(AppError::invalid("The dry run found nobody to erase.").into());
    }
    if persons != rows.len() as i64 {
        return Err(AppError::Invalid(format!(
            "The dry run found {} persons to erase: type {} to confirm.",
            rows.len(),
            rows.len()
        ))
        .into());
    }
    let policy = db::accounts::erasure_policy(&mut *tx, account_id).await?;
    let all_ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    let previews: HashMap<Uuid, (i64, i64)> =
        sqlx::query_as::<_, (Uuid, i64, i64)>(crate::server::erasure::PREVIEW_COUNTS_SQL)
            .bind(account_id)
            .bind(&all_ids)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(id, calls, messages)| (id, (calls, messages)))
            .collect();
    let items: i64 = previews
        .values()
        .map(|(calls, messages)| calls + messages)
        .sum();
    let state = if policy.needs_approval(all_ids.len() as i64, items) {
        RequestState::AwaitingApproval
    } else {
        RequestState::Scheduled
    };
    let request_ids: Vec<Uuid> = rows.iter().map(|_| Uuid::new_v4()).collect();
    sqlx::query(OPEN_BULK_REQUESTS_SQL)
        .bind(account_id)
        .bind(&request_ids)
        .bind(actor.user_id)
        .bind(state.key())
        .bind(suppress)
        .bind(actor.token_id)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    let mut records = RequestRecords::default();
    for ((_, ids), request_id) in rows.iter().zip(&request_ids) {
        for id in ids {
            let (calls, messages) = previews.get(id).copied().unwrap_or_default();
            records.push(*request_id, *id, calls, messages);
        }
    }
    sqlx::query(BULK_REQUEST_RECORDS_SQL)
        .bind(account_id)
        .bind(&records.request_ids)
        .bind(&records.customer_ids)
        .bind(&records.calls)
        .bind(&records.messages)
        .execute(&mut *tx)
        .await?;
    let lines: Vec<i32> = rows.iter().map(|(line, _)| *line).collect();
    sqlx::query(
        "update bulk_job_rows b set request_id = r.request_id
         from unnest($3::int[], $4::uuid[]) as r(line, request_id)
         where b.account_id = $1 and b.job_id = $2 and b.line = r.line",
    )
    .bind(account_id)
    .bind(job_id)
    .bind(&lines)
    .bind(&request_ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update bulk_jobs set confirmed_by = $3, confirmed_at = clock_timestamp() where account_id = $1 and id = $2",
    )
    .bind(account_id)
    .bind(job_id)
    .bind(actor.user_id)
    .execute(&mut *tx)
    .await?;
    let by = actor.audit_actor();
    let held = if state == RequestState::AwaitingApproval {
        Action::RequestAwaitingApproval
    } else {
        Action::RequestScheduled
    };
    let mut entries = vec![
        Entry::new(account_id, by, Action::BulkJobConfirmed)
            .ids("bulk_job", &[job_id])
            .count("requests", request_ids.len() as i64),
    ];
    for ((_, ids), request_id) in rows.iter().zip(&request_ids) {
        entries.push(
            Entry::new(account_id, by, Action::RequestCreated)
                .request(*request_id)
                .count("records", ids.len() as i64)
                .ids("customer_ids", ids),
        );
        entries.push(Entry::new(account_id, by, held).request(*request_id));
    }
    audit_log::append_many(&mut *tx, account_id, &entries).await?;
    Ok(Confirmed {
        requests: request_ids.len(),
        state,
        due_now: state == RequestState::Scheduled && policy.hold_hours == 0,
    })
}

/// The rows of `erasure_request_records` a confirmation writes, one array per column.
#[derive(Default)]
struct RequestRecords {
    request_ids: Vec<Uuid>,
    customer_ids: Vec<Uuid>,
    calls: Vec<i32>,
    messages: Vec<i32>,
}

impl RequestRecords {
    fn push(&mut self, request_id: Uuid, customer_id: Uuid, calls: i64, messages: i64) {
        self.request_ids.push(request_id);
        self.customer_ids.push(customer_id);
        self.calls.push(i32::try_from(calls).unwrap_or(i32::MAX));
        self.messages
            .push(i32::try_from(messages).unwrap_or(i32::MAX));
    }
}

/// Approves or rejects, as user `decider`, every request of job `job_id` of account `account_id` that awaits
/// approval, in one transaction with one audit entry per request; the decider must not be their requester
/// (403). Nothing awaiting approval is 409; another account's job or an unknown one 404. Answers how many
/// requests were decided and whether approved ones are due now.
pub async fn decide(
    pool: &PgPool,
    account_id: Uuid,
    job_id: Uuid,
    decider: Uuid,
    decision: erasure::Decision<'_>,
) -> Result<(usize, bool), AppError> {
    let outcome = async {
        let mut tx = pool.begin().await?;
        let known: Option<i32> =
            sqlx::query_scalar("select 1 from bulk_jobs where account_id = $1 and id = $2")
                .bind(account_id)
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Ok(Err(AppError::not_found(
                "No such bulk job in your account.",
            )));
        }
        let waiting: Vec<(Uuid, Uuid, bool)> = sqlx::query_as(
            "select id, requested_by, coalesce(not_before <= clock_timestamp(), true) from erasure_requests
             where account_id = $1 and bulk_job_id = $2 and state = 'awaiting_approval'
             order by id for update",
        )
        .bind(account_id)
        .bind(job_id)
        .fetch_all(&mut *tx)
        .await?;
        if waiting.is_empty() {
            return Ok(Err(AppError::conflict(
                "No request of this bulk job awaits approval now.",
            )));
        }
        if waiting
            .iter()
            .any(|(_, requester, _)| *requester == decider)
        {
            return Ok(Err(AppError::from(erasure::StepError::OwnRequest)));
        }
        let ids: Vec<Uuid> = waiting.iter().map(|(id, _, _)| *id).collect();
        let action = match decision {
            erasure::Decision::Approve => {
                sqlx::query(
                    "update erasure_requests set state = 'scheduled', approved_by = $3, approved_at = clock_timestamp()
                     where account_id = $1 and id = any($2)",
                )
                .bind(account_id)
                .bind(&ids)
                .bind(decider)
                .execute(&mut *tx)
                .await?;
                Action::RequestApproved
            }
            erasure::Decision::Reject(reason) => {
                sqlx::query(
                    "update erasure_requests
                     set state = 'rejected', rejected_by = $3, rejected_at = clock_timestamp(), rejection_reason = $4
                     where account_id = $1 and id = any($2)",
                )
                .bind(account_id)
                .bind(&ids)
                .bind(decider)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                Action::RequestRejected
            }
        };
        let entries: Vec<Entry> = ids
            .iter()
            .map(|id| Entry::new(account_id, Actor::User(decider), action).request(*id))
            .collect();
        audit_log::append_many(&mut tx, account_id, &entries).await?;
        tx.commit().await?;
        let due_now = decision == erasure::Decision::Approve
            && waiting.iter().all(|(_, _, hold_over)| *hold_over);
        Ok::<_, sqlx::Error>(Ok((ids.len(), due_now)))
    };
    outcome.await.map_err(db_failure)?
}

/// Starts a pass of the scheduler now, in the background, for requests that a confirmation or an approval made
/// due (instead of waiting for the next periodic pass); instances and passes share the work safely.
pub fn run_due_now(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        match erasure::run_due(&state.pool, None).await {
            Ok(pass) if pass.erased > 0 => erasure::after_erasure(&state).await,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "bulk job's scheduler pass failed"),
        }
    });
}
