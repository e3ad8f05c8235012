//! Queries, one module per table family. Every query that reads tenant data filters by `account_id`; rows are
//! converted into `crate::model` types here so nothing above sees a database row.

pub mod accounts;
pub mod customers;
pub mod sessions;
pub mod users;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects to the database, failing with one readable line.
pub async fn connect(url: &str) -> Result<PgPool, String> {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

pub async fn migrate(pool: &PgPool) -> Result<(), String> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| format!("cannot apply migrations: {e}"))
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
