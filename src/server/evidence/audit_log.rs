//! The audit log (`audit_log`): one append-only chain of events per account, each row holding its `seq` (1, 2,
//! 3, ... without gaps), when (`at`), who (`actor_kind` and `actor_id`), what (`action`), the ids it concerns,
//! the person concerned only as a keyed hash (`subject`, see `identity`), counts and ids (`details`, never text),
//! and `hash = SHA-256(prev_hash || canonical_row(row))`, where `prev_hash` is the row before's hash (32 zero
//! bytes for seq 1). A trigger refuses UPDATE, DELETE and TRUNCATE (migration 0016).
//!
//! Appending (`append`) locks the account's head row (`audit_heads`: the last seq and hash) for the rest of the
//! writer's transaction, so concurrent writers take turns and never fork a chain, and a change and the event
//! that records it commit together. The head lock is always the last lock a transaction takes before its
//! commit, so it can never be part of a deadlock. `verify` recomputes every chain (streaming the rows) and
//! names the first broken row.
//!
//! The /audit page's status comes from `check_chain`: it recomputes only the rows since the last check, from the
//! checkpoint that check kept in `audit_checks` (migration 0018); `run_full_checks` recomputes each chain from
//! seq 1 every `FULL_CHECK_PERIOD`. What `audit_checks` says is a cache of the verifier's answer, not evidence.

use std::collections::BTreeMap;
use std::fmt;

use futures::TryStreamExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::identity::{EvidenceSecret, PersonId, Subject};
use crate::error::AppError;
use crate::model::{ChainStatus, CustomerMatches};
use crate::server::authz::Principal;
use crate::server::input::CustomerQuery;
use crate::server::state::db_failure;

/// The `prev_hash` of a chain's first row.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Names the encoding at the start of every canonical row, so that a later encoding can never produce the same
/// bytes.
const ROW_ENCODING: &str = "customer-data-console audit_log v1";

/// What was done: the values `audit_log.action`'s CHECK lists (shared with the /audit page's filter).
pub use crate::model::AuditAction as Action;

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (or, for a sign-in, the user who signed in).
    User(Uuid),
    /// An API token (by id), for what a privacy platform or the capture pipeline did through /api/v1.
    Token(Uuid),
    /// The console itself, as the scheduler of held requests.
    System,
    /// Someone not signed in, as a failed sign-in's.
    Anonymous,
}

impl Actor {
    /// `audit_log.actor_kind` and `actor_id`.
    fn columns(self) -> (&'static str, Option<Uuid>) {
        match self {
            Actor::User(id) => ("user", Some(id)),
            Actor::Token(id) => ("token", Some(id)),
            Actor::System => ("system", None),
            Actor::Anonymous => ("anonymous", None),
        }
    }
}

/// One event to append: the account's chain it goes on, who, what, and what it concerns.
#[derive(Debug, Clone)]
pub struct Entry {
    account_id: Uuid,
    actor: Actor,
    action: Action,
    target_user_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    request_id: Option<Uuid>,
    subject: Option<Subject>,
    details: Map<String, Value>,
}

impl Entry {
    /// `actor` did `action` in account `account_id`.
    pub fn new(account_id: Uuid, actor: Actor, action: Action) -> Entry {
        Entry {
            account_id,
            actor,
            action,
            target_user_id: None,
            customer_id: None,
            request_id: None,
            subject: None,
            details: Map::new(),
        }
    }

    /// The user the act concerns.
    pub fn target_user(self, user_id: Uuid) -> Entry {
        Entry {
            target_user_id: Some(user_id),
            ..self
        }
    }

    /// The customer record the act concerns.
    pub fn customer(self, customer_id: Uuid) -> Entry {
        Entry {
            customer_id: Some(customer_id),
            ..self
        }
    }

    /// The erasure request the act concerns.
    pub fn request(self, request_id: Uuid) -> Entry {
        Entry {
            request_id: Some(request_id),
            ..self
        }
    }

    /// The person the act concerns, as their keyed hash.
    pub fn subject(self, subject: Subject) -> Entry {
        Entry {
            subject: Some(subject),
            ..self
        }
    }

    /// A count in the details.
    pub fn count(mut self, name: &str, count: i64) -> Entry {
        self.details.insert(name.to_owned(), Value::from(count));
        self
    }

    /// Ids in the details.
    pub fn ids(mut self, name: &str, ids: &[Uuid]) -> Entry {
        let ids = ids.iter().map(|id| Value::from(id.to_string())).collect();
        self.details.insert(name.to_owned(), Value::Array(ids));
        self
    }
}

/// A chain's last row: its seq (0 before the first) and hash (`GENESIS_HASH` before the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last row's seq.
    pub seq: i64,
    /// The last row's hash.
    pub hash: [u8; 32],
}

