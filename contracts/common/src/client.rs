//! Typed helpers for one contract calling or querying another.

use cosmwasm_std::{to_json_binary, Addr, CosmosMsg, QuerierWrapper, StdResult, WasmMsg};
use serde::{de::DeserializeOwned, Serialize};

use crate::committee::Committee;
use crate::msg::usage_proof::{CommitteeResponse, QueryMsg as UsageProofQuery};

/// The current committee, read from C1 usage-proof.
pub fn query_committee(querier: &QuerierWrapper, usage_proof: &Addr) -> StdResult<Committee> {
    let resp: CommitteeResponse =
        querier.query_wasm_smart(usage_proof, &UsageProofQuery::Committee {})?;
    Ok(resp.committee)
}

/// A smart query of another contract with typed request and response.
pub fn query<Q: Serialize, R: DeserializeOwned>(
    querier: &QuerierWrapper,
    contract: &Addr,
    msg: &Q,
) -> StdResult<R> {
    querier.query_wasm_smart(contract, msg)
}

/// An execute message to another contract, sending no funds.
pub fn execute<M: Serialize>(contract: &Addr, msg: &M) -> StdResult<CosmosMsg> {
    Ok(WasmMsg::Execute {
        contract_addr: contract.to_string(),
        msg: to_json_binary(msg)?,
        funds: vec![],
    }
    .into())
}
