//! The main job's scenario on a running [`Network`]: all seven flows of the design on the live
//! system, then a summary a person reads at a glance.
//!
//! 1. Deposit: each tenant pays into the custodial account at the bank with its chain address as
//!    the reference; the relayer has the members sign the credit and C4 credits it.
//! 2. Collect and 3. first proofs: the fleet's samples become first proofs of every terminal.
//! 4. Roll up: the keeper seals the first whole period; one terminal's window is shown to be
//!    inside its second proof (its leaf and path give the sealed root and totals).
//! 5. Settle: the keeper requests the period's settlement once its dispute window is over; the
//!    relayer has it approved, paid by the bank to the provider and cleared on chain.
//! 6. Withdraw: a wallet signs `RequestWithdrawal`; the relayer has it paid and completed.
//! 7. Dispute: the second tenant disputes the period; the members recompute it from their own
//!    samples and sign a resolution, which C2 accepts.
//! 8. Govern: the committee rotates to its next epoch's keys (signed by the current one), and
//!    batches go on landing under the new epoch.
//!
//! Then the relayer reconciles the bank's books with the chain's.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use cosmwasm_std::Uint128;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;
use usage_aggregator::signing::SignRequest;
use usage_client::ChainClient;
use usage_common::merkle::{leaf_hash, verify_inclusion, SumNode};
use usage_common::msg::{
    ledger as c4, period_proof as c2, settlement as c3, usage_proof as c1, withdrawal as c5,
};
use usage_common::payload::{CommitteeRotation, DisputeOutcome, DisputeResolution};
use usage_signer::SigningCommittee;

use crate::network::{Network, Service, Tenant, NEXT_COMMITTEE_LABEL, PROVIDER_BANK};

/// What each tenant deposits at the start, in minor units (CNY 50,000.00).
pub const DEPOSIT: u128 = 5_000_000;
/// What the first tenant withdraws, in minor units (CNY 1,000.00).
pub const WITHDRAWAL: u128 = 100_000;
const GAS: u64 = 30_000_000;

/// Progress shown while the scenario waits: one live line per flow on a terminal, otherwise
/// one printed line whenever a flow's state changes.
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            multi: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }
}

impl Progress {
    /// The line of flow `name`, `len` seconds long at most.
    pub fn flow(&self, name: &str, len: u64) -> Flow {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(len));
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<11} [{bar:30}] {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Flow {
            name: name.to_string(),
            bar,
            started: Instant::now(),
            last: Mutex::new(String::new()),
        }
    }
}

/// One flow's progress line.
pub struct Flow {
    name: String,
    bar: Option<ProgressBar>,
    started: Instant,
    last: Mutex<String>,
}

