//! The one shared package of the usagechain contracts: message and event types of all five
//! contracts, the canonical encoding of every committee-signed payload, threshold BLS verification
//! and the Merkle trees. Services and tests depend on this crate, never on a contract crate.

pub mod client;
pub mod codec;
pub mod committee;
pub mod contract_error;
pub mod contracts;
pub mod events;
pub mod governance;
pub mod merkle;
pub mod migrate;
pub mod msg;
pub mod payload;
pub mod record;

pub use committee::{Committee, CommitteeError, ThresholdSignature};
pub use payload::{Domain, SignedPayload};
