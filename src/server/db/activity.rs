//! Recording calls and messages as the capture pipeline sends them (`POST /api/v1/calls` and `/messages`):
//! finding the customer record a Salesforce id names, and storing one call or message for it, sealed under the
//! record's data key. The trigger of
//! migration 0001 refuses activity for an erased record even when the erasure commits between the lookup and
//! the insert (`Recorded::Erased`).

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::server::keys::seal::Sealer;

/// The customer record a Salesforce id names in an account, and the account's default country (for phone
/// numbers written nationally).
#[derive(Debug, Clone)]
pub struct IngestTarget {
    /// The account's ISO 3166 country for national phone numbers.
    pub default_country: String,
    /// The record, if the account holds one with that Salesforce id.
    pub customer_id: Option<Uuid>,
    /// Whether that record's call and message data was erased.
    pub erased: bool,
    /// That record's email, if it has one.
    pub email: Option<String>,
    /// That record's phone number in E.164, if it has a valid one.
    pub phone_e164: Option<String>,
}

/// Account `account_id`'s default country and its record with the 18-character Salesforce id `salesforce_id`.
pub async fn target(
    pool: &PgPool,
    account_id: Uuid,
    salesforce_id: &str,
) -> sqlx::Result<IngestTarget> {
    let row = sqlx::query!(
        "select a.default_country, c.id as \"customer_id?\", c.erased_at, c.email, c.phone_e164
         from accounts a
         left join customers c on c.account_id = a.id and c.salesforce_id = $2
         where a.id = $1",
        account_id,
        salesforce_id
    )
    .fetch_one(pool)
    .await?;
    Ok(IngestTarget {
        default_country: row.default_country,
        customer_id: row.customer_id,
        erased: row.erased_at.is_some(),
        email: row.email,
        phone_e164: row.phone_e164,
    })
}

/// What both kinds of activity hold: who, which way and between which numbers.
#[derive(Debug, Clone)]
pub struct Parties {
    /// `inbound` or `outbound`.
    pub direction: &'static str,
    /// The calling or sending number.
    pub from_number: String,
    /// The called or receiving number.
    pub to_number: String,
}

/// A call to store.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// Who and which way.
    pub parties: Parties,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// How long it lasted.
    pub duration_seconds: i32,
    /// How it ended, as the dialer says.
    pub disposition: Option<String>,
    /// The rep's notes.
    pub notes: Option<String>,
    /// Its transcript.
    pub transcript: Option<String>,
    /// Whether it is a voicemail.
    pub is_voicemail: bool,
    /// The key of its recording (or voicemail audio) in the object store, under the account's prefix.
    pub recording_key: Option<String>,
}

/// A text message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who and which way.
    pub parties: Parties,
    /// When it was sent.
    pub sent_at: OffsetDateTime,
    /// Its text.
    pub body: String,
    /// The keys of its media in the object store, under the account's prefix.
    pub media_keys: Vec<String>,
}

/// What storing activity did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored, with this id.
    Stored(Uuid),
    /// Refused: the record was erased (by the trigger, when the erasure committed after the lookup).
    Erased,
}

/// Whether `err` is the refusal of the trigger that keeps activity away from erased records (its hint names
/// it).
fn is_erased_refusal(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|pg| pg.hint())
        == Some("customer_erased")
}

/// A call or a message to store.
#[derive(Debug, Clone)]
pub enum NewActivity {
    /// A call.
    Call(NewCall),
    /// A text message.
    Message(NewMessage),
}

/// Stores `activity` for customer `customer_id` of account `account_id`, its numbers, notes, transcript and
/// body sealed by `sealer` (the record's data key) and no plaintext of them.
pub async fn record(
    pool: &PgPool,
    sealer: &Sealer,
    account_id: Uuid,
    customer_id: Uuid,
    activity: &NewActivity,
) -> sqlx::Result<Recorded> {
    let id = Uuid::new_v4();
    let stored = match activity {
        NewActivity::Call(call) => {
            sqlx::query_scalar!(
                "insert into calls (id, account_id, customer_id, direction, from_number_sealed, to_number_sealed,
                     started_at, duration_seconds, disposition, notes_sealed, transcript_sealed, is_voicemail,
                     recording_key)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 returning id",
                id,
                account_id,
                customer_id,
                call.parties.direction,
                sealer.seal("calls", "from_number", id, &call.parties.from_number),
                sealer.seal("calls", "to_number", id, &call.parties.to_number),
                call.started_at,
                call.duration_seconds,
                call.disposition,
                sealer.seal_optional("calls", "notes", id, call.notes.as_deref()),
                sealer.seal_optional("calls", "transcript", id, call.transcript.as_deref()),
                call.is_voicemail,
                call.recording_key
            )
            .fetch_one(pool)
            .await
        }
        NewActivity::Message(message) => {
            sqlx::query_scalar!(
                "insert into messages (id, account_id, customer_id, direction, from_number_sealed,
                     to_number_sealed, body_sealed, sent_at, media_keys)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 returning id",
                id,
                account_id,
                customer_id,
                message.parties.direction,
                sealer.seal("messages", "from_number", id, &message.parties.from_number),
                sealer.seal("messages", "to_number", id, &message.parties.to_number),
                sealer.seal("messages", "body", id, &message.body),
                message.sent_at,
                &message.media_keys
            )
            .fetch_one(pool)
            .await
        }
    };
    match stored {
        Ok(id) => Ok(Recorded::Stored(id)),
        Err(err) if is_erased_refusal(&err) => Ok(Recorded::Erased),
        Err(err) => Err(err),
    }
}
