//! Decoding of `TxRaw` into a [`DecodedTx`], for delivery and for simulation.

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode as ProtoSignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, SimulateRequest, Tx, TxBody, TxRaw,
};
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasm;
use cosmos_sdk_proto::Any;
use prost::Message;

use crate::address::check_compressed_key_shape;
use crate::error::{clip, AuthError};
use crate::msg::{
    check_coins_valid, decode_checked, decode_msg, msg_schema, parse_coins, Coin, Msg,
    MSG_EXECUTE_CONTRACT, MSG_INSTANTIATE_CONTRACT, MSG_INSTANTIATE_CONTRACT2,
};
use crate::wire::{self, check_known_fields};
use crate::{MAX_GAS_WANTED, MAX_MEMO_BYTES, MAX_MESSAGES, MAX_TX_BYTES};

/// Type URL of a secp256k1 public key.
pub const SECP256K1_PUB_KEY_TYPE_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

/// The sign mode of the single signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMode {
    /// `SIGN_MODE_DIRECT`: the signature covers the protobuf `SignDoc`
    /// ([`crate::direct_sign_bytes`]).
    Direct,
    /// `SIGN_MODE_LEGACY_AMINO_JSON` (127): the signature covers the JSON `StdSignDoc`
    /// ([`crate::amino_json_sign_bytes`]). What Ledger devices, and so Keplr with a Ledger, sign.
    LegacyAminoJson,
    /// `SIGN_MODE_UNSPECIFIED`: what CosmJS puts in a transaction it only simulates.
    Unspecified,
    /// Any other mode (the protobuf enum value); accepted by [`decode_tx_for_simulation`] only.
    Other(i32),
}

impl SignMode {
    /// The mode's protobuf enum value.
    pub fn number(self) -> i32 {
        match self {
            SignMode::Direct => ProtoSignMode::Direct as i32,
            SignMode::LegacyAminoJson => ProtoSignMode::LegacyAminoJson as i32,
            SignMode::Unspecified => ProtoSignMode::Unspecified as i32,
            SignMode::Other(n) => n,
        }
    }

    /// The mode's protobuf name (`SIGN_MODE_DIRECT`, ...), or its number if it has none.
    pub fn name(self) -> String {
        ProtoSignMode::try_from(self.number())
            .map(|m| m.as_str_name().to_string())
            .unwrap_or_else(|_| self.number().to_string())
    }
}

/// The single signer of a transaction, from `AuthInfo.signer_infos[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo {
    /// The 33-byte compressed secp256k1 key, if the transaction carries one. Wallets include it
    /// in every transaction; it may be absent only when the account already has a key on chain,
    /// which is for the caller to check ([`crate::authenticate`] does).
    pub pub_key: Option<Vec<u8>>,
    /// The sign mode.
    pub sign_mode: SignMode,
    /// The account sequence the transaction was signed with.
    pub sequence: u64,
}

/// The fee: gas budget and offered coins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fee {
    /// Coins offered as fee. May contain zero amounts (CosmJS's `calculateFee` with a zero gas
    /// price produces `"0"`); if any amount is non-zero the list is a valid SDK `Coins`.
    pub amount: Vec<Coin>,
    /// The gas budget, in SDK gas units (the VM converts 1 SDK gas = 14,000 CosmWasm gas).
    pub gas_limit: u64,
}

/// A decoded and statelessly validated transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedTx {
    /// `TxRaw.body_bytes`, verbatim (signed).
    pub body_bytes: Vec<u8>,
    /// `TxRaw.auth_info_bytes`, verbatim (signed).
    pub auth_info_bytes: Vec<u8>,
    /// The signature (64 bytes `r || s` in a valid transaction; checked by
    /// [`crate::verify_signature`]). Empty in a simulated transaction.
    pub signature: Vec<u8>,
    /// The messages, at least one.
    pub msgs: Vec<Msg>,
    /// The memo.
    pub memo: String,
    /// Height after which the transaction may no longer be included; 0 for none.
    pub timeout_height: u64,
    /// The signer.
    pub signer_info: SignerInfo,
    /// The fee.
    pub fee: Fee,
    /// The messages' common `sender`: the account that must sign.
    pub signer: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Deliver,
    Simulate,
}

