//! Customers (the local mirror of Salesforce records) and what the platform recorded about them: search,
//! the customer page with keyset-paged calls and messages, and the counts an erasure would remove.

use sqlx::{FromRow, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{
    CallEntry, CustomerMatches, CustomerSummary, ErasureCounts, ErasureReceipt, MessageEntry,
};
use crate::salesforce::SalesforceId;
use crate::server::db::sessions::{
    LIVE_SESSION, PRINCIPAL_COLUMNS, SESSION_JOIN, SessionPrincipal, principal_of,
};
use crate::server::sessions::SessionKey;

/// Rows per page of calls and of messages on the customer page.
pub const ACTIVITY_PAGE_SIZE: i64 = 50;
/// At most this many records are listed for one search.
pub const SEARCH_LIMIT: i64 = 100;

/// What a customer search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerQuery {
    /// A trimmed email, compared with the stored ones by Postgres's `lower` on both sides (Rust's lower-casing
    /// differs from it for some letters, such as `İ` and a final `Σ`).
    Email(String),
    SalesforceId(SalesforceId),
}

#[derive(FromRow)]
struct SummaryRow {
    id: Uuid,
    object_type: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    salesforce_id: String,
    erased_at: Option<OffsetDateTime>,
    calls: i64,
    messages: i64,
}

impl SummaryRow {
    fn into_summary(self) -> CustomerSummary {
        CustomerSummary {
            id: self.id,
            object_type: self.object_type,
            name: self.name,
            email: self.email,
            salesforce_id: self.salesforce_id,
            calls: self.calls,
            messages: self.messages,
            erased_at: self.erased_at,
        }
    }
}

const SUMMARY_COLUMNS: &str = "select cu.id, cu.object_type, cu.name, cu.email, cu.phone, cu.salesforce_id, cu.erased_at,
        (select count(*) from calls c where c.account_id = cu.account_id and c.customer_id = cu.id) as calls,
        (select count(*) from messages m where m.account_id = cu.account_id and m.customer_id = cu.id) as messages
     from customers cu";

/// The search statement for a query and the value bound as `$2` (`$1` account, `$3` limit).
pub fn search_sql(query: &CustomerQuery) -> (String, &str) {
    search_in_account_sql("$1", query)
}

/// The search for records of the account `account` (an SQL expression), `$2` the value, `$3` the limit.
fn search_in_account_sql<'q>(account: &str, query: &'q CustomerQuery) -> (String, &'q str) {
    let (condition, value) = match query {
        CustomerQuery::Email(email) => ("lower(cu.email) = lower($2)", email.as_str()),
        CustomerQuery::SalesforceId(id) => ("cu.salesforce_id = $2", id.as_str()),
    };
    let sql = format!(
        "{SUMMARY_COLUMNS} where cu.account_id = {account} and {condition} order by cu.object_type, cu.name, cu.id limit $3"
    );
    (sql, value)
}

/// The search as one statement with the session lookup: the principal of live session `$1` on every row, beside
/// the records of that principal's account that match `$2` (none: one row with the record columns null; no live
/// session: no rows). One round trip answers both who is asking and what they asked for.
pub fn search_in_session_sql(query: &CustomerQuery) -> (String, &str) {
    let (search, value) = search_in_account_sql("u.account_id", query);
    let sql = format!(
        "select {PRINCIPAL_COLUMNS}, hit.* from {SESSION_JOIN}
         left join lateral ({search}) hit on true
         where {LIVE_SESSION}"
    );
    (sql, value)
}

/// The session's principal (`None` for no live session) and the first `SEARCH_LIMIT` records of their account
/// matching `query`, with whether more match. The caller decides with the principal whether the records may be
/// shown.
pub async fn search_in_session(
    pool: &PgPool,
    session: &SessionKey,
    query: &CustomerQuery,
) -> sqlx::Result<(Option<SessionPrincipal>, CustomerMatches)> {
    let (sql, value) = search_in_session_sql(query);
    let rows = sqlx::query(&sql)
        .bind(session.as_bytes())
        .bind(value)
        .bind(SEARCH_LIMIT + 1)
        .fetch_all(pool)
        .await?;
    let mut matches = CustomerMatches {
        records: Vec::with_capacity(rows.len()),
        more: false,
    };
    let Some(first) = rows.first() else {
        return Ok((None, matches));
    };
    let principal = principal_of(first)?;
    for row in &rows {
        if row.try_get::<Option<Uuid>, _>("id")?.is_some() {
            matches
                .records
                .push(SummaryRow::from_row(row)?.into_summary());
        }
    }
    if matches.records.len() > SEARCH_LIMIT as usize {
        matches.records.truncate(SEARCH_LIMIT as usize);
        matches.more = true;
    }
    Ok((Some(principal), matches))
}

