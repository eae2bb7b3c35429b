//! `usage keys …`: the keyring of the command line, named as `gaiad keys`.
//!
//! * `usage keys add NAME` — a new key from a 24-word mnemonic, which is shown once, on
//!   standard error: write it down, it is the only backup.
//! * `usage keys add NAME --recover [--bip39-passphrase]` — a key from an existing mnemonic,
//!   read from standard input (asked for when it is a terminal, else its first line; the BIP39
//!   passphrase, if asked for, the same way or from the second line).
//! * `usage keys recover NAME [--bip39-passphrase]` — the same as `add NAME --recover`.
//! * `usage keys list`, `usage keys show NAME [--address]` — public information, no passphrase.
//! * `usage keys delete NAME [--yes]` — asks for confirmation unless `--yes`.
//!
//! No secret is ever an argument. The keyring passphrase is asked for on the terminal (twice
//! when a key is added) or, for scripts, taken from the environment: `USAGE_KEYRING_PASSPHRASE`
//! holds it, or `USAGE_KEYRING_PASSPHRASE_FILE` names a file (mode 0600) holding it.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use usage_keyring::{KdfParams, Keyring, Mnemonic};
use zeroize::Zeroizing;

/// The environment variable holding the keyring passphrase, for scripts.
pub const PASSPHRASE_ENV: &str = "USAGE_KEYRING_PASSPHRASE";
/// The environment variable naming a file (mode 0600) that holds the keyring passphrase.
pub const PASSPHRASE_FILE_ENV: &str = "USAGE_KEYRING_PASSPHRASE_FILE";

/// The `keys` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Add a key from a new 24-word mnemonic, or with --recover from an existing one.
    Add {
        /// The key's name: letters, digits, '.', '_', '-'.
        name: String,
        /// Restore the key from its mnemonic, read from standard input.
        #[arg(long)]
        recover: bool,
        /// With --recover: the mnemonic was used with a BIP39 passphrase, which is asked for too.
        #[arg(long, requires = "recover")]
        bip39_passphrase: bool,
    },
    /// Add a key from an existing mnemonic, read from standard input (`add --recover`).
    Recover {
        /// The key's name: letters, digits, '.', '_', '-'.
        name: String,
        /// The mnemonic was used with a BIP39 passphrase, which is asked for too.
        #[arg(long)]
        bip39_passphrase: bool,
    },
    /// Every key's name, address and public key.
    List,
    /// One key's name, address and public key.
    Show {
        /// The key's name.
        name: String,
        /// Only the address.
        #[arg(long, short)]
        address: bool,
    },
    /// Delete a key: without its mnemonic it is gone for good.
    Delete {
        /// The key's name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

/// Runs `cmd` on the keyring in `keyring_dir` and returns what to print.
pub fn run(cmd: KeysCommand, keyring_dir: &Path) -> anyhow::Result<Value> {
    run_with(cmd, keyring_dir, &mut Process)
}

/// The secp256k1 secret of the key `name`, for signing; the passphrase is asked for as in
/// [`run`].
pub fn signing_secret(keyring_dir: &Path, name: &str) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    signing_secret_with(keyring_dir, name, &mut Process)
}

/// Where secrets and confirmations come from, and where the mnemonic goes.
pub(crate) trait Console {
    /// An environment variable.
    fn env(&self, name: &str) -> Option<OsString>;
    /// Asks on the terminal without echo.
    fn hidden(&mut self, prompt: &str) -> std::io::Result<Zeroizing<String>>;
    /// Whether standard input is a terminal.
    fn stdin_is_terminal(&self) -> bool;
    /// The next line of standard input, without its line end.
    fn line(&mut self) -> std::io::Result<Zeroizing<String>>;
    /// Writes to standard error.
    fn tell(&mut self, text: &str) -> std::io::Result<()>;
    /// The Argon2id parameters of new keys.
    fn kdf(&self) -> KdfParams {
        KdfParams::DEFAULT
    }
}

/// The process's environment, terminal and standard streams.
struct Process;

