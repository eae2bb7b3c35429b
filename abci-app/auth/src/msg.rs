//! The messages a transaction may carry (`cosmwasm.wasm.v1`), decoded from their `Any` and
//! validated as wasmd's `ValidateBasic` does.

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasm;
use cosmos_sdk_proto::Any;
use prost::Message;

use crate::address::validate_address_field;
use crate::error::{clip, AuthError, CoinError};
use crate::wire::{self, check_known_fields, Schema};
use crate::{MAX_LABEL_BYTES, MAX_SALT_BYTES, MAX_WASM_CODE_BYTES};

/// Type URL of [`Msg::ExecuteContract`].
pub const MSG_EXECUTE_CONTRACT: &str = "/cosmwasm.wasm.v1.MsgExecuteContract";
/// Type URL of [`Msg::InstantiateContract`].
pub const MSG_INSTANTIATE_CONTRACT: &str = "/cosmwasm.wasm.v1.MsgInstantiateContract";
/// Type URL of [`Msg::InstantiateContract2`].
pub const MSG_INSTANTIATE_CONTRACT2: &str = "/cosmwasm.wasm.v1.MsgInstantiateContract2";
/// Type URL of [`Msg::MigrateContract`].
pub const MSG_MIGRATE_CONTRACT: &str = "/cosmwasm.wasm.v1.MsgMigrateContract";
/// Type URL of [`Msg::StoreCode`].
pub const MSG_STORE_CODE: &str = "/cosmwasm.wasm.v1.MsgStoreCode";
/// Type URL of [`Msg::UpdateAdmin`].
pub const MSG_UPDATE_ADMIN: &str = "/cosmwasm.wasm.v1.MsgUpdateAdmin";
/// Type URL of [`Msg::ClearAdmin`].
pub const MSG_CLEAR_ADMIN: &str = "/cosmwasm.wasm.v1.MsgClearAdmin";

/// An amount of one denom. Amounts are 128-bit (the SDK allows 256 bits; no amount on this chain
/// comes near 2^128, and a larger one is refused rather than truncated).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coin {
    /// The denom, e.g. `uusage`.
    pub denom: String,
    /// The amount in the denom's smallest unit.
    pub amount: u128,
}

/// Who may instantiate a stored code (wasmd's `AccessConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstantiatePermission {
    /// Nobody.
    Nobody,
    /// Everybody.
    Everybody,
    /// Any of these addresses (non-empty, valid, no duplicates).
    AnyOfAddresses(Vec<String>),
}

/// A decoded, validated message. Addresses are validated canonical Bech32 strings; contract
/// messages are the JSON bytes exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// `/cosmwasm.wasm.v1.MsgExecuteContract`: call a contract's `execute`.
    ExecuteContract {
        /// The signer.
        sender: String,
        /// The contract to call.
        contract: String,
        /// JSON message, verbatim.
        msg: Vec<u8>,
        /// Coins sent along (valid, sorted, positive).
        funds: Vec<Coin>,
    },
    /// `/cosmwasm.wasm.v1.MsgInstantiateContract`: create a contract from stored code.
    InstantiateContract {
        /// The signer.
        sender: String,
        /// Admin allowed to migrate the contract; `None` for an immutable contract.
        admin: Option<String>,
        /// Stored code to instantiate (non-zero).
        code_id: u64,
        /// Human-readable label (non-empty, trimmed, at most [`MAX_LABEL_BYTES`]).
        label: String,
        /// JSON instantiate message, verbatim.
        msg: Vec<u8>,
        /// Coins sent along.
        funds: Vec<Coin>,
    },
    /// `/cosmwasm.wasm.v1.MsgInstantiateContract2`: instantiate at a predictable address.
    InstantiateContract2 {
        /// The signer.
        sender: String,
        /// Admin allowed to migrate the contract; `None` for an immutable contract.
        admin: Option<String>,
        /// Stored code to instantiate (non-zero).
        code_id: u64,
        /// Human-readable label.
        label: String,
        /// JSON instantiate message, verbatim.
        msg: Vec<u8>,
        /// Coins sent along.
        funds: Vec<Coin>,
        /// Salt of the address derivation (1 to [`MAX_SALT_BYTES`] bytes).
        salt: Vec<u8>,
        /// Whether the message is part of the address derivation.
        fix_msg: bool,
    },
    /// `/cosmwasm.wasm.v1.MsgMigrateContract`: move a contract to another code (admin only).
    MigrateContract {
        /// The signer (must be the contract's admin; checked by the application).
        sender: String,
        /// The contract to migrate.
        contract: String,
        /// The new code (non-zero).
        code_id: u64,
        /// JSON migrate message, verbatim.
        msg: Vec<u8>,
    },
    /// `/cosmwasm.wasm.v1.MsgStoreCode`: upload wasm byte code.
    StoreCode {
        /// The signer (the application decides who may upload).
        sender: String,
        /// The wasm code, verbatim (possibly gzip-compressed, as wasmd allows), at most
        /// [`MAX_WASM_CODE_BYTES`].
        wasm_byte_code: Vec<u8>,
        /// Who may instantiate it; `None` means the chain's default.
        instantiate_permission: Option<InstantiatePermission>,
    },
    /// `/cosmwasm.wasm.v1.MsgUpdateAdmin`: hand the admin role to another address.
    UpdateAdmin {
        /// The signer (must be the current admin; checked by the application).
        sender: String,
        /// The new admin (differs from `sender`).
        new_admin: String,
        /// The contract.
        contract: String,
    },
    /// `/cosmwasm.wasm.v1.MsgClearAdmin`: make a contract immutable.
    ClearAdmin {
        /// The signer (must be the current admin; checked by the application).
        sender: String,
        /// The contract.
        contract: String,
    },
}

