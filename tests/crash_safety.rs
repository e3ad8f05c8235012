//! The real binary killed with SIGKILL: in the middle of each long statement of erasing a large record, as
//! `pg_stat_activity` shows it (the record is then intact, and every stored file has its call or its outbox row),
//! and after an erasure committed but before its files were deleted (a restarted server deletes them); while
//! its scheduler erases a held request of five records (the request stays scheduled, the records untouched, and a
//! restarted server erases it); and two servers on one database with a due request (it is erased once); and
//! while its scheduler works through a confirmed bulk job (a restarted server finishes it, each person erased
//! once). And at each point of a key destruction: after the erasure committed and before its key was destroyed,
//! after the keyring committed the rotation and before the new root file replaced the old one, and after the new
//! root was written as the pending file but before the keyring committed: after a restart the erased record's
//! key is destroyed and every other record's key opens.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::server::erasure::{
    COUNT_AND_QUEUE_SQL, DELETE_CALLS_SQL, DELETE_MESSAGES_SQL,
};
use customer_data_console::server::keys::root::RootFiles;
use customer_data_console::server::keys::{self, Keyring};
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{demo, synthetic};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(database_url: &str, objects: &Path, keys: &Path, outbox_worker: bool) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free loopback port to bind")
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("EVIDENCE_SECRET", TEST_EVIDENCE_SECRET)
            .env_remove("EVIDENCE_SECRET_FILE")
            .env("OBJECT_STORE_DIR", objects)
            .env("OUTBOX_WORKER", outbox_worker.to_string())
            .envs(keyring_env(database_url, keys))
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the console");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{base}/login")).await.is_err() {
            assert!(Instant::now() < deadline, "the console did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, base }
    }

    async fn client(&self) -> reqwest::Client {
        self.client_of(ALEX).await
    }

    async fn client_of(&self, email: &str) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(browser_headers(&self.base))
            .build()
            .expect("a client with a cookie store");
        let login = client
            .post(format!("{}/api/auth/login", self.base))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("the console answers the sign-in");
        assert_eq!(login.status(), StatusCode::OK);
        client
    }

    /// Kills the server with SIGKILL and reaps it.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// A server still running when a test fails is killed with it.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Erases `customer` through `client`, signed in at `base`, confirmed as the dialog does.
async fn erase(
    client: &reqwest::Client,
    base: &str,
    customer: Uuid,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/api/customers/erase"))
        .form(&erase_form(&customer.to_string()))
        .send()
        .await
}

struct State {
    calls: i64,
    messages: i64,
    erased: bool,
    receipts: i64,
}

async fn state_of(pool: &PgPool, customer: Uuid) -> State {
    let (calls, messages, erased, receipts): (i64, i64, bool, i64) = sqlx::query_as(
        "select (select count(*) from calls where customer_id = $1), (select count(*) from messages where customer_id = $1),
                (select erased_at is not null from customers where id = $1),
                (select count(*) from erasures where customer_id = $1)",
    )
    .bind(customer)
    .fetch_one(pool)
    .await
    .expect("the record's state can be read");
    State {
        calls,
        messages,
        erased,
        receipts,
    }
}

/// Every stored file of `keys` still has its call row or its outbox row.
async fn assert_no_orphan_files(pool: &PgPool, storage: &Storage, keys: &[String]) {
    for key in keys {
        if !storage
            .exists(key)
            .await
            .expect("the object store folder can be read")
        {
            continue;
        }
        let referenced: bool = scalar_for(
            pool,
            "select exists (select 1 from calls where recording_key = $1)
                 or exists (select 1 from object_deletions where $1 = any(object_keys))",
            key,
        )
        .await;
        assert!(
            referenced,
            "{key} is stored with neither its call nor an outbox row"
        );
    }
}

