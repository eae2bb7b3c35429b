//! The node's REST endpoint (the SDK's "LCD"): the paths Keplr, Ping.pub-style explorers and
//! REST clients such as cosmpy read, with the JSON and error bodies a Cosmos SDK v0.50 chain's
//! gRPC-gateway (wasmd 0.54) answers with.
//!
//! It holds no state and never touches the application's: every answer is read from the node's
//! CometBFT RPC — application queries through `abci_query` at their gRPC method paths (exactly as
//! CosmJS asks, so both see one answer), blocks, transactions and validators from CometBFT, and
//! transactions broadcast through it. A route the chain does not serve answers 501, as the
//! gateway does for a path it has no handler for. Every answer allows any origin (CORS), so a
//! browser dApp or explorer can read it.

pub mod error;
pub mod pagination;
pub mod params;
pub mod parse;
pub mod render;
pub mod rpc;

mod cosmos;
mod tendermint;
mod wasm;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Request};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, CONTENT_TYPE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use crate::error::GatewayError;
use crate::rpc::Rpc;

/// The SDK version whose REST API this endpoint presents, in `node_info`'s
/// `application_version.cosmos_sdk_version`: explorers choose the v0.50 forms by it (`query=`
/// rather than `events=` for a transaction search).
pub const COSMOS_SDK_API_VERSION: &str = "v0.50.0";

/// What the endpoint serves and where it reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// The node's CometBFT RPC (`http://127.0.0.1:26657`).
    pub rpc_url: String,
    /// How long one RPC call may take before the request fails (504).
    pub rpc_timeout: Duration,
    /// Bech32 prefix of account addresses (`usage`).
    pub account_prefix: String,
    /// Bech32 prefix of validator consensus addresses (`usagevalcons`).
    pub consensus_prefix: String,
    /// `application_version.name` and `.app_name` of `node_info`.
    pub name: String,
    pub app_name: String,
    pub version: String,
    pub git_commit: String,
    /// The largest transaction the chain accepts; request bodies may be its base64 and 1 MiB more.
    pub max_tx_bytes: usize,
    /// Requests answered at once; one more is refused at once (503). Each may hold an RPC answer
    /// of up to 256 MiB several times over while it is rendered: this bounds
    /// the memory clients can make the node's process use.
    pub max_in_flight: usize,
}

impl Config {
    /// This chain's prefixes, `usaged`'s names, and 10 s per RPC call.
    pub fn new(rpc_url: impl Into<String>, max_tx_bytes: usize) -> Config {
        Config {
            rpc_url: rpc_url.into(),
            rpc_timeout: Duration::from_secs(10),
            max_in_flight: 16,
            account_prefix: "usage".into(),
            consensus_prefix: "usagevalcons".into(),
            name: "usagechain".into(),
            app_name: "usaged".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: String::new(),
            max_tx_bytes,
        }
    }

    /// The largest request body read: a transaction's base64 with room for the JSON around it.
    pub fn max_body_bytes(&self) -> usize {
        self.max_tx_bytes
            .saturating_add(2)
            .saturating_div(3)
            .saturating_mul(4)
            .saturating_add(1 << 20)
    }
}

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub rpc: Rpc,
    pub cfg: Config,
}

impl Ctx {
    /// `address` if it is a bech32 account address of this chain (InvalidArgument otherwise, as
    /// the SDK's address codec refuses it).
    pub fn account_address(&self, address: &str) -> Result<(), GatewayError> {
        if address.is_empty() {
            return Err(GatewayError::invalid("empty address string is not allowed"));
        }
        let (hrp, data) = bech32::decode(address)
            .map_err(|e| GatewayError::invalid(format!("decoding bech32 failed: {e}")))?;
        if hrp.as_str() != self.cfg.account_prefix {
            return Err(GatewayError::invalid(format!(
                "invalid Bech32 prefix; expected {}, got {}",
                self.cfg.account_prefix,
                hrp.as_str()
            )));
        }
        if data.is_empty() || data.len() > 255 {
            return Err(GatewayError::invalid(format!(
                "address length must be 1 to 255 bytes, got {}",
                data.len()
            )));
        }
        Ok(())
    }

    /// A consensus address in bech32 (`usagevalcons1…`); hex if the prefix is unusable.
    pub fn consensus_address(&self, bytes: &[u8]) -> String {
        bech32::Hrp::parse(&self.cfg.consensus_prefix)
            .ok()
            .and_then(|hrp| bech32::encode::<bech32::Bech32>(hrp, bytes).ok())
            .unwrap_or_else(|| hex::encode_upper(bytes))
    }
}

/// Path parameters, refused as the gateway refuses them (a JSON InvalidArgument) when they do
/// not decode (percent-encoding that is not UTF-8, say).
pub(crate) struct PathParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(PathParams(t)),
            Err(e) => Err(GatewayError::invalid(e.body_text())),
        }
    }
}

