//! Races: many erasures of one record; an erasure racing new calls, attached recordings and a moved message of
//! the same record; an erasure rolled back as a deadlock victim, once and on every attempt; concurrent
//! grant/revoke of one user; and an erasure waiting for its record while its actor loses access. Each
//! interleaving is made with held locks and synchronized on what `pg_stat_activity` shows (who waits for a lock,
//! in which statement), and each test asserts that the race happened: the waits it needs are observed, and the
//! deadlocks are counted by Postgres.

mod common;

use std::time::{Duration, Instant};

use common::*;
use customer_data_console::server::erasure::LOCK_CUSTOMERS_SQL;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

/// Inserts a call for `customer`, as the capture pipeline does.
async fn insert_call(
    connection: impl sqlx::PgExecutor<'_>,
    customer: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
         select account_id, id, 'inbound', '+14155550001', '+14155559000', now(), 5 from customers where id = $1",
    )
    .bind(customer)
    .execute(connection)
    .await
    .map(|_| ())
}

/// A transaction holding every message of `customer`: an erasure of the record takes the record's lock and then
/// waits in its first message DELETE until the transaction ends.
async fn hold_messages(
    pool: &PgPool,
    customer: Uuid,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = pool
        .begin()
        .await
        .expect("a transaction on the test database");
    let held = sqlx::query("select id from messages where customer_id = $1 for update")
        .bind(customer)
        .execute(&mut *blocker)
        .await
        .expect("the blocker locks the record's messages");
    assert!(held.rows_affected() > 0, "the record has messages to hold");
    blocker
}

/// Erases `customer` as `client` in a task of its own.
fn spawn_erasure(
    client: &Client,
    customer: Uuid,
) -> tokio::task::JoinHandle<(StatusCode, serde_json::Value)> {
    let client = client.clone();
    tokio::spawn(async move { client.erase(customer).await })
}

/// The erasure's message DELETE, which `hold_messages` holds up.
const ERASURE_MESSAGE_DELETE: &str =
    "delete from messages where account_id = $1 and customer_id = $2";

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

/// A call inserted in a transaction that was still open when the erasure began is erased and counted with the
/// record: the erasure waits for it. A call inserted while the erasure holds the record waits for the erasure
/// and is then refused. The erasure is held in its message DELETE until the database shows that insert waiting.
#[sqlx::test]
async fn an_erasure_racing_new_calls_leaves_no_call_behind(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let initial_calls = console
        .count("select count(*) from calls where customer_id = $1", lead)
        .await;

    let mut inserting = console.pool.begin().await.unwrap();
    insert_call(&mut *inserting, lead).await.unwrap();
    let blocker = hold_messages(&console.pool, lead).await;
    let erase = spawn_erasure(&alex, lead);
    wait_for_lock_wait(
        &console.pool,
        LOCK_CUSTOMERS_SQL,
        "the erasure did not wait for the open insert",
    )
    .await;
    inserting.commit().await.unwrap();
    wait_for_lock_wait(
        &console.pool,
        ERASURE_MESSAGE_DELETE,
        "the erasure never took the record",
    )
    .await;
    let late = {
        let pool = console.pool.clone();
        tokio::spawn(async move { insert_call(&pool, lead).await })
    };
    wait_for_lock_wait(
        &console.pool,
        "insert into calls",
        "the late insert did not wait for the erasure",
    )
    .await;
    blocker.commit().await.unwrap();

    let (status, receipt) = erase.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_refused_as_erased(late.await.unwrap(), lead);
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
        initial_calls + 1,
        "the call inserted in time was erased and counted"
    );
    assert_eq!(receipt["counts"]["calls"].as_i64(), Some(initial_calls + 1));
}

