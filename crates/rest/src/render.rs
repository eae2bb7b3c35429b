//! Protobuf messages as the SDK's gateway marshals them (gogoproto jsonpb with `OrigName` and
//! `EmitDefaults`): proto field names, every field present, 64-bit integers as strings, bytes as
//! base64 (`null` when nil), enums by name, `Any` as `{"@type": url, ...fields}`, timestamps in
//! RFC 3339 with 0, 3, 6 or 9 fractional digits. wasmd's contract messages (`RawContractMessage`)
//! are inlined JSON, and a code's checksum (`HexBytes`) is upper-case hex.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::crypto::{ed25519, multisig, secp256k1};
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, ModeInfo, TxBody, TxRaw};
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasm;
use cosmos_sdk_proto::Any;
use prost::Message;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const SECP256K1_PUB_KEY: &str = "/cosmos.crypto.secp256k1.PubKey";
pub const ED25519_PUB_KEY: &str = "/cosmos.crypto.ed25519.PubKey";
pub const MULTISIG_PUB_KEY: &str = "/cosmos.crypto.multisig.LegacyAminoPubKey";
pub const TX: &str = "/cosmos.tx.v1beta1.Tx";

/// Bytes: base64, `null` for none (a nil `[]byte` in Go).
pub fn bytes(b: &[u8]) -> Value {
    if b.is_empty() {
        Value::Null
    } else {
        Value::String(B64.encode(b))
    }
}

/// Bytes that are always set (an empty one is `""`).
pub fn bytes_set(b: &[u8]) -> Value {
    Value::String(B64.encode(b))
}

pub fn coins(cs: &[Coin]) -> Value {
    cs.iter()
        .map(|c| json!({"denom": c.denom, "amount": c.amount}))
        .collect()
}

/// A contract message or answer (wasmd's `RawContractMessage`): the JSON itself, or base64 should
/// the bytes not be JSON.
pub fn raw_json(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|_| bytes(b))
}

/// wasmd's `AccessType` in JSON: its own names (`MarshalJSONPB`), not the proto enum's.
pub fn access_type(permission: i32) -> &'static str {
    match permission {
        1 => "Nobody",
        3 => "Everybody",
        4 => "AnyOfAddresses",
        _ => "Unspecified",
    }
}

/// An `AccessConfig`, never null (wasmd declares it non-nullable).
pub fn access_config(a: Option<&wasm::AccessConfig>) -> Value {
    match a {
        Some(a) => json!({"permission": access_type(a.permission), "addresses": a.addresses}),
        None => json!({"permission": access_type(0), "addresses": []}),
    }
}

fn with_type(type_url: &str, fields: Value) -> Value {
    let mut out = Map::new();
    out.insert("@type".into(), Value::String(type_url.into()));
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    Value::Object(out)
}

/// An `Any` of a type this chain does not know, or whose value does not decode: its type and
/// raw value.
fn opaque(any: &Any) -> Value {
    with_type(&any.type_url, json!({"value": bytes_set(&any.value)}))
}

fn decode<M: Message + Default>(any: &Any) -> Option<M> {
    M::decode(any.value.as_slice()).ok()
}

/// A public key `Any`.
pub fn pub_key(any: &Any) -> Value {
    let fields = match any.type_url.as_str() {
        SECP256K1_PUB_KEY => {
            decode::<secp256k1::PubKey>(any).map(|k| json!({"key": bytes(&k.key)}))
        }
        ED25519_PUB_KEY => decode::<ed25519::PubKey>(any).map(|k| json!({"key": bytes(&k.key)})),
        MULTISIG_PUB_KEY => decode::<multisig::LegacyAminoPubKey>(any).map(|k| {
            json!({
                "threshold": k.threshold,
                "public_keys": k.public_keys.iter().map(pub_key).collect::<Vec<_>>(),
            })
        }),
        _ => None,
    };
    match fields {
        Some(f) => with_type(&any.type_url, f),
        None => opaque(any),
    }
}

