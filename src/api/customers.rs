//! Customer Data: search, the customer page and the erasure.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CustomerDetail, CustomerMatches, RequestReceipt, SavedCustomerSearch};

/// The text an admin types to confirm an erasure; the server checks it too.
pub const ERASE_CONFIRMATION: &str = "DELETE";

/// Admins holding Manage Customer Data while the account setting is on. The records of the account whose
/// email equals `query` (case-insensitive, trimmed), whose Salesforce id is `query` (15 or 18 characters) or
/// whose phone number is `query` in any common spelling (read with the account's default country when it has
/// no country code): the first 100, and whether more match. A malformed id, phone number or an empty query is
/// 422, with the reason. Each search answered is appended to the account's audit log (the query only as its
/// keyed hash, and the number of matches).
#[server(prefix = "/api", endpoint = "customers/search")]
pub async fn search_customers(
    /// An email address (with an `@`), a Salesforce id (15 or 18 letters and digits) or a phone number in
    /// any common spelling; at most 200 characters.
    query: String,
) -> Result<CustomerMatches, AppError> {
    use crate::server::evidence::audit_log;
    use crate::server::input::CustomerSearch;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let state = app_state()?;
    let pool = state.pool.clone();
    let search = input::customer_search(&query);
    let (principal, found) = match &search {
        Ok(CustomerSearch::Ready(query)) => {
            let (found_principal, found) =
                db::customers::search::search_in_session(&pool, &session, query)
                    .await
                    .map_err(db_failure)?;
            (auth::admit(&pool, &session, found_principal).await?, found)
        }
        _ => (
            auth::current_principal_if_any().await?,
            CustomerMatches {
                records: Vec::new(),
                more: false,
            },
        ),
    };
    let principal = principal.ok_or(AppError::Unauthorized)?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let (query, found) = match search? {
        CustomerSearch::Ready(query) => (query, found),
        phone => {
            let number = phone.with_country(&principal.account_default_country)?;
            let found =
                db::customers::search::matches_in_account(&pool, principal.account_id, &number)
                    .await
                    .map_err(db_failure)?;
            (number, found)
        }
    };
    audit_log::record_search(&pool, &state.evidence_secret, &principal, &query, &found).await?;
    Ok(found)
}

/// Admins holding Manage Customer Data while the account setting is on, for a customer search they saved
/// themselves (`searches`) in the last 30 minutes; another user's, an expired or an unknown id is 404. The
/// search's text and the records it finds now, as `customers/search` finds them (and appends to the audit log),
/// or the refusal it was saved with.
#[server(prefix = "/api", endpoint = "customers/saved-search")]
pub async fn load_customer_search(
    /// The saved search's id (a UUID), as the search form's answer put it in the page's URL.
    search_id: String,
) -> Result<SavedCustomerSearch, AppError> {
    use crate::api::searches::saved_text;
    use crate::model::SearchKind;
    use crate::server::evidence::audit_log;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let query = saved_text(&principal, SearchKind::Customers, &search_id).await?;
    let state = app_state()?;
    let search = input::customer_query_in(&query, &principal.account_default_country)?;
    let matches =
        db::customers::search::matches_in_account(&state.pool, principal.account_id, &search)
            .await
            .map_err(db_failure)?;
    audit_log::record_search(
        &state.pool,
        &state.evidence_secret,
        &principal,
        &search,
        &matches,
    )
    .await?;
    Ok(SavedCustomerSearch { query, matches })
}

/// Admins holding Manage Customer Data while the account setting is on. One record of their account (any other
/// id is 404): details, what an erasure would remove, the erasure receipt when erased, and one page each of
/// calls and messages, newest first, continuing before the given cursors. Each page read is appended to the
/// account's audit log.
#[server(prefix = "/api", endpoint = "customers/detail")]
pub async fn get_customer(
    /// The record's id (a UUID, as in `/customers/{id}`).
    customer_id: String,
    /// Where the page of calls continues: the `older_calls` cursor of an earlier answer; absent or empty for the
    /// newest calls.
    #[server(default)]
    calls_before: Option<String>,
    /// Where the page of messages continues: the `older_messages` cursor of an earlier answer; absent or empty
    /// for the newest messages.
    #[server(default)]
    messages_before: Option<String>,
) -> Result<CustomerDetail, AppError> {
    use crate::server::evidence::audit_log;
    use crate::server::security_log::{EventKind, SecurityEvent};
    use crate::server::state::app_state;
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let customer_id = input::record_id(&customer_id, "customer")?;
    let calls_before = input::cursor(calls_before.as_deref())?;
    let messages_before = input::cursor(messages_before.as_deref())?;
    let state = app_state()?;
    let page = db::customers::page::customer_page(
        &state.pool,
        &state.keyring,
        principal.account_id,
        customer_id,
        calls_before,
        messages_before,
    )
    .await?
    .ok_or_else(|| AppError::not_found("No such customer record in your account."))?;
    audit_log::record_view(&state.pool, &principal, customer_id).await?;
    SecurityEvent::of_request(EventKind::RecordViewed)
        .user(principal.user_id, principal.account_id)
        .customer(customer_id)
        .emit();
    Ok(page)
}

/// Admins holding Manage Customer Data while the account setting is on, checked here and decided again inside
/// the erasure's transaction, where a sign-out (401), revocation or setting change (403) made while it waited
/// for the record stops it. Erases all call and message data of one record of their account (recordings,
/// voicemails, transcripts, media included) in one transaction, as an erasure request of that one record, and
/// returns the request with the record's receipt, dated at its commit; under an account erasure policy that
/// holds the request (a hold period, or an approval threshold it reaches), it is stored held and nothing is
/// erased yet.
/// Refuses a `confirmation` other than `DELETE` (422), another account's or an unknown id (404), a record
/// already erased (409 `AlreadyErased`, with that erasure's receipt, which the dialog shows as the outcome), a
/// session whose last sign-in is over 15 minutes old without the admin's `password` (403 `PasswordRequired`) or
/// with a wrong one (422; it counts against the sign-in limits, 429 once they are reached), and answers 409
/// "try again" while the admin's own account, permission or session is being changed. Salesforce is not
/// touched.
#[server(prefix = "/api", endpoint = "customers/erase")]
pub async fn erase_customer_data(
    /// The record's id (a UUID, as in `/customers/{id}`).
    customer_id: String,
    /// What the admin typed in the dialog; must be exactly `ERASE_CONFIRMATION`.
    confirmation: String,
    /// The admin's password, entered again in the dialog; needed (and checked) only when their last sign-in
    /// was over 15 minutes ago. Absent or empty otherwise.
    #[server(default)]
    password: Option<String>,
) -> Result<RequestReceipt, AppError> {
    use crate::api::requests::erase_logged;
    use crate::server::erasure::ErasurePlan;
    use crate::server::{auth, authz, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let customer_id = input::record_id(&customer_id, "customer")?;
    if confirmation != ERASE_CONFIRMATION {
        return Err(AppError::Invalid(format!(
            "Type {ERASE_CONFIRMATION} to confirm the erasure."
        )));
    }
    auth::require_recent_password(&session, &principal, password.as_deref()).await?;
    erase_logged(&session, &principal, &ErasurePlan::one_record(customer_id)).await
}
