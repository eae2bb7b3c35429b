//! `cosmos.auth`, `cosmos.bank` and `cosmos.tx` routes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txv1;
use prost::Message;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Code, GatewayError};
use crate::pagination::PageRequest;
use crate::params::Params;
use crate::rpc::{int, Broadcast, RpcError};
use crate::{ok, parse, query_height, render, Answer, Ctx, PathParams};

type St = State<Arc<Ctx>>;

/// The JSON object of a request body, read up to the endpoint's limit.
pub(crate) async fn read_object(
    ctx: &Ctx,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, GatewayError> {
    let limit = ctx.cfg.max_body_bytes();
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(GatewayError::body_too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.to_string().contains("length limit") {
            GatewayError::body_too_large(limit)
        } else {
            GatewayError::invalid(format!("reading the request body: {e}"))
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(GatewayError::invalid(format!(
            "the request body must be a JSON object, not {other}"
        ))),
        Err(e) => Err(GatewayError::invalid(format!("invalid JSON body: {e}"))),
    }
}

pub(crate) async fn account(
    State(ctx): St,
    PathParams(address): PathParams<String>,
    headers: HeaderMap,
) -> Answer {
    ctx.account_address(&address)?;
    let res: auth::QueryAccountResponse = ctx
        .rpc
        .query(
            "/cosmos.auth.v1beta1.Query/Account",
            &auth::QueryAccountRequest {
                address: address.clone(),
            },
            query_height(&headers)?,
        )
        .await?;
    let any = res
        .account
        .ok_or_else(|| GatewayError::not_found(format!("account {address} not found")))?;
    let account = auth::BaseAccount::decode(any.value.as_slice())
        .map_err(|e| GatewayError::internal(format!("account of {address}: {e}")))?;
    ok(&json!({"account": {
        "@type": any.type_url,
        "address": account.address,
        "pub_key": account.pub_key.as_ref().map(render::pub_key),
        "account_number": account.account_number.to_string(),
        "sequence": account.sequence.to_string(),
    }}))
}

/// Every balance of an address, paged by denomination (the bank store's key).
pub(crate) async fn balances(
    State(ctx): St,
    PathParams(address): PathParams<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    ctx.account_address(&address)?;
    let page = PageRequest::from_params(&Params::parse(query.as_deref()))?;
    let res: bank::QueryAllBalancesResponse = ctx
        .rpc
        .query(
            "/cosmos.bank.v1beta1.Query/AllBalances",
            &bank::QueryAllBalancesRequest {
                address,
                pagination: None,
                resolve_denom: false,
            },
            query_height(&headers)?,
        )
        .await?;
    let mut all = res.balances;
    all.sort_by(|a, b| a.denom.cmp(&b.denom));
    all.dedup_by(|a, b| a.denom == b.denom);
    let (coins, pagination) = page.paginate(all, |c| c.denom.as_bytes().to_vec());
    ok(&json!({"balances": render::coins(&coins), "pagination": pagination}))
}

/// The SDK's denomination rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
fn valid_denom(d: &str) -> bool {
    let b = d.as_bytes();
    (3..=128).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b':' | b'.' | b'_' | b'-'))
}

pub(crate) async fn balance(
    State(ctx): St,
    PathParams(address): PathParams<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    ctx.account_address(&address)?;
    let params = Params::parse(query.as_deref());
    let denom = params.get("denom").unwrap_or_default().to_string();
    if !valid_denom(&denom) {
        return Err(GatewayError::invalid(format!("invalid denom: {denom}")));
    }
    let res: bank::QueryBalanceResponse = ctx
        .rpc
        .query(
            "/cosmos.bank.v1beta1.Query/Balance",
            &bank::QueryBalanceRequest { address, denom },
            query_height(&headers)?,
        )
        .await?;
    ok(&json!({"balance": res.balance.map(|c| json!({"denom": c.denom, "amount": c.amount}))}))
}

