//! Customers (the local mirror of Salesforce records) and what the platform recorded about them. A folder, not
//! one file, because `db/` keeps one module per table family and this family answers two different questions:
//! `search` finds records by email, Salesforce id or phone number, `page` reads one record with its calls and
//! messages. Here: normalizing the stored phone numbers that search by phone reads.

pub mod page;
pub mod search;

use sqlx::PgPool;
use uuid::Uuid;

use crate::server::input;

/// Records normalized per statement.
const PHONE_BATCH: i64 = 1_000;

/// Fills `phone_e164` of the records whose phone is stored in another spelling, read with their account's
/// default country (a number that is not valid stays without one, and is looked at again on the next run).
/// Runs after the migrations; answers how many records it filled.
pub async fn normalize_stored_phones(pool: &PgPool) -> sqlx::Result<u64> {
    let mut after = Uuid::nil();
    let mut filled = 0;
    loop {
        let batch = sqlx::query!(
            r#"select cu.id, cu.phone as "phone!", a.default_country
               from customers cu join accounts a on a.id = cu.account_id
               where cu.phone is not null and cu.phone_e164 is null and cu.id > $1
               order by cu.id limit $2"#,
            after,
            PHONE_BATCH
        )
        .fetch_all(pool)
        .await?;
        let Some(last) = batch.last() else {
            return Ok(filled);
        };
        after = last.id;
        let (ids, numbers): (Vec<Uuid>, Vec<String>) = batch
            .iter()
            .filter_map(|row| Some((row.id, input::phone_e164(&row.phone, &row.default_country)?)))
            .unzip();
        filled += sqlx::query!(
            "update customers cu set phone_e164 = v.number
             from unnest($1::uuid[], $2::text[]) as v(id, number) where cu.id = v.id",
            &ids,
            &numbers
        )
        .execute(pool)
        .await?
        .rows_affected();
    }
}
