//! Host counters the attestor samples: network bytes per interface, a tenant's cgroup v2 usage, and
//! the terminal's idle capacity (CPU, memory, disk).
//!
//! Every parser takes the file's content, so it can be tested with fixtures, and never panics: a
//! malformed file is a [`CounterError`]. The `read_*` functions are thin wrappers that read the real
//! files. Sums saturate instead of overflowing; a unit conversion that would overflow is an error.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// The kernel's network device counters.
pub const PROC_NET_DEV: &str = "/proc/net/dev";
/// The kernel's CPU time counters.
pub const PROC_STAT: &str = "/proc/stat";
/// The kernel's memory statistics.
pub const PROC_MEMINFO: &str = "/proc/meminfo";

/// Why a counter could not be read.
#[derive(Error, Debug)]
pub enum CounterError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file (or directory, for `statvfs`).
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A line of the file is not in the format the kernel documents.
    #[error("malformed {file} at line {line}: {reason}")]
    Malformed {
        /// Which kind of file (`/proc/net/dev`, `cpu.stat`, ...).
        file: &'static str,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// A key the file must contain is absent.
    #[error("{file} has no {key}")]
    Missing {
        /// Which kind of file.
        file: &'static str,
        /// The absent key.
        key: &'static str,
    },
    /// A value does not fit in 64 bits after conversion to bytes.
    #[error("{file}: {key} overflows 64 bits")]
    Overflow {
        /// Which kind of file.
        file: &'static str,
        /// The key whose value overflowed.
        key: &'static str,
    },
}

fn read(path: &Path) -> Result<String, CounterError> {
    std::fs::read_to_string(path).map_err(|source| CounterError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn number(file: &'static str, line: usize, what: &str, s: &str) -> Result<u64, CounterError> {
    s.parse::<u64>().map_err(|_| CounterError::Malformed {
        file,
        line,
        reason: format!("{what} is not an unsigned integer: {s:?}"),
    })
}

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

/// Counters of one network interface since boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceCounters {
    /// Interface name (`lo`, `eth0`, ...).
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
}

/// Parses the content of `/proc/net/dev`: two header lines, then one line per interface,
/// `name: rx_bytes rx_packets errs drop fifo frame compressed multicast tx_bytes tx_packets ...`.
pub fn parse_net_dev(content: &str) -> Result<Vec<InterfaceCounters>, CounterError> {
    let mut out = Vec::new();
    for (i, raw) in content.lines().enumerate() {
        let line = i + 1;
        // The two header lines are the only ones with a `|`.
        if raw.contains('|') || raw.trim().is_empty() {
            continue;
        }
        let Some((name, rest)) = raw.split_once(':') else {
            return Err(CounterError::Malformed {
                file: PROC_NET_DEV,
                line,
                reason: "no `:` after the interface name".into(),
            });
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(CounterError::Malformed {
                file: PROC_NET_DEV,
                line,
                reason: "empty interface name".into(),
            });
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() < 16 {
            return Err(CounterError::Malformed {
                file: PROC_NET_DEV,
                line,
                reason: format!("{} counters, expected 16", fields.len()),
            });
        }
        let mut values = [0u64; 16];
        for (v, f) in values.iter_mut().zip(&fields) {
            *v = number(PROC_NET_DEV, line, "counter", f)?;
        }
        out.push(InterfaceCounters {
            name: name.to_string(),
            rx_bytes: values[0],
            rx_packets: values[1],
            tx_bytes: values[8],
            tx_packets: values[9],
        });
    }
    Ok(out)
}

/// Reads and parses the real `/proc/net/dev`.
pub fn read_net_dev() -> Result<Vec<InterfaceCounters>, CounterError> {
    parse_net_dev(&read(Path::new(PROC_NET_DEV))?)
}

// ---------------------------------------------------------------------------------------------
// Tenant cgroup (v2)
// ---------------------------------------------------------------------------------------------

const CPU_STAT: &str = "cpu.stat";
const MEMORY_CURRENT: &str = "memory.current";
const IO_STAT: &str = "io.stat";

/// Bytes read and written by a cgroup, summed over block devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IoBytes {
    /// Sum of `rbytes` over devices.
    pub read_bytes: u64,
    /// Sum of `wbytes` over devices.
    pub write_bytes: u64,
}

/// A tenant's usage from its cgroup v2 directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupUsage {
    /// `cpu.stat` `usage_usec`: CPU time used, microseconds.
    pub cpu_usage_usec: u64,
    /// `memory.current`: memory in use now, bytes.
    pub memory_bytes: u64,
    /// `io.stat`; `None` when the io controller is not enabled for the cgroup (no `io.stat`).
    pub io: Option<IoBytes>,
}

