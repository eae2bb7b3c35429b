//! What the aggregator needs to know of the chain's C1 state: window and period lengths, the
//! TEE policy (software accepted? allowed measurements), the committee, and the registered
//! terminals with their latest lease. Loaded at start and refreshed in the background; an
//! unknown terminal triggers an early refresh (rate limited). Registry and allowlist are read
//! page by page, so neither is cut off at a page size.
//!
//! Who a window bills is the tenant of the lease covering it (C1 refuses a whole batch holding a
//! record of any other tenant). A terminal's leases never overlap, so the view's latest lease
//! answers for every window from its start on; windows before it are looked up with C1's
//! `LeaseAt` and kept in a [`LeaseBook`].

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use cosmwasm_std::HexBinary;
use usage_client::{ChainClient, ClientError};
use usage_common::msg::usage_proof::{
    CommitteeResponse, ConfigResponse, Lease, MeasurementsResponse, QueryMsg, Terminal,
    TerminalsResponse,
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

/// What is known of the lease covering a terminal's window.
#[derive(Debug, Clone, PartialEq)]
pub enum LeaseLookup {
    /// This lease covers the window.
    Covered(Lease),
    /// No lease covers the window: nothing can be billed for it.
    Uncovered,
    /// Not known here: ask C1 (`LeaseAt`).
    Unknown,
}

impl ChainView {
    /// The lease covering `terminal`'s window at `window_start` as far as the view tells: its
    /// latest lease when that covers the window; none when the window starts at or after the
    /// latest lease's start without being covered (leases never overlap, so no other lease can
    /// cover it), or when the terminal has no lease or is unknown; unknown for a window before the
    /// latest lease's start.
    pub fn lease_at(&self, terminal: &str, window_start: u64) -> LeaseLookup {
        let Some(latest) = self.terminals.get(terminal).and_then(|t| t.lease.as_ref()) else {
            return LeaseLookup::Uncovered;
        };
        if latest.covers(window_start, self.window_seconds) {
            LeaseLookup::Covered(latest.clone())
        } else if window_start >= latest.start {
            LeaseLookup::Uncovered
        } else {
            LeaseLookup::Unknown
        }
    }
}

/// How long C1's answer that no lease covers a window is believed (a tenant may still open a
/// lease over past windows that no lease covers), seconds.
pub const NO_LEASE_TTL_SECONDS: u64 = 60;

/// C1's `LeaseAt` answers for windows before a terminal's latest lease.
///
/// A lease read at time `T` is believed for the windows that had closed by `T`: closing a lease
/// never ends it before the current window, and a new lease never overlaps an existing one, so
/// whether a closed window is covered never changes once the lease is on chain. That no lease
/// covers a window is believed for [`NO_LEASE_TTL_SECONDS`].
#[derive(Debug, Default)]
pub struct LeaseBook {
    /// terminal → lease start → (lease, when it was read, seconds).
    leases: BTreeMap<String, BTreeMap<u64, (Lease, u64)>>,
    /// (terminal, window) → when C1 said no lease covers it, seconds.
    uncovered: BTreeMap<(String, u64), u64>,
}

impl LeaseBook {
    /// The lease covering `terminal`'s window at `window_start` (of `window_seconds`), from the
    /// view's latest lease, then from the answers held, at `now_s`.
    pub fn lookup(
        &self,
        view: &ChainView,
        terminal: &str,
        window_start: u64,
        now_s: u64,
    ) -> LeaseLookup {
        match view.lease_at(terminal, window_start) {
            LeaseLookup::Unknown => {}
            known => return known,
        }
        let len = view.window_seconds;
        let held = self
            .leases
            .get(terminal)
            .and_then(|by_start| by_start.range(..=window_start).next_back())
            .map(|(_, held)| held);
        if let Some((lease, read_at)) = held {
            if lease.covers(window_start, len) && window_start.saturating_add(len) <= *read_at {
                return LeaseLookup::Covered(lease.clone());
            }
        }
        match self.uncovered.get(&(terminal.to_string(), window_start)) {
            Some(at) if now_s < at.saturating_add(NO_LEASE_TTL_SECONDS) => LeaseLookup::Uncovered,
            _ => LeaseLookup::Unknown,
        }
    }

    /// Records C1's answer, read at `now_s`, for `terminal`'s window at `window_start`.
    pub fn learn(&mut self, terminal: &str, window_start: u64, lease: Option<Lease>, now_s: u64) {
        self.uncovered
            .retain(|_, at| now_s < at.saturating_add(NO_LEASE_TTL_SECONDS));
        match lease {
            Some(lease) => {
                self.leases
                    .entry(terminal.to_string())
                    .or_default()
                    .insert(lease.start, (lease, now_s));
            }
            None => {
                self.uncovered
                    .insert((terminal.to_string(), window_start), now_s);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
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

    pub(crate) fn lease(tenant: &str, start: u64, end: Option<u64>) -> Lease {
        Lease {
            terminal_id: "t1".into(),
            tenant: cosmwasm_std::Addr::unchecked(tenant),
            provider: cosmwasm_std::Addr::unchecked("usage1provider"),
            start,
            end,
            price_cap: None,
            opened_at: 0,
        }
    }

    /// A view of terminal `t1` with `latest` as its latest lease; windows of 10 s.
    pub(crate) fn view_with_lease(latest: Option<Lease>) -> ChainView {
        let terminal = Terminal {
            terminal_id: "t1".into(),
            provider: cosmwasm_std::Addr::unchecked("usage1provider"),
            attestor_key: HexBinary::from(vec![1u8; 32]),
            tee: usage_common::msg::usage_proof::TeeKind::Software,
            measurement: HexBinary::from(vec![2u8; 32]),
            active: true,
            lease: latest,
        };
        ChainView {
            window_seconds: 10,
            period_seconds: 60,
            grace_seconds: 30,
            accept_software_tee: true,
            allowed: BTreeSet::new(),
            committee: usage_signer::SigningCommittee::deterministic("view", 1, 4, 3).committee(),
            terminals: BTreeMap::from([("t1".to_string(), terminal)]),
        }
    }

    #[test]
    fn the_latest_lease_answers_for_every_window_from_its_start() {
        let view = view_with_lease(Some(lease("usage1b", 1_000, Some(2_000))));
        let b = lease("usage1b", 1_000, Some(2_000));
        assert_eq!(view.lease_at("t1", 1_000), LeaseLookup::Covered(b.clone()));
        assert_eq!(view.lease_at("t1", 1_990), LeaseLookup::Covered(b));
        // After its end no lease can cover a window: none starts later.
        assert_eq!(view.lease_at("t1", 2_000), LeaseLookup::Uncovered);
        // Before its start an older lease may.
        assert_eq!(view.lease_at("t1", 990), LeaseLookup::Unknown);
        assert_eq!(view.lease_at("t2", 1_000), LeaseLookup::Uncovered);
        assert_eq!(
            view_with_lease(None).lease_at("t1", 1_000),
            LeaseLookup::Uncovered
        );
    }

    #[test]
    fn an_older_lease_read_from_the_chain_answers_for_the_windows_closed_when_it_was_read() {
        let view = view_with_lease(Some(lease("usage1b", 1_000, None)));
        let a = lease("usage1a", 500, None);
        let mut book = LeaseBook::default();
        assert_eq!(book.lookup(&view, "t1", 700, 800), LeaseLookup::Unknown);
        // Read at 800: windows that had closed by then are covered for good.
        book.learn("t1", 700, Some(a.clone()), 800);
        assert_eq!(
            book.lookup(&view, "t1", 700, 900),
            LeaseLookup::Covered(a.clone())
        );
        assert_eq!(book.lookup(&view, "t1", 790, 900), LeaseLookup::Covered(a));
        // A window still open when it was read may have been ended since: ask again.
        assert_eq!(book.lookup(&view, "t1", 800, 900), LeaseLookup::Unknown);
        // Before the lease's start nothing is known.
        assert_eq!(book.lookup(&view, "t1", 490, 900), LeaseLookup::Unknown);
        // From the latest lease's start, the view answers.
        assert!(matches!(
            book.lookup(&view, "t1", 1_000, 900),
            LeaseLookup::Covered(l) if l.tenant.as_str() == "usage1b"
        ));
    }

    #[test]
    fn that_no_lease_covers_a_window_is_believed_only_for_a_while() {
        let view = view_with_lease(Some(lease("usage1b", 1_000, None)));
        let mut book = LeaseBook::default();
        book.learn("t1", 400, None, 1_000);
        assert_eq!(book.lookup(&view, "t1", 400, 1_000), LeaseLookup::Uncovered);
        assert_eq!(
            book.lookup(&view, "t1", 400, 1_000 + NO_LEASE_TTL_SECONDS - 1),
            LeaseLookup::Uncovered
        );
        assert_eq!(
            book.lookup(&view, "t1", 400, 1_000 + NO_LEASE_TTL_SECONDS),
            LeaseLookup::Unknown
        );
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
