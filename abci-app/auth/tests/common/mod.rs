//! Transactions built and signed with cosmrs 0.22, the way our own clients (and, byte for byte,
//! CosmJS's `signDirect`) build them.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use cosmrs::cosmwasm::MsgExecuteContract;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::tx::{Body, Fee, Msg as _, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin};

pub const CHAIN_ID: &str = "usagechain-local-1";
pub const ACCOUNT_NUMBER: u64 = 7;
pub const SEQUENCE: u64 = 3;

/// A fixed key, so failures reproduce.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

pub fn address_of(key: &SigningKey) -> AccountId {
    key.public_key().account_id("usage").unwrap()
}

pub fn contract() -> AccountId {
    AccountId::new("usage", &[0x42; 32]).unwrap()
}

pub fn execute_any(sender: &AccountId) -> Any {
    MsgExecuteContract {
        sender: sender.clone(),
        contract: contract(),
        msg: br#"{"submit_proof":{"period":1}}"#.to_vec(),
        funds: vec![Coin {
            denom: "uusage".parse().unwrap(),
            amount: 1_000,
        }],
    }
    .to_any()
    .unwrap()
}

pub fn fee() -> Fee {
    Fee::from_amount_and_gas(
        Coin {
            denom: "uusage".parse().unwrap(),
            amount: 5_000,
        },
        200_000u64,
    )
}

pub struct Built {
    /// The raw tx bytes as broadcast.
    pub raw: Vec<u8>,
    /// cosmrs's own encoding of the SignDoc that was signed.
    pub sign_doc_bytes: Vec<u8>,
}

/// Builds and signs a tx whose messages are `msgs`, signed by `signer`.
pub fn build(
    signer: &SigningKey,
    msgs: Vec<Any>,
    timeout_height: u32,
    include_pub_key: bool,
    chain_id: &str,
    account_number: u64,
) -> Built {
    let body = Body::new(msgs, "memo", timeout_height);
    let pk = include_pub_key.then(|| signer.public_key());
    let auth_info = SignerInfo::single_direct(pk, SEQUENCE).auth_info(fee());
    let chain_id = chain_id.parse().unwrap();
    let doc = SignDoc::new(&body, &auth_info, &chain_id, account_number).unwrap();
    let sign_doc_bytes = doc.clone().into_bytes().unwrap();
    let raw = doc.sign(signer).unwrap().to_bytes().unwrap();
    Built {
        raw,
        sign_doc_bytes,
    }
}

/// The standard tx: one execute message from the signer, pubkey included.
pub fn standard(signer: &SigningKey) -> Built {
    build(
        signer,
        vec![execute_any(&address_of(signer))],
        0,
        true,
        CHAIN_ID,
        ACCOUNT_NUMBER,
    )
}
