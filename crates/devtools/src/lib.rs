//! Development tools of usagechain, shared by the tests, the benchmarks, the demo and the command
//! line: a localnet's home and genesis ([`localnet`]) and what wallets and chain registries read
//! about it ([`chain_files`]), a running node ([`node`]), a committee of aggregator processes
//! and the quorum a relayer collects from it ([`committee`]), a simulated fleet with its tenants
//! ([`fleet`]), a wallet that signs with the client's signing function ([`wallet`]), the bank
//! simulator and relayers as processes ([`bank_side`]), and the localnet of `usage localnet up`:
//! every service as a long-running process ([`network`]) and the scenario of all seven flows on
//! it ([`scenario`]). Never part of a deployment.
//!
//! Apart from [`localnet`] and [`chain_files`], these are harnesses: like assertions, they panic
//! with a message when something they need fails, since their callers can only stop.
// The harnesses (node, committee, fleet, wallet) are used like assertions: a step that fails
// panics with its reason. The commands (`localnet`, `chain_files`, `network`, `scenario`) return
// errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bank;
pub mod bank_side;
pub mod chain_bench;
pub mod chain_files;
pub mod committee;
pub mod faults;
pub mod fleet;
pub mod links;
pub mod localnet;
pub mod network;
pub mod node;
pub mod scenario;
pub mod soak;
pub mod wallet;

use std::time::{Duration, Instant};

/// Waits until `cond` holds (checked every second), at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if cond().await {
            return;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
