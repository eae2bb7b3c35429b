//! `pain.001.001.09` CustomerCreditTransferInitiationV09: the relayer's instruction to the bank.
//!
//! The debtor is the platform's custodial account; the document has one payment information
//! block (`PmtInf`) with one or more credit transfers (`CdtTrfTxInf`). `GrpHdr/NbOfTxs` and
//! `GrpHdr/CtrlSum`, and `PmtInf/NbOfTxs` and `PmtInf/CtrlSum`, are written from the transfers
//! and, when read, must agree with them (`CtrlSum` is the plain sum of the amounts, as the
//! schema defines it, whatever their currencies).
//!
//! The committee's approval travels in the document-level supplementary data, which
//! pain.001.001.09 allows at `CstmrCdtTrfInitn/SplmtryData` after the last `PmtInf`:
//! `PlcAndNm` is `/Document/CstmrCdtTrfInitn` and `Envlp` (an `xs:any` with
//! `processContents="lax"`, so the schema accepts any one element there) holds one
//! `CommitteeApproval` element in the namespace [`APPROVAL_NS`]:
//!
//! ```xml
//! <SplmtryData>
//!   <PlcAndNm>/Document/CstmrCdtTrfInitn</PlcAndNm>
//!   <Envlp>
//!     <CommitteeApproval xmlns="urn:usagechain:approval:1">
//!       <Entry>
//!         <EndToEndId>E2E-1</EndToEndId>
//!         <Payload>base64 of the signed bytes</Payload>
//!         <Signature>base64</Signature>
//!       </Entry>
//!     </CommitteeApproval>
//!   </Envlp>
//! </SplmtryData>
//! ```
//!
//! The payload and signature are opaque here; this crate does not verify them.
//!
//! Reading: elements the schema allows but this crate does not map (`Authstn`, `FwdgAgt`,
//! `BtchBookg`, `PmtTpInf`, `PoolgAdjstmntDt`, `UltmtDbtr`, `ChrgBr`, `ChrgsAcct`, `InstrId`,
//! `UETR`, `XchgRateInf`, intermediary agents, `UltmtCdtr`, `Purp`, `Tax`, structured
//! remittance, postal addresses, ...) are skipped. Narrower than the schema, and refused: more
//! than one `PmtInf`; a `PmtMtd` other than `TRF`; an equivalent amount (`EqvtAmt`) instead of
//! `InstdAmt`; parties without a name, accounts other than IBAN, agents without a BIC (when
//! the agent is present); more than one unstructured remittance line; a requested execution
//! date-time (`DtTm`) instead of a date; a second approval; and transaction-level
//! supplementary data. Supplementary data whose envelope holds an element of another
//! namespace is skipped.

use base64::Engine as _;

use crate::types::{
    check_amount, check_bic, check_date, check_datetime, check_iban, check_text, format_minor,
    read_amount, read_bic, read_ctrl_sum, read_date, read_datetime, read_iban, Amount, Party,
    MAX140, MAX35,
};
use crate::xml::{document, f, parse_tree, El, Field, Writer, N};
use crate::XmlError;

/// The namespace of pain.001.001.09.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// The message name, as a pain.002 names the original message.
pub const MESSAGE_NAME: &str = "pain.001.001.09";
/// The namespace of the committee's approval inside `SplmtryData/Envlp`.
pub const APPROVAL_NS: &str = "urn:usagechain:approval:1";
/// The `PlcAndNm` of the approval's supplementary data.
pub const APPROVAL_PLACE: &str = "/Document/CstmrCdtTrfInitn";

/// A credit transfer initiation: one instruction from the custodial account, possibly paying
/// several creditors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransferInitiation {
    /// `GrpHdr/MsgId`, unique per message (`Max35Text`).
    pub message_id: String,
    /// `GrpHdr/CreDtTm`, an ISO date-time given by the caller, e.g. `2026-12-01T10:00:00Z`.
    pub created_at: String,
    /// `GrpHdr/InitgPty/Nm`, the initiating party's name (`Max140Text`).
    pub initiating_party: String,
    /// `PmtInf/PmtInfId` (`Max35Text`).
    pub payment_info_id: String,
    /// `PmtInf/ReqdExctnDt/Dt`, `YYYY-MM-DD`.
    pub requested_execution_date: String,
    /// `PmtInf/Dbtr/Nm` and `PmtInf/DbtrAcct/Id/IBAN`: the custodial account.
    pub debtor: Party,
    /// `PmtInf/DbtrAgt/FinInstnId/BICFI`: the bank holding the custodial account.
    pub debtor_agent_bic: String,
    /// The transfers, at least one, in document order.
    pub transfers: Vec<CreditTransfer>,
    /// The committee's approval, carried in the document's supplementary data.
    pub approval: Option<CommitteeApproval>,
}