impl Msg {
    /// The message's type URL (the `action` of its `message` event).
    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::ExecuteContract { .. } => MSG_EXECUTE_CONTRACT,
            Msg::InstantiateContract { .. } => MSG_INSTANTIATE_CONTRACT,
            Msg::InstantiateContract2 { .. } => MSG_INSTANTIATE_CONTRACT2,
            Msg::MigrateContract { .. } => MSG_MIGRATE_CONTRACT,
            Msg::StoreCode { .. } => MSG_STORE_CODE,
            Msg::UpdateAdmin { .. } => MSG_UPDATE_ADMIN,
            Msg::ClearAdmin { .. } => MSG_CLEAR_ADMIN,
        }
    }

    /// The address that must sign the message.
    pub fn sender(&self) -> &str {
        match self {
            Msg::ExecuteContract { sender, .. }
            | Msg::InstantiateContract { sender, .. }
            | Msg::InstantiateContract2 { sender, .. }
            | Msg::MigrateContract { sender, .. }
            | Msg::StoreCode { sender, .. }
            | Msg::UpdateAdmin { sender, .. }
            | Msg::ClearAdmin { sender, .. } => sender,
        }
    }

    /// Coins the message moves from the sender to a contract (empty for admin messages).
    pub fn funds(&self) -> &[Coin] {
        match self {
            Msg::ExecuteContract { funds, .. }
            | Msg::InstantiateContract { funds, .. }
            | Msg::InstantiateContract2 { funds, .. } => funds,
            _ => &[],
        }
    }
}