impl Console for Process {
    fn env(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    fn hidden(&mut self, prompt: &str) -> std::io::Result<Zeroizing<String>> {
        rpassword::prompt_password(prompt).map(Zeroizing::new)
    }

    fn stdin_is_terminal(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn line(&mut self) -> std::io::Result<Zeroizing<String>> {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(trim_line_end(line))
    }

    fn tell(&mut self, text: &str) -> std::io::Result<()> {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes())?;
        err.flush()
    }
}

fn trim_line_end(line: Zeroizing<String>) -> Zeroizing<String> {
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Zeroizing::new(trimmed.to_string())
}

pub(crate) fn run_with(
    cmd: KeysCommand,
    keyring_dir: &Path,
    console: &mut dyn Console,
) -> anyhow::Result<Value> {
    let keyring = Keyring::open(keyring_dir)?.with_kdf(console.kdf())?;
    match cmd {
        KeysCommand::Add {
            name,
            recover: false,
            ..
        } => {
            usage_keyring::validate_name(&name)?;
            ensure_new(&keyring, &name)?;
            let passphrase = passphrase(console, true)?;
            let (info, mnemonic) = keyring.add(&name, &passphrase)?;
            let message = Zeroizing::new(format!(
                "\n**Important** write this mnemonic phrase down and keep it in a safe place.\n\
                 It is the only way to recover the key {name:?} ({}); it will not be shown again.\n\n{}\n\n",
                info.address,
                mnemonic.phrase().as_str()
            ));
            console.tell(&message)?;
            Ok(serde_json::to_value(info)?)
        }
        KeysCommand::Add {
            name,
            recover: true,
            bip39_passphrase,
        }
        | KeysCommand::Recover {
            name,
            bip39_passphrase,
        } => {
            usage_keyring::validate_name(&name)?;
            ensure_new(&keyring, &name)?;
            let phrase = ask(console, "Enter the BIP39 mnemonic: ")?;
            // Checked before the passphrase is asked for, so a mistyped word costs nothing.
            Mnemonic::parse(&phrase)?;
            let bip39 = if bip39_passphrase {
                let first = ask(console, "Enter the BIP39 passphrase: ")?;
                if console.stdin_is_terminal() {
                    let again = ask(console, "Repeat the BIP39 passphrase: ")?;
                    if *again != *first {
                        bail!("the BIP39 passphrases differ");
                    }
                }
                Some(first)
            } else {
                None
            };
            let passphrase = passphrase(console, true)?;
            let info = keyring.recover(
                &name,
                &phrase,
                &passphrase,
                bip39.as_ref().map(|p| p.as_str()),
            )?;
            Ok(serde_json::to_value(info)?)
        }
        KeysCommand::List => Ok(serde_json::to_value(keyring.list()?)?),
        KeysCommand::Show { name, address } => {
            let info = keyring.show(&name)?;
            if address {
                Ok(Value::String(info.address))
            } else {
                Ok(serde_json::to_value(info)?)
            }
        }
        KeysCommand::Delete { name, yes } => {
            let info = keyring.show(&name)?;
            if !yes {
                if !console.stdin_is_terminal() {
                    bail!("not deleting {name:?} without confirmation: add --yes");
                }
                console.tell(&format!(
                    "Delete the key {name:?} ({})? Without its mnemonic it cannot be restored. [y/N] ",
                    info.address
                ))?;
                let answer = console.line()?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    bail!("aborted: {name:?} is kept");
                }
            }
            keyring.delete(&name)?;
            Ok(json!({ "deleted": name, "address": info.address }))
        }
    }
}

pub(crate) fn signing_secret_with(
    keyring_dir: &Path,
    name: &str,
    console: &mut dyn Console,
) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let keyring = Keyring::open(keyring_dir)?;
    // An unknown or unreadable key is reported before the passphrase is asked for.
    keyring.show(name)?;
    let passphrase = passphrase(console, false)?;
    Ok(keyring.secret(name, &passphrase)?)
}

