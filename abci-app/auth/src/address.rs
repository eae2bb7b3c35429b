//! Bech32 addresses with the chain's prefix: accounts (20 bytes) and contracts (32 bytes).
//!
//! These are the functions behind the CosmWasm host API: `addr_validate` and `addr_canonicalize`
//! call [`validate_address`], `addr_humanize` calls [`humanize`]. Only the canonical form of an
//! address is accepted (lower case, our prefix, a Bech32 — not Bech32m — checksum, zero padding
//! bits), so every account and contract has exactly one valid text form, as wasmd's
//! `addr_validate` demands ("address not normalized").

use bech32::{primitives::decode::CheckedHrpstring, Bech32, Hrp};
use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

use crate::error::{clip, AuthError};

/// Bech32 prefix (human-readable part) of every address on this chain.
pub const PREFIX: &str = "usage";

/// Length of an account address: `ripemd160(sha256(compressed secp256k1 key))`.
pub const ACCOUNT_ADDRESS_LEN: usize = 20;

/// Length of a contract address (wasmd's module-account style address).
pub const CONTRACT_ADDRESS_LEN: usize = 32;

/// Longest address text looked at; a 32-byte address with our prefix is 64 characters.
pub const MAX_ADDRESS_CHARS: usize = 128;

/// Length of a compressed secp256k1 public key.
pub const COMPRESSED_PUB_KEY_LEN: usize = 33;

const HRP: Hrp = Hrp::parse_unchecked(PREFIX);

/// What is wrong with an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The address is empty.
    #[error("empty address string is not allowed")]
    Empty,
    /// The address is longer than [`MAX_ADDRESS_CHARS`].
    #[error("address is {len} characters long, the limit is {MAX_ADDRESS_CHARS}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The address has upper-case letters (only the lower-case form is canonical).
    #[error("address must be lower case")]
    NotLowerCase,
    /// Not Bech32 (bad characters, no separator, or a wrong checksum).
    #[error("decoding bech32 failed")]
    Bech32,
    /// The prefix is not [`PREFIX`].
    #[error("invalid Bech32 prefix; expected {PREFIX}, got {found}")]
    WrongPrefix {
        /// The prefix found (cut to 32 characters).
        found: String,
    },
    /// The decoded address is neither 20 nor 32 bytes long.
    #[error("address must be 20 or 32 bytes, got {len}")]
    WrongLength {
        /// The decoded length.
        len: usize,
    },
    /// The text decodes, but is not the canonical encoding of its bytes (non-zero padding bits).
    #[error("address is not normalized")]
    NotNormalized,
}

impl AddressError {
    fn at(self, field: &'static str) -> AuthError {
        AuthError::InvalidAddress {
            field,
            reason: self,
        }
    }
}

/// Derives the account address of a compressed secp256k1 public key:
/// `bech32("usage", ripemd160(sha256(pubkey)))`, as the SDK's `secp256k1.PubKey.Address()`.
///
/// # Errors
/// [`AuthError::InvalidPubKey`] unless the key is 33 bytes starting with `0x02` or `0x03`.
pub fn address_from_pubkey(compressed_secp256k1: &[u8]) -> Result<String, AuthError> {
    check_compressed_key_shape(compressed_secp256k1)?;
    let sha = Sha256::digest(compressed_secp256k1);
    let hash = Ripemd160::digest(sha);
    humanize(&hash)
}

/// Validates an address and returns its canonical bytes (20 bytes for an account, 32 for a
/// contract). This is CosmWasm's `addr_canonicalize`; `addr_validate` is the same check.
///
/// # Errors
/// [`AuthError::InvalidAddress`] (field `address`) for an empty, too long, non-lower-case or
/// non-Bech32 text, a wrong checksum, another prefix, a length other than 20 or 32 bytes, or a
/// non-canonical encoding.
pub fn validate_address(address: &str) -> Result<Vec<u8>, AuthError> {
    validate_address_field(address, "address")
}

/// [`validate_address`] reporting `field` as the offending field in the error.
pub(crate) fn validate_address_field(
    address: &str,
    field: &'static str,
) -> Result<Vec<u8>, AuthError> {
    if address.is_empty() {
        return Err(AddressError::Empty.at(field));
    }
    if address.len() > MAX_ADDRESS_CHARS {
        return Err(AddressError::TooLong { len: address.len() }.at(field));
    }
    if address.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(AddressError::NotLowerCase.at(field));
    }
    let checked =
        CheckedHrpstring::new::<Bech32>(address).map_err(|_| AddressError::Bech32.at(field))?;
    if checked.hrp() != HRP {
        return Err(AddressError::WrongPrefix {
            found: clip(checked.hrp().as_str(), 32),
        }
        .at(field));
    }
    let bytes: Vec<u8> = checked.byte_iter().collect();
    check_address_len(bytes.len()).map_err(|e| e.at(field))?;
    if humanize(&bytes)? != address {
        return Err(AddressError::NotNormalized.at(field));
    }
    Ok(bytes)
}

/// Encodes canonical address bytes (20 or 32) as a Bech32 address with [`PREFIX`]. This is
/// CosmWasm's `addr_humanize`.
///
/// # Errors
/// [`AuthError::InvalidAddress`] unless `canonical` is 20 or 32 bytes long.
pub fn humanize(canonical: &[u8]) -> Result<String, AuthError> {
    check_address_len(canonical.len()).map_err(|e| e.at("address"))?;
    bech32::encode::<Bech32>(HRP, canonical).map_err(|_| AddressError::Bech32.at("address"))
}

