//! Races: many erasures of one record, an erasure racing new calls for the same customer, and concurrent
//! grant/revoke of one user.

mod common;

use common::*;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Lets `racer` start, erases `lead` as `client` while it runs, and returns the receipt and what the racer saw.
async fn erase_during<T>(
    client: &Client,
    lead: uuid::Uuid,
    racer: tokio::task::JoinHandle<T>,
) -> (serde_json::Value, T) {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, receipt) = client.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    (receipt, racer.await.unwrap())
}

#[sqlx::test]
async fn twenty_concurrent_erasures_write_one_receipt(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let lead = jordans(&console).await.0;
    let answers = console.erase_concurrently(lead, 20).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        19,
        "{statuses:?}"
    );
    let receipts: i64 = scalar(&console.pool, "select count(*) from erasures").await;
    assert_eq!(receipts, 1);
}

#[sqlx::test]
async fn an_erasure_racing_new_calls_leaves_no_call_behind(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let initial_calls = console
        .count("select count(*) from calls where customer_id = $1", lead)
        .await;

    let inserter = {
        let pool = console.pool.clone();
        tokio::spawn(async move {
            let mut accepted = 0i64;
            let mut refused = 0i64;
            for _ in 0..300 {
                let result = sqlx::query(
                    "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
                     select account_id, id, 'inbound', '+14155550001', '+14155559000', now(), 5 from customers where id = $1",
                )
                .bind(lead)
                .execute(&pool)
                .await;
                match result {
                    Ok(_) => accepted += 1,
                    Err(_) => refused += 1,
                }
                tokio::task::yield_now().await;
            }
            (accepted, refused)
        })
    };
    let (receipt, (accepted, refused)) = erase_during(&alex, lead, inserter).await;
    assert!(
        refused > 0,
        "inserts after the erasure must be refused (accepted {accepted})"
    );

    let left = console
        .count("select count(*) from calls where customer_id = $1", lead)
        .await;
    assert_eq!(left, 0, "a call was left behind");
    let counted: i32 = scalar_for(
        &console.pool,
        "select calls_deleted from erasures where customer_id = $1",
        lead,
    )
    .await;
    assert_eq!(
        i64::from(counted),
        initial_calls + accepted,
        "every accepted call was erased and counted"
    );
    assert_eq!(
        receipt["counts"]["calls"].as_i64(),
        Some(initial_calls + accepted)
    );
}

#[sqlx::test]
async fn recordings_attached_during_an_erasure_are_erased_with_it_or_refused(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let calls: Vec<uuid::Uuid> = column_for(
        &console.pool,
        "select id from calls where customer_id = $1",
        lead,
    )
    .await;
    assert!(!calls.is_empty());

    let attacher = {
        let pool = console.pool.clone();
        let calls = calls.clone();
        tokio::spawn(async move {
            let mut last_attached = std::collections::HashMap::new();
            let mut too_late = 0;
            for n in 0..300 {
                let call = calls[n % calls.len()];
                let key = format!("recordings/late/{n}.wav");
                let result = sqlx::query("update calls set recording_key = $2 where id = $1")
                    .bind(call)
                    .bind(&key)
                    .execute(&pool)
                    .await;
                match result {
                    Ok(done) if done.rows_affected() == 1 => {
                        last_attached.insert(call, key);
                    }
                    Ok(_) | Err(_) => too_late += 1,
                }
                tokio::task::yield_now().await;
            }
            (last_attached, too_late)
        })
    };
    let (receipt, (last_attached, too_late)) = erase_during(&alex, lead, attacher).await;
    assert!(
        !last_attached.is_empty() && too_late > 0,
        "the race did not happen: {} attached, {too_late} too late",
        last_attached.len()
    );
    let left = console
        .count("select count(*) from calls where customer_id = $1", lead)
        .await;
    assert_eq!(left, 0);
    let queued: Vec<String> = column_for(
        &console.pool,
        "select unnest(object_keys) from object_deletions where erasure_id = $1",
        uuid::Uuid::parse_str(receipt["erasure_id"].as_str().unwrap()).unwrap(),
    )
    .await;
    for (call, key) in &last_attached {
        assert!(
            queued.contains(key),
            "call {call} held {key} when it was erased, and the key was not queued"
        );
    }
}

