//! Typed events of all five contracts. Contracts emit through [`TypedEvent::to_event`]; services and
//! tests read them back through [`TypedEvent::from_event`], so both sides use one definition.
//!
//! Convention: event types and attribute keys are snake_case; ids and amounts are decimal strings,
//! hashes and keys lower-case hex. On chain each appears as `wasm-<type>` with `_contract_address`
//! first, which [`TypedEvent::from_event`] accepts as well.

use cosmwasm_std::{Attribute, Event, HexBinary, Uint128};
use thiserror::Error;

/// Why an event could not be read as a typed event.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum EventParseError {
    #[error("event type {got} is not {expected}")]
    WrongType { expected: String, got: String },
    #[error("event {event} has no attribute {key}")]
    MissingAttribute {
        event: &'static str,
        key: &'static str,
    },
    #[error("attribute {key} of {event} has an invalid value {value:?}")]
    InvalidValue {
        event: &'static str,
        key: &'static str,
        value: String,
    },
}

/// A value that travels as an event attribute.
pub trait AttrValue: Sized {
    fn to_attr(&self) -> String;
    fn from_attr(s: &str) -> Option<Self>;
}

impl AttrValue for String {
    fn to_attr(&self) -> String {
        self.clone()
    }
    fn from_attr(s: &str) -> Option<Self> {
        Some(s.to_string())
    }
}

