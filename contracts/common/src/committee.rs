//! Threshold BLS12-381 (min-pk) verification of committee signatures through `cosmwasm_std::Api`.
//!
//! A threshold signature is `{epoch, signer bitmap, aggregate signature}`. It is valid when the
//! epoch is the committee's, the bitmap names at least `threshold` members, and the aggregate of
//! exactly those members' keys verifies the aggregate signature over the message (one pairing
//! equality). Member keys enter a committee only with a valid proof of possession, so a rogue key
//! cannot cancel honest keys in the aggregate.
//!
//! Bitmap: `ceil(n / 8)` bytes; member `i` is bit `i % 8` (least significant first) of byte `i / 8`.
//! Bits at positions `>= n` must be zero.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Api, HashFunction, HexBinary, BLS12_381_G1_GENERATOR};
use thiserror::Error;

use crate::payload::{Domain, MemberKey, SignedPayload};

/// Hash-to-curve DST for committee signatures.
pub const SIG_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Hash-to-curve DST for proofs of possession.
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Compressed G1 public key length.
pub const PUBKEY_LEN: usize = 48;
/// Compressed G2 signature length.
pub const SIGNATURE_LEN: usize = 96;
/// Largest committee accepted.
pub const MAX_MEMBERS: usize = 128;

/// Why a committee or one of its signatures was refused.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum CommitteeError {
    #[error("signature is for committee epoch {got}, the current epoch is {expected}")]
    WrongEpoch { expected: u64, got: u64 },
    #[error("signer bitmap is malformed: {reason}")]
    MalformedSignerBitmap { reason: String },
    #[error("only {signers} distinct members signed, the threshold is {threshold}")]
    BelowThreshold { signers: u32, threshold: u32 },
    #[error("aggregate signature does not verify")]
    InvalidSignature,
    #[error("signature must be {SIGNATURE_LEN} bytes, got {len}")]
    InvalidSignatureLength { len: usize },
    #[error("member {index}: public key is not a valid G1 point")]
    InvalidPublicKey { index: usize },
    #[error("member {index}: proof of possession does not verify")]
    InvalidProofOfPossession { index: usize },
    #[error("member {index} repeats the key of member {first}")]
    DuplicateMember { index: usize, first: usize },
    #[error("threshold {threshold} is invalid for {members} members (need members/2 < threshold <= members)")]
    InvalidThreshold { threshold: u32, members: usize },
    #[error("a committee needs between 1 and {MAX_MEMBERS} members, got {members}")]
    InvalidSize { members: usize },
    #[error("next committee must have epoch {expected}, got {got}")]
    WrongNextEpoch { expected: u64, got: u64 },
    #[error("member {index}: the identity point is not a public key")]
    IdentityPublicKey { index: usize },
    #[error("the signers' aggregate key or the signature is the identity point")]
    IdentitySignature,
}

/// The compressed encoding of G1's point at infinity (the only one ark and blst accept).
pub const G1_IDENTITY: [u8; PUBKEY_LEN] = identity_encoding();
/// The compressed encoding of G2's point at infinity.
pub const G2_IDENTITY: [u8; SIGNATURE_LEN] = identity_encoding();

const fn identity_encoding<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = 0xc0;
    out
}

/// A committee as stored on chain: the member keys (each registered with a valid PoP).
#[cw_serde]
#[derive(Eq)]
pub struct Committee {
    pub epoch: u64,
    pub threshold: u32,
    /// Compressed G1 public keys, in signer-bitmap order.
    pub members: Vec<HexBinary>,
}

/// A committee's signature over one message.
#[cw_serde]
#[derive(Eq)]
pub struct ThresholdSignature {
    /// Epoch of the committee that signed.
    pub epoch: u64,
    /// Which members signed (see the module documentation for the layout).
    pub signers: HexBinary,
    /// Aggregate of the signers' G2 signatures, 96 bytes compressed.
    pub signature: HexBinary,
}

