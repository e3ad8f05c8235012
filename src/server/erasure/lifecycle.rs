//! The life of a held erasure request after its confirmation: another person approves or rejects it, anyone
//! with customer-data access cancels it while it waits, and the scheduler of every instance erases it once its
//! hold has ended (`run_due`), marking it failed, with the reason, when its erasure cannot succeed. The erasure
//! itself is `transaction::run_request`; each step here locks the request's row first, so a step and an erasure
//! of one request never overlap and a request never runs twice, and appends itself to the account's audit log
//! in its transaction.

use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::RequestState;
use crate::server::evidence::audit_log::{self, Action, Entry};
use crate::server::state::AppState;

use super::transaction::{Actor, EraseError, LOCK_REQUEST_SQL, run_request};

/// Why a step of a request's life was refused.
#[derive(Debug)]
pub enum StepError {
    /// The account has no such request.
    NotFound,
    /// The request is in a state the step cannot take it from.
    WrongState(RequestState),
    /// The person approving or rejecting is its requester.
    OwnRequest,
    /// The request belongs to a bulk job, whose requests are approved or rejected together.
    InBatch,
    /// The database failed; nothing changed.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StepError {
    fn from(err: sqlx::Error) -> Self {
        StepError::Database(err)
    }
}

impl From<StepError> for AppError {
    fn from(err: StepError) -> Self {
        match err {
            StepError::NotFound => AppError::not_found("No such erasure request in your account."),
            StepError::WrongState(state) => AppError::conflict(&format!(
                "This request is {} now, so nothing was changed.",
                state.label().to_lowercase()
            )),
            StepError::InBatch => AppError::conflict(
                "This request belongs to a bulk job: approve or reject the whole batch on the job's page.",
            ),
            StepError::OwnRequest => AppError::forbidden(
                "You made this request, so another person with Manage Customer Data must approve or reject it.",
            ),
            StepError::Database(e) => crate::server::state::db_failure(e),
        }
    }
}

/// A decision on a request that awaits approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Approved: the request is scheduled, and runs as soon as its hold has ended.
    Approve,
    /// Rejected, for this reason: nothing is erased.
    Reject(&'a str),
}

/// Approves or rejects request `request_id` of account `account_id` as user `decider`, who must not be its
/// requester (`OwnRequest`, whatever a page offered); a request of a bulk job is decided with its batch
/// (`InBatch`, see `bulk::decide`). Answers whether an approved request's hold is over, so that
/// the caller erases it now.
pub async fn decide(
    pool: &PgPool,
    account_id: Uuid,
    request_id: Uuid,
    decider: Uuid,
    decision: Decision<'_>,
) -> Result<bool, StepError> {
    let mut tx = pool.begin().await?;
    let (state, requested_by, hold_over, in_batch): (String, Uuid, bool, bool) = sqlx::query_as(
        "select state, requested_by, coalesce(not_before <= clock_timestamp(), true), bulk_job_id is not null
         from erasure_requests where account_id = $1 and id = $2 for update",
    )
    .bind(account_id)
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StepError::NotFound)?;
    let state = stored_state(&state)?;
    if state != RequestState::AwaitingApproval {
        return Err(StepError::WrongState(state));
    }
    if requested_by == decider {
        return Err(StepError::OwnRequest);
    }
    if in_batch {
        return Err(StepError::InBatch);
    }
    let action = match decision {
        Decision::Approve => {
            sqlx::query(
                "update erasure_requests set state = 'scheduled', approved_by = $3, approved_at = clock_timestamp()
                 where account_id = $1 and id = $2",
            )
            .bind(account_id)
            .bind(request_id)
            .bind(decider)
            .execute(&mut *tx)
            .await?;
            Action::RequestApproved
        }
        Decision::Reject(reason) => {
            sqlx::query(
                "update erasure_requests
                 set state = 'rejected', rejected_by = $3, rejected_at = clock_timestamp(), rejection_reason = $4
                 where account_id = $1 and id = $2",
            )
            .bind(account_id)
            .bind(request_id)
            .bind(decider)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            Action::RequestRejected
        }
    };
    let entry = Entry::new(account_id, audit_log::Actor::User(decider), action).request(request_id);
    audit_log::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(decision == Decision::Approve && hold_over)
}

