//! The account's General Settings.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::AccountSettings;

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
