//! Every committee signature is bound to its chain, contract, purpose and epoch, needs a quorum of
//! distinct members and consumes its voucher once. Each refusal leaves the state unchanged.

use cosmwasm_std::{HexBinary, Uint128};
use usage_common::committee::signer_bitmap;
use usage_common::msg::{ledger as c4, usage_proof as c1};
use usage_common::payload::{CommitteeRotation, MemberKey};
use usage_common::{CommitteeError, ThresholdSignature};
use usage_scenarios::*;
use usage_signer::{aggregate, MemberSecret, SigningCommittee};

fn ledger_state(s: &Suite) -> (c4::AccountResponse, c4::TotalSupplyResponse) {
    (s.account(&s.tenant), s.supply())
}

fn batch_suite() -> (Suite, Vec<usage_common::record::UsageRecord>) {
    let mut s = Suite::new();
    let terminals = s.register_terminals(2);
    s.advance(WINDOW);
    let records = terminals.iter().map(|t| s.record(t, T0, 5_000)).collect();
    (s, records)
}

#[test]
fn a_forged_batch_signature_is_refused() {
    let (mut s, records) = batch_suite();
    // A quorum's signature over a different batch, presented for this one.
    let mut other = records.clone();
    other[0].metrics.net_tx_bytes += 1;
    let sig = s.sign(&s.c1.clone(), &Suite::digest(&other));
    assert_eq!(
        s.submit_signed(&records, sig).unwrap_err(),
        UsageProofError::Committee(CommitteeError::InvalidSignature)
    );
    assert!(s.proof("term-000", T0).is_none());

    // Signed by keys that are not the committee's.
    let outsiders = SigningCommittee::deterministic("outsiders", 1, 4, 3);
    let sig = outsiders.sign_quorum(CHAIN_ID, s.c1.as_str(), &Suite::digest(&records));
    assert_eq!(
        s.submit_signed(&records, sig).unwrap_err(),
        UsageProofError::Committee(CommitteeError::InvalidSignature)
    );
    assert!(s.proof("term-000", T0).is_none());
}

