//! The dashboard's metrics (`usage_dashboard_…`), served at `GET /metrics` beside the page.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// What the dashboard did.
#[derive(Debug, Clone)]
pub struct DashboardMetrics {
    /// The registry they are exposed from.
    pub registry: Arc<Registry>,
    /// Overviews read from the chain.
    pub overviews: Counter,
    /// Smart queries and status calls that failed.
    pub query_failures: Counter,
    /// The latest height seen.
    pub height: Gauge,
    /// How long reading one overview took.
    pub overview_seconds: Histogram,
    /// Pages following the live updates now.
    pub live_clients: Gauge,
}

impl Default for DashboardMetrics {
    fn default() -> Self {
        let mut registry =
            usage_service::metrics::registry("usage_dashboard", env!("CARGO_PKG_VERSION"));
        let overviews = Counter::default();
        let query_failures = Counter::default();
        let height = Gauge::default();
        let overview_seconds = Histogram::new(usage_service::metrics::latency_buckets());
        let live_clients = Gauge::default();
        registry.register(
            "overviews",
            "Overviews read from the chain",
            overviews.clone(),
        );
        registry.register(
            "query_failures",
            "Smart queries and status calls that failed",
            query_failures.clone(),
        );
        registry.register("height", "The latest height seen", height.clone());
        registry.register(
            "overview_duration_seconds",
            "How long reading one overview took",
            overview_seconds.clone(),
        );
        registry.register(
            "live_clients",
            "Pages following the live updates now",
            live_clients.clone(),
        );
        DashboardMetrics {
            registry: Arc::new(registry),
            overviews,
            query_failures,
            height,
            overview_seconds,
            live_clients,
        }
    }
}
