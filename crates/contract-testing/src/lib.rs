//! Test stand-ins shared by the contracts' cw-multi-test suites, so a contract's suite can isolate
//! it from the contracts it queries. Never part of the product.

pub mod mock_usage_proof;
