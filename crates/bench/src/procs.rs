//! CPU time and resident memory of processes, read from Linux's `/proc`.

use std::path::Path;

/// Clock ticks per second of `/proc/<pid>/stat`'s times (Linux's `USER_HZ`, 100 on every
/// mainstream build).
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of a process.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Process id.
    pub pid: u32,
    /// Its command name (`/proc/<pid>/comm`).
    pub name: String,
    /// User plus system CPU time so far, in seconds.
    pub cpu_s: f64,
    /// Resident memory, in KiB (`VmRSS`).
    pub rss_kib: u64,
}

/// Reads process `pid`, or `None` if it is gone (or `/proc` is not Linux's).
pub fn read(pid: u32) -> Option<Reading> {
    let dir = Path::new("/proc").join(pid.to_string());
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses; the fields after the last
    // ')' are fixed. utime and stime are fields 14 and 15, i.e. 12th and 13th after the state.
    let (_, after) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let name = std::fs::read_to_string(dir.join("comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    Some(Reading {
        pid,
        name,
        cpu_s: (utime + stime) / TICKS_PER_SECOND,
        rss_kib,
    })
}

/// The parent of process `pid`.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Every live process descended from `root` (children, their children, …), `root` excluded.
pub fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let pids: Vec<(u32, u32)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent(pid)?)))
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while let Some(&p) = found.get(i) {
        found.extend(pids.iter().filter(|(_, pp)| *pp == p).map(|(pid, _)| *pid));
        i += 1;
    }
    found.remove(0);
    found
}

/// CPU share of each process between two readings of the same processes, in percent of one core
/// (a process using both cores fully shows 200 %), with the seconds between them.
pub fn cpu_shares(before: &[Reading], after: &[Reading], seconds: f64) -> Vec<(String, u32, f64)> {
    after
        .iter()
        .filter_map(|a| {
            let b = before.iter().find(|b| b.pid == a.pid)?;
            let share = if seconds > 0.0 {
                100.0 * (a.cpu_s - b.cpu_s) / seconds
            } else {
                0.0
            };
            Some((a.name.clone(), a.pid, share))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_with_its_memory_and_cpu() {
        let me = read(std::process::id()).unwrap();
        assert!(me.rss_kib > 0);
        assert!(me.cpu_s >= 0.0);
        assert!(!me.name.is_empty());
        assert!(read(u32::MAX).is_none());
    }

    #[test]
    fn a_child_is_a_descendant_and_its_cpu_share_is_measured() {
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5",
            ])
            .spawn()
            .unwrap();
        let before = read(child.id()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(descendants(std::process::id()).contains(&child.id()));
        let after = read(child.id()).unwrap();
        let shares = cpu_shares(&[before], &[after], 0.4);
        child.kill().unwrap();
        child.wait().unwrap();
        let (_, pid, share) = shares[0].clone();
        assert_eq!(pid, child.id());
        assert!(share > 10.0, "a busy shell loop uses the CPU: {share} %");
    }
}
