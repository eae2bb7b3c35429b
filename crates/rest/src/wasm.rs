//! `cosmwasm.wasm.v1` routes, as wasmd 0.54 answers them.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasm;
use serde_json::{json, Value};

use crate::error::GatewayError;
use crate::pagination::PageRequest;
use crate::params::{decode_base64, Params};
use crate::{ok, query_height, render, Answer, Ctx, PathParams};

type St = State<Arc<Ctx>>;

pub(crate) async fn contract_info(
    State(ctx): St,
    PathParams(address): PathParams<String>,
    headers: HeaderMap,
) -> Answer {
    ctx.account_address(&address)?;
    let res: wasm::QueryContractInfoResponse = ctx
        .rpc
        .query(
            "/cosmwasm.wasm.v1.Query/ContractInfo",
            &wasm::QueryContractInfoRequest { address },
            query_height(&headers)?,
        )
        .await?;
    let info = res.contract_info.map(|i| {
        json!({
            "code_id": i.code_id.to_string(),
            "creator": i.creator,
            "admin": i.admin,
            "label": i.label,
            "created": i.created.map(|c| json!({
                "block_height": c.block_height.to_string(),
                "tx_index": c.tx_index.to_string(),
            })),
            "ibc_port_id": i.ibc_port_id,
            "extension": i.extension.as_ref().map(render::msg),
        })
    });
    ok(&json!({"address": res.address, "contract_info": info}))
}

/// A base64 key or query from a path.
fn path_bytes(what: &str, s: &str) -> Result<Vec<u8>, GatewayError> {
    decode_base64(s).ok_or_else(|| {
        GatewayError::invalid(format!(
            "type mismatch, parameter: {what}, error: illegal base64 data"
        ))
    })
}

pub(crate) async fn raw(
    State(ctx): St,
    PathParams((address, key)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    ctx.account_address(&address)?;
    let query_data = path_bytes("query_data", &key)?;
    let res: wasm::QueryRawContractStateResponse = ctx
        .rpc
        .query(
            "/cosmwasm.wasm.v1.Query/RawContractState",
            &wasm::QueryRawContractStateRequest {
                address,
                query_data,
            },
            query_height(&headers)?,
        )
        .await?;
    // An absent key is nil in wasmd: `null`.
    ok(&json!({"data": render::bytes(&res.data)}))
}

pub(crate) async fn smart(
    State(ctx): St,
    PathParams((address, query)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    ctx.account_address(&address)?;
    let query_data = path_bytes("query_data", &query)?;
    if serde_json::from_slice::<serde::de::IgnoredAny>(&query_data).is_err() {
        return Err(GatewayError::invalid("invalid query data"));
    }
    let res: wasm::QuerySmartContractStateResponse = ctx
        .rpc
        .query(
            "/cosmwasm.wasm.v1.Query/SmartContractState",
            &wasm::QuerySmartContractStateRequest {
                address,
                query_data,
            },
            query_height(&headers)?,
        )
        .await?;
    ok(&json!({"data": render::raw_json(&res.data)}))
}

/// Every stored code, paged by code id (wasmd's store key: the id as 8 big-endian bytes).
pub(crate) async fn codes(State(ctx): St, RawQuery(query): RawQuery, headers: HeaderMap) -> Answer {
    let page = PageRequest::from_params(&Params::parse(query.as_deref()))?;
    let res: wasm::QueryCodesResponse = ctx
        .rpc
        .query(
            "/cosmwasm.wasm.v1.Query/Codes",
            &wasm::QueryCodesRequest { pagination: None },
            query_height(&headers)?,
        )
        .await?;
    let mut all = res.code_infos;
    all.sort_by_key(|c| c.code_id);
    all.dedup_by_key(|c| c.code_id);
    let (infos, pagination) = page.paginate(all, |c| c.code_id.to_be_bytes().to_vec());
    let code_infos: Vec<Value> = infos
        .iter()
        .map(|c| {
            json!({
                "code_id": c.code_id.to_string(),
                "creator": c.creator,
                // wasmd's `HexBytes`: upper-case hex, not base64.
                "data_hash": hex::encode_upper(&c.data_hash),
                "instantiate_permission": render::access_config(c.instantiate_permission.as_ref()),
            })
        })
        .collect();
    ok(&json!({"code_infos": code_infos, "pagination": pagination}))
}
