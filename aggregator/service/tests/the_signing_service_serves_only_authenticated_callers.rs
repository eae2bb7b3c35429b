//! The signing service admits only sealed requests from allowed callers, within the replay
//! window and the caller's rate: unsigned, wrongly signed, unknown-key, misaddressed, stale,
//! replayed and over-limit requests are refused by kind (401, 403, 429) before any chain or bank
//! query; an allowed relayer or peer still gets its signature.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use usage_aggregator::callers::SealedRequest;
use usage_aggregator::chainview::ChainView;
use usage_aggregator::config::{Config, Peer, SigningCallers, Timing};
use usage_aggregator::signing::{Refusal, RefusalBody, SignRequest, SignResponse, SIGN_PATH};
use usage_aggregator::store::Store;
use usage_aggregator::{keys, now_ms, server, AppState};
use usage_aggregator_core::quorum::Quorum;
use usage_client::ChainClient;
use usage_common::payload::CommitteeRotation;
use usage_signer::SigningCommittee;

const CHAIN: &str = "usagechain-sign-auth";
const LABEL: &str = "sign-auth";

/// A TCP endpoint that counts the connections made to it and answers none.
async fn counting_endpoint() -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, count)
}

fn relayer() -> SigningKey {
    SigningKey::from_bytes(&[0x5e; 32])
}

fn peer_key(i: usize) -> SigningKey {
    keys::localnet(LABEL, i, 4, 3).decode().unwrap().peer
}

fn rotation() -> CommitteeRotation {
    let next = SigningCommittee::deterministic("sign-auth-epoch-2", 2, 4, 3);
    CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members: next.member_keys(),
    }
}

struct Member {
    url: String,
    chain_queries: Arc<AtomicU64>,
    bank_queries: Arc<AtomicU64>,
    committee: usage_common::Committee,
    _dir: tempfile::TempDir,
}

/// Member 0 of a four-member committee, its chain and bank counting every query, allowing the
/// relayer key, `burst` requests at once.
async fn member(burst: u32) -> Member {
    let (rpc, chain_queries) = counting_endpoint().await;
    let (bank, bank_queries) = counting_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let peers: Vec<Peer> = (0..4)
        .map(|i| Peer {
            index: i,
            url: format!("http://127.0.0.1:{}", 1 + i),
            peer_key: keys::localnet(LABEL, i, 4, 3).public().unwrap().peer_key,
        })
        .collect();
    let config = Config {
        index: 0,
        listen: url.clone(),
        metrics_listen: None,
        data_dir: dir.path().to_path_buf(),
        rpc: rpc.clone(),
        chain_id: CHAIN.into(),
        usage_proof: "usage1c1".into(),
        period_proof: "usage1c2".into(),
        settlement: Some("usage1c3".into()),
        ledger: Some("usage1c4".into()),
        withdrawal: Some("usage1c5".into()),
        bank: Some(usage_aggregator::config::BankLink {
            url: bank,
            public_key: hex::encode([0x11; 32]),
        }),
        keys: keys::localnet(LABEL, 0, 4, 3)
            .write_files(&dir.path().join("keys"))
            .unwrap(),
        peers,
        timing: Timing::default(),
        next_bls_keys: vec![],
        approved_rotation: Some(rotation()),
        signing: SigningCallers {
            relayer_keys: vec![hex::encode(relayer().verifying_key().to_bytes())],
            per_minute: 60,
            burst,
            window_ms: 60_000,
        },
        byzantine: None,
        evidence_max_age_seconds: usage_aggregator::config::default_evidence_max_age_seconds(),
    };
    let committee = SigningCommittee::deterministic(LABEL, 1, 4, 3).committee();
    let view = ChainView {
        window_seconds: 10,
        period_seconds: 60,
        grace_seconds: 30,
        accept_software_tee: true,
        allowed: Default::default(),
        committee: committee.clone(),
        terminals: Default::default(),
    };
    let store = Store::open(&dir.path().join("aggregator.redb")).unwrap();
    let client = ChainClient::new(&rpc, CHAIN).unwrap();
    let state = Arc::new(AppState::new(config, store, view, client).unwrap());
    tokio::spawn(async move { axum::serve(listener, server::router(state)).await });
    Member {
        url,
        chain_queries,
        bank_queries,
        committee,
        _dir: dir,
    }
}

