//! Faults under load on a localnet of several validators: every `every` one validator is killed
//! (`SIGKILL` to its node and its application), paused (`SIGSTOP`, then `SIGCONT`) or cut off (its
//! P2P traffic dropped by [`Links`]) for `hold`, then brought back, while the committee proves a
//! simulated fleet's usage. What comes out ([`Figures`]) is what a chain must keep through such
//! faults: every offered window proven exactly once, every validator back at the tip soon after,
//! no long stall between blocks, one app hash per height on every validator.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde::Serialize;
use tendermint_rpc::{Client, HttpClient};
use usage_client::ChainClient;

use crate::links::Links;
use crate::network::{validator_services, Network, Up};

/// What happens to a validator.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// `kill -9` of its node and its application, then both started again.
    Kill,
    /// `SIGSTOP` to both, then `SIGCONT`.
    Pause,
    /// Its P2P traffic dropped, then relayed again.
    Cut,
}

impl Fault {
    const ROTATION: [Fault; 3] = [Fault::Kill, Fault::Pause, Fault::Cut];
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::Kill => "killed",
            Fault::Pause => "paused",
            Fault::Cut => "cut off",
        })
    }
}

/// One fault and how the validator came back.
#[derive(Serialize, Clone, Debug)]
pub struct Injected {
    /// Seconds after the first fault.
    pub at_s: f64,
    pub validator: usize,
    pub fault: Fault,
    pub held_s: f64,
    /// How many blocks the others were ahead just before it was brought back, if it answered
    /// then (a killed or paused node does not): the fault took effect.
    pub behind_by: Option<u64>,
    /// Seconds from being brought back to being at the others' height; `None`: not within the
    /// limit.
    pub caught_up_s: Option<f64>,
}

/// The schedule.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// How long faults are injected.
    pub duration: Duration,
    /// A fault starts every `every`; zero: none (the load alone, as a baseline).
    pub every: Duration,
    /// How long a validator stays down.
    pub hold: Duration,
    /// How long after the last fault the proofs of the faulted period may take to land.
    pub drain: Duration,
}

/// What a run shows.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Figures {
    pub validators: usize,
    pub terminals: u64,
    pub faults: Vec<Injected>,
    /// Heights from the first fault to the end of the run.
    pub first_height: u64,
    pub last_height: u64,
    /// Seconds between consecutive blocks: the longest, and how many exceed 10 s.
    pub longest_gap_s: f64,
    pub gaps_over_10s: usize,
    /// Heights at which the validators' headers name different app hashes (or one lacks it).
    pub app_hash_mismatches: Vec<u64>,
    /// Terminal windows that closed while faults were injected.
    pub windows_offered: u64,
    /// Of those, the ones proven on chain.
    pub windows_proven: u64,
    /// Windows proven more than once.
    pub windows_doubled: u64,
    /// The first offered windows not proven, as `terminal@window_start`.
    pub unproven: Vec<String>,
    /// The slowest return to the tip.
    pub slowest_catch_up_s: Option<f64>,
}

