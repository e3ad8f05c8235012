//! Customer records' data as a ZIP (one record's, or all of a person's records'), for the person who asked for
//! a copy (GDPR Art. 15 and 20): `calls.json` and `messages.json` (each row naming its record), every recording,
//! voicemail and message media as the platform stored it (a sealed file opened chunk by chunk under its record's
//! key), and last `manifest.json` (the records, when, who asked, counts, and
//! the SHA-256 and size of every other file). The archive is written by the `zip` crate
//! into a small buffer that is handed to the response in chunks through a bounded channel, the rows are read
//! in batches and the files are read as streams, so neither a long record nor a long recording is ever whole in
//! memory. A stored file that is gone is listed under `files_missing` rather than failing the export; any other
//! failure, or an erasure of one of the records while it was written, ends the download with an error so that an
//! archive without its manifest is never taken for a complete one.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use crate::server::db::exports::{self, After, ExportedCall, ExportedMessage, ExportedRecord};
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::keys::tree::Unopened;
use crate::server::keys::{Keyring, KeyringError};
use crate::server::sessions::hex;
use crate::server::storage::Storage;

/// The version of the archive's layout, written in the manifest.
pub const FORMAT: &str = "customer-data-console export 1";

/// Bytes gathered before they are handed to the response.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks the response may hold before the writer waits for the client.
const CHUNKS_IN_FLIGHT: usize = 4;

/// How long the writer waits for a client that reads nothing before it gives the export up (so a stalled
/// download does not hold its task and its open reads for ever).
const CLIENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// Who asked for an export, as the manifest names them: a user of the console or an API token.
#[derive(Debug, Clone, Serialize)]
pub struct Requester {
    /// `user` or `api_token`.
    pub kind: &'static str,
    /// The user's or the token's id.
    pub id: Uuid,
    /// The user's name (a token is named by its id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `manifest.json`.
#[derive(Debug, Serialize)]
struct Manifest<'a> {
    format: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    exported_at: OffsetDateTime,
    exported_by: &'a Requester,
    account_id: Uuid,
    records: &'a [ExportedRecord],
    counts: Counts,
    files: &'a [ArchivedFile],
    files_missing: &'a [String],
}

/// How much the archive holds.
#[derive(Debug, Default, Serialize)]
struct Counts {
    calls: u64,
    messages: u64,
    recordings: u64,
    media: u64,
}

/// One file of the archive, as the manifest lists it.
#[derive(Debug, Serialize)]
struct ArchivedFile {
    path: String,
    bytes: u64,
    sha256: String,
}

/// Records in the account's audit log that `actor` exported each of `records` (before the archive's first byte,
/// so an export is never unrecorded).
pub async fn record_exports(
    pool: &PgPool,
    account_id: Uuid,
    actor: Actor,
    records: &[ExportedRecord],
) -> sqlx::Result<()> {
    for record in records {
        let entry = Entry::new(account_id, actor, Action::CustomerExported)
            .customer(record.id)
            .count("calls", record.calls)
            .count("messages", record.messages);
        audit_log::append_alone(pool, &entry).await?;
    }
    Ok(())
}

/// What the task writing an archive hands to the response.
enum Piece {
    /// The next bytes of the archive.
    Chunk(Bytes),
    /// The archive is complete (its manifest and central directory were handed on).
    Done,
    /// The archive cannot be completed.
    Failed(std::io::Error),
}

/// The archive of `records` (of `account_id`, none erased) as a stream of chunks for a response body. The
/// archive is written by a task of its own, which stops as soon as the response is dropped. The stream ends
/// cleanly only once the task says the archive is complete: if the task fails, or stops without saying so (a
/// panic, a shutdown), the stream ends with an error, so the download fails rather than looking complete.
pub fn archive(
    pool: PgPool,
    storage: Storage,
    keyring: Arc<Keyring>,
    account_id: Uuid,
    records: Vec<ExportedRecord>,
    requester: Requester,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let writer = ArchiveWriter::new(sender.clone());
        let written = write_archive(
            &pool, &storage, &keyring, account_id, &records, &requester, writer,
        )
        .await;
        let last = match written {
            Ok(()) => Piece::Done,
            Err(error) => {
                tracing::warn!(%account_id, error = %error, "export ended early");
                Piece::Failed(error)
            }
        };
        let _ = sender.send_timeout(last, CLIENT_PATIENCE).await;
    });
    body_of(receiver)
}

