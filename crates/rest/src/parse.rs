//! Request bodies in the gateway's JSON: a field by its proto or JSON (lowerCamel) name, 64-bit
//! integers as strings or numbers, bytes in base64, enums by name or number, `null` as absent.
//! The one message read whole is a `Tx` (the legacy `tx` field of `SimulateRequest`, which
//! cosmpy sends), turned into the protobuf bytes the SDK would simulate.

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::crypto::multisig::v1beta1::CompactBitArray;
use cosmos_sdk_proto::cosmos::crypto::{ed25519, secp256k1};
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, Tx, TxBody,
};
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasm;
use cosmos_sdk_proto::Any;
use prost::Message;
use serde_json::{Map, Value};

use crate::error::GatewayError;
use crate::params::decode_base64;
use crate::render::{ED25519_PUB_KEY, SECP256K1_PUB_KEY};

type Obj = Map<String, Value>;

fn invalid(what: &str, why: impl std::fmt::Display) -> GatewayError {
    GatewayError::invalid(format!("{what}: {why}"))
}

/// `name` (`gas_limit`) or its JSON name (`gasLimit`); `null` is absent.
pub fn field<'a>(o: &'a Obj, name: &str) -> Option<&'a Value> {
    o.get(name)
        .or_else(|| o.get(&camel(name)))
        .filter(|v| !v.is_null())
}

fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub fn string(o: &Obj, name: &str) -> Result<String, GatewayError> {
    match field(o, name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(invalid(name, format!("a string was expected, not {v}"))),
    }
}

pub fn uint(o: &Obj, name: &str) -> Result<u64, GatewayError> {
    match field(o, name) {
        None => Ok(0),
        Some(Value::String(s)) if s.is_empty() => Ok(0),
        Some(Value::String(s)) => s.parse().map_err(|e| invalid(name, e)),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| invalid(name, format!("{n} is not an unsigned integer"))),
        Some(v) => Err(invalid(name, format!("an integer was expected, not {v}"))),
    }
}

fn uint32(o: &Obj, name: &str) -> Result<u32, GatewayError> {
    u32::try_from(uint(o, name)?).map_err(|e| invalid(name, e))
}

fn boolean(o: &Obj, name: &str) -> Result<bool, GatewayError> {
    match field(o, name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(invalid(name, format!("a boolean was expected, not {v}"))),
    }
}

pub fn bytes(o: &Obj, name: &str) -> Result<Option<Vec<u8>>, GatewayError> {
    match field(o, name) {
        None => Ok(None),
        Some(Value::String(s)) => decode_base64(s)
            .map(Some)
            .ok_or_else(|| invalid(name, "illegal base64 data")),
        Some(v) => Err(invalid(
            name,
            format!("base64 bytes were expected, not {v}"),
        )),
    }
}

fn object<'a>(o: &'a Obj, name: &str) -> Result<Option<&'a Obj>, GatewayError> {
    match field(o, name) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(v) => Err(invalid(name, format!("an object was expected, not {v}"))),
    }
}

fn array<'a>(o: &'a Obj, name: &str) -> Result<&'a [Value], GatewayError> {
    match field(o, name) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(invalid(name, format!("an array was expected, not {v}"))),
    }
}

fn objects<'a>(o: &'a Obj, name: &str) -> Result<Vec<&'a Obj>, GatewayError> {
    array(o, name)?
        .iter()
        .map(|v| {
            v.as_object()
                .ok_or_else(|| invalid(name, format!("an object was expected, not {v}")))
        })
        .collect()
}

fn strings(o: &Obj, name: &str) -> Result<Vec<String>, GatewayError> {
    array(o, name)?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(name, format!("a string was expected, not {v}")))
        })
        .collect()
}

fn coins(o: &Obj, name: &str) -> Result<Vec<Coin>, GatewayError> {
    objects(o, name)?
        .into_iter()
        .map(|c| {
            Ok(Coin {
                denom: string(c, "denom")?,
                amount: string(c, "amount")?,
            })
        })
        .collect()
}

/// A contract message (wasmd's `RawContractMessage`): the JSON as given, compacted.
fn raw_json(o: &Obj, name: &str) -> Result<Vec<u8>, GatewayError> {
    match field(o, name) {
        None => Ok(vec![]),
        Some(v) => serde_json::to_vec(v).map_err(|e| invalid(name, e)),
    }
}

fn access_config(o: &Obj) -> Result<wasm::AccessConfig, GatewayError> {
    let permission = match field(o, "permission") {
        None => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| invalid("permission", n))?,
        Some(Value::String(s)) => match s.as_str() {
            "Unspecified" | "ACCESS_TYPE_UNSPECIFIED" => 0,
            "Nobody" | "ACCESS_TYPE_NOBODY" => 1,
            "Everybody" | "ACCESS_TYPE_EVERYBODY" => 3,
            "AnyOfAddresses" | "ACCESS_TYPE_ANY_OF_ADDRESSES" => 4,
            other => {
                return Err(invalid(
                    "permission",
                    format!("unknown access type {other}"),
                ))
            }
        },
        Some(v) => return Err(invalid("permission", v)),
    };
    Ok(wasm::AccessConfig {
        permission,
        addresses: strings(o, "addresses")?,
    })
}

