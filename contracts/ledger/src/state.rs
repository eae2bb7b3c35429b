//! Storage of C4: configuration, balances, credited deposits and the running totals.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Uint128};
use cw_storage_plus::{Item, Map};
use usage_common::msg::ledger::{AccountResponse, ConfigResponse, Deposit, TotalSupplyResponse};

use crate::error::ContractError;

/// Longest bank reference accepted, in bytes.
pub const MAX_BANK_REF_LEN: usize = 64;

#[cw_serde]
pub struct Config {
    pub admin: Addr,
    /// C1 usage-proof, which holds the committee.
    pub usage_proof: Addr,
    pub currency: String,
    pub decimals: u8,
    /// C3 settlement, allowed to move funds.
    pub settlement: Option<Addr>,
    /// C5 withdrawal, allowed to move funds.
    pub withdrawal: Option<Addr>,
    /// Deposits are stopped.
    #[serde(default)]
    pub paused: bool,
}

/// Which of the two contracts allowed to move funds is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    Settlement,
    Withdrawal,
}

impl usage_common::governance::Administered for Config {
    fn admin_mut(&mut self) -> &mut Addr {
        &mut self.admin
    }
}

impl Config {
    /// Only the admin.
    pub fn authorize_admin(&self, sender: &Addr) -> Result<(), ContractError> {
        if sender != self.admin {
            return Err(ContractError::Unauthorized);
        }
        Ok(())
    }

    /// Only C3 settlement or C5 withdrawal; says which one.
    pub fn authorize_mover(&self, sender: &Addr) -> Result<Mover, ContractError> {
        if self.settlement.as_ref() == Some(sender) {
            Ok(Mover::Settlement)
        } else if self.withdrawal.as_ref() == Some(sender) {
            Ok(Mover::Withdrawal)
        } else {
            Err(ContractError::Unauthorized)
        }
    }

    /// The two fund movers must differ, so every debit is attributed to exactly one flow.
    pub fn validate(&self) -> Result<(), ContractError> {
        if self.settlement.is_some() && self.settlement == self.withdrawal {
            return Err(ContractError::InvalidConfig {
                reason: "settlement and withdrawal must be different contracts".to_string(),
            });
        }
        let c = self.currency.as_bytes();
        if c.len() != 3 || !c.iter().all(u8::is_ascii_uppercase) {
            return Err(ContractError::InvalidConfig {
                reason: format!("currency {:?} is not an ISO 4217 code", self.currency),
            });
        }
        if self.decimals > 18 {
            return Err(ContractError::InvalidConfig {
                reason: format!("{} decimals is more than 18", self.decimals),
            });
        }
        Ok(())
    }

    pub fn to_response(&self) -> ConfigResponse {
        ConfigResponse {
            admin: self.admin.clone(),
            usage_proof: self.usage_proof.clone(),
            currency: self.currency.clone(),
            decimals: self.decimals,
            settlement: self.settlement.clone(),
            withdrawal: self.withdrawal.clone(),
            paused: self.paused,
        }
    }
}

/// One address's funds. Locked funds are kept apart per contract that locked them, so C3 can
/// only unlock or debit what C3 locked and C5 only what C5 locked. Every part is a `Uint128`
/// changed only by checked arithmetic, so a balance can never become negative.
#[cw_serde]
#[derive(Default)]
pub struct Balance {
    pub available: Uint128,
    /// Locked by C3 settlement for settlements in flight.
    pub locked_settlement: Uint128,
    /// Locked by C5 withdrawal for withdrawals in flight.
    pub locked_withdrawal: Uint128,
}

impl Balance {
    fn locked_by(&mut self, mover: Mover) -> &mut Uint128 {
        match mover {
            Mover::Settlement => &mut self.locked_settlement,
            Mover::Withdrawal => &mut self.locked_withdrawal,
        }
    }

    /// All locked funds, whoever locked them.
    pub fn locked(&self) -> Result<Uint128, ContractError> {
        Ok(self.locked_settlement.checked_add(self.locked_withdrawal)?)
    }

