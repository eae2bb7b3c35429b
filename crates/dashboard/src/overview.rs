//! The overview: everything the page shows, as one JSON document, built by [`build`] from what
//! the chain answered ([`ChainData`], filled by [`crate::read`]) without any I/O.
//!
//! Sums that may exceed what a JavaScript number holds exactly (byte and CPU totals, amounts)
//! are decimal strings; counts and seconds are numbers.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use usage_common::msg::ledger::{AccountResponse, TotalSupplyResponse};
use usage_common::msg::period_proof::{PeriodProof, PeriodStatus};
use usage_common::msg::settlement::{Settlement, SettlementStatus};
use usage_common::msg::usage_proof::{AccumulatorResponse, FirstProof, Terminal};
use usage_common::msg::withdrawal::{Withdrawal, WithdrawalStatus};
use usage_common::payload::DisputeOutcome;

/// What one read of the chain found, at (or, for what is not height-stamped, just after) one
/// height.
#[derive(Debug, Clone, Default)]
pub struct ChainData {
    /// The chain id.
    pub chain_id: String,
    /// The latest height when the read began; first proofs of later blocks are left out.
    pub height: u64,
    /// That block's time, Unix seconds.
    pub time: u64,
    /// C1's window length, seconds (0 if C1's configuration could not be read).
    pub window_seconds: u64,
    /// C1's period length, seconds.
    pub period_seconds: u64,
    /// How many windows, ending with the one that holds `time`, the usage covers.
    pub windows: u64,
    /// Every registered terminal.
    pub terminals: Vec<Terminal>,
    /// The first proofs of windows from the first shown, proven at or before `height`.
    pub proofs: Vec<FirstProof>,
    /// The (provider, tenant, period)s the shown first proofs belong to.
    pub periods: Vec<PeriodData>,
    /// Every settlement.
    pub settlements: Vec<Settlement>,
    /// Every withdrawal.
    pub withdrawals: Vec<Withdrawal>,
    /// C4 balances by address.
    pub balances: Vec<(String, AccountResponse)>,
    /// C4's currency and its decimals.
    pub currency: String,
    /// Decimals of the currency's minor unit.
    pub decimals: u8,
    /// C4's supply.
    pub supply: Option<TotalSupplyResponse>,
    /// What could not be read, one line each.
    pub errors: Vec<String>,
}

/// One (provider, tenant, period): its second proof if C2 holds one, else C1's accumulator.
#[derive(Debug, Clone)]
pub struct PeriodData {
    /// The provider.
    pub provider: String,
    /// The tenant.
    pub tenant: String,
    /// The period's start, seconds.
    pub period_start: u64,
    /// C2's second proof.
    pub proof: Option<PeriodProof>,
    /// C1's accumulator (read only when there is no second proof).
    pub accumulator: Option<AccumulatorResponse>,
}

/// The document `/api/overview` serves.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Overview {
    /// The chain id.
    pub chain_id: String,
    /// The height the overview was read at.
    pub height: u64,
    /// That block's time, Unix seconds.
    pub time: u64,
    /// Window length, seconds.
    pub window_seconds: u64,
    /// Period length, seconds.
    pub period_seconds: u64,
    /// The start of the first window shown: usage totals count windows from here on.
    pub from: u64,
    /// The starts of the windows shown, ascending; each series has one value per window.
    pub windows: Vec<u64>,
    /// The deployment's currency.
    pub currency: String,
    /// Decimals of its minor unit.
    pub decimals: u8,
    /// Registered terminals by id.
    pub terminals: Vec<TerminalRow>,
    /// Tenants of the shown first proofs and of current leases.
    pub tenants: Vec<TenantRow>,
    /// Periods of the shown first proofs, newest first.
    pub periods: Vec<PeriodRow>,
    /// Settlements by id.
    pub settlements: Vec<SettlementRow>,
    /// Balances of providers, tenants and withdrawal owners.
    pub balances: Vec<BalanceRow>,
    /// Withdrawals by id.
    pub withdrawals: Vec<WithdrawalRow>,
    /// C4's supply.
    pub supply: Option<SupplyRow>,
    /// What could not be read; the page shows them in its error banner.
    pub errors: Vec<String>,
    /// The chain could not be read at all: this is the last overview read, with the reason.
    pub stale: bool,
}

