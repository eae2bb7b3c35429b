//! The ingest API over HTTP, with a chain view given directly (no node needed): each kind of bad
//! input gets its typed rejection and stores nothing; good samples are stored once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cosmwasm_std::{Addr, HexBinary};
use usage_aggregator::chainview::ChainView;
use usage_aggregator::config::Config;
use usage_aggregator::keys::Keys;
use usage_aggregator::store::{EvidenceRecord, Store};
use usage_aggregator::{keys, server, AppState};
use usage_client::ChainClient;
use usage_common::msg::usage_proof::Terminal;
use usage_sample::sample::Sample;
use usage_sample::simulate::SimulatedKey;
use usage_sample::tee::{software_measurement, SignedSample, TeeBackend, TeeKind};
use usage_sample::terminal::TerminalConfig;
use usage_sample::wire::{
    ErrorBody, EvidenceRequest, IngestRequest, IngestResponse, RejectKind, Verdict,
};
use usage_signer::SigningCommittee;

struct Api {
    url: String,
    state: Arc<AppState>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The host configuration of t-1: it serves tenant-a.
fn config() -> TerminalConfig {
    TerminalConfig {
        terminal_id: "t-1".into(),
        tenant: "tenant-a".into(),
        cgroup: Some("/sys/fs/cgroup/tenant-a".into()),
        interfaces: vec!["eth0".into()],
    }
}

fn sample(seq: u64, taken_at_ms: u64, rx: u64) -> Sample {
    Sample {
        terminal_id: "t-1".into(),
        tenant: "tenant-a".into(),
        config_hash: config().hash(),
        seq,
        taken_at_ms,
        net_rx_bytes: rx,
        net_tx_bytes: 10 * seq,
        cpu_time_us: 1_000 * seq,
        memory_bytes: 1 << 20,
        storage_bytes: 1 << 20,
        idle_cpu_permille: 500,
        idle_memory_bytes: 1 << 30,
        idle_disk_bytes: 1 << 30,
        link_rtt_us: 300,
        link_loss_ppm: 0,
        app_up: true,
    }
}

async fn start() -> Api {
    start_with(&[("t-1", SimulatedKey::derive("ingest", 1).public_key())]).await
}

/// An aggregator whose chain view registers `registered` (terminal id, attestor key).
async fn start_with(registered: &[(&str, [u8; 32])]) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let mut terminals = BTreeMap::new();
    for (id, key) in registered {
        terminals.insert(
            id.to_string(),
            Terminal {
                terminal_id: id.to_string(),
                provider: Addr::unchecked("provider"),
                attestor_key: HexBinary::from(*key),
                tee: TeeKind::Software,
                measurement: HexBinary::from(software_measurement().0),
                active: true,
                lease: None,
            },
        );
    }
    let view = ChainView {
        window_seconds: 10,
        period_seconds: 60,
        grace_seconds: 30,
        accept_software_tee: true,
        allowed: BTreeSet::from([software_measurement().0]),
        committee: SigningCommittee::deterministic("ingest", 1, 4, 3).committee(),
        terminals,
    };
    let k: Keys = keys::localnet("ingest", 0, 4, 3);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = Config::standalone(
        &url,
        dir.path(),
        "ingest-test",
        k.write_files(&dir.path().join("keys")).unwrap(),
    );
    let state = Arc::new(
        AppState::new(
            config,
            Store::open(&dir.path().join("a.redb")).unwrap(),
            view,
            ChainClient::new("http://127.0.0.1:1", "ingest-test").unwrap(),
        )
        .unwrap(),
    );
    let router = server::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Api {
        url,
        state,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Api {
    async fn send(&self, samples: &[SignedSample]) -> Vec<Verdict> {
        let r = self
            .http
            .post(format!("{}/v1/samples", self.url))
            .json(&IngestRequest::new(samples))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.json::<IngestResponse>().await.unwrap().results
    }

    async fn present_evidence(&self) {
        self.present_evidence_for(&config(), &SimulatedKey::derive("ingest", 1))
            .await;
    }

    /// Presents `key`'s evidence for the configuration `c`, which must be accepted.
    async fn present_evidence_for(&self, c: &TerminalConfig, key: &SimulatedKey) {
        let r = self
            .post_evidence(&EvidenceRequest::new(
                c,
                &key.public_key(),
                &key.evidence(&c.hash()),
            ))
            .await;
        assert_eq!(r.status(), 204);
    }

    async fn post_evidence(&self, request: &EvidenceRequest) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/evidence", self.url))
            .json(request)
            .send()
            .await
            .unwrap()
    }

    /// The evidence held for t-1's current registration.
    async fn evidence(&self) -> Option<EvidenceRecord> {
        let view = self.state.view.read().await;
        let t = &view.terminals["t-1"];
        self.state
            .store
            .evidence("t-1", t.attestor_key.as_slice(), t.measurement.as_slice())
            .unwrap()
    }

    fn last_seq(&self) -> Option<u64> {
        self.state.store.last_seq("t-1").unwrap()
    }
}

fn kind(v: &Verdict) -> Option<RejectKind> {
    match v {
        Verdict::Rejected { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn signed(s: &Sample) -> SignedSample {
    SignedSample::sign(s, &SimulatedKey::derive("ingest", 1)).unwrap()
}

#[tokio::test]
async fn a_malformed_body_is_a_typed_400_and_stores_nothing() {
    let api = start().await;
    for body in ["not json", "{\"samples\": 3}", "{}"] {
        let r = api
            .http
            .post(format!("{}/v1/samples", api.url))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let e: ErrorBody = r.json().await.unwrap();
        assert_eq!(e.error, RejectKind::Malformed);
    }
    let v = api.send(&[]).await;
    assert!(v.is_empty());
    // A sample that is not base64 of a signed sample.
    let r: IngestResponse = api
        .http
        .post(format!("{}/v1/samples", api.url))
        .json(&IngestRequest {
            samples: vec!["@@@".into()],
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kind(&r.results[0]), Some(RejectKind::Malformed));
    assert_eq!(api.last_seq(), None);
}

#[tokio::test]
async fn samples_wait_for_evidence_then_are_stored_once() {
    let api = start().await;
    let now = usage_aggregator::now_ms();
    let first = signed(&sample(1, now - 2_000, 100));
    let v = api.send(std::slice::from_ref(&first)).await;
    assert_eq!(kind(&v[0]), Some(RejectKind::NoEvidence));
    assert_eq!(api.last_seq(), None);

    api.present_evidence().await;
    let v = api.send(std::slice::from_ref(&first)).await;
    assert!(matches!(v[0], Verdict::Stored { seq: 1, .. }), "{v:?}");
    // The same sample again is a duplicate, not a second copy.
    let v = api.send(std::slice::from_ref(&first)).await;
    assert!(matches!(v[0], Verdict::Duplicate { seq: 1, .. }), "{v:?}");
    assert_eq!(api.last_seq(), Some(1));
}

#[tokio::test]
async fn bad_signatures_unknown_terminals_replays_and_absurd_counters_are_refused_by_kind() {
    let api = start().await;
    api.present_evidence().await;
    let now = usage_aggregator::now_ms();
    let good = signed(&sample(1, now - 3_000, 100));
    assert!(matches!(api.send(&[good]).await[0], Verdict::Stored { .. }));

    let mut bad_sig = signed(&sample(2, now - 2_000, 200));
    bad_sig.signature[5] ^= 1;
    let mut unknown = sample(2, now - 2_000, 200);
    unknown.terminal_id = "t-unknown".into();
    let mut replay = sample(1, now - 2_500, 150);
    replay.app_up = false;
    // 10 TB received in one second: above 100 Gbit/s.
    let absurd = sample(2, now - 2_000, 10_000_000_000_000);
    let mut backwards = sample(2, now - 2_000, 50);
    backwards.net_rx_bytes = 50;
    let future = sample(2, now + 10 * 60_000, 200);
    let foreign = SignedSample::sign(
        &sample(2, now - 2_000, 200),
        &SimulatedKey::derive("other", 9),
    )
    .unwrap();

    let v = api
        .send(&[
            bad_sig,
            signed(&unknown),
            signed(&replay),
            signed(&absurd),
            signed(&backwards),
            signed(&future),
            foreign,
        ])
        .await;
    let kinds: Vec<Option<RejectKind>> = v.iter().map(kind).collect();
    assert_eq!(
        kinds,
        vec![
            Some(RejectKind::BadSignature),
            Some(RejectKind::UnknownTerminal),
            Some(RejectKind::Replayed),
            Some(RejectKind::Implausible),
            Some(RejectKind::Implausible),
            Some(RejectKind::Implausible),
            Some(RejectKind::KeyMismatch),
        ]
    );
    // Nothing of that was stored: seq 2 is still free for the genuine next sample.
    assert_eq!(api.last_seq(), Some(1));
    let next = signed(&sample(2, now - 2_000, 200));
    assert!(matches!(
        api.send(&[next]).await[0],
        Verdict::Stored { seq: 2, .. }
    ));
    let metrics = api.state.metrics.render();
    assert!(
        metrics.contains("usage_aggregator_samples_rejected_total{reason=\"implausible\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn evidence_with_a_foreign_key_or_a_wrong_measurement_is_refused() {
    let api = start().await;
    let other = SimulatedKey::derive("other", 9);
    let r = api
        .post_evidence(&EvidenceRequest::new(
            &config(),
            &other.public_key(),
            &other.evidence(&config().hash()),
        ))
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error,
        RejectKind::KeyMismatch
    );

    let key = SimulatedKey::derive("ingest", 1);
    let mut evidence = key.evidence(&config().hash());
    evidence.measurement = vec![7; 32];
    let r = api
        .post_evidence(&EvidenceRequest::new(
            &config(),
            &key.public_key(),
            &evidence,
        ))
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error,
        RejectKind::EvidenceRefused
    );
    assert!(api.evidence().await.is_none());
}

/// The real agent (`usage-attestor run`) sampling this machine delivers to the aggregator:
/// evidence first, then contiguous samples with this host's counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_agent_delivers_this_machines_counters() {
    let agent_dir = tempfile::tempdir().unwrap();
    // The agent's key file, written here so the test knows the key the agent will use: 32 secret
    // bytes, mode 0600, as the agent creates it itself on first use.
    let secret = [0x5au8; 32];
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(agent_dir.path().join("terminal.key"))
            .unwrap()
            .write_all(&secret)
            .unwrap();
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&secret)
        .verifying_key()
        .to_bytes();
    let api = start_with(&[("host-1", key)]).await;
    let app = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = serde_json::json!({
        "data_dir": agent_dir.path(),
        "aggregators": [api.url],
        "interval_ms": 500,
        "terminals": [{"terminal_id": "host-1", "tenant": "tenant-a",
                       "app_check": {"tcp": app.local_addr().unwrap().to_string()}}],
    });
    let config_path = agent_dir.path().join("attestor.json");
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("usage-attestor");
    let mut agent = std::process::Command::new(bin)
        .args(["run", "--config"])
        .arg(&config_path)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("usage-attestor (cargo build -p usage-attestor)");
    let started = std::time::Instant::now();
    while api.state.store.last_seq("host-1").unwrap().unwrap_or(0) < 4 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no samples delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
    let samples: Vec<Sample> = (1..=4)
        .map(|seq| {
            let s = api
                .state
                .store
                .sample("host-1", seq)
                .unwrap()
                .expect("contiguous seqs");
            Sample::decode(&s.sample).unwrap()
        })
        .collect();
    for pair in samples.windows(2) {
        assert!(pair[1].taken_at_ms > pair[0].taken_at_ms);
        assert!(pair[1].cpu_time_us >= pair[0].cpu_time_us);
        assert!(pair[1].net_rx_bytes >= pair[0].net_rx_bytes);
    }
    let last = samples.last().unwrap();
    assert!(last.cpu_time_us > 0, "host CPU time is read");
    assert!(
        last.memory_bytes > 0 && last.idle_memory_bytes > 0,
        "memory is read"
    );
    assert!(last.idle_disk_bytes > 0, "free disk is read");
    assert!(last.app_up, "the listening application is up");
    assert!(
        last.link_rtt_us > 0 && last.link_loss_ppm == 0,
        "the link to the aggregator is measured"
    );
    let registered = &api.state.view.read().await.terminals["host-1"];
    let held = api
        .state
        .store
        .evidence(
            "host-1",
            registered.attestor_key.as_slice(),
            registered.measurement.as_slice(),
        )
        .unwrap()
        .expect("evidence for the registration");
    assert_eq!(held.tenant, "tenant-a");
    assert!(samples.iter().all(|s| s.config_hash == held.config_hash));
}

#[test]
fn the_localnet_allows_exactly_the_software_backends_measurement() {
    assert_eq!(
        usage_devtools::localnet::SOFTWARE_MEASUREMENT.to_vec(),
        software_measurement().0
    );
}

#[tokio::test]
async fn a_terminal_re_registered_with_a_new_key_needs_evidence_for_that_key() {
    let api = start().await;
    api.present_evidence().await;
    let now = usage_aggregator::now_ms();
    assert!(matches!(
        api.send(&[signed(&sample(1, now - 3_000, 100))]).await[0],
        Verdict::Stored { seq: 1, .. }
    ));

    // The chain now registers t-1 with another key; the evidence presented was for the old one.
    let k2 = SimulatedKey::derive("ingest", 2);
    Arc::make_mut(&mut *api.state.view.write().await)
        .terminals
        .get_mut("t-1")
        .unwrap()
        .attestor_key = HexBinary::from(k2.public_key());
    let by_k2 = SignedSample::sign(&sample(2, now - 2_000, 200), &k2).unwrap();
    let v = api.send(std::slice::from_ref(&by_k2)).await;
    assert_eq!(kind(&v[0]), Some(RejectKind::NoEvidence), "{v:?}");
    assert_eq!(api.last_seq(), Some(1));

    api.present_evidence_for(&config(), &k2).await;
    let v = api.send(&[by_k2]).await;
    assert!(matches!(v[0], Verdict::Stored { seq: 2, .. }), "{v:?}");
}

#[tokio::test]
async fn a_terminal_re_registered_with_a_new_measurement_needs_evidence_for_it() {
    let api = start().await;
    api.present_evidence().await;
    let now = usage_aggregator::now_ms();
    assert!(matches!(
        api.send(&[signed(&sample(1, now - 3_000, 100))]).await[0],
        Verdict::Stored { seq: 1, .. }
    ));
    {
        let mut guard = api.state.view.write().await;
        let view = Arc::make_mut(&mut guard);
        view.allowed.insert(vec![0x42; 32]);
        view.terminals.get_mut("t-1").unwrap().measurement = HexBinary::from(vec![0x42; 32]);
    }
    let v = api.send(&[signed(&sample(2, now - 2_000, 200))]).await;
    assert_eq!(kind(&v[0]), Some(RejectKind::NoEvidence), "{v:?}");
    assert_eq!(api.last_seq(), Some(1));
}

#[tokio::test]
async fn evidence_older_than_the_maximum_age_must_be_presented_again() {
    let api = start().await;
    let max_age_ms = api.state.config.evidence_max_age_seconds * 1_000;
    let now = usage_aggregator::now_ms();
    let key = SimulatedKey::derive("ingest", 1);
    // Evidence for the current registration and configuration, verified just over the age ago.
    api.state
        .store
        .put_evidence(
            "t-1",
            &key.public_key(),
            &software_measurement().0,
            &EvidenceRecord {
                verified_at_ms: now - max_age_ms - 1_000,
                config_hash: config().hash(),
                tenant: "tenant-a".into(),
            },
        )
        .unwrap();
    let first = signed(&sample(1, now - 2_000, 100));
    let v = api.send(std::slice::from_ref(&first)).await;
    assert_eq!(kind(&v[0]), Some(RejectKind::NoEvidence), "{v:?}");
    assert_eq!(api.last_seq(), None);

    api.present_evidence().await;
    let held = api.evidence().await.unwrap();
    assert!(held.verified_at_ms >= now, "verified again, now");
    let v = api.send(&[first]).await;
    assert!(matches!(v[0], Verdict::Stored { seq: 1, .. }), "{v:?}");
}

#[tokio::test]
async fn a_sample_billing_another_tenant_than_the_attested_configuration_is_refused() {
    let api = start().await;
    // The evidence attests t-1 serving tenant-a.
    api.present_evidence().await;
    let now = usage_aggregator::now_ms();
    let victim = TerminalConfig {
        tenant: "victim".into(),
        ..config()
    };
    // Another tenant under the attested configuration's hash.
    let mut relabelled = sample(1, now - 2_000, 100);
    relabelled.tenant = "victim".into();
    // Another tenant with the hash of a configuration naming it, which nothing attests.
    let reconfigured = Sample {
        config_hash: victim.hash(),
        ..relabelled.clone()
    };
    let v = api
        .send(&[signed(&relabelled), signed(&reconfigured)])
        .await;
    let kinds: Vec<Option<RejectKind>> = v.iter().map(kind).collect();
    assert_eq!(
        kinds,
        vec![
            Some(RejectKind::TenantMismatch),
            Some(RejectKind::ConfigMismatch)
        ]
    );
    assert_eq!(api.last_seq(), None);
    let metrics = api.state.metrics.render();
    assert!(
        metrics.contains("reason=\"tenant_mismatch\"} 1")
            && metrics.contains("reason=\"config_mismatch\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_changed_host_configuration_counts_only_once_its_evidence_is_presented() {
    let api = start().await;
    api.present_evidence().await;
    let now = usage_aggregator::now_ms();
    assert!(matches!(
        api.send(&[signed(&sample(1, now - 3_000, 100))]).await[0],
        Verdict::Stored { seq: 1, .. }
    ));
    // The host now counts another interface for t-1.
    let changed = TerminalConfig {
        interfaces: vec!["eth0".into(), "eth1".into()],
        ..config()
    };
    let under_changed = Sample {
        config_hash: changed.hash(),
        ..sample(2, now - 2_000, 200)
    };
    let v = api.send(&[signed(&under_changed)]).await;
    assert_eq!(kind(&v[0]), Some(RejectKind::ConfigMismatch), "{v:?}");
    assert_eq!(api.last_seq(), Some(1));

    api.present_evidence_for(&changed, &SimulatedKey::derive("ingest", 1))
        .await;
    assert!(matches!(
        api.send(&[signed(&under_changed)]).await[0],
        Verdict::Stored { seq: 2, .. }
    ));
    // The earlier configuration is no longer attested.
    let v = api.send(&[signed(&sample(3, now - 1_000, 300))]).await;
    assert_eq!(kind(&v[0]), Some(RejectKind::ConfigMismatch), "{v:?}");
    assert_eq!(api.last_seq(), Some(2));
}

#[tokio::test]
async fn evidence_must_bind_the_configuration_it_presents_for_its_own_terminal() {
    let api = start().await;
    let key = SimulatedKey::derive("ingest", 1);
    let victim = TerminalConfig {
        tenant: "victim".into(),
        ..config()
    };
    // The configuration presented is not the one the report data binds.
    let r = api
        .post_evidence(&EvidenceRequest::new(
            &victim,
            &key.public_key(),
            &key.evidence(&config().hash()),
        ))
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error,
        RejectKind::EvidenceRefused
    );
    // A configuration of another terminal, or an invalid one.
    let other = TerminalConfig {
        terminal_id: "t-2".into(),
        ..config()
    };
    let mut foreign = EvidenceRequest::new(&other, &key.public_key(), &key.evidence(&other.hash()));
    foreign.terminal_id = "t-1".into();
    let no_tenant = TerminalConfig {
        tenant: String::new(),
        ..config()
    };
    for request in [
        foreign,
        EvidenceRequest::new(
            &no_tenant,
            &key.public_key(),
            &key.evidence(&no_tenant.hash()),
        ),
    ] {
        let r = api.post_evidence(&request).await;
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.json::<ErrorBody>().await.unwrap().error,
            RejectKind::Malformed
        );
    }
    assert!(api.evidence().await.is_none());
}

#[tokio::test]
async fn a_simulated_terminal_is_accepted_under_the_configuration_its_evidence_attests() {
    let mut t = usage_sample::simulate::SimTerminal::new("ingest-sim", 3, "tenant-s");
    let api = start_with(&[(t.terminal_id.as_str(), t.key.public_key())]).await;
    let r = api
        .post_evidence(&EvidenceRequest::new(
            &t.config,
            &t.key.public_key(),
            &t.evidence(),
        ))
        .await;
    assert_eq!(r.status(), 204);
    let now = usage_aggregator::now_ms();
    let samples: Vec<SignedSample> = (1..=3)
        .map(|seq| SignedSample::sign(&t.sample(seq, now - 5_000 + seq * 1_000), &t.key).unwrap())
        .collect();
    let v = api.send(&samples).await;
    assert!(
        v.iter().all(|v| matches!(v, Verdict::Stored { .. })),
        "{v:?}"
    );
    assert_eq!(api.state.store.last_seq(&t.terminal_id).unwrap(), Some(3));
}
