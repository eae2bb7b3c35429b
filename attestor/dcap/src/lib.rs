//! `usage-attestor-dcap`: verification of Intel DCAP attestation evidence (SGX and TDX quotes)
//! for terminal attestor keys.
//!
//! A terminal proves that its Ed25519 key lives in an enclave, and which host configuration it
//! measures under, by producing a DCAP quote whose 64-byte report data is
//! `SHA-512("usagechain/v2/attestor-report" || public_key || config_hash)`
//! (`usage_attestor::tee::report_data_for`). This crate checks such a quote, offline, against
//! the collateral Intel publishes for the platform (a `dcap_qvl::QuoteCollateralV3` serialized
//! as JSON, as fetched from a PCCS or Intel's PCS), at a time the caller supplies.
//!
//! # What is verified
//!
//! [`verify_quote`] and its variants use [`dcap_qvl`] 0.7.1 (RustCrypto backend, Intel's
//! production SGX Root CA built in) to check, at `now_unix_secs`:
//!
//! - the collateral: the root CA and PCK CRLs, the TCB Info and QE Identity signatures and their
//!   issuer chains up to Intel's root, each within its validity window (`issueDate` ..
//!   `nextUpdate`, certificate and CRL validity), and no certificate on the way revoked;
//! - the PCK certificate chain carried in the quote, up to Intel's root, not revoked;
//! - the Quoting Enclave's report, signed by the PCK key, and that it binds the quote's
//!   attestation key; the QE matches Intel's QE Identity;
//! - the quote's ECDSA-P256 signature over its header and report body, so the measurement and
//!   report data returned are the ones the hardware signed;
//! - the platform's TCB level, giving a TCB status (`UpToDate`, `SWHardeningNeeded`, ...) and
//!   Intel security advisory IDs. `Revoked` is always refused, and so are SGX debug enclaves and
//!   TDs in debug mode, with profiling, migratable, with service TDs bound, or without
//!   `SEPT_VE_DISABLE` (dcap-qvl's defaults, which this crate does not relax);
//! - then this crate's [`TcbPolicy`]: which TCB statuses are acceptable (only `UpToDate` by
//!   default) and, for [`verify_bound_quote`], that the report data is the expected value.
//!
//! # What the caller must still check
//!
//! - **The measurement against the chain's allowlist.** A quote that verifies only proves that
//!   *some* genuine, non-debug enclave on an Intel platform produced the report data.
//!   [`DcapReport::measurement`] is MRENCLAVE (32 bytes) for SGX and MRTD (48 bytes) for TDX.
//!   For TDX, MRTD measures the TD's initial image (its firmware); what the TD then boots is
//!   measured into the RTMRs, which this crate does not report.
//! - **The key binding**, unless [`verify_bound_quote`] is used: compare
//!   [`DcapReport::report_data`] with `report_data_for(public_key, config_hash)`.
//! - **The time.** `now_unix_secs` must be a trusted time that every verifier agrees on (on the
//!   chain, the block time), never one the submitter chose. The collateral is valid for about a
//!   month, so the submitter must supply fresh collateral with fresh evidence.
//! - **Advisories.** [`DcapReport::advisory_ids`] are returned, not judged.
//!
//! Bytes after the quote's signature data are ignored, as Intel's libraries do: genuine TDX
//! quotes are often zero-padded to a fixed size.
#![warn(missing_docs)]

use dcap_qvl::configs::RustCryptoConfig;
use dcap_qvl::quote::{Quote, Report};
use dcap_qvl::verify::QuoteVerifier;
use dcap_qvl::{QuoteCollateralV3, QuotePolicy};
use thiserror::Error;

/// A TCB status as Intel's TCB Info names it (`UpToDate`, `SWHardeningNeeded`, ...).
pub use dcap_qvl::TcbStatus;

/// Quote header `tee_type` of an SGX quote.
const TEE_TYPE_SGX: u32 = 0x0000_0000;
/// Quote header `tee_type` of a TDX quote.
const TEE_TYPE_TDX: u32 = 0x0000_0081;
/// Quote header `attestation_key_type` of ECDSA-256 with the P-256 curve, the only one DCAP uses.
const ATTESTATION_KEY_TYPE_ECDSA_P256: u16 = 2;
/// Length of the quote header, the same for quote versions 3, 4 and 5.
const QUOTE_HEADER_LEN: usize = 48;

/// Which TEE produced a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuoteKind {
    /// An Intel SGX enclave (quote version 3); its measurement is MRENCLAVE.
    Sgx,
    /// An Intel TDX trust domain (quote version 4 or 5); its measurement is MRTD.
    Tdx,
}

/// What a verified quote attests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcapReport {
    /// Which TEE produced the quote.
    pub kind: QuoteKind,
    /// MRENCLAVE (32 bytes) for SGX, MRTD (48 bytes) for TDX; to be found on the allowlist.
    pub measurement: Vec<u8>,
    /// The 64 bytes of report data the enclave put in the quote.
    pub report_data: [u8; 64],
    /// The platform's TCB status as Intel names it, e.g. `UpToDate`; one the policy accepts.
    pub tcb_status: String,
    /// Intel security advisories that apply to the platform's TCB level, e.g. `INTEL-SA-00615`.
    pub advisory_ids: Vec<String>,
}

