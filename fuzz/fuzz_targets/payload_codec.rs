#![no_main]
//! See `usagechain_fuzz::payload_codec`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::payload_codec(data));