fn type_url(o: &Obj) -> Result<&str, GatewayError> {
    o.get("@type")
        .and_then(Value::as_str)
        .ok_or_else(|| GatewayError::invalid("an Any without @type"))
}

fn any(type_url: &str, m: &impl Message) -> Any {
    Any {
        type_url: type_url.to_string(),
        value: m.encode_to_vec(),
    }
}

/// A transaction message from its JSON `Any`.
pub fn msg(o: &Obj) -> Result<Any, GatewayError> {
    let url = type_url(o)?;
    Ok(match url {
        "/cosmwasm.wasm.v1.MsgExecuteContract" => any(
            url,
            &wasm::MsgExecuteContract {
                sender: string(o, "sender")?,
                contract: string(o, "contract")?,
                msg: raw_json(o, "msg")?,
                funds: coins(o, "funds")?,
            },
        ),
        "/cosmwasm.wasm.v1.MsgInstantiateContract" => any(
            url,
            &wasm::MsgInstantiateContract {
                sender: string(o, "sender")?,
                admin: string(o, "admin")?,
                code_id: uint(o, "code_id")?,
                label: string(o, "label")?,
                msg: raw_json(o, "msg")?,
                funds: coins(o, "funds")?,
            },
        ),
        "/cosmwasm.wasm.v1.MsgInstantiateContract2" => any(
            url,
            &wasm::MsgInstantiateContract2 {
                sender: string(o, "sender")?,
                admin: string(o, "admin")?,
                code_id: uint(o, "code_id")?,
                label: string(o, "label")?,
                msg: raw_json(o, "msg")?,
                funds: coins(o, "funds")?,
                salt: bytes(o, "salt")?.unwrap_or_default(),
                fix_msg: boolean(o, "fix_msg")?,
            },
        ),
        "/cosmwasm.wasm.v1.MsgMigrateContract" => any(
            url,
            &wasm::MsgMigrateContract {
                sender: string(o, "sender")?,
                contract: string(o, "contract")?,
                code_id: uint(o, "code_id")?,
                msg: raw_json(o, "msg")?,
            },
        ),
        "/cosmwasm.wasm.v1.MsgStoreCode" => any(
            url,
            &wasm::MsgStoreCode {
                sender: string(o, "sender")?,
                wasm_byte_code: bytes(o, "wasm_byte_code")?.unwrap_or_default(),
                instantiate_permission: object(o, "instantiate_permission")?
                    .map(access_config)
                    .transpose()?,
            },
        ),
        "/cosmwasm.wasm.v1.MsgUpdateAdmin" => any(
            url,
            &wasm::MsgUpdateAdmin {
                sender: string(o, "sender")?,
                new_admin: string(o, "new_admin")?,
                contract: string(o, "contract")?,
            },
        ),
        "/cosmwasm.wasm.v1.MsgClearAdmin" => any(
            url,
            &wasm::MsgClearAdmin {
                sender: string(o, "sender")?,
                contract: string(o, "contract")?,
            },
        ),
        other => {
            return Err(GatewayError::invalid(format!(
                "unable to resolve type URL {other}"
            )))
        }
    })
}

fn pub_key(o: &Obj) -> Result<Any, GatewayError> {
    let url = type_url(o)?;
    let key = bytes(o, "key")?.unwrap_or_default();
    match url {
        SECP256K1_PUB_KEY => Ok(any(url, &secp256k1::PubKey { key })),
        ED25519_PUB_KEY => Ok(any(url, &ed25519::PubKey { key })),
        other => Err(GatewayError::invalid(format!(
            "unable to resolve type URL {other}"
        ))),
    }
}

fn sign_mode(v: Option<&Value>) -> Result<i32, GatewayError> {
    match v {
        None => Ok(0),
        Some(Value::String(s)) => SignMode::from_str_name(s)
            .map(|m| m as i32)
            .ok_or_else(|| invalid("mode", format!("unknown sign mode {s}"))),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| invalid("mode", n)),
        Some(v) => Err(invalid("mode", v)),
    }
}

/// A `ModeInfo`; `depth` bounds the nesting of multisig modes a hostile body may send.
fn mode_info(o: &Obj, depth: usize) -> Result<ModeInfo, GatewayError> {
    if depth > 8 {
        return Err(GatewayError::invalid("mode_info nested too deeply"));
    }
    let sum = if let Some(single) = object(o, "single")? {
        Some(mode_info::Sum::Single(mode_info::Single {
            mode: sign_mode(field(single, "mode"))?,
        }))
    } else if let Some(multi) = object(o, "multi")? {
        Some(mode_info::Sum::Multi(mode_info::Multi {
            bitarray: object(multi, "bitarray")?
                .map(|b| {
                    Ok::<_, GatewayError>(CompactBitArray {
                        extra_bits_stored: uint32(b, "extra_bits_stored")?,
                        elems: bytes(b, "elems")?.unwrap_or_default(),
                    })
                })
                .transpose()?,
            mode_infos: objects(multi, "mode_infos")?
                .into_iter()
                .map(|m| mode_info(m, depth + 1))
                .collect::<Result<_, _>>()?,
        }))
    } else {
        None
    };
    Ok(ModeInfo { sum })
}

