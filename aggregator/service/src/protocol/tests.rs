use std::collections::BTreeMap;

use usage_aggregator_core::batch::Batch;
use usage_client::ContractEvent;
use usage_common::record::{align, UsageRecord};

use super::*;
use crate::chainview::tests::{lease, view_with_lease};
use crate::chainview::ChainView;
use crate::chainview::LeaseBook;
use crate::store::{Accepted, Store};
use crate::store::{PeriodKey, PeriodState};
use usage_sample::sample::Sample;
use usage_sample::simulate::SimTerminal;
use usage_sample::tee::SignedSample;

/// A member's store holding the samples of terminal `t1` (windows of 10 s).
struct Held {
    _dir: tempfile::TempDir,
    store: Store,
    terminal: SimTerminal,
    seq: u64,
}

impl Held {
    fn new() -> Held {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.redb")).unwrap();
        let mut terminal = SimTerminal::new("protocol", 1, "usage1a");
        terminal.terminal_id = "t1".into();
        Held {
            _dir: dir,
            store,
            terminal,
            seq: 0,
        }
    }

    /// Stores the terminal's next sample, taken at `at_ms` and naming `tenant`.
    fn put(&mut self, at_ms: u64, tenant: &str) -> Sample {
        self.seq += 1;
        let mut sample = self.terminal.sample(self.seq, at_ms);
        sample.tenant = tenant.into();
        let signed = SignedSample::sign(&sample, &self.terminal.key).unwrap();
        self.store
            .put_samples(&[Accepted {
                signed,
                sample: sample.clone(),
                window_start: align(at_ms / 1_000, 10),
            }])
            .unwrap();
        sample
    }
}

/// What the view and `book` tell of `keys`, at a time every window here has closed.
fn leases_of(view: &ChainView, book: &LeaseBook, keys: &[(String, u64)]) -> Tenants {
    known_tenants(view, book, keys, 1_000_000).0
}

fn key(w: u64) -> Vec<(String, u64)> {
    vec![("t1".to_string(), w)]
}

#[test]
fn a_window_bills_the_tenant_of_its_lease_and_not_the_samples_naming_another() {
    let mut held = Held::new();
    // The operator still names tenant a while the window is leased to b.
    held.put(1_000_000, "usage1a");
    let a = held.put(1_002_000, "usage1a");
    held.put(1_004_000, "usage1b");
    let b = held.put(1_006_000, "usage1b");
    let view = view_with_lease(Some(lease("usage1b", 1_000, None)));
    let tenants = leases_of(&view, &LeaseBook::default(), &key(1_000));
    let reader = held.store.reader().unwrap();
    let proposed = propose_records(&reader, 10, &key(1_000), &tenants).unwrap();
    assert_eq!(proposed.records.len(), 1);
    let r = &proposed.records[0];
    assert_eq!(r.tenant, "usage1b");
    // Only what the samples naming b measured: from a's last sample on.
    assert_eq!(r.metrics.net_rx_bytes, b.net_rx_bytes - a.net_rx_bytes);
    assert_eq!(proposed.unbilled, 2);
    assert_eq!(proposed.unleased, 0);
}

#[test]
fn a_window_no_lease_covers_is_not_proposed() {
    let mut held = Held::new();
    held.put(1_010_000, "usage1a");
    held.put(1_012_000, "usage1a");
    let reader = held.store.reader().unwrap();
    // Leased until 1010, and never leased.
    for view in [
        view_with_lease(Some(lease("usage1a", 1_000, Some(1_010)))),
        view_with_lease(None),
    ] {
        let tenants = leases_of(&view, &LeaseBook::default(), &key(1_010));
        let proposed = propose_records(&reader, 10, &key(1_010), &tenants).unwrap();
        assert!(proposed.records.is_empty(), "{proposed:?}");
        assert_eq!(proposed.unleased, 1);
    }
}