impl Flow {
    /// Shows `msg` as the flow's state.
    pub fn set(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.started.elapsed().as_secs());
            bar.set_message(msg.to_string());
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if *last != msg {
            eprintln!(
                "  {:<11} {:>4}s  {msg}",
                self.name,
                self.started.elapsed().as_secs()
            );
            *last = msg.to_string();
        }
    }

    /// Marks the flow done with `msg`.
    pub fn done(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<11} done in {elapsed:>4}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.finish_with_message(msg.to_string());
        } else {
            eprintln!(
                "  {:<11} done in {}s  {msg}",
                self.name,
                self.started.elapsed().as_secs()
            );
        }
    }

    /// Polls `check` every second until it returns a value, showing `waiting` and the time
    /// spent; fails after `limit`.
    pub async fn until<T, F, Fut>(
        &self,
        limit: Duration,
        waiting: &str,
        mut check: F,
    ) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
    {
        let started = Instant::now();
        self.set(waiting);
        loop {
            if let Some(v) = check().await? {
                return Ok(v);
            }
            if started.elapsed() > limit {
                bail!("{}: not within {}s: {waiting}", self.name, limit.as_secs());
            }
            if let Some(bar) = &self.bar {
                bar.set_position(self.started.elapsed().as_secs());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// How one flow ended.
#[derive(Serialize, Clone, Debug)]
pub struct FlowResult {
    pub flow: String,
    pub ok: bool,
    pub detail: String,
}

/// A party's money on chain and at the bank.
#[derive(Serialize, Clone, Debug)]
pub struct Balance {
    pub who: String,
    pub address: Option<String>,
    /// C4 available and locked (minor units).
    pub chain_available: u128,
    pub chain_locked: u128,
    pub bank_account: String,
    pub bank_balance: i128,
}

/// The scenario's summary (`summary.json`).
#[derive(Serialize, Clone, Debug)]
pub struct Summary {
    pub chain_id: String,
    pub height: u64,
    pub flows: Vec<FlowResult>,
    pub terminals: u64,
    pub batches: u64,
    pub first_proofs: u64,
    pub committee_epoch: u64,
    pub periods: Vec<c2::PeriodProof>,
    pub settlements: Vec<c3::Settlement>,
    pub withdrawals: Vec<c5::Withdrawal>,
    pub balances: Vec<Balance>,
    /// `usage-relayer reconcile --json`.
    pub reconciliation: serde_json::Value,
    pub reconciled: bool,
    pub services: Vec<Service>,
    pub dashboard: Option<String>,
    pub home: String,
}

impl Summary {
    /// Whether every flow completed and the books reconcile to zero.
    pub fn all_ok(&self) -> bool {
        self.flows.iter().all(|f| f.ok) && self.reconciled
    }
}

struct Ctx<'a> {
    net: &'a Network,
    chain: ChainClient,
    c1: String,
    c2: String,
    c3: String,
    c4: String,
    c5: String,
    bank: reqwest::Client,
}

impl Ctx<'_> {
    fn tenant(&self, i: usize) -> anyhow::Result<(&Tenant, ChainClient)> {
        let t = self
            .net
            .info
            .tenants
            .get(i)
            .context("the localnet has fewer tenants")?;
        let client = self.net.chain()?.with_key(&hex::decode(&t.secret_hex)?)?;
        Ok((t, client))
    }

    async fn bank_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let r = self
            .bank
            .post(format!("{}{path}", self.net.info.bank_url))
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("bank {path}: {status} {v}");
        }
        Ok(v)
    }

    async fn bank_balance(&self, account: &str) -> anyhow::Result<i128> {
        let v: serde_json::Value = self
            .bank
            .get(format!("{}/v1/accounts/{account}", self.net.info.bank_url))
            .send()
            .await?
            .json()
            .await?;
        v["balance"]
            .as_str()
            .and_then(|b| b.parse().ok())
            .with_context(|| format!("the bank has no balance for {account}: {v}"))
    }

    async fn ledger(&self, address: &str) -> anyhow::Result<(u128, u128)> {
        let r: c4::AccountResponse = self
            .chain
            .smart(
                &self.c4,
                &c4::QueryMsg::Account {
                    address: address.to_string(),
                },
            )
            .await?;
        Ok((r.available.u128(), r.locked.u128()))
    }

    async fn period(&self, tenant: &str, period: u64) -> anyhow::Result<Option<c2::PeriodProof>> {
        let r: c2::PeriodProofResponse = self
            .chain
            .smart(
                &self.c2,
                &c2::QueryMsg::PeriodProof {
                    provider: self.net.info.provider.clone(),
                    tenant: tenant.to_string(),
                    period_start: period,
                },
            )
            .await?;
        Ok(r.proof)
    }

    async fn settlement_for(
        &self,
        tenant: &str,
        period: u64,
    ) -> anyhow::Result<Option<c3::Settlement>> {
        let r: c3::SettlementResponse = self
            .chain
            .smart(
                &self.c3,
                &c3::QueryMsg::SettlementForPeriod {
                    provider: self.net.info.provider.clone(),
                    tenant: tenant.to_string(),
                    period_start: period,
                },
            )
            .await?;
        Ok(r.settlement)
    }

    async fn settlements(&self) -> anyhow::Result<Vec<c3::Settlement>> {
        let mut all = vec![];
        loop {
            let r: c3::SettlementsResponse = self
                .chain
                .smart(
                    &self.c3,
                    &c3::QueryMsg::Settlements {
                        start_after: all.last().map(|s: &c3::Settlement| s.settlement_id),
                        limit: Some(100),
                    },
                )
                .await?;
            let n = r.settlements.len();
            all.extend(r.settlements);
            if n < 100 {
                return Ok(all);
            }
        }
    }

    async fn withdrawals(&self) -> anyhow::Result<Vec<c5::Withdrawal>> {
        let mut all = vec![];
        loop {
            let r: c5::WithdrawalsResponse = self
                .chain
                .smart(
                    &self.c5,
                    &c5::QueryMsg::Withdrawals {
                        owner: None,
                        start_after: all.last().map(|w: &c5::Withdrawal| w.withdrawal_id),
                        limit: Some(100),
                    },
                )
                .await?;
            let n = r.withdrawals.len();
            all.extend(r.withdrawals);
            if n < 100 {
                return Ok(all);
            }
        }
    }

    async fn batches(&self) -> anyhow::Result<(u64, u64)> {
        let config: c1::ConfigResponse =
            self.chain.smart(&self.c1, &c1::QueryMsg::Config {}).await?;
        let mut records = 0u64;
        for id in 1..config.next_batch_id {
            let b: c1::BatchResponse = self
                .chain
                .smart(&self.c1, &c1::QueryMsg::Batch { batch_id: id })
                .await?;
            records += b.batch.map_or(0, |b| u64::from(b.records));
        }
        Ok((config.next_batch_id.saturating_sub(1), records))
    }

    async fn quorum(
        &self,
        request: &SignRequest,
    ) -> anyhow::Result<usage_common::ThresholdSignature> {
        crate::committee::quorum_of(&self.chain, &self.c1, &self.net.member_urls(), request)
            .await
            .map_err(|e| anyhow::anyhow!("the committee's signature: {e}"))
    }

    async fn execute<M: Serialize>(
        &self,
        who: &ChainClient,
        contract: &str,
        msg: &M,
        what: &str,
    ) -> anyhow::Result<u64> {
        let out = who
            .execute(contract, msg, GAS, Duration::from_secs(30))
            .await?;
        if !out.is_ok() {
            bail!("{what} refused: {}", out.log);
        }
        Ok(out.height)
    }
}

