//! The withdrawal life cycle: requested -> instructed -> completed | failed, and cancellation.

use cosmwasm_std::Uint128;
use usage_common::events::{
    TypedEvent, WithdrawalCancelled, WithdrawalCompleted, WithdrawalFailed, WithdrawalInstructed,
    WithdrawalRequested,
};
use usage_common::msg::withdrawal::WithdrawalStatus;
use usage_common::payload::{withdrawal_end_to_end_id, BankOutcome, WithdrawalApproval};

use super::suite::{requested_id, Suite, CURRENCY, IBAN};
use crate::error::ContractError;

#[test]
fn a_withdrawal_goes_from_requested_to_instructed_to_completed_and_leaves_the_ledger() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 50_000);

    let resp = s.request(&alice, 8_000, IBAN).expect("requested");
    assert_eq!(
        WithdrawalRequested::all_in(&resp.events),
        vec![WithdrawalRequested {
            withdrawal_id: 1,
            owner: alice.to_string(),
            amount: Uint128::new(8_000),
            beneficiary_account: IBAN.into(),
            status: "requested".into(),
            release_at: 0,
        }]
    );
    let w = s.withdrawal(1);
    assert_eq!(w.status, WithdrawalStatus::Requested);
    assert_eq!(
        w.end_to_end_id,
        withdrawal_end_to_end_id(&s.chain_id, s.withdrawal.as_str(), 1)
    );
    // `USG-W-<deployment>-<id>`: what ISO 20022 allows (`Max35Text`), naming chain and contract.
    assert_eq!(w.end_to_end_id.len(), 35);
    assert!(w.end_to_end_id.starts_with("USG-W-"));
    assert!(w.end_to_end_id.ends_with("-0000000000000001"));
    assert_ne!(
        w.end_to_end_id,
        withdrawal_end_to_end_id("another-chain", s.withdrawal.as_str(), 1)
    );
    assert_eq!(w.currency, CURRENCY);
    assert_eq!(s.account_of(&alice), (42_000, 8_000));

    // The payload the committee signs is built from stored state and matches the query.
    assert_eq!(
        s.instruction_payload(1),
        WithdrawalApproval {
            withdrawal_id: 1,
            owner: alice.to_string(),
            amount: Uint128::new(8_000),
            currency: CURRENCY.into(),
            beneficiary_account: IBAN.into(),
            end_to_end_id: w.end_to_end_id.clone(),
        }
    );
    let resp = s.approve(1).expect("instructed");
    assert_eq!(
        WithdrawalInstructed::all_in(&resp.events),
        vec![WithdrawalInstructed {
            withdrawal_id: 1,
            end_to_end_id: w.end_to_end_id.clone()
        }]
    );
    assert_eq!(s.status(1), WithdrawalStatus::Instructed);
    assert_eq!(s.account_of(&alice), (42_000, 8_000));

    let resp = s
        .record(1, "BOOK-1", BankOutcome::Booked)
        .expect("completed");
    assert_eq!(
        WithdrawalCompleted::all_in(&resp.events),
        vec![WithdrawalCompleted {
            withdrawal_id: 1,
            bank_ref: "BOOK-1".into(),
            amount: Uint128::new(8_000)
        }]
    );
    assert_eq!(
        s.status(1),
        WithdrawalStatus::Completed {
            bank_ref: "BOOK-1".into()
        }
    );
    assert_eq!(s.account_of(&alice), (42_000, 0));
    let totals = s.ledger_totals();
    assert_eq!(totals.withdrawn.u128(), 8_000);
    assert_eq!(totals.total.u128(), 42_000);

    // The same voucher again is refused and pays nothing twice.
    let before = s.dump();
    assert_eq!(
        s.record(1, "BOOK-1", BankOutcome::Booked).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-1".into()
        }
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn a_rejected_voucher_fails_the_withdrawal_and_unlocks_the_funds() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 5_000);
    s.request(&alice, 3_000, IBAN).expect("requested");
    s.approve(1).expect("instructed");
    assert_eq!(s.account_of(&alice), (2_000, 3_000));

    let resp = s.record(1, "REJ-1", BankOutcome::Rejected).expect("failed");
    assert_eq!(
        WithdrawalFailed::all_in(&resp.events),
        vec![WithdrawalFailed {
            withdrawal_id: 1,
            bank_ref: "REJ-1".into(),
            amount: Uint128::new(3_000)
        }]
    );
    assert_eq!(
        s.status(1),
        WithdrawalStatus::Failed {
            bank_ref: "REJ-1".into()
        }
    );
    assert_eq!(s.account_of(&alice), (5_000, 0));
    assert_eq!(s.ledger_totals().withdrawn.u128(), 0);

    // A later "booked" voucher for the failed withdrawal cannot take the money after all.
    let before = s.dump();
    assert_eq!(
        s.record(1, "BOOK-LATE", BankOutcome::Booked).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "failed".into()
        }
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn cancelling_a_delayed_withdrawal_unlocks_the_funds() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 30_000);
    s.request(&alice, 12_000, IBAN)
        .expect("delayed (over per-request)");
    assert!(matches!(s.status(1), WithdrawalStatus::Delayed { .. }));
    assert_eq!(s.account_of(&alice), (18_000, 12_000));

    let resp = s.cancel(&alice, 1).expect("a delayed withdrawal cancels");
    assert_eq!(
        WithdrawalCancelled::all_in(&resp.events),
        vec![WithdrawalCancelled {
            withdrawal_id: 1,
            amount: Uint128::new(12_000)
        }]
    );
    assert_eq!(s.status(1), WithdrawalStatus::Cancelled);
    assert_eq!(s.account_of(&alice), (30_000, 0));

    // Cancelled is final.
    let before = s.dump();
    assert_eq!(
        s.cancel(&alice, 1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "cancelled".into()
        }
    );
    assert_eq!(
        s.release(1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "cancelled".into()
        }
    );
    assert_eq!(s.dump(), before);
}

