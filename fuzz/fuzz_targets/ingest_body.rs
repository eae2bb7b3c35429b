#![no_main]
//! See `usagechain_fuzz::ingest_body`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::ingest_body(data));