/// Waits for the outbox to drain and asserts that none of `keys` is still stored; `failure` says what it
/// means if one is.
async fn assert_deleted_once_the_outbox_drains(
    pool: &PgPool,
    storage: &Storage,
    keys: &[String],
    failure: &str,
) {
    wait_for_outbox_to_drain(pool).await;
    for key in keys {
        assert!(
            !storage
                .exists(key)
                .await
                .expect("the object store folder can be read"),
            "{key} {failure}"
        );
    }
}

/// Waits until every outbox row of a committed erasure is done. Rows an erasure queued beside its transaction
/// before it was killed have no receipt: they are never due (and are dropped after an hour).
async fn wait_for_outbox_to_drain(pool: &PgPool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: i64 = scalar(
            pool,
            "select count(*) from object_deletions o where exists (select 1 from erasures e where e.id = o.erasure_id)",
        )
        .await;
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{left} outbox rows made no progress"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The demo data in a fresh object store folder, with Alex holding Manage Customer Data in Acme.
async fn demo_with_access(pool: &PgPool) -> (tempfile::TempDir, Storage, tempfile::TempDir) {
    let objects = tempfile::tempdir().expect("a temporary folder for the object store");
    let storage = Storage::local(objects.path()).expect("an object store in the temporary folder");
    let keys = tempfile::tempdir().expect("a temporary folder for the key root");
    let keyring = test_keyring(pool, keys.path()).await;
    demo::seed(pool, &storage, &keyring)
        .await
        .expect("the demo data loads");
    sqlx::query("update accounts set manage_customer_data = true where name = 'Acme Corp'")
        .execute(pool)
        .await
        .expect("the account setting can be turned on");
    sqlx::query("update users set manage_customer_data = true where email = $1")
        .bind(ALEX)
        .execute(pool)
        .await
        .expect("Alex can be granted the permission");
    (objects, storage, keys)
}

/// A transaction that holds one of the erasure's long statements in the middle of its work: it holds the outbox
/// table (the count's INSERT waits for it), or the oldest message or call of `customer`, which the DELETE
/// reaches last, after deleting the others.
async fn hold_up(
    pool: &PgPool,
    statement: &str,
    customer: Uuid,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = pool
        .begin()
        .await
        .expect("a transaction on the test database");
    let hold = if statement == COUNT_AND_QUEUE_SQL {
        "lock table object_deletions in share mode".to_owned()
    } else {
        let table = if statement == DELETE_CALLS_SQL {
            "calls"
        } else {
            "messages"
        };
        let at = if statement == DELETE_CALLS_SQL {
            "started_at"
        } else {
            "sent_at"
        };
        format!(
            "select id from {table} where customer_id = '{customer}' order by {at} limit 1 for update"
        )
    };
    sqlx::raw_sql(&hold)
        .execute(&mut *blocker)
        .await
        .expect("the blocker takes its lock");
    blocker
}

/// What `pg_stat_activity` shows of `statement`: its first 1,000 bytes at most (`track_activity_query_size`
/// cuts longer ones).
fn shown(statement: &str) -> &str {
    &statement[..statement.len().min(1_000)]
}

/// Whether backend `pid` is running `statement` (the erasure's SQL).
async fn running(pool: &PgPool, pid: i32, statement: &str) -> bool {
    sqlx::query_scalar(
        "select exists (select 1 from pg_stat_activity where pid = $1 and state = 'active' and strpos(query, $2) = 1)",
    )
    .bind(pid)
    .bind(shown(statement))
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity can be read")
}

/// Kills the server while each of the erasure's long statements runs: counting and queueing the stored keys,
/// deleting the messages, deleting the calls. Each statement is held in the middle of its work by a lock, the
/// kill waits until `pg_stat_activity` shows the erasure in it, and the statement is shown still running after
/// the kill (the erasure's session outlives its server until it has a result to send) while the request gets
/// no answer. The record is intact each time, and every stored file still has its call; an erasure after the
/// crashes erases it and its files.
#[sqlx::test]
async fn killed_in_the_middle_of_each_erasure_statement_the_record_is_intact(pool: PgPool) {
    let (objects, storage, key_root) = demo_with_access(&pool).await;
    let customer: Uuid = scalar(
        &pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         select id, '00Q5e00BigRecorEEB', 'Lead', 'Big Record', 'big.record@example.com' from accounts where name = 'Acme Corp'
         returning id",
    )
    .await;
    let account: Uuid = scalar_for(
        &pool,
        "select account_id from customers where id = $1",
        customer,
    )
    .await;
    let rows = 150_000;
    for insert in [
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds, recording_key)
         select account_id, id, 'outbound', '+14155559000', '+14155550777', now() - make_interval(secs => g), 30,
                case when g <= 50 then 'recordings/' || account_id || '/big/' || g || '.wav' end
         from customers, generate_series(1, $2) g where customers.id = $1",
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select account_id, id, 'inbound', '+14155550777', '+14155559000', 'message ' || g, now() - make_interval(secs => g)
         from customers, generate_series(1, $2) g where customers.id = $1",
    ] {
        sqlx::query(insert)
            .bind(customer)
            .bind(rows)
            .execute(&pool)
            .await
            .unwrap();
    }
    let keys: Vec<String> = (1..=50)
        .map(|g| format!("recordings/{account}/big/{g}.wav"))
        .collect();
    for key in &keys {
        storage.put(key, b"RIFF".to_vec()).await.unwrap();
    }
    let url = database_url_of(&pool);

    for (stage, statement) in [
        ("counting and queueing", COUNT_AND_QUEUE_SQL),
        ("deleting the messages", DELETE_MESSAGES_SQL),
        ("deleting the calls", DELETE_CALLS_SQL),
    ] {
        let blocker = hold_up(&pool, statement, customer).await;
        let server = Server::start(&url, objects.path(), key_root.path(), true).await;
        let client = server.client().await;
        let erase = tokio::spawn({
            let base = server.base.clone();
            async move { erase(&client, &base, customer).await }
        });
        let pid = wait_for_lock_wait(
            &pool,
            shown(statement),
            &format!("the erasure never began {stage}"),
        )
        .await;
        server.kill();
        assert!(
            running(&pool, pid, statement).await,
            "the kill did not land while the erasure was {stage}"
        );
        let answer = erase.await.unwrap();
        assert!(
            answer.as_ref().is_err_and(reqwest::Error::is_request),
            "a request whose server was killed got an answer: {answer:?}"
        );
        blocker.commit().await.unwrap();
        wait_until(
            &pool,
            &format!("select not exists (select 1 from pg_stat_activity where pid = {pid})"),
            "the killed erasure's session did not end",
        )
        .await;

        let state = state_of(&pool, customer).await;
        assert!(
            state.calls == i64::from(rows)
                && state.messages == i64::from(rows)
                && !state.erased
                && state.receipts == 0,
            "killed while {stage}: {} calls, {} messages, erased {}, {} receipts",
            state.calls,
            state.messages,
            state.erased,
            state.receipts
        );
        assert_no_orphan_files(&pool, &storage, &keys).await;
        eprintln!("killed while {stage}: the record is intact");
    }

    let server = Server::start(&url, objects.path(), key_root.path(), true).await;
    let client = server.client().await;
    let response = erase(&client, &server.base, customer).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the intact record erases after the crashes"
    );
    let state = state_of(&pool, customer).await;
    assert!(state.calls == 0 && state.messages == 0 && state.erased && state.receipts == 1);
    assert_deleted_once_the_outbox_drains(&pool, &storage, &keys, "survived the erasure").await;
    server.kill();
}

