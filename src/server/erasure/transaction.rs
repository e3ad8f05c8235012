//! The erasure transaction of a request: lock its customer records in id order, decide the actor's permission
//! afresh under locks on their session, user and account, check that the search that listed the records still
//! finds exactly them, then for each record count and queue the stored keys, delete the messages and calls, mark
//! the record erased and write its `erasures` receipt, and mark the request completed: all or nothing (see the
//! parent module), with its SQL and its retry of deadlock victims.

use std::sync::LazyLock;
use std::time::Duration;

use sqlx::{FromRow, PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{ErasureCounts, ErasurePolicy, RequestState, earliest, latest};
use crate::server::authz::{self, Principal};
use crate::server::db::customers;
use crate::server::db::sessions::{
    PRINCIPAL_COLUMNS, SESSION_JOIN, USER_PRINCIPAL_COLUMNS, principal_of,
};
use crate::server::evidence::audit_log::{self, Action, Entry};
use crate::server::input::CustomerQuery;
use crate::server::sessions::SessionKey;
use crate::server::storage;

/// Why an erasure did not happen.
#[derive(Debug)]
pub enum EraseError {
    /// The account holds no customer record with this id.
    NotFound,
    /// The record's data was already erased (or another erasure of it committed first).
    AlreadyErased,
    /// The records are no longer what the confirmation showed: one of them was erased meanwhile, or the search
    /// that listed them now finds another record not yet erased (a new duplicate).
    PreviewChanged,
    /// The actor's session ended (signed out or expired) before the erasure decided; for a request the
    /// scheduler runs, its requester is no longer a user of the account.
    SignedOut,
    /// The stored request is not in a state this step may take it from (it was cancelled, rejected or already
    /// erased meanwhile, or it still awaits approval).
    NotRunnable(RequestState),
    /// The actor's access to Customer Data, read inside the erasure, no longer allows it (the `authz` answer).
    Refused(AppError),
    /// The actor's session, user or account row stayed locked by another change for longer than
    /// `ACTOR_LOCK_TIMEOUT`; nothing was erased.
    ActorBusy,
    /// Calls or messages were deleted by someone else while the erasure counted them; it rolled back.
    ChangedDuringErasure,
    /// Postgres rolled the erasure back as a deadlock victim on every attempt; nothing was erased.
    Busy,
    /// The commit was sent but not answered: the erasure may or may not have happened.
    Unconfirmed(sqlx::Error),
    /// Any other database failure; the transaction rolled back and nothing was erased.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for EraseError {
    fn from(err: sqlx::Error) -> Self {
        EraseError::Database(err)
    }
}

impl From<EraseError> for AppError {
    fn from(err: EraseError) -> Self {
        match err {
            EraseError::NotFound => AppError::not_found("No such customer record in your account."),
            EraseError::AlreadyErased => {
                AppError::conflict("This record's call and message data was already erased.")
            }
            EraseError::PreviewChanged => AppError::conflict(
                "The records have changed since they were listed (one was erased or a new one matches the search), so nothing was erased. Search again and review them.",
            ),
            EraseError::SignedOut => AppError::Unauthorized,
            EraseError::NotRunnable(state) => AppError::conflict(&format!(
                "This request is {} now, so it was not erased.",
                state.label().to_lowercase()
            )),
            EraseError::Refused(refusal) => refusal,
            EraseError::ActorBusy => AppError::conflict(
                "Your account, permission or session is being changed right now, so nothing was erased. Try again.",
            ),
            EraseError::ChangedDuringErasure => AppError::conflict(
                "The record's calls or messages changed during the erasure, so nothing was erased. Try again.",
            ),
            EraseError::Busy => AppError::conflict(
                "Calls or messages of this record were being changed while it was erased, so nothing was erased. Try again.",
            ),
            EraseError::Unconfirmed(e) => {
                tracing::error!(error = %e, "erasure commit not confirmed");
                AppError::Unconfirmed
            }
            EraseError::Database(e) => crate::server::state::db_failure(e),
        }
    }
}

/// What an erasure counted, beside or before its deletes: the receipt's figures, but for the messages, which
/// their DELETEs count and date.
#[derive(FromRow)]
struct ActivityFacts {
    calls: i64,
    recordings: i64,
    voicemails: i64,
    transcripts: i64,
    messages_with_media: i64,
    media: i64,
    calls_first_at: Option<OffsetDateTime>,
    calls_last_at: Option<OffsetDateTime>,
    /// Stored keys of the record's calls and messages outside the account's prefixes: neither queued nor counted.
    refused_keys: Vec<String>,
}

/// Locks the customers `$2` (an array of ids) of account `$1` for the erasure, in id order, so that two
/// requests sharing records cannot deadlock on them, and answers each one's id and erasure time.
pub const LOCK_CUSTOMERS_SQL: &str =
    "select id, erased_at from customers where account_id = $1 and id = any($2)
         order by id for update";

/// Opens request `$2` of account `$1`, requested by user `$3` and confirmed now, in the state `erasing`: due
/// exactly the account's deadline days after it was received (one reading of the clock for both); `$4` says
/// whether its people go on the suppression list, `$5` names the API token it came through (none: the console).
pub const OPEN_REQUEST_SQL: &str = "insert into erasure_requests
             (id, account_id, requested_by, received_at, due_at, state, suppress, source, api_token_id)
         select $2, a.id, $3, t.now, t.now + make_interval(days => a.deadline_days), 'erasing', $4,
                case when $5::uuid is null then 'console' else 'api' end, $5
         from accounts a, (select clock_timestamp() as now) t where a.id = $1";

/// Opens request `$2` of account `$1`, requested by user `$3` and confirmed now, held in the state `$4`
/// (`scheduled` or `awaiting_approval`) until the account's hold hours have passed, and due the account's
/// deadline days after it was received; `$5` says whether its people go on the suppression list, `$6` names the
/// API token it came through (none: the console). Answers when its hold ends.
pub const HOLD_REQUEST_SQL: &str = "insert into erasure_requests
             (id, account_id, requested_by, received_at, due_at, state, not_before, suppress, source,
              api_token_id)
         select $2, a.id, $3, t.now, t.now + make_interval(days => a.deadline_days),
                $4, t.now + make_interval(hours => a.hold_hours), $5,
                case when $6::uuid is null then 'console' else 'api' end, $6
         from accounts a, (select clock_timestamp() as now) t where a.id = $1
         returning not_before";

/// The calls and messages of the customers `$2` (an array of ids) of account `$1`, by record in id order: what
/// a held request shows as its preview, and what its approval thresholds weigh.
pub const PREVIEW_COUNTS_SQL: &str = "select c.id,
                (select count(*) from calls k where k.account_id = $1 and k.customer_id = c.id) as calls,
                (select count(*) from messages m where m.account_id = $1 and m.customer_id = c.id) as messages
         from customers c where c.account_id = $1 and c.id = any($2) order by c.id";

/// Records the customers `$3` (an array of ids) in request `$2` of account `$1`, with the calls `$4` and
/// messages `$5` (arrays in the same order) the confirmation showed.
pub const RECORDS_IN_REQUEST_SQL: &str = "insert into erasure_request_records
             (account_id, request_id, customer_id, preview_calls, preview_messages)
         select $1, $2, customer_id, calls, messages
         from unnest($3::uuid[], $4::int[], $5::int[]) as r(customer_id, calls, messages)";

/// Records customer `$3` in request `$2` of account `$1`, with the calls `$4` and messages `$5` its erasure
/// removed (replacing the preview of a request that was held).
pub const RECORD_IN_REQUEST_SQL: &str = "insert into erasure_request_records
             (account_id, request_id, customer_id, preview_calls, preview_messages)
         values ($1, $2, $3, $4, $5)
         on conflict (request_id, customer_id)
         do update set preview_calls = excluded.preview_calls, preview_messages = excluded.preview_messages";

/// Locks request `$2` of account `$1` for a step of its lifecycle, and answers its state and when its hold
/// ends.
pub const LOCK_REQUEST_SQL: &str = "select state, not_before from erasure_requests
         where account_id = $1 and id = $2 for update";

/// The records of request `$2` of account `$1`, in id order.
pub const REQUEST_RECORDS_SQL: &str = "select customer_id from erasure_request_records
         where account_id = $1 and request_id = $2 order by customer_id";

/// Marks request `$2` of account `$1` as erasing, inside the erasure's transaction: others see the change only
/// with its outcome, so a request killed mid-way is as it was before.
pub const START_ERASING_SQL: &str = "update erasure_requests
         set state = 'erasing', failure = null, failed_at = null
         where account_id = $1 and id = $2";

/// Marks request `$2` of account `$1` completed, by the clock as its last statement runs, and answers when.
pub const COMPLETE_REQUEST_SQL: &str =
    "update erasure_requests set state = 'completed', completed_at = clock_timestamp()
         where account_id = $1 and id = $2 returning completed_at";

/// Reads the principal of the live session with key `$1` whose user belongs to account `$2`, and share-locks the
/// session, user and account rows until the erasure ends. It runs once the record is locked, so whatever waited
/// for the record, this reads the state as it is now: a sign-out, revocation or setting change that committed
/// meanwhile is seen; one that comes later (they all delete or update one of these rows) waits for the erasure to
/// commit or roll back.
static LOCK_ACTOR_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "select {PRINCIPAL_COLUMNS}, {POLICY_COLUMNS} from {SESSION_JOIN}
         where s.token_hash = $1 and s.expires_at > statement_timestamp() and u.account_id = $2
         for share of s, u, a"
    )
});

