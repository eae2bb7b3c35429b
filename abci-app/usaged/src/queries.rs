//! ABCI queries at the gRPC method paths CosmJS and Keplr use, answered from the last committed
//! state with the committed height.
// A refused query is an answer like any other (code, codespace, log), carried in `Err` to use `?`.
#![allow(clippy::result_large_err)]

use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1 as abci_types;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageResponse;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txv1;
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmwasm_std::{BlockInfo, ContractResult};
use prost::Message;
use usaged_store::KvRead;
use usaged_vm::executor::QUERY_GAS_LIMIT_SDK;
use usaged_vm::{gas, keys, AccessConfig, CodeInfo};

use crate::accounts::load_account;
use crate::machine::Machine;
use crate::outcome::to_abci_events;

/// The denomination bank queries answer with (the chain has no native token: always zero).
pub const DENOM: &str = "ucny";

/// Type of the proof op of a state proof: a borsh-encoded jmt `SparseMerkleProof<Sha256>` of
/// `sha256(key)` against the app hash.
pub const PROOF_OP_TYPE: &str = "jmt:sha256:v1";
/// The query path of a raw state value (`data` = the state key); with `prove`, it carries a proof.
pub const STATE_KEY_PATH: &str = "/store/state/key";

/// A query's answer: code 0 with a protobuf value, or a failure with codespace and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub value: Vec<u8>,
    /// (state key, encoded proof) when a proof was asked for and the path supports one.
    pub proof: Option<(Vec<u8>, Vec<u8>)>,
}

impl QueryAnswer {
    fn ok(value: Vec<u8>) -> Self {
        QueryAnswer {
            code: 0,
            codespace: String::new(),
            log: String::new(),
            value,
            proof: None,
        }
    }

    fn err(codespace: &str, code: u32, log: impl Into<String>) -> Self {
        QueryAnswer {
            code,
            codespace: codespace.to_string(),
            log: log.into(),
            value: vec![],
            proof: None,
        }
    }
}

/// wasmd's `AccessConfig` of a code's instantiate permission.
fn access_config(config: &AccessConfig) -> wasmv1::AccessConfig {
    let (permission, addresses) = match config {
        AccessConfig::Nobody => (wasmv1::AccessType::Nobody, vec![]),
        AccessConfig::Everybody => (wasmv1::AccessType::Everybody, vec![]),
        AccessConfig::AnyOfAddresses(list) => (wasmv1::AccessType::AnyOfAddresses, list.clone()),
    };
    wasmv1::AccessConfig {
        permission: permission as i32,
        addresses,
    }
}

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, QueryAnswer> {
    M::decode(data).map_err(|e| QueryAnswer::err("sdk", 2, format!("invalid request: {e}")))
}

/// Answers `path` with `data` against the committed state; `prove` asks for a Merkle proof where
/// the path supports one ([`STATE_KEY_PATH`]). `height` is 0 (latest) or the committed height:
/// the node keeps no older state to answer from, and refuses other heights with the SDK's
/// `ErrInvalidHeight` rather than answering from the latest state.
pub fn answer_at(
    machine: &Machine,
    height: i64,
    path: &str,
    data: &[u8],
    prove: bool,
) -> QueryAnswer {
    let committed = machine.committed().0;
    if height != 0 && u64::try_from(height).ok() != Some(committed) {
        let why = if height < 0 {
            format!("height {height} is negative")
        } else if u64::try_from(height).is_ok_and(|h| h > committed) {
            format!("cannot query with height in the future; the latest height is {committed}")
        } else {
            format!("this node answers only at the latest height ({committed}), not at {height}")
        };
        return QueryAnswer::err("sdk", usaged_auth::sdk::ERR_INVALID_HEIGHT, why);
    }
    answer(machine, path, data, prove)
}