/// The fields of a row that its hash covers: all but `prev_hash` (which the hash chains in) and `hash` itself.
#[derive(Debug, Clone, Copy)]
pub struct RowFields<'a> {
    /// The account whose chain the row is on.
    pub account_id: Uuid,
    /// Its place in the chain.
    pub seq: i64,
    /// When, as stored (microseconds).
    pub at: OffsetDateTime,
    /// `user`, `token`, `system` or `anonymous`.
    pub actor_kind: &'a str,
    /// The user's or token's id.
    pub actor_id: Option<Uuid>,
    /// What was done (`Action::key`).
    pub action: &'a str,
    /// The user concerned.
    pub target_user_id: Option<Uuid>,
    /// The customer record concerned.
    pub customer_id: Option<Uuid>,
    /// The erasure request concerned.
    pub request_id: Option<Uuid>,
    /// The person concerned, as their keyed hash.
    pub subject: Option<&'a [u8]>,
    /// Counts and ids (a JSON object).
    pub details: &'a Value,
}

/// The bytes a row's hash covers, in one unambiguous encoding shared by the writer, the verifier and the
/// migration of `audit_events` (migration 0016 builds the same bytes in SQL): `ROW_ENCODING`, then each field in
/// order: a uuid as its 16 bytes, a number as 8 bytes big-endian (`at` in microseconds since 1970), a text or
/// byte string as its length (4 bytes big-endian) and bytes, an optional field as a byte 0 (absent) or 1 followed
/// by the field, and the details as their canonical JSON (`canonical_json`) in a byte string.
pub fn canonical_row(row: &RowFields<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    put_bytes(&mut out, ROW_ENCODING.as_bytes());
    out.extend_from_slice(row.account_id.as_bytes());
    out.extend_from_slice(&row.seq.to_be_bytes());
    out.extend_from_slice(&micros(row.at).to_be_bytes());
    put_bytes(&mut out, row.actor_kind.as_bytes());
    put_uuid(&mut out, row.actor_id);
    put_bytes(&mut out, row.action.as_bytes());
    put_uuid(&mut out, row.target_user_id);
    put_uuid(&mut out, row.customer_id);
    put_uuid(&mut out, row.request_id);
    match row.subject {
        None => out.push(0),
        Some(subject) => {
            out.push(1);
            put_bytes(&mut out, subject);
        }
    }
    let mut details = Vec::new();
    canonical_json(row.details, &mut details);
    put_bytes(&mut out, &details);
    out
}

/// A row's hash: SHA-256 of the previous row's hash followed by the row's canonical bytes.
pub fn row_hash(prev_hash: &[u8; 32], row: &RowFields<'_>) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(prev_hash);
    digest.update(canonical_row(row));
    digest.finalize().into()
}

/// `value` as canonical JSON (RFC 8785 for what the details hold: object keys sorted, no white space, integers
/// and strings as serde_json writes them). jsonb keeps integers and strings exactly, so the details read back
/// give the bytes written.
pub fn canonical_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push(b'{');
            for (n, (key, item)) in sorted.into_iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::from(key.as_str()).to_string().as_bytes());
                out.push(b':');
                canonical_json(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                canonical_json(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_uuid(out: &mut Vec<u8>, id: Option<Uuid>) {
    match id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
}

/// Microseconds since 1970, Postgres's precision for `timestamptz`.
fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1000)).unwrap_or(i64::MAX)
}

/// Locks account `$1`'s chain head until the transaction ends and answers it with the time the next row gets.
pub const LOCK_HEAD_SQL: &str =
    "select seq, hash, clock_timestamp() from audit_heads where account_id = $1 for update";

/// Appends `entry` to its account's chain inside the caller's transaction `conn` (which holds the account's
/// head locked from here until it ends), and answers the new head. Call it as the transaction's last step
/// before its commit: other writers to the account wait until then.
pub async fn append(conn: &mut PgConnection, entry: &Entry) -> sqlx::Result<ChainHead> {
    append_many(conn, entry.account_id, std::slice::from_ref(entry)).await
}

/// Appends many rows in one statement, and moves the head to the last.
pub const APPEND_MANY_SQL: &str = "with appended as (
             insert into audit_log (account_id, seq, at, actor_kind, actor_id, action, target_user_id, customer_id,
                                    request_id, subject, details, prev_hash, hash)
             select $1, seq, $3, actor_kind, actor_id, action, target_user_id, customer_id, request_id, subject,
                    details::jsonb, prev_hash, hash
             from unnest($2::bigint[], $4::text[], $5::uuid[], $6::text[], $7::uuid[], $8::uuid[], $9::uuid[],
                         $10::bytea[], $11::text[], $12::bytea[], $13::bytea[])
                  as e(seq, actor_kind, actor_id, action, target_user_id, customer_id, request_id, subject,
                       details, prev_hash, hash)
         )
         update audit_heads set seq = $14, hash = $15 where account_id = $1";

