//! Storage of C1. First proofs and period leaves are stored in a compact binary form under raw
//! keys (a million proofs must stay small); everything written once per batch or less is JSON.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, HexBinary, Order, StdError, StdResult, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use usage_common::codec::{Decoder, Encoder};
use usage_common::merkle::{Frontier, SumNode};
use usage_common::msg::usage_proof::{BatchInfo, TeeKind};
use usage_common::record::{Metrics, MAX_TENANT_LEN};
use usage_common::Committee;

use crate::error::ContractError;

#[cw_serde]
pub struct Config {
    pub admin: Addr,
    pub window_seconds: u64,
    pub period_seconds: u64,
    pub grace_seconds: u64,
    pub accept_software_tee: bool,
    /// C2 period-proof, the only contract that may seal accumulators; set once.
    #[serde(default)]
    pub period_proof: Option<Addr>,
}

impl usage_common::governance::Administered for Config {
    fn admin_mut(&mut self) -> &mut Addr {
        &mut self.admin
    }
}

impl Config {
    pub fn authorize(&self, sender: &Addr) -> Result<(), ContractError> {
        if sender != self.admin {
            return Err(ContractError::Unauthorized);
        }
        Ok(())
    }
}

/// A registered terminal.
#[cw_serde]
pub struct TerminalState {
    /// Dense index used in proof keys.
    pub index: u32,
    pub provider: Addr,
    pub attestor_key: HexBinary,
    pub tee: TeeKind,
    pub measurement: HexBinary,
    pub active: bool,
    /// Registered as one of several terminals measured by the same attestor key.
    #[serde(default)]
    pub shared_attestor: bool,
}

/// A lease as stored under (terminal index, start).
#[cw_serde]
pub struct LeaseState {
    pub tenant: Addr,
    pub end: Option<u64>,
    pub price_cap: Option<Uint128>,
    pub opened_at: u64,
}

/// What C1 knows about a (provider, tenant, period) accumulator besides its frontier.
#[cw_serde]
#[derive(Default)]
pub struct AccumulatorInfo {
    /// Records appended after their own period had closed.
    pub late: u64,
    /// Sum of the price caps of the leases whose windows it holds.
    pub price_cap: Uint128,
    /// One of those leases has no cap (the sum then bounds nothing).
    pub uncapped: bool,
    /// C2 sealed it at this size; nothing is appended afterwards.
    pub sealed_size: Option<u64>,
}

/// Configuration and admin.
pub const CONFIG: Item<Config> = Item::new("cfg");
/// The admin hand-over and the timelock.
pub const GOV: usage_common::governance::Governance<
    usage_common::msg::usage_proof::UsageProofChange,
> = usage_common::governance::governance();
/// The current committee.
pub const COMMITTEE: Item<Committee> = Item::new("cmt");
/// Allowed enclave measurements.
pub const MEASUREMENTS: Map<&[u8], bool> = Map::new("msr");
/// Terminals by id.
pub const TERMINALS: Map<&str, TerminalState> = Map::new("trm");
/// Terminal id by dense index.
pub const TERMINAL_IDS: Map<u32, String> = Map::new("tix");
/// Number of terminals ever registered (the next dense index).
pub const TERMINAL_COUNT: Item<u32> = Item::new("tcn");
/// Accepted batches by id.
pub const BATCHES: Map<u64, BatchInfo> = Map::new("bat");
/// Id of the next batch.
pub const NEXT_BATCH_ID: Item<u64> = Item::new("nbi");
/// Running Merkle sum accumulator per (provider, tenant, period start).
pub const ACCUMULATORS: Map<(&Addr, &str, u64), Frontier<SumNode>> = Map::new("acc");
/// Late count, price cap and seal of an accumulator; absent until it has something to say.
pub const ACCUMULATOR_INFO: Map<(&Addr, &str, u64), AccumulatorInfo> = Map::new("aci");
/// Leases by (terminal index, start); one terminal's leases never overlap.
pub const LEASES: Map<(u32, u64), LeaseState> = Map::new("lse");
/// Each terminal's lease with the latest start (a copy of its `LEASES` entry).
pub const LATEST_LEASE: Map<u32, (u64, LeaseState)> = Map::new("lsl");

