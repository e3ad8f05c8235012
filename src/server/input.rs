//! Checking what arrives from the browser before it reaches a query: lengths, characters Postgres text cannot
//! hold, ids, phone numbers, search forms and the audit log's filter. Each refusal is a 422 with a message a
//! person can act on. The parsed forms a query takes (`CustomerQuery`, `CustomerSearch`, `Cursor`,
//! `AuditFilter` with `AuditActor`) are defined here, beside their parsers.

use time::macros::format_description;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{AuditAction, ErasurePolicy, RequestState, SearchKind};
use crate::salesforce::{SalesforceId, looks_like_id};
use crate::server::authz::ApiScope;

/// The longest search text accepted, in characters (after trimming).
pub const MAX_SEARCH_CHARS: usize = 200;
const MAX_EMAIL_CHARS: usize = 320;

/// What a customer search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerQuery {
    /// A trimmed email, compared with the stored ones by Postgres's `lower` on both sides (Rust's lower-casing
    /// differs from it for some letters, such as `İ` and a final `Σ`).
    Email(String),
    /// A Salesforce id, given in either form and matched in its canonical 18-character form.
    SalesforceId(SalesforceId),
    /// A phone number in E.164 (`+14155550142`), normalized by `PhoneText::to_e164`.
    Phone(String),
}

/// What a customer search asks for: a query ready to run, or a phone number as typed, which needs the
/// account's default country before it can be normalized (a national spelling such as `415.555.0142`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerSearch {
    /// An email or a Salesforce id, searched as it is.
    Ready(CustomerQuery),
    /// A phone number, to be read with the account's default country.
    Phone(PhoneText),
}

impl CustomerSearch {
    /// The query to run, a phone number read with `default_country` (the account's).
    pub fn with_country(self, default_country: &str) -> Result<CustomerQuery, AppError> {
        match self {
            CustomerSearch::Ready(query) => Ok(query),
            CustomerSearch::Phone(phone) => {
                phone.to_e164(default_country).map(CustomerQuery::Phone)
            }
        }
    }
}

/// A phone number as typed: digits with the usual separators (`+`, spaces, `-`, `.`, `/`, brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneText(String);

/// Fewer digits than any phone number has.
const MIN_PHONE_DIGITS: usize = 3;

impl PhoneText {
    /// The number in E.164, read with `default_country` (an ISO 3166 code such as `US`) when it is written
    /// nationally; a leading `00` is taken as the international prefix, as `+`. A number that is not one, or
    /// not valid for its country, is refused with the reason.
    pub fn to_e164(&self, default_country: &str) -> Result<String, AppError> {
        use phonenumber::ParseError;
        let country = default_country.parse::<phonenumber::country::Id>().ok();
        let international = self.0.strip_prefix("00").map(|rest| format!("+{rest}"));
        let text = international.as_deref().unwrap_or(&self.0);
        let number = phonenumber::parse(country, text).map_err(|err| {
            AppError::invalid(match err {
                ParseError::InvalidCountryCode => {
                    "That phone number's country code does not exist."
                }
                ParseError::TooShortAfterIdd | ParseError::TooShortNsn | ParseError::NoNumber => {
                    "That phone number is too short."
                }
                ParseError::TooLong => "That phone number is too long.",
                ParseError::MalformedInteger(_) => "That is not a phone number.",
            })
        })?;
        if !phonenumber::is_valid(&number) {
            return Err(AppError::Invalid(format!(
                "That is not a valid phone number{}. Include the country code, as in +1 415 555 0142.",
                country
                    .filter(|_| !text.starts_with('+'))
                    .map(|id| format!(" in {}", id.as_ref()))
                    .unwrap_or_default()
            )));
        }
        Ok(number.format().mode(phonenumber::Mode::E164).to_string())
    }
}

/// A stored phone number in E.164, read with `default_country`; `None` when it is not a valid number.
pub fn phone_e164(stored: &str, default_country: &str) -> Option<String> {
    PhoneText(stored.trim().to_owned())
        .to_e164(default_country)
        .ok()
}

