//! The keeper: moves the periods this member follows along on chain — C2 `ProvePeriod` once a
//! period's grace has passed, C3 `RequestSettlement` once it is proven — one responsible member
//! at a time (the period's leader, then the next one after each failover timeout).
//!
//! It runs in its own task and never waits for a block: a pass first reads the outcome of the
//! calls it broadcast on earlier passes (one transaction lookup each), then broadcasts at most
//! [`MAX_IN_FLIGHT`] new calls (`broadcast_tx_sync`) and returns. What the chain answered
//! decides what happens next ([`classify`]):
//! * the call took effect, or had already (`AlreadyProven`, `AlreadyRequested`, `Deferred`):
//!   the period's state is raised;
//! * it can never succeed (`EmptyPeriod`, a tenant that is not an address): the period is
//!   abandoned;
//! * it may succeed once someone acts (`InsufficientFunds`, `NoPayeeAccount`, `NothingToBill`,
//!   `BelowMinimum`, an open dispute): the period backs off, 30 s doubling up to one hour;
//! * it is early (the dispute window or the grace is still open): it waits until the time the
//!   contract named;
//! * it ran out of gas: it is tried again soon with twice the gas (at most [`MAX_KEEPER_GAS`]);
//! * anything else (the node, the mempool, a call not seen in a block): it is tried again soon.
//!
//! Periods that started more than [`HORIZON_PERIODS`] × (period + grace + dispute window +
//! resolution window) ago are forgotten.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use usage_common::msg::period_proof::ExecuteMsg as C2Execute;
use usage_common::msg::settlement::ExecuteMsg as C3Execute;

use usage_client::{ChainClient, ClientError, TxOutcome};

use crate::protocol::responsible;
use crate::store::{PeriodKey, PeriodState, Store, StoreError};

/// Most keeper calls in flight at once. Keeper calls share the member's account with its
/// batches, and a block takes a sender's transactions in sequence order only, so a few small
/// calls at a time keep the batches' way into blocks clear.
pub const MAX_IN_FLIGHT: usize = 4;
/// The gas limit of a keeper call: a `ProvePeriod` used about 0.65 M on the localnet and a
/// refused `RequestSettlement` about 0.15 M, so four calls in flight leave a 90 M block room
/// for two 30 M batches.
pub const KEEPER_GAS: u64 = 5_000_000;
/// The gas limit a call that ran out of gas doubles up to.
pub const MAX_KEEPER_GAS: u64 = 20_000_000;
/// How long a broadcast call is looked for in blocks before it is counted as lost.
pub const LOST_AFTER_MS: u64 = 30_000;
/// How soon a call that failed for a passing reason is tried again.
pub const RETRY_MS: u64 = 5_000;
/// The first back-off after a refusal that only someone else's action can lift.
pub const FIRST_BACKOFF_MS: u64 = 30_000;
/// The longest back-off.
pub const MAX_BACKOFF_MS: u64 = 3_600_000;
/// How many (period + grace + dispute window + resolution window) spans a period is kept.
pub const HORIZON_PERIODS: u64 = 4;
/// The SDK code of an out-of-gas transaction.
const SDK_OUT_OF_GAS: u32 = 11;

/// A keeper call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// C2 `ProvePeriod`.
    ProvePeriod,
    /// C3 `RequestSettlement`.
    RequestSettlement,
}

/// What to do after the chain answered a keeper call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The call took effect, or had already: the period is now in this state.
    Reached(PeriodState),
    /// The call can never succeed for this period: leave it alone.
    Abandon,
    /// Refused until someone acts (a deposit, a payee account, a tariff, a dispute's end):
    /// back off exponentially.
    BackOff,
    /// Refused until this block time (Unix seconds), which the contract named.
    Until(u64),
    /// Failed for a passing reason: try again soon.
    Retry,
    /// Ran out of gas: try again soon with more.
    OutOfGas,
}

