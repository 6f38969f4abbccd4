//! The committed `samples/` bundle: `analyze samples/` finds every planted problem and nothing
//! else; the files are exactly what the scenario
//! builder writes; and other EVTX readers (libyal evtxexport, python-evtx) read every log.
//! `samples/README.md` describes what is planted.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// (rule, code, scope, hosts) of one diagnosis.
type Key = (String, String, String, Vec<String>);

fn key(rule: &str, code: &str, scope: &str, hosts: &[&str]) -> Key {
    (
        rule.into(),
        code.into(),
        scope.into(),
        hosts.iter().map(|h| format!("{h}.contoso.local")).collect(),
    )
}

fn report() -> Value {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", "samples", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn diagnoses(r: &Value, severities: &[&str]) -> Vec<(Key, Value)> {
    r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| severities.contains(&d["severity"].as_str().unwrap()))
        .map(|d| {
            let hosts = d["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect();
            (
                (
                    d["rule"].as_str().unwrap().to_string(),
                    d["code"].as_str().unwrap_or("").to_string(),
                    d["scope"].as_str().unwrap().to_string(),
                    hosts,
                ),
                d.clone(),
            )
        })
        .collect()
}

/// What `samples/README.md` says the report finds at warning or above.
fn planted() -> BTreeSet<Key> {
    [
        key(
            "transfer-failure",
            "0x80200013",
            "fleet",
            &["WS-FIN-01", "WS-FIN-02", "WS-HR-07"],
        ),
        key("transfer-failure", "0x80200011", "job", &["WS-HR-07"]),
        key("transfer-failure", "0x80190193", "job", &["SRV-APP-03"]),
        key("transfer-failure", "0x80072EE7", "job", &["SRV-APP-03"]),
        key(
            "service-start-failure",
            "0x80070422",
            "host",
            &["WS-LAB-11"],
        ),
        key("service-config", "", "host", &["WS-LAB-11"]),
        // A Server 2012 R2 host missing EventSystem, which that version depends on.
        key("service-config", "", "host", &["SRV-FILE-02"]),
    ]
    .into_iter()
    .collect()
}

#[test]
fn analyze_finds_every_planted_problem() {
    let r = report();
    let found = diagnoses(&r, &["warning", "error", "critical"]);
    let keys: BTreeSet<Key> = found.iter().map(|(k, _)| k.clone()).collect();
    for want in planted() {
        assert!(keys.contains(&want), "missing {want:?}; found {keys:#?}");
    }
    // The Range failures are one root cause: the proxy in front of three hosts.
    let range = found
        .iter()
        .map(|(_, d)| d)
        .find(|d| {
            d["code"] == "0x80200013"
                && d["proxies"] == serde_json::json!(["proxy01.contoso.local:8080"])
        })
        .expect("a 0x80200013 diagnosis naming the proxy");
    assert_eq!(range["severity"], "error");
    assert_eq!(
        range["servers"],
        serde_json::json!(["http://download.windowsupdate.com:80"])
    );
    assert_eq!(range["jobs"].as_array().unwrap().len(), 3);
    let by = |code: &str| {
        found
            .iter()
            .find(|(k, _)| k.1 == code)
            .map(|(_, d)| d.clone())
            .unwrap()
    };
    assert_eq!(by("0x80072EE7")["severity"], "warning");
    assert_eq!(
        by("0x80072EE7")["servers"],
        serde_json::json!(["http://wsus-old.contoso.local:8530"])
    );
    assert_eq!(by("0x80070422")["severity"], "critical");
    let config_of = |h: &str| {
        found
            .iter()
            .find(|(k, _)| k.0 == "service-config" && k.3.contains(&format!("{h}.contoso.local")))
            .unwrap()
    };
    let config = config_of("WS-LAB-11");
    assert_eq!(config.1["severity"], "critical");
    assert!(config.1["title"].as_str().unwrap().contains("disabled"));
    // The Server 2012 R2 host is held to its own defaults, and repaired to them.
    let legacy = &config_of("SRV-FILE-02").1;
    assert_eq!(legacy["severity"], "error");
    assert!(
        legacy["title"].as_str().unwrap().contains("EventSystem"),
        "{legacy}"
    );
    assert!(
        legacy["fix"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "sc.exe config bits depend= RpcSs/EventSystem"),
        "{legacy}"
    );
    assert!(
        legacy["proof"]
            .as_str()
            .unwrap()
            .contains("BITS build 9600"),
        "{legacy}"
    );

    // The transient drop on WS-FIN-01 is only noted.
    let info: BTreeSet<Key> = diagnoses(&r, &["info"])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // ... and the HR policy pack, fetched by a PowerShell script, is noted by the security
    // lens (information only: administrators script BITS too).
    assert_eq!(
        info,
        [
            key("transfer-recovered", "0x80072EFE", "job", &["WS-FIN-01"]),
            key("security.created-by-powershell", "", "job", &["WS-HR-07"]),
        ]
        .into_iter()
        .collect()
    );

    // Job outcomes: 6 failing, 1 recovered, 9 succeeded, none cancelled.
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for j in r["jobs"].as_array().unwrap() {
        *outcomes
            .entry(j["outcome"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(outcomes["failing"], 6, "{outcomes:?}");
    assert_eq!(outcomes["recovered"], 1, "{outcomes:?}");
    assert_eq!(outcomes["succeeded"], 9, "{outcomes:?}");
    // Every capture is read (README.md is the one input skipped).
    for i in r["inputs"].as_array().unwrap() {
        let path = i["path"].as_str().unwrap();
        if !path.ends_with("README.md") {
            assert_eq!(i["status"], "ok", "{i}");
            assert_ne!(i["kind"], "unknown", "{i}");
        }
    }
}

#[test]
fn analyze_reports_nothing_else() {
    let r = report();
    let keys: BTreeSet<Key> = diagnoses(&r, &["warning", "error", "critical"])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, planted());
    // Each diagnosis once.
    assert_eq!(
        diagnoses(&r, &["warning", "error", "critical"]).len(),
        planted().len()
    );
}

#[test]
fn failures_are_counted_once_per_attempt() {
    let r = report();
    let jobs = r["jobs"].as_array().unwrap();
    let fin02 = jobs
        .iter()
        .find(|j| j["host"] == "WS-FIN-02.contoso.local" && j["errors"]["0x80200013"].is_number())
        .unwrap();
    // Three attempts in the event log, each a 202 and a 61; the bitsadmin listing repeats the
    // last one. One failure per attempt.
    assert_eq!(fin02["errors"]["0x80200013"], 3);
}

#[test]
fn regenerating_gives_the_committed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let summary = synth::write_bundle(&synth::samples::scenario(), dir.path()).unwrap();
    let committed: BTreeSet<PathBuf> = walkdir::WalkDir::new(samples_dir())
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(samples_dir()).unwrap().to_path_buf())
        .filter(|p| p != Path::new("README.md"))
        .collect();
    let written: BTreeSet<PathBuf> = summary.files.iter().cloned().collect();
    assert_eq!(
        committed, written,
        "regenerate with `cargo run -p synth -- samples samples/`"
    );
    for f in &summary.files {
        assert!(
            std::fs::read(samples_dir().join(f)).unwrap() == std::fs::read(dir.path().join(f)).unwrap(),
            "samples/{} differs from what the builder writes; regenerate with `cargo run -p synth -- samples samples/`",
            f.display()
        );
    }
}

