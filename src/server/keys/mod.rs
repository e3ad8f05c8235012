//! Crypto-shredding: every customer record's data key, kept in the keyring (a Postgres database of its own,
//! never the data database) wrapped in a key tree whose root key is in a file outside Postgres, and destroyed
//! when the record is erased so that no backup of either database opens the record's sealed values again.
//!
//! - `tree.rs`: the tree's shape and the cipher that wraps keys; `seal.rs`: sealing a stored value under its
//!   record's data key, bound to its place; `files.rs`: sealing a stored file the same way, chunk by chunk;
//!   `root.rs`: the root file and its pending successor;
//!   `destructions.rs`: the worker that destroys the keys the erasures queued in the data database;
//!   `existing.rs`: sealing the rows written before keys existed.
//! - Destroying a record's key deletes it, gives every node on its path a new key (re-wrapping the siblings
//!   under it) and replaces the root key: an old copy of the keyring is wrapped under a root that no longer
//!   exists, and the erased key's path keys exist nowhere. The work grows with the tree's depth (at most
//!   `ARITY` re-wraps per level), never with the number of records.
//!
//! # Order and crashes
//! A rotation holds the keyring's exclusive advisory lock (session-level, so it outlives the commit) and:
//! 1. in one keyring transaction, deletes the data key, re-wraps the path and the root's children under new
//!    keys and moves `key_root` to the next generation with a verifier sealed under the new root;
//! 2. before the commit, writes the new root durably as the pending root file (`<root>.next`);
//! 3. commits; 4. renames the pending file over the root file (the old root is gone); 5. releases the lock.
//!
//! A crash before 3 leaves the keyring as it was and the old root file in place: the pending file opens no
//! verifier and is discarded, the destruction is still queued and runs again. A crash between 3 and 4 leaves
//! the keyring at the new generation and both files: the pending one opens the verifier and is promoted. A
//! rename is atomic, so a crash during 4 leaves one of those two states. Whoever next holds the lock (a
//! rotation, or `open` at start-up) settles the files by the verifier, so no state loses a key that was not
//! destroyed. Readers never change the files: they take whichever file opens the generation they read.
//! Creating a key holds the lock shared, so no node is re-keyed while a child is being added under it.

pub mod destructions;
pub mod existing;
pub mod files;
pub mod root;
pub mod seal;
pub mod tree;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use root::RootFiles;
use tree::{ARITY, ARITY_BITS, DEPTH, Key, LEAVES, Node, Unopened};

/// How long a data key stays in memory after it was read from the keyring.
pub const CACHE_FOR: Duration = Duration::from_secs(60);

/// How many data keys stay in memory at most; past it the expired ones go, and all of them if none has.
const CACHE_LIMIT: usize = 10_000;
/// Records whose keys `keys_for_new_records` makes in one keyring transaction.
const BULK_KEYS: usize = 10_000;

/// The advisory lock of the key tree: exclusive for a rotation, shared for adding a key.
const TREE_LOCK: i64 = 0x6364_635f_6b65_7973;

/// The keyring: its database, the root file, the current root key and the data keys read in the last minute.
pub struct Keyring {
    pool: PgPool,
    files: RootFiles,
    root: RwLock<Root>,
    cache: Mutex<HashMap<Uuid, (Key, Instant)>>,
    rotations: tokio::sync::Mutex<()>,
}

struct Root {
    generation: i64,
    key: Key,
}

/// Why the keyring could not do what was asked. Its text is for the log and the operator, never for a browser.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The keyring database failed.
    #[error("the keyring database failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The root file could not be read or written.
    #[error("the key root file {path} could not be used: {source}")]
    RootFile {
        /// The root file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The keyring holds keys that neither the root file nor its pending successor opens.
    #[error(
        "the key root file {0} does not open this keyring's keys: restore the root file that belongs to this keyring"
    )]
    WrongRoot(PathBuf),
    /// A wrapped key did not open under its parent, or a node on a key's path is missing.
    #[error("the keyring is damaged: {0}")]
    Damaged(&'static str),
    /// Every leaf of the tree has been used.
    #[error("the key tree has no free leaf")]
    Full,
    /// The record's key was destroyed (it was erased): no key is made for it again.
    #[error("the record was erased: its key was destroyed")]
    Destroyed,
}

