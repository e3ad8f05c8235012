//! `GET /api/v1/audit-events` (scope `audit:read`): the account's audit log chain, oldest first, row by row as
//! stored, hashes included, so that a client can recompute the chain itself (`evidence::audit_log` says how each
//! row's hash is made).

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{Problem, Refusal, authorized, query_parameters, respond};
use crate::error::AppError;
use crate::server::authz::ApiScope;
use crate::server::db::audit::{ChainEvent, chain_after};
use crate::server::state::{AppState, db_failure};

/// Where the chain is read.
pub const AUDIT_EVENTS_PATH: &str = "/api/v1/audit-events";

/// How many events a page holds when `limit` is not given, and at most.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// Where a page starts and how long it is.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditEventsQuery {
    /// The events after this seq; 0 or absent for the chain's first.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// At most this many events, 1 to 1000; 100 when absent.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// A page of the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventsPage {
    /// The events, oldest first.
    pub events: Vec<ChainEvent>,
    /// The `after` of the next page, when this one is full; absent at the chain's end.
    pub next_after: Option<i64>,
}

/// Tokens with `audit:read` of an account whose Manage Customer Data setting is on: a page of the account's
/// audit log chain, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit-events",
    tag = "Audit log",
    params(AuditEventsQuery),
    responses(
        (status = 200, description = "A page of the chain, oldest first", body = AuditEventsPage, content_type = "application/json"),
        (status = 401, description = "No live API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `audit:read`, or the account's setting is off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`after` or `limit` is not acceptable", body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_audit_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    respond(page(&state, &headers, query.as_deref().unwrap_or_default()).await)
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
) -> Result<AuditEventsPage, Refusal> {
    let token = authorized(state, headers, ApiScope::AuditRead).await?;
    let (after, limit) = page_bounds(query)?;
    let rows = chain_after(&state.pool, token.account_id, after, limit)
        .await
        .map_err(db_failure)?;
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|row| row.seq))
        .flatten();
    Ok(AuditEventsPage {
        events: rows,
        next_after,
    })
}

impl AuditEventsQuery {
    /// The parameters of `query` (a query string); any other parameter, a repeated one or a malformed number is
    /// 422.
    fn parse(query: &str) -> Result<AuditEventsQuery, AppError> {
        let parameters = query_parameters(query, &["after", "limit"])?;
        let number = |name: &str| {
            parameters
                .get(name)
                .map(|value| {
                    value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| AppError::invalid(&format!("{name} must be a whole number.")))
                })
                .transpose()
        };
        Ok(AuditEventsQuery {
            after: number("after")?,
            limit: number("limit")?,
        })
    }

    /// `after` (0 or more; 0 when absent) and `limit` (1 to `MAX_LIMIT`; `DEFAULT_LIMIT` when absent).
    fn bounds(&self) -> Result<(i64, i64), AppError> {
        let after = self.after.unwrap_or(0);
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if after < 0 {
            return Err(AppError::invalid("after must be 0 or more."));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::invalid(&format!(
                "limit must be from 1 to {MAX_LIMIT}."
            )));
        }
        Ok((after, limit))
    }
}

/// `after` and `limit` from a query string (`AuditEventsQuery`).
fn page_bounds(query: &str) -> Result<(i64, i64), AppError> {
    AuditEventsQuery::parse(query)?.bounds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bounds_default_and_refuse_what_they_cannot_read() {
        assert_eq!(page_bounds("").unwrap(), (0, DEFAULT_LIMIT));
        assert_eq!(page_bounds("after=7&limit=1000").unwrap(), (7, 1000));
        for bad in [
            "after=-1",
            "limit=0",
            "limit=1001",
            "after=x",
            "after=1&after=2",
            "seq=3",
            "limit=1e3",
        ] {
            assert_eq!(page_bounds(bad).map_err(|e| e.status()), Err(422), "{bad}");
        }
    }
}
