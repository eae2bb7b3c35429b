//! The aggregator's configuration: a JSON (or TOML) file, overridable from the environment
//! with `USAGE_AGGREGATOR__<SECTION>__<KEY>` (see `usage_service::config`), validated before
//! the member starts. Unknown keys are refused. Secrets are never in it: it names key files
//! ([`KeyFiles`]). The commented template is `aggregator/config-template.toml`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use usage_service::config::{http_url, socket_addr, Invalid, Validate};

/// The prefix of the environment overrides.
pub const ENV_PREFIX: &str = "USAGE_AGGREGATOR";

/// A peer of the committee, as every member knows it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Its index in the committee (signer-bitmap order).
    pub index: usize,
    /// Base URL of its HTTP server (ingest and peer endpoints).
    pub url: String,
    /// Hex of its Ed25519 peer-link public key, which authenticates its messages.
    pub peer_key: String,
}

/// Who may call this member's signing service besides its peers, and how often any caller may.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct SigningCallers {
    /// Hex Ed25519 public keys of the relayers (and operators' tools) allowed to ask for
    /// signatures; the peers' keys are always allowed.
    pub relayer_keys: Vec<String>,
    /// Requests a caller may make per minute, sustained.
    pub per_minute: u32,
    /// Requests a caller may make at once.
    pub burst: u32,
    /// How far a request's timestamp may be from this member's clock, milliseconds; a nonce is
    /// remembered that long.
    pub window_ms: u64,
}

impl Default for SigningCallers {
    fn default() -> Self {
        SigningCallers {
            relayer_keys: vec![],
            per_minute: 120,
            burst: 30,
            window_ms: 60_000,
        }
    }
}

/// Faults a member can be told to commit, for the Byzantine tests. Never set in production.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Byzantine {
    /// As leader, inflates every record's metrics before proposing.
    AlterRecords,
    /// As member, signs a different root than the one proposed.
    WrongRoot,
    /// As member, answers every proposal with the first partial signature it ever made.
    ReplayPartials,
}

/// Timings of the batch protocol, milliseconds.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// After a window closes, how long its leader waits for late samples before proposing.
    pub settle_ms: u64,
    /// How long a window's leader has before the next member takes over.
    pub failover_ms: u64,
    /// How often the protocol loop runs.
    pub tick_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            settle_ms: 1_500,
            failover_ms: 8_000,
            tick_ms: 250,
        }
    }
}

/// The aggregator's configuration.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This member's index in the committee.
    pub index: usize,
    /// Where the public HTTP server listens (`127.0.0.1:7001`): ingest, peers, signing.
    pub listen: String,
    /// Where the metrics are served (`GET /metrics`), apart from the public API; none if unset.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// Durable storage.
    pub data_dir: PathBuf,
    /// The node's RPC (`http://127.0.0.1:26657`).
    pub rpc: String,
    /// The chain id.
    pub chain_id: String,
    /// C1 usage-proof.
    pub usage_proof: String,
    /// C2 period-proof.
    pub period_proof: String,
    /// C3 settlement (keeper requests settlements when set).
    #[serde(default)]
    pub settlement: Option<String>,
    /// C4 ledger (deposit vouchers).
    #[serde(default)]
    pub ledger: Option<String>,
    /// C5 withdrawal (withdrawal instructions and vouchers).
    #[serde(default)]
    pub withdrawal: Option<String>,
    /// The bank whose signed statements vouchers are checked against; none: this member signs
    /// no voucher.
    #[serde(default)]
    pub bank: Option<BankLink>,
    /// This member's key files.
    pub keys: KeyFiles,
    /// Every member, this one included.
    pub peers: Vec<Peer>,
    /// Protocol timings.
    #[serde(default)]
    pub timing: Timing,
    /// Key files of the BLS keys of later committee epochs this member already holds, for a
    /// rotation: once the chain's committee names one of them at this member's index, it signs
    /// with that key.
    #[serde(default)]
    pub next_bls_keys: Vec<PathBuf>,
    /// The committee rotation this member's operator approved; the member signs no other.
    #[serde(default)]
    pub approved_rotation: Option<usage_common::payload::CommitteeRotation>,
    /// Who may ask for signatures (`POST /v1/sign`) besides the peers, and how often.
    #[serde(default)]
    pub signing: SigningCallers,
    /// Fault injection for tests.
    #[serde(default)]
    pub byzantine: Option<Byzantine>,
    /// How long verified TEE evidence counts, seconds: older evidence must be presented (and
    /// verified) again before the terminal's samples are accepted.
    #[serde(default = "default_evidence_max_age_seconds")]
    pub evidence_max_age_seconds: u64,
}

