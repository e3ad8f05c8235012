//! Users > Manage, and on the user profile the Manage Customer Data permission and ending the user's sessions.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{EndedSessions, UserPage, UserProfile, UserSummary};

/// Admins. Users of the admin's own account whose name or email contains `query` (case-insensitive), or whose
/// Salesforce id is `query` in its 15- or 18-character form; all users when `query` is empty. 25 per page.
/// Refuses (422) text over 200 characters or with control characters.
#[server(prefix = "/api", endpoint = "users/search")]
pub async fn search_users(
    /// Part of a name or email, or a Salesforce User id; empty for every user.
    query: String,
    /// Which page of 25 to answer, counted from 0; absent for the first.
    #[server(default)]
    page: u32,
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
pub async fn get_user_profile(
    /// The user's id (a UUID, as in `/users/{id}`).
    user_id: String,
) -> Result<UserProfile, AppError> {
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
    /// The id of the user whose permission changes (a UUID).
    user_id: String,
    /// `true` grants Manage Customer Data, `false` revokes it.
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

/// Admins, for users of their own account (any other id is 404). Ends every session of the user, signing them
/// out everywhere at once (the Admin too, when it is their own profile); recorded in the audit trail when any
/// live session ended.
#[server(prefix = "/api", endpoint = "users/end-sessions")]
pub async fn end_user_sessions(
    /// The id of the user whose sessions end (a UUID).
    user_id: String,
) -> Result<EndedSessions, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    authz::require_admin(&principal)?;
    let user_id = input::record_id(&user_id, "user")?;
    let ended = db::sessions::end_all_of_user(
        &app_state()?.pool,
        principal.account_id,
        principal.user_id,
        user_id,
    )
    .await
    .map_err(db_failure)?
    .ok_or_else(|| AppError::not_found("No such user in your account."))?;
    Ok(EndedSessions {
        ended,
        signed_out: user_id == principal.user_id,
    })
}