/// The number after `key` in `log` (`until: 123`, `from 123`).
fn number_after(log: &str, key: &str) -> Option<u64> {
    let rest = &log[log.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Classifies the chain's answer to `call` from its code and log (the contract's error text).
pub fn classify(call: Call, outcome: &TxOutcome) -> Verdict {
    if outcome.is_ok() {
        return Verdict::Reached(match call {
            Call::ProvePeriod => PeriodState::Proven,
            Call::RequestSettlement => PeriodState::SettlementRequested,
        });
    }
    let log = outcome.log.as_str();
    let has = |s: &str| log.contains(s);
    if (outcome.codespace == "sdk" && outcome.code == SDK_OUT_OF_GAS) || has("out of gas") {
        return Verdict::OutOfGas;
    }
    // Refusals of the contracts, by their error texts.
    match call {
        Call::ProvePeriod => {
            if has("is already proven") {
                Verdict::Reached(PeriodState::Proven)
            } else if has("has no first proofs")
                || has("is empty or longer than")
                || has("is not a valid address")
            {
                Verdict::Abandon
            } else if let Some(at) = number_after(log, "may be proven from") {
                Verdict::Until(at)
            } else {
                Verdict::Retry
            }
        }
        Call::RequestSettlement => {
            // A settlement exists, or the period's amount rides on in a later one.
            if has("already has settlement") || has("was deferred into a later settlement") {
                Verdict::Reached(PeriodState::SettlementRequested)
            } else if has("is not a valid address") {
                Verdict::Abandon
            } else if has("DisputeWindowOpen") {
                number_after(log, "until:").map_or(Verdict::Retry, |u| Verdict::Until(u + 1))
            } else if has("prices to zero")
                || has("is below the minimum")
                || has("has no payee account")
                || (has("available,") && has("needed"))
                || has("not final: Disputed")
                || has("has no second proof")
            {
                Verdict::BackOff
            } else {
                Verdict::Retry
            }
        }
    }
}

/// The back-off after `refusals` refusals in a row (at least one): 30 s, doubling, at most
/// one hour.
pub fn backoff_ms(refusals: u32) -> u64 {
    let doublings = refusals.saturating_sub(1).min(32);
    FIRST_BACKOFF_MS
        .saturating_mul(1u64 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// What the keeper needs of the chain: its time, a broadcast that does not wait, and a lookup
/// of a transaction's outcome.
pub trait KeeperChain {
    /// The latest block's time, Unix seconds.
    fn block_time(&self) -> impl Future<Output = Result<u64, ClientError>> + Send;
    /// Broadcasts one execution of `contract` and returns its hash once the mempool took it.
    fn broadcast_call(
        &self,
        contract: &str,
        msg: &serde_json::Value,
        gas: u64,
    ) -> impl Future<Output = Result<String, ClientError>> + Send;
    /// The outcome of the transaction `hash`, if a block holds it.
    fn outcome(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<TxOutcome>, ClientError>> + Send;
}

impl KeeperChain for ChainClient {
    async fn block_time(&self) -> Result<u64, ClientError> {
        Ok(self.status().await?.1)
    }

    async fn broadcast_call(
        &self,
        contract: &str,
        msg: &serde_json::Value,
        gas: u64,
    ) -> Result<String, ClientError> {
        let json = serde_json::to_vec(msg).map_err(|e| ClientError::Codec(e.to_string()))?;
        self.broadcast(&[(contract.to_string(), json)], gas).await
    }

    async fn outcome(&self, hash: &str) -> Result<Option<TxOutcome>, ClientError> {
        // One lookup: a zero timeout never sleeps.
        match self.wait_tx(hash, Duration::ZERO).await {
            Ok(o) => Ok(Some(o)),
            Err(ClientError::NotCommitted { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a keeper pass needs to know of this member and the chain's timing.
#[derive(Debug, Clone)]
pub struct KeeperSetup {
    /// This member's index.
    pub index: usize,
    /// Committee size.
    pub members: usize,
    /// C1's period length, seconds.
    pub period_seconds: u64,
    /// C1's grace after a period's end, seconds.
    pub grace_seconds: u64,
    /// How long a member is responsible before the next one takes over.
    pub failover_ms: u64,
    /// C2 period-proof.
    pub period_proof: String,
    /// C3 settlement, if this member requests settlements.
    pub settlement: Option<String>,
    /// C2's dispute window plus its resolution window, seconds, once known.
    pub dispute_seconds: Option<u64>,
}

impl KeeperSetup {
    /// The first period start that is still kept at block time `now` (seconds), once C2's
    /// windows are known.
    pub fn horizon_cutoff(&self, now: u64) -> Option<u64> {
        let span = self
            .period_seconds
            .saturating_add(self.grace_seconds)
            .saturating_add(self.dispute_seconds?);
        Some(now.saturating_sub(HORIZON_PERIODS.saturating_mul(span)))
    }
}

#[derive(Debug, Clone)]
struct InFlight {
    hash: String,
    call: Call,
    sent_ms: u64,
}

#[derive(Debug, Clone, Copy)]
struct Wait {
    /// Local time (ms) before which the period is not tried.
    until_ms: u64,
    /// Refusals in a row that backed it off.
    refusals: u32,
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Calls broadcast.
    pub broadcast: usize,
    /// Earlier calls whose outcome was read (in a block, or given up as lost).
    pub answered: usize,
    /// Periods abandoned.
    pub abandoned: usize,
    /// Periods backed off.
    pub backed_off: usize,
    /// Periods forgotten as older than the horizon.
    pub pruned: u64,
}

/// The keeper's memory between passes: its calls in flight and its periods' waits.
#[derive(Debug, Default)]
pub struct Keeper {
    in_flight: BTreeMap<PeriodKey, InFlight>,
    waits: BTreeMap<PeriodKey, Wait>,
    /// Gas limits raised after a call ran out of gas.
    gas: BTreeMap<PeriodKey, u64>,
    /// The cutoff of the last pruning.
    pruned_to: Option<u64>,
}

impl Keeper {
    /// Calls broadcast and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The gas limit of `key`'s next call.
    pub fn gas_of(&self, key: &PeriodKey) -> u64 {
        self.gas.get(key).copied().unwrap_or(KEEPER_GAS)
    }

    /// When (local ms) `key` may be tried again, and after how many refusals in a row.
    pub fn wait_of(&self, key: &PeriodKey) -> Option<(u64, u32)> {
        self.waits.get(key).map(|w| (w.until_ms, w.refusals))
    }

    fn apply(
        &mut self,
        store: &Store,
        key: &PeriodKey,
        verdict: Verdict,
        block_time: u64,
        now_ms: u64,
        report: &mut PassReport,
    ) -> Result<(), StoreError> {
        match verdict {
            Verdict::Reached(state) => {
                self.waits.remove(key);
                self.gas.remove(key);
                store.raise_period(&[(key.clone(), state)])?;
            }
            Verdict::Abandon => {
                self.waits.remove(key);
                self.gas.remove(key);
                store.raise_period(&[(key.clone(), PeriodState::Abandoned)])?;
                report.abandoned += 1;
            }
            Verdict::BackOff => {
                let refusals = self.waits.get(key).map_or(0, |w| w.refusals) + 1;
                self.waits.insert(
                    key.clone(),
                    Wait {
                        until_ms: now_ms.saturating_add(backoff_ms(refusals)),
                        refusals,
                    },
                );
                report.backed_off += 1;
            }
            Verdict::Until(at) => {
                let ms = at.saturating_sub(block_time).saturating_mul(1_000);
                self.waits.insert(
                    key.clone(),
                    Wait {
                        until_ms: now_ms.saturating_add(ms.max(RETRY_MS)),
                        refusals: 0,
                    },
                );
            }
            Verdict::OutOfGas => {
                let gas = self.gas_of(key);
                self.gas
                    .insert(key.clone(), gas.saturating_mul(2).min(MAX_KEEPER_GAS));
                return self.apply(store, key, Verdict::Retry, block_time, now_ms, report);
            }
            Verdict::Retry => {
                let refusals = self.waits.get(key).map_or(0, |w| w.refusals);
                self.waits.insert(
                    key.clone(),
                    Wait {
                        until_ms: now_ms.saturating_add(RETRY_MS),
                        refusals,
                    },
                );
            }
        }
        Ok(())
    }

    /// One pass at local time `now_ms`: reads the outcome of the calls in flight, broadcasts
    /// the calls due (at most [`MAX_IN_FLIGHT`] in flight), forgets periods older than the
    /// horizon. Never waits for a block.
    pub async fn pass<C: KeeperChain + Sync>(
        &mut self,
        store: &Store,
        setup: &KeeperSetup,
        chain: &C,
        now_ms: u64,
    ) -> anyhow::Result<PassReport> {
        let mut report = PassReport::default();
        let block_time = chain.block_time().await?;

        // 1. Outcomes of earlier calls.
        let keys: Vec<PeriodKey> = self.in_flight.keys().cloned().collect();
        for key in keys {
            let Some(f) = self.in_flight.get(&key).cloned() else {
                continue;
            };
            let verdict = match chain.outcome(&f.hash).await {
                Ok(Some(o)) => {
                    let v = classify(f.call, &o);
                    tracing::info!(provider = %key.0, tenant = %key.1, period = key.2, call = ?f.call,
                        code = o.code, log = %o.log, gas_used = o.gas_used, ?v, "keeper call answered");
                    v
                }
                Ok(None) | Err(_) if now_ms.saturating_sub(f.sent_ms) >= LOST_AFTER_MS => {
                    tracing::info!(hash = %f.hash, "keeper call not seen in a block; given up");
                    Verdict::Retry
                }
                _ => continue,
            };
            self.in_flight.remove(&key);
            report.answered += 1;
            self.apply(store, &key, verdict, block_time, now_ms, &mut report)?;
        }

        // 2. Forget old periods.
        // (Once per period length: pruning writes to the store.)
        if let Some(cutoff) = setup.horizon_cutoff(block_time) {
            if self
                .pruned_to
                .is_none_or(|p| cutoff >= p.saturating_add(setup.period_seconds))
            {
                report.pruned = store.prune_periods_before(cutoff)?;
                self.waits.retain(|k, _| k.2 >= cutoff);
                self.gas.retain(|k, _| k.2 >= cutoff);
                self.pruned_to = Some(cutoff);
                if report.pruned > 0 {
                    tracing::info!(cutoff, forgotten = report.pruned, "forgot old periods");
                }
            }
        }

        // 3. New calls.
        for (key, state) in store.open_periods()? {
            if self.in_flight.len() >= MAX_IN_FLIGHT {
                break;
            }
            if self.in_flight.contains_key(&key)
                || self.waits.get(&key).is_some_and(|w| now_ms < w.until_ms)
            {
                continue;
            }
            let (provider, tenant, period) = (&key.0, &key.1, key.2);
            let closes = period
                .saturating_add(setup.period_seconds)
                .saturating_add(setup.grace_seconds);
            if block_time < closes {
                continue;
            }
            if responsible(
                period,
                setup.period_seconds.max(1),
                setup.members,
                closes.saturating_mul(1_000),
                now_ms,
                setup.failover_ms,
            ) != Some(setup.index)
            {
                continue;
            }
            let (call, contract, msg) = match state {
                PeriodState::Recorded => (
                    Call::ProvePeriod,
                    setup.period_proof.clone(),
                    serde_json::to_value(C2Execute::ProvePeriod {
                        provider: provider.clone(),
                        tenant: tenant.clone(),
                        period_start: period,
                    })?,
                ),
                PeriodState::Proven => match &setup.settlement {
                    Some(c3) => (
                        Call::RequestSettlement,
                        c3.clone(),
                        serde_json::to_value(C3Execute::RequestSettlement {
                            provider: provider.clone(),
                            tenant: tenant.clone(),
                            period_start: period,
                        })?,
                    ),
                    None => continue,
                },
                PeriodState::SettlementRequested | PeriodState::Abandoned => continue,
            };
            match chain
                .broadcast_call(&contract, &msg, self.gas_of(&key))
                .await
            {
                Ok(hash) => {
                    report.broadcast += 1;
                    self.in_flight.insert(
                        key,
                        InFlight {
                            hash,
                            call,
                            sent_ms: now_ms,
                        },
                    );
                }
                Err(e) => {
                    tracing::info!(%provider, %tenant, period, ?call, error = %e, "keeper call not broadcast");
                    self.apply(store, &key, Verdict::Retry, block_time, now_ms, &mut report)?;
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const C2: &str = "usage1c2";
    const C3: &str = "usage1c3";

    fn outcome(code: u32, log: &str) -> TxOutcome {
        TxOutcome {
            hash: "H".into(),
            height: 1,
            code,
            codespace: if code == 0 { "" } else { "wasm" }.into(),
            log: log.into(),
            gas_used: 0,
        }
    }

    /// The log of a transaction whose contract refused with `error`.
    fn refused(error: &str) -> TxOutcome {
        outcome(
            5,
            &format!("failed to execute message; message index: 0: contract failed: {error}"),
        )
    }

    /// A chain whose blocks are made only when the test says so; every call gets `answer`.
    struct FakeChain {
        block_time: Mutex<u64>,
        mempool: Mutex<Vec<(String, serde_json::Value)>>,
        blocks: Mutex<BTreeMap<String, TxOutcome>>,
        sent: Mutex<Vec<serde_json::Value>>,
        gas: Mutex<Vec<u64>>,
        answer: Box<dyn Fn(&serde_json::Value) -> TxOutcome + Send + Sync>,
    }

    impl FakeChain {
        fn new(
            block_time: u64,
            answer: impl Fn(&serde_json::Value) -> TxOutcome + Send + Sync + 'static,
        ) -> Self {
            FakeChain {
                block_time: Mutex::new(block_time),
                mempool: Mutex::default(),
                blocks: Mutex::default(),
                sent: Mutex::default(),
                gas: Mutex::default(),
                answer: Box::new(answer),
            }
        }

        /// Includes everything broadcast so far in a block.
        fn make_block(&self) {
            let txs: Vec<_> = self.mempool.lock().unwrap().drain(..).collect();
            let mut blocks = self.blocks.lock().unwrap();
            for (hash, msg) in txs {
                blocks.insert(hash, (self.answer)(&msg));
            }
        }

        fn pending(&self) -> usize {
            self.mempool.lock().unwrap().len()
        }

        fn sent(&self) -> usize {
            self.sent.lock().unwrap().len()
        }
    }

    impl KeeperChain for FakeChain {
        async fn block_time(&self) -> Result<u64, ClientError> {
            Ok(*self.block_time.lock().unwrap())
        }

        async fn broadcast_call(
            &self,
            _contract: &str,
            msg: &serde_json::Value,
            gas: u64,
        ) -> Result<String, ClientError> {
            self.gas.lock().unwrap().push(gas);
            let mut sent = self.sent.lock().unwrap();
            sent.push(msg.clone());
            let hash = format!("TX{}", sent.len());
            self.mempool
                .lock()
                .unwrap()
                .push((hash.clone(), msg.clone()));
            Ok(hash)
        }

        async fn outcome(&self, hash: &str) -> Result<Option<TxOutcome>, ClientError> {
            Ok(self.blocks.lock().unwrap().get(hash).cloned())
        }
    }

    fn setup() -> KeeperSetup {
        KeeperSetup {
            index: 0,
            members: 1,
            period_seconds: 60,
            grace_seconds: 30,
            failover_ms: 8_000,
            period_proof: C2.into(),
            settlement: Some(C3.into()),
            dispute_seconds: Some(60),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        (dir, store)
    }

    fn tenant(i: usize) -> PeriodKey {
        (
            "usage1provider".into(),
            format!("usage1tenant{i:03}"),
            6_000,
        )
    }

    /// Block time well after period 6000's grace and dispute window, and the local clock then.
    const NOW_S: u64 = 6_300;
    const NOW_MS: u64 = NOW_S * 1_000;

    #[test]
    fn refusals_are_classified_by_the_contracts_error_text() {
        use Call::*;
        let s = RequestSettlement;
        assert_eq!(
            classify(s, &outcome(0, "")),
            Verdict::Reached(PeriodState::SettlementRequested)
        );
        assert_eq!(
            classify(ProvePeriod, &outcome(0, "")),
            Verdict::Reached(PeriodState::Proven)
        );
        for permanent_until_someone_acts in [
            "tenant has 0 available, 1500 needed",
            "provider usage1p has no payee account",
            "period 60 of (usage1p, usage1t) prices to zero",
            "amount 3 is below the minimum 10",
            "period is not final: Disputed",
            "period is not final: Disputed { until: 900 }",
            "period 60 of (usage1p, usage1t) has no second proof",
        ] {
            assert_eq!(
                classify(s, &refused(permanent_until_someone_acts)),
                Verdict::BackOff,
                "{permanent_until_someone_acts}"
            );
        }
        assert_eq!(
            classify(s, &refused("this period already has settlement 7")),
            Verdict::Reached(PeriodState::SettlementRequested)
        );
        assert_eq!(
            classify(
                s,
                &refused("period 60 of (usage1p, usage1t) was deferred into a later settlement")
            ),
            Verdict::Reached(PeriodState::SettlementRequested)
        );
        assert_eq!(
            classify(s, &refused("\"Usage1Tenant\" is not a valid address")),
            Verdict::Abandon
        );
        assert_eq!(
            classify(
                s,
                &refused("period is not final: DisputeWindowOpen { until: 1234 }")
            ),
            Verdict::Until(1_235)
        );
        assert_eq!(
            classify(
                ProvePeriod,
                &refused("period 60 of (usage1p, usage1t) is already proven")
            ),
            Verdict::Reached(PeriodState::Proven)
        );
        assert_eq!(
            classify(
                ProvePeriod,
                &refused("period 60 of (usage1p, usage1t) has no first proofs")
            ),
            Verdict::Abandon
        );
        assert_eq!(
            classify(
                ProvePeriod,
                &refused("tenant \"\" is empty or longer than 128 bytes")
            ),
            Verdict::Abandon
        );
        assert_eq!(
            classify(
                ProvePeriod,
                &refused("period may be proven from 1290 on (end of period plus grace)")
            ),
            Verdict::Until(1_290)
        );
        let mut out_of_gas = outcome(
            11,
            "out of gas in location: wasm; gasWanted: 5000000, gasUsed: 5000100: out of gas",
        );
        out_of_gas.codespace = "sdk".into();
        assert_eq!(classify(s, &out_of_gas), Verdict::OutOfGas);
        assert_eq!(
            classify(ProvePeriod, &refused("out of gas")),
            Verdict::OutOfGas
        );
        assert_eq!(
            classify(ProvePeriod, &refused("state is corrupt")),
            Verdict::Retry
        );
    }

    #[test]
    fn the_backoff_starts_at_thirty_seconds_and_doubles_up_to_one_hour() {
        let schedule: Vec<u64> = (1..=9).map(backoff_ms).collect();
        assert_eq!(
            schedule,
            vec![
                30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000
            ]
        );
        assert_eq!(backoff_ms(u32::MAX), 3_600_000);
    }

    #[tokio::test]
    async fn a_pass_over_many_always_refused_settlements_never_waits_for_a_block() {
        const N: usize = 50;
        let (_dir, store) = store();
        let periods: Vec<_> = (0..N).map(|i| (tenant(i), PeriodState::Proven)).collect();
        store.raise_period(&periods).unwrap();
        let chain = FakeChain::new(NOW_S, |_| refused("tenant has 0 available, 1500 needed"));
        let mut keeper = Keeper::default();

        // No block is ever made during a pass: a pass that waited for one would never return.
        let first = keeper.pass(&store, &setup(), &chain, NOW_MS).await.unwrap();
        assert_eq!(first.broadcast, MAX_IN_FLIGHT);
        assert_eq!(chain.pending(), MAX_IN_FLIGHT);

        // Block by block, the refusals are read and the next calls sent.
        let mut passes = 1;
        while chain.sent() < N || keeper.in_flight() > 0 {
            chain.make_block();
            keeper
                .pass(&store, &setup(), &chain, NOW_MS + passes * 1_000)
                .await
                .unwrap();
            passes += 1;
            assert!(passes <= N as u64, "the keeper stopped making progress");
        }
        assert_eq!(chain.sent(), N, "each period was tried once");

        // Every period now backs off: nothing is sent until its back-off is over.
        let quiet = keeper
            .pass(&store, &setup(), &chain, NOW_MS + passes * 1_000)
            .await
            .unwrap();
        assert_eq!(quiet.broadcast, 0);
        for i in 0..N {
            let (until, refusals) = keeper.wait_of(&tenant(i)).unwrap();
            assert_eq!(refusals, 1);
            assert!(until >= NOW_MS + FIRST_BACKOFF_MS);
        }
        let later = NOW_MS + passes * 1_000 + FIRST_BACKOFF_MS;
        let again = keeper.pass(&store, &setup(), &chain, later).await.unwrap();
        assert_eq!(again.broadcast, MAX_IN_FLIGHT);
        chain.make_block();
        keeper
            .pass(&store, &setup(), &chain, later + 1_000)
            .await
            .unwrap();
        let refused_twice: Vec<_> = (0..N)
            .filter_map(|i| keeper.wait_of(&tenant(i)))
            .filter(|(_, r)| *r == 2)
            .collect();
        assert_eq!(refused_twice.len(), MAX_IN_FLIGHT);
        for (until, _) in refused_twice {
            assert_eq!(until, later + 1_000 + 2 * FIRST_BACKOFF_MS);
        }
        // Still Proven in the store: a deposit may make them settleable.
        assert_eq!(store.open_periods().unwrap().len(), N);
    }

    #[tokio::test]
    async fn a_period_the_chain_can_never_take_is_abandoned_and_a_settled_one_is_done() {
        let (_dir, store) = store();
        let empty = tenant(1);
        let settled = tenant(2);
        let other_member_was_first = tenant(3);
        store
            .raise_period(&[
                (empty.clone(), PeriodState::Recorded),
                (settled.clone(), PeriodState::Proven),
                (other_member_was_first.clone(), PeriodState::Proven),
            ])
            .unwrap();
        let chain = FakeChain::new(NOW_S, |msg| {
            if msg.get("prove_period").is_some() {
                refused("period 6000 of (usage1provider, usage1tenant001) has no first proofs")
            } else if msg["request_settlement"]["tenant"] == "usage1tenant002" {
                outcome(0, "")
            } else {
                refused("this period already has settlement 4")
            }
        });
        let mut keeper = Keeper::default();
        let r = keeper.pass(&store, &setup(), &chain, NOW_MS).await.unwrap();
        assert_eq!(r.broadcast, 3);
        chain.make_block();
        let r = keeper
            .pass(&store, &setup(), &chain, NOW_MS + 1_000)
            .await
            .unwrap();
        assert_eq!((r.answered, r.abandoned, r.broadcast), (3, 1, 0));
        assert!(store.open_periods().unwrap().is_empty());
        let r = keeper
            .pass(&store, &setup(), &chain, NOW_MS + 3_600_000)
            .await
            .unwrap();
        assert_eq!(r.broadcast, 0, "nothing is ever sent for them again");
    }

    #[tokio::test]
    async fn a_call_never_seen_in_a_block_is_given_up_and_sent_again() {
        let (_dir, store) = store();
        store
            .raise_period(&[(tenant(1), PeriodState::Proven)])
            .unwrap();
        let chain = FakeChain::new(NOW_S, |_| outcome(0, ""));
        let mut keeper = Keeper::default();
        keeper.pass(&store, &setup(), &chain, NOW_MS).await.unwrap();
        // Dropped from the mempool: never in a block.
        chain.mempool.lock().unwrap().clear();
        let r = keeper
            .pass(&store, &setup(), &chain, NOW_MS + LOST_AFTER_MS - 1)
            .await
            .unwrap();
        assert_eq!((r.answered, r.broadcast), (0, 0));
        let r = keeper
            .pass(&store, &setup(), &chain, NOW_MS + LOST_AFTER_MS)
            .await
            .unwrap();
        assert_eq!((r.answered, r.broadcast), (1, 0));
        let r = keeper
            .pass(&store, &setup(), &chain, NOW_MS + LOST_AFTER_MS + RETRY_MS)
            .await
            .unwrap();
        assert_eq!(r.broadcast, 1);
    }

    #[tokio::test]
    async fn periods_older_than_the_horizon_are_forgotten() {
        let (_dir, store) = store();
        // Horizon: 4 × (60 + 30 + 60) = 600 s before the block time.
        let old = ("usage1p".to_string(), "usage1t".to_string(), NOW_S - 660);
        let kept = ("usage1p".to_string(), "usage1t".to_string(), NOW_S - 600);
        store
            .raise_period(&[
                (old.clone(), PeriodState::Proven),
                (kept.clone(), PeriodState::Recorded),
            ])
            .unwrap();
        let chain = FakeChain::new(NOW_S, |_| outcome(0, ""));
        let mut keeper = Keeper::default();
        let r = keeper.pass(&store, &setup(), &chain, NOW_MS).await.unwrap();
        assert_eq!(r.pruned, 1);
        assert_eq!(r.broadcast, 1, "only the kept period is worked on");
        assert_eq!(
            store.open_periods().unwrap(),
            vec![(kept, PeriodState::Recorded)]
        );
    }

    #[tokio::test]
    async fn a_call_that_ran_out_of_gas_is_sent_again_with_twice_the_gas_up_to_the_most() {
        let (_dir, store) = store();
        store
            .raise_period(&[(tenant(1), PeriodState::Recorded)])
            .unwrap();
        let chain = FakeChain::new(NOW_S, |_| {
            let mut o = outcome(11, "out of gas");
            o.codespace = "sdk".into();
            o
        });
        let mut keeper = Keeper::default();
        let mut now = NOW_MS;
        // Each pass reads the last call's outcome, the next one sends it again.
        for _ in 0..8 {
            keeper.pass(&store, &setup(), &chain, now).await.unwrap();
            chain.make_block();
            now += RETRY_MS;
        }
        assert_eq!(
            *chain.gas.lock().unwrap(),
            vec![KEEPER_GAS, 2 * KEEPER_GAS, MAX_KEEPER_GAS, MAX_KEEPER_GAS]
        );
        assert_eq!(keeper.gas_of(&tenant(1)), MAX_KEEPER_GAS);
    }
}
