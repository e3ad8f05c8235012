//! The erasure of one customer's call and message data, and the outbox worker that deletes their stored files.
//!
//! The erasure is one transaction of two statements: lock the customer row, which holds off every insert and
//! update of its calls and messages (the `*_refuse_erased` triggers wait for that lock); then `ERASE_SQL`
//! deletes the calls and messages, queues their stored keys in `object_deletions`, in batches, marks the record
//! erased and writes the `erasures` receipt from what the deletes returned. A failure at any point rolls all of
//! it back. Files are deleted only after the commit, by `delete_due_objects`, so no file is ever left without an
//! outbox row; a file already gone counts as deleted, so retries and restarts are safe.

use std::time::Duration;

use futures::StreamExt;
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::ErasureCounts;
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

/// What the receipt of a committed erasure records, as `ERASE_SQL` returns it.
#[derive(FromRow)]
struct ReceiptRow {
    erased_at: OffsetDateTime,
    calls_deleted: i32,
    recordings_deleted: i32,
    voicemails_deleted: i32,
    transcripts_deleted: i32,
    messages_deleted: i32,
    media_deleted: i32,
    first_activity_at: Option<OffsetDateTime>,
    last_activity_at: Option<OffsetDateTime>,
}

/// Locks customer `$2` of account `$1` for the erasure.
pub const LOCK_CUSTOMER_SQL: &str =
    "select erased_at from customers where account_id = $1 and id = $2 for update";

/// Erases customer `$2` of account `$1` as user `$3`, in one statement: deletes its calls and messages, counts
/// what the deletes returned, queues every stored key (recordings, voicemails, media) for erasure `$4` at most
/// 1,000 keys per outbox row, marks the record erased and writes the receipt. Each call and message is read
/// once, by its delete, so the receipt and the outbox hold exactly what was deleted.
pub const ERASE_SQL: &str = "with deleted_calls as (
             delete from calls where account_id = $1 and customer_id = $2
             returning started_at, recording_key, is_voicemail, transcript is not null as transcribed
         ), deleted_messages as (
             delete from messages where account_id = $1 and customer_id = $2
             returning sent_at, media_keys
         ), call_facts as (
             select count(*) as calls,
                    count(recording_key) filter (where not is_voicemail) as recordings,
                    count(*) filter (where is_voicemail) as voicemails,
                    count(*) filter (where transcribed) as transcripts,
                    min(started_at) as first_at, max(started_at) as last_at,
                    array_agg(recording_key) filter (where recording_key is not null) as stored_keys
             from deleted_calls
         ), message_facts as (
             select count(*) as messages, min(sent_at) as first_at, max(sent_at) as last_at
             from deleted_messages
         ), media as (
             select array_agg(media_key) as stored_keys
             from deleted_messages, unnest(media_keys) as media_key
         ), queued as (
             insert into object_deletions (account_id, erasure_id, object_keys)
             select $1, $4, batch.stored_keys[n * 1000 + 1 : (n + 1) * 1000]
             from (select stored_keys from call_facts union all select stored_keys from media) batch,
                  generate_series(0, (cardinality(batch.stored_keys) - 1) / 1000) n
             where cardinality(batch.stored_keys) > 0
         ), marked as (
             update customers set erased_at = now(), erased_by = $3 where account_id = $1 and id = $2
             returning account_id, id, object_type, salesforce_id, erased_at
         )
         insert into erasures (id, account_id, customer_id, object_type, salesforce_id, erased_by, erased_at,
             calls_deleted, recordings_deleted, voicemails_deleted, transcripts_deleted, messages_deleted,
             media_deleted, first_activity_at, last_activity_at)
         select $4, r.account_id, r.id, r.object_type, r.salesforce_id, $3, r.erased_at,
                c.calls, c.recordings, c.voicemails, c.transcripts, m.messages,
                coalesce(cardinality(media.stored_keys), 0),
                least(c.first_at, m.first_at), greatest(c.last_at, m.last_at)
         from marked r, call_facts c, message_facts m, media
         returning erased_at, calls_deleted, recordings_deleted, voicemails_deleted, transcripts_deleted,
                   messages_deleted, media_deleted, first_activity_at, last_activity_at";

