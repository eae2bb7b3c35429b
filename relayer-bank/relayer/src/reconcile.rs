//! `usage-relayer reconcile`: the custodial account's booked balance against the chain.
//!
//! Every minor unit on chain (C4's available plus locked, over all owners) is held in the
//! custodial account, except what moved at the bank and is not mirrored on chain yet:
//!
//! `custodial balance = on-chain total − paid but not yet recorded + credited but not yet
//! deposited on chain (parked credits included)`
//!
//! The bank's signed feed lists every booking of the custodial account; each is looked up on
//! chain. Any difference is printed; zero means the books agree.

use serde::Serialize;
use usage_common::msg::ledger as c4;
use usage_common::payload::{parse_end_to_end_id, EndToEndKind};
use usage_iso20022::{CreditDebit, DebitCreditNotification};

use crate::deposits::Page;
use crate::payments::{Context, Stage};
use crate::store::Kind;

/// The comparison.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The custodial account's booked balance at the bank.
    pub custodial_balance: i128,
    /// C4's total: available plus locked, all owners.
    pub chain_total: u128,
    /// Payments the bank booked whose request is not settled on chain yet.
    pub paid_not_recorded: u128,
    /// Credits the bank booked that C4 has not credited (parked ones included).
    pub credited_not_deposited: u128,
    /// custodial balance − (chain total − paid not recorded + credited not deposited).
    pub difference: i128,
    /// The credits whose reference names no chain address (part of credited not deposited).
    pub parked: Vec<crate::store::Parked>,
}

impl Context {
    /// Compares the bank's books with the chain's.
    pub async fn reconcile(&self) -> anyhow::Result<Reconciliation> {
        let supply: c4::TotalSupplyResponse = self
            .chain
            .smart(&self.ledger, &c4::QueryMsg::TotalSupply {})
            .await?;
        let mut paid_not_recorded = 0u128;
        let mut credited_not_deposited = 0u128;
        let mut parked = vec![];
        let mut after = 0u64;
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let path = format!("/v1/notifications?after={after}&limit=1000");
            let body = self.signed_get(&path).await?;
            let page: Page = serde_json::from_slice(&body)?;
            let Some(last) = page.notifications.iter().map(|n| n.seq).max() else {
                break;
            };
            for note in page.notifications {
                if note.message != "camt.054.001.08" || !seen.insert(note.seq) {
                    continue;
                }
                let n = DebitCreditNotification::from_xml(&note.xml)?;
                for entry in n.entries {
                    let amount = entry.amount.minor_units;
                    match entry.direction {
                        CreditDebit::Credit => {
                            if !self.credited(&entry.entry_ref).await? {
                                credited_not_deposited += amount;
                                if let Some(reason) =
                                    crate::deposits::unaddressed(entry.remittance.as_deref())
                                {
                                    parked.push(crate::store::Parked {
                                        bank_ref: entry.entry_ref.clone(),
                                        amount,
                                        remittance: entry.remittance.clone(),
                                        reason: reason.to_string(),
                                    });
                                }
                            }
                        }
                        CreditDebit::Debit => {
                            let e2e = entry.end_to_end_id.unwrap_or_default();
                            if self.still_instructed(&e2e).await? {
                                paid_not_recorded += amount;
                            }
                        }
                    }
                }
            }
            after = last;
        }
        let custodial_balance = self.custodial_balance().await?;
        let expected = supply.total.u128() as i128 - paid_not_recorded as i128
            + credited_not_deposited as i128;
        Ok(Reconciliation {
            custodial_balance,
            chain_total: supply.total.u128(),
            paid_not_recorded,
            credited_not_deposited,
            difference: custodial_balance - expected,
            parked,
        })
    }

    /// Whether the request an end-to-end id names is still instructed (paid, not recorded).
    async fn still_instructed(&self, e2e: &str) -> anyhow::Result<bool> {
        let Some((kind, _, id)) = parse_end_to_end_id(e2e) else {
            return Ok(false);
        };
        let kind = match kind {
            EndToEndKind::Settlement => Kind::Settlement,
            EndToEndKind::Withdrawal => Kind::Withdrawal,
        };
        Ok(self
            .request(kind, id)
            .await?
            .is_some_and(|r| r.end_to_end_id == e2e && r.stage == Stage::Instructed))
    }

    async fn custodial_balance(&self) -> anyhow::Result<i128> {
        let path = format!(
            "/v1/accounts/{}",
            usage_bank_api::path_segment(&self.bank_config.custodial_account)
        );
        let body = self.signed_get(&path).await?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        v["balance"]
            .as_str()
            .and_then(|b| b.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the bank's account answer has no balance"))
    }

    /// The body of `GET path` at the bank, if signed with the bank's key.
    pub async fn signed_get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.bank.signed_body(path).await?)
    }
}
