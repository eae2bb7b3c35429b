//! Protobuf wire-level check for unknown fields, the SDK's `unknownproto.RejectUnknownFields`.
//!
//! prost silently skips fields it does not know. The SDK refuses them instead, because a field a
//! newer client sets (say `TxBody.unordered` or `timeout_timestamp` of SDK 0.53) would otherwise be
//! ignored while the signer meant something by it. Fields whose number has bit 11 set (1024 and
//! above) are "non-critical" and may be skipped where the SDK allows it (inside `TxBody`).
//!
//! The schemas below list, per message, every field number this chain understands. `Any` values
//! are checked as `Any` here and then again against the concrete message when they are decoded.

use crate::error::AuthError;

/// How a known field is encoded.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Wire type 0.
    Varint,
    /// Wire type 2, opaque (string, bytes, or a message checked elsewhere).
    Len,
    /// Wire type 2, a nested message checked recursively.
    Msg(&'static Schema),
}

/// The known fields of one protobuf message.
pub(crate) struct Schema {
    pub name: &'static str,
    pub fields: &'static [(u64, Kind)],
}

/// Field numbers with this bit set are non-critical (ADR-020).
const NON_CRITICAL_BIT: u64 = 1 << 10;

use Kind::{Len, Msg, Varint};

pub(crate) const ANY: Schema = Schema {
    name: "google.protobuf.Any",
    fields: &[(1, Len), (2, Len)],
};
const COIN: Schema = Schema {
    name: "cosmos.base.v1beta1.Coin",
    fields: &[(1, Len), (2, Len)],
};
pub(crate) const TX_BODY: Schema = Schema {
    name: "cosmos.tx.v1beta1.TxBody",
    fields: &[
        (1, Msg(&ANY)),
        (2, Len),
        (3, Varint),
        (1023, Msg(&ANY)),
        (2047, Msg(&ANY)),
    ],
};
const SINGLE: Schema = Schema {
    name: "cosmos.tx.v1beta1.ModeInfo.Single",
    fields: &[(1, Varint)],
};
const MODE_INFO: Schema = Schema {
    name: "cosmos.tx.v1beta1.ModeInfo",
    // `multi` (2) is refused after decoding, so it is not looked into.
    fields: &[(1, Msg(&SINGLE)), (2, Len)],
};
const SIGNER_INFO: Schema = Schema {
    name: "cosmos.tx.v1beta1.SignerInfo",
    fields: &[(1, Msg(&ANY)), (2, Msg(&MODE_INFO)), (3, Varint)],
};
const FEE: Schema = Schema {
    name: "cosmos.tx.v1beta1.Fee",
    fields: &[(1, Msg(&COIN)), (2, Varint), (3, Len), (4, Len)],
};
const TIP: Schema = Schema {
    name: "cosmos.tx.v1beta1.Tip",
    fields: &[(1, Msg(&COIN)), (2, Len)],
};
pub(crate) const AUTH_INFO: Schema = Schema {
    name: "cosmos.tx.v1beta1.AuthInfo",
    fields: &[(1, Msg(&SIGNER_INFO)), (2, Msg(&FEE)), (3, Msg(&TIP))],
};
pub(crate) const SECP256K1_PUB_KEY: Schema = Schema {
    name: "cosmos.crypto.secp256k1.PubKey",
    fields: &[(1, Len)],
};
pub(crate) const MSG_EXECUTE_CONTRACT: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgExecuteContract",
    fields: &[(1, Len), (2, Len), (3, Len), (5, Msg(&COIN))],
};
pub(crate) const MSG_INSTANTIATE_CONTRACT: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgInstantiateContract",
    fields: &[
        (1, Len),
        (2, Len),
        (3, Varint),
        (4, Len),
        (5, Len),
        (6, Msg(&COIN)),
    ],
};
pub(crate) const MSG_INSTANTIATE_CONTRACT2: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgInstantiateContract2",
    fields: &[
        (1, Len),
        (2, Len),
        (3, Varint),
        (4, Len),
        (5, Len),
        (6, Msg(&COIN)),
        (7, Len),
        (8, Varint),
    ],
};
pub(crate) const MSG_MIGRATE_CONTRACT: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgMigrateContract",
    fields: &[(1, Len), (2, Len), (3, Varint), (4, Len)],
};
const ACCESS_CONFIG: Schema = Schema {
    name: "cosmwasm.wasm.v1.AccessConfig",
    fields: &[(1, Varint), (3, Len)],
};
pub(crate) const MSG_STORE_CODE: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgStoreCode",
    fields: &[(1, Len), (2, Len), (5, Msg(&ACCESS_CONFIG))],
};
pub(crate) const MSG_UPDATE_ADMIN: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgUpdateAdmin",
    fields: &[(1, Len), (2, Len), (3, Len)],
};
pub(crate) const MSG_CLEAR_ADMIN: Schema = Schema {
    name: "cosmwasm.wasm.v1.MsgClearAdmin",
    fields: &[(1, Len), (3, Len)],
};

