//! "Already erased" is an outcome: an erasure of a record whose data another tab or Admin erased first answers
//! 409 with that earlier erasure's receipt (when, by whom, what), and erases nothing more.

mod common;

use common::*;
use reqwest::StatusCode;

#[sqlx::test]
async fn a_second_erasure_answers_with_the_first_ones_receipt(pool: sqlx::PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    console.set_permission(BLAIR, true).await;
    let blair = console.signed_in(BLAIR).await;
    let (lead, _) = jordans(&console).await;

    let (status, first) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let receipts_before = console
        .count("select count(*) from erasures where customer_id = $1", lead)
        .await;

    let (status, second) = blair.erase(lead).await;
    assert_eq!(status, StatusCode::CONFLICT, "{second}");
    let outcome = &second["AlreadyErased"];
    assert_eq!(outcome["receipt"]["erasure_id"], first["erasure_id"]);
    assert_eq!(outcome["receipt"]["erased_by_name"], "Alex Admin");
    assert_eq!(outcome["receipt"]["counts"], first["counts"]);
    let message = outcome["message"].as_str().expect("a message");
    assert!(
        message.contains("already erased on") && message.ends_with("by Alex Admin."),
        "{message}"
    );
    assert_eq!(
        console
            .count("select count(*) from erasures where customer_id = $1", lead)
            .await,
        receipts_before
    );
}
