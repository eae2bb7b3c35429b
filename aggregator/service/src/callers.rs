//! Who may ask this member to sign (`POST /v1/sign`), and how often.
//!
//! A request travels as a [`SealedRequest`]: the JSON text of a
//! [`SignRequest`](crate::signing::SignRequest), the committee index of the member it is
//! addressed to, the caller's clock and a fresh nonce, signed with the caller's Ed25519 key over a
//! digest bound to the chain id (like the peer envelopes of [`crate::p2p`]). A member admits it
//! only if
//! * the caller's key is in its allow-list (the committee peers' keys and the configured relayer
//!   keys) — otherwise `403 unknown_caller`;
//! * the signature verifies (`401 bad_signature`), it is addressed to this member
//!   (`401 wrong_member`), its timestamp is within [`SigningCallers::window_ms`] of this
//!   member's clock (`401 stale`) and its nonce was not seen from this caller within that window
//!   (`401 replayed`); a body that is not a sealed request is `401 unsigned`;
//! * the caller's token bucket ([`SigningCallers::per_minute`], [`SigningCallers::burst`]) has a
//!   token left — otherwise `429 rate_limited` with `Retry-After`.
//!
//! All of this is decided before any chain or bank query.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Config, SigningCallers};
use crate::signing::SignRequest;

/// Domain tag of a sealed sign request's digest.
pub const DOMAIN: &[u8] = b"usagechain/v1/sign-request";
/// Longest nonce accepted, characters.
pub const MAX_NONCE_LEN: usize = 64;

/// A sign request, signed by its caller.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SealedRequest {
    /// Hex of the caller's Ed25519 public key.
    pub caller: String,
    /// The committee index of the member addressed.
    pub member: usize,
    /// The caller's clock when it sealed the request, Unix milliseconds.
    pub timestamp_ms: u64,
    /// A value the caller never uses twice (1 to [`MAX_NONCE_LEN`] characters).
    pub nonce: String,
    /// The JSON text of the [`SignRequest`], signed as is.
    pub request: String,
    /// Hex of the caller's Ed25519 signature over [`digest`].
    pub signature: String,
}

/// The digest a caller signs: domain tag, chain id, member, timestamp, nonce and request text,
/// each variable field length-prefixed.
pub fn digest(
    chain_id: &str,
    member: usize,
    timestamp_ms: u64,
    nonce: &str,
    request: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    for field in [chain_id.as_bytes(), nonce.as_bytes(), request.as_bytes()] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    h.update((member as u64).to_be_bytes());
    h.update(timestamp_ms.to_be_bytes());
    h.finalize().into()
}

impl SealedRequest {
    /// `request` for member `member` of chain `chain_id`, sealed by `key` at `timestamp_ms`
    /// with `nonce`.
    pub fn seal(
        key: &SigningKey,
        chain_id: &str,
        member: usize,
        timestamp_ms: u64,
        nonce: &str,
        request: &SignRequest,
    ) -> Result<Self, serde_json::Error> {
        let request = serde_json::to_string(request)?;
        let signature = key.sign(&digest(chain_id, member, timestamp_ms, nonce, &request));
        Ok(SealedRequest {
            caller: hex::encode(key.verifying_key().to_bytes()),
            member,
            timestamp_ms,
            nonce: nonce.to_string(),
            request,
            signature: hex::encode(signature.to_bytes()),
        })
    }

    /// [`SealedRequest::seal`] now, with a fresh random nonce.
    pub fn seal_now(
        key: &SigningKey,
        chain_id: &str,
        member: usize,
        request: &SignRequest,
    ) -> anyhow::Result<Self> {
        let mut nonce = [0u8; 16];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut nonce)?;
        Ok(Self::seal(
            key,
            chain_id,
            member,
            crate::now_ms(),
            &hex::encode(nonce),
            request,
        )?)
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Not a sealed request.
    Unsigned,
    /// The caller's key is not in the allow-list.
    UnknownCaller,
    /// The signature does not verify.
    BadSignature,
    /// Sealed for another member.
    WrongMember,
    /// The timestamp is outside the window.
    Stale,
    /// This caller already used the nonce.
    Replayed,
    /// The caller's bucket is empty; a token is back after this many milliseconds.
    RateLimited {
        /// Milliseconds until the next token.
        retry_after_ms: u64,
    },
}