/// A recording attached to a call in a transaction that was still open when the erasure began is erased with
/// the call: the erasure waits for it, sees the key and queues it. A recording attached while the erasure holds
/// the record waits for the record while holding its call, which the erasure then needs: a deadlock. Postgres
/// rolls back whichever side checks first: usually the attachment (it waited first), which is then refused and
/// nothing of it is left; on a busy machine sometimes the erasure, which runs again after the attachment and
/// then queues its key too. Either way no call and no key is left behind.
#[sqlx::test]
async fn recordings_attached_during_an_erasure_are_erased_with_it_or_refused(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let calls: Vec<Uuid> = column_for(
        &console.pool,
        "select id from calls where customer_id = $1 order by id",
        lead,
    )
    .await;
    assert!(calls.len() >= 2);
    let account = console.account_of(lead).await;
    let attach = "update calls set recording_key = $2 where id = $1";
    let (in_time, too_late) = (
        format!("recordings/{account}/late/in-time.wav"),
        format!("recordings/{account}/late/too-late.wav"),
    );

    let mut attaching = console.pool.begin().await.unwrap();
    sqlx::query(attach)
        .bind(calls[0])
        .bind(&in_time)
        .execute(&mut *attaching)
        .await
        .unwrap();
    let blocker = hold_messages(&console.pool, lead).await;
    let erase = spawn_erasure(&alex, lead);
    wait_for_lock_wait(
        &console.pool,
        LOCK_CUSTOMERS_SQL,
        "the erasure did not wait for the open attachment",
    )
    .await;
    attaching.commit().await.unwrap();
    wait_for_lock_wait(
        &console.pool,
        ERASURE_MESSAGE_DELETE,
        "the erasure never took the record",
    )
    .await;

    let late = {
        let pool = console.pool.clone();
        let call = calls[1];
        let too_late_key = too_late.clone();
        tokio::spawn(async move {
            sqlx::query(attach)
                .bind(call)
                .bind(too_late_key)
                .execute(&pool)
                .await
        })
    };
    wait_for_lock_wait(
        &console.pool,
        attach,
        "the late attachment did not wait for the erasure",
    )
    .await;
    blocker.commit().await.unwrap();

    let (status, receipt) = erase.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let late = late.await.unwrap();
    let left = console
        .count("select count(*) from calls where customer_id = $1", lead)
        .await;
    assert_eq!(left, 0);
    let queued: Vec<String> = column_for(
        &console.pool,
        "select unnest(object_keys) from object_deletions where erasure_id = $1",
        Uuid::parse_str(receipt["erasure_id"].as_str().unwrap()).unwrap(),
    )
    .await;
    assert!(
        queued.contains(&in_time),
        "the call held {in_time} when it was erased, and the key was not queued: {queued:?}"
    );
    match late {
        Err(refused) => {
            assert_eq!(
                refused
                    .as_database_error()
                    .and_then(|e| e.code())
                    .as_deref(),
                Some("40P01"),
                "the late attachment is rolled back as the deadlock victim: {refused}"
            );
            assert!(
                !queued.contains(&too_late),
                "a refused attachment was queued"
            );
        }
        Ok(_) => assert!(
            queued.contains(&too_late),
            "the erasure was the deadlock victim and ran again after the attachment, yet {too_late} \
             was not queued: {queued:?}"
        ),
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
        column(
        &console.pool,
        "select action from audit_log where action like 'customer_data_permission_%' order by account_id, seq",
    )
    .await;
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

/// The erasure's call DELETE, where it waits for a call that a writer holds.
const ERASURE_CALL_DELETE: &str = "delete from calls where account_id = $1 and customer_id = $2";

/// A transaction holding every call of `customer`, as a writer updating them would.
async fn hold_calls(pool: &PgPool, customer: Uuid) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut writer = pool
        .begin()
        .await
        .expect("a transaction on the test database");
    sqlx::query("select id from calls where customer_id = $1 for update")
        .bind(customer)
        .execute(&mut *writer)
        .await
        .expect("the writer locks the record's calls");
    writer
}

/// Once the erasure waits for the calls `writer` holds, makes the writer wait for the record (as the calls
/// trigger does), which closes the cycle. The writer checks for deadlocks only after 60 s, so the erasure's
/// check (after Postgres's default second) finds the cycle and Postgres rolls the erasure back, however busy
/// the machine: the writer's wait ends while it still holds the calls, which only the erasure's rollback can
/// explain. Asserts that the record was then still intact, and leaves the writer holding the calls (and not the
/// record).
async fn deadlock_the_erasure(
    writer: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    customer: Uuid,
) {
    sqlx::query("set local deadlock_timeout = '60s'")
        .execute(&mut **writer)
        .await
        .expect("a superuser may set deadlock_timeout");
    sqlx::query("savepoint wait_for_the_record")
        .execute(&mut **writer)
        .await
        .expect("the writer sets a savepoint");
    let erased: Option<time::OffsetDateTime> =
        sqlx::query_scalar("select erased_at from customers where id = $1 for share")
            .bind(customer)
            .fetch_one(&mut **writer)
            .await
            .expect("the deadlock victim is the erasure, not the writer");
    assert_eq!(erased, None, "the erasure committed while a call was held");
    let calls: i64 = sqlx::query_scalar("select count(*) from calls where customer_id = $1")
        .bind(customer)
        .fetch_one(&mut **writer)
        .await
        .expect("the writer counts the calls it holds");
    assert!(calls > 0, "the rolled-back erasure deleted calls");
    sqlx::query("rollback to savepoint wait_for_the_record")
        .execute(&mut **writer)
        .await
        .expect("the writer rolls back to its savepoint");
}

/// Waits until Postgres's statistics show `count` deadlocks in this test's database (it publishes them when the
/// rolled-back session next goes idle).
async fn wait_for_deadlocks(pool: &PgPool, count: i64) {
    wait_until(
        pool,
        &format!(
            "select deadlocks = {count} from pg_stat_database where datname = current_database()"
        ),
        &format!("Postgres did not detect {count} deadlocks"),
    )
    .await;
}

/// A writer that holds one of the record's calls and then waits for the record (as the calls trigger does)
/// deadlocks with an erasure that is deleting that call. When Postgres rolls back the erasure, the erasure runs
/// again once the writer is done, and succeeds.
#[sqlx::test]
async fn an_erasure_chosen_as_a_deadlock_victim_runs_again(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let mut writer = hold_calls(&console.pool, lead).await;
    let erase = spawn_erasure(&alex, lead);
    wait_for_lock_wait(
        &console.pool,
        ERASURE_CALL_DELETE,
        "the erasure never waited for the held calls",
    )
    .await;
    deadlock_the_erasure(&mut writer, lead).await;
    writer.commit().await.unwrap();
    let (status, receipt) = erase.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        console
            .count("select count(*) from calls where customer_id = $1", lead)
            .await,
        0
    );
    wait_for_deadlocks(&console.pool, 1).await;
}

