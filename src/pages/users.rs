//! /users: Users > Manage. Search the account's users by name, email or Salesforce ID; each row opens the
//! user's profile. A search is posted and kept; the URL carries only its id (`?search=`) and the page number.
//! An Agent sees why the page is refused (it is for Admins, who are named) instead of the search.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::current_access;
use crate::api::users::{load_user_search, search_users};
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, ErrorNotice};
use crate::components::refusal::{ADMIN_CONSOLE, RefusalNotice};
use crate::components::search_box::{SearchBox, refusal_of};
use crate::error::AppError;
use crate::model::{Refusal, SearchKind, UserPage};

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
        let access = current_access().await?;
        if let Some(refusal) = access.admin_console {
            return Ok(Err(refusal));
        }
        let setting_off = matches!(access.customer_data, Some(Refusal::SettingOff { .. }));
        let (text, found) = match search_id {
            Some(id) => match load_user_search(id, page).await {
                Ok(saved) => (saved.query, Ok(saved.found)),
                Err(error) => (String::new(), Err(error)),
            },
            None => (String::new(), search_users(String::new(), page).await),
        };
        Ok::<_, AppError>(Ok((text, found, setting_off)))
    };
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <p class="muted">"Find users by name, email or Salesforce ID. Open a user to manage their permissions."</p>
        <Loaded loading="Searching…" data=results let:results>
            {match results {
                Ok((text, found, setting_off)) => {
                    let refusal = found.as_ref().err().and_then(refusal_of);
                    view! {
                        <SearchBox kind=SearchKind::Users label="Search users" placeholder="Name, email or Salesforce ID" value=text.clone() refusal=refusal.clone()/>
                        {match found {
                            Ok(found) => view! { <UserResults found searched=!text.is_empty() pages=pages.clone() setting_off/> }.into_any(),
                            Err(_) if refusal.is_some() => ().into_any(),
                            Err(error) => view! { <ErrorNotice error/> }.into_any(),
                        }}
                    }.into_any()
                }
                Err(refusal) => view! { <RefusalNotice part=ADMIN_CONSOLE refusal/> }.into_any(),
            }}
        </Loaded>
    }
}

/// One page of users; `pages` is the URL of a page of the same search without its number. While the account
/// setting is off (`setting_off`), a held permission is shown as inactive.
#[component]
fn UserResults(found: UserPage, searched: bool, pages: String, setting_off: bool) -> impl IntoView {
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
                            <td>{permission_label(user.manage_customer_data, setting_off)}</td>
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

/// The Manage Customer Data column: whether the user holds it, and that it does nothing while the account
/// setting is off.
fn permission_label(holds: bool, setting_off: bool) -> &'static str {
    match (holds, setting_off) {
        (true, false) => "Yes",
        (true, true) => "Yes (inactive: account setting off)",
        (false, _) => "No",
    }
}

#[cfg(test)]
mod tests {
    use super::permission_label;

    #[test]
    fn a_held_permission_is_inactive_while_the_setting_is_off() {
        assert_eq!(permission_label(true, false), "Yes");
        assert_eq!(
            permission_label(true, true),
            "Yes (inactive: account setting off)"
        );
        assert_eq!(permission_label(false, true), "No");
    }
}