/// Appends `entries`, all of account `account_id`, in order, to its chain inside the caller's transaction
/// `conn`, in one statement whatever their number (a bulk job's thousands of requests), at one time; as
/// `append`, the account's head stays locked until the transaction ends. Answers the new head.
pub async fn append_many(
    conn: &mut PgConnection,
    account_id: Uuid,
    entries: &[Entry],
) -> sqlx::Result<ChainHead> {
    let (mut seq, prev, at): (i64, Vec<u8>, OffsetDateTime) = sqlx::query_as(LOCK_HEAD_SQL)
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await?;
    let mut prev: [u8; 32] = prev
        .try_into()
        .map_err(|_| sqlx::Error::Decode("audit head hash is not 32 bytes".into()))?;
    let mut columns = ManyRows::default();
    for entry in entries
        .iter()
        .filter(|entry| entry.account_id == account_id)
    {
        seq += 1;
        let (actor_kind, actor_id) = entry.actor.columns();
        let details = Value::Object(entry.details.clone());
        let subject = entry.subject.as_ref().map(|s| s.as_bytes().as_slice());
        let fields = RowFields {
            account_id,
            seq,
            at,
            actor_kind,
            actor_id,
            action: entry.action.key(),
            target_user_id: entry.target_user_id,
            customer_id: entry.customer_id,
            request_id: entry.request_id,
            subject,
            details: &details,
        };
        let hash = row_hash(&prev, &fields);
        columns.seq.push(seq);
        columns.actor_kind.push(actor_kind);
        columns.actor_id.push(actor_id);
        columns.action.push(entry.action.key());
        columns.target_user_id.push(entry.target_user_id);
        columns.customer_id.push(entry.customer_id);
        columns.request_id.push(entry.request_id);
        columns.subject.push(subject.map(<[u8]>::to_vec));
        columns.details.push(details.to_string());
        columns.prev_hash.push(prev.to_vec());
        columns.hash.push(hash.to_vec());
        prev = hash;
    }
    if !columns.seq.is_empty() {
        sqlx::query(APPEND_MANY_SQL)
            .bind(account_id)
            .bind(&columns.seq)
            .bind(at)
            .bind(&columns.actor_kind)
            .bind(&columns.actor_id)
            .bind(&columns.action)
            .bind(&columns.target_user_id)
            .bind(&columns.customer_id)
            .bind(&columns.request_id)
            .bind(&columns.subject)
            .bind(&columns.details)
            .bind(&columns.prev_hash)
            .bind(&columns.hash)
            .bind(seq)
            .bind(prev.as_slice())
            .execute(&mut *conn)
            .await?;
    }
    Ok(ChainHead { seq, hash: prev })
}

