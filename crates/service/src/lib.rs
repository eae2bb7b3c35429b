//! `usage-service`: the one skeleton the off-chain services of usagechain (aggregator, attestor,
//! relayer, bank simulator) and the node's metrics run on, so that an operator meets the same
//! conventions everywhere:
//!
//! | concern | here | convention |
//! |---|---|---|
//! | configuration | [`config::load`] | a JSON or TOML file, then `PREFIX__SECTION__KEY` environment overrides; unknown keys are refused; [`config::Validate`] runs before anything starts |
//! | secrets | [`secret::KeyFile`] | 32-byte keys in files of mode 0600, referenced by path, never inline and never in `Debug` output |
//! | tasks | [`tasks::Tasks`] | one task per role, each in a `tracing` span; SIGTERM or SIGINT cancels them in reverse start order |
//! | metrics | [`metrics`] | `prometheus-client` with descriptions, a `<service>_build_info` gauge, served on an address of its own |
//! | logs | [`logging::init`] | `RUST_LOG` filter, to stderr, an error is one line |

pub mod config;
pub mod logging;
pub mod metrics;
pub mod secret;
pub mod tasks;
pub mod testing;

use std::future::Future;
use std::process::ExitCode;

/// A service binary's `main`: logging set up, `run` awaited, its error (if any) logged as one
/// line naming `service`, and the exit code.
pub async fn main<F: Future<Output = anyhow::Result<()>>>(service: &str, run: F) -> ExitCode {
    logging::init();
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "{service} stopped");
            ExitCode::FAILURE
        }
    }
}