/// One transfer (`CdtTrfTxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfer {
    /// `PmtId/EndToEndId` (`Max35Text`), the reference that comes back in the pain.002 and the
    /// camt.054.
    pub end_to_end_id: String,
    /// `Amt/InstdAmt`.
    pub amount: Amount,
    /// `Cdtr/Nm` and `CdtrAcct/Id/IBAN`.
    pub creditor: Party,
    /// `CdtrAgt/FinInstnId/BICFI`, when given.
    pub creditor_agent_bic: Option<String>,
    /// `RmtInf/Ustrd` (`Max140Text`), when given.
    pub remittance: Option<String>,
}

/// The committee's approval of the instruction: one entry per approved transfer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitteeApproval {
    /// The entries, in document order.
    pub entries: Vec<ApprovalEntry>,
}

/// One approved transfer: the exact bytes the committee signed and the signature, both opaque
/// to this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalEntry {
    /// The transfer's end-to-end id (`Max35Text`).
    pub end_to_end_id: String,
    /// The signed bytes (base64 in the XML).
    pub payload: Vec<u8>,
    /// The signature (base64 in the XML).
    pub signature: Vec<u8>,
}

const DOCUMENT: &[Field] = &[f("CstmrCdtTrfInitn", 1, 1)];
// Narrower than the schema: one PmtInf.
const INITN: &[Field] = &[f("GrpHdr", 1, 1), f("PmtInf", 1, 1), f("SplmtryData", 0, N)];
const GRP_HDR: &[Field] = &[
    f("MsgId", 1, 1),
    f("CreDtTm", 1, 1),
    f("Authstn", 0, 2),
    f("NbOfTxs", 1, 1),
    f("CtrlSum", 0, 1),
    f("InitgPty", 1, 1),
    f("FwdgAgt", 0, 1),
];
const PARTY: &[Field] = &[
    f("Nm", 0, 1),
    f("PstlAdr", 0, 1),
    f("Id", 0, 1),
    f("CtryOfRes", 0, 1),
    f("CtctDtls", 0, 1),
];
const PMT_INF: &[Field] = &[
    f("PmtInfId", 1, 1),
    f("PmtMtd", 1, 1),
    f("BtchBookg", 0, 1),
    f("NbOfTxs", 0, 1),
    f("CtrlSum", 0, 1),
    f("PmtTpInf", 0, 1),
    f("ReqdExctnDt", 1, 1),
    f("PoolgAdjstmntDt", 0, 1),
    f("Dbtr", 1, 1),
    f("DbtrAcct", 1, 1),
    f("DbtrAgt", 1, 1),
    f("DbtrAgtAcct", 0, 1),
    f("InstrForDbtrAgt", 0, 1),
    f("UltmtDbtr", 0, 1),
    f("ChrgBr", 0, 1),
    f("ChrgsAcct", 0, 1),
    f("ChrgsAcctAgt", 0, 1),
    f("CdtTrfTxInf", 1, N),
];
const DATE_CHOICE: &[Field] = &[f("Dt", 0, 1), f("DtTm", 0, 1)];
const CASH_ACCOUNT: &[Field] = &[
    f("Id", 1, 1),
    f("Tp", 0, 1),
    f("Ccy", 0, 1),
    f("Nm", 0, 1),
    f("Prxy", 0, 1),
];
const ACCOUNT_ID: &[Field] = &[f("IBAN", 0, 1), f("Othr", 0, 1)];
const AGENT: &[Field] = &[f("FinInstnId", 1, 1), f("BrnchId", 0, 1)];
const FIN_INSTN: &[Field] = &[
    f("BICFI", 0, 1),
    f("ClrSysMmbId", 0, 1),
    f("LEI", 0, 1),
    f("Nm", 0, 1),
    f("PstlAdr", 0, 1),
    f("Othr", 0, 1),
];
const TX: &[Field] = &[
    f("PmtId", 1, 1),
    f("PmtTpInf", 0, 1),
    f("Amt", 1, 1),
    f("XchgRateInf", 0, 1),
    f("ChrgBr", 0, 1),
    f("ChqInstr", 0, 1),
    f("UltmtDbtr", 0, 1),
    f("IntrmyAgt1", 0, 1),
    f("IntrmyAgt1Acct", 0, 1),
    f("IntrmyAgt2", 0, 1),
    f("IntrmyAgt2Acct", 0, 1),
    f("IntrmyAgt3", 0, 1),
    f("IntrmyAgt3Acct", 0, 1),
    f("CdtrAgt", 0, 1),
    f("CdtrAgtAcct", 0, 1),
    // Required here, optional in the schema.
    f("Cdtr", 1, 1),
    f("CdtrAcct", 1, 1),
    f("UltmtCdtr", 0, 1),
    f("InstrForCdtrAgt", 0, N),
    f("InstrForDbtrAgt", 0, 1),
    f("Purp", 0, 1),
    f("RgltryRptg", 0, 10),
    f("Tax", 0, 1),
    f("RltdRmtInf", 0, 10),
    f("RmtInf", 0, 1),
    // Refused: no transaction-level supplementary data in this profile.
    f("SplmtryData", 0, 0),
];
const PMT_ID: &[Field] = &[f("InstrId", 0, 1), f("EndToEndId", 1, 1), f("UETR", 0, 1)];
const AMT_CHOICE: &[Field] = &[f("InstdAmt", 0, 1), f("EqvtAmt", 0, 1)];
// One unstructured line; structured remittance is skipped.
const RMT_INF: &[Field] = &[f("Ustrd", 0, 1), f("Strd", 0, N)];
const SPLMTRY: &[Field] = &[f("PlcAndNm", 0, 1), f("Envlp", 1, 1)];
const APPROVAL: &[Field] = &[f("Entry", 0, N)];
const APPROVAL_ENTRY: &[Field] = &[
    f("EndToEndId", 1, 1),
    f("Payload", 1, 1),
    f("Signature", 1, 1),
];