/// Saves a terminal's registration and its [`BillingView`]. Every change of a registration goes
/// through here.
pub fn save_terminal(
    storage: &mut dyn Storage,
    terminal_id: &str,
    terminal: &TerminalState,
) -> StdResult<()> {
    TERMINALS.save(storage, terminal_id, terminal)?;
    let latest = LATEST_LEASE.may_load(storage, terminal.index)?;
    save_billing_view(
        storage,
        terminal_id,
        &BillingView::of(terminal.clone(), latest),
    );
    Ok(())
}

/// Re-derives a terminal's latest lease after its leases changed, and its [`BillingView`].
/// Every change of a lease goes through here.
pub fn refresh_latest_lease(
    storage: &mut dyn Storage,
    terminal_id: &str,
    terminal_index: u32,
) -> StdResult<()> {
    let latest = LEASES
        .prefix(terminal_index)
        .range(storage, None, None, Order::Descending)
        .next()
        .transpose()?;
    match &latest {
        Some(entry) => LATEST_LEASE.save(storage, terminal_index, entry)?,
        None => LATEST_LEASE.remove(storage, terminal_index),
    }
    let terminal = TERMINALS.load(storage, terminal_id)?;
    save_billing_view(storage, terminal_id, &BillingView::of(terminal, latest));
    Ok(())
}

/// The (terminal index, lease start, period) whose lease already counts in that period's cap.
pub const LEASE_PERIODS: Map<(u32, u64, u64), ()> = Map::new("lsp");
/// The reserve each capped lease holds until it is released: (terminal index, start) → amount.
pub const LEASE_RESERVES: Map<(u32, u64), Uint128> = Map::new("lsr");
/// Each tenant's reserve: the sum of its leases' unreleased reserves.
pub const TENANT_RESERVES: Map<&Addr, Uint128> = Map::new("tsr");

impl Config {
    /// Periods of usage a capped lease reserves: the current one and those still in grace,
    /// which are not proven (and so not escrowed) yet.
    pub fn reserve_periods(&self) -> u64 {
        1 + self.grace_seconds.div_ceil(self.period_seconds.max(1)) + 1
    }

    /// Until when a lease that ends at `end` may still bring unproven usage.
    pub fn reserve_until(&self, end: Option<u64>) -> Option<u64> {
        end.map(|e| {
            e.saturating_add(self.period_seconds)
                .saturating_add(self.grace_seconds)
        })
    }
}

/// Terminals by attestor key, to refuse one key speaking for several undeclared terminals.
pub const ATTESTOR_KEYS: Map<(&[u8], &str), ()> = Map::new("atk");

/// The lease of a terminal with the latest start at or before `at` (it covers `at` only if it has
/// not ended by then: the caller checks). The terminal's latest lease answers with one read;
/// only a window before it needs a range scan.
pub fn lease_starting_by(
    storage: &dyn Storage,
    terminal_index: u32,
    at: u64,
) -> StdResult<Option<(u64, LeaseState)>> {
    let latest = LATEST_LEASE.may_load(storage, terminal_index)?;
    lease_starting_by_given(storage, terminal_index, latest.as_ref(), at)
}

/// [`lease_starting_by`] when the terminal's latest lease is known.
pub fn lease_starting_by_given(
    storage: &dyn Storage,
    terminal_index: u32,
    latest: Option<&(u64, LeaseState)>,
    at: u64,
) -> StdResult<Option<(u64, LeaseState)>> {
    match latest {
        Some((start, lease)) if *start <= at => return Ok(Some((*start, lease.clone()))),
        None => return Ok(None),
        Some(_) => {}
    }
    LEASES
        .prefix(terminal_index)
        .range(
            storage,
            None,
            Some(cw_storage_plus::Bound::inclusive(at)),
            Order::Descending,
        )
        .next()
        .transpose()
}

