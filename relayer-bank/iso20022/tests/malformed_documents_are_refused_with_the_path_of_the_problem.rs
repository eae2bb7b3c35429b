#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;
use usage_iso20022::*;

fn pain001_err(xml: &str) -> XmlError {
    CreditTransferInitiation::from_xml(xml).unwrap_err()
}

fn path_of(e: &XmlError) -> &str {
    match e {
        XmlError::TooLarge { path, .. }
        | XmlError::Malformed { path, .. }
        | XmlError::Forbidden { path, .. }
        | XmlError::WrongDocument { path, .. }
        | XmlError::Missing { path }
        | XmlError::Unexpected { path, .. }
        | XmlError::Invalid { path, .. }
        | XmlError::Amount { path, .. }
        | XmlError::Inconsistent { path, .. } => path,
    }
}

const TX2: &str = "Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf[2]";

#[test]
fn an_amount_with_three_fraction_digits_is_refused_naming_its_element() {
    let xml = initiation()
        .to_xml()
        .replace(">0.05</InstdAmt>", ">12.345</InstdAmt>");
    let e = pain001_err(&xml);
    assert!(matches!(e, XmlError::Amount { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("{TX2}/Amt/InstdAmt: amount \"12.345\" has more than 2 fraction digits")
    );
}

#[test]
fn negative_oversized_and_non_numeric_amounts_and_bad_currencies_are_refused() {
    let xml = initiation().to_xml();
    for bad in ["-1.00", "1234567890123456789", "1e3", "", "1.2.3", "."] {
        let e = pain001_err(&xml.replace(">0.05</InstdAmt>", &format!(">{bad}</InstdAmt>")));
        assert!(matches!(e, XmlError::Amount { .. }), "{bad}: {e:?}");
        assert_eq!(path_of(&e), format!("{TX2}/Amt/InstdAmt"));
    }
    for bad in ["eur", "EURO", "E1R"] {
        let e = pain001_err(&xml.replace("Ccy=\"EUR\">0.05", &format!("Ccy=\"{bad}\">0.05")));
        assert_eq!(path_of(&e), format!("{TX2}/Amt/InstdAmt/@Ccy"), "{e:?}");
    }
    let e = pain001_err(&xml.replace(" Ccy=\"EUR\">0.05", ">0.05"));
    assert!(matches!(e, XmlError::Missing { .. }), "{e:?}");
}

#[test]
fn over_long_text_is_refused_naming_its_element() {
    let long = "x".repeat(36);
    let xml = initiation().to_xml().replacen(
        "<EndToEndId>E2E-2026-12-0002<",
        &format!("<EndToEndId>{long}<"),
        1,
    );
    let e = pain001_err(&xml);
    assert_eq!(path_of(&e), format!("{TX2}/PmtId/EndToEndId"), "{e}");
    assert!(e.to_string().contains("longer than 35"), "{e}");

    let xml = initiation().to_xml().replace(
        "<Nm>Creditor 2</Nm>",
        &format!("<Nm>{}</Nm>", "é".repeat(141)),
    );
    let e = pain001_err(&xml);
    assert_eq!(path_of(&e), format!("{TX2}/Cdtr/Nm"), "{e}");

    let xml = status_report().to_xml().replace(
        "<AddtlInf>queued</AddtlInf>",
        &format!("<AddtlInf>{}</AddtlInf>", "q".repeat(106)),
    );
    let e = PaymentStatusReport::from_xml(&xml).unwrap_err();
    assert_eq!(
        path_of(&e),
        "Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts[4]/StsRsnInf/AddtlInf",
        "{e}"
    );

    let xml = initiation()
        .to_xml()
        .replace("<MsgId>MSG-2026-12-01-0001</MsgId>", "<MsgId></MsgId>");
    assert_eq!(
        path_of(&pain001_err(&xml)),
        "Document/CstmrCdtTrfInitn/GrpHdr/MsgId"
    );
}

#[test]
fn ibans_bics_and_dates_breaking_their_patterns_are_refused() {
    let xml = initiation().to_xml();
    for bad in [
        "gb33BUKB20201555555555",
        "GB3XBUKB",
        "GB33",
        "GB33BUKB2020155555555555555555555555",
    ] {
        let e = pain001_err(&xml.replace("GB33BUKB20201555555555", bad));
        assert_eq!(
            path_of(&e),
            "Document/CstmrCdtTrfInitn/PmtInf/DbtrAcct/Id/IBAN",
            "{bad}: {e}"
        );
    }
    for bad in ["DEUTDEF", "DEUTD3FF", "deutdeff", "DEUTDEFF1"] {
        let e =
            pain001_err(&xml.replace("<BICFI>DEUTDEFF</BICFI>", &format!("<BICFI>{bad}</BICFI>")));
        assert_eq!(
            path_of(&e),
            format!("{TX2}/CdtrAgt/FinInstnId/BICFI"),
            "{bad}: {e}"
        );
    }
    let e = pain001_err(&xml.replace("<Dt>2026-12-02</Dt>", "<Dt>2026-02-30</Dt>"));
    assert_eq!(
        path_of(&e),
        "Document/CstmrCdtTrfInitn/PmtInf/ReqdExctnDt/Dt"
    );
    let e = pain001_err(&xml.replace("2026-12-01T10:00:00Z", "2026-12-01 10:00"));
    assert_eq!(path_of(&e), "Document/CstmrCdtTrfInitn/GrpHdr/CreDtTm");
}

#[test]
fn totals_that_disagree_with_the_transfers_are_refused() {
    let xml = initiation().to_xml();
    let e = pain001_err(&xml.replacen("<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>", 1));
    assert!(matches!(e, XmlError::Inconsistent { .. }), "{e:?}");
    assert_eq!(path_of(&e), "Document/CstmrCdtTrfInitn/GrpHdr/NbOfTxs");
    // The second occurrence is the PmtInf's.
    let i = xml.rfind("<NbOfTxs>3</NbOfTxs>").unwrap();
    let mut bad = xml.clone();
    bad.replace_range(i..i + "<NbOfTxs>3</NbOfTxs>".len(), "<NbOfTxs>4</NbOfTxs>");
    assert_eq!(
        path_of(&pain001_err(&bad)),
        "Document/CstmrCdtTrfInitn/PmtInf/NbOfTxs"
    );
    let sum = format!(
        "<CtrlSum>{}</CtrlSum>",
        Amount::new(initiation().control_sum(), "EUR").decimal()
    );
    let e = pain001_err(&xml.replacen(&sum, "<CtrlSum>1.00</CtrlSum>", 1));
    assert_eq!(path_of(&e), "Document/CstmrCdtTrfInitn/GrpHdr/CtrlSum");
    let i = xml.rfind(&sum).unwrap();
    let mut bad = xml.clone();
    bad.replace_range(i..i + sum.len(), "<CtrlSum>1000000.00</CtrlSum>");
    assert_eq!(
        path_of(&pain001_err(&bad)),
        "Document/CstmrCdtTrfInitn/PmtInf/CtrlSum"
    );
}

#[test]
fn a_wrong_root_or_namespace_is_refused() {
    let xml = initiation().to_xml();
    let e = pain001_err(&xml.replace("pain.001.001.09", "pain.001.001.03"));
    assert!(matches!(e, XmlError::WrongDocument { .. }), "{e:?}");
    let e = PaymentStatusReport::from_xml(&xml).unwrap_err();
    assert!(matches!(e, XmlError::WrongDocument { .. }), "{e:?}");
    let e = DebitCreditNotification::from_xml(&status_report().to_xml()).unwrap_err();
    assert!(matches!(e, XmlError::WrongDocument { .. }), "{e:?}");
    let e = pain001_err(
        "<?xml version=\"1.0\"?><Doc xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"/>",
    );
    assert!(matches!(e, XmlError::WrongDocument { .. }), "{e:?}");
    // An element of the right name in another namespace.
    let e = pain001_err(&xml.replace("<GrpHdr>", "<GrpHdr xmlns=\"urn:other\">"));
    assert!(matches!(e, XmlError::Unexpected { .. }), "{e:?}");
}

#[test]
fn a_missing_required_element_is_refused_even_when_the_xml_is_well_formed() {
    let xml = initiation()
        .to_xml()
        .replace("<MsgId>MSG-2026-12-01-0001</MsgId>", "");
    let e = pain001_err(&xml);
    assert_eq!(
        e,
        XmlError::Missing {
            path: "Document/CstmrCdtTrfInitn/GrpHdr/MsgId".into()
        }
    );
    assert_schema_invalid("pain.001.001.09", &xml);

    let xml = status_report().to_xml().replace("<TxSts>RJCT</TxSts>", "");
    let e = PaymentStatusReport::from_xml(&xml).unwrap_err();
    assert_eq!(
        path_of(&e),
        "Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts[2]/TxSts"
    );

    let n = notification().to_xml();
    let start = n.find("<BkTxCd>").unwrap();
    let end = n.find("</BkTxCd>").unwrap() + "</BkTxCd>".len();
    let mut bad = n.clone();
    bad.replace_range(start..end, "");
    let e = DebitCreditNotification::from_xml(&bad).unwrap_err();
    assert_eq!(
        path_of(&e),
        "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[1]/BkTxCd"
    );
}

#[test]
fn unknown_or_misplaced_elements_are_refused() {
    let xml = initiation().to_xml();
    let e = pain001_err(&xml.replace(
        "<PmtMtd>TRF</PmtMtd>",
        "<PmtMtd>TRF</PmtMtd><Bogus>1</Bogus>",
    ));
    assert_eq!(path_of(&e), "Document/CstmrCdtTrfInitn/PmtInf/Bogus", "{e}");
    // Known name, wrong order: ChrgBr belongs after DbtrAgt.
    let e = pain001_err(&xml.replace(
        "<PmtMtd>TRF</PmtMtd>",
        "<PmtMtd>TRF</PmtMtd><ChrgBr>SLEV</ChrgBr>",
    ));
    assert!(matches!(e, XmlError::Unexpected { .. }), "{e:?}");
    // A second PmtInf (allowed by the schema, not by this profile).
    let start = xml.find("<PmtInf>").unwrap();
    let end = xml.find("</PmtInf>").unwrap() + "</PmtInf>".len();
    let mut two = xml.clone();
    two.insert_str(end, &xml[start..end]);
    let e = pain001_err(&two);
    assert_eq!(path_of(&e), "Document/CstmrCdtTrfInitn/PmtInf", "{e}");
    // Text where only elements belong.
    let e = pain001_err(&xml.replace("<GrpHdr>", "<GrpHdr>stray"));
    assert!(matches!(e, XmlError::Invalid { .. }), "{e:?}");
    // Unknown transaction status and entry status.
    let e = PaymentStatusReport::from_xml(&status_report().to_xml().replace("RJCT", "NOPE"))
        .unwrap_err();
    assert!(matches!(e, XmlError::Invalid { .. }), "{e:?}");
    let e = DebitCreditNotification::from_xml(
        &notification()
            .to_xml()
            .replace("<Cd>PDNG</Cd>", "<Cd>INFO</Cd>"),
    )
    .unwrap_err();
    assert_eq!(
        path_of(&e),
        "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[3]/Sts/Cd"
    );
}

#[test]
fn a_doctype_and_entities_are_refused() {
    let xml = initiation().to_xml();
    let xxe = xml
        .replacen(
            "<Document",
            "<!DOCTYPE Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<Document",
            1,
        )
        .replace("<Nm>Creditor 2</Nm>", "<Nm>&xxe;</Nm>");
    let e = pain001_err(&xxe);
    assert!(matches!(e, XmlError::Forbidden { .. }), "{e:?}");
    let e = pain001_err(&xml.replace("<Nm>Creditor 2</Nm>", "<Nm>&xxe;</Nm>"));
    assert!(matches!(e, XmlError::Forbidden { .. }), "{e:?}");
    let e = pain001_err(&xml.replacen("<Document", "<?evil x?><Document", 1));
    assert!(matches!(e, XmlError::Forbidden { .. }), "{e:?}");
}

#[test]
fn input_over_the_size_limit_is_refused() {
    let xml = initiation().to_xml();
    let big = xml.replacen(
        "<Document",
        &format!("<!--{}-->\n<Document", " ".repeat(MAX_DOCUMENT_BYTES)),
        1,
    );
    let e = pain001_err(&big);
    assert!(matches!(e, XmlError::TooLarge { .. }), "{e:?}");
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let e = pain001_err(&deep);
    assert!(matches!(e, XmlError::Malformed { .. }), "{e:?}");
}

#[test]
fn garbage_is_refused_without_panicking() {
    for s in [
        "",
        "<",
        "<Document",
        "not xml",
        "<a></b>",
        "<?xml version=\"1.0\"?>",
        "<a/><b/>",
        "\u{0}",
    ] {
        assert!(CreditTransferInitiation::from_xml(s).is_err());
        assert!(PaymentStatusReport::from_xml(s).is_err());
        assert!(DebitCreditNotification::from_xml(s).is_err());
    }
    let xml = initiation().to_xml();
    for cut in (0..xml.len()).step_by(97) {
        if xml.is_char_boundary(cut) {
            let _ = CreditTransferInitiation::from_xml(&xml[..cut]);
        }
    }
}

#[test]
fn errors_display_on_one_line() {
    let e = pain001_err(
        &initiation()
            .to_xml()
            .replace("<Dt>2026-12-02</Dt>", "<Dt>tomorrow</Dt>"),
    );
    assert_eq!(
        e.to_string(),
        "Document/CstmrCdtTrfInitn/PmtInf/ReqdExctnDt/Dt: date \"tomorrow\" is not YYYY-MM-DD"
    );
}
