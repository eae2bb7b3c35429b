//! `camt.054.001.08` BankToCustomerDebitCreditNotificationV08: the bank's notification of
//! bookings on the custodial account.
//!
//! Written as one `Ntfctn` for the account (`Acct/Id/IBAN`) with one `Ntry` per booking:
//! amount, `CdtDbtInd`, `Sts/Cd` (`BOOK` or `PDNG`), `BookgDt/Dt`, the bank's reference
//! `AcctSvcrRef`, the bank transaction code the schema requires (`PMNT`/`RCDT`/`ESCT` for
//! credits, `PMNT`/`ICDT`/`ESCT` for debits) and, when there is an end-to-end id, a remittance
//! line or a counterparty, one `NtryDtls/TxDtls` with `Refs/EndToEndId`, `RltdPties` (the
//! debtor of a credit, the creditor of a debit, each with its account) and `RmtInf/Ustrd`.
//!
//! Reading: elements the schema allows but this crate does not map (`MsgRcpt`, pagination,
//! sequence numbers, `FrToDt`, `RltdAcct`, `TxsSummry`, `NtryRef`, `RvslInd`, `ValDt`,
//! `Avlbty`, the content of `BkTxCd`, charges, `Btch`, transaction amounts, `RltdAgts`,
//! `UltmtDbtr`/`UltmtCdtr`, `Purp`, structured remittance, ...) are skipped. A booking date
//! given as `DtTm` is read as its date. Narrower than the schema, and refused: other than one
//! `Ntfctn`; an account other than IBAN; an entry without `AcctSvcrRef` or `BookgDt`; an entry
//! status other than `BOOK` or `PDNG`; more than one `NtryDtls` or `TxDtls` per entry (batch
//! bookings); more than one unstructured remittance line; a counterparty given as an agent, or
//! without a name, or without an IBAN account.

use crate::pain001::{read_account_iban, read_party_name};
use crate::types::{
    check_amount, check_date, check_datetime, check_iban, check_text, read_amount, read_date,
    read_datetime, Amount, Party, MAX140, MAX35,
};
use crate::xml::{document, f, parse_tree, El, Field, Writer, N};
use crate::XmlError;

/// The namespace of camt.054.001.08.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08";

/// A notification of bookings on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebitCreditNotification {
    /// `GrpHdr/MsgId` (`Max35Text`).
    pub message_id: String,
    /// `GrpHdr/CreDtTm`, an ISO date-time given by the caller.
    pub created_at: String,
    /// `Ntfctn/Id` (`Max35Text`).
    pub notification_id: String,
    /// `Ntfctn/Acct/Id/IBAN`: the custodial account.
    pub account_iban: String,
    /// The bookings, in document order.
    pub entries: Vec<Entry>,
}

/// One booking (`Ntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `AcctSvcrRef` (`Max35Text`): the bank's booking reference.
    pub entry_ref: String,
    /// `Amt`.
    pub amount: Amount,
    /// `CdtDbtInd`.
    pub direction: CreditDebit,
    /// `Sts/Cd`.
    pub status: EntryStatus,
    /// `BookgDt/Dt`, `YYYY-MM-DD`.
    pub booking_date: String,
    /// `NtryDtls/TxDtls/Refs/EndToEndId` (`Max35Text`), when given.
    pub end_to_end_id: Option<String>,
    /// `NtryDtls/TxDtls/RmtInf/Ustrd` (`Max140Text`), when given.
    pub remittance: Option<String>,
    /// `NtryDtls/TxDtls/RltdPties`: the debtor (`Dbtr/Pty/Nm`, `DbtrAcct/Id/IBAN`) of a credit,
    /// the creditor (`Cdtr/Pty/Nm`, `CdtrAcct/Id/IBAN`) of a debit, when given.
    pub counterparty: Option<Party>,
}

