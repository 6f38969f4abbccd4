//! The security lens on the attack and benign logs of the shared corpus (`BITSDOCTOR_CORPUS`),
//! and the SigmaHQ Bits-Client rules shipped with it run through `--sigma`.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    match std::env::var_os("BITSDOCTOR_CORPUS") {
        Some(p) if PathBuf::from(&p).is_dir() => Some(PathBuf::from(p)),
        _ => {
            eprintln!("BITSDOCTOR_CORPUS is not set: skipping the security corpus tests");
            None
        }
    }
}

fn analyze(path: &Path, extra: &[&str]) -> Value {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .arg("analyze")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (rule, severity, title) of every finding whose rule starts with `security.`.
fn security(r: &Value) -> BTreeSet<(String, String, String)> {
    r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"].as_str().unwrap().starts_with("security."))
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn rules(r: &Value) -> BTreeSet<(String, String)> {
    security(r).into_iter().map(|(r, s, _)| (r, s)).collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const PERSIST: &str = "evtx-attack-samples/Persistence/persist_bitsadmin_Microsoft-Windows-Bits-Client-Operational.evtx";
const DESKTOPIMG: &str =
    "evtx-attack-samples/Execution/windows_bits_4_59_60_lolbas desktopimgdownldr.evtx";
const T1197_CREATED: &str =
    "evtx-to-mitre-attack/TA0003-Persistence/T1197-BITS jobs/ID3-59-60-BITS job created.evtx";
const T1197_VOLUME: &str = "evtx-to-mitre-attack/TA0003-Persistence/T1197-BITS jobs/ID60-High volume file downloaded with BITS.evtx";
const HAYABUSA: &str = "hayabusa-sample-evtx/YamatoSecurity/Persistence/T1197_BitsClient.evtx";
const OPENVPN: &str = "evtx-attack-samples/Command and Control/bits_openvpn.evtx";

#[test]
fn persistence_with_bitsadmin_copies_cmd_exe() {
    let Some(c) = corpus() else { return };
    let r = analyze(&c.join(PERSIST), &[]);
    // Two old-schema jobs ("backdoor", "hola") whose "URL" is C:\Windows\system32\cmd.exe.
    assert_eq!(rules(&r), set(&[("security.local-source", "error")]));
    let d = &r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "security.local-source")
        .unwrap()
        .clone();
    assert_eq!(d["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(d["hosts"][0], "IEWIN7");
    assert!(d["proof"].as_str().unwrap().contains("cmd.exe"));
}

#[test]
fn desktopimgdownldr_fetches_from_a_file_host() {
    let Some(c) = corpus() else { return };
    let r = analyze(&c.join(DESKTOPIMG), &[]);
    assert_eq!(
        rules(&r),
        set(&[
            ("security.lolbas-creator", "error"),
            ("security.file-sharing-host", "error"),
            ("security.uncommon-tld", "warning"),
        ])
    );
}

#[test]
fn t1197_job_created_with_bitsadmin() {
    let Some(c) = corpus() else { return };
    let r = analyze(&c.join(T1197_CREATED), &[]);
    assert_eq!(rules(&r), set(&[("security.created-by-bitsadmin", "info")]));
}

#[test]
fn hayabusa_t1197_bitsadmin_pulls_an_exe() {
    let Some(c) = corpus() else { return };
    let r = analyze(&c.join(HAYABUSA), &[]);
    assert_eq!(
        rules(&r),
        set(&[
            ("security.created-by-bitsadmin", "info"),
            ("security.executable-download", "warning"),
        ])
    );
}

#[test]
fn openvpn_notepad_beacons_to_an_image_host() {
    let Some(c) = corpus() else { return };
    let r = analyze(&c.join(OPENVPN), &[]);
    // notepad.exe (SysWOW64) creates nine jobs, seven of them to i.imgur.com: injected code
    // using BITS for its traffic. The OneDrive, Google, Chrome and speech-model jobs raise
    // nothing.
    assert_eq!(
        rules(&r),
        set(&[
            ("security.unexpected-creator", "error"),
            ("security.file-sharing-host", "error"),
        ])
    );
    let titles: Vec<String> = security(&r).into_iter().map(|(_, _, t)| t).collect();
    assert!(
        titles
            .iter()
            .any(|t| t.contains("notepad.exe") && t.contains("9 jobs")),
        "{titles:?}"
    );
}

#[test]
fn large_iso_download_by_an_old_schema_job_is_not_an_alarm() {
    let Some(c) = corpus() else { return };
    // An Ubuntu ISO from releases.ubuntu.com with no creating process recorded (event 3 v0):
    // nothing says abuse.
    let r = analyze(&c.join(T1197_VOLUME), &[]);
    assert_eq!(rules(&r), set(&[]));
}

#[test]
fn benign_logs_raise_nothing() {
    let Some(c) = corpus() else { return };
    let attack = [
        PERSIST,
        DESKTOPIMG,
        T1197_CREATED,
        T1197_VOLUME,
        HAYABUSA,
        OPENVPN,
    ];
    let mut checked = 0;
    for e in walkdir::WalkDir::new(&c).sort_by_file_name() {
        let e = e.unwrap();
        let p = e.path();
        if p.extension().is_none_or(|x| x != "evtx") {
            continue;
        }
        let rel = p
            .strip_prefix(&c)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if attack.contains(&rel.as_str()) {
            continue;
        }
        let r = analyze(p, &[]);
        assert!(security(&r).is_empty(), "{rel}: {:?}", security(&r));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} benign logs");
    // The text captures too.
    let r = analyze(&c.join("text"), &[]);
    assert!(security(&r).is_empty(), "text: {:?}", security(&r));
}

/// What the seven SigmaHQ rules match on the attack samples when evaluated by hand against
/// the raw records: only the two event-3 rules can match (no sample has a 16403), and only
/// where event 3 carries processPath (v2 and later):
/// - ID3-59-60: processPath C:\Windows\System32\bitsadmin.exe -> "New BITS Job Created Via Bitsadmin"
/// - T1197_BitsClient: processPath C:\Windows\System32\bitsadmin.exe -> the same rule
/// - desktopimgdownldr: processPath ...\desktopimgdownldr.exe -> neither rule
/// - bits_openvpn: svchost, OneDrive, GoogleUpdate, chrome, notepad, SpeechModelDownload -> none
/// - persist_bitsadmin, ID60 high volume: event 3 v0 without processPath -> none
#[test]
fn sigmahq_rules_match_what_they_match_by_hand() {
    let Some(c) = corpus() else { return };
    let sigma = c.join("sigma-bits-client");
    let sigma = sigma.to_str().unwrap();
    let expect: [(&str, &[&str]); 6] = [
        (
            T1197_CREATED,
            &["Sigma: New BITS Job Created Via Bitsadmin"],
        ),
        (HAYABUSA, &["Sigma: New BITS Job Created Via Bitsadmin"]),
        (DESKTOPIMG, &[]),
        (OPENVPN, &[]),
        (PERSIST, &[]),
        (T1197_VOLUME, &[]),
    ];
    for (sample, want) in expect {
        let r = analyze(&c.join(sample), &["--sigma", sigma]);
        let got: Vec<String> = r["diagnoses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["rule"] == "security.sigma")
            .map(|d| {
                let t = d["title"].as_str().unwrap();
                t[..t.find(" on ").unwrap()].to_string()
            })
            .collect();
        assert_eq!(got, want, "{sample}");
        // All seven rules load: none is reported as unused.
        let unused: Vec<&Value> = r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["message"].as_str().unwrap().contains("Sigma"))
            .collect();
        assert!(unused.is_empty(), "{unused:?}");
    }
}