/// One customer by id (`$1` account, `$2` customer).
pub fn find_sql() -> String {
    format!("{SUMMARY_COLUMNS} where cu.account_id = $1 and cu.id = $2")
}

/// One customer of the account with its phone number, or `None`.
pub async fn find(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<Option<(CustomerSummary, Option<String>)>> {
    let row = sqlx::query_as::<_, SummaryRow>(&find_sql())
        .bind(account_id)
        .bind(customer_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|mut r| {
        let phone = r.phone.take();
        (r.into_summary(), phone)
    }))
}

/// A position in a newest-first list: the timestamp and id of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: OffsetDateTime,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}~{}", self.at.unix_timestamp_nanos(), self.id)
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let (nanos, id) = text.split_once('~')?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
        // Postgres would refuse years before 4713 BC; no activity predates year 1 or follows 9999.
        if !(1..=9999).contains(&at.year()) {
            return None;
        }
        Some(Cursor {
            at,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

#[derive(FromRow)]
struct CallRow {
    id: Uuid,
    started_at: OffsetDateTime,
    direction: String,
    from_number: String,
    to_number: String,
    duration_seconds: i32,
    disposition: Option<String>,
    has_recording: bool,
    is_voicemail: bool,
    has_transcript: bool,
}

/// Calls of a customer, newest first, before an optional cursor (`$3`, `$4`), `$5` rows.
pub const CALLS_PAGE_SQL: &str = "select id, started_at, direction, from_number, to_number, duration_seconds, disposition,
                recording_key is not null as has_recording, is_voicemail, transcript is not null as has_transcript
         from calls
         where account_id = $1 and customer_id = $2
           and ($3::timestamptz is null or (started_at, id) < ($3, $4))
         order by started_at desc, id desc
         limit $5";

/// One page of the customer's calls, newest first, after `before` when given; and the cursor of the next page.
pub async fn calls_page(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
    before: Option<Cursor>,
) -> sqlx::Result<(Vec<CallEntry>, Option<String>)> {
    let rows = sqlx::query_as::<_, CallRow>(CALLS_PAGE_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(before.map(|c| c.at))
        .bind(before.map(|c| c.id))
        .bind(ACTIVITY_PAGE_SIZE + 1)
        .fetch_all(pool)
        .await?;
    let entries: Vec<CallEntry> = rows
        .into_iter()
        .map(|r| CallEntry {
            id: r.id,
            started_at: r.started_at,
            direction: r.direction,
            from_number: r.from_number,
            to_number: r.to_number,
            duration_seconds: r.duration_seconds,
            disposition: r.disposition,
            has_recording: r.has_recording,
            is_voicemail: r.is_voicemail,
            has_transcript: r.has_transcript,
        })
        .collect();
    Ok(page_with_cursor(entries, |c| Cursor {
        at: c.started_at,
        id: c.id,
    }))
}

#[derive(FromRow)]
struct MessageRow {
    id: Uuid,
    sent_at: OffsetDateTime,
    direction: String,
    from_number: String,
    to_number: String,
    body: String,
    media_count: i32,
}

/// Messages of a customer, newest first, before an optional cursor (`$3`, `$4`), `$5` rows.
pub const MESSAGES_PAGE_SQL: &str = "select id, sent_at, direction, from_number, to_number, body, cardinality(media_keys) as media_count
         from messages
         where account_id = $1 and customer_id = $2
           and ($3::timestamptz is null or (sent_at, id) < ($3, $4))
         order by sent_at desc, id desc
         limit $5";

/// One page of the customer's messages, newest first, after `before` when given; and the next page's cursor.
pub async fn messages_page(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
    before: Option<Cursor>,
) -> sqlx::Result<(Vec<MessageEntry>, Option<String>)> {
    let rows = sqlx::query_as::<_, MessageRow>(MESSAGES_PAGE_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(before.map(|c| c.at))
        .bind(before.map(|c| c.id))
        .bind(ACTIVITY_PAGE_SIZE + 1)
        .fetch_all(pool)
        .await?;
    let entries: Vec<MessageEntry> = rows
        .into_iter()
        .map(|r| MessageEntry {
            id: r.id,
            sent_at: r.sent_at,
            direction: r.direction,
            from_number: r.from_number,
            to_number: r.to_number,
            body: r.body,
            media_count: r.media_count,
        })
        .collect();
    Ok(page_with_cursor(entries, |m| Cursor {
        at: m.sent_at,
        id: m.id,
    }))
}

/// Cuts a page fetched with one extra row back to size; the extra row's presence means an older page exists.
fn page_with_cursor<T>(
    mut rows: Vec<T>,
    cursor_of: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > ACTIVITY_PAGE_SIZE {
        rows.truncate(ACTIVITY_PAGE_SIZE as usize);
        let next = rows.last().map(|last| cursor_of(last).encode());
        (rows, next)
    } else {
        (rows, None)
    }
}

#[derive(FromRow)]
struct CountsRow {
    calls: i64,
    recordings: i64,
    voicemails: i64,
    transcripts: i64,
    first_call: Option<OffsetDateTime>,
    last_call: Option<OffsetDateTime>,
    messages: i64,
    media: i64,
    first_message: Option<OffsetDateTime>,
    last_message: Option<OffsetDateTime>,
}

/// What an erasure of customer `$2` of account `$1` would remove.
pub const PENDING_COUNTS_SQL: &str =
    "select c.calls, c.recordings, c.voicemails, c.transcripts, c.first_call, c.last_call,
                m.messages, m.media, m.first_message, m.last_message
         from (select count(*) as calls,
                      count(recording_key) filter (where not is_voicemail) as recordings,
                      count(*) filter (where is_voicemail) as voicemails,
                      count(transcript) as transcripts,
                      min(started_at) as first_call, max(started_at) as last_call
               from calls where account_id = $1 and customer_id = $2) c,
              (select count(*) as messages,
                      coalesce(sum(cardinality(media_keys)), 0)::bigint as media,
                      min(sent_at) as first_message, max(sent_at) as last_message
               from messages where account_id = $1 and customer_id = $2) m";

/// What erasing the customer would remove right now.
pub async fn pending_counts(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<ErasureCounts> {
    let row = sqlx::query_as::<_, CountsRow>(PENDING_COUNTS_SQL)
        .bind(account_id)
        .bind(customer_id)
        .fetch_one(pool)
        .await?;
    Ok(ErasureCounts {
        calls: row.calls,
        recordings: row.recordings,
        voicemails: row.voicemails,
        transcripts: row.transcripts,
        messages: row.messages,
        media: row.media,
        first_activity_at: earliest(row.first_call, row.first_message),
        last_activity_at: latest(row.last_call, row.last_message),
    })
}

pub fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

pub fn latest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[derive(FromRow)]
struct ReceiptRow {
    id: Uuid,
    erased_at: OffsetDateTime,
    erased_by_name: String,
    calls_deleted: i32,
    recordings_deleted: i32,
    voicemails_deleted: i32,
    transcripts_deleted: i32,
    messages_deleted: i32,
    media_deleted: i32,
    first_activity_at: Option<OffsetDateTime>,
    last_activity_at: Option<OffsetDateTime>,
}

/// The erasure receipt of customer `$2` of account `$1`.
pub const RECEIPT_SQL: &str =
    "select e.id, e.erased_at, u.name as erased_by_name, e.calls_deleted, e.recordings_deleted,
                e.voicemails_deleted, e.transcripts_deleted, e.messages_deleted, e.media_deleted,
                e.first_activity_at, e.last_activity_at
         from erasures e join users u on u.account_id = e.account_id and u.id = e.erased_by
         where e.account_id = $1 and e.customer_id = $2";

/// The erasure receipt of a customer, when it was erased.
pub async fn erasure_receipt(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<Option<ErasureReceipt>> {
    let row = sqlx::query_as::<_, ReceiptRow>(RECEIPT_SQL)
        .bind(account_id)
        .bind(customer_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| ErasureReceipt {
        erasure_id: r.id,
        erased_at: r.erased_at,
        erased_by_name: r.erased_by_name,
        counts: ErasureCounts {
            calls: r.calls_deleted.into(),
            recordings: r.recordings_deleted.into(),
            voicemails: r.voicemails_deleted.into(),
            transcripts: r.transcripts_deleted.into(),
            messages: r.messages_deleted.into(),
            media: r.media_deleted.into(),
            first_activity_at: r.first_activity_at,
            last_activity_at: r.last_activity_at,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            at: time::macros::datetime!(2026-01-02 03:04:05.123456 UTC),
            id: Uuid::from_u128(7),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("12~not-a-uuid"), None);
        assert_eq!(
            Cursor::decode("x~00000000-0000-0000-0000-000000000007"),
            None
        );
        assert_eq!(
            Cursor::decode("-300000000000000000000~00000000-0000-0000-0000-000000000000"),
            None
        );
        assert_eq!(Cursor::decode(""), None);
    }

    #[test]
    fn activity_range_spans_calls_and_messages() {
        let a = time::macros::datetime!(2026-01-01 0:00 UTC);
        let b = time::macros::datetime!(2026-02-01 0:00 UTC);
        assert_eq!(earliest(Some(b), Some(a)), Some(a));
        assert_eq!(latest(Some(a), None), Some(a));
        assert_eq!(latest(None, None), None);
    }
}
