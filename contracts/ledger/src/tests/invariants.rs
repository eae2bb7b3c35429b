//! Property test: under any sequence of deposits, replays, locks, unlocks and debits by either
//! mover, the ledger agrees with a simple model (locks kept apart per mover), balances never go
//! negative, refused operations change nothing, and
//! `total == sum(available + locked) == deposited - settled - withdrawn`.

use std::collections::BTreeMap;

use cosmwasm_std::Addr;
use proptest::prelude::*;

use super::suite::Suite;
use crate::error::ContractError;

#[derive(Debug, Clone)]
enum Op {
    Deposit {
        user: usize,
        amount: u128,
    },
    Replay {
        nth: usize,
    },
    Lock {
        by_c3: bool,
        user: usize,
        amount: u128,
    },
    Unlock {
        by_c3: bool,
        user: usize,
        amount: u128,
    },
    Debit {
        by_c3: bool,
        user: usize,
        amount: u128,
    },
}

const USERS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS;
    let amount = 0u128..5_000;
    prop_oneof![
        (user.clone(), 1u128..5_000).prop_map(|(user, amount)| Op::Deposit { user, amount }),
        (0usize..8).prop_map(|nth| Op::Replay { nth }),
        (any::<bool>(), user.clone(), amount.clone()).prop_map(|(by_c3, user, amount)| Op::Lock {
            by_c3,
            user,
            amount
        }),
        (any::<bool>(), user.clone(), amount.clone()).prop_map(|(by_c3, user, amount)| {
            Op::Unlock {
                by_c3,
                user,
                amount,
            }
        }),
        (any::<bool>(), user, amount).prop_map(|(by_c3, user, amount)| Op::Debit {
            by_c3,
            user,
            amount
        }),
    ]
}

#[derive(Default)]
struct Model {
    /// Per user: available, locked by C3, locked by C5.
    balances: BTreeMap<usize, (u128, u128, u128)>,
    deposited: u128,
    settled: u128,
    withdrawn: u128,
}

fn check(s: &Suite, users: &[Addr], m: &Model) {
    let totals = s.totals();
    let mut sum = 0u128;
    let mut locked = 0u128;
    for (i, u) in users.iter().enumerate() {
        let (a, l) = s.account_of(u);
        let (ma, l3, l5) = m.balances.get(&i).copied().unwrap_or_default();
        assert_eq!((a, l), (ma, l3 + l5));
        sum += a + l;
        locked += l;
    }
    assert_eq!(totals.total.u128(), sum);
    assert_eq!(totals.locked.u128(), locked);
    assert_eq!(totals.deposited.u128(), m.deposited);
    assert_eq!(totals.settled.u128(), m.settled);
    assert_eq!(totals.withdrawn.u128(), m.withdrawn);
    assert_eq!(
        totals.total.u128(),
        m.deposited - m.settled - m.withdrawn,
        "total == deposited - settled - withdrawn"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ledger_totals_equal_the_sum_of_balances_under_random_operations(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let mut s = Suite::new();
        let users: Vec<Addr> = (0..USERS).map(|i| s.addr(&format!("user{i}"))).collect();
        let mut m = Model::default();
        let mut refs: Vec<String> = Vec::new();
        for op in ops {
            let before = s.dump();
            match op {
                Op::Deposit { user, amount } => {
                    let bank_ref = format!("CAMT-{}", refs.len());
                    s.deposit_signed(&bank_ref, &users[user], amount).expect("fresh voucher credited");
                    refs.push(bank_ref);
                    m.balances.entry(user).or_default().0 += amount;
                    m.deposited += amount;
                }
                Op::Replay { nth } => {
                    if let Some(bank_ref) = refs.get(nth).cloned() {
                        let r = s.deposit_signed(&bank_ref, &users[0], 1);
                        prop_assert_eq!(r.err(), Some(ContractError::VoucherAlreadyUsed { bank_ref }));
                        prop_assert_eq!(s.dump(), before);
                    }
                }
                Op::Lock { by_c3, user, amount } => {
                    let by = if by_c3 { s.settlement.clone() } else { s.withdrawal.clone() };
                    let r = s.lock(&by, &users[user], amount);
                    let b = m.balances.entry(user).or_default();
                    if amount > 0 && b.0 >= amount {
                        prop_assert!(r.is_ok());
                        b.0 -= amount;
                        if by_c3 { b.1 += amount } else { b.2 += amount }
                    } else {
                        prop_assert!(r.is_err());
                        prop_assert_eq!(s.dump(), before);
                    }
                }
                Op::Unlock { by_c3, user, amount } => {
                    let by = if by_c3 { s.settlement.clone() } else { s.withdrawal.clone() };
                    let r = s.unlock(&by, &users[user], amount);
                    let b = m.balances.entry(user).or_default();
                    let mine = if by_c3 { &mut b.1 } else { &mut b.2 };
                    if amount > 0 && *mine >= amount {
                        prop_assert!(r.is_ok());
                        *mine -= amount;
                        b.0 += amount;
                    } else {
                        prop_assert!(r.is_err());
                        prop_assert_eq!(s.dump(), before);
                    }
                }
                Op::Debit { by_c3, user, amount } => {
                    let by = if by_c3 { s.settlement.clone() } else { s.withdrawal.clone() };
                    let r = s.debit(&by, &users[user], amount);
                    let b = m.balances.entry(user).or_default();
                    let mine = if by_c3 { &mut b.1 } else { &mut b.2 };
                    if amount > 0 && *mine >= amount {
                        prop_assert!(r.is_ok());
                        *mine -= amount;
                        if by_c3 { m.settled += amount } else { m.withdrawn += amount }
                    } else {
                        prop_assert!(r.is_err());
                        prop_assert_eq!(s.dump(), before);
                    }
                }
            }
            check(&s, &users, &m);
        }
    }
}
