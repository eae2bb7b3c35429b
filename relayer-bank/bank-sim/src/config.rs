//! The bank simulator's configuration: a JSON or TOML file (template:
//! `relayer-bank/bank-sim/config-template.toml`), any key overridable from the environment as
//! `USAGE_BANK_SIM__<KEY>` (`USAGE_BANK_SIM__CHAIN__RPC` for a nested one); unknown keys are
//! refused.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use usage_service::config::{http_url, socket_addr, Invalid, Validate};

/// The environment prefix of overrides.
pub const ENV_PREFIX: &str = "USAGE_BANK_SIM";

/// Everything the bank simulator needs.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the bank's API listens (`127.0.0.1:9100`).
    pub listen: String,
    /// Where its metrics are served (`GET /metrics`), apart from the API; none if unset.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// The books (`bank.redb` inside it).
    pub data_dir: PathBuf,
    /// The Ed25519 key the bank signs its statements with (a 0600 key file, 64 hex digits).
    pub signing_key: PathBuf,
    /// The bank's BIC, named in what it reports.
    #[serde(default = "default_bic")]
    pub bic: String,
    /// The one currency it keeps (ISO 4217).
    pub currency: String,
    /// The platform's custodial account.
    pub custodial_account: String,
    /// The chain whose committee authorises payments from the custodial account.
    pub chain: ChainConfig,
}

/// The chain the bank asks whether a payment is authorised.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// A node's RPC (`http://127.0.0.1:26657`).
    pub rpc: String,
    /// The chain id.
    pub chain_id: String,
    /// C1 usage-proof (the committee).
    pub usage_proof: String,
    /// C3 settlement.
    pub settlement: String,
    /// C5 withdrawal.
    pub withdrawal: String,
}

fn default_bic() -> String {
    "USGSCNB1XXX".into()
}

/// An IBAN-like account id: two letters, two digits, then 1–30 letters or digits.
pub fn is_account_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

impl Validate for Config {
    fn validate(&self) -> Result<(), Invalid> {
        socket_addr("listen", &self.listen)?;
        // A simulator: its customer, transfer and fault endpoints have no authentication.
        let loopback = self
            .listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback());
        if !loopback {
            return Err(Invalid::new(
                "listen",
                "must be a loopback address: the simulator's customer and fault endpoints are open",
            ));
        }
        if let Some(m) = &self.metrics_listen {
            socket_addr("metrics_listen", m)?;
            if *m == self.listen {
                return Err(Invalid::new(
                    "metrics_listen",
                    "must differ from listen: metrics are kept apart from the API",
                ));
            }
        }
        let b = self.bic.as_bytes();
        if !(b.len() == 8 || b.len() == 11) || !b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(Invalid::new("bic", "must be 8 or 11 letters and digits"));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(Invalid::new(
                "currency",
                "must be an ISO 4217 code (3 capitals)",
            ));
        }
        if !is_account_id(&self.custodial_account) {
            return Err(Invalid::new(
                "custodial_account",
                "must be IBAN-like: 2 capitals, 2 digits, 1-30 letters or digits",
            ));
        }
        http_url("chain.rpc", &self.chain.rpc)?;
        for (key, value) in [
            ("chain.chain_id", &self.chain.chain_id),
            ("chain.usage_proof", &self.chain.usage_proof),
            ("chain.settlement", &self.chain.settlement),
            ("chain.withdrawal", &self.chain.withdrawal),
        ] {
            if value.is_empty() {
                return Err(Invalid::new(key, "must not be empty"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn account_ids_are_iban_like() {
        assert!(is_account_id("CN00CUSTODIAL0001"));
        assert!(!is_account_id("cn00CUSTODIAL"));
        assert!(!is_account_id("CNX0ABC"));
        assert!(!is_account_id("CN00"));
        assert!(!is_account_id("CN00ABC-1"));
        assert!(!is_account_id(&format!("CN00{}", "A".repeat(31))));
    }

    #[test]
    fn the_template_is_a_valid_configuration() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config-template.toml");
        let c: Config =
            usage_service::config::load(std::path::Path::new(path), "USAGE_BANK_SIM_TEST").unwrap();
        assert_eq!(c.currency, "CNY");
    }
}