/// Reads a party's `Nm` (required here).
pub(crate) fn read_party_name(el: &El<'_>, ns: &str) -> Result<String, XmlError> {
    el.children(ns, PARTY)?.one("Nm")?.max_text(MAX140)
}

/// Reads a `CashAccount38`-like account's `Id/IBAN` (required here).
pub(crate) fn read_account_iban(el: &El<'_>, ns: &str, spec: &[Field]) -> Result<String, XmlError> {
    let id = el.children(ns, spec)?.one("Id")?;
    let c = id.children(ns, ACCOUNT_ID)?;
    let (_, iban) = c.choice(&["IBAN", "Othr"])?;
    if iban.node.name != "IBAN" {
        return Err(XmlError::Unexpected {
            path: iban.path,
            detail: "only IBAN accounts are accepted".into(),
        });
    }
    read_iban(&iban)
}

fn read_agent_bic(el: &El<'_>) -> Result<String, XmlError> {
    let fin = el.children(NAMESPACE, AGENT)?.one("FinInstnId")?;
    let bic = fin.children(NAMESPACE, FIN_INSTN)?.one("BICFI")?;
    read_bic(&bic)
}

fn read_nb_of_txs(el: &El<'_>, count: usize) -> Result<(), XmlError> {
    let t = el.leaf_text()?;
    if t.is_empty() || t.len() > 15 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(XmlError::Invalid {
            path: el.path.clone(),
            reason: format!("NbOfTxs {t:?} is not 1 to 15 digits"),
        });
    }
    let declared = t.trim_start_matches('0');
    if declared != count.to_string() && !(declared.is_empty() && count == 0) {
        return Err(XmlError::Inconsistent {
            path: el.path.clone(),
            detail: format!("NbOfTxs is {t} but the document has {count} transactions"),
        });
    }
    Ok(())
}

fn check_ctrl_sum(el: &El<'_>, sum: u128) -> Result<(), XmlError> {
    let declared = read_ctrl_sum(el)?;
    if declared != sum {
        return Err(XmlError::Inconsistent {
            path: el.path.clone(),
            detail: format!(
                "CtrlSum is {} but the amounts add up to {}",
                format_minor(declared),
                format_minor(sum)
            ),
        });
    }
    Ok(())
}

