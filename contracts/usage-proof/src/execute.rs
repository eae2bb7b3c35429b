use std::collections::BTreeMap;

use cosmwasm_std::{Addr, Binary, DepsMut, Env, HexBinary, MessageInfo, Order, Response, Uint128};
use cw_storage_plus::Bound;
use usage_common::events::{
    AccumulatorAppended, AccumulatorSealed, CommitteeRotated, ConfigUpdated, LateUsageRecorded,
    LeaseClosed, LeaseOpened, MeasurementChanged, TerminalDeactivated, TerminalRegistered,
    TypedEvent, UsageBatchAccepted, UsageProofRecorded,
};
use usage_common::governance::{apply_migrate, GovernanceError, GovernanceMsg};
use usage_common::merkle::{self, Frontier, SumNode};
use usage_common::msg::usage_proof::UsageProofChange;
use usage_common::msg::usage_proof::{BatchInfo, InstantiateMsg, TeeKind};
use usage_common::payload::{CommitteeRotation, UsageBatchDigest};
use usage_common::record::{align, decode_batch, Totals, MAX_TERMINAL_ID_LEN};
use usage_common::{Committee, CommitteeError, ThresholdSignature};

use crate::error::ContractError;
use crate::state::{
    append_period_leaves, has_proof, lease_starting_by, lease_starting_by_given, load_billing_view,
    refresh_latest_lease, save_proof, save_terminal, AccumulatorInfo, BillingView, Config,
    LeaseState, StoredProof, TerminalState, ACCUMULATORS, ACCUMULATOR_INFO, ATTESTOR_KEYS, BATCHES,
    COMMITTEE, CONFIG, GOV, LEASES, LEASE_PERIODS, LEASE_RESERVES, MEASUREMENTS, NEXT_BATCH_ID,
    TENANT_RESERVES, TERMINALS, TERMINAL_COUNT, TERMINAL_IDS,
};

/// Most terminals one attestor key may speak for.
const MAX_SHARED_ATTESTOR: usize = 64;

/// Accepted lengths of an enclave measurement (MRENCLAVE/SHA-256: 32; MRTD/SNP: 48).
const MEASUREMENT_LENS: [usize; 2] = [32, 48];

fn check_measurement(m: &HexBinary) -> Result<(), ContractError> {
    if !MEASUREMENT_LENS.contains(&m.len()) {
        return Err(ContractError::InvalidConfig {
            reason: format!("measurement must be 32 or 48 bytes, got {}", m.len()),
        });
    }
    Ok(())
}

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    if msg.window_seconds == 0
        || msg.period_seconds == 0
        || !msg.period_seconds.is_multiple_of(msg.window_seconds)
    {
        return Err(ContractError::InvalidConfig {
            reason: "period_seconds must be a positive multiple of a positive window_seconds"
                .into(),
        });
    }
    let admin = match msg.admin {
        Some(a) => deps.api.addr_validate(&a)?,
        None => info.sender,
    };
    let committee = Committee::from_members(deps.api, 1, msg.threshold, &msg.members)?;
    for m in &msg.allowed_measurements {
        check_measurement(m)?;
        MEASUREMENTS.save(deps.storage, m.as_slice(), &true)?;
    }
    let admin_str = admin.to_string();
    CONFIG.save(
        deps.storage,
        &Config {
            admin,
            window_seconds: msg.window_seconds,
            period_seconds: msg.period_seconds,
            grace_seconds: msg.grace_seconds,
            accept_software_tee: msg.accept_software_tee,
            period_proof: msg
                .period_proof
                .map(|p| deps.api.addr_validate(&p))
                .transpose()?,
        },
    )?;
    COMMITTEE.save(deps.storage, &committee)?;
    NEXT_BATCH_ID.save(deps.storage, &1)?;
    TERMINAL_COUNT.save(deps.storage, &0)?;
    Ok(Response::new()
        .add_event(ConfigUpdated::event("instantiate", admin_str))
        .add_event(
            CommitteeRotated {
                epoch: committee.epoch,
                threshold: committee.threshold,
                members: committee.members.len() as u32,
            }
            .to_event(),
        ))
}