/// Cancels request `request_id` of account `account_id` as user `canceller` (the audit log names `by`: that user,
/// or the API token that acts for them), while it awaits approval or is scheduled. A request being erased is
/// waited for (its erasure holds the row), and is then completed.
pub async fn cancel(
    pool: &PgPool,
    account_id: Uuid,
    request_id: Uuid,
    canceller: Uuid,
    by: audit_log::Actor,
) -> Result<(), StepError> {
    let mut tx = pool.begin().await?;
    let (state, _): (String, Option<OffsetDateTime>) = sqlx::query_as(LOCK_REQUEST_SQL)
        .bind(account_id)
        .bind(request_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StepError::NotFound)?;
    let state = stored_state(&state)?;
    if !matches!(
        state,
        RequestState::AwaitingApproval | RequestState::Scheduled
    ) {
        return Err(StepError::WrongState(state));
    }
    sqlx::query(
        "update erasure_requests set state = 'cancelled', cancelled_by = $3, cancelled_at = clock_timestamp()
         where account_id = $1 and id = $2",
    )
    .bind(account_id)
    .bind(request_id)
    .bind(canceller)
    .execute(&mut *tx)
    .await?;
    let entry = Entry::new(account_id, by, Action::RequestCancelled).request(request_id);
    audit_log::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

fn stored_state(key: &str) -> Result<RequestState, StepError> {
    RequestState::from_key(key).ok_or_else(|| {
        StepError::Database(sqlx::Error::Decode(
            format!("unknown request state {key:?}").into(),
        ))
    })
}

/// The next scheduled request whose hold ended by `$1` (the database's clock when null), other than the ids `$2`
/// this pass already tried, skipping any request another instance is erasing (its row is locked).
pub const NEXT_DUE_SQL: &str = "select account_id, id, requested_by from erasure_requests
         where state = 'scheduled' and not_before <= coalesce($1, clock_timestamp()) and id <> all($2)
         order by not_before, id
         limit 1
         for update skip locked";

/// Marks request `$2` of account `$1` failed for the reason `$3`, if it is still scheduled, and adds the failure
/// to its history.
pub const MARK_FAILED_SQL: &str = "update erasure_requests
         set state = 'failed', failure = $3, failed_at = clock_timestamp(),
             failures = failures || jsonb_build_array(jsonb_build_object('at', extract(epoch from clock_timestamp()), 'reason', $3::text))
         where account_id = $1 and id = $2 and state = 'scheduled'";

/// What one pass of the scheduler did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerPass {
    /// Requests erased.
    pub erased: usize,
    /// Requests marked failed.
    pub failed: usize,
    /// Requests left scheduled for the next pass (their erasure met a passing conflict).
    pub deferred: usize,
}

/// Erases every scheduled request whose hold ended by `now` (the database's clock when `None`), one at a time,
/// each as its requester (whose access is decided afresh inside the erasure). A request whose erasure cannot
/// succeed is marked failed with the reason; one that met a passing conflict (a lock held by a change, a
/// deadlock) stays scheduled for the next pass. Instances share the work: each skips the requests the others are
/// erasing, and the state is checked again under the request's lock, so none runs twice.
pub async fn run_due(pool: &PgPool, now: Option<OffsetDateTime>) -> sqlx::Result<SchedulerPass> {
    let mut pass = SchedulerPass::default();
    let mut tried: Vec<Uuid> = Vec::new();
    loop {
        let next: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(NEXT_DUE_SQL)
            .bind(now)
            .bind(&tried)
            .fetch_optional(pool)
            .await?;
        let Some((account_id, request_id, requested_by)) = next else {
            return Ok(pass);
        };
        tried.push(request_id);
        let outcome = run_request(
            pool,
            Actor::Requester(requested_by),
            account_id,
            request_id,
            &[RequestState::Scheduled],
            now,
        )
        .await;
        match outcome {
            Ok(erased) => {
                tracing::info!(%request_id, records = erased.records.len(), "scheduled request erased");
                pass.erased += 1;
            }
            Err(EraseError::NotRunnable(_)) => {}
            Err(
                err @ (EraseError::Busy
                | EraseError::ActorBusy
                | EraseError::ChangedDuringErasure
                | EraseError::Unconfirmed(_)),
            ) => {
                tracing::warn!(%request_id, error = ?err, "scheduled request deferred to the next pass");
                pass.deferred += 1;
            }
            Err(err) => {
                let reason = failure_reason(err);
                tracing::warn!(%request_id, %reason, "scheduled request failed");
                mark_failed(pool, account_id, request_id, &reason).await?;
                pass.failed += 1;
            }
        }
    }
}

