//! Moving funds: only C3 settlement and C5 withdrawal may lock, unlock and debit, and never more
//! than there is.

use cosmwasm_std::{Addr, Uint128};
use usage_common::events::{FundsMoved, TypedEvent};
use usage_common::governance::{GovernanceError, GovernanceMsg, DEFAULT_TIMELOCK_SECONDS};
use usage_common::msg::ledger::{
    ConfigResponse, ExecuteMsg, LedgerChange, QueryMsg, TotalSupplyResponse,
};

use super::suite::Suite;
use crate::error::ContractError;

fn funded(amount: u128) -> (Suite, cosmwasm_std::Addr) {
    let mut s = Suite::new();
    let tenant = s.addr("tenant");
    s.deposit_signed("CAMT-FUND", &tenant, amount)
        .expect("deposit credited");
    (s, tenant)
}

#[test]
fn lock_by_an_address_other_than_settlement_or_withdrawal_is_refused() {
    let (mut s, tenant) = funded(1_000);
    let before = s.dump();
    for sender in [s.addr("mallory"), tenant.clone(), s.admin.clone()] {
        assert_eq!(
            s.lock(&sender, &tenant, 100).unwrap_err(),
            ContractError::Unauthorized
        );
        assert_eq!(
            s.unlock(&sender, &tenant, 100).unwrap_err(),
            ContractError::Unauthorized
        );
        assert_eq!(
            s.debit(&sender, &tenant, 100).unwrap_err(),
            ContractError::Unauthorized
        );
    }
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&tenant), (1_000, 0));
}

#[test]
fn locking_more_than_available_is_refused() {
    let (mut s, tenant) = funded(1_000);
    let c3 = s.settlement.clone();
    s.lock(&c3, &tenant, 600).expect("600 of 1000 locks");

    let before = s.dump();
    assert_eq!(
        s.lock(&c3, &tenant, 401).unwrap_err(),
        ContractError::InsufficientBalance {
            needed: Uint128::new(401),
            available: Uint128::new(400)
        }
    );
    let stranger = s.addr("stranger");
    assert_eq!(
        s.lock(&c3, &stranger, 1).unwrap_err(),
        ContractError::InsufficientBalance {
            needed: Uint128::new(1),
            available: Uint128::zero()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&tenant), (400, 600));
}

#[test]
fn unlocking_or_debiting_more_than_locked_is_refused() {
    let (mut s, tenant) = funded(1_000);
    let c5 = s.withdrawal.clone();
    s.lock(&c5, &tenant, 300).expect("locks");

    let before = s.dump();
    assert_eq!(
        s.unlock(&c5, &tenant, 301).unwrap_err(),
        ContractError::InsufficientLocked {
            needed: Uint128::new(301),
            locked: Uint128::new(300)
        }
    );
    assert_eq!(
        s.debit(&c5, &tenant, 301).unwrap_err(),
        ContractError::InsufficientLocked {
            needed: Uint128::new(301),
            locked: Uint128::new(300)
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&tenant), (700, 300));
}

