//! `SIGN_MODE_LEGACY_AMINO_JSON` transactions signed by CosmJS (an amino-only `Secp256k1Wallet`
//! through `SigningCosmWasmClient.sign` with `createWasmAminoConverters`): the chain rebuilds the
//! exact sign doc the wallet was handed, verifies the signature over it, and refuses every
//! change to what was signed. The vectors come from `tests/wallet/make-amino-vectors.mjs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use base64::Engine as _;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode as ProtoSignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, ModeInfo, TxBody, TxRaw};
use cosmos_sdk_proto::cosmwasm::wasm::v1::MsgExecuteContract;
use cosmos_sdk_proto::Any;
use k256::ecdsa::Signature;
use prost::Message;
use serde_json::Value;
use usaged_auth::*;

struct Vector {
    name: String,
    chain_id: String,
    account_number: u64,
    tx: Vec<u8>,
    sign_doc: String,
}

fn vectors() -> Vec<Vector> {
    let file: Value = serde_json::from_str(include_str!("data/amino-json-vectors.json")).unwrap();
    file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_string(),
            chain_id: v["chain_id"].as_str().unwrap().to_string(),
            account_number: v["account_number"].as_u64().unwrap(),
            tx: base64::engine::general_purpose::STANDARD
                .decode(v["tx_base64"].as_str().unwrap())
                .unwrap(),
            sign_doc: v["sign_doc"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn vector(name: &str) -> Vector {
    vectors().into_iter().find(|v| v.name == name).unwrap()
}

/// The vector with the tricky contract message, a timeout height and a fee.
fn tricky() -> Vector {
    vector("execute-escapes-nested-unsorted-keys-timeout-fee")
}

fn pub_key(tx: &DecodedTx) -> Vec<u8> {
    tx.signer_info.pub_key.clone().unwrap()
}

fn verify(raw: &[u8], chain_id: &str, account_number: u64) -> Result<(), AuthError> {
    let tx = decode_tx(raw)?;
    verify_signature(&tx, &pub_key(&tx), chain_id, account_number)
}

/// `raw` with its body and auth info decoded, changed by `change`, and re-encoded.
fn tampered(raw: &[u8], change: impl FnOnce(&mut TxBody, &mut AuthInfo)) -> Vec<u8> {
    let mut tx = TxRaw::decode(raw).unwrap();
    let mut body = TxBody::decode(tx.body_bytes.as_slice()).unwrap();
    let mut auth_info = AuthInfo::decode(tx.auth_info_bytes.as_slice()).unwrap();
    change(&mut body, &mut auth_info);
    tx.body_bytes = body.encode_to_vec();
    tx.auth_info_bytes = auth_info.encode_to_vec();
    tx.encode_to_vec()
}

/// Changes the first message, a `MsgExecuteContract`.
fn with_execute(body: &mut TxBody, change: impl FnOnce(&mut MsgExecuteContract)) {
    let mut msg = MsgExecuteContract::decode(body.messages[0].value.as_slice()).unwrap();
    change(&mut msg);
    body.messages[0].value = msg.encode_to_vec();
}

fn set_mode(auth_info: &mut AuthInfo, mode: ProtoSignMode) {
    auth_info.signer_infos[0].mode_info = Some(ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: mode as i32,
        })),
    });
}

