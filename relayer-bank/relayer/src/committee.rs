//! Collecting the committee's threshold signature: the relayer asks each member's signing
//! service (`POST /v1/sign`, sealed with the relayer's key) and combines the partials of the
//! first `threshold` that agree. Every member checks the request against the chain and the bank
//! on its own; the relayer cannot make them sign anything they did not verify.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use usage_aggregator::signing::{ask, Refusal, SignRequest};
use usage_aggregator_core::quorum::Quorum;
use usage_client::ChainClient;
use usage_common::msg::usage_proof as c1;
use usage_common::ThresholdSignature;

/// The members and how to reach them.
pub struct Committee {
    http: reqwest::Client,
    members: Vec<String>,
    key: SigningKey,
    chain_id: String,
    usage_proof: String,
}

/// Why no threshold signature came together.
#[derive(Debug, thiserror::Error)]
pub enum NoSignature {
    /// A member says the request was already consumed on chain (the caller checks the chain
    /// before believing it).
    #[error("a member says it is already consumed on chain")]
    Consumed,
    /// Fewer than the threshold signed: their refusals, and whether any member refused on the
    /// merits (the chain or the bank contradicts the request), not for being unreachable.
    #[error("no quorum: {detail}")]
    NoQuorum {
        /// The refusals.
        detail: String,
        /// Whether a member refused on the merits.
        definitive: bool,
    },
    /// The chain could not be asked for the committee.
    #[error("chain: {0}")]
    Chain(String),
}

impl Committee {
    /// The members at `members` (by committee index), asked with `key`.
    pub fn new(
        members: Vec<String>,
        key: SigningKey,
        chain_id: &str,
        usage_proof: &str,
    ) -> Committee {
        Committee {
            http: reqwest::Client::new(),
            members,
            key,
            chain_id: chain_id.to_string(),
            usage_proof: usage_proof.to_string(),
        }
    }

    /// The epoch of the committee C1 holds now.
    pub async fn epoch(&self, chain: &ChainClient) -> Result<u64, NoSignature> {
        let committee: c1::CommitteeResponse = chain
            .smart(&self.usage_proof, &c1::QueryMsg::Committee {})
            .await
            .map_err(|e| NoSignature::Chain(e.to_string()))?;
        Ok(committee.committee.epoch)
    }

    /// The committee's threshold signature of `request`.
    pub async fn sign(
        &self,
        chain: &ChainClient,
        request: &SignRequest,
    ) -> Result<ThresholdSignature, NoSignature> {
        let committee: c1::CommitteeResponse = chain
            .smart(&self.usage_proof, &c1::QueryMsg::Committee {})
            .await
            .map_err(|e| NoSignature::Chain(e.to_string()))?;
        // Partials are grouped by the bytes their member signed, and each is verified before it
        // counts: a member (or anyone between it and the relayer) answering with other bytes or
        // a bad partial spoils nothing for the others.
        let mut quorums: BTreeMap<Vec<u8>, Quorum> = BTreeMap::new();
        let mut refusals = vec![];
        let mut consumed = false;
        let mut definitive = false;
        for (index, url) in self.members.iter().enumerate() {
            match ask(&self.http, url, &self.key, &self.chain_id, index, request).await {
                Ok(answer) => {
                    let (Ok(bytes), Ok(partial)) = (
                        hex::decode(&answer.signing_bytes),
                        hex::decode(&answer.partial),
                    ) else {
                        refusals.push(format!("member {index}: malformed answer"));
                        continue;
                    };
                    let Ok(partial): Result<[u8; 96], _> = partial.try_into() else {
                        refusals.push(format!("member {index}: malformed partial"));
                        continue;
                    };
                    let q = quorums
                        .entry(bytes.clone())
                        .or_insert_with(|| Quorum::new(committee.committee.clone(), bytes));
                    if let Err(e) = q.add(answer.member, partial) {
                        refusals.push(format!("member {index}: {e}"));
                        continue;
                    }
                    if let Some(sig) = q.signature() {
                        return Ok(sig);
                    }
                }
                Err((_, body)) if body.error == Refusal::AlreadyConsumed => {
                    // One member's word; the caller confirms it on chain before acting on it.
                    consumed = true;
                    refusals.push(format!("member {index}: already consumed"));
                }
                Err((status, body)) => {
                    definitive |= matches!(
                        body.error,
                        Refusal::BankDisagrees
                            | Refusal::Mismatch
                            | Refusal::Malformed
                            | Refusal::NotFound
                            | Refusal::WrongState
                    );
                    refusals.push(format!(
                        "member {index}: {status} {:?} {}",
                        body.error, body.message
                    ))
                }
            }
        }
        if consumed {
            return Err(NoSignature::Consumed);
        }
        Err(NoSignature::NoQuorum {
            detail: refusals.join("; "),
            definitive,
        })
    }
}
