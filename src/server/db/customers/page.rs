//! The customer page's query: one record of the account with its counts, what an erasure would remove, its
//! erasure receipt, and one keyset-paged page each of its calls and messages, all from one snapshot; then the
//! records of the account that share its email (the person's other records).

use std::cmp::Reverse;
use std::mem::take;

use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{
    CallEntry, CustomerDetail, CustomerSummary, ErasureCounts, ErasurePolicy, ErasureReceipt,
    HeldRequest, MessageEntry, RequestState, SamePerson, SamePersonRecord, earliest, latest,
};
use crate::server::input::Cursor;
use crate::server::keys::seal::Opener;
use crate::server::keys::tree::Unopened;
use crate::server::keys::{Keyring, keyring_failure, unopened};
use crate::server::state::db_failure;

/// Rows per page of calls and of messages on the customer page.
pub const ACTIVITY_PAGE_SIZE: i64 = 50;

/// Builds entries from one array per column, all in the same order (as the page's `array_agg`s return them),
/// taking the arrays out of the row; stops at the shortest array.
macro_rules! rows_from_columns {
    ($entry:ident { $($field:ident: $column:expr),+ $(,)? }) => {{
        $(let mut $field = take(&mut $column).into_iter();)+
        std::iter::from_fn(|| Some($entry { $($field: $field.next()?),+ })).collect::<Vec<$entry>>()
    }};
}

/// The customer page in one statement, so that everything on it comes from one snapshot (an erasure
/// committing meanwhile is either wholly before it or wholly after): customer `$2` of account `$1` with its
/// counts, what an erasure would remove, its erasure receipt, the newest request that holds it (awaiting
/// approval, scheduled or failed), the account's erasure policy, and one page each of calls and messages, newest
/// first, before the cursors `$3`, `$4` (calls) and `$6`, `$7` (messages), `$5` rows each. The pages come as
/// one array per column. No row: no such customer in the account.
pub const CUSTOMER_PAGE_SQL: &str = "select cu.id, cu.object_type, cu.name, cu.email, cu.phone, cu.salesforce_id, cu.erased_at,
        c.calls, c.recordings, c.voicemails, c.transcripts, c.first_call, c.last_call,
        m.messages, m.media, m.first_message, m.last_message,
        r.erasure_id, r.receipt_erased_at, r.erased_by_name, r.calls_deleted, r.recordings_deleted,
        r.voicemails_deleted, r.transcripts_deleted, r.messages_deleted, r.media_deleted,
        r.receipt_first_at, r.receipt_last_at,
        h.held_request_id, h.held_state, h.held_not_before,
        a.hold_hours, a.deadline_days, a.approval_min_records, a.approval_min_items,
        cp.*, mp.*
     from customers cu
     join accounts a on a.id = cu.account_id
     left join lateral (select rq.id as held_request_id, rq.state as held_state, rq.not_before as held_not_before
                from erasure_request_records rr
                join erasure_requests rq on rq.account_id = rr.account_id and rq.id = rr.request_id
                where rr.account_id = $1 and rr.customer_id = $2
                  and rq.state in ('awaiting_approval', 'scheduled', 'failed')
                order by rq.received_at desc
                limit 1) h on true
     cross join (select count(*) as calls,
                        count(recording_key) filter (where not is_voicemail) as recordings,
                        count(*) filter (where is_voicemail) as voicemails,
                        count(*) filter (where transcript is not null or transcript_sealed is not null)
                            as transcripts,
                        min(started_at) as first_call, max(started_at) as last_call
                 from calls where account_id = $1 and customer_id = $2) c
     cross join (select count(*) as messages,
                        coalesce(sum(cardinality(media_keys)), 0)::bigint as media,
                        min(sent_at) as first_message, max(sent_at) as last_message
                 from messages where account_id = $1 and customer_id = $2) m
     left join (select e.id as erasure_id, e.erased_at as receipt_erased_at, u.name as erased_by_name,
                       e.calls_deleted, e.recordings_deleted, e.voicemails_deleted, e.transcripts_deleted,
                       e.messages_deleted, e.media_deleted,
                       e.first_activity_at as receipt_first_at, e.last_activity_at as receipt_last_at
                from erasures e join users u on u.account_id = e.account_id and u.id = e.erased_by
                where e.account_id = $1 and e.customer_id = $2) r on true
     cross join (select coalesce(array_agg(p.id), '{}') as call_ids,
                        coalesce(array_agg(p.started_at), '{}') as call_started_at,
                        coalesce(array_agg(p.direction), '{}') as call_direction,
                        coalesce(array_agg(p.from_number), '{}') as call_from,
                        coalesce(array_agg(p.to_number), '{}') as call_to,
                        coalesce(array_agg(p.from_number_sealed), '{}') as call_from_sealed,
                        coalesce(array_agg(p.to_number_sealed), '{}') as call_to_sealed,
                        coalesce(array_agg(p.duration_seconds), '{}') as call_duration,
                        coalesce(array_agg(p.disposition), '{}') as call_disposition,
                        coalesce(array_agg(p.recording_key is not null), '{}') as call_has_recording,
                        coalesce(array_agg(p.is_voicemail), '{}') as call_is_voicemail,
                        coalesce(array_agg(p.transcript is not null or p.transcript_sealed is not null), '{}')
                            as call_has_transcript
                 from (select id, started_at, direction, from_number, to_number, from_number_sealed,
                              to_number_sealed, duration_seconds, disposition, recording_key, is_voicemail,
                              transcript, transcript_sealed
                       from calls
                       where account_id = $1 and customer_id = $2
                         and ($3::timestamptz is null or (started_at, id) < ($3, $4))
                       order by started_at desc, id desc
                       limit $5) p) cp
     cross join (select coalesce(array_agg(p.id), '{}') as message_ids,
                        coalesce(array_agg(p.sent_at), '{}') as message_sent_at,
                        coalesce(array_agg(p.direction), '{}') as message_direction,
                        coalesce(array_agg(p.from_number), '{}') as message_from,
                        coalesce(array_agg(p.to_number), '{}') as message_to,
                        coalesce(array_agg(p.body), '{}') as message_body,
                        coalesce(array_agg(p.from_number_sealed), '{}') as message_from_sealed,
                        coalesce(array_agg(p.to_number_sealed), '{}') as message_to_sealed,
                        coalesce(array_agg(p.body_sealed), '{}') as message_body_sealed,
                        coalesce(array_agg(cardinality(p.media_keys)), '{}') as message_media_count
                 from (select id, sent_at, direction, from_number, to_number, body, from_number_sealed,
                              to_number_sealed, body_sealed, media_keys
                       from messages
                       where account_id = $1 and customer_id = $2
                         and ($6::timestamptz is null or (sent_at, id) < ($6, $7))
                       order by sent_at desc, id desc
                       limit $5) p) mp
     where cu.account_id = $1 and cu.id = $2";