/// Runs the scenario on `net`, showing progress; the summary (also written to
/// `summary.json` in the network's folder).
pub async fn run(net: &Network, progress: &Progress) -> anyhow::Result<Summary> {
    let ctx = Ctx {
        net,
        chain: net.chain()?,
        c1: net.contract("usage-proof")?,
        c2: net.contract("period-proof")?,
        c3: net.contract("settlement")?,
        c4: net.contract("ledger")?,
        c5: net.contract("withdrawal")?,
        bank: reqwest::Client::new(),
    };
    let mut flows = vec![];
    let (_, fleet_started) = ctx.chain.status().await?;

    // Deposits first: the settlement and the dispute bond need the tenants' funds.
    let deposit = progress.flow("deposit", 60);
    flows.push(result(
        "deposit",
        deposit_flow(&ctx, &deposit).await,
        &deposit,
    ));

    // Then everything that waits on windows and periods, side by side.
    let usage = progress.flow("first proof", 60);
    let period = progress.flow("period", 240);
    let withdraw = progress.flow("withdraw", 90);
    let first_period = (fleet_started / 60 + 1) * 60;
    let (u, p, w) = tokio::join!(
        async { result("first proofs", usage_flow(&ctx, &usage).await, &usage) },
        period_flows(&ctx, &period, progress, first_period),
        async {
            result(
                "withdrawal",
                withdraw_flow(&ctx, &withdraw).await,
                &withdraw,
            )
        },
    );
    flows.push(u);
    match p {
        Ok(results) => flows.extend(results),
        Err(e) => flows.push(result("roll-up", Err::<String, _>(e), &period)),
    }
    flows.push(w);

    // The rotation last: nothing the old committee approved may be left unpaid by then.
    let govern = progress.flow("rotation", 120);
    flows.push(result(
        "rotation",
        rotation_flow(&ctx, &govern).await,
        &govern,
    ));

    let summary = summarise(&ctx, flows).await?;
    std::fs::write(
        net.home.join("summary.json"),
        serde_json::to_vec_pretty(&summary)?,
    )?;
    Ok(summary)
}

fn result(name: &str, outcome: anyhow::Result<String>, flow: &Flow) -> FlowResult {
    match outcome {
        Ok(detail) => {
            flow.done(&detail);
            FlowResult {
                flow: name.to_string(),
                ok: true,
                detail,
            }
        }
        Err(e) => {
            let detail = format!("{e:#}");
            flow.done(&format!("FAILED: {detail}"));
            FlowResult {
                flow: name.to_string(),
                ok: false,
                detail,
            }
        }
    }
}

