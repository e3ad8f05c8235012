//! Users > Manage and the user profile's Manage Customer Data permission.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{UserPage, UserProfile, UserSummary};

/// Admins. Users of the admin's own account whose name or email contains `query` (case-insensitive), or whose
/// Salesforce id is `query` in its 15- or 18-character form; all users when `query` is empty. 25 per page.
/// Refuses (422) text over 200 characters or with control characters.
#[server(prefix = "/api", endpoint = "users/search")]
pub async fn search_users(
    query: String,
    #[server(default)] page: u32,
) -> Result<UserPage, AppError> {
    use crate::salesforce::SalesforceId;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    authz::require_admin(&principal)?;
    let text = input::search_text(&query)?;
    let salesforce_id = SalesforceId::parse(&text).ok();
    let (users, has_more) = db::users::search(
        &app_state()?.pool,
        principal.account_id,
        &text,
        salesforce_id.as_ref(),
        page,
    )
    .await
    .map_err(db_failure)?;
    Ok(UserPage {
        users,
        page,
        has_more,
    })
}

/// Admins, for users of their own account (any other id is 404). The profile and whether the permission
/// toggle is offered.
#[server(prefix = "/api", endpoint = "users/profile")]
pub async fn get_user_profile(user_id: String) -> Result<UserProfile, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    authz::require_admin(&principal)?;
    let user_id = input::record_id(&user_id, "user")?;
    let (user, created_at) =
        db::users::find_in_account(&app_state()?.pool, principal.account_id, user_id)
            .await
            .map_err(db_failure)?
            .ok_or_else(|| AppError::not_found("No such user in your account."))?;
    let permission_toggle_offered =
        authz::permission_toggle_visible(principal.account_customer_data_enabled, user.role);
    Ok(UserProfile {
        user,
        account_setting_enabled: principal.account_customer_data_enabled,
        permission_toggle_offered,
        created_at,
    })
}

/// Admins, for users of their own account. Grants (`enabled = true`) or revokes Manage Customer Data. Granting
/// needs the account setting on (409) and an Admin as the target (422); another account's user is 404.
#[server(prefix = "/api", endpoint = "users/customer-data-permission")]
pub async fn set_customer_data_permission(
    user_id: String,
    enabled: bool,
) -> Result<UserSummary, AppError> {
    use crate::server::authz::GrantTarget;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    authz::require_admin(&principal)?;
    let user_id = input::record_id(&user_id, "user")?;
    let pool = app_state()?.pool;
    let (target, _) = db::users::find_in_account(&pool, principal.account_id, user_id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("No such user in your account."))?;
    authz::check_permission_change(
        &principal,
        GrantTarget {
            account_id: principal.account_id,
            role: target.role,
        },
        enabled,
    )?;
    db::users::set_customer_data_permission(
        &pool,
        principal.account_id,
        principal.user_id,
        user_id,
        enabled,
    )
    .await
    .map_err(db_failure)?
    .ok_or_else(|| AppError::not_found("No such user in your account."))
}
