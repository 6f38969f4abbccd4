//! Times, hosts and inputs as an analyst gives them (issue 12), from the command line: time
//! input, local console times against event-log times, the host filter and the label for loose
//! captures, duplicate inputs, and refusals. Runs on the committed samples/ bundle and on
//! folders built in temp dirs.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn bitsdoctor() -> Command {
    Command::cargo_bin("bitsdoctor").unwrap()
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// `analyze ARGS... --format json` on success, parsed.
fn json(args: &[&str], paths: &[&Path]) -> Value {
    let out = bitsdoctor()
        .arg("analyze")
        .args(paths)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// How many jobs have a UTC last_seen (event-log activity inside the window).
fn jobs_seen_in_logs(r: &Value) -> usize {
    r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["last_seen"].as_str().is_some_and(|t| t.ends_with('Z')))
        .count()
}

// ---- 1. time input ------------------------------------------------------------------------

#[test]
fn since_without_zone_keeps_its_time_of_day() {
    let s = samples();
    let whole_day = json(&["--since", "2024-03-11"], &[&s]);
    let noon_z = json(&["--since", "2024-03-11T12:00:00Z"], &[&s]);
    assert!(jobs_seen_in_logs(&noon_z) < jobs_seen_in_logs(&whole_day));
    // No zone means UTC: the same window as with Z, in both spellings.
    for form in [
        "2024-03-11T12:00:00",
        "2024-03-11 12:00",
        "2024-03-11t12:00:00",
    ] {
        let r = json(&["--since", form], &[&s]);
        assert_eq!(r, noon_z, "--since {form}");
    }
}

#[test]
fn timezone_places_times_given_without_zone() {
    let s = samples();
    let noon_z = json(&["--since", "2024-03-11T12:00:00Z"], &[&s]);
    let berlin = json(
        &["--since", "2024-03-11 13:00", "--timezone", "Europe/Berlin"],
        &[&s],
    );
    let plus1 = json(
        &["--since", "2024-03-11T13:00", "--timezone", "+01:00"],
        &[&s],
    );
    assert_eq!(berlin["jobs"], noon_z["jobs"]);
    assert_eq!(plus1["jobs"], noon_z["jobs"]);
    assert_eq!(berlin["window"]["since"], "2024-03-11T12:00:00Z");
}

#[test]
fn relative_spans_count_back_from_the_newest_event_and_say_so() {
    let s = samples();
    let r = json(&["--since", "1h"], &[&s]);
    // The newest event of the samples is at 15:25:04Z.
    assert_eq!(r["window"]["since"], "2024-03-11T14:25:04.844261Z");
    let from = r["window"]["relative_to"].as_str().unwrap();
    assert!(from.contains("newest event"), "{from}");
    assert!(jobs_seen_in_logs(&r) < jobs_seen_in_logs(&json(&[], &[&s])));
    let text = bitsdoctor()
        .arg("analyze")
        .arg(&s)
        .args(["--since", "1h"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("counted back from the newest event"),
        "{text}"
    );
}

#[test]
fn bad_times_are_usage_errors_that_say_what_is_accepted() {
    for args in [
        &["--since", "yesterday"][..],
        &["--until", "11/03/2024"],
        &["--since", "2024-03-11 25:00"],
        &["--timezone", "Mars/Olympus"],
        &["--since", "2024-03-12", "--until", "2024-03-11"],
    ] {
        let out = bitsdoctor()
            .arg("analyze")
            .arg(samples())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        let says = ["2024-03-11T09:00", "Europe/Berlin", "after --until"];
        assert!(says.iter().any(|s| err.contains(s)), "{args:?}: {err}");
    }
}

// ---- 2. local console times against event-log times ---------------------------------------

/// `analyze PATHS... ARGS... --out DIR` into a new temporary DIR.
fn analyze_out(paths: &[&Path], args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    bitsdoctor()
        .arg("analyze")
        .args(paths)
        .args(args)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(predicates::ord::lt(2));
    dir
}

/// `analyze PATHS... ARGS... --out DIR`: the file `name` of the set.
fn out_file(paths: &[&Path], args: &[&str], name: &str) -> String {
    let dir = analyze_out(paths, args);
    std::fs::read_to_string(dir.path().join(name)).unwrap()
}

/// A CSV file as rows of cells (no cell of these reports holds a quoted comma or line break
/// in the columns read here).
fn rows(csv: &str) -> Vec<Vec<String>> {
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| {
        panic!("no column {name} in {header:?}");
    })
}

