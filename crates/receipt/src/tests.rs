//! A receipt built offline: C1's and C2's own storage code writes the values into a mock
//! storage, the chain's store commits them under the contracts' prefixes and proves them, and a
//! validator key signs a header over the app hash. Then every check of [`verify`] is exercised.

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Addr, HexBinary, Order, Storage, Uint128};
use ed25519_dalek::{Signer as _, SigningKey};
use tendermint::block::header::Version;
use tendermint::block::parts::Header as PartSetHeader;
use tendermint::block::signed_header::SignedHeader;
use tendermint::block::{self, Commit, CommitSig, Header, Height, Round};
use tendermint::{
    account, chain, hash::AppHash, validator, vote, Hash, PublicKey, Signature, Time,
};
use usage_common::merkle::{self, SumNode};
use usage_common::msg::period_proof::{PeriodProof, PeriodStatus};
use usage_common::msg::usage_proof::TeeKind;
use usage_common::record::{Metrics, Totals, UsageRecord};
use usage_proof::state::{self as c1_state, StoredProof, TerminalState};
use usaged_store::{ChangeSet, Store};

use crate::*;

const CHAIN: &str = "receipt-test-1";
const TENANT: &str = "usage1tenant";
const PERIOD: u64 = 1_700_000_040;
const W: u64 = PERIOD + 10;

fn c1_addr() -> String {
    usaged_auth::humanize(&usaged_vm::keys::classic_contract_address(1, 1)).unwrap()
}

fn c2_addr() -> String {
    usaged_auth::humanize(&usaged_vm::keys::classic_contract_address(2, 2)).unwrap()
}

fn provider() -> String {
    usaged_auth::humanize(&[0x11; 20]).unwrap()
}

fn metrics(rx: u64) -> Metrics {
    Metrics {
        net_rx_bytes: rx,
        cpu_time_us: 7,
        app_up_s: 10,
        ..Default::default()
    }
}

/// The period's leaves in accumulator order: (terminal id, terminal index, window, metrics).
fn leaves() -> Vec<(&'static str, u32, u64, Metrics)> {
    vec![
        ("term-a", 0, W, metrics(100)),
        ("term-b", 1, W, metrics(200)),
        ("term-a", 0, W + 10, metrics(300)),
    ]
}

fn sum_leaves() -> Vec<SumNode> {
    leaves()
        .into_iter()
        .map(|(t, _, w, m)| {
            let record = UsageRecord {
                terminal_id: t.into(),
                window_start: w,
                tenant: TENANT.into(),
                metrics: m,
            };
            SumNode::leaf(&record.to_bytes(), Totals::of(&m))
        })
        .collect()
}

/// A chain state with C1's and C2's storage as the contracts write it.
struct Chain {
    _dir: tempfile::TempDir,
    store: Store,
    app_hash: [u8; 32],
}

fn chain() -> Chain {
    let mut c1 = MockStorage::new();
    for (id, index) in [("term-a", 0u32), ("term-b", 1)] {
        let state = TerminalState {
            index,
            provider: Addr::unchecked(provider()),
            attestor_key: HexBinary::from([index as u8; 32]),
            tee: TeeKind::Software,
            measurement: HexBinary::from([9u8; 32]),
            active: true,
            shared_attestor: false,
        };
        c1_state::TERMINALS.save(&mut c1, id, &state).unwrap();
    }
    for (i, (_, index, window, m)) in leaves().into_iter().enumerate() {
        let proof = StoredProof {
            tenant: TENANT.into(),
            batch_id: 3,
            period_start: PERIOD,
            period_index: i as u64,
            metrics: m,
        };
        c1_state::save_proof(&mut c1, index, window, &proof);
    }
    let root = merkle::root(&sum_leaves()).unwrap();
    let mut c2 = MockStorage::new();
    let proof = PeriodProof {
        provider: Addr::unchecked(provider()),
        tenant: TENANT.into(),
        period_start: PERIOD,
        period_end: PERIOD + 60,
        root: root.hash.clone(),
        totals: root.totals,
        proven_at: PERIOD + 95,
        late_records: 0,
        price_cap: Some(Uint128::new(1_000)),
        dispute_deadline: PERIOD + 395,
        status: PeriodStatus::Proven,
    };
    period_proof::state::PROOFS
        .save(
            &mut c2,
            (&Addr::unchecked(provider()), TENANT, PERIOD),
            &proof,
        )
        .unwrap();

    let mut changes = ChangeSet::new();
    for (addr, storage) in [(c1_addr(), &c1), (c2_addr(), &c2)] {
        let prefix = usaged_vm::keys::contract_store(&canonical_address(&addr).unwrap());
        for (k, v) in storage.range(None, None, Order::Ascending) {
            let mut key = prefix.clone();
            key.extend_from_slice(&k);
            changes.insert(key, Some(v));
        }
    }
    changes.insert(b"\x04unrelated".to_vec(), Some(b"1".to_vec()));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let app_hash = store.commit(1, &changes).unwrap();
    Chain {
        _dir: dir,
        store,
        app_hash,
    }
}

