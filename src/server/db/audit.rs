//! The audit log as the /audit page reads it: a page of an account's events, newest first, filtered
//! (`AuditFilter`); the same events for the CSV export, streamed; the choices of its actor filter; and the
//! records, calls and messages erased per day for its chart. Writing the log, and checking its chain, is
//! `evidence::audit_log`'s.

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, Time};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{
    AUDIT_PAGE_SIZE, AuditAction, AuditActorChoice, AuditEvent, AuditPage, ERASURE_CHART_DAYS,
    ErasedDay,
};
use crate::server::input::{AuditActor, AuditFilter};
use crate::server::sessions::hex;

/// How many hex digits of a person's keyed hash the page shows: enough to tell events about one person from
/// others', and to find them in the export, which holds the whole hash.
const SUBJECT_DIGITS: usize = 12;

/// One stored event with the names of the users it mentions.
#[derive(FromRow)]
struct EventRow {
    seq: i64,
    at: OffsetDateTime,
    actor_kind: String,
    actor_name: Option<String>,
    action: String,
    target_name: Option<String>,
    customer_id: Option<Uuid>,
    request_id: Option<Uuid>,
    subject: Option<Vec<u8>>,
    details: String,
    hash: Vec<u8>,
}

/// The statement of a page or an export: the account's events that pass `filter`, below seq `before` when
/// given, newest first, at most `limit` when given.
fn events_query(
    account_id: Uuid,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: Option<i64>,
) -> QueryBuilder<'static, Postgres> {
    let mut query = QueryBuilder::new(
        "select l.seq, l.at, l.actor_kind, actor.name as actor_name, l.action, target.name as target_name,
                l.customer_id, l.request_id, l.subject, l.details::text as details, l.hash
         from audit_log l
         left join users actor on l.actor_kind = 'user' and actor.account_id = l.account_id
                               and actor.id = l.actor_id
         left join users target on target.account_id = l.account_id and target.id = l.target_user_id
         where l.account_id = ",
    );
    query.push_bind(account_id);
    if let Some(action) = filter.action {
        query.push(" and l.action = ").push_bind(action.key());
    }
    match filter.actor {
        Some(AuditActor::User(id)) => {
            query
                .push(" and l.actor_kind = 'user' and l.actor_id = ")
                .push_bind(id);
        }
        Some(AuditActor::System) => {
            query.push(" and l.actor_kind = 'system' and l.actor_id is null");
        }
        Some(AuditActor::Anonymous) => {
            query.push(" and l.actor_kind = 'anonymous' and l.actor_id is null");
        }
        None => {}
    }
    if let Some(from) = filter.from {
        query.push(" and l.at >= ").push_bind(start_of(from));
    }
    if let Some(next) = filter.to.and_then(Date::next_day) {
        query.push(" and l.at < ").push_bind(start_of(next));
    }
    if let Some(before) = before {
        query.push(" and l.seq < ").push_bind(before);
    }
    query.push(" order by l.seq desc");
    if let Some(limit) = limit {
        query.push(" limit ").push_bind(limit);
    }
    query
}

/// Midnight (UTC) at the start of `day`.
fn start_of(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_utc()
}

/// One page of account `account_id`'s events that pass `filter`, newest first, below seq `before` when given.
pub async fn list(
    pool: &PgPool,
    account_id: Uuid,
    filter: &AuditFilter,
    before: Option<i64>,
) -> sqlx::Result<AuditPage> {
    let rows: Vec<EventRow> =
        events_query(account_id, filter, before, Some(AUDIT_PAGE_SIZE as i64 + 1))
            .build_query_as()
            .fetch_all(pool)
            .await?;
    let more = rows.len() > AUDIT_PAGE_SIZE;
    let events = rows
        .into_iter()
        .take(AUDIT_PAGE_SIZE)
        .map(|row| row.into_parts().map(|(event, ..)| event))
        .collect::<sqlx::Result<Vec<_>>>()?;
    let older = more.then(|| events.last().map(|last| last.seq)).flatten();
    Ok(AuditPage { events, older })
}

/// One event as the export writes it: the page's event, with the person's whole keyed hash (hex) and the row's
/// hash (hex), by which an auditor can find it in the chain.
pub struct ExportedEvent {
    /// The event, as the page lists it.
    pub event: AuditEvent,
    /// The person's whole keyed hash, hex.
    pub subject: Option<String>,
    /// The row's hash, hex.
    pub hash: String,
}

