//! Object storage for recordings, voicemails and message media, behind the `object_store` crate: a local folder
//! here, any S3-compatible store in production. Keys are paths under their account's prefixes: a call's
//! recording or voicemail under `recordings/<account>/` (e.g. `recordings/<account>/<call>.wav`), a message's
//! media under `media/<account>/`; the schema refuses any other key on a call or message (migration 0007, its
//! twin). Deleting, the one irreversible operation, reading a file for an export and replacing a file by its
//! sealed form are possible only through an account's part of the store (`AccountStorage`), which reaches nothing outside that account's prefixes.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use uuid::Uuid;

/// The kind of stored object that calls hold: recordings and voicemails.
pub const RECORDINGS: &str = "recordings";
/// The kind of stored object that messages hold.
pub const MEDIA: &str = "media";
const KINDS: [&str; 2] = [RECORDINGS, MEDIA];

/// The prefix of `account_id`'s keys of one kind: `<kind>/<account id>/`.
fn account_prefix(kind: &str, account_id: Uuid) -> String {
    format!("{kind}/{account_id}/")
}

/// A SQL `LIKE` pattern that matches exactly the keys of `account_id` of one kind: its prefix and at least one
/// more character (kinds and account ids hold no `LIKE` wildcard).
pub fn account_key_pattern(kind: &str, account_id: Uuid) -> String {
    format!("{}_%", account_prefix(kind, account_id))
}

/// The whole object store: storing at any key and checking whether a key is stored. Deleting goes only through
/// `of_account`.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

impl Storage {
    /// A store in a local folder, created when missing.
    pub fn local(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create object store folder {}: {e}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("cannot open object store folder {}: {e}", dir.display()))?;
        Ok(Storage {
            store: Arc::new(store),
        })
    }

    /// The store `store` (in tests: an in-memory one, or one that fails on purpose).
    pub fn from_store(store: Arc<dyn ObjectStore>) -> Self {
        Storage { store }
    }

    /// Stores `bytes` at `key`, replacing what was there (the seeds write recordings and media with it).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    /// Whether an object is stored at `key`.
    pub async fn exists(&self, key: &str) -> object_store::Result<bool> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The part of the store that belongs to `account_id`: one `PrefixStore` per kind, each confined to
    /// `<kind>/<account id>/`.
    pub fn of_account(&self, account_id: Uuid) -> AccountStorage {
        AccountStorage {
            prefixed: KINDS.map(|kind| {
                let prefix = account_prefix(kind, account_id);
                let store = PrefixStore::new(self.store.clone(), prefix.as_str());
                (prefix, store)
            }),
        }
    }
}

/// One account's part of the store: its prefixes, each with the store confined to it. A key is addressed as a
/// path relative to the prefixed store of the prefix it starts with, so no key, whatever it holds (`..`, doubled
/// slashes), reaches outside the account's prefixes; a key that starts with none of them is refused before
/// anything is addressed.
pub struct AccountStorage {
    prefixed: [(String, PrefixStore<Arc<dyn ObjectStore>>); 2],
}

/// Why an account's store did not delete a key.
#[derive(Debug)]
pub enum DeleteError {
    /// The key is not under the account's prefixes: it names some other account's object, or none. Nothing was
    /// addressed.
    OutsideAccount,
    /// The store failed; a retry may succeed.
    Store(object_store::Error),
}

