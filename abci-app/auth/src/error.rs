//! The typed error of this crate and the ABCI `(codespace, code)` each variant answers with.
//!
//! Every [`AuthError`] is the *transaction's* fault: the application answers it with a non-zero
//! code in `CheckTx`/`FinalizeBlock` and never halts on it. Nothing in this crate fails because of
//! the node itself (there is no storage and no I/O here).
//!
//! The `Display` text of each variant is the `log` the application should return. It follows the
//! Go SDK's `errorsmod.Wrap` shape, `"<detail>: <root error description>"`, so that tools which
//! parse wasmd logs (CosmJS, Keplr, relayers that match `account sequence mismatch, expected X,
//! got Y: incorrect account sequence`) see the same text.

use crate::address::AddressError;
use crate::amino::AminoJsonError;

/// Root error codes of the Cosmos SDK, codespace [`sdk::CODESPACE`].
///
/// Source: `types/errors/errors.go` of cosmos-sdk v0.50 (the release wasmd 0.54 builds on; the
/// codes are append-only and have not changed since they were introduced). Only the codes this
/// crate or the application is expected to return are listed.
pub mod sdk {
    /// Codespace of the SDK's root errors.
    pub const CODESPACE: &str = "sdk";
    /// `ErrTxDecode`, "tx parse error".
    pub const ERR_TX_DECODE: u32 = 2;
    /// `ErrInvalidSequence`, "invalid sequence".
    pub const ERR_INVALID_SEQUENCE: u32 = 3;
    /// `ErrUnauthorized`, "unauthorized".
    pub const ERR_UNAUTHORIZED: u32 = 4;
    /// `ErrInsufficientFunds`, "insufficient funds".
    pub const ERR_INSUFFICIENT_FUNDS: u32 = 5;
    /// `ErrUnknownRequest`, "unknown request".
    pub const ERR_UNKNOWN_REQUEST: u32 = 6;
    /// `ErrInvalidAddress`, "invalid address".
    pub const ERR_INVALID_ADDRESS: u32 = 7;
    /// `ErrInvalidPubKey`, "invalid pubkey".
    pub const ERR_INVALID_PUB_KEY: u32 = 8;
    /// `ErrUnknownAddress`, "unknown address".
    pub const ERR_UNKNOWN_ADDRESS: u32 = 9;
    /// `ErrInvalidCoins`, "invalid coins".
    pub const ERR_INVALID_COINS: u32 = 10;
    /// `ErrOutOfGas`, "out of gas".
    pub const ERR_OUT_OF_GAS: u32 = 11;
    /// `ErrMemoTooLarge`, "memo too large".
    pub const ERR_MEMO_TOO_LARGE: u32 = 12;
    /// `ErrInsufficientFee`, "insufficient fee".
    pub const ERR_INSUFFICIENT_FEE: u32 = 13;
    /// `ErrTooManySignatures`, "maximum number of signatures exceeded".
    pub const ERR_TOO_MANY_SIGNATURES: u32 = 14;
    /// `ErrNoSignatures`, "no signatures supplied".
    pub const ERR_NO_SIGNATURES: u32 = 15;
    /// `ErrInvalidRequest`, "invalid request".
    pub const ERR_INVALID_REQUEST: u32 = 18;
    /// `ErrTxInMempoolCache`, "tx already in mempool".
    pub const ERR_TX_IN_MEMPOOL_CACHE: u32 = 19;
    /// `ErrTxTooLarge`, "tx too large".
    pub const ERR_TX_TOO_LARGE: u32 = 21;
    /// `ErrInvalidHeight`, "invalid height".
    pub const ERR_INVALID_HEIGHT: u32 = 26;
    /// `ErrInvalidChainID`, "invalid chain-id".
    pub const ERR_INVALID_CHAIN_ID: u32 = 28;
    /// `ErrTxTimeoutHeight`, "tx timeout height".
    pub const ERR_TX_TIMEOUT_HEIGHT: u32 = 30;
    /// `ErrUnknownExtensionOptions`, "unknown extension options".
    pub const ERR_UNKNOWN_EXTENSION_OPTIONS: u32 = 31;
    /// `ErrWrongSequence`, "incorrect account sequence".
    pub const ERR_WRONG_SEQUENCE: u32 = 32;
    /// `ErrNotSupported`, "feature not supported".
    pub const ERR_NOT_SUPPORTED: u32 = 37;
    /// `ErrNotFound`, "not found".
    pub const ERR_NOT_FOUND: u32 = 38;
    /// `ErrInvalidGasLimit`, "invalid gas limit".
    pub const ERR_INVALID_GAS_LIMIT: u32 = 41;
}

