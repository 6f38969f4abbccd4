//! `analyze` over the real logs in the shared corpus (`BITSDOCTOR_CORPUS`), checked against
//! the corpus inventory and against an independent reading of the same files with the evtx
//! crate's JSON rendering (what `evtx_dump -o jsonl` prints).

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    match std::env::var_os("BITSDOCTOR_CORPUS") {
        Some(p) if PathBuf::from(&p).is_dir() => Some(PathBuf::from(p)),
        _ => {
            eprintln!("BITSDOCTOR_CORPUS is not set: skipping the corpus tests");
            None
        }
    }
}

fn analyze_json(paths: &[PathBuf]) -> Value {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .arg("analyze")
        .args(paths)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const OPENVPN: &str = "evtx-attack-samples/Command and Control/bits_openvpn.evtx";

#[test]
fn openvpn_failures_match_the_inventory() {
    let Some(c) = corpus() else { return };
    let r = analyze_json(&[c.join(OPENVPN)]);
    // Failure counts per code over all jobs: 491 x 0x80072EE7 and 1 x 0x80072EFE (inventory.json).
    let mut per_code: BTreeMap<String, u64> = BTreeMap::new();
    for job in r["jobs"].as_array().unwrap() {
        for (code, n) in job["errors"].as_object().unwrap() {
            *per_code.entry(code.clone()).or_default() += n.as_u64().unwrap();
        }
    }
    assert_eq!(per_code.get("0x80072EE7"), Some(&491));
    assert_eq!(per_code.get("0x80072EFE"), Some(&1));
    // 60 with 0x80040009 is a failure of its own (a 60 with a failure hr is not a success).
    assert_eq!(per_code.get("0x80040009"), Some(&1));
    assert_eq!(r["inputs"][0]["status"], "ok");
    assert_eq!(r["inputs"][0]["records"], 1537);
    assert_eq!(
        r["inputs"][0]["provider_records"]["Microsoft-Windows-Bits-Client"],
        1537
    );
    // The name-resolution failures are diagnosed with the table's fix.
    let d = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "0x80072EE7")
        .expect("a diagnosis for 0x80072EE7");
    assert_eq!(d["symbol"], "ERROR_WINHTTP_NAME_NOT_RESOLVED");
    assert!(!d["fix"].as_array().unwrap().is_empty());
    assert_eq!(d["hosts"][0], "MSEDGEWIN10");
}

/// Job outcomes computed straight from the evtx crate's JSON for every record (the
/// `evtx_dump -o jsonl` view), with none of bitsdoctor's filtering or parsing.
fn outcomes_from_dump(path: &PathBuf) -> BTreeMap<String, u64> {
    let mut parser = evtx::EvtxParser::from_path(path).unwrap();
    // job id -> (time-ordered (time, kind)), kind: 'e' error, 's' success, 'c' cancel, 'o' other
    let mut jobs: BTreeMap<String, Vec<(String, char)>> = BTreeMap::new();
    for rec in parser.records_json_value().flatten() {
        let ev = &rec.data["Event"];
        if ev["System"]["Provider"]["#attributes"]["Name"] != "Microsoft-Windows-Bits-Client" {
            continue;
        }
        let id = ev["System"]["EventID"].as_u64().unwrap_or(0);
        let d = &ev["EventData"];
        let t = rec.timestamp.to_string();
        let (job, kind) = match id {
            3 => (d["jobId"].as_str(), 'o'),
            4 => (d["jobId"].as_str(), 's'),
            5 => (d["jobId"].as_str(), 'c'),
            59 => (d["Id"].as_str(), 'o'),
            60 if d["hr"].as_u64() == Some(0) => (d["Id"].as_str(), 's'),
            60 if d["hr"].as_u64().unwrap_or(0) >= 0x8000_0000 => (d["Id"].as_str(), 'e'),
            60 => (d["Id"].as_str(), 'o'),
            61 => (d["Id"].as_str(), 'e'),
            _ => (None, 'o'),
        };
        if let Some(j) = job {
            jobs.entry(j.to_ascii_uppercase().trim_matches(['{', '}']).to_string())
                .or_default()
                .push((t, kind));
        }
    }
    let mut counts = BTreeMap::new();
    for (_, mut steps) in jobs {
        steps.sort();
        let errors = steps.iter().any(|s| s.1 == 'e');
        let last = steps.iter().rev().find(|s| s.1 != 'o').map(|s| s.1);
        let cancelled = steps.iter().any(|s| s.1 == 'c');
        let outcome = match last {
            _ if cancelled && last != Some('s') => "cancelled",
            Some('s') if errors => "recovered",
            Some('s') => "succeeded",
            Some('e') => "failing",
            _ => "in_progress",
        };
        *counts.entry(outcome.to_string()).or_default() += 1;
    }
    counts
}

