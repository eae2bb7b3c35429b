#![no_main]
//! See `usagechain_fuzz::iso_camt054`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::iso_camt054(data));
