//! What the aggregator needs to know of the chain's C1 state: window and period lengths, the
//! TEE policy (software accepted? allowed measurements), the committee, and the registered
//! terminals. Loaded at start and refreshed in the background; an unknown terminal triggers an
//! early refresh (rate limited). Registry and allowlist are read page by page, so neither is
//! cut off at a page size.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use cosmwasm_std::HexBinary;
use usage_client::{ChainClient, ClientError};
use usage_common::msg::usage_proof::{
    CommitteeResponse, ConfigResponse, MeasurementsResponse, QueryMsg, Terminal, TerminalsResponse,
};
use usage_common::Committee;

/// Measurements asked for per page of C1's `Measurements` query (its largest page).
pub const MEASUREMENTS_PAGE: u32 = 100;

/// Every measurement of an ascending paged list: `fetch(start_after)` returns the page after
/// `start_after` (from the start for `None`); pages are read until one comes back empty, so a
/// page shorter than asked for (the contract may cap it) ends nothing early. A page that does
/// not move past its cursor is an error rather than a loop.
pub async fn all_measurements<F, Fut>(mut fetch: F) -> Result<BTreeSet<Vec<u8>>, ClientError>
where
    F: FnMut(Option<HexBinary>) -> Fut,
    Fut: Future<Output = Result<MeasurementsResponse, ClientError>>,
{
    let mut all = BTreeSet::new();
    let mut start_after: Option<HexBinary> = None;
    loop {
        let page = fetch(start_after.clone()).await?;
        let Some(last) = page.measurements.last().cloned() else {
            return Ok(all);
        };
        if start_after
            .as_ref()
            .is_some_and(|s| last.as_slice() <= s.as_slice())
        {
            return Err(ClientError::Rpc(format!(
                "Measurements page after {} does not move past it",
                start_after.map(|s| s.to_hex()).unwrap_or_default()
            )));
        }
        all.extend(page.measurements.into_iter().map(|m| m.to_vec()));
        start_after = Some(last);
    }
}

/// A snapshot of C1's configuration and terminal registry.
#[derive(Debug, Clone)]
pub struct ChainView {
    /// Window length, seconds.
    pub window_seconds: u64,
    /// Period length, seconds.
    pub period_seconds: u64,
    /// How long after a period ends C1 still accepts its records.
    pub grace_seconds: u64,
    /// Whether software evidence is accepted.
    pub accept_software_tee: bool,
    /// Allowed measurements.
    pub allowed: BTreeSet<Vec<u8>>,
    /// The committee C1 verifies batches against.
    pub committee: Committee,
    /// Registered terminals by id.
    pub terminals: BTreeMap<String, Terminal>,
}

impl ChainView {
    /// Loads the view from C1 at `c1`.
    pub async fn load(client: &ChainClient, c1: &str) -> Result<ChainView, ClientError> {
        let config: ConfigResponse = client.smart(c1, &QueryMsg::Config {}).await?;
        let committee: CommitteeResponse = client.smart(c1, &QueryMsg::Committee {}).await?;
        let allowed = all_measurements(|start_after| async move {
            let query = QueryMsg::Measurements {
                start_after,
                limit: Some(MEASUREMENTS_PAGE),
            };
            client.smart(c1, &query).await
        })
        .await?;
        let mut terminals = BTreeMap::new();
        let mut start_after = None;
        loop {
            let page: TerminalsResponse = client
                .smart(
                    c1,
                    &QueryMsg::Terminals {
                        start_after: start_after.clone(),
                        limit: Some(100),
                    },
                )
                .await?;
            let Some(last) = page.terminals.last() else {
                break;
            };
            start_after = Some(last.terminal_id.clone());
            let short = page.terminals.len() < 100;
            for t in page.terminals {
                terminals.insert(t.terminal_id.clone(), t);
            }
            if short {
                break;
            }
        }
        Ok(ChainView {
            window_seconds: config.window_seconds,
            period_seconds: config.period_seconds,
            grace_seconds: config.grace_seconds,
            accept_software_tee: config.accept_software_tee,
            allowed,
            committee: committee.committee,
            terminals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C1's `Measurements` query over `allowed`: ascending, after the cursor, at most `cap`.
    fn page(
        allowed: &BTreeSet<Vec<u8>>,
        start_after: Option<HexBinary>,
        cap: usize,
    ) -> MeasurementsResponse {
        MeasurementsResponse {
            measurements: allowed
                .iter()
                .filter(|m| {
                    start_after
                        .as_ref()
                        .is_none_or(|s| m.as_slice() > s.as_slice())
                })
                .take(cap)
                .map(|m| HexBinary::from(m.as_slice()))
                .collect(),
        }
    }

    #[tokio::test]
    async fn every_allowed_measurement_is_seen_beyond_the_first_hundred() {
        let allowed: BTreeSet<Vec<u8>> = (0u16..250)
            .map(|i| {
                let mut m = vec![0u8; 32];
                m[..2].copy_from_slice(&i.to_be_bytes());
                m
            })
            .collect();
        for cap in [100, 30, 1] {
            let mut calls = 0;
            let seen = all_measurements(|start_after| {
                calls += 1;
                let p = page(&allowed, start_after, cap);
                async move { Ok(p) }
            })
            .await
            .unwrap();
            assert_eq!(seen, allowed, "pages of {cap}");
            assert_eq!(
                calls,
                250usize.div_ceil(cap) + 1,
                "pages of {cap}, then an empty one"
            );
        }
        let none = all_measurements(|_| async {
            Ok(MeasurementsResponse {
                measurements: vec![],
            })
        })
        .await
        .unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn a_page_that_does_not_advance_is_an_error_not_a_loop() {
        let stuck = all_measurements(|_| async {
            Ok(MeasurementsResponse {
                measurements: vec![HexBinary::from(vec![1u8; 32])],
            })
        })
        .await;
        assert!(matches!(stuck, Err(ClientError::Rpc(_))), "{stuck:?}");
    }
}