/// Whether `text` is written the way phone numbers are (and not as an all-digit Salesforce id).
fn is_phone_spelling(text: &str) -> bool {
    let phone_characters = text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-./()".contains(c));
    let digits = text.chars().filter(char::is_ascii_digit).count();
    phone_characters && digits >= MIN_PHONE_DIGITS && SalesforceId::parse(text).is_err()
}

/// A position in a newest-first list: the timestamp and id of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// When the last row shown took place.
    pub at: OffsetDateTime,
    /// The last row's id, which orders rows of the same time.
    pub id: Uuid,
}

impl Cursor {
    /// The cursor as it travels in page links: nanoseconds since the Unix epoch, `~`, then the id.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.at.unix_timestamp_nanos(), self.id)
    }

    /// The cursor `encode` wrote, or `None` for any text it cannot have written (or a year outside 1 to 9999).
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

/// Trimmed search text, refused when too long (saying how long it is, since a paste is often more than the one
/// identifier meant; nothing is cut off silently) or holding control characters (NUL cannot be stored or
/// compared by Postgres, and no name or email contains one).
pub fn search_text(raw: &str) -> Result<String, AppError> {
    let text = raw.trim();
    let length = text.chars().count();
    if length > MAX_SEARCH_CHARS {
        return Err(AppError::Invalid(format!(
            "The search text is {length} characters long; a search takes at most {MAX_SEARCH_CHARS}. \
             Enter just one email address, Salesforce ID, phone number or name."
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "Search text contains characters that are not allowed.",
        ));
    }
    Ok(text.to_owned())
}

/// The state a list of requests is filtered by: `None` for an empty text (every state), else a state's key
/// (`awaiting_approval`, `scheduled`, …).
pub fn request_state(raw: &str) -> Result<Option<RequestState>, AppError> {
    let key = raw.trim();
    if key.is_empty() {
        return Ok(None);
    }
    RequestState::from_key(key)
        .map(Some)
        .ok_or_else(|| AppError::invalid("There is no such request state."))
}

/// Whose events the audit log lists: a user's, the console's own, or those of visitors not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    /// A user of the account (by id).
    User(Uuid),
    /// The console itself (the scheduler).
    System,
    /// Visitors not signed in (failed sign-ins).
    Anonymous,
}

impl AuditActor {
    /// The filter's form value: `user:<id>`, `system` or `anonymous`.
    pub fn form_value(self) -> String {
        match self {
            AuditActor::User(id) => format!("user:{id}"),
            AuditActor::System => "system".to_owned(),
            AuditActor::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// Which events of the audit log to list or export: each part narrows the list when present. Days are UTC and
/// both ends are included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only this actor.
    pub actor: Option<AuditActor>,
    /// From this day on.
    pub from: Option<Date>,
    /// Up to and including this day.
    pub to: Option<Date>,
}

/// The audit log's filter from its form: an action's key, an actor (`user:<id>`, `system` or `anonymous`) and
/// two days (`YYYY-MM-DD`); each may be empty. A range that ends before it starts is refused.
pub fn audit_filter(
    action: &str,
    actor: &str,
    from: &str,
    to: &str,
) -> Result<AuditFilter, AppError> {
    let action = match action.trim() {
        "" => None,
        key => Some(
            AuditAction::from_key(key)
                .ok_or_else(|| AppError::invalid("There is no such action in the audit log."))?,
        ),
    };
    let actor = match actor.trim() {
        "" => None,
        "system" => Some(AuditActor::System),
        "anonymous" => Some(AuditActor::Anonymous),
        other => Some(
            other
                .strip_prefix("user:")
                .and_then(|id| Uuid::try_parse(id).ok())
                .map(AuditActor::User)
                .ok_or_else(|| AppError::invalid("Choose who acted from the list."))?,
        ),
    };
    let (from, to) = (day(from, "From")?, day(to, "To")?);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(AppError::invalid(
            "The range ends before it starts: make To the same day as From or later.",
        ));
    }
    Ok(AuditFilter {
        action,
        actor,
        from,
        to,
    })
}

/// A day typed as `YYYY-MM-DD` (as a date field sends it) from 1970 to 9999, or none when empty; `field` names
/// it in the refusal.
fn day(raw: &str, field: &str) -> Result<Option<Date>, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .filter(|day| (1970..=9999).contains(&day.year()))
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid(&format!(
                "{field} must be a day from 1970 to 9999 written as YYYY-MM-DD."
            ))
        })
}