fn read_base64(el: &El<'_>) -> Result<Vec<u8>, XmlError> {
    let t = el.leaf_text()?;
    let compact: String = t
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| XmlError::Invalid {
            path: el.path.clone(),
            reason: format!("not base64: {e}"),
        })
}

fn read_approval(el: &El<'_>) -> Result<CommitteeApproval, XmlError> {
    let c = el.children(APPROVAL_NS, APPROVAL)?;
    let mut entries = Vec::new();
    for e in c.all("Entry") {
        let ec = e.children(APPROVAL_NS, APPROVAL_ENTRY)?;
        entries.push(ApprovalEntry {
            end_to_end_id: ec.one("EndToEndId")?.max_text(MAX35)?,
            payload: read_base64(&ec.one("Payload")?)?,
            signature: read_base64(&ec.one("Signature")?)?,
        });
    }
    Ok(CommitteeApproval { entries })
}

fn read_transfer(tx: &El<'_>) -> Result<CreditTransfer, XmlError> {
    let c = tx.children(NAMESPACE, TX)?;
    let end_to_end_id = c
        .one("PmtId")?
        .children(NAMESPACE, PMT_ID)?
        .one("EndToEndId")?
        .max_text(MAX35)?;
    let amt = c.one("Amt")?;
    let (kind, a) = amt
        .children(NAMESPACE, AMT_CHOICE)?
        .choice(&["InstdAmt", "EqvtAmt"])?;
    if kind != "InstdAmt" {
        return Err(XmlError::Unexpected {
            path: a.path,
            detail: "only InstdAmt is accepted".into(),
        });
    }
    let amount = read_amount(&a)?;
    let creditor_agent_bic = match c.opt("CdtrAgt")? {
        Some(agent) => Some(read_agent_bic(&agent)?),
        None => None,
    };
    let creditor = Party {
        name: read_party_name(&c.one("Cdtr")?, NAMESPACE)?,
        iban: read_account_iban(&c.one("CdtrAcct")?, NAMESPACE, CASH_ACCOUNT)?,
    };
    let remittance = match c.opt("RmtInf")? {
        Some(r) => match r.children(NAMESPACE, RMT_INF)?.opt("Ustrd")? {
            Some(u) => Some(u.max_text(MAX140)?),
            None => None,
        },
        None => None,
    };
    Ok(CreditTransfer {
        end_to_end_id,
        amount,
        creditor,
        creditor_agent_bic,
        remittance,
    })
}

impl CreditTransferInitiation {
    /// Checks what the schema would refuse in this value (text lengths, IBANs, BICs, currencies,
    /// dates, amounts, at least one transfer), naming the element path. `to_xml` writes any
    /// value; a document written from a value that fails here is one `from_xml` refuses.
    pub fn validate(&self) -> Result<(), XmlError> {
        let root = "Document/CstmrCdtTrfInitn";
        check_text(&format!("{root}/GrpHdr/MsgId"), &self.message_id, MAX35)?;
        check_datetime(&format!("{root}/GrpHdr/CreDtTm"), &self.created_at)?;
        check_text(
            &format!("{root}/GrpHdr/InitgPty/Nm"),
            &self.initiating_party,
            MAX140,
        )?;
        let p = format!("{root}/PmtInf");
        check_text(&format!("{p}/PmtInfId"), &self.payment_info_id, MAX35)?;
        check_date(
            &format!("{p}/ReqdExctnDt/Dt"),
            &self.requested_execution_date,
        )?;
        check_text(&format!("{p}/Dbtr/Nm"), &self.debtor.name, MAX140)?;
        check_iban(&format!("{p}/DbtrAcct/Id/IBAN"), &self.debtor.iban)?;
        check_bic(
            &format!("{p}/DbtrAgt/FinInstnId/BICFI"),
            &self.debtor_agent_bic,
        )?;
        if self.transfers.is_empty() {
            return Err(XmlError::Missing {
                path: format!("{p}/CdtTrfTxInf"),
            });
        }
        let mut sum: u128 = 0;
        for (i, t) in self.transfers.iter().enumerate() {
            let tp = format!("{p}/CdtTrfTxInf[{}]", i + 1);
            check_text(&format!("{tp}/PmtId/EndToEndId"), &t.end_to_end_id, MAX35)?;
            check_amount(&format!("{tp}/Amt/InstdAmt"), &t.amount)?;
            sum = sum.saturating_add(t.amount.minor_units);
            if let Some(b) = &t.creditor_agent_bic {
                check_bic(&format!("{tp}/CdtrAgt/FinInstnId/BICFI"), b)?;
            }
            check_text(&format!("{tp}/Cdtr/Nm"), &t.creditor.name, MAX140)?;
            check_iban(&format!("{tp}/CdtrAcct/Id/IBAN"), &t.creditor.iban)?;
            if let Some(r) = &t.remittance {
                check_text(&format!("{tp}/RmtInf/Ustrd"), r, MAX140)?;
            }
        }
        if sum > crate::MAX_MINOR_UNITS {
            return Err(XmlError::Inconsistent {
                path: format!("{root}/GrpHdr/CtrlSum"),
                detail: "the sum of the amounts has more than 18 digits".into(),
            });
        }
        if let Some(a) = &self.approval {
            for (i, e) in a.entries.iter().enumerate() {
                check_text(
                    &format!(
                        "{root}/SplmtryData/Envlp/CommitteeApproval/Entry[{}]/EndToEndId",
                        i + 1
                    ),
                    &e.end_to_end_id,
                    MAX35,
                )?;
            }
        }
        Ok(())
    }

