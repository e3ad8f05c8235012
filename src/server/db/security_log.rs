//! The security log's key (`security_log::LogKey`), kept in the database so every instance shares it.

use sqlx::PgPool;

use crate::server::security_log::LogKey;

/// The deployment's log key: the stored one, or `candidate` stored now when there is none yet (the first server
/// to start wins; the others read its key).
pub async fn log_key(pool: &PgPool, candidate: &LogKey) -> sqlx::Result<LogKey> {
    sqlx::query!(
        "insert into security_log_key (key) values ($1) on conflict (only_row) do nothing",
        candidate.as_bytes()
    )
    .execute(pool)
    .await?;
    let stored = sqlx::query_scalar!("select key from security_log_key")
        .fetch_one(pool)
        .await?;
    LogKey::from_bytes(&stored)
        .ok_or_else(|| sqlx::Error::Decode("the stored security log key is not 32 bytes".into()))
}
