//! How a person appears in the evidence: never by name, email or phone number, only as HMAC-SHA-256 of their
//! normalized identifier (a lower-cased, trimmed email; an E.164 phone number; an 18-character Salesforce id)
//! under a key of their account's own. Each account's key is derived with HKDF-SHA256 from the server's
//! evidence secret (`EVIDENCE_SECRET` or the file `EVIDENCE_SECRET_FILE`), which is never stored in the
//! database: a copy of the database alone cannot test a guessed email against the log, and one account's
//! hashes say nothing about another's.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::salesforce::SalesforceId;
use crate::server::input::CustomerQuery;

/// The fewest bytes an evidence secret may have.
pub const MIN_SECRET_BYTES: usize = 32;

/// HKDF's salt: names the scheme, so that the same secret used elsewhere yields other keys.
const KEY_SALT: &[u8] = b"customer-data-console evidence v1";
/// HKDF's info, followed by the account's id: what the derived key is for.
const SUBJECT_KEY_INFO: &[u8] = b"audit subject key:";

/// The server's evidence secret. Its bytes are never logged (`Debug` shows none) and never stored in the
/// database.
#[derive(Clone)]
pub struct EvidenceSecret(Arc<[u8]>);

impl fmt::Debug for EvidenceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EvidenceSecret(..)")
    }
}

impl EvidenceSecret {
    /// The secret with these bytes, leading and trailing white space left out (a file written with `echo`
    /// ends in a newline); refused when fewer than `MIN_SECRET_BYTES` remain.
    pub fn from_bytes(bytes: &[u8]) -> Result<EvidenceSecret, String> {
        let secret = bytes.trim_ascii();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the evidence secret has {} bytes; it needs at least {MIN_SECRET_BYTES} (for example `head -c 48 /dev/urandom | base64`)",
                secret.len()
            ));
        }
        Ok(EvidenceSecret(Arc::from(secret)))
    }

    /// The secret held in the file at `path`.
    pub fn read_file(path: &Path) -> Result<EvidenceSecret, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "cannot read the evidence secret file {}: {e}",
                path.display()
            )
        })?;
        EvidenceSecret::from_bytes(&bytes)
            .map_err(|e| format!("EVIDENCE_SECRET_FILE {}: {e}", path.display()))
    }

    /// Account `account_id`'s key: HKDF-SHA256 of the secret, with `KEY_SALT` and, as info, `SUBJECT_KEY_INFO`
    /// followed by the account id's 16 bytes.
    pub fn account_key(&self, account_id: Uuid) -> AccountKey {
        let hkdf = Hkdf::<Sha256>::new(Some(KEY_SALT), &self.0);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (8160 bytes), so expanding cannot fail.
        let _ = hkdf.expand_multi_info(
            &[SUBJECT_KEY_INFO, account_id.as_bytes().as_slice()],
            &mut key,
        );
        AccountKey(key)
    }

    /// How `person` appears in account `account_id`'s evidence.
    pub fn subject(&self, account_id: Uuid, person: &PersonId<'_>) -> Subject {
        self.account_key(account_id).subject(person)
    }
}

/// One account's key for persons' hashes.
pub struct AccountKey([u8; 32]);

impl AccountKey {
    /// HMAC-SHA-256 of `parts` under this key, each part preceded by its length (so no two lists of parts give
    /// the same bytes), for a keyed digest of a whole API request (`rest::idempotency`). A person's hash
    /// (`subject`) is of one unprefixed identifier, so the two never coincide.
    pub fn digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC takes a key of any length")
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// HMAC-SHA-256 of `person`'s normalized identifier under this key.
    pub fn subject(&self, person: &PersonId<'_>) -> Subject {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC takes a key of any length")
        };
        mac.update(person.normalized().as_bytes());
        Subject(mac.finalize().into_bytes().into())
    }
}

/// A person's identifier, as a search or a record names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonId<'a> {
    /// An email address, in any case and with surrounding white space.
    Email(&'a str),
    /// A phone number already in E.164 (`+14155550142`), as `input::PhoneText::to_e164` writes it.
    Phone(&'a str),
    /// A Salesforce id, hashed in its 18-character form.
    SalesforceId(&'a SalesforceId),
}

impl<'a> PersonId<'a> {
    /// The person a customer search looks for.
    pub fn of_query(query: &'a CustomerQuery) -> PersonId<'a> {
        match query {
            CustomerQuery::Email(email) => PersonId::Email(email),
            CustomerQuery::Phone(e164) => PersonId::Phone(e164),
            CustomerQuery::SalesforceId(id) => PersonId::SalesforceId(id),
        }
    }

    /// The identifier as it is hashed: an email trimmed and lower-cased (by Unicode's rules, as Rust applies
    /// them), a phone number as given, a Salesforce id in its 18-character form. The three never collide: only
    /// an email holds an `@`, only a phone number starts with `+`.
    pub fn normalized(&self) -> String {
        match self {
            PersonId::Email(email) => email.trim().to_lowercase(),
            PersonId::Phone(e164) => (*e164).to_owned(),
            PersonId::SalesforceId(id) => id.as_str().to_owned(),
        }
    }
}

/// A person in the evidence: 32 bytes of HMAC-SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject([u8; 32]);

impl Subject {
    /// The hash's bytes, as `audit_log.subject` stores them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> EvidenceSecret {
        EvidenceSecret::from_bytes(b"0123456789abcdef0123456789abcdef\n").unwrap()
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(EvidenceSecret::from_bytes(b"too short").is_err());
        assert!(EvidenceSecret::from_bytes(&[b' '; 64]).is_err());
        assert_eq!(format!("{:?}", secret()), "EvidenceSecret(..)");
    }

    #[test]
    fn an_email_is_hashed_the_same_in_any_spelling_and_differently_per_account() {
        let account = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let a = secret().subject(account, &PersonId::Email("Jordan.Rivera@Example.com "));
        let b = secret().subject(account, &PersonId::Email("jordan.rivera@example.com"));
        assert_eq!(a, b);
        assert_ne!(
            a,
            secret().subject(other, &PersonId::Email("jordan.rivera@example.com"))
        );
        assert_ne!(
            a,
            secret().subject(account, &PersonId::Email("blair@example.com"))
        );
    }

    #[test]
    fn a_salesforce_id_is_hashed_in_its_long_form() {
        let account = Uuid::from_u128(1);
        let short = SalesforceId::parse("003000000000001").unwrap();
        let long = SalesforceId::parse(short.as_str()).unwrap();
        assert_eq!(
            secret().subject(account, &PersonId::SalesforceId(&short)),
            secret().subject(account, &PersonId::SalesforceId(&long))
        );
    }

    #[test]
    fn the_subject_is_hmac_sha256_under_the_hkdf_derived_account_key() {
        let account = Uuid::from_u128(7);
        let hkdf = Hkdf::<Sha256>::new(Some(KEY_SALT), b"0123456789abcdef0123456789abcdef");
        let mut info = SUBJECT_KEY_INFO.to_vec();
        info.extend_from_slice(account.as_bytes());
        let mut key = [0u8; 32];
        hkdf.expand(&info, &mut key).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(b"+14155550142");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(
            secret()
                .subject(account, &PersonId::Phone("+14155550142"))
                .as_bytes(),
            &expected
        );
    }
}
