//! What the dashboard reads and where it listens: the node, the five contracts (named one by one
//! or read from a localnet's `localnet.json`) and the listening address, refused outside the
//! loopback interface unless the operator asks for a public dashboard.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

/// Why the dashboard's settings were refused.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// The localnet file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The localnet file is not a localnet.json.
    #[error("{path} is not a localnet.json: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The localnet file has no contract of this label.
    #[error("{path} names no contract `{label}`")]
    MissingContract {
        /// The file.
        path: PathBuf,
        /// The label (`usage-proof`, …).
        label: &'static str,
    },
    /// Neither a localnet file nor all five addresses were given.
    #[error("no address for the {label} contract: pass --localnet FILE or --{label} ADDRESS")]
    NoContract {
        /// The label.
        label: &'static str,
    },
    /// No chain id was given and no localnet file names one.
    #[error("no chain id: pass --chain-id ID (or --localnet FILE)")]
    NoChainId,
    /// `--chain-id` and the localnet file disagree.
    #[error("--chain-id {given} but {path} is the localnet of chain {file}")]
    ChainIdMismatch {
        /// The command line's.
        given: String,
        /// The file's.
        file: String,
        /// The file.
        path: PathBuf,
    },
    /// The listening address is not `host:port`.
    #[error("--listen `{0}` is not an address like 127.0.0.1:8080")]
    BadListen(String),
    /// A non-loopback listening address without `--public`.
    #[error("refusing to listen on {0}, which is not a loopback address: pass --public to serve the dashboard beyond this machine")]
    NotLoopback(SocketAddr),
    /// The node's URL is not an http(s) URL.
    #[error("--rpc: {0}")]
    BadRpc(String),
    /// A count that must be positive is zero.
    #[error("--{0} must be above 0")]
    Zero(&'static str),
}

/// The addresses of the five contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contracts {
    /// C1 usage-proof.
    pub usage_proof: String,
    /// C2 period-proof.
    pub period_proof: String,
    /// C3 settlement.
    pub settlement: String,
    /// C4 ledger.
    pub ledger: String,
    /// C5 withdrawal.
    pub withdrawal: String,
}

/// The part of a localnet's `localnet.json` the dashboard needs (its other keys are ignored).
#[derive(Debug, Deserialize)]
struct LocalnetFile {
    chain_id: String,
    /// (label, address) pairs.
    contracts: Vec<(String, String)>,
}

/// A localnet's chain id and contracts, from its `localnet.json`.
pub fn read_localnet(path: &Path) -> Result<(String, Contracts), SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_localnet(path, &text)
}

fn parse_localnet(path: &Path, text: &str) -> Result<(String, Contracts), SettingsError> {
    let file: LocalnetFile = serde_json::from_str(text).map_err(|e| SettingsError::Malformed {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let find = |label: &'static str| {
        file.contracts
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, a)| a.clone())
            .ok_or_else(|| SettingsError::MissingContract {
                path: path.to_path_buf(),
                label,
            })
    };
    let contracts = Contracts {
        usage_proof: find("usage-proof")?,
        period_proof: find("period-proof")?,
        settlement: find("settlement")?,
        ledger: find("ledger")?,
        withdrawal: find("withdrawal")?,
    };
    Ok((file.chain_id, contracts))
}

/// The contract addresses given one by one on the command line.
#[derive(Debug, Clone, Default)]
pub struct ContractArgs {
    /// C1.
    pub usage_proof: Option<String>,
    /// C2.
    pub period_proof: Option<String>,
    /// C3.
    pub settlement: Option<String>,
    /// C4.
    pub ledger: Option<String>,
    /// C5.
    pub withdrawal: Option<String>,
}

impl ContractArgs {
    fn complete(self) -> Result<Contracts, SettingsError> {
        let need = |v: Option<String>, label| v.ok_or(SettingsError::NoContract { label });
        Ok(Contracts {
            usage_proof: need(self.usage_proof, "usage-proof")?,
            period_proof: need(self.period_proof, "period-proof")?,
            settlement: need(self.settlement, "settlement")?,
            ledger: need(self.ledger, "ledger")?,
            withdrawal: need(self.withdrawal, "withdrawal")?,
        })
    }
}

/// Everything the dashboard runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the page, the API and the metrics are served.
    pub listen: SocketAddr,
    /// The node's RPC URL.
    pub rpc: String,
    /// The chain id.
    pub chain_id: String,
    /// The five contracts.
    pub contracts: Contracts,
    /// How many of the latest windows the usage charts and totals cover.
    pub windows: u64,
    /// How often the node's latest height is polled, milliseconds.
    pub poll_ms: u64,
}

/// The command line's values, before they are checked.
#[derive(Debug, Clone)]
pub struct RawSettings {
    /// `--listen`.
    pub listen: String,
    /// `--public`.
    pub public: bool,
    /// `--rpc`.
    pub rpc: String,
    /// `--chain-id`.
    pub chain_id: Option<String>,
    /// `--localnet`.
    pub localnet: Option<PathBuf>,
    /// The five addresses.
    pub contracts: ContractArgs,
    /// `--windows`.
    pub windows: u64,
    /// `--poll-ms`.
    pub poll_ms: u64,
}

