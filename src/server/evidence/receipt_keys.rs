//! The keys that sign erasure receipts: Ed25519 (RFC 8032) key pairs kept in one file
//! (`RECEIPT_SIGNING_KEY_FILE`, never in the database), the newest of which signs while the older, retired ones
//! stay so that their receipts remain verifiable; rotation; the public keys as a JWKS (RFC 7517, OKP keys of
//! RFC 8037); and the compact JWS (RFC 7515, `alg` EdDSA) that a receipt is, signed and verified here.
//!
//! The file is a JSON array of `{"kid", "created_at", "private_key"}`, oldest first, the private key being the
//! 32-byte seed in base64url. It is written whole to a temporary file with mode 0600 in the same folder and
//! renamed over the old one, so a reader sees the old file or the new one, never a part. A key's id is its
//! RFC 7638 thumbprint, so the same key always has the same `kid`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The JWS algorithm of every receipt: Ed25519 (RFC 8037).
pub const ALGORITHM: &str = "EdDSA";

/// One signing key as the key file keeps it.
#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    private_key: String,
}

/// One signing key pair, with its id.
#[derive(Clone)]
struct KeyPair {
    kid: String,
    created_at: OffsetDateTime,
    signing: SigningKey,
}

impl KeyPair {
    fn generate(created_at: OffsetDateTime) -> KeyPair {
        let signing = SigningKey::generate(&mut rand_core::OsRng);
        KeyPair {
            kid: thumbprint(&signing.verifying_key()),
            created_at,
            signing,
        }
    }

    fn stored(&self) -> StoredKey {
        StoredKey {
            kid: self.kid.clone(),
            created_at: self.created_at,
            private_key: URL_SAFE_NO_PAD.encode(self.signing.to_bytes()),
        }
    }

    fn from_stored(stored: StoredKey) -> Result<KeyPair, String> {
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&stored.private_key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                format!(
                    "key {} is not a base64url Ed25519 private key of 32 bytes",
                    stored.kid
                )
            })?;
        let signing = SigningKey::from_bytes(&seed);
        let kid = thumbprint(&signing.verifying_key());
        if kid != stored.kid {
            return Err(format!(
                "key {} does not match its private key (its id would be {kid})",
                stored.kid
            ));
        }
        Ok(KeyPair {
            kid,
            created_at: stored.created_at,
            signing,
        })
    }
}

/// The RFC 7638 thumbprint of an Ed25519 public key: SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":...}`, in
/// base64url.
fn thumbprint(key: &VerifyingKey) -> String {
    let members = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(key.as_bytes())
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()))
}

/// The receipt signing keys: the current one (newest) and the retired ones, oldest first.
#[derive(Clone)]
pub struct ReceiptKeys {
    pairs: Vec<KeyPair>,
}

impl std::fmt::Debug for ReceiptKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.pairs.iter().map(|pair| pair.kid.as_str()).collect();
        f.debug_struct("ReceiptKeys").field("kids", &kids).finish()
    }
}

impl ReceiptKeys {
    /// One new key, kept in memory only (tests).
    pub fn generate() -> ReceiptKeys {
        ReceiptKeys {
            pairs: vec![KeyPair::generate(OffsetDateTime::now_utc())],
        }
    }