/// What destroying a record's key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destruction {
    /// The key was destroyed, now or by an earlier attempt, at this time.
    Destroyed(OffsetDateTime),
    /// The record never had a key (it had no activity since keys exist); none will be made for it.
    NeverMade,
}

/// The keyring database of a data database: KEYRING_DATABASE_URL when given, else the data database's URL with
/// `_keyring` after its name.
pub fn keyring_url(data_url: &str, keyring_url: Option<&str>) -> Result<String, String> {
    if let Some(url) = keyring_url {
        return Ok(url.to_owned());
    }
    let mut url = url::Url::parse(data_url).map_err(|err| format!("DATABASE_URL: {err}"))?;
    let name = url.path().trim_start_matches('/').to_owned();
    if name.is_empty() {
        return Err("DATABASE_URL names no database, so KEYRING_DATABASE_URL must be given".into());
    }
    if name.len() + "_keyring".len() > 63 {
        return Err(format!(
            "the database name {name} is too long to name its keyring after it: give KEYRING_DATABASE_URL"
        ));
    }
    url.set_path(&format!("/{name}_keyring"));
    Ok(url.to_string())
}

/// The root file of a keyring database when KEY_ROOT_FILE is not given: `target/keys/<database>.root`.
pub fn default_root_file(keyring_url: &str) -> PathBuf {
    let name = url::Url::parse(keyring_url)
        .ok()
        .map(|url| url.path().trim_start_matches('/').to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "keyring".into());
    PathBuf::from("target/keys").join(format!("{name}.root"))
}

/// Connects to the keyring database, creating it when it does not exist, and applies its migrations.
pub async fn connect_and_migrate(url: &str) -> Result<PgPool, KeyringError> {
    connect_and_migrate_with(url.parse()?).await
}

/// `connect_and_migrate` with connect options rather than a URL.
pub async fn connect_and_migrate_with(options: PgConnectOptions) -> Result<PgPool, KeyringError> {
    create_database_if_missing(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/keyring")
        .run(&pool)
        .await
        .map_err(sqlx::Error::from)?;
    Ok(pool)
}

async fn create_database_if_missing(options: &PgConnectOptions) -> Result<(), KeyringError> {
    let name = options.get_database().unwrap_or_default().to_owned();
    let mut server = PgConnection::connect_with(&options.clone().database("postgres")).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut server)
            .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&format!("create database {quoted}"))
            .execute(&mut server)
            .await
        {
            Ok(_) => {}
            Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P04") => {}
            Err(err) => return Err(err.into()),
        }
    }
    server.close().await?;
    Ok(())
}

/// Logs a keyring failure and turns it into the error a browser or API client sees, without its text.
pub fn keyring_failure(err: KeyringError) -> crate::error::AppError {
    tracing::error!(error = %err, "keyring error");
    crate::error::AppError::Internal
}

/// Logs a stored value that did not open under its record's key and turns it into the error a client sees.
pub fn unopened(_: Unopened) -> crate::error::AppError {
    tracing::error!("a sealed value did not open under its record's key");
    crate::error::AppError::Internal
}

fn verifier_data(generation: i64) -> Vec<u8> {
    let mut data = b"cdc key root v1".to_vec();
    data.extend_from_slice(&generation.to_be_bytes());
    data
}

fn root_verifier(root: &Key, generation: i64) -> Vec<u8> {
    tree::seal_bytes(root, &verifier_data(generation), b"keyring root")
}

fn verifies(root: &Key, generation: i64, verifier: &[u8]) -> bool {
    tree::open_bytes(root, &verifier_data(generation), verifier).is_ok()
}

fn damaged(_: Unopened) -> KeyringError {
    KeyringError::Damaged("a wrapped key does not open under its parent")
}

/// One row of `KEY_PATH_SQL`: the root's generation and verifier, the data key and one level of its path with
/// its node, if the node exists.
type PathRow = (
    i64,
    Vec<u8>,
    Uuid,
    i64,
    Vec<u8>,
    Option<i16>,
    Option<i64>,
    Option<Vec<u8>>,
);

/// A record's wrapped data key with every level of its path, in one snapshot with the root's generation: no
/// row when the record has no key, a row without its node when a node is missing.
const KEY_PATH_SQL: &str = "select r.generation, r.verifier, d.account_id, d.leaf, d.wrapped,
            n.level, n.position, n.wrapped
     from data_keys d
     cross join key_root r
     cross join lateral generate_series(1, $2) as l(level)
     left join key_nodes n on n.level = l.level and n.position = d.leaf >> ($3 * ($2 + 1 - l.level))
     where d.customer_id = $1
     order by l.level";

