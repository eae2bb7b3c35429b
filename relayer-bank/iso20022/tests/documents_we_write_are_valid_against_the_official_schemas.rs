mod common;

use common::*;
use usage_iso20022::*;

#[test]
fn every_message_we_produce_is_valid_against_its_official_schema() {
    for v in [initiation(), initiation_minimal()] {
        v.validate().unwrap();
        assert_schema_valid("pain.001.001.09", &v.to_xml());
    }
    let empty_approval = CreditTransferInitiation {
        approval: Some(CommitteeApproval::default()),
        ..initiation_minimal()
    };
    assert_schema_valid("pain.001.001.09", &empty_approval.to_xml());

    let r = status_report();
    r.validate().unwrap();
    assert_schema_valid("pain.002.001.10", &r.to_xml());
    let no_tx = PaymentStatusReport {
        transactions: vec![],
        ..status_report()
    };
    assert_schema_valid("pain.002.001.10", &no_tx.to_xml());

    let n = notification();
    n.validate().unwrap();
    assert_schema_valid("camt.054.001.08", &n.to_xml());
    let no_entries = DebitCreditNotification {
        entries: vec![],
        ..notification()
    };
    assert_schema_valid("camt.054.001.08", &no_entries.to_xml());
}

#[test]
fn the_schema_check_itself_catches_an_invalid_document() {
    // Guards against a check that passes everything: a pain.001 without its MsgId.
    let xml = initiation()
        .to_xml()
        .replace("<MsgId>MSG-2026-12-01-0001</MsgId>", "");
    assert_schema_invalid("pain.001.001.09", &xml);
}

#[test]
fn the_same_value_is_always_written_as_the_same_bytes() {
    assert_eq!(initiation().to_xml(), initiation().to_xml());
    assert_eq!(status_report().to_xml(), status_report().to_xml());
    assert_eq!(notification().to_xml(), notification().to_xml());
    assert!(initiation()
        .to_xml()
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">"));
}