    /// The keys of the key file at `path`; refused when it is missing, unreadable, not the file's format, or
    /// holds no key.
    pub fn load(path: &Path) -> Result<ReceiptKeys, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the receipt signing key file {}: {e}",
                path.display()
            )
        })?;
        let stored: Vec<StoredKey> = serde_json::from_str(&text).map_err(|e| {
            format!(
                "the receipt signing key file {} is not a JSON array of keys: {e}",
                path.display()
            )
        })?;
        if stored.is_empty() {
            return Err(format!(
                "the receipt signing key file {} holds no key",
                path.display()
            ));
        }
        let pairs = stored
            .into_iter()
            .map(KeyPair::from_stored)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(ReceiptKeys { pairs })
    }

    /// Adds a new current key to the key file at `path` (creating the file with the first key when there is
    /// none), keeping the retired ones, and answers the new key's id.
    pub fn rotate(path: &Path) -> Result<String, String> {
        let mut keys = if path.exists() {
            ReceiptKeys::load(path)?
        } else {
            ReceiptKeys { pairs: Vec::new() }
        };
        let created_at = OffsetDateTime::now_utc();
        let pair = KeyPair::generate(created_at);
        let kid = pair.kid.clone();
        keys.pairs.push(pair);
        keys.write(path)?;
        Ok(kid)
    }

    /// Writes every key to `path` atomically, readable by its owner only.
    fn write(&self, path: &Path) -> Result<(), String> {
        let stored: Vec<StoredKey> = self.pairs.iter().map(KeyPair::stored).collect();
        let text = serde_json::to_string_pretty(&stored).map_err(|e| e.to_string())?;
        let folder = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        let file_name = path
            .file_name()
            .ok_or_else(|| format!("{} names no file", path.display()))?;
        let mut temporary_name = file_name.to_os_string();
        temporary_name.push(format!(".{}.tmp", std::process::id()));
        let temporary = folder.join(temporary_name);
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!(
                "cannot write the receipt signing key file {}: {e}",
                path.display()
            )
        })
    }

    fn current(&self) -> Option<&KeyPair> {
        self.pairs.last()
    }

    /// The id of the key that signs new receipts.
    pub fn current_kid(&self) -> Option<&str> {
        self.current().map(|pair| pair.kid.as_str())
    }

    /// `payload` signed with the current key as a compact JWS, its protected header `{"alg":"EdDSA","kid":...}`.
    pub fn sign(&self, payload: &[u8]) -> Result<String, String> {
        let pair = self
            .current()
            .ok_or("no receipt signing key is configured")?;
        let header = serde_json_canonicalizer::to_vec(&ProtectedHeader {
            alg: ALGORITHM.to_owned(),
            kid: pair.kid.clone(),
        })
        .map_err(|e| e.to_string())?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = pair.signing.sign(signing_input.as_bytes());
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }

    /// Every public key, retired ones included, as a JWKS.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .pairs
                .iter()
                .map(|pair| Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: URL_SAFE_NO_PAD.encode(pair.signing.verifying_key().as_bytes()),
                    kid: pair.kid.clone(),
                    key_use: Some("sig".into()),
                    alg: Some(ALGORITHM.into()),
                })
                .collect(),
        }
    }
}

/// The protected header of a receipt: exactly these two members.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtectedHeader {
    alg: String,
    kid: String,
}

/// A JSON Web Key Set (RFC 7517) of Ed25519 public keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One public key as a JWK: an OKP key on Ed25519 (RFC 8037).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key's id, as receipts name it in their header.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// Why a compact JWS did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts separated by dots.
    #[error("not a compact JWS: {0}")]
    Format(String),
    /// The header is not `{"alg":"EdDSA","kid":...}`.
    #[error("unexpected JWS header: {0}")]
    Header(String),
    /// No key of the key set has the header's `kid`.
    #[error("no key with id {0} in the key set")]
    UnknownKey(String),
    /// The key set's key with that id is not an Ed25519 public key.
    #[error("key {0} is not an Ed25519 public key")]
    BadKey(String),
    /// The signature does not match the header and payload under the key.
    #[error("the signature does not verify with key {0}")]
    Signature(String),
}

impl Jwks {
    /// The payload of the compact JWS `token` when its signature verifies under the key its header names;
    /// strict: canonical base64url without padding, a header of exactly `alg` (EdDSA) and `kid`, and Ed25519's
    /// strict verification (no small-order keys, canonical signatures).
    pub fn verify(&self, token: &str) -> Result<Vec<u8>, VerifyError> {
        let token = token.trim_end_matches(['\n', '\r']);
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Format(
                "it must have exactly three parts".into(),
            ));
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|e| VerifyError::Format(format!("the {what} is not base64url: {e}")))
        };
        let header_bytes = decode(header_part, "header")?;
        let payload_bytes = decode(payload_part, "payload")?;
        let signature_bytes = decode(signature_part, "signature")?;
        let header: ProtectedHeader = serde_json::from_slice(&header_bytes)
            .map_err(|e| VerifyError::Header(e.to_string()))?;
        if header.alg != ALGORITHM {
            return Err(VerifyError::Header(format!(
                "alg is {:?}, not {ALGORITHM}",
                header.alg
            )));
        }
        let jwk = self
            .keys
            .iter()
            .find(|key| key.kid == header.kid)
            .ok_or_else(|| VerifyError::UnknownKey(header.kid.clone()))?;
        let bad_key = || VerifyError::BadKey(jwk.kid.clone());
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(bad_key());
        }
        let public: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&jwk.x)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(bad_key)?;
        let verifying = VerifyingKey::from_bytes(&public).map_err(|_| bad_key())?;
        let signature = Signature::from_slice(&signature_bytes)
            .map_err(|_| VerifyError::Signature(jwk.kid.clone()))?;
        let signing_input = &token[..header_part.len() + 1 + payload_part.len()];
        verifying
            .verify_strict(signing_input.as_bytes(), &signature)
            .map_err(|_| VerifyError::Signature(jwk.kid.clone()))?;
        Ok(payload_bytes)
    }

    /// The key set in the JSON text `text`.
    pub fn parse(text: &str) -> Result<Jwks, String> {
        serde_json::from_str(text).map_err(|e| format!("not a JWKS (JSON Web Key Set): {e}"))
    }
}

