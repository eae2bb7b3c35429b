//! Reading the chain for one overview: smart queries of the five contracts, paginated through
//! pages of [`PAGE`], into a [`ChainData`]. A query that fails leaves its section empty and adds
//! one line to [`ChainData::errors`]; nothing here panics on what the node answers.
//!
//! Consistency: the node answers only at its latest height, so a read that spans several blocks
//! could mix them. First proofs are made exact as of the height the read began at: each one's
//! batch records the height it landed at (C1 `Batch`, immutable, cached), and proofs of later
//! blocks are left out. Balances, settlements and withdrawals are read just after that height.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use futures::stream::{self, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use usage_client::{ChainClient, ClientError};
use usage_common::msg::ledger as c4;
use usage_common::msg::period_proof as c2;
use usage_common::msg::settlement as c3;
use usage_common::msg::usage_proof::{self as c1, FirstProof, Terminal};
use usage_common::msg::withdrawal as c5;

use crate::config::Contracts;
use crate::metrics::DashboardMetrics;
use crate::overview::{self, ChainData, PeriodData};

/// Page size of every paginated query (the contracts' largest).
pub const PAGE: u32 = usage_common::msg::MAX_LIMIT;
/// Most pages read of one list per overview: a list longer than this is shown truncated.
pub const MAX_PAGES: usize = 100;
/// Queries in flight at once.
const CONCURRENCY: usize = 8;

/// Reads the chain for overviews; remembers the (immutable) heights of batches.
pub struct Reader {
    client: ChainClient,
    contracts: Contracts,
    windows: u64,
    batch_heights: Mutex<HashMap<u64, u64>>,
    metrics: DashboardMetrics,
}

/// A query that failed: what was asked and why.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct QueryFailed {
    /// The query, e.g. `C1 Terminals`.
    pub what: String,
    /// Why.
    #[source]
    pub source: ClientError,
}

impl Reader {
    /// A reader of `contracts` through `client`, usage over the last `windows` windows.
    pub fn new(
        client: ChainClient,
        contracts: Contracts,
        windows: u64,
        metrics: DashboardMetrics,
    ) -> Self {
        Reader {
            client,
            contracts,
            windows,
            batch_heights: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        self.client.chain_id()
    }

    /// The latest height and its block time.
    pub async fn status(&self) -> Result<(u64, u64), ClientError> {
        self.client.status().await
    }

    async fn smart<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &str,
        what: impl FnOnce() -> String,
        query: &Q,
    ) -> Result<R, QueryFailed> {
        let out = self.client.smart(contract, query).await;
        out.map_err(|source| {
            self.metrics.query_failures.inc();
            QueryFailed {
                what: what(),
                source,
            }
        })
    }

