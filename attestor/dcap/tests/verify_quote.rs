//! Verification of genuine Intel SGX and TDX quotes (see `fixtures/README.md`), and refusal of
//! altered quotes, altered or expired collateral and quotes the policy does not accept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use usage_attestor_dcap::{
    verify_bound_quote, verify_bound_quote_with_policy, verify_quote, verify_quote_with_policy,
    DcapError, DcapReport, QuoteKind, TcbPolicy, TcbStatus,
};

const SGX_QUOTE: &[u8] = include_bytes!("fixtures/sgx_quote");
const SGX_COLLATERAL: &[u8] = include_bytes!("fixtures/sgx_quote_collateral.json");
const TDX_QUOTE: &[u8] = include_bytes!("fixtures/tdx_quote");
const TDX_COLLATERAL: &[u8] = include_bytes!("fixtures/tdx_quote_collateral.json");
const TDX_OUTDATED_QUOTE: &[u8] = include_bytes!("fixtures/tdx_quote_outdated");
const TDX_OUTDATED_COLLATERAL: &[u8] =
    include_bytes!("fixtures/tdx_quote_outdated_collateral.json");

/// 2025-07-01T00:00:00Z. Every part of the SGX collateral is valid from 2025-06-19T10:56:11Z
/// (its TCB Info issueDate) to 2025-07-19T10:01:18Z (its QE Identity nextUpdate); of the TDX
/// collateral from 2025-06-19T10:32:27Z to 2025-07-19T10:00:35Z (its PCK CRL nextUpdate).
const WHILE_COLLATERAL_VALID: u64 = 1_751_328_000;
/// 2025-07-20T00:00:00Z: after both collaterals' next updates were due.
const AFTER_COLLATERAL_EXPIRED: u64 = 1_752_969_600;
/// 2025-06-01T00:00:00Z: before either collateral was issued.
const BEFORE_COLLATERAL_ISSUED: u64 = 1_748_736_000;
/// 2025-07-19T10:01:18Z, the end of the SGX collateral's validity (QE Identity nextUpdate).
const SGX_COLLATERAL_NEXT_UPDATE: u64 = 1_752_919_278;
/// 2025-07-19T10:00:35Z, when the TDX collateral's PCK CRL is due for its next update, about 15
/// minutes before its TCB Info and QE Identity are.
const TDX_PCK_CRL_NEXT_UPDATE: u64 = 1_752_919_235;
/// 2026-03-01T00:00:00Z. The outdated TDX sample's collateral is valid from
/// 2026-02-18T10:58:51Z to 2026-03-20T10:41:15Z.
const WHILE_OUTDATED_COLLATERAL_VALID: u64 = 1_772_323_200;

// Values read from the quote bytes: SGX (v3) MRENCLAVE at 112..144 and report data at 368..432;
// TDX (v4) MRTD at 184..232 and report data at 568..632.
const SGX_MRENCLAVE_AT: usize = 112;
const SGX_REPORT_DATA_AT: usize = 368;
const SGX_MRENCLAVE: &str = "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb";
/// "Hello, world!" padded with zeros.
const SGX_REPORT_DATA: &str = "48656c6c6f2c20776f726c642100000000000000000000000000000000000000\
                               0000000000000000000000000000000000000000000000000000000000000000";
const TDX_MRTD_AT: usize = 184;
const TDX_REPORT_DATA_AT: usize = 568;
const TDX_MRTD: &str = "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407\
                        de03ae6dc5f87f27428b2538873118b7";
const TDX_REPORT_DATA: &str = "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9\
                               eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20";

/// The SGX sample's platform needs configuration and software hardening.
fn sgx_sample_policy() -> TcbPolicy {
    TcbPolicy::up_to_date_only().allow(TcbStatus::ConfigurationAndSWHardeningNeeded)
}

fn report_data(hex_str: &str) -> [u8; 64] {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

fn flipped(quote: &[u8], at: usize) -> Vec<u8> {
    let mut quote = quote.to_vec();
    quote[at] ^= 0x01;
    quote
}

fn assert_does_not_verify(result: Result<DcapReport, DcapError>) -> String {
    match result {
        Err(DcapError::Verification(msg)) => msg,
        other => panic!("expected DcapError::Verification, got {other:?}"),
    }
}

#[test]
fn genuine_sgx_quote_verifies_while_its_collateral_is_valid_and_yields_mrenclave_and_report_data() {
    let report = verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &sgx_sample_policy(),
    )
    .unwrap();
    assert_eq!(report.kind, QuoteKind::Sgx);
    assert_eq!(hex::encode(&report.measurement), SGX_MRENCLAVE);
    assert_eq!(hex::encode(report.report_data), SGX_REPORT_DATA);
    assert_eq!(report.tcb_status, "ConfigurationAndSWHardeningNeeded");
    assert_eq!(report.advisory_ids, ["INTEL-SA-00289", "INTEL-SA-00615"]);
}

