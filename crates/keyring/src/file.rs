//! The key file: public information in clear, the mnemonic sealed with a key stretched from
//! the passphrase.
//!
//! ```json
//! {
//!   "version": 1,
//!   "name": "alice",
//!   "algo": "secp256k1",
//!   "hd_path": "m/44'/118'/0'/0/0",
//!   "address": "usage1…",
//!   "public_key": "02…",                     // 33 bytes, hex
//!   "created_at": "2026-01-02T03:04:05Z",
//!   "crypto": {
//!     "kdf": "argon2id",                     // version 0x13
//!     "kdf_params": { "m_cost_kib": 65536, "t_cost": 3, "p_cost": 1 },
//!     "salt": "…",                           // 16 bytes, hex
//!     "check": "…",                          // 32 bytes, hex
//!     "cipher": "xchacha20poly1305",
//!     "nonce": "…",                          // 24 bytes, hex
//!     "ciphertext": "…"                      // hex
//!   }
//! }
//! ```
//!
//! Argon2id turns the passphrase and salt into 64 bytes: the first 32 are the XChaCha20-Poly1305
//! key, SHA-256 of the last 32 is `check`, which tells a wrong passphrase from an altered file.
//! The plaintext is the mnemonic's words separated by single spaces, followed, when the key was
//! recovered with a BIP39 passphrase, by a zero byte and that passphrase. The associated data
//! binds the version, name, algorithm, path, address and public key, so neither the public
//! fields can be changed nor a file be used under another name; the KDF parameters and salt
//! are bound through the key they give.

use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::mnemonic::HD_PATH;
use crate::{KdfParams, KeyInfo, KeyringError};

