//! Batches: a quorum-signed, sorted batch of records of registered, leased terminals becomes one
//! first proof per (terminal, window); anything else is refused whole and changes nothing.

use usage_common::events::{TypedEvent, UsageBatchAccepted, UsageProofRecorded};
use usage_common::msg::usage_proof::{
    InclusionProofResponse, ProofResponse, QueryMsg, MAX_INCLUSION_LEAVES,
};
use usage_common::record::UsageRecord;

use super::suite::{Suite, P0, WINDOW};
use crate::ContractError;

#[test]
fn a_signed_batch_records_one_first_proof_per_terminal_and_window() {
    let mut s = Suite::new();
    s.register_leased("t-1");
    s.register_leased("t-2");
    let records = vec![s.record("t-1", P0), s.record("t-2", P0)];
    let res = s.submit(&records).expect("accepted");
    assert_eq!(UsageBatchAccepted::all_in(&res.events)[0].records, 2);
    assert_eq!(UsageProofRecorded::all_in(&res.events).len(), 2);
    let proof: ProofResponse = s
        .query(&QueryMsg::Proof {
            terminal_id: "t-2".into(),
            window_start: P0,
        })
        .expect("query");
    let proof = proof.proof.expect("first proof");
    assert_eq!(proof.provider, s.provider);
    assert_eq!((proof.period_start, proof.late), (P0, false));
}

#[test]
fn a_batch_with_any_bad_record_is_refused_whole_and_changes_nothing() {
    let mut s = Suite::new();
    s.register_leased("t-1");
    s.register_leased("t-2");
    s.register("t-unleased").expect("register");
    let before = s.dump();
    let good = s.record("t-1", P0);
    let cases: Vec<(Vec<UsageRecord>, ContractError)> = vec![
        (vec![], ContractError::EmptyBatch),
        (
            vec![s.record("t-2", P0), good.clone()],
            ContractError::BatchNotSorted { index: 1 },
        ),
        (
            vec![good.clone(), good.clone()],
            ContractError::DuplicateRecord {
                terminal_id: "t-1".into(),
                window_start: P0,
            },
        ),
        (
            vec![good.clone(), s.record("t-2", P0 + WINDOW)],
            ContractError::WindowNotClosed {
                terminal_id: "t-2".into(),
                window_start: P0 + WINDOW,
            },
        ),
        (
            vec![good.clone(), s.record("t-9", P0)],
            ContractError::UnknownTerminal {
                terminal_id: "t-9".into(),
            },
        ),
        (
            vec![good.clone(), s.record("t-unleased", P0)],
            ContractError::NoLease {
                terminal_id: "t-unleased".into(),
                window_start: P0,
                tenant: s.tenant.to_string(),
            },
        ),
    ];
    for (records, expected) in cases {
        assert_eq!(s.submit(&records).unwrap_err(), expected);
        assert_eq!(s.dump(), before, "{expected} changed state");
    }
    // A batch signed over other records does not verify.
    let other = s.sign(&[s.record("t-2", P0)]);
    assert!(matches!(
        s.submit_signed(&[good], other).unwrap_err(),
        ContractError::Committee(_)
    ));
    assert_eq!(s.dump(), before);
}

#[test]
fn a_window_is_proven_once() {
    let mut s = Suite::new();
    s.register_leased("t-1");
    s.submit(&[s.record("t-1", P0)]).expect("first");
    assert_eq!(
        s.submit(&[s.record("t-1", P0)]).unwrap_err(),
        ContractError::AlreadyProven {
            terminal_id: "t-1".into(),
            window_start: P0,
        }
    );
}

#[test]
fn inclusion_proofs_are_served_only_for_periods_the_query_can_rebuild() {
    let mut s = Suite::new();
    // One terminal per record keeps the period's records in one accumulator.
    let n = MAX_INCLUSION_LEAVES as usize + 1;
    let ids: Vec<String> = (0..n).map(|i| format!("t-{i:05}")).collect();
    for id in &ids {
        s.register_leased(id);
    }
    for chunk in ids.chunks(1_000) {
        let records: Vec<UsageRecord> = chunk.iter().map(|id| s.record(id, P0)).collect();
        s.submit(&records).expect("batch");
    }
    let query = QueryMsg::InclusionProof {
        terminal_id: ids[0].clone(),
        window_start: P0,
    };
    assert_eq!(
        s.query::<InclusionProofResponse>(&query).unwrap_err(),
        ContractError::PeriodTooLarge {
            size: n as u64,
            max: MAX_INCLUSION_LEAVES,
        }
    );
}