/// Checks a member's proof of possession: its signature over its own compressed key.
pub fn verify_pop(api: &dyn Api, pubkey: &[u8], pop: &[u8]) -> bool {
    if pubkey.len() != PUBKEY_LEN || pop.len() != SIGNATURE_LEN {
        return false;
    }
    let Ok(h) = api.bls12_381_hash_to_g2(HashFunction::Sha256, pubkey, POP_DST) else {
        return false;
    };
    api.bls12_381_pairing_equality(&BLS12_381_G1_GENERATOR, pop, pubkey, &h)
        .unwrap_or(false)
}

/// Indices of the members a bitmap names, checking its canonical form for `n` members.
pub fn bitmap_signers(bitmap: &[u8], n: usize) -> Result<Vec<usize>, CommitteeError> {
    let expected = n.div_ceil(8);
    if bitmap.len() != expected {
        return Err(CommitteeError::MalformedSignerBitmap {
            reason: format!(
                "{} bytes for {n} members, expected {expected}",
                bitmap.len()
            ),
        });
    }
    let mut out = Vec::new();
    for (byte_index, byte) in bitmap.iter().enumerate() {
        for bit in 0..8 {
            if byte >> bit & 1 == 1 {
                let index = byte_index * 8 + bit;
                if index >= n {
                    return Err(CommitteeError::MalformedSignerBitmap {
                        reason: format!("bit {index} set but the committee has {n} members"),
                    });
                }
                out.push(index);
            }
        }
    }
    Ok(out)
}

/// The bitmap naming `signers` in a committee of `n` (indices `>= n` are ignored).
pub fn signer_bitmap(signers: &[usize], n: usize) -> Vec<u8> {
    let mut bitmap = vec![0u8; n.div_ceil(8)];
    for &i in signers.iter().filter(|&&i| i < n) {
        bitmap[i / 8] |= 1 << (i % 8);
    }
    bitmap
}

impl Committee {
    /// Builds a committee from proposed members, checking size, threshold, distinct keys and every
    /// proof of possession.
    pub fn from_members(
        api: &dyn Api,
        epoch: u64,
        threshold: u32,
        members: &[MemberKey],
    ) -> Result<Committee, CommitteeError> {
        let n = members.len();
        if n == 0 || n > MAX_MEMBERS {
            return Err(CommitteeError::InvalidSize { members: n });
        }
        // More than half must sign, so two disjoint quorums can never both exist.
        if threshold as usize > n || (threshold as usize) * 2 <= n {
            return Err(CommitteeError::InvalidThreshold {
                threshold,
                members: n,
            });
        }
        let mut seen: Vec<&[u8]> = Vec::with_capacity(n);
        for (index, m) in members.iter().enumerate() {
            if m.pubkey.len() != PUBKEY_LEN {
                return Err(CommitteeError::InvalidPublicKey { index });
            }
            if let Some(first) = seen.iter().position(|k| *k == m.pubkey.as_slice()) {
                return Err(CommitteeError::DuplicateMember { index, first });
            }
            seen.push(m.pubkey.as_slice());
            // The identity passes a pairing-based PoP check (both sides are 1) and would count
            // toward the threshold without ever signing. Compressed encodings are canonical, so
            // byte equality is point equality.
            if m.pubkey.as_slice() == G1_IDENTITY {
                return Err(CommitteeError::IdentityPublicKey { index });
            }
            // Aggregating one key checks it is a valid, subgroup-checked G1 point.
            if api.bls12_381_aggregate_g1(m.pubkey.as_slice()).is_err() {
                return Err(CommitteeError::InvalidPublicKey { index });
            }
            if !verify_pop(api, m.pubkey.as_slice(), m.pop.as_slice()) {
                return Err(CommitteeError::InvalidProofOfPossession { index });
            }
        }
        Ok(Committee {
            epoch,
            threshold,
            members: members.iter().map(|m| m.pubkey.clone()).collect(),
        })
    }

