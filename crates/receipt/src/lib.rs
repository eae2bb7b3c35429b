//! Verifiable usage receipts.
//!
//! A receipt ([`Bundle`]) is a self-contained JSON file about one (terminal, window). It carries
//! what C1 usage-proof and C2 period-proof store about it — the terminal's registration, the
//! first proof of the window and the second proof of the period that holds it — each as a raw
//! key and value of the chain's state with a Jellyfish Merkle proof against the app hash of one
//! height `H`; the inclusion path of the window's leaf in the period's Merkle sum tree; and the
//! block header of `H + 1` (CometBFT puts the app hash after block `H` in the next header) with
//! its commit and validator set.
//!
//! [`export`] builds one from a node's RPC; [`verify`] checks one offline against a
//! [`TrustRoot`] — the chain id, the validator set and the two contracts' addresses, read from the
//! chain's genesis ([`TrustRoot::from_genesis`]) or from a list the user trusts
//! ([`TrustRoot::from_list`]) — and trusts nothing the bundle or a node says. See the crate's
//! README for what a receipt proves and the file format.

mod bundle;
mod export;
mod keys;
mod stored;
mod trust;
mod verify;

pub use bundle::{Bundle, BundleError, StateEntry, BUNDLE_VERSION};
pub use export::{
    export, inclusion_path_from_pages, period_proof_of, ExportError, PROOF_OP_TYPE, STATE_KEY_PATH,
};
pub use keys::{
    address_of, canonical_address, first_proof_key, period_proof_key, terminal_key, InvalidAddress,
    CONTRACT_STORE_PREFIX,
};
pub use stored::{decode_first_proof, decode_terminal, StoredFirstProof, StoredTerminal};
pub use trust::{classic_contract_address, validators_from_list, TrustError, TrustRoot};
pub use verify::{verify, Entry, Verified, VerifyError};

#[cfg(test)]
mod tests;
