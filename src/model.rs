//! Types that cross the wire: what server functions return to pages, on both sides. Database rows live in
//! `server::db` and are converted into these; nothing here carries a password hash or storage credentials.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::format::format_time;

/// A user's role in their account; stored as `admin` or `agent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Uses the Admin Console, and may be given Manage Customer Data.
    Admin,
    /// May sign in and nothing more: the console is for Admins.
    Agent,
}

impl Role {
    /// The role's name as the console shows it: "Admin" or "Agent".
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
    /// The user's id.
    pub user_id: Uuid,
    /// The user's full name, shown in the header (the home page greets them by its first word).
    pub name: String,
    /// The email the user signs in with.
    pub email: String,
    /// The user's role, shown as a badge in the header.
    pub role: Role,
    /// The name of the user's account (tenant), shown in the header.
    pub account_name: String,
    /// Whether the navigation offers the Admin Console and Users (`authz::can_use_admin_console`: an Admin).
    pub can_use_admin_console: bool,
    /// Whether the navigation offers Customer Data (`authz::can_manage_customer_data`: an Admin holding Manage
    /// Customer Data while the account setting is on).
    pub can_manage_customer_data: bool,
}

/// Why the signed-in user may not open a part of the console, with the names of the account's Admins, who can
/// change it (`authz` decides; the pages show it in place of the part's controls).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The part is for Admins and the user is an Agent; only an Admin can change a role (in Salesforce).
    AdminsOnly {
        /// The names of the account's Admins.
        admins: Vec<String>,
    },
    /// The account's Manage Customer Data setting is off; an Admin turns it on under Admin Console >
    /// Overview.
    SettingOff {
        /// The names of the account's Admins.
        admins: Vec<String>,
        /// Whether the user already holds the permission (otherwise it must be given too, once the setting is
        /// on).
        holds_permission: bool,
    },
    /// The setting is on, but the user does not hold Manage Customer Data; an Admin gives it under Users >
    /// Manage.
    NoPermission {
        /// The names of the account's Admins.
        admins: Vec<String>,
    },
}

impl Refusal {
    /// The names of the account's Admins, who can change what refuses.
    pub fn admins(&self) -> &[String] {
        match self {
            Refusal::AdminsOnly { admins }
            | Refusal::SettingOff { admins, .. }
            | Refusal::NoPermission { admins } => admins,
        }
    }
}

/// What the signed-in user may open, and for each part they may not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Why Customer Data (search, records, erasure) is refused; `None` when the user may use it.
    pub customer_data: Option<Refusal>,
    /// Why the Admin Console (Overview, Users) is refused; `None` for an Admin.
    pub admin_console: Option<Refusal>,
}

/// The account's General Settings, as the Admin Console shows them and as a save left them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The account's name.
    pub account_name: String,
    /// Whether the account's Manage Customer Data setting is on (off for a new account). While it is off nobody
    /// in the account can open Customer Data, whatever their own grant.
    pub manage_customer_data: bool,
}

/// A user of the admin's account, as the Users list and the profile show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The user's id, as in `/users/{id}`.
    pub id: Uuid,
    /// The user's full name (1 to 200 characters).
    pub name: String,
    /// The email the user signs in with; unique across all accounts, ignoring case.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// The user's Salesforce User id in its 18-character form (it starts with `005`), when one is linked.
    pub salesforce_id: Option<String>,
    /// Whether the user holds Manage Customer Data. Only Admins can; it counts only while the account setting
    /// is on, and is kept while the setting is off.
    pub manage_customer_data: bool,
}

/// One page of a user search, ordered by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    /// The users on this page: at most `USER_PAGE_SIZE` (25).
    pub users: Vec<UserSummary>,
    /// Which page this is, counted from 0.
    pub page: u32,
    /// Whether another page follows this one.
    pub has_more: bool,
}

/// A user's profile page: the user, and whether the Manage Customer Data toggle is offered for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    /// The user.
    pub user: UserSummary,
    /// Whether the account's Manage Customer Data setting is on.
    pub account_setting_enabled: bool,
    /// Whether the Manage Customer Data toggle is offered: account setting on and the user an Admin.
    pub permission_toggle_offered: bool,
    /// When the user was created.
    pub created_at: OffsetDateTime,
}

/// What ending sessions did: how many live sessions ended, and whether the caller's own was among them (an
/// Admin ending their own sessions), so that the page goes to the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSessions {
    /// How many live sessions ended (expired ones deleted with them are not counted).
    pub ended: u64,
    /// Whether the session the request came from was among them, so that the browser is signed out.
    pub signed_out: bool,
}

/// Which page a saved search belongs to, as the search form sends it (`customers` or `users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    /// Customer Data > Customers: records by email, Salesforce ID or phone number.
    Customers,
    /// Users > Manage: users by name, email or Salesforce ID.
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
    /// The text searched for, as typed (trimmed).
    pub query: String,
    /// The records it finds now.
    pub matches: CustomerMatches,
}

/// A user search the signed-in user saved: its text, for the search field, and one page of what it finds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedUserSearch {
    /// The text searched for, as typed (trimmed).
    pub query: String,
    /// The page of users it finds now.
    pub found: UserPage,
}

/// The records a customer search found: at most a search's limit of them, and whether more match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMatches {
    /// The matching records of the account, ordered by object type, then name: at most `SEARCH_LIMIT` (100).
    pub records: Vec<CustomerSummary>,
    /// Whether more records match than are listed.
    pub more: bool,
}

/// A customer record (the console's copy of a Salesforce Lead, Contact, Account or Opportunity) as a search
/// lists it. Name, email and Salesforce id are Salesforce's; an erasure keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// The console's id of the record, as in `/customers/{id}` (not the Salesforce id).
    pub id: Uuid,
    /// The Salesforce object type: "Lead", "Contact", "Account" or "Opportunity".
    pub object_type: String,
    /// The record's name.
    pub name: String,
    /// The record's email, when it has one.
    pub email: Option<String>,
    /// The record's Salesforce id in its 18-character form.
    pub salesforce_id: String,
    /// What an erasure of the record would remove now (nothing once it is erased): how many calls and messages
    /// the platform holds for it, the recordings, voicemails, transcripts and media files among them, and when
    /// that activity took place. Its fields travel beside the record's (`calls`, `messages`, …).
    #[serde(flatten)]
    pub pending: ErasureCounts,
    /// When the record's call and message data was erased; `None` when it never was.
    pub erased_at: Option<OffsetDateTime>,
}

