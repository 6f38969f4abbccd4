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
const HOSTILE_NAME: &str =
    "Update\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\rnot me\u{9b}31m\u{202e}gpj.exe";

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
        .replace(
            "DISPLAY: 'Windows Update'",
            &format!("DISPLAY: '{HOSTILE_NAME}'"),
        )
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

// ---- Event-log integrity: checksums, chunks and the record accounting -------------------

const RECORDS_PER_SAMPLE_CHUNK: u64 = 23;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Recompute a chunk's header and record data checksums.
fn fix_chunk_checksums(c: &mut [u8]) {
    let free = u32_at(c, 48) as usize;
    let data = crc32fast::hash(&c[512..free.clamp(512, c.len())]);
    put(c, 52, &data.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&c[..120]);
    h.update(&c[128..512]);
    put(c, 124, &h.finalize().to_le_bytes());
}

fn fix_file_checksum(b: &mut [u8]) {
    let crc = crc32fast::hash(&b[..120]);
    put(b, 124, &crc.to_le_bytes());
}

/// A Bits-Client log of `n` chunks built from the sample's one chunk (23 records), renumbered
/// so the records run 1..=23n, every checksum right.
fn log_of_chunks(n: u64) -> Vec<u8> {
    let sample = std::fs::read(sample(BITS_LOG)).unwrap();
    let (header, chunk) = sample.split_at(4096);
    let mut out = header.to_vec();
    put(&mut out, 42, &(n as u16).to_le_bytes());
    put(
        &mut out,
        24,
        &(n * RECORDS_PER_SAMPLE_CHUNK + 1).to_le_bytes(),
    );
    put(&mut out, 16, &(n - 1).to_le_bytes());
    fix_file_checksum(&mut out);
    for k in 0..n {
        let mut c = chunk[..65536].to_vec();
        let first = k * RECORDS_PER_SAMPLE_CHUNK + 1;
        let last = first + RECORDS_PER_SAMPLE_CHUNK - 1;
        for (at, v) in [(8, first), (16, last), (24, first), (32, last)] {
            put(&mut c, at, &v.to_le_bytes());
        }
        let free = u32_at(&c, 48) as usize;
        let (mut at, mut id) = (512, first);
        while at < free {
            put(&mut c, at + 8, &id.to_le_bytes());
            at += u32_at(&c, at + 4) as usize;
            id += 1;
        }
        assert_eq!(id, last + 1);
        fix_chunk_checksums(&mut c);
        out.extend(c);
    }
    out
}

fn chunk_mut(log: &mut [u8], k: usize) -> &mut [u8] {
    &mut log[4096 + k * 65536..4096 + (k + 1) * 65536]
}

/// Analyse one crafted log (next to nothing else): its input row and the warnings on it.
fn analyze_log(bytes: &[u8]) -> (Value, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bits.evtx");
    std::fs::write(&path, bytes).unwrap();
    let (report, _) = analyze_json(&[&path]);
    let row = input(&report, "bits.evtx").clone();
    let warnings = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_string())
        .collect();
    (row, warnings)
}

/// The row is partial, its records read and lost add up to `total`, and a warning says why.
fn assert_partial(row: &Value, warnings: &[String], read: u64, total: u64, why: &str) {
    assert_eq!(row["status"], "partial", "{row:#}");
    assert_eq!(row["records"], read, "{row:#}");
    assert_eq!(row["skipped_records"], total - read, "{row:#}");
    assert!(
        warnings.iter().any(|w| w.contains(why)),
        "no warning with {why:?}: {warnings:#?}"
    );
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{read} record(s) read")) || total == read,
        "{reason}"
    );
}

#[test]
fn a_clean_multi_chunk_log_built_for_the_tests_is_ok() {
    let (row, warnings) = analyze_log(&log_of_chunks(4));
    assert_eq!(row["status"], "ok", "{row:#} {warnings:#?}");
    assert_eq!(row["records"], 4 * RECORDS_PER_SAMPLE_CHUNK);
    assert_eq!(row["skipped_records"], 0);
    assert!(warnings.is_empty(), "{warnings:#?}");
}

#[test]
fn a_bit_flip_in_record_data_fails_the_chunk_checksum() {
    let clean = log_of_chunks(4);
    let c = chunk_mut(&mut clone(&clean), 1).to_vec();
    // Flip one bit in the middle of each of a few records' data: the host name, a job name.
    for at in [700, 2000, 9000] {
        let mut log = clean.clone();
        chunk_mut(&mut log, 1)[at] ^= 0x04;
        assert_ne!(chunk_mut(&mut log, 1), &c[..]);
        let (row, warnings) = analyze_log(&log);
        assert_eq!(row["status"], "partial", "{at}: {row:#}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("chunk 1: record data checksum mismatch (records 24..46)")),
            "{at}: {warnings:#?}"
        );
    }
}

fn clone(b: &[u8]) -> Vec<u8> {
    b.to_vec()
}

