//! Erasure receipts: what a completed request did, signed so that anyone can check it offline against the
//! public keys (`receipt_keys`), without trusting the console or its database.
//!
//! A receipt is a compact JWS (RFC 7515, EdDSA) whose payload is the RFC 8785 canonical JSON of `Receipt`:
//! the request and account ids, the records (id, object type, Salesforce id), the counts per kind, the activity
//! range, the result per store (database rows deleted; stored files deleted, k of n; data keys destroyed in the
//! keyring, and when), the residual check (`residual`) and when it was issued. No name, email, phone or message
//! text is in it.
//!
//! It is final once the request's stored files are gone and its records' data keys destroyed, so it is issued
//! by `issue_due_receipts`, which the outbox worker runs after each pass: it claims completed requests without
//! a receipt whose erasures have no outbox row and no key destruction left (`FOR UPDATE SKIP LOCKED`, so
//! instances share the work and none issues twice), runs the residual check, signs, and stores the receipt in
//! the same transaction. A request with no stored file is due as soon as its records' keys are destroyed (the
//! worker's pass just before); a crash before the commit leaves it due, so the next pass (after a restart, the
//! first) issues it.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::model::{ErasureCounts, ReceiptSummary};
use crate::server::evidence::audit_log::{self, ChainHead};
use crate::server::evidence::receipt_keys::{Jwks, ReceiptKeys, VerifyError};
use crate::server::evidence::residual::{self, CheckError, ResidualCheck};
use crate::server::keys::Keyring;
use crate::server::storage::Storage;

/// The version of the receipt's payload format.
pub const RECEIPT_VERSION: u32 = 1;

/// A receipt's payload. Fields serialize under their names and canonical JSON orders them, so adding one (as
/// the audit chain's head at completion will be) is one field here and its value in `build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The payload's format, `RECEIPT_VERSION`.
    pub version: u32,
    /// The erasure request.
    pub request_id: Uuid,
    /// Its account.
    pub account_id: Uuid,
    /// The records erased, by id.
    pub records: Vec<ReceiptRecord>,
    /// What was erased, summed over the records.
    pub counts: KindCounts,
    /// When the earliest and latest erased call or message took place; `None` when there was none.
    pub activity: Option<ActivityRange>,
    /// The result in each store.
    pub stores: StoreResults,
    /// What was left once the stored files were deleted.
    pub residual_check: ResidualCheck,
    /// The account's audit chain head when the receipt was signed: it comes after the request's `request_erased`
    /// entry, so `audit verify` of a chain that still holds this seq and hash shows the log was not rewritten.
    pub audit_chain: AuditChainHead,
    /// When the request's erasure committed.
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
    /// When this receipt was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
}

/// An audit chain's head: the seq of its last row and that row's hash (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChainHead {
    /// The last row's seq.
    pub seq: i64,
    /// The last row's SHA-256 hash, in lower-case hex.
    pub hash: String,
}

impl From<ChainHead> for AuditChainHead {
    fn from(head: ChainHead) -> AuditChainHead {
        AuditChainHead {
            seq: head.seq,
            hash: head
                .hash
                .iter()
                .fold(String::with_capacity(64), |mut hex, byte| {
                    let _ = write!(hex, "{byte:02x}");
                    hex
                }),
        }
    }
}

/// One erased record: ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    /// The console's id of the record.
    pub id: Uuid,
    /// Its Salesforce object type (Lead, Contact, ...).
    pub object_type: String,
    /// Its 18-character Salesforce id.
    pub salesforce_id: String,
}

/// Counts per kind of data erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    /// Calls, voicemails among them.
    pub calls: i64,
    /// Recordings of calls that are not voicemails.
    pub recordings: i64,
    /// Voicemails.
    pub voicemails: i64,
    /// Transcripts of calls.
    pub transcripts: i64,
    /// Text messages.
    pub messages: i64,
    /// Media files of messages.
    pub media: i64,
}

/// The time range of the erased activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRange {
    /// The earliest call or message.
    #[serde(with = "time::serde::rfc3339")]
    pub first: OffsetDateTime,
    /// The latest call or message.
    #[serde(with = "time::serde::rfc3339")]
    pub last: OffsetDateTime,
}