/// One call with a customer, as a row of the customer page's calls table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEntry {
    /// The call's id (with `started_at`, the paging cursor).
    pub id: Uuid,
    /// When the call started.
    pub started_at: OffsetDateTime,
    /// "inbound" (the customer called) or "outbound" (the account called them).
    pub direction: String,
    /// The calling number, as the telephony platform recorded it.
    pub from_number: String,
    /// The called number, as the telephony platform recorded it.
    pub to_number: String,
    /// How long the call lasted, in seconds (never negative).
    pub duration_seconds: i32,
    /// The outcome noted for the call (for example "Left message"), when there is one.
    pub disposition: Option<String>,
    /// Whether an audio file is stored for the call: its recording, or the voicemail's audio.
    pub has_recording: bool,
    /// Whether the call is a voicemail rather than a conversation (its audio counts as a voicemail, not a
    /// recording).
    pub is_voicemail: bool,
    /// Whether a transcript of the call is stored.
    pub has_transcript: bool,
}

/// One text message with a customer, as a row of the customer page's messages table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    /// The message's id (with `sent_at`, the paging cursor).
    pub id: Uuid,
    /// When the message was sent.
    pub sent_at: OffsetDateTime,
    /// "inbound" (from the customer) or "outbound" (to them).
    pub direction: String,
    /// The sending number.
    pub from_number: String,
    /// The receiving number.
    pub to_number: String,
    /// The message's text as sent; untrusted, so always shown escaped.
    pub body: String,
    /// How many media files (attachments) are stored with the message.
    pub media_count: i32,
}

/// Exactly what an erasure of a record would remove right now; the confirmation dialog shows it and the
/// erasure receipt records the same counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCounts {
    /// Calls, voicemails among them.
    pub calls: i64,
    /// Calls that are not voicemails and have a stored recording.
    pub recordings: i64,
    /// Calls that are voicemails.
    pub voicemails: i64,
    /// Calls with a stored transcript.
    pub transcripts: i64,
    /// Text messages.
    pub messages: i64,
    /// Media files stored with the messages.
    pub media: i64,
    /// When the earliest call or message took place; `None` when there is none.
    pub first_activity_at: Option<OffsetDateTime>,
    /// When the latest call or message took place; `None` when there is none.
    pub last_activity_at: Option<OffsetDateTime>,
}

impl ErasureCounts {
    /// Whether there is no call and no message (so no recording, transcript or media file either).
    pub fn is_empty(&self) -> bool {
        self.calls == 0 && self.messages == 0
    }

    /// What erasing all of `counts` together removes: the sums, and the activity from the earliest to the latest.
    pub fn total<'a>(counts: impl IntoIterator<Item = &'a ErasureCounts>) -> ErasureCounts {
        counts
            .into_iter()
            .fold(ErasureCounts::default(), |sum, c| ErasureCounts {
                calls: sum.calls + c.calls,
                recordings: sum.recordings + c.recordings,
                voicemails: sum.voicemails + c.voicemails,
                transcripts: sum.transcripts + c.transcripts,
                messages: sum.messages + c.messages,
                media: sum.media + c.media,
                first_activity_at: earliest(sum.first_activity_at, c.first_activity_at),
                last_activity_at: latest(sum.last_activity_at, c.last_activity_at),
            })
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
    /// The receipt's id (its `erasures` row), shown on the erased record's notice.
    pub erasure_id: Uuid,
    /// When the erasure committed.
    pub erased_at: OffsetDateTime,
    /// The name of the Admin who erased the data.
    pub erased_by_name: String,
    /// What the erasure removed.
    pub counts: ErasureCounts,
}

/// One of the records of an account that share an email address (one person's records), as the customer page
/// and the erasure dialog list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamePersonRecord {
    /// The console's id of the record, as in `/customers/{id}`.
    pub id: Uuid,
    /// The Salesforce object type: "Lead", "Contact", "Account" or "Opportunity".
    pub object_type: String,
    /// The record's name.
    pub name: String,
    /// Whether the record's call and message data was erased.
    pub erased: bool,
    /// Whether the platform holds any call or message of the record now.
    pub has_data: bool,
}

/// The records of the account that share a record's email: the person's records, in search order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamePerson {
    /// The email they share; `None` for a record without an email (then `records` is empty).
    pub email: Option<String>,
    /// Every record of the account with this email, the record itself included, ordered as a search lists them
    /// (object type, then name): at most `SEARCH_LIMIT` (100).
    pub records: Vec<SamePersonRecord>,
}

impl SamePerson {
    /// "1 of 2 records for <email>" for record `id`: its place among the person's records; `None` when it is the
    /// only one (or not among them).
    pub fn position_of(&self, id: Uuid) -> Option<String> {
        let email = self.email.as_deref()?;
        let total = self.records.len();
        let index = self.records.iter().position(|r| r.id == id)?;
        (total > 1).then(|| format!("{} of {total} records for {email}", index + 1))
    }

    /// The person's records other than `id`.
    pub fn others(&self, id: Uuid) -> impl Iterator<Item = &SamePersonRecord> {
        self.records.iter().filter(move |r| r.id != id)
    }

    /// The first of the person's records other than `id` that still has call or message data: where to go
    /// after erasing `id`.
    pub fn next_with_data(&self, id: Uuid) -> Option<&SamePersonRecord> {
        self.others(id).find(|r| r.has_data)
    }
}

/// A request as its confirmation answers it: erased at once (the account holds nothing back), or held for its
/// hold period or another person's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestReceipt {
    /// The request's id (its `erasure_requests` row).
    pub request_id: Uuid,
    /// Where it stands: `Completed` when it was erased at once, else `Scheduled` or `AwaitingApproval`.
    pub state: RequestState,
    /// When its hold ends: it is erased then unless cancelled (none without a hold).
    pub not_before: Option<OffsetDateTime>,
    /// When the request completed, inside its transaction.
    pub completed_at: Option<OffsetDateTime>,
    /// Each erased record with its receipt, in the order they were erased (none until it is erased).
    pub records: Vec<ErasedRecord>,
}

