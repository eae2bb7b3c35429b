use cosmwasm_std::{DepsMut, Response};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

/// Accepts only an older or equal version of this same contract, then records the new version.
pub fn migrate(deps: DepsMut) -> Result<Response, ContractError> {
    let stored = cw2::get_contract_version(deps.storage)?;
    let newer = semver_le(&stored.version, CONTRACT_VERSION);
    if stored.contract != CONTRACT_NAME || !newer {
        return Err(ContractError::CannotMigrate {
            from_name: stored.contract,
            from_version: stored.version,
        });
    }
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", CONTRACT_VERSION))
}

/// `a <= b` for `major.minor.patch` versions; anything unparsable compares as not older.
fn semver_le(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut it = v.split(['.', '-']).map(|p| p.parse::<u64>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a <= b,
        _ => false,
    }
}