/// Answers `path` with `data` against the committed state; `prove` asks for a Merkle proof where
/// the path supports one ([`STATE_KEY_PATH`]).
pub fn answer(machine: &Machine, path: &str, data: &[u8], prove: bool) -> QueryAnswer {
    if path == STATE_KEY_PATH {
        if !prove {
            return match machine.query_branch().borrow().get(data) {
                Ok(value) => QueryAnswer::ok(value.unwrap_or_default()),
                Err(e) => QueryAnswer::err("sdk", 1, e.to_string()),
            };
        }
        return match machine.get_with_proof(data) {
            Ok((value, proof)) => {
                let mut a = QueryAnswer::ok(value.unwrap_or_default());
                a.proof = Some((data.to_vec(), proof));
                a
            }
            Err(e) => QueryAnswer::err("sdk", 1, e.to_string()),
        };
    }
    match run(machine, path, data) {
        Ok(a) | Err(a) => a,
    }
}

fn run(machine: &Machine, path: &str, data: &[u8]) -> Result<QueryAnswer, QueryAnswer> {
    let branch = machine.query_branch();
    // Contracts answer as of the last committed block: its height and its time.
    let block: BlockInfo = machine.last_block();
    match path {
        "/cosmos.auth.v1beta1.Query/Account" => {
            let address = usaged_auth::decode_account_request(data).map_err(|e| {
                let (space, code) = e.abci_code();
                QueryAnswer::err(space, code, e.log())
            })?;
            let account = load_account(&*branch.borrow(), &address)
                .map_err(|e| QueryAnswer::err("sdk", 1, e.to_string()))?;
            Ok(QueryAnswer::ok(usaged_auth::encode_account_response(
                &account,
            )))
        }
        "/cosmwasm.wasm.v1.Query/SmartContractState" => {
            let req: wasmv1::QuerySmartContractStateRequest = decode(data)?;
            let (result, _) = machine
                .vm()
                .query_smart(
                    &branch,
                    &block,
                    &req.address,
                    &req.query_data,
                    gas::to_vm(QUERY_GAS_LIMIT_SDK),
                )
                .map_err(|e| {
                    let (space, code) = e.abci_code();
                    QueryAnswer::err(space, code, e.to_string())
                })?;
            match result {
                ContractResult::Ok(bin) => Ok(QueryAnswer::ok(
                    wasmv1::QuerySmartContractStateResponse { data: bin.to_vec() }.encode_to_vec(),
                )),
                ContractResult::Err(e) => Err(QueryAnswer::err(
                    "wasm",
                    9,
                    format!("query wasm contract failed: {e}"),
                )),
            }
        }
        "/cosmwasm.wasm.v1.Query/RawContractState" => {
            let req: wasmv1::QueryRawContractStateRequest = decode(data)?;
            let value = machine
                .vm()
                .query_raw(&branch, &req.address, &req.query_data)
                .map_err(|e| {
                    let (space, code) = e.abci_code();
                    QueryAnswer::err(space, code, e.to_string())
                })?;
            Ok(QueryAnswer::ok(
                wasmv1::QueryRawContractStateResponse {
                    data: value.unwrap_or_default(),
                }
                .encode_to_vec(),
            ))
        }
        "/cosmwasm.wasm.v1.Query/ContractInfo" => {
            let req: wasmv1::QueryContractInfoRequest = decode(data)?;
            let info = machine
                .vm()
                .contract_info(&branch, &req.address)
                .map_err(|e| {
                    let (space, code) = e.abci_code();
                    QueryAnswer::err(space, code, e.to_string())
                })?;
            Ok(QueryAnswer::ok(
                wasmv1::QueryContractInfoResponse {
                    address: req.address,
                    contract_info: Some(wasmv1::ContractInfo {
                        code_id: info.code_id,
                        creator: info.creator.to_string(),
                        admin: info.admin.map(|a| a.to_string()).unwrap_or_default(),
                        label: info.label,
                        created: None,
                        ibc_port_id: String::new(),
                        extension: None,
                    }),
                }
                .encode_to_vec(),
            ))
        }
        "/cosmwasm.wasm.v1.Query/Codes" => {
            let _req: wasmv1::QueryCodesRequest = decode(data)?;
            let state = branch.borrow();
            let mut code_infos = vec![];
            let start = [keys::CODE_PREFIX];
            let end = [keys::CODE_PREFIX + 1];
            let iter = state
                .range(
                    std::ops::Bound::Included(&start[..]),
                    std::ops::Bound::Excluded(&end[..]),
                    usaged_store::Order::Ascending,
                )
                .map_err(|e| QueryAnswer::err("sdk", 1, e.to_string()))?;
            for item in iter {
                let (k, v) = item.map_err(|e| QueryAnswer::err("sdk", 1, e.to_string()))?;
                let code_id = k
                    .get(1..9)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or_default();
                let info: CodeInfo = serde_json::from_slice(&v)
                    .map_err(|e| QueryAnswer::err("sdk", 1, e.to_string()))?;
                code_infos.push(wasmv1::CodeInfoResponse {
                    code_id,
                    creator: info.creator.to_string(),
                    data_hash: info.checksum.to_vec(),
                    instantiate_permission: Some(access_config(&info.instantiate_permission)),
                });
            }
            let total = code_infos.len() as u64;
            Ok(QueryAnswer::ok(
                wasmv1::QueryCodesResponse {
                    code_infos,
                    pagination: Some(PageResponse {
                        next_key: vec![],
                        total,
                    }),
                }
                .encode_to_vec(),
            ))
        }
        "/cosmos.tx.v1beta1.Service/Simulate" => {
            let tx = usaged_auth::decode_simulate_request(data).map_err(|e| {
                let (space, code) = e.abci_code();
                QueryAnswer::err(space, code, e.log())
            })?;
            let raw_len = tx.body_bytes.len() + tx.auth_info_bytes.len() + tx.signature.len();
            let outcome = machine
                .simulate(&tx, raw_len)
                .map_err(|e| QueryAnswer::err("sdk", 1, e.to_string()))?;
            if outcome.code != 0 {
                return Err(QueryAnswer::err(
                    &outcome.codespace,
                    outcome.code,
                    outcome.log,
                ));
            }
            #[allow(deprecated)]
            let result = abci_types::Result {
                data: vec![],
                log: String::new(),
                events: to_abci_events(&outcome.events)
                    .into_iter()
                    .map(|e| cosmos_sdk_proto::tendermint::abci::Event {
                        r#type: e.r#type,
                        attributes: e
                            .attributes
                            .into_iter()
                            .map(|a| cosmos_sdk_proto::tendermint::abci::EventAttribute {
                                key: a.key,
                                value: a.value,
                                index: a.index,
                            })
                            .collect(),
                    })
                    .collect(),
                msg_responses: abci_types::TxMsgData::decode(outcome.data.as_slice())
                    .map(|d| d.msg_responses)
                    .unwrap_or_default(),
            };
            Ok(QueryAnswer::ok(
                txv1::SimulateResponse {
                    gas_info: Some(abci_types::GasInfo {
                        gas_wanted: outcome.gas_wanted,
                        gas_used: outcome.gas_used,
                    }),
                    result: Some(result),
                }
                .encode_to_vec(),
            ))
        }
        "/cosmos.bank.v1beta1.Query/Balance" => {
            let req: bank::QueryBalanceRequest = decode(data)?;
            Ok(QueryAnswer::ok(
                bank::QueryBalanceResponse {
                    balance: Some(Coin {
                        denom: if req.denom.is_empty() {
                            DENOM.into()
                        } else {
                            req.denom
                        },
                        amount: "0".into(),
                    }),
                }
                .encode_to_vec(),
            ))
        }
        "/cosmos.bank.v1beta1.Query/AllBalances" => {
            let _req: bank::QueryAllBalancesRequest = decode(data)?;
            Ok(QueryAnswer::ok(
                bank::QueryAllBalancesResponse {
                    balances: vec![Coin {
                        denom: DENOM.into(),
                        amount: "0".into(),
                    }],
                    pagination: Some(PageResponse {
                        next_key: vec![],
                        total: 1,
                    }),
                }
                .encode_to_vec(),
            ))
        }
        other => Err(QueryAnswer::err(
            "sdk",
            6,
            format!("unknown query path {other}"),
        )),
    }
}
