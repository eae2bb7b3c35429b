//! Committee approvals and bank vouchers: bound to this chain, this contract and the current
//! epoch, matched against the stored withdrawal, and each bank reference consumed once.

use cosmwasm_std::Uint128;
use usage_common::codec::Encoder;
use usage_common::msg::withdrawal::WithdrawalStatus;
use usage_common::payload::{
    withdrawal_end_to_end_id, BankOutcome, PayloadKind, SignedPayload, WithdrawalVoucher,
};
use usage_common::CommitteeError;
use usage_signer::SigningCommittee;

use super::suite::{Suite, IBAN};
use crate::error::ContractError;

/// A suite with withdrawal 1 of alice (4,000 of 20,000) instructed.
fn instructed() -> (Suite, cosmwasm_std::Addr) {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 20_000);
    s.request(&alice, 4_000, IBAN).expect("requested");
    s.approve(1).expect("instructed");
    (s, alice)
}

#[test]
fn a_voucher_with_another_end_to_end_id_or_amount_is_refused() {
    let (mut s, alice) = instructed();
    let before = s.dump();

    let mut v = s.voucher(1, "BOOK-1", BankOutcome::Booked);
    let other = withdrawal_end_to_end_id(&s.chain_id, s.withdrawal.as_str(), 2);
    v.end_to_end_id = other.clone();
    let sig = s.sign_voucher(&v);
    assert_eq!(
        s.record_with(&v, &sig).unwrap_err(),
        ContractError::EndToEndIdMismatch {
            withdrawal_id: 1,
            expected: withdrawal_end_to_end_id(&s.chain_id, s.withdrawal.as_str(), 1),
            got: other
        }
    );

    let mut v = s.voucher(1, "BOOK-1", BankOutcome::Booked);
    v.amount = Uint128::new(40_000);
    let sig = s.sign_voucher(&v);
    assert_eq!(
        s.record_with(&v, &sig).unwrap_err(),
        ContractError::AmountMismatch {
            withdrawal_id: 1,
            expected: Uint128::new(4_000),
            got: Uint128::new(40_000)
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.status(1), WithdrawalStatus::Instructed);
    assert_eq!(s.account_of(&alice), (16_000, 4_000));

    // The refused vouchers did not consume BOOK-1.
    s.record(1, "BOOK-1", BankOutcome::Booked)
        .expect("the right voucher applies");
}

#[test]
fn a_bank_ref_already_used_by_another_withdrawal_is_refused() {
    let (mut s, alice) = instructed();
    s.record(1, "BOOK-1", BankOutcome::Booked)
        .expect("first withdrawal paid");
    s.request(&alice, 3_000, IBAN).expect("second requested");
    s.approve(2).expect("second instructed");

    let before = s.dump();
    assert_eq!(
        s.record(2, "BOOK-1", BankOutcome::Booked).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-1".into()
        }
    );
    // A rejection under a used reference is refused as well.
    assert_eq!(
        s.record(2, "BOOK-1", BankOutcome::Rejected).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-1".into()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.status(2), WithdrawalStatus::Instructed);
    assert_eq!(s.account_of(&alice), (13_000, 3_000));
}

#[test]
fn a_voucher_for_a_withdrawal_that_is_unknown_or_not_instructed_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 20_000);
    s.request(&alice, 4_000, IBAN).expect("requested");
    let before = s.dump();

    let v = s.voucher(1, "BOOK-1", BankOutcome::Booked);
    let sig = s.sign_voucher(&v);
    assert_eq!(
        s.record_with(&v, &sig).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "requested".into()
        }
    );
    let mut unknown = v.clone();
    unknown.withdrawal_id = 42;
    let sig = s.sign_voucher(&unknown);
    assert_eq!(
        s.record_with(&unknown, &sig).unwrap_err(),
        ContractError::WithdrawalNotFound { withdrawal_id: 42 }
    );
    let mut empty = v.clone();
    empty.bank_ref = String::new();
    assert_eq!(
        s.record_with(&empty, &sig).unwrap_err(),
        ContractError::InvalidBankRef {
            bank_ref: String::new(),
            max: 64
        }
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn a_voucher_not_signed_by_a_quorum_for_this_contract_chain_and_epoch_is_refused() {
    let (mut s, alice) = instructed();
    let v = s.voucher(1, "BOOK-1", BankOutcome::Booked);
    let before = s.dump();

    let short = s
        .committee
        .sign(&[0, 1], &s.chain_id, s.withdrawal.as_str(), &v);
    assert_eq!(
        s.record_with(&v, &short).unwrap_err(),
        ContractError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    // Signed for C4 instead of C5: the contract address is part of the signed bytes.
    let for_ledger = s.committee.sign_quorum(&s.chain_id, s.ledger.as_str(), &v);
    assert_eq!(
        s.record_with(&v, &for_ledger).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    let other_chain = s
        .committee
        .sign_quorum("usagechain-other-1", s.withdrawal.as_str(), &v);
    assert_eq!(
        s.record_with(&v, &other_chain).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    let next_epoch = SigningCommittee::deterministic("withdrawal-tests", 2, 4, 3);
    let wrong_epoch = next_epoch.sign_quorum(&s.chain_id, s.withdrawal.as_str(), &v);
    assert_eq!(
        s.record_with(&v, &wrong_epoch).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 1,
            got: 2
        })
    );
    // A rejection signed over a booking (or the reverse) does not verify: the outcome is signed.
    let booked_sig = s.sign_voucher(&v);
    let mut rejected = v.clone();
    rejected.outcome = BankOutcome::Rejected;
    assert_eq!(
        s.record_with(&rejected, &booked_sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (16_000, 4_000));
}

#[test]
fn an_approval_not_signed_for_this_instruction_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 20_000);
    s.request(&alice, 4_000, IBAN).expect("requested");
    s.request(&alice, 5_000, IBAN).expect("requested");
    let before = s.dump();

    // The approval of withdrawal 2 does not approve withdrawal 1.
    let for_two = s.sign_approval(2);
    assert_eq!(
        s.approve_with(1, for_two).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    // An approval of a different beneficiary account does not approve the stored one.
    let mut payload = s.instruction_payload(1);
    payload.beneficiary_account = "DE89370400440532013000".into();
    let sig = s
        .committee
        .sign_quorum(&s.chain_id, s.withdrawal.as_str(), &payload);
    assert_eq!(
        s.approve_with(1, sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    let payload = s.instruction_payload(1);
    let short = s
        .committee
        .sign(&[3, 1], &s.chain_id, s.withdrawal.as_str(), &payload);
    assert_eq!(
        s.approve_with(1, short).unwrap_err(),
        ContractError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    assert_eq!(s.dump(), before);
    s.approve(1).expect("the right approval");
    assert_eq!(
        s.approve(1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "instructed".into()
        }
    );
}

#[test]
fn an_approval_or_voucher_signed_by_a_rotated_out_committee_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 20_000);
    s.request(&alice, 4_000, IBAN).expect("requested");
    s.request(&alice, 5_000, IBAN).expect("requested");
    s.approve(2).expect("instructed by epoch 1");
    let old_approval = s.sign_approval(1);
    let v = s.voucher(2, "BOOK-2", BankOutcome::Booked);
    let old_voucher_sig = s.sign_voucher(&v);

    s.rotate_committee(SigningCommittee::deterministic(
        "withdrawal-tests/next",
        2,
        4,
        3,
    ));
    let before = s.dump();
    assert_eq!(
        s.approve_with(1, old_approval).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        s.record_with(&v, &old_voucher_sig).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(s.dump(), before);

    s.approve(1).expect("the new committee approves");
    s.record(2, "BOOK-2", BankOutcome::Booked)
        .expect("the new committee confirms");
    assert_eq!(s.account_of(&alice), (11_000, 4_000));
}

/// A withdrawal voucher's body under the settlement voucher's domain tag (the two bodies have the
/// same layout, so only the tag tells them apart).
struct AsSettlementVoucher<'a>(&'a WithdrawalVoucher);

impl SignedPayload for AsSettlementVoucher<'_> {
    const KIND: PayloadKind = PayloadKind::SettlementVoucher;
    fn encode_body(&self, e: &mut Encoder) {
        self.0.encode_body(e);
    }
}

#[test]
fn a_voucher_signed_for_another_purpose_is_refused() {
    let (mut s, alice) = instructed();
    let v = s.voucher(1, "BOOK-1", BankOutcome::Booked);
    let sig = s
        .committee
        .sign_quorum(&s.chain_id, s.withdrawal.as_str(), &AsSettlementVoucher(&v));

    let before = s.dump();
    assert_eq!(
        s.record_with(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (16_000, 4_000));
}