/// The account's erasure policy (Admin Console, General Settings): how long a request is held before it is
/// erased, when it is due, and which requests need another person's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasurePolicy {
    /// Hours between a request's confirmation and its erasure, during which it can be cancelled (0: at once).
    pub hold_hours: i32,
    /// Days from a request's receipt to its due date.
    pub deadline_days: i32,
    /// A request of at least this many records needs approval (never when `None`).
    pub approval_min_records: Option<i32>,
    /// A request of at least this many calls and messages in all needs approval (never when `None`).
    pub approval_min_items: Option<i32>,
}

impl Default for ErasurePolicy {
    /// No hold, due in 30 days, no approval: the help article's flow.
    fn default() -> Self {
        ErasurePolicy {
            hold_hours: 0,
            deadline_days: 30,
            approval_min_records: None,
            approval_min_items: None,
        }
    }
}

impl ErasurePolicy {
    /// Whether a request of `records` records holding `items` calls and messages in all needs approval.
    pub fn needs_approval(&self, records: i64, items: i64) -> bool {
        self.approval_min_records
            .is_some_and(|min| records >= i64::from(min))
            || self
                .approval_min_items
                .is_some_and(|min| items >= i64::from(min))
    }

    /// Whether a request of `records` records holding `items` calls and messages is erased as it is confirmed.
    pub fn erases_at_once(&self, records: i64, items: i64) -> bool {
        self.hold_hours == 0 && !self.needs_approval(records, items)
    }
}

/// One record of a completed request and its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedRecord {
    /// The erased record.
    pub customer_id: Uuid,
    /// What its erasure removed, when and by whom.
    pub receipt: ErasureReceipt,
}

/// Where an erasure request stands (DESIGN.md, "R2: Erasure requests").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waits for another person's approval.
    AwaitingApproval,
    /// Approved or needing none; waits for its hold to end.
    Scheduled,
    /// Its erasure is running.
    Erasing,
    /// Its records were erased.
    Completed,
    /// Another person rejected it; nothing was erased.
    Rejected,
    /// Cancelled before it ran; nothing was erased.
    Cancelled,
    /// Its erasure failed; nothing was erased, and it can be tried again.
    Failed,
}

impl RequestState {
    /// Every state, in lifecycle order.
    pub const ALL: [RequestState; 7] = [
        RequestState::AwaitingApproval,
        RequestState::Scheduled,
        RequestState::Erasing,
        RequestState::Completed,
        RequestState::Rejected,
        RequestState::Cancelled,
        RequestState::Failed,
    ];

    /// The state as stored and as it travels in URLs (`awaiting_approval`).
    pub fn key(self) -> &'static str {
        match self {
            RequestState::AwaitingApproval => "awaiting_approval",
            RequestState::Scheduled => "scheduled",
            RequestState::Erasing => "erasing",
            RequestState::Completed => "completed",
            RequestState::Rejected => "rejected",
            RequestState::Cancelled => "cancelled",
            RequestState::Failed => "failed",
        }
    }

    /// The state for people.
    pub fn label(self) -> &'static str {
        match self {
            RequestState::AwaitingApproval => "Awaiting approval",
            RequestState::Scheduled => "Scheduled",
            RequestState::Erasing => "Erasing",
            RequestState::Completed => "Completed",
            RequestState::Rejected => "Rejected",
            RequestState::Cancelled => "Cancelled",
            RequestState::Failed => "Failed",
        }
    }

    /// The state `key` names, if any.
    pub fn from_key(key: &str) -> Option<RequestState> {
        RequestState::ALL
            .into_iter()
            .find(|state| state.key() == key)
    }

    /// Whether the request still has to be acted on (not completed, rejected or cancelled).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            RequestState::Completed | RequestState::Rejected | RequestState::Cancelled
        )
    }
}

/// One erasure request as the list of requests shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    /// The request's id (its `erasure_requests` row).
    pub id: Uuid,
    /// Where it stands.
    pub state: RequestState,
    /// How many customer records it names.
    pub records: i64,
    /// Who confirmed it.
    pub requested_by_name: String,
    /// When it was received.
    pub received_at: OffsetDateTime,
    /// When it must be done: received plus the account's deadline days.
    pub due_at: OffsetDateTime,
    /// When its records were erased, once they were.
    pub completed_at: Option<OffsetDateTime>,
    /// Who confirmed it (they may not approve it).
    pub requested_by: Uuid,
    /// When its hold ends and it is erased unless cancelled, while it is held.
    pub not_before: Option<OffsetDateTime>,
    /// Why its erasure failed, while it is `Failed`.
    pub failure: Option<String>,
    /// The bulk job that made it, if one did (its approval is the job's, as one batch).
    pub bulk_job_id: Option<Uuid>,
}

/// What the viewer of a request may do with it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestActions {
    /// Approve or reject it: it awaits approval and the viewer did not request it.
    pub decide: bool,
    /// Cancel it: it awaits approval or is scheduled.
    pub cancel: bool,
    /// Erase it now: it is scheduled (its hold is cut short) or failed (it is tried again).
    pub erase_now: bool,
}

impl RequestActions {
    /// What user `viewer` may do with `request` (whoever has customer-data access may act on a request; only
    /// the approval needs someone other than its requester, and a bulk job's requests are approved with their
    /// batch, on the job's page).
    pub fn for_viewer(request: &RequestSummary, viewer: Uuid) -> Self {
        RequestActions {
            decide: request.state == RequestState::AwaitingApproval
                && request.requested_by != viewer
                && request.bulk_job_id.is_none(),
            cancel: matches!(
                request.state,
                RequestState::AwaitingApproval | RequestState::Scheduled
            ),
            erase_now: matches!(
                request.state,
                RequestState::Scheduled | RequestState::Failed
            ),
        }
    }
}