#[test]
fn genuine_tdx_quote_verifies_while_its_collateral_is_valid_and_yields_mrtd_and_report_data() {
    let report = verify_quote(TDX_QUOTE, TDX_COLLATERAL, WHILE_COLLATERAL_VALID).unwrap();
    assert_eq!(report.kind, QuoteKind::Tdx);
    assert_eq!(hex::encode(&report.measurement), TDX_MRTD);
    assert_eq!(hex::encode(report.report_data), TDX_REPORT_DATA);
    assert_eq!(report.tcb_status, "UpToDate");
    assert!(report.advisory_ids.is_empty());
}

#[test]
fn the_measurement_and_report_data_are_those_at_their_offsets_in_the_quote() {
    let sgx = verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &sgx_sample_policy(),
    )
    .unwrap();
    assert_eq!(
        sgx.measurement,
        SGX_QUOTE[SGX_MRENCLAVE_AT..SGX_MRENCLAVE_AT + 32]
    );
    assert_eq!(
        sgx.report_data,
        SGX_QUOTE[SGX_REPORT_DATA_AT..SGX_REPORT_DATA_AT + 64]
    );
    let tdx = verify_quote(TDX_QUOTE, TDX_COLLATERAL, WHILE_COLLATERAL_VALID).unwrap();
    assert_eq!(tdx.measurement, TDX_QUOTE[TDX_MRTD_AT..TDX_MRTD_AT + 48]);
    assert_eq!(
        tdx.report_data,
        TDX_QUOTE[TDX_REPORT_DATA_AT..TDX_REPORT_DATA_AT + 64]
    );
}

#[test]
fn a_tcb_status_the_default_policy_does_not_allow_is_refused_with_the_status_and_advisories() {
    let err = verify_quote(SGX_QUOTE, SGX_COLLATERAL, WHILE_COLLATERAL_VALID).unwrap_err();
    assert_eq!(
        err,
        DcapError::TcbStatusRefused {
            status: "ConfigurationAndSWHardeningNeeded".to_string(),
            advisory_ids: vec!["INTEL-SA-00289".to_string(), "INTEL-SA-00615".to_string()],
        }
    );
    // Allowing a different status does not help.
    let err = verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &TcbPolicy::up_to_date_only().allow(TcbStatus::SWHardeningNeeded),
    )
    .unwrap_err();
    assert!(matches!(err, DcapError::TcbStatusRefused { .. }), "{err:?}");
}

#[test]
fn a_tdx_quote_whose_platform_matches_no_tcb_level_of_its_collateral_is_refused() {
    // The "outdated" TDX sample: its platform's SVNs match no level of the TCB Info it came with
    // (dcap-qvl's own tests verify it only after overriding the TCB Info), so there is no TCB
    // status to judge and no policy can accept it.
    let permissive = [
        TcbStatus::SWHardeningNeeded,
        TcbStatus::ConfigurationNeeded,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
        TcbStatus::OutOfDate,
        TcbStatus::OutOfDateConfigurationNeeded,
        TcbStatus::TDRelaunchAdvised,
        TcbStatus::TDRelaunchAdvisedConfigurationNeeded,
    ]
    .into_iter()
    .fold(TcbPolicy::up_to_date_only(), TcbPolicy::allow);
    let msg = assert_does_not_verify(verify_quote_with_policy(
        TDX_OUTDATED_QUOTE,
        TDX_OUTDATED_COLLATERAL,
        WHILE_OUTDATED_COLLATERAL_VALID,
        &permissive,
    ));
    assert!(msg.contains("No matching TCB level"), "{msg}");
}

#[test]
fn genuine_quotes_are_refused_after_their_collateral_expired() {
    let msg = assert_does_not_verify(verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        AFTER_COLLATERAL_EXPIRED,
        &sgx_sample_policy(),
    ));
    assert!(!msg.is_empty());
    assert_does_not_verify(verify_quote(
        TDX_QUOTE,
        TDX_COLLATERAL,
        AFTER_COLLATERAL_EXPIRED,
    ));
}

