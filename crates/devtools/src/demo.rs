//! The live demo: a one-validator localnet on the default ports in a home it leaves for
//! inspection, four aggregators (threshold 3) configured by `usage-aggregator localnet`, a
//! simulated fleet registered on the usage-proof contract and leased by one tenant account (the
//! key of the committee tests' first tenant, 32 bytes `0x7a`). Every 10 s it prints the batches
//! and first proofs that landed and the second proof of the first closed period; at the end, the
//! first aggregator's counters. Everything it started stops when it returns.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use usage_aggregator::config::Config;
use usage_client::ChainClient;
use usage_common::msg::period_proof as c2;
use usage_common::msg::usage_proof as c1;

use crate::committee::spawn_aggregator;
use crate::fleet::{lease_terminals, register_terminals, Simulator};
use crate::localnet::{Ports, ADMIN_SEED};
use crate::node::{http_get_text, sibling_binary, Home, Killer, Localnet};

/// The secret key of the demo's tenant.
pub const TENANT_SEED: [u8; 32] = [0x7a; 32];

/// What the demo runs.
pub struct Demo {
    /// The localnet's home; it must not exist yet (`scripts/localnet.sh clean` removes it).
    pub home: PathBuf,
    pub chain_id: String,
    pub terminals: u64,
    pub seconds: u64,
}

impl Demo {
    /// Runs the demo to its end.
    pub async fn run(&self) -> anyhow::Result<()> {
        if self.home.join("localnet.json").exists() {
            bail!(
                "{} already holds a localnet (bash scripts/localnet.sh clean)",
                self.home.display()
            );
        }
        std::fs::create_dir_all(&self.home)?;
        let ports = Ports::default();
        let node = Localnet::start_in(Home::Kept(self.home.clone()), &self.chain_id, ports).await;
        let height = node.wait_for_height(2).await;
        println!(
            "localnet up: height {height}, RPC {}, home {}",
            node.rpc_url(),
            self.home.display()
        );
        let c1_address = node.info.contract("usage-proof")?.to_string();
        let c2_address = node.info.contract("period-proof")?.to_string();
        let admin = node.info.admin_address.clone();

        let committee_home = self.home.join("committee");
        let written = Command::new(sibling_binary("usage-aggregator"))
            .arg("localnet")
            .arg("--home")
            .arg(&committee_home)
            .args(["--rpc", &node.rpc_url(), "--chain-id", &self.chain_id])
            .args(["--usage-proof", &c1_address, "--period-proof", &c2_address])
            .stdout(Stdio::null())
            .status()
            .context("usage-aggregator localnet")?;
        if !written.success() {
            bail!("usage-aggregator localnet: {written}");
        }
        let mut processes = Killer::default();
        let mut urls = vec![];
        let mut metrics = vec![];
        for i in 0..4 {
            let path = committee_home.join(format!("aggregator-{i}.json"));
            let config: Config = serde_json::from_slice(&std::fs::read(&path)?)?;
            urls.push(format!("http://{}", config.listen));
            metrics.extend(config.metrics_listen.clone());
            processes.0.push(spawn_aggregator(
                &path,
                &self.home,
                &format!("aggregator-{i}"),
            ));
        }

        let chain = ChainClient::new(&node.rpc_url(), &self.chain_id)?;
        let admin_client =
            ChainClient::new(&node.rpc_url(), &self.chain_id)?.with_key(&ADMIN_SEED)?;
        register_terminals(&admin_client, &c1_address, &admin, self.terminals).await;
        eprintln!("registered {} terminals of fleet \"sim\"", self.terminals);
        let tenant_client =
            ChainClient::new(&node.rpc_url(), &self.chain_id)?.with_key(&TENANT_SEED)?;
        let tenant = lease_terminals(
            &c1_address,
            &admin,
            std::slice::from_ref(&tenant_client),
            self.terminals,
        )
        .await
        .remove(0);
        eprintln!(
            "{tenant} leased {} terminals of fleet \"sim\" from 0",
            self.terminals
        );
        let fleet = Simulator {
            terminals: self.terminals,
            tenants: vec![tenant.clone()],
            aggregators: urls.clone(),
            interval_ms: None,
            seconds: Some(self.seconds),
        };
        processes.0.push(fleet.spawn(&self.home));
        let listen: Vec<&str> = urls
            .iter()
            .map(|u| u.trim_start_matches("http://"))
            .collect();
        println!(
            "aggregators on {} (metrics at {}), {} simulated terminals leased by {tenant}; logs in {}",
            listen.join(", "),
            metrics.join(", "),
            self.terminals,
            self.home.display()
        );

        let started = Instant::now();
        let mut first_period = None;
        while started.elapsed() < Duration::from_secs(self.seconds) {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let config: c1::ConfigResponse =
                chain.smart(&c1_address, &c1::QueryMsg::Config {}).await?;
            let proofs: c1::ProofsResponse = chain
                .smart(
                    &c1_address,
                    &c1::QueryMsg::TerminalProofs {
                        terminal_id: "sim-00000".into(),
                        from: 0,
                        to: u64::MAX,
                        limit: Some(100),
                    },
                )
                .await?;
            if first_period.is_none() {
                first_period = proofs
                    .proofs
                    .first()
                    .map(|p| (p.window_start / 60 + 1) * 60);
            }
            let mut period = String::new();
            if let Some(period_start) = first_period {
                let answer: c2::PeriodProofResponse = chain
                    .smart(
                        &c2_address,
                        &c2::QueryMsg::PeriodProof {
                            provider: admin.clone(),
                            tenant: tenant.clone(),
                            period_start,
                        },
                    )
                    .await?;
                if let Some(p) = answer.proof {
                    let root = p.root.to_hex();
                    period = format!(
                        "second proof of period {}: {} records, root {}",
                        p.period_start,
                        p.totals.records,
                        &root[..16.min(root.len())]
                    );
                }
            }
            println!(
                "{:4}s  batches {}, first proofs of sim-00000 {} {period}",
                started.elapsed().as_secs(),
                config.next_batch_id.saturating_sub(1),
                proofs.proofs.len()
            );
        }
        let port = metrics
            .first()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(7101);
        for line in http_get_text(port, "/metrics").lines() {
            let counted = [
                "samples_stored",
                "batches_submitted",
                "records_submitted",
                "keeper_txs",
            ]
            .iter()
            .any(|c| line.starts_with(&format!("usage_aggregator_{c}_total")));
            if counted {
                println!("{line}");
            }
        }
        drop(processes);
        drop(node);
        Ok(())
    }
}
