//! Settlement and withdrawal payments, one step at a time, each step read from the chain and the
//! bank so that a relayer restarted anywhere (or a second relayer beside it) picks up where the
//! request stands and doubles nothing:
//!
//! 1. `Requested` on chain → the committee signs the instruction (kept in the store first) →
//!    `ApproveInstruction`.
//! 2. `Instructed` → the pain.001 (message id = end-to-end id, contents derived from the chain
//!    only, so a resend is the same message) with the approval → the bank pays the end-to-end id
//!    once; then the bank's signed statement of the end-to-end id → its one final booking → the
//!    members sign the voucher (each asking the bank itself) → `RecordVoucher`: cleared or
//!    completed, or failed and the funds unlocked.
//! 3. Settled on chain (or cancelled) → forgotten.

use std::time::Duration;

use cosmwasm_std::Uint128;
use usage_aggregator::signing::SignRequest;
use usage_bank_api::{BankClient, BookingStatus};
use usage_client::ChainClient;
use usage_common::msg::{settlement as c3, withdrawal as c5};
use usage_common::payload::{BankOutcome, SettlementVoucher, WithdrawalVoucher};
use usage_common::ThresholdSignature;
use usage_iso20022::{
    Amount, ApprovalEntry, CommitteeApproval, CreditTransfer, CreditTransferInitiation, Party,
};

use crate::committee::{Committee, NoSignature};
use crate::config::BankConfig;
use crate::store::{Kind, Store};

const GAS: u64 = 30_000_000;
const WAIT: Duration = Duration::from_secs(20);

/// Where a request stands on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting out a delay (withdrawals) until this block time, seconds.
    Delayed { release_at: u64 },
    /// Payment due: the committee may approve it.
    Requested,
    /// Approved on chain: the bank may pay it.
    Instructed,
    /// Cleared, completed, failed or cancelled: nothing left to do.
    Done,
}

/// A settlement or withdrawal as the relayer pays it.
#[derive(Debug, Clone)]
pub struct Request {
    /// C3 or C5.
    pub kind: Kind,
    /// Its id.
    pub id: u64,
    /// Its end-to-end id.
    pub end_to_end_id: String,
    /// Minor units.
    pub amount: u128,
    /// ISO 4217.
    pub currency: String,
    /// The creditor's account.
    pub creditor: String,
    /// The creditor's name (its chain address).
    pub creditor_name: String,
    /// Block time it was requested at, seconds.
    pub requested_at: u64,
    /// Where it stands.
    pub stage: Stage,
}

/// What the relayer works with.
pub struct Context {
    /// The chain, with the relayer's account.
    pub chain: ChainClient,
    /// The committee's members.
    pub committee: Committee,
    /// The bank.
    pub bank: BankClient,
    /// The bank's URL and the custodial account.
    pub bank_config: BankConfig,
    /// Durable state (`None` for the read-only commands, which run beside a live relayer).
    pub store: Option<Store>,
    /// HTTP client for the bank's instruction endpoint.
    pub http: reqwest::Client,
    /// C3.
    pub settlement: String,
    /// C5.
    pub withdrawal: String,
    /// C4.
    pub ledger: String,
    /// Counters.
    pub metrics: crate::metrics::RelayerMetrics,
}

