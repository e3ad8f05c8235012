//! Erasure: the transaction that erases the call and message data of a request's customer records, or holds
//! the request under the account's erasure policy (`transaction`), the later steps of a held request (approval,
//! rejection, cancelling, and the scheduler that erases it when its hold ends: `lifecycle`), and the outbox
//! worker that deletes the records' stored files once the erasure has committed (`outbox`). Their SQL lives
//! beside them, in these files, not in `server/db/`.
//!
//! A request names one record (the customer page's Delete) or every record a search listed for one person; it
//! is erased in one transaction, all of its records or none. The transaction locks the customer rows in id
//! order, which holds off every insert of a call or message for them and every update of one that stays with
//! its record (the `*_refuse_erased` triggers wait for that lock);
//! read the actor's session, user and account afresh and share-lock them, and let `authz` decide on what was
//! read, so a sign-out or revocation made while the erasure waited for the record stops it; run the search that
//! listed the records again and stop when it finds others not yet erased; open the request; then for each record
//! count the calls and
//! the messages with media and queue their stored keys in `object_deletions`, in batches (beside the transaction
//! when the pool has a connection to spare, see `erase_customer`), only the keys under the account's prefixes
//! (any other is logged as an integrity error and counted apart, never deleted); delete the messages and calls;
//! mark the record erased and write its `erasures` receipt; mark the request completed; append the request's
//! transitions to the account's audit log (`evidence::audit_log`, as the transaction's last step). A failure at any point rolls all of it back, and
//! removes what was queued beside it once the transaction has ended (a commit whose answer was lost may still be
//! completing). Files are deleted only after the receipt has committed, by `delete_due_objects`, through the
//! account's part of the store (`storage::AccountStorage`), so no file is ever left without an outbox row, no
//! file goes for an erasure that did not happen, and none outside the account goes at all; a file already gone
//! counts as deleted, so retries and restarts are safe.

mod lifecycle;
mod outbox;
mod transaction;

pub use lifecycle::{
    Decision, MARK_FAILED_SQL, NEXT_DUE_SQL, SCHEDULER_PERIOD, SchedulerPass, StepError, cancel,
    decide, run_due, run_scheduler,
};
pub use outbox::{
    OutboxPass, after_erasure, delete_due_objects, drop_abandoned_queues, run_outbox_worker,
};
pub use transaction::{
    AWAIT_ERASURE_END_SQL, Actor, COMPLETE_REQUEST_SQL, COUNT_AND_QUEUE_SQL, DELETE_ACTIVITY_SQL,
    DELETE_CALLS_SQL, DELETE_MESSAGES_SQL, DELETE_MESSAGES_WITH_MEDIA_SQL, EraseError, Erased,
    ErasedRequest, ErasurePlan, HOLD_REQUEST_SQL, LOCK_CUSTOMERS_SQL, MARK_ERASED_SQL,
    OPEN_REQUEST_SQL, PREVIEW_COUNTS_SQL, RECORD_IN_REQUEST_SQL, Submitted,
    UNQUEUE_UNCOMMITTED_SQL, erase_customer, erase_request, erasure_begin_sql, run_request,
    unqueue_failed,
};