impl AccountStorage {
    /// Deletes the object at `key` when the key is the account's; an object already gone counts as deleted, so
    /// retries are harmless.
    pub async fn delete(&self, key: &str) -> Result<(), DeleteError> {
        let (store, path) = self.locate(key).ok_or(DeleteError::OutsideAccount)?;
        match store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(DeleteError::Store(e)),
        }
    }

    /// The object at `key` as a stream of chunks (so a long recording is never whole in memory), when the key is
    /// the account's and an object is stored there; `None` for a key outside the account or with nothing stored.
    pub async fn read(
        &self,
        key: &str,
    ) -> object_store::Result<Option<BoxStream<'static, object_store::Result<Bytes>>>> {
        let Some((store, path)) = self.locate(key) else {
            return Ok(None);
        };
        match store.get(&path).await {
            Ok(found) => Ok(Some(found.into_stream())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts replacing the object at `key`, when the key is the account's: the new object is written in parts
    /// and takes the old one's place only when the upload is finished (an aborted upload leaves the old one).
    pub async fn replace(&self, key: &str) -> object_store::Result<Option<WriteMultipart>> {
        let Some((store, path)) = self.locate(key) else {
            return Ok(None);
        };
        Ok(Some(WriteMultipart::new(store.put_multipart(&path).await?)))
    }

    /// The prefixed store that holds `key` and the key's path inside it, when the key is one of the account's
    /// prefixes followed by a path: the schema's rule (at least one character after the prefix; of either kind,
    /// as an outbox row does not say which), and that path must name something (not only slashes).
    fn locate(&self, key: &str) -> Option<(&PrefixStore<Arc<dyn ObjectStore>>, ObjectPath)> {
        self.prefixed.iter().find_map(|(prefix, store)| {
            let path = ObjectPath::from(key.strip_prefix(prefix.as_str())?);
            (!path.as_ref().is_empty()).then_some((store, path))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: Uuid = Uuid::from_u128(0x0a);
    const OTHER: Uuid = Uuid::from_u128(0x0b);

    fn located(key: &str) -> Option<String> {
        let storage = Storage::from_store(Arc::new(object_store::memory::InMemory::new()));
        let account = storage.of_account(ACCOUNT);
        account.locate(key).map(|(_, path)| path.to_string())
    }

    #[test]
    fn the_accounts_own_keys_are_located_under_their_kind() {
        assert_eq!(
            located(&format!("recordings/{ACCOUNT}/call.wav")).as_deref(),
            Some("call.wav")
        );
        assert_eq!(
            located(&format!("media/{ACCOUNT}/message/0.jpg")).as_deref(),
            Some("message/0.jpg")
        );
    }

    #[test]
    fn keys_outside_the_accounts_prefixes_are_refused() {
        for key in [
            format!("recordings/{OTHER}/call.wav"),
            format!("media/{OTHER}/message/0.jpg"),
            format!("transcripts/{ACCOUNT}/call.txt"),
            format!("recordings/{ACCOUNT}"),
            format!("recordings/{ACCOUNT}/"),
            format!("recordings/{ACCOUNT}//"),
            format!("media/{ACCOUNT}/"),
            format!("recordings/{ACCOUNT}x/call.wav"),
            format!("/recordings/{ACCOUNT}/call.wav"),
            format!("recordings/{}/call.wav", ACCOUNT.to_string().to_uppercase()),
            format!("{ACCOUNT}/call.wav"),
            "recordings/batch/7.wav".to_owned(),
            String::new(),
        ] {
            assert_eq!(located(&key), None, "{key}");
        }
    }

    #[test]
    fn the_sql_pattern_is_the_prefix_and_one_more_character() {
        assert_eq!(
            account_key_pattern(RECORDINGS, ACCOUNT),
            "recordings/00000000-0000-0000-0000-00000000000a/_%"
        );
        assert_eq!(
            account_key_pattern(MEDIA, ACCOUNT),
            "media/00000000-0000-0000-0000-00000000000a/_%"
        );
    }

    #[test]
    fn a_relative_segment_stays_inside_the_accounts_prefix() {
        let escape = format!("recordings/{ACCOUNT}/../../media/{OTHER}/message/0.jpg");
        assert_eq!(
            located(&escape).as_deref(),
            Some(format!("%2E%2E/%2E%2E/media/{OTHER}/message/0.jpg").as_str())
        );
    }

    #[tokio::test]
    async fn deleting_through_an_account_leaves_other_accounts_objects_alone() {
        let storage = Storage::from_store(Arc::new(object_store::memory::InMemory::new()));
        let own = format!("recordings/{ACCOUNT}/call.wav");
        let other = format!("recordings/{OTHER}/call.wav");
        for key in [&own, &other] {
            storage.put(key, b"RIFF".to_vec()).await.unwrap();
        }
        let account = storage.of_account(ACCOUNT);
        assert!(matches!(
            account.delete(&other).await,
            Err(DeleteError::OutsideAccount)
        ));
        account
            .delete(&format!("recordings/{ACCOUNT}/../{OTHER}/call.wav"))
            .await
            .unwrap();
        account.delete(&own).await.unwrap();
        account.delete(&own).await.unwrap();
        assert!(!storage.exists(&own).await.unwrap());
        assert!(storage.exists(&other).await.unwrap());
    }
}
