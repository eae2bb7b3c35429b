//! Transactions produced by cosmrs 0.22 against this crate's decoder, signature check, account
//! checks and account query encoding.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode as ProtoSignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee as ProtoFee, ModeInfo, SignerInfo as ProtoSignerInfo, SimulateRequest,
    Tx, TxBody, TxRaw,
};
use cosmos_sdk_proto::Any;
use cosmrs::tx::Msg as _;
use k256::ecdsa::Signature;
use prost::Message;
use usaged_auth::*;

fn raw_parts(raw: &[u8]) -> TxRaw {
    TxRaw::decode(raw).unwrap()
}

fn account_for(key: &cosmrs::crypto::secp256k1::SigningKey) -> Account {
    Account {
        address: address_of(key).to_string(),
        account_number: ACCOUNT_NUMBER,
        sequence: SEQUENCE,
        pub_key: None,
    }
}

#[test]
fn a_cosmrs_execute_tx_decodes_its_sign_bytes_match_and_its_signature_verifies() {
    let signer = key(1);
    let built = standard(&signer);
    let tx = decode_tx(&built.raw).unwrap();

    let sender = address_of(&signer).to_string();
    assert_eq!(tx.signer, sender);
    assert_eq!(
        tx.msgs,
        vec![Msg::ExecuteContract {
            sender: sender.clone(),
            contract: contract().to_string(),
            msg: br#"{"submit_proof":{"period":1}}"#.to_vec(),
            funds: vec![Coin {
                denom: "uusage".into(),
                amount: 1_000
            }],
        }]
    );
    assert_eq!(tx.memo, "memo");
    assert_eq!(tx.timeout_height, 0);
    assert_eq!(tx.signer_info.sequence, SEQUENCE);
    assert_eq!(tx.signer_info.sign_mode, SignMode::Direct);
    assert_eq!(
        tx.signer_info.pub_key.as_deref(),
        Some(signer.public_key().to_bytes().as_slice())
    );
    assert_eq!(tx.fee.gas_limit, 200_000);
    assert_eq!(
        tx.fee.amount,
        vec![Coin {
            denom: "uusage".into(),
            amount: 5_000
        }]
    );

    // both byte strings verbatim, and the sign bytes are cosmrs's SignDoc bytes
    let parts = raw_parts(&built.raw);
    assert_eq!(tx.body_bytes, parts.body_bytes);
    assert_eq!(tx.auth_info_bytes, parts.auth_info_bytes);
    assert_eq!(
        sign_bytes(&tx, CHAIN_ID, ACCOUNT_NUMBER).unwrap(),
        built.sign_doc_bytes
    );

    let pk = signer.public_key().to_bytes();
    verify_signature(&tx, &pk, CHAIN_ID, ACCOUNT_NUMBER).unwrap();
    check_signer(&tx, &pk).unwrap();

    let done = authenticate(&tx, &account_for(&signer), CHAIN_ID, 100).unwrap();
    assert_eq!(
        done,
        Authenticated {
            signer: sender,
            pub_key: pk,
            pub_key_is_new: true
        }
    );
}

#[test]
fn the_same_tx_fails_verification_under_another_chain_id_or_account_number() {
    let signer = key(1);
    let tx = decode_tx(&standard(&signer).raw).unwrap();
    let pk = signer.public_key().to_bytes();

    let err = verify_signature(&tx, &pk, "usagechain-other-1", ACCOUNT_NUMBER).unwrap_err();
    assert_eq!(
        err,
        AuthError::SignatureInvalid {
            account_number: ACCOUNT_NUMBER,
            sequence: SEQUENCE,
            chain_id: "usagechain-other-1".into()
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 4));
    assert!(matches!(
        verify_signature(&tx, &pk, CHAIN_ID, ACCOUNT_NUMBER + 1),
        Err(AuthError::SignatureInvalid { .. })
    ));

    let mut account = account_for(&signer);
    account.account_number += 1;
    assert!(matches!(
        authenticate(&tx, &account, CHAIN_ID, 1),
        Err(AuthError::SignatureInvalid { .. })
    ));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let tx = decode_tx(&standard(&key(1)).raw).unwrap();
    let other = key(2).public_key().to_bytes();
    assert!(matches!(
        verify_signature(&tx, &other, CHAIN_ID, ACCOUNT_NUMBER),
        Err(AuthError::SignatureInvalid { .. })
    ));
}