/// Error codes of wasmd's `x/wasm` module, codespace [`wasm::CODESPACE`].
///
/// Source: `x/wasm/types/errors.go` of wasmd (0.5x).
pub mod wasm {
    /// Codespace of the wasm module.
    pub const CODESPACE: &str = "wasm";
    /// `ErrCreateFailed`, "create wasm contract failed".
    pub const ERR_CREATE_FAILED: u32 = 2;
    /// `ErrInstantiateFailed`, "instantiate wasm contract failed".
    pub const ERR_INSTANTIATE_FAILED: u32 = 4;
    /// `ErrExecuteFailed`, "execute wasm contract failed".
    pub const ERR_EXECUTE_FAILED: u32 = 5;
    /// `ErrGasLimit`, "insufficient gas".
    pub const ERR_GAS_LIMIT: u32 = 6;
    /// `ErrNotFound`, "not found".
    pub const ERR_NOT_FOUND: u32 = 8;
    /// `ErrQueryFailed`, "query wasm contract failed".
    pub const ERR_QUERY_FAILED: u32 = 9;
    /// `ErrMigrationFailed`, "migrate wasm contract failed".
    pub const ERR_MIGRATION_FAILED: u32 = 11;
    /// `ErrEmpty`, "empty".
    pub const ERR_EMPTY: u32 = 12;
    /// `ErrLimit`, "exceeds limit".
    pub const ERR_LIMIT: u32 = 13;
    /// `ErrInvalid`, "invalid".
    pub const ERR_INVALID: u32 = 14;
    /// `ErrDuplicate`, "duplicate".
    pub const ERR_DUPLICATE: u32 = 15;
    /// `ErrInvalidEvent`, "invalid event".
    pub const ERR_INVALID_EVENT: u32 = 21;
}