macro_rules! parse_attr {
    ($($t:ty),*) => {$(
        impl AttrValue for $t {
            fn to_attr(&self) -> String {
                self.to_string()
            }
            fn from_attr(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}
parse_attr!(u64, u32, bool, Uint128);

impl AttrValue for HexBinary {
    fn to_attr(&self) -> String {
        self.to_hex()
    }
    fn from_attr(s: &str) -> Option<Self> {
        HexBinary::from_hex(s).ok()
    }
}

/// An event with a fixed type and typed attributes.
pub trait TypedEvent: Sized {
    /// The contract-level event type (without wasmd's `wasm-` prefix).
    const TYPE: &'static str;

    fn to_event(&self) -> Event;

    fn from_attributes(attrs: &[Attribute]) -> Result<Self, EventParseError>;

    /// Reads an event of type `TYPE` or `wasm-TYPE`.
    fn from_event(event: &Event) -> Result<Self, EventParseError> {
        let ty = event.ty.strip_prefix("wasm-").unwrap_or(&event.ty);
        if ty != Self::TYPE {
            return Err(EventParseError::WrongType {
                expected: Self::TYPE.to_string(),
                got: event.ty.clone(),
            });
        }
        Self::from_attributes(&event.attributes)
    }

    /// Every event of this type in `events`, in order.
    fn all_in(events: &[Event]) -> Vec<Self> {
        events
            .iter()
            .filter_map(|e| Self::from_event(e).ok())
            .collect()
    }
}

fn attr<T: AttrValue>(
    attrs: &[Attribute],
    event: &'static str,
    key: &'static str,
) -> Result<T, EventParseError> {
    let raw = attrs
        .iter()
        .find(|a| a.key == key)
        .ok_or(EventParseError::MissingAttribute { event, key })?;
    T::from_attr(&raw.value).ok_or_else(|| EventParseError::InvalidValue {
        event,
        key,
        value: raw.value.clone(),
    })
}

macro_rules! typed_event {
    ($(#[$m:meta])* $name:ident = $ty:literal { $($(#[$fm:meta])* $field:ident : $fty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name { $($(#[$fm])* pub $field: $fty),* }

        impl TypedEvent for $name {
            const TYPE: &'static str = $ty;

            fn to_event(&self) -> Event {
                Event::new($ty)$(.add_attribute(stringify!($field), AttrValue::to_attr(&self.$field)))*
            }

            fn from_attributes(attrs: &[Attribute]) -> Result<Self, EventParseError> {
                Ok(Self { $($field: attr(attrs, $ty, stringify!($field))?),* })
            }
        }
    };
}

// ---- every contract ----

typed_event!(
    /// A contract was instantiated or its configuration changed (`what`: instantiate,
    /// update_config, update_tariff, update_limits, update_admin); `admin` is the admin after it.
    ConfigUpdated = "config_updated" { what: String, admin: String }
);

impl ConfigUpdated {
    /// The event of a configuration change `what` (e.g. `update_config`), naming the admin after it.
    pub fn event(what: &str, admin: impl std::fmt::Display) -> Event {
        ConfigUpdated {
            what: what.to_string(),
            admin: admin.to_string(),
        }
        .to_event()
    }
}

// ---- C1 usage-proof ----

typed_event!(
    /// A new committee took over.
    CommitteeRotated = "committee_rotated" { epoch: u64, threshold: u32, members: u32 }
);
typed_event!(
    /// A terminal was registered or its registration changed.
    TerminalRegistered = "terminal_registered" {
        terminal_id: String, provider: String, tee: String, measurement: HexBinary
    }
);
typed_event!(
    /// A terminal was deactivated: its records are refused from now on.
    TerminalDeactivated = "terminal_deactivated" { terminal_id: String }
);
typed_event!(
    /// An enclave measurement was allowed (`allowed = true`) or revoked.
    MeasurementChanged = "measurement_changed" { measurement: HexBinary, allowed: bool }
);
typed_event!(
    /// A committee-signed usage batch was accepted.
    UsageBatchAccepted = "usage_batch" { batch_id: u64, root: HexBinary, records: u32, epoch: u64 }
);
typed_event!(
    /// A first proof was recorded for (terminal, window). Kept to two attributes: a batch emits
    /// one per record, and a contract's whole response must stay under the VM's 256 KiB limit.
    UsageProofRecorded = "usage_proof" { terminal_id: String, window_start: u64 }
);
typed_event!(
    /// The first proof of (terminal, window) was recorded after the window's own period had
    /// closed: it is billed in `period_start`, the period open when it was proven. Emitted beside
    /// its `usage_proof` event.
    LateUsageRecorded = "late_usage" { terminal_id: String, window_start: u64, period_start: u64 }
);
typed_event!(
    /// A batch appended `appended` first proofs (`late` of them late) to the accumulator of
    /// (provider, tenant, period), which now holds `size`; keepers watch it to know which
    /// periods to prove.
    AccumulatorAppended = "usage_accumulated" {
        provider: String, tenant: String, period_start: u64, appended: u64, late: u64, size: u64
    }
);
typed_event!(
    /// C2 sealed the accumulator of (provider, tenant, period) at `size` records.
    AccumulatorSealed = "accumulator_sealed" {
        provider: String, tenant: String, period_start: u64, size: u64
    }
);
typed_event!(
    /// A tenant consented to be billed for a terminal's windows from `start` (`end` 0: open-ended).
    LeaseOpened = "lease_opened" {
        terminal_id: String, tenant: String, provider: String, start: u64, end: u64
    }
);
typed_event!(
    /// A lease was ended at `end` (`removed` if it ended before it started).
    LeaseClosed = "lease_closed" {
        terminal_id: String, tenant: String, start: u64, end: u64, removed: bool, by: String
    }
);

// ---- C2 period-proof ----

typed_event!(
    /// A second proof sealed a (provider, tenant, period).
    PeriodProven = "period_proof" {
        provider: String, tenant: String, period_start: u64, root: HexBinary, records: u64
    }
);
typed_event!(
    /// The tenant disputed a period.
    DisputeOpened = "dispute_opened" {
        provider: String, tenant: String, period_start: u64, reason: String
    }
);
typed_event!(
    /// The committee closed a dispute (`outcome` is `upheld` or `adjusted`).
    DisputeResolved = "dispute_resolved" {
        provider: String, tenant: String, period_start: u64, outcome: String
    }
);

// ---- C3 settlement ----

typed_event!(
    /// A provider set the bank account its settlements are paid to.
    PayeeAccountSet = "payee_account_set" { provider: String, account: String }
);
typed_event!(
    /// A final period was priced and the tenant's funds locked.
    SettlementRequested = "settlement_requested" {
        settlement_id: u64, provider: String, tenant: String, period_start: u64,
        amount: Uint128, currency: String
    }
);
typed_event!(
    /// A period billed below the minimum: its amount is carried into the next settlement of the
    /// same (provider, tenant).
    SettlementDeferred = "settlement_deferred" {
        provider: String, tenant: String, period_start: u64, amount: Uint128, carried: Uint128
    }
);
typed_event!(
    /// Funds of a tenant escrowed for a proven period (`what` is `usage` or `bond`); `locked`
    /// may be less than `amount` if the tenant had less available.
    FundsEscrowed = "funds_escrowed" {
        provider: String, tenant: String, period_start: u64, what: String, amount: Uint128,
        locked: Uint128
    }
);
typed_event!(
    /// The committee approved the payment instruction.
    SettlementInstructed = "settlement_instructed" {
        settlement_id: u64, end_to_end_id: String, amount: Uint128, payee_account: String
    }
);
typed_event!(
    /// The bank booked the payment; the tenant's locked funds were debited.
    SettlementCleared = "settlement_cleared" { settlement_id: u64, bank_ref: String, amount: Uint128 }
);
typed_event!(
    /// The bank rejected the payment; the tenant's funds were unlocked.
    SettlementFailed = "settlement_failed" { settlement_id: u64, bank_ref: String, amount: Uint128 }
);

// ---- C4 ledger ----

typed_event!(
    /// A committee-signed bank credit was credited.
    DepositCredited = "deposit" { bank_ref: String, beneficiary: String, amount: Uint128 }
);
typed_event!(
    /// Funds moved between available and locked, or left the ledger (`kind`: lock, unlock, debit).
    FundsMoved = "funds_moved" { kind: String, owner: String, amount: Uint128, by: String }
);

// ---- C5 withdrawal ----

typed_event!(
    /// A withdrawal was requested (`status`: requested or delayed; `release_at` 0 unless delayed).
    WithdrawalRequested = "withdrawal_requested" {
        withdrawal_id: u64, owner: String, amount: Uint128, beneficiary_account: String,
        status: String, release_at: u64
    }
);
typed_event!(
    /// A delayed withdrawal became payable.
    WithdrawalReleased = "withdrawal_released" { withdrawal_id: u64 }
);
typed_event!(
    /// The committee approved the payment instruction.
    WithdrawalInstructed = "withdrawal_instructed" { withdrawal_id: u64, end_to_end_id: String }
);
typed_event!(
    /// The bank paid the withdrawal; the locked funds left the ledger.
    WithdrawalCompleted = "withdrawal_completed" { withdrawal_id: u64, bank_ref: String, amount: Uint128 }
);
typed_event!(
    /// The bank rejected the withdrawal; the funds were unlocked.
    WithdrawalFailed = "withdrawal_failed" { withdrawal_id: u64, bank_ref: String, amount: Uint128 }
);
typed_event!(
    /// The owner cancelled a withdrawal before it was instructed; the funds were unlocked.
    WithdrawalCancelled = "withdrawal_cancelled" { withdrawal_id: u64, amount: Uint128 }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_its_struct_and_accepts_the_wasm_prefix() {
        let ev = DepositCredited {
            bank_ref: "CAMT-1".into(),
            beneficiary: "usage1xyz".into(),
            amount: Uint128::new(500),
        };
        let mut e = ev.to_event();
        assert_eq!(e.ty, "deposit");
        assert_eq!(DepositCredited::from_event(&e), Ok(ev.clone()));
        e.ty = "wasm-deposit".into();
        e.attributes.insert(
            0,
            Attribute {
                key: "_contract_address".into(),
                value: "usage1c4".into(),
            },
        );
        assert_eq!(DepositCredited::all_in(&[e]), vec![ev]);
    }

    #[test]
    fn a_missing_or_malformed_attribute_is_a_typed_error() {
        let e = Event::new("deposit").add_attribute("bank_ref", "x");
        assert_eq!(
            DepositCredited::from_event(&e),
            Err(EventParseError::MissingAttribute {
                event: "deposit",
                key: "beneficiary"
            })
        );
        let e = Event::new("usage_batch")
            .add_attribute("batch_id", "seven")
            .add_attribute("root", "00")
            .add_attribute("records", "1")
            .add_attribute("epoch", "1");
        assert!(matches!(
            UsageBatchAccepted::from_event(&e),
            Err(EventParseError::InvalidValue {
                key: "batch_id",
                ..
            })
        ));
    }
}
