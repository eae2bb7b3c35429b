//! Offline verification of a receipt against a [`TrustRoot`].

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use tendermint::block::signed_header::SignedHeader;
use tendermint::block::CommitSig;
use tendermint::crypto::default::signature::Verifier;
use tendermint::validator;
use tendermint::vote::{self, SignedVote, ValidatorIndex, Vote};
use usage_common::merkle::{self, SumNode};
use usage_common::msg::period_proof::{PeriodProof, PeriodStatus};
use usage_common::record::{align, Metrics, Totals, UsageRecord};
use usaged_store::jmt::{proof::SparseMerkleProof, RootHash};

use crate::bundle::{Bundle, StateEntry, BUNDLE_VERSION};
use crate::keys::{canonical_address, first_proof_key, period_proof_key, terminal_key};
use crate::stored::{decode_first_proof, decode_terminal};
use crate::trust::TrustRoot;

/// One of the three state entries of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// C1's registration of the terminal.
    Terminal,
    /// C1's first proof of (terminal, window).
    FirstProof,
    /// C2's second proof of the period.
    SecondProof,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entry::Terminal => "terminal registration",
            Entry::FirstProof => "first proof",
            Entry::SecondProof => "second proof",
        })
    }
}

/// Why a receipt does not verify: one variant per check, in the order [`verify`] makes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("bundle version {found} is not supported (this verifier reads version {supported})")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("the receipt is for chain {bundle:?} with a header of chain {header:?}; the trusted chain is {trusted:?}")]
    WrongChain {
        trusted: String,
        bundle: String,
        header: String,
    },
    #[error("the receipt names {bundle} as the {role} contract; the trusted one is {trusted}")]
    UntrustedContract {
        role: &'static str,
        trusted: String,
        bundle: String,
    },
    #[error("the state of height {state_height} is committed in the header of {expected}, not in the header of {header_height}")]
    WrongHeaderHeight {
        state_height: u64,
        expected: u64,
        header_height: u64,
    },
    #[error("the receipt's validator set is not a valid set: {reason}")]
    InvalidValidatorSet { reason: String },
    #[error("the receipt's validator set hashes to {computed}, the header names {header}")]
    ValidatorsHashMismatch { computed: String, header: String },
    #[error("the header's validator set {bundle} is not the trusted set {trusted}")]
    UntrustedValidators { trusted: String, bundle: String },
    #[error("the commit is for block {commit_block} at height {commit_height}, not for the header {header_hash} at height {header_height}")]
    CommitNotForHeader {
        header_hash: String,
        header_height: u64,
        commit_block: String,
        commit_height: u64,
    },
    #[error("the commit has {signatures} signature slots for {validators} validators")]
    CommitSize {
        signatures: usize,
        validators: usize,
    },
    #[error("the commit is signed by {address}, which is not in the validator set")]
    UnknownSigner { address: String },
    #[error("the commit carries two signatures of {address}")]
    DuplicateSigner { address: String },
    #[error("the commit signature of {address} does not verify: {reason}")]
    InvalidSignature { address: String, reason: String },
    #[error("the commit is signed by {signed} of {total} voting power, not more than two thirds")]
    NotEnoughVotingPower { signed: u64, total: u64 },
    #[error("the header's app hash is {len} bytes, not 32")]
    AppHashLength { len: usize },
    #[error("the {entry} is stored under {found}, not under its key {expected}")]
    WrongKey {
        entry: Entry,
        expected: String,
        found: String,
    },
    #[error("the {entry}'s state proof cannot be read: {reason}")]
    MalformedStateProof { entry: Entry, reason: String },
    #[error("the {entry} is not in the state the header commits to: {reason}")]
    NotInState { entry: Entry, reason: String },
    #[error("the {entry} cannot be decoded: {reason}")]
    Undecodable { entry: Entry, reason: String },
    #[error("the first proof in the receipt is stored under {found}, not under the key of {terminal_id} window {window_start} ({expected})")]
    FirstProofOfAnotherWindow {
        terminal_id: String,
        window_start: u64,
        expected: String,
        found: String,
    },
    #[error("the second proof is of ({provider}, {tenant}, period {period_start}), not of the first proof's period")]
    SecondProofOfAnotherPeriod {
        provider: String,
        tenant: String,
        period_start: u64,
    },
    #[error("the first proof's leaf {leaf_index} with this path does not lead to the second proof's root over {size} records")]
    NotIncluded { leaf_index: u64, size: u64 },
}