    /// The sum of the amounts in minor units, as written to `CtrlSum`.
    pub fn control_sum(&self) -> u128 {
        self.transfers
            .iter()
            .fold(0u128, |s, t| s.saturating_add(t.amount.minor_units))
    }

    /// Writes the document.
    pub fn to_xml(&self) -> String {
        let nb = self.transfers.len().to_string();
        let sum = format_minor(self.control_sum());
        let mut w = Writer::new(NAMESPACE);
        w.open("CstmrCdtTrfInitn");
        w.open("GrpHdr")
            .leaf("MsgId", &self.message_id)
            .leaf("CreDtTm", &self.created_at)
            .leaf("NbOfTxs", &nb)
            .leaf("CtrlSum", &sum)
            .open("InitgPty")
            .leaf("Nm", &self.initiating_party)
            .close()
            .close();
        w.open("PmtInf")
            .leaf("PmtInfId", &self.payment_info_id)
            .leaf("PmtMtd", "TRF")
            .leaf("NbOfTxs", &nb)
            .leaf("CtrlSum", &sum)
            .open("ReqdExctnDt")
            .leaf("Dt", &self.requested_execution_date)
            .close()
            .open("Dbtr")
            .leaf("Nm", &self.debtor.name)
            .close()
            .open("DbtrAcct")
            .open("Id")
            .leaf("IBAN", &self.debtor.iban)
            .close()
            .close()
            .open("DbtrAgt")
            .open("FinInstnId")
            .leaf("BICFI", &self.debtor_agent_bic)
            .close()
            .close();
        for t in &self.transfers {
            w.open("CdtTrfTxInf")
                .open("PmtId")
                .leaf("EndToEndId", &t.end_to_end_id)
                .close()
                .open("Amt")
                .leaf_attr("InstdAmt", "Ccy", &t.amount.currency, &t.amount.decimal())
                .close();
            if let Some(bic) = &t.creditor_agent_bic {
                w.open("CdtrAgt")
                    .open("FinInstnId")
                    .leaf("BICFI", bic)
                    .close()
                    .close();
            }
            w.open("Cdtr").leaf("Nm", &t.creditor.name).close();
            w.open("CdtrAcct")
                .open("Id")
                .leaf("IBAN", &t.creditor.iban)
                .close()
                .close();
            if let Some(r) = &t.remittance {
                w.open("RmtInf").leaf("Ustrd", r).close();
            }
            w.close();
        }
        w.close();
        if let Some(a) = &self.approval {
            let b64 = base64::engine::general_purpose::STANDARD;
            w.open("SplmtryData")
                .leaf("PlcAndNm", APPROVAL_PLACE)
                .open("Envlp")
                .open_ns("CommitteeApproval", APPROVAL_NS);
            for e in &a.entries {
                w.open("Entry")
                    .leaf("EndToEndId", &e.end_to_end_id)
                    .leaf("Payload", &b64.encode(&e.payload))
                    .leaf("Signature", &b64.encode(&e.signature))
                    .close();
            }
            w.close().close().close();
        }
        w.finish()
    }

