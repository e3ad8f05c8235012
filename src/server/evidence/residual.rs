//! The residual check a receipt records: once a request's stored files are deleted, whether anything of its
//! erased records is left. Three stores are checked:
//!
//! - the database: every table with a foreign key to `customers`, read from the catalog (`pg_constraint`) when
//!   the check runs, so a table added later is checked without a change here; the rows that still reference
//!   one of the request's records must be 0. The erasure's own evidence (`KEPT_AS_EVIDENCE`: the `erasures`
//!   rows and the request's list of records, which hold ids and counts, no personal data) is listed apart with
//!   its row count.
//! - the object store: every key the erasure queued (kept in `residual_check_keys` as it left the outbox) is
//!   asked for; an object still stored there is left over.
//! - the keyring: a data key of one of the records still held there is left over (the key worker destroyed
//!   them before the request became due).

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::server::keys::Keyring;
use crate::server::storage::Storage;

/// Tables that reference `customers` and keep rows for an erased record on purpose: the evidence of the
/// erasure itself (ids and counts only). Every other referencing table must hold no row of an erased record.
pub const KEPT_AS_EVIDENCE: [&str; 2] = ["erasure_request_records", "erasures"];

/// The foreign keys to `customers`: the referencing table (as `regclass` writes it, quoted where needed) and,
/// per constraint, its columns and the `customers` columns they reference, both quoted, in key order.
const REFERENCING_KEYS_SQL: &str = "select c.conrelid::regclass::text as table_name,
            array_agg(quote_ident(own.attname) order by k.position) as columns,
            array_agg(quote_ident(referenced.attname) order by k.position) as referenced_columns
     from pg_constraint c
     cross join lateral unnest(c.conkey, c.confkey) with ordinality as k(own_number, referenced_number, position)
     join pg_attribute own on own.attrelid = c.conrelid and own.attnum = k.own_number
     join pg_attribute referenced on referenced.attrelid = c.confrelid and referenced.attnum = k.referenced_number
     where c.contype = 'f' and c.confrelid = 'customers'::regclass
     group by c.oid, c.conrelid
     order by 1, c.oid";

/// Rows left in one table for the checked records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRows {
    /// The table's name.
    pub table: String,
    /// Its rows that reference one of the records.
    pub rows: i64,
}

/// What the residual check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidualCheck {
    /// Every table that references `customers` other than the evidence, with the rows left (each must be 0).
    pub tables: Vec<TableRows>,
    /// The evidence tables, with the rows they keep for the records.
    pub kept_as_evidence: Vec<TableRows>,
    /// How many stored keys were asked for.
    pub storage_keys_checked: i64,
    /// How many of them still hold an object (must be 0).
    pub objects_left: i64,
    /// How many of the records' data keys the keyring still holds (must be 0); `None` in receipts issued before
    /// the keyring was checked, which do not name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_keys_left: Option<i64>,
}

impl ResidualCheck {
    /// Whether nothing is left: no row in any checked table, no object under any checked key.
    pub fn is_clean(&self) -> bool {
        self.objects_left == 0
            && self.data_keys_left.unwrap_or(0) == 0
            && self.tables.iter().all(|table| table.rows == 0)
    }

    /// The tables that still hold rows of the records.
    pub fn tables_with_rows(&self) -> impl Iterator<Item = &TableRows> {
        self.tables.iter().filter(|table| table.rows > 0)
    }
}

/// Why the check could not run to the end (it is tried again later).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The object store could not say whether an object is there.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// The keyring could not say which keys it holds.
    #[error("keyring: {0}")]
    Keyring(#[from] crate::server::keys::KeyringError),
}

/// How many keys are asked for at a time.
const CONCURRENT_CHECKS: usize = 16;

/// Checks what is left of the records `customer_ids` of account `account_id` in every table that references
/// `customers` (on `connection`, the issuer's transaction), under the stored keys `keys`, and in the keyring.
pub async fn check(
    connection: &mut PgConnection,
    storage: &Storage,
    keyring: &Keyring,
    account_id: Uuid,
    customer_ids: &[Uuid],
    keys: &[String],
) -> Result<ResidualCheck, CheckError> {
    let references: Vec<(String, Vec<String>, Vec<String>)> = sqlx::query_as(REFERENCING_KEYS_SQL)
        .fetch_all(&mut *connection)
        .await?;
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    for (table, columns, referenced) in references {
        let condition = format!(
            "({}) in (select {} from customers where account_id = $1 and id = any($2))",
            columns.join(", "),
            referenced.join(", ")
        );
        match tables.last_mut() {
            Some((last, conditions)) if *last == table => conditions.push(condition),
            _ => tables.push((table, vec![condition])),
        }
    }
    let mut checked = Vec::new();
    let mut kept = Vec::new();
    for (table, conditions) in tables {
        let rows: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where {}",
            conditions.join(" or ")
        ))
        .bind(account_id)
        .bind(customer_ids)
        .fetch_one(&mut *connection)
        .await?;
        let counted = TableRows { table, rows };
        if KEPT_AS_EVIDENCE.contains(&counted.table.as_str()) {
            kept.push(counted);
        } else {
            checked.push(counted);
        }
    }
    let found: Vec<object_store::Result<bool>> = futures::stream::iter(keys.to_vec())
        .map(|key| {
            let storage = storage.clone();
            async move { storage.exists(&key).await }
        })
        .buffer_unordered(CONCURRENT_CHECKS)
        .collect()
        .await;
    let mut objects_left = 0;
    for outcome in found {
        if outcome? {
            objects_left += 1;
        }
    }
    Ok(ResidualCheck {
        tables: checked,
        kept_as_evidence: kept,
        storage_keys_checked: keys.len() as i64,
        objects_left,
        data_keys_left: Some(keyring.keys_held(customer_ids).await?),
    })
}
