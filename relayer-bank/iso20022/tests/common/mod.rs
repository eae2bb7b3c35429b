//! Representative values of the three messages, and the schema check with xmllint.
#![allow(dead_code)]
// Test helpers: a failed unwrap is a failed test with its reason.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use usage_iso20022::*;

pub fn transfer(i: u32, amount: u128) -> CreditTransfer {
    CreditTransfer {
        end_to_end_id: format!("E2E-2026-12-{i:04}"),
        amount: Amount::new(amount, "EUR"),
        creditor: Party::new(format!("Creditor {i}"), format!("DE8937040044053201300{i}")),
        creditor_agent_bic: None,
        remittance: None,
    }
}

/// Several transfers, escaping-worthy and non-ASCII text, the approval present.
pub fn initiation() -> CreditTransferInitiation {
    let mut t1 = transfer(1, 123_405);
    t1.creditor.name = "Müller & Söhne <GmbH> \"quoted\" 'single'".into();
    t1.remittance = Some("Invoice 2026/11 & usage <period 7>".into());
    t1.creditor_agent_bic = Some("COBADEFFXXX".into());
    let mut t2 = transfer(2, 5);
    t2.creditor_agent_bic = Some("DEUTDEFF".into());
    let t3 = transfer(3, 99_999_999);
    CreditTransferInitiation {
        message_id: "MSG-2026-12-01-0001".into(),
        created_at: "2026-12-01T10:00:00Z".into(),
        initiating_party: "Usagechain Platform Ltd".into(),
        payment_info_id: "PMT-2026-12-01-0001".into(),
        requested_execution_date: "2026-12-02".into(),
        debtor: Party::new("Usagechain Custody Ärger", "GB33BUKB20201555555555"),
        debtor_agent_bic: "BUKBGB22".into(),
        transfers: vec![t1, t2, t3],
        approval: Some(CommitteeApproval {
            entries: vec![
                ApprovalEntry {
                    end_to_end_id: "E2E-2026-12-0001".into(),
                    payload: b"settlement 7 / creditor 1 / 1234.05 EUR".to_vec(),
                    signature: (0u8..=95).collect(),
                },
                ApprovalEntry {
                    end_to_end_id: "E2E-2026-12-0002".into(),
                    payload: vec![0, 1, 2, 255],
                    signature: vec![9; 64],
                },
            ],
        }),
    }
}

/// One transfer, no approval, no optional fields.
pub fn initiation_minimal() -> CreditTransferInitiation {
    CreditTransferInitiation {
        approval: None,
        transfers: vec![transfer(9, 100)],
        ..initiation()
    }
}

pub fn status_report() -> PaymentStatusReport {
    PaymentStatusReport {
        message_id: "STS-0001".into(),
        created_at: "2026-12-01T10:05:00.123+01:00".into(),
        original_message_id: "MSG-2026-12-01-0001".into(),
        original_message_name: "pain.001.001.09".into(),
        original_payment_info_id: "PMT-2026-12-01-0001".into(),
        transactions: vec![
            TransactionStatus {
                end_to_end_id: "E2E-2026-12-0001".into(),
                status: TxStatus::AcceptedSettlementCompleted,
                reason: None,
                additional_info: None,
            },
            TransactionStatus {
                end_to_end_id: "E2E-2026-12-0002".into(),
                status: TxStatus::Rejected,
                reason: Some("AC01".into()),
                additional_info: Some("Account <closed> & \"gone\" – Konto geschlossen".into()),
            },
            TransactionStatus {
                end_to_end_id: "E2E-2026-12-0003".into(),
                status: TxStatus::Pending,
                reason: Some("SIM-LIMIT-EXCEEDED".into()),
                additional_info: None,
            },
            TransactionStatus {
                end_to_end_id: "E2E-2026-12-0004".into(),
                status: TxStatus::AcceptedTechnicalValidation,
                reason: None,
                additional_info: Some("queued".into()),
            },
        ],
    }
}

pub fn notification() -> DebitCreditNotification {
    DebitCreditNotification {
        message_id: "NTF-0001".into(),
        created_at: "2026-12-01T18:00:00".into(),
        notification_id: "NTF-0001-1".into(),
        account_iban: "GB33BUKB20201555555555".into(),
        entries: vec![
            Entry {
                entry_ref: "BOOK-0001".into(),
                amount: Amount::new(500_000, "EUR"),
                direction: CreditDebit::Credit,
                status: EntryStatus::Booked,
                booking_date: "2026-12-01".into(),
                end_to_end_id: Some("DEPOSIT-42".into()),
                remittance: Some("Top-up for tenant 42 & <co>".into()),
                counterparty: Some(Party::new("Zoë Ørsted", "DK5000400440116243")),
            },
            Entry {
                entry_ref: "BOOK-0002".into(),
                amount: Amount::new(123_405, "EUR"),
                direction: CreditDebit::Debit,
                status: EntryStatus::Booked,
                booking_date: "2026-12-01".into(),
                end_to_end_id: Some("E2E-2026-12-0001".into()),
                remittance: None,
                counterparty: Some(Party::new("Creditor 1", "DE89370400440532013001")),
            },
            Entry {
                entry_ref: "BOOK-0003".into(),
                amount: Amount::new(7, "USD"),
                direction: CreditDebit::Debit,
                status: EntryStatus::Pending,
                booking_date: "2026-12-02".into(),
                end_to_end_id: None,
                remittance: None,
                counterparty: None,
            },
        ],
    }
}

pub fn xsd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd")
}

pub enum Check {
    Valid,
    Invalid(String),
    /// xmllint or the schema file is missing (outside CI); the reason was printed.
    Skipped,
}

/// Validates `xml` against `xsd/<version>.xsd` with xmllint. Without xmllint this fails in CI
/// (CI=true) and is skipped loudly elsewhere; `scripts/setup.sh` installs it.
pub fn xmllint(version: &str, xml: &str) -> Check {
    let xsd = xsd_dir().join(format!("{version}.xsd"));
    assert!(
        xsd.exists(),
        "the official schema {} is not vendored (see xsd/README.md)",
        xsd.display()
    );
    let have = Command::new("xmllint").arg("--version").output().is_ok();
    if !have {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("xmllint is missing; scripts/setup.sh installs it (Debian libxml2-utils)");
        }
        eprintln!("\n!!!!! SKIPPED: xmllint is missing; run scripts/setup.sh (Debian libxml2-utils) !!!!!\n");
        return Check::Skipped;
    }
    let dir = tempdir();
    let file = dir.join(format!("{version}.xml"));
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    if out.status.success() {
        Check::Valid
    } else {
        Check::Invalid(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "usage-iso20022-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn assert_schema_valid(version: &str, xml: &str) {
    match xmllint(version, xml) {
        Check::Valid | Check::Skipped => {}
        Check::Invalid(e) => panic!("{version} document is not schema-valid:\n{e}\n{xml}"),
    }
}

pub fn assert_schema_invalid(version: &str, xml: &str) {
    if let Check::Valid = xmllint(version, xml) {
        panic!("{version} document unexpectedly schema-valid:\n{xml}")
    }
}
