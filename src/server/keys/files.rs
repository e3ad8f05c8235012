//! Sealing stored files (recordings, voicemails, message media) under their record's data key, chunk by chunk,
//! so a file of any size is sealed and opened without ever being whole in memory.
//!
//! The cipher is XChaCha20-Poly1305 in the `aead` crate's STREAM construction (a 32-bit big-endian chunk
//! counter and a last-chunk flag in each nonce): a chunk dropped, repeated, reordered or cut off, or a file cut
//! at a chunk boundary, fails to open. A sealed file is the 8-byte `MAGIC`, a random 19-byte nonce prefix, then
//! chunks of `CHUNK` plaintext bytes each followed by its 16-byte tag; the last chunk holds the rest (possibly
//! nothing). The associated data names the account, the record and the file's key in the store, so a sealed file
//! copied to another key, record or account fails to open.
//!
//! Files that the platform stored before keys existed are plaintext: a file that does not start with `MAGIC`
//! is read as it is (`seal-existing` seals them). No recording, voicemail or media format starts with `MAGIC`;
//! a non-empty file that ends within it (a sealed file cut short) does not open.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::Payload;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use rand_core::{OsRng, RngCore};
use uuid::Uuid;

use super::tree::{Key, Unopened};

/// The first bytes of every sealed file.
pub const MAGIC: &[u8; 8] = b"CDCSEAL1";
/// Plaintext bytes per sealed chunk.
pub const CHUNK: usize = 64 * 1024;
const NONCE_PREFIX_LEN: usize = 19;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + NONCE_PREFIX_LEN;
const SEALED_CHUNK: usize = CHUNK + TAG_LEN;

/// The associated data of the file at `store_key` of `customer` (of `account`).
fn associated_data(account: Uuid, customer: Uuid, store_key: &str) -> Vec<u8> {
    let mut data = b"cdc sealed file v1".to_vec();
    data.extend_from_slice(account.as_bytes());
    data.extend_from_slice(customer.as_bytes());
    data.extend_from_slice(&(store_key.len() as u64).to_be_bytes());
    data.extend_from_slice(store_key.as_bytes());
    data
}

/// Whether `bytes` (a file's first bytes, at least `MAGIC`'s length when the file is that long) start a sealed
/// file.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Seals one file as its bytes arrive: `push` answers the sealed bytes ready so far, `finish` the rest.
pub struct FileSealing {
    encryptor: EncryptorBE32<XChaCha20Poly1305>,
    associated_data: Vec<u8>,
    pending: Vec<u8>,
    header: Option<Vec<u8>>,
}

impl FileSealing {
    /// Starts sealing the file at `store_key` of `customer` (of `account`) under the record's data `key`.
    pub fn new(key: &Key, account: Uuid, customer: Uuid, store_key: &str) -> FileSealing {
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        OsRng.fill_bytes(&mut nonce_prefix);
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&nonce_prefix);
        FileSealing {
            encryptor: EncryptorBE32::from_aead(key.cipher(), nonce_prefix.as_ref().into()),
            associated_data: associated_data(account, customer, store_key),
            pending: Vec::with_capacity(CHUNK),
            header: Some(header),
        }
    }

    /// Takes the next `bytes` of the file; answers the sealed bytes that are ready (the header, and every whole
    /// chunk that is known not to be the last).
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<u8> {
        let mut sealed = self.header.take().unwrap_or_default();
        while !bytes.is_empty() {
            if self.pending.len() == CHUNK {
                let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
                let next = self
                    .encryptor
                    .encrypt_next(Payload {
                        msg: &chunk,
                        aad: &self.associated_data,
                    })
                    .expect("a 64 KiB chunk always seals");
                sealed.extend_from_slice(&next);
            }
            let room = CHUNK - self.pending.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = later;
        }
        sealed
    }

    /// Ends the file: answers the sealed bytes not answered yet, ending with the last chunk.
    pub fn finish(mut self) -> Vec<u8> {
        let mut sealed = self.header.take().unwrap_or_default();
        let last = self
            .encryptor
            .encrypt_last(Payload {
                msg: &self.pending,
                aad: &self.associated_data,
            })
            .expect("a 64 KiB chunk always seals");
        sealed.extend_from_slice(&last);
        sealed
    }
}

/// `bytes`, the whole file at `store_key` of `customer` (of `account`), sealed under the record's data `key`.
pub fn seal_file(
    key: &Key,
    account: Uuid,
    customer: Uuid,
    store_key: &str,
    bytes: &[u8],
) -> Vec<u8> {
    let mut sealing = FileSealing::new(key, account, customer, store_key);
    let mut sealed = sealing.push(bytes);
    sealed.extend_from_slice(&sealing.finish());
    sealed
}

