//! The customer page's activity lists: calls paged newest first across ties on the time, a bad cursor refused,
//! and the calls and messages lists paging independently of each other.

mod common;

use common::*;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn the_customer_page_pages_through_calls_newest_first(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (_, contact) = jordans(&console).await;
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
         select account_id, id, 'outbound', '+1', '+2', date_trunc('minute', now()) - make_interval(mins => g / 3), 60
         from customers, generate_series(1, 130) g where id = $1",
    )
    .bind(contact)
    .execute(&console.pool)
    .await
    .unwrap();
    let newest_first: Vec<String> = column_for(
        &console.pool,
        "select id::text from calls where customer_id = $1 order by started_at desc, id desc",
        contact,
    )
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let id = contact.to_string();
        let mut form = vec![("customer_id", id.as_str())];
        if let Some(c) = cursor.as_deref() {
            form.push(("calls_before", c));
        }
        let (status, page) = alex.post("/api/customers/detail", &form).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let calls = page["calls"].as_array().unwrap();
        assert!(calls.len() <= 50);
        seen.extend(calls.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["older_calls"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen, newest_first,
        "every call once, newest first, ties on the time by id, across pages that split the ties"
    );
    let (status, _) = alex
        .post(
            "/api/customers/detail",
            &[
                ("customer_id", &contact.to_string()),
                ("calls_before", "garbage"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

fn link_after(html: &str, label: &str) -> String {
    let at = html
        .find(&format!(">{label}<"))
        .unwrap_or_else(|| panic!("no {label} link"));
    let href = html[..at].rfind("href=\"").expect("href") + 6;
    html[href..]
        .split('"')
        .next()
        .unwrap_or("")
        .replace("&amp;", "&")
}

#[sqlx::test]
async fn each_list_pages_on_its_own(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (_, contact) = jordans(&console).await;
    console
        .run_sql(&format!(
            "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
             select account_id, id, 'outbound', '+1', '+2', now() - make_interval(mins => g), 60
             from customers, generate_series(1, 70) g where id = '{contact}';
             insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
             select account_id, id, 'outbound', '+1', '+2', 'm', now() - make_interval(mins => g)
             from customers, generate_series(1, 70) g where id = '{contact}';"
        ))
        .await;
    let (_, first) = alex.get(&format!("/customers/{contact}")).await;
    let older_messages = link_after(&first, "Older messages");
    assert!(
        older_messages.contains("messages_before=") && !older_messages.contains("calls_before=")
    );
    let (status, second) = alex.get(&older_messages).await;
    assert_eq!(status, StatusCode::OK);
    let older_calls = link_after(&second, "Older calls");
    let messages_cursor = older_messages.split("messages_before=").nth(1).unwrap();
    assert!(older_calls.contains("calls_before="), "{older_calls}");
    assert!(
        older_calls.contains(&format!("messages_before={messages_cursor}")),
        "moving calls keeps messages where they are: {older_calls}"
    );
}