/// Additive usage of a set of first proofs.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Usage {
    /// First proofs.
    pub records: u64,
    /// Bytes received.
    pub net_rx_bytes: String,
    /// Bytes sent.
    pub net_tx_bytes: String,
    /// CPU time, microseconds.
    pub cpu_time_us: String,
}

#[derive(Default, Clone, Copy)]
struct Sum {
    records: u64,
    rx: u128,
    tx: u128,
    cpu: u128,
}

impl Sum {
    fn add(&mut self, p: &FirstProof) {
        self.records = self.records.saturating_add(1);
        self.rx = self.rx.saturating_add(p.metrics.net_rx_bytes.into());
        self.tx = self.tx.saturating_add(p.metrics.net_tx_bytes.into());
        self.cpu = self.cpu.saturating_add(p.metrics.cpu_time_us.into());
    }

    fn usage(&self) -> Usage {
        Usage {
            records: self.records,
            net_rx_bytes: self.rx.to_string(),
            net_tx_bytes: self.tx.to_string(),
            cpu_time_us: self.cpu.to_string(),
        }
    }
}

/// One window of a usage series.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Point {
    /// The window's start.
    pub window: u64,
    /// First proofs in the window.
    pub records: u64,
    /// Bytes received and sent in the window (a window's traffic fits a JS number).
    pub net_bytes: u64,
}

/// A terminal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TerminalRow {
    /// Its id.
    pub terminal_id: String,
    /// Its provider.
    pub provider: String,
    /// Whether batches may still carry it.
    pub active: bool,
    /// Its TEE kind.
    pub tee: String,
    /// Its lease with the latest start.
    pub lease: Option<LeaseRow>,
    /// Usage of the shown windows.
    pub usage: Usage,
    /// One point per shown window.
    pub series: Vec<Point>,
}

/// A lease.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LeaseRow {
    /// The tenant.
    pub tenant: String,
    /// First second covered.
    pub start: u64,
    /// End (exclusive), if any.
    pub end: Option<u64>,
    /// Cap per period, minor units.
    pub price_cap: Option<String>,
    /// It covers the window that holds the overview's time.
    pub current: bool,
}

/// A tenant's usage across terminals.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantRow {
    /// The tenant.
    pub tenant: String,
    /// Terminals it leases now.
    pub leased_terminals: u64,
    /// Usage of the shown windows.
    pub usage: Usage,
    /// One point per shown window.
    pub series: Vec<Point>,
}

/// A (provider, tenant, period).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeriodRow {
    /// The provider.
    pub provider: String,
    /// The tenant.
    pub tenant: String,
    /// The period's start.
    pub period_start: u64,
    /// Its end (exclusive).
    pub period_end: u64,
    /// `open` (C1 still accumulates), `sealed` (sealed, no second proof read), `proven`,
    /// `disputed`, `resolved (upheld)`, `resolved (adjusted)`, or `unknown`.
    pub status: String,
    /// Its records and totals (the second proof's, or the accumulator's so far).
    pub usage: Usage,
    /// The sum tree's root (hex), sealed or so far.
    pub root: String,
    /// Records proven after their own period closed.
    pub late_records: u64,
    /// When it was proven (second proofs only).
    pub proven_at: Option<u64>,
    /// Last second the tenant may dispute it (second proofs only).
    pub dispute_deadline: Option<u64>,
    /// Its dispute, if one was opened.
    pub dispute: Option<DisputeRow>,
}

/// A dispute of a second proof.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DisputeRow {
    /// The tenant's reason (empty once resolved: the chain keeps only the outcome).
    pub reason: String,
    /// The bond, minor units.
    pub bond: String,
    /// Resolution deadline (open disputes).
    pub resolve_by: Option<u64>,
    /// `open`, `upheld` or `adjusted`.
    pub outcome: String,
}

