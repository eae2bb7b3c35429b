//! C3 settlement: tariffs, settlement requests and their bank clearing.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Uint128};

use crate::committee::ThresholdSignature;
// The response types are named only by the schema derive, which wasm builds leave out.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::governance::{GovernanceMsg, GovernanceResponse, PendingChangesResponse};
// The approval types appear only in `#[returns]`, which is compiled out for wasm.
#[cfg_attr(target_arch = "wasm32", allow(unused_imports))]
use crate::payload::{SettlementApproval, SettlementVoucher};
use crate::record::{Metric, Totals};

/// Price of one metric: `price` minor units per `per_units` metric units.
#[cw_serde]
pub struct TariffLine {
    pub metric: Metric,
    pub price: Uint128,
    pub per_units: Uint128,
}

/// How usage is priced.
///
/// Rounding: each line is `floor(total × price / per_units)` — never in the payer's disfavour, and
/// at most one minor unit per line below the exact amount. The bill is the sum of the lines.
#[cw_serde]
pub struct Tariff {
    /// ISO 4217 currency code of the deployment.
    pub currency: String,
    pub lines: Vec<TariffLine>,
    /// A period billing less than this is deferred: its amount is carried into the next
    /// settlement of the same (provider, tenant).
    pub minimum_amount: Uint128,
}

/// What a line left below one minor unit, carried into the next period's price of the same
/// (provider, tenant): `numerator / per_units` of a minor unit.
#[cw_serde]
pub struct Residue {
    pub metric: Metric,
    pub per_units: Uint128,
    pub numerator: Uint128,
}

/// Why a tariff could not price totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    /// A line's `per_units` is zero.
    ZeroUnit { metric: Metric },
    /// The amount does not fit 128 bits.
    Overflow { metric: Metric },
}

impl Tariff {
    /// Prices totals line by line (see the rounding rule on [`Tariff`]).
    pub fn price(&self, totals: &Totals) -> Result<Uint128, PricingError> {
        Ok(self.price_carrying(totals, &[])?.0)
    }

    /// Prices totals line by line, adding what earlier periods left below one minor unit, and
    /// returns what this one leaves. A residue kept for another unit size (the tariff changed) is
    /// dropped: it is less than one minor unit.
    pub fn price_carrying(
        &self,
        totals: &Totals,
        carried: &[Residue],
    ) -> Result<(Uint128, Vec<Residue>), PricingError> {
        let mut sum = Uint128::zero();
        let mut left = Vec::new();
        for line in &self.lines {
            if line.per_units.is_zero() {
                return Err(PricingError::ZeroUnit {
                    metric: line.metric,
                });
            }
            let overflow = PricingError::Overflow {
                metric: line.metric,
            };
            let carry = carried
                .iter()
                .find(|r| r.metric == line.metric && r.per_units == line.per_units)
                .map_or(Uint128::zero(), |r| r.numerator);
            let exact = Uint128::new(totals.get(line.metric))
                .full_mul(line.price)
                .checked_add(carry.into())
                .map_err(|_| overflow.clone())?;
            let per = cosmwasm_std::Uint256::from(line.per_units);
            let amount = exact.checked_div(per).map_err(|_| overflow.clone())?;
            let rest = exact.checked_rem(per).map_err(|_| overflow.clone())?;
            let amount = Uint128::try_from(amount).map_err(|_| overflow.clone())?;
            let rest = Uint128::try_from(rest).map_err(|_| overflow.clone())?;
            sum = sum.checked_add(amount).map_err(|_| overflow)?;
            if !rest.is_zero() {
                left.push(Residue {
                    metric: line.metric,
                    per_units: line.per_units,
                    numerator: rest,
                });
            }
        }
        Ok((sum, left))
    }
}