/// One page of the account's requests, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPage {
    /// At most `REQUEST_PAGE_SIZE` requests.
    pub requests: Vec<RequestSummary>,
    /// Where the next (older) page starts, when there is one.
    pub older: Option<String>,
}

/// How many requests one page of the list holds.
pub const REQUEST_PAGE_SIZE: usize = 50;

/// One record of a request: the record as the console mirrors it, the counts the confirmation showed, and
/// whether it was erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The record's id, for its page.
    pub customer_id: Uuid,
    /// Lead, Contact, Account or Opportunity.
    pub object_type: String,
    /// The record's name as Salesforce holds it.
    pub name: String,
    /// The record's 18-character Salesforce id.
    pub salesforce_id: String,
    /// Calls the confirmation showed (the erasure's count once it ran).
    pub calls: i64,
    /// Messages the confirmation showed (the erasure's count once it ran).
    pub messages: i64,
    /// The erasure's receipt id, once this request erased the record.
    pub erasure_id: Option<Uuid>,
}

/// Where the deletion of a request's stored files stands: they go after the records' erasure commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFilesStatus {
    /// Recordings, voicemails and media files the erasure queued.
    pub total: i64,
    /// How many of them are deleted from the object store.
    pub deleted: i64,
    /// Whether the last attempt at a file still waiting failed.
    pub last_attempt_failed: bool,
    /// When the next attempt is due, while files wait.
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// A completed request's signed receipt, as the pages summarize it beside its download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptSummary {
    /// When the receipt was signed.
    pub issued_at: OffsetDateTime,
    /// How many records the request erased.
    pub records: i64,
    /// What was erased, with the activity range.
    pub counts: ErasureCounts,
    /// Call and message rows deleted from the database.
    pub rows_deleted: i64,
    /// Stored files deleted.
    pub files_deleted: i64,
    /// Stored files the erasure queued.
    pub files_queued: i64,
    /// The tables the residual check counted rows of the records in.
    pub tables_checked: Vec<String>,
    /// Those of them that still held rows.
    pub tables_with_rows_left: Vec<String>,
    /// Rows left in them, together (0 when the erasure was complete).
    pub rows_left: i64,
    /// Stored keys the residual check asked the object store for.
    pub storage_keys_checked: i64,
    /// Objects still stored under them (0 when the erasure was complete).
    pub objects_left: i64,
    /// The records' data keys destroyed in the keyring; `None` when the receipt does not record them.
    pub keys_destroyed: Option<i64>,
    /// When the last of them was destroyed.
    pub keys_destroyed_at: Option<OffsetDateTime>,
    /// Data keys of the records the keyring still held (0 when the erasure was complete); `None` when the
    /// receipt does not record the keyring's check.
    pub data_keys_left: Option<i64>,
}

impl ReceiptSummary {
    /// Whether the residual check found nothing left.
    pub fn is_clean(&self) -> bool {
        self.rows_left == 0 && self.objects_left == 0 && self.data_keys_left.unwrap_or(0) == 0
    }
}

/// An erased record's receipt: its request, where the deletion of the stored files stands, and the signed
/// receipt once they are gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordReceipt {
    /// The request that erased the record.
    pub request_id: Uuid,
    /// The deletion of the request's stored files.
    pub files: StoredFilesStatus,
    /// The signed receipt, once issued.
    pub signed: Option<ReceiptSummary>,
}

/// One step of a request's life: what happened, when, and who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvent {
    /// When it happened.
    pub at: OffsetDateTime,
    /// What happened ("Received", "Completed", …).
    pub what: String,
    /// Who did it, when a person did.
    pub by: Option<String>,
}

/// The page of one request: its summary, records, stored files and timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetail {
    /// The request as the list shows it.
    pub summary: RequestSummary,
    /// Its records, in the order they are erased.
    pub records: Vec<RequestRecord>,
    /// The deletion of its stored files.
    pub files: StoredFilesStatus,
    /// Its transitions, oldest first.
    pub timeline: Vec<RequestEvent>,
    /// Its signed receipt, once issued (after the stored files are deleted).
    pub receipt: Option<ReceiptSummary>,
    /// What the viewer may do with it now.
    pub actions: RequestActions,
}

/// The customer page: one record, what an erasure would remove, its receipt once erased, and one page each of
/// its calls and messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetail {
    /// The record, with its current call and message counts.
    pub customer: CustomerSummary,
    /// The record's phone number, when it has one.
    pub phone: Option<String>,
    /// What an erasure would remove now (nothing, once the record is erased).
    pub pending: ErasureCounts,
    /// The erasure's receipt, once the record is erased.
    pub erasure: Option<ErasureReceipt>,
    /// The signed receipt of the request that erased the record, or where it stands.
    pub receipt: Option<RecordReceipt>,
    /// One page of the record's calls, newest first: at most `ACTIVITY_PAGE_SIZE` (50).
    pub calls: Vec<CallEntry>,
    /// One page of the record's messages, newest first: at most `ACTIVITY_PAGE_SIZE` (50).
    pub messages: Vec<MessageEntry>,
    /// Cursor for the next (older) page of calls, when there is one.
    pub older_calls: Option<String>,
    /// Cursor for the next (older) page of messages, when there is one.
    pub older_messages: Option<String>,
    /// The person's records: every record of the account with the same email.
    pub same_person: SamePerson,
    /// The newest request that holds the record (awaiting approval, scheduled or failed), if one does.
    pub held: Option<HeldRequest>,
    /// The account's erasure policy, which decides whether a Delete erases at once.
    pub policy: ErasurePolicy,
}

