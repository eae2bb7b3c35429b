//! The node's own records in the state, beside the contracts' (which the VM keys itself): the
//! accounts that sign transactions and the chain's settings. Their key layout and encoding are
//! consensus: every validator must write the same bytes under the same keys, so they live here,
//! apart from the block lifecycle that reads and writes them.
//!
//! Keys: `0x10 ‖ canonical address` for an account, `0x20 ‖ name` for a setting (`chain_id`,
//! `params`, `block_time`).

use serde::{Deserialize, Serialize};
use usaged_auth::Account;
use usaged_store::{KvRead, Overlay};

use crate::error::{NodeError, StateError};

/// Prefix of accounts: `0x10 ‖ canonical address`.
const ACCOUNT_PREFIX: u8 = 0x10;
/// The chain's own settings: `0x20 ‖ name`.
const APP_PREFIX: u8 = 0x20;

#[derive(Serialize, Deserialize)]
struct StoredAccount {
    account_number: u64,
    sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub_key: Option<String>,
}

/// The key of the chain's setting `name`.
pub(crate) fn app_key(name: &str) -> Vec<u8> {
    let mut k = vec![APP_PREFIX];
    k.extend_from_slice(name.as_bytes());
    k
}

fn account_key(address: &str) -> Result<Vec<u8>, StateError> {
    let canonical = usaged_auth::validate_address(address)?;
    let mut k = vec![ACCOUNT_PREFIX];
    k.extend_from_slice(&canonical);
    Ok(k)
}

/// The account of `address` in `state`; an address never seen is a fresh account (number 0).
pub fn load_account(state: &dyn KvRead, address: &str) -> Result<Account, NodeError> {
    let key = account_key(address)?;
    match state.get(&key)? {
        None => Ok(Account::new(address, 0)),
        Some(raw) => {
            let s: StoredAccount = serde_json::from_slice(&raw).map_err(StateError::Json)?;
            let pub_key = match s.pub_key {
                Some(h) => Some(hex::decode(h).map_err(StateError::Hex)?),
                None => None,
            };
            Ok(Account {
                address: address.to_string(),
                account_number: s.account_number,
                sequence: s.sequence,
                pub_key,
            })
        }
    }
}

pub(crate) fn save_account(state: &mut Overlay, account: &Account) -> Result<(), NodeError> {
    let key = account_key(&account.address)?;
    let s = StoredAccount {
        account_number: account.account_number,
        sequence: account.sequence,
        pub_key: account.pub_key.as_ref().map(hex::encode),
    };
    let raw = serde_json::to_vec(&s).map_err(StateError::Json)?;
    state.set(key, raw);
    Ok(())
}

/// Whether the state holds a record of `address` (an account that signed before, or from genesis).
pub(crate) fn account_exists(state: &dyn KvRead, address: &str) -> Result<bool, NodeError> {
    let key = account_key(address)?;
    Ok(state.get(&key)?.is_some())
}
