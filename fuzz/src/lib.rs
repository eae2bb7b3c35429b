//! The bodies of the fuzz targets: each takes arbitrary bytes, must never panic, and checks the
//! properties its decoder promises (a decoded value re-encodes to the same bytes; an accepted
//! transaction passes its ante checks only with a valid signature).

use cosmwasm_std::testing::{message_info, mock_dependencies, mock_env, MockApi};
use cosmwasm_std::{from_json, Addr, Storage};

/// `TxRaw` → `TxBody`/`AuthInfo` decoding, the ante checks against a fresh and a known account,
/// and the `Simulate` request decoder.
pub fn tx_decode(data: &[u8]) {
    if let Ok(tx) = usaged_auth::decode_tx(data) {
        let fresh = usaged_auth::Account::new(&tx.signer, 0);
        let _ = usaged_auth::authenticate(&tx, &fresh, "usagechain-fuzz", 5);
        let mut known = usaged_auth::Account::new(&tx.signer, 3);
        known.sequence = tx.signer_info.sequence;
        if let Ok(auth) = usaged_auth::authenticate(&tx, &known, "usagechain-fuzz", 5) {
            // Whatever was accepted carried a key that hashes to the signer.
            let derived = usaged_auth::address_from_pubkey(&auth.pub_key).expect("accepted key");
            assert_eq!(derived, tx.signer, "a tx authenticated for another address");
        }
        let _ = usaged_auth::tx_hash(data);
        for m in &tx.msgs {
            let _ = (m.type_url(), m.sender(), m.funds());
        }
    }
    let _ = usaged_auth::decode_simulate_request(data);
}

/// The committee's member keys with their proofs of possession, made once (BLS is slow).
fn member_keys() -> Vec<usage_common::payload::MemberKey> {
    static KEYS: std::sync::OnceLock<Vec<usage_common::payload::MemberKey>> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        usage_signer::SigningCommittee::deterministic("fuzz", 1, 4, 3).member_keys()
    })
    .clone()
}

