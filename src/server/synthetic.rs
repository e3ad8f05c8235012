//! A synthetic tenant at a large customer's scale, for benchmarks and load tests: one account with its Admin
//! (`bench.admin@loadtest.example`, password `demo-password`, Manage Customer Data on), customers with valid
//! 18-character Salesforce ids, Lead/Contact pairs sharing an email, a long tail of customers with many calls,
//! and one customer (`ten.thousand@loadtest.example`) with 10,000 calls and 10,000 messages.
//!
//! Like the API's ingestion, the numbers and transcripts of calls and the numbers and bodies of messages are
//! stored sealed under their record's data key; the keys of every record with activity are made first, in
//! batches (`Keyring::keys_for_new_records`).
//!
//! Rows go in with COPY inside one transaction. In a fresh database the secondary indexes are dropped first and
//! rebuilt at the end (timed), and constraint triggers are skipped (`session_replication_role = replica`, the
//! generated rows are consistent by construction); a failure rolls everything back, indexes included.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sqlx::{PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::salesforce::SalesforceId;
use crate::server::auth::hash_password;
use crate::server::demo::{DEMO_PASSWORD, customer_salesforce_id, salesforce_id};
use crate::server::keys::Keyring;
use crate::server::keys::seal::{Place, seal_text};
use crate::server::keys::tree::Key;

/// The synthetic tenant's account name.
pub const ACCOUNT_NAME: &str = "Loadtest Inc";
/// The email of the tenant's Admin, who holds Manage Customer Data (password `DEMO_PASSWORD`).
pub const ADMIN_EMAIL: &str = "bench.admin@loadtest.example";
/// The email of the heavy customer, the one with `HEAVY_ACTIVITY` calls and messages.
pub const HEAVY_EMAIL: &str = "ten.thousand@loadtest.example";
/// Calls and messages of the heavy customer (fewer when the whole tenant is smaller).
pub const HEAVY_ACTIVITY: u64 = 10_000;
const AGENTS: u64 = 20;
const BATCH_BYTES: usize = 1 << 20;

/// How big a tenant `seed` makes (the `seed` command's flags).
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Customer records, at least 2 (the heavy customer and one more).
    pub customers: u64,
    /// Calls across all customers, the heavy customer's first.
    pub calls: u64,
    /// Messages across all customers, the heavy customer's first.
    pub messages: u64,
}

/// What `seed` loaded and how long it took.
#[derive(Debug)]
pub struct Report {
    /// The synthetic tenant's account id.
    pub account_id: Uuid,
    /// The id of the customer with `HEAVY_ACTIVITY` calls and messages (`HEAVY_EMAIL`).
    pub heavy_customer_id: Uuid,
    /// Customers, calls and messages inserted (the users not counted).
    pub rows: u64,
    /// Seconds from the start to the last row copied, index builds not included.
    pub load_seconds: f64,
    /// Seconds spent rebuilding the dropped indexes (next to none when none were dropped).
    pub index_seconds: f64,
    /// Records whose data key was made (every record with a call or message).
    pub keys_made: u64,
    /// Seconds spent making them (part of `load_seconds`).
    pub key_seconds: f64,
    /// Whether the database held no customer, call or message before, so indexes were dropped and rebuilt and
    /// constraint triggers skipped.
    pub fresh_database: bool,
}

/// Ids grow with the row number so that primary-key inserts append instead of splitting pages. Table 1 is
/// customers, 2 calls, 3 messages, 9 users; customer `n` of the tenant has id `row_id(1, n)`.
pub fn row_id(table: u8, n: u64) -> Uuid {
    Uuid::from_u128((0x5EED_u128 << 112) | (u128::from(table) << 96) | u128::from(n))
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The Salesforce object type of customer `i`: four in ten Leads, four Contacts, one Account, one Opportunity.
pub fn object_type(i: u64) -> &'static str {
    match i % 10 {
        0..=3 => "Lead",
        4..=7 => "Contact",
        8 => "Account",
        _ => "Opportunity",
    }
}

/// The Salesforce id of customer `i` of the tenant.
pub fn salesforce_id_of(i: u64) -> SalesforceId {
    customer_salesforce_id(object_type(i), i + 1)
}

/// Customer 0 is the heavy one; in every block of ten, the Lead at 1 and the Contact at 5 share an email.
pub fn email(i: u64) -> String {
    match (i, i % 10) {
        (0, _) => HEAVY_EMAIL.to_owned(),
        (_, 1) | (_, 5) => format!("person{}@loadtest.example", i / 10),
        _ => format!("c{i}@loadtest.example"),
    }
}

