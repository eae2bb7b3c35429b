//! A test wallet: a secp256k1 key that signs transactions for a chain or an application driven
//! directly (no account queries: the caller knows the account number and sequence it expects),
//! through the client's one signing function, [`usage_client::tx::sign`].

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::{AccountId, Any, Coin};
use serde::Serialize;
use usage_client::tx::{self, Signer};

/// A key, its address and the sequence of its next transaction.
pub struct Wallet {
    pub key: SigningKey,
    pub address: AccountId,
    pub chain_id: String,
    /// The account number the chain gave it (0 for the first account of a genesis, and for
    /// accounts the application creates on their first transaction).
    pub account_number: u64,
    pub sequence: u64,
}

impl Wallet {
    /// The wallet of the secret key `secret`, at sequence 0 of account 0 on `chain_id`.
    pub fn from_secret(secret: &[u8], chain_id: &str) -> Wallet {
        let key = SigningKey::from_slice(secret).expect("secp256k1 secret");
        let address = tx::address(&key).expect("address");
        Wallet {
            key,
            address,
            chain_id: chain_id.to_string(),
            account_number: 0,
            sequence: 0,
        }
    }

    /// The wallet of the secret `[seed; 32]`.
    pub fn new(seed: u8, chain_id: &str) -> Wallet {
        Wallet::from_secret(&[seed; 32], chain_id)
    }

    pub fn addr(&self) -> String {
        self.address.to_string()
    }

    /// The signer at `sequence` (which a test may choose to be wrong).
    pub fn signer(&self, sequence: u64) -> Signer<'_> {
        Signer {
            key: &self.key,
            chain_id: &self.chain_id,
            account_number: self.account_number,
            sequence,
        }
    }

    /// `msgs` signed with `gas`, `fee` and a timeout height (0: none) at the wallet's sequence,
    /// which advances.
    pub fn sign_with(&mut self, msgs: Vec<Any>, gas: u64, fee: Vec<Coin>, timeout: u32) -> Vec<u8> {
        let raw =
            tx::sign(self.signer(self.sequence), msgs, tx::fee(gas, fee), timeout).expect("sign");
        self.sequence += 1;
        raw
    }

    /// `msgs` signed with `gas`, fee-less, at the wallet's sequence, which advances.
    pub fn sign(&mut self, msgs: Vec<Any>, gas: u64) -> Vec<u8> {
        self.sign_with(msgs, gas, vec![], 0)
    }

    /// A `MsgExecuteContract` of this wallet running `msg` on `contract`.
    pub fn execute_msg(&self, contract: &str, msg: &impl Serialize) -> Any {
        tx::execute_msg(
            &self.address,
            contract,
            serde_json::to_vec(msg).expect("json"),
        )
        .expect("execute message")
    }

    /// One transaction executing `msg` on `contract` with `gas`; the sequence advances.
    pub fn execute(&mut self, contract: &str, msg: &impl Serialize, gas: u64) -> Vec<u8> {
        let m = self.execute_msg(contract, msg);
        self.sign(vec![m], gas)
    }
}

/// One transaction of `key` at sequence `seq` of account 0 executing `msgs` on `contract` in
/// order, with 30 000 000 gas.
pub fn sign_executes(
    key: &SigningKey,
    chain_id: &str,
    seq: u64,
    contract: &str,
    msgs: &[impl Serialize],
) -> Vec<u8> {
    let msgs: Vec<(String, Vec<u8>)> = msgs
        .iter()
        .map(|m| (contract.to_string(), serde_json::to_vec(m).expect("json")))
        .collect();
    let signer = Signer {
        key,
        chain_id,
        account_number: 0,
        sequence: seq,
    };
    tx::sign_execute(signer, &msgs, 30_000_000).expect("sign")
}

/// [`sign_executes`] of one message.
pub fn sign_execute(
    key: &SigningKey,
    chain_id: &str,
    seq: u64,
    contract: &str,
    msg: &impl Serialize,
) -> Vec<u8> {
    sign_executes(key, chain_id, seq, contract, std::slice::from_ref(msg))
}
