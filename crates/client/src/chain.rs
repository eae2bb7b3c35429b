//! [`ChainClient`]: queries, signed executions and block events of one chain.

use std::time::Duration;

use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmrs::crypto::secp256k1::SigningKey;
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tendermint_rpc::{Client, HttpClient};
use thiserror::Error;
use tokio::sync::Mutex;

/// Bech32 prefix of the chain's addresses.
pub const PREFIX: &str = "usage";
/// The SDK code of a wrong account sequence.
const SDK_WRONG_SEQUENCE: u32 = 32;

/// Why a chain call failed.
#[derive(Error, Debug)]
pub enum ClientError {
    /// The node could not be reached or answered with an RPC error.
    #[error("rpc: {0}")]
    Rpc(String),
    /// The query was refused (codespace, code, log).
    #[error("query refused ({codespace} {code}): {log}")]
    Query {
        /// The error's codespace.
        codespace: String,
        /// The error code.
        code: u32,
        /// The node's log.
        log: String,
    },
    /// CheckTx refused the transaction: it never entered the mempool.
    #[error("check_tx refused ({codespace} {code}): {log}")]
    CheckTx {
        /// The error's codespace.
        codespace: String,
        /// The error code.
        code: u32,
        /// The node's log.
        log: String,
    },
    /// The transaction was not in a block within the time waited.
    #[error("tx {hash} not committed within {waited_ms} ms")]
    NotCommitted {
        /// The tx hash.
        hash: String,
        /// How long it was awaited.
        waited_ms: u64,
    },
    /// Encoding or decoding failed.
    #[error("codec: {0}")]
    Codec(String),
    /// An execution needs a signing key.
    #[error("this client has no signing key")]
    NoKey,
}

fn rpc(e: impl std::fmt::Display) -> ClientError {
    ClientError::Rpc(one_line(&e.to_string()))
}

/// An error report as one log line: tendermint-rpc's errors print their causes on lines of their
/// own ("Caused by: 0: …") and the source location after them; an operator wants
/// `outer: cause: root` and no location.
fn one_line(report: &str) -> String {
    let mut parts: Vec<&str> = vec![];
    for line in report.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("Location:") || line.starts_with("Backtrace") {
            break;
        }
        if line == "Caused by:" {
            continue;
        }
        let line = line
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches(':')
            .trim();
        if !line.is_empty() && parts.last() != Some(&line) {
            parts.push(line);
        }
    }
    parts.join(": ")
}

fn codec(e: impl std::fmt::Display) -> ClientError {
    ClientError::Codec(e.to_string())
}

/// A committed transaction's result.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// Upper-case hex hash.
    pub hash: String,
    /// The block height.
    pub height: u64,
    /// 0 on success.
    pub code: u32,
    /// The codespace of a failure.
    pub codespace: String,
    /// The log (the error text on failure).
    pub log: String,
    /// SDK gas used.
    pub gas_used: u64,
}

impl TxOutcome {
    /// Whether the transaction succeeded.
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

/// The attribute the chain puts first on every event a contract emits: its address. Contracts
/// cannot set it themselves (keys starting with `_` are reserved).
pub const CONTRACT_ADDRESS: &str = "_contract_address";

/// One contract event of a committed block: the contract that emitted it (the chain's
/// `_contract_address`, which no contract can forge) and the event as the contract emitted it —
/// its type without wasmd's `wasm-` prefix and its attributes without the reserved `_` ones —
/// ready for [`usage_common::events::TypedEvent::from_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractEvent {
    /// The emitting contract's address.
    pub contract: String,
    /// The event.
    pub event: cosmwasm_std::Event,
}

