//! Sign-in, sign-out, ending one's other sessions, and who is signed in.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Access, EndedSessions, Viewer};

/// What a sign-in with an empty email or password is told.
pub const SIGN_IN_FIELDS_MISSING: &str = "Enter your email and password.";

/// Anyone may call it. Signs in with email and password; a wrong email and a wrong password get the same 401.
/// After `LOGIN_FAILURE_LIMIT` failures for one email within the window, or the client's limit across all
/// emails, it answers 429; when too many password checks are waiting, 503 with `Retry-After`. Answers the page
/// to go to: `next` when it is a path of the console, otherwise `/` (`navigation::safe_next`). When the
/// browser itself submits the form (`Sec-Fetch-Mode: navigate`, JavaScript off), it answers 303 to that page,
/// or to `/login?refused=<status>` (with `&next=` kept) with the status it would have answered.
#[server(prefix = "/api", endpoint = "auth/login")]
pub async fn sign_in(
    /// The email the user signs in with, in any letter case; surrounding spaces are ignored.
    email: String,
    /// The password; one over `MAX_PASSWORD_BYTES` (1,024 bytes) is refused without a check.
    password: String,
    /// The page the user was on their way to (`/login?next=`); anything but a path of the console means `/`.
    #[server(default)]
    next: Option<String>,
) -> Result<String, AppError> {
    use crate::server::{auth, navigation};
    let next = navigation::safe_next(next.as_deref());
    let signed_in = auth::sign_in(&email, &password).await;
    if !navigation::is_navigation() {
        return signed_in.map(|()| next);
    }
    let location = match signed_in {
        Ok(()) => next.clone(),
        Err(refusal) => sign_in_page(Some(refusal.status()), &next),
    };
    navigation::see_other(&location)?;
    Ok(next)
}

/// The sign-in page's address: with `?refused=<status>` when a sign-in was refused, and `next=` when the user
/// was on their way to a page other than `/` (which is where a sign-in goes anyway).
pub fn sign_in_page(refused: Option<u16>, next: &str) -> String {
    let mut query = Vec::new();
    if let Some(status) = refused {
        query.push(format!("refused={status}"));
    }
    if next != "/" {
        query.push(format!("next={}", crate::format::urlencode_path(next)));
    }
    if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{}", query.join("&"))
    }
}

/// Signed-in users. Ends the session on the server. When the browser itself submits the form (JavaScript off),
/// it answers 303 to `/login`, also when the session had already ended.
#[server(prefix = "/api", endpoint = "auth/logout")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::{auth, navigation};
    let signed_out = match auth::current_principal().await {
        Ok(principal) => auth::sign_out(&principal).await,
        Err(refusal) => Err(refusal),
    };
    match signed_out {
        Ok(()) | Err(AppError::Unauthorized) if navigation::is_navigation() => {
            navigation::see_other("/login")
        }
        signed_out => signed_out,
    }
}

/// Signed-in users. Ends every other session of the caller (other browsers and devices) and keeps the one it
/// is called from; recorded in the audit trail when any live session ended.
#[server(prefix = "/api", endpoint = "auth/end-other-sessions")]
pub async fn end_other_sessions() -> Result<EndedSessions, AppError> {
    use crate::server::security_log::{EventKind, SecurityEvent};
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
    SecurityEvent::of_request(EventKind::SessionsEnded)
        .user(principal.user_id, principal.account_id)
        .sessions_of(principal.user_id, ended)
        .emit();
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

/// Signed-in users. What the caller may open, and for each part they may not (Customer Data, the Admin
/// Console), which rule refuses and the names of their account's Admins, who can change it. Pages show it in
/// place of controls that would only be refused.
#[server(prefix = "/api", endpoint = "auth/access")]
pub async fn current_access() -> Result<Access, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    let admins = if authz::refuses_anything(&principal) {
        db::users::admin_names(&app_state()?.pool, principal.account_id)
            .await
            .map_err(db_failure)?
    } else {
        Vec::new()
    };
    Ok(authz::access(&principal, admins))
}

#[cfg(test)]
mod tests {
    use super::sign_in_page;

    #[test]
    fn the_sign_in_page_keeps_the_refusal_and_where_the_user_was_going() {
        assert_eq!(sign_in_page(None, "/"), "/login");
        assert_eq!(sign_in_page(None, "/customers"), "/login?next=/customers");
        assert_eq!(
            sign_in_page(Some(401), "/users?search=5eed&page=2"),
            "/login?refused=401&next=/users%3Fsearch%3D5eed%26page%3D2"
        );
        assert_eq!(sign_in_page(Some(429), "/"), "/login?refused=429");
    }
}