#[test]
fn every_cosmjs_vector_rebuilds_its_sign_doc_byte_for_byte_and_its_signature_verifies() {
    let all = vectors();
    assert_eq!(all.len(), 3);
    for v in &all {
        let tx = decode_tx(&v.tx).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(
            tx.signer_info.sign_mode,
            SignMode::LegacyAminoJson,
            "{}",
            v.name
        );
        assert_eq!(tx.signer_info.sign_mode.number(), 127);
        let rebuilt = amino_json_sign_bytes(&tx, &v.chain_id, v.account_number).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&rebuilt),
            v.sign_doc,
            "{}: sign doc",
            v.name
        );
        assert_eq!(rebuilt, v.sign_doc.as_bytes(), "{}: sign doc bytes", v.name);
        assert_eq!(
            sign_bytes(&tx, &v.chain_id, v.account_number).unwrap(),
            rebuilt
        );
        verify_signature(&tx, &pub_key(&tx), &v.chain_id, v.account_number)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));

        // and the whole ante chain accepts it for the account that signed it
        let account = Account {
            address: tx.signer.clone(),
            account_number: v.account_number,
            sequence: tx.signer_info.sequence,
            pub_key: None,
        };
        let auth = authenticate(&tx, &account, &v.chain_id, 1).unwrap();
        assert!(auth.pub_key_is_new);
    }
}

#[test]
fn the_vectors_exercise_escapes_key_order_and_every_wasm_message() {
    // Guards the fixture itself: what the vectors are meant to cover is in them.
    let doc = tricky().sign_doc;
    for needle in [
        r#""memo":"pay \u003calice\u003e \u0026 \"bob\"""#,
        r#""msg":{"9":"nine","10":"ten","":"the empty key","\u0026\u003c\u003e""#,
        r#""zeta":{"a":null,"b":[{"c":"\u003cb\u003e\u0026amp;\u003c/b\u003e","d":1},3],"y":2}"#,
        "\"\u{1F600}\":\"astral key\",\"\u{FB01}\"",
        r#""timeout_height":"1234567""#,
        r#""numbers":[0,-7,1.5,1e+21,9007199254740992,0.000001,1e-7,0]"#,
    ] {
        assert!(doc.contains(needle), "{needle} not in {doc}");
    }
    let every = vector("every-wasm-message").sign_doc;
    for name in [
        "wasm/MsgStoreCode",
        "wasm/MsgInstantiateContract\"",
        "wasm/MsgInstantiateContract2",
        "wasm/MsgMigrateContract",
        "wasm/MsgUpdateAdmin",
        "wasm/MsgClearAdmin",
    ] {
        assert!(every.contains(name), "{name}");
    }
    assert!(!vector("execute-withdrawal-zero-fee-fresh-account")
        .sign_doc
        .contains("timeout_height"));
}

type Change = Box<dyn FnOnce(&mut TxBody, &mut AuthInfo)>;

fn boxed(f: impl FnOnce(&mut TxBody, &mut AuthInfo) + 'static) -> Change {
    Box::new(f)
}

#[test]
fn a_tampered_amino_transaction_is_refused() {
    let v = tricky();
    let cases: Vec<(&str, Change)> = vec![
        (
            "memo",
            boxed(|b, _| b.memo = "pay <mallory> & \"bob\"".into()),
        ),
        (
            "a field of the contract msg",
            boxed(|b, _| {
                with_execute(b, |m| {
                    let text = String::from_utf8(m.msg.clone()).unwrap();
                    m.msg = text.replace("\"nine\"", "\"NINE\"").into_bytes();
                })
            }),
        ),
        (
            "a number of the contract msg",
            boxed(|b, _| {
                with_execute(b, |m| {
                    let text = String::from_utf8(m.msg.clone()).unwrap();
                    m.msg = text.replace("-7", "-8").into_bytes();
                })
            }),
        ),
        (
            "funds",
            boxed(|b, _| with_execute(b, |m| m.funds[1].amount = "1001".into())),
        ),
        (
            "contract",
            boxed(|b, _| {
                with_execute(b, |m| {
                    m.contract = humanize(&[7; 32]).unwrap();
                })
            }),
        ),
        ("timeout height", boxed(|b, _| b.timeout_height += 1)),
        ("timeout height removed", boxed(|b, _| b.timeout_height = 0)),
        (
            "fee amount",
            boxed(|_, a| a.fee.as_mut().unwrap().amount[0].amount = "2499".into()),
        ),
        (
            "fee removed",
            boxed(|_, a| a.fee.as_mut().unwrap().amount.clear()),
        ),
        (
            "gas",
            boxed(|_, a| a.fee.as_mut().unwrap().gas_limit = 180_001),
        ),
        ("sequence", boxed(|_, a| a.signer_infos[0].sequence = 8)),
        (
            "a second message",
            boxed(|b, _| {
                let again = b.messages[0].clone();
                b.messages.push(again);
            }),
        ),
    ];
    assert_eq!(verify(&v.tx, &v.chain_id, v.account_number), Ok(()));
    for (what, change) in cases {
        let raw = tampered(&v.tx, change);
        let tx = decode_tx(&raw).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_ne!(
            amino_json_sign_bytes(&tx, &v.chain_id, v.account_number).unwrap(),
            v.sign_doc.as_bytes(),
            "{what}"
        );
        let err =
            verify_signature(&tx, &pub_key(&tx), &v.chain_id, v.account_number).expect_err(what);
        assert!(
            matches!(err, AuthError::SignatureInvalid { .. }),
            "{what}: {err:?}"
        );
        assert_eq!(err.abci_code(), ("sdk", 4));
    }
}

