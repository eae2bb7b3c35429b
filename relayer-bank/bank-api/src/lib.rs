//! What the bank says, signed.
//!
//! Committee members sign a voucher only after the bank itself confirmed the booking behind it,
//! and the relayer acts only on what the bank reported. Neither may take the word of whoever
//! answers on the bank's address: every statement the bank gives is signed with its Ed25519 key,
//! which members and the relayer pin in their configuration.
//!
//! Two look-ups, both `GET`, both answered `200` with a JSON statement and its signature in the
//! [`SIGNATURE_HEADER`] (hex, over [`signing_bytes`] of the request path and the exact body):
//! * `/v1/bookings/{bank_ref}` → [`BookingStatement`]: one booking of the custodial account by
//!   the bank's reference, or the bank's word that there is none (deposits);
//! * `/v1/payments/{end_to_end_id}` → [`PaymentStatement`]: every booking that carries an
//!   instruction's end-to-end id, and whether the bank holds that instruction at all (settlement
//!   and withdrawal payments). A member vouches for a payment's outcome only when exactly one
//!   final booking exists for its end-to-end id ([`PaymentStatement::outcome`]).
//!
//! The signed bytes start with a domain tag and name the path, so a statement cannot be replayed
//! as the answer to another question, and nothing else the bank's key signs can pass for one.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use usage_common::ThresholdSignature;

/// The response header that carries the bank's signature of the body (128 hex digits).
pub const SIGNATURE_HEADER: &str = "x-bank-signature";

/// Prefix of every signed statement (then a zero byte, the request path, a zero byte, the body).
pub const STATEMENT_DOMAIN: &[u8] = b"usagechain/v1/bank-statement";

/// Money in or out of the custodial account.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money received (a deposit).
    Credit,
    /// Money paid out (a settlement or withdrawal payment).
    Debit,
}

/// Whether the bank executed it. Both are final: a booked payment is never reversed here, and
/// a rejected end-to-end id is never paid afterwards.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Executed.
    Booked,
    /// Refused by the bank; no money moved.
    Rejected,
}

/// One booking as the bank records it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BankBooking {
    /// The bank's reference.
    pub bank_ref: String,
    /// Credit or debit of the custodial account.
    pub direction: Direction,
    /// Minor units.
    #[serde(with = "decimal")]
    pub amount: u128,
    /// ISO 4217 code.
    pub currency: String,
    /// Booked or rejected.
    pub status: BookingStatus,
    /// The payment's end-to-end id (debits: the instruction's).
    #[serde(default)]
    pub end_to_end_id: Option<String>,
    /// The remittance information (credits: the beneficiary's chain address).
    #[serde(default)]
    pub remittance: Option<String>,
}

/// The answer to `GET /v1/bookings/{bank_ref}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BookingStatement {
    /// The reference asked for.
    pub bank_ref: String,
    /// The booking, or `None`: the bank has none under that reference.
    pub booking: Option<BankBooking>,
}

/// The answer to `GET /v1/payments/{end_to_end_id}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PaymentStatement {
    /// The end-to-end id asked for.
    pub end_to_end_id: String,
    /// Whether the bank received an instruction with this end-to-end id.
    pub instructed: bool,
    /// Every booking that carries it, oldest first.
    pub bookings: Vec<BankBooking>,
}

/// A payment statement that names more than one final booking for one end-to-end id: the bank's
/// record contradicts itself, and nobody can vouch for either outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bank reports {count} final bookings for end-to-end id {end_to_end_id}")]
pub struct Equivocation {
    /// The payment.
    pub end_to_end_id: String,
    /// How many final bookings the bank reported.
    pub count: usize,
}

impl PaymentStatement {
    /// The payment's one final booking (`Ok(None)`: none yet), or [`Equivocation`] when there is
    /// more than one — a rejection and a later booking of the same instruction, say.
    pub fn outcome(&self) -> Result<Option<&BankBooking>, Equivocation> {
        let finals: Vec<&BankBooking> = self
            .bookings
            .iter()
            .filter(|b| b.end_to_end_id.as_deref() == Some(self.end_to_end_id.as_str()))
            .collect();
        match finals.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            more => Err(Equivocation {
                end_to_end_id: self.end_to_end_id.clone(),
                count: more.len(),
            }),
        }
    }
}

