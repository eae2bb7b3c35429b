//! Known mnemonic → key vectors of the Cosmos ecosystem: the account key on m/44'/118'/0'/0/0
//! must be the one CosmJS, `gaiad` and every Cosmos wallet derive, so that a mnemonic moves
//! between them and `usage`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::str::FromStr;

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::AccountId;
use usage_keyring::{KdfParams, Keyring, Mnemonic};

struct Vector {
    /// Where the vector comes from.
    source: &'static str,
    mnemonic: &'static str,
    /// The compressed public key, hex, where the source gives it.
    public_key: Option<&'static str>,
    cosmos_address: &'static str,
}

const VECTORS: &[Vector] = &[
    Vector {
        source: "BIP39 reference mnemonic, the widely published Cosmos Hub address",
        mnemonic: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        public_key: None,
        cosmos_address: "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4",
    },
    Vector {
        source: "CosmJS DirectSecp256k1HdWallet spec, default mnemonic",
        mnemonic: "special sign fit simple patrol salute grocery chicken wheat radar tonight ceiling",
        public_key: Some("02baa4ef93f2ce84592a49b1d729c074eab640112522a7a89f7d03ebab21ded7b6"),
        cosmos_address: "cosmos1jhg0e7s6gn44tfc5k37kr04sznyhedtc9rzys5",
    },
    Vector {
        source: "CosmJS proto-signing test utilities, faucet (A08EGB7ro1ORuFhjOnZcSgwYlpe0DSFjVNUIkNNQxwKQ)",
        mnemonic: "economy stock theory fatal elder harbor betray wasp final emotion task crumble siren bottom lizard educate guess current outdoor pair theory focus wife stone",
        public_key: Some("034f04181eeba35391b858633a765c4a0c189697b40d216354d50890d350c70290"),
        cosmos_address: "cosmos1pkptre7fdkl6gfrzlesjjvhxhlc3r4gmmk8rs6",
    },
    Vector {
        source: "CosmJS spec, 'creates the same address as Go implementation'",
        mnemonic: "oyster design unusual machine spread century engine gravity focus cave carry slot",
        public_key: None,
        cosmos_address: "cosmos1cjsxept9rkggzxztslae9ndgpdyt2408lk850u",
    },
];

/// The `usage1…` address of the same 20 bytes as a `cosmos1…` address.
fn as_usage(cosmos: &str) -> String {
    let id = AccountId::from_str(cosmos).unwrap();
    assert_eq!(id.prefix(), "cosmos");
    usaged_auth::humanize(&id.to_bytes()).unwrap()
}

#[test]
fn known_mnemonics_give_the_known_cosmos_keys() {
    for v in VECTORS {
        let key = Mnemonic::parse(v.mnemonic).unwrap().derive("").unwrap();
        if let Some(public_key) = v.public_key {
            assert_eq!(hex::encode(key.public_key()), public_key, "{}", v.source);
        }
        // The secret is the one behind the public key, and the client's own derivation
        // (ChainClient::with_key uses cosmrs) gives the same account under either prefix.
        let signing = SigningKey::from_slice(key.secret().as_slice()).unwrap();
        assert_eq!(
            signing.public_key().to_bytes(),
            key.public_key().to_vec(),
            "{}",
            v.source
        );
        assert_eq!(
            signing.public_key().account_id("cosmos").unwrap().as_ref(),
            v.cosmos_address,
            "{}",
            v.source
        );
        assert_eq!(key.address(), as_usage(v.cosmos_address), "{}", v.source);
        assert_eq!(
            signing.public_key().account_id("usage").unwrap().as_ref(),
            key.address(),
            "{}",
            v.source
        );
        assert!(key.address().starts_with("usage1"), "{}", v.source);
    }
}

#[test]
fn a_recovered_key_has_the_vector_address_and_signs_with_the_vector_secret() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = Keyring::open(dir.path().join("keys"))
        .unwrap()
        .with_kdf(KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    let v = &VECTORS[2];
    let info = keyring
        .recover("faucet", v.mnemonic, "passphrase one", None)
        .unwrap();
    assert_eq!(info.address, as_usage(v.cosmos_address));
    assert_eq!(Some(info.public_key.as_str()), v.public_key);
    let secret = keyring.secret("faucet", "passphrase one").unwrap();
    let expected = Mnemonic::parse(v.mnemonic).unwrap().derive("").unwrap();
    assert_eq!(secret.as_slice(), expected.secret().as_slice());
}