#[test]
fn another_account_number_or_chain_id_is_refused() {
    let v = tricky();
    for (chain_id, account_number) in [
        (v.chain_id.as_str(), v.account_number + 1),
        (v.chain_id.as_str(), 0),
        ("usagechain-amino-2", v.account_number),
        ("", v.account_number),
    ] {
        assert!(
            matches!(
                verify(&v.tx, chain_id, account_number),
                Err(AuthError::SignatureInvalid { .. })
            ),
            "{chain_id} {account_number}"
        );
    }
}

#[test]
fn a_high_s_amino_signature_is_refused() {
    let v = tricky();
    let mut raw = TxRaw::decode(v.tx.as_slice()).unwrap();
    let low = Signature::from_slice(&raw.signatures[0]).unwrap();
    assert!(low.normalize_s().is_none(), "CosmJS signs low-S");
    let (r, s) = low.split_scalars();
    let high = Signature::from_scalars(r, -s).unwrap();
    raw.signatures = vec![high.to_bytes().to_vec()];
    let err = verify(&raw.encode_to_vec(), &v.chain_id, v.account_number).unwrap_err();
    assert_eq!(err, AuthError::HighS);
    assert_eq!(err.abci_code(), ("sdk", 4));
}

#[test]
fn an_amino_signature_does_not_verify_as_direct_nor_a_direct_one_as_amino() {
    let v = tricky();
    let as_direct = tampered(&v.tx, |_, a| set_mode(a, ProtoSignMode::Direct));
    let tx = decode_tx(&as_direct).unwrap();
    assert_eq!(tx.signer_info.sign_mode, SignMode::Direct);
    assert_eq!(
        sign_bytes(&tx, &v.chain_id, v.account_number).unwrap(),
        direct_sign_bytes(&tx, &v.chain_id, v.account_number)
    );
    assert!(matches!(
        verify(&as_direct, &v.chain_id, v.account_number),
        Err(AuthError::SignatureInvalid { .. })
    ));
}

#[test]
fn the_contract_msg_bytes_are_signed_by_meaning_not_by_spelling_as_in_the_sdk() {
    // The amino sign doc holds the message re-parsed and sorted: other key order and white space
    // in the transaction's bytes keep the signature valid (on wasmd too).
    let v = vector("execute-withdrawal-zero-fee-fresh-account");
    let reshaped = tampered(&v.tx, |b, _| {
        with_execute(b, |m| {
            m.msg = br#" { "request_withdrawal" : { "beneficiary" : "CN9988776655443322", "amount" : "1200" } } "#.to_vec();
        })
    });
    assert_eq!(verify(&reshaped, &v.chain_id, v.account_number), Ok(()));
    // Escapes are decoded before writing, as JSON.parse does.
    let escaped = tampered(&v.tx, |b, _| {
        with_execute(b, |m| {
            m.msg = br#"{"request_withdrawal":{"amount":"\u0031200","beneficiary":"CN9988776655443322"}}"#.to_vec();
        })
    });
    assert_eq!(verify(&escaped, &v.chain_id, v.account_number), Ok(()));
}