const DBF6: &str = "{DBF6C07C-659E-47AA-9705-6889D01534FD}";

/// SRV-APP-03's Bits-Client log and its bitsadmin listing, the listing printed on a clock two
/// hours ahead of UTC.
fn host_two_hours_ahead() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("SRV-APP-03");
    std::fs::create_dir(&host).unwrap();
    let src = samples().join("SRV-APP-03");
    let log = "Microsoft-Windows-Bits-Client%4Operational.evtx";
    std::fs::copy(src.join(log), host.join(log)).unwrap();
    let listing = std::fs::read_to_string(src.join("bitsadmin.txt"))
        .unwrap()
        .replace("3/11/2024 8:", "3/11/2024 10:");
    std::fs::write(host.join("bitsadmin.txt"), listing).unwrap();
    dir
}

#[test]
fn a_job_in_a_log_and_a_listing_starts_when_the_log_says() {
    let r = json(&[], &[&samples()]);
    let job = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == DBF6)
        .unwrap();
    // It was created at 08:11:32Z and failed from 08:12:03Z; the listing (08:41:44 local)
    // is not its first sighting.
    assert_eq!(job["first_seen"], "2024-03-11T08:11:32.419483Z");
    assert_eq!(job["first_seen_basis"], "utc");
    assert_eq!(job["last_seen_basis"], "utc");
}

#[test]
fn the_hosts_offset_is_inferred_and_local_times_are_placed() {
    let dir = host_two_hours_ahead();
    let r = json(&[], &[dir.path()]);
    let host = &r["hosts"][0];
    let clock = host["clock"].as_str().unwrap();
    assert!(clock.contains("UTC+02:00 inferred from job"), "{clock}");
    let job = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == DBF6)
        .unwrap();
    assert_eq!(job["first_seen"], "2024-03-11T08:11:32.419483Z");
    // The listing's 10:41:44 local is 08:41:44Z, just before the log's last event.
    assert_eq!(job["last_seen"], "2024-03-11T08:41:44.822822Z");

    let events = rows(&out_file(&[dir.path()], &[], "events.csv"));
    let (time, basis) = (column(&events[0], "time"), column(&events[0], "time_basis"));
    let placed: Vec<jiff::Timestamp> = events[1..]
        .iter()
        .filter(|r| r[basis] == "utc" || r[basis] == "local-known-offset")
        .map(|r| r[time].parse().unwrap())
        .collect();
    assert!(events[1..].iter().any(|r| r[basis] == "local-known-offset"));
    assert!(placed.len() + 1 >= events.len() - 1, "rows left unplaced");
    assert!(
        placed.windows(2).all(|w| w[0] <= w[1]),
        "events.csv not in time order"
    );
}