#[test]
fn job_outcomes_agree_with_the_dump() {
    let Some(c) = corpus() else { return };
    for f in [
        OPENVPN,
        "evtx-attack-samples/Execution/windows_bits_4_59_60_lolbas desktopimgdownldr.evtx",
        "evtx-to-mitre-attack/TA0003-Persistence/T1197-BITS jobs/ID3-59-60-BITS job created.evtx",
        "hayabusa-sample-evtx/YamatoSecurity/Persistence/T1197_BitsClient.evtx",
    ] {
        let path = c.join(f);
        let r = analyze_json(std::slice::from_ref(&path));
        let mut ours: BTreeMap<String, u64> = BTreeMap::new();
        for j in r["jobs"].as_array().unwrap() {
            // Jobs the dump cannot key (old-schema events without a GUID) are not compared.
            if j["id"].is_null() {
                continue;
            }
            *ours
                .entry(j["outcome"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        assert_eq!(ours, outcomes_from_dump(&path), "{f}");
    }
}

#[test]
fn every_corpus_file_is_analysed_without_a_panic() {
    let Some(c) = corpus() else { return };
    let r = analyze_json(std::slice::from_ref(&c));
    let inputs = r["inputs"].as_array().unwrap();
    // Every .evtx in the corpus has a row; none is skipped.
    let evtx: Vec<&Value> = inputs.iter().filter(|i| i["kind"] == "evtx").collect();
    assert_eq!(evtx.len(), 19);
    let zero = evtx
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .unwrap()
                .ends_with("sample-with-zero-data-size-event.evtx")
        })
        .unwrap();
    assert_eq!(zero["status"], "partial");
    assert!(zero["reason"]
        .as_str()
        .unwrap()
        .contains("unreadable record"));
    assert_eq!(zero["skipped_records"], 1);
    for i in &evtx {
        assert_ne!(i["status"], "skipped", "{i}");
    }
}

#[test]
fn system_logs_show_bits_service_changes_including_chinese() {
    let Some(c) = corpus() else { return };
    let r = analyze_json(&[
        c.join("nanw01-python-algrothm/System.evtx"),
        c.join("plaso/test_data/evtx/System.evtx"),
        c.join("3gstudent-eventlogedit/System.evtx"),
    ]);
    let host = |name: &str| {
        r["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("host {name}"))
    };
    // zh-CN: 886 start-type flips (按需启动 <-> 自动启动) matched by the service key name.
    assert_eq!(host("DESKTOP-29U0NPI")["service_start_type_changes"], 886);
    // zh-CN 7036 "正在运行" matched through the BITS/4 binary.
    assert_eq!(host("WIN-E8C6J8CN50O")["service_state_changes"], 1);
    let plaso_states: u64 = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["service_state_changes"].as_u64().unwrap())
        .sum();
    assert_eq!(plaso_states, 5 + 1);
    // The normal on-demand start/stop cycle and start-type flips are not failures.
    for d in r["diagnoses"].as_array().unwrap() {
        assert_ne!(d["rule"], "service-start-failure", "{d}");
        assert_ne!(d["rule"], "service-config", "{d}");
    }
}

#[test]
fn cleared_bits_log_is_reported() {
    let Some(c) = corpus() else { return };
    let r = analyze_json(&[c.join(
        "evtx-to-mitre-attack/TA0005-Defense Evasion/T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx",
    )]);
    let cleared: Vec<&Value> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "log-cleared")
        .collect();
    assert!(
        cleared.iter().any(|d| d["title"]
            .as_str()
            .unwrap()
            .contains("Microsoft-Windows-Bits-Client/Operational")),
        "{cleared:?}"
    );
    assert_eq!(r["hosts"][0]["name"], "FS03.offsec.lan");
}

