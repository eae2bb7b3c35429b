//! Off-chain side of the committee's BLS12-381 (min-pk) signatures, with `blst`: key generation,
//! proofs of possession, partial signatures, aggregation and native verification. Services and
//! tests use it; the contracts never link it (they verify through `cosmwasm_std::Api`).

use blst::min_pk::{AggregateSignature, PublicKey, SecretKey, Signature};
use blst::BLST_ERROR;
use cosmwasm_std::HexBinary;
use sha2::{Digest, Sha256};
use usage_common::committee::{signer_bitmap, POP_DST, SIG_DST};
use usage_common::payload::{Domain, MemberKey, SignedPayload};
use usage_common::{Committee, ThresholdSignature};

/// Why a signing operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerError {
    /// Key material shorter than 32 bytes or otherwise refused by blst.
    BadKeyMaterial,
    /// A partial signature is not a valid G2 point.
    BadSignature,
    /// Nothing to aggregate.
    NoSignatures,
}

impl std::fmt::Display for SignerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for SignerError {}

/// One committee member's secret key.
#[derive(Clone)]
pub struct MemberSecret {
    sk: SecretKey,
}

impl std::fmt::Debug for MemberSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberSecret")
            .field("pubkey", &hex(&self.public_key()))
            .finish_non_exhaustive()
    }
}

fn hex(b: &[u8]) -> String {
    HexBinary::from(b).to_hex()
}

impl MemberSecret {
    /// Derives a key from at least 32 bytes of input keying material (IETF KeyGen).
    pub fn from_ikm(ikm: &[u8]) -> Result<Self, SignerError> {
        SecretKey::key_gen(ikm, &[])
            .map(|sk| MemberSecret { sk })
            .map_err(|_| SignerError::BadKeyMaterial)
    }

    /// A deterministic key for tests and local networks: IKM = SHA-256(label).
    pub fn from_label(label: &str) -> Self {
        let ikm: [u8; 32] = Sha256::digest(label.as_bytes()).into();
        // 32 bytes of IKM is always accepted by KeyGen.
        Self::from_ikm(&ikm).unwrap_or_else(|_| unreachable!("32-byte ikm"))
    }

    /// The secret scalar, 32 bytes big-endian (for storing the key).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.sk.to_bytes()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignerError> {
        SecretKey::from_bytes(bytes)
            .map(|sk| MemberSecret { sk })
            .map_err(|_| SignerError::BadKeyMaterial)
    }

    /// Compressed G1 public key.
    pub fn public_key(&self) -> [u8; 48] {
        self.sk.sk_to_pk().compress()
    }

    /// Proof of possession: the signature over the member's own compressed key under the PoP DST.
    pub fn proof_of_possession(&self) -> [u8; 96] {
        self.sk.sign(&self.public_key(), POP_DST, &[]).compress()
    }

    /// Key and proof of possession, as a committee registration needs them.
    pub fn member_key(&self) -> MemberKey {
        MemberKey {
            pubkey: HexBinary::from(self.public_key()),
            pop: HexBinary::from(self.proof_of_possession()),
        }
    }

    /// This member's partial signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 96] {
        self.sk.sign(msg, SIG_DST, &[]).compress()
    }
}

/// Aggregates partial signatures over the same message.
pub fn aggregate(partials: &[[u8; 96]]) -> Result<[u8; 96], SignerError> {
    if partials.is_empty() {
        return Err(SignerError::NoSignatures);
    }
    let sigs = partials
        .iter()
        .map(|p| Signature::sig_validate(p, true).map_err(|_| SignerError::BadSignature))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&Signature> = sigs.iter().collect();
    AggregateSignature::aggregate(&refs, false)
        .map(|a| a.to_signature().compress())
        .map_err(|_| SignerError::BadSignature)
}

/// Verifies one member's partial signature natively.
pub fn verify_partial(pubkey: &[u8], msg: &[u8], partial: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        PublicKey::key_validate(pubkey),
        Signature::sig_validate(partial, true),
    ) else {
        return false;
    };
    sig.verify(true, msg, SIG_DST, &[], &pk, true) == BLST_ERROR::BLST_SUCCESS
}

/// Verifies a member key's proof of possession natively: its signature over its own compressed
/// public key under the PoP DST (the check C1 makes when it registers a key).
pub fn verify_pop(pubkey: &[u8], pop: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        PublicKey::key_validate(pubkey),
        Signature::sig_validate(pop, true),
    ) else {
        return false;
    };
    sig.verify(true, pubkey, POP_DST, &[], &pk, true) == BLST_ERROR::BLST_SUCCESS
}

