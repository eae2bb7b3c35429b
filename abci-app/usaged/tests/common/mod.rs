//! The localnet these tests drive (real CometBFT + `usaged` on free loopback ports) and the
//! signing of their transactions come from usage-devtools; what is left here is theirs alone.
#![allow(dead_code, unused_imports)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::Value;

pub use usage_devtools::node::{http_get, percent_encode, Localnet};
pub use usage_devtools::wallet::{sign_execute, sign_executes};

/// The messages that register terminal `id` (software TEE, its own key) for `provider` and
/// lease it to `tenant` from the start of time.
pub fn register_and_lease(id: &str, provider: &str, key: [u8; 32]) -> Vec<Value> {
    vec![
        serde_json::json!({"register_terminal": {"terminal_id": id, "provider": provider,
            "attestor_key": cosmwasm_std::HexBinary::from(key), "tee": "software",
            "measurement": cosmwasm_std::HexBinary::from(usage_devtools::localnet::SOFTWARE_MEASUREMENT)}}),
        serde_json::json!({"open_lease": {"terminal_id": id, "provider": provider, "start": 0}}),
    ]
}
