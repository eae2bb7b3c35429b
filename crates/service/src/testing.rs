//! What the tests of every service binary do with it: find it beside the test, check a
//! configuration with its `check` subcommand, start it and wait for a log line, stop it with
//! SIGTERM and time the stop. Like assertions, these panic with their reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The binary `name` built beside the running test (`target/<profile>/<name>`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join(name)
}

/// Writes `value` as the JSON configuration file `config.json` in `dir`; returns its path.
pub fn write_config(dir: &Path, value: &serde_json::Value) -> PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
    path
}

/// `<binary> check --config <path>` with `env` set: whether it passed, and its stdout and
/// stderr together.
pub fn check_config(binary: &Path, path: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(binary)
        .args(["check", "--config"])
        .arg(path)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{} (cargo build --bins): {e}", binary.display()));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Starts `<binary> run --config <path>` logging at `info`, and returns once it has logged a
/// line containing `ready` (at most 30 s).
pub fn run_until_logged(binary: &Path, path: &Path, ready: &str) -> Child {
    let mut child = Command::new(binary)
        .args(["run", "--config"])
        .arg(path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} (cargo build --bins): {e}", binary.display()));
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("stderr open").expect("a log line");
        if line.contains(ready) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never logged {ready:?}"
        );
    }
    // Keep reading (and dropping) its log so that a full pipe never blocks it.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// Sends SIGTERM to `child` and returns how long it took to exit and how (at most 10 s).
pub fn terminate(child: &mut Child) -> (Duration, ExitStatus) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "SIGTERM sent");
    let sent = Instant::now();
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            return (sent.elapsed(), exit);
        }
        assert!(sent.elapsed() < Duration::from_secs(10), "SIGTERM ignored");
        std::thread::sleep(Duration::from_millis(10));
    }
}
