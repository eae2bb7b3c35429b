//! Link quality to each aggregator and application health checks.
//!
//! Link quality: every tick the agent opens a TCP connection to each aggregator (with a timeout)
//! and records the connect time; the last [`LINK_HISTORY`] attempts per aggregator give the
//! loss (failed attempts, ppm) and the median round-trip time. The sample carries the mean over
//! aggregators.
//!
//! Application checks: a tenant's application is up when a TCP connection to its address
//! succeeds, or an HTTP `GET` answers 2xx, within the timeout.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

/// Attempts remembered per aggregator.
pub const LINK_HISTORY: usize = 20;
/// How long one probe may take before it counts as lost.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1_000);

/// Measured link quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkQuality {
    /// Median round-trip (TCP connect) time, microseconds.
    pub rtt_us: u32,
    /// Share of failed attempts, parts per million.
    pub loss_ppm: u32,
}

/// Rolling link measurements to a set of aggregator addresses.
#[derive(Debug, Default)]
pub struct LinkProbe {
    history: BTreeMap<String, VecDeque<Option<u32>>>,
}

/// `host:port` of an `http://host:port/...` URL.
pub fn host_port(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let hp = rest.split('/').next()?;
    if hp.contains(':') {
        Some(hp.to_string())
    } else {
        Some(format!("{hp}:80"))
    }
}

async fn connect_time(addr: &str) -> Option<u32> {
    let addr: SocketAddr = tokio::net::lookup_host(addr).await.ok()?.next()?;
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Some(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX)),
        _ => None,
    }
}

impl LinkProbe {
    /// Records one outcome (`Some(rtt_us)` or `None` for lost) for `target`.
    pub fn record(&mut self, target: &str, outcome: Option<u32>) {
        let h = self.history.entry(target.to_string()).or_default();
        h.push_back(outcome);
        while h.len() > LINK_HISTORY {
            h.pop_front();
        }
    }

    /// Probes every aggregator URL once, concurrently.
    pub async fn probe(&mut self, aggregator_urls: &[String]) {
        let targets: Vec<(String, Option<String>)> = aggregator_urls
            .iter()
            .map(|u| (u.clone(), host_port(u)))
            .collect();
        let mut handles = vec![];
        for (url, hp) in targets {
            handles.push(tokio::spawn(async move {
                let outcome = match hp {
                    Some(hp) => connect_time(&hp).await,
                    None => None,
                };
                (url, outcome)
            }));
        }
        for h in handles {
            if let Ok((url, outcome)) = h.await {
                self.record(&url, outcome);
            }
        }
    }

    /// Mean over aggregators of the median RTT of successful attempts and of the loss.
    pub fn quality(&self) -> LinkQuality {
        let mut rtts = vec![];
        let mut losses = vec![];
        for h in self.history.values() {
            if h.is_empty() {
                continue;
            }
            let mut ok: Vec<u32> = h.iter().flatten().copied().collect();
            let lost = h.len() - ok.len();
            losses.push((lost as u64 * 1_000_000 / h.len() as u64) as u32);
            if !ok.is_empty() {
                ok.sort_unstable();
                rtts.push(ok[ok.len() / 2]);
            }
        }
        let mean = |v: &[u32]| {
            if v.is_empty() {
                0
            } else {
                (v.iter().map(|x| u64::from(*x)).sum::<u64>() / v.len() as u64) as u32
            }
        };
        LinkQuality {
            rtt_us: mean(&rtts),
            loss_ppm: mean(&losses),
        }
    }
}

/// How to tell whether a tenant's application is up.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AppCheck {
    /// A TCP connection to `host:port` succeeds.
    Tcp(String),
    /// `GET url` answers with a 2xx status.
    Http(String),
}

impl AppCheck {
    /// Runs the check once (bounded by [`PROBE_TIMEOUT`]).
    pub async fn run(&self, http: &reqwest::Client) -> bool {
        match self {
            AppCheck::Tcp(addr) => connect_time(addr).await.is_some(),
            AppCheck::Http(url) => {
                match tokio::time::timeout(PROBE_TIMEOUT, http.get(url).send()).await {
                    Ok(Ok(r)) => r.status().is_success(),
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_median_rtt_come_from_the_recent_attempts() {
        let mut p = LinkProbe::default();
        for rtt in [100, 300, 200] {
            p.record("a", Some(rtt));
        }
        p.record("a", None);
        let q = p.quality();
        assert_eq!(q.rtt_us, 200);
        assert_eq!(q.loss_ppm, 250_000);
        // Old attempts fall out of the window.
        for _ in 0..LINK_HISTORY {
            p.record("a", Some(50));
        }
        assert_eq!(
            p.quality(),
            LinkQuality {
                rtt_us: 50,
                loss_ppm: 0
            }
        );
    }

    #[test]
    fn aggregator_urls_give_their_host_and_port() {
        assert_eq!(
            host_port("http://127.0.0.1:7001/v1").as_deref(),
            Some("127.0.0.1:7001")
        );
        assert_eq!(
            host_port("http://agg.example").as_deref(),
            Some("agg.example:80")
        );
        assert_eq!(host_port("ftp://x"), None);
    }

    #[tokio::test]
    async fn checks_see_a_listening_service_up_and_a_closed_port_down() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().to_string();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let http = reqwest::Client::new();
        assert!(AppCheck::Tcp(open.clone()).run(&http).await);
        assert!(!AppCheck::Tcp(closed.clone()).run(&http).await);
        assert!(
            !AppCheck::Http(format!("http://{closed}/health"))
                .run(&http)
                .await
        );
        let mut p = LinkProbe::default();
        let urls = vec![format!("http://{open}"), format!("http://{closed}")];
        p.probe(&urls).await;
        assert_eq!(p.quality().loss_ppm, 500_000);
    }
}
