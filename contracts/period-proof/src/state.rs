//! Storage of C2.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Uint128};
use cw_storage_plus::{Item, Map};
use usage_common::msg::period_proof::PeriodProof;

use crate::error::ContractError;

#[cw_serde]
pub struct Config {
    /// Who may change the timing parameters and the admin.
    pub admin: Addr,
    /// C1 usage-proof: accumulators, period length and the committee.
    pub usage_proof: Addr,
    /// Seconds after a period's end before it may be proven (at least C1's own grace applies).
    pub grace_seconds: u64,
    /// Seconds after a proof during which its tenant may dispute it.
    pub dispute_window_seconds: u64,
    /// Seconds after a dispute opens during which the committee may resolve it.
    pub resolution_window_seconds: u64,
    /// What a tenant locks to open a dispute.
    pub dispute_bond: Uint128,
    /// C3 settlement: escrows proven usage and dispute bonds; set once.
    pub settlement: Option<Addr>,
}

impl usage_common::governance::Administered for Config {
    fn admin_mut(&mut self) -> &mut Addr {
        &mut self.admin
    }
}

impl Config {
    pub fn authorize(&self, sender: &Addr) -> Result<(), ContractError> {
        if sender != self.admin {
            return Err(ContractError::Unauthorized);
        }
        Ok(())
    }
}

/// Configuration and admin.
pub const CONFIG: Item<Config> = Item::new("cfg");
/// The admin hand-over and the timelock.
pub const GOV: usage_common::governance::Governance<
    usage_common::msg::period_proof::PeriodProofChange,
> = usage_common::governance::governance();
/// Second proofs by (provider, tenant, period start); written once, then only their status changes.
pub const PROOFS: Map<(&Addr, &str, u64), PeriodProof> = Map::new("prf");