impl RawSettings {
    /// Checks the values and reads the localnet file, if one is named. Addresses given one by
    /// one take precedence over the file's.
    pub fn resolve(self) -> Result<Settings, SettingsError> {
        let listen: SocketAddr = self
            .listen
            .parse()
            .map_err(|_| SettingsError::BadListen(self.listen.clone()))?;
        if !listen.ip().is_loopback() && !self.public {
            return Err(SettingsError::NotLoopback(listen));
        }
        usage_service::config::http_url("rpc", &self.rpc)
            .map_err(|e| SettingsError::BadRpc(e.reason))?;
        if self.windows == 0 {
            return Err(SettingsError::Zero("windows"));
        }
        if self.poll_ms == 0 {
            return Err(SettingsError::Zero("poll-ms"));
        }
        let (chain_id, contracts) = match &self.localnet {
            Some(path) => {
                let (file_chain, file) = read_localnet(path)?;
                let chain_id = match self.chain_id {
                    Some(given) if given != file_chain => {
                        return Err(SettingsError::ChainIdMismatch {
                            given,
                            file: file_chain,
                            path: path.clone(),
                        })
                    }
                    _ => file_chain,
                };
                let c = self.contracts;
                let contracts = Contracts {
                    usage_proof: c.usage_proof.unwrap_or(file.usage_proof),
                    period_proof: c.period_proof.unwrap_or(file.period_proof),
                    settlement: c.settlement.unwrap_or(file.settlement),
                    ledger: c.ledger.unwrap_or(file.ledger),
                    withdrawal: c.withdrawal.unwrap_or(file.withdrawal),
                };
                (chain_id, contracts)
            }
            None => (
                self.chain_id.ok_or(SettingsError::NoChainId)?,
                self.contracts.complete()?,
            ),
        };
        Ok(Settings {
            listen,
            rpc: self.rpc,
            chain_id,
            contracts,
            windows: self.windows,
            poll_ms: self.poll_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(listen: &str, public: bool) -> RawSettings {
        RawSettings {
            listen: listen.into(),
            public,
            rpc: "http://127.0.0.1:26657".into(),
            chain_id: Some("c".into()),
            localnet: None,
            contracts: ContractArgs {
                usage_proof: Some("c1".into()),
                period_proof: Some("c2".into()),
                settlement: Some("c3".into()),
                ledger: Some("c4".into()),
                withdrawal: Some("c5".into()),
            },
            windows: 30,
            poll_ms: 500,
        }
    }

    #[test]
    fn a_public_address_needs_public_and_every_contract_is_named() {
        assert!(raw("127.0.0.1:8080", false).resolve().is_ok());
        assert!(raw("[::1]:8080", false).resolve().is_ok());
        assert!(matches!(
            raw("0.0.0.0:8080", false).resolve(),
            Err(SettingsError::NotLoopback(_))
        ));
        assert!(raw("0.0.0.0:8080", true).resolve().is_ok());
        assert!(matches!(
            raw("localhost", false).resolve(),
            Err(SettingsError::BadListen(_))
        ));
        let mut r = raw("127.0.0.1:8080", false);
        r.contracts.ledger = None;
        assert!(matches!(
            r.resolve(),
            Err(SettingsError::NoContract { label: "ledger" })
        ));
        let mut r = raw("127.0.0.1:8080", false);
        r.rpc = "127.0.0.1:26657".into();
        assert!(matches!(r.resolve(), Err(SettingsError::BadRpc(_))));
    }

    #[test]
    fn a_localnet_file_names_the_chain_and_the_contracts() {
        let text = r#"{"chain_id":"usagechain-local","ports":{"rpc":1,"p2p":2,"abci":3},
            "admin_address":"usage1x","admin_secret_hex":"00","committee_label":"l",
            "contracts":[["usage-proof","a1"],["period-proof","a2"],["ledger","a4"],
            ["settlement","a3"],["withdrawal","a5"]]}"#;
        let (chain, c) = parse_localnet(Path::new("localnet.json"), text).unwrap();
        assert_eq!(chain, "usagechain-local");
        assert_eq!(
            c,
            Contracts {
                usage_proof: "a1".into(),
                period_proof: "a2".into(),
                settlement: "a3".into(),
                ledger: "a4".into(),
                withdrawal: "a5".into(),
            }
        );
        let short = r#"{"chain_id":"x","contracts":[["usage-proof","a1"]]}"#;
        assert!(matches!(
            parse_localnet(Path::new("l.json"), short),
            Err(SettingsError::MissingContract {
                label: "period-proof",
                ..
            })
        ));
        assert!(matches!(
            parse_localnet(Path::new("l.json"), "{}"),
            Err(SettingsError::Malformed { .. })
        ));
    }
}
