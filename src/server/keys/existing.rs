//! Sealing what was stored before keys existed (`customer-data-console seal-existing`): calls and messages
//! whose values are still plaintext get them sealed under their record's data key (made when the record has
//! none) and their plaintext columns emptied, a batch of rows per transaction in id order; then every stored
//! file a call or message names that is still plaintext (the platform's uploads) is replaced by its sealed form,
//! streamed chunk by chunk, while its row is locked, so an erasure of the record waits and its outbox deletes the
//! sealed file after. It can stop at any point and run again: what is sealed is never read as plaintext again,
//! and what is not is found again (a file is replaced whole or not at all).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;
use uuid::Uuid;

use super::files::{MAGIC, is_sealed};
use super::seal::Sealer;
use super::{Keyring, KeyringError};
use crate::server::storage::{AccountStorage, Storage};

/// Rows sealed per transaction.
const BATCH: i64 = 1000;
/// Rows with stored files whose ids are read at a time (each is then sealed in a transaction of its own).
const FILE_BATCH: i64 = 1000;
/// Parts of a file being replaced that may be in flight at once.
const PARTS_IN_FLIGHT: usize = 4;

/// Stores the calls `$1` sealed: their number, notes and transcript columns `$2` to `$5` (bytea arrays in the
/// ids' order), their plaintext columns emptied.
pub const SEAL_CALLS_SQL: &str =
    "update calls c set from_number = null, to_number = null, notes = null, transcript = null,
         from_number_sealed = u.from_sealed, to_number_sealed = u.to_sealed, notes_sealed = u.notes_sealed,
         transcript_sealed = u.transcript_sealed
     from unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])
         as u(id, from_sealed, to_sealed, notes_sealed, transcript_sealed)
     where c.id = u.id";

/// Stores the messages `$1` sealed: their number and body columns `$2` to `$4`, their plaintext columns emptied.
pub const SEAL_MESSAGES_SQL: &str =
    "update messages m set from_number = null, to_number = null, body = null,
         from_number_sealed = u.from_sealed, to_number_sealed = u.to_sealed, body_sealed = u.body_sealed
     from unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[]) as u(id, from_sealed, to_sealed, body_sealed)
     where m.id = u.id";

/// What a run sealed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SealReport {
    /// Calls sealed.
    pub calls: u64,
    /// Messages sealed.
    pub messages: u64,
    /// Stored files sealed.
    pub files: u64,
}

/// Whether any call or message still holds a plaintext value (what `migrate` tells the operator).
pub async fn unsealed_rows_remain(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from calls where from_number is not null)
             or exists (select 1 from messages where from_number is not null)",
    )
    .fetch_one(pool)
    .await
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The data database failed.
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The object store failed.
    #[error("the object store failed: {0}")]
    Store(#[from] object_store::Error),
}

/// Seals every plaintext call, message and stored file, with progress bars on standard error when
/// `show_progress`.
pub async fn seal_existing(
    pool: &PgPool,
    storage: &Storage,
    keyring: &Keyring,
    show_progress: bool,
) -> Result<SealReport, SealError> {
    let (calls, messages): (i64, i64) = sqlx::query_as(
        "select (select count(*) from calls where from_number is not null),
                (select count(*) from messages where from_number is not null)",
    )
    .fetch_one(pool)
    .await?;
    let progress = match show_progress {
        true => ProgressBar::new((calls + messages) as u64),
        false => ProgressBar::hidden(),
    };
    progress.set_style(
        ProgressStyle::with_template("sealing {bar:40} {pos}/{len} rows, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = SealReport::default();
    let mut after = Uuid::nil();
    loop {
        let sealed = seal_calls(pool, keyring, &mut after).await?;
        if sealed == 0 {
            break;
        }
        report.calls += sealed;
        progress.inc(sealed);
    }
    after = Uuid::nil();
    loop {
        let sealed = seal_messages(pool, keyring, &mut after).await?;
        if sealed == 0 {
            break;
        }
        report.messages += sealed;
        progress.inc(sealed);
    }
    progress.finish_and_clear();
    report.files = seal_files(pool, storage, keyring, show_progress).await?;
    Ok(report)
}

/// The tables whose rows name stored files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableWithFiles {
    /// Calls (a recording or voicemail each).
    Calls,
    /// Messages (their media).
    Messages,
}

impl TableWithFiles {
    /// The ids of the next `$2` rows of this table that name files after `$1` (read without a lock).
    fn next_ids_sql(self) -> &'static str {
        match self {
            TableWithFiles::Calls => {
                "select id from calls where id > $1 and recording_key is not null order by id limit $2"
            }
            TableWithFiles::Messages => {
                "select id from messages where id > $1 and cardinality(media_keys) > 0 order by id limit $2"
            }
        }
    }

    /// The row `$1`, locked: its account, its record and its files' keys.
    fn locked_sql(self) -> &'static str {
        match self {
            TableWithFiles::Calls => {
                "select account_id, customer_id, array[recording_key] from calls
                 where id = $1 and recording_key is not null for update"
            }
            TableWithFiles::Messages => {
                "select account_id, customer_id, media_keys from messages
                 where id = $1 and cardinality(media_keys) > 0 for update"
            }
        }
    }
}