async fn deposit_flow(ctx: &Ctx<'_>, flow: &Flow) -> anyhow::Result<String> {
    ctx.bank_post(
        "/v1/accounts",
        serde_json::json!({"iban": PROVIDER_BANK, "name": "provider", "opening_balance": "0"}),
    )
    .await?;
    for t in &ctx.net.info.tenants {
        ctx.bank_post(
            "/v1/accounts",
            serde_json::json!({"iban": t.bank_account, "name": t.name,
                "opening_balance": (DEPOSIT * 2).to_string()}),
        )
        .await?;
        flow.set(&format!(
            "{} pays {} into the custodial account",
            t.name,
            money(DEPOSIT)
        ));
        ctx.bank_post(
            "/v1/transfers",
            serde_json::json!({"from": t.bank_account, "to": crate::network::custodial_account(),
                "amount": DEPOSIT.to_string(), "remittance": t.address}),
        )
        .await?;
    }
    for t in &ctx.net.info.tenants {
        flow.until(
            Duration::from_secs(60),
            &format!("waiting for C4 to credit {}", t.name),
            || async { Ok((ctx.ledger(&t.address).await?.0 >= DEPOSIT).then_some(())) },
        )
        .await?;
    }
    Ok(format!(
        "{} tenants paid {} each at the bank; C4 credited each once",
        ctx.net.info.tenants.len(),
        money(DEPOSIT)
    ))
}

async fn usage_flow(ctx: &Ctx<'_>, flow: &Flow) -> anyhow::Result<String> {
    let n = ctx.net.info.terminals;
    let proven = flow
        .until(
            Duration::from_secs(90),
            "waiting for every terminal's first proof",
            || async {
                let mut with = 0u64;
                for i in 0..n {
                    let r: c1::ProofsResponse = ctx
                        .chain
                        .smart(
                            &ctx.c1,
                            &c1::QueryMsg::TerminalProofs {
                                terminal_id: usage_sample::simulate::terminal_id("sim", i),
                                from: 0,
                                to: u64::MAX,
                                limit: Some(1),
                            },
                        )
                        .await?;
                    with += u64::from(!r.proofs.is_empty());
                }
                flow.set(&format!("{with}/{n} terminals have a first proof"));
                Ok((with == n).then_some(with))
            },
        )
        .await?;
    let (batches, records) = ctx.batches().await?;
    Ok(format!(
        "all {proven} terminals proven; {batches} batches, {records} first proofs so far"
    ))
}

/// The first whole period: sealed, one window shown inside it, settled, and disputed by the
/// other tenant.
async fn period_flows(
    ctx: &Ctx<'_>,
    flow: &Flow,
    progress: &Progress,
    period: u64,
) -> anyhow::Result<Vec<FlowResult>> {
    let (a, _) = ctx.tenant(0)?;
    let (b, b_client) = ctx.tenant(1)?;
    let sealed = flow
        .until(
            Duration::from_secs(300),
            &format!("waiting: period {period} closes, its grace passes, the keeper seals it"),
            || async { ctx.period(&a.address, period).await },
        )
        .await?;
    let mut results = vec![FlowResult {
        flow: "roll-up".into(),
        ok: true,
        detail: format!(
            "period {period} of {} sealed: {} records, root {}",
            a.name,
            sealed.totals.records,
            short(&sealed.root.to_hex())
        ),
    }];
    results.push(match inclusion(ctx, &sealed).await {
        Ok(detail) => FlowResult {
            flow: "inclusion".into(),
            ok: true,
            detail,
        },
        Err(e) => FlowResult {
            flow: "inclusion".into(),
            ok: false,
            detail: format!("{e:#}"),
        },
    });
    flow.done(&results[0].detail);

    let settle = progress.flow("settlement", 150);
    let dispute = progress.flow("dispute", 150);
    let (s, d) = tokio::join!(
        async {
            let s = settlement_flow(ctx, &settle, &a.address, period).await;
            result("settlement", s, &settle)
        },
        async {
            let d = dispute_flow(ctx, &dispute, b, &b_client, period).await;
            result("dispute", d, &dispute)
        },
    );
    results.push(s);
    results.push(d);
    Ok(results)
}