/// Decodes a transaction for `CheckTx` and block execution.
///
/// Accepts exactly what wasmd would for a single-signer secp256k1 transaction of
/// `cosmwasm.wasm.v1` messages signed with `SIGN_MODE_DIRECT` or `SIGN_MODE_LEGACY_AMINO_JSON`:
/// - at most [`MAX_TX_BYTES`]; the bytes must be the canonical `TxRaw` encoding (ADR-027);
/// - body: 1 to [`MAX_MESSAGES`] known messages (each validated as wasmd's `ValidateBasic`), all
///   with the same `sender`; memo at most [`MAX_MEMO_BYTES`]; no extension options; no unknown
///   critical fields;
/// - in `SIGN_MODE_LEGACY_AMINO_JSON`, no unknown field anywhere in the body, not even a
///   non-critical one, and no coin amount (fee or funds) with leading zeros: the amino sign doc
///   would not cover them;
/// - auth info: exactly one signer info with a single `SIGN_MODE_DIRECT` or
///   `SIGN_MODE_LEGACY_AMINO_JSON` mode, an optional
///   `/cosmos.crypto.secp256k1.PubKey` (33 bytes, on the curve); a fee with `0 < gas_limit <=
///   2^63-1`, valid coins, no payer, no granter; no tip; no unknown fields;
/// - exactly one signature.
///
/// # Errors
/// The [`AuthError`] of the first violated rule.
pub fn decode_tx(raw: &[u8]) -> Result<DecodedTx, AuthError> {
    decode(raw, Purpose::Deliver)
}

/// Decodes a transaction for `/cosmos.tx.v1beta1.Service/Simulate`.
///
/// As [`decode_tx`], except that any single sign mode is accepted (CosmJS sends
/// `SIGN_MODE_UNSPECIFIED`), the signature may be empty or missing, the fee may be absent or have
/// a zero gas limit, and the `TxRaw` encoding need not be canonical (CosmJS encodes a `Tx`, which
/// has the same layout). Signatures must not be checked on the result.
///
/// # Errors
/// The [`AuthError`] of the first violated rule.
pub fn decode_tx_for_simulation(raw: &[u8]) -> Result<DecodedTx, AuthError> {
    decode(raw, Purpose::Simulate)
}

/// Decodes a `SimulateRequest` (the `data` of the ABCI query
/// `/cosmos.tx.v1beta1.Service/Simulate`) with [`decode_tx_for_simulation`].
///
/// Uses `tx_bytes`; falls back to the deprecated `tx` field (re-encoded) when `tx_bytes` is empty.
///
/// # Errors
/// [`AuthError::MissingField`] if both are empty, else as [`decode_tx_for_simulation`].
pub fn decode_simulate_request(data: &[u8]) -> Result<DecodedTx, AuthError> {
    if data.len() > MAX_TX_BYTES.saturating_add(64) {
        return Err(AuthError::TxTooLarge {
            size: data.len(),
            max: MAX_TX_BYTES,
        });
    }
    let request = SimulateRequest::decode(data).map_err(|e| AuthError::Decode {
        what: "cosmos.tx.v1beta1.SimulateRequest",
        reason: e.to_string(),
    })?;
    if !request.tx_bytes.is_empty() {
        return decode_tx_for_simulation(&request.tx_bytes);
    }
    #[allow(deprecated)]
    let tx: Option<Tx> = request.tx;
    let tx = tx.ok_or(AuthError::MissingField { field: "tx_bytes" })?;
    let raw = TxRaw {
        body_bytes: tx.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
        auth_info_bytes: tx.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
        signatures: tx.signatures,
    };
    decode_tx_for_simulation(&raw.encode_to_vec())
}

fn decode(raw: &[u8], purpose: Purpose) -> Result<DecodedTx, AuthError> {
    if raw.len() > MAX_TX_BYTES {
        return Err(AuthError::TxTooLarge {
            size: raw.len(),
            max: MAX_TX_BYTES,
        });
    }
    let tx_raw = TxRaw::decode(raw).map_err(|e| AuthError::Decode {
        what: "cosmos.tx.v1beta1.TxRaw",
        reason: e.to_string(),
    })?;
    if purpose == Purpose::Deliver && tx_raw.encode_to_vec() != raw {
        return Err(AuthError::NonCanonicalTxRaw);
    }
    let TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures,
    } = tx_raw;

    let body = decode_body(&body_bytes)?;
    let (signer_info, fee) = decode_auth_info(&auth_info_bytes, purpose)?;
    if purpose == Purpose::Deliver && signer_info.sign_mode == SignMode::LegacyAminoJson {
        check_body_fully_signed(&body_bytes, &body.anys)?;
    }

    let signature = match (signatures.len(), purpose) {
        (0, Purpose::Deliver) => return Err(AuthError::NoSignatures),
        (0, Purpose::Simulate) => Vec::new(),
        (1, _) => signatures.into_iter().next().unwrap_or_default(),
        (got, _) => return Err(AuthError::WrongSignerCount { expected: 1, got }),
    };

    let signer = common_sender(&body.msgs)?;
    Ok(DecodedTx {
        body_bytes,
        auth_info_bytes,
        signature,
        msgs: body.msgs,
        memo: body.memo,
        timeout_height: body.timeout_height,
        signer_info,
        fee,
        signer,
    })
}

