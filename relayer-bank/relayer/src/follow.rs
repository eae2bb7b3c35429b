//! Discovering payment requests: `tx_search` for C3's `settlement_requested` and C5's
//! `withdrawal_requested` events above a durable cursor (with a few blocks of overlap, since the
//! node indexes a block shortly after committing it), and new blocks over the node's websocket
//! to wake the relayer without waiting for its poll.

use std::sync::Arc;
use std::time::Duration;

use tendermint_rpc::query::EventType;
use tendermint_rpc::{SubscriptionClient, WebSocketClient};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::payments::Context;
use crate::store::Kind;

/// The chain cursor's name in the store.
pub const CHAIN_CURSOR: &str = "chain_cursor";
/// Blocks searched again below the cursor.
const OVERLAP: u64 = 5;

impl Context {
    /// Records every request emitted since the cursor as open; returns how many were found.
    pub async fn discover(&self) -> anyhow::Result<usize> {
        let after = self.store()?.cursor(CHAIN_CURSOR)?;
        let (tip, _) = self.chain.status().await?;
        let from = after.saturating_sub(OVERLAP);
        let mut found = vec![];
        for (kind, event, key, contract) in [
            (
                Kind::Settlement,
                "settlement_requested",
                "settlement_id",
                &self.settlement,
            ),
            (
                Kind::Withdrawal,
                "withdrawal_requested",
                "withdrawal_id",
                &self.withdrawal,
            ),
        ] {
            for f in self.chain.search_events(event, contract, from).await? {
                if let Some(id) = f.event.get(key).and_then(|v| v.parse().ok()) {
                    found.push((kind, id));
                }
            }
        }
        self.store()?.discovered(&found, CHAIN_CURSOR, tip)?;
        Ok(found.len())
    }

    /// One pass: discover, then take every open request as far as it goes now.
    pub async fn pass(&self) -> anyhow::Result<()> {
        self.discover().await?;
        for (kind, id) in self.store()?.open_requests()? {
            match self.advance(kind, id).await {
                Ok(true) => {
                    self.store()?.close(kind, id)?;
                    tracing::info!(?kind, id, "settled on chain");
                }
                Ok(false) => {}
                Err(e) => {
                    self.metrics.errors.inc();
                    tracing::warn!(?kind, id, error = %format!("{e:#}"), "not advanced");
                }
            }
        }
        Ok(())
    }
}

/// Wakes `notify` on every new block the node at `rpc` reports over its websocket, reconnecting
/// after a pause when the connection drops, until `token` is cancelled.
pub async fn blocks(
    rpc: String,
    notify: Arc<Notify>,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let url = format!("{}/websocket", rpc.trim_end_matches('/')).replacen("http", "ws", 1);
    while !token.is_cancelled() {
        match WebSocketClient::new(url.as_str()).await {
            Ok((client, driver)) => {
                let driver = tokio::spawn(driver.run());
                match client.subscribe(EventType::NewBlock.into()).await {
                    Ok(mut blocks) => {
                        use futures::StreamExt;
                        loop {
                            tokio::select! {
                                _ = token.cancelled() => break,
                                next = blocks.next() => match next {
                                    Some(Ok(_)) => notify.notify_one(),
                                    _ => break,
                                },
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "websocket subscription refused"),
                }
                let _ = client.close();
                let _ = driver.await;
            }
            Err(e) => tracing::warn!(error = %e, %url, "websocket unreachable"),
        }
        tokio::select! {
            _ = token.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
    Ok(())
}
