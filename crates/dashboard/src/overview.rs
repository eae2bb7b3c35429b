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
        let bytes = p
            .metrics
            .net_rx_bytes
            .saturating_add(p.metrics.net_tx_bytes);
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

    let mut settlements: Vec<SettlementRow> = data.settlements.iter().map(settlement_row).collect();
    settlements.sort_by_key(|s| s.settlement_id);
    let mut withdrawals: Vec<WithdrawalRow> = data.withdrawals.iter().map(withdrawal_row).collect();
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
        roles
            .entry(w.owner.as_str())
            .or_default()
            .insert((2, "owner"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::{Addr, HexBinary, Uint128};
    use usage_common::merkle::SumNode;
    use usage_common::msg::usage_proof::{Lease, TeeKind};
    use usage_common::record::{Metrics, Totals};

    const W: u64 = 10;
    const NOW: u64 = 1_000_005;

    fn terminal(id: &str, lease: Option<(&str, u64, Option<u64>)>) -> Terminal {
        Terminal {
            terminal_id: id.into(),
            provider: Addr::unchecked("provider"),
            attestor_key: HexBinary::from(vec![1; 32]),
            tee: TeeKind::Software,
            measurement: HexBinary::from(vec![2; 32]),
            active: true,
            lease: lease.map(|(tenant, start, end)| Lease {
                terminal_id: id.into(),
                tenant: Addr::unchecked(tenant),
                provider: Addr::unchecked("provider"),
                start,
                end,
                price_cap: Some(Uint128::new(500)),
                opened_at: 0,
            }),
        }
    }

    fn proof(terminal: &str, tenant: &str, window_start: u64, rx: u64, tx: u64) -> FirstProof {
        FirstProof {
            terminal_id: terminal.into(),
            window_start,
            tenant: tenant.into(),
            provider: Addr::unchecked("provider"),
            metrics: Metrics {
                net_rx_bytes: rx,
                net_tx_bytes: tx,
                cpu_time_us: 7,
                ..Metrics::default()
            },
            batch_id: 1,
            period_start: window_start - window_start % 60,
            late: false,
            period_index: 0,
        }
    }

    fn totals(records: u64, rx: u128) -> Totals {
        Totals {
            records,
            net_rx_bytes: rx,
            ..Totals::default()
        }
    }

    #[test]
    fn the_overview_sums_usage_per_terminal_and_tenant_window_by_window() {
        let big = u64::MAX;
        let data = ChainData {
            chain_id: "c".into(),
            height: 42,
            time: NOW,
            window_seconds: W,
            period_seconds: 60,
            windows: 3,
            terminals: vec![
                terminal("t-2", Some(("tenant-b", 0, Some(999_990)))),
                terminal("t-1", Some(("tenant-a", 0, None))),
                terminal("t-3", None),
            ],
            proofs: vec![
                // Before the first window shown (999_980): left out.
                proof("t-1", "tenant-a", 999_970, 1_000, 1_000),
                proof("t-1", "tenant-a", 999_980, 100, 10),
                proof("t-1", "tenant-a", 1_000_000, big, big),
                proof("t-2", "tenant-b", 999_990, 5, 6),
            ],
            currency: "CNY".into(),
            decimals: 2,
            balances: vec![
                (
                    "provider".into(),
                    AccountResponse {
                        available: Uint128::new(4_000),
                        locked: Uint128::new(1_000),
                    },
                ),
                ("tenant-a".into(), AccountResponse::default()),
            ],
            errors: vec!["C3 Settlements: rpc: refused".into()],
            ..ChainData::default()
        };
        let o = build(&data);
        assert_eq!(o.from, 999_980);
        assert_eq!(o.windows, vec![999_980, 999_990, 1_000_000]);
        assert_eq!(
            o.terminals
                .iter()
                .map(|t| t.terminal_id.as_str())
                .collect::<Vec<_>>(),
            ["t-1", "t-2", "t-3"]
        );
        let t1 = &o.terminals[0];
        assert_eq!(t1.usage.records, 2);
        // Sums beyond 64 bits stay exact, as strings.
        assert_eq!(t1.usage.net_rx_bytes, (u128::from(big) + 100).to_string());
        assert_eq!(t1.usage.cpu_time_us, "14");
        assert_eq!(
            t1.series.iter().map(|p| p.records).collect::<Vec<_>>(),
            [1, 0, 1]
        );
        assert_eq!(t1.series[0].net_bytes, 110);
        assert_eq!(
            t1.series[2].net_bytes,
            u64::MAX,
            "a window's bytes saturate"
        );
        let lease = t1.lease.as_ref().unwrap();
        assert!(lease.current);
        assert_eq!(lease.tenant, "tenant-a");
        assert_eq!(lease.price_cap.as_deref(), Some("500"));
        // t-2's lease ended before the current window.
        assert!(!o.terminals[1].lease.as_ref().unwrap().current);
        assert_eq!(o.terminals[2].usage.records, 0);
        assert_eq!(o.terminals[2].series.len(), 3);

        assert_eq!(
            o.tenants
                .iter()
                .map(|t| (t.tenant.as_str(), t.leased_terminals, t.usage.records))
                .collect::<Vec<_>>(),
            [("tenant-a", 1, 2), ("tenant-b", 0, 1)]
        );
        assert_eq!(
            o.tenants[1]
                .series
                .iter()
                .map(|p| p.records)
                .collect::<Vec<_>>(),
            [0, 1, 0]
        );
        assert_eq!(o.balances[0].roles, ["provider"]);
        assert_eq!(o.balances[0].available, "4000");
        assert_eq!(o.balances[0].locked, "1000");
        assert_eq!(o.balances[1].roles, ["tenant"]);
        assert_eq!(o.errors, ["C3 Settlements: rpc: refused"]);
        assert!(!o.stale);

        let addresses = balance_addresses(&data);
        assert!(addresses.contains("provider") && addresses.contains("tenant-b"));
    }

    #[test]
    fn periods_show_their_second_proof_dispute_or_accumulator_and_states_are_named() {
        let root = HexBinary::from(vec![0xab; 32]);
        let proven = |status| PeriodProof {
            provider: Addr::unchecked("provider"),
            tenant: "tenant-a".into(),
            period_start: 960,
            period_end: 1_020,
            root: root.clone(),
            totals: totals(6, 60),
            proven_at: 1_060,
            late_records: 1,
            price_cap: None,
            dispute_deadline: 1_120,
            status,
        };
        let period = |start, proof, accumulator| PeriodData {
            provider: "provider".into(),
            tenant: "tenant-a".into(),
            period_start: start,
            proof,
            accumulator,
        };
        let data = ChainData {
            window_seconds: W,
            windows: 1,
            periods: vec![
                period(960, Some(proven(PeriodStatus::Proven)), None),
                period(
                    900,
                    Some(proven(PeriodStatus::Disputed {
                        reason: "too much".into(),
                        opened_at: 1_070,
                        resolve_by: 1_190,
                        bond: Uint128::new(100),
                    })),
                    None,
                ),
                period(
                    1_020,
                    None,
                    Some(AccumulatorResponse {
                        period_start: 1_020,
                        period_end: 1_080,
                        frontier: Default::default(),
                        root: SumNode {
                            hash: root.clone(),
                            totals: totals(2, 20),
                        },
                        late_records: 0,
                        price_cap: None,
                        sealed: false,
                    }),
                ),
                period(840, None, None),
            ],
            settlements: vec![Settlement {
                settlement_id: 1,
                provider: Addr::unchecked("provider"),
                tenant: Addr::unchecked("tenant-a"),
                period_start: 840,
                amount: Uint128::new(1234),
                currency: "CNY".into(),
                payee_account: "CN1".into(),
                end_to_end_id: "USG-S-1".into(),
                status: SettlementStatus::Cleared {
                    bank_ref: "B-1".into(),
                },
                requested_at: 1_000,
                usage_amount: Uint128::new(1234),
                carried_amount: Uint128::zero(),
                forfeited_bond: Uint128::zero(),
                late_records: 0,
                capped: false,
            }],
            withdrawals: vec![Withdrawal {
                withdrawal_id: 3,
                owner: Addr::unchecked("tenant-a"),
                amount: Uint128::new(77),
                currency: "CNY".into(),
                beneficiary: "CN2".into(),
                end_to_end_id: "USG-W-3".into(),
                status: WithdrawalStatus::Delayed { release_at: 5_000 },
                requested_at: 1_001,
            }],
            ..ChainData::default()
        };
        let o = build(&data);
        let summary: Vec<_> = o
            .periods
            .iter()
            .map(|p| (p.period_start, p.status.as_str(), p.usage.records))
            .collect();
        assert_eq!(
            summary,
            [
                (1_020, "open", 2),
                (960, "proven", 6),
                (900, "disputed", 6),
                (840, "unknown", 0)
            ],
            "newest first"
        );
        assert_eq!(o.periods[1].root, root.to_hex());
        assert_eq!(o.periods[1].late_records, 1);
        assert_eq!(o.periods[1].dispute_deadline, Some(1_120));
        let dispute = o.periods[2].dispute.as_ref().unwrap();
        assert_eq!(
            (
                dispute.outcome.as_str(),
                dispute.bond.as_str(),
                dispute.resolve_by
            ),
            ("open", "100", Some(1_190))
        );
        let s = &o.settlements[0];
        assert_eq!(
            (s.amount.as_str(), s.status.as_str(), s.bank_ref.as_deref()),
            ("1234", "cleared", Some("B-1"))
        );
        let w = &o.withdrawals[0];
        assert_eq!(
            (w.status.as_str(), w.release_at, w.amount.as_str()),
            ("delayed", Some(5_000), "77")
        );
    }

    #[test]
    fn windows_start_on_their_boundaries() {
        assert_eq!(window_of(1_000_005, 10), 1_000_000);
        assert_eq!(first_window(1_000_005, 10, 3), 999_980);
        assert_eq!(first_window(15, 10, 5), 0, "never before the epoch");
        assert_eq!(window_of(7, 0), 7, "no window length: no rounding");
        assert!(build(&ChainData::default()).windows.is_empty());
    }
}