/// How many events the export reads per statement.
pub const EXPORT_BATCH: usize = 1000;

/// A batch of the export: at most `EXPORT_BATCH` of account `account_id`'s events that pass `filter`, newest
/// first, below seq `before` when given. The export reads batch after batch, each below the last one's last
/// seq, so that memory stays bounded however long the log.
pub async fn export_batch(
    pool: &PgPool,
    account_id: Uuid,
    filter: &AuditFilter,
    before: Option<i64>,
) -> sqlx::Result<Vec<ExportedEvent>> {
    let rows: Vec<EventRow> = events_query(account_id, filter, before, Some(EXPORT_BATCH as i64))
        .build_query_as()
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            let (event, subject, hash) = row.into_parts()?;
            Ok(ExportedEvent {
                event,
                subject,
                hash,
            })
        })
        .collect()
}

impl EventRow {
    /// The event, with the subject's and the row's hashes in full (hex).
    fn into_parts(self) -> sqlx::Result<(AuditEvent, Option<String>, String)> {
        let action = AuditAction::from_key(&self.action).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown audit action {:?}", self.action).into())
        })?;
        let details: Value = serde_json::from_str(&self.details)
            .map_err(|e| sqlx::Error::Decode(format!("audit_log.details: {e}").into()))?;
        let subject = self.subject.as_deref().map(hex);
        let event = AuditEvent {
            seq: self.seq,
            at: self.at,
            actor: actor_label(&self.actor_kind, self.actor_name),
            action,
            target_user: self.target_name,
            customer_id: self.customer_id,
            request_id: self.request_id,
            subject: subject
                .as_ref()
                .map(|hex| hex[..SUBJECT_DIGITS.min(hex.len())].to_owned()),
            details: detail_pairs(&details),
        };
        Ok((event, subject, hex(&self.hash)))
    }
}

/// Who acted, as the page names them.
fn actor_label(kind: &str, name: Option<String>) -> String {
    match (kind, name) {
        ("user", Some(name)) => name,
        ("user", None) => "A removed user".to_owned(),
        ("token", _) => "An API token".to_owned(),
        ("system", _) => "The console".to_owned(),
        _ => "Not signed in".to_owned(),
    }
}

/// An event's details (an object of counts and ids) as `name: value` pairs in key order; a list of ids becomes
/// its ids separated by spaces.
fn detail_pairs(details: &Value) -> Vec<(String, String)> {
    let Value::Object(map) = details else {
        return Vec::new();
    };
    let mut pairs: Vec<(String, String)> = map
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect();
    pairs.sort();
    pairs
}

