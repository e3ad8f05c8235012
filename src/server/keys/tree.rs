//! The key tree's shape and its one cipher: which nodes lie on a data key's path to the root, which keys each
//! node wraps, and wrapping one 256-bit key under another (XChaCha20-Poly1305, a random nonce, associated data
//! naming the wrapped key's place in the tree, so a wrapped key moved to another place fails to open).
//!
//! The root (in the root file) wraps the nodes of level 1; a node of level `l` wraps its `ARITY` children of
//! level `l + 1`; a node of level `DEPTH` wraps the data keys of `ARITY` leaves. Leaf `i`'s ancestor at level
//! `l` is `i >> (ARITY_BITS * (DEPTH + 1 - l))`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Bits of a node's child index: every node has `2^ARITY_BITS` children.
pub const ARITY_BITS: u32 = 5;
/// Children of every node (and of the root).
pub const ARITY: u64 = 1 << ARITY_BITS;
/// Levels of nodes between the root and the data keys.
pub const DEPTH: u8 = 5;
/// Leaves the tree has room for: `ARITY^(DEPTH + 1)`, 1,073,741,824 data keys (a destroyed key's leaf is
/// never used again).
pub const LEAVES: u64 = 1 << (ARITY_BITS * (DEPTH as u32 + 1));

/// Bytes of a wrapped key: the nonce, the key and the tag.
pub const WRAPPED_LEN: usize = NONCE_LEN + 32 + 16;
const NONCE_LEN: usize = 24;

/// A 256-bit key, zeroized when dropped and never printed.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; 32]>);

impl Key {
    /// A new key from the operating system's random source.
    pub fn random() -> Key {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Key(bytes)
    }

    /// The key of these 32 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Key> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Key(Zeroizing::new(array)))
    }

    /// The key's bytes, for the root file.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(super) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Key(..)")
    }
}

/// A wrapped key or a sealed value did not open: the key is not the one it was sealed with, or the bytes or
/// their place were changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed bytes did not open with this key in this place")]
pub struct Unopened;

/// A node of the tree below the root: its level (1: a child of the root; `DEPTH`: a parent of data keys) and
/// its position within the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    /// 1 to `DEPTH`.
    pub level: u8,
    /// 0 to `ARITY^level - 1`.
    pub position: u64,
}

impl Node {
    /// The positions of this node's children: nodes of the next level, or leaves for a node of level `DEPTH`.
    pub fn children(self) -> std::ops::RangeInclusive<u64> {
        let first = self.position << ARITY_BITS;
        first..=first + ARITY - 1
    }

    /// What a wrapped node key is bound to: its level and position.
    pub fn associated_data(self) -> Vec<u8> {
        let mut data = b"cdc key node v1".to_vec();
        data.push(self.level);
        data.extend_from_slice(&self.position.to_be_bytes());
        data
    }
}

/// The nodes on leaf `leaf`'s path, from level 1 down to its parent at level `DEPTH`.
pub fn path(leaf: u64) -> [Node; DEPTH as usize] {
    std::array::from_fn(|index| {
        let level = index as u8 + 1;
        Node {
            level,
            position: leaf >> (ARITY_BITS * (u32::from(DEPTH) + 1 - u32::from(level))),
        }
    })
}

/// What a wrapped data key is bound to: its record, that record's account and its leaf.
pub fn data_key_associated_data(account: Uuid, customer: Uuid, leaf: u64) -> Vec<u8> {
    let mut data = b"cdc data key v1".to_vec();
    data.extend_from_slice(account.as_bytes());
    data.extend_from_slice(customer.as_bytes());
    data.extend_from_slice(&leaf.to_be_bytes());
    data
}

/// `key` sealed under `parent`, bound to `associated_data`: nonce, ciphertext and tag.
pub fn wrap(parent: &Key, associated_data: &[u8], key: &Key) -> Vec<u8> {
    seal_bytes(parent, associated_data, key.as_bytes())
}

