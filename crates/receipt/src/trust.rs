//! What a verifier trusts: the chain id, the validator set and the addresses of C1 and C2.
//!
//! Take them from the chain's `genesis.json` ([`TrustRoot::from_genesis`]) obtained from the
//! chain's operators out of band (the file every node starts from; its validators sign every
//! block as long as the set does not change), or from a list the user trusts for the height of
//! the receipts to check ([`TrustRoot::from_list`]). Never take them from the node that served
//! the receipt: a node could then vouch for anything.

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tendermint::{validator, vote, PublicKey};
use usage_common::contracts::CONTRACTS;

/// Why a trust root could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("not a readable genesis or validator list: {0}")]
    Json(#[from] serde_json::Error),
    #[error("validator {index}: {reason}")]
    Validator { index: usize, reason: String },
    #[error("the trusted validator set is empty")]
    NoValidators,
    #[error("the genesis instantiates no contract labelled {label:?}")]
    MissingContract { label: &'static str },
    #[error("the genesis contract {label:?} names an unknown code {code:?}")]
    UnknownCode { label: String, code: String },
    #[error("{0}")]
    Address(#[from] crate::keys::InvalidAddress),
}

/// What [`crate::verify`] trusts, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRoot {
    pub chain_id: String,
    /// The validators (public key and voting power; addresses are derived from the keys).
    pub validators: Vec<validator::Info>,
    /// C1 usage-proof's address.
    pub usage_proof: String,
    /// C2 period-proof's address.
    pub period_proof: String,
}

#[derive(Deserialize)]
struct Genesis {
    chain_id: String,
    #[serde(default)]
    validators: Vec<GenesisValidator>,
    app_state: AppState,
}

#[derive(Deserialize)]
struct GenesisValidator {
    pub_key: PublicKey,
    power: vote::Power,
}

#[derive(Deserialize)]
struct AppState {
    #[serde(default)]
    codes: Vec<GenesisCode>,
    #[serde(default)]
    contracts: Vec<GenesisContract>,
}

#[derive(Deserialize)]
struct GenesisCode {
    name: String,
}

#[derive(Deserialize)]
struct GenesisContract {
    code: String,
    label: String,
}

/// A validator of a trusted list: `pub_key` as CometBFT writes it
/// (`{"type": "tendermint/PubKeyEd25519", "value": "<base64>"}`) or as the base64 (or hex) of a
/// 32-byte Ed25519 key; `power` (or `voting_power`) as a number or a decimal string.
#[derive(Deserialize)]
struct ListedValidator {
    pub_key: ListedKey,
    #[serde(alias = "voting_power")]
    power: ListedPower,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListedKey {
    Typed(PublicKey),
    Plain(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListedPower {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedTrust {
    chain_id: String,
    usage_proof: String,
    period_proof: String,
    validators: Vec<ListedValidator>,
}

/// The address the chain gives the `instance_id`-th contract, of code `code_id` (wasmd's
/// `BuildContractAddressClassic`: `sha256(sha256("module") ‖ "wasm" ‖ 0x00 ‖ code id (u64 BE) ‖
/// instance id (u64 BE))`).
pub fn classic_contract_address(code_id: u64, instance_id: u64) -> [u8; 32] {
    let typ: [u8; 32] = Sha256::digest(b"module").into();
    let mut h = Sha256::new();
    h.update(typ);
    h.update(b"wasm\x00");
    h.update(code_id.to_be_bytes());
    h.update(instance_id.to_be_bytes());
    h.finalize().into()
}

fn validator(index: usize, pub_key: PublicKey, power: u64) -> Result<validator::Info, TrustError> {
    let bad = |reason: String| TrustError::Validator { index, reason };
    if power == 0 {
        return Err(bad("a voting power of 0 is no validator".into()));
    }
    let power = vote::Power::try_from(power).map_err(|e| bad(e.to_string()))?;
    Ok(validator::Info::new(pub_key, power))
}

fn decode_key(index: usize, text: &str) -> Result<PublicKey, TrustError> {
    let bad = |reason: String| TrustError::Validator { index, reason };
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| bad(e.to_string()))?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| bad(format!("public key is neither hex nor base64: {e}")))?
    };
    PublicKey::from_raw_ed25519(&bytes)
        .ok_or_else(|| bad(format!("{} bytes are no Ed25519 public key", bytes.len())))
}

/// A bare JSON list of validators (`[{"pub_key": …, "power": …}, …]`), see [`TrustRoot::from_list`].
pub fn validators_from_list(json: &[u8]) -> Result<Vec<validator::Info>, TrustError> {
    let listed: Vec<ListedValidator> = serde_json::from_slice(json)?;
    to_validators(listed)
}

fn to_validators(listed: Vec<ListedValidator>) -> Result<Vec<validator::Info>, TrustError> {
    if listed.is_empty() {
        return Err(TrustError::NoValidators);
    }
    listed
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let key = match v.pub_key {
                ListedKey::Typed(k) => k,
                ListedKey::Plain(text) => decode_key(i, &text)?,
            };
            let power = match v.power {
                ListedPower::Number(n) => n,
                ListedPower::Text(t) => t.parse().map_err(|e| TrustError::Validator {
                    index: i,
                    reason: format!("power {t:?}: {e}"),
                })?,
            };
            validator(i, key, power)
        })
        .collect()
}