#[test]
fn a_chunk_header_change_fails_its_checksum_and_lost_records_are_counted() {
    for free in [0u32, 513] {
        let mut log = log_of_chunks(4);
        put(chunk_mut(&mut log, 2), 48, &free.to_le_bytes());
        let (row, warnings) = analyze_log(&log);
        assert_partial(&row, &warnings, 69, 92, "chunk 2: header checksum mismatch");
        assert!(warnings
            .iter()
            .any(|w| w.contains("chunk 2: 0 of the 23 records its header declares read")));
    }
}

#[test]
fn a_free_space_offset_with_a_valid_checksum_still_loses_nothing_silently() {
    for free in [0u32, 513] {
        let mut log = log_of_chunks(1);
        let c = chunk_mut(&mut log, 0);
        put(c, 48, &free.to_le_bytes());
        fix_chunk_checksums(c);
        let (row, warnings) = analyze_log(&log);
        assert_partial(&row, &warnings, 0, 23, "0 of the 23 records");
    }
}

#[test]
fn a_log_cut_on_a_chunk_boundary_is_partial_with_the_missing_records() {
    let mut log = log_of_chunks(4);
    log.truncate(4096 + 65536);
    let (row, warnings) = analyze_log(&log);
    assert_partial(&row, &warnings, 23, 92, "ends after 1 of the 4 chunks");
}

#[test]
fn a_zeroed_chunk_in_the_middle_is_partial_with_its_records() {
    let mut log = log_of_chunks(4);
    chunk_mut(&mut log, 1).fill(0);
    let (row, warnings) = analyze_log(&log);
    assert_partial(&row, &warnings, 69, 92, "chunk 1: all zeros");
}

#[test]
fn a_chunk_without_signature_or_cut_short_is_partial() {
    let mut log = log_of_chunks(3);
    chunk_mut(&mut log, 1)[..8].copy_from_slice(b"XXXXXXXX");
    let (row, warnings) = analyze_log(&log);
    assert_partial(&row, &warnings, 46, 69, "chunk 1: no chunk signature");

    let mut log = log_of_chunks(3);
    log.truncate(4096 + 2 * 65536 + 30000);
    let (row, warnings) = analyze_log(&log);
    assert_partial(&row, &warnings, 46, 69, "chunk 2: truncated");
}

#[test]
fn a_file_header_bit_flip_fails_its_checksum() {
    let mut log = log_of_chunks(2);
    log[30] ^= 0x01;
    let (row, warnings) = analyze_log(&log);
    assert_eq!(row["status"], "partial", "{row:#}");
    assert_eq!(row["records"], 46);
    assert!(warnings
        .iter()
        .any(|w| w.contains("file header checksum mismatch")));
}

// ---- --out: symlinks, one set, errors naming the file ------------------------------------

const SET: [&str; 6] = [
    "report.json",
    "diagnoses.csv",
    "jobs.csv",
    "updates.csv",
    "events.csv",
    "report.html",
];