/// What a batch's records resolve to, per terminal, loaded once per batch.
struct TerminalView {
    view: BillingView,
    /// The last lease looked up for this terminal: (start, lease).
    lease: Option<(u64, LeaseState)>,
}

/// An accumulator touched by a batch: its frontier, what the batch appended, and its info.
struct Touched {
    frontier: Frontier<SumNode>,
    /// The frontier's size before the batch: the period index of the first leaf it appends.
    first_index: u64,
    /// (terminal index, window start) of each leaf the batch appended, in order.
    leaves: Vec<(u32, u64)>,
    appended: u64,
    late: u64,
    info: AccumulatorInfo,
    info_changed: bool,
}

/// The period whose accumulator takes a record of `window` proven at `now`: the window's own
/// period while it takes records (until `period end + grace`, exclusive), otherwise the earliest
/// period still taking records — so usage proven late is billed late, never lost. The boundary is
/// the same one C2 seals at (`now >= period end + grace`), so no record lands in a sealed period.
pub fn billing_period(config: &Config, window: u64, now: u64) -> (u64, bool) {
    let own = align(window, config.period_seconds);
    let closes_at = own
        .saturating_add(config.period_seconds)
        .saturating_add(config.grace_seconds);
    if now < closes_at {
        (own, false)
    } else {
        (
            align(
                now.saturating_sub(config.grace_seconds),
                config.period_seconds,
            ),
            true,
        )
    }
}

