//! The migration rule every contract follows: only from an older or equal version of the same
//! contract (by its cw2 name), recording the new version.

use cosmwasm_std::{Response, StdError, Storage};

/// Why a migration did not happen.
#[derive(Debug)]
pub enum MigrateError {
    Std(StdError),
    /// The stored contract is another one, or a newer version of this one.
    Refused {
        from_name: String,
        from_version: String,
    },
}

impl From<StdError> for MigrateError {
    fn from(e: StdError) -> Self {
        MigrateError::Std(e)
    }
}

/// Checks the stored cw2 version against `name`/`version` and records the new one.
pub fn bump_version(
    storage: &mut dyn Storage,
    name: &str,
    version: &str,
) -> Result<Response, MigrateError> {
    let stored = cw2::get_contract_version(storage)?;
    if stored.contract != name || !version_le(&stored.version, version) {
        return Err(MigrateError::Refused {
            from_name: stored.contract,
            from_version: stored.version,
        });
    }
    cw2::set_contract_version(storage, name, version)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", version))
}

/// `a <= b` for `major.minor.patch` versions (a pre-release or build suffix is ignored); anything
/// unparsable compares as not older, so it is refused.
pub fn version_le(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut it = v.split(['.', '-', '+']).map(|p| p.parse::<u64>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a <= b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[test]
    fn versions_compare_numerically_and_garbage_is_never_older() {
        assert!(version_le("0.1.0", "0.1.0"));
        assert!(version_le("0.9.9", "0.10.0"));
        assert!(!version_le("1.0.0", "0.10.0"));
        assert!(!version_le("one", "0.1.0"));
    }

    #[test]
    fn only_an_older_version_of_the_same_contract_is_migrated() {
        let mut storage = MockStorage::new();
        cw2::set_contract_version(&mut storage, "crates.io:a", "0.1.0").unwrap();
        assert!(matches!(
            bump_version(&mut storage, "crates.io:b", "0.2.0"),
            Err(MigrateError::Refused { .. })
        ));
        bump_version(&mut storage, "crates.io:a", "0.2.0").unwrap();
        assert_eq!(
            cw2::get_contract_version(&storage).unwrap().version,
            "0.2.0"
        );
        assert!(matches!(
            bump_version(&mut storage, "crates.io:a", "0.1.5"),
            Err(MigrateError::Refused { .. })
        ));
    }
}