/// The result in each store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreResults {
    /// The database: the call and message rows deleted.
    pub database: DatabaseResult,
    /// The object store: the stored files deleted, k of n.
    pub files: FilesResult,
    /// The keyring: the records' data keys destroyed; `None` in receipts issued before it was recorded (or for
    /// erasures from before keys), which do not name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeysResult>,
}

/// What the erasure deleted from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseResult {
    /// Call and message rows deleted.
    pub rows_deleted: i64,
}

/// What the outbox deleted from the object store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesResult {
    /// Files deleted (or found already gone).
    pub deleted: i64,
    /// Files the erasure queued.
    pub queued: i64,
    /// Keys on the records that lay outside the account's storage: neither queued nor deleted.
    pub refused: i64,
}

/// What the key worker destroyed in the keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysResult {
    /// Records whose data key was destroyed (their sealed values and files open nowhere since).
    pub destroyed: i64,
    /// Records that never had a data key (no activity sealed under one).
    pub never_made: i64,
    /// When the last of the keys was destroyed; `None` when none was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub destroyed_at: Option<OffsetDateTime>,
}

impl Receipt {
    /// The readable summary `receipt verify` prints, one line each.
    pub fn summary_lines(&self) -> Vec<String> {
        let counts = &self.counts;
        let mut lines = vec![
            format!("Erasure request {}", self.request_id),
            format!("Account {}", self.account_id),
            format!("Completed {}", rfc3339(self.completed_at)),
            format!("Issued {}", rfc3339(self.issued_at)),
            format!("Records ({}):", self.records.len()),
        ];
        for record in &self.records {
            lines.push(format!(
                "  {} {} ({})",
                record.object_type, record.salesforce_id, record.id
            ));
        }
        lines.push(format!(
            "Erased: {} calls, {} recordings, {} voicemails, {} transcripts, {} messages, {} media files",
            counts.calls,
            counts.recordings,
            counts.voicemails,
            counts.transcripts,
            counts.messages,
            counts.media
        ));
        lines.push(match self.activity {
            Some(range) => format!(
                "Activity from {} to {}",
                rfc3339(range.first),
                rfc3339(range.last)
            ),
            None => "Activity: none".into(),
        });
        lines.push(format!(
            "Database: {} rows deleted",
            self.stores.database.rows_deleted
        ));
        let files = self.stores.files;
        let mut files_line = format!(
            "Stored files: {} of {} deleted",
            files.deleted, files.queued
        );
        if files.refused > 0 {
            let _ = write!(
                files_line,
                ", {} outside the account refused",
                files.refused
            );
        }
        lines.push(files_line);
        lines.push(match self.stores.keys {
            Some(keys) => format!(
                "Data keys: {} destroyed{}, {} records had none",
                keys.destroyed,
                keys.destroyed_at
                    .map(|at| format!(" (the last at {})", rfc3339(at)))
                    .unwrap_or_default(),
                keys.never_made
            ),
            None => "Data keys: not recorded".to_owned(),
        });
        let check = &self.residual_check;
        let tables: Vec<String> = check
            .tables
            .iter()
            .map(|table| format!("{} {}", table.table, table.rows))
            .collect();
        lines.push(format!(
            "Residual check: {} ({} tables: {}; {} storage keys checked, {} objects left; {})",
            if check.is_clean() {
                "clean"
            } else {
                "NOT CLEAN"
            },
            check.tables.len(),
            tables.join(", "),
            check.storage_keys_checked,
            check.objects_left,
            match check.data_keys_left {
                Some(left) => format!("{left} data keys left"),
                None => "data keys not checked".to_owned(),
            }
        ));
        lines.push(format!(
            "Audit chain head: #{} {}",
            self.audit_chain.seq, self.audit_chain.hash
        ));
        lines
    }

