//! The client configuration: `<home>/config.toml` (home: `--home`, `$USAGE_HOME`, else
//! `~/.usage`), written by `usage config set` or by `usage localnet up`, and read by every
//! command. Flags override it. Template: `cli/config-template.toml`.
//!
//! ```toml
//! node = "http://127.0.0.1:26657"
//! chain_id = "usagechain-local-1"
//! # The simulated bank's customer API (localnet deposits) and the custodial account.
//! bank = "http://127.0.0.1:7200"
//! custodial_account = "CN00USAGECUSTODY0001"
//! # keyring = "/home/me/.usage/keyring"
//! [contracts]
//! usage_proof = "usage1…"
//! period_proof = "usage1…"
//! settlement = "usage1…"
//! ledger = "usage1…"
//! withdrawal = "usage1…"
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub const DEFAULT_NODE: &str = "http://127.0.0.1:26657";
pub const DEFAULT_CHAIN_ID: &str = "usagechain-local-1";

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The node's RPC.
    pub node: Option<String>,
    pub chain_id: Option<String>,
    /// The bank's customer API, for `usage deposit` on a localnet.
    pub bank: Option<String>,
    /// The platform's custodial account at that bank, which deposits pay into.
    pub custodial_account: Option<String>,
    /// The keyring's folder [default: `<home>/keyring`].
    pub keyring: Option<PathBuf>,
    #[serde(default)]
    pub contracts: Contracts,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Contracts {
    pub usage_proof: Option<String>,
    pub period_proof: Option<String>,
    pub settlement: Option<String>,
    pub ledger: Option<String>,
    pub withdrawal: Option<String>,
}

impl Contracts {
    /// The address of the contract labelled `label` (`usage-proof` …).
    pub fn get(&self, label: &str) -> Option<&str> {
        match label {
            "usage-proof" => self.usage_proof.as_deref(),
            "period-proof" => self.period_proof.as_deref(),
            "settlement" => self.settlement.as_deref(),
            "ledger" => self.ledger.as_deref(),
            "withdrawal" => self.withdrawal.as_deref(),
            _ => None,
        }
    }

    /// Sets the address of the contract labelled `label`; false for an unknown label.
    pub fn set(&mut self, label: &str, address: String) -> bool {
        let slot = match label {
            "usage-proof" | "usage_proof" => &mut self.usage_proof,
            "period-proof" | "period_proof" => &mut self.period_proof,
            "settlement" => &mut self.settlement,
            "ledger" => &mut self.ledger,
            "withdrawal" => &mut self.withdrawal,
            _ => return false,
        };
        *slot = Some(address);
        true
    }
}

impl ClientConfig {
    pub fn path(home: &Path) -> PathBuf {
        home.join("config.toml")
    }

    /// The configuration in `home` (empty if there is none).
    pub fn load(home: &Path) -> anyhow::Result<ClientConfig> {
        let path = ClientConfig::path(home);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("{}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, home: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(home)?;
        let path = ClientConfig::path(home);
        let text = format!(
            "# usagechain client configuration (flags override it; `usage config show`)\n{}",
            toml::to_string(self)?
        );
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// The client home: `--home`, else `$USAGE_HOME`, else `~/.usage`.
pub fn home(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("USAGE_HOME").map(PathBuf::from))
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".usage")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_configuration_reads_back_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = ClientConfig {
            node: Some("http://127.0.0.1:1".into()),
            chain_id: Some("x-1".into()),
            ..ClientConfig::default()
        };
        assert!(c.contracts.set("ledger", "usage1abc".into()));
        assert!(!c.contracts.set("nothing", "usage1abc".into()));
        c.save(dir.path()).unwrap();
        assert_eq!(ClientConfig::load(dir.path()).unwrap(), c);
        std::fs::write(ClientConfig::path(dir.path()), "nodes = \"x\"\n").unwrap();
        assert!(ClientConfig::load(dir.path()).is_err());
        assert_eq!(
            ClientConfig::load(&dir.path().join("none")).unwrap(),
            ClientConfig::default()
        );
    }
}
