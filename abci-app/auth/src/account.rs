//! Accounts: sequence and timeout checks, the full authentication of a transaction against an
//! account, and the `/cosmos.auth.v1beta1.Query/Account` encoding.

use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::Any;
use prost::Message;

use crate::address::{validate_address, MAX_ADDRESS_CHARS};
use crate::error::AuthError;
use crate::sign::{check_signer, verify_signature};
use crate::tx::{DecodedTx, SECP256K1_PUB_KEY_TYPE_URL};

/// Type URL of the account in a `QueryAccountResponse`.
pub const BASE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";

/// The auth state of one account, as the application stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Bech32 address (20-byte account address).
    pub address: String,
    /// Number assigned when the account was first seen; part of the sign bytes.
    pub account_number: u64,
    /// Number of transactions the account has had included (the next expected sequence).
    pub sequence: u64,
    /// 33-byte compressed secp256k1 key, once the account has signed a transaction.
    pub pub_key: Option<Vec<u8>>,
}

impl Account {
    /// A fresh account: sequence 0, no known public key.
    pub fn new(address: impl Into<String>, account_number: u64) -> Self {
        Account {
            address: address.into(),
            account_number,
            sequence: 0,
            pub_key: None,
        }
    }

    /// Advances the sequence by one, after a transaction passed [`authenticate`] (before its
    /// messages run, so the bump sticks when a contract fails).
    ///
    /// # Errors
    /// [`AuthError::SequenceOverflow`] at `u64::MAX`.
    pub fn increment_sequence(&mut self) -> Result<(), AuthError> {
        self.sequence = self
            .sequence
            .checked_add(1)
            .ok_or(AuthError::SequenceOverflow {
                sequence: self.sequence,
            })?;
        Ok(())
    }
}

/// The transaction's sequence must be the account's sequence.
///
/// In `CheckTx` pass an account whose `sequence` already counts the account's transactions
/// waiting in the mempool, so that one account can queue several.
///
/// # Errors
/// [`AuthError::WrongSequence`]: `sdk` code 32, log `account sequence mismatch, expected X, got
/// Y: incorrect account sequence` (the SDK's `ErrWrongSequence` as wrapped by its
/// `SigVerificationDecorator`).
pub fn check_sequence(account: &Account, tx_sequence: u64) -> Result<(), AuthError> {
    if tx_sequence == account.sequence {
        Ok(())
    } else {
        Err(AuthError::WrongSequence {
            expected: account.sequence,
            got: tx_sequence,
        })
    }
}

/// A transaction with a non-zero `timeout_height` is refused in blocks above that height.
///
/// # Errors
/// [`AuthError::TimeoutHeight`]: `sdk` code 30, log `block height: H, timeout height: T: tx
/// timeout height` (the SDK's `TxTimeoutHeightDecorator`).
pub fn check_timeout_height(tx: &DecodedTx, block_height: u64) -> Result<(), AuthError> {
    if tx.timeout_height != 0 && block_height > tx.timeout_height {
        Err(AuthError::TimeoutHeight {
            height: block_height,
            timeout_height: tx.timeout_height,
        })
    } else {
        Ok(())
    }
}

/// What [`authenticate`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The signer's address (equal to the account's).
    pub signer: String,
    /// The public key that verified the signature.
    pub pub_key: Vec<u8>,
    /// `true` when the account had no key yet: the application must store `pub_key` on it.
    pub pub_key_is_new: bool,
}

/// Runs the stateful checks of the SDK's ante handler, in its order, for a transaction from
/// [`crate::decode_tx`] against the signer's account:
/// timeout height, public key (from the tx or the account; its address must be the signer's),
/// sequence, signature.
///
/// On success the caller stores `pub_key` if `pub_key_is_new`, then calls
/// [`Account::increment_sequence`] and saves the account before running the messages.
///
/// # Errors
/// [`AuthError::TimeoutHeight`], [`AuthError::AccountIsNotSigner`], [`AuthError::PubKeyUnknown`],
/// [`AuthError::PubKeyChanged`], [`AuthError::SignerMismatch`], [`AuthError::WrongSequence`], or a
/// signature error of [`verify_signature`].
pub fn authenticate(
    tx: &DecodedTx,
    account: &Account,
    chain_id: &str,
    block_height: u64,
) -> Result<Authenticated, AuthError> {
    check_timeout_height(tx, block_height)?;
    let (pub_key, pub_key_is_new) = resolve_pub_key(tx, account)?;
    check_signer(tx, &pub_key)?;
    check_sequence(account, tx.signer_info.sequence)?;
    verify_signature(tx, &pub_key, chain_id, account.account_number)?;
    Ok(Authenticated {
        signer: tx.signer.clone(),
        pub_key,
        pub_key_is_new,
    })
}

/// The checks of [`authenticate`] that apply to a simulation (from
/// [`crate::decode_tx_for_simulation`]): timeout height, signer, sequence. No signature is
/// checked and the public key may be unknown, as in the SDK's simulate mode. Returns the signer.
///
/// # Errors
/// [`AuthError::TimeoutHeight`], [`AuthError::AccountIsNotSigner`], [`AuthError::WrongSequence`].
pub fn authenticate_for_simulation(
    tx: &DecodedTx,
    account: &Account,
    block_height: u64,
) -> Result<String, AuthError> {
    check_timeout_height(tx, block_height)?;
    check_account_is_signer(tx, account)?;
    check_sequence(account, tx.signer_info.sequence)?;
    Ok(tx.signer.clone())
}

