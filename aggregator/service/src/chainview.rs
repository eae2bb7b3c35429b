//! What the aggregator needs to know of the chain's C1 state: window and period lengths, the
//! TEE policy (software accepted? allowed measurements), the committee, and the registered
//! terminals. Loaded at start and refreshed in the background; an unknown terminal triggers an
//! early refresh (rate limited).

use std::collections::{BTreeMap, BTreeSet};

use usage_client::{ChainClient, ClientError};
use usage_common::msg::usage_proof::{
    CommitteeResponse, ConfigResponse, QueryMsg, Terminal, TerminalsResponse,
};
use usage_common::Committee;

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
            allowed: config
                .allowed_measurements
                .iter()
                .map(|m| m.to_vec())
                .collect(),
            committee: committee.committee,
            terminals,
        })
    }
}
