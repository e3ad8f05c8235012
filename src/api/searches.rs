//! Saving a search: the search forms post here, so that what was searched for never goes in a URL.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SearchKind;

/// What reading a saved search that is not there says: it expired, or it was never this user's.
pub const NO_SUCH_SEARCH: &str =
    "This search has expired (searches are kept 30 minutes). Search again.";

/// The text of the saved search `search_id` of `kind`, or the refusal it was saved with, when `principal`
/// saved it in the last 30 minutes; 404 for another user's, an expired or an unknown id.
#[cfg(feature = "ssr")]
pub(crate) async fn saved_text(
    principal: &crate::server::authz::Principal,
    kind: SearchKind,
    search_id: &str,
) -> Result<String, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{db, input};
    let search_id = input::record_id(search_id, "search")?;
    db::saved_searches::find(
        &app_state()?.pool,
        principal.account_id,
        principal.user_id,
        kind,
        search_id,
    )
    .await
    .map_err(db_failure)?
    .ok_or_else(|| AppError::not_found(NO_SUCH_SEARCH))?
}

/// Whoever may run the search of `kind`: for `customers`, Admins holding Manage Customer Data while the account
/// setting is on; for `users`, Admins. Keeps the search for 30 minutes, readable only by its user, and answers
/// 303 to its page with the search's id and no text (`/customers?search=<id>`, `/users?search=<id>`; an empty
/// user search goes to `/users`), and the path as the body. Text the search refuses is 422 with the search's
/// own message; when the browser itself submits the form (`Sec-Fetch-Mode: navigate`), the refusal (and a
/// 403) is kept in the search's place and shown by the page it is sent to, and a signed-out browser goes to
/// `/login`.
#[server(prefix = "/api", endpoint = "searches")]
pub async fn save_search(
    /// Which search: `customers` or `users`.
    kind: SearchKind,
    /// The text searched for, checked as that search checks it; at most 200 characters.
    query: String,
) -> Result<String, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input, navigation};
    let principal = match auth::current_principal().await {
        Err(AppError::Unauthorized) if navigation::is_navigation() => {
            navigation::see_other("/login")?;
            return Ok("/login".to_owned());
        }
        principal => principal?,
    };
    let accepted = auth::authorize(&principal, |p| authz::require_search(p, kind))
        .and_then(|()| input::saved_search_query(kind, &query, &principal.account_default_country));
    let saved = match accepted {
        Ok(None) => None,
        Ok(Some(text)) => Some(Ok(text)),
        Err(refusal) if navigation::is_navigation() => Some(Err(refusal)),
        Err(refusal) => return Err(refusal),
    };
    let location = match saved {
        None => kind.page().to_owned(),
        Some(saved) => {
            let id = db::saved_searches::save(
                &app_state()?.pool,
                principal.account_id,
                principal.user_id,
                kind,
                &saved,
            )
            .await
            .map_err(db_failure)?;
            format!("{}?search={id}", kind.page())
        }
    };
    navigation::see_other(&location)?;
    Ok(location)
}
