//! /users: Users > Manage. Search the account's users by name, email or Salesforce ID; each row opens the
//! user's profile. A search is posted and kept; the URL carries only its id (`?search=`) and the page number.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::users::{load_user_search, search_users};
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, ErrorNotice};
use crate::components::search_box::{SearchBox, refusal_of};
use crate::error::AppError;
use crate::model::{SearchKind, UserPage};

/// All users (no `search`), or the saved search `search`; page `page` of either.
#[component]
pub fn UsersPage() -> impl IntoView {
    let (search_id, page) = use_query_map().with_untracked(|query| {
        let page = query.get("page").and_then(|p| p.parse::<u32>().ok());
        (query.get("search"), page.unwrap_or(0))
    });
    let pages = match &search_id {
        Some(id) => format!("/users?search={id}&page="),
        None => "/users?page=".to_owned(),
    };
    let results = async move {
        Ok::<_, AppError>(match search_id {
            Some(id) => match load_user_search(id, page).await {
                Ok(saved) => (saved.query, Ok(saved.found)),
                Err(error) => (String::new(), Err(error)),
            },
            None => (String::new(), search_users(String::new(), page).await),
        })
    };
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <p class="muted">"Find users by name, email or Salesforce ID. Open a user to manage their permissions."</p>
        <Loaded loading="Searching…" data=results let:results>
            {
                let (text, found) = results;
                let refusal = found.as_ref().err().and_then(refusal_of);
                view! {
                    <SearchBox kind=SearchKind::Users label="Search users" placeholder="Name, email or Salesforce ID" value=text.clone() refusal=refusal.clone()/>
                    {match found {
                        Ok(found) => view! { <UserResults found searched=!text.is_empty() pages=pages.clone()/> }.into_any(),
                        Err(_) if refusal.is_some() => ().into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }}
                }
            }
        </Loaded>
    }
}

/// One page of users; `pages` is the URL of a page of the same search without its number.
#[component]
fn UserResults(found: UserPage, searched: bool, pages: String) -> impl IntoView {
    if found.users.is_empty() {
        let title = if searched {
            "No users match"
        } else {
            "No users yet"
        };
        return view! {
            <EmptyState title>
                <p>"Check the spelling, or search by email or by the 15- or 18-character Salesforce ID."</p>
            </EmptyState>
        }
        .into_any();
    }
    let previous = (found.page > 0).then(|| format!("{pages}{}", found.page - 1));
    let next = found.has_more.then(|| format!("{pages}{}", found.page + 1));
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