#[test]
fn a_number_spelled_otherwise_than_json_stringify_writes_it_is_refused() {
    // Numbers are kept as written rather than re-rendered through a double: `1.0` is not `1`.
    let v = tricky();
    let respelled = tampered(&v.tx, |b, _| {
        with_execute(b, |m| {
            let text = String::from_utf8(m.msg.clone()).unwrap();
            assert!(text.contains("1.5"));
            m.msg = text.replace("1.5", "1.50").into_bytes();
        })
    });
    assert!(matches!(
        verify(&respelled, &v.chain_id, v.account_number),
        Err(AuthError::SignatureInvalid { .. })
    ));
}

#[test]
fn a_repeated_key_in_an_amino_contract_msg_is_refused_with_its_own_error() {
    let v = vector("execute-withdrawal-zero-fee-fresh-account");
    let raw = tampered(&v.tx, |b, _| {
        with_execute(b, |m| {
            m.msg =
                br#"{"request_withdrawal":{"amount":"1200","amount":"9999","beneficiary":"CN1"}}"#
                    .to_vec();
        })
    });
    // The JSON is valid for wasmd's ValidateBasic, so the tx decodes ...
    let tx = decode_tx(&raw).unwrap();
    // ... but its sign doc cannot be written unambiguously.
    let err = verify_signature(&tx, &pub_key(&tx), &v.chain_id, v.account_number).unwrap_err();
    assert_eq!(
        err,
        AuthError::AminoJsonMsg {
            msg_index: 0,
            reason: AminoJsonError::DuplicateKey {
                key: "amount".into()
            }
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 4));
    assert!(
        err.log().contains("repeats the key \"amount\""),
        "{}",
        err.log()
    );
    // Direct mode signs the bytes, so the same message is no ambiguity there.
    let direct = tampered(&raw, |_, a| set_mode(a, ProtoSignMode::Direct));
    let tx = decode_tx(&direct).unwrap();
    assert!(matches!(
        verify_signature(&tx, &pub_key(&tx), &v.chain_id, v.account_number),
        Err(AuthError::SignatureInvalid { .. })
    ));
}

#[test]
fn an_unknown_non_critical_field_is_refused_in_amino_mode_but_tolerated_in_direct_mode() {
    let v = tricky();
    // field 1025 (non-critical), varint 7, appended to the body
    let mut raw = TxRaw::decode(v.tx.as_slice()).unwrap();
    raw.body_bytes.extend_from_slice(&[0x88, 0x40, 0x07]);
    let err = decode_tx(&raw.encode_to_vec()).unwrap_err();
    assert_eq!(
        err,
        AuthError::UnsignedField {
            message: "cosmos.tx.v1beta1.TxBody",
            field: 1025
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 4));

    let mut direct = raw.clone();
    let mut auth_info = AuthInfo::decode(direct.auth_info_bytes.as_slice()).unwrap();
    set_mode(&mut auth_info, ProtoSignMode::Direct);
    direct.auth_info_bytes = auth_info.encode_to_vec();
    assert!(decode_tx(&direct.encode_to_vec()).is_ok());

    // the same inside a message
    let inner = tampered(&v.tx, |b, _| {
        b.messages[0].value.extend_from_slice(&[0x88, 0x40, 0x07])
    });
    assert_eq!(
        decode_tx(&inner).unwrap_err(),
        AuthError::UnsignedField {
            message: "cosmwasm.wasm.v1.MsgExecuteContract",
            field: 1025
        }
    );
    let inner_direct = tampered(&inner, |_, a| set_mode(a, ProtoSignMode::Direct));
    assert!(decode_tx(&inner_direct).is_ok());
}