/// A request that names a record and has not erased it yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRequest {
    /// The request's id, for its page.
    pub request_id: Uuid,
    /// Awaiting approval, scheduled or failed.
    pub state: RequestState,
    /// When its hold ends, for a scheduled request.
    pub not_before: Option<OffsetDateTime>,
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
    fn a_record_is_placed_among_the_records_of_its_email() {
        let record = |n: u128, has_data: bool| SamePersonRecord {
            id: Uuid::from_u128(n),
            object_type: "Lead".into(),
            name: "Jordan".into(),
            erased: !has_data,
            has_data,
        };
        let person = SamePerson {
            email: Some("j@example.com".into()),
            records: vec![record(1, false), record(2, false), record(3, true)],
        };
        assert_eq!(
            person.position_of(Uuid::from_u128(2)).as_deref(),
            Some("2 of 3 records for j@example.com")
        );
        assert_eq!(person.others(Uuid::from_u128(2)).count(), 2);
        assert_eq!(
            person.next_with_data(Uuid::from_u128(1)).map(|r| r.id),
            Some(Uuid::from_u128(3))
        );
        assert_eq!(person.next_with_data(Uuid::from_u128(3)), None);
        let alone = SamePerson {
            email: Some("j@example.com".into()),
            records: vec![record(1, true)],
        };
        assert_eq!(alone.position_of(Uuid::from_u128(1)), None);
        assert_eq!(SamePerson::default().position_of(Uuid::from_u128(1)), None);
    }

    #[test]
    fn a_total_sums_the_counts_and_spans_the_activity() {
        let a = time::macros::datetime!(2026-01-01 0:00 UTC);
        let b = time::macros::datetime!(2026-02-01 0:00 UTC);
        let one = ErasureCounts {
            calls: 4,
            recordings: 2,
            voicemails: 1,
            transcripts: 3,
            messages: 5,
            media: 6,
            first_activity_at: Some(b),
            last_activity_at: Some(b),
        };
        let other = ErasureCounts {
            calls: 1,
            messages: 2,
            first_activity_at: Some(a),
            last_activity_at: Some(a),
            ..ErasureCounts::default()
        };
        let total = ErasureCounts::total([&one, &other, &ErasureCounts::default()]);
        assert_eq!(
            (
                total.calls,
                total.recordings,
                total.voicemails,
                total.transcripts
            ),
            (5, 2, 1, 3)
        );
        assert_eq!((total.messages, total.media), (7, 6));
        assert_eq!(
            (total.first_activity_at, total.last_activity_at),
            (Some(a), Some(b))
        );
        assert_eq!(ErasureCounts::total([]), ErasureCounts::default());
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

/// What an audit log event records: the values `audit_log.action` holds, in the order the /audit page's filter
/// lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    /// A user signed in.
    SignedIn,
    /// A sign-in with a user's email failed its password check.
    SignInFailed,
    /// A user signed out.
    SignedOut,
    /// A user ended their other sessions.
    OtherSessionsEnded,
    /// An Admin ended all sessions of a user.
    UserSessionsEnded,
    /// The account's Manage Customer Data setting was turned on.
    CustomerDataSettingEnabled,
    /// The account's Manage Customer Data setting was turned off.
    CustomerDataSettingDisabled,
    /// A user was granted Manage Customer Data.
    CustomerDataPermissionGranted,
    /// A user's Manage Customer Data was revoked.
    CustomerDataPermissionRevoked,
    /// The account's erasure policy changed.
    ErasurePolicyChanged,
    /// Customer records were searched for (the query as the subject, the number of matches in the details).
    CustomerSearched,
    /// A customer record's page was read.
    CustomerViewed,
    /// A customer record's calls, messages and files were downloaded as a ZIP (the counts in the details).
    CustomerExported,
    /// A bulk file was checked (its dry run; the rows and the persons to erase in the details).
    BulkJobChecked,
    /// A bulk job was confirmed: its requests were made (their number in the details).
    BulkJobConfirmed,
    /// A bulk job's dry run or results were downloaded as CSV (the rows in the details).
    BulkJobDownloaded,
    /// An erasure request was confirmed.
    RequestCreated,
    /// A request was held until its hold ends.
    RequestScheduled,
    /// A request was held for another person's approval.
    RequestAwaitingApproval,
    /// A request was approved.
    RequestApproved,
    /// A request was rejected.
    RequestRejected,
    /// A request was cancelled.
    RequestCancelled,
    /// A request's records were erased.
    RequestErased,
    /// A scheduled request failed.
    RequestFailed,
    /// The audit log's events were exported (as CSV).
    AuditLogExported,
    /// A signed-in user entered a wrong password to confirm an irreversible step (an erasure, an approval).
    PasswordConfirmationFailed,
    /// An API token was made.
    ApiTokenCreated,
    /// An API token was revoked.
    ApiTokenRevoked,
    /// A completed request's people went on the suppression list (the number of entries in the details).
    SuppressionAdded,
    /// An Admin lifted an entry of the suppression list.
    SuppressionLifted,
}

impl AuditAction {
    /// Every action, in the filter's order.
    pub const ALL: [AuditAction; 30] = [
        AuditAction::SignedIn,
        AuditAction::SignInFailed,
        AuditAction::PasswordConfirmationFailed,
        AuditAction::SignedOut,
        AuditAction::OtherSessionsEnded,
        AuditAction::UserSessionsEnded,
        AuditAction::CustomerDataSettingEnabled,
        AuditAction::CustomerDataSettingDisabled,
        AuditAction::CustomerDataPermissionGranted,
        AuditAction::CustomerDataPermissionRevoked,
        AuditAction::ErasurePolicyChanged,
        AuditAction::CustomerSearched,
        AuditAction::CustomerViewed,
        AuditAction::CustomerExported,
        AuditAction::BulkJobChecked,
        AuditAction::BulkJobConfirmed,
        AuditAction::BulkJobDownloaded,
        AuditAction::RequestCreated,
        AuditAction::RequestScheduled,
        AuditAction::RequestAwaitingApproval,
        AuditAction::RequestApproved,
        AuditAction::RequestRejected,
        AuditAction::RequestCancelled,
        AuditAction::RequestErased,
        AuditAction::RequestFailed,
        AuditAction::AuditLogExported,
        AuditAction::ApiTokenCreated,
        AuditAction::ApiTokenRevoked,
        AuditAction::SuppressionAdded,
        AuditAction::SuppressionLifted,
    ];