#[test]
fn a_zero_amount_or_an_invalid_owner_is_refused() {
    let (mut s, tenant) = funded(1_000);
    let c3 = s.settlement.clone();
    let before = s.dump();
    assert_eq!(
        s.lock(&c3, &tenant, 0).unwrap_err(),
        ContractError::ZeroAmount
    );
    assert_eq!(
        s.unlock(&c3, &tenant, 0).unwrap_err(),
        ContractError::ZeroAmount
    );
    assert_eq!(
        s.debit(&c3, &tenant, 0).unwrap_err(),
        ContractError::ZeroAmount
    );
    assert_eq!(
        s.execute(
            &c3,
            &ExecuteMsg::Lock {
                owner: "Not-An-Address".into(),
                amount: Uint128::new(1)
            }
        )
        .unwrap_err(),
        ContractError::InvalidOwner {
            owner: "Not-An-Address".into()
        }
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn lock_unlock_and_debit_move_funds_and_emit_funds_moved() {
    let (mut s, tenant) = funded(1_000);
    let c3 = s.settlement.clone();

    let resp = s.lock(&c3, &tenant, 400).expect("locks");
    assert_eq!(
        FundsMoved::all_in(&resp.events),
        vec![FundsMoved {
            kind: "lock".into(),
            owner: tenant.to_string(),
            amount: Uint128::new(400),
            by: c3.to_string(),
        }]
    );
    assert_eq!(s.account_of(&tenant), (600, 400));

    let resp = s.unlock(&c3, &tenant, 100).expect("unlocks");
    assert_eq!(FundsMoved::all_in(&resp.events)[0].kind, "unlock");
    assert_eq!(s.account_of(&tenant), (700, 300));

    let resp = s.debit(&c3, &tenant, 300).expect("debits");
    assert_eq!(FundsMoved::all_in(&resp.events)[0].kind, "debit");
    assert_eq!(s.account_of(&tenant), (700, 0));
}

#[test]
fn a_debit_by_settlement_counts_as_settled_and_one_by_withdrawal_as_withdrawn() {
    let (mut s, tenant) = funded(1_000);
    let (c3, c5) = (s.settlement.clone(), s.withdrawal.clone());
    s.lock(&c3, &tenant, 250).expect("C3 locks");
    s.lock(&c5, &tenant, 150).expect("C5 locks");
    s.debit(&c3, &tenant, 250).expect("C3 debits");
    s.debit(&c5, &tenant, 100).expect("C5 debits");

    assert_eq!(s.account_of(&tenant), (600, 50));
    assert_eq!(
        s.totals(),
        TotalSupplyResponse {
            total: Uint128::new(650),
            locked: Uint128::new(50),
            deposited: Uint128::new(1_000),
            settled: Uint128::new(250),
            withdrawn: Uint128::new(100),
        }
    );
}

#[test]
fn a_fund_mover_is_replaced_only_through_the_timelock_and_the_two_movers_must_differ() {
    let mut s = Suite::new();
    let mallory = s.addr("mallory");
    let new_c3 = s.addr("new-settlement");
    let admin = s.admin.clone();
    let before = s.dump();
    // Replacing a mover at once is refused, for the admin too.
    let at_once = ExecuteMsg::UpdateConfig {
        settlement: Some(new_c3.to_string()),
        withdrawal: None,
    };
    assert_eq!(
        s.execute(&mallory, &at_once).unwrap_err(),
        ContractError::Unauthorized
    );
    assert_eq!(
        s.execute(&admin, &at_once).unwrap_err(),
        ContractError::Governance(GovernanceError::Timelocked)
    );
    let queue = |settlement: &Addr| {
        ExecuteMsg::Governance(GovernanceMsg::QueueChange {
            change: LedgerChange::Movers {
                settlement: Some(settlement.to_string()),
                withdrawal: None,
            },
        })
    };
    assert_eq!(
        s.execute(&mallory, &queue(&new_c3)).unwrap_err(),
        ContractError::Governance(GovernanceError::NotAdmin)
    );
    assert_eq!(s.dump(), before);

    let withdrawal = s.withdrawal.clone();
    s.execute(&admin, &queue(&withdrawal)).expect("queued (1)");
    s.execute(&admin, &queue(&new_c3)).expect("queued (2)");
    let apply = |id| ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id });
    assert!(matches!(
        s.execute(&mallory, &apply(2)),
        Err(ContractError::Governance(GovernanceError::TooEarly { .. }))
    ));
    s.advance(DEFAULT_TIMELOCK_SECONDS);
    assert!(matches!(
        s.execute(&mallory, &apply(1)),
        Err(ContractError::InvalidConfig { .. })
    ));
    s.execute(&mallory, &apply(2))
        .expect("anyone applies it once due");
    let config: ConfigResponse = s.query(&QueryMsg::Config {});
    assert_eq!(config.settlement, Some(new_c3.clone()));
    assert_eq!(config.withdrawal, Some(s.withdrawal.clone()));

    // The old settlement address lost its right to move funds.
    let tenant = s.addr("tenant");
    s.deposit_signed("CAMT-CFG", &tenant, 10).expect("credited");
    let old_c3 = s.settlement.clone();
    assert_eq!(
        s.lock(&old_c3, &tenant, 1).unwrap_err(),
        ContractError::Unauthorized
    );
    s.lock(&new_c3, &tenant, 1)
        .expect("the new settlement locks");
}

#[test]
fn a_paused_ledger_credits_no_deposit_until_resumed() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let mallory = s.addr("mallory");
    let tenant = s.addr("tenant");
    assert_eq!(
        s.execute(&mallory, &ExecuteMsg::SetPaused { paused: true })
            .unwrap_err(),
        ContractError::Unauthorized
    );
    s.execute(&admin, &ExecuteMsg::SetPaused { paused: true })
        .expect("paused");
    assert_eq!(
        s.deposit_signed("CAMT-P", &tenant, 10).unwrap_err(),
        ContractError::Paused
    );
    s.execute(&admin, &ExecuteMsg::SetPaused { paused: false })
        .expect("resumed");
    s.deposit_signed("CAMT-P", &tenant, 10)
        .expect("credited after resuming");
}

#[test]
fn a_mover_cannot_unlock_or_debit_funds_the_other_mover_locked() {
    let (mut s, tenant) = funded(1_000);
    let (c3, c5) = (s.settlement.clone(), s.withdrawal.clone());
    s.lock(&c5, &tenant, 400)
        .expect("C5 locks for a withdrawal");
    s.lock(&c3, &tenant, 100)
        .expect("C3 locks for a settlement");

    let before = s.dump();
    assert_eq!(
        s.debit(&c3, &tenant, 200).unwrap_err(),
        ContractError::InsufficientLocked {
            needed: Uint128::new(200),
            locked: Uint128::new(100)
        }
    );
    assert_eq!(
        s.unlock(&c5, &tenant, 401).unwrap_err(),
        ContractError::InsufficientLocked {
            needed: Uint128::new(401),
            locked: Uint128::new(400)
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&tenant), (500, 500));

    s.debit(&c5, &tenant, 400)
        .expect("C5 debits what it locked");
    s.unlock(&c3, &tenant, 100)
        .expect("C3 unlocks what it locked");
    assert_eq!(s.account_of(&tenant), (600, 0));
}