/// Decodes and validates one message of a transaction body.
///
/// # Errors
/// [`AuthError::UnknownMessageType`] for a type URL not listed above, decoding errors, and the
/// validation errors of wasmd's `ValidateBasic` for the message.
pub fn decode_msg(any: &Any) -> Result<Msg, AuthError> {
    match any.type_url.as_str() {
        MSG_EXECUTE_CONTRACT => {
            let m: wasm::MsgExecuteContract =
                decode_checked(&any.value, &wire::MSG_EXECUTE_CONTRACT)?;
            let sender = address(m.sender, "sender")?;
            let contract = address(m.contract, "contract")?;
            let funds = funds(m.funds)?;
            check_contract_msg(&m.msg)?;
            Ok(Msg::ExecuteContract {
                sender,
                contract,
                msg: m.msg,
                funds,
            })
        }
        MSG_INSTANTIATE_CONTRACT => {
            let m: wasm::MsgInstantiateContract =
                decode_checked(&any.value, &wire::MSG_INSTANTIATE_CONTRACT)?;
            let sender = address(m.sender, "sender")?;
            check_code_id(m.code_id)?;
            check_label(&m.label)?;
            let funds = funds(m.funds)?;
            let admin = optional_address(m.admin, "admin")?;
            check_contract_msg(&m.msg)?;
            Ok(Msg::InstantiateContract {
                sender,
                admin,
                code_id: m.code_id,
                label: m.label,
                msg: m.msg,
                funds,
            })
        }
        MSG_INSTANTIATE_CONTRACT2 => {
            let m: wasm::MsgInstantiateContract2 =
                decode_checked(&any.value, &wire::MSG_INSTANTIATE_CONTRACT2)?;
            let sender = address(m.sender, "sender")?;
            check_code_id(m.code_id)?;
            check_label(&m.label)?;
            let funds = funds(m.funds)?;
            let admin = optional_address(m.admin, "admin")?;
            check_contract_msg(&m.msg)?;
            if m.salt.is_empty() {
                return Err(AuthError::SaltEmpty);
            }
            if m.salt.len() > MAX_SALT_BYTES {
                return Err(AuthError::SaltTooLong {
                    max: MAX_SALT_BYTES,
                });
            }
            Ok(Msg::InstantiateContract2 {
                sender,
                admin,
                code_id: m.code_id,
                label: m.label,
                msg: m.msg,
                funds,
                salt: m.salt,
                fix_msg: m.fix_msg,
            })
        }
        MSG_MIGRATE_CONTRACT => {
            let m: wasm::MsgMigrateContract =
                decode_checked(&any.value, &wire::MSG_MIGRATE_CONTRACT)?;
            check_code_id(m.code_id)?;
            let sender = address(m.sender, "sender")?;
            let contract = address(m.contract, "contract")?;
            check_contract_msg(&m.msg)?;
            Ok(Msg::MigrateContract {
                sender,
                contract,
                code_id: m.code_id,
                msg: m.msg,
            })
        }
        MSG_STORE_CODE => {
            let m: wasm::MsgStoreCode = decode_checked(&any.value, &wire::MSG_STORE_CODE)?;
            let sender = address(m.sender, "sender")?;
            if m.wasm_byte_code.is_empty() {
                return Err(AuthError::WasmCodeEmpty);
            }
            if m.wasm_byte_code.len() > MAX_WASM_CODE_BYTES {
                return Err(AuthError::WasmCodeTooLarge {
                    max: MAX_WASM_CODE_BYTES,
                });
            }
            let instantiate_permission = m
                .instantiate_permission
                .map(instantiate_permission)
                .transpose()?;
            Ok(Msg::StoreCode {
                sender,
                wasm_byte_code: m.wasm_byte_code,
                instantiate_permission,
            })
        }
        MSG_UPDATE_ADMIN => {
            let m: wasm::MsgUpdateAdmin = decode_checked(&any.value, &wire::MSG_UPDATE_ADMIN)?;
            let sender = address(m.sender, "sender")?;
            let contract = address(m.contract, "contract")?;
            let new_admin = address(m.new_admin, "new admin")?;
            if new_admin == sender {
                return Err(AuthError::NewAdminIsSender);
            }
            Ok(Msg::UpdateAdmin {
                sender,
                new_admin,
                contract,
            })
        }
        MSG_CLEAR_ADMIN => {
            let m: wasm::MsgClearAdmin = decode_checked(&any.value, &wire::MSG_CLEAR_ADMIN)?;
            let sender = address(m.sender, "sender")?;
            let contract = address(m.contract, "contract")?;
            Ok(Msg::ClearAdmin { sender, contract })
        }
        other => Err(AuthError::UnknownMessageType {
            type_url: clip(other, 128),
        }),
    }
}

/// The wire schema of the message with `type_url`, if the chain knows it.
pub(crate) fn msg_schema(type_url: &str) -> Option<&'static Schema> {
    match type_url {
        MSG_EXECUTE_CONTRACT => Some(&wire::MSG_EXECUTE_CONTRACT),
        MSG_INSTANTIATE_CONTRACT => Some(&wire::MSG_INSTANTIATE_CONTRACT),
        MSG_INSTANTIATE_CONTRACT2 => Some(&wire::MSG_INSTANTIATE_CONTRACT2),
        MSG_MIGRATE_CONTRACT => Some(&wire::MSG_MIGRATE_CONTRACT),
        MSG_STORE_CODE => Some(&wire::MSG_STORE_CODE),
        MSG_UPDATE_ADMIN => Some(&wire::MSG_UPDATE_ADMIN),
        MSG_CLEAR_ADMIN => Some(&wire::MSG_CLEAR_ADMIN),
        _ => None,
    }
}

/// Refuses unknown (critical) fields, then decodes with prost.
pub(crate) fn decode_checked<M: Message + Default>(
    bytes: &[u8],
    schema: &'static Schema,
) -> Result<M, AuthError> {
    check_known_fields(bytes, schema, true)?;
    M::decode(bytes).map_err(|e| AuthError::Decode {
        what: schema.name,
        reason: e.to_string(),
    })
}