/// Whether a booking credits or debits the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditDebit {
    /// `CRDT`: money came in.
    Credit,
    /// `DBIT`: money went out.
    Debit,
}

impl CreditDebit {
    /// The code (`CRDT`, `DBIT`).
    pub fn code(self) -> &'static str {
        match self {
            CreditDebit::Credit => "CRDT",
            CreditDebit::Debit => "DBIT",
        }
    }
}

/// The status of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    /// `BOOK`: booked, final.
    Booked,
    /// `PDNG`: pending, may still change.
    Pending,
}

impl EntryStatus {
    /// The code (`BOOK`, `PDNG`).
    pub fn code(self) -> &'static str {
        match self {
            EntryStatus::Booked => "BOOK",
            EntryStatus::Pending => "PDNG",
        }
    }
}

const DOCUMENT: &[Field] = &[f("BkToCstmrDbtCdtNtfctn", 1, 1)];
// Narrower than the schema: one Ntfctn.
const NTFCTN_MSG: &[Field] = &[f("GrpHdr", 1, 1), f("Ntfctn", 1, 1), f("SplmtryData", 0, N)];
const GRP_HDR: &[Field] = &[
    f("MsgId", 1, 1),
    f("CreDtTm", 1, 1),
    f("MsgRcpt", 0, 1),
    f("MsgPgntn", 0, 1),
    f("OrgnlBizQry", 0, 1),
    f("AddtlInf", 0, 1),
];
const NTFCTN: &[Field] = &[
    f("Id", 1, 1),
    f("NtfctnPgntn", 0, 1),
    f("ElctrncSeqNb", 0, 1),
    f("RptgSeq", 0, 1),
    f("LglSeqNb", 0, 1),
    f("CreDtTm", 0, 1),
    f("FrToDt", 0, 1),
    f("CpyDplctInd", 0, 1),
    f("RptgSrc", 0, 1),
    f("Acct", 1, 1),
    f("RltdAcct", 0, 1),
    f("Intrst", 0, N),
    f("TxsSummry", 0, 1),
    f("Ntry", 0, N),
    f("AddtlNtfctnInf", 0, 1),
];
const CASH_ACCOUNT_39: &[Field] = &[
    f("Id", 1, 1),
    f("Tp", 0, 1),
    f("Ccy", 0, 1),
    f("Nm", 0, 1),
    f("Prxy", 0, 1),
    f("Ownr", 0, 1),
    f("Svcr", 0, 1),
];
const CASH_ACCOUNT_38: &[Field] = &[
    f("Id", 1, 1),
    f("Tp", 0, 1),
    f("Ccy", 0, 1),
    f("Nm", 0, 1),
    f("Prxy", 0, 1),
];
const NTRY: &[Field] = &[
    f("NtryRef", 0, 1),
    f("Amt", 1, 1),
    f("CdtDbtInd", 1, 1),
    f("RvslInd", 0, 1),
    f("Sts", 1, 1),
    // Required here, optional in the schema.
    f("BookgDt", 1, 1),
    f("ValDt", 0, 1),
    f("AcctSvcrRef", 1, 1),
    f("Avlbty", 0, N),
    f("BkTxCd", 1, 1),
    f("ComssnWvrInd", 0, 1),
    f("AddtlInfInd", 0, 1),
    f("AmtDtls", 0, 1),
    f("Chrgs", 0, 1),
    f("TechInptChanl", 0, 1),
    f("Intrst", 0, 1),
    f("CardTx", 0, 1),
    // One here, unbounded in the schema.
    f("NtryDtls", 0, 1),
    f("AddtlNtryInf", 0, 1),
];
const CHOICE_CD: &[Field] = &[f("Cd", 0, 1), f("Prtry", 0, 1)];
const DATE_CHOICE: &[Field] = &[f("Dt", 0, 1), f("DtTm", 0, 1)];
// One TxDtls here, unbounded in the schema.
const NTRY_DTLS: &[Field] = &[f("Btch", 0, 1), f("TxDtls", 0, 1)];
const TX_DTLS: &[Field] = &[
    f("Refs", 0, 1),
    f("Amt", 0, 1),
    f("CdtDbtInd", 0, 1),
    f("AmtDtls", 0, 1),
    f("Avlbty", 0, N),
    f("BkTxCd", 0, 1),
    f("Chrgs", 0, 1),
    f("Intrst", 0, 1),
    f("RltdPties", 0, 1),
    f("RltdAgts", 0, 1),
    f("LclInstrm", 0, 1),
    f("Purp", 0, 1),
    f("RltdRmtInf", 0, 10),
    f("RmtInf", 0, 1),
    f("RltdDts", 0, 1),
    f("RltdPric", 0, 1),
    f("RltdQties", 0, N),
    f("FinInstrmId", 0, 1),
    f("Tax", 0, 1),
    f("RtrInf", 0, 1),
    f("CorpActn", 0, 1),
    f("SfkpgAcct", 0, 1),
    f("CshDpst", 0, N),
    f("CardTx", 0, 1),
    f("AddtlTxInf", 0, 1),
    f("SplmtryData", 0, N),
];
const REFS: &[Field] = &[
    f("MsgId", 0, 1),
    f("AcctSvcrRef", 0, 1),
    f("PmtInfId", 0, 1),
    f("InstrId", 0, 1),
    f("EndToEndId", 0, 1),
    f("UETR", 0, 1),
    f("TxId", 0, 1),
    f("MndtId", 0, 1),
    f("ChqNb", 0, 1),
    f("ClrSysRef", 0, 1),
    f("AcctOwnrTxId", 0, 1),
    f("AcctSvcrTxId", 0, 1),
    f("MktInfrstrctrTxId", 0, 1),
    f("PrcgId", 0, 1),
    f("Prtry", 0, N),
];
const RLTD_PTIES: &[Field] = &[
    f("InitgPty", 0, 1),
    f("Dbtr", 0, 1),
    f("DbtrAcct", 0, 1),
    f("UltmtDbtr", 0, 1),
    f("Cdtr", 0, 1),
    f("CdtrAcct", 0, 1),
    f("UltmtCdtr", 0, 1),
    f("TradgPty", 0, 1),
    f("Prtry", 0, N),
];
const PARTY_40: &[Field] = &[f("Pty", 0, 1), f("Agt", 0, 1)];
const RMT_INF: &[Field] = &[f("Ustrd", 0, 1), f("Strd", 0, N)];

