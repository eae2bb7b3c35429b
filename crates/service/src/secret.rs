//! Secrets in key files: a service's configuration names the file, never the secret, and a
//! loaded secret never shows in `Debug` output or logs.
//!
//! A key file holds one 32-byte secret, as 64 hex digits (a trailing newline is allowed) or as
//! the 32 raw bytes. It must be readable by its owner only (mode 0600 or stricter): a file others
//! can read is refused, as SSH refuses such a private key.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A 32-byte secret, wiped when dropped, shown as `Secret32(..)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret32([u8; 32]);

impl Secret32 {
    /// Wraps `bytes`.
    pub fn new(bytes: [u8; 32]) -> Self {
        Secret32(bytes)
    }

    /// The secret's bytes, for handing to a signing library.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// A fresh secret from the operating system's randomness (`/dev/urandom`).
    pub fn random() -> std::io::Result<Secret32> {
        use std::io::Read;
        let mut bytes = [0u8; 32];
        fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Secret32(bytes))
    }
}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32(..)")
    }
}

impl Drop for Secret32 {
    fn drop(&mut self) {
        self.0.fill(0);
        // Keeps the wipe from being optimised away as a dead store.
        std::hint::black_box(&self.0);
    }
}

/// Why a key file was not read or written.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Others than the owner may read or write it.
    #[error("key file {path} has mode {mode:o}; it must be 0600")]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// It holds neither 64 hex digits nor 32 bytes.
    #[error("key file {path} holds no 32-byte key (64 hex digits or 32 raw bytes)")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
}

/// Reads the 32-byte secret in `path`.
pub fn read_key(path: &Path) -> Result<Secret32, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut bytes = fs::read(path).map_err(io)?;
    let malformed = || KeyFileError::Malformed {
        path: path.to_path_buf(),
    };
    let mut secret = [0u8; 32];
    if bytes.len() == 32 {
        secret.copy_from_slice(&bytes);
    } else {
        let text = std::str::from_utf8(&bytes).map_err(|_| malformed())?.trim();
        hex::decode_to_slice(text, &mut secret).map_err(|_| malformed())?;
    }
    bytes.fill(0);
    Ok(Secret32(secret))
}

/// Writes `secret` as hex to a new file `path` with mode 0600 (an existing file is an error:
/// a key is never overwritten).
pub fn write_key(path: &Path, secret: &[u8; 32]) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let mut text = hex::encode(secret);
    text.push('\n');
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_key_reads_back_and_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bls.key");
        write_key(&path, &[7; 32]).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let key = read_key(&path).unwrap();
        assert_eq!(key.expose(), &[7; 32]);
        assert_eq!(format!("{key:?}"), "Secret32(..)");
        assert!(
            write_key(&path, &[8; 32]).is_err(),
            "a key is never overwritten"
        );
        // Raw bytes are read too.
        let raw = dir.path().join("raw.key");
        fs::write(&raw, [9u8; 32]).unwrap();
        fs::set_permissions(&raw, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_key(&raw).unwrap().expose(), &[9; 32]);
    }

    #[test]
    fn a_key_file_others_can_read_or_holding_no_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_key(&path, &[7; 32]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            read_key(&path),
            Err(KeyFileError::InsecurePermissions { mode: 0o640, .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "abcd\n").unwrap();
        assert!(matches!(
            read_key(&path),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            read_key(&dir.path().join("missing")),
            Err(KeyFileError::Io { .. })
        ));
    }
}
