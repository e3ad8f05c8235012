//! API tokens (/admin/tokens): listing the account's tokens, making one (its secret answered once) and revoking
//! one. Every making and revoking is appended to the audit log.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ApiTokenSummary, CreatedApiToken};

/// Admins. The account's API tokens, newest first: name, scopes, the Admin each acts for, when made, expiry,
/// last use and revocation; never a secret.
#[server(prefix = "/api", endpoint = "tokens/list")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenSummary>, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    db::api_tokens::list(&app_state()?.pool, principal.account_id)
        .await
        .map_err(db_failure)
}

/// Admins. Makes an API token of their account named `name` (1 to 100 characters) with `scopes` (keys separated
/// by commas, at least one), working for `expires_days` days (1 to 3650; empty: until revoked), acting for the
/// Admin who makes it (the erasure requests it makes are theirs). Answers its secret, which is not stored and
/// cannot be shown again. Refuses anything else with 422.
#[server(prefix = "/api", endpoint = "tokens/create")]
pub async fn create_api_token(
    /// What the token is for, as the list shows it.
    name: String,
    /// Its scopes' keys, separated by commas.
    scopes: String,
    /// Days until it stops working; empty for none.
    #[server(default)]
    expires_days: String,
) -> Result<CreatedApiToken, AppError> {
    use crate::server::db::api_tokens::{self, TokenSpec};
    use crate::server::evidence::audit_log::Actor;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    let (name, scopes, expires_in) = input::api_token(&name, &scopes, &expires_days)?;
    let spec = TokenSpec {
        name: &name,
        scopes: &scopes,
        expires_in,
        admin: Some(principal.user_id),
    };
    let made = api_tokens::create(
        &app_state()?.pool,
        principal.account_id,
        &spec,
        Actor::User(principal.user_id),
    )
    .await
    .map_err(db_failure)?;
    Ok(CreatedApiToken {
        id: made.id,
        secret: made.secret,
    })
}

/// Admins. Revokes a live API token of their account: its next request is refused (401). Another account's
/// token, an unknown one or one already revoked is 404.
#[server(prefix = "/api", endpoint = "tokens/revoke")]
pub async fn revoke_api_token(
    /// The token's id (a UUID).
    token_id: String,
) -> Result<(), AppError> {
    use crate::server::db::api_tokens;
    use crate::server::evidence::audit_log::Actor;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_admin)?;
    let id = input::record_id(&token_id, "token")?;
    let revoked = api_tokens::revoke(
        &app_state()?.pool,
        Some(principal.account_id),
        id,
        Actor::User(principal.user_id),
    )
    .await
    .map_err(db_failure)?;
    if revoked {
        Ok(())
    } else {
        Err(AppError::not_found(
            "No live API token with this id in your account.",
        ))
    }
}