/// Raw key prefix of billing views: `tv ‖ terminal id`.
const VIEW_PREFIX: &[u8] = b"tv";

fn view_key(terminal_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(VIEW_PREFIX.len() + terminal_id.len());
    k.extend_from_slice(VIEW_PREFIX);
    k.extend_from_slice(terminal_id.as_bytes());
    k
}

/// What a batch needs to know of a terminal, in one compact binary value instead of its JSON
/// registration and its JSON latest lease: a copy of both, written with every change of either
/// ([`save_terminal`], [`refresh_latest_lease`]) and never by a batch, so a batch's gas does not
/// depend on whether its terminals were seen before. A terminal registered by a version of the
/// contract without views has none until its registration or a lease changes: a batch then reads
/// the registration and the lease themselves.
///
/// `u32 index ‖ u8 flags (1 active, 2 software TEE) ‖ bytes measurement ‖ str provider ‖
/// u8 has lease [‖ u64 start ‖ str tenant ‖ u8 has end [‖ u64 end] ‖ u8 has cap [‖ u128 cap] ‖
/// u64 opened at]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingView {
    pub index: u32,
    pub active: bool,
    pub software_tee: bool,
    pub measurement: Vec<u8>,
    pub provider: Addr,
    /// The terminal's lease with the latest start.
    pub latest_lease: Option<(u64, LeaseState)>,
}

/// Longest measurement a registration accepts is far below this; a longer one is corrupt.
const MAX_VIEW_MEASUREMENT: usize = 1024;
/// Longest address.
const MAX_VIEW_ADDR: usize = 256;

impl BillingView {
    fn of(terminal: TerminalState, latest_lease: Option<(u64, LeaseState)>) -> Self {
        BillingView {
            index: terminal.index,
            active: terminal.active,
            software_tee: terminal.tee == TeeKind::Software,
            measurement: terminal.measurement.to_vec(),
            provider: terminal.provider,
            latest_lease,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(96 + self.measurement.len());
        let flags = u8::from(self.active) | (u8::from(self.software_tee) << 1);
        e.u32(self.index)
            .u8(flags)
            .bytes(&self.measurement)
            .str(self.provider.as_str());
        match &self.latest_lease {
            None => {
                e.u8(0);
            }
            Some((start, lease)) => {
                e.u8(1).u64(*start).str(lease.tenant.as_str());
                match lease.end {
                    None => e.u8(0),
                    Some(end) => e.u8(1).u64(end),
                };
                match lease.price_cap {
                    None => e.u8(0),
                    Some(cap) => e.u8(1).u128(cap.u128()),
                };
                e.u64(lease.opened_at);
            }
        }
        e.finish()
    }

    fn from_bytes(bytes: &[u8]) -> StdResult<Self> {
        let corrupt = |e| StdError::msg(format!("corrupt billing view: {e}"));
        let mut d = Decoder::new(bytes);
        let index = d.u32().map_err(corrupt)?;
        let flags = d.u8().map_err(corrupt)?;
        let measurement = d
            .bytes("measurement", MAX_VIEW_MEASUREMENT)
            .map_err(corrupt)?
            .to_vec();
        let provider = Addr::unchecked(d.str("provider", MAX_VIEW_ADDR).map_err(corrupt)?);
        let flag = |d: &mut Decoder| -> StdResult<bool> {
            match d.u8().map_err(corrupt)? {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(StdError::msg(
                    "corrupt billing view: a flag is neither 0 nor 1",
                )),
            }
        };
        let latest_lease = if flag(&mut d)? {
            let start = d.u64().map_err(corrupt)?;
            let tenant = Addr::unchecked(d.str("tenant", MAX_VIEW_ADDR).map_err(corrupt)?);
            let end = if flag(&mut d)? {
                Some(d.u64().map_err(corrupt)?)
            } else {
                None
            };
            let price_cap = if flag(&mut d)? {
                Some(Uint128::new(d.u128().map_err(corrupt)?))
            } else {
                None
            };
            let opened_at = d.u64().map_err(corrupt)?;
            Some((
                start,
                LeaseState {
                    tenant,
                    end,
                    price_cap,
                    opened_at,
                },
            ))
        } else {
            None
        };
        d.finish().map_err(corrupt)?;
        if flags > 3 {
            return Err(StdError::msg("corrupt billing view: unknown flags"));
        }
        Ok(BillingView {
            index,
            active: flags & 1 != 0,
            software_tee: flags & 2 != 0,
            measurement,
            provider,
            latest_lease,
        })
    }
}

/// A terminal's billing view (made from its registration and latest lease if it has none yet);
/// `None` for an unknown terminal.
pub fn load_billing_view(
    storage: &dyn Storage,
    terminal_id: &str,
) -> StdResult<Option<BillingView>> {
    if let Some(bytes) = storage.get(&view_key(terminal_id)) {
        return BillingView::from_bytes(&bytes).map(Some);
    }
    let Some(terminal) = TERMINALS.may_load(storage, terminal_id)? else {
        return Ok(None);
    };
    let latest = LATEST_LEASE.may_load(storage, terminal.index)?;
    Ok(Some(BillingView::of(terminal, latest)))
}

fn save_billing_view(storage: &mut dyn Storage, terminal_id: &str, view: &BillingView) {
    storage.set(&view_key(terminal_id), &view.to_bytes());
}

/// Raw key prefix of first proofs: `fp ‖ terminal index (u32) ‖ window start (u64)`.
const PROOF_PREFIX: &[u8] = b"fp";
/// Raw key prefix of period leaves: `pl ‖ sha256(provider ‖ tenant) ‖ period ‖ chunk` (see
/// [`append_period_leaves`]).
const LEAF_PREFIX: &[u8] = b"pl";

/// A first proof as stored:
/// `str tenant ‖ u64 batch id ‖ u64 period start ‖ u64 period index ‖ metrics (12 × u64)`, where
/// the period is the one whose accumulator holds it (later than the window's own if late).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProof {
    pub tenant: String,
    pub batch_id: u64,
    pub period_start: u64,
    pub period_index: u64,
    pub metrics: Metrics,
}

