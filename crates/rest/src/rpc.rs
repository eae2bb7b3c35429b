//! The node's CometBFT RPC (JSON-RPC 2.0 over HTTP POST), the only source the REST server reads:
//! app state through `abci_query` at the gRPC method paths (as CosmJS asks), blocks, transactions
//! and validators from CometBFT itself. Every call has a deadline; answers are bounded in size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::error::{Code, GatewayError};

/// Largest RPC answer read (a page of 100 transactions of 1 MiB each, base64 and JSON around).
const MAX_ANSWER_BYTES: usize = 256 << 20;

/// A failed RPC call.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Nothing answered at the RPC address (the node is down or starting).
    #[error("the node's RPC at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the node's RPC did not answer within {0:?}")]
    Timeout(Duration),
    /// The node answered with a JSON-RPC error; `data` holds CometBFT's reason.
    #[error("{message}: {data}")]
    Node {
        code: i64,
        message: String,
        data: String,
    },
    #[error("unexpected answer from the node's RPC: {0}")]
    Malformed(String),
}

impl RpcError {
    /// CometBFT's reason, for the errors it answers with (`tx (…) not found`, heights out of range).
    pub fn node_reason(&self) -> Option<&str> {
        match self {
            RpcError::Node { data, message, .. } => {
                Some(if data.is_empty() { message } else { data })
            }
            _ => None,
        }
    }
}

impl From<RpcError> for GatewayError {
    fn from(e: RpcError) -> Self {
        let code = match &e {
            RpcError::Unreachable { .. } => Code::Unavailable,
            RpcError::Timeout(_) => Code::DeadlineExceeded,
            RpcError::Node { .. } => match e.node_reason() {
                Some(r) if r.contains("not found") || r.contains("is not available") => {
                    Code::NotFound
                }
                Some(r) if r.contains("must be") || r.contains("should be") => {
                    Code::InvalidArgument
                }
                _ => Code::Internal,
            },
            RpcError::Malformed(_) => Code::Internal,
        };
        let message = match &e {
            RpcError::Node { .. } => e.node_reason().unwrap_or_default().to_string(),
            _ => e.to_string(),
        };
        GatewayError::new(code, message)
    }
}

/// The answer of an ABCI query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbciAnswer {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub value: Vec<u8>,
    pub height: i64,
}

impl AbciAnswer {
    /// The value of an answer with code 0, else the refusal as the gateway reports it.
    pub fn into_value(self) -> Result<Vec<u8>, GatewayError> {
        if self.code == 0 {
            Ok(self.value)
        } else {
            Err(GatewayError::from_abci(
                &self.codespace,
                self.code,
                &self.log,
            ))
        }
    }
}

/// How `broadcast_tx_*` waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// After CheckTx.
    Sync,
    /// Without waiting for CheckTx.
    Async,
}

/// A JSON-RPC client of one CometBFT node.
#[derive(Debug)]
pub struct Rpc {
    http: reqwest::Client,
    url: String,
    timeout: Duration,
    next_id: AtomicU64,
}