/// The response body of the pieces `receiver` gets: the chunks, ending cleanly at `Done` and with an error at
/// `Failed` or when the channel closes before `Done`.
fn body_of(receiver: mpsc::Receiver<Piece>) -> impl Stream<Item = std::io::Result<Bytes>> {
    futures::stream::unfold(Some(receiver), |receiver| async move {
        let mut receiver = receiver?;
        match receiver.recv().await {
            Some(Piece::Chunk(bytes)) => Some((Ok(bytes), Some(receiver))),
            Some(Piece::Done) => None,
            Some(Piece::Failed(error)) => Some((Err(error), None)),
            None => Some((
                Err(std::io::Error::other(
                    "the export stopped before it was complete",
                )),
                None,
            )),
        }
    })
}

/// Writes the whole archive: the calls, the messages, their files, then the manifest.
async fn write_archive(
    pool: &PgPool,
    storage: &Storage,
    keyring: &Keyring,
    account_id: Uuid,
    records: &[ExportedRecord],
    requester: &Requester,
    mut writer: ArchiveWriter,
) -> std::io::Result<()> {
    let ids: Vec<Uuid> = records.iter().map(|record| record.id).collect();
    let mut counts = Counts::default();
    let mut stored_files: Vec<StoredFile> = Vec::new();
    counts.calls = write_rows(
        &mut writer,
        "calls.json",
        &ids,
        &mut stored_files,
        |id, after| async move {
            let opener = keyring.opener(account_id, id).await.map_err(keys_failed)?;
            let rows = exports::calls_after(pool, account_id, id, after)
                .await
                .map_err(read_failed)?;
            opened(rows, |row| row.opened(&opener))
        },
    )
    .await?;
    counts.recordings = stored_files.len() as u64;
    counts.messages = write_rows(
        &mut writer,
        "messages.json",
        &ids,
        &mut stored_files,
        |id, after| async move {
            let opener = keyring.opener(account_id, id).await.map_err(keys_failed)?;
            let rows = exports::messages_after(pool, account_id, id, after)
                .await
                .map_err(read_failed)?;
            opened(rows, |row| row.opened(&opener))
        },
    )
    .await?;
    counts.media = stored_files.len() as u64 - counts.recordings;

    let account_store = storage.of_account(account_id);
    let mut missing = Vec::new();
    for StoredFile { record, path, key } in stored_files {
        let stream = account_store.read(&key).await.map_err(file_unread)?;
        let Some(mut stream) = stream else {
            missing.push(path);
            continue;
        };
        // The keyring keeps the record's key in memory, so a record's files ask the keyring once.
        let opener = keyring
            .opener(account_id, record)
            .await
            .map_err(keys_failed)?;
        let mut opening = opener.file(&key);
        // Recordings and media are compressed already; deflating them again costs time and saves nothing.
        writer.start(&path, CompressionMethod::Stored)?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(file_unread)?;
            writer
                .write(&opening.push(&chunk).map_err(file_unopened)?)
                .await?;
        }
        writer
            .write(&opening.finish().map_err(file_unopened)?)
            .await?;
        writer.finish_file();
    }

    if exports::any_erased(pool, account_id, &ids)
        .await
        .map_err(read_failed)?
    {
        return Err(std::io::Error::other(
            "a record was erased while it was exported",
        ));
    }
    let manifest = Manifest {
        format: FORMAT,
        exported_at: OffsetDateTime::now_utc(),
        exported_by: requester,
        account_id,
        records,
        counts,
        files: &writer.files,
        files_missing: &missing,
    };
    let manifest = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    writer.start("manifest.json", CompressionMethod::Deflated)?;
    writer.write(&manifest).await?;
    writer.finish().await
}

