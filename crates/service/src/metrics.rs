//! Metrics: a `prometheus-client` registry per service, with the `<service>_build_info` gauge
//! every service exports, latency buckets shared by the services' histograms, and the HTTP
//! endpoint (`GET /metrics`, OpenMetrics text) on an address of its own — operators keep it
//! private while the public API faces terminals and peers.

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

/// The path the metrics are served at.
pub const METRICS_PATH: &str = "/metrics";

/// A registry whose metrics are named `<service>_…`, holding `<service>_build_info{version}` = 1.
pub fn registry(service: &str, version: &str) -> Registry {
    let mut registry = Registry::with_prefix(service);
    let info = Family::<Vec<(String, String)>, Gauge>::default();
    info.get_or_create(&vec![("version".to_string(), version.to_string())])
        .set(1);
    registry.register("build_info", "The running build (always 1)", info);
    registry
}

/// Histogram buckets for latencies in seconds: 1 ms to about 65 s, doubling.
pub fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 17)
}

/// The OpenMetrics text exposition of `registry`.
pub fn render(registry: &Registry) -> String {
    let mut text = String::new();
    if let Err(e) = encode(&mut text, registry) {
        tracing::warn!(error = %e, "metrics not encoded");
    }
    text
}

/// Serves `registry` at `GET /metrics` on `listener` until `token` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let app = Router::new().route(
        METRICS_PATH,
        get(move || {
            let registry = registry.clone();
            async move {
                (
                    [(
                        CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    render(&registry),
                )
                    .into_response()
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::histogram::Histogram;

    #[tokio::test]
    async fn the_endpoint_serves_build_info_and_histograms_until_cancelled() {
        let mut registry = registry("example", "1.2.3");
        let h = Histogram::new(latency_buckets());
        registry.register("round_duration_seconds", "How long a round took", h.clone());
        h.observe(0.3);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let token = CancellationToken::new();
        let server = tokio::spawn(serve(listener, Arc::new(registry), token.clone()));
        let body = {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        assert!(
            body.contains("example_build_info{version=\"1.2.3\"} 1"),
            "{body}"
        );
        assert!(
            body.contains("# HELP example_round_duration_seconds How long a round took"),
            "{body}"
        );
        assert!(
            body.contains("example_round_duration_seconds_bucket{le=\"0.512\"} 1"),
            "{body}"
        );
        token.cancel();
        server.await.unwrap().unwrap();
    }
}