/// The height a query asks for in the SDK's `x-cosmos-block-height` header (0: the latest).
pub(crate) fn query_height(headers: &HeaderMap) -> Result<i64, GatewayError> {
    match headers.get("x-cosmos-block-height") {
        None => Ok(0),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|h| *h >= 0)
            .ok_or_else(|| GatewayError::invalid("x-cosmos-block-height: not a height")),
    }
}

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(CONTENT_TYPE, "application/json")], bytes).into_response()
}

pub(crate) type Answer = Result<Response, GatewayError>;

pub(crate) fn ok(body: &Value) -> Answer {
    Ok(json_response(StatusCode::OK, body))
}

async fn not_implemented() -> GatewayError {
    GatewayError::not_implemented()
}

/// CORS as the SDK's API server with `enabled-unsafe-cors`: any origin on every answer, and
/// preflights answered here for every path.
async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type"),
        );
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        r
    } else {
        next.run(request).await
    };
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Answers the request if fewer than [`Config::max_in_flight`] are being answered, else 503.
async fn limit_in_flight(
    axum::extract::State(slots): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    match slots.try_acquire() {
        Ok(_slot) => next.run(request).await,
        Err(_) => GatewayError::new(
            error::Code::Unavailable,
            "too many requests in flight; retry later",
        )
        .into_response(),
    }
}

/// The endpoint's routes, reading the RPC of `cfg`.
pub fn router(cfg: Config) -> Result<Router, reqwest::Error> {
    let slots = Arc::new(tokio::sync::Semaphore::new(cfg.max_in_flight));
    let ctx = Arc::new(Ctx {
        rpc: Rpc::new(&cfg.rpc_url, cfg.rpc_timeout)?,
        cfg,
    });
    const TM: &str = "/cosmos/base/tendermint/v1beta1";
    Ok(Router::new()
        .route(
            "/cosmos/auth/v1beta1/accounts/{address}",
            get(cosmos::account),
        )
        .route(
            "/cosmos/bank/v1beta1/balances/{address}",
            get(cosmos::balances),
        )
        .route(
            "/cosmos/bank/v1beta1/balances/{address}/by_denom",
            get(cosmos::balance),
        )
        // No vesting on this chain: everything held is spendable (Keplr reads this path).
        .route(
            "/cosmos/bank/v1beta1/spendable_balances/{address}",
            get(cosmos::balances),
        )
        .route("/cosmos/tx/v1beta1/simulate", post(cosmos::simulate))
        .route(
            "/cosmos/tx/v1beta1/txs",
            post(cosmos::broadcast).get(cosmos::search),
        )
        .route("/cosmos/tx/v1beta1/txs/{hash}", get(cosmos::get_tx))
        .route(&format!("{TM}/node_info"), get(tendermint::node_info))
        .route(&format!("{TM}/syncing"), get(tendermint::syncing))
        .route(
            &format!("{TM}/blocks/latest"),
            get(tendermint::latest_block),
        )
        .route(
            &format!("{TM}/blocks/{{height}}"),
            get(tendermint::block_at),
        )
        .route(
            &format!("{TM}/validatorsets/latest"),
            get(tendermint::latest_validators),
        )
        .route(
            &format!("{TM}/validatorsets/{{height}}"),
            get(tendermint::validators),
        )
        .route(
            "/cosmos/consensus/v1/params",
            get(tendermint::consensus_params),
        )
        .route(
            "/cosmwasm/wasm/v1/contract/{address}",
            get(wasm::contract_info),
        )
        // Wildcards: a standard base64 key or query may hold `/`.
        .route(
            "/cosmwasm/wasm/v1/contract/{address}/raw/{*key}",
            get(wasm::raw),
        )
        .route(
            "/cosmwasm/wasm/v1/contract/{address}/smart/{*query}",
            get(wasm::smart),
        )
        .route("/cosmwasm/wasm/v1/code", get(wasm::codes))
        .fallback(not_implemented)
        .method_not_allowed_fallback(not_implemented)
        .layer(axum::middleware::from_fn_with_state(slots, limit_in_flight))
        .layer(axum::middleware::from_fn(cors))
        .with_state(ctx))
}

/// Serves the endpoint on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, cfg: Config) -> std::io::Result<()> {
    let app = router(cfg).map_err(std::io::Error::other)?;
    axum::serve(listener, app).await
}

/// Serves the endpoint on `listener` from a thread and single-threaded runtime of its own, so
/// that no client of it can hold up the node. The listener is bound by the caller (a taken
/// address fails the node's start); a failure after that is logged and leaves the node running.
pub fn spawn(listener: std::net::TcpListener, cfg: Config) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let app = router(cfg).map_err(std::io::Error::other)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("usaged-rest".into())
        .spawn(move || {
            let served: std::io::Result<()> = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, app).await
            });
            if let Err(e) = served {
                tracing::error!(%e, "the REST server stopped");
            }
        })?;
    Ok(())
}
