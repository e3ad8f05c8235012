//! The erasure is all or nothing: a failure part way through, or a message with media that escapes the delete,
//! leaves every table as it was; concurrent erasures of one record do the work once.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test]
async fn a_failure_part_way_through_the_erasure_leaves_everything_as_it_was(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    console
        .run_sql(
            "create function fail_call_delete() returns trigger language plpgsql as
                 $$ begin raise exception 'injected failure'; end $$;
             create trigger inject_failure before delete on calls for each row execute function fail_call_delete();",
        )
        .await;
    let before = console.snapshot().await;
    let (status, body) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !body.to_string().contains("injected"),
        "database text must not reach the browser: {body}"
    );
    assert_eq!(
        console.snapshot().await,
        before,
        "whatever the erasure deleted before the failure must be back"
    );

    console
        .run_sql("drop trigger inject_failure on calls")
        .await;
    let (status, _) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK);
}

/// A message's stored files go only with the message: when a message with media that the erasure counted is not
/// deleted by it (here a trigger skips it, as if it had been moved to another record meanwhile), nothing is
/// erased and nothing stays queued.
#[sqlx::test]
async fn a_message_with_media_that_escapes_the_delete_rolls_the_erasure_back(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    sqlx::query(
        "update messages set media_keys = array['media/' || account_id || '/escaping.jpg']
         where id = (select id from messages where customer_id = $1 order by id limit 1)",
    )
    .bind(lead)
    .execute(&console.pool)
    .await
    .unwrap();
    console
        .run_sql(
            "create function skip_media_delete() returns trigger language plpgsql as
                 $$ begin if cardinality(old.media_keys) > 0 then return null; end if; return old; end $$;
             create trigger skip_media before delete on messages for each row execute function skip_media_delete();",
        )
        .await;
    let before = console.snapshot().await;
    let (status, body) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("nothing was erased"), "{body}");
    assert_eq!(
        console.snapshot().await,
        before,
        "no record, receipt or queued key changed"
    );

    console.run_sql("drop trigger skip_media on messages").await;
    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
}

#[sqlx::test]
async fn ten_concurrent_erasures_of_one_record_do_the_work_once(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let (lead, _) = jordans(&console).await;
    let answers = console.erase_concurrently(lead, 10).await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let conflicts: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(ok, 1, "{answers:?}");
    assert_eq!(conflicts.len(), 9, "{answers:?}");
    assert!(conflicts[0].to_string().contains("already erased"));
    let receipts = console
        .count("select count(*) from erasures where customer_id = $1", lead)
        .await;
    assert_eq!(receipts, 1);
}
