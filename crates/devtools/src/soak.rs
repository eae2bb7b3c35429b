//! The soak: a localnet (validators, the committee, the bank side, a simulated fleet) under load
//! for hours, each process's resident memory read every minute; prints the readings as they come
//! and, at the end, each process's growth from the end of the warm-up to the end of the run, and
//! draws the memory over time.
//!
//! A process whose memory keeps growing under a steady load leaks: the goal is at most 20 %
//! growth for every process over two hours.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use usage_bench::{plot, procs};

use crate::faults::wait_for_first_proof;
use crate::network::{PortPlan, Up};

/// What to run and for how long.
pub struct Soak {
    /// The working folder (must not hold a localnet yet).
    pub home: PathBuf,
    pub validators: usize,
    pub terminals: u64,
    pub duration: Duration,
    /// Time between readings.
    pub every: Duration,
    /// Readings before this are the warm-up: growth is counted from the first reading after it.
    pub warm_up: Duration,
    /// The contracts' optimised wasm and the services' binaries.
    pub artifacts: PathBuf,
    pub bin_dir: PathBuf,
    /// Where the chart goes.
    pub out: PathBuf,
}

/// One process over the soak.
#[derive(Serialize, Clone, Debug)]
pub struct ProcessMemory {
    pub name: String,
    /// `(minutes since the start of the load, resident MiB)`.
    pub readings: Vec<(f64, f64)>,
    /// Resident MiB at the end of the warm-up and at the end.
    pub after_warm_up_mib: f64,
    pub last_mib: f64,
    /// `last / after_warm_up - 1`, in percent.
    pub growth_percent: f64,
    /// CPU over the whole run, in percent of one core.
    pub cpu_percent: f64,
}

/// The soak's outcome.
#[derive(Serialize, Clone, Debug)]
pub struct SoakFigures {
    pub minutes: f64,
    pub terminals: u64,
    pub validators: usize,
    /// Blocks committed during the run.
    pub blocks: u64,
    pub processes: Vec<ProcessMemory>,
}

impl SoakFigures {
    /// The processes that grew more than `limit_percent`.
    pub fn over(&self, limit_percent: f64) -> Vec<&ProcessMemory> {
        self.processes
            .iter()
            .filter(|p| p.growth_percent > limit_percent)
            .collect()
    }
}

impl std::fmt::Display for SoakFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "soak: {:.0} min, {} validator(s), {} terminals, {} blocks",
            self.minutes, self.validators, self.terminals, self.blocks
        )?;
        writeln!(
            f,
            "  {:<22} {:>12} {:>10} {:>8} {:>7}",
            "process", "warm (MiB)", "end (MiB)", "growth", "CPU"
        )?;
        for p in &self.processes {
            writeln!(
                f,
                "  {:<22} {:>12.1} {:>10.1} {:>7.1}% {:>6.1}%",
                p.name, p.after_warm_up_mib, p.last_mib, p.growth_percent, p.cpu_percent
            )?;
        }
        Ok(())
    }
}

/// Runs the soak; stops every process of the localnet before returning.
pub async fn soak(s: &Soak) -> anyhow::Result<SoakFigures> {
    let up = Up {
        home: s.home.clone(),
        chain_id: "usagechain-soak-1".into(),
        terminals: s.terminals,
        ports: PortPlan::free_for(s.validators),
        artifacts: s.artifacts.clone(),
        bin_dir: s.bin_dir.clone(),
        attestor: false,
        p2p_links: None,
        max_block_gas: None,
    };
    eprintln!(
        "starting {} validator(s), the committee and {} terminals in {}",
        s.validators,
        s.terminals,
        s.home.display()
    );
    let mut net = up.run().await?;
    let figures = async {
        wait_for_first_proof(&net, Duration::from_secs(180)).await?;
        let chain = net.chain()?;
        let first_height = chain.status().await?.0;
        let services: Vec<(String, u32)> = net
            .services
            .list
            .iter()
            .map(|s| (s.name.clone(), s.pid))
            .collect();
        let first: Vec<procs::Reading> = services
            .iter()
            .filter_map(|(_, pid)| procs::read(*pid))
            .collect();
        let started = Instant::now();
        let mut readings: Vec<Vec<(f64, f64)>> = vec![vec![]; services.len()];
        let mut last: Vec<procs::Reading> = first.clone();
        loop {
            let minutes = started.elapsed().as_secs_f64() / 60.0;
            let mut line = format!("{minutes:6.1} min:");
            for (i, (name, pid)) in services.iter().enumerate() {
                let Some(r) = procs::read(*pid) else {
                    anyhow::bail!("{name} (pid {pid}) is gone after {minutes:.1} min");
                };
                let mib = r.rss_kib as f64 / 1024.0;
                readings[i].push((minutes, mib));
                line += &format!(" {name} {mib:.0}");
                if let Some(slot) = last.iter_mut().find(|l| l.pid == *pid) {
                    *slot = r;
                }
            }
            eprintln!("{line} MiB");
            if started.elapsed() >= s.duration {
                break;
            }
            tokio::time::sleep(s.every.min(s.duration.saturating_sub(started.elapsed()))).await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let blocks = chain.status().await?.0.saturating_sub(first_height);
        let cpu = procs::cpu_shares(&first, &last, elapsed);
        let warm_up_min = s.warm_up.as_secs_f64() / 60.0;
        let processes = services
            .iter()
            .zip(readings)
            .map(|((name, pid), readings)| {
                let after_warm_up_mib = readings
                    .iter()
                    .find(|(m, _)| *m >= warm_up_min)
                    .or(readings.last())
                    .map_or(0.0, |r| r.1);
                let last_mib = readings.last().map_or(0.0, |r| r.1);
                let growth_percent = if after_warm_up_mib > 0.0 {
                    100.0 * (last_mib / after_warm_up_mib - 1.0)
                } else {
                    0.0
                };
                ProcessMemory {
                    name: name.clone(),
                    readings,
                    after_warm_up_mib,
                    last_mib,
                    growth_percent,
                    cpu_percent: cpu.iter().find(|(_, p, _)| p == pid).map_or(0.0, |c| c.2),
                }
            })
            .collect();
        anyhow::Ok(SoakFigures {
            minutes: elapsed / 60.0,
            terminals: s.terminals,
            validators: s.validators,
            blocks,
            processes,
        })
    }
    .await;
    let stopped = net.services.stop_all(Duration::from_secs(10));
    let figures = figures?;
    stopped?;
    std::fs::create_dir_all(&s.out)?;
    let png = s.out.join("soak-memory.png");
    let lines: Vec<plot::Line> = figures
        .processes
        .iter()
        .map(|p| plot::Line {
            name: p.name.clone(),
            points: p.readings.clone(),
        })
        .collect();
    let title = format!(
        "resident memory, {} terminals, {} validator(s)",
        s.terminals, s.validators
    );
    let labels = plot::Labels {
        title: &title,
        x: "minutes",
        y: "MiB",
    };
    match plot::series(&png, labels, &lines) {
        Ok(()) => eprintln!("plot: {}", png.display()),
        Err(e) => eprintln!("no plot: {e}"),
    }
    Ok(figures)
}