#[test]
fn a_short_quorum_is_refused() {
    let (mut s, records) = batch_suite();
    let sig = s
        .committee
        .sign(&[1, 3], CHAIN_ID, s.c1.as_str(), &Suite::digest(&records));
    assert_eq!(
        s.submit_signed(&records, sig).unwrap_err(),
        UsageProofError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    assert!(s.proof("term-000", T0).is_none());
}

#[test]
fn a_duplicate_signer_cannot_make_a_quorum() {
    let (mut s, records) = batch_suite();
    let msg = usage_common::SignedPayload::signing_bytes(
        &Suite::digest(&records),
        &usage_common::Domain::new(CHAIN_ID, s.c1.as_str(), 1),
    );
    // Member 0 signs twice and member 1 once: three partial signatures, two distinct signers.
    let p0 = s.committee.members[0].sign(&msg);
    let p1 = s.committee.members[1].sign(&msg);
    let agg = aggregate(&[p0, p0, p1]).expect("aggregate");
    // Claiming members {0, 1} is below the threshold ...
    let two = ThresholdSignature {
        epoch: 1,
        signers: HexBinary::from(signer_bitmap(&[0, 1], 4)),
        signature: HexBinary::from(agg),
    };
    assert_eq!(
        s.submit_signed(&records, two).unwrap_err(),
        UsageProofError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    // ... and claiming a third member who did not sign does not verify.
    let three = ThresholdSignature {
        epoch: 1,
        signers: HexBinary::from(signer_bitmap(&[0, 1, 2], 4)),
        signature: HexBinary::from(agg),
    };
    assert_eq!(
        s.submit_signed(&records, three).unwrap_err(),
        UsageProofError::Committee(CommitteeError::InvalidSignature)
    );
    // A bitmap naming a member past the committee's size is malformed.
    let mut padded = s.committee.sign(
        &[0, 1, 2],
        CHAIN_ID,
        s.c1.as_str(),
        &Suite::digest(&records),
    );
    padded.signers = HexBinary::from(vec![0b0001_0111]);
    assert!(matches!(
        s.submit_signed(&records, padded).unwrap_err(),
        UsageProofError::Committee(CommitteeError::MalformedSignerBitmap { .. })
    ));
    // And a committee can never hold the same key twice.
    let member = s.committee.members[0].member_key();
    let mut members = s.committee.member_keys();
    members[3] = member;
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members,
    };
    let sig = s.sign(&s.c1.clone(), &rotation);
    let admin = s.admin.clone();
    let err = s
        .exec_c1(
            &admin,
            &c1::ExecuteMsg::RotateCommittee {
                rotation,
                signature: sig,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        UsageProofError::Committee(CommitteeError::DuplicateMember { index: 3, first: 0 })
    );
    assert!(s.proof("term-000", T0).is_none());
}

#[test]
fn a_member_registered_without_a_valid_proof_of_possession_is_refused() {
    let mut s = Suite::new();
    let mut members = SigningCommittee::deterministic("next", 2, 4, 3).member_keys();
    // Member 2 presents member 1's proof of possession.
    members[2] = MemberKey {
        pubkey: members[2].pubkey.clone(),
        pop: members[1].pop.clone(),
    };
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members,
    };
    let sig = s.sign(&s.c1.clone(), &rotation);
    let admin = s.admin.clone();
    let err = s
        .exec_c1(
            &admin,
            &c1::ExecuteMsg::RotateCommittee {
                rotation,
                signature: sig,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        UsageProofError::Committee(CommitteeError::InvalidProofOfPossession { index: 2 })
    );
    // A rogue key (the sum of another key and a negated one) has no valid PoP either: a PoP made
    // over some other key is refused for it.
    let rogue = MemberSecret::from_label("rogue");
    let mut members = s.committee.member_keys();
    members.push(MemberKey {
        pubkey: HexBinary::from(rogue.public_key()),
        pop: members[0].pop.clone(),
    });
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members,
    };
    let sig = s.sign(&s.c1.clone(), &rotation);
    let err = s
        .exec_c1(
            &admin,
            &c1::ExecuteMsg::RotateCommittee {
                rotation,
                signature: sig,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        UsageProofError::Committee(CommitteeError::InvalidProofOfPossession { index: 4 })
    );
    let c: c1::CommitteeResponse = s.query(&s.c1, &c1::QueryMsg::Committee {});
    assert_eq!(c.committee.epoch, 1);
}

#[test]
fn an_old_epoch_signature_is_refused() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    let v = s.deposit_voucher("CAMT-OLD", &tenant, 700);
    let mut sig = s.sign(&s.c4.clone(), &v);
    sig.epoch = 0;
    let before = ledger_state(&s);
    assert_eq!(
        s.submit_deposit(v, sig).unwrap_err(),
        LedgerError::Committee(CommitteeError::WrongEpoch {
            expected: 1,
            got: 0
        })
    );
    assert_eq!(ledger_state(&s), before);
}

#[test]
fn a_replayed_deposit_voucher_is_refused() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-0001", &tenant, 1_000).expect("first time");
    let before = ledger_state(&s);
    assert_eq!(
        s.deposit("CAMT-0001", &tenant, 1_000).unwrap_err(),
        LedgerError::VoucherAlreadyUsed {
            bank_ref: "CAMT-0001".into()
        }
    );
    assert_eq!(ledger_state(&s), before);
    assert_eq!(before.0.available, Uint128::new(1_000));
}

#[test]
fn a_voucher_signed_for_another_contract_is_refused() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    let v = s.deposit_voucher("CAMT-X", &tenant, 1_000);
    // Signed for C5's address instead of C4's.
    let sig = s.sign(&s.c5.clone(), &v);
    let before = ledger_state(&s);
    assert_eq!(
        s.submit_deposit(v, sig).unwrap_err(),
        LedgerError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(ledger_state(&s), before);
}

#[test]
fn a_voucher_signed_for_another_chain_id_is_refused() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    let v = s.deposit_voucher("CAMT-Y", &tenant, 1_000);
    let sig = s
        .committee
        .sign_quorum("usagechain-other-9", s.c4.as_str(), &v);
    let before = ledger_state(&s);
    assert_eq!(
        s.submit_deposit(v, sig).unwrap_err(),
        LedgerError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(ledger_state(&s), before);
}

#[test]
fn a_voucher_signed_for_another_purpose_is_refused() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    let v = s.deposit_voucher("CAMT-Z", &tenant, 1_000);
    // The same committee signature over the same body bytes under another domain tag.
    let as_batch = usage_common::payload::UsageBatchDigest {
        root: HexBinary::from([1u8; 32]),
        records: 1,
    };
    let sig = s.sign(&s.c4.clone(), &as_batch);
    let before = ledger_state(&s);
    assert_eq!(
        s.submit_deposit(v, sig).unwrap_err(),
        LedgerError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(ledger_state(&s), before);
}
