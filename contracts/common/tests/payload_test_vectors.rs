//! The published test vectors (`test-vectors/payloads.json`): for every committee-signed kind, the
//! exact signing bytes in a fixed domain, and the threshold signature of a deterministic committee.
//! Another implementation (the services, a bank gateway) checks itself against this file.
//! `UPDATE_TEST_VECTORS=1 cargo test -p usage-common --test payload_test_vectors` rewrites it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use cosmwasm_std::{HexBinary, Uint128};
use serde_json::{json, Value};
use usage_common::payload::*;
use usage_common::record::{encode_batch, Metrics, Totals, UsageRecord};
use usage_common::{merkle, Domain};
use usage_signer::{verify_threshold, SigningCommittee};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/payloads.json");

fn records() -> Vec<UsageRecord> {
    (0..3u64)
        .map(|i| UsageRecord {
            terminal_id: format!("edge-{i}"),
            window_start: 1_700_000_000,
            tenant: "usage1tenantxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
            metrics: Metrics {
                net_rx_bytes: 1_000 + i,
                net_tx_bytes: 2_000 + i,
                cpu_time_us: 3_000_000,
                memory_mib_s: 5_120,
                storage_mib_s: 10_240,
                idle_cpu_millicore_s: 15_000,
                idle_memory_mib_s: 20_480,
                idle_storage_mib_s: 40_960,
                link_rtt_us: 850,
                link_loss_ppm: 120,
                app_up_s: 10,
                app_down_s: 0,
            },
        })
        .collect()
}

fn vectors() -> Value {
    let committee = SigningCommittee::deterministic("usagechain/test-vectors", 7, 4, 3);
    let domain = Domain::new(
        "usagechain-1",
        "usage1contractxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        7,
    );
    let recs = records();
    let leaves: Vec<merkle::Hash> = recs
        .iter()
        .map(|r| merkle::leaf_hash(&r.to_bytes()))
        .collect();
    let batch = UsageBatchDigest {
        root: HexBinary::from(merkle::root(&leaves).expect("root")),
        records: recs.len() as u32,
    };
    let next = SigningCommittee::deterministic("usagechain/test-vectors/next", 8, 4, 3);
    let rotation = CommitteeRotation {
        new_epoch: 8,
        threshold: 3,
        members: next.member_keys(),
    };
    let amount = Uint128::new(123_456_789);
    let approval = SettlementApproval {
        settlement_id: 42,
        tenant: "usage1tenant".into(),
        provider: "usage1provider".into(),
        amount,
        currency: "CNY".into(),
        payee_account: "CN0012345678901234".into(),
        end_to_end_id: settlement_end_to_end_id(&domain.chain_id, &domain.contract, 42),
    };
    let s_voucher = SettlementVoucher {
        settlement_id: 42,
        end_to_end_id: settlement_end_to_end_id(&domain.chain_id, &domain.contract, 42),
        bank_ref: "BOOK-2026-000042".into(),
        outcome: BankOutcome::Booked,
        amount,
    };
    let deposit = DepositVoucher {
        bank_ref: "CAMT054-2026-0001".into(),
        beneficiary: "usage1tenant".into(),
        amount,
        currency: "CNY".into(),
    };
    let w_approval = WithdrawalApproval {
        withdrawal_id: 9,
        owner: "usage1tenant".into(),
        amount,
        currency: "CNY".into(),
        beneficiary_account: "CN9988776655443322".into(),
        end_to_end_id: withdrawal_end_to_end_id(&domain.chain_id, &domain.contract, 9),
    };
    let w_voucher = WithdrawalVoucher {
        withdrawal_id: 9,
        end_to_end_id: withdrawal_end_to_end_id(&domain.chain_id, &domain.contract, 9),
        bank_ref: "BOOK-2026-000043".into(),
        outcome: BankOutcome::Rejected,
        amount,
    };
    let resolution = DisputeResolution {
        provider: "usage1provider".into(),
        tenant: "usage1tenant".into(),
        period_start: 1_699_999_980,
        opened_at: 1_700_000_100,
        outcome: DisputeOutcome::Adjusted {
            totals: Totals {
                records: 2,
                net_tx_bytes: 4_000,
                ..Default::default()
            },
        },
    };

    fn entry<P: SignedPayload + serde::Serialize>(
        p: &P,
        domain: &Domain,
        committee: &SigningCommittee,
    ) -> Value {
        let bytes = p.signing_bytes(domain);
        let sig = committee.sign_bytes(&[0, 2, 3], &bytes);
        assert!(verify_threshold(&committee.committee(), &bytes, &sig));
        json!({
            "kind": P::KIND.tag(),
            "payload": p,
            "signing_bytes": hex::encode(&bytes),
            "signature_by_members_0_2_3": sig,
        })
    }

    json!({
        "description": "Canonical signing bytes of every committee-signed payload (see contracts/common/src/payload.rs) and BLS12-381 min-pk threshold signatures over them (DST BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_).",
        "committee": {
            "epoch": 7,
            "threshold": 3,
            "members": committee.member_keys(),
            "secret_keys_derived_from": "sha256(\"usagechain/test-vectors/member/<i>\") as IKM of KeyGen",
        },
        "domain": { "chain_id": domain.chain_id, "contract": domain.contract, "epoch": domain.epoch },
        "batch": {
            "records": recs,
            "encoded": hex::encode(encode_batch(&recs)),
            "leaf_hashes": leaves.iter().map(hex::encode).collect::<Vec<_>>(),
        },
        "vectors": [
            entry(&batch, &domain, &committee),
            entry(&rotation, &domain, &committee),
            entry(&approval, &domain, &committee),
            entry(&s_voucher, &domain, &committee),
            entry(&deposit, &domain, &committee),
            entry(&w_approval, &domain, &committee),
            entry(&w_voucher, &domain, &committee),
            entry(&resolution, &domain, &committee),
        ],
    })
}

