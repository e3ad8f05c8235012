//! What an export of customer records (one record, or a person's records) reads: the records themselves, and
//! each record's calls and messages in batches, oldest first (keyset on time and id, along the record's index),
//! so a record with tens of thousands of calls is never read whole; a row's sealed values are opened under its
//! record's key (`StoredCall::opened`, `StoredMessage::opened`).

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::server::keys::seal::Opener;
use crate::server::keys::tree::Unopened;

/// Calls or messages read per batch.
pub const EXPORT_BATCH: i64 = 500;

/// The record an export is of, as Salesforce gave it, with how much it holds.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedRecord {
    /// The record's id in the console.
    pub id: Uuid,
    /// Lead, Contact, Account or Opportunity.
    pub object_type: String,
    /// Its 18-character Salesforce id.
    pub salesforce_id: String,
    /// Its name.
    pub name: String,
    /// Its email, if any.
    pub email: Option<String>,
    /// Its phone number, if any.
    pub phone: Option<String>,
    /// How many calls it has.
    pub calls: i64,
    /// How many messages it has.
    pub messages: i64,
    /// When its call and message data was erased (an erased record has nothing left to export).
    #[serde(skip)]
    pub erased_at: Option<OffsetDateTime>,
}

/// One call as the export writes it (`calls.json`). The recording or voicemail is a file of the archive.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedCall {
    /// The call's id.
    pub id: Uuid,
    /// The record it belongs to.
    pub record_id: Uuid,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The calling number.
    pub from_number: String,
    /// The called number.
    pub to_number: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// How long it lasted.
    pub duration_seconds: i32,
    /// How the representative logged it.
    pub disposition: Option<String>,
    /// The representative's notes.
    pub notes: Option<String>,
    /// The call's transcript.
    pub transcript: Option<String>,
    /// Whether the call went to voicemail.
    pub is_voicemail: bool,
    /// Where the recording or voicemail is stored (not written out: the archive names its own copy).
    #[serde(skip)]
    pub recording_key: Option<String>,
}

/// One message as the export writes it (`messages.json`). Its media are files of the archive.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedMessage {
    /// The message's id.
    pub id: Uuid,
    /// The record it belongs to.
    pub record_id: Uuid,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The sending number.
    pub from_number: String,
    /// The receiving number.
    pub to_number: String,
    /// Its text.
    pub body: String,
    /// When it was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// Where its media are stored (not written out: the archive names its own copies).
    #[serde(skip)]
    pub media_keys: Vec<String>,
}

/// Where a batch starts: after this time and id.
pub type After = (OffsetDateTime, Uuid);

/// Before every call and message: where a record's first batch starts (a fixed cursor rather than none, so one
/// statement pages through the record's index from its first row on).
pub const FROM_THE_START: After = (time::macros::datetime!(0001-01-01 0:00 UTC), Uuid::nil());

/// The records `customer_ids` of the account with their counts, in the order of their Salesforce ids; ids the
/// account does not hold are left out.
pub async fn records(
    pool: &PgPool,
    account_id: Uuid,
    customer_ids: &[Uuid],
) -> sqlx::Result<Vec<ExportedRecord>> {
    sqlx::query_as!(
        ExportedRecord,
        r#"select cu.id, cu.object_type, cu.salesforce_id, cu.name, cu.email, cu.phone, cu.erased_at,
                  (select count(*) from calls c where c.account_id = $1 and c.customer_id = cu.id) as "calls!",
                  (select count(*) from messages m where m.account_id = $1 and m.customer_id = cu.id) as "messages!"
             from customers cu
            where cu.account_id = $1 and cu.id = any($2)
            order by cu.salesforce_id"#,
        account_id,
        customer_ids
    )
    .fetch_all(pool)
    .await
}

/// Whether any of records `customer_ids` of the account has been erased (checked again once an export has been
/// written, so an erasure that ran meanwhile spoils the export rather than leaving it looking complete).
pub async fn any_erased(
    pool: &PgPool,
    account_id: Uuid,
    customer_ids: &[Uuid],
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from customers
                           where account_id = $1 and id = any($2) and erased_at is not null) as "erased!""#,
        account_id,
        customer_ids
    )
    .fetch_one(pool)
    .await
}