#[test]
fn a_high_s_variant_of_a_valid_signature_is_refused() {
    let signer = key(1);
    let built = standard(&signer);
    let mut parts = raw_parts(&built.raw);
    let low = Signature::from_slice(&parts.signatures[0]).unwrap();
    assert!(low.normalize_s().is_none(), "cosmrs signs low-S");
    let (r, s) = low.split_scalars();
    let high = Signature::from_scalars(r, -s).unwrap();
    assert!(high.normalize_s().is_some());
    parts.signatures = vec![high.to_bytes().to_vec()];

    let tx = decode_tx(&parts.encode_to_vec()).unwrap();
    let err = verify_signature(
        &tx,
        &signer.public_key().to_bytes(),
        CHAIN_ID,
        ACCOUNT_NUMBER,
    )
    .unwrap_err();
    assert_eq!(err, AuthError::HighS);
    assert_eq!(err.abci_code(), ("sdk", 4));
}

#[test]
fn a_signature_that_is_not_64_bytes_is_refused() {
    let signer = key(1);
    let mut parts = raw_parts(&standard(&signer).raw);
    for len in [0usize, 63, 65, 72] {
        let mut sig = parts.signatures[0].clone();
        sig.resize(len, 1);
        parts.signatures = vec![sig];
        let tx = decode_tx(&parts.encode_to_vec()).unwrap();
        assert_eq!(
            verify_signature(
                &tx,
                &signer.public_key().to_bytes(),
                CHAIN_ID,
                ACCOUNT_NUMBER
            ),
            Err(AuthError::SignatureLength { len })
        );
    }
}

#[test]
fn a_sender_that_is_not_the_signer_is_refused() {
    let signer = key(1);
    let victim = address_of(&key(2));
    let built = build(
        &signer,
        vec![execute_any(&victim)],
        0,
        true,
        CHAIN_ID,
        ACCOUNT_NUMBER,
    );
    let tx = decode_tx(&built.raw).unwrap();
    let err = check_signer(&tx, &signer.public_key().to_bytes()).unwrap_err();
    assert_eq!(
        err,
        AuthError::SignerMismatch {
            sender: victim.to_string(),
            pub_key_address: address_of(&signer).to_string(),
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 8));

    // the application loads the victim's account (the messages' sender): still refused
    let victim_account = Account::new(victim.to_string(), 9);
    assert!(matches!(
        authenticate(&tx, &victim_account, CHAIN_ID, 1),
        Err(AuthError::SignerMismatch { .. })
    ));
}

