//! The keyring against real Postgres: data keys open under the root file and seal values that open only in
//! their place; destroying one key leaves every other key opening, while neither a dump of the keyring taken
//! before, restored next to the current root, nor the live keyring's current node keys open the destroyed
//! one; the states a crash leaves at each step of a rotation settle without losing a key; a keyring refuses a
//! root file that does not belong to it; an erasure queues its record's key destruction and the key worker
//! carries it out once; keys made in batches open like the others, and none is made for an erased record.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use customer_data_console::server::keys::destructions::destroy_due_keys;
use customer_data_console::server::keys::root::RootFiles;
use customer_data_console::server::keys::seal::{Place, open_text, seal_text};
use customer_data_console::server::keys::tree::{self, DEPTH, Key};
use customer_data_console::server::keys::{Destruction, Keyring, KeyringError};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

fn database_name(options: &PgConnectOptions) -> String {
    options.get_database().expect("a database name").to_owned()
}

struct Record {
    account: Uuid,
    customer: Uuid,
    sealed: Vec<u8>,
}

impl Record {
    fn place(&self) -> Place {
        Place {
            account: self.account,
            customer: self.customer,
            table: "messages",
            column: "body",
            row: self.customer,
        }
    }

    fn text(&self) -> String {
        format!("marker {}", self.customer)
    }
}

/// `count` records of one account, each with a key and a sealed value.
async fn records_with_keys(keyring: &Keyring, count: usize) -> Vec<Record> {
    let account = Uuid::new_v4();
    let mut records = Vec::new();
    for _ in 0..count {
        let customer = Uuid::new_v4();
        let key = keyring
            .key_for_new_activity(account, customer)
            .await
            .expect("a key is made");
        let mut record = Record {
            account,
            customer,
            sealed: vec![],
        };
        record.sealed = seal_text(&key, &record.place(), &record.text());
        records.push(record);
    }
    records
}

/// A keyring opened anew (as after a restart) on `pool` with its root in `root_file`.
async fn reopened(pool: &PgPool, root_file: &Path) -> Result<Keyring, KeyringError> {
    Keyring::open(pool.clone(), RootFiles::new(root_file)).await
}

/// Every record but `except` opens its sealed value with the key `keyring` gives.
async fn assert_all_open(keyring: &Keyring, records: &[Record], except: Option<Uuid>) {
    for record in records.iter().filter(|r| Some(r.customer) != except) {
        let key = keyring
            .existing_key(record.customer)
            .await
            .expect("the keyring answers")
            .expect("a kept record keeps its key");
        assert_eq!(
            open_text(&key, &record.place(), &record.sealed).as_deref(),
            Ok(record.text().as_str())
        );
    }
}

fn pending_of(root_file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.next", root_file.display()))
}