/// A call as stored: its private values sealed (or plaintext, in a row written before keys existed).
#[derive(Debug, Clone)]
pub struct StoredCall {
    id: Uuid,
    record_id: Uuid,
    direction: String,
    from_number: Option<String>,
    from_number_sealed: Option<Vec<u8>>,
    to_number: Option<String>,
    to_number_sealed: Option<Vec<u8>>,
    started_at: OffsetDateTime,
    duration_seconds: i32,
    disposition: Option<String>,
    notes: Option<String>,
    notes_sealed: Option<Vec<u8>>,
    transcript: Option<String>,
    transcript_sealed: Option<Vec<u8>>,
    is_voicemail: bool,
    recording_key: Option<String>,
}

impl StoredCall {
    /// The call as the export writes it, its sealed values opened by `opener` (its record's).
    pub fn opened(self, opener: &Opener) -> Result<ExportedCall, Unopened> {
        let id = self.id;
        Ok(ExportedCall {
            id,
            record_id: self.record_id,
            direction: self.direction,
            from_number: opener.required(
                "calls",
                "from_number",
                id,
                self.from_number,
                self.from_number_sealed.as_deref(),
            )?,
            to_number: opener.required(
                "calls",
                "to_number",
                id,
                self.to_number,
                self.to_number_sealed.as_deref(),
            )?,
            started_at: self.started_at,
            duration_seconds: self.duration_seconds,
            disposition: self.disposition,
            notes: opener.value(
                "calls",
                "notes",
                id,
                self.notes,
                self.notes_sealed.as_deref(),
            )?,
            transcript: opener.value(
                "calls",
                "transcript",
                id,
                self.transcript,
                self.transcript_sealed.as_deref(),
            )?,
            is_voicemail: self.is_voicemail,
            recording_key: self.recording_key,
        })
    }
}

/// A message as stored: its private values sealed (or plaintext, in a row written before keys existed).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    id: Uuid,
    record_id: Uuid,
    direction: String,
    from_number: Option<String>,
    from_number_sealed: Option<Vec<u8>>,
    to_number: Option<String>,
    to_number_sealed: Option<Vec<u8>>,
    body: Option<String>,
    body_sealed: Option<Vec<u8>>,
    sent_at: OffsetDateTime,
    media_keys: Vec<String>,
}

impl StoredMessage {
    /// The message as the export writes it, its sealed values opened by `opener` (its record's).
    pub fn opened(self, opener: &Opener) -> Result<ExportedMessage, Unopened> {
        let id = self.id;
        Ok(ExportedMessage {
            id,
            record_id: self.record_id,
            direction: self.direction,
            from_number: opener.required(
                "messages",
                "from_number",
                id,
                self.from_number,
                self.from_number_sealed.as_deref(),
            )?,
            to_number: opener.required(
                "messages",
                "to_number",
                id,
                self.to_number,
                self.to_number_sealed.as_deref(),
            )?,
            body: opener.required(
                "messages",
                "body",
                id,
                self.body,
                self.body_sealed.as_deref(),
            )?,
            sent_at: self.sent_at,
            media_keys: self.media_keys,
        })
    }
}

/// The next `EXPORT_BATCH` calls of record `customer_id` after `after`, oldest first, as stored.
pub async fn calls_after(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
    (at, id): After,
) -> sqlx::Result<Vec<StoredCall>> {
    sqlx::query_as!(
        StoredCall,
        r#"select id, customer_id as record_id, direction, from_number, from_number_sealed, to_number,
                  to_number_sealed, started_at, duration_seconds, disposition, notes, notes_sealed, transcript,
                  transcript_sealed, is_voicemail, recording_key
             from calls
            where account_id = $1 and customer_id = $2 and (started_at, id) > ($3, $4)
            order by started_at, id
            limit $5"#,
        account_id,
        customer_id,
        at,
        id,
        EXPORT_BATCH
    )
    .fetch_all(pool)
    .await
}

/// The next `EXPORT_BATCH` messages of record `customer_id` after `after`, oldest first, as stored.
pub async fn messages_after(
    pool: &PgPool,
    account_id: Uuid,
    customer_id: Uuid,
    (at, id): After,
) -> sqlx::Result<Vec<StoredMessage>> {
    sqlx::query_as!(
        StoredMessage,
        r#"select id, customer_id as record_id, direction, from_number, from_number_sealed, to_number,
                  to_number_sealed, body, body_sealed, sent_at, media_keys
             from messages
            where account_id = $1 and customer_id = $2 and (sent_at, id) > ($3, $4)
            order by sent_at, id
            limit $5"#,
        account_id,
        customer_id,
        at,
        id,
        EXPORT_BATCH
    )
    .fetch_all(pool)
    .await
}