struct Body {
    /// The messages as they arrived, for the amino-mode field check.
    anys: Vec<Any>,
    msgs: Vec<Msg>,
    memo: String,
    timeout_height: u64,
}

fn decode_body(bytes: &[u8]) -> Result<Body, AuthError> {
    check_known_fields(bytes, &wire::TX_BODY, true)?;
    let body = TxBody::decode(bytes).map_err(|e| AuthError::Decode {
        what: "cosmos.tx.v1beta1.TxBody",
        reason: e.to_string(),
    })?;
    if body.messages.is_empty() {
        return Err(AuthError::NoMessages);
    }
    if body.messages.len() > MAX_MESSAGES {
        return Err(AuthError::TooManyMessages {
            count: body.messages.len(),
            max: MAX_MESSAGES,
        });
    }
    if body.memo.len() > MAX_MEMO_BYTES {
        return Err(AuthError::MemoTooLarge {
            len: body.memo.len(),
            max: MAX_MEMO_BYTES,
        });
    }
    if !body.extension_options.is_empty() {
        return Err(AuthError::UnknownExtensionOptions);
    }
    // The SDK resolves every non-critical extension option's type URL while decoding; wasmd
    // registers none, so any of them fails to decode there.
    if let Some(option) = body.non_critical_extension_options.first() {
        return Err(AuthError::UnknownMessageType {
            type_url: clip(&option.type_url, 128),
        });
    }
    let msgs = body
        .messages
        .iter()
        .map(decode_msg)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Body {
        anys: body.messages,
        msgs,
        memo: body.memo,
        timeout_height: body.timeout_height,
    })
}

fn decode_auth_info(bytes: &[u8], purpose: Purpose) -> Result<(SignerInfo, Fee), AuthError> {
    check_known_fields(bytes, &wire::AUTH_INFO, false)?;
    let auth_info = AuthInfo::decode(bytes).map_err(|e| AuthError::Decode {
        what: "cosmos.tx.v1beta1.AuthInfo",
        reason: e.to_string(),
    })?;
    #[allow(deprecated)]
    let has_tip = auth_info.tip.is_some();
    if has_tip {
        return Err(AuthError::TipNotSupported);
    }
    let mut signer_infos = auth_info.signer_infos.into_iter();
    let info = match (signer_infos.next(), signer_infos.len()) {
        (None, _) => {
            return Err(AuthError::WrongSignerCount {
                expected: 1,
                got: 0,
            })
        }
        (Some(info), 0) => info,
        (Some(_), more) => {
            return Err(AuthError::TooManySignatures {
                got: more.saturating_add(1),
            })
        }
    };

    let sign_mode = match info.mode_info.and_then(|m| m.sum) {
        None => {
            return Err(AuthError::MissingField {
                field: "signer_info.mode_info",
            })
        }
        Some(mode_info::Sum::Multi(_)) => return Err(AuthError::MultisigNotSupported),
        Some(mode_info::Sum::Single(single)) => match ProtoSignMode::try_from(single.mode) {
            Ok(ProtoSignMode::Direct) => SignMode::Direct,
            Ok(ProtoSignMode::LegacyAminoJson) => SignMode::LegacyAminoJson,
            Ok(ProtoSignMode::Unspecified) => SignMode::Unspecified,
            _ => SignMode::Other(single.mode),
        },
    };
    if purpose == Purpose::Deliver
        && !matches!(sign_mode, SignMode::Direct | SignMode::LegacyAminoJson)
    {
        return Err(AuthError::UnsupportedSignMode {
            mode: sign_mode.name(),
        });
    }

    let pub_key = info.public_key.as_ref().map(decode_pub_key).transpose()?;

    let fee = match (auth_info.fee, purpose) {
        (Some(fee), _) => fee,
        (None, Purpose::Simulate) => Default::default(),
        (None, Purpose::Deliver) => {
            return Err(AuthError::MissingField {
                field: "auth_info.fee",
            })
        }
    };
    if purpose == Purpose::Deliver && sign_mode == SignMode::LegacyAminoJson {
        check_amounts_canonical(&fee.amount)?;
    }
    if !fee.payer.is_empty() || !fee.granter.is_empty() {
        return Err(AuthError::FeePayerOrGranter);
    }
    if fee.gas_limit > MAX_GAS_WANTED {
        return Err(AuthError::GasLimitTooHigh {
            gas: fee.gas_limit,
            max: MAX_GAS_WANTED,
        });
    }
    if purpose == Purpose::Deliver && fee.gas_limit == 0 {
        return Err(AuthError::ZeroGasLimit);
    }
    let amount = parse_coins(fee.amount).map_err(|reason| AuthError::InvalidFee { reason })?;
    // As the SDK's DeductFeeDecorator: an all-zero fee is "no fee" and is not validated further.
    if amount.iter().any(|c| c.amount != 0) {
        check_coins_valid(&amount).map_err(|reason| AuthError::InvalidFee { reason })?;
    }

    Ok((
        SignerInfo {
            pub_key,
            sign_mode,
            sequence: info.sequence,
        },
        Fee {
            amount,
            gas_limit: fee.gas_limit,
        },
    ))
}