/// Why a transaction, an address or a query was refused.
///
/// See [`AuthError::abci_code`] for the `(codespace, code)` pair of each variant; the `Display`
/// text is the ABCI `log`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    // ----- size limits --------------------------------------------------------------------------
    /// The raw transaction is longer than [`crate::MAX_TX_BYTES`].
    #[error("tx is {size} bytes, the limit is {max}: tx too large")]
    TxTooLarge {
        /// Length of the raw transaction.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The body carries more than [`crate::MAX_MESSAGES`] messages.
    #[error("tx has {count} messages, the limit is {max}: invalid request")]
    TooManyMessages {
        /// Number of messages in the body.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The memo is longer than [`crate::MAX_MEMO_BYTES`] (the SDK counts bytes, too).
    #[error("maximum number of characters is {max} but received {len} characters: memo too large")]
    MemoTooLarge {
        /// Length of the memo in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    // ----- protobuf structure -------------------------------------------------------------------
    /// A protobuf message could not be decoded.
    #[error("failed to decode {what}: {reason}: tx parse error")]
    Decode {
        /// Which message failed (`TxRaw`, `TxBody`, `MsgExecuteContract`, ...).
        what: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// The tx bytes are not the canonical encoding of their `TxRaw` (fields out of order, repeated,
    /// unknown, or varints longer than needed). The SDK refuses these (ADR-027) because otherwise
    /// one signed transaction could be broadcast under many different hashes.
    #[error("tx bytes are not the canonical TxRaw encoding (ADR-027): tx parse error")]
    NonCanonicalTxRaw,
    /// A field number the chain does not know was set (the SDK's `RejectUnknownFields`). Fields
    /// numbered with bit 11 set (1024 and up) are non-critical and tolerated inside the body.
    #[error("unknown field {field} in {message}: tx parse error")]
    UnknownField {
        /// Protobuf message that carried the field.
        message: &'static str,
        /// The field number.
        field: u64,
    },
    /// A required field was absent.
    #[error("missing {field}: tx parse error")]
    MissingField {
        /// Dotted path of the field, e.g. `auth_info.fee`.
        field: &'static str,
    },
    /// A message or extension option whose type URL the chain does not handle.
    #[error("unable to resolve type URL {type_url}: tx parse error")]
    UnknownMessageType {
        /// The type URL (cut to 128 characters).
        type_url: String,
    },
    /// The body has no messages.
    #[error("must contain at least one message: invalid request")]
    NoMessages,
    /// `extension_options` is not empty; no extension option is accepted (as wasmd, whose ante
    /// handler installs `NewExtensionOptionsDecorator(nil)`).
    #[error("unknown extension options")]
    UnknownExtensionOptions,

    // ----- signers and signatures ---------------------------------------------------------------
    /// The `signatures` list is empty.
    #[error("no signatures supplied")]
    NoSignatures,
    /// The number of signatures, signer infos or distinct message senders is not exactly one.
    #[error("wrong number of signers; expected {expected}, got {got}: unauthorized")]
    WrongSignerCount {
        /// How many the messages require.
        expected: usize,
        /// How many the transaction carries.
        got: usize,
    },
    /// More than one signer info: this chain accepts single-signer transactions only.
    #[error("signatures: {got}, limit: 1: maximum number of signatures exceeded")]
    TooManySignatures {
        /// Number of signer infos.
        got: usize,
    },
    /// A sign mode other than `SIGN_MODE_DIRECT` and `SIGN_MODE_LEGACY_AMINO_JSON` (e.g.
    /// `SIGN_MODE_TEXTUAL`, or `SIGN_MODE_UNSPECIFIED` outside simulation).
    #[error(
        "sign mode {mode} is not supported, sign with SIGN_MODE_DIRECT or SIGN_MODE_LEGACY_AMINO_JSON: feature not supported"
    )]
    UnsupportedSignMode {
        /// Name (or number) of the sign mode.
        mode: String,
    },
    /// A `SIGN_MODE_LEGACY_AMINO_JSON` transaction carries a non-critical field (number 1024 and
    /// up) the chain does not know. Such fields are tolerated in direct mode, where the signature
    /// covers the body bytes; the amino JSON sign doc leaves them out, so here they would be
    /// unsigned (the SDK's amino handler refuses them too).
    #[error("field {field} of {message} is not covered by a SIGN_MODE_LEGACY_AMINO_JSON signature: unauthorized")]
    UnsignedField {
        /// Protobuf message that carried the field.
        message: &'static str,
        /// The field number.
        field: u64,
    },
    /// A coin amount of a `SIGN_MODE_LEGACY_AMINO_JSON` transaction has leading zeros. The sign
    /// doc holds amounts as the wallet wrote them, which the chain (keeping amounts as integers)
    /// could not reproduce; every wallet writes them without.
    #[error("amount {amount:?} has leading zeros, which a SIGN_MODE_LEGACY_AMINO_JSON signature cannot cover: unauthorized")]
    NonCanonicalAmount {
        /// The amount text (cut to 64 characters).
        amount: String,
    },
    /// A contract message of a `SIGN_MODE_LEGACY_AMINO_JSON` transaction cannot be written into
    /// the sign doc, so the signature cannot be checked.
    #[error("cannot build the SIGN_MODE_LEGACY_AMINO_JSON sign doc: msg {msg_index}: {reason}: unauthorized")]
    AminoJsonMsg {
        /// Index of the message in the body.
        msg_index: usize,
        /// What is wrong with its JSON.
        reason: AminoJsonError,
    },
    /// A multisig `mode_info`.
    #[error("multisig signers are not supported: feature not supported")]
    MultisigNotSupported,
    /// The public key is not a `/cosmos.crypto.secp256k1.PubKey`.
    #[error("public key type {type_url} is not supported, use /cosmos.crypto.secp256k1.PubKey: invalid pubkey")]
    UnsupportedPubKeyType {
        /// The type URL found (cut to 128 characters).
        type_url: String,
    },
    /// The public key bytes are not a valid 33-byte compressed secp256k1 point.
    #[error("{reason}: invalid pubkey")]
    InvalidPubKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Neither the transaction nor the account state holds the signer's public key.
    #[error("pubkey on account is not set: invalid pubkey")]
    PubKeyUnknown,
    /// The transaction carries a public key different from the one stored on the account.
    #[error("pubkey in the tx differs from the pubkey of account {address}: invalid pubkey")]
    PubKeyChanged {
        /// The account.
        address: String,
    },
    /// The address derived from the public key is not the messages' `sender`.
    #[error("pubKey does not match signer address {sender} with signer index: 0: invalid pubkey")]
    SignerMismatch {
        /// The `sender` of the messages.
        sender: String,
        /// The address derived from the public key.
        pub_key_address: String,
    },
    /// The account handed to [`crate::authenticate`] is not the transaction's signer.
    #[error("account {account} is not the signer {signer} of the tx: unauthorized")]
    AccountIsNotSigner {
        /// Address of the account passed in.
        account: String,
        /// The signer of the messages.
        signer: String,
    },
    /// The signature is not 64 bytes `r || s`.
    #[error("signature must be 64 bytes (r || s), got {len}: unauthorized")]
    SignatureLength {
        /// Its length.
        len: usize,
    },
    /// The signature's `s` is in the upper half of the curve order; only low-S signatures are
    /// accepted, as in the SDK, so that a signature cannot be re-shaped into a second valid one.
    #[error("signature is not in lower-S form: unauthorized")]
    HighS,
    /// The signature does not verify over the sign bytes. The usual cause is a different chain id
    /// or account number, both of which are part of the signed bytes.
    #[error("signature verification failed; please verify account number ({account_number}), sequence ({sequence}) and chain-id ({chain_id}): unauthorized")]
    SignatureInvalid {
        /// The account number the chain used.
        account_number: u64,
        /// The sequence in the transaction.
        sequence: u64,
        /// The chain id the chain used.
        chain_id: String,
    },

    // ----- account state ------------------------------------------------------------------------
    /// `signer_info.sequence` is not the account's next sequence.
    #[error(
        "account sequence mismatch, expected {expected}, got {got}: incorrect account sequence"
    )]
    WrongSequence {
        /// The account's sequence.
        expected: u64,
        /// The transaction's sequence.
        got: u64,
    },
    /// The account's sequence cannot be incremented any further.
    #[error("account sequence {sequence} cannot be incremented: invalid sequence")]
    SequenceOverflow {
        /// The current sequence.
        sequence: u64,
    },
    /// The block height is past the transaction's `timeout_height`.
    #[error("block height: {height}, timeout height: {timeout_height}: tx timeout height")]
    TimeoutHeight {
        /// The height of the block being built or checked.
        height: u64,
        /// The transaction's timeout height.
        timeout_height: u64,
    },

    // ----- fee and gas --------------------------------------------------------------------------
    /// `fee.payer` or `fee.granter` is set; fee grants and third-party payers are not supported.
    #[error("fee payer and fee granter are not supported: feature not supported")]
    FeePayerOrGranter,
    /// `auth_info.tip` is set; tips are not supported.
    #[error("tips are not supported: feature not supported")]
    TipNotSupported,
    /// `fee.amount` is not a valid coin list.
    #[error("invalid fee amount: {reason}: insufficient fee")]
    InvalidFee {
        /// What is wrong with it.
        reason: CoinError,
    },
    /// `fee.gas_limit` is zero outside simulation.
    #[error("must provide positive gas: invalid gas limit")]
    ZeroGasLimit,
    /// `fee.gas_limit` is above the SDK's `MaxGasWanted` (2^63 - 1).
    #[error("invalid gas supplied; {gas} > {max}: invalid request")]
    GasLimitTooHigh {
        /// The gas limit.
        gas: u64,
        /// The maximum.
        max: u64,
    },

    // ----- message contents (wasmd's ValidateBasic) ---------------------------------------------
    /// An address field of a message (or an address given to the host API) is invalid.
    #[error("{field}: {reason}: invalid address")]
    InvalidAddress {
        /// Which field (`sender`, `contract`, `admin`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: AddressError,
    },
    /// `funds` is not a valid coin list (sorted, unique, positive, valid denoms).
    #[error("sentFunds: {reason}: invalid coins")]
    InvalidFunds {
        /// What is wrong with it.
        reason: CoinError,
    },
    /// The contract message is empty.
    #[error("payload msg: empty")]
    EmptyContractMsg,
    /// The contract message is not valid JSON.
    #[error("payload msg: invalid")]
    InvalidContractMsg,
    /// `code_id` is zero.
    #[error("code id is required: invalid request")]
    CodeIdRequired,
    /// The label is empty.
    #[error("label: is required: empty")]
    LabelEmpty,
    /// The label is longer than [`crate::MAX_LABEL_BYTES`].
    #[error("label: cannot be longer than {max} characters: exceeds limit")]
    LabelTooLong {
        /// The limit.
        max: usize,
    },
    /// The label has leading or trailing white space.
    #[error("label: label is not trimmed: invalid")]
    LabelNotTrimmed,
    /// The instantiate2 salt is empty.
    #[error("salt: is required: empty")]
    SaltEmpty,
    /// The instantiate2 salt is longer than [`crate::MAX_SALT_BYTES`].
    #[error("salt: cannot be longer than {max} characters: exceeds limit")]
    SaltTooLong {
        /// The limit.
        max: usize,
    },
    /// The wasm byte code is empty.
    #[error("code bytes is required: invalid request")]
    WasmCodeEmpty,
    /// The wasm byte code is longer than [`crate::MAX_WASM_CODE_BYTES`].
    #[error("code bytes cannot be longer than {max} bytes: invalid request")]
    WasmCodeTooLarge {
        /// The limit.
        max: usize,
    },
    /// The instantiate permission of a store-code message is invalid.
    #[error("instantiate permission: {reason}: invalid")]
    InvalidInstantiatePermission {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An update-admin message names the sender as the new admin.
    #[error("new admin is the same as the old: invalid")]
    NewAdminIsSender,
}