impl ContractEvent {
    /// The contract event in an ABCI event of type `kind` (`wasm` or `wasm-<type>`) with
    /// `attributes`; `None` for an event no contract emitted (the SDK's `message`, `tx`, …).
    pub fn from_abci(kind: &str, attributes: &[(String, String)]) -> Option<Self> {
        let ty = match kind {
            "wasm" => "wasm",
            k => k.strip_prefix("wasm-")?,
        };
        let contract = attributes
            .iter()
            .find(|(k, _)| k == CONTRACT_ADDRESS)?
            .1
            .clone();
        let mut event = cosmwasm_std::Event::new(ty);
        event.attributes = attributes
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(key, value)| cosmwasm_std::Attribute::new(key.clone(), value.clone()))
            .collect();
        Some(ContractEvent { contract, event })
    }

    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.event
            .attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }

    /// The event as `E` if `contract` emitted it and it is an `E`.
    pub fn typed_from<E: usage_common::events::TypedEvent>(&self, contract: &str) -> Option<E> {
        if self.contract != contract {
            return None;
        }
        E::from_event(&self.event).ok()
    }
}

/// The contract events of the successful transactions of one block.
#[derive(Debug, Clone)]
pub struct BlockEvents {
    /// The height.
    pub height: u64,
    /// Block time, Unix seconds.
    pub time: u64,
    /// Block time, Unix milliseconds.
    pub time_ms: u64,
    /// Contract events of successful transactions, in order.
    pub events: Vec<ContractEvent>,
}

/// The gas limit a simulated transaction is signed with (the node's most per transaction).
const SIMULATION_GAS: u64 = 90_000_000;

#[derive(Clone, Copy)]
struct Account {
    number: u64,
    sequence: u64,
}

/// A client of one chain, optionally with the key of one account.
pub struct ChainClient {
    rpc: HttpClient,
    chain_id: String,
    key: Option<SigningKey>,
    address: Option<String>,
    account: Mutex<Option<Account>>,
}

