//! `analyze` on a folder of real corpus logs: the JSON report, checked field by field and as a
//! whole against a reviewed snapshot. Paths are given relative to the corpus so the report is
//! the same on every machine.

use assert_cmd::Command;
use serde_json::Value;

fn corpus() -> Option<std::path::PathBuf> {
    match std::env::var_os("BITSDOCTOR_CORPUS") {
        Some(p) if std::path::Path::new(&p).is_dir() => Some(p.into()),
        _ => {
            eprintln!("BITSDOCTOR_CORPUS is not set: skipping the corpus snapshot test");
            None
        }
    }
}

fn run(corpus: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .current_dir(corpus)
        .arg("analyze")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn mitre_folder_report() {
    let Some(c) = corpus() else { return };
    let bytes = run(&c, &["evtx-to-mitre-attack", "--format", "json"]);
    // Same input, same bytes.
    assert_eq!(
        bytes,
        run(&c, &["evtx-to-mitre-attack", "--format", "json"])
    );
    let r: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(r["schema"], "bitsdoctor/report/v1");
    assert_eq!(r["summary"]["inputs"], 3);
    let inputs = r["inputs"].as_array().unwrap();
    assert!(inputs
        .iter()
        .all(|i| i["kind"] == "evtx" && i["status"] == "ok"));
    // Two hosts: jump01 (one complete job) and FS03 (a large download cancelled, log cleared).
    let hosts: Vec<&str> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["FS03.offsec.lan", "jump01.offsec.lan"]);
    let jobs = r["jobs"].as_array().unwrap();
    let jump = jobs
        .iter()
        .find(|j| j["host"] == "jump01.offsec.lan")
        .unwrap();
    assert_eq!(jump["outcome"], "succeeded");
    assert!(jump["id"].as_str().unwrap().starts_with('{'));
    assert_eq!(jump["errors"], serde_json::json!({}));
    // The job on FS03 stopped with the success code 0x00040008 and was cancelled: not a failure.
    assert!(jobs
        .iter()
        .filter(|j| j["host"] == "FS03.offsec.lan")
        .all(|j| j["outcome"] == "cancelled"));
    for d in r["diagnoses"].as_array().unwrap() {
        for key in [
            "id",
            "rule",
            "category",
            "severity",
            "scope",
            "code",
            "symbol",
            "title",
            "cause",
            "fix",
            "hosts",
            "jobs",
            "servers",
            "proxies",
            "occurrences",
            "first_seen",
            "last_seen",
            "evidence",
        ] {
            assert!(d.get(key).is_some(), "diagnosis lacks {key}: {d}");
        }
    }
    let rules: Vec<&str> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"log-cleared"), "{rules:?}");
    assert!(!rules.contains(&"transfer-failure"), "{rules:?}");
    insta::assert_snapshot!("mitre_folder_report", String::from_utf8(bytes).unwrap());
}
