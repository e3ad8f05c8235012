//! /customers: Customer Data > Customers. Search by email, Salesforce ID or phone number; every matching record
//! is listed. The search is posted and kept; the URL carries only its id (`?search=`), never what was searched
//! for. When a search lists several records of one person, "Export all N" downloads their data as one ZIP and
//! "Delete all N records" erases them in one request;
//! the page is then loaded again with the request's id (`&request=`) and shows its outcome above the records.
//! Without access, the page shows why (which rule refuses and who can change it) instead of the search.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::current_access;
use crate::api::customers::load_customer_search;
use crate::api::requests::get_request;
use crate::api::settings::get_erasure_policy;
use crate::components::data_table::DataTable;
use crate::components::erase_person::{ErasePersonControl, RequestOutcome};
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, ErrorNotice, Notice, Tone};
use crate::components::refusal::RefusalNotice;
use crate::components::search_box::{SearchBox, refusal_of};
use crate::error::AppError;
use crate::format::format_time;
use crate::model::{
    CustomerMatches, CustomerSummary, ErasurePolicy, RequestDetail, SavedCustomerSearch, SearchKind,
};

/// The page of a saved search (`?search=<id>`, from the search form's answer), or the empty search; for a user
/// without access to Customer Data, the refusal instead. With `&request=<id>`, the outcome of the erasure request
/// made from it.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let (search_id, request_id) =
        use_query_map().with_untracked(|query| (query.get("search"), query.get("request")));
    let page = {
        let search_id = search_id.clone();
        async move {
            if let Some(refusal) = current_access().await?.customer_data {
                return Ok(Err(refusal));
            }
            let request = match request_id {
                Some(id) => Some(get_request(id).await),
                None => None,
            };
            let search = match search_id {
                Some(id) => Some(load_customer_search(id).await),
                None => None,
            };
            let policy = match &search {
                Some(Ok(saved)) if offers_all(&saved.matches) => Some(get_erasure_policy().await?),
                _ => None,
            };
            Ok::<_, AppError>(Ok((request, search, policy)))
        }
    };
    view! {
        <Title text="Customers"/>
        <h1>"Customers"</h1>
        <p class="muted">"Find every record that is one person, by email address, Salesforce ID (15 or 18 characters) or phone number."</p>
        <Loaded loading="Searching…" data=page let:page>
            {match page {
                Ok((request, search, policy)) => view! {
                    {request.map(|request| match request {
                        Ok(RequestDetail { summary, .. }) => view! { <RequestOutcome request=summary/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    })}
                    <CustomerSearch search_id=search_id.clone().unwrap_or_default() search policy/>
                }.into_any(),
                Err(refusal) => view! { <RefusalNotice part="Customer Data" refusal/> }.into_any(),
            }}
        </Loaded>
    }
}

/// The search box and what the saved search `search_id` found (or why it failed); the empty search when there is
/// none. `policy` is the account's erasure policy, read when the records are offered to be deleted together.
#[component]
fn CustomerSearch(
    search_id: String,
    search: Option<Result<SavedCustomerSearch, AppError>>,
    policy: Option<ErasurePolicy>,
) -> impl IntoView {
    let (text, outcome) = match search {
        None => (String::new(), None),
        Some(Ok(saved)) => (saved.query, Some(Ok(saved.matches))),
        Some(Err(error)) => (String::new(), Some(Err(error))),
    };
    let refusal = match &outcome {
        Some(Err(error)) => refusal_of(error),
        _ => None,
    };
    view! {
        <SearchBox kind=SearchKind::Customers label="Search customers" placeholder="Email, Salesforce ID or phone" value=text.clone() refusal=refusal.clone()/>
        {match outcome {
            None => view! {
                <EmptyState title="Search for a customer">
                    <p>"Enter the email address, Salesforce ID or phone number from the person's request."</p>
                </EmptyState>
            }.into_any(),
            Some(Ok(matches)) => view! { <CustomerResults search_id query=text matches policy/> }.into_any(),
            Some(Err(_)) if refusal.is_some() => ().into_any(),
            Some(Err(error)) => view! { <ErrorNotice error/> }.into_any(),
        }}
    }
}

