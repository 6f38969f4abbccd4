//! The machine-readable outputs agree with the JSON report: every CSV list cell splits back
//! into the JSON list (one item per line), `codes --format csv` reads back through
//! `--knowledge`, and `--format jsonl` is one JSON object per line. Runs on the committed
//! samples/ bundle, and on the shared corpus when BITSDOCTOR_CORPUS is set.

use assert_cmd::Command;
use bitsdoctor::report::csv::{split_list, uncell};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bitsdoctor() -> Command {
    Command::cargo_bin("bitsdoctor").unwrap()
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// CSV text -> rows of named cells, each cell read back through `uncell`.
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(|c| uncell(c).to_string()))
                .collect()
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn cell_list(row: &BTreeMap<String, String>, col: &str) -> Vec<String> {
    split_list(&row[col])
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn evidence(e: &Value) -> String {
    let path = e["path"].as_str().unwrap();
    match (e.get("record"), e.get("line")) {
        (Some(r), _) => format!("{path}#{r}"),
        (_, Some(l)) => format!("{path}:{l}"),
        _ => panic!("evidence without a place: {e}"),
    }
}

/// Analyse `path` with --out and check every list cell of diagnoses.csv and jobs.csv against
/// report.json. Returns how many list cells held more than one item.
fn check_lists_round_trip(path: &Path) -> usize {
    let out = tempfile::tempdir().unwrap();
    bitsdoctor()
        .arg("analyze")
        .arg(path)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(predicates::ord::lt(2));
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let mut multi = 0;
    let mut check = |got: Vec<String>, want: Vec<String>, what: &str| {
        assert_eq!(got, want, "{what}");
        multi += usize::from(want.len() > 1);
    };

    let diagnoses = rows(&std::fs::read_to_string(out.path().join("diagnoses.csv")).unwrap());
    let jd = json["diagnoses"].as_array().unwrap();
    assert_eq!(diagnoses.len(), jd.len());
    for (row, d) in diagnoses.iter().zip(jd) {
        assert_eq!(row["id"], d["id"].as_str().unwrap());
        assert_eq!(row["title"], d["title"].as_str().unwrap());
        for col in ["fix", "hosts", "jobs", "servers", "proxies"] {
            check(cell_list(row, col), strings(&d[col]), col);
        }
        let ev: Vec<String> = d["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(evidence)
            .collect();
        check(cell_list(row, "evidence"), ev, "evidence");
    }

    let jobs = rows(&std::fs::read_to_string(out.path().join("jobs.csv")).unwrap());
    let jj = json["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), jj.len());
    for (row, j) in jobs.iter().zip(jj) {
        assert_eq!(row["name"], j["name"].as_str().unwrap());
        for col in ["urls", "proxies", "diagnoses"] {
            check(cell_list(row, col), strings(&j[col]), col);
        }
        let errors: Vec<String> = j["errors"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        check(cell_list(row, "errors"), errors, "errors");
    }
    multi
}

#[test]
fn csv_list_cells_split_back_into_the_json_lists() {
    let multi = check_lists_round_trip(&samples());
    // The samples have fix lists of several steps (some with `;` inside a step).
    assert!(multi > 5, "only {multi} list cells with several items");
}

#[test]
fn csv_list_cells_split_back_on_the_corpus() {
    let Some(corpus) = std::env::var_os("BITSDOCTOR_CORPUS").map(PathBuf::from) else {
        eprintln!("BITSDOCTOR_CORPUS is not set: skipping the corpus round trip");
        return;
    };
    check_lists_round_trip(&corpus);
}

#[test]
fn codes_csv_lists_split_back_and_read_back_as_knowledge() {
    let csv_text = String::from_utf8(
        bitsdoctor()
            .args(["codes", "--format", "csv"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let json_of = |extra: &[&std::ffi::OsStr]| -> Value {
        let out = bitsdoctor()
            .args(extra)
            .args(["codes", "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let json = json_of(&[]);
    let entries = json.as_array().unwrap();
    let table = rows(&csv_text);
    assert_eq!(table.len(), entries.len());
    let mut multi = 0;
    for (row, e) in table.iter().zip(entries) {
        assert_eq!(cell_list(row, "fix"), strings(&e["fix"]), "{}", row["code"]);
        assert_eq!(
            cell_list(row, "aliases"),
            strings(&e["aliases"]),
            "{}",
            row["code"]
        );
        multi += usize::from(e["fix"].as_array().unwrap().len() > 1);
    }
    assert!(multi > 10);
    // What `codes --format csv` prints is a knowledge file: overriding the table with it changes
    // nothing.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("codes.csv");
    std::fs::write(&file, &csv_text).unwrap();
    let again = json_of(&["--knowledge".as_ref(), file.as_os_str()]);
    assert_eq!(again, json);
}

#[test]
fn jsonl_parses_line_by_line_and_matches_the_report() {
    let run = |format: &str| {
        let out = bitsdoctor()
            .arg("analyze")
            .arg(samples())
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(out.status.code().unwrap() < 2);
        String::from_utf8(out.stdout).unwrap()
    };
    let jsonl = run("jsonl");
    let report: Value = serde_json::from_str(&run("json")).unwrap();
    let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (n, line) in jsonl.lines().enumerate() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {} is not one JSON object: {e}", n + 1));
        assert!(v.is_object(), "line {}", n + 1);
        let t = v["type"]
            .as_str()
            .expect("every line has a type")
            .to_string();
        by_type.entry(t).or_default().push(v);
    }
    assert!(jsonl.ends_with('\n'));
    let types: Vec<&str> = by_type.keys().map(String::as_str).collect();
    for t in &types {
        assert!(
            ["diagnosis", "job", "update", "warning", "event"].contains(t),
            "unexpected type {t}"
        );
    }
    // Diagnoses and jobs are the JSON report's, field for field, plus `type`.
    for (t, key) in [("diagnosis", "diagnoses"), ("job", "jobs")] {
        let want = report[key].as_array().unwrap();
        let got = &by_type[t];
        assert_eq!(got.len(), want.len(), "{t}");
        for (g, w) in got.iter().zip(want) {
            let mut g = g.clone();
            g.as_object_mut().unwrap().remove("type");
            assert_eq!(&g, w);
        }
    }
    // Events: one per events.csv row, each with its time, host, kind and where it was read.
    let dir = tempfile::tempdir().unwrap();
    bitsdoctor()
        .arg("analyze")
        .arg(samples())
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(predicates::ord::lt(2));
    let events = rows(&std::fs::read_to_string(dir.path().join("events.csv")).unwrap());
    let got = &by_type["event"];
    assert_eq!(got.len(), events.len());
    for (e, row) in got.iter().zip(&events) {
        assert_eq!(e["kind"].as_str().unwrap(), row["kind"]);
        assert_eq!(e["host"].as_str().unwrap(), row["host"]);
        assert_eq!(e["path"].as_str().unwrap(), row["path"]);
        assert_eq!(e["time"].as_str().unwrap_or(""), row["time"]);
        let place = e.get("record").or(e.get("line")).unwrap().to_string();
        assert!(place == row["record"] || place == row["line"]);
    }
}