pub fn submit_batch(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    records: Binary,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let committee = COMMITTEE.load(deps.storage)?;
    let batch = decode_batch(records.as_slice()).map_err(|e| ContractError::MalformedBatch {
        reason: e.to_string(),
    })?;
    if batch.records.is_empty() {
        return Err(ContractError::EmptyBatch);
    }

    // The signature covers the Merkle root of the records exactly as they were sent.
    let leaves: Vec<merkle::Hash> = batch
        .records
        .iter()
        .map(|(_, raw)| merkle::leaf_hash(raw))
        .collect();
    let root = merkle::root(&leaves).ok_or(ContractError::TotalsOverflow)?;
    let digest = UsageBatchDigest {
        root: HexBinary::from(root),
        records: batch.records.len() as u32,
    };
    committee.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &digest,
        &signature,
    )?;

    let now = env.block.time.seconds();
    let batch_id = NEXT_BATCH_ID.load(deps.storage)?;
    let mut terminals: BTreeMap<&str, TerminalView> = BTreeMap::new();
    let mut measurements: BTreeMap<Vec<u8>, bool> = BTreeMap::new();
    // Accumulators touched by the batch.
    let mut accumulators: BTreeMap<(Addr, String, u64), Touched> = BTreeMap::new();
    // (terminal, lease start, period) whose lease cap was counted by this batch.
    let mut counted_leases: BTreeMap<(u32, u64, u64), ()> = BTreeMap::new();
    let mut events = Vec::with_capacity(batch.records.len() + 1);

    let mut previous: Option<(&str, u64)> = None;
    for (index, (record, _)) in batch.records.iter().enumerate() {
        let key = record.key();
        if let Some(prev) = previous {
            if key == prev {
                return Err(ContractError::DuplicateRecord {
                    terminal_id: record.terminal_id.clone(),
                    window_start: record.window_start,
                });
            }
            if key < prev {
                return Err(ContractError::BatchNotSorted { index });
            }
        }
        previous = Some(key);

        let terminal_id = record.terminal_id.as_str();
        if !terminals.contains_key(terminal_id) {
            let t = load_billing_view(deps.storage, terminal_id)?.ok_or_else(|| {
                ContractError::UnknownTerminal {
                    terminal_id: terminal_id.to_string(),
                }
            })?;
            if !t.active {
                return Err(ContractError::TerminalInactive {
                    terminal_id: terminal_id.to_string(),
                });
            }
            if t.software_tee && !config.accept_software_tee {
                return Err(ContractError::SoftwareTeeRefused {
                    terminal_id: terminal_id.to_string(),
                });
            }
            let allowed = match measurements.get(t.measurement.as_slice()) {
                Some(a) => *a,
                None => {
                    let a = MEASUREMENTS
                        .may_load(deps.storage, t.measurement.as_slice())?
                        .unwrap_or(false);
                    measurements.insert(t.measurement.clone(), a);
                    a
                }
            };
            if !allowed {
                return Err(ContractError::MeasurementNotAllowed {
                    terminal_id: terminal_id.to_string(),
                    measurement: HexBinary::from(t.measurement),
                });
            }
            terminals.insert(
                terminal_id,
                TerminalView {
                    view: t,
                    lease: None,
                },
            );
        }
        let Some(terminal) = terminals.get_mut(terminal_id) else {
            return Err(ContractError::UnknownTerminal {
                terminal_id: terminal_id.to_string(),
            });
        };

        let window = record.window_start;
        if align(window, config.window_seconds) != window {
            return Err(ContractError::WindowNotAligned {
                terminal_id: terminal_id.to_string(),
                window_start: window,
            });
        }
        if window.saturating_add(config.window_seconds) > now {
            return Err(ContractError::WindowNotClosed {
                terminal_id: terminal_id.to_string(),
                window_start: window,
            });
        }
        // The tenant must have consented: a lease of this tenant covering the window.
        let covered = |l: &Option<(u64, LeaseState)>| {
            l.as_ref().is_some_and(|(start, lease)| {
                *start <= window
                    && lease
                        .end
                        .is_none_or(|end| window.saturating_add(config.window_seconds) <= end)
            })
        };
        if !covered(&terminal.lease) {
            terminal.lease = lease_starting_by_given(
                deps.storage,
                terminal.view.index,
                terminal.view.latest_lease.as_ref(),
                window,
            )?;
        }
        let lease = match &terminal.lease {
            Some((start, lease))
                if covered(&terminal.lease) && lease.tenant.as_str() == record.tenant =>
            {
                (*start, lease.price_cap)
            }
            _ => {
                return Err(ContractError::NoLease {
                    terminal_id: terminal_id.to_string(),
                    window_start: window,
                    tenant: record.tenant.clone(),
                })
            }
        };
        if has_proof(deps.storage, terminal.view.index, window) {
            return Err(ContractError::AlreadyProven {
                terminal_id: terminal_id.to_string(),
                window_start: window,
            });
        }

        let (period_start, late) = billing_period(&config, window, now);
        let acc_key = (
            terminal.view.provider.clone(),
            record.tenant.clone(),
            period_start,
        );
        let mut touched = match accumulators.remove(&acc_key) {
            Some(entry) => entry,
            None => {
                let frontier: Frontier<SumNode> = ACCUMULATORS
                    .may_load(deps.storage, (&acc_key.0, &acc_key.1, period_start))?
                    .unwrap_or_default();
                Touched {
                    first_index: frontier.size,
                    frontier,
                    leaves: vec![],
                    appended: 0,
                    late: 0,
                    info: ACCUMULATOR_INFO
                        .may_load(deps.storage, (&acc_key.0, &acc_key.1, period_start))?
                        .unwrap_or_default(),
                    info_changed: false,
                }
            }
        };
        if touched.info.sealed_size.is_some() {
            return Err(ContractError::AccumulatorSealed {
                provider: acc_key.0.into_string(),
                tenant: acc_key.1,
                period_start,
            });
        }
        // Each lease counts once per period towards the period's price cap.
        let lease_period = (terminal.view.index, lease.0, period_start);
        if !counted_leases.contains_key(&lease_period)
            && !LEASE_PERIODS.has(deps.storage, lease_period)
        {
            counted_leases.insert(lease_period, ());
            match lease.1 {
                Some(cap) => {
                    touched.info.price_cap = touched
                        .info
                        .price_cap
                        .checked_add(cap)
                        .map_err(|_| ContractError::TotalsOverflow)?
                }
                None => touched.info.uncapped = true,
            }
            touched.info_changed = true;
        }
        if late {
            touched.late += 1;
            touched.info.late += 1;
            touched.info_changed = true;
        }
        let period_index = touched.frontier.size;
        // The sum tree's leaf hashes the record as the batch's tree did.
        touched
            .frontier
            .push(SumNode::of_leaf_hash(
                &leaves[index],
                Totals::of(&record.metrics),
            ))
            .ok_or(ContractError::TotalsOverflow)?;
        touched.appended += 1;
        touched.leaves.push((terminal.view.index, window));
        accumulators.insert(acc_key, touched);

        save_proof(
            deps.storage,
            terminal.view.index,
            window,
            &StoredProof {
                tenant: record.tenant.clone(),
                batch_id,
                period_start,
                period_index,
                metrics: record.metrics,
            },
        );
        if late {
            events.push(
                LateUsageRecorded {
                    terminal_id: terminal_id.to_string(),
                    window_start: window,
                    period_start,
                }
                .to_event(),
            );
        }
        events.push(
            UsageProofRecorded {
                terminal_id: terminal_id.to_string(),
                window_start: window,
            }
            .to_event(),
        );
    }

    for key in counted_leases.keys() {
        LEASE_PERIODS.save(deps.storage, *key, &())?;
    }

    let mut acc_events = Vec::with_capacity(accumulators.len());
    for ((provider, tenant, period), touched) in &accumulators {
        let key = (provider, tenant.as_str(), *period);
        ACCUMULATORS.save(deps.storage, key, &touched.frontier)?;
        append_period_leaves(
            deps.storage,
            provider,
            tenant,
            *period,
            touched.first_index,
            &touched.leaves,
        )?;
        if touched.info_changed {
            ACCUMULATOR_INFO.save(deps.storage, key, &touched.info)?;
        }
        acc_events.push(
            AccumulatorAppended {
                provider: provider.to_string(),
                tenant: tenant.clone(),
                period_start: *period,
                appended: touched.appended,
                late: touched.late,
                size: touched.frontier.size,
            }
            .to_event(),
        );
    }
    BATCHES.save(
        deps.storage,
        batch_id,
        &BatchInfo {
            batch_id,
            root: digest.root.clone(),
            records: digest.records,
            epoch: committee.epoch,
            submitter: info.sender,
            height: env.block.height,
        },
    )?;
    NEXT_BATCH_ID.save(deps.storage, &(batch_id + 1))?;

    let mut all = Vec::with_capacity(events.len() + acc_events.len() + 1);
    all.push(
        UsageBatchAccepted {
            batch_id,
            root: digest.root,
            records: digest.records,
            epoch: committee.epoch,
        }
        .to_event(),
    );
    all.extend(acc_events);
    all.extend(events);
    Ok(Response::new()
        .add_events(all)
        .set_data(batch_id.to_be_bytes()))
}

