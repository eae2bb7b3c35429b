//! Sign bytes for the two accepted modes and secp256k1 signature verification.

use cosmos_sdk_proto::cosmos::tx::v1beta1::SignDoc;
use k256::ecdsa::signature::Verifier;
use k256::ecdsa::{Signature, VerifyingKey};
use prost::Message;

use crate::address::{address_from_pubkey, check_compressed_key_shape};
use crate::amino::amino_json_sign_bytes;
use crate::error::AuthError;
use crate::tx::{DecodedTx, SignMode};

/// Length of a signature: `r || s`, 32 bytes each, big-endian.
pub const SIGNATURE_LEN: usize = 64;

/// The bytes the transaction's signer signed, by its sign mode: [`direct_sign_bytes`] or
/// [`amino_json_sign_bytes`].
///
/// # Errors
/// [`AuthError::UnsupportedSignMode`] for any other mode (only a simulated transaction can have
/// one), or an error of [`amino_json_sign_bytes`].
pub fn sign_bytes(
    tx: &DecodedTx,
    chain_id: &str,
    account_number: u64,
) -> Result<Vec<u8>, AuthError> {
    match tx.signer_info.sign_mode {
        SignMode::Direct => Ok(direct_sign_bytes(tx, chain_id, account_number)),
        SignMode::LegacyAminoJson => amino_json_sign_bytes(tx, chain_id, account_number),
        mode @ (SignMode::Unspecified | SignMode::Other(_)) => {
            Err(AuthError::UnsupportedSignMode { mode: mode.name() })
        }
    }
}

/// The bytes a `SIGN_MODE_DIRECT` signer signs: the protobuf encoding of
/// `SignDoc{body_bytes, auth_info_bytes, chain_id, account_number}`, with both byte strings
/// exactly as they arrived in the `TxRaw`.
pub fn direct_sign_bytes(tx: &DecodedTx, chain_id: &str, account_number: u64) -> Vec<u8> {
    SignDoc {
        body_bytes: tx.body_bytes.clone(),
        auth_info_bytes: tx.auth_info_bytes.clone(),
        chain_id: chain_id.to_string(),
        account_number,
    }
    .encode_to_vec()
}

/// Verifies the transaction's signature: 64 bytes `r || s`, ECDSA secp256k1 over
/// `sha256(sign_bytes(tx, chain_id, account_number))` (the sign doc of the transaction's sign
/// mode), with `pubkey` a 33-byte compressed key.
///
/// High-S signatures are refused (as the SDK and CometBFT do): for every valid `(r, s)` the pair
/// `(r, n - s)` is valid too, and accepting both would let anyone re-shape a signed transaction
/// into a second one with another hash.
///
/// # Errors
/// [`AuthError::SignatureLength`], [`AuthError::HighS`], [`AuthError::InvalidPubKey`], an error
/// of [`sign_bytes`], or [`AuthError::SignatureInvalid`] (wrong key, chain id, account number, or
/// tampered bytes).
pub fn verify_signature(
    tx: &DecodedTx,
    pubkey: &[u8],
    chain_id: &str,
    account_number: u64,
) -> Result<(), AuthError> {
    if tx.signature.len() != SIGNATURE_LEN {
        return Err(AuthError::SignatureLength {
            len: tx.signature.len(),
        });
    }
    let failed = || AuthError::SignatureInvalid {
        account_number,
        sequence: tx.signer_info.sequence,
        chain_id: crate::error::clip(chain_id, 64),
    };
    // `from_slice` refuses r or s equal to zero or not below the curve order.
    let signature = Signature::from_slice(&tx.signature).map_err(|_| failed())?;
    if signature.normalize_s().is_some() {
        return Err(AuthError::HighS);
    }
    check_compressed_key_shape(pubkey)?;
    let key = VerifyingKey::from_sec1_bytes(pubkey).map_err(|_| AuthError::InvalidPubKey {
        reason: "public key is not a point on secp256k1",
    })?;
    key.verify(&sign_bytes(tx, chain_id, account_number)?, &signature)
        .map_err(|_| failed())
}

/// Checks that `pubkey` belongs to the transaction's signer: the address derived from it must
/// equal the `sender` of every message.
///
/// # Errors
/// [`AuthError::InvalidPubKey`] for a malformed key, [`AuthError::SignerMismatch`] otherwise.
pub fn check_signer(tx: &DecodedTx, pubkey: &[u8]) -> Result<(), AuthError> {
    let pub_key_address = address_from_pubkey(pubkey)?;
    match tx.msgs.iter().find(|m| m.sender() != pub_key_address) {
        Some(msg) => Err(AuthError::SignerMismatch {
            sender: msg.sender().to_string(),
            pub_key_address,
        }),
        None => Ok(()),
    }
}