/// The format version written and read.
pub(crate) const VERSION: u32 = 1;
const ALGO: &str = "secp256k1";
const KDF: &str = "argon2id";
const CIPHER: &str = "xchacha20poly1305";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const AAD_DOMAIN: &[u8] = b"usage-keyring";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyFile {
    version: u32,
    name: String,
    algo: String,
    hd_path: String,
    address: String,
    public_key: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    crypto: Crypto,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Crypto {
    kdf: String,
    kdf_params: KdfParams,
    salt: String,
    check: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// What a key file seals: the mnemonic and the BIP39 passphrase it was recovered with.
pub(crate) struct Sealed {
    pub(crate) phrase: Zeroizing<String>,
    pub(crate) bip39_passphrase: Zeroizing<String>,
}

impl KeyFile {
    /// Seals `sealed` for the key `info` under `passphrase`.
    pub(crate) fn seal(
        info: &KeyInfo,
        sealed: &Sealed,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<KeyFile, KeyringError> {
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut salt).map_err(KeyringError::Randomness)?;
        getrandom::getrandom(&mut nonce).map_err(KeyringError::Randomness)?;
        let keys = stretch(passphrase, &salt, kdf)?;
        let mut file = KeyFile {
            version: VERSION,
            name: info.name.clone(),
            algo: ALGO.into(),
            hd_path: HD_PATH.into(),
            address: info.address.clone(),
            public_key: info.public_key.clone(),
            created_at: info.created_at,
            crypto: Crypto {
                kdf: KDF.into(),
                kdf_params: kdf,
                salt: hex::encode(salt),
                check: hex::encode(keys.check),
                cipher: CIPHER.into(),
                nonce: hex::encode(nonce),
                ciphertext: String::new(),
            },
        };
        let mut plaintext = Zeroizing::new(sealed.phrase.as_bytes().to_vec());
        if !sealed.bip39_passphrase.is_empty() {
            plaintext.push(0);
            plaintext.extend_from_slice(sealed.bip39_passphrase.as_bytes());
        }
        let aad = file.associated_data();
        let ciphertext = cipher(&keys)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyringError::Derivation("encryption failed".into()))?;
        file.crypto.ciphertext = hex::encode(ciphertext);
        Ok(file)
    }

    /// Parses the file `path`, which must hold the key `name`, and checks its public fields.
    pub(crate) fn parse(path: &Path, name: &str, bytes: &[u8]) -> Result<KeyFile, KeyringError> {
        let corrupt = |reason: String| KeyringError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let file: KeyFile =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not a key file: {e}")))?;
        if file.version != VERSION {
            return Err(corrupt(format!(
                "format version {} is not supported (only {VERSION})",
                file.version
            )));
        }
        if file.name != name {
            return Err(corrupt(format!(
                "it holds the key {:?}, not {name:?} (a renamed or swapped file)",
                file.name
            )));
        }
        if file.algo != ALGO || file.hd_path != HD_PATH {
            return Err(corrupt(format!(
                "algorithm {} on path {} is not supported",
                file.algo, file.hd_path
            )));
        }
        if file.crypto.kdf != KDF || file.crypto.cipher != CIPHER {
            return Err(corrupt(format!(
                "kdf {} with cipher {} is not supported",
                file.crypto.kdf, file.crypto.cipher
            )));
        }
        let public_key = decode::<33>(&file.public_key)
            .ok_or_else(|| corrupt("the public key is not 33 bytes of hex".into()))?;
        match usaged_auth::address_from_pubkey(&public_key) {
            Ok(address) if address == file.address => {}
            _ => {
                return Err(corrupt(
                    "the address does not belong to the public key".into(),
                ))
            }
        }
        file.crypto
            .kdf_params
            .check_readable()
            .map_err(|reason| corrupt(reason.into()))?;
        Ok(file)
    }

    /// The public information, readable without the passphrase.
    pub(crate) fn info(&self) -> KeyInfo {
        KeyInfo {
            name: self.name.clone(),
            address: self.address.clone(),
            public_key: self.public_key.clone(),
            created_at: self.created_at,
        }
    }

    /// Opens the sealed mnemonic with `passphrase`.
    pub(crate) fn open(&self, path: &Path, passphrase: &str) -> Result<Sealed, KeyringError> {
        let corrupt = |reason: &str| KeyringError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        };
        let salt = decode::<SALT_LEN>(&self.crypto.salt)
            .ok_or_else(|| corrupt("the salt is not 16 bytes of hex"))?;
        let nonce = decode::<NONCE_LEN>(&self.crypto.nonce)
            .ok_or_else(|| corrupt("the nonce is not 24 bytes of hex"))?;
        let check = decode::<32>(&self.crypto.check)
            .ok_or_else(|| corrupt("the check is not 32 bytes of hex"))?;
        let ciphertext = hex::decode(&self.crypto.ciphertext)
            .map_err(|_| corrupt("the ciphertext is not hex"))?;
        let keys = stretch(passphrase, &salt, self.crypto.kdf_params)?;
        if keys.check != check {
            return Err(KeyringError::WrongPassphrase {
                name: self.name.clone(),
            });
        }
        let aad = self.associated_data();
        let plaintext = Zeroizing::new(
            cipher(&keys)
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| {
                    corrupt(
                        "the sealed mnemonic fails authentication (altered ciphertext, nonce, \
                         name, address or public key)",
                    )
                })?,
        );
        let (phrase, bip39_passphrase) = match plaintext.iter().position(|&b| b == 0) {
            Some(at) => (&plaintext[..at], &plaintext[at + 1..]),
            None => (&plaintext[..], &[][..]),
        };
        let text = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .map(|s| Zeroizing::new(s.to_string()))
                .map_err(|_| corrupt("the sealed mnemonic is not UTF-8"))
        };
        Ok(Sealed {
            phrase: text(phrase)?,
            bip39_passphrase: text(bip39_passphrase)?,
        })
    }

    /// The canonical bytes of the public fields the ciphertext is bound to.
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = AAD_DOMAIN.to_vec();
        for field in [
            self.version.to_string().as_str(),
            &self.name,
            &self.algo,
            &self.hd_path,
            &self.address,
            &self.public_key,
        ] {
            aad.push(0);
            aad.extend_from_slice(field.as_bytes());
        }
        aad
    }
}

struct StretchedKeys {
    key: Zeroizing<[u8; 32]>,
    check: [u8; 32],
}

/// Argon2id of `passphrase`: the cipher key and the passphrase check.
fn stretch(passphrase: &str, salt: &[u8], kdf: KdfParams) -> Result<StretchedKeys, KeyringError> {
    let params = Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(64))
        .map_err(|e| KeyringError::KdfParams(e.to_string()))?;
    let mut out = Zeroizing::new([0u8; 64]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut_slice())
        .map_err(|e| KeyringError::KdfParams(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&out[..32]);
    let check = Sha256::digest(&out[32..]).into();
    Ok(StretchedKeys { key, check })
}

fn cipher(keys: &StretchedKeys) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(keys.key.as_slice().into())
}

fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
