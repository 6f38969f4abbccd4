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

// ---- Terminal safety -------------------------------------------------------------------

/// A job name carrying OSC 52 (clipboard write), a screen clear, BEL, CR, C1 CSI and RLO.
const HOSTILE_NAME: &str = "Update\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\rnot me\u{9b}31m\u{202e}gpj.exe";

/// Any character a terminal acts on, other than the line feeds between report lines.
fn raw_controls(s: &str) -> Vec<(usize, char)> {
    s.char_indices()
        .filter(|&(_, c)| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
        })
        .collect()
}

/// The sample host's files with the bitsadmin capture's job name, URL and folder name hostile.
fn hostile_host(dir: &Path) -> PathBuf {
    let host = copy_host(dir);
    let capture = std::fs::read_to_string(host.join("bitsadmin.txt")).unwrap();
    let capture = capture
        .replace("DISPLAY: 'Windows Update'", &format!("DISPLAY: '{HOSTILE_NAME}'"))
        .replace(
            "http://download.windowsupdate.com/c/",
            "http://download.windowsupdate.com/\u{1b}[2J\u{202e}/",
        );
    assert!(capture.contains(HOSTILE_NAME));
    let evil = dir.join("WS-\u{1b}]0;pwned\u{7}\u{202e}01");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::write(evil.join("bitsadmin.txt"), &capture).unwrap();
    std::fs::write(host.join("bitsadmin.txt"), capture).unwrap();
    dir.to_path_buf()
}

#[test]
fn a_hostile_job_name_url_and_folder_reach_the_text_report_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_host(dir.path());
    let out = bitsdoctor().arg("analyze").arg(&root).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(raw_controls(&text).is_empty(), "{:?}", raw_controls(&text));
    assert!(
        text.contains("Update\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x0dnot me\\u009b31m\\u202egpj.exe"),
        "{text}"
    );
    assert!(text.contains("WS-\\x1b]0;pwned\\x07\\u202e01"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(raw_controls(&err).is_empty(), "{err:?}");
}

#[test]
fn a_hostile_job_name_is_escaped_in_html_and_csv_too() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_host(dir.path());
    let out = tempfile::tempdir().unwrap();
    bitsdoctor()
        .arg("analyze")
        .arg(&root)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(predicates::ord::lt(2));
    for name in ["report.html", "jobs.csv", "events.csv", "diagnoses.csv"] {
        let body = std::fs::read_to_string(out.path().join(name)).unwrap();
        assert!(!body.contains('\u{202e}'), "{name} holds a raw RLO");
        if name.ends_with(".html") {
            assert!(!body.contains('\u{1b}'), "{name} holds a raw ESC");
        }
    }
    let jobs = std::fs::read_to_string(out.path().join("jobs.csv")).unwrap();
    assert!(jobs.contains("\\u202egpj.exe"), "{jobs}");
}

#[test]
fn explain_echoes_a_hostile_argument_escaped() {
    let out = bitsdoctor()
        .args(["explain", "\u{1b}]52;c;ZXZpbA==\u{7}\u{202e}0x80200013"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(raw_controls(&err).is_empty(), "{err:?}");
    assert!(err.contains("\\x1b]52;c;ZXZpbA==\\x07\\u202e"), "{err}");
}
