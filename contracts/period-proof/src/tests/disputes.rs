use usage_common::events::{DisputeOpened, DisputeResolved, TypedEvent};
use usage_common::msg::period_proof::{NotFinal, PeriodStatus};
use usage_common::payload::DisputeOutcome;
use usage_common::record::Totals;
use usage_common::CommitteeError;
use usage_signer::SigningCommittee;

use cosmwasm_std::Uint128;

use super::suite::{SuiteBuilder, DISPUTE_WINDOW, GRACE, P0, PERIOD, RESOLUTION_WINDOW};
use crate::ContractError;

#[test]
fn a_dispute_by_anyone_but_the_tenant_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let before = suite.proof(P0);

    for who in [
        suite.addr("mallory"),
        suite.provider.clone(),
        suite.admin.clone(),
    ] {
        assert_eq!(
            suite.open_dispute_as(&who, P0, "not mine").unwrap_err(),
            ContractError::NotTenant {
                sender: who.to_string(),
                tenant: suite.tenant.to_string(),
            }
        );
    }
    assert_eq!(suite.proof(P0), before);
}

#[test]
fn a_dispute_after_the_deadline_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let before = suite.proof(P0).expect("proof");
    let deadline = before.dispute_deadline;
    assert_eq!(deadline, P0 + PERIOD + GRACE + DISPUTE_WINDOW);

    suite.set_time(deadline + 1);
    assert_eq!(
        suite.open_dispute(P0).unwrap_err(),
        ContractError::DisputeWindowClosed { deadline }
    );
    assert_eq!(suite.proof(P0), Some(before.clone()));
    // Final: billable at the proven totals.
    assert_eq!(before.billable(deadline + 1), Ok(before.totals));
}

#[test]
fn a_dispute_at_the_deadline_is_accepted_and_makes_the_period_not_final() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let deadline = suite.proof(P0).expect("proof").dispute_deadline;

    suite.set_time(deadline);
    let resp = suite.open_dispute(P0).expect("dispute at the deadline");
    assert_eq!(
        DisputeOpened::all_in(&resp.events),
        vec![DisputeOpened {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
            reason: "meter overcounted egress".into(),
        }]
    );
    let proof = suite.proof(P0).expect("proof");
    assert_eq!(
        proof.status,
        PeriodStatus::Disputed {
            reason: "meter overcounted egress".into(),
            opened_at: deadline,
            resolve_by: deadline + RESOLUTION_WINDOW,
            bond: Uint128::zero(),
        }
    );
    assert_eq!(
        proof.billable(deadline + RESOLUTION_WINDOW),
        Err(NotFinal::Disputed {
            until: deadline + RESOLUTION_WINDOW
        })
    );
}

#[test]
fn a_dispute_reason_must_be_1_to_256_bytes() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let before = suite.proof(P0);
    let tenant = suite.tenant.clone();

    assert_eq!(
        suite.open_dispute_as(&tenant, P0, "").unwrap_err(),
        ContractError::InvalidReason { len: 0, max: 256 }
    );
    assert_eq!(
        suite
            .open_dispute_as(&tenant, P0, &"x".repeat(257))
            .unwrap_err(),
        ContractError::InvalidReason { len: 257, max: 256 }
    );
    assert_eq!(suite.proof(P0), before);
    suite
        .open_dispute_as(&tenant, P0, &"x".repeat(256))
        .expect("256 bytes are fine");
}

#[test]
fn a_dispute_of_a_period_without_proof_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    assert_eq!(
        suite.open_dispute(P0).unwrap_err(),
        ContractError::NoPeriodProof {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        }
    );
}

#[test]
fn a_period_is_disputed_only_once_and_never_after_its_resolution() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    suite.open_dispute(P0).expect("dispute");
    let disputed = suite.proof(P0);
    let already = ContractError::AlreadyDisputed {
        provider: suite.provider.to_string(),
        tenant: suite.tenant.to_string(),
        period_start: P0,
    };
    assert_eq!(suite.open_dispute(P0).unwrap_err(), already);
    assert_eq!(suite.proof(P0), disputed);

    let resolution = suite.resolution(P0, DisputeOutcome::Upheld);
    let sig = suite.sign(&resolution);
    suite.resolve(resolution, sig).expect("resolve");
    let resolved = suite.proof(P0);
    assert_eq!(
        suite.open_dispute(P0).unwrap_err(),
        ContractError::AlreadyResolved {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        }
    );
    assert_eq!(suite.proof(P0), resolved);
}

