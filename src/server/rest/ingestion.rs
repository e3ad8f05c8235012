//! `POST /api/v1/calls` and `POST /api/v1/messages` (scope `ingest`): how the capture pipeline records activity
//! of a customer record, named by its Salesforce id. Before anything is stored, every identifier of the person
//! (the Salesforce id, the email if given, the record's own email and phone number, and both parties' numbers,
//! read as phone numbers or, for a handle such as an iMessage address, as emails; each normalized as the
//! suppression list hashes them) is looked up on the account's suppression list: a suppressed person's activity
//! answers 409 `suppressed`, as does (`record-erased`) activity for an erased record, and nothing of it is stored
//! or logged. Bodies are read by this module, so a malformed one answers a problem that never repeats its
//! values. The values are stored sealed under the record's data key, and the files a call or message names
//! (which the platform stored) are sealed in place right after the answer.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Problem, Refusal, post_once, respond_with};
use crate::error::AppError;
use crate::salesforce::SalesforceId;
use crate::server::authz::{ApiScope, TokenPrincipal};
use crate::server::db::activity::{self, NewActivity, NewCall, NewMessage, Parties, Recorded};
use crate::server::db::suppressions;
use crate::server::evidence::identity::{PersonId, Subject};
use crate::server::input::{self, CustomerQuery};
use crate::server::keys::existing::{TableWithFiles, seal_files_of_row};
use crate::server::keys::{KeyringError, keyring_failure};
use crate::server::state::{AppState, db_failure};
use crate::server::storage;

/// Where calls are recorded.
pub const CALLS_PATH: &str = "/api/v1/calls";
/// Where messages are recorded.
pub const MESSAGES_PATH: &str = "/api/v1/messages";

/// The longest phone number field, disposition and storage key accepted, in characters.
const MAX_SHORT_TEXT: usize = 100;
const MAX_KEY_CHARS: usize = 500;
/// The longest notes, transcript and message body accepted, in characters.
const MAX_LONG_TEXT: usize = 50_000;
/// The most media one message holds.
const MAX_MEDIA: usize = 20;
/// The longest call accepted: a week.
const MAX_DURATION_SECONDS: i32 = 7 * 24 * 3600;

/// Which way the activity went.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The person called or wrote.
    Inbound,
    /// The rep called or wrote.
    Outbound,
}

impl Direction {
    fn key(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// A call to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallInput {
    /// The customer record's Salesforce id (15 or 18 characters).
    pub salesforce_id: String,
    /// The person's email address, when the pipeline knows it.
    pub email: Option<String>,
    /// Which way the call went.
    pub direction: Direction,
    /// The calling number.
    #[schema(min_length = 1, max_length = 100)]
    pub from_number: String,
    /// The called number.
    #[schema(min_length = 1, max_length = 100)]
    pub to_number: String,
    /// When it started (RFC 3339).
    #[schema(format = DateTime)]
    pub started_at: String,
    /// How long it lasted, in seconds (at most a week).
    #[schema(minimum = 0, maximum = 604800)]
    pub duration_seconds: i32,
    /// How it ended, as the dialer says.
    #[schema(min_length = 1, max_length = 100)]
    pub disposition: Option<String>,
    /// The rep's notes.
    #[schema(max_length = 50000)]
    pub notes: Option<String>,
    /// Its transcript.
    #[schema(max_length = 50000)]
    pub transcript: Option<String>,
    /// Whether it is a voicemail (default false).
    pub is_voicemail: Option<bool>,
    /// The key of its recording in the object store, under `recordings/<account id>/`.
    #[schema(min_length = 1, max_length = 500)]
    pub recording_key: Option<String>,
}

/// A text message to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// The customer record's Salesforce id (15 or 18 characters).
    pub salesforce_id: String,
    /// The person's email address, when the pipeline knows it.
    pub email: Option<String>,
    /// Which way the message went.
    pub direction: Direction,
    /// The sending number.
    #[schema(min_length = 1, max_length = 100)]
    pub from_number: String,
    /// The receiving number.
    #[schema(min_length = 1, max_length = 100)]
    pub to_number: String,
    /// When it was sent (RFC 3339).
    #[schema(format = DateTime)]
    pub sent_at: String,
    /// Its text (may be empty when it carries media).
    #[schema(max_length = 50000)]
    pub body: String,
    /// The keys of its media in the object store, under `media/<account id>/`.
    #[schema(max_items = 20)]
    pub media_keys: Option<Vec<String>>,
}

/// What was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedActivity {
    /// The new call's or message's id.
    pub id: String,
    /// The customer record it belongs to.
    pub customer_id: String,
}

