//! `cosmos.base.tendermint.v1beta1` routes: CometBFT's own JSON (hex hashes, amino-typed keys)
//! turned into the protobuf types' JSON the gateway answers with (base64 bytes, enum names,
//! `Any` keys, bech32 consensus addresses in `sdk_block`).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::error::GatewayError;
use crate::pagination::PageRequest;
use crate::params::Params;
use crate::rpc::{int, RpcError};
use crate::{ok, render, Answer, Ctx, PathParams, COSMOS_SDK_API_VERSION};

type St = State<Arc<Ctx>>;

/// Go's zero time, which CometBFT writes for an absent vote's timestamp.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn hex_bytes(v: &Value) -> Vec<u8> {
    v.as_str()
        .and_then(|s| hex::decode(s).ok())
        .unwrap_or_default()
}

/// CometBFT's hex bytes as protobuf JSON bytes (base64, `null` when empty).
fn hex_b64(v: &Value) -> Value {
    render::bytes(&hex_bytes(v))
}

/// CometBFT's base64 bytes (`null` when absent), re-encoded so that only valid base64 passes.
fn b64(v: &Value) -> Value {
    render::bytes(
        &v.as_str()
            .and_then(|s| B64.decode(s).ok())
            .unwrap_or_default(),
    )
}

fn int_str(v: &Value) -> String {
    int(v).unwrap_or_default().to_string()
}

fn time(v: &Value) -> String {
    v.as_str()
        .and_then(render::timestamp)
        .unwrap_or_else(|| ZERO_TIME.to_string())
}

fn block_id(v: &Value) -> Value {
    json!({
        "hash": hex_b64(&v["hash"]),
        "part_set_header": {
            "total": v["parts"]["total"].as_u64().unwrap_or_default(),
            "hash": hex_b64(&v["parts"]["hash"]),
        },
    })
}

fn header(h: &Value, proposer: Value) -> Value {
    json!({
        "version": {"block": int_str(&h["version"]["block"]), "app": int_str(&h["version"]["app"])},
        "chain_id": h["chain_id"].as_str().unwrap_or_default(),
        "height": int_str(&h["height"]),
        "time": time(&h["time"]),
        "last_block_id": block_id(&h["last_block_id"]),
        "last_commit_hash": hex_b64(&h["last_commit_hash"]),
        "data_hash": hex_b64(&h["data_hash"]),
        "validators_hash": hex_b64(&h["validators_hash"]),
        "next_validators_hash": hex_b64(&h["next_validators_hash"]),
        "consensus_hash": hex_b64(&h["consensus_hash"]),
        "app_hash": hex_b64(&h["app_hash"]),
        "last_results_hash": hex_b64(&h["last_results_hash"]),
        "evidence_hash": hex_b64(&h["evidence_hash"]),
        "proposer_address": proposer,
    })
}

fn block_id_flag(v: &Value) -> Value {
    match v.as_u64() {
        Some(1) => "BLOCK_ID_FLAG_ABSENT".into(),
        Some(2) => "BLOCK_ID_FLAG_COMMIT".into(),
        Some(3) => "BLOCK_ID_FLAG_NIL".into(),
        _ => "BLOCK_ID_FLAG_UNKNOWN".into(),
    }
}

fn list(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn commit(c: &Value) -> Value {
    json!({
        "height": int_str(&c["height"]),
        "round": c["round"].as_i64().unwrap_or_default(),
        "block_id": block_id(&c["block_id"]),
        "signatures": list(&c["signatures"]).map(|s| json!({
            "block_id_flag": block_id_flag(&s["block_id_flag"]),
            "validator_address": hex_b64(&s["validator_address"]),
            "timestamp": time(&s["timestamp"]),
            "signature": b64(&s["signature"]),
        })).collect::<Vec<_>>(),
    })
}

fn signed_msg_type(v: &Value) -> &'static str {
    match v.as_u64() {
        Some(1) => "SIGNED_MSG_TYPE_PREVOTE",
        Some(2) => "SIGNED_MSG_TYPE_PRECOMMIT",
        Some(32) => "SIGNED_MSG_TYPE_PROPOSAL",
        _ => "SIGNED_MSG_TYPE_UNKNOWN",
    }
}

fn vote(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    json!({
        "type": signed_msg_type(&v["type"]),
        "height": int_str(&v["height"]),
        "round": v["round"].as_i64().unwrap_or_default(),
        "block_id": block_id(&v["block_id"]),
        "timestamp": time(&v["timestamp"]),
        "validator_address": hex_b64(&v["validator_address"]),
        "validator_index": v["validator_index"].as_i64().unwrap_or_default(),
        "signature": b64(&v["signature"]),
        "extension": b64(&v["extension"]),
        "extension_signature": b64(&v["extension_signature"]),
    })
}