/// A transaction message `Any`: the wasm messages this chain executes, with their contract
/// messages inlined.
pub fn msg(any: &Any) -> Value {
    let fields = match any.type_url.as_str() {
        "/cosmwasm.wasm.v1.MsgExecuteContract" => decode::<wasm::MsgExecuteContract>(any).map(|m| {
            json!({"sender": m.sender, "contract": m.contract, "msg": raw_json(&m.msg),
                   "funds": coins(&m.funds)})
        }),
        "/cosmwasm.wasm.v1.MsgInstantiateContract" => {
            decode::<wasm::MsgInstantiateContract>(any).map(|m| {
                json!({"sender": m.sender, "admin": m.admin, "code_id": m.code_id.to_string(),
                       "label": m.label, "msg": raw_json(&m.msg), "funds": coins(&m.funds)})
            })
        }
        "/cosmwasm.wasm.v1.MsgInstantiateContract2" => {
            decode::<wasm::MsgInstantiateContract2>(any).map(|m| {
                json!({"sender": m.sender, "admin": m.admin, "code_id": m.code_id.to_string(),
                       "label": m.label, "msg": raw_json(&m.msg), "funds": coins(&m.funds),
                       "salt": bytes(&m.salt), "fix_msg": m.fix_msg})
            })
        }
        "/cosmwasm.wasm.v1.MsgMigrateContract" => decode::<wasm::MsgMigrateContract>(any).map(|m| {
            json!({"sender": m.sender, "contract": m.contract, "code_id": m.code_id.to_string(),
                   "msg": raw_json(&m.msg)})
        }),
        "/cosmwasm.wasm.v1.MsgStoreCode" => decode::<wasm::MsgStoreCode>(any).map(|m| {
            json!({"sender": m.sender, "wasm_byte_code": bytes(&m.wasm_byte_code),
                   "instantiate_permission": m.instantiate_permission.as_ref().map(|a| access_config(Some(a)))})
        }),
        "/cosmwasm.wasm.v1.MsgUpdateAdmin" => decode::<wasm::MsgUpdateAdmin>(any).map(|m| {
            json!({"sender": m.sender, "new_admin": m.new_admin, "contract": m.contract})
        }),
        "/cosmwasm.wasm.v1.MsgClearAdmin" => decode::<wasm::MsgClearAdmin>(any)
            .map(|m| json!({"sender": m.sender, "contract": m.contract})),
        _ => None,
    };
    match fields {
        Some(f) => with_type(&any.type_url, f),
        None => opaque(any),
    }
}

/// A message's response `Any` (`TxMsgData.msg_responses`).
pub fn msg_response(any: &Any) -> Value {
    let fields = match any.type_url.as_str() {
        "/cosmwasm.wasm.v1.MsgExecuteContractResponse" => {
            decode::<wasm::MsgExecuteContractResponse>(any).map(|r| json!({"data": bytes(&r.data)}))
        }
        "/cosmwasm.wasm.v1.MsgInstantiateContractResponse" => {
            decode::<wasm::MsgInstantiateContractResponse>(any)
                .map(|r| json!({"address": r.address, "data": bytes(&r.data)}))
        }
        "/cosmwasm.wasm.v1.MsgInstantiateContract2Response" => {
            decode::<wasm::MsgInstantiateContract2Response>(any)
                .map(|r| json!({"address": r.address, "data": bytes(&r.data)}))
        }
        "/cosmwasm.wasm.v1.MsgMigrateContractResponse" => {
            decode::<wasm::MsgMigrateContractResponse>(any).map(|r| json!({"data": bytes(&r.data)}))
        }
        "/cosmwasm.wasm.v1.MsgStoreCodeResponse" => decode::<wasm::MsgStoreCodeResponse>(any)
            .map(|r| json!({"code_id": r.code_id.to_string(), "checksum": bytes(&r.checksum)})),
        "/cosmwasm.wasm.v1.MsgUpdateAdminResponse" | "/cosmwasm.wasm.v1.MsgClearAdminResponse" => {
            Some(json!({}))
        }
        _ => None,
    };
    match fields {
        Some(f) => with_type(&any.type_url, f),
        None => opaque(any),
    }
}

fn sign_mode(mode: i32) -> Value {
    match SignMode::try_from(mode) {
        Ok(m) => Value::String(m.as_str_name().into()),
        // jsonpb writes an enum value without a name as its number.
        Err(_) => Value::from(mode),
    }
}

fn mode_info(m: &ModeInfo) -> Value {
    match &m.sum {
        Some(mode_info::Sum::Single(s)) => json!({"single": {"mode": sign_mode(s.mode)}}),
        Some(mode_info::Sum::Multi(multi)) => json!({"multi": {
            "bitarray": multi.bitarray.as_ref().map(|b| json!({
                "extra_bits_stored": b.extra_bits_stored, "elems": bytes(&b.elems)})),
            "mode_infos": multi.mode_infos.iter().map(mode_info).collect::<Vec<_>>(),
        }}),
        None => json!({}),
    }
}

fn body(b: &TxBody) -> Value {
    json!({
        "messages": b.messages.iter().map(msg).collect::<Vec<_>>(),
        "memo": b.memo,
        "timeout_height": b.timeout_height.to_string(),
        "extension_options": b.extension_options.iter().map(opaque).collect::<Vec<_>>(),
        "non_critical_extension_options":
            b.non_critical_extension_options.iter().map(opaque).collect::<Vec<_>>(),
    })
}

