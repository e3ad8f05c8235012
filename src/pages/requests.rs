//! /requests: Customer Data > Requests. Every erasure request of the account, newest first, paged, filtered by
//! state: its records, requester, when it was received, its due date and the days left.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use time::OffsetDateTime;

use crate::api::requests::list_requests;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::EmptyState;
use crate::format::{format_time, urlencode};
use crate::model::{RequestPage, RequestState, RequestSummary};

/// Requests due within this many days are highlighted while open.
pub const DUE_SOON_DAYS: i64 = 7;

/// The account's requests in the state `state` (every state when absent), from the cursor `older` on.
#[component]
pub fn RequestsPage() -> impl IntoView {
    let (state, older) =
        use_query_map().with_untracked(|query| (query.get("state"), query.get("older")));
    let filter = state.clone().unwrap_or_default();
    let page = list_requests(filter.clone(), older);
    view! {
        <Title text="Requests"/>
        <h1>"Requests"</h1>
        <p class="muted">"Every erasure request of your account, newest first. A request erases all the records of one person."</p>
        <p><a class="button" href="/requests/bulk">"Bulk erasure from a CSV"</a></p>
        <Loaded loading="Loading…" data=page let:page>
            <StateFilter current=filter.clone()/>
            <RequestTable page filter=filter.clone()/>
        </Loaded>
    }
}

/// The state filter: a plain form, so it works before and without the wasm.
#[component]
fn StateFilter(current: String) -> impl IntoView {
    view! {
        <form class="filter-form" method="get" action="/requests">
            <label for="request-state">"State"</label>
            <select id="request-state" name="state">
                <option value="" selected=current.is_empty()>"All states"</option>
                {RequestState::ALL.into_iter().map(|state| view! {
                    <option value=state.key() selected=current == state.key()>{state.label()}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="button">"Show"</button>
        </form>
    }
}

#[component]
fn RequestTable(page: RequestPage, filter: String) -> impl IntoView {
    if page.requests.is_empty() {
        return view! {
            <EmptyState title="No requests">
                <p>"Requests appear here when a customer's data is deleted from Customers."</p>
            </EmptyState>
        }
        .into_any();
    }
    let now = OffsetDateTime::now_utc();
    let next = page.older.map(|older| {
        format!(
            "/requests?state={}&older={}",
            urlencode(&filter),
            urlencode(&older)
        )
    });
    view! {
        <div class="card table-card">
            <DataTable caption="Erasure requests" headings=&["Request", "State", "Records", "Requested by", "Received", "Due", "Days left"] numeric=&["Records", "Days left"]>
                <tbody>
                    {page.requests.into_iter().map(|request| request_row(request, now)).collect_view()}
                </tbody>
            </DataTable>
        </div>
        <nav class="pager" aria-label="Pages">
            {next.map(|href| view! { <a href=href class="button">"Older requests"</a> })}
        </nav>
    }
    .into_any()
}

/// One request as a row of a requests table: its id, state, records, requester, dates and days left, marked
/// when it is due soon or overdue.
pub fn request_row(request: RequestSummary, now: OffsetDateTime) -> impl IntoView + use<> {
    let days = days_left(request.due_at, now);
    let urgency = urgency(request.state, days);
    let id = request.id.to_string();
    let short = short_id(&id).to_owned();
    view! {
        <tr class=urgency>
            <td><a href=format!("/requests/{}", request.id) class="mono">{short}</a></td>
            <td>
                <span class="badge">{request.state.label()}</span>
                {request.not_before.filter(|_| request.state == RequestState::Scheduled).map(|at| view! {
                    <span class="muted">" deletes " {format_time(at)}</span>
                })}
            </td>
            <td class="num">{request.records}</td>
            <td>{request.requested_by_name}</td>
            <td>{format_time(request.received_at)}</td>
            <td>{format_time(request.due_at)}</td>
            <td class="num">{if request.state.is_open() { days.to_string() } else { "—".into() }}</td>
        </tr>
    }
}

/// Whole days from `now` until `due` (negative once overdue), rounded down.
pub fn days_left(due: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (due - now).whole_seconds().div_euclid(86_400)
}

/// The row's class: `overdue` for an open request past its due date, `due-soon` for one due within
/// `DUE_SOON_DAYS`, none otherwise.
pub fn urgency(state: RequestState, days_left: i64) -> Option<&'static str> {
    if !state.is_open() {
        None
    } else if days_left < 0 {
        Some("overdue")
    } else if days_left < DUE_SOON_DAYS {
        Some("due-soon")
    } else {
        None
    }
}

/// The first block of a request id, enough to tell requests apart in a list.
pub fn short_id(id: &str) -> &str {
    id.split('-').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn days_left_round_down_and_go_negative_once_overdue() {
        let now = time::macros::datetime!(2026-12-02 12:00 UTC);
        assert_eq!(days_left(now + Duration::days(30), now), 30);
        assert_eq!(days_left(now + Duration::hours(23), now), 0);
        assert_eq!(days_left(now - Duration::hours(1), now), -1);
    }

    #[test]
    fn open_requests_due_soon_or_overdue_are_marked_and_closed_ones_never() {
        assert_eq!(urgency(RequestState::Scheduled, 30), None);
        assert_eq!(urgency(RequestState::Scheduled, 7), None);
        assert_eq!(urgency(RequestState::Scheduled, 6), Some("due-soon"));
        assert_eq!(urgency(RequestState::AwaitingApproval, 0), Some("due-soon"));
        assert_eq!(urgency(RequestState::Failed, -1), Some("overdue"));
        assert_eq!(urgency(RequestState::Completed, -1), None);
        assert_eq!(urgency(RequestState::Cancelled, 1), None);
    }

    #[test]
    fn a_short_id_is_the_first_block() {
        assert_eq!(short_id("1b4e28ba-2fa1-11d2-883f-0016d3cca427"), "1b4e28ba");
        assert_eq!(short_id("plain"), "plain");
    }
}