/// A settlement.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SettlementRow {
    /// Its id.
    pub settlement_id: u64,
    /// The provider paid.
    pub provider: String,
    /// The tenant billed.
    pub tenant: String,
    /// The period billed.
    pub period_start: u64,
    /// The amount, minor units.
    pub amount: String,
    /// Its currency.
    pub currency: String,
    /// `requested`, `instructed`, `cleared` or `failed`.
    pub status: String,
    /// The bank's reference of a cleared or failed one.
    pub bank_ref: Option<String>,
    /// When it was requested.
    pub requested_at: u64,
}

/// A balance in C4.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BalanceRow {
    /// The account.
    pub address: String,
    /// `provider`, `tenant`, `owner` (of a withdrawal), in that order.
    pub roles: Vec<String>,
    /// Available, minor units.
    pub available: String,
    /// Locked, minor units.
    pub locked: String,
}

/// A withdrawal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WithdrawalRow {
    /// Its id.
    pub withdrawal_id: u64,
    /// The owner.
    pub owner: String,
    /// The amount, minor units.
    pub amount: String,
    /// Its currency.
    pub currency: String,
    /// `delayed`, `requested`, `instructed`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Payable from (delayed ones).
    pub release_at: Option<u64>,
    /// The bank's reference of a completed or failed one.
    pub bank_ref: Option<String>,
    /// When it was requested.
    pub requested_at: u64,
}

/// C4's supply.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SupplyRow {
    /// Sum of all balances.
    pub total: String,
    /// Of which locked.
    pub locked: String,
    /// Sum of credited deposits.
    pub deposited: String,
    /// Sum debited for cleared settlements.
    pub settled: String,
    /// Sum debited for completed withdrawals.
    pub withdrawn: String,
}

/// The start of the window that holds `time`.
pub fn window_of(time: u64, window_seconds: u64) -> u64 {
    if window_seconds == 0 {
        return time;
    }
    time - time % window_seconds
}

/// The start of the first of `windows` windows ending with the one that holds `time`.
pub fn first_window(time: u64, window_seconds: u64, windows: u64) -> u64 {
    window_of(time, window_seconds)
        .saturating_sub(windows.saturating_sub(1).saturating_mul(window_seconds))
}