fn evtx_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(samples_dir())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "evtx"))
        .collect();
    v.sort();
    assert_eq!(v.len(), 12);
    v
}

/// Records as the evtx crate (the analyzer's reader) counts them, all readable.
fn evtx_crate_count(path: &Path) -> usize {
    let mut p = evtx::EvtxParser::from_path(path).unwrap();
    p.records()
        .inspect(|r| assert!(r.is_ok(), "unreadable record: {r:?}"))
        .count()
}

fn have(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn evtxexport_reads_every_sample_log() {
    if !have("evtxexport", &["-V"]) {
        eprintln!("NOTICE: evtxexport not installed (apt-get install libevtx-utils); skipped");
        return;
    }
    for f in evtx_files() {
        let out = std::process::Command::new("evtxexport")
            .args(["-f", "xml"])
            .arg(&f)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(out.status.success(), "{}: {stderr}", f.display());
        assert!(
            !stderr.contains("error") && !stderr.contains("unable"),
            "{}: {stderr}",
            f.display()
        );
        let xml = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            xml.matches("<Event xmlns").count(),
            evtx_crate_count(&f),
            "{}",
            f.display()
        );
    }
}

#[test]
fn python_evtx_reads_every_sample_log() {
    const PY: &str = "/usr/bin/python3";
    if !have(PY, &["-c", "import Evtx.Evtx"]) {
        eprintln!("NOTICE: python-evtx not installed (apt-get install python3-evtx); skipped");
        return;
    }
    let script = "import sys, Evtx.Evtx as E\n\
                  with E.Evtx(sys.argv[1]) as f:\n    \
                  n = sum(1 for r in f.records() if r.xml())\n\
                  print(n)";
    for f in evtx_files() {
        let out = std::process::Command::new(PY)
            .args(["-c", script])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let n: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert_eq!(n, evtx_crate_count(&f), "{}", f.display());
    }
}

#[test]
fn a_job_in_the_event_log_and_in_bitsadmin_is_one_job_with_both_sources() {
    let r = report();
    let jobs = r["jobs"].as_array().unwrap();
    let merged: Vec<&serde_json::Value> = jobs
        .iter()
        .filter(|j| {
            let sources: Vec<&str> = j["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            sources.iter().any(|s| s.ends_with(".evtx"))
                && sources.iter().any(|s| s.ends_with("bitsadmin.txt"))
        })
        .collect();
    assert!(!merged.is_empty());
    // No job GUID appears twice on one host.
    let mut keys: Vec<(String, String)> = jobs
        .iter()
        .filter_map(|j| Some((j["host"].as_str()?.into(), j["id"].as_str()?.into())))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
    // The merged job carries the listing's state next to the log's failures.
    assert!(merged
        .iter()
        .any(|j| j["state"].is_string() && j["errors"].as_object().is_some_and(|e| !e.is_empty())));
}
