//! Queries, one module per table family (a folder when the family answers several questions, as `customers/`
//! does). Every query that reads tenant data filters by `account_id`; rows are converted into `crate::model`
//! types here so nothing above sees a database row.

pub mod accounts;
pub mod activity;
pub mod api_tokens;
pub mod audit;
pub mod customers;
pub mod exports;
pub mod requests;
pub mod saved_searches;
pub mod security_log;
pub mod sessions;
pub mod sign_in;
pub mod suppressions;
pub mod users;

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A pooled connection idle this long is checked with a round trip before it is handed out. sqlx checks every
/// connection by default, and again (always) when it returns to the pool: two round trips besides each
/// query's own. Under load on the customer page, 13% of the console's samples were those checks. Under load a
/// connection is rarely idle a second, so none is checked. A connection from before a database restart has
/// been idle at least as long as the restart took, so after a restart of a second or more each is checked
/// and replaced; a connection whose server process ended within a second of its last use fails one query
/// (that request answers 500) and is then dropped.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool's settings: at most 16 connections, 5 s to get one, and connections idle for `ping_after_idle` or
/// longer pinged first (one that fails is closed and another is used).
pub fn pool_options(ping_after_idle: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(move |connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= ping_after_idle {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Connects to the database, failing with one readable line.
pub async fn connect(url: &str) -> Result<PgPool, String> {
    pool_options(PING_AFTER_IDLE)
        .connect(url)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

/// Applies the migrations the database has not had yet (`MIGRATOR`), failing with one readable line.
pub async fn migrate(pool: &PgPool) -> Result<(), String> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| format!("cannot apply migrations: {e}"))?;
    customers::normalize_stored_phones(pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot normalize the stored phone numbers: {e}"))
}

/// Escapes `%`, `_` and `\` so user text matches literally inside an `ILIKE ... ESCAPE '\'` pattern.
pub fn like_pattern_containing(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern_containing("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern_containing("blair"), "%blair%");
    }
}