/// The records a search found: how many, and when they are offered to be deleted together (`offers_all`, with
/// the account's erasure `policy`), "Export all N" (one ZIP of those with data) and "Delete all N records" for
/// the search `query` (saved as `search_id`); then the table of records.
#[component]
fn CustomerResults(
    search_id: String,
    query: String,
    matches: CustomerMatches,
    policy: Option<ErasurePolicy>,
) -> impl IntoView {
    let offer_all = policy.filter(|_| offers_all(&matches));
    let CustomerMatches {
        records: found,
        more,
    } = matches;
    if found.is_empty() {
        return view! {
            <EmptyState title="No records match">
                <p>"No Lead, Contact, Account or Opportunity in your account has this email, Salesforce ID or phone number."</p>
            </EmptyState>
        }
        .into_any();
    }
    let count = found.len();
    let erased = found.iter().filter(|c| c.erased_at.is_some()).count();
    view! {
        {more.then(|| view! {
            <Notice tone=Tone::Warning>
                <p>"More than " {count} " records match, and only the first " {count} " are listed. Search by Salesforce ID to find each of the others."</p>
            </Notice>
        })}
        {(count > 1).then(|| view! {
            <Notice tone=Tone::Info>
                <p>{format!("{count} records match{}.", erased_of(erased, count))} " " {how_to_delete(offer_all.is_some())}</p>
            </Notice>
        })}
        {offer_all.map(|policy| view! {
            <div class="results-actions">
                <a class="button" href=person_export_href(&found) download="customer-data.zip">
                    {format!("Export all {} (ZIP)", count - erased)}
                </a>
                <ErasePersonControl search_id query records=found.clone() policy/>
            </div>
        })}
        <div class="card table-card">
            <DataTable
                caption="Matching records"
                headings=&["Type", "Name", "Email", "Salesforce ID", "Calls", "Messages", "Status"]
                numeric=&["Calls", "Messages"]
            >
                <tbody>
                    {found.into_iter().map(|customer| view! {
                        <tr>
                            <td><span class="badge">{customer.object_type}</span></td>
                            <td><a href=format!("/customers/{}", customer.id)>{customer.name}</a></td>
                            <td>{customer.email.unwrap_or_default()}</td>
                            <td class="mono">{customer.salesforce_id}</td>
                            <td class="num">{customer.pending.calls}</td>
                            <td class="num">{customer.pending.messages}</td>
                            <td>{match customer.erased_at {
                                Some(at) => view! { <span class="badge badge-erased"><span class="nowrap">"Data deleted"</span> " " {format_time(at)}</span> }.into_any(),
                                None => view! { <span class="badge badge-active">"Has data"</span> }.into_any(),
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
    }
    .into_any()
}

/// The download of the data of every record in `found` that still has data, as one ZIP.
fn person_export_href(found: &[CustomerSummary]) -> String {
    let ids: Vec<String> = found
        .iter()
        .filter(|record| record.erased_at.is_none())
        .map(|record| record.id.to_string())
        .collect();
    format!("/customers/export.zip?ids={}", ids.join(","))
}

/// Whether the records found are offered to be deleted together: several are listed, all that match, and some
/// still have data.
fn offers_all(matches: &CustomerMatches) -> bool {
    let records = &matches.records;
    records.len() > 1 && !matches.more && records.iter().any(|r| r.erased_at.is_none())
}

/// How the data of several records is deleted: all together (when `offer_all`), or each on its own.
fn how_to_delete(offer_all: bool) -> &'static str {
    if offer_all {
        "Delete all of them together in one erasure request, or open each one to delete its data on its own."
    } else {
        "Each record's call and message data is deleted on its own: open each one to delete it."
    }
}

/// ", 1 of 2 deleted" when the data of some of the `count` records listed is deleted; nothing when none is.
fn erased_of(erased: usize, count: usize) -> String {
    if erased == 0 {
        String::new()
    } else {
        format!(", {erased} of {count} deleted")
    }
}

#[cfg(test)]
mod tests {
    use super::erased_of;

    #[test]
    fn the_results_say_how_many_of_them_are_deleted() {
        assert_eq!(erased_of(0, 2), "");
        assert_eq!(erased_of(1, 2), ", 1 of 2 deleted");
        assert_eq!(erased_of(2, 2), ", 2 of 2 deleted");
    }
}