#[test]
fn published_payload_vectors_match_the_encoding() {
    let generated = serde_json::to_string_pretty(&vectors()).expect("json") + "\n";
    if std::env::var_os("UPDATE_TEST_VECTORS").is_some() {
        std::fs::write(PATH, &generated).expect("write vectors");
    }
    let published = std::fs::read_to_string(PATH).expect("test-vectors/payloads.json exists");
    // Compared as JSON values: key order depends on whether serde_json's `preserve_order` is
    // enabled somewhere in the build, every byte string and number is still compared exactly.
    let published: serde_json::Value = serde_json::from_str(&published).expect("vectors are JSON");
    let generated: serde_json::Value = serde_json::from_str(&generated).expect("json");
    assert_eq!(
        published, generated,
        "payload encoding changed: if intended, regenerate with UPDATE_TEST_VECTORS=1 and review"
    );
}

#[test]
fn the_signing_header_binds_version_tag_chain_contract_and_epoch() {
    let d = DepositVoucher {
        bank_ref: "R".into(),
        beneficiary: "B".into(),
        amount: Uint128::new(1),
        currency: "CNY".into(),
    };
    let bytes = d.signing_bytes(&Domain::new("c", "k", 2));
    let tag = b"usagechain/v1/deposit-voucher";
    let mut expected = vec![1u8];
    expected.extend_from_slice(&(tag.len() as u32).to_be_bytes());
    expected.extend_from_slice(tag);
    expected.extend_from_slice(&[0, 0, 0, 1, b'c', 0, 0, 0, 1, b'k']);
    expected.extend_from_slice(&2u64.to_be_bytes());
    assert_eq!(&bytes[..expected.len()], expected.as_slice());
    // Every field of the domain changes the bytes.
    for other in [
        Domain::new("c2", "k", 2),
        Domain::new("c", "k2", 2),
        Domain::new("c", "k", 3),
    ] {
        assert_ne!(d.signing_bytes(&other), bytes);
    }
}

#[test]
fn end_to_end_ids_fit_max35text_name_their_deployment_and_read_back() {
    let s = settlement_end_to_end_id("usagechain-local-1", "usage1c3", 42);
    let w = withdrawal_end_to_end_id("usagechain-local-1", "usage1c5", 7);
    assert_eq!(s.len(), 35);
    assert_eq!(w.len(), 35);
    let tag = deployment_tag("usagechain-local-1", "usage1c3");
    assert_eq!(
        parse_end_to_end_id(&s),
        Some((EndToEndKind::Settlement, tag.as_str(), 42))
    );
    assert_eq!(
        parse_end_to_end_id(&w).map(|(k, _, id)| (k, id)),
        Some((EndToEndKind::Withdrawal, 7))
    );
    // Another chain or contract: another deployment tag, so another id.
    assert_ne!(s, settlement_end_to_end_id("other-chain", "usage1c3", 42));
    assert_ne!(
        s,
        settlement_end_to_end_id("usagechain-local-1", "usage1c3x", 42)
    );
    for bad in [
        "USG-S-0000000000000001",
        "USG-X-0123456789ab-0000000000000001",
        "USG-S-0123456789AB-0000000000000001",
        "USG-S-0123456789ab-000000000000001",
        "USG-S-0123456789ab-00000000000000x1",
        "",
    ] {
        assert_eq!(parse_end_to_end_id(bad), None, "{bad}");
    }
}