#[sqlx::test]
async fn a_destroyed_key_opens_from_no_copy_of_the_keyring_and_every_other_key_still_opens(
    pool: PgPool,
) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let root_file = folder.path().join("root.key");
    let records = records_with_keys(&keyring, 200).await;
    let erased = &records[70];

    let options = (*keyring.pool().connect_options()).clone();
    let live = database_name(&options);
    let old_copy = format!("{live}_old");
    restore_as(&options, &pg_dump(&options), &old_copy);
    let old_root = std::fs::read(&root_file).expect("root file");

    assert!(matches!(
        keyring.destroy(erased.customer).await,
        Ok(Destruction::Destroyed(_))
    ));
    let again = keyring.destroy(erased.customer).await.expect("asked again");
    assert!(matches!(again, Destruction::Destroyed(_)), "{again:?}");
    assert_eq!(
        keyring.destroy(Uuid::new_v4()).await.expect("unknown"),
        Destruction::NeverMade
    );

    assert!(
        keyring
            .existing_key(erased.customer)
            .await
            .expect("answers")
            .is_none()
    );
    assert_all_open(&keyring, &records, Some(erased.customer)).await;
    let restarted = reopened(keyring.pool(), &root_file).await.expect("reopens");
    assert_all_open(&restarted, &records, Some(erased.customer)).await;

    let current_root =
        Key::from_slice(&std::fs::read(&root_file).expect("root")).expect("32 bytes");
    assert_ne!(
        current_root.as_bytes().as_slice(),
        old_root.as_slice(),
        "the root was replaced"
    );
    assert!(!pending_of(&root_file).exists());

    // The old keyring restored beside the current root: it holds keys, and no root file opens them.
    let old_pool = PgPool::connect_with(options.clone().database(&old_copy))
        .await
        .expect("old copy");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let current_root_copy = elsewhere.path().join("root.key");
    std::fs::copy(&root_file, &current_root_copy).expect("root copied");
    assert!(matches!(
        reopened(&old_pool, &current_root_copy).await,
        Err(KeyringError::WrongRoot(_))
    ));

    // By hand, with everything the live keyring and the current root give: the old copy's path to the
    // erased key does not open at any level.
    let (leaf, data_wrapped): (i64, Vec<u8>) =
        sqlx::query_as("select leaf, wrapped from data_keys where customer_id = $1")
            .bind(erased.customer)
            .fetch_one(&old_pool)
            .await
            .expect("the old copy holds the erased key, wrapped");
    let path = tree::path(leaf as u64);
    let live_node_keys = node_keys_of(keyring.pool(), &current_root, &path).await;
    assert_eq!(
        live_node_keys.len(),
        DEPTH as usize,
        "the live path opens under the current root"
    );
    let old_wrapped = wrapped_nodes_of(&old_pool, &path).await;
    let first = tree::unwrap(&current_root, &path[0].associated_data(), &old_wrapped[0]);
    assert!(
        first.is_err(),
        "the old level-1 node does not open under the current root"
    );
    for level in 1..path.len() {
        let opened = tree::unwrap(
            &live_node_keys[level - 1],
            &path[level].associated_data(),
            &old_wrapped[level],
        );
        assert!(
            opened.is_err(),
            "the old node of level {} does not open",
            level + 1
        );
    }
    let place = tree::data_key_associated_data(erased.account, erased.customer, leaf as u64);
    assert!(tree::unwrap(&live_node_keys[DEPTH as usize - 1], &place, &data_wrapped).is_err());

    old_pool.close().await;
    sqlx::query(&format!("drop database \"{old_copy}\" with (force)"))
        .execute(&pool)
        .await
        .expect("old copy dropped");
}

async fn wrapped_nodes_of(pool: &PgPool, path: &[tree::Node]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for node in path {
        let wrapped: Vec<u8> =
            sqlx::query_scalar("select wrapped from key_nodes where level = $1 and position = $2")
                .bind(i16::from(node.level))
                .bind(node.position as i64)
                .fetch_one(pool)
                .await
                .expect("node");
        out.push(wrapped);
    }
    out
}

async fn node_keys_of(pool: &PgPool, root: &Key, path: &[tree::Node]) -> Vec<Key> {
    let mut parent = root.clone();
    let mut out = Vec::new();
    for (node, wrapped) in path.iter().zip(wrapped_nodes_of(pool, path).await) {
        parent = tree::unwrap(&parent, &node.associated_data(), &wrapped).expect("opens");
        out.push(parent.clone());
    }
    out
}

#[sqlx::test]
async fn a_rotation_cut_off_before_its_commit_leaves_every_key_and_runs_again(pool: PgPool) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let root_file = folder.path().join("root.key");
    let records = records_with_keys(&keyring, 40).await;
    let root_before = std::fs::read(&root_file).expect("root");
    // What a crash after writing the pending root and before the keyring's commit leaves.
    std::fs::write(pending_of(&root_file), Key::random().as_bytes()).expect("pending root");

    let restarted = reopened(keyring.pool(), &root_file).await.expect("starts");
    assert!(
        !pending_of(&root_file).exists(),
        "the uncommitted root is discarded"
    );
    assert_eq!(std::fs::read(&root_file).expect("root"), root_before);
    assert_all_open(&restarted, &records, None).await;
    restarted
        .destroy(records[3].customer)
        .await
        .expect("runs again");
    assert_all_open(&restarted, &records, Some(records[3].customer)).await;
}