fn address(text: String, field: &'static str) -> Result<String, AuthError> {
    validate_address_field(&text, field)?;
    Ok(text)
}

fn optional_address(text: String, field: &'static str) -> Result<Option<String>, AuthError> {
    if text.is_empty() {
        Ok(None)
    } else {
        address(text, field).map(Some)
    }
}

fn check_code_id(code_id: u64) -> Result<(), AuthError> {
    if code_id == 0 {
        Err(AuthError::CodeIdRequired)
    } else {
        Ok(())
    }
}

/// wasmd's `ValidateLabel`: non-empty, at most [`MAX_LABEL_BYTES`] bytes, trimmed.
fn check_label(label: &str) -> Result<(), AuthError> {
    if label.is_empty() {
        return Err(AuthError::LabelEmpty);
    }
    if label.len() > MAX_LABEL_BYTES {
        return Err(AuthError::LabelTooLong {
            max: MAX_LABEL_BYTES,
        });
    }
    if label.trim() != label {
        return Err(AuthError::LabelNotTrimmed);
    }
    Ok(())
}

/// wasmd's `RawContractMessage.ValidateBasic`: non-empty, valid JSON (any JSON value).
fn check_contract_msg(msg: &[u8]) -> Result<(), AuthError> {
    if msg.is_empty() {
        return Err(AuthError::EmptyContractMsg);
    }
    // serde_json stops at a nesting depth of 128, so deep input cannot exhaust the stack.
    serde_json::from_slice::<serde::de::IgnoredAny>(msg)
        .map(|_| ())
        .map_err(|_| AuthError::InvalidContractMsg)
}

fn funds(coins: Vec<ProtoCoin>) -> Result<Vec<Coin>, AuthError> {
    let coins = parse_coins(coins).map_err(|reason| AuthError::InvalidFunds { reason })?;
    check_coins_valid(&coins).map_err(|reason| AuthError::InvalidFunds { reason })?;
    Ok(coins)
}

/// Parses denoms and amounts (the SDK refuses a malformed amount while decoding).
pub(crate) fn parse_coins(coins: Vec<ProtoCoin>) -> Result<Vec<Coin>, CoinError> {
    coins
        .into_iter()
        .map(|c| {
            if !is_valid_denom(&c.denom) {
                return Err(CoinError::InvalidDenom {
                    denom: clip(&c.denom, 128),
                });
            }
            let invalid = || CoinError::InvalidAmount {
                denom: c.denom.clone(),
                amount: clip(&c.amount, 64),
            };
            if c.amount.is_empty() || !c.amount.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            let amount = c.amount.parse::<u128>().map_err(|_| invalid())?;
            Ok(Coin {
                denom: c.denom,
                amount,
            })
        })
        .collect()
}

/// The SDK's `Coins.IsValid`: every amount positive, denoms strictly ascending (so no duplicates).
pub(crate) fn check_coins_valid(coins: &[Coin]) -> Result<(), CoinError> {
    let mut previous: Option<&str> = None;
    for coin in coins {
        if coin.amount == 0 {
            return Err(CoinError::NotPositive {
                denom: coin.denom.clone(),
            });
        }
        if previous.is_some_and(|p| p >= coin.denom.as_str()) {
            return Err(CoinError::NotSorted {
                denom: coin.denom.clone(),
            });
        }
        previous = Some(&coin.denom);
    }
    Ok(())
}

/// The SDK's default denom rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn is_valid_denom(denom: &str) -> bool {
    let bytes = denom.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && (2..=127).contains(&rest.len())
        && rest
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'))
}