#[test]
fn extension_options_are_refused_in_amino_mode() {
    let v = tricky();
    let option = Any {
        type_url: "/ethermint.types.v1.ExtensionOptionsWeb3Tx".into(),
        value: vec![],
    };
    let critical = tampered(&v.tx, |b, _| b.extension_options.push(option.clone()));
    let err = decode_tx(&critical).unwrap_err();
    assert_eq!(err, AuthError::UnknownExtensionOptions);
    assert_eq!(err.abci_code(), ("sdk", 31));
    let non_critical = tampered(&v.tx, |b, _| b.non_critical_extension_options.push(option));
    assert!(matches!(
        decode_tx(&non_critical).unwrap_err(),
        AuthError::UnknownMessageType { .. }
    ));
}

#[test]
fn an_amino_transaction_simulates_without_a_signature() {
    let v = vector("execute-withdrawal-zero-fee-fresh-account");
    let mut raw = TxRaw::decode(v.tx.as_slice()).unwrap();
    raw.signatures = vec![vec![]];
    let tx = decode_tx_for_simulation(&raw.encode_to_vec()).unwrap();
    assert_eq!(tx.signer_info.sign_mode, SignMode::LegacyAminoJson);
    let account = Account::new(tx.signer.clone(), 0);
    assert_eq!(
        authenticate_for_simulation(&tx, &account, 1).unwrap(),
        tx.signer
    );
}

#[test]
fn other_sign_modes_stay_refused_for_delivery() {
    let v = tricky();
    for mode in [
        ProtoSignMode::Unspecified,
        ProtoSignMode::Textual,
        ProtoSignMode::DirectAux,
        ProtoSignMode::Eip191,
    ] {
        let raw = tampered(&v.tx, |_, a| set_mode(a, mode));
        let err = decode_tx(&raw).unwrap_err();
        assert_eq!(
            err,
            AuthError::UnsupportedSignMode {
                mode: mode.as_str_name().into()
            }
        );
        assert_eq!(err.abci_code(), ("sdk", 37));
        // a simulation may carry them, but its signature can never be checked
        let tx = decode_tx_for_simulation(&raw).unwrap();
        assert!(matches!(
            sign_bytes(&tx, &v.chain_id, v.account_number),
            Err(AuthError::UnsupportedSignMode { .. })
        ));
    }
}

#[test]
fn amounts_with_leading_zeros_are_refused_in_amino_mode() {
    let v = vector("execute-withdrawal-zero-fee-fresh-account");
    assert!(v
        .sign_doc
        .contains(r#""fee":{"amount":[{"amount":"0","denom":"ucny"}],"gas":"200000"}"#));
    // "00" decodes (as in the SDK), but the wallet signed the amount as written and the chain
    // writes it from its value, so the two would differ without the signature noticing.
    let padded_fee = tampered(&v.tx, |_, a| {
        a.fee.as_mut().unwrap().amount = vec![ProtoCoin {
            denom: "ucny".into(),
            amount: "00".into(),
        }]
    });
    let err = decode_tx(&padded_fee).unwrap_err();
    assert_eq!(
        err,
        AuthError::NonCanonicalAmount {
            amount: "00".into()
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 4));
    let t = tricky();
    let padded_funds = tampered(&t.tx, |b, _| {
        with_execute(b, |m| m.funds[0].amount = "05".into())
    });
    assert_eq!(
        decode_tx(&padded_funds).unwrap_err(),
        AuthError::NonCanonicalAmount {
            amount: "05".into()
        }
    );
    // direct mode signs the bytes themselves and keeps accepting them
    let direct = tampered(&padded_fee, |_, a| set_mode(a, ProtoSignMode::Direct));
    assert!(decode_tx(&direct).is_ok());
}
