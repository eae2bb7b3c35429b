//! Storage of C5: configuration, withdrawals with an owner index, consumed bank references and the
//! per-owner rolling usage.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Empty, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use usage_common::msg::withdrawal::{ConfigResponse, Limits, Withdrawal, WithdrawalStatus};
use usage_common::payload::WithdrawalApproval;

use crate::error::ContractError;

/// Longest bank reference accepted, in bytes.
pub const MAX_BANK_REF_LEN: usize = 64;
/// Shortest and longest beneficiary account.
pub const BENEFICIARY_LEN: std::ops::RangeInclusive<usize> = 5..=34;

#[cw_serde]
pub struct Config {
    pub admin: Addr,
    /// C1 usage-proof, which holds the committee.
    pub usage_proof: Addr,
    /// C4 ledger, which holds the funds.
    pub ledger: Addr,
    pub currency: String,
    pub limits: Limits,
    /// Withdrawals are stopped.
    #[serde(default)]
    pub paused: bool,
}

impl usage_common::governance::Administered for Config {
    fn admin_mut(&mut self) -> &mut Addr {
        &mut self.admin
    }
}

impl Config {
    /// Only the admin.
    pub fn authorize(&self, sender: &Addr) -> Result<(), ContractError> {
        if sender != self.admin {
            return Err(ContractError::Unauthorized);
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ContractError> {
        let c = self.currency.as_bytes();
        if c.len() != 3 || !c.iter().all(u8::is_ascii_uppercase) {
            return Err(ContractError::InvalidConfig {
                reason: format!("currency {:?} is not an ISO 4217 code", self.currency),
            });
        }
        validate_limits(&self.limits)
    }

    pub fn to_response(&self) -> ConfigResponse {
        ConfigResponse {
            admin: self.admin.clone(),
            usage_proof: self.usage_proof.clone(),
            ledger: self.ledger.clone(),
            currency: self.currency.clone(),
            limits: self.limits.clone(),
            paused: self.paused,
        }
    }
}

pub fn validate_limits(limits: &Limits) -> Result<(), ContractError> {
    if limits.window_seconds == 0 {
        return Err(ContractError::InvalidConfig {
            reason: "the rolling window must be at least one second".to_string(),
        });
    }
    Ok(())
}

/// A beneficiary bank account: 5 to 34 ASCII letters and digits (IBAN-like).
pub fn validate_beneficiary(beneficiary: &str) -> Result<(), ContractError> {
    if !BENEFICIARY_LEN.contains(&beneficiary.len())
        || !beneficiary.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(ContractError::InvalidBeneficiary {
            beneficiary: beneficiary.to_string(),
        });
    }
    Ok(())
}

/// The name of a status, as events and errors show it.
pub fn status_name(status: &WithdrawalStatus) -> &'static str {
    match status {
        WithdrawalStatus::Delayed { .. } => "delayed",
        WithdrawalStatus::Requested => "requested",
        WithdrawalStatus::Instructed => "instructed",
        WithdrawalStatus::Completed { .. } => "completed",
        WithdrawalStatus::Failed { .. } => "failed",
        WithdrawalStatus::Cancelled => "cancelled",
    }
}

/// The refusal for a withdrawal whose status does not allow an action.
pub fn invalid_status(w: &Withdrawal) -> ContractError {
    ContractError::InvalidStatus {
        withdrawal_id: w.withdrawal_id,
        status: status_name(&w.status).to_string(),
    }
}

/// The payment instruction the committee signs for a withdrawal, built from stored state only.
/// `ApproveInstruction` verifies against it and `InstructionPayload` returns it.
pub fn instruction_payload(w: &Withdrawal) -> WithdrawalApproval {
    WithdrawalApproval {
        withdrawal_id: w.withdrawal_id,
        owner: w.owner.to_string(),
        amount: w.amount,
        currency: w.currency.clone(),
        beneficiary_account: w.beneficiary.clone(),
        end_to_end_id: w.end_to_end_id.clone(),
    }
}

/// One withdrawal counted against its owner's rolling limit, from the time it became payable.
#[cw_serde]
pub struct RollingEntry {
    /// Block time (seconds) at which the withdrawal became `Requested`.
    pub at: u64,
    pub amount: Uint128,
}

/// An owner's entries still inside the window ending at `now`.
pub fn rolling_entries(
    storage: &dyn Storage,
    owner: &Addr,
    now: u64,
    window_seconds: u64,
) -> Result<Vec<RollingEntry>, ContractError> {
    let from = now.saturating_sub(window_seconds);
    let mut entries = ROLLING.may_load(storage, owner)?.unwrap_or_default();
    entries.retain(|e| e.at >= from);
    Ok(entries)
}

/// Sum of the entries' amounts.
pub fn rolling_used(entries: &[RollingEntry]) -> Result<Uint128, ContractError> {
    entries
        .iter()
        .try_fold(Uint128::zero(), |sum, e| Ok(sum.checked_add(e.amount)?))
}

/// Stores an owner's (pruned) entries; an owner without entries has no record.
pub fn save_rolling(
    storage: &mut dyn Storage,
    owner: &Addr,
    entries: Vec<RollingEntry>,
) -> Result<(), ContractError> {
    if entries.is_empty() {
        ROLLING.remove(storage, owner);
    } else {
        ROLLING.save(storage, owner, &entries)?;
    }
    Ok(())
}

/// Configuration: admin, C1 and C4 addresses, currency and limits.
pub const CONFIG: Item<Config> = Item::new("cfg");
/// The admin hand-over and the timelock.
pub const GOV: usage_common::governance::Governance<
    usage_common::msg::withdrawal::WithdrawalChange,
> = usage_common::governance::governance();
/// Id the next withdrawal gets; ids start at 1.
pub const NEXT_ID: Item<u64> = Item::new("nid");
/// Withdrawals by id.
pub const WITHDRAWALS: Map<u64, Withdrawal> = Map::new("wdr");
/// Owner index: (owner, withdrawal id) for every withdrawal.
pub const OWNER_INDEX: Map<(&Addr, u64), Empty> = Map::new("own");
/// Consumed withdrawal voucher bank references, with the withdrawal each settled.
pub const BANK_REFS: Map<&str, u64> = Map::new("brf");
/// Per owner, the withdrawals counted against the rolling limit (pruned as they age out).
pub const ROLLING: Map<&Addr, Vec<RollingEntry>> = Map::new("rol");
