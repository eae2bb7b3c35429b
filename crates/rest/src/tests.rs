//! The gateway's rules that hold before the node is asked: routing, CORS, request validation,
//! body limits, and the answer when the node's RPC is down. The endpoint runs on a real socket;
//! its RPC address is a closed port, so anything that reaches the node answers 503.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use super::*;

/// The chain's transaction limit (usaged_auth::MAX_TX_BYTES).
const MAX_TX: usize = 1 << 20;

/// A well-formed bech32 address with `prefix`.
fn address(prefix: &str) -> String {
    bech32::encode::<bech32::Bech32>(bech32::Hrp::parse(prefix).unwrap(), &[7; 20]).unwrap()
}

/// An endpoint on a free port whose node is unreachable; its port.
async fn endpoint() -> u16 {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = Config::new(format!("http://127.0.0.1:{closed}"), MAX_TX);
    cfg.rpc_timeout = Duration::from_secs(2);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve(listener, cfg));
    port
}

async fn call(
    method: reqwest::Method,
    port: u16,
    path: &str,
    body: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().request(method, format!("http://127.0.0.1:{port}{path}"));
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, json)
}

async fn get(port: u16, path: &str) -> (u16, Value) {
    let (s, _, v) = call(reqwest::Method::GET, port, path, None).await;
    (s, v)
}

async fn post(port: u16, path: &str, body: &str) -> (u16, Value) {
    let (s, _, v) = call(reqwest::Method::POST, port, path, Some(body)).await;
    (s, v)
}

/// Writes `head` and then `body_len` bytes of `x` on a raw connection (from a thread, ignoring
/// a connection the server closes early) and returns the raw answer.
fn raw_request(port: u16, head: String, body_len: usize) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < body_len {
            let n = chunk.len().min(body_len - sent);
            if writer.write_all(&chunk[..n]).is_err() {
                break;
            }
            sent += n;
        }
    });
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let _ = sender.join();
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn an_unknown_path_or_method_answers_501_not_implemented() {
    let port = endpoint().await;
    let expected = json!({"code": 12, "message": "Not Implemented", "details": []});
    assert_eq!(
        get(port, "/cosmos/staking/v1beta1/validators").await,
        (501, expected.clone())
    );
    assert_eq!(get(port, "/").await, (501, expected.clone()));
    let (status, _, body) = call(
        reqwest::Method::DELETE,
        port,
        "/cosmos/tx/v1beta1/txs",
        None,
    )
    .await;
    assert_eq!((status, body), (501, expected.clone()));
    assert_eq!(
        post(port, "/cosmos/auth/v1beta1/accounts/x", "{}").await,
        (501, expected)
    );
}

#[tokio::test]
async fn every_answer_and_every_preflight_allows_any_origin() {
    let port = endpoint().await;
    let (status, headers, _) = call(
        reqwest::Method::OPTIONS,
        port,
        "/cosmos/tx/v1beta1/txs",
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET, POST, OPTIONS"
    );
    assert_eq!(headers["access-control-allow-headers"], "Content-Type");
    // Refusals carry it too, so a browser can read why.
    for path in ["/no/such/path", "/cosmos/auth/v1beta1/accounts/nope"] {
        let (_, headers, _) = call(reqwest::Method::GET, port, path, None).await;
        assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
        assert_eq!(headers["content-type"], "application/json", "{path}");
    }
}

