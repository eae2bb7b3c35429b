//! Configuration: a file (JSON, or TOML by its `.toml` extension), then environment overrides,
//! then [`Validate::validate`] — so a service never starts on a setting it did not understand.
//!
//! An override names a key path under the service's prefix with `__` between levels:
//! `USAGE_AGGREGATOR__TIMING__TICK_MS=300` sets `timing.tick_ms`. Values are read as TOML
//! scalars or arrays (`300`, `true`, `[1, 2]`, `"text"` or bare text). Configuration types
//! refuse unknown keys (`#[serde(deny_unknown_fields)]`), in the file and in the environment
//! alike, so a misspelt key is an error naming it, not a silently ignored setting.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Json, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use thiserror::Error;

/// A value that is well-formed but not acceptable, naming its key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{key}: {reason}")]
pub struct Invalid {
    /// The key path, e.g. `peers[2].url`.
    pub key: String,
    /// Why the value is refused.
    pub reason: String,
}

impl Invalid {
    /// `key` is refused for `reason`.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// The checks a configuration passes before a service starts, beyond its types.
pub trait Validate {
    /// `Ok` if every value is acceptable; otherwise the first refused key and why.
    fn validate(&self) -> Result<(), Invalid>;
}

/// Why a configuration was not loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file does not exist.
    #[error("configuration {path}: no such file")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file or an override is malformed, has an unknown key or a value of the wrong type.
    #[error("configuration {path}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong, naming the key.
        message: String,
    },
    /// A value is refused by [`Validate::validate`].
    #[error("configuration {path}: {invalid}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The refused key.
        invalid: Invalid,
    },
}

/// Loads `T` from `path`, applies the `{env_prefix}__…` overrides and validates it.
pub fn load<T: DeserializeOwned + Validate>(
    path: &Path,
    env_prefix: &str,
) -> Result<T, ConfigError> {
    let value: T = read(path, env_prefix)?;
    value.validate().map_err(|invalid| ConfigError::Invalid {
        path: path.to_path_buf(),
        invalid,
    })?;
    Ok(value)
}

/// [`load`] without the validation: the file and its overrides, read into `T`.
pub fn read<T: DeserializeOwned>(path: &Path, env_prefix: &str) -> Result<T, ConfigError> {
    if !path.exists() {
        return Err(ConfigError::Missing {
            path: path.to_path_buf(),
        });
    }
    let file = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Figment::from(Toml::file_exact(path)),
        _ => Figment::from(Json::file_exact(path)),
    };
    let figment = file.merge(Env::prefixed(&format!("{env_prefix}__")).split("__"));
    figment.extract().map_err(|e| ConfigError::Malformed {
        path: path.to_path_buf(),
        message: one_line(e),
    })
}

/// Figment's error (possibly several) as one line.
fn one_line(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks that `value` is a `host:port` socket address, for [`Validate`] implementations.
pub fn socket_addr(key: &str, value: &str) -> Result<(), Invalid> {
    value
        .parse::<std::net::SocketAddr>()
        .map(|_| ())
        .map_err(|_| {
            Invalid::new(
                key,
                format!("`{value}` is not an address like 127.0.0.1:7001"),
            )
        })
}

/// Checks that `value` is an `http://` or `https://` URL with a host, for [`Validate`].
pub fn http_url(key: &str, value: &str) -> Result<(), Invalid> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        _ => Err(Invalid::new(
            key,
            format!("`{value}` is not an http(s) URL like http://127.0.0.1:26657"),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its large error
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Timing {
        tick_ms: u64,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Example {
        listen: String,
        timing: Timing,
    }

    impl Validate for Example {
        fn validate(&self) -> Result<(), Invalid> {
            socket_addr("listen", &self.listen)?;
            if self.timing.tick_ms == 0 {
                return Err(Invalid::new("timing.tick_ms", "must be above 0"));
            }
            Ok(())
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_file_and_its_environment_overrides_are_read_and_validated() {
        figment::Jail::expect_with(|jail| {
            let dir = jail.directory().to_path_buf();
            let json = write(
                &dir,
                "a.json",
                r#"{"listen":"127.0.0.1:7001","timing":{"tick_ms":250}}"#,
            );
            let toml = write(
                &dir,
                "a.toml",
                "listen = \"127.0.0.1:7001\"\n[timing]\ntick_ms = 250\n",
            );
            let expected = Example {
                listen: "127.0.0.1:7001".into(),
                timing: Timing { tick_ms: 250 },
            };
            assert_eq!(load::<Example>(&json, "EXAMPLE").unwrap(), expected);
            assert_eq!(load::<Example>(&toml, "EXAMPLE").unwrap(), expected);
            jail.set_env("EXAMPLE__TIMING__TICK_MS", "300");
            assert_eq!(
                load::<Example>(&json, "EXAMPLE").unwrap().timing.tick_ms,
                300
            );
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_in_the_file_or_the_environment_is_refused_by_name() {
        figment::Jail::expect_with(|jail| {
            let dir = jail.directory().to_path_buf();
            let typo = write(
                &dir,
                "t.json",
                r#"{"listen":"127.0.0.1:7001","timing":{"tick_msx":250}}"#,
            );
            let err = load::<Example>(&typo, "EXAMPLE").unwrap_err().to_string();
            assert!(err.contains("tick_msx"), "{err}");
            let good = write(
                &dir,
                "g.json",
                r#"{"listen":"127.0.0.1:7001","timing":{"tick_ms":250}}"#,
            );
            jail.set_env("EXAMPLE__LISTENN", "127.0.0.1:1");
            let err = load::<Example>(&good, "EXAMPLE").unwrap_err().to_string();
            assert!(err.contains("listenn"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn an_invalid_value_is_refused_naming_its_key() {
        figment::Jail::expect_with(|jail| {
            let dir = jail.directory().to_path_buf();
            let bad = write(
                &dir,
                "b.json",
                r#"{"listen":"nowhere","timing":{"tick_ms":250}}"#,
            );
            let err = load::<Example>(&bad, "EXAMPLE").unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { invalid, .. } if invalid.key == "listen"),
                "{err}"
            );
            let zero = write(
                &dir,
                "z.json",
                r#"{"listen":"127.0.0.1:1","timing":{"tick_ms":0}}"#,
            );
            let err = load::<Example>(&zero, "EXAMPLE").unwrap_err().to_string();
            assert!(err.contains("timing.tick_ms: must be above 0"), "{err}");
            let wrong_type = write(
                &dir,
                "w.json",
                r#"{"listen":"127.0.0.1:1","timing":{"tick_ms":"soon"}}"#,
            );
            let err = load::<Example>(&wrong_type, "EXAMPLE")
                .unwrap_err()
                .to_string();
            assert!(err.contains("tick_ms"), "{err}");
            assert!(matches!(
                load::<Example>(&dir.join("none.json"), "EXAMPLE"),
                Err(ConfigError::Missing { .. })
            ));
            Ok(())
        });
    }
}
