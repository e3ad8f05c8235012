//! The file outbox: deletes the stored objects that committed erasures queued in `object_deletions`, each
//! through its account's part of the store, shared by every instance with `FOR UPDATE SKIP LOCKED`, retried
//! with capped back-off, and drops the rows of erasures that never committed. Each key that leaves the outbox
//! is kept in `residual_check_keys` (in the same transaction) for the receipt's residual check, and each pass
//! ends by issuing the receipts that became due (`evidence::receipts`).

use std::time::Duration;

use futures::StreamExt;
use sqlx::PgPool;
use uuid::Uuid;

use crate::server::db::suppressions;
use crate::server::evidence::receipts::issue_due_receipts;
use crate::server::keys::destructions::destroy_due_keys;
use crate::server::rest::idempotency;
use crate::server::state::AppState;
use crate::server::storage::{DeleteError, Storage};

/// Outbox rows without a receipt that are older than this belong to an erasure that can no longer commit.
pub(super) const ABANDONED_AFTER: Duration = Duration::from_secs(60 * 60);

/// What one pass of the outbox did: stored objects deleted, objects whose deletion failed (kept for a retry),
/// keys refused because they lie outside the row's account (logged, never addressed, not kept), and outbox rows
/// handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPass {
    /// Stored objects deleted, or found already gone.
    pub deleted: usize,
    /// Stored objects whose deletion failed; their keys stay in the row for a later retry.
    pub failed: usize,
    /// Keys outside the row's account's prefixes: refused and logged, never deleted.
    pub refused: usize,
    /// Outbox rows claimed; a pass that claims a full batch is followed at once by another.
    pub rows: usize,
}

/// How many objects of one outbox row are deleted at a time.
const CONCURRENT_DELETES: usize = 16;

/// Deletes the objects of up to `batch` due outbox rows: rows whose erasure has committed its receipt. Rows are
/// claimed with `FOR UPDATE SKIP LOCKED`, so any number of instances share the work; a row leaves the outbox
/// once all its objects are gone, and keeps the keys that failed for a retry later with exponential back-off
/// (capped at an hour). Each row's keys are deleted through its account's part of the store: a key outside the
/// account's prefixes is refused, logged as an integrity error and dropped, and no object of it is touched.
pub async fn delete_due_objects(
    pool: &PgPool,
    storage: &Storage,
    batch: i64,
) -> sqlx::Result<OutboxPass> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query_as::<_, (i64, Uuid, Uuid, Vec<String>)>(
        "select id, account_id, erasure_id, object_keys from object_deletions
         where next_attempt_at <= now() and exists (select 1 from erasures where id = erasure_id)
         order by next_attempt_at, id limit $1 for update of object_deletions skip locked",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    let mut pass = OutboxPass::default();
    for (id, account_id, erasure_id, keys) in due {
        pass.rows += 1;
        let account_storage = &storage.of_account(account_id);
        let outcomes: Vec<(String, Result<(), DeleteError>)> = futures::stream::iter(keys)
            .map(|key| async move {
                let outcome = account_storage.delete(&key).await;
                (key, outcome)
            })
            .buffer_unordered(CONCURRENT_DELETES)
            .collect()
            .await;
        let mut failed = Vec::new();
        let mut gone = Vec::new();
        let mut last_error = String::new();
        for (key, outcome) in outcomes {
            match outcome {
                Ok(()) => {
                    pass.deleted += 1;
                    gone.push(key);
                }
                Err(DeleteError::OutsideAccount) => {
                    tracing::error!(
                        target: "integrity",
                        outbox_row = id,
                        %account_id,
                        object_key = %key,
                        "queued key outside its account's storage prefixes; refused, not deleted"
                    );
                    pass.refused += 1;
                    gone.push(key);
                }
                Err(DeleteError::Store(err)) => {
                    tracing::warn!(object_key = %key, error = %err, "object deletion failed; will retry");
                    last_error = err.to_string();
                    failed.push(key);
                }
            }
        }
        if !gone.is_empty() {
            sqlx::query(
                "insert into residual_check_keys (account_id, erasure_id, object_keys) values ($1, $2, $3)",
            )
            .bind(account_id)
            .bind(erasure_id)
            .bind(&gone)
            .execute(&mut *tx)
            .await?;
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

/// Removes outbox rows queued longer than `ABANDONED_AFTER` ago for an erasure that never committed its receipt:
/// what a failed erasure could not remove itself (its process stopped, or the database was unreachable).
pub async fn drop_abandoned_queues(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "delete from object_deletions
         where created_at < now() - make_interval(secs => $1)
           and not exists (select 1 from erasures where id = erasure_id)",
    )
    .bind(ABANDONED_AFTER.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

/// What follows a committed erasure in the instance that ran it: its people go on the suppression list at once
/// (what fails here is left to the outbox worker's next pass), and the outbox worker is woken to delete its
/// files.
pub async fn after_erasure(state: &AppState) {
    if let Err(err) = suppressions::add_due(&state.pool, &state.evidence_secret).await {
        tracing::error!(error = %err, "adding erased people to the suppression list failed; the worker retries");
    }
    state.outbox_wakeup.notify_one();
}

/// Runs for the life of the server: drains the outbox, puts the people of completed requests on the
/// suppression list, destroys the data keys of erased records (`keys::destructions`), issues the receipts that
/// became due (with no signing key configured, none: they are issued by the first instance that has one), then
/// sleeps until an erasure wakes it or a few seconds pass (to retry failures, pick up work left by a crashed
/// instance, and drop abandoned queues). Its first pass, at start-up, issues what a stopped instance left due.
pub async fn run_outbox_worker(state: AppState) {
    const BATCH_ROWS: i64 = 20;
    loop {
        match delete_due_objects(&state.pool, &state.storage, BATCH_ROWS).await {
            Ok(pass) if pass.rows == BATCH_ROWS as usize => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "outbox pass failed"),
        }
        if let Err(err) = suppressions::add_due(&state.pool, &state.evidence_secret).await {
            tracing::error!(error = %err, "adding erased people to the suppression list failed");
        }
        if let Err(err) = destroy_due_keys(&state.pool, &state.keyring, BATCH_ROWS).await {
            tracing::error!(error = %err, "destroying erased records' keys failed");
        }
        if let Some(keys) = &state.receipt_keys
            && let Err(err) =
                issue_due_receipts(&state.pool, &state.storage, &state.keyring, keys).await
        {
            tracing::error!(error = %err, "issuing receipts failed");
        }
        let woken =
            tokio::time::timeout(Duration::from_secs(5), state.outbox_wakeup.notified()).await;
        if woken.is_err() {
            if let Err(err) = drop_abandoned_queues(&state.pool).await {
                tracing::error!(error = %err, "dropping abandoned outbox rows failed");
            }
            if let Err(err) = idempotency::drop_expired(&state.pool).await {
                tracing::error!(error = %err, "dropping expired idempotency keys failed");
            }
        }
    }
}
