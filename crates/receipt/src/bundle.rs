//! The receipt file.

use cosmwasm_std::HexBinary;
use serde::{Deserialize, Serialize};
use tendermint::block::signed_header::SignedHeader;
use tendermint::validator;
use usage_common::merkle::SumNode;

/// The bundle format this crate writes and reads.
pub const BUNDLE_VERSION: u32 = 1;

/// One raw key/value of the chain's state with its Jellyfish Merkle proof against the app hash
/// of [`Bundle::height`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateEntry {
    /// The state key (hex).
    pub key: HexBinary,
    /// The stored value (hex).
    pub value: HexBinary,
    /// The borsh-encoded jmt `SparseMerkleProof<Sha256>` of `sha256(key)` (hex), as `usaged`
    /// answers a `/store/state/key` query with `prove`.
    pub proof: HexBinary,
}

/// A verifiable usage receipt of one (terminal, window). See the crate's README for each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// [`BUNDLE_VERSION`].
    pub version: u32,
    pub chain_id: String,
    /// C1 usage-proof's address.
    pub usage_proof: String,
    /// C2 period-proof's address.
    pub period_proof: String,
    pub terminal_id: String,
    pub window_start: u64,
    /// The height whose committed state the three entries are proven in.
    pub height: u64,
    /// C1's registration of the terminal (JSON): its dense index and its provider.
    pub terminal: StateEntry,
    /// C1's first proof of (terminal, window) (compact binary).
    pub first_proof: StateEntry,
    /// C2's second proof of the period holding it (JSON).
    pub second_proof: StateEntry,
    /// The audit path of the window's leaf in the period's Merkle sum tree, nearest sibling
    /// first (C1's `InclusionProof` query).
    pub inclusion_path: Vec<SumNode>,
    /// The header of block `height + 1` (whose `app_hash` is the state root after `height`) and
    /// its commit, in CometBFT's JSON.
    pub signed_header: SignedHeader,
    /// The validator set of block `height + 1`.
    pub validators: Vec<validator::Info>,
}

/// A receipt file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a receipt bundle: {0}")]
    Json(#[from] serde_json::Error),
}

impl Bundle {
    /// The bundle as pretty-printed JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, BundleError> {
        Ok(serde_json::to_vec_pretty(self)?)
    }

    /// Reads a bundle from its JSON (the version is checked by [`crate::verify`]).
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, BundleError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}
