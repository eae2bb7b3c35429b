//! `usage proof`: verifiable usage receipts (`usage-receipt`).
//!
//! * `usage proof export --terminal T --window W --out FILE` — once C2 sealed the period holding
//!   the window (`--wait SECONDS` to wait for it), writes the receipt of (T, W): C1's and C2's
//!   stored proofs with their state proofs, the inclusion path, and the signed header that
//!   commits to them. `--c1` defaults to the localnet's C1, `--c2` to the C2 that C1 names.
//! * `usage proof verify FILE --validators FILE` — checks a receipt offline (no node is asked
//!   anything) against a trust root: the chain's `genesis.json`, or a trusted list
//!   `{"chain_id", "usage_proof", "period_proof", "validators": [{"pub_key", "power"}]}`; prints
//!   what it proves, or fails naming the check that refused it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};
use usage_receipt::{Bundle, ExportError, TrustRoot};

/// How often an export waiting for its period to be sealed asks again.
const SEALED_POLL: Duration = Duration::from_secs(5);

#[derive(Subcommand)]
pub enum ProofCommand {
    /// Export the receipt of one terminal's window once its period is sealed.
    Export {
        /// The terminal id.
        #[arg(long)]
        terminal: String,
        /// The window's start (Unix seconds).
        #[arg(long)]
        window: u64,
        /// Where to write the receipt (JSON).
        #[arg(long)]
        out: PathBuf,
        /// C1's address (default: the client configuration's, else the localnet's).
        #[arg(long)]
        c1: Option<String>,
        /// C2's address (default: the one C1's configuration names).
        #[arg(long)]
        c2: Option<String>,
        /// Seconds to wait for the period to be sealed (0: fail at once if it is not).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Verify a receipt offline against a trusted validator set.
    Verify {
        /// The receipt (JSON).
        file: PathBuf,
        /// The chain's genesis.json, or a trusted list of validators with the chain id and the
        /// C1 and C2 addresses. The chain id checked is this file's.
        #[arg(long)]
        validators: PathBuf,
    },
}

/// Runs a `usage proof` command; returns what to print.
/// `configured_c1` is C1's address in the client configuration, used when `--c1` is not given.
pub async fn run(
    cmd: ProofCommand,
    rpc: &str,
    chain_id: &str,
    configured_c1: Option<String>,
) -> anyhow::Result<Value> {
    match cmd {
        ProofCommand::Export {
            terminal,
            window,
            out,
            c1,
            c2,
            wait,
        } => {
            let c1 = match c1.or(configured_c1) {
                Some(c1) => c1,
                None => usage_receipt::address_of(&usage_receipt::classic_contract_address(1, 1))?,
            };
            let c2 = match c2 {
                Some(c2) => c2,
                None => usage_receipt::period_proof_of(rpc, chain_id, &c1).await?,
            };
            let deadline = Instant::now() + Duration::from_secs(wait);
            let bundle = loop {
                match usage_receipt::export(rpc, chain_id, &c1, &c2, &terminal, window).await {
                    Ok(bundle) => break bundle,
                    Err(e @ ExportError::PeriodNotSealed { .. }) if Instant::now() < deadline => {
                        eprintln!("{e}");
                        tokio::time::sleep(SEALED_POLL).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            std::fs::write(&out, bundle.to_json()?)
                .with_context(|| format!("writing {}", out.display()))?;
            Ok(json!({
                "file": out.display().to_string(),
                "chain_id": bundle.chain_id,
                "terminal_id": bundle.terminal_id,
                "window_start": bundle.window_start,
                "height": bundle.height,
                "header_height": bundle.signed_header.header.height.value(),
                "app_hash": hex::encode(bundle.signed_header.header.app_hash.as_bytes()),
            }))
        }
        ProofCommand::Verify { file, validators } => {
            let bundle =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let bundle = Bundle::from_json(&bundle)?;
            let trust = std::fs::read(&validators)
                .with_context(|| format!("reading {}", validators.display()))?;
            let trust = TrustRoot::from_json(&trust)
                .with_context(|| format!("trust root {}", validators.display()))?;
            let verified = usage_receipt::verify(&bundle, &trust)
                .with_context(|| format!("{} does not verify", file.display()))?;
            Ok(json!({ "verified": true, "receipt": verified }))
        }
    }
}