#[test]
fn windows_before_the_latest_lease_bill_the_lease_covering_them() {
    let mut held = Held::new();
    held.put(1_000_000, "usage1a");
    held.put(1_002_000, "usage1a");
    let view = view_with_lease(Some(lease("usage1b", 2_000, None)));
    let mut book = LeaseBook::default();
    // Until C1 told who leased window 1000, it is neither proposed nor counted unleased.
    let (tenants, ask) = known_tenants(&view, &book, &key(1_000), 3_000);
    assert_eq!(ask, key(1_000));
    let reader = held.store.reader().unwrap();
    assert_eq!(
        propose_records(&reader, 10, &key(1_000), &tenants).unwrap(),
        Proposed::default()
    );
    book.learn(
        "t1",
        1_000,
        Some(lease("usage1a", 1_000, Some(2_000))),
        3_000,
    );
    let tenants = leases_of(&view, &book, &key(1_000));
    let proposed = propose_records(&reader, 10, &key(1_000), &tenants).unwrap();
    assert_eq!(proposed.records.len(), 1);
    assert_eq!(proposed.records[0].tenant, "usage1a");
}

/// Tenant `usage1a` leases `t1` for good.
fn leased() -> ChainView {
    view_with_lease(Some(lease("usage1a", 0, None)))
}

fn keys(windows: &[u64]) -> Vec<(String, u64)> {
    windows.iter().map(|w| ("t1".to_string(), *w)).collect()
}

/// The records this member proposes as one batch for `windows` (leased to `usage1a`),
/// noting the samples each read.
fn propose(held: &Held, windows: &[u64]) -> Vec<UsageRecord> {
    let keys = keys(windows);
    let tenants = leases_of(&leased(), &LeaseBook::default(), &keys);
    let proposed = {
        let reader = held.store.reader().unwrap();
        propose_records(&reader, 10, &keys, &tenants).unwrap()
    };
    if let Ok(batch) = Batch::new(proposed.records.clone()) {
        held.store
            .sign_spans(&batch.root(), &proposed.spans)
            .unwrap();
    }
    proposed.records
}

/// Why this member disputes the batch of `records`; when it disputes nothing it co-signs,
/// noting the samples each record read.
fn cosign(held: &Held, records: &[UsageRecord]) -> Vec<String> {
    let batch = Batch::new(records.to_vec()).unwrap();
    let keys: Vec<(String, u64)> = records
        .iter()
        .map(|r| (r.terminal_id.clone(), r.window_start))
        .collect();
    let tenants = leases_of(&leased(), &LeaseBook::default(), &keys);
    let (disputed, spans) = {
        let reader = held.store.reader().unwrap();
        judge(&reader, 10, batch.records(), &tenants, 2_000_000_000)
    };
    if disputed.is_empty() {
        held.store.sign_spans(&batch.root(), &spans).unwrap();
    }
    disputed.into_iter().map(|d| d.reason).collect()
}

/// This member reads the block in which the chain proved the batch of `records`.
fn proven(held: &Held, records: &[UsageRecord]) {
    let root = Batch::new(records.to_vec()).unwrap().root();
    let keys: Vec<(String, u64)> = records
        .iter()
        .map(|r| (r.terminal_id.clone(), r.window_start))
        .collect();
    let roots = keys.iter().map(|k| (k.clone(), root)).collect();
    held.store.follow(1, 2_000, &keys, &roots).unwrap();
}

fn rx(records: &[UsageRecord]) -> u64 {
    records.iter().map(|r| r.metrics.net_rx_bytes).sum()
}

/// Members holding the same samples of `t1`.
fn members(n: usize) -> Vec<Held> {
    (0..n).map(|_| Held::new()).collect()
}

/// Every member receives the next sample, taken at `at_ms`.
fn receive(members: &mut [Held], at_ms: u64) -> Sample {
    let samples: Vec<Sample> = members
        .iter_mut()
        .map(|m| m.put(at_ms, "usage1a"))
        .collect();
    assert!(samples.windows(2).all(|p| p[0] == p[1]));
    samples[0].clone()
}

