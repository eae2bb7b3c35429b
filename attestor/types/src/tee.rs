//! The terminal key's contract (design §3 "Terminal keys"), as both sides of the wire see it.
//!
//! A [`TeeBackend`] holds an Ed25519 key that never leaves it, signs with it, and produces
//! [`Evidence`] binding the key and a terminal's host configuration to an enclave measurement:
//! the evidence's 64-byte report data is [`report_data_for`] the public key and the configuration's
//! hash ([`crate::terminal::TerminalConfig::hash`]), so evidence = key + measurement + config
//! hash, one per terminal. The verifier side is here too: [`verify_evidence`] (and, with the
//! `dcap` feature, [`verify_evidence_with`] for SGX and TDX quotes) and [`SignedSample::verify`].
//! Backends live with the terminal agent (`usage-attestor`'s software key file) or in
//! [`crate::simulate`].

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
#[cfg(test)]
use sha2::Sha256;
use sha2::{Digest, Sha512};
use thiserror::Error;
use usage_common::codec::{DecodeError, Decoder, Encoder};
pub use usage_common::msg::usage_proof::TeeKind;

use crate::sample::{Sample, SampleError};

/// Domain tag hashed with the public key and the configuration hash into the evidence's report
/// data.
pub const REPORT_DATA_DOMAIN: &str = "usagechain/v2/attestor-report";
/// What the software backend's measurement is the SHA-256 of.
pub const SOFTWARE_MEASUREMENT_LABEL: &str = "usagechain software tee v1";

/// The report data that binds `public_key` and the terminal configuration `config_hash` to an
/// enclave: `SHA-512(REPORT_DATA_DOMAIN || public_key || config_hash)` (both 32 bytes), filling
/// the 64 bytes every TEE report carries.
pub fn report_data_for(public_key: &[u8; 32], config_hash: &[u8; 32]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(REPORT_DATA_DOMAIN.as_bytes());
    h.update(public_key);
    h.update(config_hash);
    h.finalize().into()
}

/// The software backend's measurement: `SHA-256("usagechain software tee v1")`.
pub fn software_measurement() -> Measurement {
    Measurement(sha2::Sha256::digest(SOFTWARE_MEASUREMENT_LABEL.as_bytes()).to_vec())
}

/// The evidence a software backend presents for `public_key` under the terminal configuration
/// `config_hash`: labelled `Software`, the fixed software measurement, their report data and no
/// quote.
pub fn software_evidence(public_key: &[u8; 32], config_hash: &[u8; 32]) -> Evidence {
    Evidence {
        kind: TeeKind::Software,
        measurement: software_measurement().0,
        report_data: report_data_for(public_key, config_hash),
        quote: Vec::new(),
    }
}

/// An enclave measurement (MRENCLAVE, MRTD, SEV-SNP launch digest, or the software label's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement(pub Vec<u8>);

impl Measurement {
    /// Lower-case hex, as the chain's allowlist shows it.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

/// Attestation evidence: which TEE, its measurement, the report data binding the key and the
/// terminal configuration, and the TEE's signed quote (empty for the software backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Which TEE produced it.
    pub kind: TeeKind,
    /// The enclave measurement the quote attests.
    pub measurement: Vec<u8>,
    /// 64 bytes of report data; [`report_data_for`] the terminal's public key and configuration
    /// hash.
    pub report_data: [u8; 64],
    /// The TEE's quote or report; empty for [`TeeKind::Software`].
    pub quote: Vec<u8>,
}

