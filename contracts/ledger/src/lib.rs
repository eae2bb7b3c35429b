//! C4 ledger: the on-chain mirror of the platform's custodial bank account.
//!
//! A committee-signed deposit voucher credits a tenant's available balance exactly once per bank
//! reference. Only the settlement (C3) and withdrawal (C5) contracts move funds afterwards: they lock
//! available funds, unlock them again, or debit locked funds once the bank has paid them out. Running
//! totals are kept in one item, so `total == deposited - settled - withdrawn` is checkable in O(1).

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
