use cosmwasm_std::{DepsMut, Response};
use usage_common::migrate::{bump_version, MigrateError};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

/// Accepts only an older or equal version of this same contract, then records the new version.
pub fn migrate(deps: DepsMut) -> Result<Response, ContractError> {
    bump_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION).map_err(|e| match e {
        MigrateError::Std(e) => e.into(),
        MigrateError::Refused {
            from_name,
            from_version,
        } => ContractError::CannotMigrate {
            from_name,
            from_version,
        },
    })
}