/// The protobuf encoding of a JSON `Tx` — the same bytes as the `TxRaw` of its body and auth
/// info encoded, which is what the SDK simulates.
pub fn tx(o: &Obj) -> Result<Vec<u8>, GatewayError> {
    let body = match object(o, "body")? {
        Some(b) => TxBody {
            messages: objects(b, "messages")?
                .into_iter()
                .map(msg)
                .collect::<Result<_, _>>()?,
            memo: string(b, "memo")?,
            timeout_height: uint(b, "timeout_height")?,
            extension_options: objects(b, "extension_options")?
                .into_iter()
                .map(msg)
                .collect::<Result<_, _>>()?,
            non_critical_extension_options: objects(b, "non_critical_extension_options")?
                .into_iter()
                .map(msg)
                .collect::<Result<_, _>>()?,
        },
        None => TxBody::default(),
    };
    let auth_info = match object(o, "auth_info")? {
        Some(a) => {
            let signer_infos = objects(a, "signer_infos")?
                .into_iter()
                .map(|s| {
                    Ok(SignerInfo {
                        public_key: object(s, "public_key")?.map(pub_key).transpose()?,
                        mode_info: object(s, "mode_info")?
                            .map(|m| mode_info(m, 0))
                            .transpose()?,
                        sequence: uint(s, "sequence")?,
                    })
                })
                .collect::<Result<_, GatewayError>>()?;
            let fee = object(a, "fee")?
                .map(|f| {
                    Ok::<_, GatewayError>(Fee {
                        amount: coins(f, "amount")?,
                        gas_limit: uint(f, "gas_limit")?,
                        payer: string(f, "payer")?,
                        granter: string(f, "granter")?,
                    })
                })
                .transpose()?;
            // `tip` (deprecated) stays unset.
            AuthInfo {
                signer_infos,
                fee,
                ..Default::default()
            }
        }
        None => AuthInfo::default(),
    };
    let signatures = array(o, "signatures")?
        .iter()
        .map(|s| {
            s.as_str()
                .and_then(decode_base64)
                .ok_or_else(|| invalid("signatures", "illegal base64 data"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Tx {
        body: Some(body),
        auth_info: Some(auth_info),
        signatures,
    }
    .encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
    use serde_json::json;

    #[test]
    fn a_cosmpy_style_tx_in_camel_case_becomes_the_tx_bytes() {
        let v = json!({
            "body": {"messages": [{"@type": "/cosmwasm.wasm.v1.MsgExecuteContract",
                "sender": "usage1s", "contract": "usage1c", "msg": {"ping": {}}}]},
            "authInfo": {"signerInfos": [{"publicKey": {"@type": SECP256K1_PUB_KEY, "key": "AQI="},
                "modeInfo": {"single": {"mode": "SIGN_MODE_DIRECT"}}, "sequence": "3"}],
                "fee": {"gasLimit": "200000"}},
            "signatures": ["AAAA"],
        });
        let bytes = tx(v.as_object().unwrap()).unwrap();
        let raw = TxRaw::decode(bytes.as_slice()).unwrap();
        let rendered = crate::render::tx(&raw.encode_to_vec()).unwrap();
        assert_eq!(rendered["body"]["messages"][0]["msg"], json!({"ping": {}}));
        assert_eq!(rendered["auth_info"]["signer_infos"][0]["sequence"], "3");
        assert_eq!(
            rendered["auth_info"]["signer_infos"][0]["mode_info"]["single"]["mode"],
            "SIGN_MODE_DIRECT"
        );
        assert_eq!(rendered["auth_info"]["fee"]["gas_limit"], "200000");
        assert_eq!(rendered["signatures"], json!(["AAAA"]));
    }

    #[test]
    fn unknown_types_and_wrong_kinds_are_invalid_arguments() {
        let unknown = json!({"body": {"messages": [{"@type": "/cosmos.bank.v1beta1.MsgSend"}]}});
        assert!(tx(unknown.as_object().unwrap()).is_err());
        let wrong = json!({"body": {"memo": 5}});
        assert!(tx(wrong.as_object().unwrap()).is_err());
        let mut mode = json!({"multi": {}});
        for _ in 0..12 {
            mode = json!({"multi": {"modeInfos": [mode]}});
        }
        let deep = json!({"authInfo": {"signerInfos": [{"modeInfo": mode}]}});
        assert!(tx(deep.as_object().unwrap()).is_err());
    }
}