/// The columns of `append_many`'s rows, one array each.
#[derive(Default)]
struct ManyRows {
    seq: Vec<i64>,
    actor_kind: Vec<&'static str>,
    actor_id: Vec<Option<Uuid>>,
    action: Vec<&'static str>,
    target_user_id: Vec<Option<Uuid>>,
    customer_id: Vec<Option<Uuid>>,
    request_id: Vec<Option<Uuid>>,
    subject: Vec<Option<Vec<u8>>>,
    details: Vec<String>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

/// Starts the transaction of an append on its own, in the one round trip of its `BEGIN`. Its commit does not
/// wait for the write-ahead log to reach the disk (`synchronous_commit = off`): that wait cost about 1.3 ms per
/// search on this project's machine, more than the search. The cost: when the database server crashes, the
/// entries of the last fraction of a second (`wal_writer_delay`, 3 x 200 ms at most) may be lost. The chains stay
/// intact: the log is replayed in commit order, so what is lost is a chain's last rows with the head that names
/// them. Changes (settings, grants, erasures) append inside their own, synchronous, transactions.
const APPEND_ALONE_BEGIN_SQL: &str = "begin; set local synchronous_commit = off";

/// Appends `entry` in a transaction of its own, for an act that changes nothing else (a search, a page view, a
/// failed sign-in); see `APPEND_ALONE_BEGIN_SQL` for what its commit waits for.
pub async fn append_alone(pool: &PgPool, entry: &Entry) -> sqlx::Result<ChainHead> {
    let mut tx = pool.begin_with(APPEND_ALONE_BEGIN_SQL).await?;
    let head = append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(head)
}

/// Appends `principal`'s customer search for `query` to their account's log: the query as its keyed hash, and
/// how many records it `found` (at most the search's limit; `more` 1 when more match). A search is a hot path:
/// this costs one short transaction of two statements that does not wait for the disk (`append_alone`; four
/// round trips, about 0.7 ms on this project's machine), and searches of one account take turns only for that
/// transaction.
pub async fn record_search(
    pool: &PgPool,
    secret: &EvidenceSecret,
    principal: &Principal,
    query: &CustomerQuery,
    found: &CustomerMatches,
) -> Result<(), AppError> {
    let subject = secret.subject(principal.account_id, &PersonId::of_query(query));
    let entry = Entry::new(
        principal.account_id,
        Actor::User(principal.user_id),
        Action::CustomerSearched,
    )
    .subject(subject)
    .count("matches", found.records.len() as i64)
    .count("more", i64::from(found.more));
    append_alone(pool, &entry)
        .await
        .map(|_| ())
        .map_err(db_failure)
}

/// Appends `principal`'s reading of customer record `customer_id`'s page to their account's log.
pub async fn record_view(
    pool: &PgPool,
    principal: &Principal,
    customer_id: Uuid,
) -> Result<(), AppError> {
    let entry = Entry::new(
        principal.account_id,
        Actor::User(principal.user_id),
        Action::CustomerViewed,
    )
    .customer(customer_id);
    append_alone(pool, &entry)
        .await
        .map(|_| ())
        .map_err(db_failure)
}

/// Account `account_id`'s chain head as `conn` sees it (inside a transaction that appended, that append's), for
/// a receipt to embed.
pub async fn chain_head(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<ChainHead> {
    let (seq, hash): (i64, Vec<u8>) =
        sqlx::query_as("select seq, hash from audit_heads where account_id = $1")
            .bind(account_id)
            .fetch_one(conn)
            .await?;
    let hash = hash
        .try_into()
        .map_err(|_| sqlx::Error::Decode("audit head hash is not 32 bytes".into()))?;
    Ok(ChainHead { seq, hash })
}

/// Why a chain is broken at a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The row with this seq is missing: the next row has seq `next`, or there is none though the head names it.
    Missing {
        /// The seq of the row found in its place, if any.
        next: Option<i64>,
    },
    /// The row's `prev_hash` is not the previous row's hash.
    PrevHashMismatch,
    /// The row's hash is not the hash of its fields: it was changed, or written by something other than the
    /// console.
    HashMismatch,
    /// The row lies beyond the chain's head (`audit_heads`), which ends at `head_seq`: it was added outside the
    /// console.
    BeyondHead {
        /// Where the head says the chain ends.
        head_seq: i64,
    },
    /// The chain's last row is not the one its head names: rows at its end were removed or replaced.
    HeadMismatch,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Missing { next: Some(next) } => {
                write!(
                    f,
                    "gap in seq: the row is missing (the next row is seq {next})"
                )
            }
            Fault::Missing { next: None } => {
                write!(
                    f,
                    "gap in seq: the row is missing (the chain's head names it)"
                )
            }
            Fault::PrevHashMismatch => {
                write!(f, "prev_hash mismatch: it is not the previous row's hash")
            }
            Fault::HashMismatch => write!(
                f,
                "hash mismatch: the row is not what was written (changed or forged)"
            ),
            Fault::BeyondHead { head_seq } => write!(
                f,
                "the row lies beyond the chain's head (seq {head_seq}): added outside the console"
            ),
            Fault::HeadMismatch => write!(
                f,
                "the chain's head names another last row: rows at its end were removed or replaced"
            ),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Every chain is intact.
    Intact {
        /// Chains (accounts) checked.
        accounts: u64,
        /// Rows verified.
        rows: u64,
    },
    /// A chain is broken; the first broken row.
    Broken {
        /// The account whose chain is broken.
        account_id: Uuid,
        /// The first broken seq.
        seq: i64,
        /// Why.
        fault: Fault,
        /// Rows verified before it.
        rows: u64,
    },
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verification::Intact { accounts, rows } => write!(
                f,
                "audit log intact: {rows} rows verified in {accounts} account chains"
            ),
            Verification::Broken {
                account_id,
                seq,
                fault,
                rows,
            } => write!(
                f,
                "audit log broken: account {account_id}, seq {seq}: {fault} ({rows} rows verified before it)"
            ),
        }
    }
}

/// One stored row, as `verify` reads it.
type StoredRow = (
    Uuid,
    i64,
    OffsetDateTime,
    String,
    Option<Uuid>,
    String,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<Vec<u8>>,
    String,
    Vec<u8>,
    Vec<u8>,
);

/// The start of a statement that reads `StoredRow`s.
macro_rules! select_stored_rows {
    () => {
        "select account_id, seq, at, actor_kind, actor_id, action, target_user_id, customer_id,
                request_id, subject, details::text, prev_hash, hash
         from audit_log "
    };
}