/// Parses a cgroup v2 `cpu.stat` (`key value` lines) and returns `usage_usec`.
pub fn parse_cpu_stat(content: &str) -> Result<u64, CounterError> {
    for (i, raw) in content.lines().enumerate() {
        let mut parts = raw.split_whitespace();
        if parts.next() == Some("usage_usec") {
            let (Some(v), None) = (parts.next(), parts.next()) else {
                return Err(CounterError::Malformed {
                    file: CPU_STAT,
                    line: i + 1,
                    reason: "expected `usage_usec <value>`".into(),
                });
            };
            return number(CPU_STAT, i + 1, "usage_usec", v);
        }
    }
    Err(CounterError::Missing {
        file: CPU_STAT,
        key: "usage_usec",
    })
}

/// Parses a cgroup v2 `memory.current`: one number of bytes.
pub fn parse_memory_current(content: &str) -> Result<u64, CounterError> {
    let mut lines = content.lines().filter(|l| !l.trim().is_empty());
    match (lines.next(), lines.next()) {
        (Some(v), None) => number(MEMORY_CURRENT, 1, "memory.current", v.trim()),
        (None, _) => Err(CounterError::Missing {
            file: MEMORY_CURRENT,
            key: "value",
        }),
        (Some(_), Some(_)) => Err(CounterError::Malformed {
            file: MEMORY_CURRENT,
            line: 2,
            reason: "more than one value".into(),
        }),
    }
}

/// Parses a cgroup v2 `io.stat` (`MAJ:MIN key=value ...` per device) and sums `rbytes` and
/// `wbytes` over devices. An empty file (no I/O yet) is zero.
pub fn parse_io_stat(content: &str) -> Result<IoBytes, CounterError> {
    let mut total = IoBytes::default();
    for (i, raw) in content.lines().enumerate() {
        let line = i + 1;
        let mut parts = raw.split_whitespace();
        let Some(device) = parts.next() else {
            continue;
        };
        let valid_device = device
            .split_once(':')
            .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
        if !valid_device {
            return Err(CounterError::Malformed {
                file: IO_STAT,
                line,
                reason: format!("device is not MAJ:MIN: {device:?}"),
            });
        }
        for kv in parts {
            let Some((key, value)) = kv.split_once('=') else {
                return Err(CounterError::Malformed {
                    file: IO_STAT,
                    line,
                    reason: format!("not key=value: {kv:?}"),
                });
            };
            match key {
                "rbytes" => {
                    let v = number(IO_STAT, line, "rbytes", value)?;
                    total.read_bytes = total.read_bytes.saturating_add(v);
                }
                "wbytes" => {
                    let v = number(IO_STAT, line, "wbytes", value)?;
                    total.write_bytes = total.write_bytes.saturating_add(v);
                }
                _ => {}
            }
        }
    }
    Ok(total)
}

/// Reads a tenant's cgroup v2 directory (e.g. `/sys/fs/cgroup/tenants/acme`).
pub fn read_cgroup(dir: &Path) -> Result<CgroupUsage, CounterError> {
    let cpu_usage_usec = parse_cpu_stat(&read(&dir.join(CPU_STAT))?)?;
    let memory_bytes = parse_memory_current(&read(&dir.join(MEMORY_CURRENT))?)?;
    let io_path = dir.join(IO_STAT);
    let io = match std::fs::read_to_string(&io_path) {
        Ok(content) => Some(parse_io_stat(&content)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(CounterError::Io {
                path: io_path,
                source,
            })
        }
    };
    Ok(CgroupUsage {
        cpu_usage_usec,
        memory_bytes,
        io,
    })
}

// ---------------------------------------------------------------------------------------------
// Idle capacity
// ---------------------------------------------------------------------------------------------

/// Aggregate CPU time since boot from the first `cpu` line of `/proc/stat`, in jiffies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// `idle + iowait`.
    pub idle: u64,
    /// `user + nice + system + idle + iowait + irq + softirq + steal` (guest time is already
    /// counted in user and nice, so it is not added again).
    pub total: u64,
}