/// Posts `body` to the member's signing service: the status and the refusal or the signature.
async fn post(m: &Member, body: &serde_json::Value) -> (u16, Result<SignResponse, RefusalBody>) {
    let r = reqwest::Client::new()
        .post(format!("{}{SIGN_PATH}", m.url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let parsed = if status == 200 {
        Ok(serde_json::from_str(&text).unwrap())
    } else {
        Err(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text}: {e}")))
    };
    (status, parsed)
}

fn sealed(
    key: &SigningKey,
    member: usize,
    at_ms: u64,
    nonce: &str,
    r: &SignRequest,
) -> serde_json::Value {
    serde_json::to_value(SealedRequest::seal(key, CHAIN, member, at_ms, nonce, r).unwrap()).unwrap()
}

/// A request whose check needs the chain.
fn needs_the_chain() -> SignRequest {
    SignRequest::SettlementInstruction { settlement_id: 1 }
}

fn refusal(answer: (u16, Result<SignResponse, RefusalBody>)) -> (u16, Refusal) {
    match answer {
        (status, Err(body)) => (status, body.error),
        (status, Ok(s)) => panic!("signed ({status}): {s:?}"),
    }
}

#[tokio::test]
async fn unsigned_wrongly_signed_unknown_misaddressed_and_stale_requests_are_refused_before_any_query(
) {
    let m = member(30).await;
    let now = now_ms();

    // A bare request, as callers used to send it.
    assert_eq!(
        refusal(post(&m, &serde_json::to_value(needs_the_chain()).unwrap()).await),
        (401, Refusal::Unsigned)
    );
    // Signed by another key than the relayer's it names.
    let mut forged = sealed(
        &SigningKey::from_bytes(&[9; 32]),
        0,
        now,
        "n1",
        &needs_the_chain(),
    );
    forged["caller"] = hex::encode(relayer().verifying_key().to_bytes()).into();
    assert_eq!(
        refusal(post(&m, &forged).await),
        (401, Refusal::BadSignature)
    );
    // The relayer's signature over another request.
    let mut altered = sealed(&relayer(), 0, now, "n2", &needs_the_chain());
    altered["request"] =
        serde_json::to_string(&SignRequest::SettlementInstruction { settlement_id: 2 })
            .unwrap()
            .into();
    assert_eq!(
        refusal(post(&m, &altered).await),
        (401, Refusal::BadSignature)
    );
    // A well-signed request from a key nobody allowed.
    let stranger = SigningKey::from_bytes(&[0x77; 32]);
    assert_eq!(
        refusal(post(&m, &sealed(&stranger, 0, now, "n3", &needs_the_chain())).await),
        (403, Refusal::UnknownCaller)
    );
    // Sealed for member 1.
    assert_eq!(
        refusal(post(&m, &sealed(&relayer(), 1, now, "n4", &needs_the_chain())).await),
        (401, Refusal::WrongMember)
    );
    // Sealed two minutes ago, or two minutes ahead.
    for at in [now - 120_000, now + 120_000] {
        assert_eq!(
            refusal(post(&m, &sealed(&relayer(), 0, at, "n5", &needs_the_chain())).await),
            (401, Refusal::Stale)
        );
    }
    assert_eq!(m.chain_queries.load(Ordering::SeqCst), 0, "no chain query");
    assert_eq!(m.bank_queries.load(Ordering::SeqCst), 0, "no bank query");

    // The same request, properly sealed, does reach the chain (here: unreachable).
    assert_eq!(
        refusal(post(&m, &sealed(&relayer(), 0, now, "n6", &needs_the_chain())).await),
        (503, Refusal::Unavailable)
    );
    assert!(m.chain_queries.load(Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn a_replayed_request_is_refused_and_an_allowed_caller_gets_its_signature() {
    let m = member(30).await;
    let request = SignRequest::CommitteeRotation {
        rotation: rotation(),
    };
    let once = sealed(&relayer(), 0, now_ms(), "r1", &request);
    let (status, signed) = post(&m, &once).await;
    assert_eq!(status, 200);
    let signed = signed.unwrap();
    let mut quorum = Quorum::new(
        m.committee.clone(),
        hex::decode(&signed.signing_bytes).unwrap(),
    );
    let partial: [u8; 96] = hex::decode(&signed.partial).unwrap().try_into().unwrap();
    quorum
        .add(signed.member, partial)
        .expect("the relayer got member 0's valid partial");

    assert_eq!(refusal(post(&m, &once).await), (401, Refusal::Replayed));

    // A peer is an allowed caller too, with the same nonce as the relayer's (nonces are per
    // caller).
    let (status, _) = post(&m, &sealed(&peer_key(2), 0, now_ms(), "r1", &request)).await;
    assert_eq!(status, 200);

    // The library's caller seals afresh each time.
    let http = reqwest::Client::new();
    for _ in 0..2 {
        usage_aggregator::signing::ask(&http, &m.url, &relayer(), CHAIN, 0, &request)
            .await
            .expect("a fresh nonce each time");
    }
    assert_eq!(m.chain_queries.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_caller_over_its_rate_is_refused_with_retry_after_and_others_are_not() {
    let m = member(3).await;
    let request = SignRequest::CommitteeRotation {
        rotation: rotation(),
    };
    let now = now_ms();
    for n in 0..3 {
        let (status, _) = post(&m, &sealed(&relayer(), 0, now, &format!("b{n}"), &request)).await;
        assert_eq!(status, 200, "request {n} within the burst");
    }
    let r = reqwest::Client::new()
        .post(format!("{}{SIGN_PATH}", m.url))
        .json(&sealed(&relayer(), 0, now, "b3", &request))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        r.json::<RefusalBody>().await.unwrap().error,
        Refusal::RateLimited
    );
    // Over-limit requests that would need the chain do not reach it either.
    assert_eq!(
        refusal(post(&m, &sealed(&relayer(), 0, now, "b4", &needs_the_chain())).await),
        (429, Refusal::RateLimited)
    );
    assert_eq!(m.chain_queries.load(Ordering::SeqCst), 0);
    // Another caller has its own bucket.
    let (status, _) = post(&m, &sealed(&peer_key(1), 0, now, "b5", &request)).await;
    assert_eq!(status, 200);
}