#[sqlx::test]
async fn killed_after_the_commit_the_files_are_deleted_after_a_restart(pool: PgPool) {
    let (objects, storage, key_root) = demo_with_access(&pool).await;
    let lead = jordans_lead(&pool).await;
    let keys: Vec<String> = column_for(
        &pool,
        "select recording_key from calls where customer_id = $1 and recording_key is not null",
        lead,
    )
    .await;
    assert!(!keys.is_empty());
    let url = database_url_of(&pool);

    let web_only = Server::start(&url, objects.path(), key_root.path(), false).await;
    let client = web_only.client().await;
    let response = erase(&client, &web_only.base, lead).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    web_only.kill();
    for key in &keys {
        assert!(
            storage.exists(key).await.unwrap(),
            "{key} was deleted before the crash"
        );
    }
    assert_no_orphan_files(&pool, &storage, &keys).await;
    let queued: i64 = scalar(
        &pool,
        "select coalesce(sum(cardinality(object_keys)), 0) from object_deletions",
    )
    .await;
    assert_eq!(queued, keys.len() as i64);

    let keyring_url = keyring_url_of(&url, key_root.path());
    let keyring_pool = PgPool::connect(&keyring_url).await.expect("the keyring");
    assert_eq!(
        keys_held(&keyring_pool, lead).await,
        1,
        "the key outlives the crash"
    );
    let queued: i64 = scalar_for(
        &pool,
        "select count(*) from key_destructions where customer_id = $1 and destroyed_at is null",
        lead,
    )
    .await;
    assert_eq!(queued, 1, "its destruction is queued");
    keyring_pool.close().await;

    let restarted = Server::start(&url, objects.path(), key_root.path(), true).await;
    let failure = "is still stored after the restart";
    assert_deleted_once_the_outbox_drains(&pool, &storage, &keys, failure).await;
    wait_for_key_destroyed(&pool, lead).await;
    restarted.kill();
    assert_only_the_erased_key_is_gone(&keyring_url, key_root.path(), lead).await;
}