/// Marks request `request_id` of account `account_id` failed for `reason` (see `MARK_FAILED_SQL`) and appends
/// the failure to the account's audit log, by the console itself, in one transaction. The reason is text for
/// the request's page and stays out of the log.
async fn mark_failed(
    pool: &PgPool,
    account_id: Uuid,
    request_id: Uuid,
    reason: &str,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let marked = sqlx::query(MARK_FAILED_SQL)
        .bind(account_id)
        .bind(request_id)
        .bind(reason)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if marked > 0 {
        let entry = Entry::new(account_id, audit_log::Actor::System, Action::RequestFailed)
            .request(request_id);
        audit_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await
}

/// Why a scheduled request failed, for its page: never database text.
fn failure_reason(err: EraseError) -> String {
    match err {
        EraseError::SignedOut => "Its requester is no longer a user of the account.".into(),
        EraseError::Refused(refusal) => {
            format!("Its requester may no longer erase customer data: {refusal}")
        }
        EraseError::NotFound => "One of its records is no longer in the account.".into(),
        EraseError::Database(err) => {
            tracing::error!(error = %err, "scheduled erasure failed in the database");
            "The database failed during the erasure; nothing was erased.".into()
        }
        other => AppError::from(other).to_string(),
    }
}

/// How often an instance looks for requests that came due. A request due while no instance ran is erased by
/// the first pass after a start, which comes at once.
pub const SCHEDULER_PERIOD: Duration = Duration::from_secs(30);

/// The scheduler of one instance: a pass at start, then one every `SCHEDULER_PERIOD`; after a pass that erased
/// something, suppresses its people and wakes the outbox worker (`after_erasure`).
pub async fn run_scheduler(state: AppState) {
    loop {
        match run_due(&state.pool, None).await {
            Ok(pass) if pass.erased > 0 => super::after_erasure(&state).await,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "scheduler pass failed"),
        }
        tokio::time::sleep(SCHEDULER_PERIOD).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reason_never_carries_database_text() {
        let reason = failure_reason(EraseError::Database(sqlx::Error::Protocol(
            "relation \"calls\" does not exist".into(),
        )));
        assert!(!reason.contains("relation"), "{reason}");
        assert!(reason.contains("nothing was erased"), "{reason}");
    }

    #[test]
    fn a_requester_who_lost_access_is_named_as_the_reason() {
        let reason = failure_reason(EraseError::Refused(AppError::forbidden(
            "Customer Data is off for your account.",
        )));
        assert!(
            reason.starts_with("Its requester may no longer erase"),
            "{reason}"
        );
        assert!(reason.contains("Customer Data is off"), "{reason}");
    }

    #[test]
    fn only_the_requester_is_refused_a_decision_with_its_own_message() {
        let refusal = AppError::from(StepError::OwnRequest);
        assert_eq!(refusal.status(), 403);
        let late = AppError::from(StepError::WrongState(RequestState::Cancelled));
        assert_eq!(late.status(), 409);
        assert!(late.to_string().contains("cancelled"), "{late}");
    }
}
