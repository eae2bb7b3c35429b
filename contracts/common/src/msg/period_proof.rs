//! C2 period-proof: second proofs (sealed per-period sum trees) and disputes.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, HexBinary, Uint128};

use crate::committee::ThresholdSignature;
// The response types are named only by the schema derive, which wasm builds leave out.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::governance::{GovernanceMsg, GovernanceResponse, PendingChangesResponse};
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
    /// Seconds after a dispute opens during which the committee may resolve it; afterwards the
    /// proven totals stand.
    pub resolution_window_seconds: u64,
    /// What a tenant locks in C4 to open a dispute (see [`BondFate`] for what becomes of it).
    pub dispute_bond: Uint128,
    /// C3 settlement, which escrows proven usage and dispute bonds in C4; may be set later.
    pub settlement: Option<String>,
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
    /// The tenant: disputes a proven period before its dispute window ends, locking the dispute
    /// bond.
    OpenDispute {
        provider: String,
        tenant: String,
        period_start: u64,
        reason: String,
    },
    /// Anyone: closes a dispute with the committee's signed resolution, before the resolution
    /// deadline.
    ResolveDispute {
        resolution: DisputeResolution,
        signature: ThresholdSignature,
    },
    /// Admin: sets the C3 settlement address once (timing changes go through the timelock).
    UpdateConfig { settlement: String },
    /// Two-step admin hand-over and the timelock.
    Governance(GovernanceMsg<PeriodProofChange>),
}

/// What C2's admin may change only through the timelock.
#[cw_serde]
pub enum PeriodProofChange {
    /// Timing and bond of periods proven after the change.
    Timing {
        grace_seconds: Option<u64>,
        dispute_window_seconds: Option<u64>,
        resolution_window_seconds: Option<u64>,
        dispute_bond: Option<Uint128>,
    },
    Timelock {
        seconds: u64,
    },
    Migrate {
        code_id: u64,
    },
}

#[cw_serde]
#[derive(QueryResponses)]
// A message is decoded once per call; boxing its large variants would only burden the callers.
#[allow(clippy::large_enum_variant)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(GovernanceResponse)]
    Governance {},
    #[returns(PendingChangesResponse<PeriodProofChange>)]
    PendingChanges {},
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
    pub resolution_window_seconds: u64,
    pub dispute_bond: Uint128,
    pub settlement: Option<Addr>,
}

/// Where a second proof stands.
#[cw_serde]
pub enum PeriodStatus {
    /// Proven; final once the dispute window has passed.
    Proven,
    /// The tenant disputed it, locking `bond`; not settleable until resolved or until
    /// `resolve_by` has passed (then the proven totals stand).
    Disputed {
        reason: String,
        opened_at: u64,
        resolve_by: u64,
        bond: Uint128,
    },
    /// The committee closed the dispute.
    Resolved {
        outcome: DisputeOutcome,
        bond: Uint128,
    },
}

/// What becomes of a dispute bond. The rule: the bond follows the verdict. If the committee
/// adjusts the totals the tenant was right and gets the bond back; if it upholds them, or lets the
/// resolution deadline pass, the tenant was wrong (or the dispute unfounded) and the bond is
/// billed to the tenant with the period's settlement, so it is paid to the provider whose billing
/// the dispute delayed.
#[cw_serde]
pub enum BondFate {
    /// No bond, or the dispute is still open.
    None,
    Returned {
        amount: Uint128,
    },
    Forfeited {
        amount: Uint128,
    },
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
    /// Records proven after their own period closed and billed in this one.
    #[serde(default)]
    pub late_records: u64,
    /// Most this period may be billed: the sum of its leases' caps (`None`: uncapped).
    #[serde(default)]
    pub price_cap: Option<Uint128>,
    /// Last second at which the tenant may open a dispute.
    pub dispute_deadline: u64,
    pub status: PeriodStatus,
}

/// Why a second proof cannot be settled yet.
#[cw_serde]
pub enum NotFinal {
    /// The dispute window is still open until this second.
    DisputeWindowOpen { until: u64 },
    /// An open dispute waits for its resolution until this second.
    Disputed { until: u64 },
}

impl PeriodProof {
    /// The totals to bill if the proof is final at block time `now`.
    pub fn billable(&self, now: u64) -> Result<Totals, NotFinal> {
        match &self.status {
            PeriodStatus::Disputed { resolve_by, .. } if now <= *resolve_by => {
                Err(NotFinal::Disputed { until: *resolve_by })
            }
            // Unresolved by the deadline: the proven totals stand.
            PeriodStatus::Disputed { .. } => Ok(self.totals),
            PeriodStatus::Resolved {
                outcome: DisputeOutcome::Adjusted { totals },
                ..
            } => Ok(*totals),
            PeriodStatus::Resolved {
                outcome: DisputeOutcome::Upheld,
                ..
            } => Ok(self.totals),
            PeriodStatus::Proven if now <= self.dispute_deadline => {
                Err(NotFinal::DisputeWindowOpen {
                    until: self.dispute_deadline,
                })
            }
            PeriodStatus::Proven => Ok(self.totals),
        }
    }

    /// What becomes of the dispute bond at block time `now` (see [`BondFate`]).
    pub fn bond_fate(&self, now: u64) -> BondFate {
        match &self.status {
            PeriodStatus::Disputed {
                resolve_by, bond, ..
            } if now > *resolve_by && !bond.is_zero() => BondFate::Forfeited { amount: *bond },
            PeriodStatus::Resolved {
                outcome: DisputeOutcome::Upheld,
                bond,
            } if !bond.is_zero() => BondFate::Forfeited { amount: *bond },
            PeriodStatus::Resolved {
                outcome: DisputeOutcome::Adjusted { .. },
                bond,
            } if !bond.is_zero() => BondFate::Returned { amount: *bond },
            _ => BondFate::None,
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