    /// Parses and checks a document; see the module documentation for what is refused and
    /// what is skipped.
    pub fn from_xml(xml: &str) -> Result<Self, XmlError> {
        let tree = parse_tree(xml)?;
        let doc = document(&tree, NAMESPACE)?;
        let initn = doc.children(NAMESPACE, DOCUMENT)?.one("CstmrCdtTrfInitn")?;
        let ic = initn.children(NAMESPACE, INITN)?;

        let hdr = ic.one("GrpHdr")?;
        let hc = hdr.children(NAMESPACE, GRP_HDR)?;
        let message_id = hc.one("MsgId")?.max_text(MAX35)?;
        let created_at = read_datetime(&hc.one("CreDtTm")?)?;
        let initiating_party = read_party_name(&hc.one("InitgPty")?, NAMESPACE)?;

        let pmt = ic.one("PmtInf")?;
        let pc = pmt.children(NAMESPACE, PMT_INF)?;
        let payment_info_id = pc.one("PmtInfId")?.max_text(MAX35)?;
        let mtd = pc.one("PmtMtd")?;
        if mtd.leaf_text()? != "TRF" {
            return Err(XmlError::Invalid {
                path: mtd.path.clone(),
                reason: format!("payment method {:?} is not TRF", mtd.node.text),
            });
        }
        let (kind, date) = pc
            .one("ReqdExctnDt")?
            .children(NAMESPACE, DATE_CHOICE)?
            .choice(&["Dt", "DtTm"])?;
        if kind != "Dt" {
            return Err(XmlError::Unexpected {
                path: date.path,
                detail: "a requested execution date (Dt) is expected".into(),
            });
        }
        let requested_execution_date = read_date(&date)?;
        let debtor = Party {
            name: read_party_name(&pc.one("Dbtr")?, NAMESPACE)?,
            iban: read_account_iban(&pc.one("DbtrAcct")?, NAMESPACE, CASH_ACCOUNT)?,
        };
        let debtor_agent_bic = read_agent_bic(&pc.one("DbtrAgt")?)?;
        let transfers = pc
            .all("CdtTrfTxInf")
            .iter()
            .map(read_transfer)
            .collect::<Result<Vec<_>, _>>()?;
        let mut sum: u128 = 0;
        for t in &transfers {
            sum = sum.saturating_add(t.amount.minor_units);
        }

        read_nb_of_txs(&hc.one("NbOfTxs")?, transfers.len())?;
        if let Some(s) = hc.opt("CtrlSum")? {
            check_ctrl_sum(&s, sum)?;
        }
        if let Some(n) = pc.opt("NbOfTxs")? {
            read_nb_of_txs(&n, transfers.len())?;
        }
        if let Some(s) = pc.opt("CtrlSum")? {
            check_ctrl_sum(&s, sum)?;
        }

        let mut approval = None;
        for sd in ic.all("SplmtryData") {
            let sc = sd.children(NAMESPACE, SPLMTRY)?;
            let envlp = sc.one("Envlp")?;
            envlp.no_attrs()?;
            let [inner] = envlp.node.children.as_slice() else {
                return Err(XmlError::Invalid {
                    path: envlp.path.clone(),
                    reason: format!(
                        "the envelope holds {} elements, the schema allows one",
                        envlp.node.children.len()
                    ),
                });
            };
            if inner.ns.as_deref() != Some(APPROVAL_NS) {
                continue;
            }
            let ip = format!("{}/{}", envlp.path, inner.name);
            if inner.name != "CommitteeApproval" {
                return Err(XmlError::Unexpected {
                    path: ip,
                    detail: format!("CommitteeApproval is the only element of {APPROVAL_NS}"),
                });
            }
            if approval.is_some() {
                return Err(XmlError::Unexpected {
                    path: ip,
                    detail: "a second committee approval".into(),
                });
            }
            if let Some(place) = sc.opt("PlcAndNm")? {
                let t = place.max_text(350)?;
                if t != APPROVAL_PLACE {
                    return Err(XmlError::Invalid {
                        path: place.path.clone(),
                        reason: format!("the approval's place is {t:?}, not {APPROVAL_PLACE:?}"),
                    });
                }
            }
            approval = Some(read_approval(&El {
                node: inner,
                path: ip,
            })?);
        }

        let value = CreditTransferInitiation {
            message_id,
            created_at,
            initiating_party,
            payment_info_id,
            requested_execution_date,
            debtor,
            debtor_agent_bic,
            transfers,
            approval,
        };
        value.validate()?;
        Ok(value)
    }
}
