//! Runs every flow of the design through the optimised contract wasm in the real cosmwasm-vm and
//! prints each step.

fn main() {
    let started = std::time::Instant::now();
    let summary = usage_wasm_vm_tests::flow::run(&mut |line| println!("  {line}"));
    println!(
        "done in {:.1} s: {} first proofs rolled up, settled {}, withdrawn {}, {} refusals as expected",
        started.elapsed().as_secs_f64(),
        summary.period_records,
        summary.settled,
        summary.withdrawn,
        summary.refusals.len()
    );
}
