//! What both benchmarks share: signing in to a running console as the synthetic tenant's Admin, and erasing
//! a record as the console's dialog does.

use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::server::sessions::SESSION_COOKIE;
use customer_data_console::server::{demo, synthetic};
use uuid::Uuid;

/// A client signed in to the console at `base` as the synthetic Admin, and its session token.
pub async fn signed_in_client(base: &str) -> (reqwest::Client, String) {
    let mut browser_headers = reqwest::header::HeaderMap::new();
    browser_headers.insert(
        "origin",
        base.parse().expect("the console's URL as an origin"),
    );
    browser_headers.insert("sec-fetch-site", "same-origin".parse().expect("value"));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(browser_headers)
        .build()
        .expect("client");
    let response = client
        .post(format!("{base}/api/auth/login"))
        .form(&[
            ("email", synthetic::ADMIN_EMAIL),
            ("password", demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 200, "bench admin sign-in");
    let token = response
        .cookies()
        .find(|c| c.name() == SESSION_COOKIE)
        .expect("session cookie")
        .value()
        .to_owned();
    (client, token)
}

/// Erases `customer` through `client`, signed in at `base`, confirmed as the dialog does.
pub async fn erase(
    client: &reqwest::Client,
    base: &str,
    customer: Uuid,
) -> reqwest::Result<reqwest::Response> {
    let id = customer.to_string();
    let form = [
        ("customer_id", id.as_str()),
        ("confirmation", ERASE_CONFIRMATION),
    ];
    let url = format!("{base}/api/customers/erase");
    client.post(url).form(&form).send().await
}
