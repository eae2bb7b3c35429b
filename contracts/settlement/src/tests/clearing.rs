use cosmwasm_std::Uint128;
use usage_common::events::{
    SettlementCleared, SettlementFailed, SettlementInstructed, SettlementRequested, TypedEvent,
};
use usage_common::msg::settlement::SettlementStatus;
use usage_common::payload::{BankOutcome, SettlementApproval};
use usage_common::CommitteeError;
use usage_signer::SigningCommittee;

use super::suite::{SuiteBuilder, CURRENCY, P0, PAYEE_ACCOUNT, PRICE_OF_3};
use crate::ContractError;

const DEPOSIT: u128 = 10_000;

#[test]
fn a_settlement_goes_from_requested_to_instructed_to_cleared() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.requested();
    let tenant = suite.tenant.clone();
    let amount = Uint128::new(PRICE_OF_3);
    // Funds are locked from the request on.
    assert_eq!(suite.account(&tenant).locked, amount);

    let resp = suite.approve(id).expect("approve");
    assert_eq!(
        SettlementInstructed::all_in(&resp.events),
        vec![SettlementInstructed {
            settlement_id: id,
            end_to_end_id: suite.end_to_end_id(id),
            amount,
            payee_account: PAYEE_ACCOUNT.into(),
        }]
    );
    assert_eq!(
        suite.settlement(id).expect("s").status,
        SettlementStatus::Instructed
    );
    assert_eq!(suite.account(&tenant).locked, amount);

    let voucher = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    let resp = suite.record_voucher(voucher).expect("cleared");
    assert_eq!(
        SettlementCleared::all_in(&resp.events),
        vec![SettlementCleared {
            settlement_id: id,
            bank_ref: "BOOK-0001".into(),
            amount,
        }]
    );
    assert_eq!(
        suite.settlement(id).expect("s").status,
        SettlementStatus::Cleared {
            bank_ref: "BOOK-0001".into()
        }
    );
    let account = suite.account(&tenant);
    assert_eq!(account.available, Uint128::new(DEPOSIT - PRICE_OF_3));
    assert_eq!(account.locked, Uint128::zero());
    let supply = suite.supply();
    assert_eq!(supply.settled, amount);
    assert_eq!(supply.total, supply.deposited - supply.settled);
}

#[test]
fn a_rejected_voucher_fails_the_settlement_and_unlocks_the_funds() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.instructed();
    let tenant = suite.tenant.clone();

    let voucher = suite.voucher(id, BankOutcome::Rejected, "RJCT-0001");
    let resp = suite.record_voucher(voucher).expect("failed");
    assert_eq!(
        SettlementFailed::all_in(&resp.events),
        vec![SettlementFailed {
            settlement_id: id,
            bank_ref: "RJCT-0001".into(),
            amount: Uint128::new(PRICE_OF_3),
        }]
    );
    assert_eq!(
        suite.settlement(id).expect("s").status,
        SettlementStatus::Failed {
            bank_ref: "RJCT-0001".into()
        }
    );
    let account = suite.account(&tenant);
    assert_eq!(account.available, Uint128::new(DEPOSIT));
    assert_eq!(account.locked, Uint128::zero());
    assert_eq!(suite.supply().settled, Uint128::zero());
    // A failed settlement is final: no booking can follow it.
    let after = suite.snapshot();
    let booked = suite.voucher(id, BankOutcome::Booked, "BOOK-0002");
    assert_eq!(
        suite.record_voucher(booked).unwrap_err(),
        ContractError::NotInstructed {
            settlement_id: id,
            status: SettlementStatus::Failed {
                bank_ref: "RJCT-0001".into()
            },
        }
    );
    assert_eq!(suite.snapshot(), after);
    // The period may be requested again: the rejected payment left nothing billed.
    let resp = suite
        .request(P0)
        .expect("a new request after the rejection");
    let again = SettlementRequested::all_in(&resp.events);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].settlement_id, id);
    assert_eq!(suite.account(&tenant).locked, Uint128::new(PRICE_OF_3));
    // But only one live settlement at a time.
    assert_eq!(
        suite.request(P0).unwrap_err(),
        ContractError::AlreadyRequested {
            settlement_id: again[0].settlement_id
        }
    );
}