/// The overview of `data`.
pub fn build(data: &ChainData) -> Overview {
    let w = data.window_seconds;
    let from = first_window(data.time, w, data.windows);
    let windows: Vec<u64> = if w == 0 {
        vec![]
    } else {
        (0..data.windows)
            .map(|i| from.saturating_add(i.saturating_mul(w)))
            .collect()
    };
    let now_window = window_of(data.time, w);
    let index: BTreeMap<u64, usize> = windows.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let empty_series = || -> Vec<Point> {
        windows
            .iter()
            .map(|s| Point {
                window: *s,
                ..Point::default()
            })
            .collect()
    };

    let mut per_terminal: BTreeMap<&str, (Sum, Vec<Point>)> = BTreeMap::new();
    let mut per_tenant: BTreeMap<&str, (Sum, Vec<Point>)> = BTreeMap::new();
    for p in data.proofs.iter().filter(|p| p.window_start >= from) {
        let bytes = p.metrics.net_rx_bytes.saturating_add(p.metrics.net_tx_bytes);
        for (sum, series) in [
            per_terminal
                .entry(p.terminal_id.as_str())
                .or_insert_with(|| (Sum::default(), empty_series())),
            per_tenant
                .entry(p.tenant.as_str())
                .or_insert_with(|| (Sum::default(), empty_series())),
        ] {
            sum.add(p);
            if let Some(point) = index.get(&p.window_start).and_then(|i| series.get_mut(*i)) {
                point.records = point.records.saturating_add(1);
                point.net_bytes = point.net_bytes.saturating_add(bytes);
            }
        }
    }

    let mut leased: BTreeMap<String, u64> = BTreeMap::new();
    let mut terminals: Vec<TerminalRow> = data
        .terminals
        .iter()
        .map(|t| {
            let lease = t.lease.as_ref().map(|l| LeaseRow {
                tenant: l.tenant.to_string(),
                start: l.start,
                end: l.end,
                price_cap: l.price_cap.map(|c| c.to_string()),
                current: w > 0 && l.covers(now_window, w),
            });
            if let Some(l) = lease.as_ref().filter(|l| l.current) {
                *leased.entry(l.tenant.clone()).or_insert(0) += 1;
            }
            let (sum, series) = per_terminal
                .get(t.terminal_id.as_str())
                .cloned()
                .unwrap_or_else(|| (Sum::default(), empty_series()));
            TerminalRow {
                terminal_id: t.terminal_id.clone(),
                provider: t.provider.to_string(),
                active: t.active,
                tee: t.tee.as_str().to_string(),
                lease,
                usage: sum.usage(),
                series,
            }
        })
        .collect();
    terminals.sort_by(|a, b| a.terminal_id.cmp(&b.terminal_id));

    let tenant_names: BTreeSet<String> = per_tenant
        .keys()
        .map(|t| t.to_string())
        .chain(leased.keys().cloned())
        .collect();
    let tenants: Vec<TenantRow> = tenant_names
        .into_iter()
        .map(|tenant| {
            let (sum, series) = per_tenant
                .get(tenant.as_str())
                .cloned()
                .unwrap_or_else(|| (Sum::default(), empty_series()));
            TenantRow {
                leased_terminals: leased.get(&tenant).copied().unwrap_or(0),
                tenant,
                usage: sum.usage(),
                series,
            }
        })
        .collect();

    let mut periods: Vec<PeriodRow> = data.periods.iter().map(period_row).collect();
    periods.sort_by(|a, b| {
        b.period_start
            .cmp(&a.period_start)
            .then_with(|| a.provider.cmp(&b.provider))
            .then_with(|| a.tenant.cmp(&b.tenant))
    });

    let mut settlements: Vec<SettlementRow> =
        data.settlements.iter().map(settlement_row).collect();
    settlements.sort_by_key(|s| s.settlement_id);
    let mut withdrawals: Vec<WithdrawalRow> =
        data.withdrawals.iter().map(withdrawal_row).collect();
    withdrawals.sort_by_key(|w| w.withdrawal_id);

    let mut roles: BTreeMap<&str, BTreeSet<(u8, &'static str)>> = BTreeMap::new();
    for t in &terminals {
        roles
            .entry(t.provider.as_str())
            .or_default()
            .insert((0, "provider"));
    }
    for t in &tenants {
        roles
            .entry(t.tenant.as_str())
            .or_default()
            .insert((1, "tenant"));
    }
    for s in &settlements {
        roles
            .entry(s.provider.as_str())
            .or_default()
            .insert((0, "provider"));
        roles
            .entry(s.tenant.as_str())
            .or_default()
            .insert((1, "tenant"));
    }
    for w in &withdrawals {
        roles.entry(w.owner.as_str()).or_default().insert((2, "owner"));
    }
    let balances = data
        .balances
        .iter()
        .map(|(address, a)| BalanceRow {
            address: address.clone(),
            roles: roles
                .get(address.as_str())
                .map(|r| r.iter().map(|(_, n)| n.to_string()).collect())
                .unwrap_or_default(),
            available: a.available.to_string(),
            locked: a.locked.to_string(),
        })
        .collect();

    Overview {
        chain_id: data.chain_id.clone(),
        height: data.height,
        time: data.time,
        window_seconds: w,
        period_seconds: data.period_seconds,
        from,
        windows,
        currency: data.currency.clone(),
        decimals: data.decimals,
        terminals,
        tenants,
        periods,
        settlements,
        balances,
        withdrawals,
        supply: data.supply.as_ref().map(|s| SupplyRow {
            total: s.total.to_string(),
            locked: s.locked.to_string(),
            deposited: s.deposited.to_string(),
            settled: s.settled.to_string(),
            withdrawn: s.withdrawn.to_string(),
        }),
        errors: data.errors.clone(),
        stale: false,
    }
}

/// The addresses whose balances the page shows: providers of terminals, tenants of their leases
/// and of first proofs, parties of settlements and owners of withdrawals.
pub fn balance_addresses(data: &ChainData) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in &data.terminals {
        out.insert(t.provider.to_string());
        if let Some(l) = &t.lease {
            out.insert(l.tenant.to_string());
        }
    }
    for p in &data.proofs {
        out.insert(p.tenant.clone());
    }
    for s in &data.settlements {
        out.insert(s.provider.to_string());
        out.insert(s.tenant.to_string());
    }
    for w in &data.withdrawals {
        out.insert(w.owner.to_string());
    }
    out
}