#[test]
fn a_sample_arriving_after_its_window_was_proven_is_billed_with_the_next_window() {
    // A leader, a member that co-signed window 1000, one that was away.
    let mut m = members(3);
    let first = receive(&mut m, 1_000_000);
    let used = receive(&mut m, 1_004_000);
    let v = propose(&m[0], &[1_000]);
    assert!(cosign(&m[1], &v).is_empty());
    for held in &m {
        proven(held, &v);
    }
    // Taken in window 1000, received after its record was proven.
    let late = receive(&mut m, 1_008_000);
    receive(&mut m, 1_011_000);
    let last = receive(&mut m, 1_015_000);
    let w = propose(&m[0], &[1_010]);
    assert_eq!(w.len(), 1);
    // Window 1010 reads on from the last sample window 1000's record used, so it bills what
    // the late sample measured.
    assert!(late.net_rx_bytes > used.net_rx_bytes);
    assert_eq!(
        w[0].metrics.net_rx_bytes,
        last.net_rx_bytes - used.net_rx_bytes
    );
    // Nothing lost, nothing counted twice.
    assert_eq!(rx(&v) + rx(&w), last.net_rx_bytes - first.net_rx_bytes);
    // The member that co-signed window 1000 computes the same and signs; the one that was
    // away does not know where that record ended.
    assert!(cosign(&m[1], &w).is_empty());
    assert_eq!(cosign(&m[2], &w), vec!["mismatch"]);
}

#[test]
fn every_increment_is_counted_once_however_the_windows_proofs_interleave() {
    let mut m = members(2);
    let first = receive(&mut m, 1_000_000);
    receive(&mut m, 1_004_000);
    // Window 1000 is proposed, but its round fails.
    let failed = propose(&m[0], &[1_000]);
    assert!(cosign(&m[1], &failed).is_empty());
    let late = receive(&mut m, 1_008_000);
    receive(&mut m, 1_012_000);
    let last = receive(&mut m, 1_016_000);
    // Window 1010 is proven first: it starts at the last sample before it, the late one.
    let w = propose(&m[0], &[1_010]);
    assert!(cosign(&m[1], &w).is_empty());
    for held in &m {
        proven(held, &w);
    }
    assert_eq!(
        w[0].metrics.net_rx_bytes,
        last.net_rx_bytes - late.net_rx_bytes
    );
    // Window 1000, proposed again, reads up to where window 1010 started, not beyond.
    let v = propose(&m[0], &[1_000]);
    assert!(cosign(&m[1], &v).is_empty());
    assert_eq!(rx(&v) + rx(&w), last.net_rx_bytes - first.net_rx_bytes);
    // A member that did not sign window 1010's batch cannot tell where it started, and
    // proposes or signs nothing for window 1000.
    let mut away = members(1);
    for at in [1_000_000, 1_004_000, 1_008_000, 1_012_000, 1_016_000] {
        receive(&mut away, at);
    }
    proven(&away[0], &w);
    assert!(propose(&away[0], &[1_000]).is_empty());
    assert_eq!(cosign(&away[0], &v), vec!["superseded"]);
}

#[test]
fn windows_of_one_batch_each_start_where_the_one_before_in_the_batch_ended() {
    let mut m = members(2);
    let first = receive(&mut m, 1_000_000);
    receive(&mut m, 1_004_000);
    receive(&mut m, 1_012_000);
    receive(&mut m, 1_024_000);
    let last = receive(&mut m, 1_026_000);
    let batch = propose(&m[0], &[1_000, 1_010, 1_020]);
    assert_eq!(batch.len(), 3);
    assert!(cosign(&m[1], &batch).is_empty());
    assert_eq!(rx(&batch), last.net_rx_bytes - first.net_rx_bytes);
    // Proven, each is rebuilt from the samples it read (as a dispute's resolution does).
    proven(&m[1], &batch);
    let reader = m[1].store.reader().unwrap();
    for r in &batch {
        assert_eq!(
            own_record(&reader, 10, &r.terminal_id, r.window_start).as_ref(),
            Some(r)
        );
    }
}