pub fn rotate_committee(
    deps: DepsMut,
    env: Env,
    rotation: CommitteeRotation,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let current = COMMITTEE.load(deps.storage)?;
    let expected = current.epoch + 1;
    if rotation.new_epoch != expected {
        return Err(CommitteeError::WrongNextEpoch {
            expected,
            got: rotation.new_epoch,
        }
        .into());
    }
    current.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &rotation,
        &signature,
    )?;
    let next = Committee::from_members(
        deps.api,
        rotation.new_epoch,
        rotation.threshold,
        &rotation.members,
    )?;
    COMMITTEE.save(deps.storage, &next)?;
    Ok(Response::new().add_event(
        CommitteeRotated {
            epoch: next.epoch,
            threshold: next.threshold,
            members: next.members.len() as u32,
        }
        .to_event(),
    ))
}

fn valid_terminal_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TERMINAL_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// What `RegisterTerminal` carries.
pub struct Registration {
    pub terminal_id: String,
    pub provider: String,
    pub attestor_key: HexBinary,
    pub tee: TeeKind,
    pub measurement: HexBinary,
    pub shared_attestor: bool,
}

pub fn register_terminal(
    deps: DepsMut,
    info: MessageInfo,
    registration: Registration,
) -> Result<Response, ContractError> {
    let Registration {
        terminal_id,
        provider,
        attestor_key,
        tee,
        measurement,
        shared_attestor,
    } = registration;
    let config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    if !valid_terminal_id(&terminal_id) {
        return Err(ContractError::InvalidTerminal {
            reason: format!(
                "terminal id must be 1-{MAX_TERMINAL_ID_LEN} characters of [A-Za-z0-9-_.:]"
            ),
        });
    }
    if attestor_key.len() != 32 {
        return Err(ContractError::InvalidTerminal {
            reason: format!("attestor key must be 32 bytes, got {}", attestor_key.len()),
        });
    }
    check_measurement(&measurement)?;
    if tee == TeeKind::Software && !config.accept_software_tee {
        return Err(ContractError::SoftwareTeeRefused { terminal_id });
    }
    if !MEASUREMENTS
        .may_load(deps.storage, measurement.as_slice())?
        .unwrap_or(false)
    {
        return Err(ContractError::MeasurementNotAllowed {
            terminal_id,
            measurement,
        });
    }
    let provider = deps.api.addr_validate(&provider)?;
    // One attestor key speaks for one terminal, unless every terminal behind it declares that it
    // shares the key (one host measuring several terminals with disjoint counters).
    let others: Vec<String> = ATTESTOR_KEYS
        .prefix(attestor_key.as_slice())
        .keys(deps.storage, None, None, Order::Ascending)
        .filter(|k| k.as_ref().map_or(true, |id| *id != terminal_id))
        .take(MAX_SHARED_ATTESTOR + 1)
        .collect::<Result<_, _>>()?;
    if let Some(other) = others.first() {
        let other_shares = TERMINALS
            .may_load(deps.storage, other)?
            .is_some_and(|t| t.shared_attestor);
        if !shared_attestor || !other_shares || others.len() >= MAX_SHARED_ATTESTOR {
            return Err(ContractError::AttestorKeyInUse {
                other: other.clone(),
            });
        }
    }
    let previous = TERMINALS.may_load(deps.storage, &terminal_id)?;
    let index = match &previous {
        Some(existing) => {
            // Proofs resolve their provider through the terminal: changing it would rewrite
            // who earned past usage. A new provider needs a new terminal id.
            if existing.provider != provider {
                return Err(ContractError::ProviderChange {
                    terminal_id,
                    provider: existing.provider.to_string(),
                });
            }
            ATTESTOR_KEYS.remove(
                deps.storage,
                (existing.attestor_key.as_slice(), terminal_id.as_str()),
            );
            existing.index
        }
        None => {
            let index = TERMINAL_COUNT.load(deps.storage)?;
            TERMINAL_COUNT.save(
                deps.storage,
                &index.checked_add(1).ok_or(ContractError::InvalidTerminal {
                    reason: "terminal registry is full".into(),
                })?,
            )?;
            TERMINAL_IDS.save(deps.storage, index, &terminal_id)?;
            index
        }
    };
    ATTESTOR_KEYS.save(
        deps.storage,
        (attestor_key.as_slice(), terminal_id.as_str()),
        &(),
    )?;
    save_terminal(
        deps.storage,
        &terminal_id,
        &TerminalState {
            index,
            provider: provider.clone(),
            attestor_key,
            tee,
            measurement: measurement.clone(),
            active: true,
            shared_attestor,
        },
    )?;
    Ok(Response::new().add_event(
        TerminalRegistered {
            terminal_id,
            provider: provider.into_string(),
            tee: tee.as_str().to_string(),
            measurement,
        }
        .to_event(),
    ))
}