    /// The action as `audit_log.action` stores it.
    pub fn key(self) -> &'static str {
        match self {
            AuditAction::SignedIn => "signed_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignedOut => "signed_out",
            AuditAction::OtherSessionsEnded => "other_sessions_ended",
            AuditAction::UserSessionsEnded => "user_sessions_ended",
            AuditAction::CustomerDataSettingEnabled => "customer_data_setting_enabled",
            AuditAction::CustomerDataSettingDisabled => "customer_data_setting_disabled",
            AuditAction::CustomerDataPermissionGranted => "customer_data_permission_granted",
            AuditAction::CustomerDataPermissionRevoked => "customer_data_permission_revoked",
            AuditAction::ErasurePolicyChanged => "erasure_policy_changed",
            AuditAction::CustomerSearched => "customer_searched",
            AuditAction::CustomerViewed => "customer_viewed",
            AuditAction::CustomerExported => "customer_exported",
            AuditAction::BulkJobChecked => "bulk_job_checked",
            AuditAction::BulkJobConfirmed => "bulk_job_confirmed",
            AuditAction::BulkJobDownloaded => "bulk_job_downloaded",
            AuditAction::RequestCreated => "request_created",
            AuditAction::RequestScheduled => "request_scheduled",
            AuditAction::RequestAwaitingApproval => "request_awaiting_approval",
            AuditAction::RequestApproved => "request_approved",
            AuditAction::RequestRejected => "request_rejected",
            AuditAction::RequestCancelled => "request_cancelled",
            AuditAction::RequestErased => "request_erased",
            AuditAction::RequestFailed => "request_failed",
            AuditAction::AuditLogExported => "audit_log_exported",
            AuditAction::PasswordConfirmationFailed => "password_confirmation_failed",
            AuditAction::ApiTokenCreated => "api_token_created",
            AuditAction::ApiTokenRevoked => "api_token_revoked",
            AuditAction::SuppressionAdded => "suppression_added",
            AuditAction::SuppressionLifted => "suppression_lifted",
        }
    }

    /// The action as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::SignedIn => "Signed in",
            AuditAction::SignInFailed => "Sign-in failed",
            AuditAction::SignedOut => "Signed out",
            AuditAction::OtherSessionsEnded => "Ended their other sessions",
            AuditAction::UserSessionsEnded => "Ended a user's sessions",
            AuditAction::CustomerDataSettingEnabled => "Turned Manage Customer Data on",
            AuditAction::CustomerDataSettingDisabled => "Turned Manage Customer Data off",
            AuditAction::CustomerDataPermissionGranted => "Granted Manage Customer Data",
            AuditAction::CustomerDataPermissionRevoked => "Revoked Manage Customer Data",
            AuditAction::ErasurePolicyChanged => "Changed the erasure policy",
            AuditAction::CustomerSearched => "Searched customers",
            AuditAction::CustomerViewed => "Viewed a customer",
            AuditAction::CustomerExported => "Exported a customer's data",
            AuditAction::BulkJobChecked => "Checked a bulk file",
            AuditAction::BulkJobConfirmed => "Confirmed a bulk erasure",
            AuditAction::BulkJobDownloaded => "Downloaded a bulk job's CSV",
            AuditAction::RequestCreated => "Requested an erasure",
            AuditAction::RequestScheduled => "Request held",
            AuditAction::RequestAwaitingApproval => "Request awaits approval",
            AuditAction::RequestApproved => "Approved a request",
            AuditAction::RequestRejected => "Rejected a request",
            AuditAction::RequestCancelled => "Cancelled a request",
            AuditAction::RequestErased => "Request erased",
            AuditAction::RequestFailed => "Request failed",
            AuditAction::AuditLogExported => "Exported the audit log",
            AuditAction::PasswordConfirmationFailed => "Password confirmation failed",
            AuditAction::ApiTokenCreated => "Made an API token",
            AuditAction::ApiTokenRevoked => "Revoked an API token",
            AuditAction::SuppressionAdded => "People suppressed",
            AuditAction::SuppressionLifted => "Lifted a suppression",
        }
    }

    /// The action whose key is `key`, if any.
    pub fn from_key(key: &str) -> Option<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.key() == key)
    }
}

/// One event of the audit log as the /audit page lists it. Persons appear only as the first characters of
/// their keyed hash; the details are counts and ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Its place in the account's chain.
    pub seq: i64,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who acted, as a person reads it: a user's name, "The console" or "Not signed in".
    pub actor: String,
    /// What was done.
    pub action: AuditAction,
    /// The user it concerned (a grant's, a sign-in's), by name.
    pub target_user: Option<String>,
    /// The customer record it concerned.
    pub customer_id: Option<Uuid>,
    /// The erasure request it concerned.
    pub request_id: Option<Uuid>,
    /// The person it concerned: the first 12 hex digits of their keyed hash.
    pub subject: Option<String>,
    /// Its details (counts and ids) as `name: value` pairs.
    pub details: Vec<(String, String)>,
}

impl AuditEvent {
    /// The details as one text: `name: value` pairs separated by commas.
    pub fn details_text(&self) -> String {
        self.details
            .iter()
            .map(|(name, value)| format!("{name}: {value}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// At most `AUDIT_PAGE_SIZE` events.
    pub events: Vec<AuditEvent>,
    /// Where the next (older) page starts, when there is one: the seq to list below.
    pub older: Option<i64>,
}

/// How many events one page of the audit log holds.
pub const AUDIT_PAGE_SIZE: usize = 50;

/// One choice of the /audit page's actor filter: its form value (`user:<id>`, `system` or `anonymous`) and
/// label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActorChoice {
    /// The filter's form value.
    pub value: String,
    /// What the list shows.
    pub label: String,
}

/// What the last check of the account's chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainStatus {
    /// The account has no events yet.
    Empty,
    /// Every row through `seq` recomputed to its hash.
    Verified {
        /// The last row verified.
        seq: i64,
        /// When.
        at: OffsetDateTime,
    },
    /// The chain is broken at `seq`.
    Broken {
        /// The first broken row.
        seq: i64,
        /// Why, as the verifier says it.
        fault: String,
        /// When it was found.
        at: OffsetDateTime,
    },
}

/// What one day's erasures removed: records, calls and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedDay {
    /// The day (UTC).
    pub day: time::Date,
    /// Records erased.
    pub records: i64,
    /// Calls deleted.
    pub calls: i64,
    /// Messages deleted.
    pub messages: i64,
}