/// What a committed erasure wrote: its `erasures` row id, when, and the counts.
#[derive(Debug, Clone)]
pub struct Erased {
    pub erasure_id: Uuid,
    pub erased_at: OffsetDateTime,
    pub counts: ErasureCounts,
}

/// Erases all call and message data of one customer record of `account_id`, as `actor_id`, and returns what the
/// receipt records, read inside the transaction (nothing is read after the commit). Concurrent calls for one
/// record wait on the row lock; all but the first then see it erased and get `AlreadyErased`.
pub async fn erase_customer(
    pool: &PgPool,
    account_id: Uuid,
    actor_id: Uuid,
    customer_id: Uuid,
) -> Result<Erased, EraseError> {
    let mut tx = pool.begin().await?;
    let previous: Option<OffsetDateTime> = sqlx::query_scalar(LOCK_CUSTOMER_SQL)
        .bind(account_id)
        .bind(customer_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(EraseError::NotFound)?;
    if previous.is_some() {
        return Err(EraseError::AlreadyErased);
    }
    let erasure_id = Uuid::new_v4();
    let receipt = sqlx::query_as::<_, ReceiptRow>(ERASE_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(actor_id)
        .bind(erasure_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Erased {
        erasure_id,
        erased_at: receipt.erased_at,
        counts: ErasureCounts {
            calls: receipt.calls_deleted.into(),
            recordings: receipt.recordings_deleted.into(),
            voicemails: receipt.voicemails_deleted.into(),
            transcripts: receipt.transcripts_deleted.into(),
            messages: receipt.messages_deleted.into(),
            media: receipt.media_deleted.into(),
            first_activity_at: receipt.first_activity_at,
            last_activity_at: receipt.last_activity_at,
        },
    })
}

/// What one pass of the outbox did: stored objects deleted, objects whose deletion failed (kept for a retry),
/// and outbox rows handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPass {
    pub deleted: usize,
    pub failed: usize,
    pub rows: usize,
}

/// How many objects of one outbox row are deleted at a time.
const CONCURRENT_DELETES: usize = 16;

/// Deletes the objects of up to `batch` due outbox rows. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so any
/// number of instances share the work; a row leaves the outbox once all its objects are gone, and keeps the
/// keys that failed for a retry later with exponential back-off (capped at an hour).
pub async fn delete_due_objects(
    pool: &PgPool,
    storage: &Storage,
    batch: i64,
) -> sqlx::Result<OutboxPass> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query_as::<_, (i64, Vec<String>)>(
        "select id, object_keys from object_deletions where next_attempt_at <= now()
         order by next_attempt_at, id limit $1 for update skip locked",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    let mut pass = OutboxPass::default();
    for (id, keys) in due {
        pass.rows += 1;
        let outcomes: Vec<(String, object_store::Result<()>)> = futures::stream::iter(keys)
            .map(|key| async move {
                let outcome = storage.delete(&key).await;
                (key, outcome)
            })
            .buffer_unordered(CONCURRENT_DELETES)
            .collect()
            .await;
        let mut failed = Vec::new();
        let mut last_error = String::new();
        for (key, outcome) in outcomes {
            match outcome {
                Ok(()) => pass.deleted += 1,
                Err(err) => {
                    tracing::warn!(object_key = %key, error = %err, "object deletion failed; will retry");
                    last_error = err.to_string();
                    failed.push(key);
                }
            }
        }
        if failed.is_empty() {
            sqlx::query("delete from object_deletions where id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            pass.failed += failed.len();
            sqlx::query(
                "update object_deletions
                 set object_keys = $2, attempts = attempts + 1, last_error = left($3, 500),
                     next_attempt_at = now() + make_interval(secs => least(3600, power(2, least(attempts + 1, 12))))
                 where id = $1",
            )
            .bind(id)
            .bind(&failed)
            .bind(&last_error)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(pass)
}

/// Runs for the life of the server: drains the outbox, then sleeps until an erasure wakes it or a few seconds
/// pass (to retry failures and pick up work left by a crashed instance).
pub async fn run_outbox_worker(state: AppState) {
    const BATCH_ROWS: i64 = 20;
    loop {
        match delete_due_objects(&state.pool, &state.storage, BATCH_ROWS).await {
            Ok(pass) if pass.rows == BATCH_ROWS as usize => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "outbox pass failed"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), state.outbox_wakeup.notified()).await;
    }
}