fn totals_usage(t: &usage_common::record::Totals) -> Usage {
    Usage {
        records: t.records,
        net_rx_bytes: t.net_rx_bytes.to_string(),
        net_tx_bytes: t.net_tx_bytes.to_string(),
        cpu_time_us: t.cpu_time_us.to_string(),
    }
}

fn period_row(p: &PeriodData) -> PeriodRow {
    let base = PeriodRow {
        provider: p.provider.clone(),
        tenant: p.tenant.clone(),
        period_start: p.period_start,
        period_end: p.period_start,
        status: "unknown".into(),
        usage: Usage::default(),
        root: String::new(),
        late_records: 0,
        proven_at: None,
        dispute_deadline: None,
        dispute: None,
    };
    if let Some(proof) = &p.proof {
        let (status, dispute) = match &proof.status {
            PeriodStatus::Proven => ("proven", None),
            PeriodStatus::Disputed {
                reason,
                resolve_by,
                bond,
                ..
            } => (
                "disputed",
                Some(DisputeRow {
                    reason: reason.clone(),
                    bond: bond.to_string(),
                    resolve_by: Some(*resolve_by),
                    outcome: "open".into(),
                }),
            ),
            PeriodStatus::Resolved { outcome, bond } => {
                let (status, outcome) = match outcome {
                    DisputeOutcome::Upheld => ("resolved (upheld)", "upheld"),
                    DisputeOutcome::Adjusted { .. } => ("resolved (adjusted)", "adjusted"),
                };
                (
                    status,
                    Some(DisputeRow {
                        reason: String::new(),
                        bond: bond.to_string(),
                        resolve_by: None,
                        outcome: outcome.into(),
                    }),
                )
            }
        };
        return PeriodRow {
            period_end: proof.period_end,
            status: status.into(),
            usage: totals_usage(&proof.totals),
            root: proof.root.to_hex(),
            late_records: proof.late_records,
            proven_at: Some(proof.proven_at),
            dispute_deadline: Some(proof.dispute_deadline),
            dispute,
            ..base
        };
    }
    if let Some(a) = &p.accumulator {
        return PeriodRow {
            period_end: a.period_end,
            status: if a.sealed { "sealed" } else { "open" }.into(),
            usage: totals_usage(&a.root.totals),
            root: a.root.hash.to_hex(),
            late_records: a.late_records,
            ..base
        };
    }
    base
}

fn settlement_row(s: &Settlement) -> SettlementRow {
    let (status, bank_ref) = match &s.status {
        SettlementStatus::Requested => ("requested", None),
        SettlementStatus::Instructed => ("instructed", None),
        SettlementStatus::Cleared { bank_ref } => ("cleared", Some(bank_ref.clone())),
        SettlementStatus::Failed { bank_ref } => ("failed", Some(bank_ref.clone())),
    };
    SettlementRow {
        settlement_id: s.settlement_id,
        provider: s.provider.to_string(),
        tenant: s.tenant.to_string(),
        period_start: s.period_start,
        amount: s.amount.to_string(),
        currency: s.currency.clone(),
        status: status.into(),
        bank_ref,
        requested_at: s.requested_at,
    }
}

fn withdrawal_row(w: &Withdrawal) -> WithdrawalRow {
    let (status, release_at, bank_ref) = match &w.status {
        WithdrawalStatus::Delayed { release_at } => ("delayed", Some(*release_at), None),
        WithdrawalStatus::Requested => ("requested", None, None),
        WithdrawalStatus::Instructed => ("instructed", None, None),
        WithdrawalStatus::Completed { bank_ref } => ("completed", None, Some(bank_ref.clone())),
        WithdrawalStatus::Failed { bank_ref } => ("failed", None, Some(bank_ref.clone())),
        WithdrawalStatus::Cancelled => ("cancelled", None, None),
    };
    WithdrawalRow {
        withdrawal_id: w.withdrawal_id,
        owner: w.owner.to_string(),
        amount: w.amount.to_string(),
        currency: w.currency.clone(),
        status: status.into(),
        release_at,
        bank_ref,
        requested_at: w.requested_at,
    }
}
