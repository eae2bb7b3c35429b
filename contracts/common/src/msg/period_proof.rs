//! C2 period-proof: second proofs (sealed per-period sum trees) and disputes.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, HexBinary};

use crate::committee::ThresholdSignature;
use crate::merkle::SumNode;
use crate::payload::{DisputeOutcome, DisputeResolution};
use crate::record::Totals;

#[cw_serde]
pub struct InstantiateMsg {
    pub admin: Option<String>,
    /// Address of C1 usage-proof.
    pub usage_proof: String,
    /// Seconds after a period's end before it may be proven (late batches land first).
    pub grace_seconds: u64,
    /// Seconds after the proof during which the tenant may dispute it.
    pub dispute_window_seconds: u64,
}

#[cw_serde]
// A message is decoded once per call; boxing its large variants would only burden the callers.
#[allow(clippy::large_enum_variant)]
pub enum ExecuteMsg {
    /// Anyone: seals the (provider, tenant, period) accumulator of C1 as a second proof.
    ProvePeriod {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// The tenant: disputes a proven period before its dispute window ends.
    OpenDispute {
        provider: String,
        tenant: String,
        period_start: u64,
        reason: String,
    },
    /// Anyone: closes a dispute with the committee's signed resolution.
    ResolveDispute {
        resolution: DisputeResolution,
        signature: ThresholdSignature,
    },
    /// Admin: changes timing parameters or the admin.
    UpdateConfig {
        admin: Option<String>,
        grace_seconds: Option<u64>,
        dispute_window_seconds: Option<u64>,
    },
}

#[cw_serde]
#[derive(QueryResponses)]
// A message is decoded once per call; boxing its large variants would only burden the callers.
#[allow(clippy::large_enum_variant)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(PeriodProofResponse)]
    PeriodProof {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// Checks that a first proof's leaf is inside a second proof.
    #[returns(VerifyInclusionResponse)]
    VerifyInclusion {
        provider: String,
        tenant: String,
        period_start: u64,
        leaf_index: u64,
        leaf: SumNode,
        path: Vec<SumNode>,
    },
}

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Addr,
    pub usage_proof: Addr,
    pub grace_seconds: u64,
    pub dispute_window_seconds: u64,
}

/// Where a second proof stands.
#[cw_serde]
pub enum PeriodStatus {
    /// Proven; final once the dispute window has passed.
    Proven,
    /// The tenant disputed it; not settleable until resolved.
    Disputed { reason: String, opened_at: u64 },
    /// The committee closed the dispute.
    Resolved { outcome: DisputeOutcome },
}

/// A second resource-usage proof.
#[cw_serde]
pub struct PeriodProof {
    pub provider: Addr,
    pub tenant: String,
    pub period_start: u64,
    pub period_end: u64,
    /// Root of the Merkle sum tree over the period's first proofs.
    pub root: HexBinary,
    pub totals: Totals,
    /// Block time of the proof.
    pub proven_at: u64,
    /// Last second at which the tenant may open a dispute.
    pub dispute_deadline: u64,
    pub status: PeriodStatus,
}

/// Why a second proof cannot be settled yet.
#[cw_serde]
pub enum NotFinal {
    /// The dispute window is still open until this second.
    DisputeWindowOpen { until: u64 },
    /// An open dispute waits for its resolution.
    Disputed,
}

impl PeriodProof {
    /// The totals to bill if the proof is final at block time `now`.
    pub fn billable(&self, now: u64) -> Result<Totals, NotFinal> {
        match &self.status {
            PeriodStatus::Disputed { .. } => Err(NotFinal::Disputed),
            PeriodStatus::Resolved {
                outcome: DisputeOutcome::Adjusted { totals },
            } => Ok(*totals),
            PeriodStatus::Resolved {
                outcome: DisputeOutcome::Upheld,
            } => Ok(self.totals),
            PeriodStatus::Proven if now <= self.dispute_deadline => {
                Err(NotFinal::DisputeWindowOpen {
                    until: self.dispute_deadline,
                })
            }
            PeriodStatus::Proven => Ok(self.totals),
        }
    }

    /// The proof's sealed root as a sum-tree node.
    pub fn root_node(&self) -> SumNode {
        SumNode {
            hash: self.root.clone(),
            totals: self.totals,
        }
    }
}

#[cw_serde]
pub struct PeriodProofResponse {
    pub proof: Option<PeriodProof>,
}

#[cw_serde]
pub struct VerifyInclusionResponse {
    pub included: bool,
}