/// Where a page of the audit log continues: the seq its events come before, or none for the newest.
pub fn audit_cursor(raw: Option<&str>) -> Result<Option<i64>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|seq| *seq > 1)
            .map(Some)
            .ok_or_else(|| AppError::invalid("That page link is not valid.")),
    }
}

/// The parts of a new API token as the form on /admin/tokens sends them: its name (trimmed, 1 to 100
/// characters, no control characters), its scopes (keys separated by commas, at least one, each once) and its
/// lifetime in days (empty: none; else 1 to 3650).
pub fn api_token(
    name: &str,
    scopes: &str,
    expires_days: &str,
) -> Result<(String, Vec<ApiScope>, Option<time::Duration>), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "Name the token in 1 to 100 characters on one line.",
        ));
    }
    let mut chosen = Vec::new();
    for key in scopes
        .split(',')
        .map(str::trim)
        .filter(|key| !key.is_empty())
    {
        let scope = ApiScope::from_key(key).ok_or_else(|| {
            AppError::Invalid(format!(
                "{key:?} is not one of the scopes requests:read, requests:write, audit:read and ingest."
            ))
        })?;
        if !chosen.contains(&scope) {
            chosen.push(scope);
        }
    }
    if chosen.is_empty() {
        return Err(AppError::invalid("Choose at least one scope."));
    }
    let expires_in = match expires_days.trim() {
        "" => None,
        days => match days.parse::<i64>() {
            Ok(days @ 1..=3650) => Some(time::Duration::days(days)),
            _ => {
                return Err(AppError::invalid(
                    "The token expires after 1 to 3650 days, or leave the field empty.",
                ));
            }
        },
    };
    Ok((name.to_owned(), chosen, expires_in))
}

/// The reason a request is rejected: trimmed, 1 to 500 characters.
pub fn rejection_reason(raw: &str) -> Result<String, AppError> {
    reason(raw, "Say why the request is rejected.")
}

/// The reason an entry of the suppression list is lifted: trimmed, 1 to 500 characters.
pub fn lift_reason(raw: &str) -> Result<String, AppError> {
    reason(raw, "Say why the entry is lifted.")
}

/// A reason: trimmed, 1 to 500 characters, no control characters but line breaks and tabs; refused with
/// `missing` when empty.
fn reason(raw: &str, missing: &str) -> Result<String, AppError> {
    let reason = raw.trim();
    if reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::invalid(
            "The reason contains characters that are not allowed.",
        ));
    }
    match reason.chars().count() {
        0 => Err(AppError::invalid(missing)),
        1..=500 => Ok(reason.to_owned()),
        _ => Err(AppError::invalid(
            "The reason is too long: at most 500 characters.",
        )),
    }
}

/// The erasure policy as the form on /admin sends it: the hold in hours (0 to 8,760, one year), the deadline in
/// days (1 to 365) and the two approval thresholds (empty for none, else 1 to 1,000,000).
pub fn erasure_policy(
    hold_hours: &str,
    deadline_days: &str,
    approval_min_records: &str,
    approval_min_items: &str,
) -> Result<ErasurePolicy, AppError> {
    Ok(ErasurePolicy {
        hold_hours: whole_number(hold_hours, 0..=8760, "The hold", "hours")?,
        deadline_days: whole_number(deadline_days, 1..=365, "The deadline", "days")?,
        approval_min_records: threshold(approval_min_records, "The records threshold")?,
        approval_min_items: threshold(approval_min_items, "The calls and messages threshold")?,
    })
}

fn threshold(raw: &str, what: &str) -> Result<Option<i32>, AppError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    whole_number(raw, 1..=1_000_000, what, "").map(Some)
}

/// A whole number in `range`; `what` and `unit` name it in the error.
fn whole_number(
    raw: &str,
    range: std::ops::RangeInclusive<i32>,
    what: &str,
    unit: &str,
) -> Result<i32, AppError> {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    let refusal = || {
        AppError::Invalid(format!(
            "{what} must be a whole number from {} to {}{unit}.",
            range.start(),
            range.end()
        ))
    };
    let number: i32 = raw.trim().parse().map_err(|_| refusal())?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(refusal())
    }
}