/// The keyring the servers of `pool`'s database use, with the root file under `key_root`.
async fn keyring_beside(pool: &PgPool, key_root: &Path) -> Keyring {
    let keyring_pool = keys::connect_and_migrate(&keyring_url_of(&database_url_of(pool), key_root))
        .await
        .expect("the keyring");
    Keyring::open(keyring_pool, RootFiles::new(key_root.join("root.key")))
        .await
        .expect("the root file opens the keyring")
}

/// The keyring's URL beside the database at `database_url`, as the servers get it.
fn keyring_url_of(database_url: &str, key_root: &Path) -> String {
    keyring_env(database_url, key_root)
        .into_iter()
        .find(|(name, _)| *name == "KEYRING_DATABASE_URL")
        .expect("the keyring's URL")
        .1
}

/// How many data keys of `customer` the keyring holds.
async fn keys_held(keyring_pool: &PgPool, customer: Uuid) -> i64 {
    scalar_for(
        keyring_pool,
        "select count(*) from data_keys where customer_id = $1",
        customer,
    )
    .await
}

/// Waits until the key worker marked the destruction of `customer`'s key.
async fn wait_for_key_destroyed(pool: &PgPool, customer: Uuid) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let destroyed: i64 = scalar_for(
            pool,
            "select count(*) from key_destructions where customer_id = $1 and destroyed_at is not null",
            customer,
        )
        .await;
        if destroyed == 1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the key of {customer} was not destroyed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the keyring at `keyring_url` with the root file under `key_root` (as a server starting up does) and