impl TrustRoot {
    /// The trust root of a chain from its CometBFT `genesis.json`: its chain id, its genesis
    /// validators, and the addresses genesis gives the contracts labelled `usage-proof` and
    /// `period-proof` (codes get ids 1, 2, … and contracts instance ids 1, 2, … in the file's
    /// order, as `usaged` instantiates them).
    pub fn from_genesis(json: &[u8]) -> Result<TrustRoot, TrustError> {
        let genesis: Genesis = serde_json::from_slice(json)?;
        if genesis.validators.is_empty() {
            return Err(TrustError::NoValidators);
        }
        let validators = genesis
            .validators
            .into_iter()
            .enumerate()
            .map(|(i, v)| validator(i, v.pub_key, v.power.value()))
            .collect::<Result<Vec<_>, _>>()?;
        let app = genesis.app_state;
        let address_of = |label: &'static str| -> Result<String, TrustError> {
            let (instance, contract) = (1u64..)
                .zip(&app.contracts)
                .find(|(_, c)| c.label == label)
                .ok_or(TrustError::MissingContract { label })?;
            let code_id = (1u64..)
                .zip(&app.codes)
                .find(|(_, c)| c.name == contract.code)
                .map(|(id, _)| id)
                .ok_or_else(|| TrustError::UnknownCode {
                    label: contract.label.clone(),
                    code: contract.code.clone(),
                })?;
            Ok(crate::keys::address_of(&classic_contract_address(
                code_id, instance,
            ))?)
        };
        let [c1, c2] = [CONTRACTS[0].label, CONTRACTS[1].label];
        Ok(TrustRoot {
            chain_id: genesis.chain_id,
            validators,
            usage_proof: address_of(c1)?,
            period_proof: address_of(c2)?,
        })
    }

    /// A trust root from a JSON object the user trusts:
    /// `{"chain_id": "…", "usage_proof": "usage1…", "period_proof": "usage1…",
    ///   "validators": [{"pub_key": "<base64 Ed25519 key>", "power": 10}, …]}`.
    pub fn from_list(json: &[u8]) -> Result<TrustRoot, TrustError> {
        let listed: ListedTrust = serde_json::from_slice(json)?;
        crate::keys::canonical_address(&listed.usage_proof)?;
        crate::keys::canonical_address(&listed.period_proof)?;
        Ok(TrustRoot {
            chain_id: listed.chain_id,
            validators: to_validators(listed.validators)?,
            usage_proof: listed.usage_proof,
            period_proof: listed.period_proof,
        })
    }

    /// Either form: a genesis (it has `app_state`) or a trusted list.
    pub fn from_json(json: &[u8]) -> Result<TrustRoot, TrustError> {
        let value: serde_json::Value = serde_json::from_slice(json)?;
        if value.get("app_state").is_some() {
            TrustRoot::from_genesis(json)
        } else {
            TrustRoot::from_list(json)
        }
    }
}
