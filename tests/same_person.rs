//! One person's records are tied together: the record page (and its dialog) place a record among the account's
//! records that share its email, with links to the others; an erased record offers the next one that still has
//! data; the search results say how many of the records are erased. Another account's record with the same email
//! is never among them.

mod common;

use common::*;
use reqwest::StatusCode;
use uuid::Uuid;

/// The HTML of page `path` as `client` gets it.
async fn page(client: &Client, console: &Console, path: &str) -> String {
    let response = client
        .http
        .get(console.url(path))
        .send()
        .await
        .expect("the page");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("the page's HTML")
}

#[sqlx::test]
async fn jordans_records_name_each_other_and_the_next_one_with_data(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    // The same email in another account: never one of Acme's Jordan's records.
    let globex_jordan: Uuid = scalar_for(
        &console.pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         select id, '00Q5e00GlobexJordA', 'Lead', 'Jordan Elsewhere', $1 from accounts where name = 'Globex'
         returning id",
        JORDAN,
    )
    .await;

    let (status, detail) = alex.customer_detail(&lead.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let person = &detail["same_person"];
    assert_eq!(person["email"], JORDAN);
    let ids: Vec<&str> = person["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [contact.to_string(), lead.to_string()]);
    assert!(!ids.contains(&globex_jordan.to_string().as_str()));
    assert_eq!(person["records"][0]["has_data"], true);

    let html = page(&alex, &console, &format!("/customers/{lead}")).await;
    assert!(
        html.contains(&format!("2 of 2 records for {JORDAN}")),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="/customers/{contact}""#)));
    assert!(!html.contains("Jordan Elsewhere"));

    let (status, _) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK);
    let html = page(&alex, &console, &format!("/customers/{lead}")).await;
    assert!(html.contains("still has call and message data"), "{html}");
    assert!(html.contains(&format!(r#"href="/customers/{contact}""#)));

    let results = alex.saved_search_page("customers", JORDAN).await;
    let html = page(&alex, &console, &results).await;
    assert!(html.contains("2 records match, 1 of 2 deleted"), "{html}");

    let (status, _) = alex.erase(contact).await;
    assert_eq!(status, StatusCode::OK);
    let html = page(&alex, &console, &format!("/customers/{contact}")).await;
    assert!(!html.contains("still has call and message data"));
    assert!(html.contains("1 of 2 records for"));
}

#[sqlx::test]
async fn a_record_alone_with_its_email_says_nothing_of_others(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let alone: Uuid = scalar_for(
        &console.pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         select id, '00Q5e00AloneAloneA', 'Lead', 'Ari Alone', $1 from accounts where name = 'Acme Corp'
         returning id",
        "ari.alone@example.com",
    )
    .await;
    let (_, detail) = alex.customer_detail(&alone.to_string()).await;
    assert_eq!(
        detail["same_person"]["records"].as_array().map(Vec::len),
        Some(1)
    );
    let html = page(&alex, &console, &format!("/customers/{alone}")).await;
    assert!(!html.contains("records for"));
}
