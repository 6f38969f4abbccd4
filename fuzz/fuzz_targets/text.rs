//! Sniffing, decoding and every text parser on any bytes.
#![no_main]
use bitsdoctor::ingest::decode::decode;
use bitsdoctor::ingest::sniff::sniff;
use bitsdoctor::parse::{self, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = decode(data);
    let head: String = decoded.text.chars().take(8192).collect();
    let _ = sniff(data, Some(&head));
    let src = Source {
        path: "fuzz.txt",
        host: "fuzz",
    };
    let t = &decoded.text;
    let _ = parse::bitsadmin::parse(t, &src);
    let _ = parse::powershell::parse(t, &src);
    let _ = parse::sc::parse(t, &src);
    let _ = parse::reg::parse(t, &src);
    let _ = parse::netsh::parse(t, &src);
    let _ = parse::wulog::parse(t, &src);
});