#[test]
fn local_times_of_unknown_offset_say_so_and_timezone_places_them() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("SRV-APP-03");
    std::fs::create_dir(&host).unwrap();
    std::fs::copy(
        samples().join("SRV-APP-03/bitsadmin.txt"),
        host.join("bitsadmin.txt"),
    )
    .unwrap();
    let jobs = rows(&out_file(&[dir.path()], &[], "jobs.csv"));
    let (id, first, basis) = (
        column(&jobs[0], "id"),
        column(&jobs[0], "first_seen"),
        column(&jobs[0], "first_seen_basis"),
    );
    let row = jobs.iter().find(|r| r[id] == DBF6).unwrap();
    // First seen when it was created (the listing's CREATION TIME, not its MODIFICATION TIME).
    assert_eq!(row[first], "2024-03-11T08:11:32");
    assert_eq!(row[basis], "local-unknown");

    let jobs = rows(&out_file(
        &[dir.path()],
        &["--timezone", "+02:00"],
        "jobs.csv",
    ));
    let row = jobs.iter().find(|r| r[id] == DBF6).unwrap();
    assert_eq!(row[first], "2024-03-11T08:11:32+02:00");
    assert_eq!(row[basis], "local-known-offset");
    // Placed, the window applies to it: its last sighting, 08:41:44+02:00, is 06:41:44Z, before
    // 07:00Z; unplaced, it cannot be shown to lie outside and is kept.
    let has = |r: &Value| {
        r["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == DBF6)
    };
    let since = ["--since", "2024-03-11T07:00:00Z"];
    assert!(has(&json(&since, &[dir.path()])));
    let placed = [&since[..], &["--timezone", "+02:00"]].concat();
    assert!(!has(&json(&placed, &[dir.path()])));
}

// ---- 3. --host filters; --text-host names loose captures ----------------------------------

fn host_names(r: &Value) -> Vec<String> {
    r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect()
}

fn fleet_diagnoses(r: &Value) -> usize {
    r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["scope"] == "fleet")
        .count()
}

#[test]
fn host_filters_instead_of_relabelling() {
    let s = samples();
    for name in ["WS-LAB-11", "ws-lab-11.contoso.local", "WS-LAB-1?"] {
        let r = json(&["--host", name], &[&s]);
        assert_eq!(host_names(&r), ["WS-LAB-11.contoso.local"], "--host {name}");
        assert_eq!(fleet_diagnoses(&r), 0, "--host {name}");
        assert!(r["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["host"] == "WS-LAB-11.contoso.local"));
    }
    // One machine's folder filtered to that machine stays one host.
    let r = json(&["--host", "WS-LAB-11"], &[&s.join("WS-LAB-11")]);
    assert_eq!(host_names(&r), ["WS-LAB-11.contoso.local"]);
}

#[test]
fn host_is_repeatable_and_takes_globs() {
    let r = json(
        &["--host", "WS-FIN-*", "--host", "SRV-APP-03"],
        &[&samples()],
    );
    assert_eq!(
        host_names(&r),
        [
            "SRV-APP-03.contoso.local",
            "WS-FIN-01.contoso.local",
            "WS-FIN-02.contoso.local"
        ]
    );
    // The Range fleet finding spans WS-FIN-01 and WS-FIN-02 only now.
    let fleet: Vec<&Value> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["scope"] == "fleet")
        .collect();
    assert_eq!(fleet.len(), 1);
    assert_eq!(fleet[0]["hosts"].as_array().unwrap().len(), 2);
}

#[test]
fn a_host_pattern_that_matches_nothing_is_a_warning() {
    let r = json(&["--host", "WS-NOPE"], &[&samples()]);
    assert!(host_names(&r).is_empty());
    let w = r["warnings"].to_string();
    assert!(w.contains("--host WS-NOPE matches no host"), "{w}");
    assert!(w.contains("WS-LAB-11.contoso.local"), "{w}");
}

#[test]
fn text_host_names_loose_captures_and_never_merges_machines() {
    let s = samples();
    // A loose capture, given as a file: it takes the name.
    let r = json(
        &["--text-host", "WS09"],
        &[&s.join("WS-LAB-11/sc-qc-bits.txt")],
    );
    assert_eq!(host_names(&r), ["WS09"]);
    // Captures whose machine is known keep it: still five hosts, no invented sixth.
    let all = json(&[], &[&s]);
    let named = json(&["--text-host", "WS09"], &[&s]);
    assert_eq!(host_names(&named), host_names(&all));
    assert_eq!(named["diagnoses"], all["diagnoses"]);
}

// ---- 4. duplicate inputs -------------------------------------------------------------------

/// A copy of samples/ in a temp dir.
fn samples_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for host in std::fs::read_dir(samples()).unwrap() {
        let host = host.unwrap();
        if !host.file_type().unwrap().is_dir() {
            continue;
        }
        let to = dir.path().join(host.file_name());
        std::fs::create_dir(&to).unwrap();
        for f in std::fs::read_dir(host.path()).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    dir
}

const FIN02_LOG: &str = "WS-FIN-02/Microsoft-Windows-Bits-Client%4Operational.evtx";

fn range_fleet_occurrences(r: &Value) -> u64 {
    r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["scope"] == "fleet" && d["code"] == "0x80200013")
        .unwrap()["occurrences"]
        .as_u64()
        .unwrap()
}

