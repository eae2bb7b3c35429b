//! The aggregator's configuration file (JSON) and its keys.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A peer of the committee, as every member knows it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
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
pub struct Config {
    /// This member's index in the committee.
    pub index: usize,
    /// Where the HTTP server listens (`127.0.0.1:7001`).
    pub listen: String,
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
    /// The bank whose records vouchers are checked against (`GET /v1/bookings/{bank_ref}`).
    #[serde(default)]
    pub bank_url: Option<String>,
    /// Hex of this member's secrets (see [`Keys`]).
    pub keys: Keys,
    /// Every member, this one included.
    pub peers: Vec<Peer>,
    /// Protocol timings.
    #[serde(default)]
    pub timing: Timing,
    /// BLS keys of later committee epochs this member already holds (hex scalars), for a
    /// rotation: once the chain's committee names one of them at this member's index, it signs
    /// with that key.
    #[serde(default)]
    pub next_bls_secrets: Vec<String>,
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

/// A member's secrets, hex.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Keys {
    /// BLS12-381 committee key (32-byte scalar).
    pub bls_secret: String,
    /// Ed25519 peer-link key (32-byte seed).
    pub peer_secret: String,
    /// secp256k1 account key that signs its transactions (32 bytes).
    pub account_secret: String,
}

impl Config {
    /// The peers other than this member.
    pub fn others(&self) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(move |p| p.index != self.index)
    }
}