pub fn deactivate_terminal(
    deps: DepsMut,
    info: MessageInfo,
    terminal_id: String,
) -> Result<Response, ContractError> {
    CONFIG.load(deps.storage)?.authorize(&info.sender)?;
    let mut t = TERMINALS
        .may_load(deps.storage, &terminal_id)?
        .ok_or_else(|| ContractError::UnknownTerminal {
            terminal_id: terminal_id.clone(),
        })?;
    t.active = false;
    save_terminal(deps.storage, &terminal_id, &t)?;
    Ok(Response::new().add_event(TerminalDeactivated { terminal_id }.to_event()))
}

/// Allowing a measurement widens trust: it is queued in the timelock. Revoking one is immediate.
pub fn set_measurement(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    measurement: HexBinary,
    allowed: bool,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    check_measurement(&measurement)?;
    if allowed {
        let (_, event) = GOV.queue(
            deps.storage,
            &config.admin,
            &info.sender,
            env.block.time.seconds(),
            UsageProofChange::AllowMeasurement { measurement },
        )?;
        return Ok(Response::new().add_event(event));
    }
    apply_measurement(deps, measurement, false)
}

fn apply_measurement(
    deps: DepsMut,
    measurement: HexBinary,
    allowed: bool,
) -> Result<Response, ContractError> {
    if allowed {
        MEASUREMENTS.save(deps.storage, measurement.as_slice(), &true)?;
    } else {
        MEASUREMENTS.remove(deps.storage, measurement.as_slice());
    }
    Ok(Response::new().add_event(
        MeasurementChanged {
            measurement,
            allowed,
        }
        .to_event(),
    ))
}

pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    accept_software_tee: Option<bool>,
    period_proof: Option<String>,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    // Accepting software keys widens trust: only through the timelock.
    if accept_software_tee == Some(true) && !config.accept_software_tee {
        return Err(GovernanceError::Timelocked.into());
    }
    if let Some(p) = period_proof {
        let p = deps.api.addr_validate(&p)?;
        match &config.period_proof {
            Some(current) if *current != p => {
                return Err(ContractError::AlreadySet {
                    what: "period_proof".into(),
                    current: current.to_string(),
                })
            }
            _ => config.period_proof = Some(p),
        }
    }
    if let Some(s) = accept_software_tee {
        config.accept_software_tee = s;
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_config", config.admin)))
}

fn lease_error(reason: &str) -> ContractError {
    ContractError::InvalidLease {
        reason: reason.to_string(),
    }
}

/// What `OpenLease` carries.
pub struct LeaseRequest {
    pub terminal_id: String,
    pub provider: String,
    pub start: u64,
    pub end: Option<u64>,
    pub price_cap: Option<Uint128>,
}

pub fn open_lease(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    request: LeaseRequest,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let LeaseRequest {
        terminal_id,
        provider,
        start,
        end,
        price_cap,
    } = request;
    let terminal = TERMINALS
        .may_load(deps.storage, &terminal_id)?
        .ok_or_else(|| ContractError::UnknownTerminal {
            terminal_id: terminal_id.clone(),
        })?;
    if terminal.provider.as_str() != provider {
        return Err(lease_error("the provider is not the terminal's provider"));
    }
    if align(start, config.window_seconds) != start {
        return Err(lease_error("start must be a multiple of the window length"));
    }
    if let Some(end) = end {
        if end <= start || align(end, config.window_seconds) != end {
            return Err(lease_error(
                "end must be after start and a multiple of the window length",
            ));
        }
    }
    // The lease before must have ended by `start`, the lease after must start at or after `end`.
    let overlap = |other_start| ContractError::LeaseOverlap {
        terminal_id: terminal_id.clone(),
        start,
        other_start,
    };
    if let Some((other_start, before)) = lease_starting_by(deps.storage, terminal.index, start)? {
        if before.end.is_none_or(|e| e > start) {
            return Err(overlap(other_start));
        }
    }
    if let Some(after) = LEASES
        .prefix(terminal.index)
        .keys(
            deps.storage,
            Some(Bound::exclusive(start)),
            None,
            Order::Ascending,
        )
        .next()
    {
        let after = after?;
        if end.is_none_or(|e| e > after) {
            return Err(overlap(after));
        }
    }
    let now = env.block.time.seconds();
    let reserve = price_cap
        .unwrap_or_default()
        .checked_mul(Uint128::from(config.reserve_periods()))
        .map_err(|_| lease_error("price cap overflows"))?;
    let lease = LeaseState {
        tenant: info.sender.clone(),
        end,
        price_cap,
        opened_at: now,
    };
    LEASES.save(deps.storage, (terminal.index, start), &lease)?;
    refresh_latest_lease(deps.storage, &terminal_id, terminal.index)?;
    if !reserve.is_zero() {
        LEASE_RESERVES.save(deps.storage, (terminal.index, start), &reserve)?;
        change_reserve(deps.storage, &info.sender, reserve, true)?;
    }
    Ok(Response::new().add_event(
        LeaseOpened {
            terminal_id,
            tenant: info.sender.into_string(),
            provider,
            start,
            end: end.unwrap_or(0),
        }
        .to_event(),
    ))
}