#[sqlx::test]
async fn concurrent_grants_and_revokes_leave_a_consistent_state(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_account_setting(ALEX, true).await;
    let blair = console.user_id(BLAIR).await.to_string();
    let mut clients = Vec::new();
    for _ in 0..20 {
        clients.push(console.signed_in(ALEX).await);
    }
    let forms: Vec<[(&str, &str); 2]> = (0..20)
        .map(|i| {
            [
                ("user_id", blair.as_str()),
                ("enabled", if i % 2 == 0 { "true" } else { "false" }),
            ]
        })
        .collect();
    let answers = futures::future::join_all(
        clients
            .iter()
            .zip(&forms)
            .map(|(c, form)| c.post("/api/users/customer-data-permission", form)),
    )
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );

    let held: bool = scalar_for(
        &console.pool,
        "select manage_customer_data from users where email = $1",
        BLAIR,
    )
    .await;
    let actions: Vec<String> =
        column(&console.pool, "select action from audit_events order by id").await;
    assert!(!actions.is_empty());
    for pair in actions.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "each recorded event is a real change: {actions:?}"
        );
    }
    let last_granted = actions
        .last()
        .map(|a| a == "customer_data_permission_granted")
        .unwrap_or(false);
    assert_eq!(
        held, last_granted,
        "the stored permission matches the last recorded change"
    );
    assert_eq!(
        actions[0], "customer_data_permission_granted",
        "Blair started without it"
    );
}

/// A writer that holds one of the record's calls and then waits for the record (as the calls trigger does)
/// deadlocks with an erasure that is deleting that call. When Postgres rolls back the erasure, the erasure runs
/// again once the writer is done, and succeeds.
#[sqlx::test]
async fn an_erasure_chosen_as_a_deadlock_victim_runs_again(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let mut writer = console.pool.begin().await.unwrap();
    sqlx::query("select id from calls where customer_id = $1 for update")
        .bind(lead)
        .execute(&mut *writer)
        .await
        .unwrap();
    let erase = tokio::spawn(async move { alex.erase(lead).await });
    // The erasure now holds the record and waits for the calls the writer holds; the writer then waits for the
    // record, later than the erasure began to wait, so the erasure is the one rolled back.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("select 1 from customers where id = $1 for share")
        .bind(lead)
        .execute(&mut *writer)
        .await
        .unwrap();
    writer.commit().await.unwrap();
    let (status, receipt) = erase.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        console
            .count("select count(*) from calls where customer_id = $1", lead)
            .await,
        0
    );
}

/// A message moved to another record while the erasure waits for it stays with that record, and the receipt
/// neither counts it nor dates the erased activity by it: the receipt describes exactly what was erased.
#[sqlx::test]
async fn a_message_moved_away_during_an_erasure_is_neither_erased_nor_in_the_receipt(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let moved: uuid::Uuid = scalar_for(
        &console.pool,
        "update messages set media_keys = '{}', sent_at = '2001-02-03T04:05:06Z'
         where id = (select id from messages where customer_id = $1 limit 1) returning id",
        lead,
    )
    .await;
    let messages_before = console
        .count("select count(*) from messages where customer_id = $1", lead)
        .await;
    let mut mover = console.pool.begin().await.unwrap();
    sqlx::query("update messages set customer_id = $2 where id = $1")
        .bind(moved)
        .bind(contact)
        .execute(&mut *mover)
        .await
        .unwrap();
    let erase = tokio::spawn(async move { alex.erase(lead).await });
    // The erasure reaches the moved message's row, which the mover holds, and waits for it.
    let mut waits = 0;
    loop {
        let waiting: i64 = scalar(
            &console.pool,
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'
               and query like '%delete from messages%'",
        )
        .await;
        if waiting > 0 {
            break;
        }
        waits += 1;
        assert!(
            waits < 500,
            "the erasure never waited for the moved message"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    mover.commit().await.unwrap();
    let (status, receipt) = erase.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        receipt["counts"]["messages"].as_i64(),
        Some(messages_before - 1),
        "{receipt}"
    );
    let (first_at, messages): (time::OffsetDateTime, i32) = sqlx::query_as(
        "select first_activity_at, messages_deleted from erasures where customer_id = $1",
    )
    .bind(lead)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(i64::from(messages), messages_before - 1);
    assert!(
        first_at > time::macros::datetime!(2001-02-03 04:05:06 UTC),
        "the receipt dates the erased activity from the message that moved away: {first_at}"
    );
    let owner: uuid::Uuid = scalar_for(
        &console.pool,
        "select customer_id from messages where id = $1",
        moved,
    )
    .await;
    assert_eq!(
        owner, contact,
        "the moved message stays with its new record"
    );
}
