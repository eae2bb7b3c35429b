//! The command line's `usage keys` subcommands (cli/src/keys.rs, with its tests) built against
//! this crate, so that the keyring and its command line are checked together.

#[allow(dead_code)] // `run` and `signing_secret` are the command line's entry points
#[path = "../../../cli/src/keys.rs"]
mod keys;
