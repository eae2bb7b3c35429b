//! Four validators, each a CometBFT node with its own usaged, with the committee proving a
//! simulated fleet's usage on top. Every 30 s one validator is killed (`kill -9`), paused
//! (`SIGSTOP`) or cut off (its P2P traffic dropped) for 10 s and brought back; afterwards the
//! last one is emptied (chain and state gone, keys kept) and started again. The bar: no offered
//! window lost or proven twice, each validator back at the tip within 30 s, no gap between
//! blocks above 10 s, one app hash per height on all four, and the emptied validator catches up
//! by block sync and votes. The figures are printed and kept in the target folder;
//! `scripts/fault-test.sh` runs the same for ten minutes.

use std::time::Duration;

use usage_devtools::faults::{self, Fault, FaultTest, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_keep_one_chain_and_every_proof_through_kills_pauses_and_cuts() {
    let home = tempfile::tempdir().unwrap();
    let bin_dir = usage_devtools::node::sibling_binary("usaged")
        .parent()
        .unwrap()
        .to_path_buf();
    let test = FaultTest {
        home: home.path().join("localnet"),
        validators: 4,
        terminals: 12,
        plan: Plan {
            duration: Duration::from_secs(90),
            every: Duration::from_secs(30),
            hold: Duration::from_secs(10),
            drain: Duration::from_secs(90),
        },
        artifacts: usage_common::contracts::artifacts_dir(),
        bin_dir: bin_dir.clone(),
    };
    let outcome = match faults::fault_test(&test).await {
        Ok(o) => o,
        Err(e) => {
            let kept = home.keep();
            panic!("{e:#}\nlogs kept in {}", kept.display());
        }
    };
    println!("{outcome}");
    let _ = std::fs::write(
        bin_dir.join("four-validator-faults.json"),
        serde_json::to_vec_pretty(&outcome).unwrap(),
    );

    let kinds: Vec<Fault> = outcome.figures.faults.iter().map(|f| f.fault).collect();
    assert_eq!(kinds, [Fault::Kill, Fault::Pause, Fault::Cut], "{outcome}");
    assert!(outcome.figures.windows_offered > 0, "{outcome}");
    // Each fault took effect: the killed and the paused validator did not answer, the one cut
    // off answered from behind the others.
    let behind: Vec<Option<u64>> = outcome.figures.faults.iter().map(|f| f.behind_by).collect();
    assert!(behind[0].is_none() && behind[1].is_none(), "{outcome}");
    assert!(behind[2].is_some_and(|n| n >= 2), "{outcome}");
    let failures = outcome.failures();
    if !failures.is_empty() {
        let kept = home.keep();
        panic!(
            "{}\n{outcome}\nlogs kept in {}",
            failures.join("\n"),
            kept.display()
        );
    }
}