/// Every chain's rows (or account `$1`'s) after seq `$2`, in order.
const ROWS_SQL: &str = concat!(
    select_stored_rows!(),
    "where ($1::uuid is null or account_id = $1) and seq > $2 order by account_id, seq"
);

/// One row of one account's chain, as `ROWS_SQL` reads it.
const ROW_SQL: &str = concat!(select_stored_rows!(), "where account_id = $1 and seq = $2");

/// The hash of stored row `row` when the row before it has hash `prev`: what its `hash` must be.
fn recompute(row: &StoredRow, prev: &[u8; 32]) -> sqlx::Result<[u8; 32]> {
    let details: Value = serde_json::from_str(&row.10)
        .map_err(|e| sqlx::Error::Decode(format!("audit_log.details: {e}").into()))?;
    let fields = RowFields {
        account_id: row.0,
        seq: row.1,
        at: row.2,
        actor_kind: &row.3,
        actor_id: row.4,
        action: &row.5,
        target_user_id: row.6,
        customer_id: row.7,
        request_id: row.8,
        subject: row.9.as_deref(),
        details: &details,
    };
    Ok(row_hash(prev, &fields))
}

const HEADS_SQL: &str = "select account_id, seq, hash from audit_heads
         where $1::uuid is null or account_id = $1 order by account_id";

/// Recomputes every account's chain (or only `account`'s) from one snapshot of the database, streaming the rows
/// in seq order, and answers how many rows are intact or the first broken row and why: a gap in seq, a
/// `prev_hash` that is not the previous row's hash, a hash that is not the row's, or a chain that does not end
/// where its head says.
pub async fn verify(pool: &PgPool, account: Option<Uuid>) -> sqlx::Result<Verification> {
    walk(pool, account, None)
        .await
        .map(|(verification, _)| verification)
}

/// `verify`, of every chain or only `account`'s, from the start of each chain or, with `from` (only with an
/// account), from a row verified before: the rows after it are recomputed, and the row itself must still hold
/// the hash it had. Answers what it found and, when one account's chain is intact, the head it ends at.
async fn walk(
    pool: &PgPool,
    account: Option<Uuid>,
    from: Option<ChainHead>,
) -> sqlx::Result<(Verification, Option<ChainHead>)> {
    let mut tx = pool
        .begin_with("begin isolation level repeatable read read only")
        .await?;
    let mut chain: Option<(Uuid, ChainHead)> = None;
    if let (Some(account_id), Some(from)) = (account, from) {
        chain = Some((account_id, from));
        if from.seq > 0 {
            let stored: Option<StoredRow> = sqlx::query_as(ROW_SQL)
                .bind(account_id)
                .bind(from.seq)
                .fetch_optional(&mut *tx)
                .await?;
            let fault = match stored {
                None => Some(Fault::Missing { next: None }),
                Some(row) => {
                    let prev: [u8; 32] = row.11.as_slice().try_into().unwrap_or(GENESIS_HASH);
                    (row.12 != from.hash || recompute(&row, &prev)? != from.hash)
                        .then_some(Fault::HashMismatch)
                }
            };
            if let Some(fault) = fault {
                let broken = Verification::Broken {
                    account_id,
                    seq: from.seq,
                    fault,
                    rows: 0,
                };
                return Ok((broken, None));
            }
        }
    }
    let heads: Vec<(Uuid, i64, Vec<u8>)> = sqlx::query_as(HEADS_SQL)
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
    let mut heads: BTreeMap<Uuid, (i64, Vec<u8>)> = heads
        .into_iter()
        .map(|(id, seq, hash)| (id, (seq, hash)))
        .collect();
    let mut rows = 0u64;
    let mut accounts = u64::from(chain.is_some());
    let mut stream = sqlx::query_as::<_, StoredRow>(ROWS_SQL)
        .bind(account)
        .bind(chain.map_or(0, |(_, from)| from.seq))
        .fetch(&mut *tx);
    while let Some(row) = stream.try_next().await? {
        let (account_id, seq) = (row.0, row.1);
        let broken = |seq, fault| Verification::Broken {
            account_id,
            seq,
            fault,
            rows,
        };
        let last = match chain {
            Some((id, last)) if id == account_id => last,
            _ => {
                if let Some((id, last)) = chain.take()
                    && let Some(fault) = end_of_chain(id, last, &mut heads)
                {
                    return Ok((fault.with_rows(rows), None));
                }
                accounts += 1;
                ChainHead {
                    seq: 0,
                    hash: GENESIS_HASH,
                }
            }
        };
        let head_seq = heads.get(&account_id).map_or(0, |(seq, _)| *seq);
        if seq != last.seq + 1 {
            let fault = if last.seq >= head_seq {
                Fault::BeyondHead { head_seq }
            } else {
                Fault::Missing { next: Some(seq) }
            };
            return Ok((broken(last.seq + 1, fault), None));
        }
        if seq > head_seq {
            return Ok((broken(seq, Fault::BeyondHead { head_seq }), None));
        }
        if row.11 != last.hash {
            return Ok((broken(seq, Fault::PrevHashMismatch), None));
        }
        let hash = recompute(&row, &last.hash)?;
        if row.12 != hash {
            return Ok((broken(seq, Fault::HashMismatch), None));
        }
        rows += 1;
        chain = Some((account_id, ChainHead { seq, hash }));
    }
    drop(stream);
    if let Some((id, last)) = chain
        && let Some(fault) = end_of_chain(id, last, &mut heads)
    {
        return Ok((fault.with_rows(rows), None));
    }
    if let Some((account_id, _)) = heads.iter().find(|(_, (seq, _))| *seq > 0) {
        let broken = Verification::Broken {
            account_id: *account_id,
            seq: 1,
            fault: Fault::Missing { next: None },
            rows,
        };
        return Ok((broken, None));
    }
    tx.rollback().await?;
    let end = chain.map(|(_, last)| last);
    Ok((Verification::Intact { accounts, rows }, end))
}

