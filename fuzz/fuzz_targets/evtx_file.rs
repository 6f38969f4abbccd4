//! Whole evtx files through the fast reader (and its fallback), then the full reader.
#![no_main]
use bitsdoctor::parse::evtx::{parse, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, "fuzz.evtx", Reader::Fast);
    let _ = parse(data, "fuzz.evtx", Reader::Full);
});
