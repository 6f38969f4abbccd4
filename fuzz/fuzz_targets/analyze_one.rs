//! The whole analyze of one input (written to a temporary file): sniff, parse, correlate,
//! diagnose and every report rendering.
#![no_main]
use bitsdoctor::app::{analyze, Config};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("bitsdoctor-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("WS01"));
    let path = dir.join("WS01").join("input");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let cfg = Config {
        paths: vec![dir.clone()],
        threads: 1,
        ..Config::default()
    };
    if let Ok(r) = analyze(&cfg, &Knowledge::builtin()) {
        let _ = report::text::render(&r);
        let _ = report::json::render(&r);
        let _ = report::html::render(&r);
        let _ = report::csv::jobs(&r);
        let _ = report::csv::diagnoses(&r);
        let _ = report::jsonl::render_head(&r);
    }
});