/// The account's erasure policy, read with the actor (from `accounts a`) so that it costs no round trip.
const POLICY_COLUMNS: &str =
    "a.hold_hours, a.deadline_days, a.approval_min_records, a.approval_min_items";

/// How long the erasure waits for a change to its actor's session, user or account row (which holds that row
/// until it commits) before it gives up with `ActorBusy`. Such changes take milliseconds, so a long wait means
/// something is stuck, and an erasure must not go ahead on a permission that may be on its way out.
const ACTOR_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts the calls and the messages with media of customer `$2` of account `$1` and queues every stored key
/// (recordings, voicemails, media) of the account for erasure `$3`, at most 1,000 keys per outbox row: the
/// recording keys that match `$4` and the media keys that match `$5`, the account's `LIKE` patterns
/// (`storage::account_key_pattern`). Any other key is another account's object or none: it is neither queued
/// nor counted as a recording or media, but answered in `refused_keys`. Reads each call and each message with
/// media once, and no message without media: their DELETE counts and dates them, as their deletion frees no
/// stored file.
pub const COUNT_AND_QUEUE_SQL: &str = "with call_facts as (
             select count(*) as calls,
                    count(*) filter (where not is_voicemail and recording_key like $4) as recordings,
                    count(*) filter (where is_voicemail) as voicemails,
                    count(*) filter (where transcript is not null or transcript_sealed is not null)
                        as transcripts,
                    min(started_at) as first_at, max(started_at) as last_at,
                    array_agg(recording_key) filter (where recording_key like $4) as stored_keys,
                    array_agg(recording_key) filter (where recording_key not like $4) as refused_keys
             from calls where account_id = $1 and customer_id = $2
         ), messages_with_media as (
             select media_keys from messages
             where account_id = $1 and customer_id = $2 and cardinality(media_keys) > 0
         ), media as (
             select (select count(*) from messages_with_media) as messages,
                    array_agg(media_key) filter (where media_key like $5) as stored_keys,
                    array_agg(media_key) filter (where media_key not like $5) as refused_keys
             from messages_with_media, unnest(media_keys) as media_key
         ), queued as (
             insert into object_deletions (account_id, erasure_id, object_keys)
             select $1, $3, batch.stored_keys[n * 1000 + 1 : (n + 1) * 1000]
             from (select stored_keys from call_facts union all select stored_keys from media) batch,
                  generate_series(0, (cardinality(batch.stored_keys) - 1) / 1000) n
             where cardinality(batch.stored_keys) > 0
         )
         select c.calls, c.recordings, c.voicemails, c.transcripts, media.messages as messages_with_media,
                coalesce(cardinality(media.stored_keys), 0)::bigint as media,
                c.first_at as calls_first_at, c.last_at as calls_last_at,
                coalesce(c.refused_keys || media.refused_keys, '{}') as refused_keys
         from call_facts c, media";

/// Deletes the messages with media of customer `$2` of account `$1` (the ones whose files were queued), and
/// answers how many it deleted and the first and last time among them.
pub const DELETE_MESSAGES_WITH_MEDIA_SQL: &str = "with gone as (
             delete from messages where account_id = $1 and customer_id = $2 and cardinality(media_keys) > 0
             returning sent_at
         )
         select count(*), min(sent_at), max(sent_at) from gone";

