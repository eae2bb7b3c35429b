//! C1 usage-proof: committee, terminal registry and first proofs.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, HexBinary, Uint128};

use crate::committee::{Committee, ThresholdSignature};
// The response types are named only by the schema derive, which wasm builds leave out.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::governance::{GovernanceMsg, GovernanceResponse, PendingChangesResponse};
use crate::merkle::{Frontier, SumNode};
use crate::payload::{CommitteeRotation, MemberKey};
use crate::record::Metrics;

/// Kind of trusted execution environment that holds a terminal's attestor key.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum TeeKind {
    Sgx,
    Tdx,
    SevSnp,
    /// No TEE: a software key, for development; refused unless the config accepts it.
    Software,
}

impl TeeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TeeKind::Sgx => "sgx",
            TeeKind::Tdx => "tdx",
            TeeKind::SevSnp => "sev_snp",
            TeeKind::Software => "software",
        }
    }
}

#[cw_serde]
pub struct InstantiateMsg {
    /// Who may change configuration and register terminals; the instantiator if absent.
    pub admin: Option<String>,
    /// Threshold of the first committee (epoch 1).
    pub threshold: u32,
    /// Members of the first committee, each with its proof of possession.
    pub members: Vec<MemberKey>,
    /// Window length in seconds (first proofs are per window).
    pub window_seconds: u64,
    /// Period length in seconds (a multiple of the window length).
    pub period_seconds: u64,
    /// Records of a period are accepted until this many seconds after the period's end; C2 must
    /// not seal a period earlier than that (its grace is at least this long).
    pub grace_seconds: u64,
    /// Whether terminals with a software (non-TEE) key may be registered.
    pub accept_software_tee: bool,
    /// Enclave measurements allowed from the start.
    pub allowed_measurements: Vec<HexBinary>,
    /// C2 period-proof, the only contract that may seal accumulators (or set once later).
    #[serde(default)]
    pub period_proof: Option<String>,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// Anyone: records the first proofs of a committee-signed batch.
    SubmitBatch {
        /// The records in their canonical binary encoding (`record::encode_batch`), sorted by
        /// (terminal id, window start) with no key twice.
        records: Binary,
        /// The committee's signature over the batch digest.
        signature: ThresholdSignature,
    },
    /// Anyone: installs the next committee, authorised by the current committee's signature.
    RotateCommittee {
        rotation: CommitteeRotation,
        signature: ThresholdSignature,
    },
    /// Admin: registers a terminal or updates its registration (its provider never changes).
    RegisterTerminal {
        terminal_id: String,
        /// The provider (chain address) that owns the terminal and is paid for its use.
        provider: String,
        /// Ed25519 public key of the terminal's attestor, 32 bytes.
        attestor_key: HexBinary,
        tee: TeeKind,
        /// Enclave measurement the attestor's evidence binds its key to.
        measurement: HexBinary,
        /// Declares that the attestor measures several terminals of one host with disjoint
        /// counters; without it a key already speaking for another terminal is refused.
        #[serde(default)]
        shared_attestor: bool,
    },
    /// A tenant: consents to be billed for a terminal's usage by its provider from `start`
    /// (window-aligned) until `end` (exclusive, window-aligned; open-ended if absent). Leases of
    /// one terminal never overlap, so every window has at most one tenant.
    OpenLease {
        terminal_id: String,
        /// Must be the terminal's provider.
        provider: String,
        start: u64,
        end: Option<u64>,
        /// The most this lease may be billed per period, in the tariff's minor units.
        price_cap: Option<Uint128>,
    },
    /// The lease's tenant or provider: ends the lease at `end` (window-aligned), never before
    /// the end of the current window, so usage already consented to stays billable. A lease ended before its
    /// start is removed.
    CloseLease {
        terminal_id: String,
        start: u64,
        end: u64,
    },
    /// Anyone: gives back a capped lease's reserve once it has ended and every period it could
    /// have billed is closed (`end + period + grace`).
    ReleaseLeaseReserve { terminal_id: String, start: u64 },
    /// C2 period-proof only: the (provider, tenant, period) accumulator was sealed as a second
    /// proof; it takes no more records.
    SealAccumulator {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// Admin: a terminal stops being accepted in batches.
    DeactivateTerminal { terminal_id: String },
    /// Admin: queues allowing an enclave measurement in the timelock (it widens trust).
    AllowMeasurement { measurement: HexBinary },
    /// Admin: revokes an enclave measurement; its terminals' records are refused from then on.
    RevokeMeasurement { measurement: HexBinary },
    /// Admin: refuses software TEEs from now on (`Some(false)`; accepting them is a timelocked
    /// change); sets the C2 period-proof address once.
    UpdateConfig {
        accept_software_tee: Option<bool>,
        #[serde(default)]
        period_proof: Option<String>,
    },
    /// Two-step admin hand-over and the timelock.
    Governance(GovernanceMsg<UsageProofChange>),
}

/// What C1's admin may change only through the timelock.
#[cw_serde]
pub enum UsageProofChange {
    AllowMeasurement {
        measurement: HexBinary,
    },
    AcceptSoftwareTee {},
    /// The timelock's own delay.
    Timelock {
        seconds: u64,
    },
    /// Moves the contract to another code (it is its own chain-level admin).
    Migrate {
        code_id: u64,
    },
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    /// The current committee.
    #[returns(CommitteeResponse)]
    Committee {},
    #[returns(TerminalResponse)]
    Terminal { terminal_id: String },
    #[returns(TerminalsResponse)]
    Terminals {
        start_after: Option<String>,
        limit: Option<u32>,
    },
    /// The first proof of (terminal, window), if any.
    #[returns(ProofResponse)]
    Proof {
        terminal_id: String,
        window_start: u64,
    },
    /// A terminal's first proofs with `from <= window_start < to`, ascending.
    #[returns(ProofsResponse)]
    TerminalProofs {
        terminal_id: String,
        from: u64,
        to: u64,
        limit: Option<u32>,
    },
    #[returns(BatchResponse)]
    Batch { batch_id: u64 },
    /// The running sum-tree accumulator of a (provider, tenant, period).
    #[returns(AccumulatorResponse)]
    Accumulator {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// The first proofs of a (provider, tenant, period) in accumulator order.
    #[returns(ProofsResponse)]
    PeriodProofs {
        provider: String,
        tenant: String,
        period_start: u64,
        /// Leaf index to start after.
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    /// The sum-tree inclusion proof of one first proof in its period's accumulator (periods of
    /// at most [`MAX_INCLUSION_LEAVES`] records; build larger ones from `PeriodProofs` pages).
    #[returns(InclusionProofResponse)]
    InclusionProof {
        terminal_id: String,
        window_start: u64,
    },
    /// Allowed enclave measurements, ascending.
    #[returns(MeasurementsResponse)]
    Measurements {
        start_after: Option<HexBinary>,
        limit: Option<u32>,
    },
    /// A terminal's leases by start, ascending.
    #[returns(LeasesResponse)]
    Leases {
        terminal_id: String,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    /// What a tenant must keep available for its open leases (withdrawals leave it in place).
    #[returns(TenantReserveResponse)]
    TenantReserve { tenant: String },
    #[returns(GovernanceResponse)]
    Governance {},
    #[returns(PendingChangesResponse<UsageProofChange>)]
    PendingChanges {},
    /// The lease covering the window that starts at `window_start`, if any.
    #[returns(LeaseResponse)]
    LeaseAt {
        terminal_id: String,
        window_start: u64,
    },
}

/// Most records a period may hold for the `InclusionProof` query to rebuild it on chain.
pub const MAX_INCLUSION_LEAVES: u64 = 4_096;

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Addr,
    pub window_seconds: u64,
    pub period_seconds: u64,
    pub grace_seconds: u64,
    pub accept_software_tee: bool,
    /// The first allowed measurements (at most 100; `Measurements` pages through all).
    pub allowed_measurements: Vec<HexBinary>,
    pub next_batch_id: u64,
    /// C2 period-proof, the only contract that may seal accumulators.
    pub period_proof: Option<Addr>,
}

#[cw_serde]
pub struct MeasurementsResponse {
    pub measurements: Vec<HexBinary>,
}

/// A tenant's consent to be billed for a terminal's windows in `[start, end)`.
#[cw_serde]
pub struct Lease {
    pub terminal_id: String,
    pub tenant: Addr,
    pub provider: Addr,
    pub start: u64,
    pub end: Option<u64>,
    pub price_cap: Option<Uint128>,
    /// Block time the tenant opened it.
    pub opened_at: u64,
}

impl Lease {
    /// Whether the window `[window_start, window_start + window_seconds)` lies inside the lease.
    pub fn covers(&self, window_start: u64, window_seconds: u64) -> bool {
        self.start <= window_start
            && self
                .end
                .is_none_or(|end| window_start.saturating_add(window_seconds) <= end)
    }
}

#[cw_serde]
pub struct TenantReserveResponse {
    /// Sum over the tenant's capped leases whose reserve was not released of
    /// `price cap × reserve periods` (uncapped leases reserve nothing).
    pub reserve: Uint128,
}

#[cw_serde]
pub struct LeasesResponse {
    pub leases: Vec<Lease>,
}

#[cw_serde]
pub struct LeaseResponse {
    pub lease: Option<Lease>,
}

#[cw_serde]
pub struct CommitteeResponse {
    pub committee: Committee,
}

#[cw_serde]
pub struct Terminal {
    pub terminal_id: String,
    pub provider: Addr,
    pub attestor_key: HexBinary,
    pub tee: TeeKind,
    pub measurement: HexBinary,
    pub active: bool,
    /// Its lease with the latest start, if any (older ones: `Leases`, `LeaseAt`).
    #[serde(default)]
    pub lease: Option<Lease>,
}

#[cw_serde]
pub struct TerminalResponse {
    pub terminal: Terminal,
}

#[cw_serde]
pub struct TerminalsResponse {
    pub terminals: Vec<Terminal>,
}

/// A first resource-usage proof.
#[cw_serde]
pub struct FirstProof {
    pub terminal_id: String,
    pub window_start: u64,
    pub tenant: String,
    pub provider: Addr,
    pub metrics: Metrics,
    /// Batch that proved it.
    pub batch_id: u64,
    /// The period whose accumulator holds it: the window's own period, or for a late record
    /// (proven after its period stopped taking records) the period open when it was proven.
    pub period_start: u64,
    /// Proven after its own period had closed; billed in `period_start`.
    pub late: bool,
    /// Position in its (provider, tenant, period) accumulator.
    pub period_index: u64,
}

#[cw_serde]
pub struct ProofResponse {
    pub proof: Option<FirstProof>,
}

#[cw_serde]
pub struct ProofsResponse {
    pub proofs: Vec<FirstProof>,
}

#[cw_serde]
pub struct BatchInfo {
    pub batch_id: u64,
    pub root: HexBinary,
    pub records: u32,
    pub epoch: u64,
    pub submitter: Addr,
    pub height: u64,
}

#[cw_serde]
pub struct BatchResponse {
    pub batch: Option<BatchInfo>,
}

#[cw_serde]
pub struct AccumulatorResponse {
    pub period_start: u64,
    /// End of the period (exclusive), seconds.
    pub period_end: u64,
    pub frontier: Frontier<SumNode>,
    /// Root over everything appended so far.
    pub root: SumNode,
    /// Records appended after their own period had closed.
    pub late_records: u64,
    /// Sum of the price caps of the leases whose windows it holds; `None` if one is uncapped.
    pub price_cap: Option<Uint128>,
    /// C2 sealed it: it takes no more records.
    pub sealed: bool,
}

#[cw_serde]
pub struct InclusionProofResponse {
    pub provider: Addr,
    pub tenant: String,
    pub period_start: u64,
    pub leaf_index: u64,
    pub size: u64,
    /// The record's canonical bytes (the leaf data).
    pub record: Binary,
    pub leaf: SumNode,
    pub path: Vec<SumNode>,
    pub root: SumNode,
}
