//! The outbox worker against a storage that fails and recovers: a failed delete stays queued, is not retried
//! before its back-off, and goes once storage works again; the back-off doubles from two seconds and stops at
//! an hour; two workers never handle one key twice; and an erasure wakes a sleeping worker, so its files go at
//! once rather than at the worker's next round.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::*;
use customer_data_console::server::erasure::{OutboxPass, delete_due_objects, run_outbox_worker};
use customer_data_console::server::storage::Storage;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use reqwest::StatusCode;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::{Notify, RwLock};
use uuid::Uuid;

/// The console's object folder behind a switch that makes every delete fail, a tally of the deletes it was
/// asked for per key (when not failing), and (optionally) a gate that holds every delete until it opens.
#[derive(Debug)]
struct FlakyStore {
    folder: LocalFileSystem,
    failing: AtomicBool,
    deleted: Arc<Mutex<BTreeMap<String, usize>>>,
    gate: Option<Arc<RwLock<()>>>,
    at_the_gate: Arc<Notify>,
}

impl FlakyStore {
    fn over(folder: &std::path::Path) -> FlakyStore {
        FlakyStore {
            folder: LocalFileSystem::new_with_prefix(folder)
                .expect("the temporary folder can hold a store"),
            failing: AtomicBool::new(false),
            deleted: Arc::default(),
            gate: None,
            at_the_gate: Arc::default(),
        }
    }

    fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl std::fmt::Display for FlakyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FlakyStore({})", self.folder)
    }
}

#[async_trait]
impl ObjectStore for FlakyStore {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.folder.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.folder.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.folder.get_opts(location, options).await
    }

    async fn delete(&self, location: &ObjectPath) -> object_store::Result<()> {
        if let Some(gate) = &self.gate {
            self.at_the_gate.notify_one();
            let _open = gate.read().await;
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(object_store::Error::Generic {
                store: "FlakyStore",
                source: "storage is down".into(),
            });
        }
        *self
            .deleted
            .lock()
            .expect("no thread panicked while holding the deletion tally")
            .entry(location.to_string())
            .or_default() += 1;
        self.folder.delete(location).await
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.folder.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<ListResult> {
        self.folder.list_with_delimiter(prefix).await
    }

    async fn copy(&self, from: &ObjectPath, to: &ObjectPath) -> object_store::Result<()> {
        self.folder.copy(from, to).await
    }

    async fn copy_if_not_exists(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
    ) -> object_store::Result<()> {
        self.folder.copy_if_not_exists(from, to).await
    }
}

/// Erases Jordan's Lead through the console and returns the stored keys it queued, sorted.
async fn erase_jordans_lead(console: &Console, alex: &Client) -> Vec<String> {
    let (lead, _) = jordans(console).await;
    let mut keys = console.stored_keys(lead).await;
    keys.sort();
    assert!(!keys.is_empty(), "the demo Lead has stored files");
    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    keys
}

/// The outbox rows: (keys, attempts, due now).
async fn outbox(console: &Console) -> Vec<(Vec<String>, i32, bool)> {
    sqlx::query_as(
        "select object_keys, attempts, next_attempt_at <= now() from object_deletions order by id",
    )
    .fetch_all(&console.pool)
    .await
    .expect("the outbox can be read")
}

/// Moves every outbox row's next attempt to now, as if its back-off had passed.
async fn back_off_passes(console: &Console) {
    console
        .run_sql("update object_deletions set next_attempt_at = now()")
        .await;
}

#[sqlx::test]
async fn a_failed_delete_stays_queued_and_goes_once_storage_recovers(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let keys = erase_jordans_lead(&console, &alex).await;
    let store = Arc::new(FlakyStore::over(console.object_store_dir()));
    let storage = Storage::from_store(store.clone());

    store.fail(true);
    let pass = delete_due_objects(&console.pool, &storage, 100)
        .await
        .unwrap();
    assert_eq!(
        pass,
        OutboxPass {
            deleted: 0,
            failed: keys.len(),
            refused: 0,
            rows: 1
        }
    );
    let left = outbox(&console).await;
    assert_eq!(left.len(), 1);
    let (mut queued, attempts, due) = left[0].clone();
    queued.sort();
    assert_eq!((queued, attempts, due), (keys.clone(), 1, false));
    let last_error: String = scalar(&console.pool, "select last_error from object_deletions").await;
    assert!(last_error.contains("storage is down"), "{last_error}");
    for key in &keys {
        assert!(
            storage.exists(key).await.unwrap(),
            "{key} went while storage was down"
        );
    }
    assert_eq!(
        delete_due_objects(&console.pool, &storage, 100)
            .await
            .unwrap(),
        OutboxPass::default(),
        "nothing is retried before its back-off"
    );

    store.fail(false);
    back_off_passes(&console).await;
    let pass = delete_due_objects(&console.pool, &storage, 100)
        .await
        .unwrap();
    assert_eq!(
        pass,
        OutboxPass {
            deleted: keys.len(),
            failed: 0,
            refused: 0,
            rows: 1
        }
    );
    assert_eq!(outbox(&console).await, vec![], "the outbox is empty");
    for key in &keys {
        assert!(!storage.exists(key).await.unwrap(), "{key} is still stored");
    }
}