/// Why evidence was not accepted.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum EvidenceError {
    /// This build cannot verify evidence of that kind yet; it is refused, never trusted.
    #[error("cannot verify {} evidence yet", .kind.as_str())]
    Unsupported {
        /// The kind refused.
        kind: TeeKind,
    },
    /// The report data does not bind the given public key and terminal configuration.
    #[error("report data does not bind the public key and the terminal configuration")]
    KeyNotBound,
    /// The measurement is not the one this kind of evidence must carry.
    #[error("unexpected measurement {found}")]
    WrongMeasurement {
        /// Hex of the measurement found.
        found: String,
    },
    /// Software evidence carries a quote, which it never produces.
    #[error("software evidence must have an empty quote")]
    UnexpectedQuote,
    /// The quote did not verify against its collateral, or its TCB status is refused.
    #[cfg(feature = "dcap")]
    #[error("quote refused: {0}")]
    Quote(#[from] usage_attestor_dcap::DcapError),
    /// The quote is of another TEE than the evidence claims.
    #[error("the quote is not a {} quote", .claimed.as_str())]
    KindMismatch {
        /// The kind the evidence claims.
        claimed: TeeKind,
    },
}

/// What verifying a DCAP quote needs besides the quote: Intel's collateral (as JSON, from a
/// PCCS), a trusted current time (Unix seconds) and the TCB statuses accepted.
#[cfg(feature = "dcap")]
#[derive(Debug, Clone)]
pub struct DcapInput<'a> {
    /// The collateral JSON.
    pub collateral_json: &'a [u8],
    /// Now, Unix seconds.
    pub now_unix_secs: u64,
    /// Accepted TCB statuses.
    pub policy: usage_attestor_dcap::TcbPolicy,
}

/// [`verify_evidence`], and for SGX and TDX evidence the quote itself: it must verify against
/// `dcap`'s collateral at its time (Intel's certificate chain, CRLs, TCB info, QE identity), its
/// report data must be [`report_data_for`] `public_key` and `config_hash`, and its measurement
/// (MRENCLAVE, MRTD) must be the one the evidence names. Without `dcap`, quote-carrying kinds are
/// refused.
#[cfg(feature = "dcap")]
pub fn verify_evidence_with(
    evidence: &Evidence,
    public_key: &[u8; 32],
    config_hash: &[u8; 32],
    dcap: Option<&DcapInput<'_>>,
) -> Result<Measurement, EvidenceError> {
    let quote_kind = match evidence.kind {
        TeeKind::Sgx => usage_attestor_dcap::QuoteKind::Sgx,
        TeeKind::Tdx => usage_attestor_dcap::QuoteKind::Tdx,
        TeeKind::Software | TeeKind::SevSnp => {
            return verify_evidence(evidence, public_key, config_hash)
        }
    };
    let Some(input) = dcap else {
        return Err(EvidenceError::Unsupported {
            kind: evidence.kind,
        });
    };
    let report = usage_attestor_dcap::verify_bound_quote_with_policy(
        &evidence.quote,
        input.collateral_json,
        input.now_unix_secs,
        &report_data_for(public_key, config_hash),
        &input.policy,
    )?;
    if report.kind != quote_kind {
        return Err(EvidenceError::KindMismatch {
            claimed: evidence.kind,
        });
    }
    if report.measurement != evidence.measurement {
        return Err(EvidenceError::WrongMeasurement {
            found: hex::encode(&report.measurement),
        });
    }
    Ok(Measurement(report.measurement))
}

/// Checks `evidence` and that it binds `public_key` and the terminal configuration
/// `config_hash`; returns the attested measurement, which the caller still has to find on the
/// allowlist. Software evidence is checked for its fixed measurement, empty quote and binding;
/// kinds with a quote are refused with [`EvidenceError::Unsupported`] until their verifier is
/// wired in.
pub fn verify_evidence(
    evidence: &Evidence,
    public_key: &[u8; 32],
    config_hash: &[u8; 32],
) -> Result<Measurement, EvidenceError> {
    match evidence.kind {
        TeeKind::Software => {
            let expected = software_measurement();
            if evidence.measurement != expected.0 {
                return Err(EvidenceError::WrongMeasurement {
                    found: hex::encode(&evidence.measurement),
                });
            }
            if !evidence.quote.is_empty() {
                return Err(EvidenceError::UnexpectedQuote);
            }
            if evidence.report_data != report_data_for(public_key, config_hash) {
                return Err(EvidenceError::KeyNotBound);
            }
            Ok(expected)
        }
        kind @ (TeeKind::Sgx | TeeKind::Tdx | TeeKind::SevSnp) => {
            Err(EvidenceError::Unsupported { kind })
        }
    }
}

