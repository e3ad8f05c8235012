//! The erasure of one customer's call and message data, and the outbox worker that deletes their stored files.
//!
//! The erasure is one transaction: lock the customer row, delete its messages and calls while queueing their
//! storage keys in `object_deletions`, mark the record erased, write the `erasures` receipt. A failure at any
//! point rolls all of it back. Files are deleted only after the commit, by `delete_due_objects`, so no file is
//! ever left without an outbox row; a file already gone counts as deleted, so retries and restarts are safe.

use std::time::Duration;

use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::ErasureCounts;
use crate::server::db::customers::{earliest, latest};
use crate::server::state::AppState;
use crate::server::storage::Storage;

/// Why an erasure did not happen.
#[derive(Debug)]
pub enum EraseError {
    NotFound,
    AlreadyErased,
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
            EraseError::Database(e) => crate::server::state::db_failure(e),
        }
    }
}

#[derive(FromRow)]
struct LockedCustomer {
    object_type: String,
    salesforce_id: String,
    erased_at: Option<OffsetDateTime>,
}

#[derive(FromRow)]
struct DeletedMessages {
    messages: i64,
    media: i64,
    first_at: Option<OffsetDateTime>,
    last_at: Option<OffsetDateTime>,
}

#[derive(FromRow)]
struct DeletedCalls {
    calls: i64,
    recordings: i64,
    voicemails: i64,
    transcripts: i64,
    first_at: Option<OffsetDateTime>,
    last_at: Option<OffsetDateTime>,
}

/// Locks customer `$2` of account `$1` for the erasure.
pub const LOCK_CUSTOMER_SQL: &str = "select object_type, salesforce_id, erased_at from customers where account_id = $1 and id = $2 for update";

/// Deletes the messages of customer `$2`, queueing their media for erasure `$3`, and counts them.
pub const DELETE_MESSAGES_SQL: &str = "with gone as (
             delete from messages where account_id = $1 and customer_id = $2 returning media_keys, sent_at
         ), queued as (
             insert into object_deletions (account_id, erasure_id, object_key)
             select $1, $3, key from gone, unnest(gone.media_keys) as key
         )
         select count(*) as messages, coalesce(sum(cardinality(media_keys)), 0)::bigint as media,
                min(sent_at) as first_at, max(sent_at) as last_at
         from gone";

/// Deletes the calls of customer `$2`, queueing their recordings for erasure `$3`, and counts them.
pub const DELETE_CALLS_SQL: &str = "with gone as (
             delete from calls where account_id = $1 and customer_id = $2
             returning recording_key, is_voicemail, transcript is not null as had_transcript, started_at
         ), queued as (
             insert into object_deletions (account_id, erasure_id, object_key)
             select $1, $3, recording_key from gone where recording_key is not null
         )
         select count(*) as calls,
                count(recording_key) filter (where not is_voicemail) as recordings,
                count(*) filter (where is_voicemail) as voicemails,
                count(*) filter (where had_transcript) as transcripts,
                min(started_at) as first_at, max(started_at) as last_at
         from gone";

/// Marks customer `$2` of account `$1` erased by user `$3`.
pub const MARK_ERASED_SQL: &str = "update customers set erased_at = now(), erased_by = $3 where account_id = $1 and id = $2 returning erased_at";

/// What a committed erasure wrote: its `erasures` row id, when, and the counts.
#[derive(Debug, Clone)]
pub struct Erased {
    pub erasure_id: Uuid,
    pub erased_at: OffsetDateTime,
    pub counts: ErasureCounts,
}

