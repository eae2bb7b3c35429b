//! Signing a transaction as the chain's ante checks expect it: SIGN_MODE_DIRECT with one
//! secp256k1 signer. The one place that builds a `TxRaw`, for [`crate::ChainClient`] and for the
//! development tools and tests that drive a chain or an application directly.

use cosmrs::cosmwasm::MsgExecuteContract;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin};

use crate::chain::{ClientError, PREFIX};

fn codec(e: impl std::fmt::Display) -> ClientError {
    ClientError::Codec(e.to_string())
}

/// Who signs, and at which position of their account: the chain id, the account number and the
/// sequence make each signature valid for exactly one transaction of one chain.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub key: &'a SigningKey,
    pub chain_id: &'a str,
    pub account_number: u64,
    pub sequence: u64,
}

/// Gas limit and fee of a transaction.
pub fn fee(gas_limit: u64, amount: Vec<Coin>) -> Fee {
    Fee {
        amount,
        gas_limit,
        payer: None,
        granter: None,
    }
}

/// The address of `key` on the chain.
pub fn address(key: &SigningKey) -> Result<AccountId, ClientError> {
    key.public_key().account_id(PREFIX).map_err(codec)
}

/// A `MsgExecuteContract` of `sender` running `msg` (JSON) on `contract`, without funds.
pub fn execute_msg(sender: &AccountId, contract: &str, msg: Vec<u8>) -> Result<Any, ClientError> {
    MsgExecuteContract {
        sender: sender.clone(),
        contract: contract.parse().map_err(codec)?,
        msg,
        funds: vec![],
    }
    .to_any()
    .map_err(codec)
}

/// The `TxRaw` bytes of `msgs` signed by `signer`, with `fee` and, unless 0, a timeout height.
pub fn sign(
    signer: Signer<'_>,
    msgs: Vec<Any>,
    fee: Fee,
    timeout_height: u32,
) -> Result<Vec<u8>, ClientError> {
    let body = Body::new(msgs, "", timeout_height);
    let auth =
        SignerInfo::single_direct(Some(signer.key.public_key()), signer.sequence).auth_info(fee);
    let chain_id = signer.chain_id.parse().map_err(codec)?;
    SignDoc::new(&body, &auth, &chain_id, signer.account_number)
        .map_err(codec)?
        .sign(signer.key)
        .map_err(codec)?
        .to_bytes()
        .map_err(codec)
}

/// The `TxRaw` bytes of one transaction executing `msgs` (contract address, JSON message) in
/// order, signed by `signer`, fee-less with `gas_limit`.
pub fn sign_execute(
    signer: Signer<'_>,
    msgs: &[(String, Vec<u8>)],
    gas_limit: u64,
) -> Result<Vec<u8>, ClientError> {
    let sender = address(signer.key)?;
    let anys = msgs
        .iter()
        .map(|(contract, msg)| execute_msg(&sender, contract, msg.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    sign(signer, anys, fee(gas_limit, vec![]), 0)
}