/// Reads one stored file as its bytes arrive: a sealed file opened chunk by chunk under its record's key, a
/// plaintext file as it is. `push` answers the plaintext ready so far; `finish` the rest, or `Unopened` when the
/// file does not open (another key, another place, or changed, reordered or cut off).
pub struct FileOpening {
    key: Option<Key>,
    associated_data: Vec<u8>,
    state: Reading,
}

enum Reading {
    /// Not yet known whether the file is sealed: its first bytes.
    Start(Vec<u8>),
    /// A plaintext file: passed on as it arrives.
    Plain,
    /// A sealed file: the sealed bytes not opened yet.
    Sealed {
        decryptor: DecryptorBE32<XChaCha20Poly1305>,
        pending: Vec<u8>,
    },
}

impl FileOpening {
    /// Starts reading the file at `store_key` of `customer` (of `account`), whose data key is `key` (`None`
    /// when the record has none: then only a plaintext file opens).
    pub fn new(key: Option<Key>, account: Uuid, customer: Uuid, store_key: &str) -> FileOpening {
        FileOpening {
            key,
            associated_data: associated_data(account, customer, store_key),
            state: Reading::Start(Vec::with_capacity(HEADER_LEN)),
        }
    }

    /// Takes the next stored `bytes`; answers the plaintext that is ready.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, Unopened> {
        match &mut self.state {
            Reading::Plain => Ok(bytes.to_vec()),
            Reading::Start(start) => {
                start.extend_from_slice(bytes);
                let known = start.len().min(MAGIC.len());
                if start[..known] != MAGIC[..known] {
                    let plain = std::mem::take(start);
                    self.state = Reading::Plain;
                    return Ok(plain);
                }
                if start.len() < HEADER_LEN {
                    return Ok(Vec::new());
                }
                let key = self.key.as_ref().ok_or(Unopened)?;
                let nonce_prefix = &start[MAGIC.len()..HEADER_LEN];
                let decryptor = DecryptorBE32::from_aead(key.cipher(), nonce_prefix.into());
                let rest = start[HEADER_LEN..].to_vec();
                self.state = Reading::Sealed {
                    decryptor,
                    pending: Vec::with_capacity(2 * SEALED_CHUNK),
                };
                self.push(&rest)
            }
            Reading::Sealed { decryptor, pending } => {
                pending.extend_from_slice(bytes);
                let mut opened = Vec::new();
                let mut start = 0;
                while pending.len() - start > SEALED_CHUNK {
                    let chunk = &pending[start..start + SEALED_CHUNK];
                    let plain = decryptor
                        .decrypt_next(Payload {
                            msg: chunk,
                            aad: &self.associated_data,
                        })
                        .map_err(|_| Unopened)?;
                    opened.extend_from_slice(&plain);
                    start += SEALED_CHUNK;
                }
                pending.drain(..start);
                Ok(opened)
            }
        }
    }

    /// Ends the file: answers the plaintext not answered yet, or `Unopened` when the sealed file does not end
    /// with its last chunk intact (or the file ended within `MAGIC`).
    pub fn finish(self) -> Result<Vec<u8>, Unopened> {
        match self.state {
            Reading::Plain => Ok(Vec::new()),
            Reading::Start(start) if start.is_empty() => Ok(start),
            Reading::Start(_) => Err(Unopened),
            Reading::Sealed { decryptor, pending } => decryptor
                .decrypt_last(Payload {
                    msg: &pending,
                    aad: &self.associated_data,
                })
                .map_err(|_| Unopened),
        }
    }
}

