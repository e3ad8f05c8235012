//! Refuse before inviting: without access, /customers (and /users for an Agent) shows which rule refuses and
//! the account's Admins by name, not a search form; `auth/access` answers the same for the caller.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

/// The HTML of page `path` as `client` gets it.
async fn page(client: &Client, console: &Console, path: &str) -> String {
    let response = client
        .http
        .get(console.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .expect("the page");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("the page's HTML")
}

const SEARCH_FIELD: &str = r#"type="search""#;
const ACME_ADMINS: &str = "Alex Admin and Blair Admin";

#[sqlx::test]
async fn the_setting_off_is_named_with_who_can_turn_it_on(pool: sqlx::PgPool) {
    let console = Console::start(pool).await;
    console.set_permission(ALEX, true).await;
    let alex = console.signed_in(ALEX).await;
    let html = page(&alex, &console, "/customers").await;
    assert!(html.contains("Manage Customer Data is turned off for your account."));
    assert!(html.contains(ACME_ADMINS));
    assert!(html.contains(r#"<a href="/admin">Open the Admin Console</a>"#));
    assert!(!html.contains("then gives you the permission"));
    assert!(!html.contains(SEARCH_FIELD));

    let (status, access) = alex.post("/api/auth/access", NO_FIELDS).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        access,
        json!({
            "customer_data": {"SettingOff": {"admins": ["Alex Admin", "Blair Admin"], "holds_permission": true}},
            "admin_console": null,
        })
    );
}

#[sqlx::test]
async fn a_missing_permission_is_named_with_the_admins_who_can_give_it(pool: sqlx::PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(ALEX, true).await;
    let blair = console.signed_in(BLAIR).await;
    let html = page(&blair, &console, "/customers").await;
    assert!(html.contains("You do not have the Manage Customer Data permission."));
    assert!(html.contains(ACME_ADMINS));
    assert!(html.contains("you can give it to yourself"));
    assert!(!html.contains(SEARCH_FIELD));
}

#[sqlx::test]
async fn an_agent_is_told_the_pages_are_for_admins(pool: sqlx::PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(ALEX, true).await;
    let casey = console.signed_in(CASEY).await;
    for (path, refusal) in [
        ("/customers", "Customer Data is for Admins."),
        ("/users", "Only Admins can use the Admin Console."),
    ] {
        let html = page(&casey, &console, path).await;
        assert!(html.contains(refusal), "{path}: {html}");
        assert!(html.contains(ACME_ADMINS), "{path}");
        assert!(!html.contains(SEARCH_FIELD), "{path}");
    }
}

#[sqlx::test]
async fn with_access_the_search_is_offered_and_nothing_is_refused(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    for path in ["/customers", "/users"] {
        let html = page(&alex, &console, path).await;
        assert!(html.contains(SEARCH_FIELD), "{path}");
    }
    let (status, access) = alex.post("/api/auth/access", NO_FIELDS).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        access,
        json!({"customer_data": null, "admin_console": null})
    );
}
