//! Verification of one signed terminal sample (design flow 2, "checks it"): the Ed25519 signature,
//! that the key is the terminal's registered attestor key, sequence continuity (replays refused,
//! gaps reported) and physical plausibility. Counter monotonicity is checked during aggregation,
//! where consecutive samples are at hand.

use thiserror::Error;
use usage_sample::sample::Sample;
use usage_sample::tee::{SignatureError, SignedSample};

/// How far in the future (relative to the aggregator's clock) a sample may claim to be taken.
pub const MAX_FUTURE_SKEW_MS: u64 = 60_000;

/// Why a signed sample was refused.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The signature does not verify, or the public key is not a valid Ed25519 point.
    #[error("signature does not verify")]
    BadSignature,
    /// Signed by another key than the terminal's registered attestor key.
    #[error("signed by {found}, not by the terminal's registered key {expected}")]
    KeyMismatch {
        /// Hex of the registered key.
        expected: String,
        /// Hex of the key that signed.
        found: String,
    },
    /// The signed bytes are not a valid canonical sample (includes out-of-range fields such as
    /// `link_loss_ppm > 1_000_000` or `idle_cpu_permille > 1000`, which decoding refuses).
    #[error("malformed sample: {reason}")]
    Malformed {
        /// What the decoder refused.
        reason: String,
    },
    /// The sequence number is not above the last one accepted from this terminal.
    #[error("sample {seq} replayed: last accepted is {last}")]
    Replayed {
        /// The sample's sequence number.
        seq: u64,
        /// The last sequence number accepted.
        last: u64,
    },
    /// A value that cannot be physically true.
    #[error("implausible sample: {reason}")]
    Implausible {
        /// What is implausible.
        reason: String,
    },
}

/// A sample that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The decoded sample.
    pub sample: Sample,
    /// Missing sequence numbers `(first, last)`, inclusive, between the last accepted sample and
    /// this one; `None` if the sequence is contiguous (or nothing was accepted before).
    pub gap: Option<(u64, u64)>,
}

/// Verifies `signed` as the next sample of a terminal whose registered attestor key is
/// `expected_key`, whose last accepted sequence number is `last_seq`, at aggregator time `now_ms`
/// (Unix milliseconds). A gap in the sequence is accepted and reported in [`Verified::gap`].
pub fn verify_sample(
    signed: &SignedSample,
    expected_key: &[u8; 32],
    last_seq: Option<u64>,
    now_ms: u64,
) -> Result<Verified, Rejection> {
    match ed25519_dalek::VerifyingKey::from_bytes(expected_key) {
        Ok(key) => verify_sample_with(signed, &key, last_seq, now_ms),
        Err(_) if &signed.public_key != expected_key => Err(Rejection::KeyMismatch {
            expected: hex(expected_key),
            found: hex(&signed.public_key),
        }),
        Err(_) => Err(Rejection::BadSignature),
    }
}

