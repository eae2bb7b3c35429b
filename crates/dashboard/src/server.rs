//! The HTTP side: the page, the overview, the live events and the metrics.
//!
//! | path | what |
//! |---|---|
//! | `GET /` | the page (HTML with its script, styles and charts inline; it loads nothing else) |
//! | `GET /api/overview` | the latest [`Overview`] as JSON (503 with `errors` before the first read) |
//! | `GET /api/events` | server-sent events: `head` (`{height, time, error}`) on each new height, `overview` (`{height}`) when a new overview is ready |
//! | `GET /metrics` | OpenMetrics text (`usage_dashboard_…`) |

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::live::Head;
use crate::metrics::DashboardMetrics;
use crate::overview::Overview;

/// The page.
pub const PAGE: &str = include_str!("page.html");

/// What the handlers share.
#[derive(Clone)]
pub struct Shared {
    /// The chain's head.
    pub head: watch::Receiver<Head>,
    /// The latest overview.
    pub overview: watch::Receiver<Option<Arc<Overview>>>,
    /// The metrics.
    pub metrics: DashboardMetrics,
    /// Cancelled when the service stops: live streams end then.
    pub token: CancellationToken,
}

/// The dashboard's routes.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/overview", get(overview))
        .route("/api/events", get(events))
        .route(usage_service::metrics::METRICS_PATH, get(metrics))
        .with_state(shared)
}

async fn page() -> Response {
    ([(CACHE_CONTROL, "no-store")], Html(PAGE)).into_response()
}

async fn overview(State(s): State<Shared>) -> Response {
    let latest = s.overview.borrow().clone();
    match latest {
        Some(o) => ([(CACHE_CONTROL, "no-store")], Json(o.as_ref().clone())).into_response(),
        None => {
            let head = s.head.borrow().clone();
            let why = head
                .error
                .unwrap_or_else(|| "the chain has not been read yet".to_string());
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(CACHE_CONTROL, "no-store")],
                Json(serde_json::json!({ "errors": [why] })),
            )
                .into_response()
        }
    }
}

fn registry_text(registry: &Registry) -> String {
    usage_service::metrics::render(registry)
}

async fn metrics(State(s): State<Shared>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        registry_text(&s.metrics.registry),
    )
        .into_response()
}

fn head_event(head: &Head) -> Event {
    Event::default()
        .event("head")
        .data(serde_json::to_string(head).unwrap_or_default())
}

fn overview_event(height: u64) -> Event {
    Event::default()
        .event("overview")
        .data(serde_json::json!({ "height": height }).to_string())
}

/// Counts a live page while its stream exists.
struct LiveClient(DashboardMetrics);

impl LiveClient {
    fn new(metrics: DashboardMetrics) -> Self {
        metrics.live_clients.inc();
        LiveClient(metrics)
    }
}

impl Drop for LiveClient {
    fn drop(&mut self) {
        self.0.live_clients.dec();
    }
}

struct Follow {
    head: watch::Receiver<Head>,
    overview: watch::Receiver<Option<Arc<Overview>>>,
    token: CancellationToken,
    first: bool,
    _client: LiveClient,
}

async fn events(State(s): State<Shared>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let follow = Follow {
        head: s.head.clone(),
        overview: s.overview.clone(),
        token: s.token.clone(),
        first: true,
        _client: LiveClient::new(s.metrics.clone()),
    };
    let stream = futures::stream::unfold(follow, |mut f| async move {
        if f.first {
            // The head as it is now, so a page shows the height at once.
            f.first = false;
            f.overview.borrow_and_update();
            let event = head_event(&f.head.borrow_and_update());
            return Some((Ok(event), f));
        }
        let event = tokio::select! {
            () = f.token.cancelled() => return None,
            changed = f.head.changed() => {
                changed.ok()?;
                head_event(&f.head.borrow_and_update())
            }
            changed = f.overview.changed() => {
                changed.ok()?;
                let height = f.overview.borrow_and_update().as_ref().map_or(0, |o| o.height);
                overview_event(height)
            }
        };
        Some((Ok(event), f))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
