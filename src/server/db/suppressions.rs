//! The suppression list (`suppressions`, DESIGN.md "R2: Suppression and ingestion"): adding the people of
//! completed requests (the HMACs of each erased record's normalized email, E.164 phone and 18-character
//! Salesforce id), looking identifiers up at ingestion, listing an account's entries and lifting one. The list
//! holds hashes only, under the account's evidence key, so it is written and read by the server that holds the
//! evidence secret: after a request's erasure commits, by `add_due`.

use sqlx::PgPool;
use uuid::Uuid;

use crate::model::{SUPPRESSION_PAGE_SIZE, Suppression, SuppressionPage};
use crate::salesforce::SalesforceId;
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::evidence::identity::{EvidenceSecret, PersonId, Subject};
use crate::server::input::Cursor;
use crate::server::sessions::hex;

/// What kind of identifier an entry hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    /// A lower-cased email address.
    Email,
    /// An E.164 phone number.
    Phone,
    /// An 18-character Salesforce id.
    SalesforceId,
}

impl IdentifierKind {
    /// The kind as `suppressions.kind` stores it.
    pub fn key(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
            IdentifierKind::SalesforceId => "salesforce_id",
        }
    }
}

/// A person's identifier as the list holds it: its kind and keyed hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identifier {
    /// What it hashes.
    pub kind: IdentifierKind,
    /// The HMAC under the account's key.
    pub subject: Subject,
}

impl Identifier {
    /// `person` in account `account_id`, hashed as the evidence hashes persons.
    pub fn of(
        secret: &EvidenceSecret,
        account_id: Uuid,
        kind: IdentifierKind,
        person: &PersonId<'_>,
    ) -> Identifier {
        Identifier {
            kind,
            subject: secret.subject(account_id, person),
        }
    }
}

/// The identifiers of one erased record: its email, its E.164 phone and its Salesforce id, those it has.
fn record_identifiers(
    secret: &EvidenceSecret,
    account_id: Uuid,
    email: Option<&str>,
    phone_e164: Option<&str>,
    salesforce_id: &str,
) -> Vec<Identifier> {
    let mut found = Vec::with_capacity(3);
    if let Some(email) = email.filter(|email| !email.trim().is_empty()) {
        found.push(Identifier::of(
            secret,
            account_id,
            IdentifierKind::Email,
            &PersonId::Email(email),
        ));
    }
    if let Some(phone) = phone_e164 {
        found.push(Identifier::of(
            secret,
            account_id,
            IdentifierKind::Phone,
            &PersonId::Phone(phone),
        ));
    }
    if let Ok(id) = SalesforceId::parse(salesforce_id) {
        found.push(Identifier::of(
            secret,
            account_id,
            IdentifierKind::SalesforceId,
            &PersonId::SalesforceId(&id),
        ));
    }
    found
}