fn addr(api: &MockApi, name: &str) -> Addr {
    api.addr_make(name)
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// The storage of contract `which` (0..5) right after its instantiation, made once: C1's
/// instantiation verifies the committee's proofs of possession, far too slow to redo per input.
fn instantiated(which: u8) -> Pairs {
    static STATES: std::sync::OnceLock<Vec<Pairs>> = std::sync::OnceLock::new();
    STATES
        .get_or_init(|| (0..5).map(instantiate).collect())
        .get(which as usize)
        .cloned()
        .unwrap_or_default()
}

fn instantiate(which: u8) -> Pairs {
    let mut deps = mock_dependencies();
    let api = deps.api;
    let env = mock_env();
    let admin = addr(&api, "admin");
    let info = message_info(&admin, &[]);
    let c = |n: &str| addr(&api, n).to_string();
    let json = |v: serde_json::Value| serde_json::to_vec(&v).expect("json");
    match which {
        0 => {
            let init = usage_common::msg::usage_proof::InstantiateMsg {
                admin: Some(admin.to_string()),
                threshold: 3,
                members: member_keys(),
                window_seconds: 10,
                period_seconds: 60,
                grace_seconds: 30,
                accept_software_tee: true,
                allowed_measurements: vec![cosmwasm_std::HexBinary::from([7u8; 32])],
                period_proof: Some(c("c2")),
            };
            usage_proof::contract::instantiate(deps.as_mut(), env, info, init).expect("C1");
        }
        1 => {
            let init = json(serde_json::json!({"admin": admin, "usage_proof": c("c1"),
                "grace_seconds": 30, "dispute_window_seconds": 60,
                "resolution_window_seconds": 120, "dispute_bond": "100", "settlement": c("c3")}));
            let init = from_json(init).expect("C2 init");
            period_proof::contract::instantiate(deps.as_mut(), env, info, init).expect("C2");
        }
        2 => {
            let init = json(serde_json::json!({"admin": admin, "usage_proof": c("c1"),
                "period_proof": c("c2"), "ledger": c("c4"),
                "tariff": {"currency": "CNY", "minimum_amount": "1", "lines": [
                    {"metric": "net_tx_bytes", "price": "1", "per_units": "1000000"}]}}));
            let init = from_json(init).expect("C3 init");
            settlement::contract::instantiate(deps.as_mut(), env, info, init).expect("C3");
        }
        3 => {
            let init = json(serde_json::json!({"admin": admin, "usage_proof": c("c1"),
                "currency": "CNY", "decimals": 2, "settlement": c("c3"), "withdrawal": c("c5")}));
            let init = from_json(init).expect("C4 init");
            ledger::contract::instantiate(deps.as_mut(), env, info, init).expect("C4");
        }
        _ => {
            let init = json(serde_json::json!({"admin": admin, "usage_proof": c("c1"),
                "ledger": c("c4"), "currency": "CNY",
                "limits": {"per_request": "1000000", "rolling": "5000000",
                           "window_seconds": 86400, "delay_seconds": 600}}));
            let init = from_json(init).expect("C5 init");
            withdrawal::contract::instantiate(deps.as_mut(), env, info, init).expect("C5");
        }
    }
    deps.storage
        .range(None, None, cosmwasm_std::Order::Ascending)
        .collect()
}

/// One of the five contracts (`data[0] % 5`), in its state right after instantiation on mock
/// storage, executes the JSON in `data[1..]` sent by its admin or a stranger (`data[0] & 0x80`).
/// Contract errors are expected; a panic is a bug.
pub fn contract_execute(data: &[u8]) {

    let Some((&selector, msg)) = data.split_first() else {
        return;
    };
    let which = selector % 5;
    let mut deps = mock_dependencies();
    for (k, v) in instantiated(which) {
        deps.storage.set(&k, &v);
    }
    let api = deps.api;
    let env = mock_env();
    let sender = if selector & 0x80 == 0 {
        addr(&api, "admin")
    } else {
        addr(&api, "stranger")
    };
    let info = message_info(&sender, &[]);
    match which {
        0 => {
            if let Ok(m) = from_json(msg) {
                let _ = usage_proof::contract::execute(deps.as_mut(), env, info, m);
            }
        }
        1 => {
            if let Ok(m) = from_json(msg) {
                let _ = period_proof::contract::execute(deps.as_mut(), env, info, m);
            }
        }
        2 => {
            if let Ok(m) = from_json(msg) {
                let _ = settlement::contract::execute(deps.as_mut(), env, info, m);
            }
        }
        3 => {
            if let Ok(m) = from_json(msg) {
                let _ = ledger::contract::execute(deps.as_mut(), env, info, m);
            }
        }
        _ => {
            if let Ok(m) = from_json(msg) {
                let _ = withdrawal::contract::execute(deps.as_mut(), env, info, m);
            }
        }
    }
}

/// The canonical batch codec the usage-proof contract decodes on chain: whatever decodes
/// re-encodes to exactly the same bytes (one encoding per batch), and each record's span is
/// its own encoding.
pub fn payload_codec(data: &[u8]) {
    if let Ok(batch) = usage_common::record::decode_batch(data) {
        let records: Vec<_> = batch.records.iter().map(|(r, _)| r.clone()).collect();
        assert_eq!(
            usage_common::record::encode_batch(&records),
            data,
            "a batch decoded from non-canonical bytes"
        );
    }
}

/// The attestor's sample codec: a decoded sample re-encodes to the same bytes; the signed
/// sample envelope (base64 on the wire) decodes without panicking.
pub fn sample_decode(data: &[u8]) {
    use usage_sample::sample::Sample;
    if let Ok(s) = Sample::decode(data) {
        if let Ok(again) = s.encode() {
            assert_eq!(again, data, "a sample decoded from non-canonical bytes");
        }
        let _ = s.validate();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(signed) = usage_sample::wire::decode_sample(text) {
            let _ = Sample::decode(&signed.sample);
        }
    }
}

/// The aggregator's ingest body: the JSON request, every base64 signed sample in it, the sample
/// inside, and the plausibility checks against itself as the previous sample.
pub fn ingest_body(data: &[u8]) {
    use usage_sample::sample::Sample;
    let Ok(request) = serde_json::from_slice::<usage_sample::wire::IngestRequest>(data) else {
        return;
    };
    for b64 in &request.samples {
        let Some(signed) = usage_sample::wire::decode_sample(b64) else {
            continue;
        };
        let Ok(sample) = Sample::decode(&signed.sample) else {
            continue;
        };
        let _ = sample.validate();
        let _ = usage_aggregator::ingest::plausible(None, &sample);
        let _ = usage_aggregator::ingest::plausible(Some(&sample), &sample);
    }
}

/// The ISO 20022 pain.001 parser: never panics; an accepted document written back reads back
/// as the same value.
pub fn iso_pain001(data: &[u8]) {
    use usage_iso20022::CreditTransferInitiation as M;
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = M::from_xml(text) {
            assert_eq!(M::from_xml(&v.to_xml()).as_ref(), Ok(&v), "pain.001 round trip");
        }
    }
}

/// The ISO 20022 pain.002 parser: never panics; an accepted document written back reads back
/// as the same value.
pub fn iso_pain002(data: &[u8]) {
    use usage_iso20022::PaymentStatusReport as M;
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = M::from_xml(text) {
            assert_eq!(M::from_xml(&v.to_xml()).as_ref(), Ok(&v), "pain.002 round trip");
        }
    }
}

/// The ISO 20022 camt.054 parser: never panics; an accepted document written back reads back
/// as the same value.
pub fn iso_camt054(data: &[u8]) {
    use usage_iso20022::DebitCreditNotification as M;
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = M::from_xml(text) {
            assert_eq!(M::from_xml(&v.to_xml()).as_ref(), Ok(&v), "camt.054 round trip");
        }
    }
}