fn entry(store: &Store, key: Vec<u8>) -> StateEntry {
    let (value, proof) = store.get_with_proof(&key).unwrap();
    StateEntry {
        key: HexBinary::from(key),
        value: HexBinary::from(value.expect("a stored value")),
        proof: HexBinary::from(borsh::to_vec(&proof).unwrap()),
    }
}

fn validator_key(seed: u8) -> (SigningKey, validator::Info) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let pk = PublicKey::from_raw_ed25519(key.verifying_key().as_bytes()).unwrap();
    (key, validator::Info::new(pk, vote::Power::from(10u32)))
}

/// The header of height 2 committing to `app_hash`, signed by `signers`.
fn signed_header(app_hash: [u8; 32], signers: &[(SigningKey, validator::Info)]) -> SignedHeader {
    let infos: Vec<_> = signers.iter().map(|(_, i)| i.clone()).collect();
    let set = validator::Set::without_proposer(infos);
    let header = Header {
        version: Version { block: 11, app: 0 },
        chain_id: chain::Id::try_from(CHAIN).unwrap(),
        height: Height::from(2u32),
        time: Time::from_unix_timestamp(1_700_000_200, 0).unwrap(),
        last_block_id: None,
        last_commit_hash: None,
        data_hash: None,
        validators_hash: set.hash(),
        next_validators_hash: set.hash(),
        consensus_hash: Hash::Sha256([5; 32]),
        app_hash: AppHash::try_from(app_hash.to_vec()).unwrap(),
        last_results_hash: None,
        evidence_hash: None,
        proposer_address: set.validators()[0].address,
    };
    let block_id = block::Id {
        hash: header.hash(),
        part_set_header: PartSetHeader::new(1, Hash::Sha256([6; 32])).unwrap(),
    };
    let timestamp = Time::from_unix_timestamp(1_700_000_201, 0).unwrap();
    // One slot per validator, in the set's order.
    let signatures = set
        .validators()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (key, _) = signers
                .iter()
                .find(|(_, info)| info.address == v.address)
                .unwrap();
            let vote = vote::Vote {
                vote_type: vote::Type::Precommit,
                height: header.height,
                round: Round::default(),
                block_id: Some(block_id),
                timestamp: Some(timestamp),
                validator_address: v.address,
                validator_index: vote::ValidatorIndex::try_from(i).unwrap(),
                signature: None,
                extension: vec![],
                extension_signature: None,
            };
            let bytes = vote.into_signable_vec(header.chain_id.clone());
            CommitSig::BlockIdFlagCommit {
                validator_address: v.address,
                timestamp,
                signature: Signature::new(key.sign(&bytes).to_bytes()).unwrap(),
            }
        })
        .collect();
    let commit = Commit {
        height: header.height,
        round: Round::default(),
        block_id,
        signatures,
    };
    SignedHeader::new(header, commit).unwrap()
}

