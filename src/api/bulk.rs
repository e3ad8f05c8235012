//! Bulk erasure from a CSV: the account's recent bulk jobs, one job's dry run and progress, confirming a job
//! (one request per person), approving or rejecting its requests as one batch, and the progress the job's page
//! polls. The upload itself is a plain form posted to `POST /requests/bulk` (`server::http::bulk_files`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{BulkJob, BulkJobSummary, BulkProgress};

/// What the person confirming a bulk job types, as for every erasure.
pub const BULK_CONFIRMATION: &str = "DELETE";

/// Admins holding Manage Customer Data while the account setting is on: the account's 20 most recent bulk jobs,
/// newest first.
#[server(prefix = "/api", endpoint = "bulk/list")]
pub async fn list_bulk_jobs() -> Result<Vec<BulkJobSummary>, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, bulk};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    bulk::report::recent(&app_state()?.pool, principal.account_id)
        .await
        .map_err(db_failure)
}

/// Admins holding Manage Customer Data while the account setting is on: bulk job `job_id` of their account
/// with its rows from line `from` on (a page), its totals and, once confirmed, its progress; another account's
/// job or an unknown one is 404, a malformed id 422.
#[server(prefix = "/api", endpoint = "bulk/get")]
pub async fn get_bulk_job(
    /// The job's id (a UUID, as in `/requests/bulk/{id}`).
    job_id: String,
    /// The first line of the page of rows (default: the first row).
    #[server(default)]
    from: Option<i32>,
) -> Result<BulkJob, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, bulk, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let job_id = input::record_id(&job_id, "bulk job")?;
    bulk::report::job(
        &app_state()?.pool,
        principal.account_id,
        job_id,
        from.unwrap_or(0),
        principal.user_id,
    )
    .await
    .map_err(db_failure)?
    .ok_or_else(|| AppError::not_found("No such bulk job in your account."))
}

/// Admins holding Manage Customer Data while the account setting is on: where bulk job `job_id`'s requests
/// stand (done, failed, remaining), for its page to follow while they run; 404 as `get_bulk_job`.
#[server(prefix = "/api", endpoint = "bulk/progress")]
pub async fn bulk_job_progress(
    /// The job's id.
    job_id: String,
) -> Result<BulkProgress, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, bulk, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let job_id = input::record_id(&job_id, "bulk job")?;
    let pool = &app_state()?.pool;
    if !bulk::report::exists(pool, principal.account_id, job_id)
        .await
        .map_err(db_failure)?
    {
        return Err(AppError::not_found("No such bulk job in your account."));
    }
    bulk::report::progress(pool, principal.account_id, job_id)
        .await
        .map(|(progress, _)| progress)
        .map_err(db_failure)
}

/// Admins holding Manage Customer Data while the account setting is on. Confirms bulk job `job_id`: one
/// erasure request per person of its dry run, for exactly the records the dry run listed, requested by the
/// confirming Admin (whose access is decided again inside each erasure) under the account's erasure policy,
/// which weighs the batch as a whole (all its requests await approval, or none). Refuses a `confirmation` other
/// than `DELETE` and a `persons` other than the dry run's number of persons (422), a job confirmed already
/// (409), another account's or an unknown one (404). When the Admin's last sign-in is over 15 minutes old, the
/// password is needed again. Answers how many requests it made.
#[server(prefix = "/api", endpoint = "bulk/confirm")]
pub async fn confirm_bulk_job(
    /// The job's id.
    job_id: String,
    /// What the Admin typed; must be exactly `BULK_CONFIRMATION`.
    confirmation: String,
    /// The number of persons the Admin typed; must be the dry run's.
    persons: String,
    /// The Admin's password, entered again; needed only when their last sign-in was over 15 minutes ago.
    #[server(default)]
    password: Option<String>,
) -> Result<usize, AppError> {
    use crate::server::state::app_state;
    use crate::server::{auth, authz, bulk, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let job_id = input::record_id(&job_id, "bulk job")?;
    if confirmation != BULK_CONFIRMATION {
        return Err(AppError::Invalid(format!(
            "Type {BULK_CONFIRMATION} to confirm the erasure."
        )));
    }
    let persons: i64 = persons
        .trim()
        .replace(',', "")
        .parse()
        .map_err(|_| AppError::invalid("Type the number of persons to erase, in digits."))?;
    auth::require_recent_password(&session, &principal, password.as_deref()).await?;
    let state = app_state()?;
    let actor = bulk::JobActor {
        user_id: principal.user_id,
        token_id: None,
    };
    let confirmed =
        bulk::confirm(&state.pool, principal.account_id, job_id, actor, persons).await?;
    if confirmed.due_now {
        bulk::run_due_now(&state);
    }
    Ok(confirmed.requests)
}

/// Admins holding Manage Customer Data while the account setting is on, other than the job's requester (403).
/// Approves (`approve` true) or rejects, with `reason`, every request of bulk job `job_id` that awaits approval,
/// as one batch; approved requests whose hold is over start erasing at once. Nothing awaiting approval is 409.
/// When the Admin's last sign-in is over 15 minutes old, the password is needed again. Answers how many
/// requests were decided.
#[server(prefix = "/api", endpoint = "bulk/decide")]
pub async fn decide_bulk_job(
    /// The job's id.
    job_id: String,
    /// Approve (true) or reject (false).
    approve: bool,
    /// Why the batch is rejected (needed to reject).
    #[server(default)]
    reason: Option<String>,
    /// The Admin's password, entered again; needed only when their last sign-in was over 15 minutes ago.
    #[server(default)]
    password: Option<String>,
) -> Result<usize, AppError> {
    use crate::server::erasure::Decision;
    use crate::server::state::app_state;
    use crate::server::{auth, authz, bulk, input};
    let session = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let job_id = input::record_id(&job_id, "bulk job")?;
    let reason = if approve {
        None
    } else {
        Some(input::rejection_reason(
            reason.as_deref().unwrap_or_default(),
        )?)
    };
    auth::require_recent_password(&session, &principal, password.as_deref()).await?;
    let decision = match &reason {
        None => Decision::Approve,
        Some(reason) => Decision::Reject(reason),
    };
    let state = app_state()?;
    let (decided, due_now) = bulk::decide(
        &state.pool,
        principal.account_id,
        job_id,
        principal.user_id,
        decision,
    )
    .await?;
    if due_now {
        bulk::run_due_now(&state);
    }
    Ok(decided)
}