/// The whole stored file `stored` at `store_key` of `customer` (of `account`) read as `FileOpening` reads it.
pub fn open_file(
    key: Option<Key>,
    account: Uuid,
    customer: Uuid,
    store_key: &str,
    stored: &[u8],
) -> Result<Vec<u8>, Unopened> {
    let mut opening = FileOpening::new(key, account, customer, store_key);
    let mut plain = opening.push(stored)?;
    plain.extend_from_slice(&opening.finish()?);
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: Uuid = Uuid::from_u128(1);
    const CUSTOMER: Uuid = Uuid::from_u128(2);
    const STORE_KEY: &str = "recordings/a/call.wav";

    fn file(len: usize) -> Vec<u8> {
        (0..len).map(|n| (n * 31 % 251) as u8).collect()
    }

    /// `stored` read in pieces of `piece` bytes.
    fn opened_in_pieces(key: &Key, stored: &[u8], piece: usize) -> Result<Vec<u8>, Unopened> {
        let mut opening = FileOpening::new(Some(key.clone()), ACCOUNT, CUSTOMER, STORE_KEY);
        let mut plain = Vec::new();
        for part in stored.chunks(piece) {
            plain.extend_from_slice(&opening.push(part)?);
        }
        plain.extend_from_slice(&opening.finish()?);
        Ok(plain)
    }

    #[test]
    fn files_of_every_size_open_to_what_was_sealed_whatever_the_pieces() {
        let key = Key::random();
        for len in [
            0,
            1,
            7,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            2 * CHUNK,
            3 * CHUNK + 17,
        ] {
            let plain = file(len);
            let mut sealing = FileSealing::new(&key, ACCOUNT, CUSTOMER, STORE_KEY);
            let mut stored = Vec::new();
            for part in plain.chunks(5000) {
                stored.extend_from_slice(&sealing.push(part));
            }
            stored.extend_from_slice(&sealing.finish());
            assert!(is_sealed(&stored));
            assert_eq!(
                stored.len(),
                HEADER_LEN + len + TAG_LEN * len.div_ceil(CHUNK).max(1)
            );
            for piece in [1, 1000, SEALED_CHUNK, SEALED_CHUNK + 1, stored.len().max(1)] {
                assert_eq!(
                    opened_in_pieces(&key, &stored, piece).unwrap(),
                    plain,
                    "{len} by {piece}"
                );
            }
        }
    }

    #[test]
    fn a_sealed_file_opens_only_under_its_key_in_its_place() {
        let key = Key::random();
        let stored = seal_file(&key, ACCOUNT, CUSTOMER, STORE_KEY, &file(100_000));
        let other_key = Some(Key::random());
        assert!(open_file(other_key, ACCOUNT, CUSTOMER, STORE_KEY, &stored).is_err());
        assert!(open_file(None, ACCOUNT, CUSTOMER, STORE_KEY, &stored).is_err());
        let key = || Some(key.clone());
        assert!(open_file(key(), Uuid::from_u128(9), CUSTOMER, STORE_KEY, &stored).is_err());
        assert!(open_file(key(), ACCOUNT, Uuid::from_u128(9), STORE_KEY, &stored).is_err());
        assert!(open_file(key(), ACCOUNT, CUSTOMER, "recordings/a/other.wav", &stored).is_err());
        assert_eq!(
            open_file(key(), ACCOUNT, CUSTOMER, STORE_KEY, &stored).unwrap(),
            file(100_000)
        );
    }

    #[test]
    fn a_changed_cut_or_reordered_sealed_file_does_not_open() {
        let key = Key::random();
        let plain = file(3 * CHUNK + 100);
        let stored = seal_file(&key, ACCOUNT, CUSTOMER, STORE_KEY, &plain);
        let opens =
            |stored: &[u8]| open_file(Some(key.clone()), ACCOUNT, CUSTOMER, STORE_KEY, stored);
        let mut flipped = stored.clone();
        flipped[HEADER_LEN + CHUNK + 5] ^= 1;
        assert!(opens(&flipped).is_err());
        assert!(opens(&stored[..stored.len() - 1]).is_err());
        assert!(
            opens(&stored[..HEADER_LEN + SEALED_CHUNK]).is_err(),
            "cut at a chunk boundary"
        );
        assert!(opens(&stored[..HEADER_LEN + 3]).is_err());
        for cut in [
            1,
            3,
            MAGIC.len() - 1,
            MAGIC.len(),
            HEADER_LEN - 1,
            HEADER_LEN,
        ] {
            assert!(opens(&stored[..cut]).is_err(), "cut to {cut} bytes");
        }
        let mut swapped = stored[..HEADER_LEN].to_vec();
        swapped
            .extend_from_slice(&stored[HEADER_LEN + SEALED_CHUNK..HEADER_LEN + 2 * SEALED_CHUNK]);
        swapped.extend_from_slice(&stored[HEADER_LEN..HEADER_LEN + SEALED_CHUNK]);
        swapped.extend_from_slice(&stored[HEADER_LEN + 2 * SEALED_CHUNK..]);
        assert!(opens(&swapped).is_err());
        let mut dropped = stored[..HEADER_LEN + SEALED_CHUNK].to_vec();
        dropped.extend_from_slice(&stored[HEADER_LEN + 2 * SEALED_CHUNK..]);
        assert!(opens(&dropped).is_err());
        assert_eq!(opens(&stored).unwrap(), plain);
    }

    #[test]
    fn a_plaintext_file_reads_as_it_is_with_or_without_a_key() {
        for plain in [
            b"RIFF....WAVEfmt ".to_vec(),
            b"CDCX".to_vec(),
            Vec::new(),
            file(200_000),
        ] {
            assert!(!is_sealed(&plain) || plain.is_empty());
            for key in [None, Some(Key::random())] {
                let mut opening = FileOpening::new(key, ACCOUNT, CUSTOMER, STORE_KEY);
                let mut read = Vec::new();
                for part in plain.chunks(3) {
                    read.extend_from_slice(&opening.push(part).unwrap());
                }
                read.extend_from_slice(&opening.finish().unwrap());
                assert_eq!(read, plain);
            }
        }
    }
}
