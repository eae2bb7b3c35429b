//! cw-multi-test suites of C5 against the real C4 ledger, with real BLS committee signatures.

mod admin;
mod flow;
mod invariants;
mod limits;
mod suite;
mod vouchers;