/// What a key whose path lacks a node is.
const MISSING_NODE: KeyringError = KeyringError::Damaged("a node on a data key's path is missing");

impl Keyring {
    /// The keyring of `pool` with its root in `files`, after settling what a crashed rotation left: a root
    /// file is made when the keyring holds no key and none opens it; one that holds keys no root file
    /// opens is refused (`WrongRoot`).
    pub async fn open(pool: PgPool, files: RootFiles) -> Result<Keyring, KeyringError> {
        let mut conn = pool.acquire().await?;
        sqlx::query("select pg_advisory_lock($1)")
            .bind(TREE_LOCK)
            .execute(&mut *conn)
            .await?;
        let settled = first_root(&mut conn, &files).await;
        unlock(conn, settled.is_ok()).await;
        Ok(Keyring {
            pool,
            files,
            root: RwLock::new(settled?),
            cache: Mutex::new(HashMap::new()),
            rotations: tokio::sync::Mutex::new(()),
        })
    }

    /// The keyring's database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The root file.
    pub fn root_file(&self) -> &std::path::Path {
        self.files.path()
    }

    /// The data key of `customer` (of `account`), made now if the record has none: what new activity of the
    /// record is sealed with. Refused (`Destroyed`) for a record whose key was destroyed.
    pub async fn key_for_new_activity(
        &self,
        account: Uuid,
        customer: Uuid,
    ) -> Result<Key, KeyringError> {
        if let Some(key) = self.existing_key(customer).await? {
            return Ok(key);
        }
        let (mut tx, root) = self.adding_keys_for(&[customer]).await?;
        let leaf: i64 = sqlx::query_scalar("select nextval('data_key_leaves')")
            .fetch_one(&mut *tx)
            .await?;
        let leaf = u64::try_from(leaf)
            .ok()
            .filter(|leaf| *leaf < LEAVES)
            .ok_or(KeyringError::Full)?;
        let mut parent = root;
        for node in tree::path(leaf) {
            parent = node_key(&mut tx, node, &parent).await?;
        }
        let key = Key::random();
        let wrapped = tree::wrap(
            &parent,
            &tree::data_key_associated_data(account, customer, leaf),
            &key,
        );
        let inserted = sqlx::query(
            "insert into data_keys (customer_id, account_id, leaf, wrapped) values ($1, $2, $3, $4)
             on conflict (customer_id) do nothing",
        )
        .bind(customer)
        .bind(account)
        .bind(leaf as i64)
        .bind(wrapped)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if inserted == 0 {
            return self
                .existing_key(customer)
                .await?
                .ok_or(KeyringError::Damaged("a data key vanished as it was made"));
        }
        self.remember(customer, &key);
        Ok(key)
    }

    /// The data keys of `customers` (of `account`), made for those that have none, `BULK_KEYS` records per
    /// keyring transaction: what a bulk load seals its rows with. Refused (`Destroyed`) when one of them was
    /// erased. The keys made are not kept in this instance's memory; those of records that had one are read as
    /// `existing_key` reads them.
    pub async fn keys_for_new_records(
        &self,
        account: Uuid,
        customers: &[Uuid],
    ) -> Result<HashMap<Uuid, Key>, KeyringError> {
        let mut keys = HashMap::with_capacity(customers.len());
        for chunk in customers.chunks(BULK_KEYS) {
            self.make_keys(account, chunk, &mut keys).await?;
        }
        Ok(keys)
    }

