//! What attestors and aggregators say to each other over HTTP (JSON bodies).
//!
//! * `POST /v1/evidence` — [`EvidenceRequest`]: a terminal presents its attestation evidence and
//!   the host configuration it attests once (and again whenever an aggregator asks for it with
//!   [`RejectKind::NoEvidence`] or [`RejectKind::ConfigMismatch`]).
//! * `POST /v1/samples` — [`IngestRequest`] → [`IngestResponse`]: signed samples, base64 of
//!   [`SignedSample::encode`]; one verdict per sample, in order.
//! * `GET /v1/ping` — an empty answer, for link round-trip measurements.
//!
//! A body that is not the expected JSON is answered `400` with an [`ErrorBody`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::tee::{Evidence, SignedSample, TeeKind};
use crate::terminal::TerminalConfig;

/// Path of the evidence endpoint.
pub const EVIDENCE_PATH: &str = "/v1/evidence";
/// Path of the sample ingest endpoint.
pub const INGEST_PATH: &str = "/v1/samples";
/// Path of the ping endpoint.
pub const PING_PATH: &str = "/v1/ping";
/// Most samples one ingest request may carry.
pub const MAX_SAMPLES_PER_REQUEST: usize = 2_000;

/// Why a sample (or a request) was refused.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// The request body or a sample's bytes are not well formed.
    Malformed,
    /// The Ed25519 signature does not verify.
    BadSignature,
    /// No terminal with this id is registered on the chain.
    UnknownTerminal,
    /// The terminal is registered but deactivated.
    TerminalInactive,
    /// Signed by another key than the terminal's registered attestor key.
    KeyMismatch,
    /// The terminal has no verified evidence for its current registration (attestor key and
    /// measurement) at this aggregator, or that evidence is older than the aggregator accepts.
    NoEvidence,
    /// The sample's configuration hash is not the one the terminal's current evidence attests
    /// (its host configuration changed: new evidence is needed).
    ConfigMismatch,
    /// The sample bills another tenant than the configuration its evidence attests.
    TenantMismatch,
    /// The evidence does not verify, does not bind the key, or its measurement or TEE kind is
    /// not allowed by the chain.
    EvidenceRefused,
    /// A sequence number at or below one already accepted, with different content.
    Replayed,
    /// A value that cannot be physically true (future timestamp, counters going backwards,
    /// absurd rates).
    Implausible,
    /// Too many samples in one request.
    TooLarge,
    /// The aggregator could not store it now; try again.
    Unavailable,
}

impl RejectKind {
    /// Whether the attestor should deliver the same sample again later (after presenting
    /// evidence, after registration, or once the aggregator recovers). Other rejections are
    /// final: the sample can never be accepted, so keeping it would block the queue. A
    /// [`RejectKind::ConfigMismatch`] is worth retrying only for a sample taken under the
    /// configuration the attestor can still present evidence for.
    pub fn retry(self) -> bool {
        matches!(
            self,
            RejectKind::NoEvidence
                | RejectKind::ConfigMismatch
                | RejectKind::UnknownTerminal
                | RejectKind::Unavailable
        )
    }

    /// Whether the attestor should present its evidence before delivering again.
    pub fn wants_evidence(self) -> bool {
        matches!(self, RejectKind::NoEvidence | RejectKind::ConfigMismatch)
    }

    /// The snake_case name, as in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectKind::Malformed => "malformed",
            RejectKind::BadSignature => "bad_signature",
            RejectKind::UnknownTerminal => "unknown_terminal",
            RejectKind::TerminalInactive => "terminal_inactive",
            RejectKind::KeyMismatch => "key_mismatch",
            RejectKind::NoEvidence => "no_evidence",
            RejectKind::ConfigMismatch => "config_mismatch",
            RejectKind::TenantMismatch => "tenant_mismatch",
            RejectKind::EvidenceRefused => "evidence_refused",
            RejectKind::Replayed => "replayed",
            RejectKind::Implausible => "implausible",
            RejectKind::TooLarge => "too_large",
            RejectKind::Unavailable => "unavailable",
        }
    }
}

/// `400`/`413`/`503` body: what was wrong with the whole request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The kind.
    pub error: RejectKind,
    /// A human-readable explanation.
    pub message: String,
}

/// Signed samples to ingest.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct IngestRequest {
    /// Base64 of [`SignedSample::encode`], each.
    pub samples: Vec<String>,
}

impl IngestRequest {
    /// The request carrying `samples`.
    pub fn new(samples: &[SignedSample]) -> Self {
        IngestRequest {
            samples: samples.iter().map(|s| B64.encode(s.encode())).collect(),
        }
    }
}

/// What happened to one sample.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Verdict {
    /// Verified and stored durably.
    Stored {
        /// The terminal.
        terminal_id: String,
        /// The sample's seq.
        seq: u64,
        /// Missing seqs before it, if any (`[first, last]`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gap: Option<(u64, u64)>,
    },
    /// Already held (the identical sample): nothing changed.
    Duplicate {
        /// The terminal.
        terminal_id: String,
        /// The sample's seq.
        seq: u64,
    },
    /// Refused; nothing stored.
    Rejected {
        /// The terminal, if the bytes could be read that far.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terminal_id: Option<String>,
        /// The seq, likewise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        /// Why.
        kind: RejectKind,
        /// Details.
        message: String,
    },
}

/// One verdict per sample of the request, in order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct IngestResponse {
    /// The verdicts.
    pub results: Vec<Verdict>,
}

/// A terminal's attestation evidence and the host configuration it attests.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    /// The terminal.
    pub terminal_id: String,
    /// The terminal's host configuration (`config.terminal_id` is `terminal_id`); the report data
    /// binds its [`TerminalConfig::hash`].
    pub config: TerminalConfig,
    /// Hex of its Ed25519 public key.
    pub public_key: String,
    /// Which TEE.
    pub kind: TeeKind,
    /// Hex of the measurement.
    pub measurement: String,
    /// Hex of the 64-byte report data.
    pub report_data: String,
    /// Base64 of the quote (empty for software evidence).
    pub quote: String,
    /// Base64 of the quote's collateral JSON (DCAP), if the terminal carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collateral: Option<String>,
}

impl EvidenceRequest {
    /// The request presenting `evidence` for the terminal configured by `config` and
    /// `public_key`.
    pub fn new(config: &TerminalConfig, public_key: &[u8; 32], evidence: &Evidence) -> Self {
        EvidenceRequest {
            terminal_id: config.terminal_id.clone(),
            config: config.clone(),
            public_key: hex::encode(public_key),
            kind: evidence.kind,
            measurement: hex::encode(&evidence.measurement),
            report_data: hex::encode(evidence.report_data),
            quote: B64.encode(&evidence.quote),
            collateral: None,
        }
    }

    /// Decodes the key and evidence; `None` if a field is not valid hex/base64 or has the wrong
    /// length.
    pub fn decode(&self) -> Option<([u8; 32], Evidence)> {
        let key: [u8; 32] = hex::decode(&self.public_key).ok()?.try_into().ok()?;
        let report_data: [u8; 64] = hex::decode(&self.report_data).ok()?.try_into().ok()?;
        Some((
            key,
            Evidence {
                kind: self.kind,
                measurement: hex::decode(&self.measurement).ok()?,
                report_data,
                quote: B64.decode(&self.quote).ok()?,
            },
        ))
    }
}

/// Decodes one base64 sample of an [`IngestRequest`].
pub fn decode_sample(b64: &str) -> Option<SignedSample> {
    let bytes = B64.decode(b64).ok()?;
    SignedSample::decode(&bytes).ok()
}