pub fn close_lease(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    terminal_id: String,
    start: u64,
    end: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let terminal = TERMINALS
        .may_load(deps.storage, &terminal_id)?
        .ok_or_else(|| ContractError::UnknownTerminal {
            terminal_id: terminal_id.clone(),
        })?;
    let mut lease = LEASES
        .may_load(deps.storage, (terminal.index, start))?
        .ok_or_else(|| ContractError::LeaseNotFound {
            terminal_id: terminal_id.clone(),
            start,
        })?;
    if info.sender != lease.tenant && info.sender != terminal.provider {
        return Err(ContractError::NotLeaseParty);
    }
    if align(end, config.window_seconds) != end {
        return Err(lease_error("end must be a multiple of the window length"));
    }
    // Windows that have started (the current one included) stay consented to.
    let current = align(env.block.time.seconds(), config.window_seconds);
    let end = end.max(current.saturating_add(config.window_seconds));
    if lease.end.is_some_and(|current| end >= current) {
        return Err(lease_error("a lease can only be shortened"));
    }
    let removed = end <= start;
    if removed {
        // It never started: nothing can be billed under it, its reserve goes back at once.
        LEASES.remove(deps.storage, (terminal.index, start));
        refresh_latest_lease(deps.storage, &terminal_id, terminal.index)?;
        if let Some(reserve) = LEASE_RESERVES.may_load(deps.storage, (terminal.index, start))? {
            LEASE_RESERVES.remove(deps.storage, (terminal.index, start));
            change_reserve(deps.storage, &lease.tenant, reserve, false)?;
        }
    } else {
        lease.end = Some(end);
        LEASES.save(deps.storage, (terminal.index, start), &lease)?;
        refresh_latest_lease(deps.storage, &terminal_id, terminal.index)?;
    }
    Ok(Response::new().add_event(
        LeaseClosed {
            terminal_id,
            tenant: lease.tenant.into_string(),
            start,
            end,
            removed,
            by: info.sender.into_string(),
        }
        .to_event(),
    ))
}

fn change_reserve(
    storage: &mut dyn cosmwasm_std::Storage,
    tenant: &Addr,
    amount: Uint128,
    add: bool,
) -> Result<(), ContractError> {
    let current = TENANT_RESERVES
        .may_load(storage, tenant)?
        .unwrap_or_default();
    let next = if add {
        current.checked_add(amount)
    } else {
        current.checked_sub(amount)
    }
    .map_err(|_| lease_error("tenant reserve out of range"))?;
    if next.is_zero() {
        TENANT_RESERVES.remove(storage, tenant);
    } else {
        TENANT_RESERVES.save(storage, tenant, &next)?;
    }
    Ok(())
}

