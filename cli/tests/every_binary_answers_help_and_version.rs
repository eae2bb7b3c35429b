//! Every binary of the workspace answers `--version` with its name and version, and `--help`
//! on itself and on each of its subcommands, without needing a configuration, a node or a
//! network.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

const BINARIES: [&str; 8] = [
    "usage",
    "usaged",
    "usage-aggregator",
    "usage-attestor",
    "usage-relayer",
    "usage-bank-sim",
    "usage-dashboard",
    "usage-devtools",
];

fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let path = usage_service::testing::sibling_binary(bin);
    let out = Command::new(&path)
        .args(args)
        .env("HOME", "/nonexistent")
        .output()
        .unwrap_or_else(|e| panic!("{} (cargo build --workspace --bins): {e}", path.display()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// The subcommands clap lists under `Commands:` (all but `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_binary_and_subcommand_answers_help_and_version() {
    for bin in BINARIES {
        let (ok, version) = run(bin, &["--version"]);
        assert!(ok, "{bin} --version");
        assert_eq!(
            version.trim(),
            format!("{bin} {}", env!("CARGO_PKG_VERSION")),
            "{bin} --version"
        );
        let (ok, help) = run(bin, &["--help"]);
        assert!(ok && help.contains("Usage:"), "{bin} --help: {help}");
        // Two levels: `usage localnet up --help`, `usage keys add --help` …
        let mut pending: Vec<Vec<String>> =
            subcommands(&help).into_iter().map(|c| vec![c]).collect();
        let mut seen = 0;
        while let Some(path) = pending.pop() {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push("--help");
            let (ok, help) = run(bin, &args);
            assert!(
                ok && help.contains("Usage:") && !help.starts_with("Usage:"),
                "{bin} {} answers its help, starting with what it does: {help}",
                args.join(" ")
            );
            seen += 1;
            if path.len() < 3 {
                for sub in subcommands(&help) {
                    let mut deeper = path.clone();
                    deeper.push(sub);
                    pending.push(deeper);
                }
            }
        }
        if bin == "usage" {
            assert!(seen >= 20, "the command line has its commands: {seen}");
        }
    }
}
