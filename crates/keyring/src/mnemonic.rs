//! BIP39 mnemonics and the account key they give on the Cosmos HD path.

use std::fmt;
use std::str::FromStr;

use cosmrs::bip32::{DerivationPath, XPrv};
use zeroize::Zeroizing;

use crate::{KeyringError, MnemonicError};

/// The derivation path of every account: BIP44, Cosmos coin type 118, account 0, the first
/// external address, as `gaiad keys add` and CosmJS's `makeCosmoshubPath(0)`.
pub const HD_PATH: &str = "m/44'/118'/0'/0/0";

/// Words of a mnemonic made by [`crate::Keyring::add`] (256 bits of entropy).
pub const NEW_MNEMONIC_WORDS: usize = 24;

/// A BIP39 mnemonic (English word list), wiped when dropped, shown as `Mnemonic(N words)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Mnemonic(bip39::Mnemonic);

impl Mnemonic {
    /// Parses a phrase of 12, 15, 18, 21 or 24 words of the English BIP39 list, separated by
    /// any white space, in any letter case.
    ///
    /// # Errors
    /// [`KeyringError::InvalidMnemonic`]: an unknown word (its position, never the word, is
    /// reported), another number of words, or a wrong checksum.
    pub fn parse(phrase: &str) -> Result<Self, KeyringError> {
        let lower = Zeroizing::new(phrase.to_lowercase());
        let words = lower.split_whitespace().count();
        bip39::Mnemonic::parse_in(bip39::Language::English, lower.as_str())
            .map(Mnemonic)
            .map_err(|e| {
                KeyringError::InvalidMnemonic(match e {
                    bip39::Error::UnknownWord(index) => MnemonicError::UnknownWord {
                        position: index + 1,
                    },
                    bip39::Error::InvalidChecksum => MnemonicError::BadChecksum,
                    _ => MnemonicError::BadWordCount { words },
                })
            })
    }

    /// A new 24-word mnemonic from 256 bits of the operating system's randomness.
    pub(crate) fn generate() -> Result<Self, KeyringError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(entropy.as_mut_slice()).map_err(KeyringError::Randomness)?;
        bip39::Mnemonic::from_entropy_in(bip39::Language::English, entropy.as_slice())
            .map(Mnemonic)
            .map_err(|_| KeyringError::InvalidMnemonic(MnemonicError::BadWordCount { words: 0 }))
    }

    /// The words, separated by single spaces.
    pub fn phrase(&self) -> Zeroizing<String> {
        let mut phrase = Zeroizing::new(String::with_capacity(24 * 9));
        for (i, word) in self.0.words().enumerate() {
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
        }
        phrase
    }

    /// The number of words.
    pub fn word_count(&self) -> usize {
        self.0.word_count()
    }

    /// The account key of this mnemonic with `bip39_passphrase` (the optional "25th word";
    /// empty for none) on [`HD_PATH`].
    pub fn derive(&self, bip39_passphrase: &str) -> Result<DerivedKey, KeyringError> {
        let seed = Zeroizing::new(self.0.to_seed(bip39_passphrase));
        let path = DerivationPath::from_str(HD_PATH).map_err(derivation)?;
        let xprv = XPrv::derive_from_path(seed.as_slice(), &path).map_err(derivation)?;
        let secret = Zeroizing::new(xprv.to_bytes());
        let public_key = xprv.public_key().to_bytes();
        let address = usaged_auth::address_from_pubkey(&public_key).map_err(derivation)?;
        Ok(DerivedKey {
            secret,
            public_key,
            address,
        })
    }
}

fn derivation(e: impl fmt::Display) -> KeyringError {
    KeyringError::Derivation(e.to_string())
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mnemonic({} words)", self.word_count())
    }
}

/// An account key: the secp256k1 secret, its compressed public key and its `usage1…`
/// address. The secret is wiped when dropped and never shown by `Debug`.
#[derive(Clone)]
pub struct DerivedKey {
    secret: Zeroizing<[u8; 32]>,
    public_key: [u8; 33],
    address: String,
}

impl DerivedKey {
    /// The secp256k1 secret key, for `ChainClient::with_key`.
    pub fn secret(&self) -> &Zeroizing<[u8; 32]> {
        &self.secret
    }

    /// The compressed (33-byte) secp256k1 public key.
    pub fn public_key(&self) -> &[u8; 33] {
        &self.public_key
    }

    /// The account address, `bech32("usage", ripemd160(sha256(public key)))`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKey")
            .field("address", &self.address)
            .field("public_key", &hex::encode(self.public_key))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmrs::bip32::Prefix;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn the_bip39_and_bip32_reference_vector_holds() {
        // trezor/python-mnemonic vectors.json, the first English vector (passphrase "TREZOR").
        let mnemonic = Mnemonic::parse(ABANDON).unwrap();
        let seed = mnemonic.0.to_seed("TREZOR");
        assert_eq!(
            hex::encode(seed),
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e5349553\
             1f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
        );
        let master = XPrv::new(seed).unwrap();
        assert_eq!(
            master.to_string(Prefix::XPRV).as_str(),
            "xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF"
        );
    }

    #[test]
    fn a_phrase_is_normalised_and_never_shown() {
        let mnemonic = Mnemonic::parse(&format!("  {}\n", ABANDON.to_uppercase())).unwrap();
        assert_eq!(mnemonic.phrase().as_str(), ABANDON);
        assert_eq!(mnemonic.word_count(), 12);
        assert_eq!(format!("{mnemonic:?}"), "Mnemonic(12 words)");
        let key = mnemonic.derive("").unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.address()));
        assert!(!shown.contains(&hex::encode(key.secret().as_slice())));
    }

    #[test]
    fn generated_mnemonics_have_24_words_and_differ() {
        let a = Mnemonic::generate().unwrap();
        let b = Mnemonic::generate().unwrap();
        assert_eq!(a.word_count(), NEW_MNEMONIC_WORDS);
        assert_eq!(a.phrase().split(' ').count(), NEW_MNEMONIC_WORDS);
        assert_ne!(a, b);
        // A generated phrase parses back to itself.
        assert_eq!(Mnemonic::parse(&a.phrase()).unwrap(), a);
    }

    #[test]
    fn the_bip39_passphrase_changes_the_key() {
        let mnemonic = Mnemonic::parse(ABANDON).unwrap();
        let plain = mnemonic.derive("").unwrap();
        let with = mnemonic.derive("TREZOR").unwrap();
        assert_ne!(plain.address(), with.address());
        assert_ne!(plain.secret().as_slice(), with.secret().as_slice());
    }
}
