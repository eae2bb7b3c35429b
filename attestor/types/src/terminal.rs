//! A terminal's host configuration — the tenant it bills, the cgroup and the network interfaces
//! its counters are read from — and the canonical hash that binds it into the terminal's TEE
//! evidence and into every sample it signs. Aggregators accept a terminal's samples only under
//! the configuration its current evidence attests, so changing the configuration needs new
//! evidence.
//!
//! Layout (ADR 001 rules, `usage_common::codec`): strings a `u32` length then UTF-8, the
//! interface list a `u32` count then its names.
//!
//! ```text
//! str  domain tag          "usagechain/v1/terminal-config"
//! str  terminal_id
//! str  tenant
//! u8   has_cgroup          0 or 1
//! str  cgroup              only when has_cgroup is 1
//! u32  interface count
//! str  interface           each, ascending bytewise, without duplicates
//! ```
//!
//! `config_hash = SHA-256(encoding)`. The interfaces are a set (the agent counts an interface if
//! it is listed), so their order and repetitions in the host configuration do not change the
//! hash; an empty list is encoded as such (it means "all interfaces but `lo`").

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use usage_common::codec::Encoder;
use usage_common::record::{MAX_TENANT_LEN, MAX_TERMINAL_ID_LEN};

/// Domain tag that starts every encoded terminal configuration.
pub const CONFIG_DOMAIN: &str = "usagechain/v1/terminal-config";
/// Longest cgroup path, bytes (Linux `PATH_MAX`).
pub const MAX_CGROUP_PATH_LEN: usize = 4_096;
/// Most interfaces one terminal may list.
pub const MAX_INTERFACES: usize = 64;
/// Longest interface name, bytes (Linux `IFNAMSIZ` less its terminating zero).
pub const MAX_INTERFACE_NAME_LEN: usize = 15;

/// Why a terminal configuration is invalid.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum ConfigError {
    /// A field is empty or longer than its limit.
    #[error("{what} must be 1..={max} bytes, is {len}")]
    BadField {
        /// The field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More interfaces than [`MAX_INTERFACES`].
    #[error("{count} interfaces, at most {MAX_INTERFACES}")]
    TooManyInterfaces {
        /// How many were listed (duplicates removed).
        count: usize,
    },
}

/// What the host says one terminal is: whom it bills and where its counters come from.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    /// The terminal's registered id.
    pub terminal_id: String,
    /// The tenant billed for its usage.
    pub tenant: String,
    /// The tenant's cgroup v2 directory (CPU time, memory, I/O); the whole host when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// Interfaces whose traffic is the tenant's (all but `lo` when empty).
    #[serde(default)]
    pub interfaces: Vec<String>,
}

fn check(what: &'static str, s: &str, max: usize) -> Result<(), ConfigError> {
    if s.is_empty() || s.len() > max {
        return Err(ConfigError::BadField {
            what,
            len: s.len(),
            max,
        });
    }
    Ok(())
}

impl TerminalConfig {
    /// The interfaces as the encoding lists them: ascending, without duplicates.
    pub fn canonical_interfaces(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.interfaces.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Checks every field's bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check("terminal_id", &self.terminal_id, MAX_TERMINAL_ID_LEN)?;
        check("tenant", &self.tenant, MAX_TENANT_LEN)?;
        if let Some(cgroup) = &self.cgroup {
            check("cgroup", cgroup, MAX_CGROUP_PATH_LEN)?;
        }
        let names = self.canonical_interfaces();
        if names.len() > MAX_INTERFACES {
            return Err(ConfigError::TooManyInterfaces { count: names.len() });
        }
        for name in names {
            check("interface", name, MAX_INTERFACE_NAME_LEN)?;
        }
        Ok(())
    }

    /// The canonical encoding (see the module documentation). Defined for any configuration;
    /// [`TerminalConfig::validate`] says whether it is acceptable.
    pub fn encode(&self) -> Vec<u8> {
        let names = self.canonical_interfaces();
        let mut e = Encoder::with_capacity(96);
        e.str(CONFIG_DOMAIN)
            .str(&self.terminal_id)
            .str(&self.tenant);
        match &self.cgroup {
            Some(cgroup) => e.u8(1).str(cgroup),
            None => e.u8(0),
        };
        e.count(names.len());
        for name in names {
            e.str(name);
        }
        e.finish()
    }