    /// Verifies a threshold signature over raw message bytes.
    pub fn verify_bytes(
        &self,
        api: &dyn Api,
        msg: &[u8],
        sig: &ThresholdSignature,
    ) -> Result<(), CommitteeError> {
        if sig.epoch != self.epoch {
            return Err(CommitteeError::WrongEpoch {
                expected: self.epoch,
                got: sig.epoch,
            });
        }
        if sig.signature.len() != SIGNATURE_LEN {
            return Err(CommitteeError::InvalidSignatureLength {
                len: sig.signature.len(),
            });
        }
        let signers = bitmap_signers(sig.signers.as_slice(), self.members.len())?;
        let count = u32::try_from(signers.len()).unwrap_or(u32::MAX);
        if count < self.threshold {
            return Err(CommitteeError::BelowThreshold {
                signers: count,
                threshold: self.threshold,
            });
        }
        let mut keys = Vec::with_capacity(signers.len() * PUBKEY_LEN);
        for i in signers {
            keys.extend_from_slice(self.members[i].as_slice());
        }
        let aggregate = api
            .bls12_381_aggregate_g1(&keys)
            .map_err(|_| CommitteeError::InvalidSignature)?;
        // Keys that cancel out, or a signature at infinity, verify against anything.
        if aggregate == G1_IDENTITY || sig.signature.as_slice() == G2_IDENTITY {
            return Err(CommitteeError::IdentitySignature);
        }
        let h = api
            .bls12_381_hash_to_g2(HashFunction::Sha256, msg, SIG_DST)
            .map_err(|_| CommitteeError::InvalidSignature)?;
        match api.bls12_381_pairing_equality(
            &BLS12_381_G1_GENERATOR,
            sig.signature.as_slice(),
            &aggregate,
            &h,
        ) {
            Ok(true) => Ok(()),
            _ => Err(CommitteeError::InvalidSignature),
        }
    }

    /// Verifies a threshold signature over a payload bound to `chain_id` and `contract` and to this
    /// committee's epoch.
    pub fn verify<P: SignedPayload>(
        &self,
        api: &dyn Api,
        chain_id: &str,
        contract: &str,
        payload: &P,
        sig: &ThresholdSignature,
    ) -> Result<(), CommitteeError> {
        let domain = Domain::new(chain_id, contract, self.epoch);
        self.verify_bytes(api, &payload.signing_bytes(&domain), sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockApi;

    fn identity_member() -> MemberKey {
        MemberKey {
            pubkey: HexBinary::from(G1_IDENTITY.to_vec()),
            pop: HexBinary::from(G2_IDENTITY.to_vec()),
        }
    }

    #[test]
    fn the_identity_key_with_an_identity_pop_is_refused_as_a_member() {
        let api = MockApi::default();
        // The pairing check alone accepts it: e(g1, 0) == e(0, H(0)) == 1.
        assert!(verify_pop(&api, &G1_IDENTITY, &G2_IDENTITY));
        assert_eq!(
            Committee::from_members(&api, 1, 1, &[identity_member()]),
            Err(CommitteeError::IdentityPublicKey { index: 0 })
        );
    }

    #[test]
    fn an_identity_aggregate_key_or_signature_never_verifies() {
        let api = MockApi::default();
        // A committee holding the identity (as stored before this check existed).
        let committee = Committee {
            epoch: 1,
            threshold: 1,
            members: vec![HexBinary::from(G1_IDENTITY.to_vec())],
        };
        let sig = ThresholdSignature {
            epoch: 1,
            signers: HexBinary::from(vec![1u8]),
            signature: HexBinary::from(G2_IDENTITY.to_vec()),
        };
        assert_eq!(
            committee.verify_bytes(&api, b"anything at all", &sig),
            Err(CommitteeError::IdentitySignature)
        );
    }

    #[test]
    fn bitmap_round_trips_and_must_be_canonical() {
        let bm = signer_bitmap(&[0, 2, 9], 10);
        assert_eq!(bm, vec![0b0000_0101, 0b0000_0010]);
        assert_eq!(bitmap_signers(&bm, 10), Ok(vec![0, 2, 9]));
        assert!(matches!(
            bitmap_signers(&[0b0001_0000], 4),
            Err(CommitteeError::MalformedSignerBitmap { .. })
        ));
        assert!(matches!(
            bitmap_signers(&[1, 0], 4),
            Err(CommitteeError::MalformedSignerBitmap { .. })
        ));
    }
}