impl StoredProof {
    fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(16 + self.tenant.len() + 96);
        e.str(&self.tenant)
            .u64(self.batch_id)
            .u64(self.period_start)
            .u64(self.period_index);
        self.metrics.encode(&mut e);
        e.finish()
    }

    fn from_bytes(bytes: &[u8]) -> StdResult<Self> {
        let corrupt = |e| StdError::msg(format!("corrupt stored proof: {e}"));
        let mut d = Decoder::new(bytes);
        let proof = StoredProof {
            tenant: d
                .str("tenant", MAX_TENANT_LEN)
                .map_err(corrupt)?
                .to_string(),
            batch_id: d.u64().map_err(corrupt)?,
            period_start: d.u64().map_err(corrupt)?,
            period_index: d.u64().map_err(corrupt)?,
            metrics: Metrics::decode(&mut d).map_err(corrupt)?,
        };
        d.finish().map_err(corrupt)?;
        Ok(proof)
    }
}

pub fn proof_key(terminal_index: u32, window_start: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(14);
    k.extend_from_slice(PROOF_PREFIX);
    k.extend_from_slice(&terminal_index.to_be_bytes());
    k.extend_from_slice(&window_start.to_be_bytes());
    k
}

pub fn has_proof(storage: &dyn Storage, terminal_index: u32, window_start: u64) -> bool {
    storage
        .get(&proof_key(terminal_index, window_start))
        .is_some()
}

pub fn save_proof(
    storage: &mut dyn Storage,
    terminal_index: u32,
    window_start: u64,
    p: &StoredProof,
) {
    storage.set(&proof_key(terminal_index, window_start), &p.to_bytes());
}

