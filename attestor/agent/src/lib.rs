//! `usage-attestor`, the terminal agent of usagechain (design flow 1): it samples host counters,
//! signs sequence-numbered samples with a TEE-held Ed25519 key whose attestation evidence binds it
//! to an enclave measurement, and keeps them in a durable outbox until every aggregator has them.
//! What it says to aggregators (samples, evidence, HTTP bodies) is the wire contract of the
//! `usage-sample` crate.

pub mod agent;
pub mod counters;
pub mod fleet;
pub mod host;
pub mod key;
pub mod outbox;
pub mod probe;
