//! The ingest API over HTTP, with a chain view given directly (no node needed): each kind of bad
//! input gets its typed rejection and stores nothing; good samples are stored once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cosmwasm_std::{Addr, HexBinary};
use usage_aggregator::chainview::ChainView;
use usage_aggregator::config::{Config, Keys, Timing};
use usage_aggregator::store::Store;
use usage_aggregator::{keys, server, AppState};
use usage_attestor::sample::Sample;
use usage_attestor::simulate::SimulatedKey;
use usage_attestor::tee::{software_measurement, SignedSample, TeeBackend, TeeKind};
use usage_attestor::wire::{
    ErrorBody, EvidenceRequest, IngestRequest, IngestResponse, RejectKind, Verdict,
};
use usage_client::ChainClient;
use usage_common::msg::usage_proof::Terminal;
use usage_signer::SigningCommittee;

struct Api {
    url: String,
    state: Arc<AppState>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn sample(seq: u64, taken_at_ms: u64, rx: u64) -> Sample {
    Sample {
        terminal_id: "t-1".into(),
        tenant: "tenant-a".into(),
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
    let config = Config {
        index: 0,
        listen: url.clone(),
        data_dir: dir.path().to_path_buf(),
        rpc: "http://127.0.0.1:1".into(),
        chain_id: "ingest-test".into(),
        usage_proof: "c1".into(),
        period_proof: "c2".into(),
        settlement: None,
        ledger: None,
        withdrawal: None,
        bank_url: None,
        keys: k,
        peers: vec![],
        timing: Timing::default(),
        next_bls_secrets: vec![],
        approved_rotation: None,
        byzantine: None,
    };
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
        let key = SimulatedKey::derive("ingest", 1);
        let r = self
            .http
            .post(format!("{}/v1/evidence", self.url))
            .json(&EvidenceRequest::new(
                "t-1",
                &key.public_key(),
                &key.evidence(),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
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
        .http
        .post(format!("{}/v1/evidence", api.url))
        .json(&EvidenceRequest::new(
            "t-1",
            &other.public_key(),
            &other.evidence(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error,
        RejectKind::KeyMismatch
    );

    let key = SimulatedKey::derive("ingest", 1);
    let mut evidence = key.evidence();
    evidence.measurement = vec![7; 32];
    let r = api
        .http
        .post(format!("{}/v1/evidence", api.url))
        .json(&EvidenceRequest::new("t-1", &key.public_key(), &evidence))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().error,
        RejectKind::EvidenceRefused
    );
    assert!(api.state.store.evidence("t-1").unwrap().is_none());
}

/// The real agent (`usage-attestor run`) sampling this machine delivers to the aggregator:
/// evidence first, then contiguous samples with this host's counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_agent_delivers_this_machines_counters() {
    let agent_dir = tempfile::tempdir().unwrap();
    let key = usage_attestor::tee::SoftwareBackend::open(&agent_dir.path().join("terminal.key"))
        .unwrap()
        .public_key();
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
    assert!(api.state.store.evidence("host-1").unwrap().is_some());
}

#[test]
fn the_localnet_allows_exactly_the_software_backends_measurement() {
    assert_eq!(
        usaged::localnet::SOFTWARE_MEASUREMENT.to_vec(),
        software_measurement().0
    );
}
