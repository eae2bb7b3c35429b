use std::collections::BTreeMap;

use cosmwasm_std::{Addr, Binary, DepsMut, Env, HexBinary, MessageInfo, Response};
use usage_common::events::{
    AccumulatorAppended, CommitteeRotated, ConfigUpdated, MeasurementChanged, TerminalDeactivated,
    TerminalRegistered, TypedEvent, UsageBatchAccepted, UsageProofRecorded,
};
use usage_common::merkle::{self, Frontier, SumNode};
use usage_common::msg::usage_proof::{BatchInfo, InstantiateMsg, TeeKind};
use usage_common::payload::{CommitteeRotation, UsageBatchDigest};
use usage_common::record::{align, decode_batch, Totals, MAX_TENANT_LEN, MAX_TERMINAL_ID_LEN};
use usage_common::{Committee, CommitteeError, ThresholdSignature};

use crate::error::ContractError;
use crate::state::{
    has_proof, save_period_leaf, save_proof, Config, StoredProof, TerminalState, ACCUMULATORS,
    BATCHES, COMMITTEE, CONFIG, MEASUREMENTS, NEXT_BATCH_ID, TERMINALS, TERMINAL_COUNT,
    TERMINAL_IDS,
};

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
    index: u32,
    provider: Addr,
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
    // Accumulators touched by the batch, with how many leaves the batch appended to each.
    let mut accumulators: BTreeMap<(Addr, String, u64), (Frontier<SumNode>, u64)> = BTreeMap::new();
    let mut events = Vec::with_capacity(batch.records.len() + 1);

    let mut previous: Option<(&str, u64)> = None;
    for (index, (record, raw)) in batch.records.iter().enumerate() {
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
            let t = TERMINALS
                .may_load(deps.storage, terminal_id)?
                .ok_or_else(|| ContractError::UnknownTerminal {
                    terminal_id: terminal_id.to_string(),
                })?;
            if !t.active {
                return Err(ContractError::TerminalInactive {
                    terminal_id: terminal_id.to_string(),
                });
            }
            if t.tee == TeeKind::Software && !config.accept_software_tee {
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
                    measurements.insert(t.measurement.to_vec(), a);
                    a
                }
            };
            if !allowed {
                return Err(ContractError::MeasurementNotAllowed {
                    terminal_id: terminal_id.to_string(),
                    measurement: t.measurement,
                });
            }
            terminals.insert(
                terminal_id,
                TerminalView {
                    index: t.index,
                    provider: t.provider,
                },
            );
        }
        let Some(terminal) = terminals.get(terminal_id) else {
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
        let period_start = align(window, config.period_seconds);
        let closed_at = period_start
            .saturating_add(config.period_seconds)
            .saturating_add(config.grace_seconds);
        if now > closed_at {
            return Err(ContractError::PeriodClosed {
                terminal_id: terminal_id.to_string(),
                window_start: window,
                closed_at,
            });
        }
        if record.tenant.is_empty() || record.tenant.len() > MAX_TENANT_LEN {
            return Err(ContractError::InvalidTenant {
                terminal_id: terminal_id.to_string(),
            });
        }
        if has_proof(deps.storage, terminal.index, window) {
            return Err(ContractError::AlreadyProven {
                terminal_id: terminal_id.to_string(),
                window_start: window,
            });
        }

        let acc_key = (
            terminal.provider.clone(),
            record.tenant.clone(),
            period_start,
        );
        let (frontier, appended) = match accumulators.remove(&acc_key) {
            Some(entry) => entry,
            None => (
                ACCUMULATORS
                    .may_load(deps.storage, (&acc_key.0, &acc_key.1, period_start))?
                    .unwrap_or_default(),
                0,
            ),
        };
        let period_index = frontier.size;
        let frontier = frontier
            .append(SumNode::leaf(raw, Totals::of(&record.metrics)))
            .ok_or(ContractError::TotalsOverflow)?;
        accumulators.insert(acc_key, (frontier, appended + 1));

        save_proof(
            deps.storage,
            terminal.index,
            window,
            &StoredProof {
                tenant: record.tenant.clone(),
                batch_id,
                period_index,
                metrics: record.metrics,
            },
        );
        save_period_leaf(
            deps.storage,
            &terminal.provider,
            &record.tenant,
            period_start,
            period_index,
            terminal.index,
            window,
        );
        events.push(
            UsageProofRecorded {
                terminal_id: terminal_id.to_string(),
                window_start: window,
            }
            .to_event(),
        );
    }

    let mut acc_events = Vec::with_capacity(accumulators.len());
    for ((provider, tenant, period), (frontier, appended)) in &accumulators {
        ACCUMULATORS.save(deps.storage, (provider, tenant, *period), frontier)?;
        acc_events.push(
            AccumulatorAppended {
                provider: provider.to_string(),
                tenant: tenant.clone(),
                period_start: *period,
                appended: *appended,
                size: frontier.size,
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

pub fn register_terminal(
    deps: DepsMut,
    info: MessageInfo,
    terminal_id: String,
    provider: String,
    attestor_key: HexBinary,
    tee: TeeKind,
    measurement: HexBinary,
) -> Result<Response, ContractError> {
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
    let index = match TERMINALS.may_load(deps.storage, &terminal_id)? {
        Some(existing) => existing.index,
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
    TERMINALS.save(
        deps.storage,
        &terminal_id,
        &TerminalState {
            index,
            provider: provider.clone(),
            attestor_key,
            tee,
            measurement: measurement.clone(),
            active: true,
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
    TERMINALS.save(deps.storage, &terminal_id, &t)?;
    Ok(Response::new().add_event(TerminalDeactivated { terminal_id }.to_event()))
}

pub fn set_measurement(
    deps: DepsMut,
    info: MessageInfo,
    measurement: HexBinary,
    allowed: bool,
) -> Result<Response, ContractError> {
    CONFIG.load(deps.storage)?.authorize(&info.sender)?;
    check_measurement(&measurement)?;
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
    admin: Option<String>,
    accept_software_tee: Option<bool>,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    if let Some(a) = admin {
        config.admin = deps.api.addr_validate(&a)?;
    }
    if let Some(s) = accept_software_tee {
        config.accept_software_tee = s;
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_config", config.admin)))
}