pub(crate) async fn simulate(State(ctx): St, headers: HeaderMap, body: Body) -> Answer {
    let o = read_object(&ctx, &headers, body).await?;
    let tx_bytes = match parse::bytes(&o, "tx_bytes")? {
        Some(b) if !b.is_empty() => b,
        // The legacy form: the transaction as JSON (cosmpy sends it so).
        _ => match parse::field(&o, "tx") {
            Some(Value::Object(tx)) => parse::tx(tx)?,
            Some(other) => {
                return Err(GatewayError::invalid(format!(
                    "tx: an object was expected, not {other}"
                )))
            }
            None => return Err(GatewayError::invalid("empty txBytes is not allowed")),
        },
    };
    // The deprecated `tx` stays unset: the application simulates bytes.
    let request = txv1::SimulateRequest {
        tx_bytes,
        ..Default::default()
    };
    let answer = ctx
        .rpc
        .abci_query(
            "/cosmos.tx.v1beta1.Service/Simulate",
            &request.encode_to_vec(),
            query_height(&headers)?,
        )
        .await?;
    if answer.code != 0 {
        // The SDK answers any failed simulation as Unknown (500).
        return Err(GatewayError::new(Code::Unknown, answer.log));
    }
    let res = txv1::SimulateResponse::decode(answer.value.as_slice())
        .map_err(|e| GatewayError::internal(format!("simulation answer: {e}")))?;
    let gas = res.gas_info.unwrap_or_default();
    let result = res.result.map(|r| {
        // Deprecated in v0.50 but still answered.
        #[allow(deprecated)]
        let data = render::bytes(&r.data);
        json!({
            "data": data,
            "log": r.log,
            "events": r.events.iter().map(|e| json!({
                "type": e.r#type,
                "attributes": e.attributes.iter().map(|a| json!({
                    "key": a.key, "value": a.value, "index": a.index,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "msg_responses": r.msg_responses.iter().map(render::msg_response).collect::<Vec<_>>(),
        })
    });
    ok(&json!({
        "gas_info": {"gas_wanted": gas.gas_wanted.to_string(), "gas_used": gas.gas_used.to_string()},
        "result": result,
    }))
}

/// A `TxResponse` with only what a broadcast knows (`NewResponseFormatBroadcastTx`).
fn broadcast_response(txhash: &str, code: u64, codespace: &str, data: &str, log: &str) -> Value {
    json!({"tx_response": {
        "height": "0", "txhash": txhash, "codespace": codespace, "code": code,
        "data": data, "raw_log": log, "logs": [], "info": "",
        "gas_wanted": "0", "gas_used": "0", "tx": null, "timestamp": "", "events": [],
    }})
}

pub(crate) async fn broadcast(State(ctx): St, headers: HeaderMap, body: Body) -> Answer {
    let o = read_object(&ctx, &headers, body).await?;
    let tx = parse::bytes(&o, "tx_bytes")?
        .filter(|b| !b.is_empty())
        .ok_or_else(|| GatewayError::invalid("invalid empty tx"))?;
    let mode = match parse::field(&o, "mode") {
        Some(Value::String(s)) if s == "BROADCAST_MODE_SYNC" => Some(Broadcast::Sync),
        Some(Value::String(s)) if s == "BROADCAST_MODE_ASYNC" => Some(Broadcast::Async),
        Some(Value::Number(n)) if n.as_u64() == Some(2) => Some(Broadcast::Sync),
        Some(Value::Number(n)) if n.as_u64() == Some(3) => Some(Broadcast::Async),
        _ => None,
    };
    // BROADCAST_MODE_BLOCK is gone since v0.47: the SDK refuses it like an unknown mode.
    let mode = mode.ok_or_else(|| {
        GatewayError::invalid("unsupported return type; supported types: sync, async")
    })?;
    match ctx.rpc.broadcast(mode, &tx).await {
        Ok(r) => ok(&broadcast_response(
            r["hash"].as_str().unwrap_or_default(),
            r["code"].as_u64().unwrap_or_default(),
            r["codespace"].as_str().unwrap_or_default(),
            r["data"].as_str().unwrap_or_default(),
            r["log"].as_str().unwrap_or_default(),
        )),
        Err(e) => {
            // What the SDK turns into a response rather than an error (`CheckCometError`).
            let reason = e.node_reason().unwrap_or_default().to_ascii_lowercase();
            let code = if reason.contains("tx already exists in cache") {
                19
            } else if reason.contains("mempool is full") {
                20
            } else if reason.contains("tx too large") {
                21
            } else {
                return Err(e.into());
            };
            let hash = hex::encode_upper(Sha256::digest(&tx));
            ok(&broadcast_response(&hash, code, "sdk", "", &reason))
        }
    }
}

/// The `TxResponse` of one of CometBFT's `ResultTx`, with its block's time (`mkTxResult`).
fn tx_response(r: &Value, time: Option<&str>) -> (Value, Vec<u8>) {
    let raw = r["tx"]
        .as_str()
        .and_then(|t| B64.decode(t).ok())
        .unwrap_or_default();
    let res = &r["tx_result"];
    let data = res["data"]
        .as_str()
        .and_then(|d| B64.decode(d).ok())
        .unwrap_or_default();
    let response = json!({
        "height": int(&r["height"]).unwrap_or_default().to_string(),
        "txhash": r["hash"].as_str().unwrap_or_default(),
        "codespace": res["codespace"].as_str().unwrap_or_default(),
        "code": res["code"].as_u64().unwrap_or_default(),
        "data": hex::encode_upper(data),
        "raw_log": res["log"].as_str().unwrap_or_default(),
        "logs": [],
        "info": res["info"].as_str().unwrap_or_default(),
        "gas_wanted": int(&res["gas_wanted"]).unwrap_or_default().to_string(),
        "gas_used": int(&res["gas_used"]).unwrap_or_default().to_string(),
        "tx": render::tx_any(&raw),
        "timestamp": time.and_then(render::timestamp_seconds).unwrap_or_default(),
        "events": render::events(&res["events"]),
    });
    (response, raw)
}

/// The block times of `heights`, one header each.
async fn block_times(
    ctx: &Ctx,
    heights: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, String>, GatewayError> {
    let mut times = BTreeMap::new();
    for h in heights {
        if let std::collections::btree_map::Entry::Vacant(slot) = times.entry(h) {
            let header = ctx.rpc.header(h).await?;
            slot.insert(
                header["header"]["time"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    Ok(times)
}

pub(crate) async fn get_tx(State(ctx): St, PathParams(hash): PathParams<String>) -> Answer {
    if hash.is_empty() {
        return Err(GatewayError::invalid("tx hash cannot be empty"));
    }
    let bytes = hex::decode(&hash)
        .map_err(|e| GatewayError::invalid(format!("invalid tx hash {hash}: {e}")))?;
    let r = match ctx.rpc.tx(&bytes).await {
        Ok(r) => r,
        Err(e @ RpcError::Node { .. })
            if e.node_reason().is_some_and(|r| r.contains("not found")) =>
        {
            return Err(GatewayError::not_found(format!("tx not found: {hash}")))
        }
        Err(e) => return Err(e.into()),
    };
    let height = int(&r["height"]).unwrap_or_default();
    let times = block_times(&ctx, [height]).await?;
    let (response, raw) = tx_response(&r, times.get(&height).map(String::as_str));
    ok(&json!({"tx": render::tx(&raw), "tx_response": response}))
}

/// A v0.46 `events` condition (`key=value`) as a CometBFT query term: the value quoted, unless it
/// is a height or quoted already.
fn event_term(event: &str) -> Result<String, GatewayError> {
    let invalid = || {
        GatewayError::invalid(format!(
            "invalid event; event {event} should be of the format: {{eventType}}.{{eventAttribute}}={{value}}"
        ))
    };
    let (key, value) = event.split_once('=').ok_or_else(invalid)?;
    if key.is_empty() || value.contains('=') {
        return Err(invalid());
    }
    Ok(
        if key == "tx.height"
            || (value.starts_with('\'') && value.ends_with('\'') && value.len() > 1)
        {
            format!("{key}={value}")
        } else {
            format!("{key}='{value}'")
        },
    )
}

pub(crate) async fn search(State(ctx): St, RawQuery(query): RawQuery) -> Answer {
    let params = Params::parse(query.as_deref());
    let query = match params.get("query").map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => q.to_string(),
        None => {
            let events = params.all("events");
            if events.iter().all(|e| e.trim().is_empty()) {
                return Err(GatewayError::invalid("query cannot be empty"));
            }
            events
                .iter()
                .filter(|e| !e.trim().is_empty())
                .map(|e| event_term(e.trim()))
                .collect::<Result<Vec<_>, _>>()?
                .join(" AND ")
        }
    };
    let order = match params.get("order_by").unwrap_or_default() {
        "" | "ORDER_BY_UNSPECIFIED" | "0" => "",
        "ORDER_BY_ASC" | "1" => "asc",
        "ORDER_BY_DESC" | "2" => "desc",
        other => return Err(GatewayError::invalid(format!("invalid order_by {other}"))),
    };
    // v0.50's page and limit; before, `pagination.offset` and `.limit`.
    let (mut page, mut limit) = (params.u64("page")?, params.u64("limit")?);
    if page == 0 && limit == 0 {
        let p = PageRequest::from_params(&params)?;
        if p.offset > 0 || p.limit > 0 {
            (page, limit) = p.page_and_limit();
        }
    }
    let page = page.max(1);
    let limit = if limit == 0 {
        crate::pagination::DEFAULT_LIMIT
    } else {
        limit
    };
    let found = ctx.rpc.tx_search(&query, page, limit, order).await?;
    let results = found["txs"].as_array().cloned().unwrap_or_default();
    let heights: Vec<i64> = results
        .iter()
        .map(|r| int(&r["height"]).unwrap_or_default())
        .collect();
    let times = block_times(&ctx, heights).await?;
    let mut txs = Vec::with_capacity(results.len());
    let mut responses = Vec::with_capacity(results.len());
    for r in &results {
        let height = int(&r["height"]).unwrap_or_default();
        let (response, raw) = tx_response(r, times.get(&height).map(String::as_str));
        txs.push(render::tx(&raw).unwrap_or(Value::Null));
        responses.push(response);
    }
    ok(&json!({
        "txs": txs,
        "tx_responses": responses,
        "pagination": null,
        "total": int(&found["total_count"]).unwrap_or_default().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denominations_follow_the_sdk_rule() {
        assert!(valid_denom("ucny"));
        assert!(valid_denom(
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        ));
        assert!(!valid_denom(""));
        assert!(!valid_denom("u1"));
        assert!(!valid_denom("1abc"));
        assert!(!valid_denom("a b c"));
    }

    #[test]
    fn old_style_events_become_quoted_query_terms() {
        assert_eq!(
            event_term("message.sender=usage1x").unwrap(),
            "message.sender='usage1x'"
        );
        assert_eq!(
            event_term("message.sender='usage1x'").unwrap(),
            "message.sender='usage1x'"
        );
        assert_eq!(event_term("tx.height=5").unwrap(), "tx.height=5");
        assert!(event_term("no-equals").is_err());
        assert!(event_term("a=b=c").is_err());
        assert!(event_term("=b").is_err());
    }
}
