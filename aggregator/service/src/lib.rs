//! `usage-aggregator`: a usagechain data-processing centre (design flows 1-3). It ingests and
//! verifies attestors' signed samples into durable storage, runs the per-window batch protocol
//! with its peers (rotating leader, BLS partial signatures, failover), submits `SubmitBatch` to
//! C1, and keeps periods moving (`ProvePeriod`, `RequestSettlement`).

pub mod callers;
pub mod chainview;
pub mod config;
pub mod ingest;
pub mod keeper;
pub mod keys;
pub mod metrics;
pub mod p2p;
pub mod protocol;
pub mod server;
pub mod signing;
pub mod store;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use tokio::sync::{Mutex, Notify, RwLock};
use usage_bank_api::BankClient;
use usage_client::ChainClient;
use usage_signer::MemberSecret;

use crate::callers::CallerGuard;
use crate::chainview::{ChainView, LeaseBook};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

pub use usage_sample::sample::now_ms;

impl AppState {
    /// The state of a member with `config`, its opened `store`, the chain `view` loaded at start
    /// and a `client` signing with its account. Its keyring is the configured BLS key followed by
    /// `next_bls_keys`.
    pub fn new(
        config: Config,
        store: Store,
        view: ChainView,
        client: ChainClient,
    ) -> anyhow::Result<AppState> {
        let secrets = config.keys.load()?;
        let mut keyring = vec![secrets.bls];
        for path in &config.next_bls_keys {
            keyring.push(crate::keys::read_bls_key(path)?);
        }
        Ok(AppState {
            store,
            view: RwLock::new(Arc::new(view)),
            metrics: Metrics::default(),
            ingest_lock: Mutex::new(()),
            refresh: Notify::new(),
            followed: Notify::new(),
            client,
            keyring,
            peer_key: secrets.peer,
            http: reqwest::Client::new(),
            bank: config
                .bank
                .as_ref()
                .map(|b| -> anyhow::Result<BankClient> {
                    let key = usage_bank_api::parse_public_key(&b.public_key)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    Ok(BankClient::new(reqwest::Client::new(), &b.url, key))
                })
                .transpose()?,
            inflight: Mutex::new(BTreeMap::new()),
            retry_at: Mutex::new(BTreeMap::new()),
            leases: std::sync::Mutex::new(LeaseBook::default()),
            verifying_keys: std::sync::Mutex::new(BTreeMap::new()),
            first_partial: std::sync::Mutex::new(None),
            callers: CallerGuard::new(&config)?,
            config,
        })
    }

    /// The key this member signs with for `committee`: the one of its keyring that the
    /// committee names at this member's index (the configured key if none does, whose
    /// signatures the committee will then refuse).
    pub fn key_for(&self, committee: &usage_common::Committee) -> &MemberSecret {
        let named = committee.members.get(self.config.index);
        self.keyring
            .iter()
            .find(|k| named.is_some_and(|n| n.as_slice() == k.public_key()))
            .or_else(|| self.keyring.first())
            .unwrap_or_else(|| unreachable!("the keyring always holds the configured key"))
    }
}

/// Everything the server and the protocol loop share.
pub struct AppState {
    /// The configuration.
    pub config: Config,
    /// Durable storage.
    pub store: Store,
    /// C1's state as last loaded.
    pub view: RwLock<Arc<ChainView>>,
    /// Counters.
    pub metrics: Metrics,
    /// Serialises ingest requests (sequence checks and their writes).
    pub ingest_lock: Mutex<()>,
    /// Asks the refresher to reload the chain view now.
    pub refresh: Notify,
    /// Tells the leader the follower has read the chain's new blocks.
    pub followed: Notify,
    /// The chain, signing with this member's account.
    pub client: ChainClient,
    /// This member's BLS committee keys: the configured one, then those of later epochs.
    pub keyring: Vec<MemberSecret>,
    /// This member's peer-link key.
    pub peer_key: SigningKey,
    /// HTTP client for peers.
    pub http: reqwest::Client,
    /// The bank, whose signed statements vouchers are checked against (none configured: no
    /// voucher is signed).
    pub bank: Option<BankClient>,
    /// Records submitted and not yet seen committed, with when to stop waiting.
    pub inflight: Mutex<BTreeMap<(String, u64), Instant>>,
    /// Windows this member proposed, and when it may propose their leftovers again.
    pub retry_at: Mutex<BTreeMap<u64, Instant>>,
    /// Leases read from C1 for windows before a terminal's latest lease.
    pub leases: std::sync::Mutex<LeaseBook>,
    /// Registered attestor keys, decoded once (see [`ingest::decoded_key`]).
    pub verifying_keys: std::sync::Mutex<BTreeMap<[u8; 32], ed25519_dalek::VerifyingKey>>,
    /// For the `replay_partials` fault: the first partial this member made.
    pub first_partial: std::sync::Mutex<Option<String>>,
    /// Who may ask for signatures, and how often.
    pub callers: CallerGuard,
}