#[test]
fn a_replayed_voucher_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.instructed();
    let voucher = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    suite.record_voucher(voucher.clone()).expect("first time");
    let after_first = suite.snapshot();

    // The same voucher again.
    assert_eq!(
        suite.record_voucher(voucher).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-0001".into()
        }
    );
    // The same bank reference, now claiming a rejection.
    let flipped = suite.voucher(id, BankOutcome::Rejected, "BOOK-0001");
    assert_eq!(
        suite.record_voucher(flipped).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-0001".into()
        }
    );
    // A fresh bank reference for a settlement that already cleared.
    let second = suite.voucher(id, BankOutcome::Rejected, "RJCT-0002");
    assert_eq!(
        suite.record_voucher(second).unwrap_err(),
        ContractError::NotInstructed {
            settlement_id: id,
            status: SettlementStatus::Cleared {
                bank_ref: "BOOK-0001".into()
            },
        }
    );
    assert_eq!(suite.snapshot(), after_first);
}

#[test]
fn a_bank_reference_used_for_one_settlement_is_refused_for_another() {
    let mut suite = SuiteBuilder::new().build();
    let first = suite.instructed();
    let voucher = suite.voucher(first, BankOutcome::Booked, "BOOK-0001");
    suite
        .record_voucher(voucher)
        .expect("first settlement cleared");

    // A second period, settled and instructed.
    let p1 = P0 + 10 * super::suite::PERIOD;
    suite.final_period(p1, 2);
    suite.request(p1).expect("second request");
    let second = suite.settlement_for_period(p1).expect("s").settlement_id;
    assert_eq!(second, first + 1);
    suite.approve(second).expect("approve second");
    let before = suite.snapshot();

    let reused = suite.voucher(second, BankOutcome::Booked, "BOOK-0001");
    assert_eq!(
        suite.record_voucher(reused).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-0001".into()
        }
    );
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_voucher_signed_for_another_contract_or_chain_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.instructed();
    let before = suite.snapshot();
    let voucher = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    let chain_id = suite.chain_id();

    let for_ledger = suite
        .committee
        .sign_quorum(&chain_id, suite.ledger.as_str(), &voucher);
    let for_other_chain =
        suite
            .committee
            .sign_quorum("usagechain-other", suite.settlement.as_str(), &voucher);
    for signature in [for_ledger, for_other_chain] {
        assert_eq!(
            suite
                .record_voucher_with(voucher.clone(), signature)
                .unwrap_err(),
            ContractError::Committee(CommitteeError::InvalidSignature)
        );
    }
    assert_eq!(suite.snapshot(), before);
    // The genuine one still works afterwards: nothing was consumed.
    suite.record_voucher(voucher).expect("genuine voucher");
}

