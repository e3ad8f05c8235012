//! Types that cross the wire: what server functions return to pages, on both sides. Database rows live in
//! `server::db` and are converted into these; nothing here carries a password hash or storage credentials.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Agent => "Agent",
        }
    }
}

/// The signed-in user as the shell needs them: who they are and which parts of the console they may open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub account_name: String,
    pub can_use_admin_console: bool,
    pub can_manage_customer_data: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub account_name: String,
    pub manage_customer_data: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub salesforce_id: Option<String>,
    pub manage_customer_data: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    pub page: u32,
    pub has_more: bool,
}

/// A user's profile page: the user, and whether the Manage Customer Data toggle is offered for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub user: UserSummary,
    pub account_setting_enabled: bool,
    /// Whether the Manage Customer Data toggle is offered: account setting on and the user an Admin.
    pub permission_toggle_offered: bool,
    pub created_at: OffsetDateTime,
}

/// What ending sessions did: how many live sessions ended, and whether the caller's own was among them (an
/// Admin ending their own sessions), so that the page goes to the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSessions {
    pub ended: u64,
    pub signed_out: bool,
}

/// The records a customer search found: at most a search's limit of them, and whether more match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMatches {
    pub records: Vec<CustomerSummary>,
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub id: Uuid,
    pub object_type: String,
    pub name: String,
    pub email: Option<String>,
    pub salesforce_id: String,
    pub calls: i64,
    pub messages: i64,
    pub erased_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEntry {
    pub id: Uuid,
    pub started_at: OffsetDateTime,
    pub direction: String,
    pub from_number: String,
    pub to_number: String,
    pub duration_seconds: i32,
    pub disposition: Option<String>,
    pub has_recording: bool,
    pub is_voicemail: bool,
    pub has_transcript: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    pub id: Uuid,
    pub sent_at: OffsetDateTime,
    pub direction: String,
    pub from_number: String,
    pub to_number: String,
    pub body: String,
    pub media_count: i32,
}

/// Exactly what an erasure of a record would remove right now; the confirmation dialog shows it and the
/// erasure receipt records the same counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCounts {
    pub calls: i64,
    pub recordings: i64,
    pub voicemails: i64,
    pub transcripts: i64,
    pub messages: i64,
    pub media: i64,
    pub first_activity_at: Option<OffsetDateTime>,
    pub last_activity_at: Option<OffsetDateTime>,
}

impl ErasureCounts {
    pub fn is_empty(&self) -> bool {
        self.calls == 0 && self.messages == 0
    }

    /// When the activity took place, for the confirmation dialog: "from … to …".
    pub fn activity_range(&self) -> String {
        match (self.first_activity_at, self.last_activity_at) {
            (Some(first), Some(last)) => {
                format!("from {} to {}", format_time(first), format_time(last))
            }
            _ => "no dated activity".to_owned(),
        }
    }
}

/// The evidence of an erasure: when, by whom, and what was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReceipt {
    pub erasure_id: Uuid,
    pub erased_at: OffsetDateTime,
    pub erased_by_name: String,
    pub counts: ErasureCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub customer: CustomerSummary,
    pub phone: Option<String>,
    pub pending: ErasureCounts,
    pub erasure: Option<ErasureReceipt>,
    pub calls: Vec<CallEntry>,
    pub messages: Vec<MessageEntry>,
    /// Cursor for the next (older) page of calls, when there is one.
    pub older_calls: Option<String>,
    /// Cursor for the next (older) page of messages, when there is one.
    pub older_messages: Option<String>,
}

/// Formats a timestamp for people: "2026-11-28 14:05 UTC". Written out by hand rather than with `time`'s
/// format descriptions, which would bring its formatting engine into the wasm.
pub fn format_time(at: OffsetDateTime) -> String {
    let mut text = String::with_capacity(20);
    write_time(&mut text, at);
    text
}

/// Appends `format_time(at)` to `out`: digits, '-', ':', spaces and "UTC", nothing HTML would escape.
pub fn write_time(out: &mut String, at: OffsetDateTime) {
    let at = at.to_offset(time::UtcOffset::UTC);
    let year = at.year();
    if (0..=9999).contains(&year) {
        push_two_digits(out, (year / 100) as u8);
        push_two_digits(out, (year % 100) as u8);
    } else {
        let _ = write!(out, "{year:04}");
    }
    out.push('-');
    push_two_digits(out, u8::from(at.month()));
    out.push('-');
    push_two_digits(out, at.day());
    out.push(' ');
    push_two_digits(out, at.hour());
    out.push(':');
    push_two_digits(out, at.minute());
    out.push_str(" UTC");
}

/// Appends `n` (below 100) as two digits.
fn push_two_digits(out: &mut String, n: u8) {
    out.push(char::from(b'0' + n / 10));
    out.push(char::from(b'0' + n % 10));
}

/// Formats a call length for people: "4:05" or "1:02:09".
pub fn format_duration(seconds: i32) -> String {
    let mut text = String::with_capacity(8);
    write_duration(&mut text, seconds);
    text
}

/// Appends `format_duration(seconds)` to `out`: digits and ':', nothing HTML would escape.
pub fn write_duration(out: &mut String, seconds: i32) {
    let s = seconds.max(0);
    if s >= 3600 {
        let _ = write!(out, "{}:", s / 3600);
        push_two_digits(out, ((s % 3600) / 60) as u8);
    } else {
        let _ = write!(out, "{}", s / 60);
    }
    out.push(':');
    push_two_digits(out, (s % 60) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(0), "0:00");
        assert_eq!(format_duration(245), "4:05");
        assert_eq!(format_duration(3729), "1:02:09");
        assert_eq!(format_duration(3600), "1:00:00");
        assert_eq!(format_duration(59 * 60 + 59), "59:59");
        assert_eq!(format_duration(100 * 3600 + 61), "100:01:01");
        assert_eq!(format_duration(-5), "0:00");
    }

    #[test]
    fn activity_range_names_both_ends_or_says_there_is_none() {
        let mut counts = ErasureCounts {
            first_activity_at: Some(time::macros::datetime!(2026-01-02 03:04 UTC)),
            last_activity_at: Some(time::macros::datetime!(2026-11-28 15:05 +01:00)),
            ..ErasureCounts::default()
        };
        assert_eq!(
            counts.activity_range(),
            "from 2026-01-02 03:04 UTC to 2026-11-28 14:05 UTC"
        );
        counts.last_activity_at = None;
        assert_eq!(counts.activity_range(), "no dated activity");
    }

    #[test]
    fn formats_times_in_utc() {
        let at = time::macros::datetime!(2026-11-28 15:05 +01:00);
        assert_eq!(format_time(at), "2026-11-28 14:05 UTC");
        let early = time::macros::datetime!(0905-01-02 03:04 UTC);
        assert_eq!(format_time(early), "0905-01-02 03:04 UTC");
        let new_year = time::macros::datetime!(2027-01-01 00:30 +01:00);
        assert_eq!(format_time(new_year), "2026-12-31 23:30 UTC");
    }

    #[test]
    fn write_time_appends() {
        let mut out = String::from("at ");
        write_time(&mut out, time::macros::datetime!(2026-11-28 14:05 UTC));
        write_duration(&mut out, 75);
        assert_eq!(out, "at 2026-11-28 14:05 UTC1:15");
    }
}