/// A stored file a row names.
struct StoredFile {
    /// The record whose row names it (its data key seals the file).
    record: Uuid,
    /// Its name in the archive.
    path: String,
    /// Its key in the store.
    key: String,
}

/// A row of `calls.json` or `messages.json`.
trait ArchivedRow: Serialize {
    /// Where the batch after this row starts.
    fn after(&self) -> (OffsetDateTime, Uuid);

    /// The stored files the row names: their names in the archive, and their keys in the store.
    fn stored_files(&self) -> Vec<(String, String)>;
}

impl ArchivedRow for ExportedCall {
    fn after(&self) -> (OffsetDateTime, Uuid) {
        (self.started_at, self.id)
    }

    fn stored_files(&self) -> Vec<(String, String)> {
        self.recording_key
            .iter()
            .map(|key| {
                (
                    format!("recordings/{}{}", self.id, extension(key)),
                    key.clone(),
                )
            })
            .collect()
    }
}

impl ArchivedRow for ExportedMessage {
    fn after(&self) -> (OffsetDateTime, Uuid) {
        (self.sent_at, self.id)
    }

    fn stored_files(&self) -> Vec<(String, String)> {
        self.media_keys
            .iter()
            .enumerate()
            .map(|(n, key)| {
                (
                    format!("media/{}-{}{}", self.id, n + 1, extension(key)),
                    key.clone(),
                )
            })
            .collect()
    }
}

/// Writes the file `name` as a JSON array of the rows `batch_after` reads, record by record and batch by batch,
/// and adds the stored files they name to `stored_files`; answers how many rows it wrote.
async fn write_rows<T, Batch>(
    writer: &mut ArchiveWriter,
    name: &str,
    records: &[Uuid],
    stored_files: &mut Vec<StoredFile>,
    mut batch_after: impl FnMut(Uuid, After) -> Batch,
) -> std::io::Result<u64>
where
    T: ArchivedRow,
    Batch: Future<Output = std::io::Result<Vec<T>>>,
{
    writer.start(name, CompressionMethod::Deflated)?;
    writer.write(b"[").await?;
    let mut written = 0;
    for &record in records {
        let mut after = exports::FROM_THE_START;
        loop {
            let batch = batch_after(record, after).await?;
            for row in &batch {
                writer.write(separator(written)).await?;
                writer.write(&json(row)?).await?;
                written += 1;
                stored_files.extend(
                    row.stored_files()
                        .into_iter()
                        .map(|(path, key)| StoredFile { record, path, key }),
                );
            }
            match batch.last() {
                Some(last) if batch.len() as i64 == exports::EXPORT_BATCH => after = last.after(),
                _ => break,
            }
        }
    }
    writer.write(b"\n]\n").await?;
    writer.finish_file();
    Ok(written)
}

/// The error a failed read ends the download with (the database's text goes to the log only).
fn read_failed(err: sqlx::Error) -> std::io::Error {
    tracing::error!(error = %err, "export could not read the records' data");
    std::io::Error::other("the records' data could not be read")
}

/// The error a keyring failure ends the download with (its text goes to the log only).
fn keys_failed(err: KeyringError) -> std::io::Error {
    tracing::error!(error = %err, "export could not read a record's key");
    std::io::Error::other("the records' data could not be read")
}

/// The error a stored file that could not be read ends the download with (the store's text goes to the log).
fn file_unread(err: object_store::Error) -> std::io::Error {
    tracing::error!(error = %err, "export could not read a stored file");
    std::io::Error::other("a stored file could not be read")
}

/// The error a sealed file that does not open under its record's key ends the download with.
fn file_unopened(_: Unopened) -> std::io::Error {
    tracing::error!("export found a stored file that did not open under its record's key");
    std::io::Error::other("a stored file could not be read")
}