fn check_address_len(len: usize) -> Result<(), AddressError> {
    if len == ACCOUNT_ADDRESS_LEN || len == CONTRACT_ADDRESS_LEN {
        Ok(())
    } else {
        Err(AddressError::WrongLength { len })
    }
}

/// Checks length and prefix byte of a compressed secp256k1 key (not that it is on the curve).
pub(crate) fn check_compressed_key_shape(key: &[u8]) -> Result<(), AuthError> {
    match key {
        [0x02 | 0x03, rest @ ..] if rest.len() == COMPRESSED_PUB_KEY_LEN - 1 => Ok(()),
        _ if key.len() != COMPRESSED_PUB_KEY_LEN => Err(AuthError::InvalidPubKey {
            reason: "secp256k1 public key must be 33 bytes (compressed)",
        }),
        _ => Err(AuthError::InvalidPubKey {
            reason: "compressed secp256k1 public key must start with 0x02 or 0x03",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(err: AuthError) -> AddressError {
        match err {
            AuthError::InvalidAddress { reason, .. } => reason,
            other => panic!("expected an address error, got {other:?}"),
        }
    }

    #[test]
    fn an_account_address_round_trips_through_canonical_bytes() {
        let bytes = [7u8; 20];
        let text = humanize(&bytes).unwrap();
        assert!(text.starts_with("usage1"));
        assert_eq!(validate_address(&text).unwrap(), bytes);
    }

    #[test]
    fn a_contract_address_round_trips_through_canonical_bytes() {
        let bytes: Vec<u8> = (0u8..32).collect();
        let text = humanize(&bytes).unwrap();
        assert_eq!(validate_address(&text).unwrap(), bytes);
    }

    #[test]
    fn other_lengths_cannot_be_humanized() {
        for len in [0usize, 1, 19, 21, 31, 33, 64] {
            let err = humanize(&vec![1u8; len]).unwrap_err();
            assert_eq!(reason(err), AddressError::WrongLength { len });
        }
    }

    #[test]
    fn an_address_with_another_prefix_is_refused() {
        let cosmos = bech32::encode::<Bech32>(Hrp::parse("cosmos").unwrap(), &[1u8; 20]).unwrap();
        assert_eq!(
            reason(validate_address(&cosmos).unwrap_err()),
            AddressError::WrongPrefix {
                found: "cosmos".into()
            }
        );
    }

    #[test]
    fn mixed_case_and_upper_case_addresses_are_refused() {
        let text = humanize(&[9u8; 20]).unwrap();
        let upper = text.to_uppercase();
        let mut mixed = text.clone();
        mixed.replace_range(0..1, "U");
        assert_eq!(
            reason(validate_address(&upper).unwrap_err()),
            AddressError::NotLowerCase
        );
        assert_eq!(
            reason(validate_address(&mixed).unwrap_err()),
            AddressError::NotLowerCase
        );
    }

    #[test]
    fn a_wrong_checksum_is_refused() {
        let text = humanize(&[3u8; 20]).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'q' { 'p' } else { 'q' };
        let broken: String = chars.into_iter().collect();
        assert_eq!(
            reason(validate_address(&broken).unwrap_err()),
            AddressError::Bech32
        );
    }

    #[test]
    fn a_bech32m_checksum_is_refused() {
        let text = bech32::encode::<bech32::Bech32m>(HRP, &[3u8; 20]).unwrap();
        assert_eq!(
            reason(validate_address(&text).unwrap_err()),
            AddressError::Bech32
        );
    }

    #[test]
    fn wrong_lengths_empty_and_oversized_texts_are_refused() {
        let short = bech32::encode::<Bech32>(HRP, &[3u8; 19]).unwrap();
        assert_eq!(
            reason(validate_address(&short).unwrap_err()),
            AddressError::WrongLength { len: 19 }
        );
        assert_eq!(
            reason(validate_address("").unwrap_err()),
            AddressError::Empty
        );
        let long = "usage1".to_string() + &"q".repeat(200);
        assert_eq!(
            reason(validate_address(&long).unwrap_err()),
            AddressError::TooLong { len: 206 }
        );
    }

    #[test]
    fn non_zero_padding_bits_are_refused() {
        use bech32::{Fe32, Fe32IterExt};
        // 20 bytes are 160 bits: 32 five-bit groups, exactly. 21 bytes leave 2 padding bits in
        // the last group; 32 bytes leave 4. Setting a padding bit of a 32-byte address gives a
        // string with a valid checksum that decodes to the same bytes but is not canonical.
        let canonical = humanize(&[0u8; 32]).unwrap();
        let data_part = &canonical[PREFIX.len() + 1..canonical.len() - 6];
        assert_eq!(data_part.len(), 52);
        let mut fes: Vec<Fe32> = data_part
            .chars()
            .map(|c| Fe32::from_char(c).unwrap())
            .collect();
        fes[51] = Fe32::P; // value 1: a padding bit set
        let tweaked: String = fes
            .into_iter()
            .with_checksum::<Bech32>(&HRP)
            .chars()
            .collect();
        assert_eq!(
            reason(validate_address(&tweaked).unwrap_err()),
            AddressError::NotNormalized
        );
    }

    #[test]
    fn a_pubkey_of_the_wrong_shape_has_no_address() {
        assert!(matches!(
            address_from_pubkey(&[2u8; 32]),
            Err(AuthError::InvalidPubKey { .. })
        ));
        assert!(matches!(
            address_from_pubkey(&[4u8; 33]),
            Err(AuthError::InvalidPubKey { .. })
        ));
    }
}