/// How many days the /audit page's chart covers, ending today.
pub const ERASURE_CHART_DAYS: i64 = 90;

/// The /audit page's head: the chain's status, the actors to filter by, and the erasures of each of the last
/// `ERASURE_CHART_DAYS` days (oldest first, days without erasures included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditOverview {
    /// The chain's status after checking the rows since the last check.
    pub chain: ChainStatus,
    /// The account's users, the console and anonymous visitors.
    pub actors: Vec<AuditActorChoice>,
    /// One entry per day.
    pub erased_per_day: Vec<ErasedDay>,
}

/// An entry of the account's suppression list, as /suppressions lists it: the person appears only as the first
/// characters of their identifier's keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The entry's id.
    pub id: Uuid,
    /// What it hashes: `email`, `phone` or `salesforce_id`.
    pub kind: String,
    /// The first 12 hex digits of the hash.
    pub hash_prefix: String,
    /// The request whose completion added it.
    pub request_id: Uuid,
    /// When it was added.
    pub added_at: OffsetDateTime,
    /// Who lifted it and when, once lifted.
    pub lifted: Option<(String, OffsetDateTime)>,
}

/// A page of the account's suppression list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionPage {
    /// At most `SUPPRESSION_PAGE_SIZE` entries.
    pub entries: Vec<Suppression>,
    /// Where the next (older) page starts, when there is one.
    pub older: Option<String>,
}

/// How many entries one page of the suppression list holds.
pub const SUPPRESSION_PAGE_SIZE: usize = 100;

impl Suppression {
    /// The kind in words.
    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            "email" => "Email",
            "phone" => "Phone number",
            "salesforce_id" => "Salesforce ID",
            _ => "Identifier",
        }
    }
}

/// An API token of the account, as /admin/tokens lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenSummary {
    /// Its id.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// Its scopes' keys (`requests:read`, ...).
    pub scopes: Vec<String>,
    /// The Admin it acts for, if any.
    pub acts_for: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When a request last presented it.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token just made: its id and its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    /// Its id.
    pub id: Uuid,
    /// `Authorization: Bearer <secret>`; not stored, so it cannot be shown again.
    pub secret: String,
}

/// The scopes an API token may hold, as their keys and what each allows.
pub const API_SCOPES: [(&str, &str); 4] = [
    ("requests:read", "Read erasure requests and their receipts"),
    (
        "requests:write",
        "Make and cancel erasure requests, acting for you",
    ),
    ("audit:read", "Read the audit log"),
    ("ingest", "Record calls and messages"),
];

/// What a bulk job's dry run found for one row of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkVerdict {
    /// The row names a person with records to erase.
    Erase,
    /// The row holds no identifier that can be searched (the reason says why).
    Malformed,
    /// No record of the account matches.
    NotFound,
    /// Every matching record was erased already.
    AlreadyErased,
    /// The person was erased and is on the suppression list; no record of theirs holds data.
    Suppressed,
    /// An earlier row names the same person (the same identifier, or the same records).
    Duplicate,
}

impl BulkVerdict {
    /// Every verdict, in the order the dry run's totals list them.
    pub const ALL: [BulkVerdict; 6] = [
        BulkVerdict::Erase,
        BulkVerdict::Malformed,
        BulkVerdict::NotFound,
        BulkVerdict::AlreadyErased,
        BulkVerdict::Suppressed,
        BulkVerdict::Duplicate,
    ];

    /// The verdict as stored, in the CSVs and in the API (`already_erased`).
    pub fn key(self) -> &'static str {
        match self {
            BulkVerdict::Erase => "erase",
            BulkVerdict::Malformed => "malformed",
            BulkVerdict::NotFound => "not_found",
            BulkVerdict::AlreadyErased => "already_erased",
            BulkVerdict::Suppressed => "suppressed",
            BulkVerdict::Duplicate => "duplicate",
        }
    }

    /// The verdict for people.
    pub fn label(self) -> &'static str {
        match self {
            BulkVerdict::Erase => "To erase",
            BulkVerdict::Malformed => "Malformed",
            BulkVerdict::NotFound => "Not found",
            BulkVerdict::AlreadyErased => "Already erased",
            BulkVerdict::Suppressed => "Suppressed",
            BulkVerdict::Duplicate => "Duplicate",
        }
    }

    /// The verdict stored as `key`, if any.
    pub fn from_key(key: &str) -> Option<BulkVerdict> {
        BulkVerdict::ALL
            .into_iter()
            .find(|verdict| verdict.key() == key)
    }
}

/// A record a bulk row matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRecord {
    /// The record's id in the console.
    pub customer_id: Uuid,
    /// Lead, Contact, Account or Opportunity.
    pub object_type: String,
    /// Its 18-character Salesforce id.
    pub salesforce_id: String,
}

/// One row of a bulk job: what its dry run found and, once confirmed, where its request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRow {
    /// The row's line in the file (the header is line 1).
    pub line: i32,
    /// The kind of identifier the row held (`email`, `phone`, `salesforce_id`), when it was read.
    pub kind: Option<String>,
    /// What the dry run found.
    pub verdict: BulkVerdict,
    /// Why a malformed row is.
    pub reason: Option<String>,
    /// The earlier row a duplicate repeats.
    pub duplicate_of: Option<i32>,
    /// The records the row matched (to erase, or already erased).
    pub records: Vec<BulkRecord>,
    /// Calls of the records to erase, at the dry run.
    pub calls: i64,
    /// Messages of the records to erase, at the dry run.
    pub messages: i64,
    /// The request the confirmation made for the row.
    pub request_id: Option<Uuid>,
    /// Where that request stands.
    pub request_state: Option<RequestState>,
    /// Calls and messages its erasure removed, once completed.
    pub erased: Option<(i64, i64)>,
}

/// How many rows got each verdict, and what the rows to erase hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkTotals {
    /// Rows per verdict, in `BulkVerdict::ALL`'s order.
    pub rows: Vec<(BulkVerdict, i64)>,
    /// Persons to erase (rows with the verdict `erase`).
    pub persons: i64,
    /// Their records.
    pub records: i64,
    /// Their calls.
    pub calls: i64,
    /// Their messages.
    pub messages: i64,
}