/// Milli-tokens per token: a bucket refills `per_minute` milli-tokens a millisecond.
const TOKEN: u64 = 60_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Milli-tokens.
    level: u64,
    at_ms: u64,
}

#[derive(Debug, Default)]
struct Seen {
    buckets: HashMap<[u8; 32], Bucket>,
    /// (caller, nonce) pairs whose timestamps are still within the window.
    nonces: HashSet<([u8; 32], String)>,
    /// Forget times, to drop old nonces without scanning them all.
    expiry: BTreeMap<u64, Vec<([u8; 32], String)>>,
}

/// The allow-list, the replay window and the rate limit of this member's signing service.
#[derive(Debug)]
pub struct CallerGuard {
    allowed: BTreeSet<[u8; 32]>,
    limits: SigningCallers,
    seen: Mutex<Seen>,
}

fn key_bytes(hex_key: &str) -> Option<[u8; 32]> {
    hex::decode(hex_key).ok()?.try_into().ok()
}

impl CallerGuard {
    /// The guard of `config`: its peers' keys and its relayer keys may call.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mut allowed = BTreeSet::new();
        for k in config
            .peers
            .iter()
            .map(|p| &p.peer_key)
            .chain(&config.signing.relayer_keys)
        {
            let bytes = key_bytes(k).ok_or_else(|| {
                anyhow::anyhow!("signing caller key {k:?} is not 32 bytes of hex")
            })?;
            VerifyingKey::from_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("signing caller key {k}: {e}"))?;
            allowed.insert(bytes);
        }
        Ok(CallerGuard {
            allowed,
            limits: config.signing.clone(),
            seen: Mutex::new(Seen::default()),
        })
    }

    /// Admits `body` for member `member` of chain `chain_id` at `now_ms`: the caller's key and
    /// the request text, or why not. An admitted request uses its nonce and one token.
    pub fn admit(
        &self,
        body: &[u8],
        chain_id: &str,
        member: usize,
        now_ms: u64,
    ) -> Result<([u8; 32], String), Denied> {
        let sealed: SealedRequest = serde_json::from_slice(body).map_err(|_| Denied::Unsigned)?;
        if sealed.nonce.is_empty() || sealed.nonce.len() > MAX_NONCE_LEN {
            return Err(Denied::Unsigned);
        }
        let caller = key_bytes(&sealed.caller).ok_or(Denied::Unsigned)?;
        if !self.allowed.contains(&caller) {
            return Err(Denied::UnknownCaller);
        }
        let key = VerifyingKey::from_bytes(&caller).map_err(|_| Denied::UnknownCaller)?;
        let signature: [u8; 64] = hex::decode(&sealed.signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(Denied::BadSignature)?;
        let d = digest(
            chain_id,
            sealed.member,
            sealed.timestamp_ms,
            &sealed.nonce,
            &sealed.request,
        );
        key.verify_strict(&d, &Signature::from_bytes(&signature))
            .map_err(|_| Denied::BadSignature)?;
        if sealed.member != member {
            return Err(Denied::WrongMember);
        }
        let window = self.limits.window_ms;
        if sealed.timestamp_ms.abs_diff(now_ms) > window {
            return Err(Denied::Stale);
        }

        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let seen = &mut *seen;
        // Nonces whose timestamps left the window can no longer be replayed.
        let later = seen.expiry.split_off(&now_ms.saturating_add(1));
        for (_, keys) in std::mem::replace(&mut seen.expiry, later) {
            for k in keys {
                seen.nonces.remove(&k);
            }
        }
        let nonce_key = (caller, sealed.nonce);
        if seen.nonces.contains(&nonce_key) {
            return Err(Denied::Replayed);
        }
        let capacity = u64::from(self.limits.burst.max(1)).saturating_mul(TOKEN);
        let rate = u64::from(self.limits.per_minute);
        let bucket = seen.buckets.entry(caller).or_insert(Bucket {
            level: capacity,
            at_ms: now_ms,
        });
        let refill = now_ms.saturating_sub(bucket.at_ms).saturating_mul(rate);
        bucket.level = bucket.level.saturating_add(refill).min(capacity);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        if bucket.level < TOKEN {
            let missing = TOKEN - bucket.level;
            return Err(Denied::RateLimited {
                retry_after_ms: if rate == 0 {
                    u64::MAX
                } else {
                    missing.div_ceil(rate)
                },
            });
        }
        bucket.level -= TOKEN;
        let forget_at = sealed.timestamp_ms.saturating_add(window).saturating_add(1);
        seen.expiry
            .entry(forget_at)
            .or_default()
            .push(nonce_key.clone());
        seen.nonces.insert(nonce_key);
        Ok((caller, sealed.request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{KeyFiles, Peer, Timing};

    fn guard(per_minute: u32, burst: u32) -> CallerGuard {
        let caller = SigningKey::from_bytes(&[1; 32]);
        let config = Config {
            index: 0,
            listen: String::new(),
            metrics_listen: None,
            data_dir: Default::default(),
            rpc: String::new(),
            chain_id: "c".into(),
            usage_proof: String::new(),
            period_proof: String::new(),
            settlement: None,
            ledger: None,
            withdrawal: None,
            bank: None,
            keys: KeyFiles {
                bls: Default::default(),
                peer: Default::default(),
                account: Default::default(),
            },
            peers: vec![Peer {
                index: 0,
                url: String::new(),
                peer_key: hex::encode(caller.verifying_key().to_bytes()),
            }],
            timing: Timing::default(),
            next_bls_keys: vec![],
            approved_rotation: None,
            signing: SigningCallers {
                relayer_keys: vec![],
                per_minute,
                burst,
                window_ms: 60_000,
            },
            byzantine: None,
            evidence_max_age_seconds: 1,
        };
        CallerGuard::new(&config).unwrap()
    }

    fn body(at_ms: u64, nonce: &str) -> Vec<u8> {
        let r = SignRequest::SettlementInstruction { settlement_id: 1 };
        let sealed =
            SealedRequest::seal(&SigningKey::from_bytes(&[1; 32]), "c", 0, at_ms, nonce, &r)
                .unwrap();
        serde_json::to_vec(&sealed).unwrap()
    }

    #[test]
    fn a_callers_bucket_refills_at_its_rate_up_to_its_burst() {
        let g = guard(60, 2);
        let t = 1_000_000;
        assert!(g.admit(&body(t, "a"), "c", 0, t).is_ok());
        assert!(g.admit(&body(t, "b"), "c", 0, t).is_ok());
        assert_eq!(
            g.admit(&body(t, "c"), "c", 0, t),
            Err(Denied::RateLimited {
                retry_after_ms: 1_000
            })
        );
        assert_eq!(
            g.admit(&body(t, "c"), "c", 0, t + 400),
            Err(Denied::RateLimited {
                retry_after_ms: 600
            }),
            "a refused request costs nothing"
        );
        // One token a second at 60 a minute.
        assert!(g.admit(&body(t, "c"), "c", 0, t + 1_000).is_ok());
        assert!(g.admit(&body(t, "d"), "c", 0, t + 1_000).is_err());
        // After a long pause, no more than the burst.
        let later = t + 50_000;
        assert!(g.admit(&body(later, "e"), "c", 0, later).is_ok());
        assert!(g.admit(&body(later, "f"), "c", 0, later).is_ok());
        assert!(g.admit(&body(later, "g"), "c", 0, later).is_err());
    }

    #[test]
    fn a_nonce_is_refused_while_its_timestamp_is_in_the_window_and_forgotten_after() {
        let g = guard(6_000, 100);
        let t = 1_000_000;
        assert!(g.admit(&body(t, "n"), "c", 0, t).is_ok());
        assert_eq!(
            g.admit(&body(t, "n"), "c", 0, t + 60_000),
            Err(Denied::Replayed)
        );
        assert_eq!(
            g.admit(&body(t, "n"), "c", 0, t + 60_001),
            Err(Denied::Stale)
        );
        assert!(g.admit(&body(t + 60_001, "p"), "c", 0, t + 60_001).is_ok());
        assert_eq!(
            g.seen.lock().unwrap().nonces.len(),
            1,
            "the first nonce was forgotten"
        );
        assert_eq!(
            g.admit(
                b"{\"kind\":\"settlement_instruction\",\"settlement_id\":1}",
                "c",
                0,
                t
            ),
            Err(Denied::Unsigned)
        );
        assert_eq!(
            g.admit(&body(t, "m"), "other-chain", 0, t),
            Err(Denied::BadSignature),
            "bound to the chain id"
        );
    }
}
