//! `analyze` end to end: the report set written by --out, exit codes, zip bundles with hostile
//! entries, time windows. Runs on the committed samples/ bundle.

use assert_cmd::Command;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn bitsdoctor() -> Command {
    Command::cargo_bin("bitsdoctor").unwrap()
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

const SET: [&str; 6] = [
    "report.json",
    "diagnoses.csv",
    "jobs.csv",
    "updates.csv",
    "events.csv",
    "report.html",
];

#[test]
fn out_writes_the_whole_set_and_the_same_input_gives_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [a.path(), b.path()] {
        bitsdoctor()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["analyze", "samples", "--out"])
            .arg(dir)
            .assert()
            .success();
    }
    for name in SET {
        let x = std::fs::read(a.path().join(name)).unwrap();
        let y = std::fs::read(b.path().join(name)).unwrap();
        assert!(!x.is_empty(), "{name} is empty");
        assert!(x == y, "{name} differs between two runs");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("report.json")).unwrap()).unwrap();
    let csv = std::fs::read_to_string(a.path().join("diagnoses.csv")).unwrap();
    // One header and one row per diagnosis (list cells hold line breaks: count records).
    let records = csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(records, json["diagnoses"].as_array().unwrap().len());
    let events = std::fs::read_to_string(a.path().join("events.csv")).unwrap();
    assert!(events.lines().count() > 100);
}

#[test]
fn stdout_formats() {
    let csv = bitsdoctor()
        .arg("analyze")
        .arg(samples())
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8(csv.stdout)
        .unwrap()
        .starts_with("id,rule,category,severity,scope,code"));
    let html = bitsdoctor()
        .arg("analyze")
        .arg(samples())
        .args(["--format", "html"])
        .output()
        .unwrap();
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
    // Self-contained: no scripts, no external resources.
    for needle in [
        "<script",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(needle), "{needle}");
    }
}

#[test]
fn fail_on_sets_the_exit_code() {
    // The samples hold a critical diagnosis (BITS disabled on one host).
    bitsdoctor()
        .arg("analyze")
        .arg(samples())
        .args(["--fail-on", "critical"])
        .assert()
        .code(1);
    bitsdoctor()
        .arg("analyze")
        .arg(samples())
        .args(["--fail-on", "error"])
        .assert()
        .code(1);
    // A healthy host: nothing at or above info.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bitsadmin.txt"),
        "BITSADMIN version 3.0\nBITS administration utility.\n\n\
         {6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A} 'ok job' TRANSFERRED 1 / 1 100 / 100\n\
         Listed 1 job(s).\n",
    )
    .unwrap();
    bitsdoctor()
        .arg("analyze")
        .arg(dir.path())
        .args(["--fail-on", "info"])
        .assert()
        .code(0);
}

#[test]
fn nothing_readable_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "nothing to see").unwrap();
    bitsdoctor().arg("analyze").arg(dir.path()).assert().code(2);
    bitsdoctor()
        .args(["analyze", "/no/such/path"])
        .assert()
        .code(2);
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn hostile_zip_entries_are_refused_and_the_rest_analysed() {
    let host = samples().join("WS-HR-07");
    let mut entries: Vec<(String, Vec<u8>)> = std::fs::read_dir(&host)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                format!("WS-HR-07/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    entries.sort();
    entries.push(("../../evil.txt".into(), b"owned".to_vec()));
    entries.push(("WS-HR-07/bomb.bin".into(), vec![0u8; 64 << 20]));
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.zip");
    std::fs::write(&bundle, zip_of(&entries)).unwrap();
    let out = bitsdoctor()
        .arg("analyze")
        .arg(&bundle)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<String> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{} {}", w["path"], w["message"]))
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("evil.txt")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("bomb.bin")),
        "{warnings:?}"
    );
    // The rest of the bundle is analysed: the host's Range and Content-Length failures.
    let codes: Vec<&str> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"0x80200011"), "{codes:?}");
    assert!(r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "WS-HR-07.contoso.local"));
    let zip_row = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "zip")
        .unwrap();
    assert_eq!(zip_row["status"], "partial");
}

#[test]
fn time_window_drops_events_outside_it() {
    let all = bitsdoctor()
        .arg("analyze")
        .arg(samples().join("WS-FIN-01"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let late = bitsdoctor()
        .arg("analyze")
        .arg(samples().join("WS-FIN-01"))
        .args(["--format", "json", "--since", "2099-01-01"])
        .output()
        .unwrap();
    let count = |o: &[u8]| {
        let r: serde_json::Value = serde_json::from_slice(o).unwrap();
        r["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["last_seen"].as_str().is_some_and(|t| t.ends_with('Z')))
            .count()
    };
    assert!(count(&all.stdout) > 0);
    assert_eq!(count(&late.stdout), 0);
}
