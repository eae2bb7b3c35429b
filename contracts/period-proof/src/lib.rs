//! C2 period-proof: second resource-usage proofs.
//!
//! Once a period is closed and its grace time has passed, anyone may call `ProvePeriod` for a
//! (provider, tenant, period). The contract reads C1's running Merkle sum accumulator of that
//! period and seals its root and totals as the second proof, so any first proof can later be shown
//! to be inside it (`VerifyInclusion`). The tenant may dispute a proof until its dispute deadline;
//! a dispute is closed only by the committee's threshold-signed resolution, which either upholds
//! the proven totals or replaces them with adjusted ones for billing.

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