/// The body as `T`, or 422 saying where it is wrong without repeating any of it.
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|err| {
        let what = match err.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                "is not JSON"
            }
            serde_json::error::Category::Eof => "ends too early",
            serde_json::error::Category::Data => {
                "does not have the documented fields and types (a field is missing, unknown or of another type)"
            }
        };
        AppError::Invalid(format!(
            "The body {what}, at line {} column {}.",
            err.line(),
            err.column()
        ))
    })
}

/// A text field of one line: at most `max` characters as sent (as the OpenAPI document says), not blank, no
/// control characters; stored trimmed.
fn one_line(raw: &str, field: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() || raw.chars().count() > max || raw.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "{field} must be 1 to {max} characters on one line."
        )));
    }
    Ok(text.to_owned())
}

/// A text field of many lines: at most `max` characters, no control characters but line breaks and tabs.
fn many_lines(raw: &str, field: &str, max: usize) -> Result<String, AppError> {
    let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    if raw.chars().count() > max || !raw.chars().all(allowed) {
        return Err(AppError::Invalid(format!(
            "{field} must be at most {max} characters, with no control characters but line breaks and tabs."
        )));
    }
    Ok(raw.to_owned())
}

/// An RFC 3339 time.
fn moment(raw: &str, field: &str) -> Result<OffsetDateTime, AppError> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| {
        AppError::Invalid(format!(
            "{field} must be a time in RFC 3339, as in 2026-12-03T14:05:00Z."
        ))
    })
}

/// A storage key of account `account_id` of `kind` (`storage::RECORDINGS` or `storage::MEDIA`).
fn stored_key(raw: &str, field: &str, kind: &str, account_id: Uuid) -> Result<String, AppError> {
    let key = one_line(raw, field, MAX_KEY_CHARS)?;
    let prefix = format!("{kind}/{account_id}/");
    if key.len() <= prefix.len() || !key.starts_with(&prefix) || key.contains("..") {
        return Err(AppError::Invalid(format!(
            "{field} must be a key under {prefix}."
        )));
    }
    Ok(key)
}

/// The parts both kinds of activity share, checked: the record's Salesforce id (18 characters), the person's
/// email and the numbers.
struct Common {
    salesforce_id: SalesforceId,
    email: Option<String>,
    parties: Parties,
}

fn common(
    salesforce_id: &str,
    email: Option<&str>,
    direction: Direction,
    from_number: &str,
    to_number: &str,
) -> Result<Common, AppError> {
    let salesforce_id = SalesforceId::parse(salesforce_id.trim()).map_err(|err| {
        AppError::Invalid(format!(
            "salesforce_id: {err} Give the record's 15- or 18-character Salesforce ID."
        ))
    })?;
    let email = match email {
        None => None,
        Some(raw) => match input::customer_query(raw) {
            Ok(CustomerQuery::Email(email)) => Some(email),
            _ => return Err(AppError::invalid("email must be an email address.")),
        },
    };
    Ok(Common {
        salesforce_id,
        email,
        parties: Parties {
            direction: direction.key(),
            from_number: one_line(from_number, "from_number", MAX_SHORT_TEXT)?,
            to_number: one_line(to_number, "to_number", MAX_SHORT_TEXT)?,
        },
    })
}

/// A call or a message, checked and ready to store, with the parts both share.
struct Checked {
    common: Common,
    activity: NewActivity,
}

/// The call of `call`, checked, for account `account_id`.
fn checked_call(call: CallInput, account_id: Uuid) -> Result<Checked, AppError> {
    let common = common(
        &call.salesforce_id,
        call.email.as_deref(),
        call.direction,
        &call.from_number,
        &call.to_number,
    )?;
    let optional = |raw: &Option<String>, field: &str, max: usize| {
        raw.as_deref()
            .map(|text| many_lines(text, field, max))
            .transpose()
    };
    if !(0..=MAX_DURATION_SECONDS).contains(&call.duration_seconds) {
        return Err(AppError::invalid(
            "duration_seconds must be 0 to 604800 (a week).",
        ));
    }
    let activity = NewActivity::Call(NewCall {
        parties: common.parties.clone(),
        started_at: moment(&call.started_at, "started_at")?,
        duration_seconds: call.duration_seconds,
        disposition: call
            .disposition
            .as_deref()
            .map(|text| one_line(text, "disposition", MAX_SHORT_TEXT))
            .transpose()?,
        notes: optional(&call.notes, "notes", MAX_LONG_TEXT)?,
        transcript: optional(&call.transcript, "transcript", MAX_LONG_TEXT)?,
        is_voicemail: call.is_voicemail.unwrap_or(false),
        recording_key: call
            .recording_key
            .as_deref()
            .map(|key| stored_key(key, "recording_key", storage::RECORDINGS, account_id))
            .transpose()?,
    });
    Ok(Checked { common, activity })
}