fn inputs_saying<'a>(r: &'a Value, words: &str) -> Vec<&'a Value> {
    r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["reason"].as_str().is_some_and(|x| x.contains(words)))
        .collect()
}

#[test]
fn a_copy_of_a_log_is_read_once_and_says_which() {
    let dir = samples_copy();
    let base = json(&[], &[dir.path()]);
    assert_eq!(range_fleet_occurrences(&base), 6);
    assert!(
        inputs_saying(&base, "same content").is_empty(),
        "no copies yet"
    );
    let log = dir.path().join(FIN02_LOG);
    let copy = dir.path().join("WS-FIN-02/Bits-Client (copy).evtx");
    std::fs::copy(&log, &copy).unwrap();
    std::fs::copy(
        dir.path().join("WS-FIN-02/bitsadmin.txt"),
        dir.path().join("WS-FIN-02/bitsadmin (2).txt"),
    )
    .unwrap();
    let r = json(&[], &[dir.path()]);
    assert_eq!(range_fleet_occurrences(&r), 6, "the copy counted twice");
    let errors = |r: &Value| -> Vec<(String, String)> {
        let jobs = r["jobs"].as_array().unwrap().iter();
        jobs.map(|j| (j["id"].to_string(), j["errors"].to_string()))
            .collect()
    };
    assert_eq!(errors(&r), errors(&base));
    let copies = inputs_saying(&r, "same content as");
    assert_eq!(copies.len(), 2, "{copies:?}");
    for c in copies {
        assert_eq!(c["status"], "skipped");
        assert!(c["reason"]
            .as_str()
            .unwrap()
            .contains("which is read instead"));
    }
}

