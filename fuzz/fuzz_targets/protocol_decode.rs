#![no_main]

use libfuzzer_sys::fuzz_target;

// Each target uses one function of the shared harness.
#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::protocol_decode(data));
