//! `usage-keyring`: the accounts of usagechain, from BIP39 mnemonics on the Cosmos HD path
//! `m/44'/118'/0'/0/0`, as `gaiad keys` and CosmJS derive them, kept encrypted on disk.
//!
//! A keyring is a directory of mode 0700 holding one file per key, `<name>.json`, of mode
//! 0600: the key's public information (name, address, public key, creation time) in clear,
//! readable without the passphrase, and its mnemonic sealed with XChaCha20-Poly1305 under a key
//! that Argon2id stretches from the passphrase (the format is described in the `file` module's
//! source). The sealed mnemonic is bound to the key's name, address and public key, so a file
//! altered, or renamed to another key's name, is refused.
//!
//! ```no_run
//! # fn main() -> Result<(), usage_keyring::KeyringError> {
//! let keyring = usage_keyring::Keyring::open("/home/me/.usage/keyring")?;
//! let (info, mnemonic) = keyring.add("alice", "a long passphrase")?;
//! println!("{} — write down: {}", info.address, mnemonic.phrase().as_str());
//! let secret = keyring.secret("alice", "a long passphrase")?; // for ChainClient::with_key
//! # let _ = secret; Ok(()) }
//! ```

mod file;
mod mnemonic;

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use mnemonic::{DerivedKey, Mnemonic, HD_PATH, NEW_MNEMONIC_WORDS};

use file::{KeyFile, Sealed};

/// The shortest passphrase [`Keyring::add`] and [`Keyring::recover`] accept.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// The longest key name.
pub const MAX_NAME_LEN: usize = 64;

/// A key file larger than this is not read.
const MAX_FILE_LEN: u64 = 64 * 1024;

/// Why a keyring operation failed.
#[derive(Debug, Error)]
pub enum KeyringError {
    /// The passphrase does not open the key.
    #[error("wrong passphrase for key {name:?}")]
    WrongPassphrase {
        /// The key.
        name: String,
    },
    /// No key has this name.
    #[error("no key named {name:?}")]
    UnknownKey {
        /// The name asked for.
        name: String,
    },
    /// A key of this name exists already (keys are never overwritten).
    #[error("a key named {name:?} exists already")]
    KeyExists {
        /// The name.
        name: String,
    },
    /// The name is not 1 to 64 characters of `A-Z a-z 0-9 . _ -` starting with a letter or
    /// digit.
    #[error("invalid key name {name:?}: use 1 to {MAX_NAME_LEN} letters, digits, '.', '_' or '-', starting with a letter or digit")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The mnemonic is not a valid English BIP39 phrase.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(MnemonicError),
    /// The passphrase is shorter than [`MIN_PASSPHRASE_CHARS`].
    #[error("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")]
    WeakPassphrase,
    /// The file is not a key file of this format, or it was altered or renamed.
    #[error("key file {path} is corrupt or was tampered with: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The keyring directory or a key file may be read or written by others than its owner.
    #[error("{path} has mode {mode:o}; it must be {required:o} (readable by its owner only)")]
    UnsafePermissions {
        /// The directory or file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The mode it must have.
        required: u32,
    },
    /// The Argon2id parameters are out of range.
    #[error("invalid argon2id parameters: {0}")]
    KdfParams(String),
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Randomness(getrandom::Error),
    /// Deriving the account key failed (practically impossible for a valid mnemonic).
    #[error("key derivation failed: {0}")]
    Derivation(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// What is wrong with a mnemonic. The words themselves are never part of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MnemonicError {
    /// A word is not in the English BIP39 word list.
    #[error("word {position} is not in the BIP39 English word list")]
    UnknownWord {
        /// Its position, from 1.
        position: usize,
    },
    /// A mnemonic has 12, 15, 18, 21 or 24 words.
    #[error("{words} words; a mnemonic has 12, 15, 18, 21 or 24")]
    BadWordCount {
        /// The number of words given.
        words: usize,
    },
    /// The last word's checksum bits do not match (a word mistyped or swapped).
    #[error("the checksum does not match (a word is wrong or out of order)")]
    BadChecksum,
}

/// Argon2id cost parameters of the passphrase stretching (version 0x13, 64 bytes of output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub m_cost_kib: u32,
    /// Passes over the memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// For keys in real use: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommendation with
    /// one lane), about a quarter of a second on a current machine.
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Cheap parameters for tests only: 64 KiB, 1 pass. Never for a real key.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    /// The most memory a key file may ask for (1 GiB), so that a file cannot make reading it
    /// exhaust the machine.
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    /// The most passes a key file may ask for.
    pub const MAX_T_COST: u32 = 64;
    /// The most lanes a key file may ask for.
    pub const MAX_P_COST: u32 = 16;

