//! The running agent: a sampling loop that signs and stores each tick's samples in the outbox,
//! and one delivery task per aggregator that sends what that aggregator has not acknowledged,
//! with retries and backoff, presenting the terminal's evidence when asked for it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::outbox::{Outbox, OutboxError};
use usage_sample::sample::Sample;
use usage_sample::tee::SignedSample;
use usage_sample::wire::{
    EvidenceRequest, IngestRequest, IngestResponse, RejectKind, Verdict, EVIDENCE_PATH, INGEST_PATH,
};

/// Most samples sent in one request.
pub const DELIVERY_CHUNK: usize = 1_000;
/// First retry delay after a failed delivery; doubled up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why one delivery round failed (it is retried).
#[derive(thiserror::Error, Debug)]
pub enum DeliveryError {
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The aggregator could not be reached or answered unexpectedly.
    #[error("aggregator {url}: {message}")]
    Http {
        /// The aggregator.
        url: String,
        /// What happened.
        message: String,
    },
}

/// Evidence of every terminal this agent speaks for, by terminal id.
pub type EvidenceBook = BTreeMap<String, EvidenceRequest>;

/// For each terminal in `sent` (in outbox order), the highest seq up to which every sample has a
/// final verdict (stored, duplicate, or refused for good), stopping at the first sample to send
/// again. Also returns the terminals that must present evidence first. A sample refused because
/// its configuration is not the attested one is sent again only if it was taken under the
/// configuration of the terminal's evidence in `evidence` (which the agent then presents);
/// a sample of an earlier configuration can never be accepted again.
pub fn acknowledgements(
    sent: &[SignedSample],
    verdicts: &[Verdict],
    evidence: &EvidenceBook,
) -> (BTreeMap<String, u64>, Vec<String>) {
    let mut acks: BTreeMap<String, u64> = BTreeMap::new();
    let mut blocked: BTreeMap<String, bool> = BTreeMap::new();
    let mut need_evidence = vec![];
    for (signed, verdict) in sent.iter().zip(verdicts) {
        // Samples were verified when pushed to the outbox; only terminal, seq and configuration
        // hash are read.
        let Ok(sample) = Sample::decode(&signed.sample) else {
            continue;
        };
        let terminal = sample.terminal_id;
        if blocked.get(&terminal).copied().unwrap_or(false) {
            continue;
        }
        let final_verdict = match verdict {
            Verdict::Stored { .. } | Verdict::Duplicate { .. } => true,
            Verdict::Rejected { kind, message, .. } => {
                let retry = match kind {
                    RejectKind::ConfigMismatch => evidence
                        .get(&terminal)
                        .is_some_and(|e| e.config.hash() == sample.config_hash),
                    other => other.retry(),
                };
                if retry {
                    if kind.wants_evidence() && !need_evidence.contains(&terminal) {
                        need_evidence.push(terminal.clone());
                    }
                    false
                } else {
                    tracing::warn!(%terminal, seq = sample.seq, kind = kind.as_str(), %message,
                        "sample refused for good");
                    true
                }
            }
        };
        if final_verdict {
            acks.insert(terminal, sample.seq);
        } else {
            blocked.insert(terminal, true);
        }
    }
    (acks, need_evidence)
}

/// One delivery round to `url`: sends up to [`DELIVERY_CHUNK`] unacknowledged samples and
/// records the acknowledgements. Returns how many samples were acknowledged.
pub async fn deliver_once(
    http: &reqwest::Client,
    outbox: &Outbox,
    url: &str,
    evidence: &EvidenceBook,
) -> Result<usize, DeliveryError> {
    let pending = outbox.pending(url, DELIVERY_CHUNK)?;
    if pending.is_empty() {
        return Ok(0);
    }
    let err = |message: String| DeliveryError::Http {
        url: url.to_string(),
        message,
    };
    let response = http
        .post(format!("{url}{INGEST_PATH}"))
        .json(&IngestRequest::new(&pending))
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(err(format!("{status}: {body}")));
    }
    let body: IngestResponse = response.json().await.map_err(|e| err(e.to_string()))?;
    if body.results.len() != pending.len() {
        return Err(err(format!(
            "{} verdicts for {} samples",
            body.results.len(),
            pending.len()
        )));
    }
    let (acks, need_evidence) = acknowledgements(&pending, &body.results, evidence);
    // Every sample sent got a verdict; those acknowledged are counted from the request itself.
    let acked = pending
        .iter()
        .filter_map(|s| Sample::decode(&s.sample).ok())
        .filter(|s| {
            acks.get(&s.terminal_id)
                .is_some_and(|up_to| s.seq <= *up_to)
        })
        .count();
    let acks: Vec<(String, u64)> = acks.into_iter().collect();
    outbox.ack_many(url, &acks)?;
    for terminal in need_evidence {
        let Some(request) = evidence.get(&terminal) else {
            tracing::warn!(%terminal, "aggregator asks for evidence this agent does not have");
            continue;
        };
        let r = http
            .post(format!("{url}{EVIDENCE_PATH}"))
            .json(request)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        if !r.status().is_success() {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            tracing::warn!(%terminal, %status, %body, "evidence refused");
        }
    }
    Ok(acked)
}

