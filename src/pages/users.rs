//! /users: Users > Manage. Search the account's users by name, email or Salesforce ID; each row opens the
//! user's profile.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::users::search_users;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::EmptyState;
use crate::components::search_box::SearchBox;
use crate::format::urlencode;
use crate::model::UserPage;

/// The user search: users of the account matching the `q` query parameter (all of them when it is empty), 25
/// to a `page`, each row linking to the user's profile.
#[component]
pub fn UsersPage() -> impl IntoView {
    let (text, page) = use_query_map().with_untracked(|query| {
        let page = query.get("page").and_then(|p| p.parse::<u32>().ok());
        (query.get("q").unwrap_or_default(), page.unwrap_or(0))
    });
    let results = search_users(text.clone(), page);
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <p class="muted">"Find users by name, email or Salesforce ID. Open a user to manage their permissions."</p>
        <SearchBox action="/users" label="Search users" placeholder="Name, email or Salesforce ID" value=text.clone()/>
        <Loaded loading="Searching…" data=results let:found>
            <UserResults found text/>
        </Loaded>
    }
}

#[component]
fn UserResults(found: UserPage, text: String) -> impl IntoView {
    if found.users.is_empty() {
        let title = if text.is_empty() {
            "No users yet"
        } else {
            "No users match"
        };
        return view! {
            <EmptyState title>
                <p>"Check the spelling, or search by email or by the 15- or 18-character Salesforce ID."</p>
            </EmptyState>
        }
        .into_any();
    }
    let encoded = urlencode(&text);
    let previous = (found.page > 0).then(|| format!("/users?q={encoded}&page={}", found.page - 1));
    let next = found
        .has_more
        .then(|| format!("/users?q={encoded}&page={}", found.page + 1));
    view! {
        <div class="card table-card">
            <DataTable caption="Users" headings=&["Name", "Email", "Role", "Salesforce ID", "Manage Customer Data"]>
                <tbody>
                    {found.users.into_iter().map(|user| view! {
                        <tr>
                            <td><a href=format!("/users/{}", user.id)>{user.name}</a></td>
                            <td>{user.email}</td>
                            <td><span class="badge">{user.role.label()}</span></td>
                            <td class="mono">{user.salesforce_id.unwrap_or_else(|| "—".into())}</td>
                            <td>{if user.manage_customer_data { "Yes" } else { "No" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
        <nav class="pager" aria-label="Pages">
            {previous.map(|href| view! { <a href=href class="button">"Previous"</a> })}
            {next.map(|href| view! { <a href=href class="button">"Next"</a> })}
        </nav>
    }
    .into_any()
}
