//! The committee C1 holds gates all money: it is installed only with valid, distinct,
//! non-identity keys and replaced only by a quorum of the current one.

use cosmwasm_std::HexBinary;
use usage_common::committee::{CommitteeError, G1_IDENTITY, G2_IDENTITY};
use usage_common::msg::usage_proof::{CommitteeResponse, ExecuteMsg, InstantiateMsg, QueryMsg};
use usage_common::payload::{CommitteeRotation, MemberKey};
use usage_signer::SigningCommittee;

use super::suite::{usage_proof_contract, Suite, GRACE, MEASUREMENT, P0, PERIOD, WINDOW};
use crate::ContractError;
use cw_multi_test::Executor;

fn identity() -> MemberKey {
    MemberKey {
        pubkey: HexBinary::from(G1_IDENTITY.to_vec()),
        pop: HexBinary::from(G2_IDENTITY.to_vec()),
    }
}

#[test]
fn a_committee_with_the_identity_key_is_refused_at_instantiation() {
    let mut s = Suite::new();
    let code = s.app.store_code(usage_proof_contract());
    let admin = s.admin.clone();
    let err = s
        .app
        .instantiate_contract(
            code,
            admin,
            &InstantiateMsg {
                admin: None,
                threshold: 1,
                members: vec![identity()],
                window_seconds: WINDOW,
                period_seconds: PERIOD,
                grace_seconds: GRACE,
                accept_software_tee: false,
                allowed_measurements: vec![HexBinary::from(MEASUREMENT)],
                period_proof: None,
            },
            &[],
            "free signer",
            None,
        )
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("the identity point is not a public key"),
        "{err:?}"
    );
}

#[test]
fn a_rotation_needs_a_quorum_of_the_current_committee_and_refuses_the_identity_key() {
    let mut s = Suite::new();
    let next = SigningCommittee::deterministic("usage-proof", 2, 4, 3);
    let mut members = next.member_keys();
    members[3] = identity();
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members,
    };
    let chain = s.app.block_info().chain_id;
    let signature = s.committee.sign_quorum(&chain, s.c1.as_str(), &rotation);
    let anyone = s.addr("anyone");
    let before = s.dump();
    assert_eq!(
        s.execute(
            &anyone,
            &ExecuteMsg::RotateCommittee {
                rotation,
                signature,
            }
        )
        .unwrap_err(),
        ContractError::Committee(CommitteeError::IdentityPublicKey { index: 3 })
    );
    assert_eq!(s.dump(), before);

    // Signed by the next committee instead of the current one: refused.
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members: next.member_keys(),
    };
    let signature = next.sign_quorum(&chain, s.c1.as_str(), &rotation);
    assert!(matches!(
        s.execute(
            &anyone,
            &ExecuteMsg::RotateCommittee {
                rotation: rotation.clone(),
                signature,
            }
        )
        .unwrap_err(),
        ContractError::Committee(_)
    ));
    let signature = s.committee.sign_quorum(&chain, s.c1.as_str(), &rotation);
    s.execute(
        &anyone,
        &ExecuteMsg::RotateCommittee {
            rotation,
            signature,
        },
    )
    .expect("rotated by the current quorum");
    let c: CommitteeResponse = s.query(&QueryMsg::Committee {}).expect("committee");
    assert_eq!(c.committee.epoch, 2);
    // The old committee's batch signatures no longer verify.
    s.register_leased("t-1");
    s.set_time(P0 + 2 * WINDOW);
    assert!(matches!(
        s.submit(&[s.record("t-1", P0)]).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch { .. })
    ));
}
