//! The keyring on disk: round trips, refusals, file permissions and tampering.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use usage_keyring::{KdfParams, Keyring, KeyringError, MnemonicError};

const PASS: &str = "correct horse battery";
const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ABANDON_USAGE: &str = "usage19rl4cm2hmr8afy4kldpxz3fka4jguq0ak98xrk";

fn keyring() -> (tempfile::TempDir, Keyring) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = Keyring::open(dir.path().join("keyring"))
        .unwrap()
        .with_kdf(KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    (dir, keyring)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn key_file(keyring: &Keyring, name: &str) -> PathBuf {
    keyring.dir().join(format!("{name}.json"))
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    edit(&mut value);
    fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

#[test]
fn an_added_key_gives_back_its_secret_and_recovers_from_its_mnemonic() {
    let (_dir, keyring) = keyring();
    let (info, mnemonic) = keyring.add("alice", PASS).unwrap();
    assert_eq!(mnemonic.word_count(), 24);
    assert_eq!(info.name, "alice");
    assert!(info.address.starts_with("usage1"));
    assert_eq!(info.public_key.len(), 66);

    let secret = keyring.secret("alice", PASS).unwrap();
    let key = mnemonic.derive("").unwrap();
    assert_eq!(secret.as_slice(), key.secret().as_slice());
    assert_eq!(info.address, key.address());
    // The address is the project's own derivation from the public key.
    assert_eq!(
        usaged_auth::address_from_pubkey(key.public_key()).unwrap(),
        info.address
    );

    // The mnemonic written down restores the same account under another name.
    let recovered = keyring
        .recover(
            "alice-again",
            &mnemonic.phrase(),
            "another passphrase",
            None,
        )
        .unwrap();
    assert_eq!(recovered.address, info.address);
    assert_eq!(recovered.public_key, info.public_key);
    assert_eq!(
        keyring
            .secret("alice-again", "another passphrase")
            .unwrap()
            .as_slice(),
        secret.as_slice()
    );
}

#[test]
fn recover_gives_the_known_address_and_keeps_the_bip39_passphrase() {
    let (_dir, keyring) = keyring();
    let plain = keyring.recover("plain", ABANDON, PASS, None).unwrap();
    assert_eq!(plain.address, ABANDON_USAGE);
    // An empty BIP39 passphrase is no passphrase (BIP39).
    let empty = keyring.recover("empty", ABANDON, PASS, Some("")).unwrap();
    assert_eq!(empty.address, ABANDON_USAGE);

    let with = keyring
        .recover("trezor", ABANDON, PASS, Some("TREZOR"))
        .unwrap();
    assert_ne!(with.address, ABANDON_USAGE);
    // The sealed BIP39 passphrase is used again when the secret is read.
    let expected = usage_keyring::Mnemonic::parse(ABANDON)
        .unwrap()
        .derive("TREZOR")
        .unwrap();
    assert_eq!(with.address, expected.address());
    assert_eq!(
        keyring.secret("trezor", PASS).unwrap().as_slice(),
        expected.secret().as_slice()
    );
}

#[test]
fn a_wrong_passphrase_is_refused() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    let err = keyring
        .secret("alice", "correct horse battery!")
        .unwrap_err();
    assert!(
        matches!(&err, KeyringError::WrongPassphrase { name } if name == "alice"),
        "{err:?}"
    );
    assert!(matches!(
        keyring.secret("alice", "").unwrap_err(),
        KeyringError::WrongPassphrase { .. }
    ));
}

#[test]
fn files_are_0600_in_a_0700_directory() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    assert_eq!(mode(keyring.dir()), 0o700);
    assert_eq!(mode(&key_file(&keyring, "alice")), 0o600);
    // Nothing but the key file is left behind (no temporary files).
    let entries: Vec<_> = fs::read_dir(keyring.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries, vec!["alice.json".to_string()]);
}

