#![no_main]
//! See `usagechain_fuzz::sample_decode`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::sample_decode(data));
