//! The terminal side of the key (design §3 "Terminal keys"): the development backend that keeps
//! the Ed25519 secret in a 0600 key file. What a key signs and how evidence is verified is the
//! wire contract in [`usage_sample::tee`]; real SGX/TDX/SEV-SNP backends implement the same
//! [`TeeBackend`] trait.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey};
use thiserror::Error;
use usage_sample::tee::{software_evidence, Evidence, TeeBackend, TeeKind};

/// Why the software key could not be loaded or created.
#[derive(Error, Debug)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The key file is readable or writable by others than its owner.
    #[error("key file {path} has mode {mode:o}; it must be 0600")]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold exactly 32 bytes.
    #[error("key file {path} holds {len} bytes, expected 32")]
    Corrupt {
        /// The key file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The operating system's random source failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// Development backend without a TEE: the Ed25519 secret lives in a file (mode 0600) created on
/// first use. Its evidence is labelled [`TeeKind::Software`] and has an empty quote.
pub struct SoftwareBackend {
    key: SigningKey,
}

impl fmt::Debug for SoftwareBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareBackend")
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl SoftwareBackend {
    /// Loads the key from `path`, or creates it there if the file does not exist. Creation is
    /// atomic (written beside it, synced, then linked into place without replacing), so a crash
    /// never leaves a half-written key and two processes agree on one key. An existing file with
    /// permissions wider than 0600 is refused.
    pub fn open(path: &Path) -> Result<Self, KeyError> {
        match Self::load(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                Self::create(path)?;
                Self::load(path)
            }
            other => other,
        }
    }

    fn load(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = fs::File::open(path).map_err(io)?;
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::InsecurePermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut buf = Vec::with_capacity(32);
        file.take(33).read_to_end(&mut buf).map_err(io)?;
        let secret: [u8; 32] = buf.as_slice().try_into().map_err(|_| KeyError::Corrupt {
            path: path.to_path_buf(),
            len: buf.len(),
        })?;
        buf.fill(0);
        Ok(Self {
            key: SigningKey::from_bytes(&secret),
        })
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

impl TeeBackend for SoftwareBackend {
    fn kind(&self) -> TeeKind {
        TeeKind::Software
    }

    fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    fn evidence(&self, config_hash: &[u8; 32]) -> Evidence {
        software_evidence(&self.public_key(), config_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> (tempfile::TempDir, SoftwareBackend) {
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
            Err(KeyError::InsecurePermissions { mode: 0o644, .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, [1u8; 31]).unwrap();
        assert!(matches!(
            SoftwareBackend::open(&path),
            Err(KeyError::Corrupt { len: 31, .. })
        ));
    }

    #[test]
    fn debug_output_shows_the_public_key_but_not_the_secret() {
        let (_dir, b) = backend();
        let shown = format!("{b:?}");
        assert!(shown.contains(&hex::encode(b.public_key())));
        assert!(!shown.contains(&hex::encode(b.key.to_bytes())));
    }
}