/// Refuses a field of `buf` that `schema` does not list (unless it is non-critical and
/// `allow_non_critical`), and a known field with the wrong wire type. Never panics: every read is
/// bounds-checked and nesting is bounded by the (static, acyclic) schemas.
pub(crate) fn check_known_fields(
    buf: &[u8],
    schema: &Schema,
    allow_non_critical: bool,
) -> Result<(), AuthError> {
    let malformed = || AuthError::Decode {
        what: schema.name,
        reason: "malformed protobuf".into(),
    };
    let mut rest = buf;
    while !rest.is_empty() {
        let tag = read_varint(&mut rest).ok_or_else(malformed)?;
        let field = tag >> 3;
        let wire_type = tag & 7;
        if field == 0 {
            return Err(malformed());
        }
        match schema.fields.iter().find(|(number, _)| *number == field) {
            Some((_, kind)) => match (kind, wire_type) {
                (Kind::Varint, 0) => {
                    read_varint(&mut rest).ok_or_else(malformed)?;
                }
                (Kind::Len, 2) => {
                    read_len_delimited(&mut rest).ok_or_else(malformed)?;
                }
                (Kind::Msg(inner), 2) => {
                    let value = read_len_delimited(&mut rest).ok_or_else(malformed)?;
                    check_known_fields(value, inner, allow_non_critical)?;
                }
                _ => return Err(malformed()),
            },
            None if allow_non_critical && field & NON_CRITICAL_BIT != 0 => {
                skip_value(&mut rest, wire_type).ok_or_else(malformed)?;
            }
            None => {
                return Err(AuthError::UnknownField {
                    message: schema.name,
                    field,
                })
            }
        }
    }
    Ok(())
}

fn read_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for i in 0..10u32 {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f).checked_shl(7 * i)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn read_len_delimited<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(read_varint(buf)?).ok()?;
    if len > buf.len() {
        return None;
    }
    let (value, rest) = buf.split_at(len);
    *buf = rest;
    Some(value)
}

fn skip_value(buf: &mut &[u8], wire_type: u64) -> Option<()> {
    let fixed = |buf: &mut &[u8], n: usize| {
        if n > buf.len() {
            return None;
        }
        *buf = buf.split_at(n).1;
        Some(())
    };
    match wire_type {
        0 => read_varint(buf).map(|_| ()),
        1 => fixed(buf, 8),
        2 => read_len_delimited(buf).map(|_| ()),
        5 => fixed(buf, 4),
        // groups (3, 4) are not used by any Cosmos message
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_field_passes_and_an_unknown_critical_one_is_refused() {
        // field 2 (memo) = "hi", then field 4 varint 1 (SDK 0.53 `unordered`)
        let ok = [0x12, 0x02, b'h', b'i'];
        assert!(check_known_fields(&ok, &TX_BODY, true).is_ok());
        let unordered = [0x12, 0x02, b'h', b'i', 0x20, 0x01];
        assert_eq!(
            check_known_fields(&unordered, &TX_BODY, true),
            Err(AuthError::UnknownField {
                message: "cosmos.tx.v1beta1.TxBody",
                field: 4
            })
        );
    }

    #[test]
    fn a_non_critical_unknown_field_is_skipped_only_where_allowed() {
        // field 1025, varint 7: tag = 1025 << 3 | 0 = 8200 = 0x88 0x40
        let buf = [0x88, 0x40, 0x07];
        assert!(check_known_fields(&buf, &TX_BODY, true).is_ok());
        assert!(matches!(
            check_known_fields(&buf, &AUTH_INFO, false),
            Err(AuthError::UnknownField { field: 1025, .. })
        ));
    }

    #[test]
    fn truncated_input_and_wrong_wire_types_are_malformed() {
        assert!(matches!(
            check_known_fields(&[0x12, 0x05, b'a'], &TX_BODY, true),
            Err(AuthError::Decode { .. })
        ));
        // memo (2) sent as a varint
        assert!(matches!(
            check_known_fields(&[0x10, 0x01], &TX_BODY, true),
            Err(AuthError::Decode { .. })
        ));
        // an 11-byte varint
        assert!(matches!(
            check_known_fields(
                &[0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                &TX_BODY,
                true
            ),
            Err(AuthError::Decode { .. })
        ));
    }
}