/// Why a quote was not accepted.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum DcapError {
    /// The collateral is not `QuoteCollateralV3` JSON.
    #[error("malformed collateral: {0}")]
    MalformedCollateral(String),
    /// The quote cannot be decoded.
    #[error("malformed quote: {0}")]
    MalformedQuote(String),
    /// The quote is of a version, TEE type or attestation key type this crate does not verify.
    #[error("unsupported quote: {0}")]
    UnsupportedQuote(String),
    /// The quote or its collateral does not verify at the given time: a signature, certificate
    /// chain, revocation, validity window, QE identity or enclave attribute check failed.
    /// Carries dcap-qvl's message.
    #[error("quote does not verify: {0}")]
    Verification(String),
    /// The quote verifies but the platform's TCB status is not accepted by the [`TcbPolicy`].
    #[error("TCB status {status} is not accepted by policy (advisories: {advisory_ids:?})")]
    TcbStatusRefused {
        /// The platform's TCB status, e.g. `OutOfDate`.
        status: String,
        /// The advisories that apply to the platform's TCB level.
        advisory_ids: Vec<String>,
    },
    /// The quote verifies but its report data is not the expected value (the key is not bound).
    #[error("report data {found} is not the expected value")]
    ReportDataMismatch {
        /// Hex of the report data found in the quote.
        found: String,
    },
}

/// Which TCB statuses a verified quote may have.
///
/// `UpToDate` is always accepted and `Revoked` never is (dcap-qvl refuses revoked platforms
/// before any policy). Every other status, such as `SWHardeningNeeded` (a fix needs software
/// mitigations in the enclave), `ConfigurationNeeded` (a fix needs a BIOS setting) or `OutOfDate`
/// (the platform lacks a microcode or firmware update), is refused unless [`TcbPolicy::allow`]ed.
/// The default policy accepts `UpToDate` only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TcbPolicy {
    /// Statuses accepted besides `UpToDate`.
    also_accepted: Vec<TcbStatus>,
}

impl TcbPolicy {
    /// The strict policy: only `UpToDate`.
    pub fn up_to_date_only() -> Self {
        Self::default()
    }

    /// This policy, also accepting `status`. Allowing `Revoked` has no effect.
    pub fn allow(mut self, status: TcbStatus) -> Self {
        if !self.accepts(status) && status != TcbStatus::Revoked {
            self.also_accepted.push(status);
        }
        self
    }

    /// Whether a quote with this TCB status is accepted.
    pub fn accepts(&self, status: TcbStatus) -> bool {
        status == TcbStatus::UpToDate || self.also_accepted.contains(&status)
    }
}

/// Verifies `quote` with its collateral at `now_unix_secs` under the default [`TcbPolicy`]
/// (`UpToDate` only) and returns what it attests. See the crate documentation for what is and is
/// not checked; the caller still has to compare the report data and the measurement.
pub fn verify_quote(
    quote: &[u8],
    collateral_json: &[u8],
    now_unix_secs: u64,
) -> Result<DcapReport, DcapError> {
    verify_quote_with_policy(quote, collateral_json, now_unix_secs, &TcbPolicy::default())
}

/// [`verify_quote`], then checks that the quote's report data is `expected_report_data`
/// (normally `report_data_for(public_key, config_hash)`), else [`DcapError::ReportDataMismatch`].
pub fn verify_bound_quote(
    quote: &[u8],
    collateral_json: &[u8],
    now_unix_secs: u64,
    expected_report_data: &[u8; 64],
) -> Result<DcapReport, DcapError> {
    verify_bound_quote_with_policy(
        quote,
        collateral_json,
        now_unix_secs,
        expected_report_data,
        &TcbPolicy::default(),
    )
}

