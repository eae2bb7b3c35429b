//! A fleet of simulated terminals (`usage-attestor simulate`): synthetic counters from
//! [`usage_sample::simulate`], signed with keys derived from the fleet's label, stored and
//! delivered exactly as a real host's samples are.

use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use usage_sample::sample::now_ms;
use usage_sample::simulate::SimTerminal;
use usage_sample::tee::{SignedSample, TeeBackend};
use usage_sample::wire::EvidenceRequest;

use crate::agent::{Delivery, EvidenceBook};
use crate::host::{tick, RunError};
use crate::outbox::Outbox;

/// What a simulated fleet plays.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// How many terminals.
    pub terminals: u64,
    /// Index of the first terminal.
    pub first: u64,
    /// Fleet label (terminal ids are `<label>-<index>`).
    pub label: String,
    /// Tenants, assigned round robin by terminal index.
    pub tenants: Vec<String>,
    /// Aggregator base URLs.
    pub aggregators: Vec<String>,
    /// Where the outbox lives.
    pub data_dir: PathBuf,
    /// Milliseconds between samples of each terminal.
    pub interval_ms: u64,
    /// Stop after this many seconds (runs until interrupted otherwise).
    pub seconds: Option<u64>,
}

/// The fleet's terminals, each continuing from its last sample in `outbox`, and their evidence.
pub fn build_fleet(
    config: &FleetConfig,
    outbox: &Outbox,
) -> Result<(Vec<SimTerminal>, EvidenceBook), RunError> {
    if config.tenants.is_empty() {
        return Err(RunError::NoTenants);
    }
    let mut fleet = Vec::new();
    let mut evidence = EvidenceBook::new();
    for i in config.first..config.first + config.terminals {
        let tenant = &config.tenants[usize::try_from(i).unwrap_or(0) % config.tenants.len()];
        let mut t = SimTerminal::new(&config.label, i, tenant);
        if let Some(last) = outbox.last(&t.terminal_id)? {
            t.resume_from(&last.verify()?);
        }
        evidence.insert(
            t.terminal_id.clone(),
            EvidenceRequest::new(&t.config, &t.key.public_key(), &t.evidence()),
        );
        fleet.push(t);
    }
    Ok((fleet, evidence))
}

/// One signed sample of every terminal of `fleet` taken at `now`, numbered after what `outbox`
/// holds.
pub fn sample_fleet(
    fleet: &mut [SimTerminal],
    outbox: &Outbox,
    now: u64,
) -> Result<Vec<SignedSample>, RunError> {
    let mut signed = Vec::with_capacity(fleet.len());
    for t in fleet {
        let seq = outbox.next_seq(&t.terminal_id)?;
        let s = t.sample(seq, now);
        signed.push(SignedSample::sign(&s, &t.key)?);
    }
    Ok(signed)
}

/// Plays the fleet until interrupted or its `seconds` are up.
pub async fn simulate(config: FleetConfig, stop: CancellationToken) -> Result<(), RunError> {
    if config.interval_ms == 0 {
        return Err(RunError::ZeroInterval);
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| RunError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let outbox = Arc::new(Outbox::open(
        &config.data_dir.join("outbox.redb"),
        &config.aggregators,
    )?);
    let (mut fleet, evidence) = build_fleet(&config, &outbox)?;
    tracing::info!(
        terminals = config.terminals,
        first = config.first,
        label = %config.label,
        interval_ms = config.interval_ms,
        "simulated fleet starting"
    );
    let delivery = Delivery::start(outbox.clone(), &config.aggregators, evidence);
    let deadline = config.seconds.map(|s| now_ms() + s * 1_000);
    let mut ticks = 0u64;
    while tick(&stop, config.interval_ms, deadline).await {
        let signed = sample_fleet(&mut fleet, &outbox, now_ms())?;
        delivery.push(&signed)?;
        ticks += 1;
        if ticks.is_multiple_of(10) {
            tracing::info!(
                ticks,
                samples = ticks * config.terminals,
                retained = outbox.retained()?,
                "simulating"
            );
        }
    }
    delivery.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path) -> FleetConfig {
        FleetConfig {
            terminals: 3,
            first: 4,
            label: "f".into(),
            tenants: vec!["acme".into(), "globex".into()],
            aggregators: vec!["http://a".into()],
            data_dir: dir.to_path_buf(),
            interval_ms: 1_000,
            seconds: None,
        }
    }

    #[test]
    fn terminals_get_their_tenants_round_robin_by_index_and_evidence_each() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let outbox = Outbox::open(&dir.path().join("outbox.redb"), &c.aggregators).unwrap();
        let (fleet, evidence) = build_fleet(&c, &outbox).unwrap();
        let seen: Vec<_> = fleet
            .iter()
            .map(|t| (t.terminal_id.as_str(), t.tenant.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("f-00004", "acme"),
                ("f-00005", "globex"),
                ("f-00006", "acme")
            ]
        );
        assert_eq!(evidence.len(), 3);
        assert!(evidence.contains_key("f-00005"));
    }

    #[test]
    fn a_fleet_without_tenants_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.tenants.clear();
        let outbox = Outbox::open(&dir.path().join("outbox.redb"), &c.aggregators).unwrap();
        assert!(matches!(build_fleet(&c, &outbox), Err(RunError::NoTenants)));
    }

    #[test]
    fn a_restarted_fleet_continues_its_sequence_numbers_and_counters() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let outbox = Outbox::open(&dir.path().join("outbox.redb"), &c.aggregators).unwrap();
        let (mut fleet, _) = build_fleet(&c, &outbox).unwrap();
        for now in [1_000, 2_000] {
            outbox
                .push_all(&sample_fleet(&mut fleet, &outbox, now).unwrap())
                .unwrap();
        }
        let before = outbox.last("f-00005").unwrap().unwrap().verify().unwrap();

        let (mut again, _) = build_fleet(&c, &outbox).unwrap();
        let next = sample_fleet(&mut again, &outbox, 3_000).unwrap();
        let after = next[1].verify().unwrap();
        assert_eq!(after.terminal_id, "f-00005");
        assert_eq!(after.seq, before.seq + 1);
        assert!(after.net_rx_bytes > before.net_rx_bytes);
        assert!(after.cpu_time_us > before.cpu_time_us);
    }
}