/// Puts the people of every completed request that asked for it and is not suppressed yet on their account's
/// list, one request per transaction: its records' identifiers (an identifier already live on the list is not
/// added twice), the request marked suppressed and a `suppression_added` event, together. Requests are claimed
/// with `SKIP LOCKED`, so instances running this at once share the work. Answers how many requests it
/// suppressed.
pub async fn add_due(pool: &PgPool, secret: &EvidenceSecret) -> sqlx::Result<u64> {
    let mut suppressed = 0;
    loop {
        let mut tx = pool.begin().await?;
        let Some(request) = sqlx::query!(
            "select id, account_id from erasure_requests
             where state = 'completed' and suppress and suppressed_at is null
             order by completed_at limit 1 for update skip locked"
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(suppressed);
        };
        let records = sqlx::query!(
            "select c.email, c.phone_e164, c.salesforce_id
             from erasure_request_records r
             join customers c on c.account_id = r.account_id and c.id = r.customer_id
             where r.account_id = $1 and r.request_id = $2 and c.erased_at is not null",
            request.account_id,
            request.id
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut kinds = Vec::new();
        let mut hashes = Vec::new();
        for record in &records {
            for identifier in record_identifiers(
                secret,
                request.account_id,
                record.email.as_deref(),
                record.phone_e164.as_deref(),
                &record.salesforce_id,
            ) {
                if !hashes.contains(&identifier.subject.as_bytes().to_vec()) {
                    kinds.push(identifier.kind.key().to_owned());
                    hashes.push(identifier.subject.as_bytes().to_vec());
                }
            }
        }
        let added = sqlx::query!(
            "insert into suppressions (account_id, kind, identifier_hmac, request_id)
             select $1, kind, hash, $2 from unnest($3::text[], $4::bytea[]) as i(kind, hash)
             on conflict (account_id, identifier_hmac) where lifted_at is null do nothing",
            request.account_id,
            request.id,
            &kinds,
            &hashes
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query!(
            "update erasure_requests set suppressed_at = clock_timestamp() where id = $1",
            request.id
        )
        .execute(&mut *tx)
        .await?;
        let entry = Entry::new(request.account_id, Actor::System, Action::SuppressionAdded)
            .request(request.id)
            .count("entries", added as i64);
        audit_log::append(&mut tx, &entry).await?;
        tx.commit().await?;
        suppressed += 1;
    }
}

/// The kind of the first of `identifiers` that is live on account `account_id`'s list, if any.
pub async fn suppressed(
    pool: &PgPool,
    account_id: Uuid,
    identifiers: &[Subject],
) -> sqlx::Result<Option<String>> {
    let hashes: Vec<Vec<u8>> = identifiers
        .iter()
        .map(|subject| subject.as_bytes().to_vec())
        .collect();
    sqlx::query_scalar!(
        "select kind from suppressions
         where account_id = $1 and identifier_hmac = any($2) and lifted_at is null limit 1",
        account_id,
        &hashes
    )
    .fetch_optional(pool)
    .await
}

/// A page of account `account_id`'s entries, newest first, after `after` (from the newest when `None`): at most
/// `SUPPRESSION_PAGE_SIZE`, and where the next page starts.
pub async fn list(
    pool: &PgPool,
    account_id: Uuid,
    after: Option<Cursor>,
) -> sqlx::Result<SuppressionPage> {
    let rows = sqlx::query!(
        "select s.id, s.kind, s.identifier_hmac, s.request_id, s.added_at, s.lifted_at, u.name as \"lifted_by?\"
         from suppressions s
         left join users u on u.account_id = s.account_id and u.id = s.lifted_by
         where s.account_id = $1 and ($2::timestamptz is null or (s.added_at, s.id) < ($2, $3))
         order by s.added_at desc, s.id desc limit $4",
        account_id,
        after.map(|cursor| cursor.at),
        after.map(|cursor| cursor.id),
        SUPPRESSION_PAGE_SIZE as i64 + 1
    )
    .fetch_all(pool)
    .await?;
    let mut entries: Vec<Suppression> = rows
        .into_iter()
        .map(|row| Suppression {
            id: row.id,
            kind: row.kind,
            hash_prefix: hex(row.identifier_hmac.get(..6).unwrap_or(&row.identifier_hmac)),
            request_id: row.request_id,
            added_at: row.added_at,
            lifted: row.lifted_by.zip(row.lifted_at),
        })
        .collect();
    let more = entries.len() > SUPPRESSION_PAGE_SIZE;
    entries.truncate(SUPPRESSION_PAGE_SIZE);
    let older = more.then(|| entries.last()).flatten().map(|last| {
        Cursor {
            at: last.added_at,
            id: last.id,
        }
        .encode()
    });
    Ok(SuppressionPage { entries, older })
}

/// Lifts live entry `id` of account `account_id` by user `by` for `reason`, with a `suppression_lifted` event,
/// in one transaction. Answers whether a live entry was lifted (false: no such entry, or lifted already).
pub async fn lift(
    pool: &PgPool,
    account_id: Uuid,
    id: Uuid,
    by: Uuid,
    reason: &str,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let lifted = sqlx::query_scalar!(
        "update suppressions set lifted_at = clock_timestamp(), lifted_by = $3, lift_reason = $4
         where account_id = $1 and id = $2 and lifted_at is null
         returning request_id",
        account_id,
        id,
        by,
        reason
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(request_id) = lifted else {
        return Ok(false);
    };
    let entry = Entry::new(account_id, Actor::User(by), Action::SuppressionLifted)
        .request(request_id)
        .ids("suppression", &[id]);
    audit_log::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> EvidenceSecret {
        EvidenceSecret::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_record_is_suppressed_by_each_identifier_it_has() {
        let account = Uuid::from_u128(1);
        let id = SalesforceId::parse("00Q000000000001").unwrap();
        let all = record_identifiers(
            &secret(),
            account,
            Some("Jordan@Example.com"),
            Some("+14155550142"),
            id.as_str(),
        );
        let kinds: Vec<_> = all.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                IdentifierKind::Email,
                IdentifierKind::Phone,
                IdentifierKind::SalesforceId
            ]
        );
        assert_eq!(
            all[0].subject,
            secret().subject(account, &PersonId::Email("jordan@example.com"))
        );
        let only_id = record_identifiers(&secret(), account, Some(" "), None, id.as_str());
        assert_eq!(only_id.len(), 1);
        assert_eq!(only_id[0].subject, all[2].subject);
    }
}
