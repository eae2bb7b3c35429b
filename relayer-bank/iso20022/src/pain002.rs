//! `pain.002.001.10` CustomerPaymentStatusReportV10: the bank's status of each transaction of
//! a pain.001 instruction.
//!
//! Written as one `OrgnlGrpInfAndSts` naming the original message and one
//! `OrgnlPmtInfAndSts` naming the original payment information block, with one `TxInfAndSts`
//! per transaction: `OrgnlEndToEndId`, `TxSts`, and when there is a reason or additional
//! information one `StsRsnInf` with `Rsn/Cd` (a reason of 1 to 4 characters, the length of
//! the external code list `ExternalStatusReason1Code`, such as `AC01` or `AM04`) or `Rsn/Prtry`
//! (a longer proprietary reason, up to 35 characters) and one `AddtlInf` (`Max105Text`).
//!
//! Reading: elements the schema allows but this crate does not map (`InitgPty`, agents,
//! `OrgnlCreDtTm`, `OrgnlNbOfTxs`, `GrpSts`, group and payment-level `StsRsnInf`,
//! `NbOfTxsPerSts`, `StsId`, `OrgnlInstrId`, `OrgnlUETR`, `ChrgsInf`, `AccptncDtTm`,
//! `AcctSvcrRef`, `ClrSysRef`, `OrgnlTxRef`, `Orgtr`, supplementary data) are skipped.
//! Narrower than the schema, and refused: other than exactly one `OrgnlPmtInfAndSts`; a
//! transaction without `OrgnlEndToEndId` or `TxSts`; a status outside [`TxStatus`]; more than
//! one `StsRsnInf` or `AddtlInf` for a transaction; an original message name other than
//! `pain.001.001.09`.

use crate::types::{check_datetime, check_text, read_datetime, MAX105, MAX35};
use crate::xml::{document, f, parse_tree, Field, Writer, N};
use crate::XmlError;

/// The namespace of pain.002.001.10.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10";

/// A status report on one pain.001 instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStatusReport {
    /// `GrpHdr/MsgId` (`Max35Text`).
    pub message_id: String,
    /// `GrpHdr/CreDtTm`, an ISO date-time given by the caller.
    pub created_at: String,
    /// `OrgnlGrpInfAndSts/OrgnlMsgId`: the pain.001's `MsgId`.
    pub original_message_id: String,
    /// `OrgnlGrpInfAndSts/OrgnlMsgNmId`: always `pain.001.001.09`
    /// ([`crate::pain001::MESSAGE_NAME`]).
    pub original_message_name: String,
    /// `OrgnlPmtInfAndSts/OrgnlPmtInfId`: the pain.001's `PmtInfId` (the schema requires it
    /// for transaction statuses).
    pub original_payment_info_id: String,
    /// The status of each transaction, in document order.
    pub transactions: Vec<TransactionStatus>,
}

/// The status of one transaction (`TxInfAndSts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionStatus {
    /// `OrgnlEndToEndId` (`Max35Text`): the transfer's end-to-end id.
    pub end_to_end_id: String,
    /// `TxSts`.
    pub status: TxStatus,
    /// `StsRsnInf/Rsn/Cd` (1 to 4 characters, an ISO reason code like `AC01`, `AM04`) or
    /// `StsRsnInf/Rsn/Prtry` (5 to 35 characters, a proprietary reason).
    pub reason: Option<String>,
    /// `StsRsnInf/AddtlInf` (`Max105Text`).
    pub additional_info: Option<String>,
}

/// A transaction status from the ISO external code list `ExternalPaymentTransactionStatus1Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxStatus {
    /// `ACTC`: the instruction passed technical validation.
    AcceptedTechnicalValidation,
    /// `ACCP`: customer profile checks passed.
    AcceptedCustomerProfile,
    /// `ACSP`: settlement in process.
    AcceptedSettlementInProcess,
    /// `ACSC`: settled on the debtor's account.
    AcceptedSettlementCompleted,
    /// `ACCC`: settled on the creditor's account.
    AcceptedCreditSettlementCompleted,
    /// `ACWC`: accepted with a change.
    AcceptedWithChange,
    /// `PDNG`: pending.
    Pending,
    /// `RCVD`: received, not yet checked.
    Received,
    /// `RJCT`: rejected.
    Rejected,
}

impl TxStatus {
    /// Every status this crate knows.
    pub const ALL: [TxStatus; 9] = [
        TxStatus::AcceptedTechnicalValidation,
        TxStatus::AcceptedCustomerProfile,
        TxStatus::AcceptedSettlementInProcess,
        TxStatus::AcceptedSettlementCompleted,
        TxStatus::AcceptedCreditSettlementCompleted,
        TxStatus::AcceptedWithChange,
        TxStatus::Pending,
        TxStatus::Received,
        TxStatus::Rejected,
    ];