impl std::fmt::Debug for ChainClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainClient")
            .field("chain_id", &self.chain_id)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl ChainClient {
    /// A read-only client of the node at `rpc_url` (e.g. `http://127.0.0.1:26657`).
    pub fn new(rpc_url: &str, chain_id: &str) -> Result<Self, ClientError> {
        Ok(ChainClient {
            rpc: HttpClient::new(rpc_url).map_err(rpc)?,
            chain_id: chain_id.to_string(),
            key: None,
            address: None,
            account: Mutex::new(None),
        })
    }

    /// The same client signing with the secp256k1 secret key `secret`.
    pub fn with_key(mut self, secret: &[u8]) -> Result<Self, ClientError> {
        let key = SigningKey::from_slice(secret).map_err(codec)?;
        let address = key
            .public_key()
            .account_id(PREFIX)
            .map_err(codec)?
            .to_string();
        self.address = Some(address);
        self.key = Some(key);
        Ok(self)
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The signing account's address, if the client has a key.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// The underlying RPC client.
    pub fn rpc(&self) -> &HttpClient {
        &self.rpc
    }

    /// Latest committed height and its block time (Unix seconds).
    pub async fn status(&self) -> Result<(u64, u64), ClientError> {
        let s = self.rpc.status().await.map_err(rpc)?;
        let time = u64::try_from(s.sync_info.latest_block_time.unix_timestamp()).unwrap_or(0);
        Ok((s.sync_info.latest_block_height.value(), time))
    }

    async fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<Vec<u8>, ClientError> {
        let q = self
            .rpc
            .abci_query(Some(path.to_string()), data, None, false)
            .await
            .map_err(rpc)?;
        if q.code.is_err() {
            return Err(ClientError::Query {
                codespace: q.codespace,
                code: q.code.value(),
                log: q.log,
            });
        }
        Ok(q.value)
    }

    /// A smart query of `contract`, JSON in and out.
    pub async fn smart<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &str,
        query: &Q,
    ) -> Result<R, ClientError> {
        let request = wasmv1::QuerySmartContractStateRequest {
            address: contract.to_string(),
            query_data: serde_json::to_vec(query).map_err(codec)?,
        };
        let value = self
            .abci_query(
                "/cosmwasm.wasm.v1.Query/SmartContractState",
                request.encode_to_vec(),
            )
            .await?;
        let data = wasmv1::QuerySmartContractStateResponse::decode(value.as_slice())
            .map_err(codec)?
            .data;
        serde_json::from_slice(&data).map_err(codec)
    }

    /// The signing account's number and next sequence, as the chain has them now.
    pub async fn account_numbers(&self) -> Result<(u64, u64), ClientError> {
        let a = self.load_account().await?;
        Ok((a.number, a.sequence))
    }

    async fn load_account(&self) -> Result<Account, ClientError> {
        let address = self.address.clone().ok_or(ClientError::NoKey)?;
        let value = self
            .abci_query(
                "/cosmos.auth.v1beta1.Query/Account",
                QueryAccountRequest { address }.encode_to_vec(),
            )
            .await?;
        let any = QueryAccountResponse::decode(value.as_slice())
            .map_err(codec)?
            .account
            .ok_or_else(|| codec("account response without an account"))?;
        let base = BaseAccount::decode(any.value.as_slice()).map_err(codec)?;
        Ok(Account {
            number: base.account_number,
            sequence: base.sequence,
        })
    }

    fn sign(
        &self,
        msgs: &[(String, Vec<u8>)],
        account: &Account,
        gas_limit: u64,
    ) -> Result<Vec<u8>, ClientError> {
        let key = self.key.as_ref().ok_or(ClientError::NoKey)?;
        let signer = crate::tx::Signer {
            key,
            chain_id: &self.chain_id,
            account_number: account.number,
            sequence: account.sequence,
        };
        crate::tx::sign_execute(signer, msgs, gas_limit)
    }

    /// Signs one transaction executing `msgs` (contract address, JSON message) in order and
    /// broadcasts it (`broadcast_tx_sync`). The account sequence is tracked locally; when the
    /// node reports a wrong sequence it is reloaded once and the transaction signed again.
    /// Returns the tx hash once CheckTx accepted it.
    pub async fn broadcast(
        &self,
        msgs: &[(String, Vec<u8>)],
        gas_limit: u64,
    ) -> Result<String, ClientError> {
        let mut account = self.account.lock().await;
        for attempt in 0..2 {
            if account.is_none() {
                *account = Some(self.load_account().await?);
            }
            let Some(acc) = account.as_mut() else {
                return Err(ClientError::NoKey);
            };
            let tx = self.sign(msgs, acc, gas_limit)?;
            let res = self.rpc.broadcast_tx_sync(tx).await.map_err(rpc)?;
            if res.code.is_ok() {
                acc.sequence = acc.sequence.saturating_add(1);
                return Ok(res.hash.to_string());
            }
            if res.code.value() == SDK_WRONG_SEQUENCE && attempt == 0 {
                tracing::info!(log = %res.log, "account sequence out of step; reloading it");
                *account = None;
                continue;
            }
            return Err(ClientError::CheckTx {
                codespace: res.codespace,
                code: res.code.value(),
                log: res.log,
            });
        }
        Err(ClientError::Rpc("sequence retry exhausted".into()))
    }

    /// The gas a transaction executing `msgs` would use now: the node runs it without
    /// committing (`/cosmos.tx.v1beta1.Service/Simulate`, signed with the next sequence).
    pub async fn simulate(&self, msgs: &[(String, Vec<u8>)]) -> Result<u64, ClientError> {
        let account = {
            let mut account = self.account.lock().await;
            if account.is_none() {
                *account = Some(self.load_account().await?);
            }
            account.ok_or(ClientError::NoKey)?
        };
        let tx = self.sign(msgs, &account, SIMULATION_GAS)?;
        #[allow(deprecated)]
        let request = cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateRequest {
            tx: None,
            tx_bytes: tx,
        };
        let value = self
            .abci_query(
                "/cosmos.tx.v1beta1.Service/Simulate",
                request.encode_to_vec(),
            )
            .await?;
        let response =
            cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateResponse::decode(value.as_slice())
                .map_err(codec)?;
        Ok(response.gas_info.map_or(0, |g| g.gas_used))
    }

    /// Executes many messages: broadcasts them in transactions of at most `per_tx` messages
    /// (every transaction before the first is awaited, with consecutive sequences), then waits
    /// for each in turn and calls `on_committed(messages done, outcome)` after it. Returns the
    /// outcomes in order; a refused transaction is an outcome, not an error.
    pub async fn execute_in_chunks(
        &self,
        msgs: &[(String, Vec<u8>)],
        per_tx: usize,
        gas_limit: u64,
        wait: Duration,
        mut on_committed: impl FnMut(usize, &TxOutcome),
    ) -> Result<Vec<TxOutcome>, ClientError> {
        let mut sent = vec![];
        for chunk in msgs.chunks(per_tx.max(1)) {
            sent.push((chunk.len(), self.broadcast(chunk, gas_limit).await?));
        }
        let mut done = 0;
        let mut outcomes = Vec::with_capacity(sent.len());
        for (n, hash) in sent {
            let out = self.wait_tx(&hash, wait).await?;
            done += n;
            on_committed(done, &out);
            outcomes.push(out);
        }
        Ok(outcomes)
    }

    /// Waits (polling every 200 ms, at most `timeout`) until the tx `hash` is in a block.
    pub async fn wait_tx(&self, hash: &str, timeout: Duration) -> Result<TxOutcome, ClientError> {
        let parsed: cosmrs::tendermint::Hash = hash.parse().map_err(codec)?;
        let started = tokio::time::Instant::now();
        loop {
            if let Ok(r) = self.rpc.tx(parsed, false).await {
                return Ok(TxOutcome {
                    hash: hash.to_string(),
                    height: r.height.value(),
                    code: r.tx_result.code.value(),
                    codespace: r.tx_result.codespace,
                    log: r.tx_result.log,
                    gas_used: u64::try_from(r.tx_result.gas_used).unwrap_or(0),
                });
            }
            if started.elapsed() >= timeout {
                return Err(ClientError::NotCommitted {
                    hash: hash.to_string(),
                    waited_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// [`ChainClient::broadcast`] one execution of `contract` and wait for its block.
    pub async fn execute<M: Serialize>(
        &self,
        contract: &str,
        msg: &M,
        gas_limit: u64,
        timeout: Duration,
    ) -> Result<TxOutcome, ClientError> {
        let json = serde_json::to_vec(msg).map_err(codec)?;
        let hash = self
            .broadcast(&[(contract.to_string(), json)], gas_limit)
            .await?;
        self.wait_tx(&hash, timeout).await
    }

    /// The events of the successful transactions of the block at `height`.
    pub async fn block_events(&self, height: u64) -> Result<BlockEvents, ClientError> {
        let h: cosmrs::tendermint::block::Height = height.try_into().map_err(codec)?;
        let block = self.rpc.block(h).await.map_err(rpc)?;
        let nanos = block.block.header.time.unix_timestamp_nanos();
        let time = u64::try_from(nanos / 1_000_000_000).unwrap_or(0);
        let time_ms = u64::try_from(nanos / 1_000_000).unwrap_or(0);
        // CometBFT reports a height before it has stored that block's results: a moment later
        // they are there.
        let mut tries = 0;
        let results = loop {
            match self.rpc.block_results(h).await {
                Ok(r) => break r,
                Err(e) if tries < 40 && e.to_string().contains("could not find results") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(rpc(e)),
            }
        };
        let mut events = vec![];
        for tx in results.txs_results.unwrap_or_default() {
            if tx.code.is_err() {
                continue;
            }
            for e in tx.events {
                let attributes: Vec<(String, String)> = e
                    .attributes
                    .iter()
                    .map(|a| {
                        (
                            a.key_str().unwrap_or_default().to_string(),
                            a.value_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                events.extend(ContractEvent::from_abci(&e.kind, &attributes));
            }
        }
        Ok(BlockEvents {
            height,
            time,
            time_ms,
            events,
        })
    }

    /// Every `wasm-<event_type>` event that `contract` emitted in a successful transaction
    /// above `after_height`, found with `tx_search` (oldest first), each with its height and the
    /// transaction's bytes.
    pub async fn search_events(
        &self,
        event_type: &str,
        contract: &str,
        after_height: u64,
    ) -> Result<Vec<FoundEvent>, ClientError> {
        use tendermint_rpc::query::Query;
        // No `tm.event`: the tx indexer knows only the transactions' own events.
        let query = Query::default().and_gt("tx.height", after_height).and_eq(
            format!("wasm-{event_type}._contract_address"),
            contract.to_string(),
        );
        let mut out = vec![];
        let per_page: u8 = 100;
        for page in 1u32.. {
            let r = self
                .rpc
                .tx_search(
                    query.clone(),
                    false,
                    page,
                    per_page,
                    tendermint_rpc::Order::Ascending,
                )
                .await
                .map_err(rpc)?;
            let n = r.txs.len();
            for tx in r.txs {
                if tx.tx_result.code.is_err() {
                    continue;
                }
                for e in &tx.tx_result.events {
                    let attributes: Vec<(String, String)> = e
                        .attributes
                        .iter()
                        .map(|a| {
                            (
                                a.key_str().unwrap_or_default().to_string(),
                                a.value_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect();
                    if let Some(ce) = ContractEvent::from_abci(&e.kind, &attributes) {
                        if ce.contract == contract && ce.event.ty == event_type {
                            out.push(FoundEvent {
                                height: tx.height.value(),
                                event: ce,
                                tx: tx.tx.clone(),
                            });
                        }
                    }
                }
            }
            if n < usize::from(per_page)
                || (page as usize) * usize::from(per_page) >= r.total_count as usize
            {
                break;
            }
        }
        Ok(out)
    }
}

/// A contract event found by [`ChainClient::search_events`].
#[derive(Debug, Clone)]
pub struct FoundEvent {
    /// The block height.
    pub height: u64,
    /// The event.
    pub event: ContractEvent,
    /// The transaction that emitted it (protobuf `TxRaw`).
    pub tx: Vec<u8>,
}

impl FoundEvent {
    /// The JSON messages of the `MsgExecuteContract`s to `contract` in the transaction.
    pub fn executed_msgs(&self, contract: &str) -> Vec<serde_json::Value> {
        let Ok(tx) = cosmrs::Tx::from_bytes(&self.tx) else {
            return vec![];
        };
        tx.body
            .messages
            .iter()
            .filter_map(|any| {
                let m = wasmv1::MsgExecuteContract::decode(any.value.as_slice()).ok()?;
                (m.contract == contract).then_some(())?;
                serde_json::from_slice(&m.msg).ok()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_contract_event_carries_its_emitter_and_the_contract_s_own_attributes() {
        let e = ContractEvent::from_abci(
            "wasm-usage_proof",
            &attrs(&[("_contract_address", "usage1c1"), ("terminal_id", "t1")]),
        )
        .unwrap();
        assert_eq!(e.contract, "usage1c1");
        assert_eq!(e.event.ty, "usage_proof");
        assert_eq!(e.get("terminal_id"), Some("t1"));
        assert_eq!(e.get("_contract_address"), None);
        let plain = ContractEvent::from_abci("wasm", &attrs(&[("_contract_address", "usage1c1")]));
        assert_eq!(plain.unwrap().event.ty, "wasm");
    }

    #[test]
    fn an_error_report_with_causes_and_a_location_becomes_one_line() {
        let report = "HTTP error\n\nCaused by:\n    0: error trying to connect\n    1: tcp connect error: Connection refused (os error 111)\n\nLocation:\n    /src/http.rs:12:5";
        assert_eq!(
            one_line(report),
            "HTTP error: error trying to connect: tcp connect error: Connection refused (os error 111)"
        );
    }

    #[tokio::test]
    async fn an_unreachable_node_is_one_line_naming_the_cause() {
        let client = ChainClient::new("http://127.0.0.1:9", "c").unwrap();
        let err = client.status().await.unwrap_err().to_string();
        assert!(err.starts_with("rpc: "), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn an_event_no_contract_emitted_is_not_a_contract_event() {
        assert_eq!(
            ContractEvent::from_abci("wasm-usage_proof", &attrs(&[("terminal_id", "t1")])),
            None,
            "without the chain's contract address"
        );
        assert_eq!(
            ContractEvent::from_abci("message", &attrs(&[("_contract_address", "usage1c1")])),
            None,
            "an SDK event"
        );
    }
}