#[cfg(unix)]
#[test]
fn out_never_follows_a_symlink_in_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("report.html")).unwrap();
    bitsdoctor()
        .arg("analyze")
        .arg(sample("WS-FIN-01"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(predicates::ord::lt(2));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let html = std::fs::symlink_metadata(out.join("report.html")).unwrap();
    assert!(
        html.file_type().is_file(),
        "the link was replaced by the report"
    );
    assert!(std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains("<html"));
}

#[test]
fn a_failed_out_leaves_the_old_set_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    bitsdoctor()
        .arg("analyze")
        .arg(sample("WS-FIN-01"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(predicates::ord::lt(2));
    let old: Vec<Vec<u8>> = SET
        .iter()
        .map(|n| std::fs::read(out.join(n)).unwrap())
        .collect();
    // events.csv becomes a folder: the next run cannot replace it.
    std::fs::remove_file(out.join("events.csv")).unwrap();
    std::fs::create_dir(out.join("events.csv")).unwrap();
    let run = bitsdoctor()
        .arg("analyze")
        .arg(sample("WS-FIN-02"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(err.contains("events.csv"), "{err}");
    for (name, bytes) in SET.iter().zip(&old) {
        if *name != "events.csv" {
            assert_eq!(&std::fs::read(out.join(name)).unwrap(), bytes, "{name}");
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "diagnoses.csv",
            "events.csv",
            "jobs.csv",
            "report.html",
            "report.json",
            "summary.json",
            "updates.csv"
        ],
        "no temporary file is left"
    );
}

// ---- Memory bounded by design -----------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_fifo_in_a_folder_gets_a_skipped_row_and_the_run_does_not_wait_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let host = copy_host(dir.path());
    let fifo = host.join("pipe.txt");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("mkfifo is not available: skipping");
            return;
        }
    }
    let (report, _) = analyze_json(&[&host]);
    let row = input(&report, "pipe.txt");
    assert_eq!(row["status"], "skipped", "{row:#}");
    assert!(row["reason"].as_str().unwrap().contains("FIFO"), "{row:#}");
    assert!(
        input(&report, "bitsadmin.txt")["observations"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[cfg(unix)]
#[test]
fn a_knowledge_file_that_never_ends_is_refused() {
    if !Path::new("/dev/zero").exists() {
        eprintln!("/dev/zero is missing: skipping");
        return;
    }
    let out = bitsdoctor()
        .args(["--knowledge", "/dev/zero", "explain", "0x80200013"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("/dev/zero") && err.contains("larger than 16 MiB"),
        "{err}"
    );
}

#[test]
fn threads_far_above_the_cores_are_capped_with_a_note() {
    let (report, _) = {
        let out = bitsdoctor()
            .arg("analyze")
            .arg(sample("WS-FIN-01"))
            .args(["--threads", "100000", "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.code().unwrap() < 2);
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), ())
    };
    let note = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["path"] == "--threads")
        .unwrap_or_else(|| panic!("{:#}", report["warnings"]));
    assert!(note["message"]
        .as_str()
        .unwrap()
        .contains("100000 threads asked"));
}

/// A verbose bitsadmin capture of `jobs` distinct failing jobs.
fn bitsadmin_capture(jobs: usize) -> String {
    let one = std::fs::read_to_string(sample("WS-FIN-01/bitsadmin.txt")).unwrap();
    let start = one.find("GUID: {").unwrap();
    let end = one.find("Listed ").unwrap();
    let block = &one[start..end];
    let mut out = one[..start].to_string();
    for i in 0..jobs {
        out.push_str(&block.replace(
            "{E6C7228A-7890-4916-AA11-2FBBC2B73990}",
            &format!("{{E6C7228A-7890-4916-AA11-{i:012X}}}"),
        ));
    }
    out.push_str(&format!("Listed {jobs} job(s).\n"));
    out
}

#[test]
fn a_text_input_over_the_cap_is_read_up_to_it_and_partial() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("WS01");
    std::fs::create_dir(&host).unwrap();
    let capture = bitsadmin_capture(30_000);
    assert!(capture.len() as u64 > bitsdoctor::ingest::MAX_TEXT_BYTES);
    std::fs::write(host.join("bitsadmin.txt"), &capture).unwrap();
    let (report, _) = analyze_json(&[&host]);
    let row = input(&report, "bitsadmin.txt");
    assert_eq!(row["status"], "partial", "{row:#}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("only the first 32 MiB read"),
        "{warnings}"
    );
    let jobs = report["jobs"].as_array().unwrap().len();
    assert!(jobs > 10_000 && jobs < 30_000, "{jobs}");
}

/// Found by the `analyze_one` fuzz target: a job URL with a character across its fifth byte
/// (`http\u{ff}\u{ff}\u{ff}l://...`) panicked the security lens and ended the whole run.
#[test]
fn a_url_with_a_character_across_its_fifth_byte_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("WS01");
    std::fs::create_dir(&host).unwrap();
    let capture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/bitsadmin-info-verbose.txt"),
    )
    .unwrap()
    .replacen(
        "ERROR FILE:    http://",
        "ERROR FILE:    http\u{ff}\u{ff}\u{ff}l://",
        1,
    );
    assert!(capture.contains("http\u{ff}"));
    std::fs::write(host.join("bitsadmin.txt"), capture).unwrap();
    let (report, code) = analyze_json(&[&host]);
    assert!(code == 0 || code == 1, "exit {code}");
    assert_eq!(input(&report, "bitsadmin.txt")["status"], "ok");
    assert_eq!(report["jobs"].as_array().unwrap().len(), 1);
}

#[test]
fn a_log_that_gives_no_record_and_no_count_of_lost_ones_is_unreadable_not_partial() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = log_of_chunks(1);
    bad.truncate(4096);
    put(&mut bad, 42, &7u16.to_le_bytes()); // chunk count changed, checksum left as it was
    std::fs::write(dir.path().join("bad.evtx"), &bad).unwrap();
    // A sound header whose one chunk is missing: nothing read either.
    let mut cut = log_of_chunks(1);
    cut.truncate(4096);
    std::fs::write(dir.path().join("cut.evtx"), &cut).unwrap();
    std::fs::write(dir.path().join("good.evtx"), log_of_chunks(1)).unwrap();
    let (report, _) = analyze_json(&[dir.path()]);
    for (name, why) in [
        ("bad.evtx", "file header checksum mismatch"),
        ("cut.evtx", "ends after 0 of the 1 chunks"),
    ] {
        let row = input(&report, name);
        assert_eq!(row["status"], "skipped", "{row:#}");
        let reason = row["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("unreadable: no record could be read"),
            "{reason}"
        );
        assert!(reason.contains(why), "{reason}");
    }
    assert_eq!(input(&report, "good.evtx")["status"], "ok");
}
