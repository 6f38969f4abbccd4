//! Hostile input (issue 13): crafted files next to the committed samples must never end the
//! run, never lose data silently, never reach the terminal raw and never write outside --out.
//! Every crafted input is built by the test from samples/ in a temporary folder.

use assert_cmd::Command;
use serde_json::Value;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

fn bitsdoctor() -> Command {
    Command::cargo_bin("bitsdoctor").unwrap()
}

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(rel)
}

const BITS_LOG: &str = "WS-FIN-01/Microsoft-Windows-Bits-Client%4Operational.evtx";

/// Copy every file of samples/WS-FIN-01 into `dir/WS-FIN-01`.
fn copy_host(dir: &Path) -> PathBuf {
    let host = dir.join("WS-FIN-01");
    std::fs::create_dir_all(&host).unwrap();
    for e in std::fs::read_dir(sample("WS-FIN-01")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), host.join(e.file_name())).unwrap();
    }
    host
}

fn put(bytes: &mut [u8], at: usize, v: &[u8]) {
    bytes[at..at + v.len()].copy_from_slice(v);
}

/// The template definition that used to end the run with a panic in the fast reader
/// (index 65536 of a 65536-byte chunk): a definition ending exactly at the chunk end with a
/// 0x05 (value) token as the chunk's last byte.
fn crash_reproducer() -> Vec<u8> {
    let mut b = std::fs::read(sample(BITS_LOG)).unwrap();
    put(&mut b, 4642, &0xFFE7u16.to_le_bytes());
    put(&mut b, 69627, &1u32.to_le_bytes());
    put(&mut b, 69631, &[0x05]);
    b
}

fn analyze_json(args: &[&Path]) -> (Value, i32) {
    let out = bitsdoctor()
        .arg("analyze")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), code)
}

fn input<'a>(report: &'a Value, suffix: &str) -> &'a Value {
    report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no input {suffix}: {:#}", report["inputs"]))
}

#[test]
fn crash_reproducer_next_to_samples_keeps_every_other_finding() {
    let dir = tempfile::tempdir().unwrap();
    let host = copy_host(dir.path());
    let (clean, _) = analyze_json(&[&host]);
    std::fs::write(
        host.join("Microsoft-Windows-Bits-Client%4Operational.evtx"),
        crash_reproducer(),
    )
    .unwrap();
    let (report, _) = analyze_json(&[&host]);
    // The other inputs are read exactly as before.
    for name in ["bitsadmin.txt", "System.evtx", "sc-qc-bits.txt"] {
        assert_eq!(
            input(&report, name)["observations"],
            input(&clean, name)["observations"],
            "{name}"
        );
    }
    let evtx = input(&report, "Operational.evtx");
    assert_ne!(evtx["status"], "skipped", "{evtx:#}");
    assert!(!report["diagnoses"].as_array().unwrap().is_empty());
}

#[test]
fn crash_reproducer_inside_a_zip_keeps_the_other_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("WS-FIN-01/bits.evtx", opts).unwrap();
    w.write_all(&crash_reproducer()).unwrap();
    w.start_file("WS-FIN-01/bitsadmin.txt", opts).unwrap();
    w.write_all(&std::fs::read(sample("WS-FIN-01/bitsadmin.txt")).unwrap())
        .unwrap();
    let zip = dir.path().join("case.zip");
    std::fs::write(&zip, w.finish().unwrap().into_inner()).unwrap();
    let (report, _) = analyze_json(&[&zip]);
    assert!(
        input(&report, "bitsadmin.txt")["observations"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_ne!(input(&report, "bits.evtx")["status"], "skipped");
}