/// The key `wrapped` holds, if it was wrapped under `parent` with `associated_data`.
pub fn unwrap(parent: &Key, associated_data: &[u8], wrapped: &[u8]) -> Result<Key, Unopened> {
    let plain = Zeroizing::new(open_bytes(parent, associated_data, wrapped)?);
    Key::from_slice(&plain).ok_or(Unopened)
}

/// `plaintext` sealed under `key` with a fresh random nonce, bound to `associated_data`.
pub(super) fn seal_bytes(key: &Key, associated_data: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let sealed = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: associated_data,
            },
        )
        .expect("XChaCha20-Poly1305 seals any value under 256 GiB");
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// What `sealed` holds, if it was sealed under `key` with `associated_data`.
pub(super) fn open_bytes(
    key: &Key,
    associated_data: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Unopened> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(Unopened);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    key.cipher()
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: associated_data,
            },
        )
        .map_err(|_| Unopened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_runs_from_level_one_to_the_parent_of_the_leaf() {
        let leaf = LEAVES - 1;
        let nodes = path(leaf);
        assert_eq!(
            nodes[0],
            Node {
                level: 1,
                position: ARITY - 1
            }
        );
        assert_eq!(nodes[DEPTH as usize - 1].position, leaf >> ARITY_BITS);
        for pair in nodes.windows(2) {
            assert!(pair[0].children().contains(&pair[1].position));
            assert_eq!(pair[1].level, pair[0].level + 1);
        }
        assert!(nodes[DEPTH as usize - 1].children().contains(&leaf));
        assert_eq!(path(0).map(|node| node.position), [0; DEPTH as usize]);
    }

    #[test]
    fn the_tree_holds_more_than_a_billion_data_keys() {
        assert_eq!(LEAVES, 1_073_741_824);
        assert_eq!(ARITY, 32);
    }

    #[test]
    fn a_wrapped_key_opens_only_under_its_parent_in_its_place() {
        let parent = Key::random();
        let child = Key::random();
        let place = Node {
            level: 3,
            position: 77,
        }
        .associated_data();
        let wrapped = wrap(&parent, &place, &child);
        assert_eq!(wrapped.len(), WRAPPED_LEN);
        let opened = unwrap(&parent, &place, &wrapped).expect("opens");
        assert_eq!(opened.as_bytes(), child.as_bytes());
        let elsewhere = Node {
            level: 3,
            position: 78,
        }
        .associated_data();
        assert_eq!(unwrap(&parent, &elsewhere, &wrapped).err(), Some(Unopened));
        assert_eq!(
            unwrap(&Key::random(), &place, &wrapped).err(),
            Some(Unopened)
        );
        let mut changed = wrapped.clone();
        changed[30] ^= 1;
        assert_eq!(unwrap(&parent, &place, &changed).err(), Some(Unopened));
        assert_eq!(
            unwrap(&parent, &place, &wrapped[..20]).err(),
            Some(Unopened)
        );
    }

    #[test]
    fn a_data_key_is_bound_to_its_record_and_leaf() {
        let (account, customer) = (Uuid::new_v4(), Uuid::new_v4());
        let parent = Key::random();
        let key = Key::random();
        let wrapped = wrap(
            &parent,
            &data_key_associated_data(account, customer, 9),
            &key,
        );
        assert!(
            unwrap(
                &parent,
                &data_key_associated_data(account, customer, 9),
                &wrapped
            )
            .is_ok()
        );
        for other in [
            data_key_associated_data(account, Uuid::new_v4(), 9),
            data_key_associated_data(Uuid::new_v4(), customer, 9),
            data_key_associated_data(account, customer, 10),
        ] {
            assert!(unwrap(&parent, &other, &wrapped).is_err());
        }
    }

    #[test]
    fn a_key_never_prints_its_bytes() {
        assert_eq!(format!("{:?}", Key::random()), "Key(..)");
    }
}