#[tokio::test]
async fn bad_addresses_and_the_keplr_cosmwasm_probe_are_refused_with_400() {
    let port = endpoint().await;
    for path in [
        "/cosmos/auth/v1beta1/accounts/notanaddress".to_string(),
        // A valid address of another chain.
        format!("/cosmos/auth/v1beta1/accounts/{}", address("cosmos")),
        "/cosmos/bank/v1beta1/balances/usage1x".to_string(),
        "/cosmwasm/wasm/v1/contract/test".to_string(),
        // What Keplr asks to learn whether the chain runs CosmWasm: 400 means yes.
        "/cosmwasm/wasm/v1/contract/test/smart/test".to_string(),
        "/cosmwasm/wasm/v1/contract/test/raw/dGVzdA==".to_string(),
        // A valid address but a query that is not JSON.
        format!(
            "/cosmwasm/wasm/v1/contract/{}/smart/dGVzdA==",
            address("usage")
        ),
    ] {
        let (status, body) = get(port, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], 3, "{path}");
        assert_eq!(body["details"], json!([]), "{path}");
        assert!(!body["message"].as_str().unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn malformed_parameters_are_refused_with_400_before_the_node_is_asked() {
    let port = endpoint().await;
    for path in [
        "/cosmwasm/wasm/v1/code?pagination.key=AAAAAAAAAAM%3D&pagination.offset=1".to_string(),
        "/cosmwasm/wasm/v1/code?pagination.limit=many".to_string(),
        "/cosmwasm/wasm/v1/code?pagination.countTotal=perhaps".to_string(),
        "/cosmos/tx/v1beta1/txs".to_string(),
        "/cosmos/tx/v1beta1/txs?query=".to_string(),
        "/cosmos/tx/v1beta1/txs?events=no-equals-sign".to_string(),
        "/cosmos/tx/v1beta1/txs?query=x&order_by=SIDEWAYS".to_string(),
        "/cosmos/tx/v1beta1/txs/not-hex".to_string(),
        "/cosmos/base/tendermint/v1beta1/blocks/tall".to_string(),
        format!(
            "/cosmos/bank/v1beta1/balances/{}/by_denom?denom=",
            address("usage")
        ),
        // Percent-encoding that is not UTF-8.
        "/cosmos/auth/v1beta1/accounts/%FF%FE".to_string(),
    ] {
        let (status, body) = get(port, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], 3, "{path}");
    }
}

#[tokio::test]
async fn hostile_bodies_are_refused_and_the_endpoint_keeps_serving() {
    let port = endpoint().await;
    let limit = Config::new("http://x", MAX_TX).max_body_bytes();
    for body in [
        "not json",
        "[1, 2, 3]",
        "{\"tx_bytes\": 5}",
        "{\"tx_bytes\": \"%%%\", \"mode\": \"BROADCAST_MODE_SYNC\"}",
        "{\"mode\": \"BROADCAST_MODE_SYNC\"}",
        // Removed in v0.47: refused as the SDK refuses it.
        "{\"tx_bytes\": \"AAAA\", \"mode\": \"BROADCAST_MODE_BLOCK\"}",
        "{\"tx_bytes\": \"AAAA\"}",
    ] {
        let (status, answer) = post(port, "/cosmos/tx/v1beta1/txs", body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], 3, "{body}");
    }
    let deep = "[".repeat(100_000);
    assert_eq!(
        post(port, "/cosmos/tx/v1beta1/simulate", &deep).await.0,
        400
    );
    let (status, _) = post(
        port,
        "/cosmos/tx/v1beta1/simulate",
        "{\"tx\": {\"body\": {\"messages\": [{\"@type\": \"/cosmos.bank.v1beta1.MsgSend\"}]}}}",
    )
    .await;
    assert_eq!(status, 400);

    // Declared too large: refused before it is read.
    let head = format!(
        "POST /cosmos/tx/v1beta1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        limit + 1
    );
    let answer = tokio::task::spawn_blocking(move || raw_request(port, head, limit + 1))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":8"), "{answer}");
    // Streamed without a length: cut at the limit.
    let head = "POST /cosmos/tx/v1beta1/simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let chunk = 1 << 20;
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut w = s.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let _ = w.write_all(head.as_bytes());
            let data = vec![b' '; chunk];
            for _ in 0..(limit / chunk + 2) {
                if w.write_all(format!("{chunk:x}\r\n").as_bytes()).is_err()
                    || w.write_all(&data).is_err()
                    || w.write_all(b"\r\n").is_err()
                {
                    return;
                }
            }
            let _ = w.write_all(b"0\r\n\r\n");
        });
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let _ = sender.join();
        String::from_utf8_lossy(&raw).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Still serving.
    assert_eq!(get(port, "/no/such/path").await.0, 501);
    assert_eq!(
        get(port, "/cosmwasm/wasm/v1/contract/test/smart/test")
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn a_node_that_does_not_answer_is_503_unavailable() {
    let port = endpoint().await;
    for path in [
        "/cosmos/base/tendermint/v1beta1/node_info".to_string(),
        format!("/cosmos/auth/v1beta1/accounts/{}", address("usage")),
    ] {
        let (status, body) = get(port, &path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["code"], 14, "{path}");
    }
}

#[tokio::test]
async fn requests_beyond_the_in_flight_limit_are_refused_at_once() {
    // A node that accepts connections and never answers: every request stays in flight.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = Config::new(
        format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port()),
        MAX_TX,
    );
    cfg.rpc_timeout = Duration::from_secs(5);
    cfg.max_in_flight = 2;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve(listener, cfg));
    const PATH: &str = "/cosmos/base/tendermint/v1beta1/node_info";
    let held: Vec<_> = (0..2).map(|_| tokio::spawn(get(port, PATH))).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = get(port, PATH).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], 14);
    assert!(
        body["message"].as_str().unwrap().contains("in flight"),
        "{body}"
    );
    // The two held ones end with the node's timeout, not with the refusal.
    for h in held {
        let (status, body) = h.await.unwrap();
        assert_ne!(status, 503, "{body}");
    }
    drop(silent);
}