pub fn release_lease_reserve(
    deps: DepsMut,
    env: Env,
    terminal_id: String,
    start: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let terminal = TERMINALS
        .may_load(deps.storage, &terminal_id)?
        .ok_or_else(|| ContractError::UnknownTerminal {
            terminal_id: terminal_id.clone(),
        })?;
    let lease = LEASES
        .may_load(deps.storage, (terminal.index, start))?
        .ok_or_else(|| ContractError::LeaseNotFound {
            terminal_id: terminal_id.clone(),
            start,
        })?;
    let reserve = LEASE_RESERVES
        .may_load(deps.storage, (terminal.index, start))?
        .ok_or_else(|| lease_error("the lease holds no reserve"))?;
    // Every period the lease could bill must be closed, so its usage is proven and escrowed.
    let until = config.reserve_until(lease.end);
    let now = env.block.time.seconds();
    if until.is_none_or(|until| now < until) {
        return Err(lease_error(&match until {
            Some(until) => format!("the reserve is held until {until}"),
            None => "an open-ended lease holds its reserve until it is ended".to_string(),
        }));
    }
    // …and the periods the reserve stood for must be proven (sealed), so their price is now
    // escrowed in C3; a period with no record needs nothing.
    let Some(end) = lease.end else {
        return Err(lease_error(
            "an open-ended lease holds its reserve until it is ended",
        ));
    };
    let last = align(end.saturating_sub(1), config.period_seconds);
    for k in 0..config.reserve_periods() {
        let Some(period_start) = last.checked_sub(k * config.period_seconds) else {
            break;
        };
        if period_start.saturating_add(config.period_seconds) <= start {
            break;
        }
        let key = (&terminal.provider, lease.tenant.as_str(), period_start);
        let size = ACCUMULATORS
            .may_load(deps.storage, key)?
            .map_or(0, |f| f.size);
        let sealed = ACCUMULATOR_INFO
            .may_load(deps.storage, key)?
            .is_some_and(|i| i.sealed_size.is_some());
        if size > 0 && !sealed {
            return Err(lease_error(&format!(
                "period {period_start} is not proven yet: prove it first"
            )));
        }
    }
    LEASE_RESERVES.remove(deps.storage, (terminal.index, start));
    change_reserve(deps.storage, &lease.tenant, reserve, false)?;
    Ok(Response::new().add_event(
        LeaseClosed {
            terminal_id,
            tenant: lease.tenant.into_string(),
            start,
            end: lease.end.unwrap_or(0),
            removed: false,
            by: "reserve_released".to_string(),
        }
        .to_event(),
    ))
}

/// C2 sealed a period: its accumulator takes no more records, whatever the clock says.
pub fn seal_accumulator(
    deps: DepsMut,
    info: MessageInfo,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.period_proof.as_ref() != Some(&info.sender) {
        return Err(ContractError::NotPeriodProof);
    }
    let provider = deps.api.addr_validate(&provider)?;
    let key = (&provider, tenant.as_str(), period_start);
    let size = ACCUMULATORS
        .may_load(deps.storage, key)?
        .unwrap_or_default()
        .size;
    let mut info = ACCUMULATOR_INFO
        .may_load(deps.storage, key)?
        .unwrap_or_default();
    if info.sealed_size.is_some() {
        return Err(ContractError::AccumulatorSealed {
            provider: provider.into_string(),
            tenant,
            period_start,
        });
    }
    info.sealed_size = Some(size);
    ACCUMULATOR_INFO.save(deps.storage, key, &info)?;
    Ok(Response::new().add_event(
        AccumulatorSealed {
            provider: provider.into_string(),
            tenant,
            period_start,
            size,
        }
        .to_event(),
    ))
}

/// The admin hand-over and the timelock; an applied change takes effect here.
pub fn governance(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: GovernanceMsg<UsageProofChange>,
) -> Result<Response, ContractError> {
    GOV.execute(
        deps,
        &env,
        &info,
        &CONFIG,
        msg,
        |deps, mut config, change| match change {
            UsageProofChange::AllowMeasurement { measurement } => {
                apply_measurement(deps, measurement, true)
            }
            UsageProofChange::AcceptSoftwareTee {} => {
                config.accept_software_tee = true;
                CONFIG.save(deps.storage, &config)?;
                Ok(Response::new()
                    .add_event(ConfigUpdated::event("accept_software_tee", &config.admin)))
            }
            UsageProofChange::Timelock { seconds } => {
                Ok(GOV.apply_timelock(deps.storage, seconds)?)
            }
            UsageProofChange::Migrate { code_id } => Ok(apply_migrate(&env, code_id)?),
        },
    )
}