    /// The summary the console's pages show beside the download.
    pub fn page_summary(&self) -> ReceiptSummary {
        let counts = self.counts;
        let check = &self.residual_check;
        ReceiptSummary {
            issued_at: self.issued_at,
            records: self.records.len() as i64,
            counts: ErasureCounts {
                calls: counts.calls,
                recordings: counts.recordings,
                voicemails: counts.voicemails,
                transcripts: counts.transcripts,
                messages: counts.messages,
                media: counts.media,
                first_activity_at: self.activity.map(|range| range.first),
                last_activity_at: self.activity.map(|range| range.last),
            },
            rows_deleted: self.stores.database.rows_deleted,
            files_deleted: self.stores.files.deleted,
            files_queued: self.stores.files.queued,
            tables_checked: check.tables.iter().map(|t| t.table.clone()).collect(),
            tables_with_rows_left: check.tables_with_rows().map(|t| t.table.clone()).collect(),
            rows_left: check.tables.iter().map(|t| t.rows).sum(),
            storage_keys_checked: check.storage_keys_checked,
            objects_left: check.objects_left,
            keys_destroyed: self.stores.keys.map(|keys| keys.destroyed),
            keys_destroyed_at: self.stores.keys.and_then(|keys| keys.destroyed_at),
            data_keys_left: check.data_keys_left,
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Why a receipt file did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The JWS itself: its form, header or signature.
    #[error(transparent)]
    Signature(#[from] VerifyError),
    /// The signed payload is not a receipt in canonical JSON.
    #[error("the signed payload is not a receipt: {0}")]
    Payload(String),
}

/// The receipt in the compact JWS `token`, when its signature verifies under `keys` and its payload is a
/// receipt in RFC 8785 canonical form (as the console signs it).
pub fn verify(token: &str, keys: &Jwks) -> Result<Receipt, ReceiptError> {
    let payload = keys.verify(token)?;
    let value: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|e| ReceiptError::Payload(e.to_string()))?;
    let canonical = serde_json_canonicalizer::to_vec(&value)
        .map_err(|e| ReceiptError::Payload(e.to_string()))?;
    if canonical != payload {
        return Err(ReceiptError::Payload(
            "it is not in RFC 8785 canonical form".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| ReceiptError::Payload(e.to_string()))
}

/// What `receipt verify` prints for the receipt file at `receipt_path`: the summary of a receipt that verifies
/// against the JWKS file at `jwks_path`, or, without one, against the public keys of the key file at
/// `key_file` (nothing is fetched); the reason when it does not verify.
pub fn verify_file(
    receipt_path: &Path,
    jwks_path: Option<&Path>,
    key_file: Option<&Path>,
) -> Result<Vec<String>, String> {
    let keys = match (jwks_path, key_file) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the key set {}: {e}", path.display()))?;
            Jwks::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        (None, Some(path)) => ReceiptKeys::load(path)?.jwks(),
        (None, None) => {
            return Err(
                "no keys to verify with: give --keys JWKS (e.g. saved from /.well-known/receipt-keys.json) or RECEIPT_SIGNING_KEY_FILE"
                    .into(),
            );
        }
    };
    let token = std::fs::read_to_string(receipt_path)
        .map_err(|e| format!("cannot read the receipt {}: {e}", receipt_path.display()))?;
    let receipt =
        verify(token.trim(), &keys).map_err(|e| format!("the receipt does not verify: {e}"))?;
    let mut lines = vec!["Signature: valid (Ed25519)".to_owned()];
    lines.extend(receipt.summary_lines());
    Ok(lines)
}

/// The receipt inside a token the console stored itself, read without checking its signature (for the pages,
/// which show what the console issued; anyone checks the signature with `verify`).
pub fn stored_receipt(token: &str) -> Option<Receipt> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// One `erasures` row of a request, as the receipt reads it.
#[derive(FromRow)]
struct ErasureRow {
    id: Uuid,
    customer_id: Uuid,
    object_type: String,
    salesforce_id: String,
    calls_deleted: i32,
    recordings_deleted: i32,
    voicemails_deleted: i32,
    transcripts_deleted: i32,
    messages_deleted: i32,
    media_deleted: i32,
    first_activity_at: Option<OffsetDateTime>,
    last_activity_at: Option<OffsetDateTime>,
    stored_keys_refused: i32,
}

/// A completed request without a receipt whose erasures have no stored file left to delete (its outbox rows are
/// all gone) and no data key left to destroy, other than those in `$1` (tried in this pass already), oldest first: claimed until the
/// transaction ends, skipping one another instance holds.
const CLAIM_DUE_SQL: &str = "select r.id, r.account_id, r.completed_at from erasure_requests r
     where r.state = 'completed' and r.receipt_jws is null and r.id <> all($1)
       and not exists (select 1 from erasures e join object_deletions o on o.erasure_id = e.id
                       where e.account_id = r.account_id and e.request_id = r.id)
       and not exists (select 1 from erasures e
                       join key_destructions k on k.account_id = e.account_id and k.customer_id = e.customer_id
                       where e.account_id = r.account_id and e.request_id = r.id and k.destroyed_at is null)
     order by r.completed_at, r.id
     limit 1
     for update of r skip locked";

/// The request's erasures, in record id order.
const ERASURES_SQL: &str = "select id, customer_id, object_type, salesforce_id, calls_deleted,
            recordings_deleted, voicemails_deleted, transcripts_deleted, messages_deleted, media_deleted,
            first_activity_at, last_activity_at, stored_keys_refused
     from erasures where account_id = $1 and request_id = $2 order by customer_id";

/// The key destructions of request `$2` of account `$1`: the records with one, those whose key was destroyed,
/// those that had none, and when the last key was destroyed.
const KEYS_SQL: &str =
    "select count(*), count(*) filter (where k.had_key), count(*) filter (where not k.had_key),
            max(k.destroyed_at) filter (where k.had_key)
     from erasures e
     join key_destructions k on k.account_id = e.account_id and k.customer_id = e.customer_id
     where e.account_id = $1 and e.request_id = $2";

/// The stored keys the outbox recorded for erasures `$1`.
const CHECKED_KEYS_SQL: &str =
    "select unnest(object_keys) from residual_check_keys where erasure_id = any($1)";

/// Stores the receipt `$3`, issued at `$4`, of request `$2` of account `$1`, and forgets the stored keys of its
/// erasures `$5` (the receipt keeps their count).
const STORE_RECEIPT_SQL: &str = "with stored as (
         update erasure_requests set receipt_jws = $3, receipt_issued_at = $4
         where account_id = $1 and id = $2 and receipt_jws is null
         returning id
     )
     delete from residual_check_keys where erasure_id = any($5) and exists (select 1 from stored)";

/// Why issuing a receipt failed (the request stays due and is tried again on a later pass).
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The residual check could not run to the end.
    #[error("residual check: {0}")]
    Check(#[from] CheckError),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
}

/// What one issuing pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IssuePass {
    /// Receipts signed and stored.
    pub issued: usize,
    /// Requests whose receipt could not be issued now (logged; tried again on a later pass).
    pub failed: usize,
}

/// Issues the receipt of every request that is due (see the module's doc), one transaction each; a request
/// that fails is logged and left for a later pass.
pub async fn issue_due_receipts(
    pool: &PgPool,
    storage: &Storage,
    keyring: &Keyring,
    keys: &ReceiptKeys,
) -> sqlx::Result<IssuePass> {
    let mut pass = IssuePass::default();
    let mut tried: Vec<Uuid> = Vec::new();
    loop {
        let mut tx = pool.begin().await?;
        let Some((request_id, account_id, completed_at)) =
            sqlx::query_as::<_, (Uuid, Uuid, OffsetDateTime)>(CLAIM_DUE_SQL)
                .bind(&tried)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(pass);
        };
        tried.push(request_id);
        let claimed = Claimed {
            account_id,
            request_id,
            completed_at,
        };
        match issue_one(&mut tx, storage, keyring, keys, claimed).await {
            Ok(()) => {
                tx.commit().await?;
                pass.issued += 1;
            }
            Err(err) => {
                tracing::error!(%request_id, error = %err, "cannot issue the receipt now; will retry");
                pass.failed += 1;
            }
        }
    }
}

