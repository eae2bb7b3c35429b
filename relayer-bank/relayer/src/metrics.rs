//! The relayer's metrics (`usage_relayer_…`), served on its metrics address.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// Counters of what the relayer did.
#[derive(Debug, Clone)]
pub struct RelayerMetrics {
    /// The registry they are exposed from.
    pub registry: Arc<Registry>,
    /// Instruction approvals recorded on chain.
    pub approvals: Counter,
    /// pain.001 messages the bank accepted.
    pub instructions_sent: Counter,
    /// Settlement and withdrawal vouchers recorded on chain.
    pub vouchers_recorded: Counter,
    /// Deposits credited on C4.
    pub deposits_credited: Counter,
    /// Credits parked: their reference names no chain address.
    pub deposits_parked: Counter,
    /// Steps that failed and will be retried.
    pub errors: Counter,
}

impl Default for RelayerMetrics {
    fn default() -> Self {
        let mut registry =
            usage_service::metrics::registry("usage_relayer", env!("CARGO_PKG_VERSION"));
        let m = RelayerMetrics {
            registry: Arc::new(Registry::default()),
            approvals: Counter::default(),
            instructions_sent: Counter::default(),
            vouchers_recorded: Counter::default(),
            deposits_credited: Counter::default(),
            deposits_parked: Counter::default(),
            errors: Counter::default(),
        };
        for (name, help, c) in [
            (
                "approvals",
                "Instruction approvals recorded on chain",
                &m.approvals,
            ),
            (
                "instructions_sent",
                "pain.001 messages the bank accepted",
                &m.instructions_sent,
            ),
            (
                "vouchers_recorded",
                "Settlement and withdrawal vouchers recorded on chain",
                &m.vouchers_recorded,
            ),
            (
                "deposits_credited",
                "Deposits credited on C4",
                &m.deposits_credited,
            ),
            (
                "deposits_parked",
                "Credits whose reference names no chain address",
                &m.deposits_parked,
            ),
            ("errors", "Steps that failed and will be retried", &m.errors),
        ] {
            registry.register(name, help, c.clone());
        }
        RelayerMetrics {
            registry: Arc::new(registry),
            ..m
        }
    }
}