    fn check_readable(&self) -> Result<(), &'static str> {
        if self.m_cost_kib > Self::MAX_M_COST_KIB
            || self.t_cost > Self::MAX_T_COST
            || self.p_cost > Self::MAX_P_COST
        {
            return Err("its argon2id parameters exceed the limits (1 GiB, 64 passes, 16 lanes)");
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::DEFAULT
    }
}

/// A key's public information, readable without the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The key's name in the keyring.
    pub name: String,
    /// The account address, `usage1…`.
    pub address: String,
    /// The compressed secp256k1 public key, 66 hex digits.
    pub public_key: String,
    /// When the key was added or recovered (UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A directory of encrypted keys.
#[derive(Debug, Clone)]
pub struct Keyring {
    dir: PathBuf,
    kdf: KdfParams,
}

impl Keyring {
    /// Opens the keyring in `dir`, creating the directory (mode 0700) if it does not exist.
    /// New keys are sealed with [`KdfParams::DEFAULT`].
    ///
    /// # Errors
    /// [`KeyringError::UnsafePermissions`] if the directory is accessible to others than its
    /// owner; [`KeyringError::Io`] if it cannot be created or is not a directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Keyring, KeyringError> {
        let dir = dir.as_ref().to_path_buf();
        let io = |source| KeyringError::Io {
            path: dir.clone(),
            source,
        };
        match fs::metadata(&dir) {
            Ok(meta) => {
                if !meta.is_dir() {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::NotADirectory,
                        "not a directory",
                    )));
                }
                check_mode(&dir, meta.permissions().mode(), 0o700)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&dir)
                    .map_err(io)?;
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        }
        Ok(Keyring {
            dir,
            kdf: KdfParams::DEFAULT,
        })
    }

    /// The same keyring sealing new keys with `kdf` (keys already there keep theirs).
    ///
    /// # Errors
    /// [`KeyringError::KdfParams`] if Argon2id refuses them or they exceed the limits every key
    /// file is read with.
    pub fn with_kdf(mut self, kdf: KdfParams) -> Result<Keyring, KeyringError> {
        kdf.check_readable()
            .map_err(|reason| KeyringError::KdfParams(reason.into()))?;
        argon2::Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(64))
            .map_err(|e| KeyringError::KdfParams(e.to_string()))?;
        self.kdf = kdf;
        Ok(self)
    }

    /// The keyring's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a key `name` from a new 24-word mnemonic, sealed under `passphrase`. The mnemonic
    /// is returned once, for the owner to write down: it is the only backup of the key.
    ///
    /// # Errors
    /// [`KeyringError::InvalidName`], [`KeyringError::WeakPassphrase`],
    /// [`KeyringError::KeyExists`], or a failure to write the file.
    pub fn add(&self, name: &str, passphrase: &str) -> Result<(KeyInfo, Mnemonic), KeyringError> {
        self.check_new(name, passphrase)?;
        let mnemonic = Mnemonic::generate()?;
        let info = self.store(name, &mnemonic, passphrase, "")?;
        Ok((info, mnemonic))
    }

    /// Adds a key `name` from an existing mnemonic (12 to 24 words) and optional BIP39
    /// passphrase, sealed under `passphrase`. The same mnemonic gives the same address as in
    /// `gaiad keys add --recover` or CosmJS.
    ///
    /// # Errors
    /// [`KeyringError::InvalidMnemonic`] for an unknown word, a wrong number of words or a bad
    /// checksum; otherwise as [`Keyring::add`].
    pub fn recover(
        &self,
        name: &str,
        mnemonic: &str,
        passphrase: &str,
        bip39_passphrase: Option<&str>,
    ) -> Result<KeyInfo, KeyringError> {
        self.check_new(name, passphrase)?;
        let mnemonic = Mnemonic::parse(mnemonic)?;
        self.store(name, &mnemonic, passphrase, bip39_passphrase.unwrap_or(""))
    }

    /// The public information of every key, by name, without the passphrase. Files in the
    /// directory whose names are not `<valid key name>.json` are not keys and are left out.
    ///
    /// # Errors
    /// As [`Keyring::show`] for any key file.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyringError> {
        let io = |source| KeyringError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io)? {
            let file_name = entry.map_err(io)?.file_name();
            let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if validate_name(stem).is_ok() {
                names.push(stem.to_string());
            }
        }
        names.sort();
        names.iter().map(|name| self.show(name)).collect()
    }

    /// The public information of the key `name`, without the passphrase.
    ///
    /// # Errors
    /// [`KeyringError::UnknownKey`]; [`KeyringError::UnsafePermissions`] if the file is not
    /// 0600; [`KeyringError::Corrupt`] if it is not a key file, holds another key's name, or its
    /// address does not belong to its public key.
    pub fn show(&self, name: &str) -> Result<KeyInfo, KeyringError> {
        Ok(self.read(name)?.1.info())
    }

    /// Deletes the key `name`. Without its mnemonic the key is gone for good.
    ///
    /// # Errors
    /// [`KeyringError::UnknownKey`], or a failure to remove the file.
    pub fn delete(&self, name: &str) -> Result<(), KeyringError> {
        let path = self.path(name)?;
        fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => KeyringError::UnknownKey { name: name.into() },
            _ => KeyringError::Io { path, source: e },
        })?;
        self.sync_dir()
    }

    /// The secp256k1 secret key of `name`, for signing (`ChainClient::with_key`).
    ///
    /// # Errors
    /// [`KeyringError::WrongPassphrase`]; [`KeyringError::Corrupt`] if the sealed part was
    /// altered or does not give the key's address; otherwise as [`Keyring::show`].
    pub fn secret(
        &self,
        name: &str,
        passphrase: &str,
    ) -> Result<Zeroizing<[u8; 32]>, KeyringError> {
        Ok(self.derived(name, passphrase)?.secret().clone())
    }

    /// The key `name` unsealed: its secret, public key and address.
    ///
    /// # Errors
    /// As [`Keyring::secret`].
    pub fn derived(&self, name: &str, passphrase: &str) -> Result<DerivedKey, KeyringError> {
        let (path, file) = self.read(name)?;
        let sealed = file.open(&path, passphrase)?;
        let corrupt = |reason: &str| KeyringError::Corrupt {
            path: path.clone(),
            reason: reason.into(),
        };
        let mnemonic = Mnemonic::parse(&sealed.phrase)
            .map_err(|_| corrupt("the sealed mnemonic is not a valid mnemonic"))?;
        let key = mnemonic.derive(&sealed.bip39_passphrase)?;
        let info = file.info();
        if key.address() != info.address || hex::encode(key.public_key()) != info.public_key {
            return Err(corrupt(
                "the sealed mnemonic does not give the key's address",
            ));
        }
        Ok(key)
    }

    fn check_new(&self, name: &str, passphrase: &str) -> Result<(), KeyringError> {
        validate_name(name)?;
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeyringError::WeakPassphrase);
        }
        if fs::symlink_metadata(self.path(name)?).is_ok() {
            return Err(KeyringError::KeyExists { name: name.into() });
        }
        Ok(())
    }

    fn store(
        &self,
        name: &str,
        mnemonic: &Mnemonic,
        passphrase: &str,
        bip39_passphrase: &str,
    ) -> Result<KeyInfo, KeyringError> {
        let key = mnemonic.derive(bip39_passphrase)?;
        let now = OffsetDateTime::now_utc();
        let info = KeyInfo {
            name: name.into(),
            address: key.address().into(),
            public_key: hex::encode(key.public_key()),
            created_at: now.replace_nanosecond(0).unwrap_or(now),
        };
        let sealed = Sealed {
            phrase: mnemonic.phrase(),
            bip39_passphrase: Zeroizing::new(bip39_passphrase.into()),
        };
        let file = KeyFile::seal(&info, &sealed, passphrase, self.kdf)?;
        let mut text = serde_json::to_vec_pretty(&file)
            .map_err(|e| KeyringError::Derivation(format!("encoding the key file: {e}")))?;
        text.push(b'\n');
        self.write_new(name, &text)?;
        Ok(info)
    }

    /// Writes a new key file atomically: a temporary file of mode 0600, then a hard link under
    /// the key's name, which fails if that name exists, so a key is never overwritten.
    fn write_new(&self, name: &str, text: &[u8]) -> Result<(), KeyringError> {
        let path = self.path(name)?;
        let mut suffix = [0u8; 8];
        getrandom::getrandom(&mut suffix).map_err(KeyringError::Randomness)?;
        let tmp = self
            .dir
            .join(format!(".{name}.json.{}.tmp", hex::encode(suffix)));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| KeyringError::Io { path, source }
        };
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io(&tmp))?;
            f.write_all(text).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
            fs::hard_link(&tmp, &path).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => KeyringError::KeyExists { name: name.into() },
                _ => KeyringError::Io {
                    path: path.clone(),
                    source: e,
                },
            })
        })();
        let removed = fs::remove_file(&tmp);
        result?;
        removed.map_err(io(&tmp))?;
        self.sync_dir()
    }

    fn read(&self, name: &str) -> Result<(PathBuf, KeyFile), KeyringError> {
        let path = self.path(name)?;
        let io = |source| KeyringError::Io {
            path: path.clone(),
            source,
        };
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyringError::UnknownKey { name: name.into() })
            }
            Err(e) => return Err(io(e)),
        };
        if !meta.is_file() {
            return Err(KeyringError::Corrupt {
                path,
                reason: "not a regular file".into(),
            });
        }
        check_mode(&path, meta.permissions().mode(), 0o600)?;
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .map_err(io)?
            .take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(KeyringError::Corrupt {
                path,
                reason: "larger than 64 KiB".into(),
            });
        }
        let file = KeyFile::parse(&path, name, &bytes)?;
        Ok((path, file))
    }

    fn path(&self, name: &str) -> Result<PathBuf, KeyringError> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    fn sync_dir(&self) -> Result<(), KeyringError> {
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| KeyringError::Io {
                path: self.dir.clone(),
                source,
            })
    }
}

/// Checks that `name` can name a key: 1 to [`MAX_NAME_LEN`] characters of `A-Z a-z 0-9 . _ -`,
/// the first a letter or digit (so no path separator, no `..`, no hidden file, no option).
///
/// # Errors
/// [`KeyringError::InvalidName`].
pub fn validate_name(name: &str) -> Result<(), KeyringError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(KeyringError::InvalidName { name: name.into() })
    }
}

fn check_mode(path: &Path, mode: u32, required: u32) -> Result<(), KeyringError> {
    let mode = mode & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyringError::UnsafePermissions {
            path: path.to_path_buf(),
            mode,
            required,
        });
    }
    Ok(())
}
