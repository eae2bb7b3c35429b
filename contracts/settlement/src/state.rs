//! Storage of C3.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Order, StdResult, Storage};
use cw_storage_plus::{Bound, Item, Map};
use usage_common::msg::settlement::{Carry, Escrow, Settlement, Tariff};
use usage_common::payload::SettlementApproval;

use crate::error::ContractError;

/// Longest bank reference accepted (the ledger's limit too).
pub const MAX_BANK_REF_LEN: usize = 64;

#[cw_serde]
pub struct Config {
    /// Who may change the tariff and the admin.
    pub admin: Addr,
    /// C1 usage-proof: holds the committee.
    pub usage_proof: Addr,
    /// C2 period-proof: the second proofs that are billed.
    pub period_proof: Addr,
    /// C4 ledger: where the tenants' funds are locked and debited.
    pub ledger: Addr,
    /// The deployment's one currency (every tariff's).
    pub currency: String,
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

/// The body the committee signs to approve a settlement's payment instruction, built from the
/// stored settlement only (the `InstructionPayload` query returns the same).
pub fn instruction_payload(s: &Settlement) -> SettlementApproval {
    SettlementApproval {
        settlement_id: s.settlement_id,
        tenant: s.tenant.to_string(),
        provider: s.provider.to_string(),
        amount: s.amount,
        currency: s.currency.clone(),
        payee_account: s.payee_account.clone(),
        end_to_end_id: s.end_to_end_id.clone(),
    }
}

/// Configuration, admin and tariff.
pub const CONFIG: Item<Config> = Item::new("cfg");
/// The admin hand-over and the timelock.
pub const GOV: usage_common::governance::Governance<
    usage_common::msg::settlement::SettlementChange,
> = usage_common::governance::governance();
/// Settlements by id.
pub const SETTLEMENTS: Map<u64, Settlement> = Map::new("stl");
/// The latest settlement id of each (provider, tenant, period start). A period has at most one
/// live settlement; a new one may follow only one the bank rejected.
pub const PERIOD_SETTLEMENTS: Map<(&Addr, &Addr, u64), u64> = Map::new("psl");
/// The id the next settlement gets (ids start at 1).
pub const NEXT_SETTLEMENT_ID: Item<u64> = Item::new("nid");
/// Bank references of vouchers already applied, with the settlement each settled.
pub const USED_VOUCHERS: Map<&str, u64> = Map::new("vch");
/// Each provider's bank account for payouts.
pub const PAYEE_ACCOUNTS: Map<&Addr, String> = Map::new("pay");
/// Tariffs by the second they take effect from; the first from 0.
pub const TARIFFS: Map<u64, Tariff> = Map::new("trf");
/// Funds escrowed in C4 for a proven period not yet settled.
pub const ESCROWS: Map<(&Addr, &Addr, u64), Escrow> = Map::new("esc");
/// What deferred periods carry into the next settlement of a (provider, tenant).
pub const CARRIED: Map<(&Addr, &Addr), Carry> = Map::new("car");
/// Periods deferred into a later settlement (they are never requested again).
pub const DEFERRED: Map<(&Addr, &Addr, u64), ()> = Map::new("dfr");

/// The tariff in force at second `at`.
pub fn tariff_at(storage: &dyn Storage, at: u64) -> StdResult<Tariff> {
    TARIFFS
        .range(storage, None, Some(Bound::inclusive(at)), Order::Descending)
        .next()
        .transpose()?
        .map(|(_, t)| t)
        .ok_or_else(|| cosmwasm_std::StdError::msg("no tariff"))
}
