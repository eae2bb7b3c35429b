//! Errors as gRPC-gateway v1 writes them for the SDK (`DefaultHTTPProtoErrorHandler`): the body is
//! the `google.rpc.Status` `{"code", "message", "details": []}` and the HTTP status follows from
//! the gRPC code (`runtime.HTTPStatusFromCode`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// gRPC status codes (google.golang.org/grpc/codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// The HTTP status grpc-gateway v1 answers a status of this code with. FailedPrecondition is
    /// 400, not 412: the gateway maps it so on purpose.
    pub fn http_status(self) -> StatusCode {
        match self {
            Code::Cancelled => StatusCode::REQUEST_TIMEOUT,
            Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A refused request: a gRPC code and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GatewayError {
    pub code: Code,
    pub message: String,
    /// Set only where no gRPC code has the right HTTP status (a body over the limit: 413).
    pub status: Option<StatusCode>,
}

impl GatewayError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        GatewayError {
            code,
            message: message.into(),
            status: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    /// What the gateway answers for a path (or method) it has no route for.
    pub fn not_implemented() -> Self {
        Self::new(Code::Unimplemented, "Not Implemented")
    }

    /// A request body longer than `limit` bytes.
    pub fn body_too_large(limit: usize) -> Self {
        GatewayError {
            code: Code::ResourceExhausted,
            message: format!("request body larger than {limit} bytes"),
            status: Some(StatusCode::PAYLOAD_TOO_LARGE),
        }
    }

    /// The failure of an ABCI query the application refused (`code` != 0), as the SDK's gRPC
    /// server reports the registered error: a malformed request is InvalidArgument, something
    /// absent NotFound, a path the application does not serve Unimplemented.
    pub fn from_abci(codespace: &str, code: u32, log: &str) -> Self {
        let grpc = match (codespace, code) {
            ("sdk", 6) if log.starts_with("unknown query path") => Code::Unimplemented,
            // ErrKeyNotFound, ErrNotFound; wasm's ErrNotFound and ErrNoSuchContractFn.
            ("sdk", 22 | 38) | ("wasm", 8 | 22) => Code::NotFound,
            ("sdk", 1) => Code::Internal,
            ("sdk", 4 | 8) => Code::PermissionDenied,
            // Decoding, addresses, sequences, heights, sizes, gas: all about the request. A
            // contract that refuses a query (wasm 9) or fails on it is answered the same way.
            ("sdk", _) | ("wasm", _) => Code::InvalidArgument,
            _ => Code::Unknown,
        };
        Self::new(grpc, log)
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| self.code.http_status());
        // A path the endpoint does not serve is the client's business, not the operator's.
        if status.is_server_error() && self.code != Code::Unimplemented {
            tracing::warn!(status = status.as_u16(), message = %self.message, "REST request failed");
        } else {
            tracing::debug!(status = status.as_u16(), message = %self.message, "REST request refused");
        }
        let body = json!({"code": self.code as i32, "message": self.message, "details": []});
        crate::json_response(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_codes_map_to_the_gateways_http_statuses() {
        assert_eq!(Code::NotFound.http_status(), StatusCode::NOT_FOUND);
        assert_eq!(Code::InvalidArgument.http_status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            Code::FailedPrecondition.http_status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            Code::Unimplemented.http_status(),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            Code::Internal.http_status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            Code::Unknown.http_status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            Code::Unavailable.http_status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            Code::DeadlineExceeded.http_status(),
            StatusCode::GATEWAY_TIMEOUT
        );
    }

    #[test]
    fn abci_failures_map_to_grpc_codes_by_codespace_and_code() {
        assert_eq!(
            GatewayError::from_abci("sdk", 7, "invalid address").code,
            Code::InvalidArgument
        );
        assert_eq!(
            GatewayError::from_abci("wasm", 8, "no such contract").code,
            Code::NotFound
        );
        assert_eq!(
            GatewayError::from_abci("sdk", 6, "unknown query path /x").code,
            Code::Unimplemented
        );
        assert_eq!(GatewayError::from_abci("other", 3, "?").code, Code::Unknown);
    }
}
