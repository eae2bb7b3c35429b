//! The five contracts of usagechain, as every tool that handles their built wasm names them: the
//! short name of each (its Cargo package is `usagechain-<name>`, as its cw2 name), the code name of its optimised artifact (`artifacts/<code>.wasm`,
//! written by `scripts/build-wasm.sh`) and the label it has on a chain. One list, so that the
//! genesis writer, the VM tests and the schema tool cannot drift apart (a test of the build script
//! checks that its own list is this one).

/// One contract of the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contract {
    /// The contract's short name (`usage-proof`); its Cargo package and cw2 name are
    /// `usagechain-<name>` (the probe contract's package is the name itself).
    pub package: &'static str,
    /// The artifact's name, the package's library name (`usage_proof`).
    pub code: &'static str,
    /// The label of its instance on a chain (`usage-proof`).
    pub label: &'static str,
}

const fn contract(package: &'static str, code: &'static str) -> Contract {
    Contract {
        package,
        code,
        label: package,
    }
}

/// The five contracts in the order a genesis instantiates them: each one's instantiate message
/// names only contracts before it or resolved by label once all five exist.
pub const CONTRACTS: [Contract; 5] = [
    contract("usage-proof", "usage_proof"),
    contract("period-proof", "period_proof"),
    contract("ledger", "ledger"),
    contract("settlement", "settlement"),
    contract("withdrawal", "withdrawal"),
];

/// The small test contract built with the five for the chain's own tests (never deployed).
pub const PROBE: Contract = contract("usage-probe", "usage_probe");

/// The contract labelled `label`, if it is one of the five.
pub fn by_label(label: &str) -> Option<Contract> {
    CONTRACTS.into_iter().find(|c| c.label == label)
}

#[cfg(not(target_arch = "wasm32"))]
pub use artifacts::{artifact, artifact_in, artifacts_dir, ArtifactError};

/// Reading the built artifacts, for native tools and tests (a contract never reads files).
#[cfg(not(target_arch = "wasm32"))]
mod artifacts {
    use std::path::{Path, PathBuf};

    /// An artifact that could not be read, most often because the build script has not run.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {path}: {source}; run scripts/build-wasm.sh first")]
    pub struct ArtifactError {
        pub path: PathBuf,
        #[source]
        pub source: std::io::Error,
    }

    /// Directory of the optimised wasm: `$USAGECHAIN_ARTIFACTS`, else `<workspace>/artifacts`.
    pub fn artifacts_dir() -> PathBuf {
        std::env::var_os("USAGECHAIN_ARTIFACTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts"))
    }

    /// The optimised wasm of contract `code` (`usage_proof`, or [`super::PROBE`]'s code).
    pub fn artifact(code: &str) -> Result<Vec<u8>, ArtifactError> {
        artifact_in(&artifacts_dir(), code)
    }

    /// The optimised wasm of contract `code` in the artifacts directory `dir`.
    pub fn artifact_in(dir: &Path, code: &str) -> Result<Vec<u8>, ArtifactError> {
        let path = dir.join(format!("{code}.wasm"));
        std::fs::read(&path).map_err(|source| ArtifactError { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_script_builds_exactly_the_listed_contracts_and_the_probe() {
        let script = include_str!("../../../scripts/build-wasm.sh");
        let line = script
            .lines()
            .find(|l| l.starts_with("CONTRACTS=("))
            .unwrap();
        let listed: Vec<&str> = line
            .trim_start_matches("CONTRACTS=(")
            .trim_end_matches(')')
            .split_whitespace()
            .collect();
        let mut expected: Vec<&str> = CONTRACTS.iter().map(|c| c.package).collect();
        expected.push(PROBE.package);
        let (mut a, mut b) = (listed.clone(), expected.clone());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "scripts/build-wasm.sh builds {listed:?}");
    }

    #[test]
    fn every_code_name_is_its_package_name_with_underscores() {
        for c in CONTRACTS.iter().chain([&PROBE]) {
            assert_eq!(c.code, c.package.replace('-', "_"));
        }
    }
}
