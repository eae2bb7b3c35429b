//! The ingest API: evidence and signed samples from attestors. Every sample gets a verdict; a
//! refused sample changes nothing, and the samples accepted from one request are stored in one
//! transaction.
//!
//! Checks, in order: the bytes decode; the terminal is registered and active on C1; the sample
//! is signed by its registered attestor key and the signature verifies; its TEE kind and
//! measurement are allowed by C1; the seq is above the last accepted (the identical sample again
//! is a duplicate, different content a replay); it is not taken in the future; the terminal
//! presented evidence for exactly its current registration (attestor key and measurement) that
//! was verified less than `evidence_max_age_seconds` ago; the sample carries the configuration
//! hash that evidence attests and bills that configuration's tenant; against the previous
//! sample, counters never decrease, time moves forward and rates are physically possible.
//!
//! Evidence binds the attestor key, the measurement and the terminal's host configuration
//! (terminal id, tenant, cgroup, interfaces): it is stored per (terminal, key, measurement) with
//! the configuration's hash and tenant, so a re-registration or a configuration change needs new
//! evidence.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use usage_aggregator_core::verify::{verify_sample, verify_sample_with, Rejection};
use usage_common::record::align;
use usage_sample::sample::Sample;
use usage_sample::tee::{verify_evidence_with, DcapInput, TeeKind};
use usage_sample::wire::{
    decode_sample, ErrorBody, EvidenceRequest, IngestRequest, IngestResponse, RejectKind, Verdict,
    MAX_SAMPLES_PER_REQUEST,
};

use crate::store::{Accepted, EvidenceRecord};
use crate::AppState;

pub use usage_aggregator_core::plausible::{
    plausible, MAX_CPU_US_PER_S, MAX_GAUGE_BYTES, MAX_NET_BYTES_PER_S,
};

fn error(status: StatusCode, kind: RejectKind, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: kind,
            message: message.into(),
        }),
    )
        .into_response()
}

fn rejected(sample: Option<&Sample>, kind: RejectKind, message: impl Into<String>) -> Verdict {
    Verdict::Rejected {
        terminal_id: sample.map(|s| s.terminal_id.clone()),
        seq: sample.map(|s| s.seq),
        kind,
        message: message.into(),
    }
}