/// Deletes the (remaining) messages of customer `$2` of account `$1`, and answers how many it deleted and the
/// first and last time among them. A message moved to another record while the erasure waited for it is
/// neither deleted nor dated.
pub const DELETE_MESSAGES_SQL: &str = "with gone as (
             delete from messages where account_id = $1 and customer_id = $2
             returning sent_at
         )
         select count(*), min(sent_at), max(sent_at) from gone";

/// Deletes the calls of customer `$2` of account `$1`.
pub const DELETE_CALLS_SQL: &str = "delete from calls where account_id = $1 and customer_id = $2";

/// Waits until no erasure of customer `$2` of account `$1` holds the record's lock, so that a statement after it
/// sees the outcome of any erasure that was running.
pub const AWAIT_ERASURE_END_SQL: &str =
    "select 1 from customers where account_id = $1 and id = $2 for share";

/// Removes the outbox rows of the erasures `$1` (an array of ids) whose receipt does not exist: what an erasure
/// queued beside a transaction that then rolled back.
pub const UNQUEUE_UNCOMMITTED_SQL: &str = "delete from object_deletions o
         where o.erasure_id = any($1) and not exists (select 1 from erasures e where e.id = o.erasure_id)";

/// How long one statement of an erasure may run, and how long its transaction may sit between two statements,
/// before Postgres ends (and rolls back) the erasure. Together they bound how long an erasure can run after it
/// queued its keys: the two DELETEs, the receipt and the gaps between them, far less than `ABANDONED_AFTER`.
const ERASURE_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const ERASURE_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts an erasure's transaction with the timeouts above, in the one round trip of its `BEGIN`.
pub fn erasure_begin_sql() -> String {
    format!(
        "begin; set local statement_timeout = {}; set local idle_in_transaction_session_timeout = {}",
        ERASURE_STATEMENT_TIMEOUT.as_millis(),
        ERASURE_IDLE_TIMEOUT.as_millis()
    )
}

/// Marks customer `$2` of account `$1` erased by user `$3` and writes the receipt `$4` of request `$14` with the
/// counts `$5..$10`, the activity range `$11..$12`, the number of stored keys refused as outside the account `$13`, and
/// the record's type and Salesforce id as they were, queues the destruction of the record's data key for the key
/// worker, and deletes the account's saved searches for the record's email (whoever saved them, expired or not). Both are dated
/// by the clock as this, the erasure's last statement before its commit, runs (`now()` would be the time the
/// transaction began, possibly minutes earlier, before the wait for the record and before the permission was
/// decided). From the permission check on, the erasure holds its actor's rows, so no sign-out or revocation can
/// fall between this time and the commit.
pub const MARK_ERASED_SQL: &str = "with marked as (
             update customers set erased_at = clock_timestamp(), erased_by = $3 where account_id = $1 and id = $2
             returning account_id, id, object_type, salesforce_id, email, erased_at
         ), searches as (
             delete from saved_searches s using marked
             where s.account_id = marked.account_id and lower(s.query) = lower(marked.email)
         ), key_destruction as (
             insert into key_destructions (account_id, customer_id) select account_id, id from marked
         ), receipt as (
             insert into erasures (id, account_id, customer_id, object_type, salesforce_id, erased_by, erased_at,
                 calls_deleted, recordings_deleted, voicemails_deleted, transcripts_deleted, messages_deleted,
                 media_deleted, first_activity_at, last_activity_at, stored_keys_refused, request_id)
             select $4, account_id, id, object_type, salesforce_id, $3, erased_at,
                    $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
             from marked
         )
         select erased_at from marked";

/// What a request erases: customer records of one account, and the search that listed them, which must still
/// find exactly those records not yet erased when the erasure runs.
#[derive(Debug, Clone)]
pub struct ErasurePlan {
    customer_ids: Vec<Uuid>,
    listed_by: Option<CustomerQuery>,
    suppress: bool,
    via_token: Option<Uuid>,
}

impl ErasurePlan {
    /// One record, as the customer page's Delete names it.
    pub fn one_record(customer_id: Uuid) -> Self {
        ErasurePlan {
            customer_ids: vec![customer_id],
            listed_by: None,
            suppress: true,
            via_token: None,
        }
    }

    /// The records a search listed (the person erasure's dialog); `None` when no record is named.
    pub fn listed(customer_ids: Vec<Uuid>, search: CustomerQuery) -> Option<Self> {
        let mut customer_ids = customer_ids;
        customer_ids.sort_unstable();
        customer_ids.dedup();
        (!customer_ids.is_empty()).then_some(ErasurePlan {
            customer_ids,
            listed_by: Some(search),
            suppress: true,
            via_token: None,
        })
    }

    /// The plan with its people kept off the suppression list (`suppress` false) or put on it when the request
    /// completes (true, the default).
    pub fn suppressing(self, suppress: bool) -> Self {
        ErasurePlan { suppress, ..self }
    }

    /// The plan as a privacy platform made it through the API token `token_id` (the request's `source` is
    /// `api`, and the audit log names the token as its actor).
    pub fn through_token(self, token_id: Uuid) -> Self {
        ErasurePlan {
            via_token: Some(token_id),
            ..self
        }
    }

    /// The records, in the order they are locked and erased (by id).
    pub fn customer_ids(&self) -> &[Uuid] {
        &self.customer_ids
    }
}

/// What a committed erasure of one record wrote: its `erasures` row id, when, who (as read inside it), and the
/// counts.
#[derive(Debug, Clone)]
pub struct Erased {
    /// The erased record.
    pub customer_id: Uuid,
    /// The id of the `erasures` row, the receipt.
    pub erasure_id: Uuid,
    /// When the record was marked erased, inside the transaction (the receipt's time).
    pub erased_at: OffsetDateTime,
    /// The actor's name as read inside the transaction.
    pub erased_by_name: String,
    /// What was erased.
    pub counts: ErasureCounts,
}

/// What a committed request wrote: the request, when it completed, and one erasure per record, in id order.
#[derive(Debug, Clone)]
pub struct ErasedRequest {
    /// The `erasure_requests` row.
    pub request_id: Uuid,
    /// When the request completed, inside the transaction.
    pub completed_at: OffsetDateTime,
    /// The erasure of each record, in the order they ran (by record id).
    pub records: Vec<Erased>,
}