/// A TEE holding the terminal's Ed25519 key.
pub trait TeeBackend {
    /// Which TEE this is.
    fn kind(&self) -> TeeKind;
    /// The Ed25519 public key.
    fn public_key(&self) -> [u8; 32];
    /// Signs `msg` with the key (Ed25519, RFC 8032).
    fn sign(&self, msg: &[u8]) -> [u8; 64];
    /// Evidence binding [`TeeBackend::public_key`] and the terminal configuration `config_hash`
    /// to this enclave's measurement (one per terminal the key speaks for).
    fn evidence(&self, config_hash: &[u8; 32]) -> Evidence;
}

/// An Ed25519 key held in memory, presenting software evidence: what a machine without a TEE
/// signs with (the agent's key file, simulated terminals). `Debug` shows its public key only.
pub struct SoftwareKey {
    key: SigningKey,
}

impl SoftwareKey {
    /// The key with the 32-byte `secret` (an Ed25519 seed).
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        SoftwareKey {
            key: SigningKey::from_bytes(secret),
        }
    }
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl TeeBackend for SoftwareKey {
    fn kind(&self) -> TeeKind {
        TeeKind::Software
    }
    fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }
    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }
    fn evidence(&self, config_hash: &[u8; 32]) -> Evidence {
        software_evidence(&self.public_key(), config_hash)
    }
}

/// Largest encoded sample a [`SignedSample`] may carry.
pub const MAX_SAMPLE_BYTES: usize = 1024;

/// Why a signed sample was refused.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum SignatureError {
    /// The public key is not a valid Ed25519 point.
    #[error("invalid public key")]
    BadPublicKey,
    /// The signature does not verify (strict RFC 8032 rules).
    #[error("signature does not verify")]
    BadSignature,
    /// The signed bytes are not a valid sample.
    #[error(transparent)]
    Sample(#[from] SampleError),
    /// The stored or transported form is malformed.
    #[error("malformed signed sample: {0}")]
    Decode(#[from] DecodeError),
}

/// A sample's canonical bytes with the terminal key's signature over exactly those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSample {
    /// [`Sample::encode`] output.
    pub sample: Vec<u8>,
    /// Ed25519 signature over `sample`.
    pub signature: [u8; 64],
    /// The signer's Ed25519 public key.
    pub public_key: [u8; 32],
}

impl SignedSample {
    /// Encodes and signs `sample` with `backend`.
    pub fn sign(sample: &Sample, backend: &dyn TeeBackend) -> Result<Self, SampleError> {
        let bytes = sample.encode()?;
        Ok(Self {
            signature: backend.sign(&bytes),
            public_key: backend.public_key(),
            sample: bytes,
        })
    }

    /// Verifies the signature (strictly: no small-order keys, canonical `S`) and decodes the
    /// sample. Whether `public_key` belongs to a registered terminal is the caller's check.
    pub fn verify(&self) -> Result<Sample, SignatureError> {
        let key =
            VerifyingKey::from_bytes(&self.public_key).map_err(|_| SignatureError::BadPublicKey)?;
        self.verify_with(&key)
    }

    /// [`SignedSample::verify`] with its public key already decoded (decoding a key is about a
    /// quarter of a verification): `key` must be the sample's own key.
    pub fn verify_with(&self, key: &VerifyingKey) -> Result<Sample, SignatureError> {
        if key.as_bytes() != &self.public_key {
            return Err(SignatureError::BadPublicKey);
        }
        key.verify_strict(&self.sample, &Signature::from_bytes(&self.signature))
            .map_err(|_| SignatureError::BadSignature)?;
        Ok(Sample::decode(&self.sample)?)
    }

