//! The bank simulator's metrics (`usage_bank_sim_…`), served on its metrics address.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// Counters of what the bank did.
#[derive(Debug, Clone)]
pub struct BankMetrics {
    /// The registry they are exposed from.
    pub registry: Arc<Registry>,
    /// Customer transfers into the custodial account.
    pub deposits: Counter,
    /// Payments from the custodial account booked.
    pub payments_booked: Counter,
    /// Payments from the custodial account rejected (final).
    pub payments_rejected: Counter,
    /// pain.001 messages refused at the gateway (malformed, unauthorised): nothing recorded.
    pub instructions_refused: Counter,
    /// Notifications delivered (duplicates included).
    pub notifications_served: Counter,
}

impl Default for BankMetrics {
    fn default() -> Self {
        let mut registry =
            usage_service::metrics::registry("usage_bank_sim", env!("CARGO_PKG_VERSION"));
        let m = BankMetrics {
            registry: Arc::new(Registry::default()),
            deposits: Counter::default(),
            payments_booked: Counter::default(),
            payments_rejected: Counter::default(),
            instructions_refused: Counter::default(),
            notifications_served: Counter::default(),
        };
        registry.register(
            "deposits",
            "Customer transfers into the custodial account",
            m.deposits.clone(),
        );
        registry.register(
            "payments_booked",
            "Payments from the custodial account booked",
            m.payments_booked.clone(),
        );
        registry.register(
            "payments_rejected",
            "Payments from the custodial account rejected (final)",
            m.payments_rejected.clone(),
        );
        registry.register(
            "instructions_refused",
            "pain.001 messages refused at the gateway, nothing recorded",
            m.instructions_refused.clone(),
        );
        registry.register(
            "notifications_served",
            "Notifications delivered, duplicates included",
            m.notifications_served.clone(),
        );
        BankMetrics {
            registry: Arc::new(registry),
            ..m
        }
    }
}
