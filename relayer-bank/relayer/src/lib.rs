//! `usage-relayer`: moves money between the chain and the bank, in ISO 20022, only with the
//! committee's threshold signature, and exactly once.
//!
//! * [`follow`]: settlement and withdrawal requests found with `tx_search` from a durable cursor,
//!   new blocks over the node's websocket;
//! * [`payments`]: each request taken step by step — committee approval on chain, pain.001 to the
//!   bank, the bank's signed outcome as a committee-signed voucher on chain;
//! * [`deposits`]: the bank's camt.054 credits to the custodial account as deposit vouchers on
//!   C4, unaddressable ones parked;
//! * [`reconcile`]: the custodial account against the chain;
//! * [`store`]: the positions that make a restart (or a second relayer) harmless.

pub mod committee;
pub mod config;
pub mod deposits;
pub mod follow;
pub mod metrics;
pub mod payments;
pub mod reconcile;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::Notify;
use usage_service::tasks::Tasks;

use crate::payments::Context;

/// The environment variable naming a step to die at (as kill -9 would), for crash tests:
/// `before-approve`, `before-approve-tx`, `before-pain001`, `after-pain001`,
/// `before-voucher-tx`, `before-deposit-tx`, `before-feed-cursor`.
pub const CRASH_AT: &str = "USAGE_RELAYER_CRASH_AT";

/// Aborts the process at `step` if [`CRASH_AT`] names it: no destructor, no flush, as kill -9.
pub fn crash_point(step: &str) {
    if std::env::var(CRASH_AT).is_ok_and(|s| s == step) {
        eprintln!("usage-relayer: crashing at {step} ({CRASH_AT})");
        std::process::abort();
    }
}

/// The relayer's working context from `config`, with its store (`with_store`: for running; the
/// read-only commands — reconcile, parked — go without, beside a running relayer that holds it).
pub fn context(config: &config::Config, with_store: bool) -> anyhow::Result<Context> {
    let store = if with_store {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("data_dir {}", config.data_dir.display()))?;
        Some(store::Store::open(&config.data_dir.join("relayer.redb"))?)
    } else {
        None
    };
    let relayer_key = usage_service::secret::read_key(&config.keys.relayer)?;
    let account_key = usage_service::secret::read_key(&config.keys.account)?;
    let chain = usage_client::ChainClient::new(&config.rpc, &config.chain_id)?
        .with_key(account_key.expose())?;
    let committee = committee::Committee::new(
        config.members.clone(),
        ed25519_dalek::SigningKey::from_bytes(relayer_key.expose()),
        &config.chain_id,
        &config.usage_proof,
    );
    let bank_key = usage_bank_api::parse_public_key(&config.bank.public_key)
        .map_err(|e| anyhow::anyhow!(e))?;
    let http = reqwest::Client::new();
    Ok(Context {
        chain,
        committee,
        bank: usage_bank_api::BankClient::new(http.clone(), &config.bank.url, bank_key),
        bank_config: config.bank.clone(),
        store,
        http,
        settlement: config.settlement.clone(),
        withdrawal: config.withdrawal.clone(),
        ledger: config.ledger.clone(),
        metrics: metrics::RelayerMetrics::default(),
    })
}

/// Runs the relayer until SIGTERM or SIGINT: the websocket follower, the payments loop, the
/// deposits loop and the metrics server, each a task.
pub async fn run(config: config::Config) -> anyhow::Result<()> {
    let ctx = Arc::new(context(&config, true)?);
    let poll = Duration::from_secs(config.poll_seconds);
    let mut tasks = Tasks::new(tracing::info_span!("usage-relayer"));
    if let Some(addr) = &config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("metrics_listen {addr}"))?;
        let registry = ctx.metrics.registry.clone();
        tasks.spawn("metrics", move |token| {
            usage_service::metrics::serve(listener, registry, token)
        });
    }
    let woken = Arc::new(Notify::new());
    let rpc = config.rpc.clone();
    let notify = woken.clone();
    tasks.spawn("blocks", move |token| follow::blocks(rpc, notify, token));
    let c = ctx.clone();
    let w = woken.clone();
    tasks.spawn("payments", move |token| async move {
        loop {
            if let Err(e) = c.pass().await {
                c.metrics.errors.inc();
                tracing::warn!(error = %format!("{e:#}"), "payments pass failed");
            }
            tokio::select! {
                _ = token.cancelled() => return Ok(()),
                _ = w.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    });
    let c = ctx.clone();
    tasks.spawn("deposits", move |token| async move {
        loop {
            // A full page: more are waiting, read on at once.
            match c.deposits().await {
                Ok(n) if n >= deposits::PAGE => continue,
                Ok(_) => {}
                Err(e) => {
                    c.metrics.errors.inc();
                    tracing::warn!(error = %format!("{e:#}"), "deposits pass failed");
                }
            }
            if !usage_service::tasks::tick(&token, poll).await {
                return Ok(());
            }
        }
    });
    tracing::info!(bank = %config.bank.url, members = config.members.len(), "relayer running");
    tasks.run().await?;
    Ok(())
}