fn read_counterparty(
    rp: &crate::xml::Children<'_>,
    party: &'static str,
    account: &'static str,
) -> Result<Option<Party>, XmlError> {
    let Some(p) = rp.opt(party)? else {
        return Ok(None);
    };
    let (kind, pty) = p.children(NAMESPACE, PARTY_40)?.choice(&["Pty", "Agt"])?;
    if kind != "Pty" {
        return Err(XmlError::Unexpected {
            path: pty.path,
            detail: "the counterparty must be a party (Pty), not an agent".into(),
        });
    }
    let name = read_party_name(&pty, NAMESPACE)?;
    let iban = read_account_iban(&rp.one(account)?, NAMESPACE, CASH_ACCOUNT_38)?;
    Ok(Some(Party { name, iban }))
}

fn read_entry(e: &El<'_>) -> Result<Entry, XmlError> {
    let c = e.children(NAMESPACE, NTRY)?;
    let amount = read_amount(&c.one("Amt")?)?;
    let ind = c.one("CdtDbtInd")?;
    let direction = match ind.leaf_text()? {
        "CRDT" => CreditDebit::Credit,
        "DBIT" => CreditDebit::Debit,
        other => {
            return Err(XmlError::Invalid {
                path: ind.path.clone(),
                reason: format!("credit/debit indicator {other:?} is not CRDT or DBIT"),
            })
        }
    };
    let (kind, sts) = c
        .one("Sts")?
        .children(NAMESPACE, CHOICE_CD)?
        .choice(&["Cd", "Prtry"])?;
    let status = match (kind, sts.leaf_text()?) {
        ("Cd", "BOOK") => EntryStatus::Booked,
        ("Cd", "PDNG") => EntryStatus::Pending,
        (_, other) => {
            return Err(XmlError::Invalid {
                path: sts.path.clone(),
                reason: format!("entry status {other:?} is not BOOK or PDNG"),
            })
        }
    };
    let (kind, d) = c
        .one("BookgDt")?
        .children(NAMESPACE, DATE_CHOICE)?
        .choice(&["Dt", "DtTm"])?;
    let booking_date = if kind == "Dt" {
        read_date(&d)?
    } else {
        let dt = read_datetime(&d)?;
        dt.get(..10).unwrap_or_default().to_string()
    };
    let entry_ref = c.one("AcctSvcrRef")?.max_text(MAX35)?;
    let mut end_to_end_id = None;
    let mut remittance = None;
    let mut counterparty = None;
    if let Some(nd) = c.opt("NtryDtls")? {
        if let Some(tx) = nd.children(NAMESPACE, NTRY_DTLS)?.opt("TxDtls")? {
            let tc = tx.children(NAMESPACE, TX_DTLS)?;
            if let Some(refs) = tc.opt("Refs")? {
                if let Some(id) = refs.children(NAMESPACE, REFS)?.opt("EndToEndId")? {
                    end_to_end_id = Some(id.max_text(MAX35)?);
                }
            }
            if let Some(rp) = tc.opt("RltdPties")? {
                let rc = rp.children(NAMESPACE, RLTD_PTIES)?;
                counterparty = match direction {
                    CreditDebit::Credit => read_counterparty(&rc, "Dbtr", "DbtrAcct")?,
                    CreditDebit::Debit => read_counterparty(&rc, "Cdtr", "CdtrAcct")?,
                };
            }
            if let Some(r) = tc.opt("RmtInf")? {
                if let Some(u) = r.children(NAMESPACE, RMT_INF)?.opt("Ustrd")? {
                    remittance = Some(u.max_text(MAX140)?);
                }
            }
        }
    }
    Ok(Entry {
        entry_ref,
        amount,
        direction,
        status,
        booking_date,
        end_to_end_id,
        remittance,
        counterparty,
    })
}

