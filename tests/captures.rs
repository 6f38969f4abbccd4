//! The text captures in `tests/captures/`: written for these tests in the layouts real people
//! produce (localized labels, OEM code pages, line prefixes, cut columns, wrapped lines ...);
//! `tests/captures/README.md` says what each one shows. Each test runs `bitsdoctor analyze` on
//! one capture and checks what the JSON report makes of it.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn analyze(files: &[&str]) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures");
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .current_dir(&dir)
        .arg("analyze")
        .args(files)
        .args(["--text-host", "HOST1", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The one input row of a report on one file.
fn input(r: &Value) -> &Value {
    let inputs = r["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    &inputs[0]
}

fn host(r: &Value) -> &Value {
    let hosts = r["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    &hosts[0]
}

#[test]
fn german_netsh_capture_gives_the_proxy() {
    let r = analyze(&["netsh-de.txt"]);
    assert_eq!(input(&r)["kind"], "netsh");
    assert_eq!(input(&r)["status"], "ok");
    assert_eq!(
        host(&r)["winhttp_proxy"],
        "proxy.contoso.de:3128 (bypass <local>;*.contoso.de)"
    );
}

#[test]
fn french_netsh_capture_in_cp850_gives_the_proxy() {
    let r = analyze(&["netsh-fr-cp850.txt"]);
    assert_eq!(input(&r)["kind"], "netsh");
    assert_eq!(host(&r)["winhttp_proxy"], "10.20.30.40:8080 (bypass none)");
    // The code page is named in the warning; nothing was replaced by U+FFFD.
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("cp850"), "{warnings}");
    assert!(!r.to_string().contains('\u{FFFD}'));
}

#[test]
fn japanese_netsh_capture_gives_the_proxy() {
    let r = analyze(&["netsh-ja.txt"]);
    assert_eq!(input(&r)["kind"], "netsh");
    assert_eq!(input(&r)["status"], "ok");
    assert_eq!(
        host(&r)["winhttp_proxy"],
        "proxy.example.co.jp:8080 (bypass *.example.co.jp;<local>)"
    );
}

#[test]
fn german_sc_qc_is_read_with_its_localized_status_word() {
    let r = analyze(&["sc-qc-de.txt"]);
    assert_eq!(input(&r)["kind"], "sc");
    assert_eq!(input(&r)["status"], "ok");
    let config = &host(&r)["config"];
    assert_eq!(config["Start"], "3");
    assert_eq!(config["ObjectName"], "LocalSystem");
    assert_eq!(
        config["DisplayName"],
        "Intelligenter Hintergrundübertragungsdienst"
    );
}

fn job(r: &Value) -> &Value {
    let jobs = r["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    &jobs[0]
}

#[test]
fn bitsadmin_transfer_progress_display_gives_the_job() {
    let r = analyze(&["bitsadmin-transfer.txt"]);
    assert_eq!(input(&r)["kind"], "bitsadmin");
    assert_eq!(input(&r)["status"], "ok");
    let j = job(&r);
    assert_eq!(j["name"], "Nightly sync");
    assert_eq!(j["state"], "TRANSIENT_ERROR");
    assert_eq!(j["errors"]["0x80200059"], 1);
    assert_eq!(
        j["urls"],
        serde_json::json!(["https://files.contoso.com/drop/tools.zip"])
    );
}

#[test]
fn bitsadmin_info_verbose_first_seen_is_the_creation_time() {
    let r = analyze(&["bitsadmin-info-verbose.txt"]);
    let j = job(&r);
    assert_eq!(j["id"], "{6A3C1F52-0D7E-4B8A-9C3F-2E5D7A1B9C40}");
    assert_eq!(j["first_seen"], "2024-03-04T08:15:02");
    assert_eq!(j["last_seen"], "2024-03-06T16:40:11");
    assert_eq!(j["outcome"], "failing");
    assert_eq!(input(&r)["status"], "ok");
}

/// Every diagnosis title: none shows an empty server (`from  on`) or host (`on ` at the end).
fn titles(r: &Value) -> Vec<String> {
    let titles: Vec<String> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap().to_string())
        .collect();
    for t in &titles {
        assert!(
            !t.contains("from  ") && !t.ends_with(" on ") && !t.contains(" on :"),
            "{t}"
        );
    }
    titles
}

#[test]
fn legacy_windowsupdate_log_gives_url_proxy_and_update() {
    let r = analyze(&["WindowsUpdate-legacy.log"]);
    assert_eq!(input(&r)["kind"], "wulog");
    let j = job(&r);
    assert_eq!(j["id"], "{082DB2AF-902B-4457-810C-62B6E2D3A034}");
    assert_eq!(
        j["urls"],
        serde_json::json!(["http://wsus01.contoso.com:8530/Content/3A/7F3C0E2B9A.cab"])
    );
    assert_eq!(j["proxies"], serde_json::json!(["proxy.contoso.com:8080"]));
    let updates = r["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["guid"], "6C58C1C1-7F37-4F1C-AE0F-20B7F1A4B9A2");
    assert_eq!(updates[0]["revision"], 201);
    assert!(updates[0]["jobs"].to_string().contains("082DB2AF"));
    let titles = titles(&r);
    assert!(
        titles
            .iter()
            .any(|t| t.contains("http://wsus01.contoso.com:8530")),
        "{titles:?}"
    );
}

#[test]
fn get_windowsupdatelog_transient_error_names_its_update() {
    let r = analyze(&["WindowsUpdate-etl.log"]);
    let updates = r["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["guid"], "D053C08A-2B4C-4D6E-8F01-23456789ABCD");
    assert_eq!(updates[0]["revision"], 200);
    assert_eq!(updates[0]["outcome"], "download_failed");
    titles(&r);
}

#[test]
fn format_list_pasted_as_script_comments_is_read() {
    let r = analyze(&["ps-format-list-in-script.ps1"]);
    assert_eq!(input(&r)["kind"], "powershell");
    assert_eq!(input(&r)["status"], "ok");
    let j = job(&r);
    assert_eq!(j["id"], "{5B2F0C1E-8D3A-4E6F-9A7B-1C2D3E4F5A6B}");
    assert_eq!(j["state"], "TRANSIENT_ERROR");
    assert_eq!(j["errors"]["0x80190194"], 1);
    // First seen at its CreationTime (its ModificationTime is 11:30).
    assert_eq!(j["first_seen"], "2024-03-01T09:00:00");
}

#[test]
fn bitsadmin_quoted_in_a_mail_is_read() {
    let r = analyze(&["bitsadmin-mail-quote.txt"]);
    assert_eq!(input(&r)["kind"], "bitsadmin");
    assert_eq!(input(&r)["status"], "ok");
    let j = job(&r);
    assert_eq!(j["id"], "{9E1D2C3B-4A5F-4E6D-8C7B-0A1B2C3D4E5F}");
    assert_eq!(j["errors"]["0x80190193"], 1);
    assert_eq!(
        j["urls"],
        serde_json::json!(["https://backup.contoso.com/upload/db.bak"])
    );
}

#[test]
fn cut_table_values_are_completed_and_the_second_table_is_kept() {
    let r = analyze(&["ps-tables-cut.txt"]);
    assert_eq!(input(&r)["kind"], "powershell");
    // The cut file list could not be completed: said, not silent.
    assert_eq!(input(&r)["status"], "partial");
    assert!(r["warnings"].to_string().contains("FileList"));
    let jobs = r["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let wu = jobs.iter().find(|j| j["name"] == "WU Download 7").unwrap();
    assert_eq!(wu["state"], "SUSPENDED");
    assert_eq!(wu["owner"], "NT AUTHORITY\\SYSTEM");
    let inv = jobs.iter().find(|j| j["name"] == "Inventory feed").unwrap();
    assert_eq!(
        inv["urls"],
        serde_json::json!(["http://inv.contoso.com/feed.xml"])
    );
}

#[test]
fn sc_query_state_is_the_hosts_current_service_state() {
    let r = analyze(&["sc-query-stopped.txt"]);
    assert_eq!(input(&r)["kind"], "sc");
    let state = &host(&r)["service_state"];
    assert_eq!(state["state"], "STOPPED");
    assert_eq!(state["code"], 1);
    assert_eq!(state["win32_exit_code"], 1067);
    assert_eq!(state["evidence"], "sc-query-stopped.txt:5");
}

/// `analyze --format json` of whole folders (host folders keep their own names).
fn analyze_paths(paths: &[&Path]) -> Value {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .arg("analyze")
        .args(paths)
        .args(["--text-host", "HOST1", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const TEXT_KINDS: [&str; 6] = ["bitsadmin", "powershell", "sc", "reg", "netsh", "wulog"];

/// Every real-shaped capture (samples/, tests/captures/, the shared corpus's text files) has
/// no line that is not understood: banners, prompts, blank lines, headers, transcripts, help
/// and acknowledgements are all part of a capture. The only `partial` ones are partial for a
/// reason of their own.
#[test]
fn real_captures_have_no_line_not_understood() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("samples"), root.join("tests/captures")];
    match std::env::var_os("BITSDOCTOR_CORPUS") {
        Some(c) => paths.push(Path::new(&c).join("text")),
        None => eprintln!("BITSDOCTOR_CORPUS is not set: the corpus's text files are not checked"),
    }
    let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let r = analyze_paths(&paths);
    let mut partial = Vec::new();
    let mut seen = 0;
    for row in r["inputs"].as_array().unwrap() {
        if !TEXT_KINDS.contains(&row["kind"].as_str().unwrap()) {
            continue;
        }
        seen += 1;
        assert_eq!(row["skipped_records"], 0, "{row:#}");
        if row["status"] != "ok" {
            let path = row["path"].as_str().unwrap();
            partial.push(
                Path::new(path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    assert!(seen >= 60, "{seen} text captures");
    let warnings = r["warnings"].to_string();
    assert!(!warnings.contains("not understood"), "{warnings}");
    partial.sort();
    // The cp850 guess is named (legacy decodings are `partial`), a cut value could not be
    // completed, the transcription's GUID is blurred.
    let mut expected = vec!["netsh-fr-cp850.txt", "ps-tables-cut.txt"];
    if std::env::var_os("BITSDOCTOR_CORPUS").is_some() {
        expected.push("bitsadmin.png.TRANSCRIPTION.txt");
    }
    expected.sort();
    assert_eq!(partial, expected);
}

/// A capture of each kind with garbage after it keeps everything it read, and is `partial`
/// with the count of lines not understood.
#[test]
fn a_capture_followed_by_garbage_keeps_what_it_read_and_is_partial() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [
        "samples/WS-FIN-01/bitsadmin.txt",
        "samples/WS-FIN-01/sc-qc-bits.txt",
        "samples/WS-FIN-01/sc-qfailure-bits.txt",
        "samples/SRV-FILE-02/reg-query-bits.txt",
        "samples/WS-FIN-01/bits-policy.reg",
        "samples/WS-FIN-01/winhttp-proxy.txt",
        "tests/captures/WindowsUpdate-legacy.log",
        "tests/captures/WindowsUpdate-etl.log",
        "tests/captures/ps-tables-cut.txt",
        "tests/captures/netsh-ja.txt",
        "tests/captures/bitsadmin-transfer.txt",
    ];
    let garbage =
        "\r\n\u{1}q7#@ garbage line\r\n%$ \u{7f} more garbage, with a job in it\r\nKEY: value\r\n";
    let clean = tempfile::tempdir().unwrap();
    let dirty = tempfile::tempdir().unwrap();
    for (i, s) in sources.iter().enumerate() {
        let bytes = std::fs::read(root.join(s)).unwrap();
        let name = format!(
            "{i:02}-{}",
            Path::new(s).file_name().unwrap().to_string_lossy()
        );
        std::fs::write(clean.path().join(&name), &bytes).unwrap();
        let mut bytes = bytes;
        if bytes.starts_with(&[0xFF, 0xFE]) {
            bytes.extend(garbage.encode_utf16().flat_map(u16::to_le_bytes));
        } else {
            bytes.extend(garbage.as_bytes());
        }
        std::fs::write(dirty.path().join(&name), &bytes).unwrap();
    }
    let rows = |r: &Value| -> Vec<Value> {
        let mut rows = r["inputs"].as_array().unwrap().clone();
        rows.sort_by_key(|row| {
            let p = row["path"].as_str().unwrap();
            Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        });
        rows
    };
    let (a, b) = (
        analyze_paths(&[clean.path()]),
        analyze_paths(&[dirty.path()]),
    );
    let (ra, rb) = (rows(&a), rows(&b));
    assert_eq!(ra.len(), sources.len());
    for (ca, cb) in ra.iter().zip(&rb) {
        assert_eq!(ca["kind"], cb["kind"], "{cb:#}");
        assert_eq!(ca["observations"], cb["observations"], "{cb:#}");
        assert!(ca["observations"].as_u64().unwrap() > 0, "{ca:#}");
        assert_eq!(ca["skipped_records"], 0, "{ca:#}");
        assert_eq!(cb["status"], "partial", "{cb:#}");
        assert_eq!(cb["skipped_records"], 3, "{cb:#}");
        let reason = cb["reason"].as_str().unwrap();
        let before: u64 = match ca["reason"].as_str() {
            Some(r) => r.split(' ').next().unwrap().parse().unwrap(),
            None => 0,
        };
        assert_eq!(
            reason,
            format!("{} line(s) or value(s) not understood", before + 3)
        );
    }
    // The jobs, hosts and findings are the same (paths aside).
    let same = |key: &str| {
        let x = a[key]
            .to_string()
            .replace(&*clean.path().to_string_lossy(), "DIR");
        let y = b[key]
            .to_string()
            .replace(&*dirty.path().to_string_lossy(), "DIR");
        assert_eq!(x, y, "{key}");
    };
    same("jobs");
    same("hosts");
    same("diagnoses");
    let said = b["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            w["message"].as_str().unwrap().ends_with(
                "3 line(s) not understood and not read, the first: `\u{1}q7#@ garbage line`",
            )
        })
        .count();
    assert_eq!(said, sources.len(), "{:#}", b["warnings"]);
}
