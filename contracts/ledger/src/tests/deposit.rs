//! Deposits: a committee-signed bank credit is credited once, and only when the signature is bound
//! to this chain, this ledger and the current committee epoch.

use cosmwasm_std::Uint128;
use usage_common::codec::Encoder;
use usage_common::events::{DepositCredited, TypedEvent};
use usage_common::msg::ledger::{Deposit, QueryMsg, TokenInfoResponse};
use usage_common::payload::{DepositVoucher, PayloadKind, SignedPayload};
use usage_common::CommitteeError;
use usage_signer::SigningCommittee;

use super::suite::{Suite, CURRENCY};
use crate::error::ContractError;

#[test]
fn a_deposit_is_credited_once_and_its_replay_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0001", &alice, 12_500);
    let sig = s.sign(&v);

    let resp = s.deposit(&v, &sig).expect("first delivery is credited");
    assert_eq!(
        DepositCredited::all_in(&resp.events),
        vec![DepositCredited {
            bank_ref: "CAMT-0001".into(),
            beneficiary: alice.to_string(),
            amount: Uint128::new(12_500),
        }]
    );
    assert_eq!(s.account_of(&alice), (12_500, 0));
    assert_eq!(
        s.deposit_record("CAMT-0001").deposit,
        Some(Deposit {
            bank_ref: "CAMT-0001".into(),
            beneficiary: alice.clone(),
            amount: Uint128::new(12_500),
            height: s.app.block_info().height,
        })
    );

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "CAMT-0001".into()
        }
    );
    // Even a fresh signature over the same bank reference (say, after a rotation) is refused.
    let again = s.sign(&v);
    assert_eq!(
        s.deposit(&v, &again).unwrap_err(),
        ContractError::VoucherAlreadyUsed {
            bank_ref: "CAMT-0001".into()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (12_500, 0));
    assert_eq!(s.totals().deposited.u128(), 12_500);
    assert_eq!(s.totals().total.u128(), 12_500);
}

#[test]
fn a_voucher_signed_for_another_contract_address_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0002", &alice, 500);
    let other_contract = s.addr("another-ledger");
    let sig = s
        .committee
        .sign_quorum(&s.chain_id, other_contract.as_str(), &v);

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (0, 0));
    assert_eq!(s.deposit_record("CAMT-0002").deposit, None);
}

#[test]
fn a_voucher_signed_for_another_chain_id_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0003", &alice, 500);
    let sig = s
        .committee
        .sign_quorum("usagechain-other-1", s.ledger.as_str(), &v);

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (0, 0));
}

/// The body of a deposit voucher under another purpose's domain tag.
struct UnderAnotherTag<'a>(&'a DepositVoucher);

impl SignedPayload for UnderAnotherTag<'_> {
    const KIND: PayloadKind = PayloadKind::SettlementVoucher;
    fn encode_body(&self, e: &mut Encoder) {
        self.0.encode_body(e);
    }
}

#[test]
fn a_voucher_signed_for_another_purpose_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0013", &alice, 500);
    let sig = s
        .committee
        .sign_quorum(&s.chain_id, s.ledger.as_str(), &UnderAnotherTag(&v));

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (0, 0));
}

#[test]
fn a_voucher_signed_by_two_of_four_members_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0004", &alice, 500);
    let sig = s
        .committee
        .sign(&[0, 1], &s.chain_id, s.ledger.as_str(), &v);

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::BelowThreshold {
            signers: 2,
            threshold: 3
        })
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (0, 0));

    // Any three of the four do sign a quorum.
    let sig = s
        .committee
        .sign(&[0, 2, 3], &s.chain_id, s.ledger.as_str(), &v);
    s.deposit(&v, &sig)
        .expect("members 0, 2 and 3 are a quorum");
    assert_eq!(s.account_of(&alice), (500, 0));
}

#[test]
fn a_signature_that_claims_a_member_who_did_not_sign_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0005", &alice, 500);
    let mut sig = s
        .committee
        .sign(&[0, 1], &s.chain_id, s.ledger.as_str(), &v);
    sig.signers = s
        .committee
        .sign(&[0, 1, 2], &s.chain_id, s.ledger.as_str(), &v)
        .signers;

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn a_voucher_signed_with_the_wrong_committee_epoch_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0006", &alice, 500);
    // The same keys, but claiming epoch 2 while C1 holds epoch 1.
    let future = SigningCommittee::deterministic("ledger-tests", 2, 4, 3);
    let sig = future.sign_quorum(&s.chain_id, s.ledger.as_str(), &v);

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (0, 0));
}