/// Which customer activity row `j` belongs to: the heavy customer first, then half of the rest on a small set of
/// busy customers and half spread over everyone (the long tail).
pub fn owner_of(j: u64, size_customers: u64, heavy: u64) -> u64 {
    if j < heavy || size_customers < 2 {
        return 0;
    }
    let others = size_customers - 1;
    let busy = (others / 50).max(1);
    let h = mix(j);
    if h.is_multiple_of(2) {
        1 + (h >> 1) % busy
    } else {
        1 + (h >> 1) % others
    }
}

fn timestamp(base: OffsetDateTime, seconds_back: u64) -> String {
    let at = base - Duration::seconds(seconds_back as i64);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}+00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

async fn copy_rows(
    conn: &mut PgConnection,
    statement: &str,
    count: u64,
    progress: &ProgressBar,
    mut write_row: impl FnMut(u64, &mut String),
) -> Result<(), String> {
    let mut copy = conn
        .copy_in_raw(statement)
        .await
        .map_err(|e| format!("copy: {e}"))?;
    let mut buffer = String::with_capacity(BATCH_BYTES + 4096);
    let mut pending = 0u64;
    for n in 0..count {
        write_row(n, &mut buffer);
        pending += 1;
        if buffer.len() >= BATCH_BYTES {
            copy.send(buffer.as_bytes())
                .await
                .map_err(|e| format!("copy: {e}"))?;
            buffer.clear();
            progress.inc(pending);
            pending = 0;
        }
    }
    if !buffer.is_empty() {
        copy.send(buffer.as_bytes())
            .await
            .map_err(|e| format!("copy: {e}"))?;
    }
    progress.inc(pending);
    copy.finish().await.map_err(|e| format!("copy: {e}"))?;
    Ok(())
}

