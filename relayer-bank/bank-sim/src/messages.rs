//! The bank's ISO 20022 side: what it reads from a `pain.001.001.09` and how it reports in
//! `pain.002.001.10` and `camt.054.001.08` (the XML itself is `usage-iso20022`'s).

use usage_common::ThresholdSignature;
use usage_iso20022::{
    Amount, CreditDebit, CreditTransferInitiation, DebitCreditNotification, Entry, EntryStatus,
    Party, PaymentStatusReport, TransactionStatus, TxStatus, XmlError,
};

use crate::ledger::{MessageRecord, Txn};
use usage_bank_api::BookingStatus;
use usage_iso20022::time::{iso_date, iso_datetime};

/// The notification message of a booking.
pub const CAMT054: &str = "camt.054.001.08";
/// The status report of an instruction.
pub const PAIN002: &str = "pain.002.001.10";
/// The instruction.
pub const PAIN001: &str = "pain.001.001.09";

/// One credit transfer of an instruction, as the bank executes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructedPayment {
    /// The end-to-end id.
    pub end_to_end_id: String,
    /// The creditor's account.
    pub creditor: String,
    /// The creditor's name.
    pub creditor_name: String,
    /// Minor units.
    pub amount: u128,
    /// ISO 4217.
    pub currency: String,
    /// Unstructured remittance information.
    pub remittance: Option<String>,
}

/// A pain.001 as the bank executes it.
#[derive(Debug, Clone)]
pub struct Initiation {
    /// `GrpHdr/MsgId`.
    pub message_id: String,
    /// `PmtInf/PmtInfId`.
    pub payment_info_id: String,
    /// The debtor's account (must be the custodial account).
    pub debtor_account: String,
    /// The transfers, in order.
    pub payments: Vec<InstructedPayment>,
    /// The committee approvals that came with it.
    approvals: Vec<(String, Vec<u8>)>,
}

impl Initiation {
    /// The committee's approval of the transfer with end-to-end id `e2e`, if one came with the
    /// message and is a well-formed threshold signature.
    pub fn approval_of(&self, e2e: &str) -> Option<ThresholdSignature> {
        self.approvals
            .iter()
            .find(|(id, _)| id == e2e)
            .and_then(|(_, sig)| usage_bank_api::decode_approval(sig))
    }
}

/// Reads a pain.001.001.09 (strictly: see `usage_iso20022::pain001`).
pub fn parse_initiation(xml: &str) -> Result<Initiation, XmlError> {
    let m = CreditTransferInitiation::from_xml(xml)?;
    Ok(Initiation {
        message_id: m.message_id,
        payment_info_id: m.payment_info_id,
        debtor_account: m.debtor.iban,
        payments: m
            .transfers
            .into_iter()
            .map(|t| InstructedPayment {
                end_to_end_id: t.end_to_end_id,
                creditor: t.creditor.iban,
                creditor_name: t.creditor.name,
                amount: t.amount.minor_units,
                currency: t.amount.currency,
                remittance: t.remittance,
            })
            .collect(),
        approvals: m
            .approval
            .map(|a| {
                a.entries
                    .into_iter()
                    .map(|e| (e.end_to_end_id, e.signature))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The pain.002 of an executed message: per transaction `ACSC` (booked) or `RJCT` with its
/// reason.
pub fn status_report(bic: &str, record: &MessageRecord) -> String {
    let at = record
        .outcomes
        .iter()
        .map(|(_, t)| t.booked_at_ms)
        .max()
        .unwrap_or(0);
    PaymentStatusReport {
        message_id: format!("{bic}-STS-{}", short(&record.digest)),
        created_at: iso_datetime(at),
        original_message_id: record.message_id.clone(),
        original_message_name: PAIN001.into(),
        original_payment_info_id: record.payment_info_id.clone(),
        transactions: record
            .outcomes
            .iter()
            .map(|(e2e, t)| TransactionStatus {
                end_to_end_id: e2e.clone(),
                status: match t.status {
                    BookingStatus::Booked => TxStatus::AcceptedSettlementCompleted,
                    BookingStatus::Rejected => TxStatus::Rejected,
                },
                reason: t.reason.clone(),
                additional_info: Some(format!("bank reference {}", t.bank_ref)),
            })
            .collect(),
    }
    .to_xml()
}

/// The camt.054 of one booking of the custodial account `custodial`, notification `seq`.
/// Only booked entries are notified.
pub fn notification(bic: &str, custodial: &str, seq: u64, t: &Txn) -> String {
    let (direction, counterparty) = if t.credit == custodial {
        (CreditDebit::Credit, &t.debit)
    } else {
        (CreditDebit::Debit, &t.credit)
    };
    DebitCreditNotification {
        message_id: format!("{bic}-NTF-{seq:010}"),
        created_at: iso_datetime(t.booked_at_ms),
        notification_id: format!("NTF-{seq:010}"),
        account_iban: custodial.to_string(),
        entries: vec![Entry {
            entry_ref: t.bank_ref.clone(),
            amount: Amount::new(t.amount, t.currency.clone()),
            direction,
            // Only bookings are notified: a rejection moved nothing (its pain.002 reports it).
            status: EntryStatus::Booked,
            booking_date: iso_date(t.booked_at_ms),
            end_to_end_id: t.end_to_end_id.clone(),
            remittance: t.remittance.clone(),
            counterparty: Some(Party::new(counterparty.clone(), counterparty.clone())),
        }],
    }
    .to_xml()
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
}