/// What a verified receipt proves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    pub chain_id: String,
    /// The height whose committed state holds the proofs.
    pub height: u64,
    /// The signed block whose header commits to that state (`height + 1`), its time and hash.
    pub header_height: u64,
    pub header_time: String,
    pub header_hash: String,
    pub app_hash: String,
    /// Voting power that signed the header, of the trusted set's total.
    pub signed_power: u64,
    pub total_power: u64,
    pub usage_proof: String,
    pub period_proof: String,
    pub terminal_id: String,
    pub window_start: u64,
    pub tenant: String,
    pub provider: String,
    /// The batch that proved the window.
    pub batch_id: u64,
    /// What the terminal measured in the window.
    pub metrics: Metrics,
    /// The window's totals (one record) as a leaf of the period's sum tree.
    pub record_totals: Totals,
    /// Proven after its own period had closed, and billed in `period_start`'s.
    pub late: bool,
    pub period_start: u64,
    pub period_end: u64,
    /// The window's leaf index in the period's sum tree.
    pub leaf_index: u64,
    /// The period's sealed root and totals (`records` is the number of windows).
    pub period_root: String,
    pub period_totals: Totals,
    /// Where the second proof stood at `height` (proven, disputed, resolved).
    pub period_status: PeriodStatus,
}