impl Figures {
    /// Whether the run met the bar: nothing lost or doubled, every validator back at the tip
    /// within 30 s, no gap between blocks above 10 s, one app hash per height.
    pub fn failures(&self) -> Vec<String> {
        let mut failed = vec![];
        let lost = self.windows_offered - self.windows_proven.min(self.windows_offered);
        if lost > 0 {
            failed.push(format!("{lost} offered window(s) never proven"));
        }
        if self.windows_doubled > 0 {
            failed.push(format!("{} window(s) proven twice", self.windows_doubled));
        }
        for f in &self.faults {
            match f.caught_up_s {
                Some(s) if s <= 30.0 => {}
                Some(s) => failed.push(format!(
                    "validator {} ({}) took {s:.1} s to catch up",
                    f.validator, f.fault
                )),
                None => failed.push(format!(
                    "validator {} ({}) never caught up",
                    f.validator, f.fault
                )),
            }
        }
        if self.gaps_over_10s > 0 {
            failed.push(format!(
                "{} gap(s) between blocks above 10 s (longest {:.1} s)",
                self.gaps_over_10s, self.longest_gap_s
            ));
        }
        if !self.app_hash_mismatches.is_empty() {
            failed.push(format!(
                "app hashes differ at heights {:?}",
                self.app_hash_mismatches
            ));
        }
        failed
    }
}

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  {:>6.1} s  validator {} {} for {:.0} s ({}), ",
            self.at_s,
            self.validator,
            self.fault,
            self.held_s,
            match self.behind_by {
                Some(n) => format!("{n} blocks behind"),
                None => "not answering".into(),
            }
        )?;
        match self.caught_up_s {
            Some(s) => write!(f, "at the tip {s:.1} s after"),
            None => write!(f, "not back at the tip within {CATCH_UP_LIMIT:?}"),
        }
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} validators, {} terminals, {} faults",
            self.validators,
            self.terminals,
            self.faults.len()
        )?;
        for i in &self.faults {
            writeln!(f, "{i}")?;
        }
        writeln!(
            f,
            "blocks          {} (heights {}..={})",
            self.last_height.saturating_sub(self.first_height) + 1,
            self.first_height,
            self.last_height
        )?;
        writeln!(
            f,
            "longest gap     {:.1} s ({} above 10 s)",
            self.longest_gap_s, self.gaps_over_10s
        )?;
        writeln!(
            f,
            "slowest return  {}",
            self.slowest_catch_up_s
                .map(|s| format!("{s:.1} s"))
                .unwrap_or_else(|| "-".into())
        )?;
        writeln!(
            f,
            "app hashes      {}",
            if self.app_hash_mismatches.is_empty() {
                "identical on every validator at every height".to_string()
            } else {
                format!("differ at {:?}", self.app_hash_mismatches)
            }
        )?;
        writeln!(
            f,
            "windows         {} offered, {} proven, {} proven twice",
            self.windows_offered, self.windows_proven, self.windows_doubled
        )?;
        if !self.unproven.is_empty() {
            writeln!(f, "not proven      {}", self.unproven.join(", "))?;
        }
        let failures = self.failures();
        if failures.is_empty() {
            write!(f, "result          pass")
        } else {
            write!(f, "result          FAIL: {}", failures.join("; "))
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Each validator's client, the first one's first.
fn clients(net: &Network) -> anyhow::Result<Vec<HttpClient>> {
    net.validator_rpc_urls()
        .iter()
        .map(|u| HttpClient::new(u.as_str()).map_err(|e| anyhow::anyhow!("{u}: {e}")))
        .collect()
}

async fn height(client: &HttpClient) -> Option<u64> {
    let status = tokio::time::timeout(Duration::from_secs(2), client.status())
        .await
        .ok()?
        .ok()?;
    Some(status.sync_info.latest_block_height.value())
}

/// The highest height the validators other than `index` answer (0 if none does).
async fn others_tip(clients: &[HttpClient], index: usize) -> u64 {
    let mut tip = 0;
    for (j, c) in clients.iter().enumerate() {
        if j != index {
            tip = tip.max(height(c).await.unwrap_or(0));
        }
    }
    tip
}

/// How long a validator brought back may take to reach the others' height.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(60);

/// Waits until validator `index` is at the height the others had when it was brought back (or
/// higher); the seconds it took, or `None` after `limit`.
pub async fn catch_up(net: &Network, index: usize, limit: Duration) -> anyhow::Result<Option<f64>> {
    let clients = clients(net)?;
    let started = Instant::now();
    let tip = others_tip(&clients, index).await;
    while started.elapsed() < limit {
        if height(&clients[index]).await.is_some_and(|h| h >= tip) {
            return Ok(Some(started.elapsed().as_secs_f64()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(None)
}

/// Injects `fault` on validator `index` for `hold`, then brings it back. Returns how many
/// blocks the others were ahead of it just before, if it answered then.
pub async fn inject(
    up: &Up,
    net: &mut Network,
    links: Option<&Links>,
    index: usize,
    fault: Fault,
    hold: Duration,
) -> anyhow::Result<Option<u64>> {
    let (usaged, cometbft) = validator_services(index);
    let clients = clients(net)?;
    let behind = || async {
        let own = height(&clients[index]).await?;
        Some(others_tip(&clients, index).await.saturating_sub(own))
    };
    let behind_by = match fault {
        Fault::Kill => {
            net.services.signal(&cometbft, "KILL")?;
            net.services.signal(&usaged, "KILL")?;
            tokio::time::sleep(hold).await;
            let behind_by = behind().await;
            up.start_validator(&mut net.services, index).await?;
            behind_by
        }
        Fault::Pause => {
            net.services.signal(&cometbft, "STOP")?;
            net.services.signal(&usaged, "STOP")?;
            tokio::time::sleep(hold).await;
            let behind_by = behind().await;
            net.services.signal(&usaged, "CONT")?;
            net.services.signal(&cometbft, "CONT")?;
            behind_by
        }
        Fault::Cut => {
            let links = links.context("cutting a validator off needs the localnet's links")?;
            links.cut(index);
            tokio::time::sleep(hold).await;
            let behind_by = behind().await;
            links.heal(index);
            behind_by
        }
    };
    Ok(behind_by)
}

/// Runs `plan` on `net` (started by `up` with `links`' ports), printing one line per fault, and
/// measures what the chain kept.
pub async fn run(up: &Up, net: &mut Network, links: &Links, plan: Plan) -> anyhow::Result<Figures> {
    let validators = net.info.ports.validators().len();
    if validators < 4 {
        bail!("faults need four validators or more (one down must leave more than 2/3)");
    }
    let chain = net.chain()?;
    let started = Instant::now();
    let started_unix = unix_now();
    let first_height = chain.status().await?.0;
    let mut faults = vec![];
    let mut k = 0usize;
    // `every` zero: no faults, the same measures (a baseline of the load alone).
    while !plan.every.is_zero() && plan.every * k as u32 + plan.hold <= plan.duration {
        let slot = plan.every * k as u32;
        if let Some(wait) = slot.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let validator = k % validators;
        let fault = Fault::ROTATION[k % Fault::ROTATION.len()];
        let at_s = started.elapsed().as_secs_f64();
        let behind_by = inject(up, net, Some(links), validator, fault, plan.hold).await?;
        let caught_up_s = catch_up(net, validator, CATCH_UP_LIMIT).await?;
        let done = Injected {
            at_s,
            validator,
            fault,
            held_s: plan.hold.as_secs_f64(),
            behind_by,
            caught_up_s,
        };
        eprintln!("{done}");
        faults.push(done);
        k += 1;
    }
    if let Some(rest) = plan.duration.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let ended_unix = unix_now();

    // The windows that closed while faults were injected: every terminal's must be proven once.
    let window = 10;
    let first_window = started_unix.div_ceil(window) * window;
    let last_window = (ended_unix / window) * window;
    let windows: Vec<u64> = (first_window..last_window)
        .step_by(window as usize)
        .collect();
    let terminals = net.info.terminals;
    let offered = terminals * windows.len() as u64;
    eprintln!(
        "  faults over; waiting up to {} s for the {offered} windows closed meanwhile to be proven",
        plan.drain.as_secs()
    );
    let c1 = net.contract("usage-proof")?;
    let drain_started = Instant::now();
    let mut proven: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let mut scanned = first_height.saturating_sub(1);
    loop {
        let latest = chain.status().await?.0;
        while scanned < latest {
            scanned += 1;
            let block = block_events(&chain, scanned).await?;
            for e in block
                .events
                .iter()
                .filter(|e| e.contract == c1 && e.event.ty == "usage_proof")
            {
                let (Some(t), Some(w)) = (
                    e.get("terminal_id"),
                    e.get("window_start").and_then(|w| w.parse::<u64>().ok()),
                ) else {
                    continue;
                };
                *proven.entry((t.to_string(), w)).or_default() += 1;
            }
        }
        let landed = count_landed(&proven, terminals, &windows);
        if landed >= offered || drain_started.elapsed() > plan.drain {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let windows_proven = count_landed(&proven, terminals, &windows);
    let windows_doubled = proven.values().filter(|n| **n > 1).count() as u64;
    let mut unproven = vec![];
    'missing: for w in &windows {
        for t in 0..terminals {
            let id = usage_sample::simulate::terminal_id("sim", t);
            if !proven.contains_key(&(id.clone(), *w)) {
                unproven.push(format!("{id}@{w}"));
                if unproven.len() == 20 {
                    break 'missing;
                }
            }
        }
    }

    // One chain: the same header (and so the same app hash) at every height on every validator,
    // and the time between blocks.
    let last_height = scanned;
    let clients = clients(net)?;
    let mut app_hash_mismatches = vec![];
    let mut times = vec![];
    for h in first_height..=last_height {
        let mut hashes = vec![];
        for c in &clients {
            let block = c
                .block(h as u32)
                .await
                .map(|b| (b.block.header.app_hash.to_string(), b.block.header.time));
            hashes.push(block.ok());
        }
        if hashes
            .iter()
            .any(|b| b.as_ref().map(|b| &b.0) != hashes[0].as_ref().map(|b| &b.0))
            || hashes[0].is_none()
        {
            app_hash_mismatches.push(h);
        }
        if let Some(Some((_, time))) = hashes.first() {
            times.push(time.unix_timestamp_nanos());
        }
    }
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1e9)
        .collect();
    let slowest_catch_up_s = faults
        .iter()
        .filter_map(|f: &Injected| f.caught_up_s)
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    Ok(Figures {
        validators,
        terminals,
        faults,
        first_height,
        last_height,
        longest_gap_s: gaps.iter().copied().fold(0.0, f64::max),
        gaps_over_10s: gaps.iter().filter(|g| **g > 10.0).count(),
        app_hash_mismatches,
        windows_offered: offered,
        windows_proven,
        windows_doubled,
        unproven,
        slowest_catch_up_s,
    })
}

fn count_landed(proven: &BTreeMap<(String, u64), u64>, terminals: u64, windows: &[u64]) -> u64 {
    let mut landed = 0;
    for t in 0..terminals {
        let id = usage_sample::simulate::terminal_id("sim", t);
        landed += windows
            .iter()
            .filter(|w| proven.contains_key(&(id.clone(), **w)))
            .count() as u64;
    }
    landed
}

/// The events of block `height`, waiting a little for a node that has not stored its results.
async fn block_events(
    chain: &ChainClient,
    height: u64,
) -> anyhow::Result<usage_client::BlockEvents> {
    let mut tries = 0;
    loop {
        match chain.block_events(height).await {
            Ok(b) => return Ok(b),
            Err(_) if tries < 25 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("the events of block {height}")),
        }
    }
}

/// A validator started again from an empty home (its keys kept, its chain and state gone):
/// how long block sync took to bring it to the others' height, and the first height whose
/// commit carries its vote.
#[derive(Serialize, Clone, Debug)]
pub struct Rejoined {
    pub validator: usize,
    pub caught_up_s: Option<f64>,
    pub caught_up_at_height: u64,
    pub first_vote_height: Option<u64>,
}

/// Stops validator `index`, empties its home but for its keys and configuration, starts it
/// again and waits until it has caught up and signed a commit.
pub async fn rejoin_from_empty_home(
    up: &Up,
    net: &mut Network,
    index: usize,
    limit: Duration,
) -> anyhow::Result<Rejoined> {
    let (usaged, cometbft) = validator_services(index);
    net.services.signal(&cometbft, "KILL")?;
    net.services.signal(&usaged, "KILL")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while [&usaged, &cometbft]
        .iter()
        .any(|n| net.services.get(n).is_some_and(|s| s.is_running()))
    {
        if Instant::now() > deadline {
            bail!("validator {index} still runs after SIGKILL");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let home = crate::localnet::validator_home(&up.home, index);
    std::fs::remove_dir_all(home.join("app"))?;
    std::fs::create_dir_all(home.join("app"))?;
    let data = home.join("cometbft/data");
    std::fs::remove_dir_all(&data)?;
    std::fs::create_dir_all(&data)?;
    // What `cometbft init` writes: the signer has signed nothing yet.
    std::fs::write(
        data.join("priv_validator_state.json"),
        "{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}",
    )?;
    up.start_validator(&mut net.services, index).await?;
    let started = Instant::now();
    let caught_up_s = catch_up(net, index, limit).await?;
    let clients = clients(net)?;
    let caught_up_at_height = height(&clients[index]).await.unwrap_or(0);
    let address = net
        .localnet
        .validators
        .get(index)
        .map(|v| v.address.clone())
        .context("the localnet lists no such validator")?;
    // Its vote: its signature in the commit of a height it was back for.
    let mut first_vote_height = None;
    let mut h = caught_up_at_height.max(1);
    while first_vote_height.is_none() && started.elapsed() < limit {
        let other = &clients[(index + 1) % clients.len()];
        let latest = height(other).await.unwrap_or(0);
        while h < latest {
            let commit = other.commit(h as u32).await?;
            let voted = commit.signed_header.commit.signatures.iter().any(|s| {
                matches!(s, tendermint::block::CommitSig::BlockIdFlagCommit { validator_address, .. }
                    if validator_address.to_string() == address)
            });
            if voted {
                first_vote_height = Some(h);
                break;
            }
            h += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(Rejoined {
        validator: index,
        caught_up_s,
        caught_up_at_height,
        first_vote_height,
    })
}

/// What [`fault_test`] runs.
#[derive(Clone, Debug)]
pub struct FaultTest {
    /// The working folder (must not hold a localnet yet).
    pub home: std::path::PathBuf,
    pub validators: usize,
    pub terminals: u64,
    pub plan: Plan,
    /// The contracts' optimised wasm and the services' binaries.
    pub artifacts: std::path::PathBuf,
    pub bin_dir: std::path::PathBuf,
}

/// The whole fault test's outcome.
#[derive(Serialize, Clone, Debug)]
pub struct Outcome {
    pub figures: Figures,
    pub rejoined: Rejoined,
    /// Seconds from nothing to the first proof on chain.
    pub startup_s: f64,
}

impl Outcome {
    /// What fell short, beside [`Figures::failures`]: the emptied validator must catch up
    /// (within 120 s, or the run's duration if longer) and then vote.
    pub fn failures(&self) -> Vec<String> {
        let mut failed = self.figures.failures();
        if self.rejoined.caught_up_s.is_none() {
            failed.push(format!(
                "validator {} started from an empty home did not catch up",
                self.rejoined.validator
            ));
        }
        if self.rejoined.first_vote_height.is_none() {
            failed.push(format!(
                "validator {} started from an empty home never voted",
                self.rejoined.validator
            ));
        }
        failed
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "start-up        {:.1} s to the first proof",
            self.startup_s
        )?;
        writeln!(f, "{}", self.figures)?;
        write!(
            f,
            "empty home      validator {}: {}, first vote at height {}",
            self.rejoined.validator,
            match self.rejoined.caught_up_s {
                Some(s) => format!(
                    "block sync to height {} in {s:.1} s",
                    self.rejoined.caught_up_at_height
                ),
                None => "did not catch up".into(),
            },
            self.rejoined
                .first_vote_height
                .map(|h| h.to_string())
                .unwrap_or_else(|| "-".into())
        )
    }
}

/// Starts `test.validators` validators (P2P through [`Links`]) with the committee, the bank side
/// and a simulated fleet on free ports, waits for the first proof, runs the plan, then empties
/// the last validator's home and lets it rejoin; stops every process before returning.
pub async fn fault_test(test: &FaultTest) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let ports = crate::network::PortPlan::free_for(test.validators);
    let p2p: Vec<u16> = ports.validators().iter().map(|v| v.node.p2p).collect();
    let links = Links::start(&p2p).await?;
    let up = Up {
        home: test.home.clone(),
        chain_id: "usagechain-faults-1".into(),
        terminals: test.terminals,
        ports,
        artifacts: test.artifacts.clone(),
        bin_dir: test.bin_dir.clone(),
        attestor: false,
        p2p_links: Some(links.ports().to_vec()),
        max_block_gas: None,
    };
    eprintln!(
        "starting {} validators, the committee and {} terminals in {}",
        test.validators,
        test.terminals,
        test.home.display()
    );
    let mut net = up.run().await?;
    let outcome = async {
        wait_for_first_proof(&net, Duration::from_secs(180)).await?;
        let startup_s = started.elapsed().as_secs_f64();
        eprintln!("first proof after {startup_s:.1} s; injecting faults");
        let figures = run(&up, &mut net, &links, test.plan).await?;
        let last = test.validators - 1;
        eprintln!("validator {last}: emptied and started again");
        // Block sync replays every block: the longer the run, the longer it takes.
        let limit = Duration::from_secs(120).max(test.plan.duration);
        let rejoined = rejoin_from_empty_home(&up, &mut net, last, limit).await?;
        anyhow::Ok(Outcome {
            figures,
            rejoined,
            startup_s,
        })
    }
    .await;
    let stopped = net.services.stop_all(Duration::from_secs(10));
    let outcome = outcome?;
    stopped?;
    Ok(outcome)
}

/// Waits until C1 has proven some usage.
pub async fn wait_for_first_proof(net: &Network, limit: Duration) -> anyhow::Result<()> {
    let chain = net.chain()?;
    let c1 = net.contract("usage-proof")?;
    let started = Instant::now();
    let mut scanned = 0;
    loop {
        let latest = chain.status().await?.0;
        while scanned < latest {
            scanned += 1;
            let block = block_events(&chain, scanned).await?;
            if block
                .events
                .iter()
                .any(|e| e.contract == c1 && e.event.ty == "usage_proof")
            {
                return Ok(());
            }
        }
        if started.elapsed() > limit {
            bail!("no usage proven within {limit:?}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
