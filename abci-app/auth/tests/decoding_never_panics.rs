//! Decoding must never panic, whatever bytes arrive from the network.

// proptest! bodies are test code that clippy does not recognise as such.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::*;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{TxBody, TxRaw};
use cosmos_sdk_proto::cosmwasm::wasm::v1::MsgExecuteContract;
use proptest::prelude::*;
use prost::Message;
use usaged_auth::*;

fn decode_everything(bytes: &[u8]) {
    let _ = decode_tx(bytes);
    let _ = decode_tx_for_simulation(bytes);
    let _ = decode_simulate_request(bytes);
    let _ = decode_account_request(bytes);
    if let Ok(tx) = decode_tx_for_simulation(bytes) {
        let pk = key(1).public_key().to_bytes();
        let _ = verify_signature(&tx, &pk, CHAIN_ID, ACCOUNT_NUMBER);
        let _ = sign_bytes(&tx, CHAIN_ID, ACCOUNT_NUMBER);
        let _ = amino_json_sign_bytes(&tx, CHAIN_ID, ACCOUNT_NUMBER);
        let _ = check_signer(&tx, &pk);
        let _ = authenticate(&tx, &Account::new(tx.signer.clone(), 1), CHAIN_ID, 1);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = validate_address(text);
    }
    let _ = humanize(bytes);
    let _ = address_from_pubkey(bytes);
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip { at, mask } if len > 0 => bytes[at % len] ^= mask,
            Mutation::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
            Mutation::Remove { at } if len > 0 => {
                bytes.remove(at % len);
            }
            Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    bytes
}

/// The CosmJS amino vector whose contract message holds escapes, astral characters, unsorted
/// keys and numbers in several forms.
fn amino_vector() -> Vec<u8> {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("data/amino-json-vectors.json")).unwrap();
    let tx = file["vectors"][0]["tx_base64"].as_str().unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(tx)
        .unwrap()
}

/// `raw` (an amino vector) with its first message's contract JSON replaced by `msg`.
fn with_contract_msg(raw: &[u8], msg: Vec<u8>) -> Vec<u8> {
    let mut parts = TxRaw::decode(raw).unwrap();
    let mut body = TxBody::decode(parts.body_bytes.as_slice()).unwrap();
    let mut execute = MsgExecuteContract::decode(body.messages[0].value.as_slice()).unwrap();
    execute.msg = msg;
    body.messages[0].value = execute.encode_to_vec();
    parts.body_bytes = body.encode_to_vec();
    parts.encode_to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_amino_contract_msg_never_panics_and_any_sign_doc_is_json(
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let raw = amino_vector();
        let parts = TxRaw::decode(raw.as_slice()).unwrap();
        let body = TxBody::decode(parts.body_bytes.as_slice()).unwrap();
        let msg = MsgExecuteContract::decode(body.messages[0].value.as_slice()).unwrap().msg;
        let mutated = with_contract_msg(&raw, apply(msg, &mutations));
        decode_everything(&mutated);
        if let Ok(tx) = decode_tx(&mutated) {
            if let Ok(doc) = amino_json_sign_bytes(&tx, CHAIN_ID, ACCOUNT_NUMBER) {
                prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&doc).is_ok());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_everything(&bytes);
    }

    #[test]
    fn a_mutated_valid_tx_never_panics(mutations in proptest::collection::vec(mutation(), 1..8)) {
        let raw = standard(&key(1)).raw;
        decode_everything(&apply(raw, &mutations));
    }

    #[test]
    fn a_valid_tx_with_mutated_body_or_auth_info_never_panics(
        body_mutations in proptest::collection::vec(mutation(), 0..6),
        auth_mutations in proptest::collection::vec(mutation(), 0..6),
    ) {
        // Mutating inside the signed byte strings and re-wrapping them reaches the inner decoders.
        let parts = TxRaw::decode(standard(&key(1)).raw.as_slice()).unwrap();
        let tx = TxRaw {
            body_bytes: apply(parts.body_bytes, &body_mutations),
            auth_info_bytes: apply(parts.auth_info_bytes, &auth_mutations),
            signatures: parts.signatures,
        };
        decode_everything(&tx.encode_to_vec());
    }
}
