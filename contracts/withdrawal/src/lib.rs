//! C5 withdrawal: pays an owner's funds out to the owner's bank account.
//!
//! `RequestWithdrawal` locks the amount in C4 ledger. A request above the per-request limit, or one
//! that takes the owner's rolling usage above the rolling limit, is delayed (never refused and never
//! lost): it becomes payable after `delay_seconds` through `Release`. The committee then approves
//! the payment instruction, the relayer pays it through the bank, and the bank's committee-confirmed
//! voucher either debits the locked funds (booked) or unlocks them (rejected). Each bank reference
//! is consumed once.

pub mod contract;
pub mod error;
mod execute;
mod query;
pub mod state;

pub use error::ContractError;

#[cfg(test)]
mod tests;