/// The message of `message`, checked, for account `account_id`.
fn checked_message(message: MessageInput, account_id: Uuid) -> Result<Checked, AppError> {
    let common = common(
        &message.salesforce_id,
        message.email.as_deref(),
        message.direction,
        &message.from_number,
        &message.to_number,
    )?;
    let media_keys = message.media_keys.unwrap_or_default();
    if media_keys.len() > MAX_MEDIA {
        return Err(AppError::Invalid(format!(
            "media_keys holds at most {MAX_MEDIA} keys."
        )));
    }
    let activity = NewActivity::Message(NewMessage {
        parties: common.parties.clone(),
        sent_at: moment(&message.sent_at, "sent_at")?,
        body: many_lines(&message.body, "body", MAX_LONG_TEXT)?,
        media_keys: media_keys
            .iter()
            .map(|key| stored_key(key, "media_keys", storage::MEDIA, account_id))
            .collect::<Result<_, _>>()?,
    });
    Ok(Checked { common, activity })
}

/// Checks the activity's identifiers against the suppression list and finds its record, then stores it: 409
/// when a person is suppressed or the record erased, 404 when the account has no such record.
async fn record(
    state: &AppState,
    token: &TokenPrincipal,
    checked: Checked,
) -> Result<RecordedActivity, Refusal> {
    let Checked { common, activity } = checked;
    let target = activity::target(&state.pool, token.account_id, common.salesforce_id.as_str())
        .await
        .map_err(db_failure)?;
    let secret = state.evidence_secret.account_key(token.account_id);
    let mut identifiers: Vec<Subject> =
        vec![secret.subject(&PersonId::SalesforceId(&common.salesforce_id))];
    let emails = [common.email.as_deref(), target.email.as_deref()];
    for email in emails.into_iter().flatten() {
        identifiers.push(secret.subject(&PersonId::Email(email)));
    }
    if let Some(e164) = &target.phone_e164 {
        identifiers.push(secret.subject(&PersonId::Phone(e164)));
    }
    for party in [&common.parties.from_number, &common.parties.to_number] {
        if let Some(e164) = input::phone_e164(party, &target.default_country) {
            identifiers.push(secret.subject(&PersonId::Phone(&e164)));
        } else if let Ok(CustomerQuery::Email(handle)) = input::customer_query(party) {
            identifiers.push(secret.subject(&PersonId::Email(&handle)));
        }
    }
    if suppressions::suppressed(&state.pool, token.account_id, &identifiers)
        .await
        .map_err(db_failure)?
        .is_some()
    {
        return Err(Refusal::Suppressed);
    }
    let customer_id = target.customer_id.ok_or_else(|| {
        AppError::not_found("No customer record with this Salesforce ID in the token's account.")
    })?;
    if target.erased {
        return Err(Refusal::RecordErased);
    }
    let sealer = match state.keyring.sealer(token.account_id, customer_id).await {
        Ok(sealer) => sealer,
        Err(KeyringError::Destroyed) => return Err(Refusal::RecordErased),
        Err(err) => return Err(keyring_failure(err).into()),
    };
    match activity::record(
        &state.pool,
        &sealer,
        token.account_id,
        customer_id,
        &activity,
    )
    .await
    .map_err(db_failure)?
    {
        Recorded::Stored(id) => {
            seal_its_files(state, &activity, id);
            Ok(RecordedActivity {
                id: id.to_string(),
                customer_id: customer_id.to_string(),
            })
        }
        Recorded::Erased => Err(Refusal::RecordErased),
    }
}

/// Seals the files the recorded activity `id` names, as the platform stored them, in a task of its own after the
/// answer: each is replaced by its sealed form under the record's key while the row is locked. A file not
/// stored yet, or a task cut off, is left plaintext for `seal-existing`.
fn seal_its_files(state: &AppState, activity: &NewActivity, id: Uuid) {
    let table = match activity {
        NewActivity::Call(call) if call.recording_key.is_some() => TableWithFiles::Calls,
        NewActivity::Message(message) if !message.media_keys.is_empty() => TableWithFiles::Messages,
        _ => return,
    };
    let (pool, storage, keyring) = (
        state.pool.clone(),
        state.storage.clone(),
        state.keyring.clone(),
    );
    tokio::spawn(async move {
        if let Err(err) = seal_files_of_row(&pool, &storage, &keyring, table, id).await {
            tracing::warn!(error = %err, %id, "sealing an ingested activity's files failed; seal-existing seals them");
        }
    });
}

