//! Accounts (tenants): the Manage Customer Data setting and the erasure policy, each change appended to the
//! account's audit log in its transaction.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::model::{AccountSettings, ErasurePolicy};

use crate::server::evidence::audit_log::{self, Action, Actor, Entry};

/// The General Settings of account `account_id`; an unknown account is an error (`RowNotFound`).
pub async fn settings<'c>(
    db: impl PgExecutor<'c>,
    account_id: Uuid,
) -> sqlx::Result<AccountSettings> {
    let row = sqlx::query!(
        "select name, manage_customer_data from accounts where id = $1",
        account_id
    )
    .fetch_one(db)
    .await?;
    Ok(AccountSettings {
        account_name: row.name,
        manage_customer_data: row.manage_customer_data,
    })
}

/// Turns the setting on or off and records who did it, in one transaction, and answers the settings as that
/// transaction left them (nothing is read after the commit). Saving the current value changes nothing and
/// records nothing. Per-user grants are kept either way.
pub async fn set_customer_data(
    pool: &PgPool,
    account_id: Uuid,
    actor_id: Uuid,
    enabled: bool,
) -> sqlx::Result<AccountSettings> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "update accounts set manage_customer_data = $2 where id = $1 and manage_customer_data <> $2",
        account_id,
        enabled
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    let saved = settings(&mut *tx, account_id).await?;
    if changed {
        let action = if enabled {
            Action::CustomerDataSettingEnabled
        } else {
            Action::CustomerDataSettingDisabled
        };
        audit_log::append(
            &mut tx,
            &Entry::new(account_id, Actor::User(actor_id), action),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// The ISO 3166 country account `account_id`'s national phone numbers are read in.
pub async fn default_country(pool: &PgPool, account_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar!(
        "select default_country from accounts where id = $1",
        account_id
    )
    .fetch_one(pool)
    .await
}

/// The erasure policy of account `account_id`; an unknown account is an error (`RowNotFound`).
pub async fn erasure_policy<'c>(
    db: impl PgExecutor<'c>,
    account_id: Uuid,
) -> sqlx::Result<ErasurePolicy> {
    sqlx::query_as!(
        ErasurePolicy,
        "select hold_hours, deadline_days, approval_min_records, approval_min_items from accounts where id = $1",
        account_id
    )
    .fetch_one(db)
    .await
}

/// Saves account `account_id`'s erasure policy and records who changed it, in one transaction, and answers the
/// policy as that transaction left it. Saving the current policy changes nothing and records nothing. Requests
/// already made keep the hold, due date and approval they were given.
pub async fn set_erasure_policy(
    pool: &PgPool,
    account_id: Uuid,
    actor_id: Uuid,
    policy: ErasurePolicy,
) -> sqlx::Result<ErasurePolicy> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "update accounts set hold_hours = $2, deadline_days = $3, approval_min_records = $4,
             approval_min_items = $5
         where id = $1
           and (hold_hours, deadline_days, approval_min_records, approval_min_items)
               is distinct from ($2, $3, $4, $5)",
        account_id,
        policy.hold_hours,
        policy.deadline_days,
        policy.approval_min_records,
        policy.approval_min_items
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    let saved = erasure_policy(&mut *tx, account_id).await?;
    if changed {
        let mut entry = Entry::new(
            account_id,
            Actor::User(actor_id),
            Action::ErasurePolicyChanged,
        )
        .count("hold_hours", i64::from(saved.hold_hours))
        .count("deadline_days", i64::from(saved.deadline_days));
        if let Some(records) = saved.approval_min_records {
            entry = entry.count("approval_min_records", i64::from(records));
        }
        if let Some(items) = saved.approval_min_items {
            entry = entry.count("approval_min_items", i64::from(items));
        }
        audit_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// The id of the (oldest) account with this name, if there is one.
pub async fn find_by_name(pool: &PgPool, name: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "select id from accounts where name = $1 order by created_at limit 1",
        name
    )
    .fetch_optional(pool)
    .await
}

/// Creates an account with this name; returns its id.
pub async fn create(pool: &PgPool, name: &str) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!("insert into accounts (name) values ($1) returning id", name)
        .fetch_one(pool)
        .await
}
