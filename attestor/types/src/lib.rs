//! `usage-sample`: what a terminal and an aggregator agree on (design flow 1), with no I/O: the
//! canonical [`sample::Sample`] and its signed envelope [`tee::SignedSample`], the attributed
//! host configuration [`terminal::TerminalConfig`], attestation [`tee::Evidence`] and its
//! verification, the HTTP paths and bodies of [`wire`], and the deterministic simulated terminals
//! of [`simulate`] used by fleets, benchmarks and tests. The terminal agent (`usage-attestor`),
//! the aggregator and the command line depend on this crate, never on each other.

pub mod sample;
pub mod simulate;
pub mod tee;
pub mod terminal;
pub mod wire;