/// [`verify_quote`] with the TCB statuses `policy` accepts.
pub fn verify_quote_with_policy(
    quote: &[u8],
    collateral_json: &[u8],
    now_unix_secs: u64,
    policy: &TcbPolicy,
) -> Result<DcapReport, DcapError> {
    let collateral: QuoteCollateralV3 = serde_json::from_slice(collateral_json)
        .map_err(|e| DcapError::MalformedCollateral(e.to_string()))?;
    let kind = quote_kind(quote)?;
    Quote::parse(quote).map_err(|e| DcapError::MalformedQuote(format!("{e:#}")))?;

    // `claims_only` applies no policy of dcap-qvl's: the TCB status is judged below, so that a
    // refusal is a typed error rather than a message.
    let claims = QuoteVerifier::new_prod()
        .with_config::<RustCryptoConfig>()
        .verify_with_policy(
            quote,
            collateral,
            now_unix_secs,
            &QuotePolicy::claims_only(now_unix_secs),
        )
        .map_err(|e| DcapError::Verification(format!("{e:#}")))?;
    // dcap-qvl already checks every validity window at `now`; this is the summary of them.
    if claims.earliest_expiration_date < now_unix_secs {
        return Err(DcapError::Verification(format!(
            "collateral expired at {} (now {now_unix_secs})",
            claims.earliest_expiration_date
        )));
    }

    let (measurement, report_data) = match (kind, &claims.report) {
        (QuoteKind::Sgx, Report::SgxEnclave(report)) => {
            (report.mr_enclave.to_vec(), report.report_data)
        }
        (QuoteKind::Tdx, report) => match report.as_td10() {
            Some(td) => (td.mr_td.to_vec(), td.report_data),
            None => return Err(unsupported("a TDX quote without a TD report")),
        },
        (QuoteKind::Sgx, _) => return Err(unsupported("an SGX quote without an enclave report")),
    };

    if !policy.accepts(claims.tcb.status) {
        return Err(DcapError::TcbStatusRefused {
            status: claims.tcb.status.to_string(),
            advisory_ids: claims.tcb.advisory_ids,
        });
    }
    Ok(DcapReport {
        kind,
        measurement,
        report_data,
        tcb_status: claims.tcb.status.to_string(),
        advisory_ids: claims.tcb.advisory_ids,
    })
}

/// [`verify_bound_quote`] with the TCB statuses `policy` accepts.
pub fn verify_bound_quote_with_policy(
    quote: &[u8],
    collateral_json: &[u8],
    now_unix_secs: u64,
    expected_report_data: &[u8; 64],
    policy: &TcbPolicy,
) -> Result<DcapReport, DcapError> {
    let report = verify_quote_with_policy(quote, collateral_json, now_unix_secs, policy)?;
    if &report.report_data != expected_report_data {
        return Err(DcapError::ReportDataMismatch {
            found: hex::encode(report.report_data),
        });
    }
    Ok(report)
}

fn unsupported(what: &str) -> DcapError {
    DcapError::UnsupportedQuote(what.to_string())
}

/// Reads the quote header: which TEE, refusing versions, TEE types and key types DCAP verification
/// does not cover (the same rules dcap-qvl applies, checked here to give a typed error).
fn quote_kind(quote: &[u8]) -> Result<QuoteKind, DcapError> {
    let header = quote.get(..QUOTE_HEADER_LEN).ok_or_else(|| {
        DcapError::MalformedQuote(format!(
            "{} bytes, shorter than the {QUOTE_HEADER_LEN}-byte header",
            quote.len()
        ))
    })?;
    let u16_at = |at: usize| {
        header
            .get(at..at.saturating_add(2))
            .and_then(|b| b.try_into().ok())
            .map(u16::from_le_bytes)
    };
    let version = u16_at(0);
    let key_type = u16_at(2);
    let tee_type = header
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes);
    let (Some(version), Some(key_type), Some(tee_type)) = (version, key_type, tee_type) else {
        return Err(DcapError::MalformedQuote("unreadable header".to_string()));
    };
    let kind = match (tee_type, version) {
        (TEE_TYPE_SGX, 3) => QuoteKind::Sgx,
        (TEE_TYPE_TDX, 4 | 5) => QuoteKind::Tdx,
        (TEE_TYPE_SGX | TEE_TYPE_TDX, _) => {
            return Err(DcapError::UnsupportedQuote(format!(
                "quote version {version} for TEE type {tee_type:#x}"
            )))
        }
        _ => {
            return Err(DcapError::UnsupportedQuote(format!(
                "TEE type {tee_type:#x}"
            )))
        }
    };
    if key_type != ATTESTATION_KEY_TYPE_ECDSA_P256 {
        return Err(DcapError::UnsupportedQuote(format!(
            "attestation key type {key_type}"
        )));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_accepts_up_to_date_only() {
        let policy = TcbPolicy::default();
        assert!(policy.accepts(TcbStatus::UpToDate));
        assert!(!policy.accepts(TcbStatus::SWHardeningNeeded));
        assert!(!policy.accepts(TcbStatus::OutOfDate));
        assert!(!policy.accepts(TcbStatus::Revoked));
    }

    #[test]
    fn allowing_a_status_accepts_it_but_revoked_stays_refused() {
        let policy = TcbPolicy::up_to_date_only()
            .allow(TcbStatus::SWHardeningNeeded)
            .allow(TcbStatus::SWHardeningNeeded)
            .allow(TcbStatus::Revoked);
        assert!(policy.accepts(TcbStatus::SWHardeningNeeded));
        assert!(!policy.accepts(TcbStatus::ConfigurationNeeded));
        assert!(!policy.accepts(TcbStatus::Revoked));
        assert_eq!(policy.also_accepted, vec![TcbStatus::SWHardeningNeeded]);
    }

    #[test]
    fn a_quote_shorter_than_its_header_is_malformed() {
        assert!(matches!(
            quote_kind(&[3, 0, 2, 0]),
            Err(DcapError::MalformedQuote(_))
        ));
    }
}