/// What a request's confirmation did: erased its records at once, or held the request (for its hold period or
/// another person's approval) under the account's erasure policy.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// The records were erased in the confirmation's transaction.
    Erased(ErasedRequest),
    /// The request waits, in `state`, until `not_before` (and, awaiting approval, until it is approved).
    Held {
        /// The `erasure_requests` row.
        request_id: Uuid,
        /// `Scheduled` or `AwaitingApproval`.
        state: RequestState,
        /// When its hold ends.
        not_before: OffsetDateTime,
    },
}

/// Who an erasure runs as: the person acting now (their session, decided afresh inside the erasure), or, for a
/// held request that came due, its requester (their user and account as they are now).
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    /// The user signed in with this session.
    Session(&'a SessionKey),
    /// The request's requester, for the scheduler.
    Requester(Uuid),
}

/// Erases all call and message data of one customer record of `account_id` as a request of that record alone,
/// as the user signed in with the session `actor`; see `erase_request`. A record already erased is
/// `AlreadyErased`; a request the account's policy holds is `NotRunnable` with the state it waits in.
pub async fn erase_customer(
    pool: &PgPool,
    actor: &SessionKey,
    account_id: Uuid,
    customer_id: Uuid,
) -> Result<Erased, EraseError> {
    match erase_request(
        pool,
        Actor::Session(actor),
        account_id,
        &ErasurePlan::one_record(customer_id),
    )
    .await?
    {
        Submitted::Erased(request) => request
            .records
            .into_iter()
            .next()
            .ok_or(EraseError::NotFound),
        Submitted::Held { state, .. } => Err(EraseError::NotRunnable(state)),
    }
}

/// Opens a request for the records of `plan` in account `account_id`, as the user signed in with the session
/// `actor`. Under an account policy with no hold and no approval needed it erases all their call and message
/// data in one transaction, returning what the receipts record, read inside the transaction (nothing is read
/// after the commit); otherwise it stores the request with its preview counts, held (`Submitted::Held`). Records
/// unknown in the account are `NotFound`; a record already erased is `AlreadyErased` for a single record and
/// `PreviewChanged` for a plan listed by a search, as is a search that now finds another record not yet erased.
/// Concurrent calls for one record wait on its row lock; all but the first then see it erased.
///
/// Whether the actor may erase is decided inside the transaction, once the records are locked: their session,
/// user and account are read afresh and share-locked until the commit, and `authz` answers on what was read. So
/// an erasure that waited for a record never outlives a sign-out, revocation or setting change made meanwhile
/// (`SignedOut`, `Refused`), and one made later waits for the erasure to end. A change still in flight on one of
/// those rows is waited for at most `ACTOR_LOCK_TIMEOUT` (`ActorBusy`).
///
/// Once the locks are held no call or message can be added to the records or changed while it stays with one.
/// So when the pool has an idle connection, the counting and the queueing of a record's stored keys run on it,
/// committed on their own, while the transaction deletes: an outbox row is due only once its erasure's receipt
/// has committed (`delete_due_objects`), and if the request fails its rows are removed again. Without an idle
/// connection the transaction counts and queues first, itself. A call or message could still be deleted or
/// moved to another record meanwhile, so the deleted calls and messages with media must equal the counted ones,
/// whose keys were queued, or all of it rolls back. Messages without media hold no file: the DELETEs count and
/// date the messages, so the receipt names exactly the messages erased.
pub async fn erase_request(
    pool: &PgPool,
    actor: Actor<'_>,
    account_id: Uuid,
    plan: &ErasurePlan,
) -> Result<Submitted, EraseError> {
    let request_id = Uuid::new_v4();
    with_retries(
        pool,
        account_id,
        plan.customer_ids(),
        request_id,
        |erasure_ids| submit_locked(pool, actor, account_id, plan, request_id, erasure_ids),
    )
    .await
}

/// Runs the erasure of a stored request now, as `actor`: request `request_id` of account `account_id`, which must
/// be in one of `from` and, with `due_by`, held no later than that (else `NotRunnable` with the state it is in).
/// The request row is locked first, so a cancel or a second run waits for this one and then finds the request
/// completed. Its records are erased in one transaction, as a confirmation's are; a record another request
/// erased meanwhile is left to that request.
pub async fn run_request(
    pool: &PgPool,
    actor: Actor<'_>,
    account_id: Uuid,
    request_id: Uuid,
    from: &[RequestState],
    due_by: Option<OffsetDateTime>,
) -> Result<ErasedRequest, EraseError> {
    let records: Vec<Uuid> = sqlx::query_scalar(REQUEST_RECORDS_SQL)
        .bind(account_id)
        .bind(request_id)
        .fetch_all(pool)
        .await?;
    with_retries(pool, account_id, &records, request_id, |erasure_ids| {
        let run = StoredRun {
            actor,
            account_id,
            request_id,
            from,
            due_by,
        };
        run_stored(pool, run, &records, erasure_ids)
    })
    .await
}

/// Runs `attempt` with fresh erasure ids (one per record of `customer_ids`) until it ends other than as a
/// deadlock victim (at most `DEADLOCK_ATTEMPTS` times), removing what a failed attempt queued beside its
/// transaction.
async fn with_retries<T, F, Fut>(
    pool: &PgPool,
    account_id: Uuid,
    customer_ids: &[Uuid],
    request_id: Uuid,
    attempt: F,
) -> Result<T, EraseError>
where
    F: Fn(Vec<Uuid>) -> Fut,
    Fut: std::future::Future<Output = (Result<T, EraseError>, Vec<Uuid>)>,
{
    let mut tries = 1;
    loop {
        let erasure_ids: Vec<Uuid> = customer_ids.iter().map(|_| Uuid::new_v4()).collect();
        let (outcome, erasure_ids) = attempt(erasure_ids).await;
        if outcome.as_ref().is_err_and(may_have_queued)
            && let Err(err) = unqueue_failed(pool, account_id, customer_ids, &erasure_ids).await
        {
            tracing::warn!(%request_id, error = %err, "cannot remove the outbox rows of a failed erasure; the worker will");
        }
        match outcome {
            Err(err) if tries < DEADLOCK_ATTEMPTS && is_deadlock(&err) => {
                tracing::warn!(%request_id, tries, "erasure chosen as a deadlock victim; trying again");
                tokio::time::sleep(Duration::from_millis(50 * tries)).await;
                tries += 1;
            }
            Err(err) if is_deadlock(&err) => return Err(EraseError::Busy),
            outcome => return outcome,
        }
    }
}