/// In amino JSON mode the signature covers only what the sign doc holds, so the body may carry
/// nothing the chain does not understand: unknown non-critical fields (tolerated in direct mode,
/// where the body bytes are signed) are refused in the body, its `Any`s and the messages, as the
/// SDK's amino handler does. The body was already checked for critical ones.
fn check_body_fully_signed(body_bytes: &[u8], anys: &[Any]) -> Result<(), AuthError> {
    let unsigned = |e| match e {
        AuthError::UnknownField { message, field } => AuthError::UnsignedField { message, field },
        other => other,
    };
    check_known_fields(body_bytes, &wire::TX_BODY, false).map_err(unsigned)?;
    for any in anys {
        if let Some(schema) = msg_schema(&any.type_url) {
            check_known_fields(&any.value, schema, false).map_err(unsigned)?;
        }
        check_amounts_canonical(&msg_funds(any)?)?;
    }
    Ok(())
}

/// The sign doc writes amounts from their integer value; an amount with leading zeros (which the
/// coin parser tolerates, as the SDK does) would then be signed in one spelling and carried in
/// another, so amino mode refuses it.
fn check_amounts_canonical(coins: &[ProtoCoin]) -> Result<(), AuthError> {
    match coins
        .iter()
        .find(|c| c.amount.len() > 1 && c.amount.starts_with('0'))
    {
        Some(c) => Err(AuthError::NonCanonicalAmount {
            amount: clip(&c.amount, 64),
        }),
        None => Ok(()),
    }
}

/// The raw `funds` of a message that has them (the message already decoded once).
fn msg_funds(any: &Any) -> Result<Vec<ProtoCoin>, AuthError> {
    fn funds<M: Message + Default>(
        any: &Any,
        what: &'static str,
        get: fn(M) -> Vec<ProtoCoin>,
    ) -> Result<Vec<ProtoCoin>, AuthError> {
        M::decode(any.value.as_slice())
            .map(get)
            .map_err(|e| AuthError::Decode {
                what,
                reason: e.to_string(),
            })
    }
    match any.type_url.as_str() {
        MSG_EXECUTE_CONTRACT => funds(
            any,
            "cosmwasm.wasm.v1.MsgExecuteContract",
            |m: wasm::MsgExecuteContract| m.funds,
        ),
        MSG_INSTANTIATE_CONTRACT => funds(
            any,
            "cosmwasm.wasm.v1.MsgInstantiateContract",
            |m: wasm::MsgInstantiateContract| m.funds,
        ),
        MSG_INSTANTIATE_CONTRACT2 => funds(
            any,
            "cosmwasm.wasm.v1.MsgInstantiateContract2",
            |m: wasm::MsgInstantiateContract2| m.funds,
        ),
        _ => Ok(Vec::new()),
    }
}

/// Decodes a `/cosmos.crypto.secp256k1.PubKey` `Any` into its 33 key bytes, checking that the
/// key is a point on the curve.
fn decode_pub_key(any: &Any) -> Result<Vec<u8>, AuthError> {
    if any.type_url != SECP256K1_PUB_KEY_TYPE_URL {
        return Err(AuthError::UnsupportedPubKeyType {
            type_url: clip(&any.type_url, 128),
        });
    }
    let pk: PubKey = decode_checked(&any.value, &wire::SECP256K1_PUB_KEY)?;
    check_compressed_key_shape(&pk.key)?;
    k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk.key).map_err(|_| AuthError::InvalidPubKey {
        reason: "public key is not a point on secp256k1",
    })?;
    Ok(pk.key)
}

/// All messages must have the same sender: this chain accepts one signer per transaction.
fn common_sender(msgs: &[Msg]) -> Result<String, AuthError> {
    let mut senders: Vec<&str> = Vec::new();
    for msg in msgs {
        if !senders.contains(&msg.sender()) {
            senders.push(msg.sender());
        }
    }
    match senders.as_slice() {
        [one] => Ok((*one).to_string()),
        _ => Err(AuthError::WrongSignerCount {
            expected: senders.len(),
            got: 1,
        }),
    }
}