/// `rows` with their sealed values opened by `open`; a value that does not open ends the download.
fn opened<S, T>(rows: Vec<S>, open: impl Fn(S) -> Result<T, Unopened>) -> std::io::Result<Vec<T>> {
    rows.into_iter()
        .map(open)
        .collect::<Result<_, _>>()
        .map_err(|_| {
            tracing::error!("export found a sealed value that did not open under its record's key");
            std::io::Error::other("the records' data could not be read")
        })
}

/// What goes before the `n`th element of a JSON array written one element at a time.
fn separator(n: u64) -> &'static [u8] {
    if n == 0 { b"\n" } else { b",\n" }
}

/// `value` as JSON.
fn json(value: &impl Serialize) -> std::io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(std::io::Error::other)
}

/// The extension of a stored key's last segment (`.wav`, `.jpg`), when it is a short run of letters and digits;
/// nothing otherwise, so no key can put a path or odd characters into the archive's names.
fn extension(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or_default();
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && (1..=8).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!(".{}", ext.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

/// The bytes the `zip` crate writes, gathered until they are handed on.
#[derive(Clone, Default)]
struct Gathered(Arc<Mutex<Vec<u8>>>);

impl Gathered {
    /// Takes what has been gathered when it is at least `at_least` bytes.
    fn take(&self, at_least: usize) -> Option<Vec<u8>> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (!bytes.is_empty() && bytes.len() >= at_least).then(|| std::mem::take(&mut *bytes))
    }
}

impl Write for Gathered {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A ZIP written as a stream: each file's bytes go through the `zip` crate into `gathered`, and from there to
/// the response once a chunk is full. Keeps the size and SHA-256 of each file for the manifest.
struct ArchiveWriter {
    zip: ZipWriter<StreamWriter<Gathered>>,
    gathered: Gathered,
    sender: mpsc::Sender<Piece>,
    current: Option<(String, Sha256, u64)>,
    files: Vec<ArchivedFile>,
}

impl ArchiveWriter {
    fn new(sender: mpsc::Sender<Piece>) -> Self {
        let gathered = Gathered::default();
        ArchiveWriter {
            zip: ZipWriter::new_stream(gathered.clone()),
            gathered,
            sender,
            current: None,
            files: Vec::new(),
        }
    }

    /// Starts the file at `path` (every file may be over 4 GiB, so each gets ZIP64 sizes).
    fn start(&mut self, path: &str, method: CompressionMethod) -> std::io::Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(true);
        self.zip.start_file(path, options)?;
        self.current = Some((path.to_owned(), Sha256::new(), 0));
        Ok(())
    }

    /// Writes `bytes` to the current file, and hands on a full chunk.
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.zip.write_all(bytes)?;
        if let Some((_, digest, size)) = &mut self.current {
            digest.update(bytes);
            *size += bytes.len() as u64;
        }
        self.hand_on(CHUNK_BYTES).await
    }

    /// Ends the current file's entry in the manifest.
    fn finish_file(&mut self) {
        if let Some((path, digest, bytes)) = self.current.take() {
            self.files.push(ArchivedFile {
                path,
                bytes,
                sha256: hex(&digest.finalize()),
            });
        }
    }

    /// Writes the archive's central directory and hands on everything left.
    async fn finish(self) -> std::io::Result<()> {
        let ArchiveWriter {
            zip,
            gathered,
            sender,
            ..
        } = self;
        zip.finish()?;
        hand_on(&gathered, &sender, 1).await
    }

    async fn hand_on(&self, at_least: usize) -> std::io::Result<()> {
        hand_on(&self.gathered, &self.sender, at_least).await
    }
}

