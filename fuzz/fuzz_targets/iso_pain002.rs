#![no_main]
//! See `usagechain_fuzz::iso_pain002`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::iso_pain002(data));