#[test]
fn members_dispute_a_record_its_window_lease_would_refuse_and_sign_the_lease_tenants_record() {
    let mut held = Held::new();
    held.put(1_000_000, "usage1a");
    held.put(1_002_000, "usage1a");
    held.put(1_004_000, "usage1b");
    let reader = held.store.reader().unwrap();
    let now_ms = 2_000_000;
    let billing =
        |tenant: &str| match build_record(&reader, 10, "t1", 1_000, tenant, &BatchSpans::new()) {
            Ok(Own::Record(w)) => w.record,
            other => panic!("{other:?}"),
        };
    let (to_a, to_b) = (billing("usage1a"), billing("usage1b"));
    let reasons = |view: &ChainView, record: &UsageRecord| -> Vec<String> {
        let tenants = leases_of(view, &LeaseBook::default(), &key(1_000));
        judge(&reader, 10, std::slice::from_ref(record), &tenants, now_ms)
            .0
            .into_iter()
            .map(|d| d.reason)
            .collect()
    };
    let leased_to_b = view_with_lease(Some(lease("usage1b", 1_000, None)));
    assert_eq!(reasons(&leased_to_b, &to_a), vec!["tenant"]);
    assert!(reasons(&leased_to_b, &to_b).is_empty());
    assert_eq!(reasons(&view_with_lease(None), &to_b), vec!["no_lease"]);
    // A lease C1 could not be asked about is not guessed.
    let later = view_with_lease(Some(lease("usage1b", 2_000, None)));
    assert_eq!(reasons(&later, &to_b), vec!["lease_unknown"]);
}

const C1: &str = "usage1c1";
const C2: &str = "usage1c2";
const FORGER: &str = "usage1forger";

