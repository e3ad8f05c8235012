//! Saved searches (`saved_searches`): what a user searched for, kept 30 minutes under a random id so that the
//! result page's URL carries the id and never the text. Only the user who saved a search reads it.

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::SearchKind;

/// A saved search as its page reads it: the accepted text, or the refusal the console answered it with.
pub type SavedQuery = Result<String, AppError>;

/// Keeps `saved` as a search of `kind` by `user_id` of `account_id` and returns its id; deletes the user's
/// expired searches in the same statement.
pub async fn save(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    kind: SearchKind,
    saved: &SavedQuery,
) -> sqlx::Result<Uuid> {
    let (query, refusal) = match saved {
        Ok(text) => (Some(text.as_str()), None),
        Err(refusal) => (
            None,
            Some(serde_json::to_string(refusal).map_err(|e| sqlx::Error::Encode(e.into()))?),
        ),
    };
    sqlx::query_scalar!(
        "with forgotten as (
             delete from saved_searches where account_id = $1 and user_id = $2 and expires_at <= now()
         )
         insert into saved_searches (account_id, user_id, kind, query, refusal)
         values ($1, $2, $3, $4, $5)
         returning id",
        account_id,
        user_id,
        kind.as_str(),
        query,
        refusal
    )
    .fetch_one(pool)
    .await
}

/// The search `id` of `kind`, when `user_id` of `account_id` saved it and it has not expired.
pub async fn find(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    kind: SearchKind,
    id: Uuid,
) -> sqlx::Result<Option<SavedQuery>> {
    let row = sqlx::query!(
        "select query, refusal from saved_searches
         where id = $1 and account_id = $2 and user_id = $3 and kind = $4 and expires_at > now()",
        id,
        account_id,
        user_id,
        kind.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| match (row.query, row.refusal) {
        (Some(query), _) => Ok(query),
        (None, refusal) => Err(refusal
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or(AppError::Internal)),
    }))
}

/// Deletes every user's expired searches.
pub async fn delete_expired(pool: &PgPool) -> sqlx::Result<u64> {
    let done = sqlx::query!("delete from saved_searches where expires_at <= now()")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