/// An erasure that Postgres rolls back as a deadlock victim on every attempt answers 409 (try again), and
/// nothing is erased, counted or left queued.
#[sqlx::test]
async fn an_erasure_that_stays_a_deadlock_victim_answers_409_and_erases_nothing(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let lead = jordans(&console).await.0;
    let before = console.snapshot().await;
    let mut writer = hold_calls(&console.pool, lead).await;
    let erase = spawn_erasure(&alex, lead);
    let mut victims = 0;
    let deadline = std::time::Instant::now() + SYNC_DEADLINE;
    while !erase.is_finished() {
        if lock_waiter(&console.pool, ERASURE_CALL_DELETE)
            .await
            .is_some()
        {
            deadlock_the_erasure(&mut writer, lead).await;
            victims += 1;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the erasure never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (status, body) = erase.await.unwrap();
    assert_answer(&(status, body.clone()), StatusCode::CONFLICT, "the erasure");
    assert!(body.to_string().contains("nothing was erased"), "{body}");
    assert!(victims > 1, "the erasure ran once, not again: {victims}");
    writer.commit().await.unwrap();
    wait_for_deadlocks(&console.pool, victims).await;
    console
        .assert_unchanged(&before, "an erasure that never got past the deadlocks")
        .await;
}

/// A message moved to another record while the erasure waits for it stays with that record, and the receipt
/// neither counts it nor dates the erased activity by it: the receipt describes exactly what was erased.
#[sqlx::test]
async fn a_message_moved_away_during_an_erasure_is_neither_erased_nor_in_the_receipt(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (lead, contact) = jordans(&console).await;
    let moved: Uuid = scalar_for(
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
    wait_for_lock_wait(
        &console.pool,
        "delete from messages",
        "the erasure never waited for the moved message",
    )
    .await;
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
    let owner: Uuid = scalar_for(
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
    let mut holder = console
        .pool
        .begin()
        .await
        .expect("a transaction on the test database");
    sqlx::query("select 1 from customers where id = $1 for update")
        .bind(record)
        .execute(&mut *holder)
        .await
        .expect("the holder locks the record");
    let erase = tokio::spawn({
        let client = client.clone();
        async move { client.erase(record).await }
    });
    until_an_erasure_waits_for_its_record(console).await;
    (holder, erase)
}

/// Returns once an erasure waits for a record's lock (its `LOCK_CUSTOMERS_SQL` shows a lock wait), polling the
/// database without sleeping.
async fn until_an_erasure_waits_for_its_record(console: &Console) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_stat_activity
                            where datname = current_database() and wait_event_type = 'Lock' and query = $1)",
        )
        .bind(LOCK_CUSTOMERS_SQL)
        .fetch_one(&console.pool)
        .await
        .expect("pg_stat_activity can be read");
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
    holder
        .rollback()
        .await
        .expect("the holder releases the record");

    let (status, body) = erase
        .await
        .expect("the erasure task ends without panicking");
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
    .expect("the record is still in the account")
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