/// Default [`Config::evidence_max_age_seconds`]: a day.
pub fn default_evidence_max_age_seconds() -> u64 {
    86_400
}

/// Where the bank answers and the key its statements must be signed with.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BankLink {
    /// The bank's base URL (`http://127.0.0.1:9100`): `GET /v1/bookings/{bank_ref}` and
    /// `GET /v1/payments/{end_to_end_id}`.
    pub url: String,
    /// The bank's Ed25519 public key, 64 hex digits: an answer not signed with it is not the
    /// bank's word.
    pub public_key: String,
}

/// A member's key files (mode 0600, each 64 hex digits or 32 raw bytes; see
/// `usage_service::secret`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyFiles {
    /// BLS12-381 committee key (32-byte scalar).
    pub bls: PathBuf,
    /// Ed25519 peer-link key (32-byte seed).
    pub peer: PathBuf,
    /// secp256k1 account key that signs its transactions.
    pub account: PathBuf,
}

impl Config {
    /// A member alone, for tests and benchmarks of one aggregator: index 0, listening on
    /// `listen`, its data in `data_dir`, no peers, no bank, no chain it can reach (its RPC is a
    /// closed port), contracts named `c1` and `c2`, default timing and evidence age.
    pub fn standalone(
        listen: &str,
        data_dir: &std::path::Path,
        chain_id: &str,
        keys: KeyFiles,
    ) -> Config {
        Config {
            index: 0,
            listen: listen.to_string(),
            metrics_listen: None,
            data_dir: data_dir.to_path_buf(),
            rpc: "http://127.0.0.1:1".into(),
            chain_id: chain_id.to_string(),
            usage_proof: "c1".into(),
            period_proof: "c2".into(),
            settlement: None,
            ledger: None,
            withdrawal: None,
            bank: None,
            keys,
            peers: vec![],
            timing: Timing::default(),
            next_bls_keys: vec![],
            approved_rotation: None,
            signing: Default::default(),
            byzantine: None,
            evidence_max_age_seconds: default_evidence_max_age_seconds(),
        }
    }