/// What is wrong with a list of coins (fee or funds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoinError {
    /// The denom does not match the SDK's `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
    #[error("invalid denom: {denom}")]
    InvalidDenom {
        /// The denom (cut to 128 characters).
        denom: String,
    },
    /// The amount is not a decimal integer that fits in 128 bits.
    #[error("invalid amount {amount:?} for {denom}")]
    InvalidAmount {
        /// The denom.
        denom: String,
        /// The amount text (cut to 64 characters).
        amount: String,
    },
    /// An amount is zero where coins must be positive.
    #[error("coin {denom} amount is not positive")]
    NotPositive {
        /// The denom.
        denom: String,
    },
    /// Denoms are repeated or not in ascending order.
    #[error("denom {denom} is duplicated or out of order")]
    NotSorted {
        /// The offending denom.
        denom: String,
    },
}

impl AuthError {
    /// The `(codespace, code)` to put in the ABCI response for this error.
    ///
    /// The codes are the SDK's (`sdk`, see [`sdk`]) or wasmd's (`wasm`, see [`wasm`]) for the same
    /// condition, so clients that switch on them behave as against wasmd.
    pub fn abci_code(&self) -> (&'static str, u32) {
        use AuthError as E;
        let sdk = |code| (sdk::CODESPACE, code);
        let wasm = |code| (wasm::CODESPACE, code);
        match self {
            E::TxTooLarge { .. } => sdk(sdk::ERR_TX_TOO_LARGE),
            E::TooManyMessages { .. } => sdk(sdk::ERR_INVALID_REQUEST),
            E::MemoTooLarge { .. } => sdk(sdk::ERR_MEMO_TOO_LARGE),
            E::Decode { .. }
            | E::NonCanonicalTxRaw
            | E::UnknownField { .. }
            | E::MissingField { .. }
            | E::UnknownMessageType { .. } => sdk(sdk::ERR_TX_DECODE),
            E::NoMessages => sdk(sdk::ERR_INVALID_REQUEST),
            E::UnknownExtensionOptions => sdk(sdk::ERR_UNKNOWN_EXTENSION_OPTIONS),
            E::NoSignatures => sdk(sdk::ERR_NO_SIGNATURES),
            E::WrongSignerCount { .. } => sdk(sdk::ERR_UNAUTHORIZED),
            E::TooManySignatures { .. } => sdk(sdk::ERR_TOO_MANY_SIGNATURES),
            E::UnsupportedSignMode { .. } | E::MultisigNotSupported => sdk(sdk::ERR_NOT_SUPPORTED),
            E::UnsupportedPubKeyType { .. }
            | E::InvalidPubKey { .. }
            | E::PubKeyUnknown
            | E::PubKeyChanged { .. }
            | E::SignerMismatch { .. } => sdk(sdk::ERR_INVALID_PUB_KEY),
            E::AccountIsNotSigner { .. }
            | E::UnsignedField { .. }
            | E::NonCanonicalAmount { .. }
            | E::AminoJsonMsg { .. }
            | E::SignatureLength { .. }
            | E::HighS
            | E::SignatureInvalid { .. } => sdk(sdk::ERR_UNAUTHORIZED),
            E::WrongSequence { .. } => sdk(sdk::ERR_WRONG_SEQUENCE),
            E::SequenceOverflow { .. } => sdk(sdk::ERR_INVALID_SEQUENCE),
            E::TimeoutHeight { .. } => sdk(sdk::ERR_TX_TIMEOUT_HEIGHT),
            E::FeePayerOrGranter | E::TipNotSupported => sdk(sdk::ERR_NOT_SUPPORTED),
            E::InvalidFee { .. } => sdk(sdk::ERR_INSUFFICIENT_FEE),
            E::ZeroGasLimit => sdk(sdk::ERR_INVALID_GAS_LIMIT),
            E::GasLimitTooHigh { .. } => sdk(sdk::ERR_INVALID_REQUEST),
            E::InvalidAddress { .. } => sdk(sdk::ERR_INVALID_ADDRESS),
            E::InvalidFunds { .. } => sdk(sdk::ERR_INVALID_COINS),
            E::EmptyContractMsg => wasm(wasm::ERR_EMPTY),
            E::InvalidContractMsg => wasm(wasm::ERR_INVALID),
            E::CodeIdRequired => sdk(sdk::ERR_INVALID_REQUEST),
            E::LabelEmpty | E::SaltEmpty => wasm(wasm::ERR_EMPTY),
            E::LabelTooLong { .. } | E::SaltTooLong { .. } => wasm(wasm::ERR_LIMIT),
            E::LabelNotTrimmed => wasm(wasm::ERR_INVALID),
            E::WasmCodeEmpty | E::WasmCodeTooLarge { .. } => sdk(sdk::ERR_INVALID_REQUEST),
            E::InvalidInstantiatePermission { .. } | E::NewAdminIsSender => wasm(wasm::ERR_INVALID),
        }
    }

    /// The ABCI `log` for this error (its `Display` text).
    pub fn log(&self) -> String {
        self.to_string()
    }
}

/// Cuts untrusted text that goes into an error message to at most `max` characters.
pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
