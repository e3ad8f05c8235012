//! /customers: Customer Data > Customers. Search by email or Salesforce ID; every matching record is listed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::customers::search_customers;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, Notice, Tone};
use crate::components::search_box::SearchBox;
use crate::format::format_time;
use crate::model::CustomerMatches;

/// The customer search: the `q` query parameter is searched (nothing is, while it is empty) and the matching
/// records are listed, each linking to its page.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let text = use_query_map()
        .read_untracked()
        .get("q")
        .unwrap_or_default();
    let results = {
        let text = text.clone();
        async move {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                search_customers(text).await.map(Some)
            }
        }
    };
    view! {
        <Title text="Customers"/>
        <h1>"Customers"</h1>
        <p class="muted">"Find every record that is one person, by email address or Salesforce ID (15 or 18 characters)."</p>
        <SearchBox action="/customers" label="Search customers" placeholder="Email or Salesforce ID" value=text/>
        <Loaded loading="Searching…" data=results let:matches>
            {match matches {
                None => view! {
                    <EmptyState title="Search for a customer">
                        <p>"Enter the email address or Salesforce ID from the person's request."</p>
                    </EmptyState>
                }.into_any(),
                Some(matches) => view! { <CustomerResults matches/> }.into_any(),
            }}
        </Loaded>
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
                <p>"No Lead, Contact, Account or Opportunity in your account has this email or Salesforce ID."</p>
            </EmptyState>
        }
        .into_any();
    }
    let count = found.len();
    view! {
        {more.then(|| view! {
            <Notice tone=Tone::Warning>
                <p>"More than " {count} " records match, and only the first " {count} " are listed. Search by Salesforce ID to find each of the others."</p>
            </Notice>
        })}
        {(count > 1).then(|| view! {
            <Notice tone=Tone::Info>
                <p>{count} " records match. Each record's call and message data is erased on its own: open each one to erase it."</p>
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
                                Some(at) => view! { <span class="badge badge-erased">"Erased " {format_time(at)}</span> }.into_any(),
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
