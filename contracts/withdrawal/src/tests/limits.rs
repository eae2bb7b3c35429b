//! Limits: a request over the per-request or the rolling limit is delayed, never refused or lost,
//! and becomes payable after the delay.

use cosmwasm_std::Uint128;
use usage_common::events::{TypedEvent, WithdrawalReleased, WithdrawalRequested};
use usage_common::msg::withdrawal::WithdrawalStatus;
use usage_common::payload::BankOutcome;

use super::suite::{Suite, DAY, HOUR, IBAN};
use crate::error::ContractError;

#[test]
fn a_request_over_the_per_request_limit_is_delayed_then_released_and_paid_once() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    s.fund(&alice, 50_000);
    let release_at = s.now() + HOUR;

    let resp = s
        .request(&alice, 12_000, IBAN)
        .expect("delayed, not refused");
    assert_eq!(
        WithdrawalRequested::all_in(&resp.events),
        vec![WithdrawalRequested {
            withdrawal_id: 1,
            owner: alice.to_string(),
            amount: Uint128::new(12_000),
            beneficiary_account: IBAN.into(),
            status: "delayed".into(),
            release_at,
        }]
    );
    assert_eq!(s.status(1), WithdrawalStatus::Delayed { release_at });
    assert_eq!(
        s.account_of(&alice),
        (38_000, 12_000),
        "locked while delayed"
    );
    assert_eq!(
        s.rolling_used(&alice),
        0,
        "a delayed request counts once released"
    );

    let before = s.dump();
    assert_eq!(
        s.approve(1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "delayed".into()
        }
    );
    assert_eq!(
        s.release(1).unwrap_err(),
        ContractError::NotYetReleasable {
            withdrawal_id: 1,
            release_at
        }
    );
    s.advance(HOUR - 1);
    assert_eq!(
        s.release(1).unwrap_err(),
        ContractError::NotYetReleasable {
            withdrawal_id: 1,
            release_at
        }
    );
    assert_eq!(s.dump(), before);

    s.advance(1);
    let resp = s.release(1).expect("released at release_at");
    assert_eq!(
        WithdrawalReleased::all_in(&resp.events),
        vec![WithdrawalReleased { withdrawal_id: 1 }]
    );
    assert_eq!(s.status(1), WithdrawalStatus::Requested);
    assert_eq!(s.rolling_used(&alice), 12_000);
    assert_eq!(
        s.release(1).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "requested".into()
        }
    );

    s.approve(1).expect("instructed");
    s.record(1, "BOOK-7", BankOutcome::Booked).expect("paid");
    assert_eq!(s.account_of(&alice), (38_000, 0));
    assert_eq!(s.ledger_totals().withdrawn.u128(), 12_000);

    // Paid once: neither the same voucher nor another booking of the same withdrawal is applied.
    let before = s.dump();
    assert_eq!(
        s.record(1, "BOOK-7", BankOutcome::Booked).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "BOOK-7".into()
        }
    );
    assert_eq!(
        s.record(1, "BOOK-8", BankOutcome::Booked).unwrap_err(),
        ContractError::InvalidStatus {
            withdrawal_id: 1,
            status: "completed".into()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.ledger_totals().withdrawn.u128(), 12_000);
}

#[test]
fn the_request_that_crosses_the_rolling_limit_is_delayed() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    s.fund(&alice, 100_000);
    s.fund(&bob, 100_000);

    s.request(&alice, 9_000, IBAN).expect("first");
    s.advance(HOUR);
    s.request(&alice, 9_000, IBAN).expect("second");
    assert_eq!(s.rolling_used(&alice), 18_000);
    assert_eq!(s.status(1), WithdrawalStatus::Requested);
    assert_eq!(s.status(2), WithdrawalStatus::Requested);

    // 18,000 + 9,000 > 25,000: delayed, although 9,000 alone is under the per-request limit.
    s.request(&alice, 9_000, IBAN).expect("third is delayed");
    assert_eq!(
        s.status(3),
        WithdrawalStatus::Delayed {
            release_at: s.now() + HOUR
        }
    );
    assert_eq!(s.rolling_used(&alice), 18_000);
    // Reaching the limit exactly is allowed.
    s.request(&alice, 7_000, IBAN).expect("fourth fits exactly");
    assert_eq!(s.status(4), WithdrawalStatus::Requested);
    assert_eq!(s.rolling_used(&alice), 25_000);
    assert_eq!(
        s.account_of(&alice),
        (66_000, 34_000),
        "all four are locked"
    );

    // Another owner has a rolling budget of their own.
    s.request(&bob, 9_000, IBAN).expect("bob's first");
    assert_eq!(s.status(5), WithdrawalStatus::Requested);

    // Once the window has passed, usage ages out and requests are payable at once again.
    s.advance(DAY + 1);
    assert_eq!(s.rolling_used(&alice), 0);
    s.request(&alice, 9_000, IBAN).expect("after the window");
    assert_eq!(s.status(6), WithdrawalStatus::Requested);
    s.release(3).expect("the delayed one is released");
    assert_eq!(s.rolling_used(&alice), 18_000);
}
