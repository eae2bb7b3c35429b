//! Committee key generation (BLS with proof of possession, peer-link and account keys) and the
//! deterministic keys of a localnet.

use ed25519_dalek::SigningKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use usage_common::payload::MemberKey;
use usage_signer::{MemberSecret, SigningCommittee};

use crate::config::Keys;

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
    let mut ikm = [0u8; 32];
    let mut peer = [0u8; 32];
    let mut account = [0u8; 32];
    for buf in [&mut ikm, &mut peer, &mut account] {
        getrandom(buf)?;
    }
    let bls = MemberSecret::from_ikm(&ikm).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Keys {
        bls_secret: hex::encode(bls.to_bytes()),
        peer_secret: hex::encode(peer),
        account_secret: hex::encode(account),
    })
}

fn getrandom(buf: &mut [u8]) -> anyhow::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)?;
    Ok(())
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
}