    /// Adds the keys of `customers` to `keys`, in one keyring transaction: each node on the new leaves' paths
    /// is read (or made) once.
    async fn make_keys(
        &self,
        account: Uuid,
        customers: &[Uuid],
        keys: &mut HashMap<Uuid, Key>,
    ) -> Result<(), KeyringError> {
        let (mut tx, root) = self.adding_keys_for(customers).await?;
        let held: Vec<Uuid> =
            sqlx::query_scalar("select customer_id from data_keys where customer_id = any($1)")
                .bind(customers)
                .fetch_all(&mut *tx)
                .await?;
        let held: HashSet<Uuid> = held.into_iter().collect();
        let mut new: Vec<Uuid> = customers
            .iter()
            .filter(|customer| !held.contains(customer))
            .copied()
            .collect();
        new.sort_unstable();
        new.dedup();
        let leaves: Vec<i64> =
            sqlx::query_scalar("select nextval('data_key_leaves') from generate_series(1, $1)")
                .bind(new.len() as i64)
                .fetch_all(&mut *tx)
                .await?;
        let mut nodes: HashMap<Node, Key> = HashMap::new();
        let mut made = Vec::with_capacity(new.len());
        let mut wrapped = Vec::with_capacity(new.len());
        for (customer, &leaf) in new.iter().zip(&leaves) {
            let leaf = u64::try_from(leaf)
                .ok()
                .filter(|leaf| *leaf < LEAVES)
                .ok_or(KeyringError::Full)?;
            let mut parent = root.clone();
            for node in tree::path(leaf) {
                parent = match nodes.get(&node) {
                    Some(known) => known.clone(),
                    None => {
                        let key = node_key(&mut tx, node, &parent).await?;
                        nodes.insert(node, key.clone());
                        key
                    }
                };
            }
            let key = Key::random();
            wrapped.push(tree::wrap(
                &parent,
                &tree::data_key_associated_data(account, *customer, leaf),
                &key,
            ));
            made.push(key);
        }
        let inserted: Vec<Uuid> = sqlx::query_scalar(
            "insert into data_keys (customer_id, account_id, leaf, wrapped)
             select customer_id, $2, leaf, wrapped from unnest($1::uuid[], $3::bigint[], $4::bytea[])
                 as u(customer_id, leaf, wrapped)
             on conflict (customer_id) do nothing
             returning customer_id",
        )
        .bind(&new)
        .bind(account)
        .bind(&leaves)
        .bind(&wrapped)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let inserted: HashSet<Uuid> = inserted.into_iter().collect();
        for (customer, key) in new.into_iter().zip(made) {
            if inserted.contains(&customer) {
                keys.insert(customer, key);
            }
        }
        for &customer in customers {
            if let std::collections::hash_map::Entry::Vacant(missing) = keys.entry(customer) {
                let key = self
                    .existing_key(customer)
                    .await?
                    .ok_or(KeyringError::Damaged("a data key vanished as it was made"))?;
                missing.insert(key);
            }
        }
        Ok(())
    }

