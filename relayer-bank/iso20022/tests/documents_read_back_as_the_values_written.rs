mod common;

use common::*;
use usage_iso20022::*;

#[test]
fn a_credit_transfer_initiation_reads_back_as_written() {
    for v in [initiation(), initiation_minimal()] {
        assert_eq!(CreditTransferInitiation::from_xml(&v.to_xml()).unwrap(), v);
    }
    let empty = CreditTransferInitiation {
        approval: Some(CommitteeApproval::default()),
        ..initiation_minimal()
    };
    assert_eq!(
        CreditTransferInitiation::from_xml(&empty.to_xml()).unwrap(),
        empty
    );
}

#[test]
fn a_payment_status_report_reads_back_as_written() {
    let v = status_report();
    assert_eq!(PaymentStatusReport::from_xml(&v.to_xml()).unwrap(), v);
    for s in TxStatus::ALL {
        let mut v = status_report();
        v.transactions[0].status = s;
        assert_eq!(PaymentStatusReport::from_xml(&v.to_xml()).unwrap(), v);
    }
}

#[test]
fn a_debit_credit_notification_reads_back_as_written() {
    let v = notification();
    assert_eq!(DebitCreditNotification::from_xml(&v.to_xml()).unwrap(), v);
}

#[test]
fn special_characters_are_escaped_on_output_and_unescaped_on_input() {
    let v = initiation();
    let xml = v.to_xml();
    assert!(xml.contains("Müller &amp; Söhne &lt;GmbH&gt; &quot;quoted&quot; &apos;single&apos;"));
    assert!(!xml.contains("<GmbH>"));
    let back = CreditTransferInitiation::from_xml(&xml).unwrap();
    assert_eq!(
        back.transfers[0].creditor.name,
        "Müller & Söhne <GmbH> \"quoted\" 'single'"
    );
    assert_eq!(back.debtor.name, "Usagechain Custody Ärger");

    // Character references, CDATA and a carriage return written as a reference.
    let xml = xml.replace(
        "<Nm>Creditor 2</Nm>",
        "<Nm>Cr&#233;&#x64;itor <![CDATA[<2> & more]]>&#13;</Nm>",
    );
    let back = CreditTransferInitiation::from_xml(&xml).unwrap();
    assert_eq!(back.transfers[1].creditor.name, "Créditor <2> & more\r");
    assert_eq!(
        CreditTransferInitiation::from_xml(&back.to_xml()).unwrap(),
        back
    );
}

#[test]
fn amounts_are_written_with_two_decimals_and_read_with_up_to_two() {
    assert_eq!(Amount::new(123_405, "EUR").decimal(), "1234.05");
    assert_eq!(Amount::new(5, "EUR").decimal(), "0.05");
    assert_eq!(Amount::new(0, "EUR").decimal(), "0.00");
    let xml = initiation_minimal().to_xml();
    for (text, minor) in [
        ("1", 100),
        ("1.5", 150),
        ("1.50", 150),
        ("0001.05", 105),
        (" 2.00 ", 200),
    ] {
        let doc = xml
            .replace(">1.00</InstdAmt>", &format!(">{text}</InstdAmt>"))
            .replace(
                "<CtrlSum>1.00</CtrlSum>",
                &format!("<CtrlSum>{}.{:02}</CtrlSum>", minor / 100, minor % 100),
            );
        let v = CreditTransferInitiation::from_xml(&doc).unwrap();
        assert_eq!(v.transfers[0].amount.minor_units, minor, "{text}");
    }
}
