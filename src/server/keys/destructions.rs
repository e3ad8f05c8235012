//! The key worker's queue: each committed erasure leaves a row in `key_destructions` (data database) per
//! erased record; a pass claims due rows with `FOR UPDATE SKIP LOCKED`, destroys each key in the keyring
//! (`Keyring::destroy`, idempotent) and marks the row with the time the keyring gives, retrying failures with
//! capped back-off. A crash anywhere leaves the row queued, and the next pass finishes it.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Destruction, Keyring};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyPass {
    /// Rows claimed.
    pub rows: usize,
    /// Keys destroyed (or found destroyed by an earlier attempt).
    pub destroyed: usize,
    /// Records that never had a key.
    pub never_made: usize,
    /// Destructions that failed and wait for a retry.
    pub failed: usize,
}

/// Destroys the keys of up to `batch` due rows of `key_destructions`.
pub async fn destroy_due_keys(
    pool: &PgPool,
    keyring: &Keyring,
    batch: i64,
) -> sqlx::Result<KeyPass> {
    let mut tx = pool.begin().await?;
    let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select account_id, customer_id from key_destructions
         where destroyed_at is null and next_attempt_at <= now()
         order by next_attempt_at limit $1 for update skip locked",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    let mut pass = KeyPass {
        rows: due.len(),
        ..KeyPass::default()
    };
    for (account, customer) in due {
        let outcome = keyring.destroy(customer).await;
        let (destroyed_at, had_key): (Option<OffsetDateTime>, bool) = match outcome {
            Ok(Destruction::Destroyed(at)) => {
                pass.destroyed += 1;
                (Some(at), true)
            }
            Ok(Destruction::NeverMade) => {
                pass.never_made += 1;
                (None, false)
            }
            Err(err) => {
                pass.failed += 1;
                tracing::error!(error = %err, %customer, "destroying a data key failed; retried later");
                sqlx::query(
                    "update key_destructions
                     set attempts = attempts + 1, last_error = 'the keyring could not destroy the key',
                         next_attempt_at = now() + least(interval '1 hour', interval '1 second' * 2 ^ attempts)
                     where account_id = $1 and customer_id = $2",
                )
                .bind(account)
                .bind(customer)
                .execute(&mut *tx)
                .await?;
                continue;
            }
        };
        sqlx::query(
            "update key_destructions
             set destroyed_at = coalesce($3, clock_timestamp()), had_key = $4, last_error = null
             where account_id = $1 and customer_id = $2",
        )
        .bind(account)
        .bind(customer)
        .bind(destroyed_at)
        .bind(had_key)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(pass)
}