impl CpuTimes {
    /// Idle share in permille between an earlier reading and this one; `None` if no time passed
    /// or the counters went backwards (a reboot).
    pub fn idle_permille_since(&self, earlier: &CpuTimes) -> Option<u16> {
        let total = self.total.checked_sub(earlier.total)?;
        let idle = self.idle.checked_sub(earlier.idle)?;
        permille(idle, total)
    }

    /// Idle share in permille since boot; `None` if the total is zero.
    pub fn idle_permille(&self) -> Option<u16> {
        permille(self.idle, self.total)
    }
}

fn permille(part: u64, whole: u64) -> Option<u16> {
    if whole == 0 || part > whole {
        return None;
    }
    let p = u128::from(part) * 1000 / u128::from(whole);
    u16::try_from(p).ok()
}

/// Parses the first `cpu ` line of `/proc/stat`.
pub fn parse_proc_stat(content: &str) -> Result<CpuTimes, CounterError> {
    for (i, raw) in content.lines().enumerate() {
        let mut parts = raw.split_whitespace();
        if parts.next() != Some("cpu") {
            continue;
        }
        let line = i + 1;
        let fields: Vec<&str> = parts.collect();
        // Kernels since 2.6.33 have 10 fields; steal (8th) appeared in 2.6.11. Require it.
        if fields.len() < 8 {
            return Err(CounterError::Malformed {
                file: PROC_STAT,
                line,
                reason: format!("{} cpu fields, expected at least 8", fields.len()),
            });
        }
        let mut v = [0u64; 8];
        for (slot, f) in v.iter_mut().zip(&fields) {
            *slot = number(PROC_STAT, line, "cpu time", f)?;
        }
        let total = v.iter().fold(0u64, |acc, x| acc.saturating_add(*x));
        return Ok(CpuTimes {
            idle: v[3].saturating_add(v[4]),
            total,
        });
    }
    Err(CounterError::Missing {
        file: PROC_STAT,
        key: "cpu",
    })
}

/// Reads and parses the real `/proc/stat`.
pub fn read_proc_stat() -> Result<CpuTimes, CounterError> {
    parse_proc_stat(&read(Path::new(PROC_STAT))?)
}

/// Total and available memory of the terminal, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemInfo {
    /// `MemTotal`.
    pub total_bytes: u64,
    /// `MemAvailable`: what can be given to new work without swapping.
    pub available_bytes: u64,
}

/// Parses `/proc/meminfo` for `MemTotal` and `MemAvailable` (`Key:   <n> kB`).
pub fn parse_meminfo(content: &str) -> Result<MemInfo, CounterError> {
    let mut total = None;
    let mut available = None;
    for (i, raw) in content.lines().enumerate() {
        let Some((key, rest)) = raw.split_once(':') else {
            continue;
        };
        let (slot, name) = match key.trim() {
            "MemTotal" => (&mut total, "MemTotal"),
            "MemAvailable" => (&mut available, "MemAvailable"),
            _ => continue,
        };
        let line = i + 1;
        let mut parts = rest.split_whitespace();
        let bytes = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some("kB"), None) => number(PROC_MEMINFO, line, name, n)?
                .checked_mul(1024)
                .ok_or(CounterError::Overflow {
                file: PROC_MEMINFO,
                key: name,
            })?,
            (Some(n), None, None) => number(PROC_MEMINFO, line, name, n)?,
            _ => {
                return Err(CounterError::Malformed {
                    file: PROC_MEMINFO,
                    line,
                    reason: format!("expected `{name}: <n> kB`"),
                })
            }
        };
        *slot = Some(bytes);
    }
    Ok(MemInfo {
        total_bytes: total.ok_or(CounterError::Missing {
            file: PROC_MEMINFO,
            key: "MemTotal",
        })?,
        available_bytes: available.ok_or(CounterError::Missing {
            file: PROC_MEMINFO,
            key: "MemAvailable",
        })?,
    })
}

/// Reads and parses the real `/proc/meminfo`.
pub fn read_meminfo() -> Result<MemInfo, CounterError> {
    parse_meminfo(&read(Path::new(PROC_MEMINFO))?)
}

