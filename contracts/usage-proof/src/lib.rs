//! C1 usage-proof: the committee, the terminal registry and the first resource-usage proofs.
//!
//! `SubmitBatch` takes records in their canonical binary encoding, recomputes the batch's RFC 6962
//! Merkle root, checks the committee's threshold BLS signature over it and records one first proof
//! per (terminal, window). Each proof is also appended to the Merkle sum accumulator of its
//! (provider, tenant, period), which C2 later seals as the second proof.

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

#[cfg(test)]
mod tests;

pub use error::ContractError;
