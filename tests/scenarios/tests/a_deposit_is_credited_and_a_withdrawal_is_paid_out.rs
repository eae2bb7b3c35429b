//! Flows 5 and 6: a committee-signed bank credit is credited once; a wallet's withdrawal is locked,
//! instructed with the committee's approval and paid out by the bank's voucher.

use cosmwasm_std::Uint128;
use usage_common::events::{
    DepositCredited, TypedEvent, WithdrawalCompleted, WithdrawalInstructed, WithdrawalRequested,
};
use usage_common::msg::{ledger as c4, withdrawal as c5};
use usage_common::payload::{BankOutcome, WithdrawalApproval, WithdrawalVoucher};
use usage_scenarios::*;

#[test]
fn a_deposit_is_credited_and_a_withdrawal_is_paid_out() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    let res = s.deposit("CAMT-0100", &tenant, 30_000).expect("deposit");
    assert_eq!(
        DepositCredited::all_in(&res.events),
        vec![DepositCredited {
            bank_ref: "CAMT-0100".into(),
            beneficiary: tenant.to_string(),
            amount: Uint128::new(30_000),
        }]
    );
    let b: c4::BalanceResponse = s.query(
        &s.c4,
        &c4::QueryMsg::Balance {
            address: tenant.to_string(),
        },
    );
    assert_eq!(b.balance, Uint128::new(30_000));
    let d: c4::DepositResponse = s.query(
        &s.c4,
        &c4::QueryMsg::Deposit {
            bank_ref: "CAMT-0100".into(),
        },
    );
    assert_eq!(
        d.deposit.expect("deposit record").amount,
        Uint128::new(30_000)
    );
    let info: c4::TokenInfoResponse = s.query(&s.c4, &c4::QueryMsg::TokenInfo {});
    assert_eq!(info.total_supply, Uint128::new(30_000));
    assert_eq!(info.decimals, 2);

    let res = s
        .request_withdrawal(&tenant, 12_000)
        .expect("withdrawal requested");
    let req = WithdrawalRequested::all_in(&res.events);
    assert_eq!(req[0].status, "requested");
    assert_eq!(s.account(&tenant).locked, Uint128::new(12_000));

    let approval: WithdrawalApproval = s.query(
        &s.c5,
        &c5::QueryMsg::InstructionPayload { withdrawal_id: 1 },
    );
    assert_eq!(approval.owner, tenant.to_string());
    let sig = s.sign(&s.c5.clone(), &approval);
    let admin = s.admin.clone();
    let res = s
        .exec_c5(
            &admin,
            &c5::ExecuteMsg::ApproveInstruction {
                withdrawal_id: 1,
                signature: sig,
            },
        )
        .expect("instructed");
    assert_eq!(WithdrawalInstructed::all_in(&res.events).len(), 1);

    let voucher = WithdrawalVoucher {
        withdrawal_id: 1,
        end_to_end_id: approval.end_to_end_id,
        bank_ref: "BOOK-W-0001".into(),
        outcome: BankOutcome::Booked,
        amount: Uint128::new(12_000),
    };
    let sig = s.sign(&s.c5.clone(), &voucher);
    let res = s
        .exec_c5(
            &admin,
            &c5::ExecuteMsg::RecordVoucher {
                voucher,
                signature: sig,
            },
        )
        .expect("completed");
    assert_eq!(WithdrawalCompleted::all_in(&res.events).len(), 1);
    assert_eq!(
        s.withdrawal(1).expect("withdrawal").status,
        c5::WithdrawalStatus::Completed {
            bank_ref: "BOOK-W-0001".into()
        }
    );
    let acct = s.account(&tenant);
    assert_eq!(acct.available, Uint128::new(18_000));
    assert_eq!(acct.locked, Uint128::zero());
    let supply = s.supply();
    assert_eq!(supply.withdrawn, Uint128::new(12_000));
    assert_eq!(supply.total, Uint128::new(18_000));
}

#[test]
fn a_withdrawal_over_the_limit_is_delayed_then_paid_once() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-0200", &tenant, 200_000).expect("deposit");
    s.request_withdrawal(&tenant, PER_REQUEST_LIMIT + 1)
        .expect("accepted as delayed");
    let w = s.withdrawal(1).expect("withdrawal");
    assert_eq!(
        w.status,
        c5::WithdrawalStatus::Delayed {
            release_at: T0 + DELAY
        }
    );
    assert_eq!(
        s.account(&tenant).locked,
        Uint128::new(PER_REQUEST_LIMIT + 1)
    );
    let admin = s.admin.clone();
    assert!(matches!(
        s.exec_c5(&admin, &c5::ExecuteMsg::Release { withdrawal_id: 1 }),
        Err(WithdrawalError::NotYetReleasable { .. })
    ));
    s.advance(DELAY);
    s.exec_c5(&admin, &c5::ExecuteMsg::Release { withdrawal_id: 1 })
        .expect("released");
    assert_eq!(
        s.withdrawal(1).expect("withdrawal").status,
        c5::WithdrawalStatus::Requested
    );
}