/// A receipt of `terminal`'s window `window` (term-a is index 0, term-b index 1).
fn bundle_of(chain: &Chain, terminal: &str, window: u64) -> Bundle {
    let c1 = canonical_address(&c1_addr()).unwrap();
    let c2 = canonical_address(&c2_addr()).unwrap();
    let index = u32::from(terminal == "term-b");
    let position = leaves()
        .iter()
        .position(|(t, _, w, _)| *t == terminal && *w == window)
        .unwrap();
    Bundle {
        version: BUNDLE_VERSION,
        chain_id: CHAIN.into(),
        usage_proof: c1_addr(),
        period_proof: c2_addr(),
        terminal_id: terminal.into(),
        window_start: window,
        height: 1,
        terminal: entry(&chain.store, terminal_key(&c1, terminal)),
        first_proof: entry(&chain.store, first_proof_key(&c1, index, window)),
        second_proof: entry(
            &chain.store,
            period_proof_key(&c2, &provider(), TENANT, PERIOD),
        ),
        inclusion_path: merkle::inclusion_path(&sum_leaves(), position).unwrap(),
        signed_header: signed_header(chain.app_hash, &[validator_key(1)]),
        validators: vec![validator_key(1).1],
    }
}

fn trust() -> TrustRoot {
    TrustRoot {
        chain_id: CHAIN.into(),
        validators: vec![validator_key(1).1],
        usage_proof: c1_addr(),
        period_proof: c2_addr(),
    }
}

#[test]
fn a_receipt_built_from_the_contracts_storage_verifies_and_says_what_it_proves() {
    let chain = chain();
    let bundle = bundle_of(&chain, "term-a", W + 10);
    let v = verify(&bundle, &trust()).unwrap();
    assert_eq!(v.terminal_id, "term-a");
    assert_eq!(v.window_start, W + 10);
    assert_eq!(v.tenant, TENANT);
    assert_eq!(v.provider, provider());
    assert_eq!(v.metrics, metrics(300));
    assert_eq!(v.record_totals.records, 1);
    assert_eq!(v.leaf_index, 2);
    assert_eq!(v.period_start, PERIOD);
    assert_eq!(v.period_totals.records, 3);
    assert_eq!(v.period_totals.net_rx_bytes, 600);
    assert!(!v.late);
    assert_eq!((v.height, v.header_height), (1, 2));
    assert_eq!((v.signed_power, v.total_power), (10, 10));
    assert_eq!(v.app_hash, hex::encode(chain.app_hash));

    // The JSON form reads back to the same bundle, and verifies the same.
    let back = Bundle::from_json(&bundle.to_json().unwrap()).unwrap();
    assert_eq!(back, bundle);
    assert_eq!(verify(&back, &trust()).unwrap(), v);
}

#[test]
fn the_key_layout_is_the_contracts_own() {
    let c1 = canonical_address(&c1_addr()).unwrap();
    let prefix = usaged_vm::keys::contract_store(&c1);
    let mut expected = prefix.clone();
    expected.extend_from_slice(&c1_state::proof_key(7, W));
    assert_eq!(first_proof_key(&c1, 7, W), expected);
    let mut expected = prefix;
    expected.extend_from_slice(&c1_state::TERMINALS.key("term-a"));
    assert_eq!(terminal_key(&c1, "term-a"), expected);
    let c2 = canonical_address(&c2_addr()).unwrap();
    let mut expected = usaged_vm::keys::contract_store(&c2);
    let p = Addr::unchecked(provider());
    expected.extend_from_slice(&period_proof::state::PROOFS.key((&p, TENANT, PERIOD)));
    assert_eq!(period_proof_key(&c2, &provider(), TENANT, PERIOD), expected);
    assert_eq!(
        classic_contract_address(3, 4),
        usaged_vm::keys::classic_contract_address(3, 4)
    );
}

#[test]
fn a_stored_first_proof_decodes_as_the_contract_reads_it() {
    let mut storage = MockStorage::new();
    let proof = StoredProof {
        tenant: TENANT.into(),
        batch_id: 9,
        period_start: PERIOD,
        period_index: 4,
        metrics: metrics(5),
    };
    c1_state::save_proof(&mut storage, 2, W, &proof);
    let raw = storage.get(&c1_state::proof_key(2, W)).unwrap();
    let ours = decode_first_proof(&raw).unwrap();
    let theirs = c1_state::load_proof(&storage, 2, W).unwrap().unwrap();
    assert_eq!(
        (
            ours.tenant,
            ours.batch_id,
            ours.period_start,
            ours.period_index,
            ours.metrics
        ),
        (
            theirs.tenant,
            theirs.batch_id,
            theirs.period_start,
            theirs.period_index,
            theirs.metrics
        )
    );
    let mut longer = raw.clone();
    longer.push(0);
    assert!(decode_first_proof(&longer).is_err());
}

