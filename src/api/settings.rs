//! The account's General Settings: the Manage Customer Data setting and the erasure policy.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AccountSettings, ErasurePolicy};

/// Admins. The account's settings.
#[server(prefix = "/api", endpoint = "settings/account")]
pub async fn get_account_settings() -> Result<AccountSettings, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    db::accounts::settings(&app_state()?.pool, principal.account_id)
        .await
        .map_err(db_failure)
}

/// Admins. Turns the account's Manage Customer Data setting on or off. Off shuts Customer Data for everyone at
/// once and hides the per-user toggles; the per-user grants are kept. Each change is recorded in the audit trail.
#[server(prefix = "/api", endpoint = "settings/customer-data")]
pub async fn set_customer_data_setting(
    /// Whether the setting is to be on.
    enabled: bool,
) -> Result<AccountSettings, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    db::accounts::set_customer_data(
        &app_state()?.pool,
        principal.account_id,
        principal.user_id,
        enabled,
    )
    .await
    .map_err(db_failure)
}

/// Admins (every holder of customer-data access is one). The account's erasure policy: the hold before a
/// request is erased, the deadline days, and the approval thresholds.
#[server(prefix = "/api", endpoint = "settings/erasure-policy/current")]
pub async fn get_erasure_policy() -> Result<ErasurePolicy, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    db::accounts::erasure_policy(&app_state()?.pool, principal.account_id)
        .await
        .map_err(db_failure)
}

/// Admins. Saves the account's erasure policy; each change is recorded in the audit trail. Requests already
/// made keep the hold, due date and approval they were given. Refuses a number out of its range (422).
#[server(prefix = "/api", endpoint = "settings/erasure-policy")]
pub async fn set_erasure_policy(
    /// Hours a request is held before it is erased, during which it can be cancelled: 0 to 8760 (0: at once).
    hold_hours: String,
    /// Days from a request's receipt to its due date: 1 to 365.
    deadline_days: String,
    /// A request of at least this many records needs another person's approval; empty for never.
    #[server(default)]
    approval_min_records: String,
    /// A request of at least this many calls and messages needs another person's approval; empty for never.
    #[server(default)]
    approval_min_items: String,
) -> Result<ErasurePolicy, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    let policy = input::erasure_policy(
        &hold_hours,
        &deadline_days,
        &approval_min_records,
        &approval_min_items,
    )?;
    db::accounts::set_erasure_policy(
        &app_state()?.pool,
        principal.account_id,
        principal.user_id,
        policy,
    )
    .await
    .map_err(db_failure)
}
