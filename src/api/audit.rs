//! The audit log's page: its events, filtered and paged, and its head (the chain's status, the actor filter's
//! choices and the erasures per day). The CSV export is a plain GET route (`server::http::audit_export`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AuditOverview, AuditPage};

/// Admins holding Manage Customer Data while the account setting is on. Their account's audit log events,
/// newest first, one page at a time, narrowed by any of: an action's key, an actor (`user:<id>`, `system`,
/// `anonymous`), the first and the last day (`YYYY-MM-DD`, UTC, both included).
#[server(prefix = "/api", endpoint = "audit/list")]
pub async fn list_audit(
    /// An action's key (`signed_in`, `customer_searched`, `request_erased`, ...); empty for every action.
    #[server(default)]
    action: String,
    /// Who acted: `user:<id>`, `system` or `anonymous`; empty for everyone.
    #[server(default)]
    actor: String,
    /// The first day, `YYYY-MM-DD`; empty for no lower bound.
    #[server(default)]
    from: String,
    /// The last day, `YYYY-MM-DD`; empty for no upper bound.
    #[server(default)]
    to: String,
    /// Where the page continues: the `older` of an earlier answer; absent or empty for the newest.
    #[server(default)]
    cursor: Option<String>,
) -> Result<AuditPage, AppError> {
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db, input};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let filter = input::audit_filter(&action, &actor, &from, &to)?;
    let before = input::audit_cursor(cursor.as_deref())?;
    db::audit::list(&app_state()?.pool, principal.account_id, &filter, before)
        .await
        .map_err(db_failure)
}

/// Admins holding Manage Customer Data while the account setting is on. The head of their account's audit
/// page: the chain's status (the rows since the last check are verified first), who can be filtered by, and the
/// records, calls and messages erased on each of the last 90 days.
#[server(prefix = "/api", endpoint = "audit/overview")]
pub async fn get_audit_overview() -> Result<AuditOverview, AppError> {
    use crate::server::evidence::audit_log;
    use crate::server::state::{app_state, db_failure};
    use crate::server::{auth, authz, db};
    let principal = auth::current_principal().await?;
    auth::authorize(&principal, authz::require_customer_data_access)?;
    let pool = &app_state()?.pool;
    let account_id = principal.account_id;
    let today = time::OffsetDateTime::now_utc().date();
    let (chain, actors, erased_per_day) = futures::try_join!(
        audit_log::check_chain(pool, account_id),
        db::audit::actor_choices(pool, account_id),
        db::audit::erased_per_day(pool, account_id, today),
    )
    .map_err(db_failure)?;
    Ok(AuditOverview {
        chain,
        actors,
        erased_per_day,
    })
}
