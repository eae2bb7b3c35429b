//! Committee key generation (BLS with proof of possession, peer-link and account keys), the
//! deterministic keys of a localnet, and the key files a member reads them from.

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use usage_common::payload::MemberKey;
use usage_signer::{MemberSecret, SigningCommittee};

use usage_service::secret::{read_key, write_key};

use crate::config::KeyFiles;

/// A member's secrets as generated, hex (what `usage-aggregator keygen` writes into key files).
/// `Debug` shows none of them.
#[derive(Serialize, Deserialize, Clone)]
pub struct Keys {
    /// BLS12-381 committee key (32-byte scalar).
    pub bls_secret: String,
    /// Ed25519 peer-link key (32-byte seed).
    pub peer_secret: String,
    /// secp256k1 account key that signs its transactions (32 bytes).
    pub account_secret: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

/// A member's public identity, to publish to the other members and the chain.
#[derive(Serialize, Debug, Clone)]
pub struct PublicIdentity {
    /// BLS public key with its proof of possession (what `RotateCommittee` registers).
    pub member: MemberKey,
    /// Hex of the Ed25519 peer-link key.
    pub peer_key: String,
    /// The account address that submits its transactions.
    pub account: String,
}

/// Fresh keys from the operating system's randomness.
pub fn generate() -> anyhow::Result<Keys> {
    use usage_service::secret::Secret32;
    let (ikm, peer, account) = (
        Secret32::random()?,
        Secret32::random()?,
        Secret32::random()?,
    );
    let bls = MemberSecret::from_ikm(ikm.expose()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Keys {
        bls_secret: hex::encode(bls.to_bytes()),
        peer_secret: hex::encode(peer.expose()),
        account_secret: hex::encode(account.expose()),
    })
}

/// The keys of member `index` of the localnet committee `label` (never outside a localnet):
/// the BLS key of `SigningCommittee::deterministic(label, ..)` and peer/account keys hashed from
/// the label.
pub fn localnet(label: &str, index: usize, members: usize, threshold: u32) -> Keys {
    let committee = SigningCommittee::deterministic(label, 1, members, threshold);
    let derive = |what: &str| -> [u8; 32] {
        Sha256::digest(format!("{label}/{what}/{index}").as_bytes()).into()
    };
    Keys {
        bls_secret: hex::encode(committee.members[index].to_bytes()),
        peer_secret: hex::encode(derive("peer")),
        account_secret: hex::encode(derive("account")),
    }
}

/// Decoded secrets.
pub struct Secrets {
    /// BLS committee key.
    pub bls: MemberSecret,
    /// Peer-link key.
    pub peer: SigningKey,
    /// Account secret bytes.
    pub account: Vec<u8>,
}

impl Keys {
    /// Decodes the hex secrets.
    pub fn decode(&self) -> anyhow::Result<Secrets> {
        let bls = MemberSecret::from_bytes(&hex::decode(&self.bls_secret)?)
            .map_err(|e| anyhow::anyhow!("bls key: {e}"))?;
        let peer: [u8; 32] = hex::decode(&self.peer_secret)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("peer key must be 32 bytes"))?;
        Ok(Secrets {
            bls,
            peer: SigningKey::from_bytes(&peer),
            account: hex::decode(&self.account_secret)?,
        })
    }

    /// Writes the three secrets into new key files `bls.key`, `peer.key` and `account.key` in
    /// `dir` (mode 0600) and names them.
    pub fn write_files(&self, dir: &Path) -> anyhow::Result<KeyFiles> {
        std::fs::create_dir_all(dir)?;
        let files = KeyFiles {
            bls: dir.join("bls.key"),
            peer: dir.join("peer.key"),
            account: dir.join("account.key"),
        };
        for (secret, path) in [
            (&self.bls_secret, &files.bls),
            (&self.peer_secret, &files.peer),
            (&self.account_secret, &files.account),
        ] {
            let bytes: [u8; 32] = hex::decode(secret)?
                .try_into()
                .map_err(|_| anyhow::anyhow!("a key must be 32 bytes"))?;
            write_key(path, &bytes)?;
        }
        Ok(files)
    }

    /// The public identity of these keys.
    pub fn public(&self) -> anyhow::Result<PublicIdentity> {
        let s = self.decode()?;
        let account = usage_client::ChainClient::new("http://127.0.0.1:1", "x")?
            .with_key(&s.account)?
            .address()
            .unwrap_or_default()
            .to_string();
        Ok(PublicIdentity {
            member: s.bls.member_key(),
            peer_key: hex::encode(s.peer.verifying_key().to_bytes()),
            account,
        })
    }
}

impl KeyFiles {
    /// Reads the three key files.
    pub fn load(&self) -> anyhow::Result<Secrets> {
        let bls = read_key(&self.bls)?;
        let peer = read_key(&self.peer)?;
        let account = read_key(&self.account)?;
        Ok(Secrets {
            bls: MemberSecret::from_bytes(bls.expose())
                .map_err(|e| anyhow::anyhow!("bls key {}: {e}", self.bls.display()))?,
            peer: SigningKey::from_bytes(peer.expose()),
            account: account.expose().to_vec(),
        })
    }
}

/// Reads a BLS key file (for [`crate::config::Config::next_bls_keys`]).
pub fn read_bls_key(path: &Path) -> anyhow::Result<MemberSecret> {
    let secret = read_key(path)?;
    MemberSecret::from_bytes(secret.expose())
        .map_err(|e| anyhow::anyhow!("bls key {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockApi;
    use usage_common::committee::verify_pop;

    #[test]
    fn generated_keys_are_fresh_and_carry_a_valid_proof_of_possession() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.bls_secret, b.bls_secret);
        let id = a.public().unwrap();
        let api = MockApi::default();
        assert!(verify_pop(
            &api,
            id.member.pubkey.as_slice(),
            id.member.pop.as_slice()
        ));
        // Another key's proof does not pass for this one.
        let other = b.public().unwrap();
        assert!(!verify_pop(
            &api,
            id.member.pubkey.as_slice(),
            other.member.pop.as_slice()
        ));
        assert!(id.account.starts_with("usage1"));
    }

    #[test]
    fn keys_written_to_files_load_back_and_are_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let keys = localnet("files", 1, 4, 3);
        let files = keys.write_files(dir.path()).unwrap();
        let loaded = files.load().unwrap();
        let direct = keys.decode().unwrap();
        assert_eq!(loaded.bls.to_bytes(), direct.bls.to_bytes());
        assert_eq!(loaded.peer.to_bytes(), direct.peer.to_bytes());
        assert_eq!(loaded.account, direct.account);
        let shown = format!("{keys:?}");
        assert!(!shown.contains(&keys.bls_secret) && !shown.contains(&keys.account_secret));
    }
}
