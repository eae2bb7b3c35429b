//! The relayer's configuration: a JSON or TOML file (template:
//! `relayer-bank/relayer/config-template.toml`), any key overridable from the environment as
//! `USAGE_RELAYER__<KEY>` (nested: `USAGE_RELAYER__BANK__URL`); unknown keys are refused.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use usage_service::config::{http_url, socket_addr, Invalid, Validate};

/// The environment prefix of overrides.
pub const ENV_PREFIX: &str = "USAGE_RELAYER";

/// Everything the relayer needs.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where its metrics are served (`GET /metrics`); none if unset.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// Durable state (`relayer.redb`): the cursors and parked deposits.
    pub data_dir: PathBuf,
    /// A node's RPC (`http://127.0.0.1:26657`); its websocket is `<rpc>/websocket`.
    pub rpc: String,
    /// The chain id.
    pub chain_id: String,
    /// C1 usage-proof (the committee).
    pub usage_proof: String,
    /// C3 settlement.
    pub settlement: String,
    /// C4 ledger.
    pub ledger: String,
    /// C5 withdrawal.
    pub withdrawal: String,
    /// The committee members' signing services, by committee index.
    pub members: Vec<String>,
    /// Key files (mode 0600, 64 hex digits).
    pub keys: KeyFiles,
    /// The bank.
    pub bank: BankConfig,
    /// Seconds between passes when no new block wakes the relayer.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
}

/// The relayer's secrets.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyFiles {
    /// Ed25519 key that seals its requests to the members (they list its public key).
    pub relayer: PathBuf,
    /// secp256k1 key of the account that submits its transactions.
    pub account: PathBuf,
}

/// The bank connection.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BankConfig {
    /// The bank's base URL.
    pub url: String,
    /// The bank's Ed25519 public key (64 hex digits): only what it signed is read.
    pub public_key: String,
    /// The platform's custodial account at the bank.
    pub custodial_account: String,
    /// The custodial account holder's name, as instructed.
    #[serde(default = "default_holder")]
    pub account_holder: String,
    /// The bank's BIC (the debtor agent of instructions).
    pub bic: String,
}

fn default_poll_seconds() -> u64 {
    2
}

fn default_holder() -> String {
    "usagechain custody".into()
}

impl Validate for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if let Some(m) = &self.metrics_listen {
            socket_addr("metrics_listen", m)?;
        }
        http_url("rpc", &self.rpc)?;
        http_url("bank.url", &self.bank.url)?;
        usage_bank_api::parse_public_key(&self.bank.public_key)
            .map_err(|e| Invalid::new("bank.public_key", e))?;
        if self.members.is_empty() {
            return Err(Invalid::new("members", "at least one member"));
        }
        for (i, m) in self.members.iter().enumerate() {
            http_url(&format!("members[{i}]"), m)?;
        }
        for (key, value) in [
            ("chain_id", &self.chain_id),
            ("usage_proof", &self.usage_proof),
            ("settlement", &self.settlement),
            ("ledger", &self.ledger),
            ("withdrawal", &self.withdrawal),
            ("bank.custodial_account", &self.bank.custodial_account),
            ("bank.bic", &self.bank.bic),
        ] {
            if value.is_empty() {
                return Err(Invalid::new(key, "must not be empty"));
            }
        }
        if self.poll_seconds == 0 {
            return Err(Invalid::new("poll_seconds", "must be at least 1"));
        }
        Ok(())
    }
}
