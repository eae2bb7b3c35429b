//! The terminal side of the key (design §3 "Terminal keys"): the development backend that keeps
//! the Ed25519 secret in a 0600 key file and signs with a [`SoftwareKey`]. What a key signs and
//! how evidence is verified is the wire contract in [`usage_sample::tee`]; real SGX/TDX/SEV-SNP
//! backends implement the same [`usage_sample::tee::TeeBackend`] trait.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;
use usage_sample::tee::SoftwareKey;
use usage_service::secret::{read_key, KeyFileError};

/// Why the software key could not be loaded or created.
#[derive(Error, Debug)]
pub enum KeyError {
    /// The key file could not be read: missing, unreadable, readable by others than its owner
    /// (it must be 0600), or holding no 32-byte key.
    #[error(transparent)]
    File(#[from] KeyFileError),
    /// Writing a new key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The operating system's random source failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// Development backend without a TEE: the Ed25519 secret lives in a file (mode 0600) created on
/// first use; it signs as a [`SoftwareKey`], whose evidence is labelled `Software` and has an
/// empty quote.
pub struct SoftwareBackend;

impl SoftwareBackend {
    /// Loads the key from `path`, or creates it there if the file does not exist. Creation is
    /// atomic (written beside it, synced, then linked into place without replacing), so a crash
    /// never leaves a half-written key and two processes agree on one key. An existing file with
    /// permissions wider than 0600 is refused.
    pub fn open(path: &Path) -> Result<SoftwareKey, KeyError> {
        match Self::load(path) {
            Err(KeyError::File(KeyFileError::Io { source, .. }))
                if source.kind() == ErrorKind::NotFound =>
            {
                Self::create(path)?;
                Self::load(path)
            }
            other => other,
        }
    }

    fn load(path: &Path) -> Result<SoftwareKey, KeyError> {
        let secret = read_key(path)?;
        Ok(SoftwareKey::from_secret(secret.expose()))
    }

    fn create(path: &Path) -> Result<(), KeyError> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&secret)?;
            f.sync_all()?;
            // Another process may have created the key meanwhile; keep theirs.
            match fs::hard_link(&tmp, path) {
                Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(e),
                _ => Ok(()),
            }
        })();
        secret.fill(0);
        let removed = fs::remove_file(&tmp);
        written.map_err(io)?;
        removed.map_err(io)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        tracing::info!(path = %path.display(), "created a new software terminal key");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::fs::PermissionsExt;
    use usage_sample::tee::TeeBackend;

    fn backend() -> (tempfile::TempDir, SoftwareKey) {
        let dir = tempfile::tempdir().unwrap();
        let b = SoftwareBackend::open(&dir.path().join("terminal.key")).unwrap();
        (dir, b)
    }

    #[test]
    fn the_key_file_survives_a_reopen_with_the_same_public_key_and_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terminal.key");
        let first = SoftwareBackend::open(&path).unwrap().public_key();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = SoftwareBackend::open(&path).unwrap().public_key();
        assert_eq!(first, again);
        // No temporary file is left beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_key_file_readable_by_others_or_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terminal.key");
        SoftwareBackend::open(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SoftwareBackend::open(&path),
            Err(KeyError::File(KeyFileError::InsecurePermissions {
                mode: 0o644,
                ..
            }))
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, [1u8; 31]).unwrap();
        assert!(matches!(
            SoftwareBackend::open(&path),
            Err(KeyError::File(KeyFileError::Malformed { .. }))
        ));
    }

    #[test]
    fn debug_output_shows_the_public_key_but_not_the_secret() {
        let (dir, b) = backend();
        let shown = format!("{b:?}");
        assert!(shown.contains(&hex::encode(b.public_key())));
        let secret = fs::read(dir.path().join("terminal.key")).unwrap();
        assert!(!shown.contains(&hex::encode(secret)));
    }
}