impl DebitCreditNotification {
    /// Checks what the schema would refuse in this value, naming the element path. `to_xml`
    /// writes any value; a document written from a value that fails here is one `from_xml`
    /// refuses.
    pub fn validate(&self) -> Result<(), XmlError> {
        let root = "Document/BkToCstmrDbtCdtNtfctn";
        check_text(&format!("{root}/GrpHdr/MsgId"), &self.message_id, MAX35)?;
        check_datetime(&format!("{root}/GrpHdr/CreDtTm"), &self.created_at)?;
        let n = format!("{root}/Ntfctn");
        check_text(&format!("{n}/Id"), &self.notification_id, MAX35)?;
        check_iban(&format!("{n}/Acct/Id/IBAN"), &self.account_iban)?;
        for (i, e) in self.entries.iter().enumerate() {
            let p = format!("{n}/Ntry[{}]", i + 1);
            check_amount(&format!("{p}/Amt"), &e.amount)?;
            check_date(&format!("{p}/BookgDt/Dt"), &e.booking_date)?;
            check_text(&format!("{p}/AcctSvcrRef"), &e.entry_ref, MAX35)?;
            let t = format!("{p}/NtryDtls/TxDtls");
            if let Some(id) = &e.end_to_end_id {
                check_text(&format!("{t}/Refs/EndToEndId"), id, MAX35)?;
            }
            if let Some(cp) = &e.counterparty {
                let (party, account) = match e.direction {
                    CreditDebit::Credit => ("Dbtr", "DbtrAcct"),
                    CreditDebit::Debit => ("Cdtr", "CdtrAcct"),
                };
                check_text(&format!("{t}/RltdPties/{party}/Pty/Nm"), &cp.name, MAX140)?;
                check_iban(&format!("{t}/RltdPties/{account}/Id/IBAN"), &cp.iban)?;
            }
            if let Some(r) = &e.remittance {
                check_text(&format!("{t}/RmtInf/Ustrd"), r, MAX140)?;
            }
        }
        Ok(())
    }