/// How long the console checks only the rows added since the last check of a chain before it recomputes the
/// whole chain again (`run_full_checks`).
pub const FULL_CHECK_PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// How often `run_full_checks` looks for chains due: a changed row turns the status red at most
/// `FULL_CHECK_PERIOD` plus this after the last full check.
pub const FULL_CHECK_TICK: std::time::Duration = std::time::Duration::from_secs(300);

/// The last check of a chain, as `audit_checks` keeps it: the checkpoint (seq and hash of the last row found
/// intact), when, and the first broken seq and why, when the chain was found broken.
type StoredCheck = (i64, Vec<u8>, OffsetDateTime, Option<i64>, Option<String>);

/// Account `account_id`'s last check, if any.
async fn last_check(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Option<StoredCheck>> {
    let check = sqlx::query!(
        "select seq, hash, checked_at, broken_seq, fault from audit_checks where account_id = $1",
        account_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(check.map(|c| (c.seq, c.hash, c.checked_at, c.broken_seq, c.fault)))
}

/// The checkpoint of a stored check.
fn checkpoint(seq: i64, hash: Vec<u8>) -> sqlx::Result<ChainHead> {
    let hash = hash
        .try_into()
        .map_err(|_| sqlx::Error::Decode("audit check hash is not 32 bytes".into()))?;
    Ok(ChainHead { seq, hash })
}

/// Checks account `account_id`'s chain for the /audit page: the rows added since the last check, and the last
/// checked row itself, which must still recompute to the hash that check saw; the whole chain when it was never
/// checked. Records and answers what it found. A chain found broken stays so until a full check
/// (`check_chain_fully`) finds it intact again, the checkpoint included.
pub async fn check_chain(pool: &PgPool, account_id: Uuid) -> sqlx::Result<ChainStatus> {
    let from = match last_check(pool, account_id).await? {
        None => return check_chain_fully(pool, account_id).await,
        Some((_, _, at, Some(seq), Some(fault))) => {
            return Ok(ChainStatus::Broken { seq, fault, at });
        }
        Some((seq, hash, ..)) => checkpoint(seq, hash)?,
    };
    let (found, end) = walk(pool, Some(account_id), Some(from)).await?;
    record_check(pool, account_id, found, end, false).await
}

/// Recomputes account `account_id`'s whole chain from seq 1, and then checks that the last checkpoint's row
/// still has the hash it had (a chain rewritten consistently from some row on, its head moved with it, is
/// intact in itself but not at the checkpoint). Records and answers what it found.
pub async fn check_chain_fully(pool: &PgPool, account_id: Uuid) -> sqlx::Result<ChainStatus> {
    let (mut found, mut end) = walk(pool, Some(account_id), None).await?;
    if let (Verification::Intact { .. }, Some((seq, hash, ..))) =
        (found, last_check(pool, account_id).await?)
        && seq > 0
    {
        (found, end) = walk(pool, Some(account_id), Some(checkpoint(seq, hash)?)).await?;
    }
    record_check(pool, account_id, found, end, true).await
}

/// Keeps what a check of account `account_id`'s chain found and answers it as the page's status. An intact
/// chain moves the checkpoint to where it ends (`end`); a check of new rows only does so while no break is
/// recorded and never moves it back, so that a check that raced a full one cannot hide the break it found. A
/// broken chain keeps its checkpoint and records the first broken seq and why.
async fn record_check(
    pool: &PgPool,
    account_id: Uuid,
    found: Verification,
    end: Option<ChainHead>,
    full: bool,
) -> sqlx::Result<ChainStatus> {
    let broken = match found {
        Verification::Intact { .. } => None,
        Verification::Broken { seq, fault, .. } => Some((seq, fault.to_string())),
    };
    let end = end.unwrap_or(ChainHead {
        seq: 0,
        hash: GENESIS_HASH,
    });
    let at = sqlx::query_scalar!(
        "insert into audit_checks (account_id, seq, hash, checked_at, fully_checked_at, broken_seq, fault)
         values ($1, $2, $3, now(), now(), $4, $5)
         on conflict (account_id) do update
         set seq = case when excluded.broken_seq is null then excluded.seq else audit_checks.seq end,
             hash = case when excluded.broken_seq is null then excluded.hash else audit_checks.hash end,
             checked_at = excluded.checked_at,
             fully_checked_at = case when $6 then excluded.checked_at else audit_checks.fully_checked_at end,
             broken_seq = excluded.broken_seq, fault = excluded.fault
         where $6 or excluded.broken_seq is not null
            or (audit_checks.broken_seq is null and audit_checks.seq <= excluded.seq)
         returning checked_at",
        account_id,
        end.seq,
        end.hash.as_slice(),
        broken.as_ref().map(|(seq, _)| *seq),
        broken.as_ref().map(|(_, fault)| fault.as_str()),
        full
    )
    .fetch_optional(pool)
    .await?;
    let Some(at) = at else {
        // A later check has been recorded meanwhile: what it found is the status.
        return match last_check(pool, account_id).await? {
            Some((_, _, at, Some(seq), Some(fault))) => Ok(ChainStatus::Broken { seq, fault, at }),
            Some((seq, _, at, ..)) if seq > 0 => Ok(ChainStatus::Verified { seq, at }),
            _ => Ok(ChainStatus::Empty),
        };
    };
    Ok(match broken {
        Some((seq, fault)) => ChainStatus::Broken { seq, fault, at },
        None if end.seq == 0 => ChainStatus::Empty,
        None => ChainStatus::Verified { seq: end.seq, at },
    })
}

/// Every `FULL_CHECK_TICK` (the first at start), recomputes the whole chain of each account whose last full
/// check is older than `FULL_CHECK_PERIOD`, one account at a time, each claimed so that one instance does it.
pub async fn run_full_checks(pool: PgPool) {
    let period = FULL_CHECK_PERIOD.as_secs_f64();
    loop {
        let due = sqlx::query_scalar!(
            "select a.id from accounts a left join audit_checks c on c.account_id = a.id
             where c.account_id is null or c.fully_checked_at < now() - make_interval(secs => $1)
             order by a.id",
            period
        )
        .fetch_all(&pool)
        .await;
        for account_id in due.unwrap_or_else(|err| {
            tracing::error!(error = %err, "cannot list the audit chains due for a check");
            Vec::new()
        }) {
            // Claims the account's full check for this instance: a row comes back only when no check is
            // recorded or the last full one is still due, and it is marked begun, so that instances do not
            // repeat each other's.
            let claimed = sqlx::query_scalar!(
                "insert into audit_checks (account_id, seq, hash, checked_at, fully_checked_at)
                 values ($1, 0, decode(repeat('00', 32), 'hex'), now(), now())
                 on conflict (account_id) do update set fully_checked_at = now()
                 where audit_checks.fully_checked_at < now() - make_interval(secs => $2)
                 returning account_id",
                account_id,
                period
            )
            .fetch_optional(&pool)
            .await;
            let checked = match claimed {
                Ok(Some(_)) => check_chain_fully(&pool, account_id).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(err) => Err(err),
            };
            if let Err(err) = checked {
                tracing::error!(error = %err, %account_id, "audit chain check failed");
            }
        }
        tokio::time::sleep(FULL_CHECK_TICK).await;
    }
}

impl Verification {
    fn with_rows(self, verified: u64) -> Verification {
        match self {
            Verification::Broken {
                account_id,
                seq,
                fault,
                ..
            } => Verification::Broken {
                account_id,
                seq,
                fault,
                rows: verified,
            },
            intact => intact,
        }
    }
}

/// Checks that account `account_id`'s chain, which ended at `last`, ends where its head says (and takes the
/// head out of `heads`); answers the fault when it does not.
fn end_of_chain(
    account_id: Uuid,
    last: ChainHead,
    heads: &mut BTreeMap<Uuid, (i64, Vec<u8>)>,
) -> Option<Verification> {
    let (head_seq, head_hash) = heads.remove(&account_id).unwrap_or((0, Vec::new()));
    let fault = if head_seq > last.seq {
        Fault::Missing { next: None }
    } else if head_hash != last.hash {
        Fault::HeadMismatch
    } else {
        return None;
    };
    let seq = if head_seq > last.seq {
        last.seq + 1
    } else {
        last.seq
    };
    Some(Verification::Broken {
        account_id,
        seq,
        fault,
        rows: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(details: &Value) -> RowFields<'_> {
        RowFields {
            account_id: Uuid::from_u128(1),
            seq: 1,
            at: OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap(),
            actor_kind: "user",
            actor_id: Some(Uuid::from_u128(2)),
            action: "customer_viewed",
            target_user_id: None,
            customer_id: Some(Uuid::from_u128(3)),
            request_id: None,
            subject: None,
            details,
        }
    }

    #[test]
    fn the_canonical_row_is_length_prefixed_fields_in_order() {
        let details = serde_json::json!({});
        let bytes = canonical_row(&fields(&details));
        let mut expected = Vec::new();
        expected.extend_from_slice(&(ROW_ENCODING.len() as u32).to_be_bytes());
        expected.extend_from_slice(ROW_ENCODING.as_bytes());
        expected.extend_from_slice(Uuid::from_u128(1).as_bytes());
        expected.extend_from_slice(&1i64.to_be_bytes());
        expected.extend_from_slice(&1_700_000_000_123_456i64.to_be_bytes());
        expected.extend_from_slice(&4u32.to_be_bytes());
        expected.extend_from_slice(b"user");
        expected.push(1);
        expected.extend_from_slice(Uuid::from_u128(2).as_bytes());
        expected.extend_from_slice(&15u32.to_be_bytes());
        expected.extend_from_slice(b"customer_viewed");
        expected.push(0);
        expected.push(1);
        expected.extend_from_slice(Uuid::from_u128(3).as_bytes());
        expected.push(0);
        expected.push(0);
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(b"{}");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn every_field_changes_the_hash() {
        let details = serde_json::json!({"matches": 2});
        let other_details = serde_json::json!({"matches": 3});
        let base = fields(&details);
        let subject = [9u8; 32];
        let hash = row_hash(&GENESIS_HASH, &base);
        let variants = [
            RowFields {
                account_id: Uuid::from_u128(9),
                ..base
            },
            RowFields { seq: 2, ..base },
            RowFields {
                at: OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_457_000).unwrap(),
                ..base
            },
            RowFields {
                actor_kind: "system",
                ..base
            },
            RowFields {
                actor_id: None,
                ..base
            },
            RowFields {
                action: "customer_searched",
                ..base
            },
            RowFields {
                target_user_id: Some(Uuid::from_u128(3)),
                customer_id: None,
                ..base
            },
            RowFields {
                request_id: Some(Uuid::from_u128(3)),
                customer_id: None,
                ..base
            },
            RowFields {
                subject: Some(&subject),
                ..base
            },
            RowFields {
                details: &other_details,
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(row_hash(&GENESIS_HASH, &variant), hash, "{variant:?}");
        }
        assert_ne!(row_hash(&[1; 32], &base), hash);
    }

    #[test]
    fn canonical_json_sorts_keys_and_writes_no_white_space() {
        let value: Value = serde_json::from_str(
            r#"{ "records": 2, "calls": 10, "ids": ["b", "a"], "a": {"z": 1, "b": -3} }"#,
        )
        .unwrap();
        let mut out = Vec::new();
        canonical_json(&value, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":{"b":-3,"z":1},"calls":10,"ids":["b","a"],"records":2}"#
        );
    }

    #[test]
    fn an_entry_hashes_its_details_as_they_read_back_from_jsonb() {
        let entry = Entry::new(Uuid::from_u128(1), Actor::System, Action::RequestErased)
            .count("records", 2)
            .count("calls", 10)
            .ids("customer_ids", &[Uuid::from_u128(5)]);
        let written = Value::Object(entry.details.clone());
        // jsonb orders keys by length, then bytes, and writes a space after each separator.
        let read_back: Value = serde_json::from_str(
            r#"{"calls": 10, "records": 2, "customer_ids": ["00000000-0000-0000-0000-000000000005"]}"#,
        )
        .unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        canonical_json(&written, &mut a);
        canonical_json(&read_back, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn faults_say_what_broke() {
        let broken = Verification::Broken {
            account_id: Uuid::from_u128(1),
            seq: 7,
            fault: Fault::Missing { next: Some(8) },
            rows: 6,
        };
        let text = broken.to_string();
        assert!(text.contains("seq 7"), "{text}");
        assert!(text.contains("gap in seq"), "{text}");
        assert!(Fault::HashMismatch.to_string().starts_with("hash mismatch"));
        assert!(
            Fault::PrevHashMismatch
                .to_string()
                .starts_with("prev_hash mismatch")
        );
    }
}
