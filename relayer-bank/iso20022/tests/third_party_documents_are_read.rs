//! Documents written by hand after the schemas, the way other software writes them: prefixed
//! namespaces, `xsi:schemaLocation`, comments, and optional elements this crate does not map.
//! Those optional elements are skipped; names the schema does not allow at their place are
//! refused (see the refusal tests).

mod common;

use common::*;
use usage_iso20022::*;

#[allow(clippy::unwrap_used)] // a test helper: a failed unwrap is a failed test
fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn a_third_party_pain001_with_unmapped_optional_elements_is_read() {
    let xml = sample("pain.001.001.09-third-party.xml");
    assert_schema_valid("pain.001.001.09", &xml);
    let v = CreditTransferInitiation::from_xml(&xml).unwrap();
    assert_eq!(v.message_id, "ERP-20261201-77");
    assert_eq!(v.initiating_party, "ACME Treasury");
    assert_eq!(v.debtor, Party::new("ACME GmbH", "DE89370400440532013000"));
    assert_eq!(v.debtor_agent_bic, "COBADEFFXXX");
    assert_eq!(v.transfers.len(), 2);
    assert_eq!(v.transfers[0].creditor.name, "Supplier & Co KG");
    assert_eq!(v.transfers[0].amount, Amount::new(10_000, "EUR"));
    assert_eq!(
        v.transfers[0].creditor_agent_bic.as_deref(),
        Some("DEUTDEFF")
    );
    assert_eq!(v.transfers[0].remittance.as_deref(), Some("Invoice 0001"));
    assert_eq!(v.transfers[1].amount, Amount::new(5_050, "EUR"));
    // Supplementary data of another namespace is not an approval.
    assert_eq!(v.approval, None);
    assert_eq!(CreditTransferInitiation::from_xml(&v.to_xml()).unwrap(), v);
}

#[test]
fn a_third_party_pain002_with_unmapped_optional_elements_is_read() {
    let xml = sample("pain.002.001.10-third-party.xml");
    assert_schema_valid("pain.002.001.10", &xml);
    let v = PaymentStatusReport::from_xml(&xml).unwrap();
    assert_eq!(v.original_message_id, "ERP-20261201-77");
    assert_eq!(v.original_payment_info_id, "ERP-PMT-1");
    assert_eq!(v.transactions.len(), 2);
    assert_eq!(
        v.transactions[0].status,
        TxStatus::AcceptedSettlementCompleted
    );
    assert_eq!(v.transactions[1].status, TxStatus::Rejected);
    assert_eq!(v.transactions[1].reason.as_deref(), Some("AM04"));
    assert_eq!(
        v.transactions[1].additional_info.as_deref(),
        Some("Insufficient funds")
    );
    assert_eq!(PaymentStatusReport::from_xml(&v.to_xml()).unwrap(), v);
}

#[test]
fn a_third_party_camt054_with_unmapped_optional_elements_is_read() {
    let xml = sample("camt.054.001.08-third-party.xml");
    assert_schema_valid("camt.054.001.08", &xml);
    let v = DebitCreditNotification::from_xml(&xml).unwrap();
    assert_eq!(v.account_iban, "DE89370400440532013000");
    assert_eq!(v.entries.len(), 2);
    let e = &v.entries[0];
    assert_eq!(e.entry_ref, "BK-BOOK-77");
    assert_eq!(e.direction, CreditDebit::Credit);
    assert_eq!(e.status, EntryStatus::Booked);
    assert_eq!(e.end_to_end_id.as_deref(), Some("TOPUP-42"));
    assert_eq!(e.remittance.as_deref(), Some("Top-up 42"));
    assert_eq!(
        e.counterparty,
        Some(Party::new("Tenant 42 Ltd", "NL91ABNA0417164300"))
    );
    let d = &v.entries[1];
    assert_eq!(d.direction, CreditDebit::Debit);
    assert_eq!(d.status, EntryStatus::Pending);
    assert_eq!(d.booking_date, "2026-12-01");
    assert_eq!(d.counterparty, None);
    assert_eq!(DebitCreditNotification::from_xml(&v.to_xml()).unwrap(), v);
}

#[test]
fn an_element_the_schema_does_not_allow_in_a_third_party_document_is_refused() {
    let xml = sample("camt.054.001.08-third-party.xml")
        .replace("<ValDt>", "<ValueDate>x</ValueDate><ValDt>");
    let e = DebitCreditNotification::from_xml(&xml).unwrap_err();
    assert!(matches!(e, XmlError::Unexpected { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[1]/ValueDate"),
        "{e}"
    );
}