/// Builds, checks, signs and stores the receipt of the claimed request, inside the claim's transaction.
async fn issue_one(
    tx: &mut sqlx::PgConnection,
    storage: &Storage,
    keyring: &Keyring,
    keys: &ReceiptKeys,
    claimed: Claimed,
) -> Result<(), IssueError> {
    let Claimed {
        account_id,
        request_id,
        ..
    } = claimed;
    let erasures: Vec<ErasureRow> = sqlx::query_as(ERASURES_SQL)
        .bind(account_id)
        .bind(request_id)
        .fetch_all(&mut *tx)
        .await?;
    let erasure_ids: Vec<Uuid> = erasures.iter().map(|e| e.id).collect();
    let customer_ids: Vec<Uuid> = erasures.iter().map(|e| e.customer_id).collect();
    let keys_to_check: Vec<String> = sqlx::query_scalar(CHECKED_KEYS_SQL)
        .bind(&erasure_ids)
        .fetch_all(&mut *tx)
        .await?;
    let residual_check = residual::check(
        &mut *tx,
        storage,
        keyring,
        account_id,
        &customer_ids,
        &keys_to_check,
    )
    .await?;
    if !residual_check.is_clean() {
        tracing::error!(
            target: "integrity",
            %request_id,
            tables = ?residual_check.tables_with_rows().map(|t| &t.table).collect::<Vec<_>>(),
            objects_left = residual_check.objects_left,
            "the residual check found data left after an erasure; the receipt records it"
        );
    }
    let (queued, destroyed, never_made, destroyed_at): (i64, i64, i64, Option<OffsetDateTime>) =
        sqlx::query_as(KEYS_SQL)
            .bind(account_id)
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
    // An erasure from before keys queued no destruction: its records' keys are not recorded.
    let key_result = (queued == erasures.len() as i64).then_some(KeysResult {
        destroyed,
        never_made,
        destroyed_at,
    });
    let audit_chain = audit_log::chain_head(&mut *tx, account_id).await?.into();
    let findings = Findings {
        keys: key_result,
        residual_check,
        audit_chain,
    };
    let receipt = build(claimed, &erasures, findings, OffsetDateTime::now_utc());
    let payload = serde_json_canonicalizer::to_vec(&receipt)
        .map_err(|e| IssueError::Signing(e.to_string()))?;
    let token = keys.sign(&payload).map_err(IssueError::Signing)?;
    sqlx::query(STORE_RECEIPT_SQL)
        .bind(account_id)
        .bind(request_id)
        .bind(&token)
        .bind(receipt.issued_at)
        .bind(&erasure_ids)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The request a pass claimed.
#[derive(Debug, Clone, Copy)]
struct Claimed {
    account_id: Uuid,
    request_id: Uuid,
    completed_at: OffsetDateTime,
}

/// What a receipt is built from besides the erasures.
struct Findings {
    keys: Option<KeysResult>,
    residual_check: ResidualCheck,
    audit_chain: AuditChainHead,
}

/// The receipt of a request from its erasures and findings. The files' figures are final: the request is due
/// only once its outbox rows are gone, so every queued file is deleted.
fn build(
    claimed: Claimed,
    erasures: &[ErasureRow],
    findings: Findings,
    issued_at: OffsetDateTime,
) -> Receipt {
    let Claimed {
        account_id,
        request_id,
        completed_at,
    } = claimed;
    let Findings {
        keys,
        residual_check,
        audit_chain,
    } = findings;
    let sum = |field: fn(&ErasureRow) -> i32| -> i64 {
        erasures.iter().map(|e| i64::from(field(e))).sum()
    };
    let counts = KindCounts {
        calls: sum(|e| e.calls_deleted),
        recordings: sum(|e| e.recordings_deleted),
        voicemails: sum(|e| e.voicemails_deleted),
        transcripts: sum(|e| e.transcripts_deleted),
        messages: sum(|e| e.messages_deleted),
        media: sum(|e| e.media_deleted),
    };
    let first = erasures.iter().filter_map(|e| e.first_activity_at).min();
    let last = erasures.iter().filter_map(|e| e.last_activity_at).max();
    let queued = counts.recordings + counts.voicemails + counts.media;
    Receipt {
        version: RECEIPT_VERSION,
        request_id,
        account_id,
        records: erasures
            .iter()
            .map(|e| ReceiptRecord {
                id: e.customer_id,
                object_type: e.object_type.clone(),
                salesforce_id: e.salesforce_id.clone(),
            })
            .collect(),
        counts,
        activity: first
            .zip(last)
            .map(|(first, last)| ActivityRange { first, last }),
        stores: StoreResults {
            database: DatabaseResult {
                rows_deleted: counts.calls + counts.messages,
            },
            files: FilesResult {
                deleted: queued,
                queued,
                refused: sum(|e| e.stored_keys_refused),
            },
            keys,
        },
        residual_check,
        audit_chain,
        completed_at,
        issued_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::evidence::residual::TableRows;

    fn sample() -> Receipt {
        let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let erasure = ErasureRow {
            id: Uuid::from_u128(1),
            customer_id: Uuid::from_u128(2),
            object_type: "Lead".into(),
            salesforce_id: "00Q000000000001AAA".into(),
            calls_deleted: 3,
            recordings_deleted: 2,
            voicemails_deleted: 1,
            transcripts_deleted: 1,
            messages_deleted: 4,
            media_deleted: 1,
            first_activity_at: Some(at),
            last_activity_at: Some(at + time::Duration::days(3)),
            stored_keys_refused: 0,
        };
        let check = ResidualCheck {
            tables: vec![TableRows {
                table: "calls".into(),
                rows: 0,
            }],
            kept_as_evidence: vec![],
            storage_keys_checked: 4,
            objects_left: 0,
            data_keys_left: Some(0),
        };
        let claimed = Claimed {
            account_id: Uuid::from_u128(4),
            request_id: Uuid::from_u128(3),
            completed_at: at,
        };
        let findings = Findings {
            keys: Some(KeysResult {
                destroyed: 1,
                never_made: 0,
                destroyed_at: Some(at + time::Duration::seconds(2)),
            }),
            residual_check: check,
            audit_chain: AuditChainHead {
                seq: 12,
                hash: "ab".repeat(32),
            },
        };
        build(claimed, &[erasure], findings, at)
    }

    #[test]
    fn a_signed_receipt_verifies_and_reads_back_as_issued() {
        let keys = ReceiptKeys::generate();
        let receipt = sample();
        let token = keys
            .sign(&serde_json_canonicalizer::to_vec(&receipt).unwrap())
            .unwrap();
        assert_eq!(verify(&token, &keys.jwks()).unwrap(), receipt);
        assert_eq!(stored_receipt(&token).unwrap(), receipt);
        assert_eq!(receipt.stores.files.deleted, 4);
        assert_eq!(receipt.stores.database.rows_deleted, 7);
    }

    #[test]
    fn a_receipt_from_before_keys_reads_with_its_keys_not_recorded() {
        let mut payload = serde_json::to_value(sample()).unwrap();
        payload["stores"].as_object_mut().unwrap().remove("keys");
        payload["residual_check"]
            .as_object_mut()
            .unwrap()
            .remove("data_keys_left");
        let earlier: Receipt = serde_json::from_value(payload).unwrap();
        assert_eq!(
            (earlier.stores.keys, earlier.residual_check.data_keys_left),
            (None, None)
        );
        assert!(earlier.residual_check.is_clean());
        let lines = earlier.summary_lines().join("\n");
        assert!(lines.contains("Data keys: not recorded"), "{lines}");
        assert!(lines.contains("data keys not checked"), "{lines}");
        assert_eq!(earlier.page_summary().keys_destroyed, None);
    }

    #[test]
    fn a_payload_not_in_canonical_form_is_refused() {
        let keys = ReceiptKeys::generate();
        let pretty = serde_json::to_vec_pretty(&sample()).unwrap();
        let token = keys.sign(&pretty).unwrap();
        assert!(matches!(
            verify(&token, &keys.jwks()),
            Err(ReceiptError::Payload(_))
        ));
    }

    #[test]
    fn the_summary_names_the_counts_and_the_residual_check() {
        let lines = sample().summary_lines().join("\n");
        assert!(
            lines.contains("3 calls, 2 recordings, 1 voicemails"),
            "{lines}"
        );
        assert!(lines.contains("Stored files: 4 of 4 deleted"), "{lines}");
        assert!(
            lines.contains(
                "Data keys: 1 destroyed (the last at 2026-05-28T20:26:42Z), 0 records had none"
            ),
            "{lines}"
        );
        assert!(
            lines.contains("Residual check: clean (1 tables: calls 0"),
            "{lines}"
        );
    }
}
