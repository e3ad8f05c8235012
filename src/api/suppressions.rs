//! The suppression list: listing the account's entries and lifting one (with the reason, audited).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SuppressionPage;

/// Admins holding Manage Customer Data while the account setting is on: a page of the account's suppression
/// list, newest first (100 entries), from `cursor` on (the `older` of the page before; a cursor the console did not
/// write is 422), each entry as its kind, the first characters of its hash, the request that added it, when, and
/// who lifted it.
#[server(prefix = "/api", endpoint = "suppressions/list")]
pub async fn list_suppressions(
    /// Where the page starts: empty or absent for the newest entries.
    #[server(default)]
    cursor: Option<String>,
) -> Result<SuppressionPage, AppError> {
    use crate::server::db::suppressions;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let after = input::cursor(cursor.as_deref())?;
    suppressions::list(&app_state()?.pool, principal.account_id, after)
        .await
        .map_err(db_failure)
}

/// Admins holding Manage Customer Data while the account setting is on. Lifts a live entry of the account's
/// suppression list, with the reason (1 to 500 characters): activity with that identifier is recorded again.
/// The lift is appended to the audit log. An entry of another account, an unknown one or one already lifted is
/// 404.
#[server(prefix = "/api", endpoint = "suppressions/lift")]
pub async fn lift_suppression(
    /// The entry's id (a UUID).
    suppression_id: String,
    /// Why it is lifted.
    reason: String,
) -> Result<(), AppError> {
    use crate::server::db::suppressions;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let id = input::record_id(&suppression_id, "suppression")?;
    let reason = input::lift_reason(&reason)?;
    let lifted = suppressions::lift(
        &app_state()?.pool,
        principal.account_id,
        id,
        principal.user_id,
        &reason,
    )
    .await
    .map_err(db_failure)?;
    if lifted {
        Ok(())
    } else {
        Err(AppError::not_found(
            "No such entry on your account's suppression list, or it was lifted already.",
        ))
    }
}
