//! One task per role, and an orderly stop.
//!
//! A service starts its roles (follower, leader, keeper, pruner, view refresher, HTTP servers …)
//! with [`Tasks::spawn`], each in a `tracing` span named after the role inside the service's own
//! span (so merged logs say which member and which role wrote a line), each with its own
//! cancellation token. [`Tasks::run`] then waits for SIGTERM or SIGINT, for
//! [`Tasks::shutdown_token`] to be cancelled, or for any role to end (a role that ends by itself
//! has failed or finished the service's work), and stops the roles in reverse start order, so a
//! role never outlives what it was started after: the HTTP server started last stops taking
//! requests first, the store's users stop before the store is dropped. A role that has not
//! stopped within [`GRACE`] of its cancellation is aborted.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

/// How long a cancelled role may take to stop before it is aborted.
pub const GRACE: Duration = Duration::from_secs(5);

struct Started {
    role: String,
    token: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// The roles of one service.
pub struct Tasks {
    span: Span,
    shutdown: CancellationToken,
    ended_tx: mpsc::UnboundedSender<String>,
    ended_rx: mpsc::UnboundedReceiver<String>,
    started: Vec<Started>,
    grace: Duration,
}

/// Why [`Tasks::run`] began the shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM or SIGINT.
    Signal(&'static str),
    /// [`Tasks::shutdown_token`] was cancelled.
    Requested,
    /// This role ended by itself.
    RoleEnded(String),
}

impl Tasks {
    /// No roles yet; theirs spans will be children of `span`.
    pub fn new(span: Span) -> Self {
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        Tasks {
            span,
            shutdown: CancellationToken::new(),
            ended_tx,
            ended_rx,
            started: Vec::new(),
            grace: GRACE,
        }
    }

    /// The same, with `grace` instead of [`GRACE`] for each role to stop.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Cancelling this token stops the service as a signal would.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Starts `role`: `start` gets the role's cancellation token and returns its future, which
    /// runs in a span `task{role=…}` and should return soon after the token is cancelled.
    pub fn spawn<F, Fut>(&mut self, role: &str, start: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let token = CancellationToken::new();
        let span = tracing::info_span!(parent: &self.span, "task", role);
        let ended = self.ended_tx.clone();
        let name = role.to_string();
        let fut = start(token.clone());
        let handle = tokio::spawn(
            async move {
                let result = fut.await;
                match &result {
                    Ok(()) => tracing::debug!("role ended"),
                    Err(e) => tracing::error!(error = %crate::logging::one_line(e.as_ref()), "role failed"),
                }
                let _ = ended.send(name);
                result
            }
            .instrument(span),
        );
        self.started.push(Started {
            role: role.to_string(),
            token,
            handle,
        });
    }

    /// Waits for a reason to stop, then stops every role in reverse start order. Returns why it
    /// stopped, or the first error a role ended with.
    pub async fn run(mut self) -> anyhow::Result<Stop> {
        let stop = self.wait_for_stop().await;
        tracing::info!(parent: &self.span, reason = ?stop, "stopping");
        let mut first_error = None;
        let grace = self.grace;
        for started in std::mem::take(&mut self.started).into_iter().rev() {
            started.token.cancel();
            let mut handle = started.handle;
            match tokio::time::timeout(grace, &mut handle).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    first_error.get_or_insert(e.context(format!("role {}", started.role)));
                }
                Ok(Err(join)) => {
                    first_error
                        .get_or_insert(anyhow::anyhow!("role {} panicked: {join}", started.role));
                }
                Err(_) => {
                    tracing::warn!(parent: &self.span, role = %started.role, "role did not stop in time; aborted");
                    handle.abort();
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(stop),
        }
    }

    async fn wait_for_stop(&mut self) -> Stop {
        tokio::select! {
            s = signalled() => s,
            () = self.shutdown.cancelled() => Stop::Requested,
            Some(role) = self.ended_rx.recv() => Stop::RoleEnded(role),
        }
    }
}

/// Resolves with the first SIGTERM or SIGINT, for what a service does before its roles run
/// (waiting for its chain, say): it is stopped as promptly then.
pub async fn signalled() -> Stop {
    let terminate = signal(tokio::signal::unix::SignalKind::terminate());
    let interrupt = signal(tokio::signal::unix::SignalKind::interrupt());
    tokio::select! {
        () = terminate => Stop::Signal("SIGTERM"),
        () = interrupt => Stop::Signal("SIGINT"),
    }
}

/// Resolves when `kind` arrives (never, if it cannot be listened for).
async fn signal(kind: tokio::signal::unix::SignalKind) {
    match tokio::signal::unix::signal(kind) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for a signal");
            std::future::pending::<()>().await;
        }
    }
}

/// Sleeps `period`; `false` if `token` was cancelled meanwhile (the role should return).
pub async fn tick(token: &CancellationToken, period: Duration) -> bool {
    tokio::select! {
        () = token.cancelled() => false,
        () = tokio::time::sleep(period) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn recorder() -> Arc<Mutex<Vec<String>>> {
        Arc::new(Mutex::new(Vec::new()))
    }

    #[tokio::test]
    async fn roles_stop_in_reverse_start_order_when_asked() {
        let order = recorder();
        let mut tasks = Tasks::new(tracing::info_span!("test"));
        for role in ["store user", "follower", "http"] {
            let order = order.clone();
            tasks.spawn(role, move |token| async move {
                while tick(&token, Duration::from_millis(5)).await {}
                order.lock().unwrap().push(role.to_string());
                Ok(())
            });
        }
        let shutdown = tasks.shutdown_token();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            shutdown.cancel();
        });
        assert_eq!(tasks.run().await.unwrap(), Stop::Requested);
        assert_eq!(*order.lock().unwrap(), ["http", "follower", "store user"]);
    }

    #[tokio::test]
    async fn a_failing_role_stops_the_others_and_its_error_is_returned() {
        let order = recorder();
        let mut tasks = Tasks::new(tracing::info_span!("test"));
        let o = order.clone();
        tasks.spawn("steady", move |token| async move {
            token.cancelled().await;
            o.lock().unwrap().push("steady".into());
            Ok(())
        });
        tasks.spawn("failing", |_| async {
            Err(anyhow::anyhow!("store closed"))
        });
        let err = tasks.run().await.unwrap_err();
        assert!(format!("{err:#}").contains("store closed"), "{err:#}");
        assert_eq!(*order.lock().unwrap(), ["steady"]);
    }

    #[tokio::test]
    async fn a_role_that_ignores_cancellation_is_aborted_after_the_grace_period() {
        let mut tasks =
            Tasks::new(tracing::info_span!("test")).with_grace(Duration::from_millis(100));
        tasks.spawn("stubborn", |_| async {
            std::future::pending::<()>().await;
            Ok(())
        });
        tasks.shutdown_token().cancel();
        assert_eq!(tasks.run().await.unwrap(), Stop::Requested);
    }
}