/// An event of type `ty` as the chain reports it when `contract` emitted it.
fn emitted(contract: &str, ty: &str, attributes: &[(&str, &str)]) -> ContractEvent {
    let mut all = vec![("_contract_address".to_string(), contract.to_string())];
    all.extend(
        attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    ContractEvent::from_abci(&format!("wasm-{ty}"), &all).unwrap()
}

fn usage_proof(contract: &str) -> ContractEvent {
    emitted(
        contract,
        "usage_proof",
        &[("terminal_id", "t1"), ("window_start", "1000")],
    )
}

fn accumulated(contract: &str) -> ContractEvent {
    emitted(
        contract,
        "usage_accumulated",
        &[
            ("provider", "usage1provider"),
            ("tenant", "usage1tenant"),
            ("period_start", "960"),
            ("appended", "1"),
            ("late", "0"),
            ("size", "1"),
        ],
    )
}

fn period_proof(contract: &str) -> ContractEvent {
    emitted(
        contract,
        "period_proof",
        &[
            ("provider", "usage1provider"),
            ("tenant", "usage1tenant"),
            ("period_start", "960"),
            ("root", &"07".repeat(32)),
            ("records", "1"),
        ],
    )
}

fn period_key() -> PeriodKey {
    ("usage1provider".into(), "usage1tenant".into(), 960)
}

#[test]
fn forged_usage_and_period_events_from_another_contract_change_nothing() {
    let events = vec![
        usage_proof(FORGER),
        accumulated(FORGER),
        period_proof(FORGER),
        // C1 and C2 swapped: each is only trusted for its own events.
        usage_proof(C2),
        accumulated(C2),
        period_proof(C1),
    ];
    assert_eq!(interpret_block(&events, C1, C2), BlockFacts::default());
}

#[test]
fn genuine_usage_and_period_events_are_taken() {
    let events = vec![usage_proof(C1), accumulated(C1), period_proof(C2)];
    assert_eq!(
        interpret_block(&events, C1, C2),
        BlockFacts {
            proven: vec![("t1".into(), 1_000)],
            periods: vec![
                (period_key(), PeriodState::Recorded),
                (period_key(), PeriodState::Proven)
            ],
            roots: BTreeMap::new(),
        }
    );
}

fn batch_accepted(contract: &str, root: u8) -> ContractEvent {
    emitted(
        contract,
        "usage_batch",
        &[
            ("batch_id", "4"),
            ("root", &format!("{root:02x}").repeat(32)),
            ("records", "1"),
            ("epoch", "1"),
        ],
    )
}

#[test]
fn each_proof_is_tied_to_the_root_of_the_batch_that_carried_it() {
    let events = vec![
        batch_accepted(C1, 0xaa),
        usage_proof(C1),
        // Another contract cannot claim the next proof for its root.
        batch_accepted(FORGER, 0xbb),
        emitted(
            C1,
            "usage_proof",
            &[("terminal_id", "t2"), ("window_start", "1000")],
        ),
    ];
    let facts = interpret_block(&events, C1, C2);
    assert_eq!(facts.proven.len(), 2);
    assert_eq!(
        facts.roots,
        BTreeMap::from([
            (("t1".to_string(), 1_000), [0xaa; 32]),
            (("t2".to_string(), 1_000), [0xaa; 32]),
        ])
    );
}

#[test]
fn unknown_attributes_of_a_genuine_event_are_ignored() {
    let mut e = usage_proof(C1);
    e.event
        .attributes
        .push(cosmwasm_std::Attribute::new("late", "true"));
    assert_eq!(
        interpret_block(&[e], C1, C2).proven,
        vec![("t1".to_string(), 1_000)]
    );
}

#[test]
fn an_event_with_a_malformed_value_is_ignored() {
    // (An event without the contract address never reaches the follower: the client drops it,
    // see `usage_client::ContractEvent::from_abci`.)
    let mut malformed = usage_proof(C1);
    for a in &mut malformed.event.attributes {
        if a.key == "window_start" {
            a.value = "soon".into();
        }
    }
    assert_eq!(interpret_block(&[malformed], C1, C2), BlockFacts::default());
}

#[test]
fn samples_are_kept_until_every_dispute_of_their_period_can_no_longer_be_resolved() {
    // Localnet timing: 10 s windows, 60 s periods, 30 s grace, 60 s dispute window, 120 s
    // resolution window.
    let (w, p, g, d) = (10, 60, 30, 60 + 120);
    let keep = |now| retention(now, w, p, g, d).disputes_from;
    // Window 1050, the last of period 1000, is proven late: its record lands in period
    // 1060, which is sealed at the earliest at 1060 + 60 + 30 = 1150, disputed until
    // 1210 at the latest, and resolved until 1330.
    let last_resolution = 1_060 + p + g + 60 + 120;
    assert!(keep(last_resolution) <= 1_050);
    // The first window of period 1000, disputed with it.
    assert!(keep(1_000 + p + g + 60 + 120) <= 1_000);
    // Once nothing can be resolved any more, samples go.
    assert!(keep(last_resolution + 2 * (p + g)) > 1_050);
    // Unproven windows stay a day, whatever the periods.
    assert_eq!(
        retention(1_000_000, w, p, g, d).backlog_from,
        1_000_000 - BACKLOG_SECONDS
    );
}

#[test]
fn windows_whose_period_closed_during_an_outage_are_proposed_until_they_are_a_day_old() {
    // 10 s windows, 60 s periods, 30 s grace.
    let view = view_with_lease(None);
    let now_ms = 1_000_000_000;
    let now_s = now_ms / 1_000;
    // The last closed window, and the open one.
    assert!(selectable(now_s - 10, now_ms, &view, BACKLOG_SECONDS));
    assert!(!selectable(now_s, now_ms, &view, BACKLOG_SECONDS));
    // Windows whose period stopped taking records an hour ago: C1 bills them late.
    assert!(selectable(now_s - 3_600, now_ms, &view, BACKLOG_SECONDS));
    assert!(selectable(
        now_s - 3_600 + 50,
        now_ms,
        &view,
        BACKLOG_SECONDS
    ));
    // Up to a day old, then no more.
    assert!(selectable(
        now_s - BACKLOG_SECONDS,
        now_ms,
        &view,
        BACKLOG_SECONDS
    ));
    assert!(!selectable(
        now_s - BACKLOG_SECONDS - 10,
        now_ms,
        &view,
        BACKLOG_SECONDS
    ));
}

#[test]
fn responsibility_passes_to_the_next_member_after_each_failover_timeout() {
    // Window 40 of length 10 -> round 4 -> leader 0 of 4.
    assert_eq!(responsible(40, 10, 4, 51_000, 50_000, 8_000), None);
    assert_eq!(responsible(40, 10, 4, 51_000, 51_000, 8_000), Some(0));
    assert_eq!(responsible(40, 10, 4, 51_000, 58_999, 8_000), Some(0));
    assert_eq!(responsible(40, 10, 4, 51_000, 59_000, 8_000), Some(1));
    assert_eq!(responsible(40, 10, 4, 51_000, 75_000, 8_000), Some(3));
    assert_eq!(responsible(40, 10, 4, 51_000, 83_000, 8_000), Some(0));
}