/// How many times an erasure runs before a deadlock is reported (as `Busy`). A deadlock happens when a call is
/// being updated as the erasure starts: the update holds the call's row and waits for the record (its
/// trigger), while the erasure holds the record and waits for the call. Postgres then rolls back one of the
/// two; when that is the erasure, the update goes through and the erasure, run again, erases the call with it.
const DEADLOCK_ATTEMPTS: u64 = 4;

/// Removes what the erasures `erasure_ids` of the records `customer_ids` queued beside their transaction, unless
/// it committed after all. It first waits for the first record's lock, which the erasure holds until it has
/// committed or rolled back: a commit whose answer was lost may still be completing, and its rows must stay.
/// Waits at most `lock_timeout`; rows it cannot remove are dropped by the worker after `ABANDONED_AFTER`.
pub async fn unqueue_failed(
    pool: &PgPool,
    account_id: Uuid,
    customer_ids: &[Uuid],
    erasure_ids: &[Uuid],
) -> sqlx::Result<()> {
    let mut tx = pool
        .begin_with("begin; set local lock_timeout = 30000")
        .await?;
    if let Some(first) = customer_ids.first() {
        sqlx::query(AWAIT_ERASURE_END_SQL)
            .bind(account_id)
            .bind(first)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(UNQUEUE_UNCOMMITTED_SQL)
        .bind(erasure_ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Whether a failed run may have queued outbox rows: a record that is unknown or already erased, and an actor
/// who may not erase it, are refused before anything is counted or queued.
fn may_have_queued(err: &EraseError) -> bool {
    !matches!(
        err,
        EraseError::NotFound
            | EraseError::AlreadyErased
            | EraseError::PreviewChanged
            | EraseError::NotRunnable(_)
            | EraseError::SignedOut
            | EraseError::Refused(_)
            | EraseError::ActorBusy
    )
}

fn is_deadlock(err: &EraseError) -> bool {
    has_code(err, "40P01")
}

/// Whether Postgres gave up waiting for a lock (`lock_timeout`).
fn is_lock_timeout(err: &EraseError) -> bool {
    has_code(err, "55P03")
}

fn has_code(err: &EraseError, code: &str) -> bool {
    matches!(err, EraseError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some(code))
}

/// Reads the principal `actor` stands for in account `account_id` afresh (the session's user, or the
/// requester), locks their session (if any), user and account rows until the transaction ends (waiting at most
/// `ACTOR_LOCK_TIMEOUT` for them), asks `authz` whether they may erase, and answers the account's erasure
/// policy as read in the same statement.
async fn lock_actor(
    tx: &mut PgConnection,
    actor: Actor<'_>,
    account_id: Uuid,
) -> Result<(Principal, ErasurePolicy), EraseError> {
    sqlx::query(&format!(
        "set local lock_timeout = {}",
        ACTOR_LOCK_TIMEOUT.as_millis()
    ))
    .execute(&mut *tx)
    .await?;
    let row = match actor {
        Actor::Session(session) => {
            sqlx::query(&LOCK_ACTOR_SQL)
                .bind(session.as_bytes())
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await
        }
        Actor::Requester(user_id) => {
            sqlx::query(&LOCK_REQUESTER_SQL)
                .bind(user_id)
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await
        }
    }
    .map_err(|err| match EraseError::from(err) {
        err if is_lock_timeout(&err) => EraseError::ActorBusy,
        err => err,
    })?;
    sqlx::query("set local lock_timeout to default")
        .execute(&mut *tx)
        .await?;
    let row = row.ok_or(EraseError::SignedOut)?;
    let principal = principal_of(&row)?.principal;
    authz::require_customer_data_access(&principal).map_err(EraseError::Refused)?;
    let policy = ErasurePolicy {
        hold_hours: row.try_get("hold_hours")?,
        deadline_days: row.try_get("deadline_days")?,
        approval_min_records: row.try_get("approval_min_records")?,
        approval_min_items: row.try_get("approval_min_items")?,
    };
    Ok((principal, policy))
}

/// Share-locks API token `token_id` of account `account_id` until the erasure ends, if it is still live (not
/// revoked, not expired by the clock now); a revocation that committed meanwhile is seen (`SignedOut`), and one
/// that comes later waits for the erasure, as for a session (`lock_actor`).
async fn lock_token(
    tx: &mut PgConnection,
    account_id: Uuid,
    token_id: Uuid,
) -> Result<(), EraseError> {
    sqlx::query(&format!(
        "set local lock_timeout = {}",
        ACTOR_LOCK_TIMEOUT.as_millis()
    ))
    .execute(&mut *tx)
    .await?;
    let live = sqlx::query_scalar::<_, i32>(
        "select 1 from api_tokens
         where account_id = $1 and id = $2 and revoked_at is null
           and (expires_at is null or expires_at > clock_timestamp())
         for share",
    )
    .bind(account_id)
    .bind(token_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|err| match EraseError::from(err) {
        err if is_lock_timeout(&err) => EraseError::ActorBusy,
        err => err,
    })?;
    sqlx::query("set local lock_timeout to default")
        .execute(&mut *tx)
        .await?;
    live.map(|_| ()).ok_or(EraseError::SignedOut)
}

/// Reads the principal of user `$1` of account `$2` (a request's requester) and share-locks the user and
/// account rows until the erasure ends, as `LOCK_ACTOR_SQL` does for a session's.
static LOCK_REQUESTER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "select {USER_PRINCIPAL_COLUMNS}, {POLICY_COLUMNS} from users u join accounts a on a.id = u.account_id
         where u.id = $1 and u.account_id = $2
         for share of u, a"
    )
});

/// Locks the customers `customer_ids` of account `account_id` in id order and answers those not erased yet;
/// any id the account does not hold is `NotFound`.
async fn lock_customers(
    tx: &mut PgConnection,
    account_id: Uuid,
    customer_ids: &[Uuid],
) -> Result<Vec<Uuid>, EraseError> {
    let locked: Vec<(Uuid, Option<OffsetDateTime>)> = sqlx::query_as(LOCK_CUSTOMERS_SQL)
        .bind(account_id)
        .bind(customer_ids)
        .fetch_all(&mut *tx)
        .await?;
    if locked.len() != customer_ids.len() {
        return Err(EraseError::NotFound);
    }
    Ok(locked
        .into_iter()
        .filter(|(_, erased_at)| erased_at.is_none())
        .map(|(id, _)| id)
        .collect())
}

