//! C5 withdrawal: payouts to the owner's bank account.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Uint128};

use crate::committee::ThresholdSignature;
// The response types are named only by the schema derive, which wasm builds leave out.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::governance::{GovernanceMsg, GovernanceResponse, PendingChangesResponse};
// The approval types appear only in `#[returns]`, which is compiled out for wasm.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::payload::{WithdrawalApproval, WithdrawalVoucher};

/// Limits on withdrawals. A request above `per_request`, or one that would take the owner's
/// requests over the last `window_seconds` above `rolling`, is not refused: it is delayed by
/// `delay_seconds` and becomes payable after that (funds stay locked meanwhile).
#[cw_serde]
pub struct Limits {
    pub per_request: Uint128,
    pub rolling: Uint128,
    /// Length of the rolling window (86,400 for 24 h).
    pub window_seconds: u64,
    pub delay_seconds: u64,
}

#[cw_serde]
pub struct InstantiateMsg {
    pub admin: Option<String>,
    /// C1 usage-proof (holds the committee).
    pub usage_proof: String,
    /// C4 ledger.
    pub ledger: String,
    pub currency: String,
    pub limits: Limits,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// The owner (the signing account): locks `amount` and asks for it to be paid to `beneficiary`.
    RequestWithdrawal {
        amount: Uint128,
        /// The owner's bank account (IBAN-like: 5–34 letters and digits).
        beneficiary: String,
    },
    /// The owner: cancels a request still waiting out its delay (`Delayed`); the funds are
    /// unlocked. A payable request cannot be cancelled: its instruction may already be signed.
    Cancel { withdrawal_id: u64 },
    /// Anyone: makes a delayed request payable once its release time has passed.
    Release { withdrawal_id: u64 },
    /// Anyone: records the committee's approval of the payment instruction.
    ApproveInstruction {
        withdrawal_id: u64,
        signature: ThresholdSignature,
    },
    /// Anyone: applies the bank's committee-confirmed booking; each bank reference once.
    RecordVoucher {
        voucher: WithdrawalVoucher,
        signature: ThresholdSignature,
    },
    /// Admin: tightens the limits at once (loosening them is a timelocked change).
    UpdateLimits { limits: Limits },
    /// Admin: stops (`true`) or resumes withdrawals (requests and releases) at once.
    SetPaused { paused: bool },
    /// Two-step admin hand-over and the timelock.
    Governance(GovernanceMsg<WithdrawalChange>),
}

/// What C5's admin may change only through the timelock.
#[cw_serde]
pub enum WithdrawalChange {
    Limits { limits: Limits },
    Timelock { seconds: u64 },
    Migrate { code_id: u64 },
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(GovernanceResponse)]
    Governance {},
    #[returns(PendingChangesResponse<WithdrawalChange>)]
    PendingChanges {},
    #[returns(WithdrawalResponse)]
    Withdrawal { withdrawal_id: u64 },
    /// Withdrawals, optionally of one owner, ascending by id.
    #[returns(WithdrawalsResponse)]
    Withdrawals {
        owner: Option<String>,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    /// The instruction body the committee signs for `ApproveInstruction`.
    #[returns(WithdrawalApproval)]
    InstructionPayload { withdrawal_id: u64 },
    /// How much of the rolling limit an owner has used.
    #[returns(RollingUsageResponse)]
    RollingUsage { owner: String },
}

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Addr,
    pub usage_proof: Addr,
    pub ledger: Addr,
    pub currency: String,
    pub limits: Limits,
    /// Withdrawals are stopped.
    pub paused: bool,
}

/// delayed -> requested -> instructed -> completed | failed; cancelled from delayed or requested.
#[cw_serde]
pub enum WithdrawalStatus {
    /// Over a limit: payable from `release_at`.
    Delayed {
        release_at: u64,
    },
    Requested,
    Instructed,
    Completed {
        bank_ref: String,
    },
    Failed {
        bank_ref: String,
    },
    Cancelled,
}

#[cw_serde]
pub struct Withdrawal {
    pub withdrawal_id: u64,
    pub owner: Addr,
    pub amount: Uint128,
    pub currency: String,
    pub beneficiary: String,
    pub end_to_end_id: String,
    pub status: WithdrawalStatus,
    pub requested_at: u64,
}

#[cw_serde]
pub struct WithdrawalResponse {
    pub withdrawal: Option<Withdrawal>,
}

#[cw_serde]
pub struct WithdrawalsResponse {
    pub withdrawals: Vec<Withdrawal>,
}

#[cw_serde]
pub struct RollingUsageResponse {
    pub used: Uint128,
    pub limit: Uint128,
}