#[test]
fn a_voucher_signed_by_fewer_than_the_threshold_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.instructed();
    let before = suite.snapshot();
    let voucher = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    let short = suite.committee.sign(
        &[1, 3],
        &suite.chain_id(),
        suite.settlement.as_str(),
        &voucher,
    );
    assert_eq!(
        suite
            .record_voucher_with(voucher.clone(), short)
            .unwrap_err(),
        ContractError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    // A bitmap that claims a third member who did not sign.
    let mut lying = suite.committee.sign(
        &[1, 3],
        &suite.chain_id(),
        suite.settlement.as_str(),
        &voucher,
    );
    lying.signers = suite
        .committee
        .sign(
            &[1, 2, 3],
            &suite.chain_id(),
            suite.settlement.as_str(),
            &voucher,
        )
        .signers;
    assert_eq!(
        suite.record_voucher_with(voucher, lying).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_voucher_whose_amount_or_end_to_end_id_differs_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.instructed();
    let before = suite.snapshot();

    let mut wrong_amount = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    wrong_amount.amount = Uint128::new(PRICE_OF_3 + 1);
    assert_eq!(
        suite.record_voucher(wrong_amount).unwrap_err(),
        ContractError::AmountMismatch {
            settlement_id: id,
            expected: Uint128::new(PRICE_OF_3),
            got: Uint128::new(PRICE_OF_3 + 1),
        }
    );
    let mut wrong_e2e = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    wrong_e2e.end_to_end_id = suite.end_to_end_id(id + 1);
    assert_eq!(
        suite.record_voucher(wrong_e2e).unwrap_err(),
        ContractError::EndToEndIdMismatch {
            settlement_id: id,
            expected: suite.end_to_end_id(id),
            got: suite.end_to_end_id(id + 1),
        }
    );
    let mut unknown = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    unknown.settlement_id = 99;
    assert_eq!(
        suite.record_voucher(unknown).unwrap_err(),
        ContractError::SettlementNotFound { settlement_id: 99 }
    );
    for bad in [String::new(), "R".repeat(65)] {
        let v = suite.voucher(id, BankOutcome::Booked, &bad);
        assert_eq!(
            suite.record_voucher(v).unwrap_err(),
            ContractError::InvalidBankRef {
                bank_ref: bad.clone(),
                max: 64
            }
        );
    }
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_signature_for_another_purpose_or_committee_epoch_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.requested();
    let payload = suite.instruction_payload(id).expect("payload");
    let approval_sig = suite.sign(&payload);
    suite
        .approve_with(id, approval_sig.clone())
        .expect("approve");
    let before = suite.snapshot();

    // The committee's approval of the instruction is not a booking.
    let voucher = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    assert_eq!(
        suite
            .record_voucher_with(voucher.clone(), approval_sig)
            .unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );

    // After a rotation, the old committee's signatures are refused by epoch.
    let old_sig = suite.sign(&voucher);
    let next = SigningCommittee::deterministic("settlement-next", 2, 4, 3);
    suite.rotate_committee(&next);
    assert_eq!(
        suite
            .record_voucher_with(voucher.clone(), old_sig)
            .unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(suite.snapshot(), before);
    // The new committee's signature is accepted.
    suite.record_voucher(voucher).expect("new committee");
}

#[test]
fn an_instruction_needs_the_committees_signature_over_the_stored_payload() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.requested();
    let before = suite.snapshot();
    let payload = suite.instruction_payload(id).expect("payload");
    assert_eq!(
        payload,
        SettlementApproval {
            settlement_id: id,
            tenant: suite.tenant.to_string(),
            provider: suite.provider.to_string(),
            amount: Uint128::new(PRICE_OF_3),
            currency: CURRENCY.into(),
            payee_account: PAYEE_ACCOUNT.into(),
            end_to_end_id: suite.end_to_end_id(id),
        }
    );

    // Signed over another payee account or amount.
    let redirected = SettlementApproval {
        payee_account: "ATTACKER0000000001".into(),
        ..payload.clone()
    };
    let inflated = SettlementApproval {
        amount: Uint128::new(PRICE_OF_3 * 10),
        ..payload.clone()
    };
    for p in [redirected, inflated] {
        let sig = suite.sign(&p);
        assert_eq!(
            suite.approve_with(id, sig).unwrap_err(),
            ContractError::Committee(CommitteeError::InvalidSignature)
        );
    }
    // Short quorum.
    let short = suite.committee.sign(
        &[0, 2],
        &suite.chain_id(),
        suite.settlement.as_str(),
        &payload,
    );
    assert_eq!(
        suite.approve_with(id, short).unwrap_err(),
        ContractError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    // No voucher before the instruction.
    let voucher = suite.voucher(id, BankOutcome::Booked, "BOOK-0001");
    assert_eq!(
        suite.record_voucher(voucher).unwrap_err(),
        ContractError::NotInstructed {
            settlement_id: id,
            status: SettlementStatus::Requested,
        }
    );
    // Unknown settlement.
    let sig = suite.sign(&payload);
    assert_eq!(
        suite.approve_with(7, sig).unwrap_err(),
        ContractError::SettlementNotFound { settlement_id: 7 }
    );
    assert_eq!(
        suite.instruction_payload(7).unwrap_err(),
        ContractError::SettlementNotFound { settlement_id: 7 }
    );
    assert_eq!(suite.snapshot(), before);

    suite.approve(id).expect("approve");
    let instructed = suite.snapshot();
    assert_eq!(
        suite.approve(id).unwrap_err(),
        ContractError::NotRequested {
            settlement_id: id,
            status: SettlementStatus::Instructed,
        }
    );
    assert_eq!(suite.snapshot(), instructed);
}