/// Where a confirmed bulk job's requests stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkProgress {
    /// Requests completed (erased).
    pub done: i64,
    /// Requests failed.
    pub failed: i64,
    /// Requests waiting for approval, their hold, or their turn, or being erased.
    pub remaining: i64,
    /// Of the remaining, those awaiting approval.
    pub awaiting_approval: i64,
    /// Requests rejected or cancelled: nothing erased.
    pub stopped: i64,
}

impl BulkProgress {
    /// Whether nothing is left to run.
    pub fn finished(&self) -> bool {
        self.remaining == 0
    }
}

/// A bulk job as its page shows it: the dry run's totals, one page of its rows, and once confirmed its
/// progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkJob {
    /// The job's id.
    pub id: Uuid,
    /// When the file was checked.
    pub created_at: OffsetDateTime,
    /// Who uploaded it.
    pub created_by_name: String,
    /// Data rows in the file.
    pub rows_total: i32,
    /// Where the identifiers were read (`email`, `phone`, `salesforce_id`, or `detected` per cell).
    pub identifier_column: String,
    /// Whether the erased people go on the suppression list.
    pub suppress: bool,
    /// The dry run's totals.
    pub totals: BulkTotals,
    /// What the account's erasure policy would do with the batch now: `erase_now`, `scheduled` or
    /// `awaiting_approval`.
    pub outcome: String,
    /// When and by whom it was confirmed.
    pub confirmed: Option<(OffsetDateTime, String)>,
    /// Its requests' progress, once confirmed.
    pub progress: Option<BulkProgress>,
    /// Whether the viewer may approve or reject the batch (another person than its requester, while its
    /// requests await approval).
    pub can_decide: bool,
    /// One page of rows, in line order.
    pub rows: Vec<BulkRow>,
    /// The line the next page starts at, if more rows follow.
    pub next_line: Option<i32>,
}

/// A bulk job in the list of the account's jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkJobSummary {
    /// The job's id.
    pub id: Uuid,
    /// When the file was checked.
    pub created_at: OffsetDateTime,
    /// Who uploaded it.
    pub created_by_name: String,
    /// Data rows in the file.
    pub rows_total: i32,
    /// Persons to erase.
    pub persons: i64,
    /// When it was confirmed, if it was.
    pub confirmed_at: Option<OffsetDateTime>,
}

/// Rows of a bulk job shown per page.
pub const BULK_PAGE_ROWS: i64 = 200;

/// Why a bulk file was refused whole (nothing stored): the key travels in the bulk page's URL after a form
/// upload, so that the page says why without echoing any text it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkFileRefusal {
    /// Over 5 MB.
    TooLarge,
    /// Not UTF-8 text.
    NotUtf8,
    /// Not CSV (an unclosed quote, say).
    Unreadable,
    /// A header but no rows.
    NoRows,
    /// Over 10,000 rows.
    TooManyRows,
    /// Its first row is an identifier, not a header.
    HeaderIsData,
    /// Several columns, none named as identifiers.
    NoIdentifierColumn,
    /// More than one column named as identifiers.
    ManyIdentifierColumns,
    /// No file was sent.
    NoFile,
}

impl BulkFileRefusal {
    /// Every refusal.
    pub const ALL: [BulkFileRefusal; 9] = [
        BulkFileRefusal::TooLarge,
        BulkFileRefusal::NotUtf8,
        BulkFileRefusal::Unreadable,
        BulkFileRefusal::NoRows,
        BulkFileRefusal::TooManyRows,
        BulkFileRefusal::HeaderIsData,
        BulkFileRefusal::NoIdentifierColumn,
        BulkFileRefusal::ManyIdentifierColumns,
        BulkFileRefusal::NoFile,
    ];

    /// The refusal as its URL names it.
    pub fn key(self) -> &'static str {
        match self {
            BulkFileRefusal::TooLarge => "too_large",
            BulkFileRefusal::NotUtf8 => "not_utf8",
            BulkFileRefusal::Unreadable => "unreadable",
            BulkFileRefusal::NoRows => "no_rows",
            BulkFileRefusal::TooManyRows => "too_many_rows",
            BulkFileRefusal::HeaderIsData => "header_is_data",
            BulkFileRefusal::NoIdentifierColumn => "no_identifier_column",
            BulkFileRefusal::ManyIdentifierColumns => "many_identifier_columns",
            BulkFileRefusal::NoFile => "no_file",
        }
    }

    /// The refusal `key` names, if any.
    pub fn from_key(key: &str) -> Option<BulkFileRefusal> {
        BulkFileRefusal::ALL
            .into_iter()
            .find(|refusal| refusal.key() == key)
    }

    /// What the person uploading reads.
    pub fn message(self) -> &'static str {
        match self {
            BulkFileRefusal::TooLarge => {
                "The file is larger than 5 MB. Split it into smaller files."
            }
            BulkFileRefusal::NotUtf8 => "The file is not UTF-8 text. Save it as CSV UTF-8.",
            BulkFileRefusal::Unreadable => {
                "The file cannot be read as CSV. Check that every quoted cell is closed."
            }
            BulkFileRefusal::NoRows => "The file has a header row but no rows below it.",
            BulkFileRefusal::TooManyRows => {
                "The file has more than 10,000 rows. Split it into files of at most 10,000 rows."
            }
            BulkFileRefusal::HeaderIsData => {
                "The first row must be a header: name the column email, phone or salesforce_id."
            }
            BulkFileRefusal::NoIdentifierColumn => {
                "No column is named email, phone or salesforce_id: name the column that holds the identifiers."
            }
            BulkFileRefusal::ManyIdentifierColumns => {
                "More than one column is named email, phone or salesforce_id: give one identifier per row, in one column."
            }
            BulkFileRefusal::NoFile => "Choose a CSV file to check.",
        }
    }

    /// The refusal as the console's error: 413 for a file too large, else 422.
    pub fn error(self) -> AppError {
        match self {
            BulkFileRefusal::TooLarge => AppError::PayloadTooLarge(self.message().to_owned()),
            _ => AppError::invalid(self.message()),
        }
    }
}
