//! Zip bundles read in memory with the default limits.
#![no_main]
use bitsdoctor::ingest::zip::{entries_from_bytes, ZipLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = entries_from_bytes(data, "fuzz.zip", &ZipLimits::default());
});
