use usage_common::merkle::{inclusion_path, SumNode};

use super::suite::{SuiteBuilder, GRACE, P0, PERIOD};

#[test]
fn the_inclusion_check_is_true_for_a_real_leaf_and_path_and_false_for_a_forged_one() {
    let mut suite = SuiteBuilder::new().build();
    suite.record_period(P0, 6);
    suite.set_time(P0 + PERIOD + GRACE);
    suite.prove(P0).expect("prove");
    let leaves = suite.leaves_of(P0);
    assert_eq!(leaves.len(), 6);

    for (i, leaf) in leaves.iter().enumerate() {
        let path = inclusion_path(&leaves, i).expect("path");
        assert!(
            suite.verify_inclusion(P0, i as u64, leaf, &path),
            "leaf {i}"
        );
    }

    let path = inclusion_path(&leaves, 2).expect("path");
    // Same hash, inflated totals.
    let mut inflated = leaves[2].clone();
    inflated.totals.net_tx_bytes += 1;
    assert!(!suite.verify_inclusion(P0, 2, &inflated, &path,));
    // A leaf that was never recorded.
    let forged = SumNode::leaf(b"forged record", leaves[2].totals);
    assert!(!suite.verify_inclusion(P0, 2, &forged, &path));
    // The right leaf at the wrong index, and a path with a sibling dropped.
    assert!(!suite.verify_inclusion(P0, 3, &leaves[2], &path));
    assert!(!suite.verify_inclusion(P0, 2, &leaves[2], &path[1..]));
}

#[test]
fn the_inclusion_check_is_false_for_a_period_without_proof() {
    let mut suite = SuiteBuilder::new().build();
    suite.record_period(P0, 2);
    let leaves = suite.leaves_of(P0);
    let path = inclusion_path(&leaves, 0).expect("path");
    assert!(!suite.verify_inclusion(P0, 0, &leaves[0], &path));
}
