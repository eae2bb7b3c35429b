//! What an aggregator asks the bank: its own record of one booking, by the bank's reference.
//!
//! `GET {bank}/v1/bookings/{bank_ref}` answers `404` when the bank has no such booking, or a
//! [`BankBooking`] as JSON (amount in minor units, as a decimal string). The bank simulator of
//! the bank side serves it; a real deployment points it at the bank gateway's statement query
//! (the camt.054 notification the booking was reported with).

use serde::{Deserialize, Serialize};

/// Money in or out of the custodial account.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money received (a deposit).
    Credit,
    /// Money paid out (a settlement or withdrawal payment).
    Debit,
}

/// Whether the bank executed it.
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

/// Asks `bank` for its booking `bank_ref`; `Ok(None)` when it has none.
pub async fn booking(
    http: &reqwest::Client,
    bank: &str,
    bank_ref: &str,
) -> Result<Option<BankBooking>, String> {
    let encoded: String = bank_ref
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let r = http
        .get(format!("{bank}/v1/bookings/{encoded}"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !r.status().is_success() {
        return Err(format!("bank answered {}", r.status()));
    }
    let b: BankBooking = r.json().await.map_err(|e| e.to_string())?;
    if b.bank_ref != bank_ref {
        return Err(format!(
            "bank answered for {} when asked {bank_ref}",
            b.bank_ref
        ));
    }
    Ok(Some(b))
}
