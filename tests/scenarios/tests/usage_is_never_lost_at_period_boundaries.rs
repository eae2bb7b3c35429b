//! One boundary rule between C1 and C2: C1 takes a record into its own period while
//! `now < period end + grace`; C2 seals at `now >= period end + max(graces)`. A record proven at or
//! after that second is not refused (its usage was measured and signed): it goes into the period
//! open when it is proven, marked late with its original window, and a sealed accumulator never
//! grows.

use usage_common::events::{AccumulatorAppended, LateUsageRecorded, TypedEvent};
use usage_scenarios::{Suite, UsageProofError, GRACE, PERIOD, T0, WINDOW};

fn setup(n: usize) -> (Suite, Vec<String>) {
    let mut s = Suite::new();
    let t = s.register_terminals(n);
    (s, t)
}

/// Moves to the next block at the same block time.
fn next_block_same_second(s: &mut Suite) {
    s.advance(0);
}

#[test]
fn a_record_arriving_in_the_second_its_period_is_sealed_goes_to_the_next_period() {
    let (mut s, t) = setup(3);
    s.advance(WINDOW);
    s.submit(&[s.record(&t[0], T0, 1_000)]).expect("r1");

    // The exact second C2 may seal: the period's end plus grace.
    let closes_at = T0 + PERIOD + GRACE;
    s.advance(closes_at - s.now());
    s.prove_period(T0)
        .expect("sealed at the first possible second");
    let sealed = s.period_proof(T0).expect("second proof");
    assert_eq!(sealed.totals.records, 1);

    // Two more blocks in the same second, each with a record of the sealed period.
    for terminal in [&t[1], &t[2]] {
        next_block_same_second(&mut s);
        assert_eq!(s.now(), closes_at);
        let res = s
            .submit(&[s.record(terminal, T0, 2_000)])
            .expect("a late record is proven, not lost");
        assert_eq!(
            LateUsageRecorded::all_in(&res.events),
            vec![LateUsageRecorded {
                terminal_id: terminal.clone(),
                window_start: T0,
                period_start: T0 + PERIOD,
            }]
        );
        let proof = s.proof(terminal, T0).expect("first proof");
        assert!(proof.late);
        assert_eq!(proof.period_start, T0 + PERIOD);
    }

    // The sealed accumulator did not grow, so every inclusion proof of it still verifies.
    assert_eq!(s.accumulator(T0).frontier.size, 1);
    assert!(s.accumulator(T0).sealed);
    assert!(s.included_in_second_proof(&t[0], T0));
    assert_eq!(s.accumulator(T0 + PERIOD).late_records, 2);
}

#[test]
fn a_record_one_second_before_the_close_lands_in_its_own_period() {
    let (mut s, t) = setup(1);
    s.advance(T0 + PERIOD + GRACE - 1 - s.now());
    let res = s.submit(&[s.record(&t[0], T0, 1_000)]).expect("on time");
    assert!(LateUsageRecorded::all_in(&res.events).is_empty());
    let proof = s.proof(&t[0], T0).expect("first proof");
    assert!(!proof.late);
    assert_eq!(proof.period_start, T0);
}

#[test]
fn a_record_proven_long_after_its_period_is_billed_late_exactly_once() {
    let (mut s, t) = setup(2);
    // An outage: nothing is proven for three periods.
    s.advance(3 * PERIOD + 5);
    let now = s.now();
    let open = now - (now - GRACE) % PERIOD - GRACE % PERIOD;
    let records = vec![
        s.record(&t[0], T0, 1_000),
        s.record(&t[1], T0 + WINDOW, 1_000),
    ];
    let res = s.submit(&records).expect("late records are proven");
    let appended = AccumulatorAppended::all_in(&res.events);
    assert_eq!(appended.len(), 1);
    assert_eq!(appended[0].late, 2);
    let billed_in = appended[0].period_start;
    assert_eq!(billed_in, open);
    assert!(
        now < billed_in + PERIOD + GRACE,
        "billed in a period still open"
    );

    // Exactly once: the same windows again are refused.
    assert_eq!(
        s.submit(&records[..1]).unwrap_err(),
        UsageProofError::AlreadyProven {
            terminal_id: t[0].clone(),
            window_start: T0,
        }
    );

    // The late period's second proof carries them, and its settlement says so.
    s.advance(billed_in + PERIOD + GRACE - s.now());
    s.prove_period(billed_in).expect("prove the late period");
    let proof = s.period_proof(billed_in).expect("second proof");
    assert_eq!(proof.late_records, 2);
    assert_eq!(proof.totals.records, 2);
    assert!(s.included_in_second_proof(&t[1], T0 + WINDOW));
}