/// When the key was made, for the key list `rotate-receipt-key` prints.
pub fn describe(keys: &ReceiptKeys) -> Vec<String> {
    let count = keys.pairs.len();
    keys.pairs
        .iter()
        .enumerate()
        .map(|(index, pair)| {
            let created = pair
                .created_at
                .format(&Rfc3339)
                .unwrap_or_else(|_| pair.created_at.to_string());
            let role = if index + 1 == count {
                "current"
            } else {
                "retired"
            };
            format!("{}  created {created}  {role}", pair.kid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn header_members(token: &str) -> BTreeMap<String, serde_json::Value> {
        let header = token.split('.').next().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
    }

    #[test]
    fn a_signed_payload_verifies_with_the_key_set_and_names_its_key() {
        let keys = ReceiptKeys::generate();
        let token = keys.sign(br#"{"a":1}"#).unwrap();
        assert_eq!(keys.jwks().verify(&token).unwrap(), br#"{"a":1}"#);
        let header = header_members(&token);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], keys.current_kid().unwrap());
        assert_eq!(header.len(), 2);
    }

    #[test]
    fn another_key_set_does_not_verify_it() {
        let token = ReceiptKeys::generate().sign(b"{}").unwrap();
        assert!(matches!(
            ReceiptKeys::generate().jwks().verify(&token),
            Err(VerifyError::UnknownKey(_))
        ));
    }

    #[test]
    fn every_changed_character_is_refused() {
        let keys = ReceiptKeys::generate();
        let jwks = keys.jwks();
        let token = keys.sign(br#"{"request":"r","count":3}"#).unwrap();
        for position in 0..token.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut bytes = token.clone().into_bytes();
                bytes[position] ^= flip;
                let Ok(changed) = String::from_utf8(bytes) else {
                    continue;
                };
                assert!(
                    jwks.verify(&changed).is_err(),
                    "accepted with byte {position} ^ {flip:#x}"
                );
            }
        }
    }

    #[test]
    fn a_header_other_than_alg_and_kid_is_refused() {
        let keys = ReceiptKeys::generate();
        let kid = keys.current_kid().unwrap().to_owned();
        for header in [
            format!(r#"{{"alg":"none","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"EdDSA","kid":"{kid}","crit":["exp"]}}"#),
            r#"{"alg":"EdDSA"}"#.to_owned(),
        ] {
            let pair = keys.current().unwrap();
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(&header),
                URL_SAFE_NO_PAD.encode(b"{}")
            );
            let signature = URL_SAFE_NO_PAD.encode(pair.signing.sign(input.as_bytes()).to_bytes());
            assert!(
                keys.jwks().verify(&format!("{input}.{signature}")).is_err(),
                "{header}"
            );
        }
    }

    #[test]
    fn the_key_id_is_the_rfc_7638_thumbprint() {
        // RFC 8037, appendix A.3: the thumbprint of the example key.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            thumbprint(&key),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn rotation_keeps_the_old_keys_in_a_private_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("keys.json");
        let first = ReceiptKeys::rotate(&path).unwrap();
        let old = ReceiptKeys::load(&path).unwrap();
        let token = old.sign(b"{}").unwrap();
        let second = ReceiptKeys::rotate(&path).unwrap();
        assert_ne!(first, second);
        let keys = ReceiptKeys::load(&path).unwrap();
        assert_eq!(keys.current_kid(), Some(second.as_str()));
        assert_eq!(keys.jwks().keys.len(), 2);
        assert!(keys.jwks().verify(&token).is_ok());
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn a_key_file_whose_ids_do_not_match_its_keys_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("keys.json");
        ReceiptKeys::rotate(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let kid = ReceiptKeys::load(&path)
            .unwrap()
            .current_kid()
            .unwrap()
            .to_owned();
        std::fs::write(&path, text.replace(&kid, "another")).unwrap();
        assert!(
            ReceiptKeys::load(&path)
                .unwrap_err()
                .contains("does not match")
        );
        std::fs::write(&path, "[]").unwrap();
        assert!(ReceiptKeys::load(&path).unwrap_err().contains("no key"));
    }
}