#[test]
fn a_key_file_or_directory_others_can_read_is_refused() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    let path = key_file(&keyring, "alice");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    for err in [
        keyring.show("alice").unwrap_err(),
        keyring.secret("alice", PASS).unwrap_err(),
        keyring.list().unwrap_err(),
    ] {
        assert!(
            matches!(&err, KeyringError::UnsafePermissions { path: p, mode: 0o644, required: 0o600 } if *p == path),
            "{err:?}"
        );
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(keyring.show("alice").is_ok());

    fs::set_permissions(keyring.dir(), fs::Permissions::from_mode(0o755)).unwrap();
    let err = Keyring::open(keyring.dir()).unwrap_err();
    assert!(
        matches!(
            err,
            KeyringError::UnsafePermissions {
                mode: 0o755,
                required: 0o700,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn list_and_show_need_no_passphrase() {
    let (_dir, keyring) = keyring();
    assert!(keyring.list().unwrap().is_empty());
    let bob = keyring.recover("bob", ABANDON, PASS, None).unwrap();
    let (alice, _) = keyring.add("alice", "another passphrase").unwrap();
    // Files that are not keys are left out.
    fs::write(keyring.dir().join("notes.txt"), "x").unwrap();
    fs::write(keyring.dir().join(".hidden.json"), "x").unwrap();

    let listed = keyring.list().unwrap();
    assert_eq!(listed, vec![alice.clone(), bob.clone()]);
    assert_eq!(keyring.show("bob").unwrap(), bob);
    assert_eq!(bob.address, ABANDON_USAGE);
    // The creation time is stored in whole seconds and read back the same.
    assert_eq!(bob.created_at.nanosecond(), 0);
}

#[test]
fn a_tampered_ciphertext_is_refused() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    let path = key_file(&keyring, "alice");
    edit_json(&path, |v| {
        let text = v["crypto"]["ciphertext"].as_str().unwrap().to_string();
        let mut bytes = hex::decode(text).unwrap();
        bytes[3] ^= 1;
        v["crypto"]["ciphertext"] = hex::encode(bytes).into();
    });
    let err = keyring.secret("alice", PASS).unwrap_err();
    assert!(
        matches!(&err, KeyringError::Corrupt { reason, .. } if reason.contains("authentication")),
        "{err:?}"
    );
}

#[test]
fn changed_public_fields_are_refused() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    let other = keyring.recover("other", ABANDON, PASS, None).unwrap();
    let path = key_file(&keyring, "alice");
    let original = fs::read(&path).unwrap();

    // Another account's address and public key, consistent with each other: list shows them,
    // but the sealed mnemonic is bound to the original ones.
    edit_json(&path, |v| {
        v["address"] = other.address.clone().into();
        v["public_key"] = other.public_key.clone().into();
    });
    assert_eq!(keyring.show("alice").unwrap().address, other.address);
    let err = keyring.secret("alice", PASS).unwrap_err();
    assert!(matches!(err, KeyringError::Corrupt { .. }), "{err:?}");

    // An address that does not belong to the public key is refused even without passphrase.
    fs::write(&path, &original).unwrap();
    edit_json(&path, |v| v["address"] = other.address.clone().into());
    assert!(matches!(
        keyring.show("alice").unwrap_err(),
        KeyringError::Corrupt { .. }
    ));

    // Weaker KDF parameters give another key: the passphrase check fails.
    fs::write(&path, &original).unwrap();
    edit_json(&path, |v| {
        v["crypto"]["kdf_params"]["m_cost_kib"] = 32.into()
    });
    assert!(matches!(
        keyring.secret("alice", PASS).unwrap_err(),
        KeyringError::WrongPassphrase { .. }
    ));

    // Parameters beyond the limits are not even tried.
    fs::write(&path, &original).unwrap();
    edit_json(&path, |v| {
        v["crypto"]["kdf_params"]["m_cost_kib"] = 4_000_000_000u32.into()
    });
    assert!(matches!(
        keyring.show("alice").unwrap_err(),
        KeyringError::Corrupt { .. }
    ));

    // Not a key file at all.
    fs::write(&path, b"{\"version\": 1}").unwrap();
    assert!(matches!(
        keyring.show("alice").unwrap_err(),
        KeyringError::Corrupt { .. }
    ));

    // The untouched file still opens.
    fs::write(&path, &original).unwrap();
    assert!(keyring.secret("alice", PASS).is_ok());
}

#[test]
fn a_file_renamed_to_another_keys_name_is_refused() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    keyring.add("bob", PASS).unwrap();
    let alice = key_file(&keyring, "alice");
    let bob = key_file(&keyring, "bob");

    // Alice's file put in Bob's place.
    fs::copy(&alice, &bob).unwrap();
    for err in [
        keyring.show("bob").unwrap_err(),
        keyring.secret("bob", PASS).unwrap_err(),
    ] {
        assert!(
            matches!(&err, KeyringError::Corrupt { reason, .. } if reason.contains("\"alice\"")),
            "{err:?}"
        );
    }

    // Also with the name inside changed to Bob's: the sealed mnemonic is bound to "alice".
    edit_json(&bob, |v| v["name"] = "bob".into());
    assert_eq!(keyring.show("bob").unwrap().name, "bob");
    let err = keyring.secret("bob", PASS).unwrap_err();
    assert!(
        matches!(&err, KeyringError::Corrupt { reason, .. } if reason.contains("authentication")),
        "{err:?}"
    );
}

#[test]
fn invalid_mnemonics_are_refused_with_the_reason() {
    let (_dir, keyring) = keyring();
    let bad_checksum = ABANDON.replace("about", "abandon");
    let err = keyring.recover("k", &bad_checksum, PASS, None).unwrap_err();
    assert!(
        matches!(
            err,
            KeyringError::InvalidMnemonic(MnemonicError::BadChecksum)
        ),
        "{err:?}"
    );
    let unknown = ABANDON
        .replacen("abandon", "abandonn", 2)
        .replacen("abandonn", "abandon", 1);
    let err = keyring.recover("k", &unknown, PASS, None).unwrap_err();
    assert!(
        matches!(
            err,
            KeyringError::InvalidMnemonic(MnemonicError::UnknownWord { position: 2 })
        ),
        "{err:?}"
    );
    // The word itself is not in the message.
    assert!(!err.to_string().contains("abandonn"));
    let err = keyring
        .recover("k", "abandon abandon about", PASS, None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyringError::InvalidMnemonic(MnemonicError::BadWordCount { words: 3 })
        ),
        "{err:?}"
    );
    // Nothing was stored.
    assert!(keyring.list().unwrap().is_empty());
}