/// A `tendermint.types.Validator` (the key as the `PublicKey` oneof).
fn tm_validator(v: &Value) -> Value {
    let key = &v["pub_key"];
    let pub_key = match key["type"].as_str() {
        Some("tendermint/PubKeyEd25519") => json!({"ed25519": b64(&key["value"])}),
        Some("tendermint/PubKeySecp256k1") => json!({"secp256k1": b64(&key["value"])}),
        _ => Value::Null,
    };
    json!({
        "address": hex_b64(&v["address"]),
        "pub_key": pub_key,
        "voting_power": int_str(&v["voting_power"]),
        "proposer_priority": int_str(&v["proposer_priority"]),
    })
}

/// One piece of evidence (CometBFT: `{"type": "tendermint/…", "value": …}`) as the
/// `tendermint.types.Evidence` oneof. A light-client attack's conflicting block is left out.
fn evidence(e: &Value) -> Value {
    let v = &e["value"];
    match e["type"].as_str() {
        Some("tendermint/DuplicateVoteEvidence") => json!({"duplicate_vote_evidence": {
            "vote_a": vote(&v["vote_a"]),
            "vote_b": vote(&v["vote_b"]),
            "total_voting_power": int_str(&v["total_voting_power"]),
            "validator_power": int_str(&v["validator_power"]),
            "timestamp": time(&v["timestamp"]),
        }}),
        Some("tendermint/LightClientAttackEvidence") => json!({"light_client_attack_evidence": {
            "conflicting_block": null,
            "common_height": int_str(&v["CommonHeight"]),
            "byzantine_validators": list(&v["ByzantineValidators"]).map(tm_validator).collect::<Vec<_>>(),
            "total_voting_power": int_str(&v["TotalVotingPower"]),
            "timestamp": time(&v["Timestamp"]),
        }}),
        _ => json!({}),
    }
}

fn block(b: &Value, proposer: Value) -> Value {
    json!({
        "header": header(&b["header"], proposer),
        "data": {"txs": list(&b["data"]["txs"]).map(b64).collect::<Vec<_>>()},
        "evidence": {"evidence": list(&b["evidence"]["evidence"]).map(evidence).collect::<Vec<_>>()},
        "last_commit": commit(&b["last_commit"]),
    })
}

/// `{block_id, block, sdk_block}` of CometBFT's `block` result.
fn block_response(ctx: &Ctx, r: &Value) -> Value {
    let b = &r["block"];
    let proposer = hex_bytes(&b["header"]["proposer_address"]);
    json!({
        "block_id": block_id(&r["block_id"]),
        "block": block(b, render::bytes(&proposer)),
        "sdk_block": block(b, Value::String(ctx.consensus_address(&proposer))),
    })
}

pub(crate) async fn node_info(State(ctx): St) -> Answer {
    let status = ctx.rpc.status().await?;
    let n = &status["node_info"];
    let channels = hex_bytes(&n["channels"]);
    ok(&json!({
        "default_node_info": {
            "protocol_version": {
                "p2p": int_str(&n["protocol_version"]["p2p"]),
                "block": int_str(&n["protocol_version"]["block"]),
                "app": int_str(&n["protocol_version"]["app"]),
            },
            "default_node_id": n["id"].as_str().unwrap_or_default(),
            "listen_addr": n["listen_addr"].as_str().unwrap_or_default(),
            "network": n["network"].as_str().unwrap_or_default(),
            "version": n["version"].as_str().unwrap_or_default(),
            "channels": render::bytes(&channels),
            "moniker": n["moniker"].as_str().unwrap_or_default(),
            "other": {
                "tx_index": n["other"]["tx_index"].as_str().unwrap_or_default(),
                "rpc_address": n["other"]["rpc_address"].as_str().unwrap_or_default(),
            },
        },
        "application_version": {
            "name": ctx.cfg.name,
            "app_name": ctx.cfg.app_name,
            "version": ctx.cfg.version,
            "git_commit": ctx.cfg.git_commit,
            "build_tags": "",
            "go_version": "",
            "build_deps": [],
            "cosmos_sdk_version": COSMOS_SDK_API_VERSION,
        },
    }))
}

/// A duration in nanoseconds as `google.protobuf.Duration` JSON (`"172800s"`, `"1.5s"`).
fn duration(nanos: i64) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = (nanos % 1_000_000_000).unsigned_abs();
    let sign = if nanos < 0 && secs == 0 { "-" } else { "" };
    let frac = if frac == 0 {
        String::new()
    } else if frac.is_multiple_of(1_000_000) {
        format!(".{:03}", frac / 1_000_000)
    } else if frac.is_multiple_of(1_000) {
        format!(".{:06}", frac / 1_000)
    } else {
        format!(".{frac:09}")
    };
    format!("{sign}{secs}{frac}s")
}

