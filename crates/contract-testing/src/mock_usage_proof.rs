//! A test stand-in for C1 usage-proof. It holds a committee and answers `Config {}`, `Committee {}`
//! and `Accumulator {..}` exactly as C1 does, from real sum-tree frontiers to which `Record` appends
//! real records (the leaf of a record is `SumNode::leaf(record bytes, totals)`, as in C1). It takes
//! C2's `SealAccumulator` as C1 does (a sealed accumulator refuses records) and answers
//! `TenantReserve {..}` with what a test set.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    to_json_binary, Addr, Binary, Deps, DepsMut, Empty, Env, MessageInfo, Response, StdError,
    StdResult, Uint128,
};
use cw_multi_test::{Contract, ContractWrapper};
use cw_storage_plus::{Item, Map};
use usage_common::merkle::{Frontier, SumNode};
use usage_common::msg::usage_proof::{
    AccumulatorResponse, CommitteeResponse, ConfigResponse, QueryMsg, TenantReserveResponse,
};
use usage_common::record::{align, Totals, UsageRecord};
use usage_common::Committee;

#[cw_serde]
pub struct MockInstantiateMsg {
    pub committee: Committee,
    pub window_seconds: u64,
    pub period_seconds: u64,
    pub grace_seconds: u64,
}

impl MockInstantiateMsg {
    /// A stand-in that matters only for its committee (and the reserves it answers, zero unless
    /// set): its timing is C1's usual 10 s windows, 60 s periods and 30 s grace.
    pub fn holding(committee: Committee) -> Self {
        MockInstantiateMsg {
            committee,
            window_seconds: 10,
            period_seconds: 60,
            grace_seconds: 30,
        }
    }
}

#[cw_serde]
pub enum MockExecuteMsg {
    /// Appends a record to its (provider, tenant, period) accumulator, as `SubmitBatch` does.
    Record {
        provider: String,
        record: UsageRecord,
    },
    /// Installs another committee (what a signed rotation does in C1).
    SetCommittee { committee: Committee },
    /// Sets what C1 would know of an accumulator from its leases and late records.
    SetAccumulatorInfo {
        provider: String,
        tenant: String,
        period_start: u64,
        late_records: u64,
        price_cap: Option<Uint128>,
    },
    /// Sets a tenant's lease reserve.
    SetReserve { tenant: String, reserve: Uint128 },
    /// C1's own message, sent by C2 when it proves a period.
    SealAccumulator {
        provider: String,
        tenant: String,
        period_start: u64,
    },
}

#[cw_serde]
#[derive(Default)]
struct MockInfo {
    late_records: u64,
    price_cap: Option<Uint128>,
    sealed: bool,
}

#[cw_serde]
struct MockConfig {
    admin: Addr,
    window_seconds: u64,
    period_seconds: u64,
    grace_seconds: u64,
}

const CONFIG: Item<MockConfig> = Item::new("cfg");
const COMMITTEE: Item<Committee> = Item::new("cmt");
const ACCUMULATORS: Map<(&str, &str, u64), Frontier<SumNode>> = Map::new("acc");
const INFO: Map<(&str, &str, u64), MockInfo> = Map::new("inf");
const RESERVES: Map<&str, Uint128> = Map::new("rsv");

fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: MockInstantiateMsg,
) -> StdResult<Response> {
    CONFIG.save(
        deps.storage,
        &MockConfig {
            admin: info.sender,
            window_seconds: msg.window_seconds,
            period_seconds: msg.period_seconds,
            grace_seconds: msg.grace_seconds,
        },
    )?;
    COMMITTEE.save(deps.storage, &msg.committee)?;
    Ok(Response::new())
}

fn execute(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: MockExecuteMsg,
) -> StdResult<Response> {
    match msg {
        MockExecuteMsg::Record { provider, record } => {
            let config = CONFIG.load(deps.storage)?;
            let period = align(record.window_start, config.period_seconds);
            let key = (provider.as_str(), record.tenant.as_str(), period);
            if INFO.may_load(deps.storage, key)?.is_some_and(|i| i.sealed) {
                return Err(StdError::msg("accumulator is sealed"));
            }
            let frontier = ACCUMULATORS
                .may_load(deps.storage, key)?
                .unwrap_or_default()
                .append(SumNode::leaf(
                    &record.to_bytes(),
                    Totals::of(&record.metrics),
                ))
                .ok_or_else(|| StdError::msg("totals overflow"))?;
            ACCUMULATORS.save(deps.storage, key, &frontier)?;
        }
        MockExecuteMsg::SetCommittee { committee } => COMMITTEE.save(deps.storage, &committee)?,
        MockExecuteMsg::SetAccumulatorInfo {
            provider,
            tenant,
            period_start,
            late_records,
            price_cap,
        } => {
            let key = (provider.as_str(), tenant.as_str(), period_start);
            let mut info = INFO.may_load(deps.storage, key)?.unwrap_or_default();
            info.late_records = late_records;
            info.price_cap = price_cap;
            INFO.save(deps.storage, key, &info)?;
        }
        MockExecuteMsg::SetReserve { tenant, reserve } => {
            RESERVES.save(deps.storage, &tenant, &reserve)?
        }
        MockExecuteMsg::SealAccumulator {
            provider,
            tenant,
            period_start,
        } => {
            let key = (provider.as_str(), tenant.as_str(), period_start);
            let mut info = INFO.may_load(deps.storage, key)?.unwrap_or_default();
            if info.sealed {
                return Err(StdError::msg("accumulator is already sealed"));
            }
            info.sealed = true;
            INFO.save(deps.storage, key, &info)?;
        }
    }
    Ok(Response::new())
}

fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    let config = CONFIG.load(deps.storage)?;
    match msg {
        QueryMsg::Config {} => to_json_binary(&ConfigResponse {
            admin: config.admin,
            window_seconds: config.window_seconds,
            period_seconds: config.period_seconds,
            grace_seconds: config.grace_seconds,
            accept_software_tee: false,
            allowed_measurements: vec![],
            next_batch_id: 1,
            period_proof: None,
        }),
        QueryMsg::Committee {} => to_json_binary(&CommitteeResponse {
            committee: COMMITTEE.load(deps.storage)?,
        }),
        QueryMsg::Accumulator {
            provider,
            tenant,
            period_start,
        } => {
            let frontier = ACCUMULATORS
                .may_load(deps.storage, (&provider, &tenant, period_start))?
                .unwrap_or_default();
            let root = frontier
                .root()
                .ok_or_else(|| StdError::msg("totals overflow"))?;
            let info = INFO
                .may_load(deps.storage, (&provider, &tenant, period_start))?
                .unwrap_or_default();
            to_json_binary(&AccumulatorResponse {
                period_start,
                period_end: period_start + config.period_seconds,
                frontier,
                root,
                late_records: info.late_records,
                price_cap: info.price_cap,
                sealed: info.sealed,
            })
        }
        QueryMsg::TenantReserve { tenant } => to_json_binary(&TenantReserveResponse {
            reserve: RESERVES
                .may_load(deps.storage, &tenant)?
                .unwrap_or_default(),
        }),
        other => Err(StdError::msg(format!("mock c1 does not answer {other:?}"))),
    }
}

pub fn contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, query))
}