#[test]
fn a_genuine_quote_verifies_up_to_the_end_of_its_collateral_validity_and_not_after() {
    let policy = sgx_sample_policy();
    verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        SGX_COLLATERAL_NEXT_UPDATE - 1,
        &policy,
    )
    .unwrap();
    assert_does_not_verify(verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        SGX_COLLATERAL_NEXT_UPDATE + 1,
        &policy,
    ));
}

#[test]
fn a_genuine_quote_is_refused_once_its_pck_crl_expired_though_its_tcb_info_has_not() {
    verify_quote(TDX_QUOTE, TDX_COLLATERAL, TDX_PCK_CRL_NEXT_UPDATE - 1).unwrap();
    assert_does_not_verify(verify_quote(
        TDX_QUOTE,
        TDX_COLLATERAL,
        TDX_PCK_CRL_NEXT_UPDATE + 60,
    ));
}

#[test]
fn genuine_quotes_are_refused_before_their_collateral_was_issued() {
    assert_does_not_verify(verify_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        BEFORE_COLLATERAL_ISSUED,
        &sgx_sample_policy(),
    ));
    assert_does_not_verify(verify_quote(
        TDX_QUOTE,
        TDX_COLLATERAL,
        BEFORE_COLLATERAL_ISSUED,
    ));
}

#[test]
fn a_quote_with_a_flipped_measurement_byte_is_refused() {
    for at in [SGX_MRENCLAVE_AT, SGX_MRENCLAVE_AT + 31] {
        assert_does_not_verify(verify_quote_with_policy(
            &flipped(SGX_QUOTE, at),
            SGX_COLLATERAL,
            WHILE_COLLATERAL_VALID,
            &sgx_sample_policy(),
        ));
    }
    for at in [TDX_MRTD_AT, TDX_MRTD_AT + 47] {
        assert_does_not_verify(verify_quote(
            &flipped(TDX_QUOTE, at),
            TDX_COLLATERAL,
            WHILE_COLLATERAL_VALID,
        ));
    }
}

#[test]
fn a_quote_with_a_flipped_report_data_byte_is_refused() {
    for at in [SGX_REPORT_DATA_AT, SGX_REPORT_DATA_AT + 63] {
        assert_does_not_verify(verify_quote_with_policy(
            &flipped(SGX_QUOTE, at),
            SGX_COLLATERAL,
            WHILE_COLLATERAL_VALID,
            &sgx_sample_policy(),
        ));
    }
    for at in [TDX_REPORT_DATA_AT, TDX_REPORT_DATA_AT + 63] {
        assert_does_not_verify(verify_quote(
            &flipped(TDX_QUOTE, at),
            TDX_COLLATERAL,
            WHILE_COLLATERAL_VALID,
        ));
    }
}

#[test]
fn a_quote_with_a_flipped_signature_byte_is_refused() {
    // The auth data follows the signed part and its 4-byte length; it opens with the signature.
    let sgx_signature_at = SGX_REPORT_DATA_AT + 64 + 4;
    assert_does_not_verify(verify_quote_with_policy(
        &flipped(SGX_QUOTE, sgx_signature_at),
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &sgx_sample_policy(),
    ));
    let tdx_signature_at = TDX_REPORT_DATA_AT + 64 + 4;
    assert_does_not_verify(verify_quote(
        &flipped(TDX_QUOTE, tdx_signature_at),
        TDX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
    ));
}

#[test]
fn collateral_that_is_not_json_is_a_malformed_collateral_error() {
    let err = verify_quote(TDX_QUOTE, b"not json at all", WHILE_COLLATERAL_VALID).unwrap_err();
    assert!(matches!(err, DcapError::MalformedCollateral(_)), "{err:?}");
    let err = verify_quote(TDX_QUOTE, b"", WHILE_COLLATERAL_VALID).unwrap_err();
    assert!(matches!(err, DcapError::MalformedCollateral(_)), "{err:?}");
}