/// One terminal's window of `sealed` is inside it: C1's inclusion path from the window's leaf
/// (whose hash is that of the record) gives the root and totals C2 sealed.
async fn inclusion(ctx: &Ctx<'_>, sealed: &c2::PeriodProof) -> anyhow::Result<String> {
    let terminal = usage_sample::simulate::terminal_id("sim", 0);
    let r: c1::ProofsResponse = ctx
        .chain
        .smart(
            &ctx.c1,
            &c1::QueryMsg::TerminalProofs {
                terminal_id: terminal.clone(),
                from: sealed.period_start,
                to: sealed.period_end,
                limit: Some(1),
            },
        )
        .await?;
    let window = r
        .proofs
        .first()
        .with_context(|| format!("{terminal} has no window in the period"))?
        .window_start;
    let p: c1::InclusionProofResponse = ctx
        .chain
        .smart(
            &ctx.c1,
            &c1::QueryMsg::InclusionProof {
                terminal_id: terminal.clone(),
                window_start: window,
            },
        )
        .await?;
    if p.leaf.hash.as_slice() != leaf_hash(p.record.as_slice()).as_slice() {
        bail!("the leaf is not the record's");
    }
    let root = SumNode {
        hash: sealed.root.clone(),
        totals: sealed.totals,
    };
    if !verify_inclusion(p.leaf_index, p.size, &p.leaf, &p.path, &root) {
        bail!("the path of {terminal}/{window} does not give the sealed root");
    }
    Ok(format!(
        "{terminal} window {window}: leaf {} of {}, {} path nodes, gives the sealed root",
        p.leaf_index,
        p.size,
        p.path.len()
    ))
}

async fn settlement_flow(
    ctx: &Ctx<'_>,
    flow: &Flow,
    tenant: &str,
    period: u64,
) -> anyhow::Result<String> {
    let s = flow
        .until(
            Duration::from_secs(180),
            "waiting: the dispute window passes, the keeper requests the settlement",
            || async { ctx.settlement_for(tenant, period).await },
        )
        .await?;
    let id = s.settlement_id;
    let cleared = flow
        .until(
            Duration::from_secs(90),
            &format!("settlement {id}: waiting for its approval and the bank's payment"),
            || async {
                let r: c3::SettlementResponse = ctx
                    .chain
                    .smart(&ctx.c3, &c3::QueryMsg::Settlement { settlement_id: id })
                    .await?;
                let s = r.settlement.context("the settlement vanished")?;
                match &s.status {
                    c3::SettlementStatus::Cleared { bank_ref } => {
                        Ok(Some((s.clone(), bank_ref.clone())))
                    }
                    c3::SettlementStatus::Failed { bank_ref } => {
                        bail!("the bank refused it ({bank_ref})")
                    }
                    other => {
                        flow.set(&format!("settlement {id}: {other:?}"));
                        Ok(None)
                    }
                }
            },
        )
        .await?;
    Ok(format!(
        "settlement {id}: {} paid to {PROVIDER_BANK} (bank ref {}), cleared on chain",
        money(cleared.0.amount.u128()),
        cleared.1
    ))
}

async fn dispute_flow(
    ctx: &Ctx<'_>,
    flow: &Flow,
    tenant: &Tenant,
    tenant_client: &ChainClient,
    period: u64,
) -> anyhow::Result<String> {
    flow.until(
        Duration::from_secs(120),
        &format!("waiting for the keeper to seal {}'s period", tenant.name),
        || async { ctx.period(&tenant.address, period).await },
    )
    .await?;
    ctx.execute(
        tenant_client,
        &ctx.c2,
        &c2::ExecuteMsg::OpenDispute {
            provider: ctx.net.info.provider.clone(),
            tenant: tenant.address.clone(),
            period_start: period,
            reason: "more than we used".into(),
        },
        "the dispute",
    )
    .await?;
    let opened_at = match ctx.period(&tenant.address, period).await?.map(|p| p.status) {
        Some(c2::PeriodStatus::Disputed { opened_at, .. }) => opened_at,
        other => bail!("not disputed after opening: {other:?}"),
    };
    flow.set("opened; the members recompute the period from their own samples");
    let signature = ctx
        .quorum(&SignRequest::DisputeResolution {
            provider: ctx.net.info.provider.clone(),
            tenant: tenant.address.clone(),
            period_start: period,
        })
        .await?;
    let resolution = DisputeResolution {
        provider: ctx.net.info.provider.clone(),
        tenant: tenant.address.clone(),
        period_start: period,
        opened_at,
        outcome: DisputeOutcome::Upheld,
    };
    ctx.execute(
        &ctx.net.chain()?.with_key(&crate::localnet::ADMIN_SEED)?,
        &ctx.c2,
        &c2::ExecuteMsg::ResolveDispute {
            resolution,
            signature,
        },
        "the resolution",
    )
    .await?;
    match ctx.period(&tenant.address, period).await?.map(|p| p.status) {
        Some(c2::PeriodStatus::Resolved { outcome, bond, .. }) => Ok(format!(
            "{} disputed period {period}; the members upheld it ({outcome:?}), bond {}",
            tenant.name,
            money(bond.u128())
        )),
        other => bail!("not resolved: {other:?}"),
    }
}