/// The confirmation of a request, in one transaction: checks the records and the actor, then erases at once or
/// holds the request, as the account's policy says (see `erase_request`). Hands the erasure ids back for the
/// clean-up of a failed attempt.
async fn submit_locked(
    pool: &PgPool,
    actor: Actor<'_>,
    account_id: Uuid,
    plan: &ErasurePlan,
    request_id: Uuid,
    erasure_ids: Vec<Uuid>,
) -> (Result<Submitted, EraseError>, Vec<Uuid>) {
    let outcome = async {
        let mut tx = pool.begin_with(erasure_begin_sql()).await?;
        let unerased = lock_customers(&mut tx, account_id, plan.customer_ids()).await?;
        if unerased.len() != plan.customer_ids.len() {
            return Err(match plan.listed_by {
                None => EraseError::AlreadyErased,
                Some(_) => EraseError::PreviewChanged,
            });
        }
        let (actor, policy) = lock_actor(&mut tx, actor, account_id).await?;
        if let Some(token_id) = plan.via_token {
            lock_token(&mut tx, account_id, token_id).await?;
        }
        if let Some(search) = &plan.listed_by {
            let mut found = unerased_matches(&mut tx, account_id, search).await?;
            found.sort_unstable();
            if found != plan.customer_ids {
                return Err(EraseError::PreviewChanged);
            }
        }
        let records = plan.customer_ids.len() as i64;
        let may_hold = policy.hold_hours > 0
            || policy.approval_min_items.is_some()
            || policy.needs_approval(records, 0);
        let previews: Vec<(Uuid, i64, i64)> = if may_hold {
            sqlx::query_as(PREVIEW_COUNTS_SQL)
                .bind(account_id)
                .bind(plan.customer_ids())
                .fetch_all(&mut *tx)
                .await?
        } else {
            Vec::new()
        };
        let items: i64 = previews
            .iter()
            .map(|(_, calls, messages)| calls + messages)
            .sum();
        let submitted = if policy.erases_at_once(records, items) {
            sqlx::query(OPEN_REQUEST_SQL)
                .bind(account_id)
                .bind(request_id)
                .bind(actor.user_id)
                .bind(plan.suppress)
                .bind(plan.via_token)
                .execute(&mut *tx)
                .await?;
            Submitted::Erased(
                erase_records(
                    pool,
                    &mut tx,
                    &actor,
                    account_id,
                    request_id,
                    &plan.customer_ids,
                    &erasure_ids,
                )
                .await?,
            )
        } else {
            let state = if policy.needs_approval(records, items) {
                RequestState::AwaitingApproval
            } else {
                RequestState::Scheduled
            };
            let held = HeldRequest {
                request_id,
                state,
                suppress: plan.suppress,
                via_token: plan.via_token,
            };
            hold_request(&mut tx, &actor, account_id, held, previews).await?
        };
        let by = plan.via_token.map_or(
            audit_log::Actor::User(actor.user_id),
            audit_log::Actor::Token,
        );
        let created = Entry::new(account_id, by, Action::RequestCreated)
            .request(request_id)
            .count("records", records)
            .ids("customer_ids", plan.customer_ids());
        audit_log::append(&mut tx, &created).await?;
        audit_log::append(&mut tx, &submitted_entry(account_id, by, &submitted)).await?;
        tx.commit().await.map_err(EraseError::Unconfirmed)?;
        Ok(submitted)
    }
    .await;
    (outcome, erasure_ids)
}

/// The audit log's entry for what a confirmation by `by` did: the request erased, or held in its state.
fn submitted_entry(account_id: Uuid, by: audit_log::Actor, submitted: &Submitted) -> Entry {
    match submitted {
        Submitted::Erased(erased) => erased_entry(account_id, by, erased),
        Submitted::Held {
            request_id, state, ..
        } => {
            let action = if *state == RequestState::AwaitingApproval {
                Action::RequestAwaitingApproval
            } else {
                Action::RequestScheduled
            };
            Entry::new(account_id, by, action).request(*request_id)
        }
    }
}

/// The audit log's entry for request `erased` erased by `by`: how many records, and what was erased of them.
fn erased_entry(account_id: Uuid, by: audit_log::Actor, erased: &ErasedRequest) -> Entry {
    let total = |count: fn(&ErasureCounts) -> i64| -> i64 {
        erased
            .records
            .iter()
            .map(|record| count(&record.counts))
            .sum()
    };
    Entry::new(account_id, by, Action::RequestErased)
        .request(erased.request_id)
        .count("records", erased.records.len() as i64)
        .count("calls", total(|c| c.calls))
        .count("recordings", total(|c| c.recordings))
        .count("voicemails", total(|c| c.voicemails))
        .count("transcripts", total(|c| c.transcripts))
        .count("messages", total(|c| c.messages))
        .count("media", total(|c| c.media))
}

/// A request to hold: its id, the state it waits in, whether its people go on the suppression list and the API
/// token it came through, if any.
struct HeldRequest {
    request_id: Uuid,
    state: RequestState,
    suppress: bool,
    via_token: Option<Uuid>,
}

/// Stores request `held` with the preview counts of its records (id, calls, messages).
async fn hold_request(
    tx: &mut PgConnection,
    actor: &Principal,
    account_id: Uuid,
    held: HeldRequest,
    previews: Vec<(Uuid, i64, i64)>,
) -> Result<Submitted, EraseError> {
    let HeldRequest {
        request_id,
        state,
        suppress,
        via_token,
    } = held;
    let not_before: OffsetDateTime = sqlx::query_scalar(HOLD_REQUEST_SQL)
        .bind(account_id)
        .bind(request_id)
        .bind(actor.user_id)
        .bind(state.key())
        .bind(suppress)
        .bind(via_token)
        .fetch_one(&mut *tx)
        .await?;
    let mut ids = Vec::with_capacity(previews.len());
    let mut calls = Vec::with_capacity(previews.len());
    let mut messages = Vec::with_capacity(previews.len());
    for (id, record_calls, record_messages) in previews {
        ids.push(id);
        calls.push(count_i32(record_calls));
        messages.push(count_i32(record_messages));
    }
    sqlx::query(RECORDS_IN_REQUEST_SQL)
        .bind(account_id)
        .bind(request_id)
        .bind(ids)
        .bind(calls)
        .bind(messages)
        .execute(&mut *tx)
        .await?;
    Ok(Submitted::Held {
        request_id,
        state,
        not_before,
    })
}

