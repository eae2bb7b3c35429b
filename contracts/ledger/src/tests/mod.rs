//! cw-multi-test suites of C4 with real BLS committee signatures.

mod deposit;
mod funds;
mod invariants;
mod migrate;
mod suite;