/// `POST /v1/evidence`.
pub async fn evidence(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<EvidenceRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            RejectKind::Malformed,
            "not an evidence request",
        );
    };
    let Some((key, evidence)) = request.decode() else {
        return error(
            StatusCode::BAD_REQUEST,
            RejectKind::Malformed,
            "bad hex or base64 field",
        );
    };
    if request.config.terminal_id != request.terminal_id {
        return error(
            StatusCode::BAD_REQUEST,
            RejectKind::Malformed,
            "the configuration is another terminal's",
        );
    }
    if let Err(e) = request.config.validate() {
        return error(
            StatusCode::BAD_REQUEST,
            RejectKind::Malformed,
            format!("terminal configuration: {e}"),
        );
    }
    let config_hash = request.config.hash();
    let view = state.view.read().await.clone();
    let Some(terminal) = view.terminals.get(&request.terminal_id) else {
        return error(
            StatusCode::NOT_FOUND,
            RejectKind::UnknownTerminal,
            "terminal not registered",
        );
    };
    if terminal.attestor_key.as_slice() != key {
        return error(
            StatusCode::FORBIDDEN,
            RejectKind::KeyMismatch,
            "not the registered attestor key",
        );
    }
    let collateral = match request.collateral.as_deref().map(|c| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(c)
    }) {
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                RejectKind::Malformed,
                "collateral is not base64",
            )
        }
        None => None,
    };
    let dcap = collateral.as_deref().map(|c| DcapInput {
        collateral_json: c,
        now_unix_secs: crate::now_ms() / 1_000,
        policy: usage_attestor_dcap::TcbPolicy::up_to_date_only(),
    });
    let measurement = match verify_evidence_with(&evidence, &key, &config_hash, dcap.as_ref()) {
        Ok(m) => m,
        Err(e) => {
            return error(
                StatusCode::FORBIDDEN,
                RejectKind::EvidenceRefused,
                e.to_string(),
            )
        }
    };
    if evidence.kind == TeeKind::Software && !view.accept_software_tee {
        return error(
            StatusCode::FORBIDDEN,
            RejectKind::EvidenceRefused,
            "the chain refuses software TEEs",
        );
    }
    if !view.allowed.contains(&terminal.measurement.to_vec()) {
        return error(
            StatusCode::FORBIDDEN,
            RejectKind::EvidenceRefused,
            "registered measurement not allowed",
        );
    }
    if measurement.0 != terminal.measurement.as_slice() {
        return error(
            StatusCode::FORBIDDEN,
            RejectKind::EvidenceRefused,
            "the evidence attests another measurement than the registration",
        );
    }
    if evidence.kind != terminal.tee {
        return error(
            StatusCode::FORBIDDEN,
            RejectKind::EvidenceRefused,
            "TEE kind differs from the registration",
        );
    }
    let record = EvidenceRecord {
        verified_at_ms: crate::now_ms(),
        config_hash,
        tenant: request.config.tenant.clone(),
    };
    if let Err(e) = state
        .store
        .put_evidence(&request.terminal_id, &key, &measurement.0, &record)
    {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectKind::Unavailable,
            e.to_string(),
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Whether `sample` may be accepted under the terminal's evidence `attested` at `now_ms`: the
/// evidence is at most `max_age_ms` old, and the sample carries the configuration hash it attests
/// and that configuration's tenant. The refusal verdict otherwise.
fn check_attested(
    attested: &EvidenceRecord,
    sample: &Sample,
    now_ms: u64,
    max_age_ms: u64,
) -> Result<(), Verdict> {
    let age_ms = now_ms.saturating_sub(attested.verified_at_ms);
    if age_ms > max_age_ms {
        return Err(rejected(
            Some(sample),
            RejectKind::NoEvidence,
            format!(
                "evidence verified {} s ago, more than {} s: present it again at /v1/evidence",
                age_ms / 1_000,
                max_age_ms / 1_000
            ),
        ));
    }
    if sample.config_hash != attested.config_hash {
        return Err(rejected(
            Some(sample),
            RejectKind::ConfigMismatch,
            format!(
                "configuration {} is not the attested {}: present evidence for it",
                hex::encode(sample.config_hash),
                hex::encode(attested.config_hash)
            ),
        ));
    }
    if sample.tenant != attested.tenant {
        return Err(rejected(
            Some(sample),
            RejectKind::TenantMismatch,
            format!(
                "tenant {:?} is not the attested configuration's {:?}",
                sample.tenant, attested.tenant
            ),
        ));
    }
    Ok(())
}

/// The registered attestor key `key` decoded, from the member's cache (each key is decoded once,
/// not for every sample: decoding is about a quarter of a verification); `None` if it is not a
/// valid key (the sample is then refused by [`verify_sample`]). The cache holds the registry's
/// keys: it is emptied when it holds twice as many as there are terminals, which only
/// re-registrations with new keys can cause.
pub fn decoded_key(
    state: &AppState,
    key: &[u8; 32],
    terminals: usize,
) -> Option<ed25519_dalek::VerifyingKey> {
    let mut cache = state
        .verifying_keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(k) = cache.get(key) {
        return Some(*k);
    }
    let decoded = ed25519_dalek::VerifyingKey::from_bytes(key).ok()?;
    if cache.len() >= 2 * terminals.max(1_000) {
        cache.clear();
    }
    cache.insert(*key, decoded);
    Some(decoded)
}

/// `POST /v1/samples`.
pub async fn samples(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let started = std::time::Instant::now();
    let response = ingest(&state, &body).await;
    state
        .metrics
        .ingest_seconds
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn ingest(state: &Arc<AppState>, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<IngestRequest>(body) else {
        state.metrics.rejected("malformed_body");
        return error(
            StatusCode::BAD_REQUEST,
            RejectKind::Malformed,
            "body is not {\"samples\": [base64, ...]}",
        );
    };
    if request.samples.len() > MAX_SAMPLES_PER_REQUEST {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectKind::TooLarge,
            format!(
                "{} samples, at most {MAX_SAMPLES_PER_REQUEST}",
                request.samples.len()
            ),
        );
    }
    let max_evidence_age_ms = state.config.evidence_max_age_seconds.saturating_mul(1_000);
    // One request at a time checks and advances sequence numbers.
    let _guard = state.ingest_lock.lock().await;
    let view = state.view.read().await.clone();
    let now_ms = crate::now_ms();
    let reader = match state.store.reader() {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                RejectKind::Unavailable,
                e.to_string(),
            )
        }
    };
    let mut verdicts = Vec::with_capacity(request.samples.len());
    let mut accepted: Vec<Accepted> = vec![];
    // The request's own accepted samples count as the previous ones for later samples in it.
    let mut latest: std::collections::BTreeMap<String, Sample> = Default::default();
    let mut unknown = false;
    for b64 in &request.samples {
        let verdict = (|| -> Verdict {
            let Some(signed) = decode_sample(b64) else {
                return rejected(None, RejectKind::Malformed, "not a base64 signed sample");
            };
            let Ok(sample) = Sample::decode(&signed.sample) else {
                return rejected(None, RejectKind::Malformed, "not a canonical sample");
            };
            let Some(terminal) = view.terminals.get(&sample.terminal_id) else {
                unknown = true;
                return rejected(
                    Some(&sample),
                    RejectKind::UnknownTerminal,
                    "terminal not registered on the chain",
                );
            };
            if !terminal.active {
                return rejected(
                    Some(&sample),
                    RejectKind::TerminalInactive,
                    "terminal deactivated",
                );
            }
            let Ok(key) = <[u8; 32]>::try_from(terminal.attestor_key.as_slice()) else {
                return rejected(
                    Some(&sample),
                    RejectKind::KeyMismatch,
                    "registered key is not 32 bytes",
                );
            };
            if terminal.tee == TeeKind::Software && !view.accept_software_tee {
                return rejected(
                    Some(&sample),
                    RejectKind::EvidenceRefused,
                    "the chain refuses software TEEs",
                );
            }
            if !view.allowed.contains(&terminal.measurement.to_vec()) {
                return rejected(
                    Some(&sample),
                    RejectKind::EvidenceRefused,
                    "registered measurement not allowed",
                );
            }
            let last = match latest.get(&sample.terminal_id) {
                Some(s) => Some(s.seq),
                None => match reader.last_seq(&sample.terminal_id) {
                    Ok(l) => l,
                    Err(e) => {
                        return rejected(Some(&sample), RejectKind::Unavailable, e.to_string())
                    }
                },
            };
            if last.is_some_and(|l| sample.seq <= l) {
                // The identical sample again is harmless; anything else under that seq is a replay.
                return match reader.sample(&sample.terminal_id, sample.seq) {
                    Ok(Some(held)) if held == signed => Verdict::Duplicate {
                        terminal_id: sample.terminal_id.clone(),
                        seq: sample.seq,
                    },
                    Ok(_) => rejected(
                        Some(&sample),
                        RejectKind::Replayed,
                        format!(
                            "seq {} at or below the last accepted {}",
                            sample.seq,
                            last.unwrap_or(0)
                        ),
                    ),
                    Err(e) => rejected(Some(&sample), RejectKind::Unavailable, e.to_string()),
                };
            }
            let verified = match decoded_key(state, &key, view.terminals.len()) {
                Some(decoded) => verify_sample_with(&signed, &decoded, last, now_ms),
                None => verify_sample(&signed, &key, last, now_ms),
            };
            let verified = match verified {
                Ok(v) => v,
                Err(r) => {
                    let kind = match r {
                        Rejection::BadSignature => RejectKind::BadSignature,
                        Rejection::KeyMismatch { .. } => RejectKind::KeyMismatch,
                        Rejection::Malformed { .. } => RejectKind::Malformed,
                        Rejection::Replayed { .. } => RejectKind::Replayed,
                        Rejection::Implausible { .. } => RejectKind::Implausible,
                    };
                    return rejected(Some(&sample), kind, r.to_string());
                }
            };
            let attested =
                match reader.evidence(&sample.terminal_id, &key, terminal.measurement.as_slice()) {
                    Ok(Some(e)) => e,
                    Ok(None) => {
                        return rejected(
                            Some(&sample),
                            RejectKind::NoEvidence,
                            "no evidence for the registered key and measurement: present it at \
                             /v1/evidence",
                        )
                    }
                    Err(e) => {
                        return rejected(Some(&sample), RejectKind::Unavailable, e.to_string())
                    }
                };
            if let Err(reason) = check_attested(&attested, &sample, now_ms, max_evidence_age_ms) {
                return reason;
            }
            let prev = match latest.get(&sample.terminal_id) {
                Some(s) => Some(s.clone()),
                None => match last.map(|l| reader.sample(&sample.terminal_id, l)) {
                    Some(Ok(Some(p))) => Sample::decode(&p.sample).ok(),
                    Some(Err(e)) => {
                        return rejected(Some(&sample), RejectKind::Unavailable, e.to_string())
                    }
                    _ => None,
                },
            };
            if let Err(reason) = plausible(prev.as_ref(), &sample) {
                return rejected(Some(&sample), RejectKind::Implausible, reason.to_string());
            }
            let window_start = align(sample.taken_at_ms / 1_000, view.window_seconds);
            latest.insert(sample.terminal_id.clone(), sample.clone());
            accepted.push(Accepted {
                signed,
                sample: verified.sample.clone(),
                window_start,
            });
            Verdict::Stored {
                terminal_id: sample.terminal_id,
                seq: sample.seq,
                gap: verified.gap,
            }
        })();
        match &verdict {
            Verdict::Stored { .. } => {}
            Verdict::Duplicate { .. } => {
                state.metrics.samples_duplicate.inc();
            }
            Verdict::Rejected { kind, .. } => state.metrics.rejected(kind.as_str()),
        }
        verdicts.push(verdict);
    }
    if let Err(e) = state.store.put_samples(&accepted) {
        tracing::error!(error = %e, "storing samples failed");
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectKind::Unavailable,
            e.to_string(),
        );
    }
    state.metrics.samples_stored.inc_by(accepted.len() as u64);
    if unknown {
        state.refresh.notify_one();
    }
    Json(IngestResponse { results: verdicts }).into_response()
}