/// What the bank's key signs for the answer to `path` (as requested, percent-encoded) with
/// `body`: [`STATEMENT_DOMAIN`] ‖ 0 ‖ path ‖ 0 ‖ body.
pub fn signing_bytes(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(STATEMENT_DOMAIN.len() + path.len() + body.len() + 2);
    out.extend_from_slice(STATEMENT_DOMAIN);
    out.push(0);
    out.extend_from_slice(path.as_bytes());
    out.push(0);
    out.extend_from_slice(body);
    out
}

/// The [`SIGNATURE_HEADER`] value for the answer to `path` with `body`.
pub fn sign_statement(key: &SigningKey, path: &str, body: &[u8]) -> String {
    hex::encode(key.sign(&signing_bytes(path, body)).to_bytes())
}

/// Why a statement was not taken as the bank's word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// The bank could not be reached or did not answer in time; try again.
    #[error("bank unreachable: {0}")]
    Unreachable(String),
    /// The bank answered with another status than 200.
    #[error("bank answered HTTP {0}")]
    Status(u16),
    /// The answer carries no signature.
    #[error("the bank's answer is not signed")]
    Unsigned,
    /// The signature is malformed or not the pinned bank key's over this path and body.
    #[error("the answer is not signed by the bank's key")]
    BadSignature,
    /// The signed body is not the statement asked for.
    #[error("malformed statement: {0}")]
    Malformed(String),
    /// A signed statement about something else than what was asked.
    #[error("asked about {asked}, the statement is about {answered}")]
    WrongSubject {
        /// What was asked.
        asked: String,
        /// What the statement names.
        answered: String,
    },
}

/// Checks `signature` (the [`SIGNATURE_HEADER`] value) over the answer to `path` with `body`.
pub fn verify_statement(
    key: &VerifyingKey,
    path: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), BankError> {
    let signature = signature.ok_or(BankError::Unsigned)?;
    let bytes: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(BankError::BadSignature)?;
    key.verify(&signing_bytes(path, body), &Signature::from_bytes(&bytes))
        .map_err(|_| BankError::BadSignature)
}

/// Parses a bank key as configured: 64 hex digits of the Ed25519 public key.
pub fn parse_public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .map_err(|e| format!("bank public key: {e}"))?
        .try_into()
        .map_err(|_| "bank public key: expected 32 bytes (64 hex digits)".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("bank public key: {e}"))
}

/// How the committee's approval of one credit transfer travels in a pain.001's supplementary
/// data (`usage_iso20022::ApprovalEntry::signature`): the threshold signature as JSON. The bank
/// rebuilds the signed payload from the chain, so only the signature travels.
pub fn encode_approval(signature: &ThresholdSignature) -> Vec<u8> {
    serde_json::to_vec(signature).unwrap_or_default()
}

/// The threshold signature of [`encode_approval`]; `None` if `bytes` is not one.
pub fn decode_approval(bytes: &[u8]) -> Option<ThresholdSignature> {
    serde_json::from_slice(bytes).ok()
}

/// `s` percent-encoded as one path segment (unreserved characters kept).
pub fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Asks one bank, at a base URL, with its pinned key, and takes only statements it signed.
#[derive(Clone, Debug)]
pub struct BankClient {
    http: reqwest::Client,
    base: String,
    key: VerifyingKey,
}

