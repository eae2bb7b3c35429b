#![no_main]
//! See `usagechain_fuzz::contract_execute`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| usagechain_fuzz::contract_execute(data));