    pub fn credit(&mut self, amount: Uint128) -> Result<(), ContractError> {
        self.available = self.available.checked_add(amount)?;
        Ok(())
    }

    pub fn lock(&mut self, amount: Uint128, mover: Mover) -> Result<(), ContractError> {
        let available = self.available;
        self.available =
            available
                .checked_sub(amount)
                .map_err(|_| ContractError::InsufficientBalance {
                    needed: amount,
                    available,
                })?;
        let locked = self.locked_by(mover);
        *locked = locked.checked_add(amount)?;
        Ok(())
    }

    pub fn unlock(&mut self, amount: Uint128, mover: Mover) -> Result<(), ContractError> {
        self.take_locked(amount, mover)?;
        self.available = self.available.checked_add(amount)?;
        Ok(())
    }

    /// Removes `amount` from what `mover` locked (it left the ledger, or is being unlocked).
    pub fn take_locked(&mut self, amount: Uint128, mover: Mover) -> Result<(), ContractError> {
        let locked = self.locked_by(mover);
        *locked = locked
            .checked_sub(amount)
            .map_err(|_| ContractError::InsufficientLocked {
                needed: amount,
                locked: *locked,
            })?;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.available.is_zero()
            && self.locked_settlement.is_zero()
            && self.locked_withdrawal.is_zero()
    }

    pub fn to_response(&self) -> Result<AccountResponse, ContractError> {
        Ok(AccountResponse {
            available: self.available,
            locked: self.locked()?,
        })
    }
}

/// The running totals of the ledger.
///
/// Invariant: `total == sum over all balances of (available + locked)
/// == deposited - settled - withdrawn`, and `locked == sum of all locked parts`.
#[cw_serde]
#[derive(Default)]
pub struct Totals {
    pub total: Uint128,
    pub locked: Uint128,
    pub deposited: Uint128,
    pub settled: Uint128,
    pub withdrawn: Uint128,
}

impl Totals {
    pub fn deposit(&mut self, amount: Uint128) -> Result<(), ContractError> {
        self.deposited = self.deposited.checked_add(amount)?;
        self.total = self.total.checked_add(amount)?;
        Ok(())
    }

    pub fn lock(&mut self, amount: Uint128) -> Result<(), ContractError> {
        self.locked = self.locked.checked_add(amount)?;
        Ok(())
    }

    pub fn unlock(&mut self, amount: Uint128) -> Result<(), ContractError> {
        self.locked = self.locked.checked_sub(amount)?;
        Ok(())
    }

    /// Locked funds of a flow left the ledger (paid out by the bank).
    pub fn debit(&mut self, amount: Uint128, by: Mover) -> Result<(), ContractError> {
        self.locked = self.locked.checked_sub(amount)?;
        self.total = self.total.checked_sub(amount)?;
        match by {
            Mover::Settlement => self.settled = self.settled.checked_add(amount)?,
            Mover::Withdrawal => self.withdrawn = self.withdrawn.checked_add(amount)?,
        }
        Ok(())
    }

    pub fn to_response(&self) -> TotalSupplyResponse {
        TotalSupplyResponse {
            total: self.total,
            locked: self.locked,
            deposited: self.deposited,
            settled: self.settled,
            withdrawn: self.withdrawn,
        }
    }
}

/// Configuration: admin, C1 address, currency and the two contracts allowed to move funds.
pub const CONFIG: Item<Config> = Item::new("cfg");
/// The admin hand-over and the timelock.
pub const GOV: usage_common::governance::Governance<usage_common::msg::ledger::LedgerChange> =
    usage_common::governance::governance();
/// Balances by address; an address without an entry has nothing (entries that reach zero are removed).
pub const BALANCES: Map<&Addr, Balance> = Map::new("bal");
/// Credited deposits by bank reference; a reference present here is consumed.
pub const DEPOSITS: Map<&str, Deposit> = Map::new("dep");
/// Running totals, updated with every balance change.
pub const TOTALS: Item<Totals> = Item::new("tot");