fn auth_info(a: &AuthInfo) -> Value {
    #[allow(deprecated)]
    let tip = a
        .tip
        .as_ref()
        .map(|t| json!({"amount": coins(&t.amount), "tipper": t.tipper}));
    json!({
        "signer_infos": a.signer_infos.iter().map(|s| json!({
            "public_key": s.public_key.as_ref().map(pub_key),
            "mode_info": s.mode_info.as_ref().map(mode_info),
            "sequence": s.sequence.to_string(),
        })).collect::<Vec<_>>(),
        "fee": a.fee.as_ref().map(|f| json!({
            "amount": coins(&f.amount),
            "gas_limit": f.gas_limit.to_string(),
            "payer": f.payer,
            "granter": f.granter,
        })),
        "tip": tip,
    })
}

/// The `cosmos.tx.v1beta1.Tx` of raw transaction bytes, or `None` if they do not decode.
pub fn tx(raw: &[u8]) -> Option<Value> {
    let raw = TxRaw::decode(raw).ok()?;
    let b = TxBody::decode(raw.body_bytes.as_slice()).ok()?;
    let a = AuthInfo::decode(raw.auth_info_bytes.as_slice()).ok()?;
    Some(json!({
        "body": body(&b),
        "auth_info": auth_info(&a),
        "signatures": raw.signatures.iter().map(|s| bytes_set(s)).collect::<Vec<_>>(),
    }))
}

/// The transaction as the `Any` of `TxResponse.tx`.
pub fn tx_any(raw: &[u8]) -> Value {
    match tx(raw) {
        Some(t) => with_type(TX, t),
        None => Value::Null,
    }
}

/// CometBFT's events (`[{type, attributes: [{key, value, index}]}]`) as `tendermint.abci.Event`s.
pub fn events(v: &Value) -> Value {
    let Some(list) = v.as_array() else {
        return json!([]);
    };
    list.iter()
        .map(|e| {
            let attributes: Vec<Value> = e["attributes"]
                .as_array()
                .map(|attrs| {
                    attrs
                        .iter()
                        .map(|a| {
                            json!({
                                "key": a["key"].as_str().unwrap_or_default(),
                                "value": a["value"].as_str().unwrap_or_default(),
                                "index": a["index"].as_bool().unwrap_or_default(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({"type": e["type"].as_str().unwrap_or_default(), "attributes": attributes})
        })
        .collect()
}

/// A timestamp as jsonpb writes it (UTC, `Z`, 0/3/6/9 fractional digits); `None` if `s` is not
/// RFC 3339.
pub fn timestamp(s: &str) -> Option<String> {
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .ok()?
        .to_offset(time::UtcOffset::UTC);
    let nanos = t.nanosecond();
    let frac = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{frac}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// A time as Go's `time.RFC3339` (whole seconds), which `TxResponse.timestamp` carries.
pub fn timestamp_seconds(s: &str) -> Option<String> {
    let full = timestamp(s)?;
    Some(match full.split_once('.') {
        Some((secs, _)) => format!("{secs}Z"),
        None => full,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_take_jsonpbs_fraction_lengths() {
        let t = |s| timestamp(s).unwrap();
        assert_eq!(
            t("2024-05-01T12:34:56.123456789Z"),
            "2024-05-01T12:34:56.123456789Z"
        );
        assert_eq!(
            t("2024-05-01T12:34:56.1234Z"),
            "2024-05-01T12:34:56.123400Z"
        );
        assert_eq!(t("2024-05-01T12:34:56.12Z"), "2024-05-01T12:34:56.120Z");
        assert_eq!(t("2024-05-01T12:34:56Z"), "2024-05-01T12:34:56Z");
        assert_eq!(t("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
        assert_eq!(t("2024-05-01T14:34:56+02:00"), "2024-05-01T12:34:56Z");
        assert_eq!(
            timestamp_seconds("2024-05-01T12:34:56.5Z").unwrap(),
            "2024-05-01T12:34:56Z"
        );
        assert!(timestamp("yesterday").is_none());
    }

    #[test]
    fn an_execute_message_shows_its_contract_message_inline() {
        let m = wasm::MsgExecuteContract {
            sender: "usage1s".into(),
            contract: "usage1c".into(),
            msg: br#"{"b":1,"a":{"x":"y"}}"#.to_vec(),
            funds: vec![],
        };
        let any = Any {
            type_url: "/cosmwasm.wasm.v1.MsgExecuteContract".into(),
            value: m.encode_to_vec(),
        };
        let v = msg(&any);
        assert_eq!(v["@type"], "/cosmwasm.wasm.v1.MsgExecuteContract");
        assert_eq!(v["msg"], json!({"b": 1, "a": {"x": "y"}}));
        // Key order as signed, not sorted.
        assert_eq!(
            serde_json::to_string(&v["msg"]).unwrap(),
            r#"{"b":1,"a":{"x":"y"}}"#
        );
        assert_eq!(v["funds"], json!([]));
    }

    #[test]
    fn an_unknown_message_keeps_its_type_and_bytes() {
        let any = Any {
            type_url: "/x.Y".into(),
            value: vec![1, 2],
        };
        assert_eq!(msg(&any), json!({"@type": "/x.Y", "value": "AQI="}));
    }
}