#[test]
fn records_in_two_exports_of_one_log_are_counted_once() {
    let dir = samples_copy();
    // A second export of WS-FIN-02's log, inside a zip bundle next to the folder.
    let bundle = dir.path().join("second-export.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&bundle).unwrap());
    w.start_file(
        "export/Bits-Client.evtx",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let bytes = std::fs::read(dir.path().join(FIN02_LOG)).unwrap();
    std::io::Write::write_all(&mut w, &bytes).unwrap();
    w.finish().unwrap();
    let r = json(&[], &[dir.path()]);
    assert_eq!(
        range_fleet_occurrences(&r),
        6,
        "overlapping records counted twice"
    );
    let noted = inputs_saying(&r, "counted once");
    assert_eq!(noted.len(), 1, "{noted:?}");
    let reason = noted[0]["reason"].as_str().unwrap();
    assert!(reason.contains(FIN02_LOG), "{reason}");
}

/// `analyze --out` of `paths` with `args`: (report.json, events.csv).
fn out_set(paths: &[&Path], args: &[&str]) -> (Value, String) {
    let dir = analyze_out(paths, args);
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    (
        serde_json::from_str(&read("report.json")).unwrap(),
        read("events.csv"),
    )
}

/// What a report concludes, whichever input each record was counted from: diagnoses (rule,
/// code, hosts, jobs, occurrences) and jobs (id, outcome, errors, first and last seen).
fn conclusions(r: &Value) -> (Vec<String>, Vec<String>) {
    let list = |key: &str, fields: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = r[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                fields
                    .iter()
                    .map(|f| x[f].to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        v.sort();
        v
    };
    (
        list(
            "diagnoses",
            &["rule", "code", "hosts", "jobs", "occurrences"],
        ),
        list(
            "jobs",
            &["host", "id", "outcome", "errors", "first_seen", "last_seen"],
        ),
    )
}

#[test]
fn overlapping_exports_give_one_report_whatever_order_they_are_read_in() {
    let scenario = synth::samples::scenario();
    let whole = tempfile::tempdir().unwrap();
    let written = synth::write_bundle(&scenario, whole.path()).unwrap();
    let host = scenario
        .hosts
        .iter()
        .position(|h| h.folder == "WS-FIN-02")
        .unwrap();
    let n = written.hosts[host].bits_records as usize;
    assert!(n >= 12, "{n} records");
    // Records 1..2n/3 and n/3..n: the middle third is in both exports.
    let (a, b) = (0..2 * n / 3, n / 3..n);
    let exports = synth::bits_log_exports(&scenario, host, &[a, b]).unwrap();
    let split = |names: [&str; 2]| -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        synth::write_bundle(&scenario, dir.path()).unwrap();
        let folder = dir.path().join("WS-FIN-02");
        std::fs::remove_file(folder.join(synth::BITS_LOG)).unwrap();
        for (name, bytes) in names.iter().zip(&exports) {
            std::fs::write(folder.join(name), bytes).unwrap();
        }
        dir
    };
    let (base, base_events) = out_set(&[whole.path()], &[]);
    // Either export first in path order (the first export holds records 1..2n/3).
    for names in [
        ["Bits-1.evtx", "Bits-2.evtx"],
        ["Bits-2.evtx", "Bits-1.evtx"],
    ] {
        let dir = split(names);
        let (r, events) = out_set(&[dir.path()], &["--threads", "1"]);
        assert_eq!(conclusions(&r), conclusions(&base), "{names:?}");
        assert_eq!(events.lines().count(), base_events.lines().count());
        let noted = inputs_saying(&r, "counted once");
        assert_eq!(noted.len(), 1, "{noted:?}");
        // Counted from the first in path order, whichever export it is.
        assert!(noted[0]["path"].as_str().unwrap().ends_with("Bits-2.evtx"));
        let reason = noted[0]["reason"].as_str().unwrap();
        assert!(reason.contains("Bits-1.evtx"), "{reason}");
        // Whichever export a worker finishes first: the same files, byte for byte.
        for threads in ["2", "4"] {
            let (again, again_events) = out_set(&[dir.path()], &["--threads", threads]);
            assert_eq!(again, r, "--threads {threads}");
            assert_eq!(again_events, events, "--threads {threads}");
        }
    }
}

#[test]
fn identical_captures_of_different_machines_are_both_read() {
    // sc qc of two healthy hosts is byte for byte the same: two facts, not a copy.
    let r = json(&[], &[&samples()]);
    assert!(inputs_saying(&r, "same content").is_empty());
    let hosts_with_config = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["config"].as_object().is_some_and(|c| !c.is_empty()))
        .count();
    // Every host's own sc / reg captures are read, even where another host's are identical.
    assert_eq!(hosts_with_config, host_names(&r).len());
    assert!(hosts_with_config >= 5);
}

// ---- 5. refusals ---------------------------------------------------------------------------

fn run(paths: &[&Path], args: &[&str]) -> (Option<i32>, String, String) {
    let out = bitsdoctor()
        .arg("analyze")
        .args(paths)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_missing_path_next_to_good_inputs_is_named_on_stderr_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("WS09-System.evtx");
    let (code, stdout, stderr) = run(&[&samples().join("WS-LAB-11"), &missing], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    // The report of what could be read is still written.
    assert!(stdout.contains("the BITS service is disabled"), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("WS09-System.evtx"), "{stderr}");
    assert!(lines[0].contains("missing"), "{stderr}");
}

#[test]
fn nothing_readable_says_why_for_each_path() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "Customer says downloads are slow since Monday.\n").unwrap();
    let broken = dir.path().join("System.evtx");
    std::fs::write(&broken, b"ElfFile\0 cut short").unwrap();
    let missing = dir.path().join("gone");
    let (code, stdout, stderr) = run(&[&notes, &broken, &missing], &[]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    let line = |name: &str| {
        stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}: {stderr}"))
            .to_string()
    };
    assert!(line("notes.txt").contains("not a kind of input bitsdoctor reads"));
    assert!(line("System.evtx").contains("truncated"), "{stderr}");
    assert!(line("gone").contains("missing"), "{stderr}");
    assert!(stderr.contains("no input could be read (3 path(s) given)"));
    assert_eq!(stderr.lines().count(), 4, "{stderr}");
}