fn ensure_new(keyring: &Keyring, name: &str) -> anyhow::Result<()> {
    match keyring.show(name) {
        Err(usage_keyring::KeyringError::UnknownKey { .. }) => Ok(()),
        Ok(_) => Err(usage_keyring::KeyringError::KeyExists { name: name.into() }.into()),
        Err(e) => Err(e.into()),
    }
}

/// A secret from the terminal when standard input is one, else the next line of it.
fn ask(console: &mut dyn Console, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if console.stdin_is_terminal() {
        Ok(console.hidden(prompt)?)
    } else {
        Ok(console.line()?)
    }
}

/// The keyring passphrase: from `USAGE_KEYRING_PASSPHRASE`, the file named by
/// `USAGE_KEYRING_PASSPHRASE_FILE`, or the terminal (twice when `confirm`).
fn passphrase(console: &mut dyn Console, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    match (
        console.env(PASSPHRASE_ENV),
        console.env(PASSPHRASE_FILE_ENV),
    ) {
        (Some(_), Some(_)) => {
            bail!("set only one of {PASSPHRASE_ENV} and {PASSPHRASE_FILE_ENV}")
        }
        (Some(value), None) => value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| anyhow!("{PASSPHRASE_ENV} is not UTF-8")),
        (None, Some(path)) => passphrase_file(Path::new(&path)),
        (None, None) => {
            let first = console.hidden("Keyring passphrase: ").with_context(|| {
                format!(
                    "no terminal to ask for the keyring passphrase: \
                     set {PASSPHRASE_ENV} or {PASSPHRASE_FILE_ENV}"
                )
            })?;
            if confirm {
                let again = console.hidden("Repeat the keyring passphrase: ")?;
                if *again != *first {
                    bail!("the passphrases differ");
                }
            }
            Ok(first)
        }
    }
}