fn hex_of(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A validator set rebuilt from public keys and powers only (addresses derived from the keys),
/// or `None` if its total power is out of CometBFT's range.
fn rebuilt_set(validators: &[validator::Info]) -> Option<validator::Set> {
    let mut total: u64 = 0;
    let mut infos = Vec::with_capacity(validators.len());
    for v in validators {
        total = total.checked_add(v.power())?;
        infos.push(validator::Info::new(v.pub_key, v.power));
    }
    if infos.is_empty() || total > validator::Set::MAX_TOTAL_VOTING_POWER {
        return None;
    }
    Some(validator::Set::without_proposer(infos))
}

/// Checks that the commit is for the header and that more than two thirds of `set`'s voting
/// power signed it; returns (signed, total) power. Every present signature is verified.
fn check_commit(sh: &SignedHeader, set: &validator::Set) -> Result<(u64, u64), VerifyError> {
    let (header, commit) = (&sh.header, &sh.commit);
    let header_hash = header.hash();
    if commit.height != header.height || commit.block_id.hash != header_hash {
        return Err(VerifyError::CommitNotForHeader {
            header_hash: header_hash.to_string(),
            header_height: header.height.value(),
            commit_block: commit.block_id.hash.to_string(),
            commit_height: commit.height.value(),
        });
    }
    if commit.signatures.len() != set.validators().len() {
        return Err(VerifyError::CommitSize {
            signatures: commit.signatures.len(),
            validators: set.validators().len(),
        });
    }
    let mut seen = BTreeSet::new();
    let mut signed: u64 = 0;
    for (i, sig) in commit.signatures.iter().enumerate() {
        // Absent validators said nothing; a nil vote is for no block: neither counts.
        let CommitSig::BlockIdFlagCommit {
            validator_address,
            timestamp,
            signature,
        } = sig
        else {
            continue;
        };
        let address = validator_address.to_string();
        let Some(validator) = set.validator(*validator_address) else {
            return Err(VerifyError::UnknownSigner { address });
        };
        if !seen.insert(*validator_address) {
            return Err(VerifyError::DuplicateSigner { address });
        }
        let invalid = |reason: String| VerifyError::InvalidSignature {
            address: address.clone(),
            reason,
        };
        let index = ValidatorIndex::try_from(i).map_err(|e| invalid(e.to_string()))?;
        // The precommit each signer signed, as CometBFT rebuilds it from a commit: its sign
        // bytes are the tendermint crate's canonical vote encoding with the header's chain id.
        let precommit = Vote {
            vote_type: vote::Type::Precommit,
            height: commit.height,
            round: commit.round,
            block_id: Some(commit.block_id),
            timestamp: Some(*timestamp),
            validator_address: *validator_address,
            validator_index: index,
            signature: signature.clone(),
            extension: vec![],
            extension_signature: None,
        };
        let signed_vote = SignedVote::from_vote(precommit, header.chain_id.clone())
            .ok_or_else(|| invalid("the signature is missing".into()))?;
        validator
            .verify_signature::<Verifier>(&signed_vote.sign_bytes(), signed_vote.signature())
            .map_err(|e| invalid(e.to_string()))?;
        signed = signed.saturating_add(validator.power());
    }
    let total = set.total_voting_power().value();
    if u128::from(signed) * 3 <= u128::from(total) * 2 {
        return Err(VerifyError::NotEnoughVotingPower { signed, total });
    }
    Ok((signed, total))
}

/// Checks that `entry` is stored under `expected`, then its proof against `root`.
fn check_entry(
    which: Entry,
    entry: &StateEntry,
    expected: &[u8],
    root: [u8; 32],
) -> Result<(), VerifyError> {
    if entry.key.as_slice() != expected {
        return Err(VerifyError::WrongKey {
            entry: which,
            expected: hex_of(expected),
            found: hex_of(entry.key.as_slice()),
        });
    }
    check_proof(which, entry, root)
}

fn check_proof(which: Entry, entry: &StateEntry, root: [u8; 32]) -> Result<(), VerifyError> {
    let proof: SparseMerkleProof<sha2::Sha256> = borsh::from_slice(entry.proof.as_slice())
        .map_err(|e| VerifyError::MalformedStateProof {
            entry: which,
            reason: e.to_string(),
        })?;
    proof
        .verify_existence(
            RootHash(root),
            usaged_store::key_hash(entry.key.as_slice()),
            entry.value.as_slice(),
        )
        .map_err(|e| VerifyError::NotInState {
            entry: which,
            reason: e.to_string(),
        })
}

fn undecodable(entry: Entry) -> impl Fn(String) -> VerifyError {
    move |reason| VerifyError::Undecodable { entry, reason }
}

fn trusted_contract(
    role: &'static str,
    trusted: &str,
    bundle: &str,
) -> Result<Vec<u8>, VerifyError> {
    let untrusted = || VerifyError::UntrustedContract {
        role,
        trusted: trusted.to_string(),
        bundle: bundle.to_string(),
    };
    if trusted != bundle {
        return Err(untrusted());
    }
    canonical_address(bundle).map_err(|_| untrusted())
}

/// Verifies `bundle` offline against `trust`, checking in order: the format version; the chain
/// id (trusted, bundle and header) and the two contracts; that the header is of `height + 1`;
/// that the bundle's validator set is the header's (`validators_hash`) and the trusted one; that
/// the commit is for the header and signed by more than two thirds of the voting power with
/// valid signatures; that each state entry sits under the key recomputed from the receipt's
/// terminal and window (the terminal's registration gives its index and provider, the first
/// proof its tenant and period) and is proven against the header's app hash; and that the leaf
/// recomputed from the first proof, with the inclusion path, gives the second proof's root and
/// totals.
pub fn verify(bundle: &Bundle, trust: &TrustRoot) -> Result<Verified, VerifyError> {
    if bundle.version != BUNDLE_VERSION {
        return Err(VerifyError::UnsupportedVersion {
            found: bundle.version,
            supported: BUNDLE_VERSION,
        });
    }
    let header = &bundle.signed_header.header;
    if bundle.chain_id != trust.chain_id || header.chain_id.as_str() != trust.chain_id {
        return Err(VerifyError::WrongChain {
            trusted: trust.chain_id.clone(),
            bundle: bundle.chain_id.clone(),
            header: header.chain_id.to_string(),
        });
    }
    let c1 = trusted_contract("usage-proof", &trust.usage_proof, &bundle.usage_proof)?;
    let c2 = trusted_contract("period-proof", &trust.period_proof, &bundle.period_proof)?;
    let expected = bundle.height.saturating_add(1);
    if header.height.value() != expected {
        return Err(VerifyError::WrongHeaderHeight {
            state_height: bundle.height,
            expected,
            header_height: header.height.value(),
        });
    }

    // The validators: the header's, and the trusted ones.
    let set = rebuilt_set(&bundle.validators).ok_or_else(|| VerifyError::InvalidValidatorSet {
        reason: "empty, or its voting power is out of range".into(),
    })?;
    if set.hash() != header.validators_hash {
        return Err(VerifyError::ValidatorsHashMismatch {
            computed: set.hash().to_string(),
            header: header.validators_hash.to_string(),
        });
    }
    let trusted =
        rebuilt_set(&trust.validators).ok_or_else(|| VerifyError::InvalidValidatorSet {
            reason: "the trusted set is empty, or its voting power is out of range".into(),
        })?;
    if trusted.hash() != set.hash() {
        return Err(VerifyError::UntrustedValidators {
            trusted: trusted.hash().to_string(),
            bundle: set.hash().to_string(),
        });
    }
    let (signed_power, total_power) = check_commit(&bundle.signed_header, &trusted)?;

    // The state: each entry under its recomputed key, proven against the app hash.
    let app_hash = header.app_hash.as_bytes();
    let root: [u8; 32] = app_hash
        .try_into()
        .map_err(|_| VerifyError::AppHashLength {
            len: app_hash.len(),
        })?;
    check_entry(
        Entry::Terminal,
        &bundle.terminal,
        &terminal_key(&c1, &bundle.terminal_id),
        root,
    )?;
    let terminal = decode_terminal(bundle.terminal.value.as_slice())
        .map_err(|e| undecodable(Entry::Terminal)(e.to_string()))?;
    let first_key = first_proof_key(&c1, terminal.index, bundle.window_start);
    if bundle.first_proof.key.as_slice() != first_key.as_slice() {
        return Err(VerifyError::FirstProofOfAnotherWindow {
            terminal_id: bundle.terminal_id.clone(),
            window_start: bundle.window_start,
            expected: hex_of(&first_key),
            found: hex_of(bundle.first_proof.key.as_slice()),
        });
    }
    check_proof(Entry::FirstProof, &bundle.first_proof, root)?;
    let first = decode_first_proof(bundle.first_proof.value.as_slice())
        .map_err(|e| undecodable(Entry::FirstProof)(e.to_string()))?;
    check_entry(
        Entry::SecondProof,
        &bundle.second_proof,
        &period_proof_key(&c2, &terminal.provider, &first.tenant, first.period_start),
        root,
    )?;
    let period: PeriodProof = serde_json::from_slice(bundle.second_proof.value.as_slice())
        .map_err(|e| undecodable(Entry::SecondProof)(e.to_string()))?;
    if period.provider.as_str() != terminal.provider
        || period.tenant != first.tenant
        || period.period_start != first.period_start
    {
        return Err(VerifyError::SecondProofOfAnotherPeriod {
            provider: period.provider.to_string(),
            tenant: period.tenant,
            period_start: period.period_start,
        });
    }

    // The window's leaf, recomputed, is in the period's sum tree.
    let record = UsageRecord {
        terminal_id: bundle.terminal_id.clone(),
        window_start: bundle.window_start,
        tenant: first.tenant.clone(),
        metrics: first.metrics,
    };
    let record_totals = Totals::of(&first.metrics);
    let leaf = SumNode::leaf(&record.to_bytes(), record_totals);
    let size = period.totals.records;
    if !merkle::verify_inclusion(
        first.period_index,
        size,
        &leaf,
        &bundle.inclusion_path,
        &period.root_node(),
    ) {
        return Err(VerifyError::NotIncluded {
            leaf_index: first.period_index,
            size,
        });
    }

    let period_seconds = period.period_end.saturating_sub(period.period_start);
    Ok(Verified {
        chain_id: trust.chain_id.clone(),
        height: bundle.height,
        header_height: header.height.value(),
        header_time: header.time.to_rfc3339(),
        header_hash: hex_of(header.hash().as_bytes()),
        app_hash: hex_of(&root),
        signed_power,
        total_power,
        usage_proof: bundle.usage_proof.clone(),
        period_proof: bundle.period_proof.clone(),
        terminal_id: bundle.terminal_id.clone(),
        window_start: bundle.window_start,
        tenant: first.tenant,
        provider: terminal.provider,
        batch_id: first.batch_id,
        metrics: first.metrics,
        record_totals,
        late: first.period_start != align(bundle.window_start, period_seconds),
        period_start: period.period_start,
        period_end: period.period_end,
        leaf_index: first.period_index,
        period_root: period.root.to_hex(),
        period_totals: period.totals,
        period_status: period.status,
    })
}
