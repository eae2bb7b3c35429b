//! A test contract, not part of the product: it writes a key, writes and then fails, or calls
//! another contract through a sub-message (optionally with `reply` on error) after writing a note,
//! and records what `reply` saw. The chain's tests use it to check that a failed sub-message's
//! writes are rolled back while its caller's survive, and that a failure without `reply` undoes
//! the whole transaction.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    to_json_binary, Binary, Deps, DepsMut, Empty, Env, MessageInfo, Reply, Response, StdError,
    StdResult, SubMsg, SubMsgResult, WasmMsg,
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
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMsg {
    Get { key: String },
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
    _env: Env,
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
        } => {
            deps.storage.set(b"note", note.as_bytes());
            let wasm = WasmMsg::Execute {
                contract_addr: contract,
                msg,
                funds: vec![],
            };
            let sub = if reply_on_error {
                SubMsg::reply_on_error(wasm, 7)
            } else {
                SubMsg::new(wasm)
            };
            Ok(Response::new().add_submessage(sub))
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
    Ok(Response::new())
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::Get { key } => {
            let value = deps
                .storage
                .get(key.as_bytes())
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            to_json_binary(&value)
        }
    }
}
