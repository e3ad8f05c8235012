//! Types that cross the wire: what server functions return to pages, on both sides. Database rows live in
//! `server::db` and are converted into these; nothing here carries a password hash or storage credentials.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::format::format_time;

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

/// Which page a saved search belongs to, as the search form sends it (`customers` or `users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    Customers,
    Users,
}

impl SearchKind {
    /// The name stored with the search and sent by the form.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Customers => "customers",
            SearchKind::Users => "users",
        }
    }

    /// The page that shows this kind of search.
    pub fn page(self) -> &'static str {
        match self {
            SearchKind::Customers => "/customers",
            SearchKind::Users => "/users",
        }
    }
}

/// A customer search the signed-in user saved: its text, for the search field, and what it finds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCustomerSearch {
    pub query: String,
    pub matches: CustomerMatches,
}

/// A user search the signed-in user saved: its text, for the search field, and one page of what it finds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedUserSearch {
    pub query: String,
    pub found: UserPage,
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

/// The earlier of two optional times (`None` when both are): how an activity range spans calls and messages.
pub fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The later of two optional times (`None` when both are).
pub fn latest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn activity_range_spans_calls_and_messages() {
        let a = time::macros::datetime!(2026-01-01 0:00 UTC);
        let b = time::macros::datetime!(2026-02-01 0:00 UTC);
        assert_eq!(earliest(Some(b), Some(a)), Some(a));
        assert_eq!(latest(Some(a), None), Some(a));
        assert_eq!(latest(None, None), None);
    }
}
