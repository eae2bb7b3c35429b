//! C4 ledger: balances mirrored from the bank's custodial account.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Uint128};

use crate::committee::ThresholdSignature;
// The response types are named only by the schema derive, which wasm builds leave out.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::governance::{GovernanceMsg, GovernanceResponse, PendingChangesResponse};
use crate::payload::DepositVoucher;

#[cw_serde]
pub struct InstantiateMsg {
    pub admin: Option<String>,
    /// C1 usage-proof (holds the committee).
    pub usage_proof: String,
    /// ISO 4217 code of the deployment's currency.
    pub currency: String,
    /// Decimals of the currency's minor unit (2 for CNY), shown by wallets.
    pub decimals: u8,
    /// C3 settlement, allowed to lock, unlock and debit; may be set later.
    pub settlement: Option<String>,
    /// C5 withdrawal, allowed to lock, unlock and debit; may be set later.
    pub withdrawal: Option<String>,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// Anyone: credits a committee-signed bank credit, once per bank reference.
    Deposit {
        voucher: DepositVoucher,
        signature: ThresholdSignature,
    },
    /// C3 or C5: moves `amount` of `owner` from available to locked.
    Lock { owner: String, amount: Uint128 },
    /// C3 or C5: moves `amount` of `owner` from locked back to available.
    Unlock { owner: String, amount: Uint128 },
    /// C3 or C5: removes `amount` of `owner`'s locked funds (paid out by the bank).
    DebitLocked { owner: String, amount: Uint128 },
    /// Admin: sets the contracts allowed to move funds where none is set yet (replacing one is
    /// a timelocked change).
    UpdateConfig {
        settlement: Option<String>,
        withdrawal: Option<String>,
    },
    /// Admin: stops (`true`) or resumes deposits at once.
    SetPaused { paused: bool },
    /// Two-step admin hand-over and the timelock.
    Governance(GovernanceMsg<LedgerChange>),
}

/// What C4's admin may change only through the timelock.
#[cw_serde]
pub enum LedgerChange {
    /// Replaces the fund movers.
    Movers {
        settlement: Option<String>,
        withdrawal: Option<String>,
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
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(GovernanceResponse)]
    Governance {},
    #[returns(PendingChangesResponse<LedgerChange>)]
    PendingChanges {},
    /// cw20-style: the available balance of an address.
    #[returns(BalanceResponse)]
    Balance { address: String },
    /// Available and locked funds of an address.
    #[returns(AccountResponse)]
    Account { address: String },
    /// cw20-style token info, so wallets can show the balance.
    #[returns(TokenInfoResponse)]
    TokenInfo {},
    /// Supply and the flows that explain it.
    #[returns(TotalSupplyResponse)]
    TotalSupply {},
    /// A credited deposit by bank reference.
    #[returns(DepositResponse)]
    Deposit { bank_ref: String },
}

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Addr,
    pub usage_proof: Addr,
    pub currency: String,
    pub decimals: u8,
    pub settlement: Option<Addr>,
    pub withdrawal: Option<Addr>,
    /// Deposits are stopped.
    pub paused: bool,
}

/// Same shape as cw20's `BalanceResponse`.
#[cw_serde]
pub struct BalanceResponse {
    pub balance: Uint128,
}

#[cw_serde]
#[derive(Default)]
pub struct AccountResponse {
    pub available: Uint128,
    pub locked: Uint128,
}

/// Same shape as cw20's `TokenInfoResponse`.
#[cw_serde]
pub struct TokenInfoResponse {
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub total_supply: Uint128,
}

#[cw_serde]
#[derive(Default)]
pub struct TotalSupplyResponse {
    /// Sum of all balances, available plus locked.
    pub total: Uint128,
    pub locked: Uint128,
    /// Sum of all credited deposit vouchers.
    pub deposited: Uint128,
    /// Sum debited for cleared settlements.
    pub settled: Uint128,
    /// Sum debited for completed withdrawals.
    pub withdrawn: Uint128,
}

#[cw_serde]
pub struct Deposit {
    pub bank_ref: String,
    pub beneficiary: Addr,
    pub amount: Uint128,
    pub height: u64,
}

#[cw_serde]
pub struct DepositResponse {
    pub deposit: Option<Deposit>,
}