/// Erases all call and message data of one customer record of `account_id`, as `actor_id`, and returns what the
/// receipt records, read inside the transaction (nothing is read after the commit). Concurrent calls for one record wait on the row lock; all but the first then see it
/// erased and get `AlreadyErased`.
pub async fn erase_customer(
    pool: &PgPool,
    account_id: Uuid,
    actor_id: Uuid,
    customer_id: Uuid,
) -> Result<Erased, EraseError> {
    let mut tx = pool.begin().await?;
    let customer = sqlx::query_as::<_, LockedCustomer>(LOCK_CUSTOMER_SQL)
        .bind(account_id)
        .bind(customer_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(EraseError::NotFound)?;
    if customer.erased_at.is_some() {
        return Err(EraseError::AlreadyErased);
    }
    let erasure_id = Uuid::new_v4();

    let messages = sqlx::query_as::<_, DeletedMessages>(DELETE_MESSAGES_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(erasure_id)
        .fetch_one(&mut *tx)
        .await?;

    let calls = sqlx::query_as::<_, DeletedCalls>(DELETE_CALLS_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(erasure_id)
        .fetch_one(&mut *tx)
        .await?;

    let counts = ErasureCounts {
        calls: calls.calls,
        recordings: calls.recordings,
        voicemails: calls.voicemails,
        transcripts: calls.transcripts,
        messages: messages.messages,
        media: messages.media,
        first_activity_at: earliest(calls.first_at, messages.first_at),
        last_activity_at: latest(calls.last_at, messages.last_at),
    };

    let erased_at: OffsetDateTime = sqlx::query_scalar(MARK_ERASED_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(actor_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "insert into erasures (id, account_id, customer_id, object_type, salesforce_id, erased_by,
             calls_deleted, recordings_deleted, voicemails_deleted, transcripts_deleted, messages_deleted,
             media_deleted, first_activity_at, last_activity_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(erasure_id)
    .bind(account_id)
    .bind(customer_id)
    .bind(&customer.object_type)
    .bind(&customer.salesforce_id)
    .bind(actor_id)
    .bind(count_i32(counts.calls))
    .bind(count_i32(counts.recordings))
    .bind(count_i32(counts.voicemails))
    .bind(count_i32(counts.transcripts))
    .bind(count_i32(counts.messages))
    .bind(count_i32(counts.media))
    .bind(counts.first_activity_at)
    .bind(counts.last_activity_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Erased {
        erasure_id,
        erased_at,
        counts,
    })
}

fn count_i32(count: i64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// What one pass of the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPass {
    pub deleted: usize,
    pub failed: usize,
}

/// Deletes up to `batch` due objects. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so any number of
/// instances share the work; a row leaves the outbox only once its object is gone, and a failure is retried
/// later with exponential back-off (capped at an hour).
pub async fn delete_due_objects(
    pool: &PgPool,
    storage: &Storage,
    batch: i64,
) -> sqlx::Result<OutboxPass> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query_as::<_, (i64, String)>(
        "select id, object_key from object_deletions where next_attempt_at <= now()
         order by next_attempt_at, id limit $1 for update skip locked",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    let mut pass = OutboxPass::default();
    for (id, key) in due {
        match storage.delete(&key).await {
            Ok(()) => {
                sqlx::query("delete from object_deletions where id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                pass.deleted += 1;
            }
            Err(err) => {
                tracing::warn!(object_key = %key, error = %err, "object deletion failed; will retry");
                sqlx::query(
                    "update object_deletions
                     set attempts = attempts + 1, last_error = left($2, 500),
                         next_attempt_at = now() + make_interval(secs => least(3600, power(2, least(attempts + 1, 12))))
                     where id = $1",
                )
                .bind(id)
                .bind(err.to_string())
                .execute(&mut *tx)
                .await?;
                pass.failed += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(pass)
}

/// Runs for the life of the server: drains the outbox, then sleeps until an erasure wakes it or a few seconds
/// pass (to retry failures and pick up work left by a crashed instance).
pub async fn run_outbox_worker(state: AppState) {
    const BATCH: i64 = 200;
    loop {
        match delete_due_objects(&state.pool, &state.storage, BATCH).await {
            Ok(pass) if pass.deleted + pass.failed == BATCH as usize => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "outbox pass failed"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), state.outbox_wakeup.notified()).await;
    }
}