async fn withdraw_flow(ctx: &Ctx<'_>, flow: &Flow) -> anyhow::Result<String> {
    let (t, wallet) = ctx.tenant(0)?;
    flow.until(
        Duration::from_secs(60),
        "waiting for the deposit to withdraw from",
        || async { Ok((ctx.ledger(&t.address).await?.0 >= WITHDRAWAL).then_some(())) },
    )
    .await?;
    let before = ctx.bank_balance(&t.bank_account).await?;
    ctx.execute(
        &wallet,
        &ctx.c5,
        &c5::ExecuteMsg::RequestWithdrawal {
            amount: Uint128::new(WITHDRAWAL),
            beneficiary: t.bank_account.clone(),
        },
        "the withdrawal",
    )
    .await?;
    let mine: c5::WithdrawalsResponse = ctx
        .chain
        .smart(
            &ctx.c5,
            &c5::QueryMsg::Withdrawals {
                owner: Some(t.address.clone()),
                start_after: None,
                limit: Some(100),
            },
        )
        .await?;
    let id = mine
        .withdrawals
        .last()
        .context("the withdrawal is not on chain")?
        .withdrawal_id;
    let bank_ref = flow
        .until(
            Duration::from_secs(90),
            &format!("withdrawal {id}: waiting for its approval and the bank's payment"),
            || async {
                let r: c5::WithdrawalResponse = ctx
                    .chain
                    .smart(&ctx.c5, &c5::QueryMsg::Withdrawal { withdrawal_id: id })
                    .await?;
                match r.withdrawal.map(|w| w.status) {
                    Some(c5::WithdrawalStatus::Completed { bank_ref }) => Ok(Some(bank_ref)),
                    Some(c5::WithdrawalStatus::Failed { bank_ref }) => {
                        bail!("the bank refused it ({bank_ref})")
                    }
                    Some(other) => {
                        flow.set(&format!("withdrawal {id}: {other:?}"));
                        Ok(None)
                    }
                    None => bail!("withdrawal {id} vanished"),
                }
            },
        )
        .await?;
    let after = ctx.bank_balance(&t.bank_account).await?;
    let credited = u128::try_from(after - before).unwrap_or(0);
    if credited != WITHDRAWAL {
        bail!(
            "{}'s bank account grew by {} for a withdrawal of {}",
            t.name,
            money(credited),
            money(WITHDRAWAL)
        );
    }
    Ok(format!(
        "{}'s wallet withdrew {}: paid into {} (bank ref {bank_ref}), completed on chain",
        t.name,
        money(WITHDRAWAL),
        t.bank_account
    ))
}

