//! /audit: Customer Data > Audit log. The account's audit chain's status, a chart of what erasures removed per
//! day over 90 days (with its table), and the events, newest first, paged and filtered by action, actor and
//! days, with a CSV export of what the filter shows. Everything here is a plain form or link: it works before
//! and without the wasm.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::{get_audit_overview, list_audit};
use crate::components::data_table::DataTable;
use crate::components::erasure_chart::ErasureChart;
use crate::components::loaded::Loaded;
use crate::components::notice::EmptyState;
use crate::format::{format_time, urlencode};
use crate::model::{AuditAction, AuditActorChoice, AuditEvent, AuditPage, ChainStatus};
use crate::pages::requests::short_id;

/// The filter as the page's address holds it (`?action=&actor=&from=&to=`), every part as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// An action's key, or empty.
    pub action: String,
    /// `user:<id>`, `system`, `anonymous`, or empty.
    pub actor: String,
    /// The first day, `YYYY-MM-DD`, or empty.
    pub from: String,
    /// The last day, `YYYY-MM-DD`, or empty.
    pub to: String,
}

impl AuditQuery {
    /// The filter as a query string (without `?`), for the export and the page links.
    pub fn query_string(&self) -> String {
        format!(
            "action={}&actor={}&from={}&to={}",
            urlencode(&self.action),
            urlencode(&self.actor),
            urlencode(&self.from),
            urlencode(&self.to)
        )
    }
}

/// The account's audit log, filtered by the address's query, from the `older` cursor on.
#[component]
pub fn AuditPage() -> impl IntoView {
    let (query, older) = use_query_map().with_untracked(|map| {
        let text = |name: &str| map.get(name).unwrap_or_default();
        (
            AuditQuery {
                action: text("action"),
                actor: text("actor"),
                from: text("from"),
                to: text("to"),
            },
            map.get("older"),
        )
    });
    let paged = older.is_some();
    let overview = get_audit_overview();
    let page = list_audit(
        query.action.clone(),
        query.actor.clone(),
        query.from.clone(),
        query.to.clone(),
        older,
    );
    let events_query = query.clone();
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every sign-in, setting change, search, page view and erasure request of your account, newest first. Each event is chained to the one before it by its hash, so a changed or removed event shows."</p>
        <Loaded loading="Checking the chain…" data=overview let:overview>
            <ChainStatusLine status=overview.chain/>
            <section class="card" aria-labelledby="erasure-chart-heading">
                <h2 id="erasure-chart-heading">"Erased in the last 90 days"</h2>
                <ErasureChart days=overview.erased_per_day/>
            </section>
            <AuditFilterForm current=query.clone() actors=overview.actors/>
        </Loaded>
        <Loaded loading="Loading events…" data=page let:page>
            <AuditTable page query=events_query.clone() paged/>
        </Loaded>
    }
}

/// The chain's status: "Chain verified through #N at <time>", or in red where it broke and why.
#[component]
fn ChainStatusLine(status: ChainStatus) -> impl IntoView {
    match status {
        ChainStatus::Empty => view! {
            <p class="chain-status" role="status">"No events yet: the chain starts with the first one."</p>
        }
        .into_any(),
        ChainStatus::Verified { seq, at } => view! {
            <p class="chain-status chain-verified" role="status">
                {format!("Chain verified through #{seq} at {}.", format_time(at))}
            </p>
        }
        .into_any(),
        ChainStatus::Broken { seq, fault, at } => view! {
            <p class="chain-status chain-broken" role="alert">
                <strong>{format!("Chain broken at #{seq}")}</strong>
                {format!(": {fault}. Found at {}. Events from #{seq} on cannot be trusted: run ", format_time(at))}
                <code>"customer-data-console audit verify"</code>
                " and compare them with a backup."
            </p>
        }
        .into_any(),
    }
}