impl Context {
    /// The durable state.
    pub fn store(&self) -> anyhow::Result<&Store> {
        self.store
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("this command runs without the relayer's store"))
    }

    fn contract(&self, kind: Kind) -> &str {
        match kind {
            Kind::Settlement => &self.settlement,
            Kind::Withdrawal => &self.withdrawal,
        }
    }

    /// Request `id` of `kind` as the chain holds it.
    pub async fn request(&self, kind: Kind, id: u64) -> anyhow::Result<Option<Request>> {
        Ok(match kind {
            Kind::Settlement => {
                let r: c3::SettlementResponse = self
                    .chain
                    .smart(
                        &self.settlement,
                        &c3::QueryMsg::Settlement { settlement_id: id },
                    )
                    .await?;
                r.settlement.map(|s| Request {
                    kind,
                    id,
                    end_to_end_id: s.end_to_end_id,
                    amount: s.amount.u128(),
                    currency: s.currency,
                    creditor: s.payee_account,
                    creditor_name: s.provider.to_string(),
                    requested_at: s.requested_at,
                    stage: match s.status {
                        c3::SettlementStatus::Requested => Stage::Requested,
                        c3::SettlementStatus::Instructed => Stage::Instructed,
                        _ => Stage::Done,
                    },
                })
            }
            Kind::Withdrawal => {
                let r: c5::WithdrawalResponse = self
                    .chain
                    .smart(
                        &self.withdrawal,
                        &c5::QueryMsg::Withdrawal { withdrawal_id: id },
                    )
                    .await?;
                r.withdrawal.map(|w| Request {
                    kind,
                    id,
                    end_to_end_id: w.end_to_end_id,
                    amount: w.amount.u128(),
                    currency: w.currency,
                    creditor: w.beneficiary,
                    creditor_name: w.owner.to_string(),
                    requested_at: w.requested_at,
                    stage: match w.status {
                        c5::WithdrawalStatus::Delayed { release_at } => {
                            Stage::Delayed { release_at }
                        }
                        c5::WithdrawalStatus::Requested => Stage::Requested,
                        c5::WithdrawalStatus::Instructed => Stage::Instructed,
                        _ => Stage::Done,
                    },
                })
            }
        })
    }

    /// Takes request `id` of `kind` one or more steps further; `true` once nothing is left to
    /// do for it.
    pub async fn advance(&self, kind: Kind, id: u64) -> anyhow::Result<bool> {
        let Some(mut r) = self.request(kind, id).await? else {
            anyhow::bail!("{kind:?} {id} not found on chain");
        };
        if let Stage::Delayed { release_at } = r.stage {
            // Anyone may release a withdrawal whose delay is over; nobody else will.
            let (_, now) = self.chain.status().await?;
            if now < release_at {
                return Ok(false);
            }
            let release = serde_json::to_vec(&c5::ExecuteMsg::Release { withdrawal_id: id })?;
            let msgs = [(self.withdrawal.clone(), release)];
            // Simulated first: a release C5 refuses now (withdrawals paused) costs no
            // transaction and holds up no other payment; it is tried again next pass.
            if let Err(e) = self.chain.simulate(&msgs).await {
                tracing::info!(id, reason = %e, "delayed withdrawal not releasable yet");
                return Ok(false);
            }
            let hash = self.chain.broadcast(&msgs, GAS).await?;
            let out = self.chain.wait_tx(&hash, WAIT).await?;
            if !out.is_ok() {
                anyhow::bail!("releasing withdrawal {id}: {}", out.log);
            }
            tracing::info!(id, "delayed withdrawal released");
            r = self
                .request(kind, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{kind:?} {id} vanished"))?;
        }
        crate::crash_point("before-approve");
        if r.stage == Stage::Requested {
            self.approve(&r).await?;
            r = self
                .request(kind, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{kind:?} {id} vanished"))?;
        }
        match r.stage {
            Stage::Delayed { .. } | Stage::Requested => Ok(false),
            Stage::Done => Ok(true),
            Stage::Instructed => self.pay(&r).await,
        }
    }

    async fn approve(&self, r: &Request) -> anyhow::Result<()> {
        let epoch = self.committee.epoch(&self.chain).await?;
        let kept = self
            .store()?
            .approval(&r.end_to_end_id)?
            .filter(|sig| sig.epoch == epoch);
        let sig = match kept {
            Some(sig) => sig,
            None => {
                let request = match r.kind {
                    Kind::Settlement => SignRequest::SettlementInstruction {
                        settlement_id: r.id,
                    },
                    Kind::Withdrawal => SignRequest::WithdrawalInstruction {
                        withdrawal_id: r.id,
                    },
                };
                let sig = self.committee.sign(&self.chain, &request).await?;
                self.store()?.put_approval(&r.end_to_end_id, &sig)?;
                sig
            }
        };
        crate::crash_point("before-approve-tx");
        let out = match r.kind {
            Kind::Settlement => {
                self.chain
                    .execute(
                        &self.settlement,
                        &c3::ExecuteMsg::ApproveInstruction {
                            settlement_id: r.id,
                            signature: sig,
                        },
                        GAS,
                        WAIT,
                    )
                    .await?
            }
            Kind::Withdrawal => {
                self.chain
                    .execute(
                        &self.withdrawal,
                        &c5::ExecuteMsg::ApproveInstruction {
                            withdrawal_id: r.id,
                            signature: sig,
                        },
                        GAS,
                        WAIT,
                    )
                    .await?
            }
        };
        if out.is_ok() {
            self.metrics.approvals.inc();
            tracing::info!(kind = ?r.kind, id = r.id, e2e = %r.end_to_end_id, "instruction approved on chain");
        } else {
            // Another relayer may have approved it first; the next read of the chain tells.
            // Another relayer may have approved it first; otherwise the approval kept was not
            // good (the committee rotated, say) and the next pass collects a new one.
            tracing::info!(kind = ?r.kind, id = r.id, log = %out.log, "approval not applied");
            if self.request(r.kind, r.id).await?.map(|n| n.stage) == Some(Stage::Requested) {
                self.store()?.drop_approval(&r.end_to_end_id)?;
            }
        }
        Ok(())
    }

    /// The committee's approval recorded on chain for `r` (kept, or read from the
    /// `ApproveInstruction` transaction another relayer sent).
    async fn recorded_approval(&self, r: &Request) -> anyhow::Result<ThresholdSignature> {
        if let Some(sig) = self.store()?.approval(&r.end_to_end_id)? {
            return Ok(sig);
        }
        let (event, id_key) = match r.kind {
            Kind::Settlement => ("settlement_instructed", "settlement_id"),
            Kind::Withdrawal => ("withdrawal_instructed", "withdrawal_id"),
        };
        let contract = self.contract(r.kind);
        for found in self.chain.search_events(event, contract, 0).await? {
            if found.event.get(id_key) != Some(r.id.to_string().as_str()) {
                continue;
            }
            for msg in found.executed_msgs(contract) {
                let approve = &msg["approve_instruction"];
                if approve[id_key].as_u64() == Some(r.id) {
                    let sig: ThresholdSignature =
                        serde_json::from_value(approve["signature"].clone())?;
                    self.store()?.put_approval(&r.end_to_end_id, &sig)?;
                    return Ok(sig);
                }
            }
        }
        anyhow::bail!("no recorded approval found for {}", r.end_to_end_id)
    }

    /// The instruction of `r`: the same document every time it is sent.
    fn pain001(&self, r: &Request, approval: &ThresholdSignature, message_id: &str) -> String {
        let at_ms = r.requested_at.saturating_mul(1_000);
        let date = usage_iso20022::time::iso_date(at_ms);
        CreditTransferInitiation {
            message_id: message_id.to_string(),
            created_at: usage_iso20022::time::iso_datetime(at_ms),
            initiating_party: self.bank_config.account_holder.clone(),
            payment_info_id: r.end_to_end_id.clone(),
            requested_execution_date: date,
            debtor: Party::new(
                self.bank_config.account_holder.clone(),
                self.bank_config.custodial_account.clone(),
            ),
            debtor_agent_bic: self.bank_config.bic.clone(),
            transfers: vec![CreditTransfer {
                end_to_end_id: r.end_to_end_id.clone(),
                amount: Amount::new(r.amount, r.currency.clone()),
                creditor: Party::new(r.creditor_name.clone(), r.creditor.clone()),
                creditor_agent_bic: None,
                remittance: Some(format!("{:?} {}", r.kind, r.id).to_lowercase()),
            }],
            approval: Some(CommitteeApproval {
                entries: vec![ApprovalEntry {
                    end_to_end_id: r.end_to_end_id.clone(),
                    payload: vec![],
                    signature: usage_bank_api::encode_approval(approval),
                }],
            }),
        }
        .to_xml()
    }

    async fn pay(&self, r: &Request) -> anyhow::Result<bool> {
        // The bank's word first: paid or rejected already (by us before a crash, or by
        // another relayer), or not yet instructed there.
        let mut statement = self.bank.payment(&r.end_to_end_id).await?;
        if !statement.instructed {
            let approval = self.recorded_approval(r).await?;
            crate::crash_point("before-pain001");
            // The message id is the end-to-end id; if someone else took that id at the bank
            // first, the next of a fixed sequence of others (the bank pays the end-to-end id once
            // whichever message carries it).
            let mut attempt = 0u32;
            loop {
                let response = self
                    .http
                    .post(format!(
                        "{}/v1/pain.001",
                        self.bank_config.url.trim_end_matches('/')
                    ))
                    .header("content-type", "application/xml")
                    .body(self.pain001(r, &approval, &message_id(&r.end_to_end_id, attempt)))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await?;
                let status = response.status();
                if status.is_success() {
                    break;
                }
                let body = response.text().await.unwrap_or_default();
                if status == reqwest::StatusCode::CONFLICT
                    && body.contains("message_id_reused")
                    && attempt < 8
                {
                    attempt += 1;
                    continue;
                }
                anyhow::bail!(
                    "the bank refused the instruction of {}: {status} {body}",
                    r.end_to_end_id
                );
            }
            self.metrics.instructions_sent.inc();
            tracing::info!(kind = ?r.kind, id = r.id, e2e = %r.end_to_end_id, "instruction sent to the bank");
            crate::crash_point("after-pain001");
            statement = self.bank.payment(&r.end_to_end_id).await?;
        }
        let Some(booking) = statement.outcome()?.cloned() else {
            return Ok(false);
        };
        let outcome = match booking.status {
            BookingStatus::Booked => BankOutcome::Booked,
            BookingStatus::Rejected => BankOutcome::Rejected,
        };
        let request = match r.kind {
            Kind::Settlement => SignRequest::SettlementVoucher {
                voucher: SettlementVoucher {
                    settlement_id: r.id,
                    end_to_end_id: r.end_to_end_id.clone(),
                    bank_ref: booking.bank_ref.clone(),
                    outcome,
                    amount: Uint128::new(r.amount),
                },
            },
            Kind::Withdrawal => SignRequest::WithdrawalVoucher {
                voucher: WithdrawalVoucher {
                    withdrawal_id: r.id,
                    end_to_end_id: r.end_to_end_id.clone(),
                    bank_ref: booking.bank_ref.clone(),
                    outcome,
                    amount: Uint128::new(r.amount),
                },
            },
        };
        let sig = match self.committee.sign(&self.chain, &request).await {
            Ok(sig) => sig,
            Err(NoSignature::Consumed) => {
                // Believed only when the chain says so.
                let now = self.request(r.kind, r.id).await?;
                return match now.map(|n| n.stage) {
                    Some(Stage::Done) => Ok(true),
                    _ => anyhow::bail!(
                        "a member says {} is consumed; the chain does not",
                        r.end_to_end_id
                    ),
                };
            }
            Err(e) => return Err(e.into()),
        };
        crate::crash_point("before-voucher-tx");
        let out = match request {
            SignRequest::SettlementVoucher { voucher } => {
                self.chain
                    .execute(
                        &self.settlement,
                        &c3::ExecuteMsg::RecordVoucher {
                            voucher,
                            signature: sig,
                        },
                        GAS,
                        WAIT,
                    )
                    .await?
            }
            SignRequest::WithdrawalVoucher { voucher } => {
                self.chain
                    .execute(
                        &self.withdrawal,
                        &c5::ExecuteMsg::RecordVoucher {
                            voucher,
                            signature: sig,
                        },
                        GAS,
                        WAIT,
                    )
                    .await?
            }
            _ => anyhow::bail!("not a voucher request"),
        };
        if out.is_ok() {
            self.metrics.vouchers_recorded.inc();
            tracing::info!(kind = ?r.kind, id = r.id, bank_ref = %booking.bank_ref, ?outcome, "voucher recorded on chain");
        } else {
            tracing::info!(kind = ?r.kind, id = r.id, log = %out.log, "voucher not applied");
        }
        Ok(out.is_ok())
    }
}

/// The message id of attempt `n` to instruct `e2e`: the end-to-end id itself, then `R<n>-` and
/// hex of a hash of both (35 characters at most, as `Max35Text`).
pub fn message_id(e2e: &str, n: u32) -> String {
    if n == 0 {
        return e2e.to_string();
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(e2e.as_bytes())
        .chain_update(n.to_be_bytes())
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("R{n}-{}", &hex[..30])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_the_end_to_end_id_then_distinct_max35_texts() {
        let e2e = "USG-W-0123456789ab-0000000000000007";
        assert_eq!(message_id(e2e, 0), e2e);
        let ids: std::collections::BTreeSet<String> = (0..9).map(|n| message_id(e2e, n)).collect();
        assert_eq!(ids.len(), 9);
        assert!(ids.iter().all(|id| id.len() <= 35));
    }
}