    /// The peers other than this member.
    pub fn others(&self) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(move |p| p.index != self.index)
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), Invalid> {
        socket_addr("listen", &self.listen)?;
        if let Some(m) = &self.metrics_listen {
            socket_addr("metrics_listen", m)?;
            if *m == self.listen {
                return Err(Invalid::new(
                    "metrics_listen",
                    "must differ from listen: metrics are kept apart from the public API",
                ));
            }
        }
        http_url("rpc", &self.rpc)?;
        if let Some(bank) = &self.bank {
            http_url("bank.url", &bank.url)?;
            usage_bank_api::parse_public_key(&bank.public_key)
                .map_err(|e| Invalid::new("bank.public_key", e))?;
        }
        if self.chain_id.is_empty() {
            return Err(Invalid::new("chain_id", "must not be empty"));
        }
        for (key, addr) in [
            ("usage_proof", Some(&self.usage_proof)),
            ("period_proof", Some(&self.period_proof)),
            ("settlement", self.settlement.as_ref()),
            ("ledger", self.ledger.as_ref()),
            ("withdrawal", self.withdrawal.as_ref()),
        ] {
            if let Some(a) = addr {
                if !a.starts_with("usage1") {
                    return Err(Invalid::new(key, format!("`{a}` is not a usage1… address")));
                }
            }
        }
        if self.peers.is_empty() {
            return Err(Invalid::new(
                "peers",
                "must list every member, this one included",
            ));
        }
        let mut indices = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for (i, p) in self.peers.iter().enumerate() {
            if !indices.insert(p.index) {
                return Err(Invalid::new(
                    format!("peers[{i}].index"),
                    format!("{} appears twice", p.index),
                ));
            }
            if p.index >= self.peers.len() {
                return Err(Invalid::new(
                    format!("peers[{i}].index"),
                    format!(
                        "{} is not below the number of peers, {}",
                        p.index,
                        self.peers.len()
                    ),
                ));
            }
            http_url(&format!("peers[{i}].url"), &p.url)?;
            if hex::decode(&p.peer_key).map(|k| k.len()) != Ok(32) {
                return Err(Invalid::new(
                    format!("peers[{i}].peer_key"),
                    "must be 64 hex digits",
                ));
            }
            if !keys.insert(p.peer_key.as_str()) {
                return Err(Invalid::new(
                    format!("peers[{i}].peer_key"),
                    "appears twice",
                ));
            }
        }
        if !indices.contains(&self.index) {
            return Err(Invalid::new(
                "index",
                format!("{} is not among the peers", self.index),
            ));
        }
        if self.timing.tick_ms == 0 {
            return Err(Invalid::new("timing.tick_ms", "must be above 0"));
        }
        if self.timing.failover_ms < self.timing.tick_ms {
            return Err(Invalid::new(
                "timing.failover_ms",
                "must be at least timing.tick_ms",
            ));
        }
        for (i, k) in self.signing.relayer_keys.iter().enumerate() {
            if hex::decode(k).map(|k| k.len()) != Ok(32) {
                return Err(Invalid::new(
                    format!("signing.relayer_keys[{i}]"),
                    "must be 64 hex digits",
                ));
            }
        }
        if self.signing.per_minute == 0 || self.signing.burst == 0 {
            return Err(Invalid::new(
                "signing",
                "per_minute and burst must be above 0",
            ));
        }
        if self.evidence_max_age_seconds == 0 {
            return Err(Invalid::new("evidence_max_age_seconds", "must be above 0"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn template() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config-template.toml");
        usage_service::config::read(&path, "USAGE_AGGREGATOR_TEMPLATE_TEST").unwrap()
    }

    #[test]
    fn every_key_of_the_commented_template_is_a_real_key() {
        let config = template();
        assert_eq!(config.metrics_listen.as_deref(), Some("127.0.0.1:7101"));
        assert_eq!(config.peers.len(), 2);
        // Its placeholders are refused, naming the key to fill in.
        assert_eq!(config.validate().unwrap_err().key, "peers[0].peer_key");
    }

    #[test]
    fn values_that_cannot_work_are_refused_naming_their_key() {
        let mut good = template();
        for (i, p) in good.peers.iter_mut().enumerate() {
            p.peer_key = hex::encode([i as u8 + 1; 32]);
        }
        good.validate().unwrap();
        let refused = |change: &dyn Fn(&mut Config)| {
            let mut c = good.clone();
            change(&mut c);
            c.validate().unwrap_err().key
        };
        assert_eq!(refused(&|c| c.index = 5), "index");
        assert_eq!(refused(&|c| c.listen = "7001".into()), "listen");
        assert_eq!(
            refused(&|c| c.metrics_listen = Some(c.listen.clone())),
            "metrics_listen"
        );
        assert_eq!(refused(&|c| c.rpc = "localhost:26657".into()), "rpc");
        assert_eq!(refused(&|c| c.peers[1].index = 0), "peers[1].index");
        assert_eq!(
            refused(&|c| c.peers[1].peer_key = c.peers[0].peer_key.clone()),
            "peers[1].peer_key"
        );
        assert_eq!(refused(&|c| c.timing.tick_ms = 0), "timing.tick_ms");
        assert_eq!(
            refused(&|c| c.usage_proof = "cosmos1x".into()),
            "usage_proof"
        );
    }
}
