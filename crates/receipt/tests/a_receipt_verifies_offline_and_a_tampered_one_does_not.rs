//! Receipts from a live localnet: four aggregators prove two leased terminals' windows, the
//! keeper seals the period, and the receipt of one window is exported through the node's RPC.
//! With the node stopped, the receipt read back from its file verifies against the validators
//! and contracts of the localnet's genesis and says what C1 and C2 hold; each tampering is
//! refused by its own check.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use cosmwasm_std::HexBinary;
use tendermint::block::CommitSig;
use tendermint::hash::AppHash;
use tendermint::{validator, vote, PublicKey, Signature};
use usage_common::msg::period_proof::{self as c2, PeriodProofResponse};
use usage_common::msg::usage_proof::{self as c1, ProofResponse};
use usage_devtools::committee::Net;
use usage_receipt::{export, verify, Bundle, Entry, ExportError, TrustRoot, VerifyError};
use usage_sample::simulate::terminal_id;

/// Exports the receipt of (terminal, window) once its period is sealed; whether the export was
/// refused as not sealed yet first.
async fn export_when_sealed(net: &Net, terminal: &str, window: u64) -> (Bundle, bool) {
    let rpc = format!("http://127.0.0.1:{}", net.rpc_port());
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut told = false;
    loop {
        let out = export(
            &rpc,
            &net.info().chain_id,
            &net.contract("usage-proof"),
            &net.contract("period-proof"),
            terminal,
            window,
        )
        .await;
        match out {
            Ok(bundle) => return (bundle, told),
            Err(e @ ExportError::PeriodNotSealed { .. }) if Instant::now() < deadline => {
                if !told {
                    eprintln!("{e}");
                    told = true;
                }
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            Err(e) => panic!("export of {terminal} window {window}: {e}"),
        }
    }
}

/// The first proven window of `terminal`.
async fn first_window(net: &Net, terminal: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(p) = net.proofs(terminal).await.first() {
            return p.window_start;
        }
        assert!(Instant::now() < deadline, "no proof of {terminal}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn refused(good: &Bundle, trust: &TrustRoot, tamper: impl FnOnce(&mut Bundle)) -> VerifyError {
    let mut b = good.clone();
    tamper(&mut b);
    verify(&b, trust).expect_err("a tampered receipt verified")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_verifies_offline_and_a_tampered_one_does_not() {
    let started = Instant::now();
    let mut net = Net::start("usagechain-receipt-1", 2).await;
    let tenants = usage_devtools::fleet::tenants(&net, 1);
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2, 3]).await;
    net.start_fleet();
    let (a, b) = (terminal_id("sim", 0), terminal_id("sim", 1));
    let (c1_addr, c2_addr) = (net.contract("usage-proof"), net.contract("period-proof"));

    // The first windows proven; their period is sealed by the keeper after its end and grace.
    let window = first_window(&net, &a).await;
    let window_b = first_window(&net, &b).await;
    eprintln!(
        "{a} window {window}, {b} window {window_b} proven after {:?}",
        started.elapsed()
    );
    let rpc = format!("http://127.0.0.1:{}", net.rpc_port());
    let chain_id = net.info().chain_id.clone();
    let e = export(&rpc, &chain_id, &c1_addr, &c2_addr, &a, 10)
        .await
        .unwrap_err();
    assert!(matches!(e, ExportError::NoFirstProof { .. }), "{e}");
    let (good, waited) = export_when_sealed(&net, &a, window).await;
    assert!(
        waited,
        "the export was refused until the window's period was sealed"
    );
    let (other, _) = export_when_sealed(&net, &b, window_b).await;
    eprintln!(
        "exported at height {} after {:?}",
        good.height,
        started.elapsed()
    );

    // What the contracts answer, to compare with what the receipt proves.
    let proof: ProofResponse = net
        .client
        .smart(
            &c1_addr,
            &c1::QueryMsg::Proof {
                terminal_id: a.clone(),
                window_start: window,
            },
        )
        .await
        .unwrap();
    let proof = proof.proof.unwrap();
    let period: PeriodProofResponse = net
        .client
        .smart(
            &c2_addr,
            &c2::QueryMsg::PeriodProof {
                provider: proof.provider.to_string(),
                tenant: proof.tenant.clone(),
                period_start: proof.period_start,
            },
        )
        .await
        .unwrap();
    let period = period.proof.unwrap();
    // The path built here from C1's pages of leaves (as for periods too large for C1's own
    // query) is the one C1 gave.
    let client = usage_client::ChainClient::new(&rpc, &chain_id).unwrap();
    let paged =
        usage_receipt::inclusion_path_from_pages(&client, &c1_addr, &proof, period.totals.records)
            .await
            .unwrap();
    assert_eq!(paged, good.inclusion_path);

    // The file, read back with the node stopped: nothing below asks a node anything.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, good.to_json().unwrap()).unwrap();
    let genesis = std::fs::read(net.home().join("cometbft/config/genesis.json")).unwrap();
    net.node.kill9();
    let good = Bundle::from_json(&std::fs::read(&file).unwrap()).unwrap();
    let trust = TrustRoot::from_genesis(&genesis).unwrap();
    assert_eq!(trust.chain_id, net.info().chain_id);
    assert_eq!(
        (trust.usage_proof.as_str(), trust.period_proof.as_str()),
        (c1_addr.as_str(), c2_addr.as_str()),
        "the genesis names the contracts the localnet runs"
    );

    let v = verify(&good, &trust).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&v).unwrap());
    assert_eq!(
        (v.terminal_id.as_str(), v.window_start),
        (a.as_str(), window)
    );
    assert_eq!(v.chain_id, net.info().chain_id);
    assert_eq!(v.tenant, net.fleet_tenants[0]);
    assert_eq!(v.provider, net.info().admin_address);
    assert_eq!(v.metrics, proof.metrics);
    assert_eq!(v.batch_id, proof.batch_id);
    assert_eq!(v.leaf_index, proof.period_index);
    assert_eq!(v.late, proof.late);
    assert_eq!(v.period_start, period.period_start);
    assert_eq!(v.period_end, period.period_end);
    assert_eq!(v.period_root, period.root.to_hex());
    assert_eq!(v.period_totals, period.totals);
    assert!(v.period_totals.records >= 1);
    assert_eq!(v.record_totals.records, 1);
    assert_eq!(v.header_height, v.height + 1);
    assert!(v.signed_power * 3 > v.total_power * 2);
    let v_b = verify(&other, &trust).unwrap();
    assert_eq!(v_b.terminal_id, b);

    // A changed measurement in the first proof, a changed record count in the second.
    let e = refused(&good, &trust, |b| {
        let mut value = b.first_proof.value.to_vec();
        let last = value.len() - 1;
        value[last] ^= 1;
        b.first_proof.value = HexBinary::from(value);
    });
    assert!(
        matches!(
            e,
            VerifyError::NotInState {
                entry: Entry::FirstProof,
                ..
            }
        ),
        "{e}"
    );
    let e = refused(&good, &trust, |b| {
        let mut second: c2::PeriodProof = serde_json::from_slice(&b.second_proof.value).unwrap();
        second.totals.records += 1;
        b.second_proof.value = HexBinary::from(serde_json::to_vec(&second).unwrap());
    });
    assert!(
        matches!(
            e,
            VerifyError::NotInState {
                entry: Entry::SecondProof,
                ..
            }
        ),
        "{e}"
    );

    // A changed inclusion path.
    let e = refused(&good, &trust, |b| match b.inclusion_path.first_mut() {
        Some(node) => {
            let mut hash = node.hash.to_vec();
            hash[0] ^= 1;
            node.hash = HexBinary::from(hash);
        }
        None => b.inclusion_path.push(usage_common::merkle::SumNode::leaf(
            b"x",
            Default::default(),
        )),
    });
    assert!(matches!(e, VerifyError::NotIncluded { .. }), "{e}");

    // A changed app hash: the header is no longer the one the validators signed.
    let e = refused(&good, &trust, |b| {
        let mut hash = b.signed_header.header.app_hash.as_bytes().to_vec();
        hash[0] ^= 1;
        b.signed_header.header.app_hash = AppHash::try_from(hash).unwrap();
    });
    assert!(matches!(e, VerifyError::CommitNotForHeader { .. }), "{e}");

    // A changed and a removed commit signature.
    let signer = good
        .signed_header
        .commit
        .signatures
        .iter()
        .position(|s| matches!(s, CommitSig::BlockIdFlagCommit { .. }))
        .unwrap();
    let e = refused(&good, &trust, |b| {
        if let CommitSig::BlockIdFlagCommit { signature, .. } =
            &mut b.signed_header.commit.signatures[signer]
        {
            let mut bytes = signature.clone().unwrap().as_bytes().to_vec();
            bytes[10] ^= 1;
            *signature = Signature::new(bytes).unwrap();
        }
    });
    assert!(matches!(e, VerifyError::InvalidSignature { .. }), "{e}");
    let e = refused(&good, &trust, |b| {
        b.signed_header.commit.signatures[signer] = CommitSig::BlockIdFlagAbsent;
    });
    assert!(matches!(e, VerifyError::NotEnoughVotingPower { .. }), "{e}");

    // Another validator set: in the receipt, or as the trusted one.
    let stranger = validator::Info::new(
        PublicKey::from_raw_ed25519(&[0x42; 32]).unwrap(),
        vote::Power::from(10u32),
    );
    let e = refused(&good, &trust, |b| b.validators = vec![stranger.clone()]);
    assert!(
        matches!(e, VerifyError::ValidatorsHashMismatch { .. }),
        "{e}"
    );
    let strangers = TrustRoot {
        validators: vec![stranger.clone()],
        ..trust.clone()
    };
    let e = verify(&good, &strangers).unwrap_err();
    assert!(matches!(e, VerifyError::UntrustedValidators { .. }), "{e}");

    // Another terminal's first proof swapped in.
    let e = refused(&good, &trust, |b| b.first_proof = other.first_proof.clone());
    assert!(
        matches!(e, VerifyError::FirstProofOfAnotherWindow { .. }),
        "{e}"
    );

    // Another chain id: in the receipt, or as the trusted one.
    let e = refused(&good, &trust, |b| b.chain_id = "usagechain-other".into());
    assert!(matches!(e, VerifyError::WrongChain { .. }), "{e}");
    let other_chain = TrustRoot {
        chain_id: "usagechain-other".into(),
        ..trust.clone()
    };
    let e = verify(&good, &other_chain).unwrap_err();
    assert!(matches!(e, VerifyError::WrongChain { .. }), "{e}");

    eprintln!("done after {:?}", started.elapsed());
}
