#![no_main]
//! See `usagechain_fuzz::tx_decode`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::tx_decode(data));