    /// Storage/transport form: `bytes sample (u32 length) || signature (64) || public key (32)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(self.sample.len() + 100);
        e.bytes(&self.sample)
            .fixed(&self.signature)
            .fixed(&self.public_key);
        e.finish()
    }

    /// Strictly decodes [`SignedSample::encode`] output (does not verify the signature).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(bytes);
        let sample = d.bytes("sample", MAX_SAMPLE_BYTES)?.to_vec();
        let mut signature = [0u8; 64];
        signature.copy_from_slice(d.fixed(64)?);
        let public_key = d.hash()?;
        d.finish()?;
        Ok(Self {
            sample,
            signature,
            public_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::tests::example;
    use crate::simulate::SimulatedKey;

    /// A terminal configuration hash.
    const H: [u8; 32] = [0xc0; 32];

    /// A fresh simulated key (software evidence, like the agent's software backend).
    fn backend() -> ((), SimulatedKey) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ((), SimulatedKey::derive("tee-tests", i))
    }

    #[test]
    fn a_signed_sample_verifies_and_yields_the_sample() {
        let (_dir, b) = backend();
        let signed = SignedSample::sign(&example(3), &b).unwrap();
        assert_eq!(signed.verify().unwrap(), example(3));
    }

    #[test]
    fn changing_any_byte_of_the_sample_or_signature_fails_verification() {
        let (_dir, b) = backend();
        let signed = SignedSample::sign(&example(3), &b).unwrap();
        for i in 0..signed.sample.len() {
            let mut t = signed.clone();
            t.sample[i] ^= 1;
            assert_eq!(t.verify(), Err(SignatureError::BadSignature), "byte {i}");
        }
        for i in 0..64 {
            let mut t = signed.clone();
            t.signature[i] ^= 1;
            assert_eq!(
                t.verify(),
                Err(SignatureError::BadSignature),
                "sig byte {i}"
            );
        }
    }

    #[test]
    fn a_signature_under_another_key_fails_verification() {
        let (_d1, a) = backend();
        let (_d2, b) = backend();
        let mut signed = SignedSample::sign(&example(3), &a).unwrap();
        signed.public_key = b.public_key();
        assert_eq!(signed.verify(), Err(SignatureError::BadSignature));
    }

    #[test]
    fn the_signed_sample_storage_form_round_trips_strictly() {
        let (_dir, b) = backend();
        let signed = SignedSample::sign(&example(3), &b).unwrap();
        let bytes = signed.encode();
        assert_eq!(SignedSample::decode(&bytes).unwrap(), signed);
        assert!(SignedSample::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes;
        longer.push(0);
        assert!(SignedSample::decode(&longer).is_err());
    }

    #[test]
    fn software_evidence_is_labelled_and_binds_its_own_key() {
        let (_dir, b) = backend();
        let ev = b.evidence(&H);
        assert_eq!(ev.kind, TeeKind::Software);
        assert!(ev.quote.is_empty());
        assert_eq!(
            ev.measurement,
            Sha256::digest(b"usagechain software tee v1").to_vec()
        );
        assert_eq!(
            verify_evidence(&ev, &b.public_key(), &H),
            Ok(software_measurement())
        );
    }

    #[test]
    fn evidence_under_another_terminal_configuration_is_refused() {
        let (_dir, b) = backend();
        let ev = b.evidence(&H);
        assert_eq!(ev.report_data, report_data_for(&b.public_key(), &H));
        assert_ne!(
            b.evidence(&[0xc1; 32]).report_data,
            ev.report_data,
            "the configuration is part of the report data"
        );
        assert_eq!(
            verify_evidence(&ev, &b.public_key(), &[0xc1; 32]),
            Err(EvidenceError::KeyNotBound)
        );
    }

    #[test]
    fn evidence_for_another_key_is_refused() {
        let (_d1, a) = backend();
        let (_d2, b) = backend();
        assert_eq!(
            verify_evidence(&a.evidence(&H), &b.public_key(), &H),
            Err(EvidenceError::KeyNotBound)
        );
    }

    #[test]
    fn software_evidence_with_another_measurement_or_a_quote_is_refused() {
        let (_dir, b) = backend();
        let mut ev = b.evidence(&H);
        ev.measurement[0] ^= 1;
        assert!(matches!(
            verify_evidence(&ev, &b.public_key(), &H),
            Err(EvidenceError::WrongMeasurement { .. })
        ));
        let mut ev = b.evidence(&H);
        ev.quote = vec![1];
        assert_eq!(
            verify_evidence(&ev, &b.public_key(), &H),
            Err(EvidenceError::UnexpectedQuote)
        );
    }

    #[test]
    fn hardware_evidence_kinds_are_refused_until_they_can_be_verified() {
        let (_dir, b) = backend();
        for kind in [TeeKind::Sgx, TeeKind::Tdx, TeeKind::SevSnp] {
            let ev = Evidence {
                kind,
                ..b.evidence(&H)
            };
            assert_eq!(
                verify_evidence(&ev, &b.public_key(), &H),
                Err(EvidenceError::Unsupported { kind })
            );
        }
    }

    #[cfg(feature = "dcap")]
    const SGX_QUOTE: &[u8] = include_bytes!("../../dcap/tests/fixtures/sgx_quote");
    #[cfg(feature = "dcap")]
    const SGX_COLLATERAL: &[u8] =
        include_bytes!("../../dcap/tests/fixtures/sgx_quote_collateral.json");
    /// 2025-07-01, while the sample collateral is valid.
    #[cfg(feature = "dcap")]
    const WHILE_VALID: u64 = 1_751_328_000;

    #[cfg(feature = "dcap")]
    fn sgx_input() -> DcapInput<'static> {
        DcapInput {
            collateral_json: SGX_COLLATERAL,
            now_unix_secs: WHILE_VALID,
            policy: usage_attestor_dcap::TcbPolicy::up_to_date_only()
                .allow(usage_attestor_dcap::TcbStatus::ConfigurationAndSWHardeningNeeded),
        }
    }

    #[cfg(feature = "dcap")]
    #[test]
    #[cfg(feature = "dcap")]
    fn a_genuine_sgx_quote_that_does_not_bind_the_key_is_refused_as_such() {
        // Intel's sample quote verifies, but its report data is not this key's binding.
        let evidence = Evidence {
            kind: TeeKind::Sgx,
            measurement: vec![0; 32],
            report_data: [0; 64],
            quote: SGX_QUOTE.to_vec(),
        };
        let err = verify_evidence_with(&evidence, &[1; 32], &H, Some(&sgx_input())).unwrap_err();
        assert!(
            matches!(
                err,
                EvidenceError::Quote(usage_attestor_dcap::DcapError::ReportDataMismatch { .. })
            ),
            "{err:?}"
        );
    }

    #[cfg(feature = "dcap")]
    #[test]
    #[cfg(feature = "dcap")]
    fn quote_evidence_without_collateral_or_with_a_tampered_quote_is_refused() {
        let mut evidence = Evidence {
            kind: TeeKind::Sgx,
            measurement: vec![0; 32],
            report_data: [0; 64],
            quote: SGX_QUOTE.to_vec(),
        };
        assert_eq!(
            verify_evidence_with(&evidence, &[1; 32], &H, None),
            Err(EvidenceError::Unsupported { kind: TeeKind::Sgx })
        );
        evidence.quote[200] ^= 1;
        assert!(matches!(
            verify_evidence_with(&evidence, &[1; 32], &H, Some(&sgx_input())),
            Err(EvidenceError::Quote(_))
        ));
    }
}
