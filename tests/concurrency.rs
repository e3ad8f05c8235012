//! Races: many erasures of one record, an erasure racing new calls for the same customer, concurrent
//! grant/revoke of one user, and an erasure waiting for its record while its actor loses access.

mod common;

use std::time::{Duration, Instant};

use common::*;
use customer_data_console::server::erasure::LOCK_CUSTOMER_SQL;
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
    let account = console.account_of(lead).await;

    let attacher = {
        let pool = console.pool.clone();
        let calls = calls.clone();
        tokio::spawn(async move {
            let mut last_attached = std::collections::HashMap::new();
            let mut too_late = 0;
            for n in 0..300 {
                let call = calls[n % calls.len()];
                let key = format!("recordings/{account}/late/{n}.wav");
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

/// Locks `record` from a second connection (as a running erasure would), sends `client`'s erasure of it, and
/// returns once that erasure waits for the record: the open transaction that holds it, and the erasure's answer
/// to come.
async fn erasure_waiting_for_its_record(
    console: &Console,
    client: &Client,
    record: uuid::Uuid,
) -> (
    sqlx::Transaction<'static, sqlx::Postgres>,
    tokio::task::JoinHandle<(StatusCode, serde_json::Value)>,
) {
    let mut holder = console.pool.begin().await.unwrap();
    sqlx::query("select 1 from customers where id = $1 for update")
        .bind(record)
        .execute(&mut *holder)
        .await
        .unwrap();
    let erase = tokio::spawn({
        let client = client.clone();
        async move { client.erase(record).await }
    });
    until_an_erasure_waits_for_its_record(console).await;
    (holder, erase)
}

/// Returns once an erasure waits for a record's lock (its `LOCK_CUSTOMER_SQL` shows a lock wait), polling the
/// database without sleeping.
async fn until_an_erasure_waits_for_its_record(console: &Console) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_stat_activity
                            where datname = current_database() and wait_event_type = 'Lock' and query = $1)",
        )
        .bind(LOCK_CUSTOMER_SQL)
        .fetch_one(&console.pool)
        .await
        .unwrap();
        if waiting {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the erasure never waited for the record"
        );
    }
}

/// What takes Alex's access to Customer Data away while his erasure waits.
#[derive(Clone, Copy, Debug)]
enum Withdrawal {
    /// Blair revokes his Manage Customer Data permission.
    Permission,
    /// Blair turns the account's Manage Customer Data setting off.
    AccountSetting,
    /// Alex signs out, which ends the session the erasure was sent in.
    SignOut,
}

/// Holds Jordan's Lead from a second connection, sends Alex's erasure of it, waits until that erasure waits for
/// the record, withdraws Alex's access, then releases the record: the erasure must answer `expected` and change
/// nothing.
async fn an_erasure_outlived_by_its_access_is_refused(
    pool: PgPool,
    withdrawal: Withdrawal,
    expected: StatusCode,
) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let blair = console.signed_in(BLAIR).await;
    let alex_id = console.user_id(ALEX).await.to_string();
    let lead = jordans(&console).await.0;
    let (holder, erase) = erasure_waiting_for_its_record(&console, &alex, lead).await;

    let (status, body) = match withdrawal {
        Withdrawal::Permission => {
            blair
                .post(
                    "/api/users/customer-data-permission",
                    &[("user_id", alex_id.as_str()), ("enabled", "false")],
                )
                .await
        }
        Withdrawal::AccountSetting => {
            blair
                .post("/api/settings/customer-data", &[("enabled", "false")])
                .await
        }
        Withdrawal::SignOut => alex.post("/api/auth/logout", &[]).await,
    };
    assert_eq!(status, StatusCode::OK, "{withdrawal:?}: {body}");
    let withdrawn = console.snapshot().await;
    holder.rollback().await.unwrap();

    let (status, body) = erase.await.unwrap();
    assert_eq!(status, expected, "{withdrawal:?}: {body}");
    assert_eq!(
        console.snapshot().await,
        withdrawn,
        "{withdrawal:?}: the refused erasure changed something"
    );
    assert_eq!(activity_left(&console, lead).await, (false, true));
}

/// Whether `customer` is marked erased, and whether it still has calls.
async fn activity_left(console: &Console, customer: uuid::Uuid) -> (bool, bool) {
    sqlx::query_as(
        "select erased_at is not null, exists (select 1 from calls where customer_id = $1)
         from customers where id = $1",
    )
    .bind(customer)
    .fetch_one(&console.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_permission_revoked_while_the_erasure_waits_for_the_record_stops_it(pool: PgPool) {
    an_erasure_outlived_by_its_access_is_refused(
        pool,
        Withdrawal::Permission,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[sqlx::test]
async fn the_account_setting_turned_off_while_the_erasure_waits_for_the_record_stops_it(
    pool: PgPool,
) {
    an_erasure_outlived_by_its_access_is_refused(
        pool,
        Withdrawal::AccountSetting,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[sqlx::test]
async fn a_sign_out_while_the_erasure_waits_for_the_record_stops_it(pool: PgPool) {
    an_erasure_outlived_by_its_access_is_refused(
        pool,
        Withdrawal::SignOut,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

/// A change to the actor's user row that stays uncommitted (a revocation in flight) makes the erasure wait for it
/// only briefly: it answers 409 "try again" and erases nothing, rather than erasing on a permission that may be
/// going away or waiting for as long as the change takes.
#[sqlx::test]
async fn an_erasure_does_not_wait_long_for_a_change_to_its_actor(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let before = console.snapshot().await;
    let mut revoking = console.pool.begin().await.unwrap();
    // The row lock an UPDATE of the user takes.
    sqlx::query("select 1 from users where email = $1 for no key update")
        .bind(ALEX)
        .execute(&mut *revoking)
        .await
        .unwrap();
    let (status, body) = tokio::time::timeout(Duration::from_secs(30), alex.erase(lead))
        .await
        .expect("the erasure waited for the change to the user for 30 s");
    revoking.rollback().await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("Try again"), "{body}");
    assert_no_internal_text(&body);
    assert_eq!(console.snapshot().await, before);
}

/// The receipt is dated when the erasure decided and committed, not when its transaction began: an erasure that
/// waited for the record is dated after the wait.
#[sqlx::test]
async fn the_receipt_is_dated_after_the_wait_for_the_record(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let (mut holder, erase) = erasure_waiting_for_its_record(&console, &alex, lead).await;
    let released_at: time::OffsetDateTime = sqlx::query_scalar("select clock_timestamp()")
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    holder.rollback().await.unwrap();
    let (status, receipt) = erase.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let (erased_at, receipt_at): (time::OffsetDateTime, time::OffsetDateTime) = sqlx::query_as(
        "select c.erased_at, e.erased_at from customers c join erasures e on e.customer_id = c.id where c.id = $1",
    )
    .bind(lead)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(erased_at, receipt_at);
    assert!(
        erased_at > released_at,
        "the receipt is dated {erased_at}, before the record was released at {released_at}"
    );
}
