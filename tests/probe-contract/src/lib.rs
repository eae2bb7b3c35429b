//! A test contract, not part of the product: it writes a key, writes and then fails, or calls
//! another contract through a sub-message (optionally with `reply` on error and a gas limit) after
//! writing a note, and records what `reply` saw. The chain's tests use it to check that a failed
//! sub-message's writes are rolled back while its caller's survive, and that a failure without
//! `reply` undoes the whole transaction.
//!
//! It also carries one entry point per resource abuse a hostile contract could try (an endless
//! loop, memory grown to the limit, deep query recursion, failing nested queries retried, many
//! open iterators, scan/write loops, huge events and responses), so the chain's tests can show
//! that each one fails inside its own transaction and costs what it uses.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    to_json_binary, Binary, Deps, DepsMut, Empty, Env, Event, MessageInfo, Order, Reply, Response,
    StdError, StdResult, SubMsg, SubMsgResult, WasmMsg,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecuteMsg {
    Write {
        key: String,
        value: String,
    },
    WriteThenFail {
        key: String,
    },
    Call {
        contract: String,
        msg: Binary,
        reply_on_error: bool,
        note: String,
        /// The sub-message's gas limit (SDK gas), if any.
        #[serde(default)]
        gas_limit: Option<u64>,
    },
    /// Loops until the gas runs out.
    Loop {},
    /// Grows a buffer by `step` bytes `times` times, touching every page.
    GrowMemory {
        step: u32,
        times: u32,
    },
    /// Queries itself `depth` levels deep (each level queries the next).
    RecurseQuery {
        depth: u32,
    },
    /// Queries itself with a query that spins until out of gas, catches the error and tries
    /// again, `times` times (0: for ever).
    RetryFailingQueries {
        times: u32,
    },
    /// Opens `count` storage iterators and never reads them to the end.
    OpenIterators {
        count: u32,
    },
    /// `count` times: open an iterator, read one entry, write one key.
    ScanWrite {
        count: u32,
    },
    /// Emits `count` attributes of `size` bytes each.
    Events {
        count: u32,
        size: u32,
    },
    /// Returns `size` bytes of data.
    Respond {
        size: u32,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMsg {
    Get {
        key: String,
    },
    /// Loops until the gas runs out.
    Spin {},
    /// Queries itself with `depth - 1`; answers `depth` at 0.
    Recurse {
        depth: u32,
    },
    /// The block height and time (nanoseconds) the query ran with.
    Now {},
    /// Passes a `QueryRequest` (JSON) to the chain and answers what the chain answered.
    Chain {
        request: Binary,
    },
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    _deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    _msg: Empty,
) -> StdResult<Response> {
    Ok(Response::new())
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    _info: MessageInfo,
    msg: ExecuteMsg,
) -> StdResult<Response> {
    match msg {
        ExecuteMsg::Write { key, value } => {
            deps.storage.set(key.as_bytes(), value.as_bytes());
            Ok(Response::new())
        }
        ExecuteMsg::WriteThenFail { key } => {
            deps.storage.set(key.as_bytes(), b"written before failing");
            Err(StdError::msg("failing on purpose"))
        }
        ExecuteMsg::Call {
            contract,
            msg,
            reply_on_error,
            note,
            gas_limit,
        } => {
            deps.storage.set(b"note", note.as_bytes());
            let wasm = WasmMsg::Execute {
                contract_addr: contract,
                msg,
                funds: vec![],
            };
            let mut sub = if reply_on_error {
                SubMsg::reply_on_error(wasm, 7)
            } else {
                SubMsg::new(wasm)
            };
            if let Some(limit) = gas_limit {
                sub = sub.with_gas_limit(limit);
            }
            Ok(Response::new().add_submessage(sub))
        }
        ExecuteMsg::Loop {} => {
            let mut i: u64 = 0;
            loop {
                i = std::hint::black_box(i.wrapping_add(1));
            }
        }
        ExecuteMsg::GrowMemory { step, times } => {
            let mut held: Vec<Vec<u8>> = Vec::new();
            for n in 0..times {
                held.push(vec![(n % 251) as u8 + 1; step as usize]);
            }
            let total: u64 = held.iter().map(|b| b.len() as u64).sum();
            Ok(Response::new().add_attribute("grown", total.to_string()))
        }
        ExecuteMsg::RecurseQuery { depth } => {
            let answer: u32 = deps.querier.query_wasm_smart(
                env.contract.address.to_string(),
                &QueryMsg::Recurse { depth },
            )?;
            Ok(Response::new().add_attribute("depth", answer.to_string()))
        }
        ExecuteMsg::RetryFailingQueries { times } => {
            let mut failures: u32 = 0;
            while times == 0 || failures < times {
                let r: StdResult<Empty> = deps
                    .querier
                    .query_wasm_smart(env.contract.address.to_string(), &QueryMsg::Spin {});
                if r.is_err() {
                    failures += 1;
                }
            }
            Ok(Response::new().add_attribute("failures", failures.to_string()))
        }
        ExecuteMsg::OpenIterators { count } => {
            deps.storage.set(b"a", b"1");
            deps.storage.set(b"b", b"2");
            for _ in 0..count {
                let mut it = deps.storage.range(None, None, Order::Ascending);
                let _ = it.next();
            }
            Ok(Response::new())
        }
        ExecuteMsg::ScanWrite { count } => {
            for n in 0..count {
                let first = deps.storage.range(None, None, Order::Ascending).next();
                let value = first.map(|(_, v)| v).unwrap_or_default();
                deps.storage.set(format!("k{n:08}").as_bytes(), &value);
            }
            Ok(Response::new())
        }
        ExecuteMsg::Events { count, size } => {
            let value = "x".repeat(size as usize);
            let attrs = (0..count).map(|n| (format!("a{n}"), value.clone()));
            Ok(Response::new().add_event(Event::new("abuse").add_attributes(attrs)))
        }
        ExecuteMsg::Respond { size } => {
            Ok(Response::new().set_data(Binary::from(vec![7u8; size as usize])))
        }
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(deps: DepsMut, _env: Env, reply: Reply) -> StdResult<Response> {
    let seen = match reply.result {
        SubMsgResult::Ok(_) => "ok".to_string(),
        SubMsgResult::Err(e) => format!("error: {e}"),
    };
    deps.storage.set(b"last_reply", seen.as_bytes());
    deps.storage
        .set(b"last_reply_gas", reply.gas_used.to_string().as_bytes());
    Ok(Response::new())
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::Chain { request } => match deps.querier.raw_query(request.as_slice()) {
            cosmwasm_std::SystemResult::Ok(cosmwasm_std::ContractResult::Ok(answer)) => Ok(answer),
            cosmwasm_std::SystemResult::Ok(cosmwasm_std::ContractResult::Err(e)) => {
                Err(StdError::msg(e))
            }
            cosmwasm_std::SystemResult::Err(e) => Err(StdError::msg(format!("{e:?}"))),
        },
        QueryMsg::Now {} => to_json_binary(&(env.block.height, env.block.time.nanos())),
        QueryMsg::Spin {} => {
            let mut i: u64 = 0;
            loop {
                i = std::hint::black_box(i.wrapping_add(1));
            }
        }
        QueryMsg::Recurse { depth } => {
            if depth == 0 {
                return to_json_binary(&0u32);
            }
            let below: u32 = deps.querier.query_wasm_smart(
                env.contract.address.to_string(),
                &QueryMsg::Recurse { depth: depth - 1 },
            )?;
            to_json_binary(&(below + 1))
        }
        QueryMsg::Get { key } => {
            let value = deps
                .storage
                .get(key.as_bytes())
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            to_json_binary(&value)
        }
    }
}
