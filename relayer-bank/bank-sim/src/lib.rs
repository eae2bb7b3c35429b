//! `usage-bank-sim`: the bank of local runs and tests, behaving like a bank's corporate gateway.
//!
//! * [`ledger`]: customer accounts, the platform's custodial account and a double-entry journal
//!   in one redb file (nothing booked is lost on kill -9);
//! * [`messages`]: the ISO 20022 side — `pain.001.001.09` in, `pain.002.001.10` and
//!   `camt.054.001.08` out;
//! * [`approval`]: a payment from the custodial account is executed only if the chain instructed
//!   it and the committee signed it;
//! * [`server`]: the HTTP API, every statement signed with the bank's Ed25519 key, and fault
//!   injection (rejections, delayed, duplicated and reordered notifications).

pub mod approval;
pub mod config;
pub mod ledger;
pub mod messages;
pub mod metrics;
pub mod server;

use std::sync::Arc;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use usage_service::tasks::Tasks;

/// Opens the books and the chain client of `config`, and runs the API (and the metrics server)
/// as tasks until SIGTERM or SIGINT.
pub async fn run(config: config::Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("data_dir {}", config.data_dir.display()))?;
    let key = usage_service::secret::read_key(&config.signing_key)?;
    let key = SigningKey::from_bytes(key.expose());
    let ledger = ledger::Ledger::open(
        &config.data_dir.join("bank.redb"),
        &config.currency,
        &config.custodial_account,
    )?;
    let chain = usage_client::ChainClient::new(&config.chain.rpc, &config.chain.chain_id)?;
    let deployment = approval::Deployment {
        chain_id: config.chain.chain_id.clone(),
        usage_proof: config.chain.usage_proof.clone(),
        settlement: config.chain.settlement.clone(),
        withdrawal: config.chain.withdrawal.clone(),
    };
    let metrics = metrics::BankMetrics::default();
    let registry = metrics.registry.clone();
    let bank = Arc::new(server::Bank::new(
        ledger,
        key,
        &config.bic,
        chain,
        deployment,
        metrics,
    ));
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listen {}", config.listen))?;
    let mut tasks = Tasks::new(tracing::info_span!("usage-bank-sim"));
    if let Some(addr) = &config.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("metrics_listen {addr}"))?;
        tasks.spawn("metrics", move |token| {
            usage_service::metrics::serve(metrics_listener, registry, token)
        });
    }
    tracing::info!(
        listen = %config.listen,
        public_key = %bank.public_key_hex(),
        custodial = %config.custodial_account,
        "bank serving"
    );
    tasks.spawn("api", move |token| async move {
        axum::serve(listener, server::router(bank))
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await?;
        Ok(())
    });
    tasks.run().await?;
    Ok(())
}