    /// `SHA-256` of [`TerminalConfig::encode`]: what the evidence and every sample carry.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.encode()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TerminalConfig {
        TerminalConfig {
            terminal_id: "edge-1".into(),
            tenant: "usage1tenant".into(),
            cgroup: Some("/sys/fs/cgroup/t1".into()),
            interfaces: vec!["eth1".into(), "eth0".into()],
        }
    }

    #[test]
    fn the_encoding_is_domain_tagged_and_length_prefixed_with_sorted_interfaces() {
        let mut expected = vec![];
        for s in [CONFIG_DOMAIN, "edge-1", "usage1tenant"] {
            expected.extend_from_slice(&(s.len() as u32).to_be_bytes());
            expected.extend_from_slice(s.as_bytes());
        }
        expected.push(1);
        expected.extend_from_slice(&17u32.to_be_bytes());
        expected.extend_from_slice(b"/sys/fs/cgroup/t1");
        expected.extend_from_slice(&2u32.to_be_bytes());
        for s in ["eth0", "eth1"] {
            expected.extend_from_slice(&4u32.to_be_bytes());
            expected.extend_from_slice(s.as_bytes());
        }
        assert_eq!(config().encode(), expected);
        assert_eq!(config().hash(), <[u8; 32]>::from(Sha256::digest(&expected)));
    }

    #[test]
    fn interface_order_and_repetition_do_not_change_the_hash() {
        let mut c = config();
        c.interfaces = vec!["eth0".into(), "eth1".into(), "eth0".into()];
        assert_eq!(c.hash(), config().hash());
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = config().hash();
        let changes: Vec<fn(&mut TerminalConfig)> = vec![
            |c| c.terminal_id = "edge-2".into(),
            |c| c.tenant = "usage1victim".into(),
            |c| c.cgroup = None,
            |c| c.cgroup = Some("/sys/fs/cgroup/t2".into()),
            |c| c.interfaces.clear(),
            |c| c.interfaces.push("wg0".into()),
        ];
        for (i, change) in changes.into_iter().enumerate() {
            let mut c = config();
            change(&mut c);
            assert_ne!(c.hash(), base, "change {i}");
        }
    }

    #[test]
    fn fields_cannot_be_shifted_between_one_another() {
        // Without length prefixes "ab" + "c" and "a" + "bc" would hash alike.
        let a = TerminalConfig {
            terminal_id: "ab".into(),
            tenant: "c".into(),
            cgroup: None,
            interfaces: vec![],
        };
        let b = TerminalConfig {
            terminal_id: "a".into(),
            tenant: "bc".into(),
            ..a.clone()
        };
        assert_ne!(a.hash(), b.hash());
        // A cgroup and an interface of the same name are told apart.
        let c = TerminalConfig {
            cgroup: Some("x".into()),
            ..a.clone()
        };
        let d = TerminalConfig {
            interfaces: vec!["x".into()],
            ..a
        };
        assert_ne!(c.hash(), d.hash());
    }

    #[test]
    fn out_of_bounds_fields_are_invalid() {
        assert_eq!(config().validate(), Ok(()));
        let mut c = config();
        c.tenant.clear();
        assert!(matches!(
            c.validate(),
            Err(ConfigError::BadField { what: "tenant", .. })
        ));
        let mut c = config();
        c.cgroup = Some(String::new());
        assert!(matches!(
            c.validate(),
            Err(ConfigError::BadField { what: "cgroup", .. })
        ));
        let mut c = config();
        c.interfaces = vec!["a-very-long-interface-name".into()];
        assert!(matches!(
            c.validate(),
            Err(ConfigError::BadField {
                what: "interface",
                ..
            })
        ));
        let mut c = config();
        c.interfaces = (0..=MAX_INTERFACES).map(|i| format!("eth{i}")).collect();
        assert_eq!(
            c.validate(),
            Err(ConfigError::TooManyInterfaces {
                count: MAX_INTERFACES + 1
            })
        );
    }
}
