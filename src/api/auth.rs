//! Sign-in, sign-out, ending one's other sessions, and who is signed in.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{EndedSessions, Viewer};

/// Anyone may call it. Signs in with email and password; a wrong email and a wrong password get the same 401.
/// After `LOGIN_FAILURE_LIMIT` failures for one email within the window, or the client's limit across all
/// emails, it answers 429; when too many password checks are waiting, 503 with `Retry-After`.
#[server(prefix = "/api", endpoint = "auth/login")]
pub async fn sign_in(
    /// The email the user signs in with, in any letter case; surrounding spaces are ignored.
    email: String,
    /// The password; one over `MAX_PASSWORD_BYTES` (1,024 bytes) is refused without a check.
    password: String,
) -> Result<(), AppError> {
    crate::server::auth::sign_in(&email, &password).await
}

/// Signed-in users. Ends the session on the server.
#[server(prefix = "/api", endpoint = "auth/logout")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::auth;
    auth::current_principal().await?;
    auth::sign_out().await
}

/// Signed-in users. Ends every other session of the caller (other browsers and devices) and keeps the one it
/// is called from; recorded in the audit trail when any live session ended.
#[server(prefix = "/api", endpoint = "auth/end-other-sessions")]
pub async fn end_other_sessions() -> Result<EndedSessions, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, db};
    let principal = auth::current_principal().await?;
    let current = auth::presented_session().ok_or(AppError::Unauthorized)?;
    let ended = db::sessions::end_others(
        &app_state()?.pool,
        principal.account_id,
        principal.user_id,
        &current,
    )
    .await
    .map_err(db_failure)?;
    Ok(EndedSessions {
        ended,
        signed_out: false,
    })
}

/// Anyone may call it. The signed-in user and what they may open, or `None` when signed out.
#[server(prefix = "/api", endpoint = "auth/viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    use crate::server::{auth, authz};
    Ok(auth::current_principal_if_any()
        .await?
        .as_ref()
        .map(authz::viewer))
}
