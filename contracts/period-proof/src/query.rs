use cosmwasm_std::Deps;
use usage_common::merkle::{verify_inclusion as verify_path, SumNode};
use usage_common::msg::period_proof::{
    ConfigResponse, PeriodProofResponse, VerifyInclusionResponse,
};

use crate::error::ContractError;
use crate::execute::validate_addr;
use crate::state::{CONFIG, PROOFS};

pub fn config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    let c = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        admin: c.admin,
        usage_proof: c.usage_proof,
        grace_seconds: c.grace_seconds,
        dispute_window_seconds: c.dispute_window_seconds,
        resolution_window_seconds: c.resolution_window_seconds,
        dispute_bond: c.dispute_bond,
        settlement: c.settlement,
    })
}

pub fn period_proof(
    deps: Deps,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<PeriodProofResponse, ContractError> {
    let provider = validate_addr(deps.api, &provider)?;
    Ok(PeriodProofResponse {
        proof: PROOFS.may_load(deps.storage, (&provider, &tenant, period_start))?,
    })
}

/// Whether `leaf` sits at `leaf_index` of the sealed sum tree; `false` if the period has no proof.
pub fn verify_inclusion(
    deps: Deps,
    provider: String,
    tenant: String,
    period_start: u64,
    leaf_index: u64,
    leaf: SumNode,
    path: Vec<SumNode>,
) -> Result<VerifyInclusionResponse, ContractError> {
    let provider = validate_addr(deps.api, &provider)?;
    let Some(proof) = PROOFS.may_load(deps.storage, (&provider, &tenant, period_start))? else {
        return Ok(VerifyInclusionResponse { included: false });
    };
    let included = verify_path(
        leaf_index,
        proof.totals.records,
        &leaf,
        &path,
        &proof.root_node(),
    );
    Ok(VerifyInclusionResponse { included })
}
