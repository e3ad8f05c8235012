//! The customer search over HTTP: by email (lower-cased by Postgres, not Rust) and by either form of a
//! Salesforce id, by phone number in any common spelling, malformed queries refused, and a search matching
//! more than 100 records saying so.

mod common;

use std::collections::HashSet;

use common::*;
use customer_data_console::server::demo;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

/// Emails are lower-cased by Postgres on both sides: Rust lower-cases `İ` to two characters and a final `Σ` to
/// `ς`, where Postgres gives `i` and `σ`, so lower-casing the query in Rust would miss these records.
#[sqlx::test]
async fn search_by_email_matches_letters_that_lower_case_differently(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let stored = ["İnci.Yılmaz@Example.com.tr", "ΚΩΣΤΑΣ@example.gr"];
    for (n, email) in stored.iter().enumerate() {
        sqlx::query(
            "insert into customers (account_id, salesforce_id, object_type, name, email)
             select id, $1, 'Contact', 'Unicode Case', $2 from accounts where name = 'Acme Corp'",
        )
        .bind(demo::salesforce_id("003", 90_000 + n as u64).as_str())
        .bind(email)
        .execute(&console.pool)
        .await
        .unwrap();
    }
    for (query, expected) in [
        ("İnci.Yılmaz@Example.com.tr", stored[0]),
        ("inci.yılmaz@EXAMPLE.com.tr", stored[0]),
        ("ΚΩΣΤΑΣ@example.gr", stored[1]),
        ("κωστασ@EXAMPLE.gr", stored[1]),
    ] {
        let (status, found) = alex.search_customers(query).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let emails: Vec<&str> = found["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, vec![expected], "searching {query}");
    }
}

#[sqlx::test]
async fn search_finds_every_record_by_email_and_either_id_form(pool: PgPool) {
    let (_console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (status, found) = alex.search_customers("  JORDAN.Rivera@example.com ").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["more"], json!(false));
    let found = &found["records"];
    let types: HashSet<String> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["object_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        HashSet::from(["Lead".to_owned(), "Contact".to_owned()])
    );
    for record in found.as_array().unwrap() {
        assert!(record["calls"].as_i64().unwrap() > 0 && record["messages"].as_i64().unwrap() > 0);
    }

    let long = found[0]["salesforce_id"].as_str().unwrap().to_owned();
    let (_, by_long) = alex.search_customers(&long).await;
    let (_, by_short) = alex.search_customers(&long[..15]).await;
    let (_, by_lower_long) = alex.search_customers(&long.to_lowercase()).await;
    assert_eq!(by_long["records"].as_array().unwrap().len(), 1);
    assert_eq!(by_long["records"][0]["id"], found[0]["id"]);
    assert_eq!(by_long, by_short);
    assert_eq!(
        by_long, by_lower_long,
        "an 18-character id is case-insensitive"
    );

    for malformed in [
        "00Q5e00000abc",
        &format!("{}ZZZ", &long[..15]),
        "no-at-sign-or-id",
        "",
        "a\0@b.c",
    ] {
        let (status, body) = alex.search_customers(malformed).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{malformed:?}: {body}"
        );
        assert_no_internal_text(&body);
    }
}

/// A search lists at most 100 records and says when more match, on the endpoint and on the page, rather than
/// leaving an admin to think the list is complete.
#[sqlx::test]
async fn a_search_matching_more_than_100_records_says_so(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let shared = "info@bigcorp.example";
    let add_records = |from: u64, to: u64| {
        let pool = console.pool.clone();
        async move {
            for n in from..to {
                sqlx::query(
                    "insert into customers (account_id, salesforce_id, object_type, name, email)
                     select id, $1, 'Account', 'Big Corp ' || $2, $3 from accounts where name = 'Acme Corp'",
                )
                .bind(demo::salesforce_id("001", 80_000 + n).as_str())
                .bind(n.to_string())
                .bind(shared)
                .execute(&pool)
                .await
                .unwrap();
            }
        }
    };
    add_records(0, 100).await;
    let (status, found) = alex.search_customers(shared).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["records"].as_array().unwrap().len(), 100);
    assert_eq!(found["more"], json!(false));
    let text_of = |html: String| html.replace("<!>", "");
    let (_, page) = alex
        .get(&alex.saved_search_page("customers", shared).await)
        .await;
    let page = text_of(page);
    assert!(page.contains("100 records match."), "{page}");
    assert!(!page.contains("More than"));

    add_records(100, 101).await;
    let (status, found) = alex.search_customers(shared).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["records"].as_array().unwrap().len(), 100);
    assert_eq!(found["more"], json!(true));
    let (_, page) = alex
        .get(&alex.saved_search_page("customers", shared).await)
        .await;
    assert!(
        text_of(page).contains("More than 100 records match, and only the first 100 are listed."),
        "the page says the list is cut short"
    );
}

/// Jordan's Lead and Contact, stored as `(415) 555-0142` and `+1 415 555 0142`, are found from any common
/// spelling of the number, national ones read with the account's default country (US). A number that is not
/// one is refused with the reason; another account's Admin finds nothing.
#[sqlx::test]
async fn search_by_phone_finds_every_record_of_the_number_in_any_spelling(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let jordans: HashSet<String> = console
        .customer_ids_with_email(JORDAN)
        .await
        .into_iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(jordans.len(), 2);
    for spelling in [
        "+1 (415) 555-0142",
        "+14155550142",
        "415.555.0142",
        "(415) 555-0142",
        "415 555 0142",
        "4155550142",
        "00 1 415 555 0142",
        "001-415-555-0142",
        "1 415 555 0142",
        " +1 415/555/0142 ",
    ] {
        let (status, found) = alex.search_customers(spelling).await;
        assert_eq!(status, StatusCode::OK, "{spelling}: {found}");
        let ids: HashSet<String> = found["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, jordans, "searching {spelling}");
    }
    let (status, body) = alex.search_customers("+999 123 4567").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.to_string()
            .contains("That phone number's country code does not exist."),
        "{body}"
    );
    console.set_account_setting(GINA, true).await;
    console.set_permission(GINA, true).await;
    let gina = console.signed_in(GINA).await;
    let (status, found) = gina.search_customers("+1 415 555 0142").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["records"], json!([]));
}
