//! Customer search: the records of an account matching an email, a Salesforce id or a phone number (E.164),
//! with what an erasure of each would remove now (the counts the person's erasure dialog shows), read in the
//! same statement as the session asking for them (or, for a phone number, which needs the account's default
//! country first, after it); and the same listing uncounted, as an erasure checks it again.

use sqlx::{FromRow, PgExecutor, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{CustomerMatches, CustomerSummary, ErasureCounts};
use crate::server::db::sessions::{
    LIVE_SESSION, PRINCIPAL_COLUMNS, SESSION_JOIN, SessionPrincipal, principal_of,
};
use crate::server::input::CustomerQuery;
use crate::server::sessions::SessionKey;

/// At most this many records are listed for one search.
pub const SEARCH_LIMIT: i64 = 100;

#[derive(FromRow)]
struct SummaryRow {
    id: Uuid,
    object_type: String,
    name: String,
    email: Option<String>,
    salesforce_id: String,
    erased_at: Option<OffsetDateTime>,
    calls: i64,
    recordings: i64,
    voicemails: i64,
    transcripts: i64,
    messages: i64,
    media: i64,
    first_activity_at: Option<OffsetDateTime>,
    last_activity_at: Option<OffsetDateTime>,
}

impl SummaryRow {
    fn into_summary(self) -> CustomerSummary {
        CustomerSummary {
            id: self.id,
            object_type: self.object_type,
            name: self.name,
            email: self.email,
            salesforce_id: self.salesforce_id,
            pending: ErasureCounts {
                calls: self.calls,
                recordings: self.recordings,
                voicemails: self.voicemails,
                transcripts: self.transcripts,
                messages: self.messages,
                media: self.media,
                first_activity_at: self.first_activity_at,
                last_activity_at: self.last_activity_at,
            },
            erased_at: self.erased_at,
        }
    }
}

/// The search statement for a query and the value bound as `$2` (`$1` account, `$3` limit).
pub fn search_sql(query: &CustomerQuery) -> (String, &str) {
    search_in_account_sql("$1", query)
}

/// The records of the account `account` (an SQL expression) that match `$2`, in search order, at most `$3`:
/// the rows the search lists, nothing counted yet; and the value bound as `$2`.
fn listed_sql<'q>(account: &str, query: &'q CustomerQuery) -> (String, &'q str) {
    let (condition, value) = match query {
        CustomerQuery::Email(email) => ("lower(cu.email) = lower($2)", email.as_str()),
        CustomerQuery::SalesforceId(id) => ("cu.salesforce_id = $2", id.as_str()),
        CustomerQuery::Phone(number) => ("cu.phone_e164 = $2", number.as_str()),
    };
    let sql = format!(
        "select cu.account_id, cu.id, cu.object_type, cu.name, cu.email, cu.salesforce_id, cu.erased_at
         from customers cu
         where cu.account_id = {account} and {condition}
         order by cu.object_type, cu.name, cu.id
         limit $3"
    );
    (sql, value)
}

/// The search for records of the account `account` (an SQL expression), `$2` the value, `$3` the limit: the
/// records listed, each with what an erasure of it would remove now. The aggregates run for the listed rows only,
/// through the calls' and messages' `(account_id, customer_id, …)` indexes.
fn search_in_account_sql<'q>(account: &str, query: &'q CustomerQuery) -> (String, &'q str) {
    let (listed, value) = listed_sql(account, query);
    let sql = format!(
        "select cu.id, cu.object_type, cu.name, cu.email, cu.salesforce_id, cu.erased_at,
            c.calls, c.recordings, c.voicemails, c.transcripts, m.messages, m.media,
            least(c.first_call, m.first_message) as first_activity_at,
            greatest(c.last_call, m.last_message) as last_activity_at
         from ({listed}) cu
         cross join lateral (select count(*) as calls,
                                    count(recording_key) filter (where not is_voicemail) as recordings,
                                    count(*) filter (where is_voicemail) as voicemails,
                                    count(*) filter (where transcript is not null or transcript_sealed is not null)
                                        as transcripts,
                                    min(started_at) as first_call, max(started_at) as last_call
                             from calls where account_id = cu.account_id and customer_id = cu.id) c
         cross join lateral (select count(*) as messages,
                                    coalesce(sum(cardinality(media_keys)), 0)::bigint as media,
                                    min(sent_at) as first_message, max(sent_at) as last_message
                             from messages where account_id = cu.account_id and customer_id = cu.id) m
         order by cu.object_type, cu.name, cu.id"
    );
    (sql, value)
}

/// The statement of `search_in_account`: the records of account `$1` matching `$2`, at most `$3`, uncounted;
/// and the value bound as `$2`.
pub fn listed_in_account_sql(query: &CustomerQuery) -> (String, &str) {
    listed_sql("$1", query)
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
    let Some(first) = rows.first() else {
        return Ok((None, matches_of(Vec::new())));
    };
    let principal = principal_of(first)?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<Uuid>, _>("id")?.is_some() {
            records.push(SummaryRow::from_row(row)?.into_summary());
        }
    }
    Ok((Some(principal), matches_of(records)))
}

/// The first `SEARCH_LIMIT` records of account `account_id` matching `query`, each with what an erasure of it
/// would remove now, and whether more match: the search once the principal is known (a phone number is
/// normalized with the account's default country first).
pub async fn matches_in_account<'e>(
    db: impl PgExecutor<'e>,
    account_id: Uuid,
    query: &CustomerQuery,
) -> sqlx::Result<CustomerMatches> {
    let (sql, value) = search_sql(query);
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(value)
        .bind(SEARCH_LIMIT + 1)
        .fetch_all(db)
        .await?;
    Ok(matches_of(
        rows.into_iter().map(SummaryRow::into_summary).collect(),
    ))
}

/// A record a search lists, as an erasure checks the listing again: its id, and when it was erased.
#[derive(FromRow)]
pub struct ListedRecord {
    /// The record's id.
    pub id: Uuid,
    /// When its call and message data was erased; `None` when it never was.
    pub erased_at: Option<OffsetDateTime>,
}

/// The records a search lists, uncounted.
pub struct Listed {
    /// The first `SEARCH_LIMIT` records, in search order.
    pub records: Vec<ListedRecord>,
}

/// The first `SEARCH_LIMIT` records of account `account_id` matching `query`, without their counts: what an
/// erasure's transaction runs again to see whether the listing changed, as cheap as the index lookup (counting
/// a person's calls and messages there would read each of them once more before deleting it).
pub async fn search_in_account<'e>(
    db: impl PgExecutor<'e>,
    account_id: Uuid,
    query: &CustomerQuery,
) -> sqlx::Result<Listed> {
    let (sql, value) = listed_in_account_sql(query);
    let records = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(value)
        .bind(SEARCH_LIMIT)
        .fetch_all(db)
        .await?;
    Ok(Listed { records })
}

/// Up to `SEARCH_LIMIT + 1` records found, as the first `SEARCH_LIMIT` and whether more match.
fn matches_of(mut records: Vec<CustomerSummary>) -> CustomerMatches {
    let more = records.len() > SEARCH_LIMIT as usize;
    records.truncate(SEARCH_LIMIT as usize);
    CustomerMatches { records, more }
}
