//! Authenticated peer-to-peer messages of the batch protocol. Every message is an [`Envelope`]:
//! the sender's committee index, the JSON body, and the sender's Ed25519 peer-link signature over
//! `SHA-256("usagechain/v1/p2p" || chain_id || body)`. A receiver accepts it only from a
//! configured peer whose key verifies it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Peer;

/// Path of the proposal endpoint.
pub const PROPOSE_PATH: &str = "/p2p/propose";

/// A signed peer message.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Envelope {
    /// The sender's committee index.
    pub from: usize,
    /// The JSON body.
    pub body: String,
    /// Hex of the Ed25519 signature.
    pub signature: String,
}

fn digest(chain_id: &str, body: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"usagechain/v1/p2p");
    h.update((chain_id.len() as u32).to_be_bytes());
    h.update(chain_id.as_bytes());
    h.update(body.as_bytes());
    h.finalize().into()
}

impl Envelope {
    /// Signs `body` as member `from`.
    pub fn seal<T: Serialize>(
        from: usize,
        key: &SigningKey,
        chain_id: &str,
        body: &T,
    ) -> Result<Self, serde_json::Error> {
        let body = serde_json::to_string(body)?;
        let signature = hex::encode(key.sign(&digest(chain_id, &body)).to_bytes());
        Ok(Envelope {
            from,
            body,
            signature,
        })
    }

    /// Verifies the sender against `peers` and decodes the body.
    pub fn open<T: for<'de> Deserialize<'de>>(
        &self,
        peers: &[Peer],
        chain_id: &str,
    ) -> Result<T, String> {
        let peer = peers
            .iter()
            .find(|p| p.index == self.from)
            .ok_or_else(|| format!("no peer {}", self.from))?;
        let key: [u8; 32] = hex::decode(&peer.peer_key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or("bad peer key in configuration")?;
        let key = VerifyingKey::from_bytes(&key).map_err(|e| e.to_string())?;
        let sig: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or("bad signature encoding")?;
        key.verify_strict(&digest(chain_id, &self.body), &Signature::from_bytes(&sig))
            .map_err(|_| format!("signature of peer {} does not verify", self.from))?;
        serde_json::from_str(&self.body).map_err(|e| e.to_string())
    }
}

/// A leader's proposal: the batch it asks members to sign.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Proposal {
    /// Identifies the round (leader, time, attempt).
    pub round: String,
    /// The committee epoch the signature is for.
    pub epoch: u64,
    /// Base64 of the canonical batch encoding.
    pub records: String,
}

impl Proposal {
    /// The batch bytes.
    pub fn batch_bytes(&self) -> Option<Vec<u8>> {
        B64.decode(&self.records).ok()
    }

    /// A proposal of `bytes`.
    pub fn new(round: String, epoch: u64, bytes: &[u8]) -> Self {
        Proposal {
            round,
            epoch,
            records: B64.encode(bytes),
        }
    }
}

/// A record a member will not sign, and why.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Disputed {
    /// The terminal.
    pub terminal_id: String,
    /// The window.
    pub window_start: u64,
    /// `missing` (no samples here), `mismatch` (a different record here), `proven` (already
    /// on chain), `open` (the window has not closed), `no_lease` (no lease covers the window),
    /// `tenant` (another tenant than the lease's), `lease_unknown` (C1 could not be asked).
    pub reason: String,
}

/// A member's answer to a proposal.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Every record agrees with the member's own: its BLS partial signature over the batch.
    Sign {
        /// The round answered.
        round: String,
        /// Hex of the 96-byte partial signature.
        partial: String,
    },
    /// The records the member does not agree with (it signs nothing).
    Dispute {
        /// The round answered.
        round: String,
        /// The records.
        disputed: Vec<Disputed>,
    },
    /// The proposal itself was refused (wrong epoch, malformed).
    Refuse {
        /// Why.
        reason: String,
    },
}