pub fn load_proof(
    storage: &dyn Storage,
    terminal_index: u32,
    window_start: u64,
) -> StdResult<Option<StoredProof>> {
    storage
        .get(&proof_key(terminal_index, window_start))
        .map(|b| StoredProof::from_bytes(&b))
        .transpose()
}

/// A terminal's proofs with `from <= window < to`, ascending, at most `limit`.
pub fn range_proofs(
    storage: &dyn Storage,
    terminal_index: u32,
    from: u64,
    to: u64,
    limit: usize,
) -> StdResult<Vec<(u64, StoredProof)>> {
    if from >= to {
        return Ok(vec![]);
    }
    let start = proof_key(terminal_index, from);
    let end = proof_key(terminal_index, to);
    storage
        .range(Some(&start), Some(&end), Order::Ascending)
        .take(limit)
        .map(|(k, v)| {
            let mut window = [0u8; 8];
            window.copy_from_slice(&k[k.len() - 8..]);
            Ok((u64::from_be_bytes(window), StoredProof::from_bytes(&v)?))
        })
        .collect()
}

fn period_key_prefix(provider: &Addr, tenant: &str, period_start: u64) -> Vec<u8> {
    let mut h = Encoder::new();
    h.str(provider.as_str()).str(tenant);
    let digest = usage_common::merkle::sha256(&h.finish());
    let mut k = Vec::with_capacity(2 + 32 + 8 + 8);
    k.extend_from_slice(LEAF_PREFIX);
    // The whole digest: a truncated one would let two (provider, tenant) pairs collide.
    k.extend_from_slice(&digest);
    k.extend_from_slice(&period_start.to_be_bytes());
    k
}

/// Period leaves are kept this many to a key, so that a batch appending a thousand records to an
/// accumulator writes a few keys, not a thousand.
pub const LEAVES_PER_CHUNK: u64 = 64;
/// One leaf in a chunk: terminal index (u32 BE) ‖ window start (u64 BE).
const LEAF_LEN: usize = 12;

fn corrupt_leaves() -> StdError {
    StdError::msg("corrupt period leaf chunk")
}

/// Records that leaves `first_index..` of a period accumulator are the proofs of `leaves`
/// (terminal index, window start), in order. Leaf `i` is entry `i % 64` of chunk `i / 64`, under
/// `pl ‖ sha256(provider ‖ tenant) ‖ period ‖ chunk (u64 BE)`; a chunk's value is its leaves in
/// index order, so appending reads and rewrites only the chunk the accumulator ends in.
pub fn append_period_leaves(
    storage: &mut dyn Storage,
    provider: &Addr,
    tenant: &str,
    period_start: u64,
    first_index: u64,
    leaves: &[(u32, u64)],
) -> StdResult<()> {
    let prefix = period_key_prefix(provider, tenant, period_start);
    let mut index = first_index;
    let mut rest = leaves;
    while !rest.is_empty() {
        let offset = index % LEAVES_PER_CHUNK;
        let room = usize::try_from(LEAVES_PER_CHUNK - offset).map_err(|_| corrupt_leaves())?;
        let (now, later) = rest.split_at(room.min(rest.len()));
        let mut key = prefix.clone();
        key.extend_from_slice(&(index / LEAVES_PER_CHUNK).to_be_bytes());
        let mut value = if offset == 0 {
            Vec::with_capacity(LEAVES_PER_CHUNK as usize * LEAF_LEN)
        } else {
            storage.get(&key).unwrap_or_default()
        };
        if value.len() as u64 != offset * LEAF_LEN as u64 {
            return Err(corrupt_leaves());
        }
        for (terminal_index, window_start) in now {
            value.extend_from_slice(&terminal_index.to_be_bytes());
            value.extend_from_slice(&window_start.to_be_bytes());
        }
        storage.set(&key, &value);
        index = index
            .checked_add(now.len() as u64)
            .ok_or_else(corrupt_leaves)?;
        rest = later;
    }
    Ok(())
}

