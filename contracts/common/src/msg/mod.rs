//! Messages, responses and configuration types of the five contracts.

pub mod ledger;
pub mod period_proof;
pub mod settlement;
pub mod usage_proof;
pub mod withdrawal;

/// Page size when a query names none.
pub const DEFAULT_LIMIT: u32 = 30;
/// Largest page a query returns.
pub const MAX_LIMIT: u32 = 100;

/// The page size to use for a requested `limit`.
pub fn page_limit(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize
}

/// Migration message shared by all five contracts (no parameters yet).
#[cosmwasm_schema::cw_serde]
pub struct MigrateMsg {}