/// The records of account `$1` whose email equals customer `$2`'s (case-insensitive), the customer included, in
/// search order (object type, name), at most `$3`: whether each was erased and whether it still has any call or
/// message. None for a customer without an email.
pub const SAME_EMAIL_SQL: &str = "select o.id, o.object_type, o.name, o.erased_at is not null as erased,
        (exists (select 1 from calls c where c.account_id = $1 and c.customer_id = o.id)
         or exists (select 1 from messages m where m.account_id = $1 and m.customer_id = o.id)) as has_data
     from customers cu
     join customers o on o.account_id = $1 and lower(o.email) = lower(cu.email)
     where cu.account_id = $1 and cu.id = $2
     order by o.object_type, o.name, o.id
     limit $3";

#[derive(FromRow)]
struct SamePersonRow {
    id: Uuid,
    object_type: String,
    name: String,
    erased: bool,
    has_data: bool,
}

/// The records of the account that share customer `customer_id`'s email (`email`), itself included.
async fn same_person(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
    email: Option<&str>,
) -> sqlx::Result<SamePerson> {
    let Some(email) = email else {
        return Ok(SamePerson::default());
    };
    let rows = sqlx::query_as::<_, SamePersonRow>(SAME_EMAIL_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(super::search::SEARCH_LIMIT)
        .fetch_all(pool)
        .await?;
    Ok(SamePerson {
        email: Some(email.to_owned()),
        records: rows
            .into_iter()
            .map(|r| SamePersonRecord {
                id: r.id,
                object_type: r.object_type,
                name: r.name,
                erased: r.erased,
                has_data: r.has_data,
            })
            .collect(),
    })
}

#[derive(FromRow)]
struct CustomerPageRow {
    id: Uuid,
    object_type: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    salesforce_id: String,
    erased_at: Option<OffsetDateTime>,
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
    erasure_id: Option<Uuid>,
    receipt_erased_at: Option<OffsetDateTime>,
    erased_by_name: Option<String>,
    calls_deleted: Option<i32>,
    recordings_deleted: Option<i32>,
    voicemails_deleted: Option<i32>,
    transcripts_deleted: Option<i32>,
    messages_deleted: Option<i32>,
    media_deleted: Option<i32>,
    receipt_first_at: Option<OffsetDateTime>,
    receipt_last_at: Option<OffsetDateTime>,
    held_request_id: Option<Uuid>,
    held_state: Option<String>,
    held_not_before: Option<OffsetDateTime>,
    hold_hours: i32,
    deadline_days: i32,
    approval_min_records: Option<i32>,
    approval_min_items: Option<i32>,
    call_ids: Vec<Uuid>,
    call_started_at: Vec<OffsetDateTime>,
    call_direction: Vec<String>,
    call_from: Vec<Option<String>>,
    call_to: Vec<Option<String>>,
    call_from_sealed: Vec<Option<Vec<u8>>>,
    call_to_sealed: Vec<Option<Vec<u8>>>,
    call_duration: Vec<i32>,
    call_disposition: Vec<Option<String>>,
    call_has_recording: Vec<bool>,
    call_is_voicemail: Vec<bool>,
    call_has_transcript: Vec<bool>,
    message_ids: Vec<Uuid>,
    message_sent_at: Vec<OffsetDateTime>,
    message_direction: Vec<String>,
    message_from: Vec<Option<String>>,
    message_to: Vec<Option<String>>,
    message_body: Vec<Option<String>>,
    message_from_sealed: Vec<Option<Vec<u8>>>,
    message_to_sealed: Vec<Option<Vec<u8>>>,
    message_body_sealed: Vec<Option<Vec<u8>>>,
    message_media_count: Vec<i32>,
}

impl CustomerPageRow {
    /// The erasure receipt, when the customer has been erased.
    fn receipt(&mut self) -> Option<ErasureReceipt> {
        Some(ErasureReceipt {
            erasure_id: self.erasure_id?,
            erased_at: self.receipt_erased_at?,
            erased_by_name: self.erased_by_name.take()?,
            counts: ErasureCounts {
                calls: self.calls_deleted?.into(),
                recordings: self.recordings_deleted?.into(),
                voicemails: self.voicemails_deleted?.into(),
                transcripts: self.transcripts_deleted?.into(),
                messages: self.messages_deleted?.into(),
                media: self.media_deleted?.into(),
                first_activity_at: self.receipt_first_at,
                last_activity_at: self.receipt_last_at,
            },
        })
    }

    /// The newest request holding the record, if one does.
    fn held(&self) -> Option<HeldRequest> {
        Some(HeldRequest {
            request_id: self.held_request_id?,
            state: RequestState::from_key(self.held_state.as_deref()?)?,
            not_before: self.held_not_before,
        })
    }

    /// The account's erasure policy.
    fn policy(&self) -> ErasurePolicy {
        ErasurePolicy {
            hold_hours: self.hold_hours,
            deadline_days: self.deadline_days,
            approval_min_records: self.approval_min_records,
            approval_min_items: self.approval_min_items,
        }
    }

    /// The page of calls, in the arrays' order, their sealed values opened by `opener`.
    fn calls(&mut self, opener: &Opener) -> Result<Vec<CallEntry>, Unopened> {
        let ids = &self.call_ids;
        let mut from = opened(
            opener,
            ("calls", "from_number"),
            ids,
            &mut self.call_from,
            &mut self.call_from_sealed,
        )?;
        let mut to = opened(
            opener,
            ("calls", "to_number"),
            ids,
            &mut self.call_to,
            &mut self.call_to_sealed,
        )?;
        Ok(rows_from_columns!(CallEntry {
            id: self.call_ids,
            started_at: self.call_started_at,
            direction: self.call_direction,
            from_number: from,
            to_number: to,
            duration_seconds: self.call_duration,
            disposition: self.call_disposition,
            has_recording: self.call_has_recording,
            is_voicemail: self.call_is_voicemail,
            has_transcript: self.call_has_transcript,
        }))
    }

    /// The page of messages, in the arrays' order, their sealed values opened by `opener`.
    fn messages(&mut self, opener: &Opener) -> Result<Vec<MessageEntry>, Unopened> {
        let ids = &self.message_ids;
        let mut from = opened(
            opener,
            ("messages", "from_number"),
            ids,
            &mut self.message_from,
            &mut self.message_from_sealed,
        )?;
        let mut to = opened(
            opener,
            ("messages", "to_number"),
            ids,
            &mut self.message_to,
            &mut self.message_to_sealed,
        )?;
        let mut body = opened(
            opener,
            ("messages", "body"),
            ids,
            &mut self.message_body,
            &mut self.message_body_sealed,
        )?;
        Ok(rows_from_columns!(MessageEntry {
            id: self.message_ids,
            sent_at: self.message_sent_at,
            direction: self.message_direction,
            from_number: from,
            to_number: to,
            body: body,
            media_count: self.message_media_count,
        }))
    }
}

/// One column of a page's rows: each row's sealed value opened, or its plaintext (a row written before keys
/// existed); the arrays are taken out of the row.
fn opened(
    opener: &Opener,
    (table, column): (&'static str, &'static str),
    ids: &[Uuid],
    plain: &mut Vec<Option<String>>,
    sealed: &mut Vec<Option<Vec<u8>>>,
) -> Result<Vec<String>, Unopened> {
    ids.iter()
        .zip(take(plain))
        .zip(take(sealed))
        .map(|((id, plain), sealed)| opener.required(table, column, *id, plain, sealed.as_deref()))
        .collect()
}

/// The customer page of customer `customer_id` of the account, with the pages of calls and messages before
/// the given cursors (the newest when `None`), their sealed values opened with the record's key from
/// `keyring`; `None` when the account holds no such customer.
pub async fn customer_page(
    pool: &PgPool,
    keyring: &Keyring,
    account_id: Uuid,
    customer_id: Uuid,
    calls_before: Option<Cursor>,
    messages_before: Option<Cursor>,
) -> Result<Option<CustomerDetail>, AppError> {
    let Some(mut row) = sqlx::query_as::<_, CustomerPageRow>(CUSTOMER_PAGE_SQL)
        .bind(account_id)
        .bind(customer_id)
        .bind(calls_before.map(|c| c.at))
        .bind(calls_before.map(|c| c.id))
        .bind(ACTIVITY_PAGE_SIZE + 1)
        .bind(messages_before.map(|c| c.at))
        .bind(messages_before.map(|c| c.id))
        .fetch_optional(pool)
        .await
        .map_err(db_failure)?
    else {
        return Ok(None);
    };
    let opener = keyring
        .opener(account_id, customer_id)
        .await
        .map_err(keyring_failure)?;
    let erasure = row.receipt();
    let receipt = match erasure {
        Some(_) => crate::server::db::requests::record_receipt(pool, account_id, customer_id)
            .await
            .map_err(db_failure)?,
        None => None,
    };
    let held = row.held();
    let policy = row.policy();
    let same_person = same_person(pool, account_id, customer_id, row.email.as_deref())
        .await
        .map_err(db_failure)?;
    let (calls, older_calls) =
        newest_first_page(row.calls(&opener).map_err(unopened)?, |c| Cursor {
            at: c.started_at,
            id: c.id,
        });
    let (messages, older_messages) =
        newest_first_page(row.messages(&opener).map_err(unopened)?, |m| Cursor {
            at: m.sent_at,
            id: m.id,
        });
    let pending = ErasureCounts {
        calls: row.calls,
        recordings: row.recordings,
        voicemails: row.voicemails,
        transcripts: row.transcripts,
        messages: row.messages,
        media: row.media,
        first_activity_at: earliest(row.first_call, row.first_message),
        last_activity_at: latest(row.last_call, row.last_message),
    };
    Ok(Some(CustomerDetail {
        customer: CustomerSummary {
            id: row.id,
            object_type: row.object_type,
            name: row.name,
            email: row.email,
            salesforce_id: row.salesforce_id,
            pending: pending.clone(),
            erased_at: row.erased_at,
        },
        phone: row.phone,
        pending,
        erasure,
        receipt,
        calls,
        messages,
        older_calls,
        older_messages,
        same_person,
        held,
        policy,
    }))
}

/// Orders a page newest first by its cursor (time, then id) and cuts it, fetched with one extra row, back to
/// size; the extra row's presence means an older page exists, continuing after the cursor returned.
fn newest_first_page<T>(
    mut rows: Vec<T>,
    cursor_of: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    rows.sort_unstable_by_key(|row| {
        let cursor = cursor_of(row);
        Reverse((cursor.at, cursor.id))
    });
    if rows.len() as i64 > ACTIVITY_PAGE_SIZE {
        rows.truncate(ACTIVITY_PAGE_SIZE as usize);
        let next = rows.last().map(|last| cursor_of(last).encode());
        (rows, next)
    } else {
        (rows, None)
    }
}