/// Verifies a threshold signature natively (the same rule the contracts apply on chain).
pub fn verify_threshold(committee: &Committee, msg: &[u8], sig: &ThresholdSignature) -> bool {
    if sig.epoch != committee.epoch {
        return false;
    }
    let Ok(signers) =
        usage_common::committee::bitmap_signers(sig.signers.as_slice(), committee.members.len())
    else {
        return false;
    };
    if signers.len() < committee.threshold as usize {
        return false;
    }
    let Ok(keys) = signers
        .iter()
        .map(|&i| PublicKey::key_validate(committee.members[i].as_slice()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    let Ok(agg) = Signature::sig_validate(sig.signature.as_slice(), true) else {
        return false;
    };
    let refs: Vec<&PublicKey> = keys.iter().collect();
    agg.fast_aggregate_verify(true, msg, SIG_DST, &refs) == BLST_ERROR::BLST_SUCCESS
}

/// A whole committee's secrets in one place: for tests, benchmarks and local networks, where one
/// process plays every data-processing centre.
#[derive(Debug, Clone)]
pub struct SigningCommittee {
    pub epoch: u64,
    pub threshold: u32,
    pub members: Vec<MemberSecret>,
}

impl SigningCommittee {
    /// `n` deterministic members derived from `label`.
    pub fn deterministic(label: &str, epoch: u64, n: usize, threshold: u32) -> Self {
        SigningCommittee {
            epoch,
            threshold,
            members: (0..n)
                .map(|i| MemberSecret::from_label(&format!("{label}/member/{i}")))
                .collect(),
        }
    }

    pub fn member_keys(&self) -> Vec<MemberKey> {
        self.members.iter().map(MemberSecret::member_key).collect()
    }

    /// The committee as a contract stores it.
    pub fn committee(&self) -> Committee {
        Committee {
            epoch: self.epoch,
            threshold: self.threshold,
            members: self
                .members
                .iter()
                .map(|m| HexBinary::from(m.public_key()))
                .collect(),
        }
    }

    /// A threshold signature by the members at `signers` over raw bytes.
    pub fn sign_bytes(&self, signers: &[usize], msg: &[u8]) -> ThresholdSignature {
        let partials: Vec<[u8; 96]> = signers.iter().map(|&i| self.members[i].sign(msg)).collect();
        ThresholdSignature {
            epoch: self.epoch,
            signers: HexBinary::from(signer_bitmap(signers, self.members.len())),
            signature: HexBinary::from(aggregate(&partials).unwrap_or([0u8; 96])),
        }
    }

    /// A threshold signature by the members at `signers` over `payload` in the given domain
    /// (this committee's epoch).
    pub fn sign<P: SignedPayload>(
        &self,
        signers: &[usize],
        chain_id: &str,
        contract: &str,
        payload: &P,
    ) -> ThresholdSignature {
        let domain = Domain::new(chain_id, contract, self.epoch);
        self.sign_bytes(signers, &payload.signing_bytes(&domain))
    }

    /// Signed by the first `threshold` members.
    pub fn sign_quorum<P: SignedPayload>(
        &self,
        chain_id: &str,
        contract: &str,
        payload: &P,
    ) -> ThresholdSignature {
        let signers: Vec<usize> = (0..self.threshold as usize).collect();
        self.sign(&signers, chain_id, contract, payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_of_possession_verifies_only_for_its_own_key() {
        let a = MemberSecret::from_label("pop-a");
        let b = MemberSecret::from_label("pop-b");
        assert!(verify_pop(&a.public_key(), &a.proof_of_possession()));
        assert!(!verify_pop(&a.public_key(), &b.proof_of_possession()));
        // A signature over the key under the message DST is not a proof of possession.
        assert!(!verify_pop(&a.public_key(), &a.sign(&a.public_key())));
    }

    #[test]
    fn a_quorum_signature_verifies_natively_and_a_short_one_does_not() {
        let c = SigningCommittee::deterministic("t", 1, 4, 3);
        let msg = b"usagechain test";
        let sig = c.sign_bytes(&[0, 1, 3], msg);
        assert!(verify_threshold(&c.committee(), msg, &sig));
        assert!(!verify_threshold(&c.committee(), b"other", &sig));
        let short = c.sign_bytes(&[0, 1], msg);
        assert!(!verify_threshold(&c.committee(), msg, &short));
        // A bitmap that claims a member who did not sign fails.
        let mut lying = c.sign_bytes(&[0, 1], msg);
        lying.signers = HexBinary::from(signer_bitmap(&[0, 1, 2], 4));
        assert!(!verify_threshold(&c.committee(), msg, &lying));
    }

    #[test]
    fn partial_signatures_verify_against_their_own_key_only() {
        let c = SigningCommittee::deterministic("p", 1, 2, 2);
        let p = c.members[0].sign(b"m");
        assert!(verify_partial(&c.members[0].public_key(), b"m", &p));
        assert!(!verify_partial(&c.members[1].public_key(), b"m", &p));
    }
}