impl Rpc {
    /// A client of the RPC at `url` (`http://127.0.0.1:26657`) whose calls each end after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Rpc, reqwest::Error> {
        let http = reqwest::Client::builder()
            // The node's own RPC: never through a proxy from the environment.
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()?;
        Ok(Rpc {
            http,
            url: url.trim_end_matches('/').to_string(),
            timeout,
            next_id: AtomicU64::new(1),
        })
    }

    /// The `result` of `method` called with named `params`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let map = |e: reqwest::Error| {
            if e.is_timeout() {
                RpcError::Timeout(self.timeout)
            } else if e.is_body() || e.is_decode() {
                RpcError::Malformed(e.to_string())
            } else {
                // Refused or dropped connections: the node is down or restarting.
                RpcError::Unreachable {
                    url: self.url.clone(),
                    reason: e.to_string(),
                }
            }
        };
        let mut response = self
            .http
            .post(&self.url)
            .json(&request)
            .send()
            .await
            .map_err(map)?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(RpcError::Malformed(format!(
                    "{method} answered more than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer: Value = serde_json::from_slice(&body).map_err(|e| {
            RpcError::Malformed(format!("{method} (HTTP {}): {e}", response.status()))
        })?;
        if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
            return Err(RpcError::Node {
                code: error["code"].as_i64().unwrap_or_default(),
                message: error["message"].as_str().unwrap_or_default().to_string(),
                data: error["data"].as_str().unwrap_or_default().to_string(),
            });
        }
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(RpcError::Malformed(format!("{method}: no result"))),
        }
    }

    /// `abci_query` of `path` with the protobuf request `data`, at `height` (0: the latest).
    pub async fn abci_query(
        &self,
        path: &str,
        data: &[u8],
        height: i64,
    ) -> Result<AbciAnswer, RpcError> {
        let result = self
            .call(
                "abci_query",
                json!({"path": path, "data": hex::encode(data), "height": height.to_string(), "prove": false}),
            )
            .await?;
        let r = &result["response"];
        let value = match r["value"].as_str() {
            Some(v) => B64
                .decode(v)
                .map_err(|e| RpcError::Malformed(format!("abci_query value: {e}")))?,
            None => vec![],
        };
        Ok(AbciAnswer {
            code: r["code"]
                .as_u64()
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or_default(),
            codespace: r["codespace"].as_str().unwrap_or_default().to_string(),
            log: r["log"].as_str().unwrap_or_default().to_string(),
            value,
            height: int(&r["height"]).unwrap_or_default(),
        })
    }

    /// The answer of a query at the gRPC method `path` (`/cosmos.auth.v1beta1.Query/Account`).
    pub async fn query<M: prost::Message + Default>(
        &self,
        path: &str,
        request: &impl prost::Message,
        height: i64,
    ) -> Result<M, GatewayError> {
        let value = self
            .abci_query(path, &request.encode_to_vec(), height)
            .await?
            .into_value()?;
        M::decode(value.as_slice()).map_err(|e| {
            GatewayError::internal(format!("the answer of {path} does not decode: {e}"))
        })
    }

    pub async fn status(&self) -> Result<Value, RpcError> {
        self.call("status", json!({})).await
    }

    /// The block at `height`, or the latest.
    pub async fn block(&self, height: Option<i64>) -> Result<Value, RpcError> {
        let params = match height {
            Some(h) => json!({"height": h.to_string()}),
            None => json!({}),
        };
        self.call("block", params).await
    }

    /// The header of the block at `height`.
    pub async fn header(&self, height: i64) -> Result<Value, RpcError> {
        self.call("header", json!({"height": height.to_string()}))
            .await
    }

    /// The transaction of `hash` with its result.
    pub async fn tx(&self, hash: &[u8]) -> Result<Value, RpcError> {
        self.call("tx", json!({"hash": B64.encode(hash), "prove": false}))
            .await
    }

    /// Page `page` (from 1) of `per_page` transactions matching `query`, in `order` ("asc",
    /// "desc" or "" for CometBFT's default).
    pub async fn tx_search(
        &self,
        query: &str,
        page: u64,
        per_page: u64,
        order: &str,
    ) -> Result<Value, RpcError> {
        let mut params = json!({
            "query": query, "prove": false,
            "page": page.to_string(), "per_page": per_page.to_string(),
        });
        if !order.is_empty() {
            params["order_by"] = json!(order);
        }
        self.call("tx_search", params).await
    }

    /// Page `page` of the validator set at `height` (or the latest).
    pub async fn validators(
        &self,
        height: Option<i64>,
        page: u64,
        per_page: u64,
    ) -> Result<Value, RpcError> {
        let mut params = json!({"page": page.to_string(), "per_page": per_page.to_string()});
        if let Some(h) = height {
            params["height"] = json!(h.to_string());
        }
        self.call("validators", params).await
    }

    pub async fn broadcast(&self, mode: Broadcast, tx: &[u8]) -> Result<Value, RpcError> {
        let method = match mode {
            Broadcast::Sync => "broadcast_tx_sync",
            Broadcast::Async => "broadcast_tx_async",
        };
        self.call(method, json!({"tx": B64.encode(tx)})).await
    }
}

/// An integer CometBFT writes as a JSON string (int64) or a number.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}