/// [`verify_sample`] with the registered key already decoded (an aggregator keeps each
/// terminal's decoded key: decoding is about a quarter of a verification).
pub fn verify_sample_with(
    signed: &SignedSample,
    expected_key: &ed25519_dalek::VerifyingKey,
    last_seq: Option<u64>,
    now_ms: u64,
) -> Result<Verified, Rejection> {
    if &signed.public_key != expected_key.as_bytes() {
        return Err(Rejection::KeyMismatch {
            expected: hex(expected_key.as_bytes()),
            found: hex(&signed.public_key),
        });
    }
    let sample = signed.verify_with(expected_key).map_err(|e| match e {
        SignatureError::BadPublicKey | SignatureError::BadSignature => Rejection::BadSignature,
        other => Rejection::Malformed {
            reason: other.to_string(),
        },
    })?;
    let gap = match last_seq {
        Some(last) if sample.seq <= last => {
            return Err(Rejection::Replayed {
                seq: sample.seq,
                last,
            })
        }
        // `sample.seq > last`, so `last + 1` cannot overflow.
        Some(last) if sample.seq > last + 1 => Some((last + 1, sample.seq - 1)),
        _ => None,
    };
    let limit = now_ms.saturating_add(MAX_FUTURE_SKEW_MS);
    if sample.taken_at_ms > limit {
        return Err(Rejection::Implausible {
            reason: format!(
                "taken at {} ms, more than {MAX_FUTURE_SKEW_MS} ms after now ({now_ms} ms)",
                sample.taken_at_ms
            ),
        });
    }
    Ok(Verified { sample, gap })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use usage_sample::simulate::SimulatedKey;
    use usage_sample::tee::TeeBackend;

    /// A software terminal key of its own for each `name`.
    pub(crate) fn backend(name: &str) -> SimulatedKey {
        SimulatedKey::derive(&format!("usage-aggregator-core-{name}"), 0)
    }

    pub(crate) fn sample(seq: u64, taken_at_ms: u64) -> Sample {
        Sample {
            terminal_id: "term-1".into(),
            tenant: "usage1tenant".into(),
            config_hash: [0xc0; 32],
            seq,
            taken_at_ms,
            net_rx_bytes: 1_000,
            net_tx_bytes: 2_000,
            cpu_time_us: 3_000,
            memory_bytes: 4 << 20,
            storage_bytes: 5 << 20,
            idle_cpu_permille: 600,
            idle_memory_bytes: 6 << 20,
            idle_disk_bytes: 7 << 20,
            link_rtt_us: 800,
            link_loss_ppm: 9,
            app_up: true,
        }
    }

    const NOW: u64 = 1_700_000_000_000;

    #[test]
    fn a_correctly_signed_next_sample_is_accepted_without_gap() {
        let b = backend("accept");
        let s = sample(5, NOW);
        let signed = SignedSample::sign(&s, &b).unwrap();
        let v = verify_sample(&signed, &b.public_key(), Some(4), NOW).unwrap();
        assert_eq!(
            v,
            Verified {
                sample: s,
                gap: None
            }
        );
        let first = verify_sample(&signed, &b.public_key(), None, NOW).unwrap();
        assert_eq!(first.gap, None);
    }

    #[test]
    fn a_gap_in_the_sequence_is_accepted_and_reported() {
        let b = backend("gap");
        let signed = SignedSample::sign(&sample(10, NOW), &b).unwrap();
        let v = verify_sample(&signed, &b.public_key(), Some(6), NOW).unwrap();
        assert_eq!(v.gap, Some((7, 9)));
    }

    #[test]
    fn a_replayed_or_older_sequence_number_is_refused() {
        let b = backend("replay");
        let signed = SignedSample::sign(&sample(5, NOW), &b).unwrap();
        for last in [5, 9] {
            assert_eq!(
                verify_sample(&signed, &b.public_key(), Some(last), NOW),
                Err(Rejection::Replayed { seq: 5, last })
            );
        }
    }

    #[test]
    fn a_tampered_sample_or_signature_is_refused_as_bad_signature() {
        let b = backend("tamper");
        let mut signed = SignedSample::sign(&sample(1, NOW), &b).unwrap();
        signed.signature[0] ^= 1;
        assert_eq!(
            verify_sample(&signed, &b.public_key(), None, NOW),
            Err(Rejection::BadSignature)
        );
        let mut signed = SignedSample::sign(&sample(1, NOW), &b).unwrap();
        let last = signed.sample.len() - 2;
        signed.sample[last] ^= 1;
        assert_eq!(
            verify_sample(&signed, &b.public_key(), None, NOW),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn a_sample_signed_by_another_key_is_refused_as_key_mismatch() {
        let registered = backend("registered");
        let other = backend("other");
        let signed = SignedSample::sign(&sample(1, NOW), &other).unwrap();
        assert!(matches!(
            verify_sample(&signed, &registered.public_key(), None, NOW),
            Err(Rejection::KeyMismatch { .. })
        ));
    }

    #[test]
    fn a_decoded_registered_key_gives_the_same_verdicts_as_its_bytes() {
        let b = backend("decoded");
        let other = backend("decoded-other");
        let key = ed25519_dalek::VerifyingKey::from_bytes(&b.public_key()).unwrap();
        let good = SignedSample::sign(&sample(3, NOW), &b).unwrap();
        let mut tampered = good.clone();
        tampered.signature[5] ^= 1;
        let foreign = SignedSample::sign(&sample(3, NOW), &other).unwrap();
        for signed in [&good, &tampered, &foreign] {
            assert_eq!(
                verify_sample_with(signed, &key, Some(2), NOW),
                verify_sample(signed, &b.public_key(), Some(2), NOW)
            );
        }
        assert!(verify_sample_with(&good, &key, Some(2), NOW).is_ok());
        assert_eq!(
            verify_sample_with(&tampered, &key, None, NOW),
            Err(Rejection::BadSignature)
        );
        assert!(matches!(
            verify_sample_with(&foreign, &key, None, NOW),
            Err(Rejection::KeyMismatch { .. })
        ));
        // A registered key of small order decodes, and strict verification still refuses it; a
        // registered key that does not decode refuses every sample.
        let small = [0u8; 32];
        let by_small = SignedSample {
            public_key: small,
            ..good.clone()
        };
        let small_key = ed25519_dalek::VerifyingKey::from_bytes(&small).unwrap();
        assert_eq!(
            verify_sample_with(&by_small, &small_key, None, NOW),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify_sample(&by_small, &small, None, NOW),
            Err(Rejection::BadSignature)
        );
        let undecodable = (0u8..=255)
            .map(|b| [b; 32])
            .find(|k| ed25519_dalek::VerifyingKey::from_bytes(k).is_err())
            .unwrap();
        let by_undecodable = SignedSample {
            public_key: undecodable,
            ..good.clone()
        };
        assert_eq!(
            verify_sample(&by_undecodable, &undecodable, None, NOW),
            Err(Rejection::BadSignature)
        );
        assert!(matches!(
            verify_sample(&good, &undecodable, None, NOW),
            Err(Rejection::KeyMismatch { .. })
        ));
        // A sample carrying a key other than the one it is verified with is refused.
        assert_eq!(
            foreign.verify_with(&key),
            Err(usage_sample::tee::SignatureError::BadPublicKey)
        );
    }

    #[test]
    fn a_sample_from_more_than_a_minute_in_the_future_is_implausible() {
        let b = backend("future");
        let ok = SignedSample::sign(&sample(1, NOW + MAX_FUTURE_SKEW_MS), &b).unwrap();
        assert!(verify_sample(&ok, &b.public_key(), None, NOW).is_ok());
        let late = SignedSample::sign(&sample(1, NOW + MAX_FUTURE_SKEW_MS + 1), &b).unwrap();
        assert!(matches!(
            verify_sample(&late, &b.public_key(), None, NOW),
            Err(Rejection::Implausible { .. })
        ));
    }
}