#[test]
fn a_dispute_is_closed_only_by_a_quorum_of_the_committee_for_this_chain_and_contract() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    suite.open_dispute(P0).expect("dispute");
    let disputed = suite.proof(P0);
    let resolution = suite.resolution(P0, DisputeOutcome::Upheld);
    let chain_id = suite.chain_id();

    // Two of four members, threshold three.
    let short = suite
        .committee
        .sign(&[0, 1], &chain_id, suite.period_proof.as_str(), &resolution);
    assert_eq!(
        suite.resolve(resolution.clone(), short).unwrap_err(),
        ContractError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    // Signed for another chain, for another contract, or over another outcome.
    let other_chain =
        suite
            .committee
            .sign_quorum("other-chain", suite.period_proof.as_str(), &resolution);
    let other_contract =
        suite
            .committee
            .sign_quorum(&chain_id, suite.usage_proof.as_str(), &resolution);
    let adjusted = suite.resolution(
        P0,
        DisputeOutcome::Adjusted {
            totals: Totals::default(),
        },
    );
    let other_outcome = suite.sign(&adjusted);
    for sig in [other_chain, other_contract, other_outcome] {
        assert_eq!(
            suite.resolve(resolution.clone(), sig).unwrap_err(),
            ContractError::Committee(CommitteeError::InvalidSignature)
        );
    }
    // Another committee's keys under the current epoch number.
    let strangers = SigningCommittee::deterministic("strangers", 1, 4, 3);
    let forged = strangers.sign_quorum(&chain_id, suite.period_proof.as_str(), &resolution);
    assert_eq!(
        suite.resolve(resolution.clone(), forged).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    // A committee of another epoch.
    let next = SigningCommittee::deterministic("period-proof", 2, 4, 3);
    let stale = next.sign_quorum(&chain_id, suite.period_proof.as_str(), &resolution);
    assert_eq!(
        suite.resolve(resolution.clone(), stale).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(suite.proof(P0), disputed);
}

#[test]
fn an_upheld_resolution_makes_the_proven_totals_billable() {
    let mut suite = SuiteBuilder::new().build();
    let totals = suite.proven_period();
    suite.open_dispute(P0).expect("dispute");

    let resolution = suite.resolution(P0, DisputeOutcome::Upheld);
    let sig = suite.sign(&resolution);
    let resp = suite.resolve(resolution, sig).expect("resolve");
    assert_eq!(
        DisputeResolved::all_in(&resp.events),
        vec![DisputeResolved {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
            outcome: "upheld".into(),
        }]
    );
    let proof = suite.proof(P0).expect("proof");
    assert_eq!(
        proof.status,
        PeriodStatus::Resolved {
            outcome: DisputeOutcome::Upheld,
            bond: Uint128::zero(),
        }
    );
    // Final at once, even inside the dispute window.
    assert_eq!(proof.billable(suite.now()), Ok(totals));
}

#[test]
fn an_adjusted_resolution_makes_the_adjusted_totals_billable() {
    let mut suite = SuiteBuilder::new().build();
    let totals = suite.proven_period();
    suite.open_dispute(P0).expect("dispute");

    let adjusted = Totals {
        net_tx_bytes: totals.net_tx_bytes / 2,
        ..totals
    };
    let resolution = suite.resolution(P0, DisputeOutcome::Adjusted { totals: adjusted });
    let sig = suite.sign(&resolution);
    let resp = suite.resolve(resolution, sig).expect("resolve");
    assert_eq!(DisputeResolved::all_in(&resp.events)[0].outcome, "adjusted");
    let proof = suite.proof(P0).expect("proof");
    // The sealed root and totals stay; only what is billed changes.
    assert_eq!(proof.totals, totals);
    assert_eq!(proof.billable(suite.now()), Ok(adjusted));
}

#[test]
fn a_resolution_of_an_undisputed_period_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let before = suite.proof(P0);
    let resolution = suite.resolution(
        P0,
        DisputeOutcome::Adjusted {
            totals: Totals::default(),
        },
    );
    let sig = suite.sign(&resolution);
    assert_eq!(
        suite.resolve(resolution, sig).unwrap_err(),
        ContractError::NotDisputed {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        }
    );
    assert_eq!(suite.proof(P0), before);
}

#[test]
fn a_resolution_can_only_lower_the_bill_and_only_before_its_deadline() {
    let mut suite = SuiteBuilder::new().build();
    let totals = suite.proven_period();
    suite.open_dispute(P0).expect("dispute");
    let before = suite.proof(P0);
    // More than was proven, even by a quorum: refused.
    let above = Totals {
        net_tx_bytes: totals.net_tx_bytes + 1,
        ..totals
    };
    let resolution = suite.resolution(P0, DisputeOutcome::Adjusted { totals: above });
    let sig = suite.sign(&resolution);
    assert_eq!(
        suite.resolve(resolution, sig).unwrap_err(),
        ContractError::AdjustedAboveProven
    );
    assert_eq!(suite.proof(P0), before);
    // After the deadline nothing resolves it; the proven totals are billable.
    let resolve_by = match before.expect("proof").status {
        PeriodStatus::Disputed { resolve_by, .. } => resolve_by,
        other => panic!("not disputed: {other:?}"),
    };
    suite.set_time(resolve_by + 1);
    let resolution = suite.resolution(P0, DisputeOutcome::Upheld);
    let sig = suite.sign(&resolution);
    assert_eq!(
        suite.resolve(resolution, sig).unwrap_err(),
        ContractError::ResolutionDeadlinePassed {
            deadline: resolve_by
        }
    );
    assert_eq!(
        suite.proof(P0).expect("proof").billable(resolve_by + 1),
        Ok(totals)
    );
}