/// The passphrase in `path` (one trailing line end dropped); others than the owner must not be
/// able to read the file.
fn passphrase_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let what = || format!("passphrase file {} ({PASSPHRASE_FILE_ENV})", path.display());
    let mode = std::fs::metadata(path)
        .with_context(what)?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        bail!("{} has mode {mode:o}; it must be 0600", what());
    }
    let bytes = Zeroizing::new(std::fs::read(path).with_context(what)?);
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{} is not UTF-8", what()))?;
    let passphrase = trim_line_end(Zeroizing::new(text.to_string()));
    if passphrase.is_empty() {
        bail!("{} is empty", what());
    }
    Ok(passphrase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, VecDeque};

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    /// A console with a fixed environment, scripted answers and captured standard error.
    #[derive(Default)]
    struct Script {
        env: HashMap<String, OsString>,
        terminal: bool,
        hidden: VecDeque<String>,
        lines: VecDeque<String>,
        told: String,
    }

    impl Console for Script {
        fn env(&self, name: &str) -> Option<OsString> {
            self.env.get(name).cloned()
        }
        fn hidden(&mut self, _prompt: &str) -> std::io::Result<Zeroizing<String>> {
            self.hidden
                .pop_front()
                .map(Zeroizing::new)
                .ok_or_else(|| std::io::Error::other("no terminal"))
        }
        fn stdin_is_terminal(&self) -> bool {
            self.terminal
        }
        fn line(&mut self) -> std::io::Result<Zeroizing<String>> {
            Ok(Zeroizing::new(self.lines.pop_front().unwrap_or_default()))
        }
        fn tell(&mut self, text: &str) -> std::io::Result<()> {
            self.told.push_str(text);
            Ok(())
        }
        fn kdf(&self) -> KdfParams {
            KdfParams::INSECURE_FOR_TESTS
        }
    }

    fn answers(texts: &[&str]) -> VecDeque<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    fn with_env_passphrase(passphrase: &str) -> Script {
        let mut script = Script::default();
        script
            .env
            .insert(PASSPHRASE_ENV.into(), OsString::from(passphrase));
        script
    }

    fn add(name: &str) -> KeysCommand {
        KeysCommand::Add {
            name: name.into(),
            recover: false,
            bip39_passphrase: false,
        }
    }

    fn recover(name: &str, bip39_passphrase: bool) -> KeysCommand {
        KeysCommand::Add {
            name: name.into(),
            recover: true,
            bip39_passphrase,
        }
    }

    #[test]
    fn add_shows_the_mnemonic_once_on_stderr_and_signs_with_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("keyring");
        let mut console = with_env_passphrase("env passphrase");
        let out = run_with(add("alice"), &dir, &mut console).unwrap();
        let address = out["address"].as_str().unwrap().to_string();
        assert!(address.starts_with("usage1"));
        assert_eq!(out["name"], "alice");
        // The mnemonic is on stderr, with the warning, and not in what is printed.
        let words: Vec<&str> = console
            .told
            .lines()
            .find(|l| l.split(' ').count() == 24)
            .unwrap()
            .split(' ')
            .collect();
        assert!(console.told.contains("write this mnemonic phrase down"));
        assert!(!out.to_string().contains(&words.join(" ")));
        let expected = Mnemonic::parse(&words.join(" "))
            .unwrap()
            .derive("")
            .unwrap();
        assert_eq!(expected.address(), address);

        let secret = signing_secret_with(&dir, "alice", &mut console).unwrap();
        assert_eq!(secret.as_slice(), expected.secret().as_slice());

        // Listing and showing need no passphrase.
        let mut bare = Script::default();
        let list = run_with(KeysCommand::List, &dir, &mut bare).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["address"], address.as_str());
        let shown = run_with(
            KeysCommand::Show {
                name: "alice".into(),
                address: true,
            },
            &dir,
            &mut bare,
        )
        .unwrap();
        assert_eq!(shown, Value::String(address));
    }

    #[test]
    fn the_terminal_passphrase_is_asked_twice_on_add_and_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("keyring");
        let mut differ = Script {
            terminal: true,
            hidden: answers(&["first passphrase", "second passphrase"]),
            ..Script::default()
        };
        let err = run_with(add("alice"), &dir, &mut differ).unwrap_err();
        assert!(err.to_string().contains("differ"), "{err:#}");
        assert!(usage_keyring::Keyring::open(&dir)
            .unwrap()
            .list()
            .unwrap()
            .is_empty());

        let mut same = Script {
            terminal: true,
            hidden: answers(&["same passphrase", "same passphrase", "same passphrase"]),
            ..Script::default()
        };
        run_with(add("alice"), &dir, &mut same).unwrap();
        // Signing asks once.
        signing_secret_with(&dir, "alice", &mut same).unwrap();
        assert!(same.hidden.is_empty());
    }

    #[test]
    fn without_a_terminal_or_environment_no_passphrase_is_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("keyring");
        let err = run_with(add("alice"), &dir, &mut Script::default()).unwrap_err();
        assert!(format!("{err:#}").contains(PASSPHRASE_ENV), "{err:#}");
    }

    #[test]
    fn recover_reads_the_mnemonic_from_stdin_and_the_passphrase_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "file passphrase\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let keys = dir.path().join("keyring");
        let mut console = Script {
            lines: answers(&[ABANDON]),
            ..Script::default()
        };
        console
            .env
            .insert(PASSPHRASE_FILE_ENV.into(), file.clone().into_os_string());
        let out = run_with(recover("abandon", false), &keys, &mut console).unwrap();
        assert_eq!(
            out["address"],
            "usage19rl4cm2hmr8afy4kldpxz3fka4jguq0ak98xrk"
        );
        // The file's passphrase (without its line end) opens the key.
        let keyring = usage_keyring::Keyring::open(&keys).unwrap();
        assert!(keyring.secret("abandon", "file passphrase").is_ok());

        // A passphrase file others can read is refused.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = signing_secret_with(&keys, "abandon", &mut console).unwrap_err();
        assert!(format!("{err:#}").contains("mode 644"), "{err:#}");

        // Both variables at once are refused rather than one silently preferred.
        console
            .env
            .insert(PASSPHRASE_ENV.into(), OsString::from("env passphrase"));
        let err = signing_secret_with(&keys, "abandon", &mut console).unwrap_err();
        assert!(format!("{err:#}").contains("only one"), "{err:#}");
    }

    #[test]
    fn recover_with_a_bip39_passphrase_reads_it_from_the_second_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut console = with_env_passphrase("env passphrase");
        console.lines = answers(&[ABANDON, "TREZOR"]);
        let out = run_with(
            recover("t", true),
            &dir.path().join("keyring"),
            &mut console,
        )
        .unwrap();
        let expected = Mnemonic::parse(ABANDON).unwrap().derive("TREZOR").unwrap();
        assert_eq!(out["address"], expected.address());
    }

    #[test]
    fn a_bad_mnemonic_is_refused_before_any_passphrase_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("keyring");
        let mut console = Script {
            terminal: true,
            hidden: answers(&[&ABANDON.replace("about", "abandon")]),
            ..Script::default()
        };
        let err = run_with(recover("k", false), &dir, &mut console).unwrap_err();
        assert!(format!("{err:#}").contains("checksum"), "{err:#}");
        assert!(console.hidden.is_empty(), "only the mnemonic was asked for");
    }

    #[test]
    fn delete_needs_confirmation_or_yes() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("keyring");
        let mut console = with_env_passphrase("env passphrase");
        run_with(add("alice"), &dir, &mut console).unwrap();
        let delete = |yes| KeysCommand::Delete {
            name: "alice".into(),
            yes,
        };

        // Not a terminal and no --yes: refused.
        let err = run_with(delete(false), &dir, &mut console).unwrap_err();
        assert!(err.to_string().contains("--yes"), "{err:#}");
        // A terminal answering no: kept.
        let mut no = Script {
            terminal: true,
            lines: answers(&["n"]),
            ..Script::default()
        };
        assert!(run_with(delete(false), &dir, &mut no).is_err());
        assert!(no.told.contains("[y/N]"));
        assert_eq!(
            run_with(KeysCommand::List, &dir, &mut no)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // --yes deletes.
        let out = run_with(delete(true), &dir, &mut console).unwrap();
        assert_eq!(out["deleted"], "alice");
        assert_eq!(
            run_with(KeysCommand::List, &dir, &mut console).unwrap(),
            json!([])
        );
        // And an unknown key is reported as such.
        let err = run_with(delete(true), &dir, &mut console).unwrap_err();
        assert!(err.to_string().contains("no key named"), "{err:#}");
    }

    #[test]
    fn adding_an_existing_name_is_refused_before_any_passphrase_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("keyring");
        run_with(
            add("alice"),
            &dir,
            &mut with_env_passphrase("env passphrase"),
        )
        .unwrap();
        let mut console = Script {
            terminal: true,
            hidden: answers(&["p1 passphrase", "p1 passphrase"]),
            ..Script::default()
        };
        let err = run_with(add("alice"), &dir, &mut console).unwrap_err();
        assert!(err.to_string().contains("exists"), "{err:#}");
        assert_eq!(console.hidden.len(), 2);
    }

    #[test]
    fn the_subcommands_parse_as_gaiad_keys() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(subcommand)]
            keys: KeysCommand,
        }
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.keys);
        assert!(matches!(
            parse(&["usage", "add", "alice"]).unwrap(),
            KeysCommand::Add { recover: false, .. }
        ));
        assert!(matches!(
            parse(&["usage", "add", "alice", "--recover"]).unwrap(),
            KeysCommand::Add {
                recover: true,
                bip39_passphrase: false,
                ..
            }
        ));
        assert!(parse(&["usage", "add", "alice", "--bip39-passphrase"]).is_err());
        assert!(matches!(
            parse(&["usage", "recover", "alice", "--bip39-passphrase"]).unwrap(),
            KeysCommand::Recover {
                bip39_passphrase: true,
                ..
            }
        ));
        assert!(matches!(
            parse(&["usage", "list"]).unwrap(),
            KeysCommand::List
        ));
        assert!(matches!(
            parse(&["usage", "show", "alice", "-a"]).unwrap(),
            KeysCommand::Show { address: true, .. }
        ));
        assert!(matches!(
            parse(&["usage", "delete", "alice", "--yes"]).unwrap(),
            KeysCommand::Delete { yes: true, .. }
        ));
    }
}