/// Flips one byte of a stored value (a metric of the first proof).
fn tamper_metric(bundle: &mut Bundle) {
    let mut value = bundle.first_proof.value.to_vec();
    let last = value.len() - 1;
    value[last] ^= 1;
    bundle.first_proof.value = HexBinary::from(value);
}

#[test]
fn each_tampering_is_refused_by_its_own_check() {
    let chain = chain();
    let good = bundle_of(&chain, "term-a", W);
    verify(&good, &trust()).unwrap();
    let refused = |f: &dyn Fn(&mut Bundle), trust: &TrustRoot| {
        let mut b = good.clone();
        f(&mut b);
        verify(&b, trust).unwrap_err()
    };
    let t = trust();

    let e = refused(&|b| b.version = 2, &t);
    assert!(
        matches!(e, VerifyError::UnsupportedVersion { found: 2, .. }),
        "{e}"
    );

    let e = refused(&|b| b.chain_id = "other-chain".into(), &t);
    assert!(matches!(e, VerifyError::WrongChain { .. }), "{e}");
    let other_chain = TrustRoot {
        chain_id: "other-chain".into(),
        ..trust()
    };
    let e = refused(&|_| {}, &other_chain);
    assert!(matches!(e, VerifyError::WrongChain { .. }), "{e}");

    let e = refused(&|b| b.usage_proof = c2_addr(), &t);
    assert!(
        matches!(
            e,
            VerifyError::UntrustedContract {
                role: "usage-proof",
                ..
            }
        ),
        "{e}"
    );

    let e = refused(&|b| b.height = 5, &t);
    assert!(matches!(e, VerifyError::WrongHeaderHeight { .. }), "{e}");

    // Another validator set in the bundle: not the header's.
    let e = refused(&|b| b.validators = vec![validator_key(2).1], &t);
    assert!(
        matches!(e, VerifyError::ValidatorsHashMismatch { .. }),
        "{e}"
    );
    // A header signed by a set that is not the trusted one.
    let e = refused(
        &|b| {
            b.signed_header = signed_header(chain.app_hash, &[validator_key(2)]);
            b.validators = vec![validator_key(2).1];
        },
        &t,
    );
    assert!(matches!(e, VerifyError::UntrustedValidators { .. }), "{e}");

    // Another app hash: the header is no longer the one the commit signed.
    let e = refused(
        &|b| b.signed_header.header.app_hash = AppHash::try_from(vec![0xab; 32]).unwrap(),
        &t,
    );
    assert!(matches!(e, VerifyError::CommitNotForHeader { .. }), "{e}");

    // A changed signature, a removed one, one of a stranger.
    let e = refused(
        &|b| {
            if let CommitSig::BlockIdFlagCommit { signature, .. } =
                &mut b.signed_header.commit.signatures[0]
            {
                let mut bytes = signature.clone().unwrap().as_bytes().to_vec();
                bytes[0] ^= 1;
                *signature = Signature::new(bytes).unwrap();
            }
        },
        &t,
    );
    assert!(matches!(e, VerifyError::InvalidSignature { .. }), "{e}");
    let e = refused(
        &|b| b.signed_header.commit.signatures[0] = CommitSig::BlockIdFlagAbsent,
        &t,
    );
    assert!(
        matches!(
            e,
            VerifyError::NotEnoughVotingPower {
                signed: 0,
                total: 10
            }
        ),
        "{e}"
    );
    let e = refused(
        &|b| {
            if let CommitSig::BlockIdFlagCommit {
                validator_address, ..
            } = &mut b.signed_header.commit.signatures[0]
            {
                *validator_address = account::Id::new([1; 20]);
            }
        },
        &t,
    );
    assert!(matches!(e, VerifyError::UnknownSigner { .. }), "{e}");
    let e = refused(&|b| b.signed_header.commit.signatures.clear(), &t);
    assert!(matches!(e, VerifyError::CommitSize { .. }), "{e}");

    // The state: a changed value, a changed proof, a value under another key.
    let e = refused(&tamper_metric, &t);
    assert!(
        matches!(
            e,
            VerifyError::NotInState {
                entry: Entry::FirstProof,
                ..
            }
        ),
        "{e}"
    );
    let e = refused(
        &|b| b.second_proof.proof = HexBinary::from(vec![1, 2, 3]),
        &t,
    );
    assert!(
        matches!(
            e,
            VerifyError::MalformedStateProof {
                entry: Entry::SecondProof,
                ..
            }
        ),
        "{e}"
    );
    let e = refused(&|b| b.terminal_id = "term-b".into(), &t);
    assert!(
        matches!(
            e,
            VerifyError::WrongKey {
                entry: Entry::Terminal,
                ..
            }
        ),
        "{e}"
    );

    // Another terminal's first proof swapped in.
    let other = bundle_of(&chain, "term-b", W);
    let e = refused(&|b| b.first_proof = other.first_proof.clone(), &t);
    assert!(
        matches!(e, VerifyError::FirstProofOfAnotherWindow { .. }),
        "{e}"
    );
    // Another window of the same terminal claimed with this window's proof.
    let e = refused(&|b| b.window_start = W + 10, &t);
    assert!(
        matches!(e, VerifyError::FirstProofOfAnotherWindow { .. }),
        "{e}"
    );

    // A changed inclusion path, or one of another leaf.
    let e = refused(
        &|b| {
            let mut node = b.inclusion_path[0].clone();
            node.totals.records += 1;
            b.inclusion_path[0] = node;
        },
        &t,
    );
    assert!(matches!(e, VerifyError::NotIncluded { .. }), "{e}");
    let e = refused(&|b| b.inclusion_path = other.inclusion_path.clone(), &t);
    assert!(matches!(e, VerifyError::NotIncluded { .. }), "{e}");
}