impl BankClient {
    /// The bank at `base` (e.g. `http://127.0.0.1:9100`) whose statements `key` signs.
    pub fn new(http: reqwest::Client, base: &str, key: VerifyingKey) -> BankClient {
        BankClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
        }
    }

    /// The bank's booking `bank_ref` (`None`: the bank says it has none).
    pub async fn booking(&self, bank_ref: &str) -> Result<Option<BankBooking>, BankError> {
        let s: BookingStatement = self
            .statement(&format!("/v1/bookings/{}", path_segment(bank_ref)))
            .await?;
        if s.bank_ref != bank_ref || s.booking.as_ref().is_some_and(|b| b.bank_ref != bank_ref) {
            return Err(BankError::WrongSubject {
                asked: bank_ref.to_string(),
                answered: s.bank_ref,
            });
        }
        Ok(s.booking)
    }

    /// Everything the bank booked under `end_to_end_id`.
    pub async fn payment(&self, end_to_end_id: &str) -> Result<PaymentStatement, BankError> {
        let s: PaymentStatement = self
            .statement(&format!("/v1/payments/{}", path_segment(end_to_end_id)))
            .await?;
        if s.end_to_end_id != end_to_end_id {
            return Err(BankError::WrongSubject {
                asked: end_to_end_id.to_string(),
                answered: s.end_to_end_id,
            });
        }
        Ok(s)
    }

    async fn statement<T: DeserializeOwned>(&self, path: &str) -> Result<T, BankError> {
        let body = self.signed_body(path).await?;
        serde_json::from_slice(&body).map_err(|e| BankError::Malformed(e.to_string()))
    }

    /// The body of `GET path` (as requested, percent-encoded), if the bank signed it.
    pub async fn signed_body(&self, path: &str) -> Result<Vec<u8>, BankError> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| BankError::Unreachable(e.to_string()))?;
        if r.status() != reqwest::StatusCode::OK {
            return Err(BankError::Status(r.status().as_u16()));
        }
        let signature = r
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = r
            .bytes()
            .await
            .map_err(|e| BankError::Unreachable(e.to_string()))?;
        verify_statement(&self.key, path, &body, signature.as_deref())?;
        Ok(body.to_vec())
    }
}

mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn debit(bank_ref: &str, e2e: &str, status: BookingStatus) -> BankBooking {
        BankBooking {
            bank_ref: bank_ref.into(),
            direction: Direction::Debit,
            amount: 1_000,
            currency: "CNY".into(),
            status,
            end_to_end_id: Some(e2e.into()),
            remittance: None,
        }
    }

    #[test]
    fn a_statement_verifies_only_for_its_own_path_body_and_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let body = br#"{"bank_ref":"R1","booking":null}"#;
        let sig = sign_statement(&key, "/v1/bookings/R1", body);
        let pk = key.verifying_key();
        assert_eq!(
            verify_statement(&pk, "/v1/bookings/R1", body, Some(&sig)),
            Ok(())
        );
        assert_eq!(
            verify_statement(&pk, "/v1/bookings/R2", body, Some(&sig)),
            Err(BankError::BadSignature),
            "another question"
        );
        assert_eq!(
            verify_statement(&pk, "/v1/bookings/R1", b"{}", Some(&sig)),
            Err(BankError::BadSignature),
            "another body"
        );
        let forged = sign_statement(&other, "/v1/bookings/R1", body);
        assert_eq!(
            verify_statement(&pk, "/v1/bookings/R1", body, Some(&forged)),
            Err(BankError::BadSignature),
            "another key"
        );
        assert_eq!(
            verify_statement(&pk, "/v1/bookings/R1", body, None),
            Err(BankError::Unsigned)
        );
        assert_eq!(
            verify_statement(&pk, "/v1/bookings/R1", body, Some("zz")),
            Err(BankError::BadSignature)
        );
    }

    #[test]
    fn a_payment_has_an_outcome_only_when_exactly_one_booking_carries_its_id() {
        let mut s = PaymentStatement {
            end_to_end_id: "E".into(),
            instructed: true,
            bookings: vec![],
        };
        assert_eq!(s.outcome(), Ok(None));
        s.bookings.push(debit("R1", "E", BookingStatus::Rejected));
        assert_eq!(s.outcome().unwrap().unwrap().bank_ref, "R1");
        s.bookings.push(debit("R2", "E", BookingStatus::Booked));
        assert_eq!(
            s.outcome(),
            Err(Equivocation {
                end_to_end_id: "E".into(),
                count: 2
            })
        );
        // A booking of another payment that the statement lists does not count for this one.
        s.bookings = vec![
            debit("R1", "OTHER", BookingStatus::Booked),
            debit("R2", "E", BookingStatus::Booked),
        ];
        assert_eq!(s.outcome().unwrap().unwrap().bank_ref, "R2");
    }

    #[test]
    fn bank_keys_are_64_hex_digits() {
        let pk = SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert_eq!(parse_public_key(&hex::encode(pk.as_bytes())), Ok(pk));
        assert!(parse_public_key("abcd").is_err());
        assert!(parse_public_key("not hex").is_err());
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("USG-S-ab12.x_1"), "USG-S-ab12.x_1");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}