#[test]
fn messages_from_two_different_senders_are_refused() {
    let signer = key(1);
    let built = build(
        &signer,
        vec![
            execute_any(&address_of(&signer)),
            execute_any(&address_of(&key(2))),
        ],
        0,
        true,
        CHAIN_ID,
        ACCOUNT_NUMBER,
    );
    assert_eq!(
        decode_tx(&built.raw).unwrap_err(),
        AuthError::WrongSignerCount {
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn a_sequence_mismatch_gives_code_32_with_the_sdk_text() {
    let signer = key(1);
    let tx = decode_tx(&standard(&signer).raw).unwrap();
    let mut account = account_for(&signer);
    account.sequence = SEQUENCE + 2;
    let err = authenticate(&tx, &account, CHAIN_ID, 1).unwrap_err();
    assert_eq!(err.abci_code(), ("sdk", 32));
    assert_eq!(
        err.to_string(),
        format!(
            "account sequence mismatch, expected {}, got {SEQUENCE}: incorrect account sequence",
            SEQUENCE + 2
        )
    );
    assert_eq!(
        check_sequence(&account, SEQUENCE),
        Err(AuthError::WrongSequence {
            expected: SEQUENCE + 2,
            got: SEQUENCE
        })
    );
}

#[test]
fn a_passed_timeout_height_is_refused_and_the_last_valid_height_is_not() {
    let signer = key(1);
    let built = build(
        &signer,
        vec![execute_any(&address_of(&signer))],
        10,
        true,
        CHAIN_ID,
        ACCOUNT_NUMBER,
    );
    let tx = decode_tx(&built.raw).unwrap();
    assert_eq!(tx.timeout_height, 10);
    assert!(check_timeout_height(&tx, 10).is_ok());
    let err = authenticate(&tx, &account_for(&signer), CHAIN_ID, 11).unwrap_err();
    assert_eq!(
        err,
        AuthError::TimeoutHeight {
            height: 11,
            timeout_height: 10
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 30));
    assert_eq!(
        err.log(),
        "block height: 11, timeout height: 10: tx timeout height"
    );
}

#[test]
fn an_unknown_message_type_url_is_refused() {
    let signer = key(1);
    let send = cosmrs::bank::MsgSend {
        from_address: address_of(&signer),
        to_address: address_of(&key(2)),
        amount: vec![],
    }
    .to_any()
    .unwrap();
    let built = build(&signer, vec![send], 0, true, CHAIN_ID, ACCOUNT_NUMBER);
    let err = decode_tx(&built.raw).unwrap_err();
    assert_eq!(
        err,
        AuthError::UnknownMessageType {
            type_url: "/cosmos.bank.v1beta1.MsgSend".into()
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 2));
}

#[test]
fn a_tx_without_a_pub_key_verifies_with_the_key_stored_on_the_account() {
    let signer = key(1);
    let built = build(
        &signer,
        vec![execute_any(&address_of(&signer))],
        0,
        false,
        CHAIN_ID,
        ACCOUNT_NUMBER,
    );
    let tx = decode_tx(&built.raw).unwrap();
    assert_eq!(tx.signer_info.pub_key, None);

    let mut account = account_for(&signer);
    assert_eq!(
        authenticate(&tx, &account, CHAIN_ID, 1).unwrap_err(),
        AuthError::PubKeyUnknown
    );
    account.pub_key = Some(signer.public_key().to_bytes());
    let done = authenticate(&tx, &account, CHAIN_ID, 1).unwrap();
    assert!(!done.pub_key_is_new);

    // a different stored key is refused
    account.pub_key = Some(key(3).public_key().to_bytes());
    assert!(matches!(
        authenticate(&tx, &account, CHAIN_ID, 1),
        Err(AuthError::SignerMismatch { .. })
    ));
}

#[test]
fn address_derivation_matches_cosmrs_account_id() {
    for seed in 1..=5u8 {
        let pk = key(seed).public_key();
        assert_eq!(
            address_from_pubkey(&pk.to_bytes()).unwrap(),
            pk.account_id("usage").unwrap().to_string()
        );
    }
}

#[test]
fn canonicalize_and_humanize_round_trip_for_account_and_contract_addresses() {
    for bytes in [vec![0x11u8; 20], (0u8..32).collect::<Vec<u8>>()] {
        let id = cosmrs::AccountId::new("usage", &bytes).unwrap();
        let canonical = validate_address(id.as_ref()).unwrap();
        assert_eq!(canonical, bytes);
        assert_eq!(humanize(&canonical).unwrap(), id.to_string());
    }
}

#[test]
fn the_account_response_omits_pub_key_when_unknown_and_includes_it_when_known() {
    let signer = key(1);
    let mut account = Account::new(address_of(&signer).to_string(), 12);
    account.sequence = 4;

    let decode = |bytes: Vec<u8>| {
        let response = QueryAccountResponse::decode(bytes.as_slice()).unwrap();
        let any = response.account.unwrap();
        assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");
        BaseAccount::decode(any.value.as_slice()).unwrap()
    };

    let unknown = decode(encode_account_response(&account));
    assert_eq!(
        unknown,
        BaseAccount {
            address: account.address.clone(),
            pub_key: None,
            account_number: 12,
            sequence: 4
        }
    );

    account.pub_key = Some(signer.public_key().to_bytes());
    let known = decode(encode_account_response(&account));
    let pk_any = known.pub_key.unwrap();
    assert_eq!(pk_any.type_url, "/cosmos.crypto.secp256k1.PubKey");
    assert_eq!(
        PubKey::decode(pk_any.value.as_slice()).unwrap().key,
        signer.public_key().to_bytes()
    );
    // and it is the Any cosmrs produces for the same key
    assert_eq!(pk_any, signer.public_key().to_any().unwrap());
}

fn cosmjs_style_simulation_tx(signer: &cosmrs::crypto::secp256k1::SigningKey) -> Tx {
    // What CosmJS's `simulate` sends: mode UNSPECIFIED, `Fee.fromPartial({})`, one empty signature.
    Tx {
        body: Some(TxBody {
            messages: vec![execute_any(&address_of(signer))],
            memo: String::new(),
            ..Default::default()
        }),
        auth_info: Some(AuthInfo {
            signer_infos: vec![ProtoSignerInfo {
                public_key: Some(signer.public_key().to_any().unwrap()),
                mode_info: Some(ModeInfo {
                    sum: Some(mode_info::Sum::Single(mode_info::Single {
                        mode: ProtoSignMode::Unspecified as i32,
                    })),
                }),
                sequence: SEQUENCE,
            }],
            fee: Some(ProtoFee::default()),
            #[allow(deprecated)]
            tip: None,
        }),
        signatures: vec![vec![]],
    }
}

#[test]
fn a_cosmjs_simulation_tx_decodes_for_simulation_but_not_for_delivery() {
    let signer = key(1);
    let bytes = cosmjs_style_simulation_tx(&signer).encode_to_vec();

    let tx = decode_tx_for_simulation(&bytes).unwrap();
    assert_eq!(tx.signer_info.sign_mode, SignMode::Unspecified);
    assert!(tx.signature.is_empty());
    assert_eq!(tx.fee, Fee::default());
    assert_eq!(
        authenticate_for_simulation(&tx, &account_for(&signer), 1).unwrap(),
        address_of(&signer).to_string()
    );

    let err = decode_tx(&bytes).unwrap_err();
    assert_eq!(
        err,
        AuthError::UnsupportedSignMode {
            mode: "SIGN_MODE_UNSPECIFIED".into()
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 37));

    // through the SimulateRequest, in tx_bytes and in the deprecated tx field
    let request = SimulateRequest {
        tx_bytes: bytes.clone(),
        ..Default::default()
    };
    assert_eq!(
        decode_simulate_request(&request.encode_to_vec()).unwrap(),
        tx
    );
    #[allow(deprecated)]
    let legacy = SimulateRequest {
        tx: Some(cosmjs_style_simulation_tx(&signer)),
        tx_bytes: vec![],
    };
    assert_eq!(
        decode_simulate_request(&legacy.encode_to_vec())
            .unwrap()
            .msgs,
        tx.msgs
    );
}

#[test]
fn a_textual_sign_mode_is_refused_as_not_supported_and_amino_json_is_decoded() {
    let signer = key(1);
    let mut sim = cosmjs_style_simulation_tx(&signer);
    let auth = sim.auth_info.as_mut().unwrap();
    auth.fee = Some(ProtoFee {
        gas_limit: 100_000,
        ..Default::default()
    });
    sim.signatures = vec![vec![1; 64]];
    let with_mode = |sim: &mut Tx, mode: ProtoSignMode| {
        sim.auth_info.as_mut().unwrap().signer_infos[0].mode_info = Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: mode as i32,
            })),
        });
        sim.encode_to_vec()
    };
    let err = decode_tx(&with_mode(&mut sim, ProtoSignMode::Textual)).unwrap_err();
    assert_eq!(
        err,
        AuthError::UnsupportedSignMode {
            mode: "SIGN_MODE_TEXTUAL".into()
        }
    );
    assert_eq!(err.abci_code(), ("sdk", 37));
    let tx = decode_tx(&with_mode(&mut sim, ProtoSignMode::LegacyAminoJson)).unwrap();
    assert_eq!(tx.signer_info.sign_mode, SignMode::LegacyAminoJson);
}

