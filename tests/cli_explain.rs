//! `explain` and `codes` end to end.

use assert_cmd::Command;
use predicates::prelude::*;

fn bitsdoctor() -> Command {
    Command::cargo_bin("bitsdoctor").unwrap()
}

#[test]
fn explain_accepts_every_form_of_one_code() {
    for form in [
        "0x80200013",
        "0X80200013",
        "80200013",
        "-2145386477",
        "2149580819",
        "BG_E_INSUFFICIENT_RANGE_SUPPORT",
        "bg_e_insufficient_range_support",
    ] {
        bitsdoctor()
            .args(["explain", form])
            .assert()
            .success()
            .stdout(predicate::str::starts_with(
                "0x80200013  BG_E_INSUFFICIENT_RANGE_SUPPORT",
            ))
            .stdout(predicate::str::contains("fix:"));
    }
}

#[test]
fn explain_json_carries_the_fix() {
    let out = bitsdoctor()
        .args(["explain", "0x80070422", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["code"], "0x80070422");
    assert_eq!(v[0]["symbol"], "ERROR_SERVICE_DISABLED");
    assert_eq!(v[0]["win32"], 1058);
    let fix = v[0]["fix"].as_array().unwrap();
    assert!(fix
        .iter()
        .any(|s| s.as_str().unwrap().contains("sc.exe config bits start=")));
}

#[test]
fn explain_decodes_http_statuses_beyond_the_table() {
    bitsdoctor()
        .args(["explain", "0x801901AD"])
        .assert()
        .success()
        .stdout(predicate::str::contains("HTTP status 429"));
}

#[test]
fn explain_decodes_unknown_codes() {
    bitsdoctor()
        .args(["explain", "0x80071234"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Win32 error 4660"));
}

#[test]
fn explain_rejects_what_is_not_a_code() {
    bitsdoctor()
        .args(["explain", "not-a-code"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not-a-code"));
    // The good codes are still explained; the exit code says one was bad.
    bitsdoctor()
        .args(["explain", "0x80200013", "0xZZ"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("BG_E_INSUFFICIENT_RANGE_SUPPORT"));
}

#[test]
fn codes_csv_lists_the_whole_bits_table() {
    let out = bitsdoctor()
        .args(["codes", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut rdr = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "code",
            "symbol",
            "aliases",
            "family",
            "transient",
            "meaning",
            "cause",
            "fix"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let bg = rows.iter().filter(|r| r[1].starts_with("BG_")).count();
    assert!(bg >= 90, "only {bg} BG_* rows");
    for r in &rows {
        assert!(r[0].starts_with("0x") && r[0].len() == 10, "{:?}", &r[0]);
        assert_eq!(r[0][2..].to_uppercase(), r[0][2..]);
    }
}

#[test]
fn codes_json_and_text_agree_on_the_count() {
    let json = bitsdoctor()
        .args(["codes", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let text = bitsdoctor().args(["codes"]).output().unwrap();
    let lines = String::from_utf8(text.stdout).unwrap().lines().count();
    assert_eq!(v.as_array().unwrap().len(), lines);
}

#[test]
fn knowledge_file_overrides_and_bad_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("k.csv");
    std::fs::write(
        &good,
        "code,symbol,aliases,family,transient,meaning,cause,fix\n\
         0x80200013,BG_E_INSUFFICIENT_RANGE_SUPPORT,,bits,no,Our proxy strips Range.,Proxy X.,\"Call the network team\"\n",
    )
    .unwrap();
    bitsdoctor()
        .args([
            "--knowledge",
            good.to_str().unwrap(),
            "explain",
            "0x80200013",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Our proxy strips Range."))
        .stdout(predicate::str::contains("Call the network team"));
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "code,symbol,aliases,family,transient,meaning,cause,fix\n0xZZ,X,,bits,no,m,c,f\n",
    )
    .unwrap();
    bitsdoctor()
        .args([
            "--knowledge",
            bad.to_str().unwrap(),
            "explain",
            "0x80200013",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.csv:2"))
        .stderr(predicate::str::contains("code"));
}

#[test]
fn usage_errors_exit_2() {
    bitsdoctor().arg("frobnicate").assert().code(2);
    bitsdoctor().arg("analyze").assert().code(2);
}