    /// Everything the overview shows, read after `height` (whose block time is `time`) was
    /// committed.
    pub async fn read(&self, height: u64, time: u64) -> ChainData {
        let mut data = ChainData {
            chain_id: self.client.chain_id().to_string(),
            height,
            time,
            windows: self.windows,
            ..ChainData::default()
        };
        let mut errors = vec![];
        let mut note = |e: QueryFailed| errors.push(e.to_string());
        let c = &self.contracts;

        match self
            .smart::<_, c1::ConfigResponse>(
                &c.usage_proof,
                || "C1 Config".into(),
                &c1::QueryMsg::Config {},
            )
            .await
        {
            Ok(config) => {
                data.window_seconds = config.window_seconds;
                data.period_seconds = config.period_seconds;
            }
            Err(e) => note(e),
        }
        match self.terminals().await {
            Ok(t) => data.terminals = t,
            Err(e) => note(e),
        }
        if data.window_seconds > 0 {
            let from = overview::first_window(time, data.window_seconds, self.windows);
            let (proofs, failed) = self.proofs(&data.terminals, from, height).await;
            data.proofs = proofs;
            failed.into_iter().for_each(&mut note);
        }
        let (periods, failed) = self.periods(&data.proofs).await;
        data.periods = periods;
        failed.into_iter().for_each(&mut note);
        match self.settlements().await {
            Ok(s) => data.settlements = s,
            Err(e) => note(e),
        }
        match self.withdrawals().await {
            Ok(w) => data.withdrawals = w,
            Err(e) => note(e),
        }
        match self
            .smart::<_, c4::ConfigResponse>(
                &c.ledger,
                || "C4 Config".into(),
                &c4::QueryMsg::Config {},
            )
            .await
        {
            Ok(config) => {
                data.currency = config.currency;
                data.decimals = config.decimals;
            }
            Err(e) => note(e),
        }
        match self
            .smart::<_, c4::TotalSupplyResponse>(
                &c.ledger,
                || "C4 TotalSupply".into(),
                &c4::QueryMsg::TotalSupply {},
            )
            .await
        {
            Ok(s) => data.supply = Some(s),
            Err(e) => note(e),
        }
        let addresses = overview::balance_addresses(&data);
        let balances: Vec<_> = stream::iter(addresses)
            .map(|address| async move {
                let r = self
                    .smart::<_, c4::AccountResponse>(
                        &c.ledger,
                        || format!("C4 Account {address}"),
                        &c4::QueryMsg::Account {
                            address: address.clone(),
                        },
                    )
                    .await;
                (address, r)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for (address, r) in balances {
            match r {
                Ok(a) => data.balances.push((address, a)),
                Err(e) => note(e),
            }
        }
        data.errors = errors;
        data
    }

    async fn terminals(&self) -> Result<Vec<Terminal>, QueryFailed> {
        let mut out: Vec<Terminal> = vec![];
        let mut start_after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page: c1::TerminalsResponse = self
                .smart(
                    &self.contracts.usage_proof,
                    || "C1 Terminals".into(),
                    &c1::QueryMsg::Terminals {
                        start_after: start_after.clone(),
                        limit: Some(PAGE),
                    },
                )
                .await?;
            let full = page.terminals.len() >= PAGE as usize;
            let last = page.terminals.last().map(|t| t.terminal_id.clone());
            out.extend(page.terminals);
            // A page that does not move on (a misbehaving contract) ends the list too.
            if !full || last.is_none() || last == start_after {
                break;
            }
            start_after = last;
        }
        Ok(out)
    }

    /// The first proofs of `terminals` with `window_start >= from` that landed at or before
    /// `height`.
    async fn proofs(
        &self,
        terminals: &[Terminal],
        from: u64,
        height: u64,
    ) -> (Vec<FirstProof>, Vec<QueryFailed>) {
        let mut failed = vec![];
        let ids: Vec<String> = terminals.iter().map(|t| t.terminal_id.clone()).collect();
        let pages: Vec<_> = stream::iter(ids)
            .map(|id| async move { self.terminal_proofs(&id, from).await })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut proofs = vec![];
        for p in pages {
            match p {
                Ok(p) => proofs.extend(p),
                Err(e) => failed.push(e),
            }
        }
        let unknown: BTreeSet<u64> = {
            let known = self
                .batch_heights
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            proofs
                .iter()
                .map(|p| p.batch_id)
                .filter(|b| !known.contains_key(b))
                .collect()
        };
        let found: Vec<_> = stream::iter(unknown)
            .map(|batch_id| async move {
                let r = self
                    .smart::<_, c1::BatchResponse>(
                        &self.contracts.usage_proof,
                        || format!("C1 Batch {batch_id}"),
                        &c1::QueryMsg::Batch { batch_id },
                    )
                    .await;
                (batch_id, r)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut known = self
            .batch_heights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (batch_id, r) in found {
            match r {
                Ok(c1::BatchResponse { batch: Some(b) }) => {
                    known.insert(batch_id, b.height);
                }
                // A proof's batch that C1 does not know: its proofs are left out.
                Ok(c1::BatchResponse { batch: None }) => {}
                Err(e) => failed.push(e),
            }
        }
        proofs.retain(|p| known.get(&p.batch_id).is_some_and(|h| *h <= height));
        drop(known);
        (proofs, failed)
    }

    async fn terminal_proofs(
        &self,
        terminal_id: &str,
        from: u64,
    ) -> Result<Vec<FirstProof>, QueryFailed> {
        let mut out: Vec<FirstProof> = vec![];
        let mut next = from;
        for _ in 0..MAX_PAGES {
            let page: c1::ProofsResponse = self
                .smart(
                    &self.contracts.usage_proof,
                    || format!("C1 TerminalProofs {terminal_id}"),
                    &c1::QueryMsg::TerminalProofs {
                        terminal_id: terminal_id.to_string(),
                        from: next,
                        to: u64::MAX,
                        limit: Some(PAGE),
                    },
                )
                .await?;
            let full = page.proofs.len() >= PAGE as usize;
            let last = page.proofs.last().map(|p| p.window_start);
            out.extend(page.proofs.into_iter().filter(|p| p.window_start >= next));
            match last {
                Some(last) if full && last >= next => next = last.saturating_add(1),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn periods(&self, proofs: &[FirstProof]) -> (Vec<PeriodData>, Vec<QueryFailed>) {
        let keys: BTreeSet<(String, String, u64)> = proofs
            .iter()
            .map(|p| (p.provider.to_string(), p.tenant.clone(), p.period_start))
            .collect();
        let read: Vec<_> = stream::iter(keys)
            .map(|(provider, tenant, period_start)| async move {
                let what = || format!("C2 PeriodProof {provider} {tenant} {period_start}");
                let proof = self
                    .smart::<_, c2::PeriodProofResponse>(
                        &self.contracts.period_proof,
                        what,
                        &c2::QueryMsg::PeriodProof {
                            provider: provider.clone(),
                            tenant: tenant.clone(),
                            period_start,
                        },
                    )
                    .await
                    .map(|r| r.proof);
                let accumulator = match &proof {
                    Ok(None) => Some(
                        self.smart::<_, c1::AccumulatorResponse>(
                            &self.contracts.usage_proof,
                            || format!("C1 Accumulator {provider} {tenant} {period_start}"),
                            &c1::QueryMsg::Accumulator {
                                provider: provider.clone(),
                                tenant: tenant.clone(),
                                period_start,
                            },
                        )
                        .await,
                    ),
                    _ => None,
                };
                (provider, tenant, period_start, proof, accumulator)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut failed = vec![];
        let mut out = vec![];
        for (provider, tenant, period_start, proof, accumulator) in read {
            let proof = proof.unwrap_or_else(|e| {
                failed.push(e);
                None
            });
            let accumulator = match accumulator {
                Some(Ok(a)) => Some(a),
                Some(Err(e)) => {
                    failed.push(e);
                    None
                }
                None => None,
            };
            out.push(PeriodData {
                provider,
                tenant,
                period_start,
                proof,
                accumulator,
            });
        }
        (out, failed)
    }

    async fn settlements(&self) -> Result<Vec<c3::Settlement>, QueryFailed> {
        let mut out: BTreeMap<u64, c3::Settlement> = BTreeMap::new();
        let mut start_after = None;
        for _ in 0..MAX_PAGES {
            let page: c3::SettlementsResponse = self
                .smart(
                    &self.contracts.settlement,
                    || "C3 Settlements".into(),
                    &c3::QueryMsg::Settlements {
                        start_after,
                        limit: Some(PAGE),
                    },
                )
                .await?;
            let full = page.settlements.len() >= PAGE as usize;
            let last = page.settlements.last().map(|s| s.settlement_id);
            out.extend(page.settlements.into_iter().map(|s| (s.settlement_id, s)));
            if !full || last.is_none() || last <= start_after {
                break;
            }
            start_after = last;
        }
        Ok(out.into_values().collect())
    }

    async fn withdrawals(&self) -> Result<Vec<c5::Withdrawal>, QueryFailed> {
        let mut out: BTreeMap<u64, c5::Withdrawal> = BTreeMap::new();
        let mut start_after = None;
        for _ in 0..MAX_PAGES {
            let page: c5::WithdrawalsResponse = self
                .smart(
                    &self.contracts.withdrawal,
                    || "C5 Withdrawals".into(),
                    &c5::QueryMsg::Withdrawals {
                        owner: None,
                        start_after,
                        limit: Some(PAGE),
                    },
                )
                .await?;
            let full = page.withdrawals.len() >= PAGE as usize;
            let last = page.withdrawals.last().map(|w| w.withdrawal_id);
            out.extend(page.withdrawals.into_iter().map(|w| (w.withdrawal_id, w)));
            if !full || last.is_none() || last <= start_after {
                break;
            }
            start_after = last;
        }
        Ok(out.into_values().collect())
    }
}