/// asserts that `erased` has no key and every other record's key opens.
async fn assert_only_the_erased_key_is_gone(keyring_url: &str, key_root: &Path, erased: Uuid) {
    let keyring_pool = keys::connect_and_migrate(keyring_url)
        .await
        .expect("the keyring");
    let root_file = key_root.join("root.key");
    let keyring = Keyring::open(keyring_pool.clone(), RootFiles::new(root_file.clone()))
        .await
        .expect("the root file opens the keyring");
    assert!(
        !pending_root(&root_file).exists(),
        "no pending root is left"
    );
    assert!(
        keyring
            .existing_key(erased)
            .await
            .expect("keyring")
            .is_none(),
        "the erased record's key is destroyed"
    );
    let customers: Vec<Uuid> = sqlx::query_scalar("select customer_id from data_keys")
        .fetch_all(&keyring_pool)
        .await
        .expect("the keyring's records");
    assert!(customers.len() > 10, "{} keys", customers.len());
    for customer in customers {
        assert!(
            keyring
                .existing_key(customer)
                .await
                .expect("every other key opens")
                .is_some(),
            "{customer}"
        );
    }
    keyring_pool.close().await;
}

/// The pending root file beside `root_file`.
fn pending_root(root_file: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.next", root_file.display()))
}

/// The advisory lock the test holds to keep a rotation's commit waiting.
const COMMIT_HOLD: i64 = 424_242;

/// How a test ends a rotation whose server was killed while its keyring commit waited.
#[derive(Debug, Clone, Copy)]
enum AfterTheKill {
    /// The commit goes through once the hold is released: the keyring is at the new generation and the new
    /// root is only in the pending file.
    Committed,
    /// The keyring's session is ended before it commits: the keyring is as it was, and a pending file is left.
    RolledBack,
}