/// wasmd's `AccessConfig.ValidateBasic`.
fn instantiate_permission(config: wasm::AccessConfig) -> Result<InstantiatePermission, AuthError> {
    let invalid = |reason| AuthError::InvalidInstantiatePermission { reason };
    match wasm::AccessType::try_from(config.permission) {
        Ok(wasm::AccessType::Nobody | wasm::AccessType::Everybody)
            if !config.addresses.is_empty() =>
        {
            Err(invalid("addresses field set"))
        }
        Ok(wasm::AccessType::Nobody) => Ok(InstantiatePermission::Nobody),
        Ok(wasm::AccessType::Everybody) => Ok(InstantiatePermission::Everybody),
        Ok(wasm::AccessType::AnyOfAddresses) => {
            if config.addresses.is_empty() {
                return Err(invalid("addresses: empty"));
            }
            for (i, address) in config.addresses.iter().enumerate() {
                validate_address_field(address, "instantiate permission address")?;
                if config.addresses.iter().take(i).any(|a| a == address) {
                    return Err(invalid("duplicate address"));
                }
            }
            Ok(InstantiatePermission::AnyOfAddresses(config.addresses))
        }
        Ok(wasm::AccessType::Unspecified) => Err(invalid("type: empty")),
        Err(_) => Err(invalid("unknown type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::humanize;

    fn any<M: Message>(type_url: &str, m: &M) -> Any {
        Any {
            type_url: type_url.into(),
            value: m.encode_to_vec(),
        }
    }

    fn coin(denom: &str, amount: &str) -> ProtoCoin {
        ProtoCoin {
            denom: denom.into(),
            amount: amount.into(),
        }
    }

    fn execute(funds: Vec<ProtoCoin>, msg: &[u8]) -> wasm::MsgExecuteContract {
        wasm::MsgExecuteContract {
            sender: humanize(&[1; 20]).unwrap(),
            contract: humanize(&[2; 32]).unwrap(),
            msg: msg.to_vec(),
            funds,
        }
    }

    #[test]
    fn an_execute_message_decodes_with_its_json_verbatim() {
        let raw = br#"{ "ping" : {} }"#;
        let msg = decode_msg(&any(
            MSG_EXECUTE_CONTRACT,
            &execute(vec![coin("uusage", "5")], raw),
        ))
        .unwrap();
        assert_eq!(
            msg,
            Msg::ExecuteContract {
                sender: humanize(&[1; 20]).unwrap(),
                contract: humanize(&[2; 32]).unwrap(),
                msg: raw.to_vec(),
                funds: vec![Coin {
                    denom: "uusage".into(),
                    amount: 5
                }],
            }
        );
        assert_eq!(msg.type_url(), MSG_EXECUTE_CONTRACT);
    }

    #[test]
    fn invalid_json_and_empty_messages_are_refused_with_wasm_codes() {
        let err = decode_msg(&any(MSG_EXECUTE_CONTRACT, &execute(vec![], b"{oops"))).unwrap_err();
        assert_eq!(err, AuthError::InvalidContractMsg);
        assert_eq!(err.abci_code(), ("wasm", 14));
        let err = decode_msg(&any(MSG_EXECUTE_CONTRACT, &execute(vec![], b""))).unwrap_err();
        assert_eq!(err.abci_code(), ("wasm", 12));
    }

    #[test]
    fn unsorted_duplicate_zero_and_malformed_funds_are_refused() {
        for funds in [
            vec![coin("uusage", "1"), coin("aaa", "1")],
            vec![coin("uusage", "1"), coin("uusage", "1")],
            vec![coin("uusage", "0")],
            vec![coin("uusage", "-1")],
            vec![coin("uusage", "+1")],
            vec![coin("uusage", "")],
            vec![coin("uusage", "340282366920938463463374607431768211456")],
            vec![coin("u", "1")],
            vec![coin("1abc", "1")],
        ] {
            let err =
                decode_msg(&any(MSG_EXECUTE_CONTRACT, &execute(funds.clone(), b"{}"))).unwrap_err();
            assert!(
                matches!(err, AuthError::InvalidFunds { .. }),
                "{funds:?}: {err:?}"
            );
            assert_eq!(err.abci_code(), ("sdk", 10));
        }
    }

    #[test]
    fn an_unknown_type_url_is_refused() {
        let err = decode_msg(&Any {
            type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
            value: vec![],
        })
        .unwrap_err();
        assert_eq!(
            err,
            AuthError::UnknownMessageType {
                type_url: "/cosmos.bank.v1beta1.MsgSend".into()
            }
        );
        assert_eq!(err.abci_code(), ("sdk", 2));
    }

    #[test]
    fn a_message_with_an_unknown_field_is_refused() {
        let mut value = execute(vec![], b"{}").encode_to_vec();
        value.extend_from_slice(&[0x20, 0x01]); // field 4, reserved in MsgExecuteContract
        let err = decode_msg(&Any {
            type_url: MSG_EXECUTE_CONTRACT.into(),
            value,
        })
        .unwrap_err();
        assert!(matches!(err, AuthError::UnknownField { field: 4, .. }));
    }

    #[test]
    fn instantiate_validates_code_id_label_and_admin() {
        let base = wasm::MsgInstantiateContract {
            sender: humanize(&[1; 20]).unwrap(),
            admin: String::new(),
            code_id: 1,
            label: "usage proof".into(),
            msg: b"{}".to_vec(),
            funds: vec![],
        };
        let ok = decode_msg(&any(MSG_INSTANTIATE_CONTRACT, &base)).unwrap();
        assert!(matches!(
            ok,
            Msg::InstantiateContract {
                admin: None,
                code_id: 1,
                ..
            }
        ));
        let cases: Vec<(wasm::MsgInstantiateContract, AuthError)> = vec![
            (
                wasm::MsgInstantiateContract {
                    code_id: 0,
                    ..base.clone()
                },
                AuthError::CodeIdRequired,
            ),
            (
                wasm::MsgInstantiateContract {
                    label: String::new(),
                    ..base.clone()
                },
                AuthError::LabelEmpty,
            ),
            (
                wasm::MsgInstantiateContract {
                    label: " x".into(),
                    ..base.clone()
                },
                AuthError::LabelNotTrimmed,
            ),
            (
                wasm::MsgInstantiateContract {
                    label: "x".repeat(129),
                    ..base.clone()
                },
                AuthError::LabelTooLong { max: 128 },
            ),
        ];
        for (m, expected) in cases {
            assert_eq!(
                decode_msg(&any(MSG_INSTANTIATE_CONTRACT, &m)).unwrap_err(),
                expected
            );
        }
        let bad_admin = wasm::MsgInstantiateContract {
            admin: "nope".into(),
            ..base
        };
        assert!(matches!(
            decode_msg(&any(MSG_INSTANTIATE_CONTRACT, &bad_admin)).unwrap_err(),
            AuthError::InvalidAddress { field: "admin", .. }
        ));
    }

    #[test]
    fn store_code_validates_size_and_permission() {
        let sender = humanize(&[1; 20]).unwrap();
        let store = |code: Vec<u8>, permission: Option<wasm::AccessConfig>| wasm::MsgStoreCode {
            sender: sender.clone(),
            wasm_byte_code: code,
            instantiate_permission: permission,
        };
        assert_eq!(
            decode_msg(&any(MSG_STORE_CODE, &store(vec![], None))).unwrap_err(),
            AuthError::WasmCodeEmpty
        );
        assert_eq!(
            decode_msg(&any(
                MSG_STORE_CODE,
                &store(vec![0; MAX_WASM_CODE_BYTES + 1], None)
            ))
            .unwrap_err(),
            AuthError::WasmCodeTooLarge {
                max: MAX_WASM_CODE_BYTES
            }
        );
        let nobody_with_addresses = wasm::AccessConfig {
            permission: wasm::AccessType::Nobody as i32,
            addresses: vec![sender.clone()],
        };
        assert!(matches!(
            decode_msg(&any(
                MSG_STORE_CODE,
                &store(vec![0, 97, 115, 109], Some(nobody_with_addresses))
            ))
            .unwrap_err(),
            AuthError::InvalidInstantiatePermission { .. }
        ));
        let only_sender = wasm::AccessConfig {
            permission: wasm::AccessType::AnyOfAddresses as i32,
            addresses: vec![sender.clone()],
        };
        let msg = decode_msg(&any(
            MSG_STORE_CODE,
            &store(vec![0, 97, 115, 109], Some(only_sender)),
        ))
        .unwrap();
        assert_eq!(
            msg,
            Msg::StoreCode {
                sender: sender.clone(),
                wasm_byte_code: vec![0, 97, 115, 109],
                instantiate_permission: Some(InstantiatePermission::AnyOfAddresses(vec![sender])),
            }
        );
    }

    #[test]
    fn update_admin_to_oneself_is_refused() {
        let sender = humanize(&[1; 20]).unwrap();
        let m = wasm::MsgUpdateAdmin {
            sender: sender.clone(),
            new_admin: sender,
            contract: humanize(&[2; 32]).unwrap(),
        };
        assert_eq!(
            decode_msg(&any(MSG_UPDATE_ADMIN, &m)).unwrap_err(),
            AuthError::NewAdminIsSender
        );
    }

    #[test]
    fn denoms_follow_the_sdk_rule() {
        for ok in [
            "uusage",
            "ibc/ABC123",
            "factory/usage1x/foo",
            "a.b:c_d-e",
            "abc",
        ] {
            assert!(is_valid_denom(ok), "{ok}");
        }
        for bad in ["", "ab", "1abc", "u sage", "ü123", &"a".repeat(129)] {
            assert!(!is_valid_denom(bad), "{bad}");
        }
        assert!(is_valid_denom(&"a".repeat(128)));
    }
}
