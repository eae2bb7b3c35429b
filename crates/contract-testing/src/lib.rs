//! Test support shared by the contracts' cw-multi-test suites and the cross-contract scenarios:
//! the capture of a contract's typed error, and stand-ins that isolate a contract from the ones
//! it queries. Never part of the product.

pub mod mock_usage_proof;
pub mod typed_error;

pub use typed_error::{capture, typed, typed_or};

/// What [`capturing_entry_points!`] names from the caller's side, whatever the caller depends on.
#[doc(hidden)]
pub mod __private {
    pub use cosmwasm_std;
    pub use cw_multi_test;
    pub use usage_common;
}