#[cw_serde]
pub struct InstantiateMsg {
    pub admin: Option<String>,
    /// C1 usage-proof (holds the committee).
    pub usage_proof: String,
    /// C2 period-proof.
    pub period_proof: String,
    /// C4 ledger.
    pub ledger: String,
    pub tariff: Tariff,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// A provider: sets the bank account its settlements are paid to.
    SetPayeeAccount { account: String },
    /// Anyone: prices a final second proof and locks the tenant's funds in C4.
    RequestSettlement {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// Anyone: records the committee's approval of the payment instruction (the signed body is
    /// the one `InstructionPayload` returns).
    ApproveInstruction {
        settlement_id: u64,
        signature: ThresholdSignature,
    },
    /// Anyone: applies the bank's committee-confirmed booking; each bank reference once.
    RecordVoucher {
        voucher: SettlementVoucher,
        signature: ThresholdSignature,
    },
    /// C2 period-proof only, when it seals a period: locks the period's price (as much of it as
    /// the tenant has available) in C4, so proven usage cannot be withdrawn before it is paid.
    EscrowPeriod {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// C2 period-proof only, when a tenant disputes a period: locks the dispute's bond in C4.
    EscrowBond {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// Admin: a new tariff for the periods that start at or after `effective_from`, which must
    /// be in the future: a period is always priced with the tariff in force at its start.
    UpdateTariff { tariff: Tariff, effective_from: u64 },
    /// Two-step admin hand-over and the timelock.
    Governance(GovernanceMsg<SettlementChange>),
}

/// What C3's admin may change only through the timelock (tariffs are never retroactive and need
/// none).
#[cw_serde]
pub enum SettlementChange {
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
    #[returns(PendingChangesResponse<SettlementChange>)]
    PendingChanges {},
    #[returns(SettlementResponse)]
    Settlement { settlement_id: u64 },
    #[returns(SettlementsResponse)]
    Settlements {
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    /// The latest settlement of a (provider, tenant, period), if one was requested.
    #[returns(SettlementResponse)]
    SettlementForPeriod {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// The instruction body the committee signs for `ApproveInstruction`.
    #[returns(SettlementApproval)]
    InstructionPayload { settlement_id: u64 },
    /// What a final period would cost (with the tariff in force at its start).
    #[returns(QuoteResponse)]
    Quote {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    #[returns(PayeeAccountResponse)]
    PayeeAccount { provider: String },
    /// What is escrowed in C4 for a proven, not yet settled period.
    #[returns(EscrowResponse)]
    Escrow {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    /// What deferred periods of a (provider, tenant) carry into its next settlement.
    #[returns(CarryResponse)]
    Carried { provider: String, tenant: String },
    /// Every tariff with the second it takes effect from, ascending.
    #[returns(TariffsResponse)]
    Tariffs {},
}

#[cw_serde]
#[derive(Default)]
pub struct Escrow {
    /// The period's price, or what the tenant had available when it was proven.
    pub usage: Uint128,
    /// The dispute bond.
    pub bond: Uint128,
}

#[cw_serde]
pub struct EscrowResponse {
    pub escrow: Escrow,
}

/// What deferred periods leave for the next settlement of a (provider, tenant).
#[cw_serde]
#[derive(Default)]
pub struct Carry {
    /// Amounts of periods below the minimum, not yet settled.
    pub amount: Uint128,
    /// Of the funds locked for them, what is still locked.
    pub escrowed: Uint128,
    /// Deferred periods.
    pub periods: u32,
    /// What the lines left below one minor unit.
    pub residues: Vec<Residue>,
}

#[cw_serde]
pub struct CarryResponse {
    pub carry: Carry,
}

#[cw_serde]
pub struct TariffsResponse {
    /// (effective from, tariff), ascending.
    pub tariffs: Vec<(u64, Tariff)>,
}

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Addr,
    pub usage_proof: Addr,
    pub period_proof: Addr,
    pub ledger: Addr,
    /// The tariff in force now.
    pub tariff: Tariff,
}

/// requested -> instructed -> cleared | failed
#[cw_serde]
pub enum SettlementStatus {
    Requested,
    Instructed,
    Cleared { bank_ref: String },
    Failed { bank_ref: String },
}

#[cw_serde]
pub struct Settlement {
    pub settlement_id: u64,
    pub provider: Addr,
    pub tenant: Addr,
    pub period_start: u64,
    pub amount: Uint128,
    pub currency: String,
    pub payee_account: String,
    pub end_to_end_id: String,
    pub status: SettlementStatus,
    pub requested_at: u64,
    /// What the bill is made of: this period's usage (capped by its leases) …
    #[serde(default)]
    pub usage_amount: Uint128,
    /// … amounts carried from earlier deferred periods …
    #[serde(default)]
    pub carried_amount: Uint128,
    /// … and a dispute bond forfeited to the provider.
    #[serde(default)]
    pub forfeited_bond: Uint128,
    /// Records of this period proven after their own period closed.
    #[serde(default)]
    pub late_records: u64,
    /// The leases' price cap lowered the usage amount.
    #[serde(default)]
    pub capped: bool,
}

#[cw_serde]
pub struct SettlementResponse {
    pub settlement: Option<Settlement>,
}

#[cw_serde]
pub struct SettlementsResponse {
    pub settlements: Vec<Settlement>,
}

#[cw_serde]
pub struct QuoteResponse {
    pub totals: Totals,
    /// This period's usage alone (capped), without carried amounts or bonds.
    pub amount: Uint128,
    pub currency: String,
    pub meets_minimum: bool,
}

#[cw_serde]
pub struct PayeeAccountResponse {
    pub account: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tariff(lines: Vec<(Metric, u128, u128)>) -> Tariff {
        Tariff {
            currency: "CNY".into(),
            lines: lines
                .into_iter()
                .map(|(metric, price, per)| TariffLine {
                    metric,
                    price: Uint128::new(price),
                    per_units: Uint128::new(per),
                })
                .collect(),
            minimum_amount: Uint128::zero(),
        }
    }

    #[test]
    fn each_line_rounds_down_and_lines_add_up() {
        let t = tariff(vec![
            (Metric::NetTxBytes, 3, 1_000_000),
            (Metric::CpuTimeUs, 1, 1_000),
        ]);
        let totals = Totals {
            net_tx_bytes: 2_999_999,
            cpu_time_us: 10_500,
            ..Default::default()
        };
        // 2_999_999 * 3 / 1e6 = 8.99 -> 8; 10_500 / 1000 = 10.5 -> 10
        assert_eq!(t.price(&totals), Ok(Uint128::new(18)));
    }

    #[test]
    fn a_zero_unit_or_an_overflow_is_a_typed_error() {
        let t = tariff(vec![(Metric::NetRxBytes, 1, 0)]);
        assert_eq!(
            t.price(&Totals::default()),
            Err(PricingError::ZeroUnit {
                metric: Metric::NetRxBytes
            })
        );
        let t = tariff(vec![(Metric::NetRxBytes, u128::MAX, 1)]);
        let totals = Totals {
            net_rx_bytes: 2,
            ..Default::default()
        };
        assert_eq!(
            t.price(&totals),
            Err(PricingError::Overflow {
                metric: Metric::NetRxBytes
            })
        );
    }
}