/// Leaves of a period accumulator with index > `start_after`, ascending: (index, terminal index,
/// window start).
pub fn range_period_leaves(
    storage: &dyn Storage,
    provider: &Addr,
    tenant: &str,
    period_start: u64,
    start_after: Option<u64>,
    limit: usize,
) -> StdResult<Vec<(u64, u32, u64)>> {
    let first = match start_after {
        Some(s) => match s.checked_add(1) {
            Some(f) => f,
            None => return Ok(vec![]),
        },
        None => 0,
    };
    let prefix = period_key_prefix(provider, tenant, period_start);
    let mut start = prefix.clone();
    start.extend_from_slice(&(first / LEAVES_PER_CHUNK).to_be_bytes());
    let mut end = prefix;
    end.extend_from_slice(&u64::MAX.to_be_bytes());
    let mut out = Vec::with_capacity(limit.min(1024));
    for (k, v) in storage.range(Some(&start), Some(&end), Order::Ascending) {
        let chunk = k
            .get(k.len().saturating_sub(8)..)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(corrupt_leaves)?;
        if v.len() % LEAF_LEN != 0 || v.len() > LEAVES_PER_CHUNK as usize * LEAF_LEN {
            return Err(corrupt_leaves());
        }
        let base = chunk
            .checked_mul(LEAVES_PER_CHUNK)
            .ok_or_else(corrupt_leaves)?;
        for (i, leaf) in v.chunks_exact(LEAF_LEN).enumerate() {
            let index = base + i as u64;
            if index < first {
                continue;
            }
            if out.len() == limit {
                return Ok(out);
            }
            let (t, w) = leaf.split_at(4);
            let t = <[u8; 4]>::try_from(t).map_err(|_| corrupt_leaves())?;
            let w = <[u8; 8]>::try_from(w).map_err(|_| corrupt_leaves())?;
            out.push((index, u32::from_be_bytes(t), u64::from_be_bytes(w)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[test]
    fn a_billing_view_round_trips_and_a_corrupt_one_is_an_error() {
        let lease = LeaseState {
            tenant: Addr::unchecked("usage1tenant"),
            end: Some(120),
            price_cap: Some(Uint128::new(u128::MAX)),
            opened_at: 7,
        };
        for latest_lease in [None, Some((60, lease))] {
            let v = BillingView {
                index: 9,
                active: true,
                software_tee: false,
                measurement: vec![0x5a; 48],
                provider: Addr::unchecked("usage1provider"),
                latest_lease,
            };
            let bytes = v.to_bytes();
            assert_eq!(BillingView::from_bytes(&bytes).unwrap(), v);
            // Cut short, or a flag that is neither 0 nor 1: an error, never a guess.
            assert!(BillingView::from_bytes(&bytes[..bytes.len() - 1]).is_err());
            let mut bad = bytes.clone();
            // The lease flag (the last byte without a lease, the end's flag with one).
            let flag = if v.latest_lease.is_some() {
                // ‖ has end ‖ u64 end ‖ has cap ‖ u128 cap ‖ u64 opened at
                bytes.len() - (1 + 8 + 1 + 16 + 8)
            } else {
                bytes.len() - 1
            };
            bad[flag] = 2;
            assert!(BillingView::from_bytes(&bad).is_err());
        }
        let mut storage = MockStorage::new();
        assert_eq!(load_billing_view(&storage, "nobody").unwrap(), None);
        storage.set(&view_key("t"), &[1, 2, 3]);
        assert!(load_billing_view(&storage, "t").is_err());
    }

    #[test]
    fn a_terminal_without_a_view_reads_as_its_registration_and_latest_lease() {
        let mut storage = MockStorage::new();
        let terminal = TerminalState {
            index: 3,
            provider: Addr::unchecked("usage1provider"),
            attestor_key: HexBinary::from([1u8; 32]),
            tee: TeeKind::Sgx,
            measurement: HexBinary::from([0x5a; 32]),
            active: true,
            shared_attestor: false,
        };
        save_terminal(&mut storage, "t", &terminal).unwrap();
        let lease = LeaseState {
            tenant: Addr::unchecked("usage1tenant"),
            end: None,
            price_cap: None,
            opened_at: 1,
        };
        LEASES.save(&mut storage, (3, 60), &lease).unwrap();
        refresh_latest_lease(&mut storage, "t", 3).unwrap();
        let kept = load_billing_view(&storage, "t").unwrap().unwrap();
        assert_eq!(kept.latest_lease, Some((60, lease)));
        assert!(!kept.software_tee);
        // As a terminal registered before views existed: the same answer from the sources.
        storage.remove(&view_key("t"));
        assert_eq!(load_billing_view(&storage, "t").unwrap(), Some(kept));
    }

    #[test]
    fn a_stored_proof_round_trips_and_ranges_by_window() {
        let mut storage = MockStorage::new();
        let p = StoredProof {
            tenant: "usage1tenant".into(),
            batch_id: 4,
            period_start: 60,
            period_index: 2,
            metrics: Metrics {
                net_rx_bytes: 9,
                ..Default::default()
            },
        };
        for w in [10, 20, 30] {
            save_proof(&mut storage, 1, w, &p);
        }
        save_proof(&mut storage, 2, 20, &p);
        assert_eq!(load_proof(&storage, 1, 20).unwrap(), Some(p.clone()));
        assert_eq!(load_proof(&storage, 1, 25).unwrap(), None);
        let windows: Vec<u64> = range_proofs(&storage, 1, 10, 30, 10)
            .unwrap()
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(windows, vec![10, 20]);
        // A stored proof is small: tenant + 24 bytes of ids + 96 bytes of metrics.
        assert_eq!(p.to_bytes().len(), 4 + 12 + 24 + 96);
    }

    #[test]
    fn period_leaves_are_kept_64_to_a_key_and_read_back_in_pages() {
        let mut storage = MockStorage::new();
        let provider = Addr::unchecked("provider");
        let leaves: Vec<(u32, u64)> = (0..150u32).map(|i| (i, 10 * u64::from(i))).collect();
        // Three batches: 10 leaves, 100 (across two chunk boundaries), 40.
        let mut next = 0u64;
        for part in [&leaves[..10], &leaves[10..110], &leaves[110..]] {
            append_period_leaves(&mut storage, &provider, "tenant", 60, next, part).unwrap();
            next += part.len() as u64;
        }
        let keys = storage.range(None, None, Order::Ascending).count();
        assert_eq!(keys, 3, "150 leaves in chunks of 64");
        let all = range_period_leaves(&storage, &provider, "tenant", 60, None, 1000).unwrap();
        let expected: Vec<(u64, u32, u64)> = leaves
            .iter()
            .enumerate()
            .map(|(i, (t, w))| (i as u64, *t, *w))
            .collect();
        assert_eq!(all, expected);
        // Pages: after index 63 (a chunk's last), after 70 (inside one), limits across chunks.
        let page = range_period_leaves(&storage, &provider, "tenant", 60, Some(63), 3).unwrap();
        assert_eq!(page, expected[64..67].to_vec());
        let page = range_period_leaves(&storage, &provider, "tenant", 60, Some(70), 100).unwrap();
        assert_eq!(page, expected[71..150].to_vec());
        assert!(
            range_period_leaves(&storage, &provider, "tenant", 60, Some(149), 5)
                .unwrap()
                .is_empty()
        );
        assert!(
            range_period_leaves(&storage, &provider, "tenant", 60, Some(u64::MAX), 5)
                .unwrap()
                .is_empty()
        );
        // Another period or tenant sees none of them.
        assert!(
            range_period_leaves(&storage, &provider, "tenant", 120, None, 5)
                .unwrap()
                .is_empty()
        );
        assert!(
            range_period_leaves(&storage, &provider, "other", 60, None, 5)
                .unwrap()
                .is_empty()
        );
        // Appending past a chunk that is not where the accumulator ends is refused.
        assert!(
            append_period_leaves(&mut storage, &provider, "tenant", 60, 140, &[(1, 1)]).is_err()
        );
    }
}
