//! The browser side of the islands: knowing when an island is interactive, and loading a page afresh after a
//! change. Effects run only in the browser, after hydration, so a signal set by one is false in the server's
//! HTML and turns true once the island's wasm has taken over. After a change to the account setting or a
//! permission, an island reads the signed-in user again and brings the navigation up to date in place.

use leptos::prelude::*;

use crate::api::auth::current_viewer;
use crate::model::Viewer;

/// `true` once this island has hydrated. Switches and saving or destructive buttons stay disabled until then.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// Now, by the browser's clock (by the server's where this runs on the server).
#[cfg(feature = "hydrate")]
pub fn now() -> time::OffsetDateTime {
    let millis = window()
        .performance()
        .map(|p| p.time_origin() + p.now())
        .unwrap_or_default();
    time::OffsetDateTime::from_unix_timestamp_nanos((millis * 1_000_000.0) as i128)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Now, by the server's clock.
#[cfg(not(feature = "hydrate"))]
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Loads `path` as a new page, rendered by the server from what the database now holds. Pages are not
/// rendered in the browser, so this is how an island shows the outcome of a change beyond itself.
pub fn load_page(path: &str) {
    let _ = window().location().assign(path);
}

/// Loads the current page again (after an erasure, the record then shows its receipt).
pub fn reload_page() {
    let _ = window().location().reload();
}

/// Reads the signed-in user again, after a change to the account setting or to a permission, and adds or removes
/// the navigation's Customer Data entries to match, so the navigation reflects the change without the page
/// loading again. Answers the user as read now (`None` when the read failed or nobody is signed in).
pub async fn navigation_after_change() -> Option<Viewer> {
    let viewer = current_viewer().await.ok().flatten()?;
    show_customer_data_entries(viewer.can_manage_customer_data);
    Some(viewer)
}

/// The value of `data-nav` on the navigation's Customer Data entries (`Sidebar`), which
/// `navigation_after_change` adds and removes.
pub const CUSTOMER_DATA_NAV: &str = "customer-data";

/// The navigation's Customer Data entries: each page and its label, in order.
pub const CUSTOMER_DATA_LINKS: [(&str, &str); 4] = [
    ("/customers", "Customers"),
    ("/requests", "Requests"),
    ("/suppressions", "Suppression list"),
    ("/audit", "Audit log"),
];

/// Adds the navigation's Customer Data entries (as `Sidebar` renders them) when `shown` and they are missing, and
/// removes them when not.
#[cfg(feature = "hydrate")]
fn show_customer_data_entries(shown: bool) {
    let document = document();
    let Ok(entries) = document.query_selector_all(&format!("[data-nav='{CUSTOMER_DATA_NAV}']"))
    else {
        return;
    };
    if shown && entries.length() == 0 {
        let Ok(Some(list)) = document.query_selector(".nav-list") else {
            return;
        };
        let entry = |class: Option<&str>| {
            let li = document.create_element("li").ok()?;
            li.set_attribute("data-nav", CUSTOMER_DATA_NAV).ok()?;
            if let Some(class) = class {
                li.set_attribute("class", class).ok()?;
            }
            Some(li)
        };
        let Some(group) = entry(Some("nav-group")) else {
            return;
        };
        group.set_text_content(Some("Customer Data"));
        let _ = list.append_child(&group);
        for (href, label) in CUSTOMER_DATA_LINKS {
            let (Some(item), Ok(link)) = (entry(None), document.create_element("a")) else {
                return;
            };
            link.set_text_content(Some(label));
            let _ = link.set_attribute("href", href);
            let _ = item.append_child(&link);
            let _ = list.append_child(&item);
        }
    } else if !shown {
        for entry in (0..entries.length()).filter_map(|i| entries.item(i)) {
            if let Some(parent) = entry.parent_node() {
                let _ = parent.remove_child(&entry);
            }
        }
    }
}

#[cfg(not(feature = "hydrate"))]
fn show_customer_data_entries(_shown: bool) {}