#[test]
fn a_voucher_signed_by_a_rotated_out_committee_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0007", &alice, 500);
    let old_sig = s.sign(&v);
    s.rotate_committee(SigningCommittee::deterministic(
        "ledger-tests/next",
        2,
        4,
        3,
    ));

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &old_sig).unwrap_err(),
        ContractError::Committee(CommitteeError::WrongEpoch {
            expected: 2,
            got: 1
        })
    );
    // Relabelling the old signature with the new epoch does not help: the epoch is in the signed bytes.
    let mut relabelled = old_sig.clone();
    relabelled.epoch = 2;
    assert_eq!(
        s.deposit(&v, &relabelled).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);

    let sig = s.sign(&v);
    s.deposit(&v, &sig)
        .expect("the new committee's signature is accepted");
    assert_eq!(s.account_of(&alice), (500, 0));
}

#[test]
fn a_voucher_whose_amount_was_changed_after_signing_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let v = s.voucher("CAMT-0008", &alice, 500);
    let sig = s.sign(&v);
    let mut inflated = v.clone();
    inflated.amount = Uint128::new(5_000_000);

    let before = s.dump();
    assert_eq!(
        s.deposit(&inflated, &sig).unwrap_err(),
        ContractError::Committee(CommitteeError::InvalidSignature)
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn a_voucher_in_another_currency_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let mut v = s.voucher("CAMT-0009", &alice, 500);
    v.currency = "EUR".into();
    let sig = s.sign(&v);

    let before = s.dump();
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::WrongCurrency {
            expected: CURRENCY.into(),
            got: "EUR".into()
        }
    );
    assert_eq!(s.dump(), before);
    assert_eq!(s.account_of(&alice), (0, 0));
}

#[test]
fn a_voucher_with_zero_amount_bad_bank_ref_or_bad_beneficiary_is_refused() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let before = s.dump();

    let v = s.voucher("CAMT-0010", &alice, 0);
    let sig = s.sign(&v);
    assert_eq!(s.deposit(&v, &sig).unwrap_err(), ContractError::ZeroAmount);

    let v = s.voucher("", &alice, 1);
    let sig = s.sign(&v);
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::InvalidBankRef {
            bank_ref: String::new(),
            max: 64
        }
    );

    let long = "R".repeat(65);
    let v = s.voucher(&long, &alice, 1);
    let sig = s.sign(&v);
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::InvalidBankRef {
            bank_ref: long,
            max: 64
        }
    );

    let mut v = s.voucher("CAMT-0011", &alice, 1);
    v.beneficiary = "not an address".into();
    let sig = s.sign(&v);
    assert_eq!(
        s.deposit(&v, &sig).unwrap_err(),
        ContractError::InvalidBeneficiary {
            beneficiary: "not an address".into()
        }
    );
    assert_eq!(s.dump(), before);
}

#[test]
fn an_unknown_address_has_zero_balances_and_token_info_describes_the_currency() {
    let mut s = Suite::new();
    let nobody = s.addr("nobody");
    assert_eq!(s.account_of(&nobody), (0, 0));
    let b: cw20_like::BalanceResponse = s.query(&QueryMsg::Balance {
        address: nobody.to_string(),
    });
    assert_eq!(b.balance, Uint128::zero());

    let alice = s.addr("alice");
    s.deposit_signed("CAMT-0012", &alice, 700)
        .expect("credited");
    let info: TokenInfoResponse = s.query(&QueryMsg::TokenInfo {});
    assert_eq!(
        info,
        TokenInfoResponse {
            name: "usagechain CNY ledger".into(),
            symbol: "CNY".into(),
            decimals: 2,
            total_supply: Uint128::new(700),
        }
    );
}

/// cw20's balance shape, to show wallets can read the ledger with it.
mod cw20_like {
    #[cosmwasm_schema::cw_serde]
    pub struct BalanceResponse {
        pub balance: cosmwasm_std::Uint128,
    }
}