#[sqlx::test]
async fn a_rotation_cut_off_between_its_commit_and_the_root_replacement_finishes_at_start_up(
    pool: PgPool,
) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let root_file = folder.path().join("root.key");
    let records = records_with_keys(&keyring, 40).await;
    let old_root = std::fs::read(&root_file).expect("root");
    keyring
        .destroy(records[0].customer)
        .await
        .expect("destroyed");
    // What a crash after the commit and before the rename leaves: the new root still pending, the old in place.
    std::fs::rename(&root_file, pending_of(&root_file)).expect("back to pending");
    std::fs::write(&root_file, &old_root).expect("old root back");

    let restarted = reopened(keyring.pool(), &root_file).await.expect("starts");
    assert!(
        !pending_of(&root_file).exists(),
        "the committed root is promoted"
    );
    assert_ne!(std::fs::read(&root_file).expect("root"), old_root);
    assert_all_open(&restarted, &records, Some(records[0].customer)).await;
    assert!(
        restarted
            .existing_key(records[0].customer)
            .await
            .expect("answers")
            .is_none()
    );
}

#[sqlx::test]
async fn a_reader_takes_the_pending_root_that_another_instance_committed(pool: PgPool) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let root_file = folder.path().join("root.key");
    let records = records_with_keys(&keyring, 5).await;
    let other_instance = reopened(keyring.pool(), &root_file).await.expect("opens");
    let old_root = std::fs::read(&root_file).expect("root");
    other_instance
        .destroy(records[1].customer)
        .await
        .expect("destroyed");
    std::fs::rename(&root_file, pending_of(&root_file)).expect("back to pending");
    std::fs::write(&root_file, &old_root).expect("old root back");
    keyring.forget(records[2].customer);

    assert_all_open(&keyring, &records, Some(records[1].customer)).await;
    assert!(pending_of(&root_file).exists(), "a reader changes no file");
}

#[sqlx::test]
async fn a_keyring_refuses_a_root_file_that_is_not_its_own_and_makes_one_when_it_is_empty(
    pool: PgPool,
) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let root_file = folder.path().join("root.key");
    records_with_keys(&keyring, 3).await;

    std::fs::write(&root_file, Key::random().as_bytes()).expect("another root");
    let refused = reopened(keyring.pool(), &root_file)
        .await
        .err()
        .expect("refused");
    assert!(matches!(refused, KeyringError::WrongRoot(_)));
    let message = refused.to_string();
    assert!(
        !message.contains('\n') && message.contains("root.key"),
        "{message}"
    );

    std::fs::remove_file(&root_file).expect("root removed");
    assert!(matches!(
        reopened(keyring.pool(), &root_file).await,
        Err(KeyringError::WrongRoot(_))
    ));

    let empty_folder = tempfile::tempdir().expect("temp dir");
    let empty = test_keyring(&pool, empty_folder.path()).await;
    let made = empty.root_file().to_owned();
    assert_eq!(std::fs::read(&made).expect("made at first start").len(), 32);
    std::fs::remove_file(&made).expect("removed");
    let again = reopened(empty.pool(), &made)
        .await
        .expect("an empty keyring makes a new root");
    assert_eq!(std::fs::read(&made).expect("made again").len(), 32);
    records_with_keys(&again, 2).await;
}