/// Bytes available to an unprivileged user on the filesystem holding `path` (`statvfs`:
/// `f_bavail * f_frsize`, saturating).
#[allow(unsafe_code)] // statvfs(2): std has no safe wrapper
pub fn free_disk_bytes(path: &Path) -> Result<u64, CounterError> {
    use std::os::unix::ffi::OsStrExt;
    let io_err = |source| CounterError::Io {
        path: path.to_path_buf(),
        source,
    };
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "path contains a NUL byte",
        ))
    })?;
    // SAFETY: `statvfs` is plain old data, for which all-zero bytes are a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is a valid NUL-terminated string and `st` a valid, writable `statvfs`
    // that outlives the call.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(io_err(std::io::Error::last_os_error()));
    }
    #[allow(clippy::useless_conversion)] // the field widths differ between targets
    let (avail, frsize) = (u64::from(st.f_bavail), u64::from(st.f_frsize));
    Ok(avail.saturating_mul(frsize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NET_DEV_FIXTURE: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 58731897    9214    0    0    0     0          0         0 58731897    9214    0    0    0     0       0          0
  eth0: 685599310   40729    0    0    0     0          0         0  3094541   31238    0    0    0     0       0          0
";

    #[test]
    fn net_dev_yields_rx_and_tx_bytes_and_packets_per_interface() {
        let ifs = parse_net_dev(NET_DEV_FIXTURE).unwrap();
        assert_eq!(
            ifs,
            vec![
                InterfaceCounters {
                    name: "lo".into(),
                    rx_bytes: 58731897,
                    rx_packets: 9214,
                    tx_bytes: 58731897,
                    tx_packets: 9214,
                },
                InterfaceCounters {
                    name: "eth0".into(),
                    rx_bytes: 685599310,
                    rx_packets: 40729,
                    tx_bytes: 3094541,
                    tx_packets: 31238,
                },
            ]
        );
    }

    #[test]
    fn net_dev_accepts_a_name_glued_to_its_first_counter() {
        let ifs = parse_net_dev("eth1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n").unwrap();
        assert_eq!(ifs[0].name, "eth1");
        assert_eq!((ifs[0].rx_bytes, ifs[0].tx_bytes), (1, 9));
    }

    #[test]
    fn net_dev_refuses_short_or_non_numeric_lines() {
        assert!(matches!(
            parse_net_dev("eth0: 1 2 3\n"),
            Err(CounterError::Malformed { line: 1, .. })
        ));
        assert!(matches!(
            parse_net_dev("eth0: 1 2 3 4 5 6 7 8 x 10 11 12 13 14 15 16\n"),
            Err(CounterError::Malformed { .. })
        ));
        assert!(matches!(
            parse_net_dev("garbage\n"),
            Err(CounterError::Malformed { .. })
        ));
    }

    #[test]
    fn cpu_stat_yields_usage_usec() {
        let s = "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 0\n";
        assert_eq!(parse_cpu_stat(s).unwrap(), 123456);
        assert!(matches!(
            parse_cpu_stat("user_usec 1\n"),
            Err(CounterError::Missing {
                key: "usage_usec",
                ..
            })
        ));
        assert!(matches!(
            parse_cpu_stat("usage_usec -1\n"),
            Err(CounterError::Malformed { .. })
        ));
    }

    #[test]
    fn memory_current_is_one_number() {
        assert_eq!(parse_memory_current("4096\n").unwrap(), 4096);
        assert!(parse_memory_current("").is_err());
        assert!(parse_memory_current("1\n2\n").is_err());
        assert!(parse_memory_current("max\n").is_err());
    }

    #[test]
    fn io_stat_sums_read_and_write_bytes_over_devices() {
        let s = "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n\
                 259:1 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=0 dios=0\n";
        assert_eq!(
            parse_io_stat(s).unwrap(),
            IoBytes {
                read_bytes: 1005,
                write_bytes: 2007
            }
        );
        assert_eq!(parse_io_stat("").unwrap(), IoBytes::default());
        assert!(parse_io_stat("sda rbytes=1\n").is_err());
        assert!(parse_io_stat("8:0 rbytes\n").is_err());
        assert!(parse_io_stat("8:0 rbytes=x\n").is_err());
    }

    #[test]
    fn a_cgroup_directory_is_read_with_or_without_io_stat() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpu.stat"), "usage_usec 42\n").unwrap();
        std::fs::write(dir.path().join("memory.current"), "8192\n").unwrap();
        let u = read_cgroup(dir.path()).unwrap();
        assert_eq!((u.cpu_usage_usec, u.memory_bytes, u.io), (42, 8192, None));

        std::fs::write(dir.path().join("io.stat"), "8:0 rbytes=1 wbytes=2\n").unwrap();
        let u = read_cgroup(dir.path()).unwrap();
        assert_eq!(
            u.io,
            Some(IoBytes {
                read_bytes: 1,
                write_bytes: 2
            })
        );

        let missing = read_cgroup(&dir.path().join("absent"));
        assert!(matches!(missing, Err(CounterError::Io { .. })));
    }

    #[test]
    fn proc_stat_counts_idle_and_iowait_against_total_without_guest_time() {
        let s = "cpu  100 0 50 800 50 0 0 0 30 0\ncpu0 100 0 50 800 50 0 0 0 30 0\nintr 1\n";
        let t = parse_proc_stat(s).unwrap();
        assert_eq!(
            t,
            CpuTimes {
                idle: 850,
                total: 1000
            }
        );
        assert_eq!(t.idle_permille(), Some(850));
        let later = CpuTimes {
            idle: 850 + 25,
            total: 1000 + 100,
        };
        assert_eq!(later.idle_permille_since(&t), Some(250));
        assert_eq!(t.idle_permille_since(&later), None);
        assert_eq!(t.idle_permille_since(&t), None);
        assert!(matches!(
            parse_proc_stat("cpu0 1 2 3\n"),
            Err(CounterError::Missing { .. })
        ));
        assert!(matches!(
            parse_proc_stat("cpu 1 2 3\n"),
            Err(CounterError::Malformed { .. })
        ));
    }

    #[test]
    fn meminfo_converts_kilobytes_to_bytes() {
        let s = "MemTotal:       24684084 kB\nMemFree:        18702744 kB\nMemAvailable:   23929812 kB\n";
        assert_eq!(
            parse_meminfo(s).unwrap(),
            MemInfo {
                total_bytes: 24684084 * 1024,
                available_bytes: 23929812 * 1024
            }
        );
        assert!(matches!(
            parse_meminfo("MemTotal: 1 kB\n"),
            Err(CounterError::Missing {
                key: "MemAvailable",
                ..
            })
        ));
        assert!(matches!(
            parse_meminfo("MemTotal: 18446744073709551615 kB\nMemAvailable: 1 kB\n"),
            Err(CounterError::Overflow { .. })
        ));
        assert!(matches!(
            parse_meminfo("MemTotal: 1 MB extra\nMemAvailable: 1 kB\n"),
            Err(CounterError::Malformed { .. })
        ));
    }

    #[test]
    fn this_machine_has_a_loopback_interface_and_nonzero_cpu_and_memory_totals() {
        let ifs = read_net_dev().unwrap();
        assert!(ifs.iter().any(|i| i.name == "lo"), "{ifs:?}");
        let cpu = read_proc_stat().unwrap();
        assert!(cpu.total > 0);
        assert!(cpu.idle <= cpu.total);
        let mem = read_meminfo().unwrap();
        assert!(mem.total_bytes > 0);
        assert!(mem.available_bytes <= mem.total_bytes);
    }

    #[test]
    fn free_disk_bytes_reads_a_real_filesystem_and_reports_a_missing_path() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_disk_bytes(dir.path()).is_ok());
        assert!(matches!(
            free_disk_bytes(&dir.path().join("absent")),
            Err(CounterError::Io { .. })
        ));
    }

    proptest! {
        #[test]
        fn no_parser_panics_on_arbitrary_text(s in "\\PC*") {
            let _ = parse_net_dev(&s);
            let _ = parse_cpu_stat(&s);
            let _ = parse_memory_current(&s);
            let _ = parse_io_stat(&s);
            let _ = parse_proc_stat(&s);
            let _ = parse_meminfo(&s);
        }

        #[test]
        fn no_parser_panics_on_line_shaped_text(
            lines in proptest::collection::vec("[a-z0-9:= |]{0,40}", 0..8)
        ) {
            let s = lines.join("\n");
            let _ = parse_net_dev(&s);
            let _ = parse_cpu_stat(&s);
            let _ = parse_memory_current(&s);
            let _ = parse_io_stat(&s);
            let _ = parse_proc_stat(&s);
            let _ = parse_meminfo(&s);
        }
    }
}