/// Loads the synthetic tenant. Refuses when it is already there.
pub async fn seed(
    pool: &PgPool,
    keyring: &Keyring,
    size: Size,
    show_progress: bool,
) -> Result<Report, String> {
    let db = |e: sqlx::Error| format!("database: {e}");
    if size.customers < 2 {
        return Err("--customers must be at least 2".into());
    }
    let account_id = Uuid::new_v5(&Uuid::NAMESPACE_OID, b"synthetic-tenant");
    let exists: bool = sqlx::query_scalar("select exists (select 1 from accounts where id = $1)")
        .bind(account_id)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    if exists {
        return Err(format!(
            "{ACCOUNT_NAME} is already loaded; seed a fresh database"
        ));
    }
    let fresh: bool = sqlx::query_scalar(
        "select not exists (select 1 from customers) and not exists (select 1 from calls)
                and not exists (select 1 from messages)",
    )
    .fetch_one(pool)
    .await
    .map_err(db)?;

    let started = Instant::now();
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("insert into accounts (id, name, manage_customer_data) values ($1, $2, true)")
        .bind(account_id)
        .bind(ACCOUNT_NAME)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let hash = hash_password(DEMO_PASSWORD).map_err(|e| e.to_string())?;
    let user_ids: Vec<Uuid> = (0..=AGENTS).map(|i| row_id(9, i)).collect();
    for (i, user_id) in user_ids.iter().enumerate() {
        let (name, email, role) = if i == 0 {
            ("Bench Admin".to_owned(), ADMIN_EMAIL.to_owned(), "admin")
        } else {
            (
                format!("Agent {i}"),
                format!("agent{i}@loadtest.example"),
                "agent",
            )
        };
        sqlx::query(
            "insert into users (id, account_id, name, email, role, manage_customer_data, salesforce_id, password_hash)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user_id)
        .bind(account_id)
        .bind(name)
        .bind(email)
        .bind(role)
        .bind(i == 0)
        .bind(salesforce_id("005", 900_000 + i as u64).as_str())
        .bind(hash.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }

    let mut dropped: Vec<String> = Vec::new();
    if fresh {
        sqlx::query("set local session_replication_role = replica")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        dropped = sqlx::query_scalar(
            "select pg_get_indexdef(i.indexrelid) from pg_index i join pg_class t on t.oid = i.indrelid
             where t.relnamespace = 'public'::regnamespace and t.relname in ('customers', 'calls', 'messages')
               and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let names: Vec<String> = sqlx::query_scalar(
            "select i.indexrelid::regclass::text from pg_index i join pg_class t on t.oid = i.indrelid
             where t.relnamespace = 'public'::regnamespace and t.relname in ('customers', 'calls', 'messages')
               and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for name in names {
            sqlx::query(&format!("drop index {name}"))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
    }

    let total = size.customers + size.calls + size.messages;
    let progress = if show_progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}) {msg}",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    let base = OffsetDateTime::now_utc();
    let account = account_id.to_string();
    let heavy_calls = HEAVY_ACTIVITY.min(size.calls);
    let heavy_messages = HEAVY_ACTIVITY.min(size.messages);

    progress.set_message("customers");
    copy_rows(
        &mut tx,
        "copy customers (id, account_id, salesforce_id, object_type, name, email, phone, phone_e164) from stdin",
        size.customers,
        &progress,
        |i, out| {
            let kind = object_type(i);
            let sf = salesforce_id_of(i);
            let phone = customer_phone(i);
            out.push_str(&format!(
                "{}\t{account}\t{}\t{kind}\tCustomer {i}\t{}\t{phone}\t{phone}\n",
                row_id(1, i),
                sf.as_str(),
                email(i),
            ));
        },
    )
    .await?;

    progress.set_message("data keys");
    let customers = size.customers;
    let key_started = Instant::now();
    let keys =
        keys_of_active_records(keyring, account_id, size, heavy_calls, heavy_messages).await?;
    let key_seconds = key_started.elapsed().as_secs_f64();
    let seal = |owner: u64, table: &'static str, column: &'static str, row: Uuid, text: &str| {
        let key = keys[owner as usize]
            .as_ref()
            .expect("every record with activity has a key");
        let place = Place {
            account: account_id,
            customer: row_id(1, owner),
            table,
            column,
            row,
        };
        bytea(&seal_text(key, &place, text))
    };

    progress.set_message("calls");
    copy_rows(
        &mut tx,
        "copy calls (id, account_id, customer_id, user_id, direction, from_number_sealed, to_number_sealed,
                     started_at, duration_seconds, disposition, transcript_sealed, is_voicemail, recording_key)
         from stdin",
        size.calls,
        &progress,
        |j, out| {
            let owner = owner_of(j, customers, heavy_calls);
            let h = mix(j ^ 0xCA11);
            let id = row_id(2, j);
            let inbound = h.is_multiple_of(3);
            let voicemail = !inbound && h.is_multiple_of(7);
            let recorded = voicemail || h.is_multiple_of(2);
            let customer_phone = customer_phone(owner);
            let (from, to) = if inbound { (customer_phone.as_str(), "+14155559000") } else { ("+14155559000", customer_phone.as_str()) };
            let recording = if recorded { format!("recordings/{account}/{id}.wav") } else { "\\N".into() };
            let transcript = if recorded && !voicemail {
                seal(owner, "calls", "transcript", id, "Synthetic transcript.")
            } else {
                "\\N".into()
            };
            let from = seal(owner, "calls", "from_number", id, from);
            let to = seal(owner, "calls", "to_number", id, to);
            out.push_str(&format!(
                "{id}\t{account}\t{}\t{}\t{}\t{from}\t{to}\t{}\t{}\t{}\t{transcript}\t{}\t{recording}\n",
                row_id(1, owner),
                user_ids[(1 + h % AGENTS) as usize],
                if inbound { "inbound" } else { "outbound" },
                timestamp(base, j % 31_536_000 + 60),
                30 + h % 900,
                if voicemail { "Left voicemail" } else { "Connected" },
                if voicemail { "t" } else { "f" },
            ));
        },
    )
    .await?;

    progress.set_message("messages");
    copy_rows(
        &mut tx,
        "copy messages (id, account_id, customer_id, user_id, direction, from_number_sealed, to_number_sealed,
                        body_sealed, sent_at, media_keys) from stdin",
        size.messages,
        &progress,
        |j, out| {
            let owner = owner_of(j, customers, heavy_messages);
            let h = mix(j ^ 0x5115);
            let id = row_id(3, j);
            let inbound = h.is_multiple_of(2);
            let customer_phone = customer_phone(owner);
            let (from, to) = if inbound { (customer_phone.as_str(), "+14155559000") } else { ("+14155559000", customer_phone.as_str()) };
            let media = if h.is_multiple_of(9) { format!("{{media/{account}/{id}/0.jpg}}") } else { "{}".into() };
            let body = seal(owner, "messages", "body", id, &format!("Synthetic message {j}"));
            let from = seal(owner, "messages", "from_number", id, from);
            let to = seal(owner, "messages", "to_number", id, to);
            out.push_str(&format!(
                "{id}\t{account}\t{}\t{}\t{}\t{from}\t{to}\t{body}\t{}\t{media}\n",
                row_id(1, owner),
                user_ids[(1 + h % AGENTS) as usize],
                if inbound { "inbound" } else { "outbound" },
                timestamp(base, j % 31_536_000 + 30),
            ));
        },
    )
    .await?;
    progress.finish_and_clear();
    let load_seconds = started.elapsed().as_secs_f64();

    let index_started = Instant::now();
    if !dropped.is_empty() {
        sqlx::query("set local maintenance_work_mem = '1GB'")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for definition in &dropped {
            sqlx::query(definition)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
    }
    let index_seconds = index_started.elapsed().as_secs_f64();
    tx.commit().await.map_err(db)?;
    sqlx::query("analyze customers, calls, messages")
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(Report {
        account_id,
        heavy_customer_id: row_id(1, 0),
        rows: total,
        load_seconds,
        index_seconds,
        keys_made: keys.iter().filter(|key| key.is_some()).count() as u64,
        key_seconds,
        fresh_database: fresh,
    })
}

/// The data keys of the tenant's records that have a call or a message, by record number (`None` for a record
/// without activity), made in the keyring.
async fn keys_of_active_records(
    keyring: &Keyring,
    account_id: Uuid,
    size: Size,
    heavy_calls: u64,
    heavy_messages: u64,
) -> Result<Vec<Option<Key>>, String> {
    let mut active = vec![false; size.customers as usize];
    for j in 0..size.calls {
        active[owner_of(j, size.customers, heavy_calls) as usize] = true;
    }
    for j in 0..size.messages {
        active[owner_of(j, size.customers, heavy_messages) as usize] = true;
    }
    let records: Vec<Uuid> = (0..size.customers)
        .filter(|&i| active[i as usize])
        .map(|i| row_id(1, i))
        .collect();
    let mut made = keyring
        .keys_for_new_records(account_id, &records)
        .await
        .map_err(|e| format!("keyring: {e}"))?;
    Ok((0..size.customers)
        .map(|i| made.remove(&row_id(1, i)))
        .collect())
}

/// `bytes` as a bytea field of COPY's text format: `\\x` and lower-case hex.
fn bytea(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut field = String::with_capacity(3 + 2 * bytes.len());
    field.push_str("\\\\x");
    for byte in bytes {
        field.push(char::from(DIGITS[usize::from(byte >> 4)]));
        field.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    field
}

/// Customer `i`'s phone number in E.164: one number per customer up to 5,000,000 customers (San Francisco's
/// area code, exchanges 500 to 999), so that a phone search finds one record, as a search by email does.
fn customer_phone(i: u64) -> String {
    format!("+1415{}", 5_000_000 + i % 5_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_customer_phone_is_a_valid_number_of_its_own() {
        for i in [0, 1, 999_999, 4_999_999] {
            let phone = customer_phone(i);
            assert_eq!(
                crate::server::input::phone_e164(&phone, "US").as_deref(),
                Some(phone.as_str()),
                "{i}"
            );
        }
        assert_ne!(customer_phone(1), customer_phone(2));
    }

    #[test]
    fn leads_and_contacts_share_emails_in_pairs() {
        assert_eq!(object_type(11), "Lead");
        assert_eq!(object_type(15), "Contact");
        assert_eq!(email(11), email(15));
        assert_ne!(email(12), email(16));
        assert_eq!(email(0), HEAVY_EMAIL);
    }

    #[test]
    fn the_heavy_customer_takes_the_first_rows_and_the_rest_have_a_long_tail() {
        assert_eq!(owner_of(9_999, 1_000, 10_000), 0);
        let mut counts = vec![0u32; 1_000];
        for j in 10_000..110_000 {
            counts[owner_of(j, 1_000, 10_000) as usize] += 1;
        }
        assert_eq!(counts[0], 0);
        let max = *counts.iter().max().unwrap_or(&0);
        let median = {
            let mut sorted = counts[1..].to_vec();
            sorted.sort_unstable();
            sorted[sorted.len() / 2]
        };
        assert!(
            max > 10 * median,
            "busy customers have far more calls: max {max}, median {median}"
        );
    }

    #[test]
    fn ids_are_increasing_and_distinct_per_table() {
        assert!(row_id(2, 1) < row_id(2, 2));
        assert_ne!(row_id(1, 5), row_id(2, 5));
    }
}