    /// Writes the document.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(NAMESPACE);
        w.open("BkToCstmrDbtCdtNtfctn");
        w.open("GrpHdr")
            .leaf("MsgId", &self.message_id)
            .leaf("CreDtTm", &self.created_at)
            .close();
        w.open("Ntfctn")
            .leaf("Id", &self.notification_id)
            .open("Acct")
            .open("Id")
            .leaf("IBAN", &self.account_iban)
            .close()
            .close();
        for e in &self.entries {
            let family = match e.direction {
                CreditDebit::Credit => "RCDT",
                CreditDebit::Debit => "ICDT",
            };
            w.open("Ntry")
                .leaf_attr("Amt", "Ccy", &e.amount.currency, &e.amount.decimal())
                .leaf("CdtDbtInd", e.direction.code())
                .open("Sts")
                .leaf("Cd", e.status.code())
                .close()
                .open("BookgDt")
                .leaf("Dt", &e.booking_date)
                .close()
                .leaf("AcctSvcrRef", &e.entry_ref)
                .open("BkTxCd")
                .open("Domn")
                .leaf("Cd", "PMNT")
                .open("Fmly")
                .leaf("Cd", family)
                .leaf("SubFmlyCd", "ESCT")
                .close()
                .close()
                .close();
            if e.end_to_end_id.is_some() || e.remittance.is_some() || e.counterparty.is_some() {
                w.open("NtryDtls").open("TxDtls");
                if let Some(id) = &e.end_to_end_id {
                    w.open("Refs").leaf("EndToEndId", id).close();
                }
                if let Some(cp) = &e.counterparty {
                    let (party, account) = match e.direction {
                        CreditDebit::Credit => ("Dbtr", "DbtrAcct"),
                        CreditDebit::Debit => ("Cdtr", "CdtrAcct"),
                    };
                    w.open("RltdPties")
                        .open(party)
                        .open("Pty")
                        .leaf("Nm", &cp.name)
                        .close()
                        .close()
                        .open(account)
                        .open("Id")
                        .leaf("IBAN", &cp.iban)
                        .close()
                        .close()
                        .close();
                }
                if let Some(r) = &e.remittance {
                    w.open("RmtInf").leaf("Ustrd", r).close();
                }
                w.close().close();
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
        let msg = doc
            .children(NAMESPACE, DOCUMENT)?
            .one("BkToCstmrDbtCdtNtfctn")?;
        let mc = msg.children(NAMESPACE, NTFCTN_MSG)?;
        let hc = mc.one("GrpHdr")?.children(NAMESPACE, GRP_HDR)?;
        let message_id = hc.one("MsgId")?.max_text(MAX35)?;
        let created_at = read_datetime(&hc.one("CreDtTm")?)?;
        let nc = mc.one("Ntfctn")?.children(NAMESPACE, NTFCTN)?;
        let notification_id = nc.one("Id")?.max_text(MAX35)?;
        let account_iban = read_account_iban(&nc.one("Acct")?, NAMESPACE, CASH_ACCOUNT_39)?;
        let entries = nc
            .all("Ntry")
            .iter()
            .map(read_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let value = DebitCreditNotification {
            message_id,
            created_at,
            notification_id,
            account_iban,
            entries,
        };
        value.validate()?;
        Ok(value)
    }
}