/// An ingestion POST to `path`: the token (scope `ingest`), then, under the request's `Idempotency-Key`, the
/// body read as `I` and checked by `check`, and the activity recorded (201).
async fn ingest<I: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
    check: fn(I, Uuid) -> Result<Checked, AppError>,
) -> Response {
    post_once(
        state,
        headers,
        ApiScope::Ingest,
        (path, body),
        super::idempotency::kept_answer,
        |token| async move {
            let answer = async {
                let checked = check(parse_body(body)?, token.account_id)?;
                record(state, &token, checked).await
            };
            respond_with(StatusCode::CREATED, answer.await)
        },
    )
    .await
}

/// Tokens with `ingest` of an account whose Manage Customer Data setting is on: records a call of the customer
/// record with this Salesforce id, unless one of its identifiers is suppressed or the record erased (409, and
/// nothing is stored). Takes `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/api/v1/calls",
    tag = "Ingestion",
    request_body(content = CallInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Names the request: sent again with the same body within 24 hours, it answers the first answer")),
    responses(
        (status = 201, description = "Recorded", body = RecordedActivity, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `ingest`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No customer record with this Salesforce id in the token's account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`suppressed`: a person is on the suppression list; `record-erased`: the record was erased; `idempotency-key-in-use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body or the Idempotency-Key is not acceptable, or the key was used for another request", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn record_call(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    ingest(&state, &headers, &body, CALLS_PATH, checked_call).await
}

/// Tokens with `ingest` of an account whose Manage Customer Data setting is on: records a text message of the
/// customer record with this Salesforce id, unless one of its identifiers is suppressed or the record erased
/// (409, and nothing is stored). Takes `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/api/v1/messages",
    tag = "Ingestion",
    request_body(content = MessageInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Names the request: sent again with the same body within 24 hours, it answers the first answer")),
    responses(
        (status = 201, description = "Recorded", body = RecordedActivity, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `ingest`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No customer record with this Salesforce id in the token's account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`suppressed`: a person is on the suppression list; `record-erased`: the record was erased; `idempotency-key-in-use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body or the Idempotency-Key is not acceptable, or the key was used for another request", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn record_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    ingest(&state, &headers, &body, MESSAGES_PATH, checked_message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_body_is_refused_without_repeating_it() {
        let secret_email = "jordan.rivera@example.com";
        for body in [
            format!("{{\"salesforce_id\": \"{secret_email}"),
            format!("{{\"duration_seconds\": \"{secret_email}\"}}"),
            format!("{{\"{secret_email}\": 1}}"),
            "not json".to_owned(),
        ] {
            let err = parse_body::<CallInput>(body.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 422);
            assert!(!err.to_string().contains(secret_email), "{err}");
        }
    }

    #[test]
    fn texts_are_checked_for_length_and_control_characters() {
        assert_eq!(
            one_line("  +1 415 555 0142 ", "to_number", 100).unwrap(),
            "+1 415 555 0142"
        );
        assert!(one_line("", "to_number", 100).is_err());
        assert!(one_line("a\u{0}b", "to_number", 100).is_err());
        assert!(one_line(&"9".repeat(101), "to_number", 100).is_err());
        assert!(many_lines("line one\nline two\ttab", "notes", 100).is_ok());
        assert!(many_lines("bell\u{7}", "notes", 100).is_err());
        assert!(moment("2026-12-03T14:05:00Z", "started_at").is_ok());
        assert!(moment("yesterday", "started_at").is_err());
    }

    #[test]
    fn a_storage_key_must_be_under_the_accounts_prefix() {
        let account = Uuid::from_u128(9);
        let own = format!("recordings/{account}/call-1.mp3");
        assert_eq!(
            stored_key(&own, "recording_key", storage::RECORDINGS, account).unwrap(),
            own
        );
        let other = format!("recordings/{}/call-1.mp3", Uuid::from_u128(8));
        assert!(stored_key(&other, "recording_key", storage::RECORDINGS, account).is_err());
        let climbing = format!("recordings/{account}/../x");
        assert!(stored_key(&climbing, "recording_key", storage::RECORDINGS, account).is_err());
        assert!(
            stored_key(
                &format!("recordings/{account}/"),
                "recording_key",
                storage::RECORDINGS,
                account
            )
            .is_err()
        );
    }
}