/// `cosmos.consensus.v1` `Params`: CometBFT's consensus parameters in force (cosmpy reads
/// `block.max_gas` to cap its gas estimates).
pub(crate) async fn consensus_params(State(ctx): St) -> Answer {
    // CometBFT may not have saved the parameters of a block it just stored yet: then those of
    // the block before, which are the same unless the application changed them.
    let r = match ctx.rpc.call("consensus_params", json!({})).await {
        Ok(r) => r,
        Err(RpcError::Node { .. }) => {
            let status = ctx.rpc.status().await?;
            let latest = int(&status["sync_info"]["latest_block_height"]).unwrap_or_default();
            ctx.rpc
                .call(
                    "consensus_params",
                    json!({"height": latest.saturating_sub(1).max(1).to_string()}),
                )
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let p = &r["consensus_params"];
    ok(&json!({"params": {
        "block": {
            "max_bytes": int_str(&p["block"]["max_bytes"]),
            "max_gas": int_str(&p["block"]["max_gas"]),
        },
        "evidence": {
            "max_age_num_blocks": int_str(&p["evidence"]["max_age_num_blocks"]),
            "max_age_duration": duration(int(&p["evidence"]["max_age_duration"]).unwrap_or_default()),
            "max_bytes": int_str(&p["evidence"]["max_bytes"]),
        },
        "validator": {
            "pub_key_types": list(&p["validator"]["pub_key_types"]).filter_map(Value::as_str).collect::<Vec<_>>(),
        },
        "version": {"app": int_str(&p["version"]["app"])},
        "abci": {"vote_extensions_enable_height": int_str(&p["abci"]["vote_extensions_enable_height"])},
    }}))
}

pub(crate) async fn syncing(State(ctx): St) -> Answer {
    let status = ctx.rpc.status().await?;
    ok(&json!({"syncing": status["sync_info"]["catching_up"].as_bool().unwrap_or_default()}))
}

pub(crate) async fn latest_block(State(ctx): St) -> Answer {
    let r = ctx.rpc.block(None).await?;
    ok(&block_response(&ctx, &r))
}

/// A height in a path, refused above the latest block as the SDK does.
async fn requested_height(ctx: &Ctx, height: &str) -> Result<i64, GatewayError> {
    let h: i64 = height.parse().map_err(|_| {
        GatewayError::invalid(format!(
            "type mismatch, parameter: height, error: strconv.ParseInt: parsing {height:?}: invalid syntax"
        ))
    })?;
    let status = ctx.rpc.status().await?;
    let latest = int(&status["sync_info"]["latest_block_height"]).unwrap_or_default();
    if h > latest {
        return Err(GatewayError::invalid(
            "requested block height is bigger then the chain length",
        ));
    }
    Ok(h)
}

pub(crate) async fn block_at(State(ctx): St, PathParams(height): PathParams<String>) -> Answer {
    let h = requested_height(&ctx, &height).await?;
    let r = ctx.rpc.block(Some(h)).await?;
    ok(&block_response(&ctx, &r))
}

async fn validator_set(ctx: &Ctx, height: Option<i64>, query: Option<&str>) -> Answer {
    let page = PageRequest::from_params(&Params::parse(query))?;
    let (page, limit) = page.page_and_limit();
    let r = ctx.rpc.validators(height, page, limit).await?;
    let validators: Vec<Value> = list(&r["validators"])
        .map(|v| {
            let key = &v["pub_key"];
            let type_url = match key["type"].as_str() {
                Some("tendermint/PubKeySecp256k1") => render::SECP256K1_PUB_KEY,
                _ => render::ED25519_PUB_KEY,
            };
            json!({
                "address": ctx.consensus_address(&hex_bytes(&v["address"])),
                "pub_key": {"@type": type_url, "key": b64(&key["value"])},
                "voting_power": int_str(&v["voting_power"]),
                "proposer_priority": int_str(&v["proposer_priority"]),
            })
        })
        .collect();
    ok(&json!({
        "block_height": int_str(&r["block_height"]),
        "validators": validators,
        "pagination": {"next_key": null, "total": int_str(&r["total"])},
    }))
}

pub(crate) async fn latest_validators(State(ctx): St, RawQuery(query): RawQuery) -> Answer {
    validator_set(&ctx, None, query.as_deref()).await
}

pub(crate) async fn validators(
    State(ctx): St,
    PathParams(height): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let h = requested_height(&ctx, &height).await?;
    validator_set(&ctx, Some(h), query.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_protobuf_json() {
        assert_eq!(duration(172_800_000_000_000), "172800s");
        assert_eq!(duration(1_500_000_000), "1.500s");
        assert_eq!(duration(1_000_001), "0.001000001s");
        assert_eq!(duration(0), "0s");
    }

    #[test]
    fn cometbft_hex_and_base64_become_protobuf_bytes() {
        assert_eq!(hex_b64(&json!("0A0B")), json!("Cgs="));
        assert_eq!(hex_b64(&json!("")), Value::Null);
        assert_eq!(b64(&Value::Null), Value::Null);
        assert_eq!(block_id_flag(&json!(2)), json!("BLOCK_ID_FLAG_COMMIT"));
    }
}