/// Delivers to `url` until `shutdown` turns true: whenever samples were pushed (`pushed`
/// notified) or a retry is due, with exponential backoff after failures.
pub async fn delivery_loop(
    http: reqwest::Client,
    outbox: Arc<Outbox>,
    url: String,
    evidence: Arc<EvidenceBook>,
    pushed: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let wait = match deliver_once(&http, &outbox, &url, &evidence).await {
            Ok(n) if n >= DELIVERY_CHUNK => {
                backoff = FIRST_BACKOFF;
                Duration::ZERO
            }
            Ok(_) => {
                backoff = FIRST_BACKOFF;
                Duration::from_secs(1)
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "delivery failed");
                let w = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                w
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = pushed.notified(), if backoff == FIRST_BACKOFF => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The delivery side of a running agent: one [`delivery_loop`] per aggregator over a shared
/// outbox, woken whenever the sampling loop stores a tick's samples.
pub struct Delivery {
    outbox: Arc<Outbox>,
    pushed: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Delivery {
    /// Spawns a delivery task per aggregator in `aggregators`, presenting `evidence` when asked.
    /// Must be called inside a Tokio runtime.
    pub fn start(outbox: Arc<Outbox>, aggregators: &[String], evidence: EvidenceBook) -> Self {
        let (shutdown, rx) = watch::channel(false);
        let pushed = Arc::new(Notify::new());
        let evidence = Arc::new(evidence);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let tasks = aggregators
            .iter()
            .map(|url| {
                tokio::spawn(delivery_loop(
                    http.clone(),
                    outbox.clone(),
                    url.clone(),
                    evidence.clone(),
                    pushed.clone(),
                    rx.clone(),
                ))
            })
            .collect();
        Self {
            outbox,
            pushed,
            shutdown,
            tasks,
        }
    }

    /// Stores one tick's samples durably, then wakes the delivery tasks.
    pub fn push(&self, signed: &[SignedSample]) -> Result<(), OutboxError> {
        self.outbox.push_all(signed)?;
        self.pushed.notify_waiters();
        Ok(())
    }

    /// Tells the delivery tasks to stop and waits for them.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SoftwareBackend;
    use usage_sample::simulate::example_sample as example;
    use usage_sample::tee::TeeBackend;
    use usage_sample::terminal::TerminalConfig;

    fn stored(seq: u64) -> Verdict {
        Verdict::Stored {
            terminal_id: "term-1".into(),
            seq,
            gap: None,
        }
    }

    fn rejected(seq: u64, kind: RejectKind) -> Verdict {
        Verdict::Rejected {
            terminal_id: Some("term-1".into()),
            seq: Some(seq),
            kind,
            message: String::new(),
        }
    }

    /// The evidence book of an agent whose `term-1` is configured by `config`.
    fn book(key: &usage_sample::tee::SoftwareKey, config: &TerminalConfig) -> EvidenceBook {
        EvidenceBook::from([(
            config.terminal_id.clone(),
            EvidenceRequest::new(config, &key.public_key(), &key.evidence(&config.hash())),
        )])
    }

    fn config(tenant: &str) -> TerminalConfig {
        TerminalConfig {
            terminal_id: "term-1".into(),
            tenant: tenant.into(),
            cgroup: None,
            interfaces: vec![],
        }
    }

    #[test]
    fn acknowledgements_stop_at_the_first_sample_to_send_again() {
        let dir = tempfile::tempdir().unwrap();
        let key = SoftwareBackend::open(&dir.path().join("k")).unwrap();
        let signed: Vec<SignedSample> = (1..=4)
            .map(|seq| SignedSample::sign(&example(seq), &key).unwrap())
            .collect();
        // 1 stored, 2 refused for good (implausible), 3 needs evidence, 4 stored.
        let verdicts = vec![
            stored(1),
            rejected(2, RejectKind::Implausible),
            rejected(3, RejectKind::NoEvidence),
            stored(4),
        ];
        let (acks, evidence) = acknowledgements(&signed, &verdicts, &book(&key, &config("acme")));
        assert_eq!(acks.get("term-1"), Some(&2));
        assert_eq!(evidence, vec!["term-1".to_string()]);
    }

    #[test]
    fn a_configuration_mismatch_is_retried_after_evidence_only_under_the_current_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let key = SoftwareBackend::open(&dir.path().join("k")).unwrap();
        let current = config("acme");
        let earlier = config("acme-before");
        let sign = |seq, c: &TerminalConfig| {
            let sample = Sample {
                config_hash: c.hash(),
                ..example(seq)
            };
            SignedSample::sign(&sample, &key).unwrap()
        };
        // Taken under the current configuration: present evidence, send again.
        let (acks, evidence) = acknowledgements(
            &[sign(1, &current)],
            &[rejected(1, RejectKind::ConfigMismatch)],
            &book(&key, &current),
        );
        assert_eq!(acks.get("term-1"), None);
        assert_eq!(evidence, vec!["term-1".to_string()]);
        // Taken under a configuration the agent no longer has evidence for: refused for good.
        let (acks, evidence) = acknowledgements(
            &[sign(1, &earlier), sign(2, &current)],
            &[
                rejected(1, RejectKind::ConfigMismatch),
                rejected(2, RejectKind::ConfigMismatch),
            ],
            &book(&key, &current),
        );
        assert_eq!(acks.get("term-1"), Some(&1));
        assert_eq!(evidence, vec!["term-1".to_string()]);
        // A tenant that is not the attested configuration's is final.
        let (acks, evidence) = acknowledgements(
            &[sign(1, &current)],
            &[rejected(1, RejectKind::TenantMismatch)],
            &book(&key, &current),
        );
        assert_eq!(acks.get("term-1"), Some(&1));
        assert!(evidence.is_empty());
    }
}
