//! Erasure requests: creating one (a person's erasure, every record a search listed for them, in one request and
//! one transaction, erased at once or held by the account's erasure policy), approving, rejecting, cancelling
//! and erasing a held one now, and listing and showing the account's requests.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{RequestDetail, RequestPage, RequestReceipt, RequestSummary};

/// At most this many records are named by one request: as many as one search lists.
pub const MAX_REQUEST_RECORDS: usize = 100;

/// Admins holding Manage Customer Data while the account setting is on, checked here and decided again inside
/// the erasure's transaction (as for `customers/erase`). Erases all call and message data of the records
/// `customer_ids` of their account in one transaction, as one request, and returns the request with each
/// record's receipt. `query` is the search that listed the records: the server runs it again inside the
/// transaction, and when the records it now finds not yet erased are not exactly `customer_ids` (a record was
/// erased meanwhile, or a new duplicate matches), it answers 409 and erases nothing. An empty `query` names one
/// record, as the customer page's Delete does. Refuses a `confirmation` other than `DELETE`, a malformed or empty
/// list, more than 100 records or a malformed query (422), a record of another account or an unknown one (404),
/// and a single record already erased (409, with the earlier receipt). When the admin's last sign-in is over 15
/// minutes old, the password is needed again, as for `customers/erase`. Salesforce is not touched.
#[server(prefix = "/api", endpoint = "requests/create")]
pub async fn create_request(
    /// The records to erase, as the dialog listed them: record ids (UUIDs) separated by commas.
    customer_ids: String,
    /// The search that listed the records (an email, a Salesforce id or a phone number); empty when the request
    /// names one record.
    #[server(default)]
    query: String,
    /// What the admin typed in the dialog; must be exactly `ERASE_CONFIRMATION`.
    confirmation: String,
    /// The admin's password, entered again in the dialog; needed (and checked) only when their last sign-in
    /// was over 15 minutes ago. Absent or empty otherwise.
    #[server(default)]
    password: Option<String>,
    /// Whether the person's identifiers go on the suppression list when the request completes (the dialog's
    /// checkbox); absent means yes.
    #[server(default)]
    suppress: Option<bool>,
) -> Result<RequestReceipt, AppError> {
    use crate::api::customers::ERASE_CONFIRMATION;
    use crate::server::erasure::ErasurePlan;
    use crate::server::{auth, authz, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let ids = input::record_ids(&customer_ids, "customer", MAX_REQUEST_RECORDS)?;
    let plan = if query.trim().is_empty() {
        match ids.as_slice() {
            [one] => ErasurePlan::one_record(*one),
            _ => {
                return Err(AppError::invalid(
                    "Name the search that listed these records.",
                ));
            }
        }
    } else {
        let search = input::customer_query_in(&query, &principal.account_default_country)?;
        ErasurePlan::listed(ids, search)
            .ok_or_else(|| AppError::invalid("Name at least one record to erase."))?
    };
    if confirmation != ERASE_CONFIRMATION {
        return Err(AppError::Invalid(format!(
            "Type {ERASE_CONFIRMATION} to confirm the erasure."
        )));
    }
    auth::require_recent_password(&session, &principal, password.as_deref()).await?;
    erase_logged(
        &session,
        &principal,
        &plan.suppressing(suppress.unwrap_or(true)),
    )
    .await
}

/// Runs the request `plan` as the principal signed in with `session`, logs an attempt and its outcome for each
/// record in the security log, wakes the outbox worker after an erasure, and answers the request: erased with
/// its receipts, or held by the account's erasure policy.
#[cfg(feature = "ssr")]
pub(crate) async fn erase_logged(
    session: &crate::server::sessions::SessionKey,
    principal: &crate::server::authz::Principal,
    plan: &crate::server::erasure::ErasurePlan,
) -> Result<RequestReceipt, AppError> {
    use crate::server::erasure::{self, Submitted};
    use crate::server::state::app_state;
    let state = app_state()?;
    let attempts = log_attempts(principal, plan.customer_ids());
    let submitted = match erasure::erase_request(
        &state.pool,
        erasure::Actor::Session(session),
        principal.account_id,
        plan,
    )
    .await
    {
        Err(erasure::EraseError::AlreadyErased) => {
            Err(earlier_erasure(&state.pool, &state.keyring, principal.account_id, plan).await)
        }
        submitted => submitted.map_err(AppError::from),
    };
    let receipt = submitted.map(|submitted| match submitted {
        Submitted::Erased(erased) => completed_receipt(erased),
        Submitted::Held {
            request_id,
            state,
            not_before,
        } => RequestReceipt {
            request_id,
            state,
            not_before: Some(not_before),
            completed_at: None,
            records: Vec::new(),
        },
    });
    log_outcomes(attempts, receipt.as_ref());
    let receipt = receipt?;
    if receipt.completed_at.is_some() {
        crate::server::erasure::after_erasure(&state).await;
    }
    Ok(receipt)
}

/// Erases stored request `request_id` now, as the principal signed in with `session`, from one of the states
/// `from`; logs an attempt and its outcome for each record not erased yet, and wakes the outbox worker.
#[cfg(feature = "ssr")]
async fn erase_stored_now(
    session: &crate::server::sessions::SessionKey,
    principal: &crate::server::authz::Principal,
    request_id: uuid::Uuid,
    from: &[crate::model::RequestState],
) -> Result<(), AppError> {
    use crate::server::erasure::{self, Actor};
    use crate::server::state::{app_state, db_failure};
    let state = app_state()?;
    let request =
        crate::server::db::requests::detail(&state.pool, principal.account_id, request_id)
            .await
            .map_err(db_failure)?
            .ok_or_else(|| AppError::not_found("No such erasure request in your account."))?;
    let waiting: Vec<uuid::Uuid> = request
        .records
        .iter()
        .filter(|record| record.erasure_id.is_none())
        .map(|record| record.customer_id)
        .collect();
    let attempts = log_attempts(principal, &waiting);
    let erased = erasure::run_request(
        &state.pool,
        Actor::Session(session),
        principal.account_id,
        request_id,
        from,
        None,
    )
    .await
    .map(completed_receipt)
    .map_err(AppError::from);
    log_outcomes(attempts, erased.as_ref());
    erased?;
    erasure::after_erasure(&state).await;
    Ok(())
}

/// Logs an erasure attempt of each record in the security log, and answers the events for their outcomes.
#[cfg(feature = "ssr")]
fn log_attempts(
    principal: &crate::server::authz::Principal,
    customer_ids: &[uuid::Uuid],
) -> Vec<(uuid::Uuid, crate::server::security_log::SecurityEvent)> {
    use crate::server::security_log::{EventKind, SecurityEvent};
    customer_ids
        .iter()
        .map(|&customer_id| {
            let attempt = SecurityEvent::of_request(EventKind::ErasureAttempted)
                .user(principal.user_id, principal.account_id)
                .customer(customer_id);
            attempt.clone().emit();
            (customer_id, attempt)
        })
        .collect()
}

/// Logs the outcome of each attempt: the record's receipt, held, or the refusal.
#[cfg(feature = "ssr")]
fn log_outcomes(
    attempts: Vec<(uuid::Uuid, crate::server::security_log::SecurityEvent)>,
    outcome: Result<&RequestReceipt, &AppError>,
) {
    use crate::server::security_log;
    let not_erased_here = AppError::conflict("Another request erased this record.");
    for (customer_id, attempt) in attempts {
        let record_outcome = match outcome {
            Ok(receipt) if receipt.completed_at.is_none() => Ok(None),
            Ok(receipt) => receipt
                .records
                .iter()
                .find(|record| record.customer_id == customer_id)
                .map(|record| Some(record.receipt.erasure_id))
                .ok_or(&not_erased_here),
            Err(error) => Err(error),
        };
        security_log::erasure_outcome(attempt, record_outcome).emit();
    }
}

/// The answer for a request whose records were erased.
#[cfg(feature = "ssr")]
fn completed_receipt(erased: crate::server::erasure::ErasedRequest) -> RequestReceipt {
    use crate::model::{ErasedRecord, ErasureReceipt, RequestState};
    RequestReceipt {
        request_id: erased.request_id,
        state: RequestState::Completed,
        not_before: None,
        completed_at: Some(erased.completed_at),
        records: erased
            .records
            .into_iter()
            .map(|record| ErasedRecord {
                customer_id: record.customer_id,
                receipt: ErasureReceipt {
                    erasure_id: record.erasure_id,
                    erased_at: record.erased_at,
                    erased_by_name: record.erased_by_name,
                    counts: record.counts,
                },
            })
            .collect(),
    }
}

/// Request `request_id` of the principal's account as its page shows it to them, with the actions they may take.
#[cfg(feature = "ssr")]
async fn request_for(
    principal: &crate::server::authz::Principal,
    request_id: uuid::Uuid,
) -> Result<RequestDetail, AppError> {
    use crate::model::RequestActions;
    use crate::server::db;
    use crate::server::state::{app_state, db_failure};
    let mut request = db::requests::detail(&app_state()?.pool, principal.account_id, request_id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("No such erasure request in your account."))?;
    request.actions = RequestActions::for_viewer(&request.summary, principal.user_id);
    Ok(request)
}

/// Admins holding Manage Customer Data while the account setting is on, other than the request's requester
/// (403, whatever the page showed). Approves a request that awaits approval: it is scheduled, and erased at once
/// when its hold is over (as the approver, whose access is decided again inside the erasure). When the
/// approver's last sign-in is over 15 minutes old, the password is needed again. Answers the request as it
/// now stands; a request no longer awaiting approval is 409.
#[server(prefix = "/api", endpoint = "requests/approve")]
pub async fn approve_request(
    /// The request's id (a UUID, as in `/requests/{id}`).
    request_id: String,
    /// The approver's password, entered again; needed only when their last sign-in was over 15 minutes ago.
    #[server(default)]
    password: Option<String>,
) -> Result<RequestDetail, AppError> {
    use crate::model::RequestState;
    use crate::server::erasure::{self, Decision};
    use crate::server::state::app_state;
    use crate::server::{auth, authz, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let request_id = input::record_id(&request_id, "request")?;
    auth::require_recent_password(&session, &principal, password.as_deref()).await?;
    let hold_over = erasure::decide(
        &app_state()?.pool,
        principal.account_id,
        request_id,
        principal.user_id,
        Decision::Approve,
    )
    .await?;
    if hold_over {
        erase_stored_now(&session, &principal, request_id, &[RequestState::Scheduled]).await?;
    }
    request_for(&principal, request_id).await
}

/// Admins holding Manage Customer Data while the account setting is on, other than the request's requester
/// (403). Rejects a request that awaits approval, with the reason (1 to 500 characters): nothing is erased.
/// Answers the request as it now stands; a request no longer awaiting approval is 409.
#[server(prefix = "/api", endpoint = "requests/reject")]
pub async fn reject_request(
    /// The request's id (a UUID, as in `/requests/{id}`).
    request_id: String,
    /// Why it is rejected, shown on the request's timeline.
    reason: String,
) -> Result<RequestDetail, AppError> {
    use crate::server::erasure::{self, Decision};
    use crate::server::state::app_state;
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let request_id = input::record_id(&request_id, "request")?;
    let reason = input::rejection_reason(&reason)?;
    erasure::decide(
        &app_state()?.pool,
        principal.account_id,
        request_id,
        principal.user_id,
        Decision::Reject(&reason),
    )
    .await?;
    request_for(&principal, request_id).await
}

/// Admins holding Manage Customer Data while the account setting is on (the requester included). Cancels a
/// request that awaits approval or is scheduled: nothing is erased. Answers the request as it now stands; a
/// request in another state is 409 (one being erased is waited for, and is then completed).
#[server(prefix = "/api", endpoint = "requests/cancel")]
pub async fn cancel_request(
    /// The request's id (a UUID, as in `/requests/{id}`).
    request_id: String,
) -> Result<RequestDetail, AppError> {
    use crate::server::erasure;
    use crate::server::state::app_state;
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let request_id = input::record_id(&request_id, "request")?;
    erasure::cancel(
        &app_state()?.pool,
        principal.account_id,
        request_id,
        principal.user_id,
        crate::server::evidence::audit_log::Actor::User(principal.user_id),
    )
    .await?;
    request_for(&principal, request_id).await
}

/// Admins holding Manage Customer Data while the account setting is on (the requester included). Erases a
/// scheduled request now, without waiting for its hold to end, or tries a failed one again, as the caller (whose
/// access is decided again inside the erasure). When their last sign-in is over 15 minutes old, the password is
/// needed again. Answers the request as it now stands; a request in another state is 409.
#[server(prefix = "/api", endpoint = "requests/erase-now")]
pub async fn erase_request_now(
    /// The request's id (a UUID, as in `/requests/{id}`).
    request_id: String,
    /// The admin's password, entered again; needed only when their last sign-in was over 15 minutes ago.
    #[server(default)]
    password: Option<String>,
) -> Result<RequestDetail, AppError> {
    use crate::model::RequestState;
    use crate::server::{auth, authz, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let request_id = input::record_id(&request_id, "request")?;
    auth::require_recent_password(&session, &principal, password.as_deref()).await?;
    erase_stored_now(
        &session,
        &principal,
        request_id,
        &[RequestState::Scheduled, RequestState::Failed],
    )
    .await?;
    request_for(&principal, request_id).await
}

/// Admins holding Manage Customer Data while the account setting is on. Their account's erasure requests,
/// newest first, one page at a time: all of them, or those in one state.
#[server(prefix = "/api", endpoint = "requests/list")]
pub async fn list_requests(
    /// A state's key (`awaiting_approval`, `scheduled`, `erasing`, `completed`, `rejected`, `cancelled`,
    /// `failed`); empty or absent for every state.
    #[server(default)]
    state: String,
    /// Where the page continues: the `older` cursor of an earlier answer; absent or empty for the newest.
    #[server(default)]
    cursor: Option<String>,
) -> Result<RequestPage, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let state = input::request_state(&state)?;
    let after = input::cursor(cursor.as_deref())?;
    db::requests::list(&app_state()?.pool, principal.account_id, state, after)
        .await
        .map_err(db_failure)
}

/// Admins holding Manage Customer Data while the account setting is on. Their account's open erasure requests
/// (awaiting approval, scheduled, erasing or failed), soonest due first: at most 50, for Home.
#[server(prefix = "/api", endpoint = "requests/open")]
pub async fn open_requests() -> Result<Vec<RequestSummary>, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    db::requests::open(&app_state()?.pool, principal.account_id)
        .await
        .map_err(db_failure)
}

/// Admins holding Manage Customer Data while the account setting is on. One erasure request of their account
/// (any other id is 404): its records with their counts, the deletion of its stored files and its timeline.
#[server(prefix = "/api", endpoint = "requests/detail")]
pub async fn get_request(
    /// The request's id (a UUID, as in `/requests/{id}`).
    request_id: String,
) -> Result<RequestDetail, AppError> {
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let request_id = input::record_id(&request_id, "request")?;
    request_for(&principal, request_id).await
}

/// The answer to a request of one record that found it already erased: 409 with the receipt of the erasure that
/// came first (in another tab, or by another Admin), or a plain 409 should the receipt not be readable.
#[cfg(feature = "ssr")]
async fn earlier_erasure(
    pool: &sqlx::PgPool,
    keyring: &crate::server::keys::Keyring,
    account_id: uuid::Uuid,
    plan: &crate::server::erasure::ErasurePlan,
) -> AppError {
    use crate::model::CustomerDetail;
    use crate::server::db;
    use crate::server::erasure::EraseError;
    let Some(&customer_id) = plan.customer_ids().first() else {
        return EraseError::AlreadyErased.into();
    };
    match db::customers::page::customer_page(pool, keyring, account_id, customer_id, None, None)
        .await
    {
        Ok(Some(CustomerDetail {
            erasure: Some(receipt),
            ..
        })) => AppError::already_erased(receipt),
        Ok(_) => EraseError::AlreadyErased.into(),
        Err(e) => e,
    }
}
