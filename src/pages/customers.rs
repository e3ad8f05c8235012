//! /customers: Customer Data > Customers. Search by email, Salesforce ID or phone number; every matching record
//! is listed. The search is posted and kept; the URL carries only its id (`?search=`), never what was searched
//! for. Without access, the page shows why (which rule refuses and who can change it) instead of the search.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::current_access;
use crate::api::customers::load_customer_search;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, ErrorNotice, Notice, Tone};
use crate::components::refusal::RefusalNotice;
use crate::components::search_box::{SearchBox, refusal_of};
use crate::error::AppError;
use crate::format::format_time;
use crate::model::{CustomerMatches, SavedCustomerSearch, SearchKind};

/// The page of a saved search (`?search=<id>`, from the search form's answer), or the empty search; for a user
/// without access to Customer Data, the refusal instead.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let search_id = use_query_map().read_untracked().get("search");
    let search = async move {
        if let Some(refusal) = current_access().await?.customer_data {
            return Ok(Err(refusal));
        }
        Ok::<_, AppError>(Ok(match search_id {
            Some(id) => Some(load_customer_search(id).await),
            None => None,
        }))
    };
    view! {
        <Title text="Customers"/>
        <h1>"Customers"</h1>
        <p class="muted">"Find every record that is one person, by email address, Salesforce ID (15 or 18 characters) or phone number."</p>
        <Loaded loading="Searching…" data=search let:search>
            {match search {
                Ok(search) => view! { <CustomerSearch search/> }.into_any(),
                Err(refusal) => view! { <RefusalNotice part="Customer Data" refusal/> }.into_any(),
            }}
        </Loaded>
    }
}

/// The search box and what the saved search found (or why it failed); the empty search when there is none.
#[component]
fn CustomerSearch(search: Option<Result<SavedCustomerSearch, AppError>>) -> impl IntoView {
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
        <SearchBox kind=SearchKind::Customers label="Search customers" placeholder="Email, Salesforce ID or phone" value=text refusal=refusal.clone()/>
        {match outcome {
            None => view! {
                <EmptyState title="Search for a customer">
                    <p>"Enter the email address, Salesforce ID or phone number from the person's request."</p>
                </EmptyState>
            }.into_any(),
            Some(Ok(matches)) => view! { <CustomerResults matches/> }.into_any(),
            Some(Err(_)) if refusal.is_some() => ().into_any(),
            Some(Err(error)) => view! { <ErrorNotice error/> }.into_any(),
        }}
    }
}

#[component]
fn CustomerResults(matches: CustomerMatches) -> impl IntoView {
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
                <p>{format!("{count} records match{}.", erased_of(erased, count))} " Each record's call and message data is deleted on its own: open each one to delete it."</p>
            </Notice>
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
                            <td class="num">{customer.calls}</td>
                            <td class="num">{customer.messages}</td>
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