async fn rotation_flow(ctx: &Ctx<'_>, flow: &Flow) -> anyhow::Result<String> {
    // Nothing approved by the old committee may be in flight at the bank.
    flow.until(
        Duration::from_secs(60),
        "waiting for payments in flight to finish",
        || async {
            let busy = ctx
                .settlements()
                .await?
                .iter()
                .any(|s| s.status == c3::SettlementStatus::Instructed)
                || ctx
                    .withdrawals()
                    .await?
                    .iter()
                    .any(|w| w.status == c5::WithdrawalStatus::Instructed);
            Ok((!busy).then_some(()))
        },
    )
    .await?;
    let next = SigningCommittee::deterministic(NEXT_COMMITTEE_LABEL, 2, 4, 3);
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members: next.member_keys(),
    };
    flow.set("the epoch-1 members sign the rotation their operators approved");
    let signature = ctx
        .quorum(&SignRequest::CommitteeRotation {
            rotation: rotation.clone(),
        })
        .await?;
    let height = ctx
        .execute(
            &ctx.net.chain()?.with_key(&crate::localnet::ADMIN_SEED)?,
            &ctx.c1,
            &c1::ExecuteMsg::RotateCommittee {
                rotation,
                signature,
            },
            "the rotation",
        )
        .await?;
    flow.until(
        Duration::from_secs(90),
        "waiting for batches signed by the epoch-2 committee",
        || async {
            Ok(crate::network::has_batch_of_epoch(&ctx.chain, &ctx.c1, 2)
                .await?
                .then_some(()))
        },
    )
    .await?;
    Ok(format!(
        "committee rotated to epoch 2 at height {height}; batches land under the new keys"
    ))
}

async fn summarise(ctx: &Ctx<'_>, flows: Vec<FlowResult>) -> anyhow::Result<Summary> {
    let (height, _) = ctx.chain.status().await?;
    let (batches, first_proofs) = ctx.batches().await?;
    let committee: c1::CommitteeResponse = ctx
        .chain
        .smart(&ctx.c1, &c1::QueryMsg::Committee {})
        .await?;
    let mut periods = vec![];
    let settlements = ctx.settlements().await?;
    let mut seen = std::collections::BTreeSet::new();
    for s in &settlements {
        seen.insert((s.tenant.to_string(), s.period_start));
    }
    for t in &ctx.net.info.tenants {
        // The periods sealed so far for each tenant: those of its settlements, and the first.
        let mut starts: Vec<u64> = seen
            .iter()
            .filter(|(tenant, _)| tenant == &t.address)
            .map(|(_, p)| *p)
            .collect();
        starts.sort_unstable();
        for p in starts {
            periods.extend(ctx.period(&t.address, p).await?);
        }
    }
    let mut balances = vec![];
    for t in &ctx.net.info.tenants {
        let (available, locked) = ctx.ledger(&t.address).await?;
        balances.push(Balance {
            who: t.name.clone(),
            address: Some(t.address.clone()),
            chain_available: available,
            chain_locked: locked,
            bank_account: t.bank_account.clone(),
            bank_balance: ctx.bank_balance(&t.bank_account).await?,
        });
    }
    balances.push(Balance {
        who: "provider".into(),
        address: Some(ctx.net.info.provider.clone()),
        chain_available: 0,
        chain_locked: 0,
        bank_account: PROVIDER_BANK.into(),
        bank_balance: ctx.bank_balance(PROVIDER_BANK).await?,
    });
    let supply: c4::TotalSupplyResponse = ctx
        .chain
        .smart(&ctx.c4, &c4::QueryMsg::TotalSupply {})
        .await?;
    let custodial = crate::network::custodial_account();
    balances.push(Balance {
        who: "custodial".into(),
        address: None,
        chain_available: supply.total.u128().saturating_sub(supply.locked.u128()),
        chain_locked: supply.locked.u128(),
        bank_account: custodial.into(),
        bank_balance: ctx.bank_balance(custodial).await?,
    });
    let (reconciled, reconciliation) = reconcile(ctx.net)?;
    Ok(Summary {
        chain_id: ctx.net.localnet.chain_id.clone(),
        height,
        flows,
        terminals: ctx.net.info.terminals,
        batches,
        first_proofs,
        committee_epoch: committee.committee.epoch,
        periods,
        settlements,
        withdrawals: ctx.withdrawals().await?,
        balances,
        reconciliation,
        reconciled,
        services: ctx.net.services.list.clone(),
        dashboard: ctx.net.info.dashboard.clone(),
        home: ctx.net.home.display().to_string(),
    })
}

/// `usage-relayer reconcile --json` on the network's relayer configuration.
fn reconcile(net: &Network) -> anyhow::Result<(bool, serde_json::Value)> {
    let bin = crate::node::sibling_binary("usage-relayer");
    let out = std::process::Command::new(bin)
        .args(["reconcile", "--json", "--config"])
        .arg(&net.info.relayer_config)
        .output()
        .context("usage-relayer reconcile")?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "usage-relayer reconcile: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((out.status.success() && v["difference"] == 0, v))
}