#[test]
fn a_zero_fee_amount_is_accepted_but_zero_gas_is_not() {
    let signer = key(1);
    let mut sim = cosmjs_style_simulation_tx(&signer);
    let auth = sim.auth_info.as_mut().unwrap();
    auth.signer_infos[0].mode_info = Some(ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: ProtoSignMode::Direct as i32,
        })),
    });
    auth.fee = Some(ProtoFee {
        amount: vec![ProtoCoin {
            denom: "uusage".into(),
            amount: "0".into(),
        }],
        gas_limit: 100_000,
        ..Default::default()
    });
    sim.signatures = vec![vec![1; 64]];
    let tx = decode_tx(&sim.encode_to_vec()).unwrap();
    assert_eq!(tx.fee.amount[0].amount, 0);

    sim.auth_info
        .as_mut()
        .unwrap()
        .fee
        .as_mut()
        .unwrap()
        .gas_limit = 0;
    let err = decode_tx(&sim.encode_to_vec()).unwrap_err();
    assert_eq!(err, AuthError::ZeroGasLimit);
    assert_eq!(err.abci_code(), ("sdk", 41));
}

#[test]
fn a_tx_raw_with_extra_or_reordered_fields_is_refused_as_non_canonical() {
    let built = standard(&key(1));
    // an unknown field 4 appended: prost would ignore it, changing the hash but not the signature
    let mut extended = built.raw.clone();
    extended.extend_from_slice(&[0x22, 0x00]);
    assert_eq!(
        decode_tx(&extended).unwrap_err(),
        AuthError::NonCanonicalTxRaw
    );
    // auth_info before body
    let parts = raw_parts(&built.raw);
    let mut reordered = TxRaw {
        auth_info_bytes: parts.auth_info_bytes.clone(),
        ..Default::default()
    }
    .encode_to_vec();
    reordered.extend(
        TxRaw {
            body_bytes: parts.body_bytes.clone(),
            signatures: parts.signatures.clone(),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    assert_eq!(
        decode_tx(&reordered).unwrap_err(),
        AuthError::NonCanonicalTxRaw
    );
    assert!(decode_tx(&built.raw).is_ok());
}

#[test]
fn extension_options_and_unknown_body_fields_are_refused() {
    let signer = key(1);
    let parts = raw_parts(&standard(&signer).raw);
    let body = TxBody::decode(parts.body_bytes.as_slice()).unwrap();

    let with_ext = TxBody {
        extension_options: vec![Any {
            type_url: "/x.Ext".into(),
            value: vec![],
        }],
        ..body.clone()
    };
    let rewrap = |body_bytes: Vec<u8>| {
        TxRaw {
            body_bytes,
            ..parts.clone()
        }
        .encode_to_vec()
    };
    let err = decode_tx(&rewrap(with_ext.encode_to_vec())).unwrap_err();
    assert_eq!(err, AuthError::UnknownExtensionOptions);
    assert_eq!(err.abci_code(), ("sdk", 31));

    let with_nc = TxBody {
        non_critical_extension_options: vec![Any {
            type_url: "/x.NonCritical".into(),
            value: vec![],
        }],
        ..body.clone()
    };
    assert!(matches!(
        decode_tx(&rewrap(with_nc.encode_to_vec())).unwrap_err(),
        AuthError::UnknownMessageType { .. }
    ));

    // SDK 0.53's `unordered = true` (field 4): a critical field this chain does not know
    let mut unordered = body.encode_to_vec();
    unordered.extend_from_slice(&[0x20, 0x01]);
    assert!(matches!(
        decode_tx(&rewrap(unordered)).unwrap_err(),
        AuthError::UnknownField { field: 4, .. }
    ));

    // a non-critical unknown field (1025) is tolerated in the body
    let mut non_critical = body.encode_to_vec();
    non_critical.extend_from_slice(&[0x88, 0x40, 0x07]);
    assert!(decode_tx(&rewrap(non_critical)).is_ok());
}

#[test]
fn size_limits_are_enforced_with_typed_errors() {
    let signer = key(1);
    let too_big = vec![0u8; MAX_TX_BYTES + 1];
    assert_eq!(
        decode_tx(&too_big).unwrap_err(),
        AuthError::TxTooLarge {
            size: MAX_TX_BYTES + 1,
            max: MAX_TX_BYTES
        }
    );

    let parts = raw_parts(&standard(&signer).raw);
    let body = TxBody::decode(parts.body_bytes.as_slice()).unwrap();
    let rewrap = |body: TxBody| {
        TxRaw {
            body_bytes: body.encode_to_vec(),
            ..parts.clone()
        }
        .encode_to_vec()
    };
    let long_memo = TxBody {
        memo: "m".repeat(MAX_MEMO_BYTES + 1),
        ..body.clone()
    };
    let err = decode_tx(&rewrap(long_memo)).unwrap_err();
    assert_eq!(err.abci_code(), ("sdk", 12));
    assert_eq!(
        err.log(),
        "maximum number of characters is 256 but received 257 characters: memo too large"
    );

    let many = TxBody {
        messages: vec![body.messages[0].clone(); MAX_MESSAGES + 1],
        ..body.clone()
    };
    assert_eq!(
        decode_tx(&rewrap(many)).unwrap_err(),
        AuthError::TooManyMessages {
            count: MAX_MESSAGES + 1,
            max: MAX_MESSAGES
        }
    );

    let none = TxBody {
        messages: vec![],
        ..body
    };
    assert_eq!(decode_tx(&rewrap(none)).unwrap_err(), AuthError::NoMessages);
}

#[test]
fn a_tx_without_signatures_is_refused_with_code_15() {
    let mut parts = raw_parts(&standard(&key(1)).raw);
    parts.signatures.clear();
    let err = decode_tx(&parts.encode_to_vec()).unwrap_err();
    assert_eq!(err, AuthError::NoSignatures);
    assert_eq!(err.abci_code(), ("sdk", 15));
}

#[test]
fn a_tx_hash_is_the_sha256_of_the_raw_bytes() {
    use sha2::Digest;
    let raw = standard(&key(1)).raw;
    assert_eq!(tx_hash(&raw).to_vec(), sha2::Sha256::digest(&raw).to_vec());
}
