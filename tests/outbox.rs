//! The outbox that deletes an erasure's stored files: keys queued in batches with only the failed ones kept,
//! keys of an erasure without a receipt never due and dropped after an hour, and a failed erasure's keys removed
//! only once it has ended and only if it rolled back.

mod common;

use common::*;
use customer_data_console::server::erasure::{
    AWAIT_ERASURE_END_SQL, LOCK_CUSTOMERS_SQL, MARK_ERASED_SQL, OPEN_REQUEST_SQL, OutboxPass,
    delete_due_objects, drop_abandoned_queues, unqueue_failed,
};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test]
async fn the_outbox_queues_keys_in_batches_and_keeps_only_the_ones_that_failed(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, _) = jordans(&console).await;
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at,
                            duration_seconds, recording_key)
         select account_id, id, 'outbound', '+14155559000', '+14155550100', now() - make_interval(secs => g), 30,
                'recordings/' || account_id || '/batch/' || g || '.wav'
         from customers, generate_series(1, 2500) g where id = $1",
    )
    .bind(lead)
    .execute(&console.pool)
    .await
    .unwrap();
    let stored = console
        .count(
            "select count(*) from calls where customer_id = $1 and recording_key is not null",
            lead,
        )
        .await
        + console
            .count(
                "select coalesce(sum(cardinality(media_keys)), 0) from messages where customer_id = $1",
                lead,
            )
            .await;
    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");

    let batches: Vec<i32> = column(
        &console.pool,
        "select cardinality(object_keys) from object_deletions order by 1 desc",
    )
    .await;
    assert!(
        batches.iter().all(|&n| (1..=1000).contains(&n)),
        "{batches:?}"
    );
    assert_eq!(batches.iter().map(|&n| i64::from(n)).sum::<i64>(), stored);
    assert!(
        batches.len() >= 3,
        "2,500 keys in batches of 1,000: {batches:?}"
    );

    // A key whose path is a folder cannot be deleted: its deletion fails and only it stays queued.
    let stubborn = format!("recordings/{}/batch/7.wav", console.account_of(lead).await);
    std::fs::create_dir_all(console.object_store_dir().join(&stubborn).join("inside")).unwrap();
    let pass = delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .unwrap();
    assert_eq!(pass.rows, batches.len());
    assert_eq!((pass.deleted as i64, pass.failed), (stored - 1, 1));
    let left: Vec<(Vec<String>, i32, bool)> = sqlx::query_as(
        "select object_keys, attempts, next_attempt_at > now() from object_deletions",
    )
    .fetch_all(&console.pool)
    .await
    .unwrap();
    assert_eq!(left, vec![(vec![stubborn], 1, true)]);
}

/// Keys queued for an erasure whose receipt never committed (queued beside a transaction that then failed) are
/// never deleted from storage; after an hour they are dropped.
#[sqlx::test]
async fn keys_of_an_erasure_without_a_receipt_are_never_due_and_dropped_after_an_hour(
    pool: PgPool,
) {
    let console = Console::start(pool).await;
    let (lead, _) = jordans(&console).await;
    let keys = console.stored_keys(lead).await;
    assert!(!keys.is_empty());
    for object in &keys {
        let path = console.object_store_dir().join(object);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"recording").unwrap();
    }
    let (recent, old) = (Uuid::new_v4(), Uuid::new_v4());
    for (erasure, age) in [(recent, "5 minutes"), (old, "2 hours")] {
        sqlx::query(
            "insert into object_deletions (account_id, erasure_id, object_keys, created_at)
             select account_id, $2, $3, now() - $4::interval from customers where id = $1",
        )
        .bind(lead)
        .bind(erasure)
        .bind(&keys)
        .bind(age)
        .execute(&console.pool)
        .await
        .unwrap();
    }

    let pass = delete_due_objects(&console.pool, &console.state.storage, 100)
        .await
        .unwrap();
    assert_eq!(
        pass,
        OutboxPass::default(),
        "nothing is due without a receipt"
    );
    for object in &keys {
        assert!(
            console.object_store_dir().join(object).exists(),
            "{object} was deleted"
        );
    }
    assert_eq!(drop_abandoned_queues(&console.pool).await.unwrap(), 1);
    let left: Vec<Uuid> = column(&console.pool, "select erasure_id from object_deletions").await;
    assert_eq!(left, vec![recent]);
}

/// A failed erasure's queued keys are removed only once the record's lock is free, and only if the erasure rolled
/// back: one whose commit answer was lost may still be committing, and then its keys must stay queued.
#[sqlx::test]
async fn queued_keys_are_removed_only_after_the_erasure_ended_and_only_if_it_rolled_back(
    pool: PgPool,
) {
    let console = Console::start(pool).await;
    let (lead, _) = jordans(&console).await;
    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from customers where id = $1",
        lead,
    )
    .await;
    let alex = console.user_id(ALEX).await;
    for commits in [false, true] {
        let (request, erasure) = (Uuid::new_v4(), Uuid::new_v4());
        let mut erasing = console.pool.begin().await.unwrap();
        sqlx::query(LOCK_CUSTOMERS_SQL)
            .bind(account)
            .bind(vec![lead])
            .fetch_one(&mut *erasing)
            .await
            .unwrap();
        sqlx::query(OPEN_REQUEST_SQL)
            .bind(account)
            .bind(request)
            .bind(alex)
            .bind(true)
            .bind(None::<Uuid>)
            .execute(&mut *erasing)
            .await
            .unwrap();
        sqlx::query(
            "insert into object_deletions (account_id, erasure_id, object_keys) values ($1, $2, $3)",
        )
        .bind(account)
        .bind(erasure)
        .bind(vec!["recordings/committing.wav"])
        .execute(&console.pool)
        .await
        .unwrap();
        let mut receipt = sqlx::query(MARK_ERASED_SQL)
            .bind(account)
            .bind(lead)
            .bind(alex)
            .bind(erasure);
        for count in [1_i32, 1, 0, 0, 0, 0] {
            receipt = receipt.bind(count);
        }
        receipt
            .bind(None::<time::OffsetDateTime>)
            .bind(None::<time::OffsetDateTime>)
            .bind(0_i32)
            .bind(request)
            .execute(&mut *erasing)
            .await
            .unwrap();

        let pool = console.pool.clone();
        let removal =
            tokio::spawn(async move { unqueue_failed(&pool, account, &[lead], &[erasure]).await });
        wait_for_lock_wait(
            &console.pool,
            AWAIT_ERASURE_END_SQL,
            "the removal did not wait for the erasure's lock",
        )
        .await;
        assert!(
            !removal.is_finished(),
            "the removal waits for the erasure's lock"
        );
        if commits {
            erasing.commit().await.unwrap();
        } else {
            erasing.rollback().await.unwrap();
        }
        removal.await.unwrap().unwrap();
        let queued = console
            .count(
                "select count(*) from object_deletions where erasure_id = $1",
                erasure,
            )
            .await;
        assert_eq!(queued, i64::from(commits), "commits: {commits}");
    }
}