/// The filter: action, actor and days, as a plain GET form, and the CSV export of what it shows.
#[component]
fn AuditFilterForm(current: AuditQuery, actors: Vec<AuditActorChoice>) -> impl IntoView {
    let export = format!("/audit/export.csv?{}", current.query_string());
    view! {
        <form class="filter-form audit-filter" method="get" action="/audit">
            <div class="field">
                <label for="audit-action">"Action"</label>
                <select id="audit-action" name="action">
                    <option value="" selected=current.action.is_empty()>"All actions"</option>
                    {AuditAction::ALL.into_iter().map(|action| view! {
                        <option value=action.key() selected=current.action == action.key()>{action.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-actor">"Who"</label>
                <select id="audit-actor" name="actor">
                    <option value="" selected=current.actor.is_empty()>"Everyone"</option>
                    {actors.into_iter().map(|choice| {
                        let selected = current.actor == choice.value;
                        view! { <option value=choice.value selected=selected>{choice.label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-from">"From"</label>
                <input id="audit-from" name="from" type="date" value=current.from.clone()/>
            </div>
            <div class="field">
                <label for="audit-to">"To"</label>
                <input id="audit-to" name="to" type="date" value=current.to.clone()/>
            </div>
            <button type="submit" class="button">"Show"</button>
            <a class="button ghost" href=export download="">"Export CSV"</a>
        </form>
        <p class="muted">"Days are in UTC. The export holds every event the filter shows, not only this page."</p>
    }
}

/// A page of events, and the links to the older page and back to the newest.
#[component]
fn AuditTable(page: AuditPage, query: AuditQuery, paged: bool) -> impl IntoView {
    let newest = paged.then(|| format!("/audit?{}", query.query_string()));
    let older = page
        .older
        .map(|seq| format!("/audit?{}&older={seq}", query.query_string()));
    if page.events.is_empty() {
        return view! {
            <EmptyState title="No events">
                <p>"No event of your account matches this filter."</p>
            </EmptyState>
            <nav class="pager" aria-label="Pages">
                {newest.map(|href| view! { <a href=href class="button">"Newest events"</a> })}
            </nav>
        }
        .into_any();
    }
    view! {
        <div class="card table-card">
            <DataTable caption="Audit log events" headings=&["#", "When", "Who", "What", "Concerning", "Details"] numeric=&["#"]>
                <tbody>
                    {page.events.into_iter().map(event_row).collect_view()}
                </tbody>
            </DataTable>
        </div>
        <nav class="pager" aria-label="Pages">
            {newest.map(|href| view! { <a href=href class="button">"Newest events"</a> })}
            {older.map(|href| view! { <a href=href class="button">"Older events"</a> })}
        </nav>
    }
    .into_any()
}

/// One event as a row: its seq, time, actor, action, what it concerned (a user, a record, a request, a person's
/// keyed hash) and its details.
fn event_row(event: AuditEvent) -> impl IntoView {
    let details = event.details_text();
    view! {
        <tr>
            <td class="num">{event.seq}</td>
            <td>{format_time(event.at)}</td>
            <td>{event.actor}</td>
            <td>{event.action.label()}</td>
            <td class="concerning">
                {event.target_user.map(|name| view! { <span>"User " {name}</span> })}
                {event.customer_id.map(|id| view! {
                    <a href=format!("/customers/{id}")>"Record " <span class="mono">{short_id(&id.to_string()).to_owned()}</span></a>
                })}
                {event.request_id.map(|id| view! {
                    <a href=format!("/requests/{id}")>"Request " <span class="mono">{short_id(&id.to_string()).to_owned()}</span></a>
                })}
                {event.subject.map(|hash| view! {
                    <span class="mono" title="The person, as a keyed hash">"Person " {hash}</span>
                })}
            </td>
            <td class="details">{details}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_travels_in_links_encoded() {
        let query = AuditQuery {
            action: "customer_searched".into(),
            actor: "user:1b4e28ba-2fa1-11d2-883f-0016d3cca427".into(),
            from: "2026-12-01".into(),
            to: String::new(),
        };
        assert_eq!(
            query.query_string(),
            "action=customer_searched&actor=user%3A1b4e28ba-2fa1-11d2-883f-0016d3cca427&from=2026-12-01&to="
        );
    }
}
