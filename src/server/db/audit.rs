//! The audit trail (`audit_events`): who turned the account's Manage Customer Data setting on or off, or
//! granted or revoked a user's permission, and when. Each event is written in the transaction of the change it
//! records.

use sqlx::PgConnection;
use uuid::Uuid;

/// Records that `actor_id` did `action` (one of the actions the table's CHECK lists), to user `target_user_id`
/// when the change concerns one.
pub async fn record(
    conn: &mut PgConnection,
    account_id: Uuid,
    actor_id: Uuid,
    action: &str,
    target_user_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into audit_events (account_id, actor_id, action, target_user_id) values ($1, $2, $3, $4)",
        account_id,
        actor_id,
        action,
        target_user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