#[test]
fn a_folder_with_nothing_readable_says_why() {
    let empty = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(&[empty.path()], &[]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    let folder = format!("{}: a folder with no files in it", empty.path().display());
    assert!(stderr.contains(&folder), "{stderr}");
    assert!(stderr.contains("no input could be read (1 path(s) given)"));
    assert_eq!(stderr.lines().count(), 2, "{stderr}");

    // Files that are all no capture: each says why, since nothing else was read.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("junk.bin"),
        [0u8, 159, 146, 150, 1, 255].repeat(500),
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.txt"), b"").unwrap();
    let (code, _, stderr) = run(&[dir.path()], &[]);
    assert_eq!(code, Some(2));
    let said = |name: &str, why: &str| stderr.lines().any(|l| l.contains(name) && l.contains(why));
    assert!(
        said("junk.bin", "not a kind of input bitsdoctor reads"),
        "{stderr}"
    );
    assert!(said("empty.txt", "empty file"), "{stderr}");
    assert!(stderr.contains("no input could be read (1 path(s) given)"));
}

#[test]
fn an_unreadable_input_alone_says_why_and_json_still_has_its_row() {
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.txt", b"", "empty file"),
        (
            "junk.bin",
            &[0, 159, 146, 150, 1, 255, 7, 0, 0, 13],
            "not a kind of input bitsdoctor reads",
        ),
        (
            "notes.txt",
            b"Downloads are slow since Monday.\n",
            "not a kind of input bitsdoctor reads",
        ),
        ("System.evtx", b"ElfFile\0 cut short", "truncated evtx file"),
    ];
    for (name, bytes, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (code, stdout, stderr) = run(&[&path], &[]);
        assert_eq!(code, Some(2), "{name}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(name) && first.contains(why),
            "{name}: {stderr}"
        );

        let (code, stdout, stderr) = run(&[&path], &["--format", "json"]);
        assert_eq!(code, Some(2), "{name}");
        assert!(stderr.contains(why), "{name}: {stderr}");
        let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rows = r["inputs"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{name}: {rows:?}");
        assert_eq!(rows[0]["status"], "skipped", "{name}");
        assert!(rows[0]["path"].as_str().unwrap().ends_with(name));
        assert!(rows[0]["reason"].as_str().unwrap().contains(why), "{name}");
        assert_eq!(r["jobs"].as_array().unwrap().len(), 0);
    }
}

#[test]
fn faults_inside_a_folder_are_named_but_do_not_change_the_exit_code() {
    let dir = samples_copy();
    std::fs::write(
        dir.path().join("WS-LAB-11/Application.evtx"),
        b"ElfFile\0 cut",
    )
    .unwrap();
    // Notes beside the logs are no fault: not on stderr.
    std::fs::write(dir.path().join("WS-LAB-11/notes.txt"), "called the user\n").unwrap();
    let (code, _, stderr) = run(&[dir.path()], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("WS-LAB-11/Application.evtx: truncated"),
        "{stderr}"
    );
}

#[test]
fn unreadable_files_say_permission_denied() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bitsadmin.txt");
    std::fs::copy(samples().join("SRV-APP-03/bitsadmin.txt"), &file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let mut probe = String::new();
    if std::fs::File::open(&file)
        .and_then(|mut f| f.read_to_string(&mut probe))
        .is_ok()
    {
        eprintln!("SKIP: this user can read a file without read permission (root, or not Unix)");
        return;
    }
    let (code, _, stderr) = run(&[&file, &samples().join("WS-LAB-11")], &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("bitsadmin.txt: permission denied"),
        "{stderr}"
    );
}