fn check_account_is_signer(tx: &DecodedTx, account: &Account) -> Result<(), AuthError> {
    if account.address == tx.signer {
        Ok(())
    } else {
        Err(AuthError::AccountIsNotSigner {
            account: account.address.clone(),
            signer: tx.signer.clone(),
        })
    }
}

fn resolve_pub_key(tx: &DecodedTx, account: &Account) -> Result<(Vec<u8>, bool), AuthError> {
    check_account_is_signer(tx, account)?;
    match (&tx.signer_info.pub_key, &account.pub_key) {
        (None, None) => Err(AuthError::PubKeyUnknown),
        (None, Some(stored)) => Ok((stored.clone(), false)),
        (Some(given), None) => Ok((given.clone(), true)),
        (Some(given), Some(stored)) if given == stored => Ok((stored.clone(), false)),
        (Some(_), Some(_)) => Err(AuthError::PubKeyChanged {
            address: account.address.clone(),
        }),
    }
}

/// `Any("/cosmos.crypto.secp256k1.PubKey", PubKey{key})`.
pub fn pub_key_any(compressed_secp256k1: &[u8]) -> Any {
    Any {
        type_url: SECP256K1_PUB_KEY_TYPE_URL.to_string(),
        value: PubKey {
            key: compressed_secp256k1.to_vec(),
        }
        .encode_to_vec(),
    }
}

/// The account as `Any("/cosmos.auth.v1beta1.BaseAccount", BaseAccount{..})`. `pub_key` is
/// omitted (not an empty `Any`) while unknown: CosmJS decodes a present `pub_key` and fails on an
/// empty one.
pub fn base_account_any(account: &Account) -> Any {
    Any {
        type_url: BASE_ACCOUNT_TYPE_URL.to_string(),
        value: BaseAccount {
            address: account.address.clone(),
            pub_key: account.pub_key.as_deref().map(pub_key_any),
            account_number: account.account_number,
            sequence: account.sequence,
        }
        .encode_to_vec(),
    }
}

/// The `value` of the answer to the ABCI query `/cosmos.auth.v1beta1.Query/Account`:
/// `QueryAccountResponse{account: Some(base_account_any(account))}`.
pub fn encode_account_response(account: &Account) -> Vec<u8> {
    QueryAccountResponse {
        account: Some(base_account_any(account)),
    }
    .encode_to_vec()
}

/// Decodes the `data` of the ABCI query `/cosmos.auth.v1beta1.Query/Account` and validates the
/// address. Answer every valid address with an account (a fresh one if never seen): CosmJS
/// refuses to sign for an account it cannot find.
///
/// # Errors
/// [`AuthError::Decode`] for bytes that are not a `QueryAccountRequest`, else as
/// [`validate_address`].
pub fn decode_account_request(data: &[u8]) -> Result<String, AuthError> {
    if data.len() > MAX_ADDRESS_CHARS.saturating_mul(2) {
        return Err(AuthError::Decode {
            what: "cosmos.auth.v1beta1.QueryAccountRequest",
            reason: "request too long".into(),
        });
    }
    let request = QueryAccountRequest::decode(data).map_err(|e| AuthError::Decode {
        what: "cosmos.auth.v1beta1.QueryAccountRequest",
        reason: e.to_string(),
    })?;
    validate_address(&request.address)?;
    Ok(request.address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::humanize;

    #[test]
    fn a_sequence_mismatch_answers_sdk_code_32_with_the_sdk_log() {
        let account = Account {
            sequence: 5,
            ..Account::new(humanize(&[1; 20]).unwrap(), 3)
        };
        assert!(check_sequence(&account, 5).is_ok());
        let err = check_sequence(&account, 4).unwrap_err();
        assert_eq!(err.abci_code(), ("sdk", 32));
        assert_eq!(
            err.log(),
            "account sequence mismatch, expected 5, got 4: incorrect account sequence"
        );
    }

    #[test]
    fn the_sequence_cannot_wrap_around() {
        let mut account = Account {
            sequence: u64::MAX,
            ..Account::new(humanize(&[1; 20]).unwrap(), 3)
        };
        assert_eq!(
            account.increment_sequence(),
            Err(AuthError::SequenceOverflow { sequence: u64::MAX })
        );
        assert_eq!(account.sequence, u64::MAX);
    }

    #[test]
    fn an_account_request_with_a_bad_address_is_refused() {
        let data = QueryAccountRequest {
            address: "usage1notanaddress".into(),
        }
        .encode_to_vec();
        assert!(matches!(
            decode_account_request(&data),
            Err(AuthError::InvalidAddress { .. })
        ));
        let good = humanize(&[1; 20]).unwrap();
        let data = QueryAccountRequest {
            address: good.clone(),
        }
        .encode_to_vec();
        assert_eq!(decode_account_request(&data).unwrap(), good);
    }
}