#[test]
fn names_are_checked_and_keys_never_overwritten() {
    let (_dir, keyring) = keyring();
    for bad in [
        "",
        "../x",
        "a/b",
        ".hidden",
        "-flag",
        "a b",
        "ä",
        &"x".repeat(65),
    ] {
        assert!(
            matches!(
                keyring.add(bad, PASS),
                Err(KeyringError::InvalidName { .. })
            ),
            "{bad:?}"
        );
        assert!(matches!(
            keyring.show(bad),
            Err(KeyringError::InvalidName { .. })
        ));
    }
    keyring.add("a.b_c-1", PASS).unwrap();
    let before = fs::read(key_file(&keyring, "a.b_c-1")).unwrap();
    assert!(matches!(
        keyring.add("a.b_c-1", PASS),
        Err(KeyringError::KeyExists { .. })
    ));
    assert!(matches!(
        keyring.recover("a.b_c-1", ABANDON, PASS, None),
        Err(KeyringError::KeyExists { .. })
    ));
    assert_eq!(fs::read(key_file(&keyring, "a.b_c-1")).unwrap(), before);
    assert!(matches!(
        keyring.add("short", "1234567"),
        Err(KeyringError::WeakPassphrase)
    ));
}

#[test]
fn delete_removes_a_key_and_unknown_keys_are_reported() {
    let (_dir, keyring) = keyring();
    keyring.add("alice", PASS).unwrap();
    keyring.delete("alice").unwrap();
    assert!(keyring.list().unwrap().is_empty());
    for err in [
        keyring.delete("alice").unwrap_err(),
        keyring.show("alice").unwrap_err(),
        keyring.secret("alice", PASS).unwrap_err(),
    ] {
        assert!(
            matches!(&err, KeyringError::UnknownKey { name } if name == "alice"),
            "{err:?}"
        );
    }
}

#[test]
fn kdf_parameters_are_checked_and_recorded_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().join("keys");
    let keyring = Keyring::open(&dir).unwrap();
    assert!(matches!(
        keyring.clone().with_kdf(KdfParams {
            m_cost_kib: 1,
            t_cost: 1,
            p_cost: 1
        }),
        Err(KeyringError::KdfParams(_))
    ));
    assert!(matches!(
        keyring.clone().with_kdf(KdfParams {
            m_cost_kib: KdfParams::MAX_M_COST_KIB + 1,
            t_cost: 1,
            p_cost: 1
        }),
        Err(KeyringError::KdfParams(_))
    ));
    let custom = KdfParams {
        m_cost_kib: 128,
        t_cost: 2,
        p_cost: 1,
    };
    let keyring = keyring.with_kdf(custom).unwrap();
    keyring.add("k", PASS).unwrap();
    let file: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("k.json")).unwrap()).unwrap();
    assert_eq!(file["version"], 1);
    assert_eq!(file["crypto"]["kdf"], "argon2id");
    assert_eq!(file["crypto"]["cipher"], "xchacha20poly1305");
    assert_eq!(
        serde_json::from_value::<KdfParams>(file["crypto"]["kdf_params"].clone()).unwrap(),
        custom
    );
    // The mnemonic is not in the file in clear.
    let text = fs::read_to_string(dir.join("k.json")).unwrap();
    assert!(!text.contains("abandon") && file.get("mnemonic").is_none());
    // A keyring with other parameters still reads it with the file's own.
    let reader = Keyring::open(&dir)
        .unwrap()
        .with_kdf(KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    assert!(reader.secret("k", PASS).is_ok());
    assert_eq!(KdfParams::default(), KdfParams::DEFAULT);
}

#[test]
fn errors_and_debug_output_show_no_secret() {
    let (_dir, keyring) = keyring();
    let (_, mnemonic) = keyring.add("alice", PASS).unwrap();
    let phrase = mnemonic.phrase();
    let first_words: String = phrase.split(' ').take(3).collect::<Vec<_>>().join(" ");
    let shown = format!("{mnemonic:?} {keyring:?}");
    assert!(!shown.contains(&first_words), "{shown}");
    let err = keyring
        .secret("alice", "not-Alices-passphrase")
        .unwrap_err();
    assert!(matches!(err, KeyringError::WrongPassphrase { .. }));
    assert!(!format!("{err:?} {err}").contains("not-Alices"));
    let key = mnemonic.derive("").unwrap();
    assert!(!format!("{key:?}").contains(&hex::encode(key.secret().as_slice())));
}