/// Seals the plaintext stored files of row `id` of `table` (what ingestion runs after it records one that
/// names files), its row locked in a transaction of its own meanwhile, so an erasure of its record waits and a
/// row erased before is skipped; answers how many files it sealed. A file not stored yet is left to
/// `seal-existing`.
pub async fn seal_files_of_row(
    pool: &PgPool,
    storage: &Storage,
    keyring: &Keyring,
    table: TableWithFiles,
    id: Uuid,
) -> Result<u64, SealError> {
    let mut tx = pool.begin().await?;
    let locked: Option<(Uuid, Uuid, Vec<String>)> = sqlx::query_as(table.locked_sql())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let mut sealed = 0;
    if let Some((account, customer, keys)) = locked {
        let sealer = keyring.sealer(account, customer).await?;
        let store = storage.of_account(account);
        for key in keys {
            if seal_file(&store, &sealer, &key).await? {
                sealed += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(sealed)
}

/// Seals every plaintext stored file that a call or message names, one row at a time (`seal_files_of_row`), so
/// an erasure of a record waits for one row's files at most; answers how many it sealed.
async fn seal_files(
    pool: &PgPool,
    storage: &Storage,
    keyring: &Keyring,
    show_progress: bool,
) -> Result<u64, SealError> {
    let rows: i64 = sqlx::query_scalar(
        "select (select count(*) from calls where recording_key is not null)
              + (select count(*) from messages where cardinality(media_keys) > 0)",
    )
    .fetch_one(pool)
    .await?;
    let progress = match show_progress {
        true => ProgressBar::new(rows as u64),
        false => ProgressBar::hidden(),
    };
    progress.set_style(
        ProgressStyle::with_template(
            "sealing files {bar:40} {pos}/{len} rows with files, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut sealed = 0;
    for table in [TableWithFiles::Calls, TableWithFiles::Messages] {
        let mut after = Uuid::nil();
        loop {
            let ids: Vec<Uuid> = sqlx::query_scalar(table.next_ids_sql())
                .bind(after)
                .bind(FILE_BATCH)
                .fetch_all(pool)
                .await?;
            let Some(&last) = ids.last() else {
                break;
            };
            after = last;
            for id in ids {
                sealed += seal_files_of_row(pool, storage, keyring, table, id).await?;
                progress.inc(1);
            }
        }
    }
    progress.finish_and_clear();
    Ok(sealed)
}

/// Replaces the file at `key` by its sealed form when it is stored and still plaintext; answers whether it did.
async fn seal_file(store: &AccountStorage, sealer: &Sealer, key: &str) -> Result<bool, SealError> {
    let Some(mut stream) = store.read(key).await? else {
        return Ok(false);
    };
    let mut start = Vec::new();
    while start.len() < MAGIC.len() {
        match stream.next().await {
            Some(chunk) => start.extend_from_slice(&chunk?),
            None => break,
        }
    }
    if is_sealed(&start) {
        return Ok(false);
    }
    let Some(mut upload) = store.replace(key).await? else {
        return Ok(false);
    };
    let mut sealing = sealer.file(key);
    upload.write(&sealing.push(&start));
    let streamed: Result<(), object_store::Error> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            upload.write(&sealing.push(&chunk));
        }
        Ok(())
    }
    .await;
    if let Err(err) = streamed {
        if let Err(abort) = upload.abort().await {
            tracing::warn!(error = %abort, key, "an unfinished upload of a sealed file was not aborted");
        }
        return Err(err.into());
    }
    upload.write(&sealing.finish());
    upload.finish().await?;
    Ok(true)
}

/// The sealers of the records of one batch, each asked of the keyring once.
#[derive(Default)]
struct Sealers {
    of_record: HashMap<Uuid, Sealer>,
}

impl Sealers {
    async fn of(
        &mut self,
        keyring: &Keyring,
        account: Uuid,
        customer: Uuid,
    ) -> Result<&Sealer, KeyringError> {
        Ok(match self.of_record.entry(customer) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(keyring.sealer(account, customer).await?),
        })
    }
}

/// A batch of calls' sealed values, one vector per column, in the batch's order.
#[derive(Default)]
struct SealedCalls {
    ids: Vec<Uuid>,
    from: Vec<Vec<u8>>,
    to: Vec<Vec<u8>>,
    notes: Vec<Option<Vec<u8>>>,
    transcripts: Vec<Option<Vec<u8>>>,
}

/// A batch of messages' sealed values, one vector per column, in the batch's order.
#[derive(Default)]
struct SealedMessages {
    ids: Vec<Uuid>,
    from: Vec<Vec<u8>>,
    to: Vec<Vec<u8>>,
    bodies: Vec<Vec<u8>>,
}

type PlainCall = (
    Uuid,
    Uuid,
    Uuid,
    String,
    String,
    Option<String>,
    Option<String>,
);

async fn seal_calls(pool: &PgPool, keyring: &Keyring, after: &mut Uuid) -> Result<u64, SealError> {
    let mut sealers = Sealers::default();
    let mut tx = pool.begin().await?;
    let rows: Vec<PlainCall> = sqlx::query_as(
        "select id, account_id, customer_id, from_number, to_number, notes, transcript from calls
         where id > $1 and from_number is not null order by id limit $2 for update",
    )
    .bind(*after)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let mut columns = SealedCalls::default();
    for (id, account, customer, from, to, notes, transcript) in &rows {
        let sealer = sealers.of(keyring, *account, *customer).await?;
        columns.ids.push(*id);
        columns
            .from
            .push(sealer.seal("calls", "from_number", *id, from));
        columns.to.push(sealer.seal("calls", "to_number", *id, to));
        columns
            .notes
            .push(sealer.seal_optional("calls", "notes", *id, notes.as_deref()));
        columns.transcripts.push(sealer.seal_optional(
            "calls",
            "transcript",
            *id,
            transcript.as_deref(),
        ));
    }
    sqlx::query(SEAL_CALLS_SQL)
        .bind(&columns.ids)
        .bind(&columns.from)
        .bind(&columns.to)
        .bind(&columns.notes)
        .bind(&columns.transcripts)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if let Some(last) = columns.ids.last() {
        *after = *last;
    }
    Ok(rows.len() as u64)
}

type PlainMessage = (Uuid, Uuid, Uuid, String, String, String);

async fn seal_messages(
    pool: &PgPool,
    keyring: &Keyring,
    after: &mut Uuid,
) -> Result<u64, SealError> {
    let mut sealers = Sealers::default();
    let mut tx = pool.begin().await?;
    let rows: Vec<PlainMessage> = sqlx::query_as(
        "select id, account_id, customer_id, from_number, to_number, body from messages
         where id > $1 and from_number is not null order by id limit $2 for update",
    )
    .bind(*after)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let mut columns = SealedMessages::default();
    for (id, account, customer, from, to, body) in &rows {
        let sealer = sealers.of(keyring, *account, *customer).await?;
        columns.ids.push(*id);
        columns
            .from
            .push(sealer.seal("messages", "from_number", *id, from));
        columns
            .to
            .push(sealer.seal("messages", "to_number", *id, to));
        columns
            .bodies
            .push(sealer.seal("messages", "body", *id, body));
    }
    sqlx::query(SEAL_MESSAGES_SQL)
        .bind(&columns.ids)
        .bind(&columns.from)
        .bind(&columns.to)
        .bind(&columns.bodies)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if let Some(last) = columns.ids.last() {
        *after = *last;
    }
    Ok(rows.len() as u64)
}
