//! Cosmos SDK transactions for usagechain, as pure functions.
//!
//! The chain's ABCI application is not the Go SDK, yet must accept the transactions CosmJS, Keplr
//! and cosmrs build for a wasmd chain and answer them with the SDK's codes. This crate holds that
//! surface, with no storage and no I/O:
//!
//! - **addresses** — [`address_from_pubkey`], [`validate_address`], [`humanize`] (also the
//!   CosmWasm host's `addr_validate` / `addr_canonicalize` / `addr_humanize`);
//! - **decoding** (stateless phase) — [`decode_tx`] turns `TxRaw` bytes into a [`DecodedTx`],
//!   keeping `body_bytes` and `auth_info_bytes` verbatim and validating the `cosmwasm.wasm.v1`
//!   messages as wasmd's `ValidateBasic` does; [`decode_tx_for_simulation`] and
//!   [`decode_simulate_request`] do the same for `Simulate`;
//! - **signatures** — [`sign_bytes`] by the signer's mode: [`direct_sign_bytes`] for
//!   `SIGN_MODE_DIRECT` (what CosmJS, cosmrs and Keplr sign by default) and
//!   [`amino_json_sign_bytes`] for `SIGN_MODE_LEGACY_AMINO_JSON` (Ledger, Keplr with a Ledger,
//!   CosmJS amino signers), which the chain rebuilds from the decoded transaction;
//!   [`verify_signature`] (secp256k1, low-S only), [`check_signer`];
//! - **accounts** (stateful phase) — [`check_sequence`], [`check_timeout_height`], and
//!   [`authenticate`], which runs them with the signature check in the SDK ante handler's order;
//! - **queries** — [`decode_account_request`], [`encode_account_response`].
//!
//! Every refusal is an [`AuthError`] whose [`AuthError::abci_code`] is the SDK's (or wasmd's)
//! `(codespace, code)` for the same condition and whose `Display` is the SDK-style `log`.
//!
//! # Limits
//!
//! | limit | value | error (codespace, code) |
//! |---|---|---|
//! | raw tx size | [`MAX_TX_BYTES`] = 1 MiB (CometBFT's default `mempool.max_tx_bytes`) | `TxTooLarge` (sdk, 21) |
//! | messages per tx | [`MAX_MESSAGES`] = 64 | `TooManyMessages` (sdk, 18) |
//! | memo | [`MAX_MEMO_BYTES`] = 256 bytes (SDK default `MaxMemoCharacters`) | `MemoTooLarge` (sdk, 12) |
//! | signers / signatures | exactly 1 | (sdk, 4), (sdk, 14), (sdk, 15) |
//! | gas limit | 1 ..= 2^63-1 (SDK `MaxGasWanted`) | (sdk, 41), (sdk, 18) |
//! | wasm code | [`MAX_WASM_CODE_BYTES`] = 800 KiB (wasmd `MaxWasmSize`) | (sdk, 18) |
//! | contract label | [`MAX_LABEL_BYTES`] = 128 (wasmd `MaxLabelSize`) | (wasm, 13) |
//! | instantiate2 salt | [`MAX_SALT_BYTES`] = 64 (wasmd `MaxSaltSize`) | (wasm, 13) |
//! | address text | [`MAX_ADDRESS_CHARS`] = 128; 20 or 32 bytes decoded | (sdk, 7) |
//!
//! | contract JSON nesting in an amino JSON sign doc | [`MAX_JSON_DEPTH`] = 128 | (sdk, 4) |
//!
//! Contract JSON messages have no limit of their own beyond the transaction size.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod account;
mod address;
mod amino;
mod error;
mod msg;
mod sign;
mod tx;
mod wire;

pub use account::{
    authenticate, authenticate_for_simulation, base_account_any, check_sequence,
    check_timeout_height, decode_account_request, encode_account_response, pub_key_any, Account,
    Authenticated, BASE_ACCOUNT_TYPE_URL,
};
pub use address::{
    address_from_pubkey, humanize, validate_address, AddressError, ACCOUNT_ADDRESS_LEN,
    COMPRESSED_PUB_KEY_LEN, CONTRACT_ADDRESS_LEN, MAX_ADDRESS_CHARS, PREFIX,
};
pub use amino::{amino_json_sign_bytes, AminoJsonError, MAX_JSON_DEPTH};
pub use error::{sdk, wasm, AuthError, CoinError};
pub use msg::{
    decode_msg, is_valid_denom, Coin, InstantiatePermission, Msg, MSG_CLEAR_ADMIN,
    MSG_EXECUTE_CONTRACT, MSG_INSTANTIATE_CONTRACT, MSG_INSTANTIATE_CONTRACT2,
    MSG_MIGRATE_CONTRACT, MSG_STORE_CODE, MSG_UPDATE_ADMIN,
};
pub use sign::{check_signer, direct_sign_bytes, sign_bytes, verify_signature, SIGNATURE_LEN};
pub use tx::{
    decode_simulate_request, decode_tx, decode_tx_for_simulation, DecodedTx, Fee, SignMode,
    SignerInfo, SECP256K1_PUB_KEY_TYPE_URL,
};

/// Largest raw transaction accepted, in bytes: CometBFT's default `mempool.max_tx_bytes`
/// (1 MiB), which also bounds everything inside a transaction.
pub const MAX_TX_BYTES: usize = 1024 * 1024;

/// Most messages in one transaction.
pub const MAX_MESSAGES: usize = 64;

/// Longest memo, in bytes (the SDK's default `MaxMemoCharacters`, which it also counts in bytes).
pub const MAX_MEMO_BYTES: usize = 256;

/// Largest `fee.gas_limit`: the SDK's `MaxGasWanted`, `2^63 - 1`.
pub const MAX_GAS_WANTED: u64 = (1 << 63) - 1;

/// Largest wasm byte code in a store-code message (wasmd's `MaxWasmSize`, 800 KiB).
pub const MAX_WASM_CODE_BYTES: usize = 800 * 1024;

/// Longest contract label, in bytes (wasmd's `MaxLabelSize`).
pub const MAX_LABEL_BYTES: usize = 128;

/// Longest instantiate2 salt, in bytes (wasmd's `MaxSaltSize`).
pub const MAX_SALT_BYTES: usize = 64;

/// The transaction hash CometBFT indexes (`tx.hash`): SHA-256 of the raw bytes.
pub fn tx_hash(raw: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(raw).into()
}