/// A list of record ids separated by commas (blanks around each are ignored), in the order given: at least one
/// and at most `max`; `what` names the record in the error ("customer").
pub fn record_ids(raw: &str, what: &str, max: usize) -> Result<Vec<Uuid>, AppError> {
    let parts: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(AppError::Invalid(format!(
            "Name at least one {what} record."
        )));
    }
    if parts.len() > max {
        return Err(AppError::Invalid(format!(
            "One request names at most {max} {what} records."
        )));
    }
    parts
        .into_iter()
        .map(|part| record_id(part, what))
        .collect()
}

/// An id from a URL or form.
pub fn record_id(raw: &str, what: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| AppError::Invalid(format!("That is not a valid {what} id.")))
}

/// A customer search: an email (matched case-insensitively), a Salesforce id in either form, or a phone number
/// in any common spelling (left for the account's default country, see `CustomerSearch`).
pub fn customer_search(raw: &str) -> Result<CustomerSearch, AppError> {
    let text = search_text(raw)?;
    if text.is_empty() {
        return Err(AppError::invalid(
            "Enter an email address, a Salesforce ID or a phone number.",
        ));
    }
    if is_phone_spelling(&text) {
        return Ok(CustomerSearch::Phone(PhoneText(text)));
    }
    customer_query(&text).map(CustomerSearch::Ready)
}

/// A customer search whose phone number, if it is one, is read with `default_country`.
pub fn customer_query_in(raw: &str, default_country: &str) -> Result<CustomerQuery, AppError> {
    customer_search(raw)?.with_country(default_country)
}

/// A search for an email (matched case-insensitively) or a Salesforce id in either form.
pub fn customer_query(raw: &str) -> Result<CustomerQuery, AppError> {
    let text = search_text(raw)?;
    if text.is_empty() {
        return Err(AppError::invalid(
            "Enter an email address or a Salesforce ID.",
        ));
    }
    if let Some((name, domain)) = text.rsplit_once('@') {
        if text.chars().count() > MAX_EMAIL_CHARS || text.contains(char::is_whitespace) {
            return Err(AppError::invalid("That is not a valid email address."));
        }
        if let Some(missing) = incomplete_email(name, domain) {
            return Err(AppError::Invalid(format!(
                "That email address is incomplete: {missing}. Enter the whole address, as in \
                 jordan.rivera@example.com."
            )));
        }
        return Ok(CustomerQuery::Email(text));
    }
    match SalesforceId::parse(&text) {
        Ok(id) => Ok(CustomerQuery::SalesforceId(id)),
        Err(err) if looks_like_id(&text) || text.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Err(AppError::Invalid(format!(
                "{err} Enter an email address or a 15- or 18-character Salesforce ID."
            )))
        }
        Err(_) => Err(AppError::invalid(
            "Enter an email address or a 15- or 18-character Salesforce ID.",
        )),
    }
}

/// What an email address split at its last `@` lacks to be a whole one, if anything: a name before the `@`, or
/// a domain with a dot after it (`jordan@`, `@acme.example` and `jordan@acme` are parts of an address that a
/// search for the exact address would never find).
fn incomplete_email(name: &str, domain: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("there is nothing before the @")
    } else if domain.is_empty() {
        Some("there is nothing after the @")
    } else if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        Some("the part after the @ is not a whole domain")
    } else {
        None
    }
}

/// The text a search of `kind` keeps, checked as that search checks it: a customer search needs an email, a
/// Salesforce id or a phone number (read with the account's `default_country`); a user search takes any text,
/// and none (`None`) lists all users.
pub fn saved_search_query(
    kind: SearchKind,
    raw: &str,
    default_country: &str,
) -> Result<Option<String>, AppError> {
    let text = search_text(raw)?;
    if kind == SearchKind::Customers {
        customer_query_in(&text, default_country)?;
    }
    Ok((!text.is_empty()).then_some(text))
}