#[test]
fn json_that_is_not_dcap_collateral_is_a_malformed_collateral_error() {
    let err =
        verify_quote(TDX_QUOTE, br#"{"tcb_info": "{}"}"#, WHILE_COLLATERAL_VALID).unwrap_err();
    assert!(matches!(err, DcapError::MalformedCollateral(_)), "{err:?}");
}

#[test]
fn collateral_whose_tcb_info_was_edited_does_not_verify() {
    // Claiming every TCB level is up to date breaks Intel's signature over the TCB Info.
    let mut collateral: serde_json::Value = serde_json::from_slice(SGX_COLLATERAL).unwrap();
    let tcb_info = collateral["tcb_info"].as_str().unwrap();
    let edited = tcb_info
        .replace("\"ConfigurationAndSWHardeningNeeded\"", "\"UpToDate\"")
        .replace("\"OutOfDate\"", "\"UpToDate\"");
    assert_ne!(edited, tcb_info);
    collateral["tcb_info"] = serde_json::Value::String(edited);
    let collateral = serde_json::to_vec(&collateral).unwrap();
    assert_does_not_verify(verify_quote(SGX_QUOTE, &collateral, WHILE_COLLATERAL_VALID));
}

#[test]
fn a_quote_does_not_verify_with_another_platforms_collateral() {
    assert_does_not_verify(verify_quote_with_policy(
        SGX_QUOTE,
        TDX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &sgx_sample_policy(),
    ));
    assert_does_not_verify(verify_quote(
        TDX_QUOTE,
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
    ));
}

#[test]
fn bound_quote_with_its_report_data_expected_verifies() {
    let report = verify_bound_quote(
        TDX_QUOTE,
        TDX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &report_data(TDX_REPORT_DATA),
    )
    .unwrap();
    assert_eq!(hex::encode(&report.measurement), TDX_MRTD);
    verify_bound_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &report_data(SGX_REPORT_DATA),
        &sgx_sample_policy(),
    )
    .unwrap();
}

#[test]
fn bound_quote_with_a_wrong_expected_report_data_is_a_report_data_mismatch() {
    let mut expected = report_data(TDX_REPORT_DATA);
    expected[63] ^= 0x01;
    let err = verify_bound_quote(TDX_QUOTE, TDX_COLLATERAL, WHILE_COLLATERAL_VALID, &expected)
        .unwrap_err();
    assert_eq!(
        err,
        DcapError::ReportDataMismatch {
            found: TDX_REPORT_DATA.to_string()
        }
    );
    let err = verify_bound_quote_with_policy(
        SGX_QUOTE,
        SGX_COLLATERAL,
        WHILE_COLLATERAL_VALID,
        &[0; 64],
        &sgx_sample_policy(),
    )
    .unwrap_err();
    assert!(
        matches!(err, DcapError::ReportDataMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn a_truncated_or_empty_quote_is_malformed() {
    for quote in [
        &TDX_QUOTE[..0],
        &TDX_QUOTE[..47],
        &TDX_QUOTE[..600],
        &SGX_QUOTE[..1000],
    ] {
        let err = verify_quote(quote, TDX_COLLATERAL, WHILE_COLLATERAL_VALID).unwrap_err();
        assert!(matches!(err, DcapError::MalformedQuote(_)), "{err:?}");
    }
}

#[test]
fn a_quote_of_an_unknown_tee_type_or_version_is_unsupported() {
    // tee_type is a little-endian u32 at offset 4: 0x00 for SGX, 0x81 for TDX.
    let mut unknown_tee = TDX_QUOTE.to_vec();
    unknown_tee[4] = 0x82;
    // version is a little-endian u16 at offset 0: SGX quotes must be version 3.
    let mut sgx_v4 = SGX_QUOTE.to_vec();
    sgx_v4[0] = 4;
    let mut tdx_v3 = TDX_QUOTE.to_vec();
    tdx_v3[0] = 3;
    // attestation_key_type is a little-endian u16 at offset 2: 2 is ECDSA-256 with P-256.
    let mut other_key = TDX_QUOTE.to_vec();
    other_key[2] = 3;
    for quote in [unknown_tee, sgx_v4, tdx_v3, other_key] {
        let err = verify_quote(&quote, TDX_COLLATERAL, WHILE_COLLATERAL_VALID).unwrap_err();
        assert!(matches!(err, DcapError::UnsupportedQuote(_)), "{err:?}");
    }
}

#[test]
fn zero_padding_after_a_genuine_quote_is_ignored() {
    // The TDX sample itself carries 70 bytes after its signature data, as quotes from the TDX
    // guest interface do; more padding changes nothing.
    let mut padded = TDX_QUOTE.to_vec();
    padded.extend_from_slice(&[0; 1000]);
    let report = verify_quote(&padded, TDX_COLLATERAL, WHILE_COLLATERAL_VALID).unwrap();
    assert_eq!(hex::encode(&report.measurement), TDX_MRTD);
}