#[test]
fn trust_roots_are_read_from_a_genesis_and_from_a_list() {
    let (_, info) = validator_key(1);
    let PublicKey::Ed25519(pk) = info.pub_key else {
        panic!("ed25519")
    };
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pk.as_bytes());
    let genesis = serde_json::json!({
        "genesis_time": "2024-01-01T00:00:00Z",
        "chain_id": CHAIN,
        "validators": [{
            "address": info.address.to_string(),
            "pub_key": {"type": "tendermint/PubKeyEd25519", "value": b64},
            "power": "10",
            "name": ""
        }],
        "app_state": {
            "codes": [{"name": "usage_proof", "wasm": ""}, {"name": "period_proof", "wasm": ""}],
            "contracts": [
                {"code": "usage_proof", "label": "usage-proof"},
                {"code": "period_proof", "label": "period-proof"}
            ]
        }
    });
    let from_genesis = TrustRoot::from_json(genesis.to_string().as_bytes()).unwrap();
    assert_eq!(from_genesis, trust());

    let list = serde_json::json!({
        "chain_id": CHAIN,
        "usage_proof": c1_addr(),
        "period_proof": c2_addr(),
        "validators": [{"pub_key": hex::encode(pk.as_bytes()), "power": 10}]
    });
    assert_eq!(
        TrustRoot::from_json(list.to_string().as_bytes()).unwrap(),
        trust()
    );
    let bare = serde_json::json!([{"pub_key": b64, "voting_power": "10"}]);
    assert_eq!(
        validators_from_list(bare.to_string().as_bytes()).unwrap(),
        vec![info]
    );
    let empty = serde_json::json!({"chain_id": CHAIN, "usage_proof": c1_addr(),
        "period_proof": c2_addr(), "validators": []});
    assert!(matches!(
        TrustRoot::from_json(empty.to_string().as_bytes()),
        Err(TrustError::NoValidators)
    ));
    let mut no_c2 = genesis.clone();
    no_c2["app_state"]["contracts"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(matches!(
        TrustRoot::from_genesis(no_c2.to_string().as_bytes()),
        Err(TrustError::MissingContract {
            label: "period-proof"
        })
    ));
}
