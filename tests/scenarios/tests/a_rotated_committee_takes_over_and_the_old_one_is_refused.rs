//! Flow 7: the committee hands over to the next epoch's committee with its own threshold
//! signature; from then on every contract accepts the new committee and refuses the old one.

use usage_common::msg::usage_proof as c1;
use usage_common::payload::CommitteeRotation;
use usage_common::CommitteeError;
use usage_scenarios::*;
use usage_signer::SigningCommittee;

#[test]
fn a_rotated_committee_takes_over_and_the_old_one_is_refused() {
    let mut s = Suite::new();
    let next = SigningCommittee::deterministic("suite-next", 2, 5, 4);
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 4,
        members: next.member_keys(),
    };
    let sig = s.sign(&s.c1.clone(), &rotation);
    let admin = s.admin.clone();
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::RotateCommittee {
            rotation: rotation.clone(),
            signature: sig.clone(),
        },
    )
    .expect("rotated");
    let c: c1::CommitteeResponse = s.query(&s.c1, &c1::QueryMsg::Committee {});
    assert_eq!(c.committee, next.committee());

    // Replaying the same rotation is refused: its epoch is no longer next.
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
        UsageProofError::Committee(CommitteeError::WrongNextEpoch {
            expected: 3,
            got: 2
        })
    );

    // The old committee's deposit voucher is refused; the new one's is credited.
    let tenant = s.tenant.clone();
    let v = s.deposit_voucher("CAMT-ROT-1", &tenant, 500);
    let old_sig = s.sign(&s.c4.clone(), &v);
    assert_eq!(
        s.submit_deposit(v.clone(), old_sig).unwrap_err(),
        LedgerError::Committee(CommitteeError::WrongEpoch {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(s.account(&tenant).available.u128(), 0);
    s.committee = next;
    let new_sig = s.sign(&s.c4.clone(), &v);
    s.submit_deposit(v, new_sig)
        .expect("new committee's voucher");
    assert_eq!(s.account(&tenant).available.u128(), 500);

    // Usage batches follow the new committee too.
    let terminals = s.register_terminals(1);
    s.advance(WINDOW);
    let records = vec![s.record(&terminals[0], T0, 1_000)];
    s.submit(&records).expect("batch under epoch 2");
}

#[test]
fn a_rotation_without_a_quorum_of_the_current_committee_is_refused() {
    let mut s = Suite::new();
    let next = SigningCommittee::deterministic("usurper", 2, 4, 3);
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members: next.member_keys(),
    };
    // Signed by the would-be committee itself, claiming epoch 1.
    let mut self_signed = next.sign_quorum(CHAIN_ID, s.c1.as_str(), &rotation);
    self_signed.epoch = 1;
    let admin = s.admin.clone();
    let err = s
        .exec_c1(
            &admin,
            &c1::ExecuteMsg::RotateCommittee {
                rotation,
                signature: self_signed,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        UsageProofError::Committee(CommitteeError::InvalidSignature)
    );
    let c: c1::CommitteeResponse = s.query(&s.c1, &c1::QueryMsg::Committee {});
    assert_eq!(c.committee, s.committee.committee());
}
