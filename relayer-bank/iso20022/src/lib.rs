//! The ISO 20022 XML layer between the bank and the relayer.
//!
//! Three messages, each in exactly one version:
//!
//! * [`pain001`]: `pain.001.001.09` *CustomerCreditTransferInitiationV09*, the relayer's
//!   instruction to the bank to pay from the platform's custodial account, with the committee's
//!   approval in the document's supplementary data.
//! * [`pain002`]: `pain.002.001.10` *CustomerPaymentStatusReportV10*, the bank's status of each
//!   transaction of an instruction.
//! * [`camt054`]: `camt.054.001.08` *BankToCustomerDebitCreditNotificationV08*, the bank's
//!   notification of bookings on the custodial account.
//!
//! Each message type has `to_xml` (UTF-8, deterministic: the same value always gives the same
//! bytes) and `from_xml`, a strict parser that never panics. It refuses input over
//! [`MAX_DOCUMENT_BYTES`], DOCTYPEs (so no external or expanded entities), processing
//! instructions, a wrong root or namespace, missing required elements, elements the schema does
//! not allow at their place or out of its order, values breaking the schema's simple types
//! (`MaxNText` lengths, IBAN, BIC, currency, dates, amounts) and totals that disagree with the
//! content. Elements the schema allows but this crate does not use are skipped without looking
//! inside them, as a bank gateway does; see each module for which those are and for the places
//! where this crate is narrower than the schema (for example one `PmtInf` per pain.001).
//!
//! The official schemas vendored in `xsd/` (see `xsd/README.md`) are used by the tests to
//! validate every document the writers produce. This crate reads no clock and does no I/O.

mod error;
mod types;
mod xml;

pub mod camt054;
pub mod pain001;
pub mod pain002;
pub mod time;

pub use camt054::{CreditDebit, DebitCreditNotification, Entry, EntryStatus};
pub use error::XmlError;
pub use pain001::{ApprovalEntry, CommitteeApproval, CreditTransfer, CreditTransferInitiation};
pub use pain002::{PaymentStatusReport, TransactionStatus, TxStatus};
pub use types::{Amount, Party, MAX_MINOR_UNITS};

/// The largest document `from_xml` reads: 1 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