/// Kills the server while its key worker rotates for an erasure, after the pending root file was written and
/// while the keyring's commit waits (a deferred trigger the test adds to `key_root` takes an advisory lock the
/// test holds); then lets that commit through or ends it, restarts, and checks the keys.
async fn kill_during_a_rotation(pool: PgPool, after: AfterTheKill) {
    let (objects, _storage, key_root) = demo_with_access(&pool).await;
    let lead = jordans_lead(&pool).await;
    let url = database_url_of(&pool);
    let keyring_url = keyring_url_of(&url, key_root.path());
    let keyring_pool = PgPool::connect(&keyring_url).await.expect("the keyring");
    sqlx::raw_sql(&format!(
        "create function hold_rotation_commit() returns trigger language plpgsql as $$
         begin perform pg_advisory_xact_lock({COMMIT_HOLD}); return null; end $$;
         create constraint trigger hold_rotation_commit after update on key_root
             deferrable initially deferred for each row execute function hold_rotation_commit();"
    ))
    .execute(&keyring_pool)
    .await
    .expect("the hold is installed");
    let mut holder = keyring_pool.acquire().await.expect("a connection");
    sqlx::query("select pg_advisory_lock($1)")
        .bind(COMMIT_HOLD)
        .execute(&mut *holder)
        .await
        .expect("the hold is taken");
    let generation_before: i64 = scalar(&keyring_pool, "select generation from key_root").await;
    let root_file = key_root.path().join("root.key");
    let root_before = std::fs::read(&root_file).expect("the root file");

    let server = Server::start(&url, objects.path(), key_root.path(), true).await;
    let client = server.client().await;
    let response = erase(&client, &server.base, lead)
        .await
        .expect("the console answers the erasure");
    assert_eq!(response.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting_pid = loop {
        let waiting: Option<i32> = sqlx::query_scalar(
            "select pid from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'
               and query ilike 'commit%'",
        )
        .fetch_optional(&keyring_pool)
        .await
        .expect("pg_stat_activity can be read");
        if let Some(pid) = waiting
            && pending_root(&root_file).exists()
        {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the rotation did not reach its commit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server.kill();

    if let AfterTheKill::RolledBack = after {
        sqlx::query("select pg_terminate_backend($1)")
            .bind(waiting_pid)
            .execute(&keyring_pool)
            .await
            .expect("the keyring's session is ended");
    }
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(COMMIT_HOLD)
        .execute(&mut *holder)
        .await
        .expect("the hold is released");
    drop(holder);
    let deadline = Instant::now() + Duration::from_secs(30);
    while scalar::<i64>(
        &keyring_pool,
        &format!("select count(*) from pg_stat_activity where pid = {waiting_pid}"),
    )
    .await
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "the killed server's keyring session did not end"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let generation_after: i64 = scalar(&keyring_pool, "select generation from key_root").await;
    assert_eq!(
        std::fs::read(&root_file).expect("the root file"),
        root_before,
        "the root file was not replaced before the kill"
    );
    assert!(
        pending_root(&root_file).exists(),
        "the pending root is left"
    );
    match after {
        AfterTheKill::Committed => {
            assert_eq!(
                generation_after,
                generation_before + 1,
                "the rotation committed"
            );
            assert_eq!(keys_held(&keyring_pool, lead).await, 0);
        }
        AfterTheKill::RolledBack => {
            assert_eq!(
                generation_after, generation_before,
                "the rotation rolled back"
            );
            assert_eq!(keys_held(&keyring_pool, lead).await, 1);
        }
    }
    sqlx::raw_sql(
        "drop trigger hold_rotation_commit on key_root; drop function hold_rotation_commit();",
    )
    .execute(&keyring_pool)
    .await
    .expect("the hold is removed");
    keyring_pool.close().await;

    let restarted = Server::start(&url, objects.path(), key_root.path(), true).await;
    wait_for_key_destroyed(&pool, lead).await;
    restarted.kill();
    assert_only_the_erased_key_is_gone(&keyring_url, key_root.path(), lead).await;
    let root_after = std::fs::read(&root_file).expect("the root file");
    assert_ne!(root_after, root_before, "the old root is gone");
}

#[sqlx::test]
async fn killed_between_the_keyring_commit_and_the_root_replacement_the_pending_root_is_promoted(
    pool: PgPool,
) {
    kill_during_a_rotation(pool, AfterTheKill::Committed).await;
}

#[sqlx::test]
async fn killed_before_the_keyring_commit_the_pending_root_is_discarded_and_the_key_destroyed_again(
    pool: PgPool,
) {
    kill_during_a_rotation(pool, AfterTheKill::RolledBack).await;
}

/// Confirms, through `client` at `base`, the erasure of the records `ids` that the search `query` lists, and
/// answers the request's id; the account's policy holds it.
async fn held_request(client: &reqwest::Client, base: &str, ids: &[Uuid], query: &str) -> Uuid {
    let ids = ids
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let answer: serde_json::Value = client
        .post(format!("{base}/api/requests/create"))
        .form(&[
            ("customer_ids", ids.as_str()),
            ("query", query),
            ("confirmation", ERASE_CONFIRMATION),
        ])
        .send()
        .await
        .expect("the console answers the confirmation")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(answer["state"], "scheduled", "{answer}");
    Uuid::parse_str(answer["request_id"].as_str().expect("a request id")).expect("a UUID")
}

/// Holds Acme's requests for an hour, so that a confirmed request waits for the scheduler.
async fn hold_acme_requests(pool: &PgPool) {
    sqlx::query("update accounts set hold_hours = 1 where name = 'Acme Corp'")
        .execute(pool)
        .await
        .expect("the policy can be set");
}

/// Makes request `request` due now.
async fn make_due(pool: &PgPool, request: Uuid) {
    sqlx::query(
        "update erasure_requests set not_before = now() - interval '1 minute' where id = $1",
    )
    .bind(request)
    .execute(pool)
    .await
    .expect("the request can be made due");
}

async fn request_state(pool: &PgPool, request: Uuid) -> String {
    scalar_for(
        pool,
        "select state from erasure_requests where id = $1",
        request,
    )
    .await
}

/// A person with five records of 10,000 calls each is in a request that came due. The scheduler of a new
/// server starts erasing it at once, and the server is killed while its erasure deletes the first record's calls.
/// The request is then still scheduled (never left `erasing`) and every record untouched; a restarted server
/// erases it within its first pass, all five records in one request.
#[sqlx::test]
async fn a_request_killed_while_erasing_is_untouched_and_completes_after_a_restart(pool: PgPool) {
    let (objects, _storage, key_root) = demo_with_access(&pool).await;
    hold_acme_requests(&pool).await;
    let email = "pat.five@example.com";
    let mut records: Vec<Uuid> = column_for(
        &pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         select a.id, '00Q5e00PatFive' || n || 'AAA', 'Lead', 'Pat Five', $1
         from accounts a, generate_series(1, 5) n where a.name = 'Acme Corp'
         returning id",
        email,
    )
    .await;
    records.sort();
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
         select c.account_id, c.id, 'outbound', '+14155559000', '+14155550777', now() - make_interval(secs => g), 30
         from customers c, generate_series(1, 10000) g where c.email = $1",
    )
    .bind(email)
    .execute(&pool)
    .await
    .expect("the calls load");
    let url = database_url_of(&pool);

    let first = Server::start(&url, objects.path(), key_root.path(), true).await;
    let request = held_request(&first.client().await, &first.base, &records, email).await;
    first.kill();

    let blocker = hold_up(&pool, DELETE_CALLS_SQL, records[0]).await;
    make_due(&pool, request).await;
    let erasing = Server::start(&url, objects.path(), key_root.path(), true).await;
    let pid = wait_for_lock_wait(
        &pool,
        shown(DELETE_CALLS_SQL),
        "the scheduler never began erasing the due request",
    )
    .await;
    erasing.kill();
    blocker.commit().await.expect("the blocker ends");
    wait_until(
        &pool,
        &format!("select not exists (select 1 from pg_stat_activity where pid = {pid})"),
        "the killed erasure's session did not end",
    )
    .await;
    assert_eq!(request_state(&pool, request).await, "scheduled");
    for &record in &records {
        let state = state_of(&pool, record).await;
        assert!(
            state.calls == 10_000 && !state.erased && state.receipts == 0,
            "killed mid-way, record {record} has {} calls, erased {}, {} receipts",
            state.calls,
            state.erased,
            state.receipts
        );
    }

    let restarted = Server::start(&url, objects.path(), key_root.path(), true).await;
    wait_until(
        &pool,
        &format!("select state = 'completed' from erasure_requests where id = '{request}'"),
        "the restarted server did not erase the due request",
    )
    .await;
    for &record in &records {
        let state = state_of(&pool, record).await;
        assert!(state.calls == 0 && state.erased && state.receipts == 1);
    }
    let receipts: i64 = scalar_for(
        &pool,
        "select count(*) from erasures where request_id = $1",
        request,
    )
    .await;
    assert_eq!(receipts, 5);
    restarted.kill();
}

/// Two servers start on one database with a request that came due while the first holds it in its erasure:
/// the request is erased once, each record with one receipt.
#[sqlx::test]
async fn two_instances_on_one_database_run_a_due_request_once(pool: PgPool) {
    let (objects, _storage, key_root) = demo_with_access(&pool).await;
    hold_acme_requests(&pool).await;
    let (lead, contact) = {
        let lead = jordans_lead(&pool).await;
        let contact: Uuid = scalar_for(
            &pool,
            "select id from customers where email = (select email from customers where id = $1) and object_type = 'Contact'",
            lead,
        )
        .await;
        (lead, contact)
    };
    let mut records = vec![lead, contact];
    records.sort();
    let url = database_url_of(&pool);
    let first = Server::start(&url, objects.path(), key_root.path(), true).await;
    let request = held_request(&first.client().await, &first.base, &records, JORDAN).await;
    first.kill();

    let blocker = hold_up(&pool, DELETE_CALLS_SQL, records[0]).await;
    make_due(&pool, request).await;
    let (one, two) = tokio::join!(
        Server::start(&url, objects.path(), key_root.path(), true),
        Server::start(&url, objects.path(), key_root.path(), true)
    );
    wait_for_lock_wait(
        &pool,
        shown(DELETE_CALLS_SQL),
        "no scheduler began erasing the due request",
    )
    .await;
    blocker.commit().await.expect("the blocker ends");
    wait_until(
        &pool,
        &format!("select state = 'completed' from erasure_requests where id = '{request}'"),
        "the due request was not erased",
    )
    .await;
    for record in records {
        let state = state_of(&pool, record).await;
        assert!(
            state.erased && state.receipts == 1,
            "{record}: {} receipts",
            state.receipts
        );
    }
    one.kill();
    two.kill();
}

/// The number of `job`'s requests in `state`.
async fn bulk_requests_in(pool: &PgPool, job: Uuid, state: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from erasure_requests where bulk_job_id = $1 and state = $2",
    )
    .bind(job)
    .bind(state)
    .fetch_one(pool)
    .await
    .expect("the job's requests can be counted")
}

#[sqlx::test]
async fn a_bulk_job_killed_mid_way_is_finished_after_a_restart_each_person_erased_once(
    pool: PgPool,
) {
    let (objects, _storage, key_root) = demo_with_access(&pool).await;
    let size = synthetic::Size {
        customers: 1_500,
        calls: 3_000,
        messages: 3_000,
    };
    let keyring = keyring_beside(&pool, key_root.path()).await;
    let tenant = synthetic::seed(&pool, &keyring, size, false)
        .await
        .expect("the synthetic tenant loads");
    let people: Vec<String> = (100..1_300)
        .filter(|i| !matches!(i % 10, 1 | 5))
        .map(synthetic::email)
        .collect();
    let file = format!("email\n{}\n", people.join("\n"));
    let url = database_url_of(&pool);
    let first = Server::start(&url, objects.path(), key_root.path(), true).await;
    let admin = first.client_of(synthetic::ADMIN_EMAIL).await;
    let (content_type, body) = bulk_upload_body(file.as_bytes(), true);
    let uploaded = admin
        .post(format!("{}/requests/bulk", first.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the console answers the upload");
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let job = uploaded.headers()["location"]
        .to_str()
        .ok()
        .and_then(|location| location.strip_prefix("/requests/bulk/"))
        .and_then(|id| Uuid::parse_str(id).ok())
        .expect("the job's page in Location");
    let persons = people.len().to_string();
    let confirmed = admin
        .post(format!("{}/api/bulk/confirm", first.base))
        .form(&[
            ("job_id", job.to_string().as_str()),
            ("confirmation", "DELETE"),
            ("persons", persons.as_str()),
        ])
        .send()
        .await
        .expect("the console answers the confirmation");
    assert_eq!(confirmed.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(60);
    while bulk_requests_in(&pool, job, "completed").await < 20 {
        assert!(Instant::now() < deadline, "the job did not start");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    let done_when_killed = bulk_requests_in(&pool, job, "completed").await;
    assert!(
        done_when_killed < people.len() as i64,
        "the job had finished before the kill ({done_when_killed} done)"
    );

    let second = Server::start(&url, objects.path(), key_root.path(), true).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    while bulk_requests_in(&pool, job, "completed").await < people.len() as i64 {
        assert!(
            Instant::now() < deadline,
            "the restarted server did not finish the job ({} done)",
            bulk_requests_in(&pool, job, "completed").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(bulk_requests_in(&pool, job, "failed").await, 0);
    let (records, erased, receipts): (i64, i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where c.erased_at is not null),
                (select count(*) from erasures e where e.account_id = $2)
         from erasure_request_records r
         join erasure_requests q on q.id = r.request_id
         join customers c on c.id = r.customer_id
         where q.bulk_job_id = $1",
    )
    .bind(job)
    .bind(tenant.account_id)
    .fetch_one(&pool)
    .await
    .expect("the job's records can be read");
    assert_eq!(erased, records, "every record of the job is erased");
    assert_eq!(receipts, records, "each record erased once, by one request");
    second.kill();
}
