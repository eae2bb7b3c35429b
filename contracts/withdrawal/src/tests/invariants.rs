//! Property test: under any sequence of requests, cancels, releases, approvals, vouchers and time,
//! C4's locked funds of every owner equal the amounts of that owner's open withdrawals, nothing is
//! lost (available + locked + paid out == deposited), each withdrawal is paid at most once, and C4
//! never refuses a lock or unlock C5 let through.

use cosmwasm_std::Addr;
use proptest::prelude::*;
use usage_common::msg::withdrawal::{QueryMsg, WithdrawalStatus, WithdrawalsResponse};
use usage_common::payload::BankOutcome;

use super::suite::{Suite, HOUR, IBAN};

#[derive(Debug, Clone)]
enum Op {
    Request {
        owner: usize,
        amount: u128,
    },
    Cancel {
        pick: usize,
        by_owner: bool,
    },
    Release {
        pick: usize,
    },
    Approve {
        pick: usize,
    },
    Record {
        pick: usize,
        booked: bool,
        reuse: bool,
    },
    Advance {
        seconds: u64,
    },
}

const OWNERS: usize = 2;
const FUNDED: u128 = 40_000;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..OWNERS, 1u128..15_000).prop_map(|(owner, amount)| Op::Request { owner, amount }),
        1 => (0usize..16, any::<bool>()).prop_map(|(pick, by_owner)| Op::Cancel { pick, by_owner }),
        1 => (0usize..16).prop_map(|pick| Op::Release { pick }),
        2 => (0usize..16).prop_map(|pick| Op::Approve { pick }),
        2 => (0usize..16, any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(pick, booked, reuse)| Op::Record { pick, booked, reuse }),
        1 => (0u64..3 * HOUR).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

fn check(s: &Suite, owners: &[Addr]) {
    let all: WithdrawalsResponse = s.query(&QueryMsg::Withdrawals {
        owner: None,
        start_after: None,
        limit: Some(100),
    });
    let mut paid_total = 0u128;
    for owner in owners {
        let mine = all.withdrawals.iter().filter(|w| w.owner == *owner);
        let (mut open, mut paid) = (0u128, 0u128);
        for w in mine {
            match w.status {
                WithdrawalStatus::Delayed { .. }
                | WithdrawalStatus::Requested
                | WithdrawalStatus::Instructed => open += w.amount.u128(),
                WithdrawalStatus::Completed { .. } => paid += w.amount.u128(),
                WithdrawalStatus::Failed { .. } | WithdrawalStatus::Cancelled => {}
            }
        }
        let (available, locked) = s.account_of(owner);
        assert_eq!(locked, open, "locked == open withdrawals of {owner}");
        assert_eq!(
            available + locked + paid,
            FUNDED,
            "nothing lost for {owner}"
        );
        paid_total += paid;
    }
    let totals = s.ledger_totals();
    assert_eq!(totals.withdrawn.u128(), paid_total);
    assert_eq!(
        totals.total.u128(),
        totals.deposited.u128() - totals.withdrawn.u128() - totals.settled.u128()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn withdrawals_never_lose_or_double_pay_funds_under_random_operations(
        ops in proptest::collection::vec(op(), 1..30)
    ) {
        let mut s = Suite::new();
        let owners: Vec<Addr> = (0..OWNERS).map(|i| s.addr(&format!("owner{i}"))).collect();
        for o in &owners {
            s.fund(o, FUNDED);
        }
        let mut ids: Vec<u64> = Vec::new();
        let mut refs = 0u64;
        for op in ops {
            let before = s.dump();
            let pick = |p: usize| ids.get(p % ids.len().max(1)).copied();
            let result = match op {
                Op::Request { owner, amount } => {
                    let r = s.request(&owners[owner], amount, IBAN);
                    if r.is_ok() {
                        ids.push(ids.len() as u64 + 1);
                    }
                    r.map(|_| ())
                }
                Op::Cancel { pick: p, by_owner } => match pick(p) {
                    Some(id) => {
                        let owner = s.withdrawal(id).owner;
                        let sender = if by_owner { owner } else { s.addr("stranger") };
                        s.cancel(&sender, id).map(|_| ())
                    }
                    None => Ok(()),
                },
                Op::Release { pick: p } => match pick(p) {
                    Some(id) => s.release(id).map(|_| ()),
                    None => Ok(()),
                },
                Op::Approve { pick: p } => match pick(p) {
                    Some(id) => s.approve(id).map(|_| ()),
                    None => Ok(()),
                },
                Op::Record { pick: p, booked, reuse } => match pick(p) {
                    Some(id) => {
                        if !reuse || refs == 0 {
                            refs += 1;
                        }
                        let outcome = if booked { BankOutcome::Booked } else { BankOutcome::Rejected };
                        s.record(id, &format!("BANK-{refs}"), outcome).map(|_| ())
                    }
                    None => Ok(()),
                },
                Op::Advance { seconds } => {
                    s.advance(seconds);
                    Ok(())
                }
            };
            if result.is_err() {
                prop_assert_eq!(s.dump(), before);
            }
            check(&s, &owners);
        }
    }
}
