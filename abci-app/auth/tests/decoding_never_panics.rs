//! Decoding must never panic, whatever bytes arrive from the network.

// proptest! bodies are test code that clippy does not recognise as such.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

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
