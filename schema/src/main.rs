//! Writes the JSON schema of every contract's messages to `schema/<contract>.json`.
//! `--check` regenerates in memory and fails if any file on disk differs (drift check).

use std::path::PathBuf;
use std::process::ExitCode;

use cosmwasm_schema::generate_api;
use usage_common::msg::{ledger, period_proof, settlement, usage_proof, withdrawal, MigrateMsg};

fn apis() -> Vec<(&'static str, String)> {
    let render = |api: cosmwasm_schema::Api| {
        // Rendering serialises derived schema types to JSON, which cannot fail for them.
        let mut s = api.render().to_string().unwrap_or_else(|e| e.to_string());
        s.push('\n');
        s
    };
    vec![
        (
            "usage-proof",
            render(generate_api! {
                name: "usage-proof",
                instantiate: usage_proof::InstantiateMsg,
                execute: usage_proof::ExecuteMsg,
                query: usage_proof::QueryMsg,
                migrate: MigrateMsg,
            }),
        ),
        (
            "period-proof",
            render(generate_api! {
                name: "period-proof",
                instantiate: period_proof::InstantiateMsg,
                execute: period_proof::ExecuteMsg,
                query: period_proof::QueryMsg,
                migrate: MigrateMsg,
            }),
        ),
        (
            "settlement",
            render(generate_api! {
                name: "settlement",
                instantiate: settlement::InstantiateMsg,
                execute: settlement::ExecuteMsg,
                query: settlement::QueryMsg,
                migrate: MigrateMsg,
            }),
        ),
        (
            "ledger",
            render(generate_api! {
                name: "ledger",
                instantiate: ledger::InstantiateMsg,
                execute: ledger::ExecuteMsg,
                query: ledger::QueryMsg,
                migrate: MigrateMsg,
            }),
        ),
        (
            "withdrawal",
            render(generate_api! {
                name: "withdrawal",
                instantiate: withdrawal::InstantiateMsg,
                execute: withdrawal::ExecuteMsg,
                query: withdrawal::QueryMsg,
                migrate: MigrateMsg,
            }),
        ),
    ]
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    // `cargo run` names the package's directory at run time; a binary built for another clone
    // sharing the target directory must not write into that clone.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let mut drift = Vec::new();
    for (name, json) in apis() {
        let path = dir.join(format!("{name}.json"));
        if check {
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            if on_disk != json {
                drift.push(path.display().to_string());
            }
        } else {
            if let Err(e) = std::fs::write(&path, json) {
                eprintln!("writing {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            println!("wrote {}", path.display());
        }
    }
    if drift.is_empty() {
        if check {
            println!("schemas up to date");
        }
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "schema drift in: {}\nrun `cargo run -p usage-schema` and commit the result",
            drift.join(", ")
        );
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use usage_common::contracts::CONTRACTS;

    #[test]
    fn every_contract_of_the_shared_list_has_a_schema_and_no_other() {
        let mut written: Vec<&str> = super::apis().into_iter().map(|(name, _)| name).collect();
        let mut listed: Vec<&str> = CONTRACTS.iter().map(|c| c.label).collect();
        written.sort_unstable();
        listed.sort_unstable();
        assert_eq!(written, listed);
    }
}