#[sqlx::test]
async fn an_erasure_queues_its_records_key_and_the_key_worker_destroys_it_once(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let ids = console.customer_ids_with_email(JORDAN).await;
    let (lead, contact) = (ids[0].0, ids[1].0);
    let account = console.account_of(lead).await;
    let keyring = &console.state.keyring;
    keyring
        .key_for_new_activity(account, lead)
        .await
        .expect("key");
    keyring
        .key_for_new_activity(account, contact)
        .await
        .expect("key");

    let (status, receipt) = alex.erase(lead).await;
    assert!(status.is_success(), "{receipt}");
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from key_destructions where customer_id = $1 and destroyed_at is null",
    )
    .bind(lead)
    .fetch_one(&console.pool)
    .await
    .expect("count");
    assert_eq!(queued, 1, "the erasure's transaction queued the key");

    let pass = destroy_due_keys(&console.pool, keyring, 20)
        .await
        .expect("pass");
    assert_eq!((pass.rows, pass.destroyed, pass.failed), (1, 1, 0));
    let (destroyed_at, had_key): (Option<time::OffsetDateTime>, Option<bool>) =
        sqlx::query_as("select destroyed_at, had_key from key_destructions where customer_id = $1")
            .bind(lead)
            .fetch_one(&console.pool)
            .await
            .expect("row");
    assert!(destroyed_at.is_some());
    assert_eq!(had_key, Some(true));
    assert!(keyring.existing_key(lead).await.expect("answers").is_none());
    assert!(
        keyring
            .existing_key(contact)
            .await
            .expect("answers")
            .is_some()
    );
    let next = destroy_due_keys(&console.pool, keyring, 20)
        .await
        .expect("pass");
    assert_eq!(next.rows, 0, "nothing is destroyed twice");

    let (status, _) = alex.erase(contact).await;
    assert!(status.is_success());
    let root_before = std::fs::read(keyring.root_file()).expect("root");
    let pass = destroy_due_keys(&console.pool, keyring, 20)
        .await
        .expect("pass");
    assert_eq!(pass.destroyed, 1);
    assert_ne!(
        std::fs::read(keyring.root_file()).expect("root"),
        root_before
    );
}

#[sqlx::test]
async fn a_key_whose_path_lost_a_node_is_damaged_and_a_record_without_a_key_has_none(pool: PgPool) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let records = records_with_keys(&keyring, 2).await;
    assert!(
        keyring
            .existing_key(Uuid::new_v4())
            .await
            .expect("answers")
            .is_none()
    );
    let leaf: i64 = sqlx::query_scalar("select leaf from data_keys where customer_id = $1")
        .bind(records[0].customer)
        .fetch_one(keyring.pool())
        .await
        .expect("leaf");
    let bottom = tree::path(leaf as u64)[DEPTH as usize - 1];
    sqlx::query("delete from key_nodes where level = $1 and position = $2")
        .bind(i16::from(bottom.level))
        .bind(bottom.position as i64)
        .execute(keyring.pool())
        .await
        .expect("a node removed");
    keyring.forget(records[0].customer);
    assert!(matches!(
        keyring.existing_key(records[0].customer).await,
        Err(KeyringError::Damaged(_))
    ));
}

#[sqlx::test]
async fn keys_made_in_batches_open_like_keys_made_one_at_a_time_and_an_erased_record_gets_none(
    pool: PgPool,
) {
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = test_keyring(&pool, folder.path()).await;
    let earlier = records_with_keys(&keyring, 2).await;
    let account = earlier[0].account;
    let mut customers: Vec<Uuid> = (0..25_000).map(|_| Uuid::new_v4()).collect();
    customers.push(earlier[0].customer);
    customers.insert(3, customers[7]);
    let keys = keyring
        .keys_for_new_records(account, &customers)
        .await
        .expect("keys are made");
    assert_eq!(keys.len(), 25_001, "one key per record");
    let held: i64 = sqlx::query_scalar("select count(*) from data_keys")
        .fetch_one(keyring.pool())
        .await
        .expect("count");
    assert_eq!(held, 25_002);
    let reopened = reopened(keyring.pool(), &folder.path().join("root.key"))
        .await
        .expect("the root opens the keyring");
    for customer in customers.iter().step_by(997).chain([&earlier[0].customer]) {
        let key = reopened
            .existing_key(*customer)
            .await
            .expect("the keyring answers")
            .expect("the record has a key");
        assert_eq!(key.as_bytes(), keys[customer].as_bytes(), "{customer}");
    }
    assert_all_open(&reopened, &earlier, None).await;

    keyring
        .destroy(earlier[1].customer)
        .await
        .expect("destroyed");
    assert!(matches!(
        keyring
            .keys_for_new_records(account, &[Uuid::new_v4(), earlier[1].customer])
            .await,
        Err(KeyringError::Destroyed)
    ));
}