#[test]
fn whole_corpus_gives_no_false_root_causes() {
    let Some(c) = corpus() else { return };
    let r = analyze_json(std::slice::from_ref(&c));
    let mut jobs = std::collections::BTreeSet::new();
    for d in r["diagnoses"].as_array().unwrap() {
        // Real logs hold normal service cycles, start-type flips, ordinary policy values and
        // job queues: none of them is a service, configuration, limit, proxy or credentials
        // finding.
        let rule = d["rule"].as_str().unwrap();
        if rule.starts_with("security.") {
            // The security lens's findings on the attack samples are checked one by one in
            // tests/security_corpus.rs.
            continue;
        }
        assert!(
            [
                "host-network",
                "transfer-failure",
                "transfer-recovered",
                "log-cleared",
                "service-health",
                // Updates the corpus logs as failed (WindowsUpdateClient 20/31): real failures.
                "update-failure",
                "update-recovered"
            ]
            .contains(&rule),
            "{d}"
        );
        assert!(d["proof"].as_str().unwrap().len() > 20, "{d}");
        assert!(d["next_check"].as_str().unwrap().len() > 20, "{d}");
        // A job is explained by one diagnosis, never repeated by another.
        if d["severity"] != "info" {
            for j in d["jobs"].as_array().unwrap() {
                assert!(jobs.insert(j.as_str().unwrap().to_string()), "{j} twice");
            }
        }
    }
}

/// The code table's entry for `code`, as `bitsdoctor codes --format json` prints it.
fn table_entry(code: &str) -> Value {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["codes", "--format", "json"])
        .output()
        .unwrap();
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = all
        .as_array()
        .or_else(|| all["codes"].as_array())
        .expect("a list of codes");
    rows.iter()
        .find(|e| e["code"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("{code} is not in the code table"))
}

#[test]
fn corpus_update_failures_each_become_a_diagnosis_with_the_wu_symbol_and_fix() {
    let Some(c) = corpus() else { return };
    let r = analyze_json(std::slice::from_ref(&c));
    let expected: BTreeMap<&str, &str> = [
        ("0x80248007", "WU_E_DS_NODATA"),
        ("0x80246013", "WU_E_DM_UPDATEREMOVED"),
        ("0x8024001E", "WU_E_SERVICE_STOP"),
    ]
    .into();
    let diagnoses = r["diagnoses"].as_array().unwrap();
    let mut seen_codes = std::collections::BTreeSet::new();
    let mut failing = 0;
    for u in r["updates"].as_array().unwrap() {
        for code in u["errors"].as_object().unwrap().keys() {
            failing += 1;
            seen_codes.insert(code.clone());
            let key = format!(
                "{}/{}",
                u["host"].as_str().unwrap(),
                u["guid"].as_str().unwrap()
            );
            let d = diagnoses
                .iter()
                .find(|d| {
                    d["code"] == code.as_str()
                        && d["updates"]
                            .as_array()
                            .is_some_and(|us| us.iter().any(|k| k == key.as_str()))
                })
                .unwrap_or_else(|| panic!("no diagnosis for {code} on update {key}"));
            let rule = d["rule"].as_str().unwrap();
            assert!(rule.starts_with("update-"), "{rule}");
            if let Some(sym) = expected.get(code.as_str()) {
                assert_eq!(d["symbol"], *sym, "{code}");
            }
            let entry = table_entry(code);
            assert_eq!(d["symbol"], entry["symbol"], "{code}");
            assert_eq!(d["fix"], entry["fix"], "{code}: the table's fix");
            assert!(!d["fix"].as_array().unwrap().is_empty());
            // The update points back at its diagnosis.
            assert!(
                u["diagnoses"].as_array().unwrap().contains(&d["id"]),
                "{key} does not list {}",
                d["id"]
            );
            // Still failing is an error; installed later is information.
            let installed = u["outcome"] == "installed" || u["outcome"] == "downloaded";
            assert_eq!(rule == "update-recovered", installed, "{key}");
            assert_eq!(d["severity"] == "info", installed, "{key}");
        }
    }
    // The corpus holds these three codes (see MANIFEST.md: System.evtx samples with
    // WindowsUpdateClient 20 and the Operational channels).
    for code in expected.keys() {
        assert!(
            seen_codes.contains(*code),
            "{code} missing from the corpus updates"
        );
    }
    assert!(failing >= 4, "{failing}");
}
