//! The stored forms of what a receipt proves, decoded as C1 writes them.

use serde::Deserialize;
use usage_common::codec::{DecodeError, Decoder};
use usage_common::record::{Metrics, MAX_TENANT_LEN};

/// A first proof as C1 stores it (`contracts/usage-proof/src/state.rs`, `StoredProof`):
/// `str tenant ‖ u64 batch id ‖ u64 period start ‖ u64 period index ‖ metrics (12 × u64)`.
/// The terminal and the window are in its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFirstProof {
    /// The tenant the terminal served in the window.
    pub tenant: String,
    /// The batch that proved it.
    pub batch_id: u64,
    /// The period whose accumulator holds it (a later one than the window's if proven late).
    pub period_start: u64,
    /// Its leaf index in that period's Merkle sum tree.
    pub period_index: u64,
    pub metrics: Metrics,
}

/// Decodes a stored first proof (strictly: no trailing bytes).
pub fn decode_first_proof(bytes: &[u8]) -> Result<StoredFirstProof, DecodeError> {
    let mut d = Decoder::new(bytes);
    let proof = StoredFirstProof {
        tenant: d.str("tenant", MAX_TENANT_LEN)?.to_string(),
        batch_id: d.u64()?,
        period_start: d.u64()?,
        period_index: d.u64()?,
        metrics: Metrics::decode(&mut d)?,
    };
    d.finish()?;
    Ok(proof)
}

/// What a receipt needs of C1's registration of a terminal (JSON, `TerminalState`): the dense
/// index its first-proof keys use and the provider it bills for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredTerminal {
    pub index: u32,
    pub provider: String,
}

/// Decodes a stored terminal registration.
pub fn decode_terminal(bytes: &[u8]) -> Result<StoredTerminal, serde_json::Error> {
    serde_json::from_slice(bytes)
}