/// Which stored request a run erases, as whom, and from which states.
#[derive(Clone, Copy)]
struct StoredRun<'a> {
    actor: Actor<'a>,
    account_id: Uuid,
    request_id: Uuid,
    from: &'a [RequestState],
    due_by: Option<OffsetDateTime>,
}

/// The erasure of a stored request, in one transaction: locks the request, checks its state is one of the run's
/// `from` (and its hold over by `due_by`, if given), locks its records and the actor, erases the records not
/// erased yet and completes the request. Hands the erasure ids back for the clean-up of a failed attempt.
async fn run_stored(
    pool: &PgPool,
    run: StoredRun<'_>,
    records: &[Uuid],
    erasure_ids: Vec<Uuid>,
) -> (Result<ErasedRequest, EraseError>, Vec<Uuid>) {
    let StoredRun {
        actor,
        account_id,
        request_id,
        from,
        due_by,
    } = run;
    let outcome = async {
        let mut tx = pool.begin_with(erasure_begin_sql()).await?;
        let (state, not_before): (String, Option<OffsetDateTime>) =
            sqlx::query_as(LOCK_REQUEST_SQL)
                .bind(account_id)
                .bind(request_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(EraseError::NotFound)?;
        let state = RequestState::from_key(&state).ok_or_else(|| {
            EraseError::Database(sqlx::Error::Decode(
                format!("unknown request state {state:?}").into(),
            ))
        })?;
        let held_past_due = matches!((due_by, not_before), (Some(due), Some(end)) if end > due);
        if !from.contains(&state) || held_past_due {
            return Err(EraseError::NotRunnable(state));
        }
        let unerased = lock_customers(&mut tx, account_id, records).await?;
        let by = match actor {
            Actor::Session(_) => None,
            Actor::Requester(_) => Some(audit_log::Actor::System),
        };
        let (actor, _) = lock_actor(&mut tx, actor, account_id).await?;
        sqlx::query(START_ERASING_SQL)
            .bind(account_id)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        let erasure_ids: Vec<Uuid> = records
            .iter()
            .zip(&erasure_ids)
            .filter(|(id, _)| unerased.contains(id))
            .map(|(_, erasure_id)| *erasure_id)
            .collect();
        let erased = erase_records(
            pool,
            &mut tx,
            &actor,
            account_id,
            request_id,
            &unerased,
            &erasure_ids,
        )
        .await?;
        let by = by.unwrap_or(audit_log::Actor::User(actor.user_id));
        audit_log::append(&mut tx, &erased_entry(account_id, by, &erased)).await?;
        tx.commit().await.map_err(EraseError::Unconfirmed)?;
        Ok(erased)
    }
    .await;
    (outcome, erasure_ids)
}

/// Erases the locked records `customer_ids` of request `request_id` (open in `tx`, as `erasing`) with the
/// erasure ids `erasure_ids`, in order, and marks the request completed.
async fn erase_records(
    pool: &PgPool,
    tx: &mut PgConnection,
    actor: &Principal,
    account_id: Uuid,
    request_id: Uuid,
    customer_ids: &[Uuid],
    erasure_ids: &[Uuid],
) -> Result<ErasedRequest, EraseError> {
    let mut records = Vec::with_capacity(customer_ids.len());
    for (&customer_id, &erasure_id) in customer_ids.iter().zip(erasure_ids) {
        let erased = erase_one_locked(
            pool,
            &mut *tx,
            actor,
            account_id,
            customer_id,
            request_id,
            erasure_id,
        )
        .await?;
        records.push(erased);
    }
    let completed_at: OffsetDateTime = sqlx::query_scalar(COMPLETE_REQUEST_SQL)
        .bind(account_id)
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(ErasedRequest {
        request_id,
        completed_at,
        records,
    })
}

/// The ids of the account's records that `search` finds and that are not erased, read in the erasure's
/// transaction (a record added since it began is seen).
async fn unerased_matches(
    tx: &mut PgConnection,
    account_id: Uuid,
    search: &CustomerQuery,
) -> sqlx::Result<Vec<Uuid>> {
    let found = customers::search::search_in_account(&mut *tx, account_id, search).await?;
    Ok(found
        .records
        .into_iter()
        .filter(|record| record.erased_at.is_none())
        .map(|record| record.id)
        .collect())
}

/// Erases one locked record of a request inside its transaction `tx`: counts and queues the stored keys, deletes
/// the messages and calls, marks the record erased with its receipt and adds it to the request.
async fn erase_one_locked(
    pool: &PgPool,
    tx: &mut PgConnection,
    actor: &Principal,
    account_id: Uuid,
    customer_id: Uuid,
    request_id: Uuid,
    erasure_id: Uuid,
) -> Result<Erased, EraseError> {
    let (facts, deleted) = match pool.try_acquire() {
        Some(mut spare) => {
            // Both run to the end, even when one fails: the queued rows must be in place before a failed
            // erasure removes them again.
            let (facts, deleted) = futures::join!(
                count_and_queue(&mut spare, account_id, customer_id, erasure_id),
                delete_activity(&mut *tx, account_id, customer_id),
            );
            (facts?, deleted?)
        }
        None => {
            let facts = count_and_queue(&mut *tx, account_id, customer_id, erasure_id).await?;
            (
                facts,
                delete_activity(&mut *tx, account_id, customer_id).await?,
            )
        }
    };
    if !facts.refused_keys.is_empty() {
        tracing::error!(
            target: "integrity",
            %account_id,
            %customer_id,
            %erasure_id,
            object_keys = ?facts.refused_keys,
            "stored keys outside the account's prefixes on an erased record; not queued, not deleted, not counted"
        );
    }
    if (deleted.calls, deleted.messages_with_media)
        != (facts.calls as u64, facts.messages_with_media as u64)
    {
        tracing::error!(
            %customer_id,
            counted_calls = facts.calls,
            deleted_calls = deleted.calls,
            counted_messages_with_media = facts.messages_with_media,
            deleted_messages_with_media = deleted.messages_with_media,
            "activity changed under the erasure lock; rolled back"
        );
        return Err(EraseError::ChangedDuringErasure);
    }
    let counts = ErasureCounts {
        calls: facts.calls,
        recordings: facts.recordings,
        voicemails: facts.voicemails,
        transcripts: facts.transcripts,
        messages: (deleted.messages_with_media + deleted.messages_without_media) as i64,
        media: facts.media,
        first_activity_at: earliest(facts.calls_first_at, deleted.messages_first_at),
        last_activity_at: latest(facts.calls_last_at, deleted.messages_last_at),
    };
    let erased_at: OffsetDateTime = sqlx::query_scalar(MARK_ERASED_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(actor.user_id)
        .bind(erasure_id)
        .bind(count_i32(counts.calls))
        .bind(count_i32(counts.recordings))
        .bind(count_i32(counts.voicemails))
        .bind(count_i32(counts.transcripts))
        .bind(count_i32(counts.messages))
        .bind(count_i32(counts.media))
        .bind(counts.first_activity_at)
        .bind(counts.last_activity_at)
        .bind(count_i32(facts.refused_keys.len() as i64))
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(RECORD_IN_REQUEST_SQL)
        .bind(account_id)
        .bind(request_id)
        .bind(customer_id)
        .bind(count_i32(counts.calls))
        .bind(count_i32(counts.messages))
        .execute(&mut *tx)
        .await?;
    Ok(Erased {
        customer_id,
        erasure_id,
        erased_at,
        erased_by_name: actor.name.clone(),
        counts,
    })
}

async fn count_and_queue(
    conn: &mut PgConnection,
    account_id: Uuid,
    customer_id: Uuid,
    erasure_id: Uuid,
) -> sqlx::Result<ActivityFacts> {
    sqlx::query_as(COUNT_AND_QUEUE_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(erasure_id)
        .bind(storage::account_key_pattern(
            storage::RECORDINGS,
            account_id,
        ))
        .bind(storage::account_key_pattern(storage::MEDIA, account_id))
        .fetch_one(conn)
        .await
}

/// The erasure's DELETE statements, in the order they run: each takes the account `$1` and the customer `$2`.
pub const DELETE_ACTIVITY_SQL: [&str; 3] = [
    DELETE_MESSAGES_WITH_MEDIA_SQL,
    DELETE_MESSAGES_SQL,
    DELETE_CALLS_SQL,
];

/// How many rows each DELETE of an erasure removed, and the first and last time among the messages it removed.
struct Deleted {
    messages_with_media: u64,
    messages_without_media: u64,
    messages_first_at: Option<OffsetDateTime>,
    messages_last_at: Option<OffsetDateTime>,
    calls: u64,
}

/// Deletes the record's messages and calls.
async fn delete_activity(
    conn: &mut PgConnection,
    account_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<Deleted> {
    let [with_media, without_media, calls] = DELETE_ACTIVITY_SQL;
    let (messages_with_media, first_with, last_with) =
        delete_messages(conn, with_media, account_id, customer_id).await?;
    let (messages_without_media, first_without, last_without) =
        delete_messages(conn, without_media, account_id, customer_id).await?;
    let calls = sqlx::query(calls)
        .bind(account_id)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(Deleted {
        messages_with_media,
        messages_without_media,
        messages_first_at: earliest(first_with, first_without),
        messages_last_at: latest(last_with, last_without),
        calls,
    })
}

/// Runs one of the message DELETEs: how many it removed, and the first and last time among them.
async fn delete_messages(
    conn: &mut PgConnection,
    sql: &str,
    account_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<(u64, Option<OffsetDateTime>, Option<OffsetDateTime>)> {
    let (count, first_at, last_at): (i64, _, _) = sqlx::query_as(sql)
        .bind(account_id)
        .bind(customer_id)
        .fetch_one(conn)
        .await?;
    Ok((count as u64, first_at, last_at))
}

fn count_i32(count: i64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::server::erasure::outbox::ABANDONED_AFTER;

    /// What Postgres answers a statement it rolled back to break a deadlock.
    #[derive(Debug)]
    struct Deadlock;

    impl std::fmt::Display for Deadlock {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("deadlock detected")
        }
    }

    impl std::error::Error for Deadlock {}

    impl sqlx::error::DatabaseError for Deadlock {
        fn message(&self) -> &str {
            "deadlock detected"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed("40P01"))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn a_deadlock_is_recognised_and_nothing_else_is() {
        assert!(is_deadlock(&EraseError::Database(sqlx::Error::Database(
            Box::new(Deadlock)
        ))));
        assert!(!is_deadlock(&EraseError::Database(
            sqlx::Error::RowNotFound
        )));
        assert!(!is_deadlock(&EraseError::ChangedDuringErasure));
    }

    #[test]
    fn only_a_run_that_got_past_the_lock_and_the_permission_may_have_queued_rows() {
        assert!(!may_have_queued(&EraseError::NotFound));
        assert!(!may_have_queued(&EraseError::AlreadyErased));
        assert!(!may_have_queued(&EraseError::SignedOut));
        assert!(!may_have_queued(&EraseError::Refused(AppError::forbidden(
            "no"
        ))));
        assert!(!may_have_queued(&EraseError::ActorBusy));
        assert!(may_have_queued(&EraseError::ChangedDuringErasure));
        assert!(may_have_queued(&EraseError::Database(
            sqlx::Error::RowNotFound
        )));
    }

    #[test]
    fn an_erasure_ends_long_before_its_queued_rows_could_be_dropped_as_abandoned() {
        // After queueing: two DELETEs, the receipt, and a gap before each and before the commit.
        let longest_after_queueing = 3 * ERASURE_STATEMENT_TIMEOUT + 4 * ERASURE_IDLE_TIMEOUT;
        assert!(longest_after_queueing * 3 / 2 < ABANDONED_AFTER);
        assert_eq!(
            erasure_begin_sql(),
            "begin; set local statement_timeout = 600000; set local idle_in_transaction_session_timeout = 60000"
        );
    }

    #[test]
    fn an_unconfirmed_commit_does_not_claim_that_nothing_changed() {
        let error = AppError::from(EraseError::Unconfirmed(sqlx::Error::PoolClosed));
        assert_eq!(error.status(), 500);
        assert!(error.to_string().contains("may or may not"), "{error}");
        assert!(
            !error.to_string().contains("Nothing was changed"),
            "{error}"
        );
    }

    #[test]
    fn an_erasure_that_stayed_a_deadlock_victim_asks_the_admin_to_try_again() {
        let error = AppError::from(EraseError::Busy);
        assert_eq!(error.status(), 409);
        assert!(error.to_string().contains("Try again"), "{error}");
        assert!(!error.to_string().contains("deadlock"), "{error}");
    }
}
