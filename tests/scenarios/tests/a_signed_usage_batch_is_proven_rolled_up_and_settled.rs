//! Flows 1–4 end to end: a committee-signed batch becomes first proofs, the closed period becomes
//! a second proof whose sum tree holds every first proof, and the final period is priced, locked,
//! instructed and cleared by the bank's voucher.

use cosmwasm_std::Uint128;
use usage_common::events::{
    AccumulatorAppended, PeriodProven, SettlementCleared, SettlementRequested, TypedEvent,
    UsageBatchAccepted, UsageProofRecorded,
};
use usage_common::merkle;
use usage_common::msg::{period_proof as c2, settlement as c3, usage_proof as c1};
use usage_common::payload::{BankOutcome, SettlementApproval, SettlementVoucher};
use usage_scenarios::*;

#[test]
fn a_signed_usage_batch_is_proven_rolled_up_and_settled() {
    let mut s = Suite::new();
    let terminals = s.register_terminals(3);
    s.set_payee();
    s.deposit("CAMT-0001", &s.tenant.clone(), 10_000)
        .expect("deposit");

    // Two windows of three terminals each, in two batches.
    let mut all = vec![];
    for w in 0..2u64 {
        s.advance(WINDOW);
        let window = T0 + w * WINDOW;
        let records: Vec<_> = terminals
            .iter()
            .enumerate()
            .map(|(i, t)| s.record(t, window, 100_000 * (i as u64 + 1)))
            .collect();
        let res = s.submit(&records).expect("batch accepted");
        let batch = UsageBatchAccepted::all_in(&res.events);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].records, 3);
        assert_eq!(batch[0].root, Suite::digest(&records).root);
        let proofs = UsageProofRecorded::all_in(&res.events);
        assert_eq!(proofs.len(), 3);
        assert!(proofs.iter().all(|p| p.window_start == window));
        let acc = AccumulatorAppended::all_in(&res.events);
        assert_eq!(
            acc,
            vec![AccumulatorAppended {
                provider: s.provider.to_string(),
                tenant: s.tenant.to_string(),
                period_start: T0,
                appended: 3,
                late: 0,
                size: 3 * (w + 1),
            }]
        );
        all.extend(records);
    }
    for r in &all {
        let p = s
            .proof(&r.terminal_id, r.window_start)
            .expect("first proof");
        assert_eq!(p.metrics, r.metrics);
    }
    let range: c1::ProofsResponse = s.query(
        &s.c1,
        &c1::QueryMsg::TerminalProofs {
            terminal_id: "term-001".into(),
            from: T0,
            to: T0 + PERIOD,
            limit: None,
        },
    );
    assert_eq!(range.proofs.len(), 2);

    // Not before the period is closed and its grace has passed.
    assert!(matches!(
        s.prove_period(T0),
        Err(PeriodProofError::PeriodNotClosed { .. })
    ));
    s.advance(T0 + PERIOD + GRACE - s.now());
    let res = s.prove_period(T0).expect("period proven");
    let proven = PeriodProven::all_in(&res.events);
    assert_eq!(proven.len(), 1);
    assert_eq!(proven[0].records, 6);
    let pp = s.period_proof(T0).expect("second proof");
    let sent: u128 = all.iter().map(|r| u128::from(r.metrics.net_tx_bytes)).sum();
    assert_eq!(pp.totals.records, 6);
    assert_eq!(pp.totals.net_tx_bytes, sent);

    // Every first proof is provably inside the second proof.
    for r in &all {
        let inc: c1::InclusionProofResponse = s.query(
            &s.c1,
            &c1::QueryMsg::InclusionProof {
                terminal_id: r.terminal_id.clone(),
                window_start: r.window_start,
            },
        );
        assert_eq!(inc.root.hash, pp.root);
        assert!(merkle::verify_inclusion(
            inc.leaf_index,
            inc.size,
            &inc.leaf,
            &inc.path,
            &pp.root_node()
        ));
        let v: c2::VerifyInclusionResponse = s.query(
            &s.c2,
            &c2::QueryMsg::VerifyInclusion {
                provider: s.provider.to_string(),
                tenant: s.tenant.to_string(),
                period_start: T0,
                leaf_index: inc.leaf_index,
                leaf: inc.leaf.clone(),
                path: inc.path.clone(),
            },
        );
        assert!(v.included);
    }

    // Settlement waits for the dispute window, then locks the priced amount.
    assert!(matches!(
        s.request_settlement(T0),
        Err(SettlementError::NotFinal { .. })
    ));
    s.advance(DISPUTE_WINDOW + 1);
    let res = s.request_settlement(T0).expect("settlement requested");
    let req = SettlementRequested::all_in(&res.events);
    let expected = sent * TX_PRICE.0 / TX_PRICE.1 + 6 * 2_000_000 * CPU_PRICE.0 / CPU_PRICE.1;
    assert_eq!(req[0].amount, Uint128::new(expected));
    let acct = s.account(&s.tenant.clone());
    assert_eq!(acct.locked, Uint128::new(expected));
    assert_eq!(acct.available, Uint128::new(10_000 - expected));

    let approval: SettlementApproval = s.query(
        &s.c3,
        &c3::QueryMsg::InstructionPayload { settlement_id: 1 },
    );
    assert_eq!(approval.amount, Uint128::new(expected));
    let sig = s.sign(&s.c3.clone(), &approval);
    let admin = s.admin.clone();
    s.exec_c3(
        &admin,
        &c3::ExecuteMsg::ApproveInstruction {
            settlement_id: 1,
            signature: sig,
        },
    )
    .expect("instruction approved");
    assert_eq!(
        s.settlement(1).expect("settlement").status,
        c3::SettlementStatus::Instructed
    );

    let voucher = SettlementVoucher {
        settlement_id: 1,
        end_to_end_id: approval.end_to_end_id.clone(),
        bank_ref: "BOOK-S-0001".into(),
        outcome: BankOutcome::Booked,
        amount: approval.amount,
    };
    let sig = s.sign(&s.c3.clone(), &voucher);
    let res = s
        .exec_c3(
            &admin,
            &c3::ExecuteMsg::RecordVoucher {
                voucher,
                signature: sig,
            },
        )
        .expect("cleared");
    assert_eq!(SettlementCleared::all_in(&res.events).len(), 1);
    assert_eq!(
        s.settlement(1).expect("settlement").status,
        c3::SettlementStatus::Cleared {
            bank_ref: "BOOK-S-0001".into()
        }
    );
    let acct = s.account(&s.tenant.clone());
    assert_eq!(acct.locked, Uint128::zero());
    assert_eq!(acct.available, Uint128::new(10_000 - expected));
    let supply = s.supply();
    assert_eq!(supply.settled, Uint128::new(expected));
    assert_eq!(
        supply.total,
        supply.deposited - supply.settled - supply.withdrawn
    );
}