    /// A keyring transaction that adds keys for `customers`: the tree's lock held shared (so no node is re-keyed
    /// while a child is added under it), with the current root key. Refused (`Destroyed`) when the key of one of
    /// them was destroyed.
    async fn adding_keys_for(
        &self,
        customers: &[Uuid],
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, Key), KeyringError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("select pg_advisory_xact_lock_shared($1)")
            .bind(TREE_LOCK)
            .execute(&mut *tx)
            .await?;
        let (generation, verifier): (i64, Vec<u8>) =
            sqlx::query_as("select generation, verifier from key_root")
                .fetch_one(&mut *tx)
                .await?;
        let root = self
            .root_for(generation, &verifier)?
            .ok_or_else(|| KeyringError::WrongRoot(self.files.path().to_owned()))?;
        let destroyed: bool = sqlx::query_scalar(
            "select exists (select 1 from destroyed_keys where customer_id = any($1))",
        )
        .bind(customers)
        .fetch_one(&mut *tx)
        .await?;
        if destroyed {
            return Err(KeyringError::Destroyed);
        }
        Ok((tx, root))
    }

    /// How many of `customers` have a data key in the keyring (the residual check's figure: 0 once their keys
    /// are destroyed).
    pub async fn keys_held(&self, customers: &[Uuid]) -> Result<i64, KeyringError> {
        Ok(
            sqlx::query_scalar("select count(*) from data_keys where customer_id = any($1)")
                .bind(customers)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The data key of `customer`, or `None` when it has none (never made, or destroyed).
    pub async fn existing_key(&self, customer: Uuid) -> Result<Option<Key>, KeyringError> {
        if let Some(key) = self.cached(customer) {
            return Ok(Some(key));
        }
        for _ in 0..3 {
            let rows: Vec<PathRow> = sqlx::query_as(KEY_PATH_SQL)
                .bind(customer)
                .bind(i32::from(DEPTH))
                .bind(ARITY_BITS as i32)
                .fetch_all(&self.pool)
                .await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let (generation, ref verifier, account, leaf, ref data_wrapped, ..) = *first;
            let Some(root) = self.root_for(generation, verifier)? else {
                continue;
            };
            let leaf = leaf as u64;
            let path = tree::path(leaf);
            if rows.len() != path.len() {
                return Err(MISSING_NODE);
            }
            let mut parent = root;
            for (row, node) in rows.iter().zip(path) {
                let Some(wrapped) = &row.7 else {
                    return Err(MISSING_NODE);
                };
                if (row.5, row.6) != (Some(i16::from(node.level)), Some(node.position as i64)) {
                    return Err(KeyringError::Damaged("a data key's path is out of order"));
                }
                parent =
                    tree::unwrap(&parent, &node.associated_data(), wrapped).map_err(damaged)?;
            }
            let key = tree::unwrap(
                &parent,
                &tree::data_key_associated_data(account, customer, leaf),
                data_wrapped,
            )
            .map_err(damaged)?;
            self.remember(customer, &key);
            return Ok(Some(key));
        }
        Err(KeyringError::WrongRoot(self.files.path().to_owned()))
    }

    /// Destroys the data key of `customer` and rotates its path and the root, as the module's docs order it;
    /// asked again, answers when it was destroyed. The key also leaves this instance's memory.
    pub async fn destroy(&self, customer: Uuid) -> Result<Destruction, KeyringError> {
        let _one_rotation_at_a_time = self.rotations.lock().await;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("select pg_advisory_lock($1)")
            .bind(TREE_LOCK)
            .execute(&mut *conn)
            .await?;
        let outcome = self.rotate(&mut conn, customer).await;
        unlock(conn, outcome.is_ok()).await;
        self.forget(customer);
        outcome
    }

    /// What seals the new activity of `customer` (of `account`): its data key, made now if it has none.
    pub async fn sealer(
        &self,
        account: Uuid,
        customer: Uuid,
    ) -> Result<seal::Sealer, KeyringError> {
        let key = self.key_for_new_activity(account, customer).await?;
        Ok(seal::Sealer::new(account, customer, key))
    }

    /// What opens the stored values of `customer` (of `account`).
    pub async fn opener(
        &self,
        account: Uuid,
        customer: Uuid,
    ) -> Result<seal::Opener, KeyringError> {
        let key = self.existing_key(customer).await?;
        Ok(seal::Opener::new(account, customer, key))
    }

    /// Forgets the cached key of `customer` (its record was erased).
    pub fn forget(&self, customer: Uuid) {
        self.lock_cache().remove(&customer);
    }

    async fn rotate(
        &self,
        conn: &mut PgConnection,
        customer: Uuid,
    ) -> Result<Destruction, KeyringError> {
        let mut tx = conn.begin().await?;
        let (generation, verifier): (i64, Vec<u8>) =
            sqlx::query_as("select generation, verifier from key_root for update")
                .fetch_one(&mut *tx)
                .await?;
        let root = self.settle_files(generation, &verifier).await?;
        let found: Option<i64> =
            sqlx::query_scalar("select leaf from data_keys where customer_id = $1")
                .bind(customer)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(leaf) = found else {
            let (destroyed_at, had_key): (OffsetDateTime, bool) = sqlx::query_as(
                "with marked as (
                     insert into destroyed_keys (customer_id, had_key, root_generation) values ($1, false, $2)
                     on conflict (customer_id) do nothing
                     returning destroyed_at, had_key
                 )
                 select destroyed_at, had_key from marked
                 union all
                 select destroyed_at, had_key from destroyed_keys where customer_id = $1",
            )
            .bind(customer)
            .bind(generation)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(match had_key {
                true => Destruction::Destroyed(destroyed_at),
                false => Destruction::NeverMade,
            });
        };
        let path = tree::path(leaf as u64);
        let new_root = Key::random();
        let new_path: HashMap<Node, Key> = path.iter().map(|node| (*node, Key::random())).collect();
        let nodes = rewrapped_nodes(&mut tx, &path, &root, &new_root, &new_path).await?;
        let parent = path[path.len() - 1];
        let siblings = rewrapped_siblings(
            &mut tx,
            customer,
            parent,
            &nodes.old_keys[&parent],
            &new_path[&parent],
        )
        .await?;
        sqlx::query(
            "update key_nodes n set wrapped = u.wrapped
             from unnest($1::smallint[], $2::bigint[], $3::bytea[]) as u(level, position, wrapped)
             where n.level = u.level and n.position = u.position",
        )
        .bind(&nodes.levels)
        .bind(&nodes.positions)
        .bind(&nodes.wrapped)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "update data_keys d set wrapped = u.wrapped
             from unnest($1::uuid[], $2::bytea[]) as u(customer_id, wrapped)
             where d.customer_id = u.customer_id",
        )
        .bind(&siblings.0)
        .bind(&siblings.1)
        .execute(&mut *tx)
        .await?;
        let next = generation + 1;
        let destroyed_at: OffsetDateTime = sqlx::query_scalar(
            "with gone as (delete from data_keys where customer_id = $1)
             insert into destroyed_keys (customer_id, had_key, root_generation) values ($1, true, $2)
             returning destroyed_at",
        )
        .bind(customer)
        .bind(next)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("update key_root set generation = $1, verifier = $2, rotated_at = now()")
            .bind(next)
            .bind(root_verifier(&new_root, next))
            .execute(&mut *tx)
            .await?;
        let pending = new_root.clone();
        self.blocking_files(move |files| files.write_pending(&pending))
            .await?;
        tx.commit().await?;
        *self.write_root() = Root {
            generation: next,
            key: new_root,
        };
        if let Err(err) = self.blocking_files(RootFiles::promote).await {
            tracing::error!(error = %err, "promoting the new key root failed; the next rotation or start-up settles it");
        }
        Ok(Destruction::Destroyed(destroyed_at))
    }
    /// The root key of `generation`, read from the files when another instance rotated; `None` when neither
    /// file opens it (a rotation is under way or this instance is ahead of the reader's snapshot). Changes no
    /// file: only the holder of the tree's lock settles them.
    fn root_for(&self, generation: i64, verifier: &[u8]) -> Result<Option<Key>, KeyringError> {
        {
            let root = self.read_root();
            if root.generation == generation {
                return Ok(Some(root.key.clone()));
            }
        }
        for candidate in [
            self.read_file(RootFiles::read)?,
            self.read_file(RootFiles::read_pending)?,
        ]
        .into_iter()
        .flatten()
        {
            if verifies(&candidate, generation, verifier) {
                let mut root = self.write_root();
                if root.generation < generation {
                    *root = Root {
                        generation,
                        key: candidate.clone(),
                    };
                }
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }

    /// Under the tree's exclusive lock: the root key of `generation`, after promoting a pending root that a
    /// committed rotation left, or discarding one whose rotation never committed.
    async fn settle_files(&self, generation: i64, verifier: &[u8]) -> Result<Key, KeyringError> {
        let expected = verifier.to_vec();
        let key = self
            .blocking_files(move |files| settle(files, generation, &expected))
            .await?
            .ok_or_else(|| KeyringError::WrongRoot(self.files.path().to_owned()))?;
        *self.write_root() = Root {
            generation,
            key: key.clone(),
        };
        Ok(key)
    }

    fn read_file(
        &self,
        read: fn(&RootFiles) -> std::io::Result<Option<Key>>,
    ) -> Result<Option<Key>, KeyringError> {
        read(&self.files).map_err(|source| KeyringError::RootFile {
            path: self.files.path().to_owned(),
            source,
        })
    }

    async fn blocking_files<T: Send + 'static>(
        &self,
        work: impl FnOnce(&RootFiles) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T, KeyringError> {
        let files = self.files.clone();
        let path = files.path().to_owned();
        tokio::task::spawn_blocking(move || work(&files))
            .await
            .map_err(|err| std::io::Error::other(err.to_string()))
            .and_then(|done| done)
            .map_err(|source| KeyringError::RootFile { path, source })
    }

    fn cached(&self, customer: Uuid) -> Option<Key> {
        let mut cache = self.lock_cache();
        match cache.get(&customer) {
            Some((key, read_at)) if read_at.elapsed() < CACHE_FOR => Some(key.clone()),
            Some(_) => {
                cache.remove(&customer);
                None
            }
            None => None,
        }
    }

    fn remember(&self, customer: Uuid, key: &Key) {
        let mut cache = self.lock_cache();
        if cache.len() >= CACHE_LIMIT {
            cache.retain(|_, (_, read_at)| read_at.elapsed() < CACHE_FOR);
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
        }
        cache.insert(customer, (key.clone(), Instant::now()));
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Key, Instant)>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_root(&self) -> std::sync::RwLockReadGuard<'_, Root> {
        self.root
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_root(&self) -> std::sync::RwLockWriteGuard<'_, Root> {
        self.root
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The root key of `generation` from the files, settling them: a pending root that opens the verifier is
/// promoted (its rotation committed), one that does not is discarded (its rotation never committed).
fn settle(files: &RootFiles, generation: i64, verifier: &[u8]) -> std::io::Result<Option<Key>> {
    if let Some(pending) = files.read_pending()?
        && verifies(&pending, generation, verifier)
    {
        files.promote()?;
        return Ok(Some(pending));
    }
    files.discard_pending()?;
    Ok(files
        .read()?
        .filter(|root| verifies(root, generation, verifier)))
}

/// Under the tree's exclusive lock at start-up: the keyring's root, made when the keyring is new, or after
/// settling the files; a new root when no file opens the keyring but it holds no data key (nothing is lost).
async fn first_root(conn: &mut PgConnection, files: &RootFiles) -> Result<Root, KeyringError> {
    let file_error = |source| KeyringError::RootFile {
        path: files.path().to_owned(),
        source,
    };
    let current: Option<(i64, Vec<u8>)> =
        sqlx::query_as("select generation, verifier from key_root")
            .fetch_optional(&mut *conn)
            .await?;
    let holds_data_keys: bool = sqlx::query_scalar("select exists (select 1 from data_keys)")
        .fetch_one(&mut *conn)
        .await?;
    if let Some((generation, verifier)) = &current
        && let Some(key) = settle(files, *generation, verifier).map_err(file_error)?
    {
        return Ok(Root {
            generation: *generation,
            key,
        });
    }
    if holds_data_keys {
        return Err(match current {
            Some(_) => KeyringError::WrongRoot(files.path().to_owned()),
            None => KeyringError::Damaged("data keys without a root generation"),
        });
    }
    let key = match current {
        Some(_) => Key::random(),
        None => files
            .read()
            .map_err(file_error)?
            .unwrap_or_else(Key::random),
    };
    let generation = current.map_or(1, |(generation, _)| generation + 1);
    files.write_pending(&key).map_err(file_error)?;
    let mut tx = conn.begin().await?;
    sqlx::query("delete from key_nodes")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into key_root (generation, verifier) values ($1, $2)
         on conflict (singleton) do update set generation = excluded.generation,
             verifier = excluded.verifier, rotated_at = now()",
    )
    .bind(generation)
    .bind(root_verifier(&key, generation))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    files.promote().map_err(file_error)?;
    Ok(Root { generation, key })
}

/// Releases the tree's session lock; a connection whose work failed is closed instead, which releases it too.
async fn unlock(mut conn: sqlx::pool::PoolConnection<sqlx::Postgres>, succeeded: bool) {
    let released = succeeded
        && sqlx::query("select pg_advisory_unlock($1)")
            .bind(TREE_LOCK)
            .execute(&mut *conn)
            .await
            .is_ok();
    if !released {
        conn.close_on_drop();
    }
}

/// The key of `node`, made now (wrapped under `parent`) if the node does not exist yet.
async fn node_key(tx: &mut PgConnection, node: Node, parent: &Key) -> Result<Key, KeyringError> {
    let place = node.associated_data();
    let existing: Option<Vec<u8>> =
        sqlx::query_scalar("select wrapped from key_nodes where level = $1 and position = $2")
            .bind(i16::from(node.level))
            .bind(node.position as i64)
            .fetch_optional(&mut *tx)
            .await?;
    let wrapped = match existing {
        Some(wrapped) => wrapped,
        None => {
            sqlx::query(
                "insert into key_nodes (level, position, wrapped) values ($1, $2, $3)
                 on conflict (level, position) do nothing",
            )
            .bind(i16::from(node.level))
            .bind(node.position as i64)
            .bind(tree::wrap(parent, &place, &Key::random()))
            .execute(&mut *tx)
            .await?;
            sqlx::query_scalar("select wrapped from key_nodes where level = $1 and position = $2")
                .bind(i16::from(node.level))
                .bind(node.position as i64)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    tree::unwrap(parent, &place, &wrapped).map_err(damaged)
}

/// The nodes a rotation of `path` re-wraps, read, opened under their old parents and wrapped under their new
/// ones: the root's children, and the children of every node on the path above its last.
struct RewrappedNodes {
    old_keys: HashMap<Node, Key>,
    levels: Vec<i16>,
    positions: Vec<i64>,
    wrapped: Vec<Vec<u8>>,
}

async fn rewrapped_nodes(
    tx: &mut PgConnection,
    path: &[Node; DEPTH as usize],
    root: &Key,
    new_root: &Key,
    new_path: &HashMap<Node, Key>,
) -> Result<RewrappedNodes, KeyringError> {
    let mut ranges: (Vec<i16>, Vec<i64>, Vec<i64>) = (vec![1], vec![0], vec![ARITY as i64 - 1]);
    for node in &path[..path.len() - 1] {
        let children = node.children();
        ranges.0.push(i16::from(node.level) + 1);
        ranges.1.push(*children.start() as i64);
        ranges.2.push(*children.end() as i64);
    }
    let rows: Vec<(i16, i64, Vec<u8>)> = sqlx::query_as(
        "select n.level, n.position, n.wrapped
         from unnest($1::smallint[], $2::bigint[], $3::bigint[]) as r(level, first, last)
         join key_nodes n on n.level = r.level and n.position between r.first and r.last
         order by n.level, n.position",
    )
    .bind(&ranges.0)
    .bind(&ranges.1)
    .bind(&ranges.2)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = RewrappedNodes {
        old_keys: HashMap::new(),
        levels: vec![],
        positions: vec![],
        wrapped: vec![],
    };
    for (level, position, wrapped) in rows {
        let node = Node {
            level: level as u8,
            position: position as u64,
        };
        let (old_parent, new_parent) = match node.level {
            1 => (root, new_root),
            _ => {
                let parent = path[usize::from(node.level) - 2];
                (
                    out.old_keys.get(&parent).ok_or(MISSING_NODE)?,
                    new_path.get(&parent).ok_or(MISSING_NODE)?,
                )
            }
        };
        let place = node.associated_data();
        let key = tree::unwrap(old_parent, &place, &wrapped).map_err(damaged)?;
        let wrapped = tree::wrap(new_parent, &place, new_path.get(&node).unwrap_or(&key));
        out.levels.push(level);
        out.positions.push(position);
        out.wrapped.push(wrapped);
        out.old_keys.insert(node, key);
    }
    if path.iter().any(|node| !out.old_keys.contains_key(node)) {
        return Err(MISSING_NODE);
    }
    Ok(out)
}

/// The other data keys under `parent`, opened under its old key and wrapped under its new one.
async fn rewrapped_siblings(
    tx: &mut PgConnection,
    customer: Uuid,
    parent: Node,
    old_parent: &Key,
    new_parent: &Key,
) -> Result<(Vec<Uuid>, Vec<Vec<u8>>), KeyringError> {
    let children = parent.children();
    let siblings: Vec<(Uuid, Uuid, i64, Vec<u8>)> = sqlx::query_as(
        "select customer_id, account_id, leaf, wrapped from data_keys
         where leaf between $1 and $2 and customer_id <> $3",
    )
    .bind(*children.start() as i64)
    .bind(*children.end() as i64)
    .bind(customer)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = (vec![], vec![]);
    for (sibling, account, leaf, wrapped) in siblings {
        let place = tree::data_key_associated_data(account, sibling, leaf as u64);
        let key = tree::unwrap(old_parent, &place, &wrapped).map_err(damaged)?;
        out.0.push(sibling);
        out.1.push(tree::wrap(new_parent, &place, &key));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyring_is_named_after_the_data_database_unless_given() {
        assert_eq!(
            keyring_url("postgres://root@127.0.0.1:5432/console", None).as_deref(),
            Ok("postgres://root@127.0.0.1:5432/console_keyring")
        );
        assert_eq!(
            keyring_url("postgres://h/console", Some("postgres://k/keys")).as_deref(),
            Ok("postgres://k/keys")
        );
        assert!(keyring_url("postgres://h", None).is_err());
        assert!(keyring_url(&format!("postgres://h/{}", "d".repeat(56)), None).is_err());
        assert_eq!(
            default_root_file("postgres://h/console_keyring"),
            PathBuf::from("target/keys/console_keyring.root")
        );
    }

    #[test]
    fn a_root_verifies_only_its_own_generation() {
        let root = Key::random();
        let sealed = root_verifier(&root, 7);
        assert!(verifies(&root, 7, &sealed));
        assert!(!verifies(&root, 8, &sealed));
        assert!(!verifies(&Key::random(), 7, &sealed));
    }
}
