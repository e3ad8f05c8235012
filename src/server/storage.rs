//! Object storage for recordings, voicemails and message media, behind the `object_store` crate: a local folder
//! here, any S3-compatible store in production. Keys are opaque paths such as `recordings/<account>/<call>.wav`.

use std::path::Path;
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

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

    pub fn from_store(store: Arc<dyn ObjectStore>) -> Self {
        Storage { store }
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    pub async fn exists(&self, key: &str) -> object_store::Result<bool> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object; an object that is already gone counts as deleted, so retries are harmless.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