/// Minor units as CNY with two decimals.
pub fn money(minor: u128) -> String {
    format!("CNY {}.{:02}", minor / 100, minor % 100)
}

fn short(hex: &str) -> &str {
    &hex[..hex.len().min(16)]
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ok = |b: bool| if b { "ok  " } else { "FAIL" };
        writeln!(
            f,
            "\nusagechain localnet {} at height {}",
            self.chain_id, self.height
        )?;
        writeln!(f, "\nflows")?;
        for flow in &self.flows {
            writeln!(f, "  {} {:<13} {}", ok(flow.ok), flow.flow, flow.detail)?;
        }
        writeln!(
            f,
            "\nproofs     {} terminals, {} batches, {} first proofs, committee epoch {}",
            self.terminals, self.batches, self.first_proofs, self.committee_epoch
        )?;
        writeln!(f, "periods    (provider, tenant, period: records, status)")?;
        for p in &self.periods {
            writeln!(
                f,
                "  {} {:>12}: {:>5} records  {}",
                short_addr(&p.tenant),
                p.period_start,
                p.totals.records,
                status_word(&p.status)
            )?;
        }
        writeln!(f, "settlements")?;
        for s in &self.settlements {
            writeln!(
                f,
                "  #{:<3} {} period {:>12}: {:>16}  {}",
                s.settlement_id,
                short_addr(s.tenant.as_str()),
                s.period_start,
                money(s.amount.u128()),
                settlement_word(&s.status)
            )?;
        }
        writeln!(f, "withdrawals")?;
        for w in &self.withdrawals {
            writeln!(
                f,
                "  #{:<3} {} {:>16}  {:?}",
                w.withdrawal_id,
                short_addr(w.owner.as_str()),
                money(w.amount.u128()),
                w.status
            )?;
        }
        writeln!(
            f,
            "\nbalances   {:<10} {:>18} {:>18}   {:<22} {:>18}",
            "", "chain available", "chain locked", "bank account", "bank balance"
        )?;
        for b in &self.balances {
            writeln!(
                f,
                "           {:<10} {:>18} {:>18}   {:<22} {:>18}",
                b.who,
                money(b.chain_available),
                money(b.chain_locked),
                b.bank_account,
                signed_money(b.bank_balance)
            )?;
        }
        writeln!(
            f,
            "\nreconciliation  {}  (custodial balance {}, on chain {}, difference {})",
            ok(self.reconciled),
            self.reconciliation["custodial_balance"],
            self.reconciliation["chain_total"],
            self.reconciliation["difference"]
        )?;
        writeln!(f, "\nservices   (logs in {}/logs)", self.home)?;
        for s in &self.services {
            writeln!(
                f,
                "  {:<13} pid {:<8} {:<28} {}",
                s.name,
                s.pid,
                s.url.as_deref().unwrap_or("-"),
                s.metrics.as_deref().unwrap_or("")
            )?;
        }
        if let Some(d) = &self.dashboard {
            writeln!(f, "\ndashboard  {d}")?;
        }
        Ok(())
    }
}

fn signed_money(minor: i128) -> String {
    if minor < 0 {
        format!("-{}", money(minor.unsigned_abs()))
    } else {
        money(minor.unsigned_abs())
    }
}

fn short_addr(a: &str) -> String {
    if a.len() > 14 {
        format!("{}…{}", &a[..9], &a[a.len() - 4..])
    } else {
        a.to_string()
    }
}

fn status_word(s: &c2::PeriodStatus) -> &'static str {
    match s {
        c2::PeriodStatus::Proven => "proven",
        c2::PeriodStatus::Disputed { .. } => "disputed",
        c2::PeriodStatus::Resolved { .. } => "resolved",
    }
}

fn settlement_word(s: &c3::SettlementStatus) -> &'static str {
    match s {
        c3::SettlementStatus::Requested => "requested",
        c3::SettlementStatus::Instructed => "instructed",
        c3::SettlementStatus::Cleared { .. } => "cleared",
        c3::SettlementStatus::Failed { .. } => "failed",
    }
}
