//! Users > Manage, and on the user profile the Manage Customer Data permission and ending the user's sessions.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{EndedSessions, SavedUserSearch, UserPage, UserProfile, UserSummary};

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
    use crate::server::state::app_state;
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    let text = input::search_text(&query)?;
    user_page(&app_state()?.pool, principal.account_id, &text, page).await
}

/// Admins, for a user search they saved themselves (`searches`) in the last 30 minutes; another user's, an
/// expired or an unknown id is 404. The search's text and page `page` of what it finds now, as `users/search`
/// finds it, or the refusal it was saved with.
#[server(prefix = "/api", endpoint = "users/saved-search")]
pub async fn load_user_search(
    /// The saved search's id (a UUID), as the search form's answer put it in the page's URL.
    search_id: String,
    /// The page of results, from 0 (the default), 25 users to a page.
    #[server(default)]
    page: u32,
) -> Result<SavedUserSearch, AppError> {
    use crate::api::searches::saved_text;
    use crate::model::SearchKind;
    use crate::server::auth;
    use crate::server::authz;
    use crate::server::state::app_state;
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    let query = saved_text(&principal, SearchKind::Users, &search_id).await?;
    let found = user_page(&app_state()?.pool, principal.account_id, &query, page).await?;
    Ok(SavedUserSearch { query, found })
}

/// Page `page` of the users of `account_id` matching the checked search `text`.
#[cfg(feature = "ssr")]
async fn user_page(
    pool: &sqlx::PgPool,
    account_id: uuid::Uuid,
    text: &str,
    page: u32,
) -> Result<UserPage, AppError> {
    use crate::salesforce::SalesforceId;
    use crate::server::db;
    use crate::server::state::db_failure;
    let salesforce_id = SalesforceId::parse(text).ok();
    let (users, has_more) = db::users::search(pool, account_id, text, salesforce_id.as_ref(), page)
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
    auth::authorize(&principal, authz::require_admin)?;
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
    auth::authorize(&principal, authz::require_admin)?;
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
    use crate::server::security_log::{EventKind, SecurityEvent};
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
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
    SecurityEvent::of_request(EventKind::SessionsEnded)
        .user(principal.user_id, principal.account_id)
        .sessions_of(user_id, ended)
        .emit();
    Ok(EndedSessions {
        ended,
        signed_out: user_id == principal.user_id,
    })
}