/// The actor filter's choices for account `account_id`: its users by name, then the console and visitors not
/// signed in.
pub async fn actor_choices(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<AuditActorChoice>> {
    let users = sqlx::query!(
        "select id, name, email from users where account_id = $1 order by lower(name), id",
        account_id
    )
    .fetch_all(pool)
    .await?;
    let mut choices: Vec<AuditActorChoice> = users
        .into_iter()
        .map(|user| AuditActorChoice {
            value: AuditActor::User(user.id).form_value(),
            label: format!("{} ({})", user.name, user.email),
        })
        .collect();
    choices.push(AuditActorChoice {
        value: AuditActor::System.form_value(),
        label: "The console".to_owned(),
    });
    choices.push(AuditActorChoice {
        value: AuditActor::Anonymous.form_value(),
        label: "Not signed in".to_owned(),
    });
    Ok(choices)
}

/// The records, calls and messages account `account_id`'s erasures removed on each of the last
/// `ERASURE_CHART_DAYS` days up to `today` (UTC), oldest first, days without erasures included.
pub async fn erased_per_day(
    pool: &PgPool,
    account_id: Uuid,
    today: Date,
) -> sqlx::Result<Vec<ErasedDay>> {
    let first = today - Duration::days(ERASURE_CHART_DAYS - 1);
    let rows = sqlx::query!(
        r#"select (erased_at at time zone 'UTC')::date as "day!", count(*) as "records!",
                  coalesce(sum(calls_deleted), 0)::bigint as "calls!",
                  coalesce(sum(messages_deleted), 0)::bigint as "messages!"
           from erasures
           where account_id = $1 and erased_at >= $2 and erased_at < $3
           group by 1"#,
        account_id,
        start_of(first),
        start_of(today) + Duration::DAY
    )
    .fetch_all(pool)
    .await?;
    let rows: Vec<(Date, i64, i64, i64)> = rows
        .into_iter()
        .map(|row| (row.day, row.records, row.calls, row.messages))
        .collect();
    Ok(fill_days(first, &rows))
}

/// One entry for each of the `ERASURE_CHART_DAYS` days from `first`, with the counts of `rows` on their days.
fn fill_days(first: Date, rows: &[(Date, i64, i64, i64)]) -> Vec<ErasedDay> {
    (0..ERASURE_CHART_DAYS)
        .map(|offset| {
            let day = first + Duration::days(offset);
            let (records, calls, messages) = rows
                .iter()
                .find(|row| row.0 == day)
                .map_or((0, 0, 0), |row| (row.1, row.2, row.3));
            ErasedDay {
                day,
                records,
                calls,
                messages,
            }
        })
        .collect()
}

/// One row of an account's chain exactly as stored, as /api/v1 answers it, for a client that recomputes the
/// chain itself: ids as text, bytes as hex, the time as RFC 3339.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainEvent {
    /// Its place in the chain, 1, 2, 3, ... without gaps.
    pub seq: i64,
    /// When (RFC 3339, microseconds).
    pub at: String,
    /// Who acted: `user`, `token`, `system` or `anonymous`.
    pub actor_kind: String,
    /// The user's or token's id, for those kinds.
    pub actor_id: Option<String>,
    /// What was done (`signed_in`, `customer_searched`, `request_erased`, ...).
    pub action: String,
    /// The user it concerned.
    pub target_user_id: Option<String>,
    /// The customer record it concerned.
    pub customer_id: Option<String>,
    /// The erasure request it concerned.
    pub request_id: Option<String>,
    /// The person it concerned, as HMAC-SHA-256 (hex) under the account's key; never the person's data.
    pub subject: Option<String>,
    /// Counts and ids.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// SHA-256 of the row before (hex; zeros for seq 1).
    pub prev_hash: String,
    /// SHA-256 of `prev_hash` and the row's canonical bytes (hex).
    pub hash: String,
}

/// At most `limit` rows of account `account_id`'s chain after seq `after`, oldest first.
pub async fn chain_after(
    pool: &PgPool,
    account_id: Uuid,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<ChainEvent>> {
    let rows = sqlx::query!(
        r#"select seq, at, actor_kind, actor_id, action, target_user_id, customer_id, request_id, subject,
                  details::text as "details!", prev_hash, hash
           from audit_log where account_id = $1 and seq > $2 order by seq limit $3"#,
        account_id,
        after,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let details = serde_json::from_str(&row.details)
                .map_err(|e| sqlx::Error::Decode(format!("audit_log.details: {e}").into()))?;
            let id = |id: Option<Uuid>| id.map(|id| id.to_string());
            Ok(ChainEvent {
                seq: row.seq,
                at: row.at.format(&Rfc3339).unwrap_or_default(),
                actor_kind: row.actor_kind,
                actor_id: id(row.actor_id),
                action: row.action,
                target_user_id: id(row.target_user_id),
                customer_id: id(row.customer_id),
                request_id: id(row.request_id),
                subject: row.subject.as_deref().map(hex),
                details,
                prev_hash: hex(&row.prev_hash),
                hash: hex(&row.hash),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn details_read_as_sorted_pairs_with_id_lists_joined() {
        let details = serde_json::json!({"records": 2, "customer_ids": ["a", "b"], "more": 0});
        assert_eq!(
            detail_pairs(&details),
            vec![
                ("customer_ids".to_owned(), "a b".to_owned()),
                ("more".to_owned(), "0".to_owned()),
                ("records".to_owned(), "2".to_owned()),
            ]
        );
    }

    #[test]
    fn every_day_of_the_chart_is_there_and_only_erasure_days_count() {
        let first = date!(2026 - 09 - 05);
        let days = fill_days(first, &[(date!(2026 - 09 - 06), 2, 7, 3)]);
        assert_eq!(days.len() as i64, ERASURE_CHART_DAYS);
        assert_eq!(days[0].day, first);
        assert_eq!(days[0].records, 0);
        assert_eq!(
            (days[1].records, days[1].calls, days[1].messages),
            (2, 7, 3)
        );
        assert_eq!(days[89].day, date!(2026 - 12 - 03));
    }

    #[test]
    fn actors_are_named_by_what_they_are() {
        assert_eq!(actor_label("user", Some("Alex".into())), "Alex");
        assert_eq!(actor_label("system", None), "The console");
        assert_eq!(actor_label("anonymous", None), "Not signed in");
    }
}