#[sqlx::test]
async fn the_back_off_doubles_from_two_seconds_and_stops_at_an_hour(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    erase_jordans_lead(&console, &alex).await;
    let store = Arc::new(FlakyStore::over(console.object_store_dir()));
    store.fail(true);
    let storage = Storage::from_store(store);
    let now = || scalar::<OffsetDateTime>(&console.pool, "select now()");
    for attempt in 1..=14_u32 {
        let before = now().await;
        let pass = delete_due_objects(&console.pool, &storage, 100)
            .await
            .unwrap();
        let after = now().await;
        assert_eq!(pass.rows, 1, "attempt {attempt}");
        let (attempts, next): (i32, OffsetDateTime) =
            sqlx::query_as("select attempts, next_attempt_at from object_deletions")
                .fetch_one(&console.pool)
                .await
                .unwrap();
        assert_eq!(attempts, attempt as i32);
        let expected = Duration::from_secs(2_u64.pow(attempt).min(3600));
        assert!(
            before + expected <= next && next <= after + expected,
            "attempt {attempt}: retried {} s later, not {} s",
            (next - before).whole_seconds(),
            expected.as_secs()
        );
        back_off_passes(&console).await;
    }
}

/// One worker is held in the middle of deleting the files of the rows it claimed while a second one drains the
/// outbox: the second skips the held rows, and every key is deleted exactly once.
#[sqlx::test]
async fn two_workers_never_handle_one_key_twice(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let mut keys = erase_jordans_lead(&console, &alex).await;
    let erasure: Uuid = scalar(&console.pool, "select id from erasures").await;
    let account: Uuid = scalar(&console.pool, "select account_id from erasures").await;
    for row in 0..30 {
        let batch: Vec<String> = (0..3)
            .map(|n| format!("recordings/{account}/workers/{row}-{n}.wav"))
            .collect();
        sqlx::query(
            "insert into object_deletions (account_id, erasure_id, object_keys)
             select account_id, id, $2 from erasures where id = $1",
        )
        .bind(erasure)
        .bind(&batch)
        .execute(&console.pool)
        .await
        .unwrap();
        for key in &batch {
            console
                .state
                .storage
                .put(key, b"RIFF".to_vec())
                .await
                .unwrap();
        }
        keys.extend(batch);
    }
    let rows: i64 = scalar(&console.pool, "select count(*) from object_deletions").await;

    let gate = Arc::new(RwLock::new(()));
    let closed = gate.clone().write_owned().await;
    let held = FlakyStore {
        gate: Some(gate),
        ..FlakyStore::over(console.object_store_dir())
    };
    let free = FlakyStore {
        deleted: held.deleted.clone(),
        ..FlakyStore::over(console.object_store_dir())
    };
    let at_the_gate = held.at_the_gate.clone();
    let tally = held.deleted.clone();
    let held_worker = {
        let pool = console.pool.clone();
        let storage = Storage::from_store(Arc::new(held));
        tokio::spawn(async move { delete_due_objects(&pool, &storage, 5).await })
    };
    tokio::time::timeout(SYNC_DEADLINE, at_the_gate.notified())
        .await
        .expect("the held worker never began deleting");
    let free_pass = tokio::time::timeout(
        SYNC_DEADLINE,
        delete_due_objects(&console.pool, &Storage::from_store(Arc::new(free)), 1_000),
    )
    .await
    .expect("the second worker waited for the rows the first one holds")
    .unwrap();
    assert!(!held_worker.is_finished(), "the held worker went on");
    let still_queued: i64 = scalar(&console.pool, "select count(*) from object_deletions").await;
    assert_eq!(still_queued, 5, "only the held worker's rows are left");
    drop(closed);
    let held_pass = held_worker.await.unwrap().unwrap();

    assert_eq!((held_pass.rows, free_pass.rows as i64), (5, rows - 5));
    assert_eq!(held_pass.deleted + free_pass.deleted, keys.len());
    let deleted = tally.lock().unwrap().clone();
    keys.sort();
    assert_eq!(
        deleted.keys().cloned().collect::<Vec<_>>(),
        keys,
        "every key was deleted"
    );
    assert!(
        deleted.values().all(|&times| times == 1),
        "a key was deleted twice: {deleted:?}"
    );
    for key in &keys {
        assert!(
            !console.state.storage.exists(key).await.unwrap(),
            "{key} is still stored"
        );
    }
    assert_eq!(outbox(&console).await, vec![]);
}

/// The worker sleeps up to five seconds between rounds; an erasure wakes it, so the files go within a second.
/// A first erasure shows that the worker runs and has just finished a round; the second one is timed.
#[sqlx::test]
async fn an_erasure_wakes_the_worker_and_its_files_go_within_a_second(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    tokio::spawn(run_outbox_worker(console.state.clone()));
    let first = erase_jordans_lead(&console, &alex).await;
    wait_for_files_to_go(&console, &first, Duration::from_secs(10)).await;

    let (_, contact) = jordans(&console).await;
    let other: Uuid = scalar_for(
        &console.pool,
        "select customer_id from calls c join customers r on r.id = c.customer_id
         where c.recording_key is not null and r.erased_at is null and r.account_id = (select account_id from customers where id = $1)
         order by customer_id limit 1",
        contact,
    )
    .await;
    let second = console.stored_keys(other).await;
    assert!(!second.is_empty());
    let (status, receipt) = alex.erase(other).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    wait_for_files_to_go(&console, &second, Duration::from_secs(1)).await;
}

/// Waits until none of `keys` is stored; panics if one still is after `limit`.
async fn wait_for_files_to_go(console: &Console, keys: &[String], limit: Duration) {
    let deadline = Instant::now() + limit;
    for key in keys {
        while console
            .state
            .storage
            .exists(key)
            .await
            .expect("the object store folder can be read")
        {
            assert!(
                Instant::now() < deadline,
                "{key} was still stored {} ms after the erasure",
                limit.as_millis()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