/// Sends what has been gathered when it is at least `at_least` bytes; an error when the client is gone or has
/// read nothing for `CLIENT_PATIENCE`.
async fn hand_on(
    gathered: &Gathered,
    sender: &mpsc::Sender<Piece>,
    at_least: usize,
) -> std::io::Result<()> {
    match gathered.take(at_least) {
        Some(chunk) => sender
            .send_timeout(Piece::Chunk(Bytes::from(chunk)), CLIENT_PATIENCE)
            .await
            .map_err(|_| std::io::Error::other("the download was abandoned")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_short_alphanumeric_extension_is_kept_from_a_stored_key() {
        assert_eq!(extension("recordings/acc/call.WAV"), ".wav");
        assert_eq!(extension("media/acc/m-1.jpeg"), ".jpeg");
        assert_eq!(extension("media/acc/noext"), "");
        assert_eq!(extension("media/acc/.hidden"), "");
        assert_eq!(extension("media/acc/x.../../etc"), "");
        assert_eq!(extension("media/acc/x.toolongextension"), "");
        assert_eq!(extension("media/acc/x.p n g"), "");
    }

    #[test]
    fn json_array_elements_are_separated_by_commas_after_the_first() {
        let mut out = b"[".to_vec();
        for n in 0..3u64 {
            out.extend_from_slice(separator(n));
            out.extend_from_slice(n.to_string().as_bytes());
        }
        out.extend_from_slice(b"\n]");
        let parsed: Vec<u64> = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed, vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn the_body_ends_cleanly_only_when_the_archive_is_complete() {
        let (sender, receiver) = mpsc::channel(8);
        sender
            .send(Piece::Chunk(Bytes::from_static(b"PK")))
            .await
            .unwrap();
        sender.send(Piece::Done).await.unwrap();
        let complete: Vec<_> = body_of(receiver).collect().await;
        assert_eq!(complete.len(), 1);
        assert!(complete[0].is_ok());

        let (sender, receiver) = mpsc::channel(8);
        sender
            .send(Piece::Chunk(Bytes::from_static(b"PK")))
            .await
            .unwrap();
        drop(sender);
        let stopped: Vec<_> = body_of(receiver).collect().await;
        assert_eq!(stopped.len(), 2);
        assert!(
            stopped[1].is_err(),
            "a writer gone without Done fails the body"
        );

        let (sender, receiver) = mpsc::channel(8);
        sender
            .send(Piece::Failed(std::io::Error::other("store down")))
            .await
            .unwrap();
        sender
            .send(Piece::Chunk(Bytes::from_static(b"late")))
            .await
            .unwrap();
        let failed: Vec<_> = body_of(receiver).collect().await;
        assert_eq!(failed.len(), 1, "nothing follows a failure");
        assert!(failed[0].is_err());
    }

    #[tokio::test]
    async fn an_archive_written_in_chunks_opens_and_its_manifest_hashes_match() {
        let (sender, mut receiver) = mpsc::channel(1024);
        let mut writer = ArchiveWriter::new(sender);
        let big: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();
        writer.start("a.bin", CompressionMethod::Stored).unwrap();
        writer.write(&big).await.unwrap();
        writer.finish_file();
        writer.start("b.json", CompressionMethod::Deflated).unwrap();
        writer.write(b"[1,2,3]").await.unwrap();
        writer.finish_file();
        let files: Vec<(String, u64, String)> = writer
            .files
            .iter()
            .map(|f| (f.path.clone(), f.bytes, f.sha256.clone()))
            .collect();
        writer.finish().await.unwrap();
        let mut bytes = Vec::new();
        let mut chunks = 0;
        while let Ok(piece) = receiver.try_recv() {
            let Piece::Chunk(chunk) = piece else {
                panic!("only chunks are sent by the writer")
            };
            bytes.extend_from_slice(&chunk);
            chunks += 1;
        }
        assert!(chunks > 1, "a large file leaves in several chunks");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        for (path, size, sha) in files {
            let mut file = archive.by_name(&path).unwrap();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut content).unwrap();
            assert_eq!(content.len() as u64, size);
            assert_eq!(hex(&Sha256::digest(&content)), sha);
        }
    }
}