/// A paging cursor given back by the customer page.
pub fn cursor(raw: Option<&str>) -> Result<Option<Cursor>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => Cursor::decode(text)
            .map(Some)
            .ok_or_else(|| AppError::invalid("That page link is not valid.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_filter_reads_each_part_and_refuses_what_it_cannot_read() {
        let id = Uuid::from_u128(7);
        let filter = audit_filter(
            " customer_searched ",
            &format!("user:{id}"),
            "2026-11-01",
            "2026-11-30",
        )
        .unwrap();
        assert_eq!(filter.action, Some(AuditAction::CustomerSearched));
        assert_eq!(filter.actor, Some(AuditActor::User(id)));
        assert_eq!(
            filter.from.map(|d| d.to_string()).as_deref(),
            Some("2026-11-01")
        );
        assert_eq!(
            audit_filter("", "", "", "").unwrap(),
            AuditFilter::default()
        );
        assert_eq!(
            audit_filter("", "system", "", "").unwrap().actor,
            Some(AuditActor::System)
        );
        for (action, actor, from, to) in [
            ("customer", "", "", ""),
            ("", "user:7", "", ""),
            ("", "root", "", ""),
            ("", "", "2026-13-01", ""),
            ("", "", "", "yesterday"),
            ("", "", "1969-12-31", ""),
            ("", "", "", "+10000-01-01"),
            ("", "", "-0005-01-01", ""),
            ("", "", "2026-11-02", "2026-11-01"),
        ] {
            assert_eq!(
                audit_filter(action, actor, from, to)
                    .map(|_| ())
                    .unwrap_err()
                    .status(),
                422,
                "{action:?} {actor:?} {from:?} {to:?}"
            );
        }
        assert_eq!(
            audit_filter("", "", "2026-11-01", "2026-11-01").unwrap().to,
            audit_filter("", "", "", "2026-11-01").unwrap().to
        );
    }

    #[test]
    fn an_audit_cursor_is_a_seq_above_one() {
        assert_eq!(audit_cursor(None).unwrap(), None);
        assert_eq!(audit_cursor(Some(" ")).unwrap(), None);
        assert_eq!(audit_cursor(Some("51")).unwrap(), Some(51));
        for bad in ["1", "0", "-3", "x", "9999999999999999999999"] {
            assert!(audit_cursor(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_erasure_policy_is_read_from_its_form_with_empty_thresholds_as_none() {
        assert_eq!(
            erasure_policy(" 24 ", "30", "", " ").unwrap(),
            ErasurePolicy {
                hold_hours: 24,
                deadline_days: 30,
                approval_min_records: None,
                approval_min_items: None,
            }
        );
        assert_eq!(
            erasure_policy("0", "365", "2", "1000000").unwrap(),
            ErasurePolicy {
                hold_hours: 0,
                deadline_days: 365,
                approval_min_records: Some(2),
                approval_min_items: Some(1_000_000),
            }
        );
        for (hold, deadline, records, items) in [
            ("-1", "30", "", ""),
            ("8761", "30", "", ""),
            ("1.5", "30", "", ""),
            ("0", "0", "", ""),
            ("0", "366", "", ""),
            ("0", "", "", ""),
            ("0", "30", "0", ""),
            ("0", "30", "", "1000001"),
            ("0", "30", "two", ""),
        ] {
            let refusal = erasure_policy(hold, deadline, records, items).unwrap_err();
            assert_eq!(refusal.status(), 422, "{hold} {deadline} {records} {items}");
            assert!(
                refusal.to_string().contains("whole number from"),
                "{refusal}"
            );
        }
    }

    #[test]
    fn a_rejection_needs_a_reason_of_at_most_500_characters() {
        assert_eq!(rejection_reason("  duplicate  ").unwrap(), "duplicate");
        assert_eq!(
            rejection_reason(&"é".repeat(500)).unwrap().chars().count(),
            500
        );
        assert_eq!(rejection_reason(" \n ").unwrap_err().status(), 422);
        assert_eq!(
            rejection_reason(&"x".repeat(501)).unwrap_err().status(),
            422
        );
    }

    #[test]
    fn stored_phones_are_read_in_e164_with_the_default_country_and_invalid_ones_are_none() {
        assert_eq!(
            phone_e164(" (415) 555-0142 ", "US").as_deref(),
            Some("+14155550142")
        );
        assert_eq!(
            phone_e164("+44 20 7946 0958", "US").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(phone_e164("555", "US"), None);
        assert_eq!(phone_e164("not a phone", "US"), None);
    }

    #[test]
    fn request_states_are_read_by_key_and_an_empty_filter_is_every_state() {
        assert_eq!(request_state(" ").unwrap(), None);
        for state in RequestState::ALL {
            assert_eq!(request_state(state.key()).unwrap(), Some(state));
        }
        assert_eq!(
            request_state(" scheduled ").unwrap(),
            Some(RequestState::Scheduled)
        );
        for unknown in ["Scheduled", "open", "completed;"] {
            assert_eq!(
                request_state(unknown).unwrap_err().to_string(),
                "There is no such request state."
            );
        }
    }

    #[test]
    fn record_lists_keep_their_order_and_refuse_empty_long_or_malformed_lists() {
        let (a, b) = (Uuid::from_u128(2), Uuid::from_u128(1));
        assert_eq!(
            record_ids(&format!(" {a} ,, {b} ,"), "customer", 2).unwrap(),
            vec![a, b]
        );
        assert_eq!(record_ids(&a.to_string(), "customer", 1).unwrap(), vec![a]);
        for empty in ["", " ", " , ,"] {
            let error = record_ids(empty, "customer", 2).unwrap_err();
            assert_eq!(error.to_string(), "Name at least one customer record.");
        }
        let error = record_ids(&format!("{a},{b}"), "customer", 1).unwrap_err();
        assert_eq!(
            error.to_string(),
            "One request names at most 1 customer records."
        );
        let error = record_ids(&format!("{a},nope"), "customer", 2).unwrap_err();
        assert_eq!(error.to_string(), "That is not a valid customer id.");
    }

    #[test]
    fn emails_are_trimmed_and_left_for_the_database_to_lower_case() {
        assert_eq!(
            customer_query("  Jordan.Rivera@Example.com ").unwrap(),
            CustomerQuery::Email("Jordan.Rivera@Example.com".into())
        );
    }

    #[test]
    fn both_id_forms_give_the_same_query() {
        let short = customer_query("0035e00000BVdXC").unwrap();
        assert_eq!(short, customer_query("0035e00000BVdXCAA1").unwrap());
    }

    #[test]
    fn malformed_ids_say_why() {
        let err = customer_query("0035e00000BVdX").unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.to_string().contains("15 or 18"));
        assert_eq!(
            customer_query("0035e00000BVdXCZZZ").unwrap_err().status(),
            422
        );
    }

    #[test]
    fn empty_long_and_control_inputs_are_refused() {
        assert_eq!(customer_query("   ").unwrap_err().status(), 422);
        assert_eq!(search_text(&"a".repeat(10_000)).unwrap_err().status(), 422);
        assert_eq!(search_text("a\0b").unwrap_err().status(), 422);
        assert_eq!(search_text("O'Brien %_\\").unwrap(), "O'Brien %_\\");
    }

    #[test]
    fn search_text_holds_up_to_200_characters() {
        assert_eq!(search_text(&"a".repeat(200)).unwrap(), "a".repeat(200));
        assert_eq!(search_text(&"é".repeat(200)).unwrap(), "é".repeat(200));
        assert_eq!(search_text(&"a".repeat(201)).unwrap_err().status(), 422);
    }

    #[test]
    fn an_incomplete_email_says_which_part_is_missing() {
        let refusal = |text: &str| match customer_query(text) {
            Err(AppError::Invalid(message)) => message,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            refusal("jordan@"),
            "That email address is incomplete: there is nothing after the @. Enter the whole address, \
             as in jordan.rivera@example.com."
        );
        assert!(refusal("@acme.example").contains("nothing before the @"));
        assert!(refusal("jordan@acme").contains("not a whole domain"));
        assert!(refusal("jordan@acme.").contains("not a whole domain"));
        assert!(refusal("@").contains("nothing before the @"));
        assert_eq!(
            customer_query("jordan+tag@acme.example").unwrap(),
            CustomerQuery::Email("jordan+tag@acme.example".into())
        );
    }

    #[test]
    fn an_over_long_paste_is_refused_with_its_length_never_cut() {
        let paste = format!("{} {}", JORDAN_EMAIL, "x".repeat(230));
        assert_eq!(
            search_text(&paste).unwrap_err(),
            AppError::Invalid(
                "The search text is 256 characters long; a search takes at most 200. Enter just one \
                 email address, Salesforce ID, phone number or name."
                    .into()
            )
        );
    }

    const JORDAN_EMAIL: &str = "jordan.rivera@example.com";

    #[test]
    fn an_email_with_a_space_is_refused() {
        assert_eq!(
            customer_query("jordan rivera@example.com").unwrap_err(),
            AppError::invalid("That is not a valid email address.")
        );
    }

    #[test]
    fn a_near_id_says_what_is_wrong_with_it_and_anything_else_gets_the_hint() {
        let hint = "Enter an email address or a 15- or 18-character Salesforce ID.";
        assert_eq!(
            customer_query("Jordan Rivera").unwrap_err(),
            AppError::invalid(hint)
        );
        assert_eq!(
            customer_query("0035e00000BVdX").unwrap_err(),
            AppError::Invalid(format!("A Salesforce ID has 15 or 18 characters. {hint}"))
        );
        assert_eq!(
            customer_query("0035e00000BVd-C").unwrap_err(),
            AppError::Invalid(format!(
                "A Salesforce ID has only letters and digits. {hint}"
            ))
        );
    }

    #[test]
    fn phone_numbers_in_any_common_spelling_are_one_number() {
        for spelling in ["+1 (415) 555-0142", "415.555.0142", "00 1 415 555 0142"] {
            assert_eq!(
                customer_query_in(spelling, "US"),
                Ok(CustomerQuery::Phone("+14155550142".into())),
                "{spelling}"
            );
        }
        assert_eq!(
            customer_query_in("030 1234567", "DE"),
            Ok(CustomerQuery::Phone("+49301234567".into()))
        );
    }

    #[test]
    fn a_saved_search_keeps_the_trimmed_text_its_search_accepts() {
        assert_eq!(
            saved_search_query(SearchKind::Customers, " Jordan.Rivera@Example.com ", "US").unwrap(),
            Some("Jordan.Rivera@Example.com".into())
        );
        assert_eq!(
            saved_search_query(SearchKind::Customers, "Jordan Rivera", "US").unwrap_err(),
            customer_query("Jordan Rivera").unwrap_err()
        );
        assert_eq!(
            saved_search_query(SearchKind::Customers, "  ", "US").unwrap_err(),
            customer_search("").unwrap_err()
        );
        assert_eq!(
            saved_search_query(SearchKind::Users, " Jordan Rivera ", "US").unwrap(),
            Some("Jordan Rivera".into())
        );
        assert_eq!(
            saved_search_query(SearchKind::Users, "  ", "US").unwrap(),
            None
        );
        assert_eq!(
            saved_search_query(SearchKind::Users, "a\0b", "US").unwrap_err(),
            search_text("a\0b").unwrap_err()
        );
    }

    #[test]
    fn malformed_phone_numbers_say_why() {
        let refusal = |text: &str| match customer_query_in(text, "US") {
            Err(AppError::Invalid(message)) => message,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            refusal("415 555"),
            "That is not a valid phone number in US. Include the country code, as in +1 415 555 0142."
        );
        assert_eq!(
            refusal("+999 123 4567"),
            "That phone number's country code does not exist."
        );
        assert_eq!(
            refusal("+1 415 555 0142 0142 0142 01"),
            "That phone number is too long."
        );
        assert!(
            !refusal("+1 (000) 000-0000").is_empty(),
            "no such area code"
        );
        assert_eq!(
            customer_search("0035e00000BVd-C").map(|_| ()),
            customer_query("0035e00000BVd-C").map(|_| ()),
            "an id with a letter is not a phone number"
        );
        assert!(matches!(
            customer_search("+1 415 555 0142"),
            Ok(CustomerSearch::Phone(_))
        ));
    }

    #[test]
    fn record_ids_must_be_uuids() {
        assert!(record_id("not-a-uuid", "customer").is_err());
        assert!(record_id(" 00000000-0000-0000-0000-000000000001 ", "customer").is_ok());
    }

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
    fn cursors_are_optional_but_must_be_valid() {
        assert_eq!(cursor(None).unwrap(), None);
        assert_eq!(cursor(Some("")).unwrap(), None);
        assert!(cursor(Some("garbage")).is_err());
    }
}
