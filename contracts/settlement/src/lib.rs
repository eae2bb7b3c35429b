//! C3 settlement: prices final second proofs and settles them through the bank.
//!
//! `RequestSettlement` reads a (provider, tenant, period) second proof from C2, accepts it only
//! when it is final (dispute window over, or its dispute resolved by the committee), prices its
//! totals with the tariff (integer minor units, floor per line), and locks the tenant's funds in
//! C4 in the same transaction. The committee then approves the payment instruction, and the bank's
//! committee-confirmed voucher either clears the settlement (the locked funds are debited) or fails
//! it (they are unlocked). Every bank reference is consumed once. See `SECURITY.md`.

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
