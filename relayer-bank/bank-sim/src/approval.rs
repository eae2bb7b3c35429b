//! Whether the chain authorised a payment: what the bank checks before it executes a credit
//! transfer from the custodial account.
//!
//! An instruction is paid only if all of these hold, each read from the chain, not from the
//! instruction:
//! 1. its end-to-end id is one of ours ([`parse_end_to_end_id`]) and names this deployment: the
//!    tag of the configured chain id and C3 (settlement) or C5 (withdrawal) address;
//! 2. the request it names is `Instructed` on that contract, i.e. the committee's approval is
//!    committed on chain (an approval collected but never recorded — a cancelled withdrawal,
//!    say — pays nothing);
//! 3. the amount, currency, creditor account and end-to-end id are those of the contract's own
//!    instruction payload;
//! 4. the committee's threshold signature that came with the instruction verifies over that
//!    payload's signing bytes for this chain, contract and the committee C1 holds now.

use usage_client::ChainClient;
use usage_common::msg::{settlement as c3, usage_proof as c1, withdrawal as c5};
use usage_common::payload::{
    deployment_tag, parse_end_to_end_id, EndToEndKind, SettlementApproval, SignedPayload,
    WithdrawalApproval,
};
use usage_common::{Domain, ThresholdSignature};

/// The chain and contracts whose instructions the bank executes.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The chain id.
    pub chain_id: String,
    /// C1 usage-proof, which holds the committee.
    pub usage_proof: String,
    /// C3 settlement.
    pub settlement: String,
    /// C5 withdrawal.
    pub withdrawal: String,
}

/// One credit transfer as instructed.
#[derive(Debug, Clone)]
pub struct Instructed<'a> {
    /// Its end-to-end id.
    pub end_to_end_id: &'a str,
    /// Minor units.
    pub amount: u128,
    /// ISO 4217.
    pub currency: &'a str,
    /// The creditor's account.
    pub creditor: &'a str,
}

/// Why the bank refuses to execute an instruction (it records nothing for it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthorised {
    /// The end-to-end id is not one of this deployment's.
    #[error("end-to-end id {0} does not name this deployment's settlement or withdrawal")]
    ForeignEndToEndId(String),
    /// The request is not instructed on chain (not yet, or not any more).
    #[error("{what} {id} is {status} on chain, not instructed")]
    NotInstructed {
        /// `settlement` or `withdrawal`.
        what: &'static str,
        /// Its id.
        id: u64,
        /// Its status on chain.
        status: String,
    },
    /// The instruction pays something else than the chain's payload.
    #[error("the instruction differs from the chain's: {0}")]
    Mismatch(String),
    /// No committee signature came with it.
    #[error("no committee approval for {0}")]
    NoApproval(String),
    /// The committee's signature does not verify.
    #[error("the committee approval does not verify: {0}")]
    BadApproval(String),
    /// The chain could not be asked; try again later.
    #[error("chain unavailable: {0}")]
    ChainUnavailable(String),
}

fn chain(e: impl std::fmt::Display) -> Unauthorised {
    Unauthorised::ChainUnavailable(e.to_string())
}

/// Checks that the chain authorised `tx`, with `signature` the committee's approval that came
/// with it (`None`: none did).
pub async fn check(
    client: &ChainClient,
    deployment: &Deployment,
    tx: &Instructed<'_>,
    signature: Option<&ThresholdSignature>,
) -> Result<(), Unauthorised> {
    let foreign = || Unauthorised::ForeignEndToEndId(tx.end_to_end_id.to_string());
    let (kind, tag, id) = parse_end_to_end_id(tx.end_to_end_id).ok_or_else(foreign)?;
    let contract = match kind {
        EndToEndKind::Settlement => &deployment.settlement,
        EndToEndKind::Withdrawal => &deployment.withdrawal,
    };
    if tag != deployment_tag(&deployment.chain_id, contract) {
        return Err(foreign());
    }
    let committee: c1::CommitteeResponse = client
        .smart(&deployment.usage_proof, &c1::QueryMsg::Committee {})
        .await
        .map_err(chain)?;
    let committee = committee.committee;
    let domain = Domain::new(&deployment.chain_id, contract, committee.epoch);
    let msg = match kind {
        EndToEndKind::Settlement => {
            let r: c3::SettlementResponse = client
                .smart(contract, &c3::QueryMsg::Settlement { settlement_id: id })
                .await
                .map_err(chain)?;
            let s = r.settlement.ok_or_else(foreign)?;
            if s.status != c3::SettlementStatus::Instructed {
                return Err(Unauthorised::NotInstructed {
                    what: "settlement",
                    id,
                    status: format!("{:?}", s.status),
                });
            }
            let p: SettlementApproval = client
                .smart(
                    contract,
                    &c3::QueryMsg::InstructionPayload { settlement_id: id },
                )
                .await
                .map_err(chain)?;
            same(
                tx,
                &p.end_to_end_id,
                p.amount.u128(),
                &p.currency,
                &p.payee_account,
            )?;
            p.signing_bytes(&domain)
        }
        EndToEndKind::Withdrawal => {
            let r: c5::WithdrawalResponse = client
                .smart(contract, &c5::QueryMsg::Withdrawal { withdrawal_id: id })
                .await
                .map_err(chain)?;
            let w = r.withdrawal.ok_or_else(foreign)?;
            if w.status != c5::WithdrawalStatus::Instructed {
                return Err(Unauthorised::NotInstructed {
                    what: "withdrawal",
                    id,
                    status: format!("{:?}", w.status),
                });
            }
            let p: WithdrawalApproval = client
                .smart(
                    contract,
                    &c5::QueryMsg::InstructionPayload { withdrawal_id: id },
                )
                .await
                .map_err(chain)?;
            same(
                tx,
                &p.end_to_end_id,
                p.amount.u128(),
                &p.currency,
                &p.beneficiary_account,
            )?;
            p.signing_bytes(&domain)
        }
    };
    let signature =
        signature.ok_or_else(|| Unauthorised::NoApproval(tx.end_to_end_id.to_string()))?;
    if signature.epoch != committee.epoch {
        return Err(Unauthorised::BadApproval(format!(
            "signed by committee epoch {}, the chain's is {}",
            signature.epoch, committee.epoch
        )));
    }
    if !usage_signer::verify_threshold(&committee, &msg, signature) {
        return Err(Unauthorised::BadApproval(
            "not a threshold signature of the committee over the chain's payload".into(),
        ));
    }
    Ok(())
}

fn same(
    tx: &Instructed<'_>,
    end_to_end_id: &str,
    amount: u128,
    currency: &str,
    account: &str,
) -> Result<(), Unauthorised> {
    let mut diffs = vec![];
    if tx.end_to_end_id != end_to_end_id {
        diffs.push(format!("end-to-end id {end_to_end_id}"));
    }
    if tx.amount != amount {
        diffs.push(format!("amount {amount}"));
    }
    if tx.currency != currency {
        diffs.push(format!("currency {currency}"));
    }
    if tx.creditor != account {
        diffs.push(format!("creditor account {account}"));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(Unauthorised::Mismatch(format!(
            "the chain instructs {}",
            diffs.join(", ")
        )))
    }
}
