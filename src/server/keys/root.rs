//! The root file: the key tree's root key, 32 bytes in a file outside Postgres (`KEY_ROOT_FILE`), and its
//! pending successor (`<file>.next`) while a rotation commits. Every write goes to a temporary file that is
//! fsynced, then renamed into place, then the folder is fsynced, so a file is always whole: the old root, or
//! the new one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::tree::Key;

/// The root file and its pending successor.
#[derive(Debug, Clone)]
pub struct RootFiles {
    path: PathBuf,
}

impl RootFiles {
    /// The root file at `path` (its pending successor beside it).
    pub fn new(path: impl Into<PathBuf>) -> RootFiles {
        RootFiles { path: path.into() }
    }

    /// Where the root key is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn pending_path(&self) -> PathBuf {
        with_suffix(&self.path, ".next")
    }

    /// The root key, or `None` when there is no root file.
    pub fn read(&self) -> io::Result<Option<Key>> {
        read_key(&self.path)
    }

    /// The pending root key, or `None` when no rotation left one.
    pub fn read_pending(&self) -> io::Result<Option<Key>> {
        read_key(&self.pending_path())
    }

    /// Writes `key` as the pending root, durably, replacing any earlier pending root.
    pub fn write_pending(&self, key: &Key) -> io::Result<()> {
        let temporary = with_suffix(&self.path, ".tmp");
        if let Some(folder) = self.folder() {
            fs::create_dir_all(folder)?;
        }
        let mut file = private_file(&temporary)?;
        file.write_all(key.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, self.pending_path())?;
        self.sync_folder()
    }

    /// Makes the pending root the root, durably: the old root key is gone.
    pub fn promote(&self) -> io::Result<()> {
        fs::rename(self.pending_path(), &self.path)?;
        self.sync_folder()
    }

    /// Removes a pending root that the keyring never committed to.
    pub fn discard_pending(&self) -> io::Result<()> {
        match fs::remove_file(self.pending_path()) {
            Ok(()) => self.sync_folder(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    fn folder(&self) -> Option<&Path> {
        self.path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
    }

    fn sync_folder(&self) -> io::Result<()> {
        File::open(self.folder().unwrap_or(Path::new(".")))?.sync_all()
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn read_key(path: &Path) -> io::Result<Option<Key>> {
    match fs::read(path) {
        Ok(bytes) => Key::from_slice(&bytes).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not 32 bytes", path.display()),
            )
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_root_replaces_the_root_only_when_promoted() {
        let folder = tempfile::tempdir().expect("temp dir");
        let files = RootFiles::new(folder.path().join("keys").join("root.key"));
        assert!(files.read().expect("read").is_none());
        let first = Key::random();
        files.write_pending(&first).expect("write");
        assert!(files.read().expect("read").is_none());
        files.promote().expect("promote");
        assert_eq!(
            files.read().expect("read").expect("root").as_bytes(),
            first.as_bytes()
        );
        assert!(files.read_pending().expect("read").is_none());

        let second = Key::random();
        files.write_pending(&second).expect("write");
        assert_eq!(
            files.read().expect("read").expect("root").as_bytes(),
            first.as_bytes()
        );
        files.discard_pending().expect("discard");
        files.discard_pending().expect("discarding nothing is fine");
        assert_eq!(
            files.read().expect("read").expect("root").as_bytes(),
            first.as_bytes()
        );
        assert!(!folder.path().join("keys").join("root.key.tmp").exists());
    }

    #[test]
    fn a_root_file_of_another_length_is_an_error() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("root.key");
        fs::write(&path, b"short").expect("write");
        assert!(RootFiles::new(&path).read().is_err());
    }

    #[cfg(unix)]
    #[test]
    fn only_the_owner_can_read_the_root_file() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().expect("temp dir");
        let files = RootFiles::new(folder.path().join("root.key"));
        files.write_pending(&Key::random()).expect("write");
        files.promote().expect("promote");
        let mode = fs::metadata(files.path())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
