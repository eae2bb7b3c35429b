//! Deposits: every credit the bank notifies on the custodial account (camt.054, read from its
//! signed feed from a durable cursor) whose reference names a chain address becomes a
//! committee-signed deposit voucher on C4; C4 credits each bank reference once, so a duplicate,
//! a reordered notification or a restart credits nothing twice. A credit whose reference names
//! no address is parked and reported, never lost.

use cosmwasm_std::Uint128;
use usage_aggregator::signing::SignRequest;
use usage_common::msg::ledger as c4;
use usage_common::payload::DepositVoucher;
use usage_iso20022::{CreditDebit, DebitCreditNotification, EntryStatus};

use crate::committee::NoSignature;
use crate::payments::Context;
use crate::store::Parked;

/// Notifications asked for at once.
pub const PAGE: usize = 100;

/// The feed cursor's name in the store.
pub const FEED_CURSOR: &str = "feed_cursor";

/// One page of the bank's notifications, as delivered.
#[derive(serde::Deserialize)]
pub(crate) struct Page {
    pub(crate) notifications: Vec<Note>,
}

/// One notification.
#[derive(serde::Deserialize)]
pub(crate) struct Note {
    pub(crate) seq: u64,
    pub(crate) message: String,
    pub(crate) xml: String,
}

impl Context {
    /// Handles the bank's notifications after the cursor; returns how many were handled.
    pub async fn deposits(&self) -> anyhow::Result<usize> {
        let after = self.store()?.cursor(FEED_CURSOR)?;
        let path = format!("/v1/notifications?after={after}&limit={PAGE}");
        let body = self.signed_get(&path).await?;
        let page: Page = serde_json::from_slice(&body)?;
        // Delivered twice or out of order: handled once each, in the bank's order.
        let mut notes = page.notifications;
        notes.sort_by_key(|n| n.seq);
        notes.dedup_by_key(|n| n.seq);
        let mut handled = 0;
        for note in notes.into_iter().filter(|n| n.seq > after) {
            if note.message == "camt.054.001.08" {
                let n = match DebitCreditNotification::from_xml(&note.xml) {
                    Ok(n) => n,
                    Err(e) => {
                        // Never read, never lost: kept for an operator, and the feed goes on.
                        self.park(Parked {
                            bank_ref: format!("notification-{}", note.seq),
                            amount: 0,
                            remittance: None,
                            reason: format!("unreadable camt.054: {e}"),
                        })?;
                        placeholder()
                    }
                };
                for entry in &n.entries {
                    if entry.direction == CreditDebit::Credit && entry.status == EntryStatus::Booked
                    {
                        if let Some(parked) = self
                            .credit(
                                &entry.entry_ref,
                                entry.amount.minor_units,
                                &entry.amount.currency,
                                entry.remittance.as_deref(),
                            )
                            .await?
                        {
                            self.park(parked)?;
                        }
                    }
                }
            }
            crate::crash_point("before-feed-cursor");
            let store = self.store()?;
            store.set_cursor(FEED_CURSOR, note.seq.max(store.cursor(FEED_CURSOR)?))?;
            handled += 1;
        }
        Ok(handled)
    }

    /// Whether C4 credited bank reference `bank_ref`.
    pub async fn credited(&self, bank_ref: &str) -> anyhow::Result<bool> {
        let d: c4::DepositResponse = self
            .chain
            .smart(
                &self.ledger,
                &c4::QueryMsg::Deposit {
                    bank_ref: bank_ref.to_string(),
                },
            )
            .await?;
        Ok(d.deposit.is_some())
    }

    fn park(&self, parked: Parked) -> anyhow::Result<()> {
        tracing::warn!(bank_ref = %parked.bank_ref, reason = %parked.reason, "deposit parked");
        self.metrics.deposits_parked.inc();
        self.store()?.park(&parked)?;
        Ok(())
    }

    /// Credits a booked credit on C4; `Some(parked)` if it cannot be: its reference names no
    /// chain address, or the members or C4 refuse it on the merits.
    async fn credit(
        &self,
        bank_ref: &str,
        amount: u128,
        currency: &str,
        remittance: Option<&str>,
    ) -> anyhow::Result<Option<Parked>> {
        let parked = |reason: &str| Parked {
            bank_ref: bank_ref.to_string(),
            amount,
            remittance: remittance.map(str::to_string),
            reason: reason.to_string(),
        };
        if let Some(reason) = unaddressed(remittance) {
            return Ok(Some(parked(reason)));
        }
        // Byte for byte what the bank reported: the members compare the same string.
        let beneficiary = remittance.unwrap_or_default();
        if self.credited(bank_ref).await? {
            return Ok(None);
        }
        let voucher = DepositVoucher {
            bank_ref: bank_ref.to_string(),
            beneficiary: beneficiary.to_string(),
            amount: Uint128::new(amount),
            currency: currency.to_string(),
        };
        let signature = match self
            .committee
            .sign(
                &self.chain,
                &SignRequest::DepositVoucher {
                    voucher: voucher.clone(),
                },
            )
            .await
        {
            Ok(sig) => sig,
            Err(NoSignature::Consumed) => {
                // Believed only when C4 says so.
                if self.credited(bank_ref).await? {
                    return Ok(None);
                }
                anyhow::bail!("a member says {bank_ref} is credited; C4 does not");
            }
            Err(NoSignature::NoQuorum {
                detail,
                definitive: true,
            }) => {
                return Ok(Some(parked(&format!("the committee refused: {detail}"))));
            }
            Err(e) => return Err(e.into()),
        };
        crate::crash_point("before-deposit-tx");
        let out = self
            .chain
            .execute(
                &self.ledger,
                &c4::ExecuteMsg::Deposit { voucher, signature },
                30_000_000,
                std::time::Duration::from_secs(20),
            )
            .await?;
        if out.is_ok() {
            self.metrics.deposits_credited.inc();
            tracing::info!(%bank_ref, %beneficiary, amount, "deposit credited on chain");
            Ok(None)
        } else {
            // Credited meanwhile by another relayer, or refused by C4 on the merits (parked).
            if self.credited(bank_ref).await? {
                Ok(None)
            } else {
                Ok(Some(parked(&format!(
                    "C4 refused the deposit: {}",
                    out.log
                ))))
            }
        }
    }
}

/// Why a credit's reference names no chain address (`None`: it names one).
pub fn unaddressed(remittance: Option<&str>) -> Option<&'static str> {
    let Some(r) = remittance else {
        return Some("no remittance reference");
    };
    match r.parse::<cosmrs::AccountId>() {
        Ok(a) if a.prefix() == usage_client::PREFIX => None,
        _ => Some("the reference is not a chain address"),
    }
}

/// An empty notification, for one that could not be read (parked instead).
fn placeholder() -> DebitCreditNotification {
    DebitCreditNotification {
        message_id: String::new(),
        created_at: String::new(),
        notification_id: String::new(),
        account_iban: String::new(),
        entries: vec![],
    }
}