    /// The four-letter code.
    pub fn code(self) -> &'static str {
        match self {
            TxStatus::AcceptedTechnicalValidation => "ACTC",
            TxStatus::AcceptedCustomerProfile => "ACCP",
            TxStatus::AcceptedSettlementInProcess => "ACSP",
            TxStatus::AcceptedSettlementCompleted => "ACSC",
            TxStatus::AcceptedCreditSettlementCompleted => "ACCC",
            TxStatus::AcceptedWithChange => "ACWC",
            TxStatus::Pending => "PDNG",
            TxStatus::Received => "RCVD",
            TxStatus::Rejected => "RJCT",
        }
    }

    /// The status for a code, if this crate knows it.
    pub fn from_code(code: &str) -> Option<TxStatus> {
        TxStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

const DOCUMENT: &[Field] = &[f("CstmrPmtStsRpt", 1, 1)];
// Narrower than the schema: exactly one OrgnlPmtInfAndSts.
const REPORT: &[Field] = &[
    f("GrpHdr", 1, 1),
    f("OrgnlGrpInfAndSts", 1, 1),
    f("OrgnlPmtInfAndSts", 1, 1),
    f("SplmtryData", 0, N),
];
const GRP_HDR: &[Field] = &[
    f("MsgId", 1, 1),
    f("CreDtTm", 1, 1),
    f("InitgPty", 0, 1),
    f("FwdgAgt", 0, 1),
    f("DbtrAgt", 0, 1),
    f("CdtrAgt", 0, 1),
];
const ORGNL_GRP: &[Field] = &[
    f("OrgnlMsgId", 1, 1),
    f("OrgnlMsgNmId", 1, 1),
    f("OrgnlCreDtTm", 0, 1),
    f("OrgnlNbOfTxs", 0, 1),
    f("OrgnlCtrlSum", 0, 1),
    f("GrpSts", 0, 1),
    f("StsRsnInf", 0, N),
    f("NbOfTxsPerSts", 0, N),
];
const ORGNL_PMT: &[Field] = &[
    f("OrgnlPmtInfId", 1, 1),
    f("OrgnlNbOfTxs", 0, 1),
    f("OrgnlCtrlSum", 0, 1),
    f("PmtInfSts", 0, 1),
    f("StsRsnInf", 0, N),
    f("NbOfTxsPerSts", 0, N),
    f("TxInfAndSts", 0, N),
];
const TX: &[Field] = &[
    f("StsId", 0, 1),
    f("OrgnlInstrId", 0, 1),
    // Required here, optional in the schema.
    f("OrgnlEndToEndId", 1, 1),
    f("OrgnlUETR", 0, 1),
    f("TxSts", 1, 1),
    // One here, unbounded in the schema.
    f("StsRsnInf", 0, 1),
    f("ChrgsInf", 0, N),
    f("AccptncDtTm", 0, 1),
    f("AcctSvcrRef", 0, 1),
    f("ClrSysRef", 0, 1),
    f("OrgnlTxRef", 0, 1),
    f("SplmtryData", 0, N),
];
// One AddtlInf here, unbounded in the schema.
const STS_RSN: &[Field] = &[f("Orgtr", 0, 1), f("Rsn", 0, 1), f("AddtlInf", 0, 1)];
const RSN_CHOICE: &[Field] = &[f("Cd", 0, 1), f("Prtry", 0, 1)];

impl PaymentStatusReport {
    /// Checks what the schema would refuse in this value, naming the element path. `to_xml`
    /// writes any value; a document written from a value that fails here is one `from_xml`
    /// refuses.
    pub fn validate(&self) -> Result<(), XmlError> {
        let root = "Document/CstmrPmtStsRpt";
        check_text(&format!("{root}/GrpHdr/MsgId"), &self.message_id, MAX35)?;
        check_datetime(&format!("{root}/GrpHdr/CreDtTm"), &self.created_at)?;
        check_text(
            &format!("{root}/OrgnlGrpInfAndSts/OrgnlMsgId"),
            &self.original_message_id,
            MAX35,
        )?;
        if self.original_message_name != crate::pain001::MESSAGE_NAME {
            return Err(XmlError::Invalid {
                path: format!("{root}/OrgnlGrpInfAndSts/OrgnlMsgNmId"),
                reason: format!(
                    "original message {:?} is not {}",
                    self.original_message_name,
                    crate::pain001::MESSAGE_NAME
                ),
            });
        }
        let p = format!("{root}/OrgnlPmtInfAndSts");
        check_text(
            &format!("{p}/OrgnlPmtInfId"),
            &self.original_payment_info_id,
            MAX35,
        )?;
        for (i, t) in self.transactions.iter().enumerate() {
            let tp = format!("{p}/TxInfAndSts[{}]", i + 1);
            check_text(&format!("{tp}/OrgnlEndToEndId"), &t.end_to_end_id, MAX35)?;
            if let Some(r) = &t.reason {
                let kind = if r.chars().count() <= 4 {
                    "Cd"
                } else {
                    "Prtry"
                };
                check_text(&format!("{tp}/StsRsnInf/Rsn/{kind}"), r, MAX35)?;
            }
            if let Some(a) = &t.additional_info {
                check_text(&format!("{tp}/StsRsnInf/AddtlInf"), a, MAX105)?;
            }
        }
        Ok(())
    }

    /// Writes the document.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(NAMESPACE);
        w.open("CstmrPmtStsRpt");
        w.open("GrpHdr")
            .leaf("MsgId", &self.message_id)
            .leaf("CreDtTm", &self.created_at)
            .close();
        w.open("OrgnlGrpInfAndSts")
            .leaf("OrgnlMsgId", &self.original_message_id)
            .leaf("OrgnlMsgNmId", &self.original_message_name)
            .close();
        w.open("OrgnlPmtInfAndSts")
            .leaf("OrgnlPmtInfId", &self.original_payment_info_id);
        for t in &self.transactions {
            w.open("TxInfAndSts")
                .leaf("OrgnlEndToEndId", &t.end_to_end_id)
                .leaf("TxSts", t.status.code());
            if t.reason.is_some() || t.additional_info.is_some() {
                w.open("StsRsnInf");
                if let Some(r) = &t.reason {
                    let kind = if r.chars().count() <= 4 {
                        "Cd"
                    } else {
                        "Prtry"
                    };
                    w.open("Rsn").leaf(kind, r).close();
                }
                if let Some(a) = &t.additional_info {
                    w.leaf("AddtlInf", a);
                }
                w.close();
            }
            w.close();
        }
        w.finish()
    }

    /// Parses and checks a document; see the module documentation for what is refused and
    /// what is skipped.
    pub fn from_xml(xml: &str) -> Result<Self, XmlError> {
        let tree = parse_tree(xml)?;
        let doc = document(&tree, NAMESPACE)?;
        let rpt = doc.children(NAMESPACE, DOCUMENT)?.one("CstmrPmtStsRpt")?;
        let rc = rpt.children(NAMESPACE, REPORT)?;
        let hc = rc.one("GrpHdr")?.children(NAMESPACE, GRP_HDR)?;
        let message_id = hc.one("MsgId")?.max_text(MAX35)?;
        let created_at = read_datetime(&hc.one("CreDtTm")?)?;
        let gc = rc
            .one("OrgnlGrpInfAndSts")?
            .children(NAMESPACE, ORGNL_GRP)?;
        let original_message_id = gc.one("OrgnlMsgId")?.max_text(MAX35)?;
        let original_message_name = gc.one("OrgnlMsgNmId")?.max_text(MAX35)?;
        let pc = rc
            .one("OrgnlPmtInfAndSts")?
            .children(NAMESPACE, ORGNL_PMT)?;
        let original_payment_info_id = pc.one("OrgnlPmtInfId")?.max_text(MAX35)?;
        let mut transactions = Vec::new();
        for tx in pc.all("TxInfAndSts") {
            let tc = tx.children(NAMESPACE, TX)?;
            let end_to_end_id = tc.one("OrgnlEndToEndId")?.max_text(MAX35)?;
            let sts = tc.one("TxSts")?;
            let code = sts.leaf_text()?;
            let status = TxStatus::from_code(code).ok_or_else(|| XmlError::Invalid {
                path: sts.path.clone(),
                reason: format!("transaction status {code:?} is not one of ACTC ACCP ACSP ACSC ACCC ACWC PDNG RCVD RJCT"),
            })?;
            let mut reason = None;
            let mut additional_info = None;
            if let Some(sri) = tc.opt("StsRsnInf")? {
                let sc = sri.children(NAMESPACE, STS_RSN)?;
                if let Some(rsn) = sc.opt("Rsn")? {
                    let (kind, r) = rsn
                        .children(NAMESPACE, RSN_CHOICE)?
                        .choice(&["Cd", "Prtry"])?;
                    let text = r.max_text(if kind == "Cd" { 4 } else { MAX35 })?;
                    reason = Some(text);
                }
                if let Some(a) = sc.opt("AddtlInf")? {
                    additional_info = Some(a.max_text(MAX105)?);
                }
            }
            transactions.push(TransactionStatus {
                end_to_end_id,
                status,
                reason,
                additional_info,
            });
        }
        let value = PaymentStatusReport {
            message_id,
            created_at,
            original_message_id,
            original_message_name,
            original_payment_info_id,
            transactions,
        };
        value.validate()?;
        Ok(value)
    }
}