/// The committee signs the instruction of any payable (`Requested`) withdrawal, and a signed
/// instruction is what the bank pays: were such a withdrawal cancellable, its owner could collect
/// the approval, cancel, and be paid at the bank while the ledger gave the funds back.
#[test]
fn a_payable_withdrawal_cannot_be_cancelled_because_its_approval_may_already_be_signed() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 30_000);
    s.request(&alice, 4_000, IBAN).expect("requested");
    assert_eq!(s.status(1), WithdrawalStatus::Requested);
    // The approval exists off chain as soon as the members signed it.
    let approval = s.sign_approval(1);

    let before = s.dump();
    assert_eq!(
        s.cancel(&alice, 1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "requested".into()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (26_000, 4_000));

    // The funds stay locked for the payment the approval stands for.
    s.approve_with(1, approval)
        .expect("the approval is recorded");
    assert_eq!(s.status(1), WithdrawalStatus::Instructed);
    assert_eq!(
        s.cancel(&alice, 1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "instructed".into()
        }
    );
}

#[test]
fn cancelling_after_instruction_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 10_000);
    s.request(&alice, 6_000, IBAN).expect("requested");
    s.approve(1).expect("instructed");

    let before = s.dump();
    assert_eq!(
        s.cancel(&alice, 1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "instructed".into()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.status(1), WithdrawalStatus::Instructed);
    assert_eq!(s.account_of(&alice), (4_000, 6_000));
}

#[test]
fn only_the_owner_can_cancel() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let mallory = s.addr("mallory");
    s.fund(&alice, 10_000);
    s.request(&alice, 6_000, IBAN).expect("requested");

    let before = s.dump();
    assert_eq!(
        s.cancel(&mallory, 1).unwrap_err(),
        ContractError::NotOwner { withdrawal_id: 1 }
    );
    let admin = s.admin.clone();
    assert_eq!(
        s.cancel(&admin, 1).unwrap_err(),
        ContractError::NotOwner { withdrawal_id: 1 }
    );
    assert_eq!(
        s.cancel(&alice, 99).unwrap_err(),
        ContractError::WithdrawalNotFound { withdrawal_id: 99 }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.status(1), WithdrawalStatus::Requested);
    assert_eq!(s.account_of(&alice), (4_000, 6_000));
}

#[test]
fn a_second_withdrawal_beyond_the_balance_is_refused_with_insufficient_funds() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 9_000);
    let id = requested_id(&s.request(&alice, 6_000, IBAN).expect("first fits"));
    assert_eq!(id, 1);

    let before = s.dump();
    assert_eq!(
        s.request(&alice, 6_000, IBAN).unwrap_err(),
        ContractError::InsufficientFunds {
            needed: Uint128::new(6_000),
            available: Uint128::new(3_000)
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (3_000, 6_000));

    // Someone who never deposited has nothing to withdraw.
    let bob = s.addr("bob");
    assert_eq!(
        s.request(&bob, 1, IBAN).unwrap_err(),
        ContractError::InsufficientFunds {
            needed: Uint128::new(1),
            available: Uint128::zero()
        }
    );
    assert_eq!(s.dump(), before);

    // The rest still fits exactly, and the ids stay sequential.
    let id = requested_id(&s.request(&alice, 3_000, IBAN).expect("the rest fits"));
    assert_eq!(id, 2);
    assert_eq!(s.account_of(&alice), (0, 9_000));
}

#[test]
fn a_zero_amount_or_an_invalid_beneficiary_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 9_000);
    let before = s.dump();
    assert_eq!(
        s.request(&alice, 0, IBAN).unwrap_err(),
        ContractError::ZeroAmount
    );
    for bad in [
        "CN12",
        "CN12-BANK-0001",
        &"A".repeat(35),
        "CN12 BANK 0001",
        "CN12BANKÄ001",
    ] {
        assert_eq!(
            s.request(&alice, 100, bad).unwrap_err(),
            ContractError::InvalidBeneficiary {
                beneficiary: bad.to_string()
            }
        );
    }
    assert_eq!(s.dump(), before);
    s.request(&alice, 100, "AB123")
        .expect("five characters are enough");
    s.request(&alice, 100, &"B".repeat(34))
        .expect("34 characters are allowed");
}
