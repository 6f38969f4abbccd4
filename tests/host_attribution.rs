//! Host attribution over real bundle layouts: nested case folders, zips of case folders, zips
//! inside folders, an event log next to text captures, and a short name beside its FQDN. Each
//! layout is built from one generated bundle (one folder per host, event logs and text
//! captures), rearranged, and analysed as `bitsdoctor analyze ROOT` would.

use bitsdoctor::app::{analyze, Config};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};
use synth::{Attempt, CaptureSet, HostSpec, JobSpec, Scenario};

const TEXT: &[&str] = &["bitsadmin.txt", "sc-qc-bits.txt", "sc-query-bits.txt"];
const LOGS: &[&str] = &[synth::BITS_LOG, synth::SYSTEM_LOG];

/// A generated bundle of `hosts` (short names; FQDN `NAME.contoso.local` in the event logs),
/// each with a queued job in `bitsadmin` and the `sc` captures.
fn generated(hosts: &[&str]) -> tempfile::TempDir {
    generated_in(hosts, "contoso.local")
}

fn generated_in(hosts: &[&str], domain: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let specs = hosts
        .iter()
        .map(|h| {
            let mut s = HostSpec::new(&format!("{h}.{domain}"), h);
            let mut j = JobSpec::windows_update(
                "http://wsus01.contoso.local:8530/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
                vec![Attempt::Succeed],
            );
            j.in_bitsadmin = true;
            s.jobs = vec![j];
            s.captures = CaptureSet {
                bitsadmin: true,
                sc_qc: true,
                sc_query: true,
                ..CaptureSet::none()
            };
            s
        })
        .collect();
    let scenario = Scenario {
        hosts: specs,
        start: "2024-05-06T08:00:00Z".parse().unwrap(),
        seed: 7,
    };
    synth::write_bundle(&scenario, dir.path()).unwrap();
    dir
}

/// Copy `files` of generated host `host` into `to`.
fn copy(from: &Path, host: &str, files: &[&str], to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in files {
        std::fs::copy(from.join(host).join(f), to.join(f)).unwrap();
    }
}

/// A zip of (name in the zip, bytes).
fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn entries(from: &Path, host: &str, files: &[&str], prefix: &str) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|f| {
            (
                format!("{prefix}{f}"),
                std::fs::read(from.join(host).join(f)).unwrap(),
            )
        })
        .collect()
}

fn run(root: &Path) -> Report {
    let cfg = Config {
        paths: vec![root.to_path_buf()],
        threads: 1,
        ..Config::default()
    };
    analyze(&cfg, Knowledge::shared()).unwrap()
}

fn hosts(r: &Report) -> Vec<&str> {
    r.hosts.iter().map(|h| h.name.as_str()).collect()
}

/// The host of every text input whose path ends with `file`.
fn text_hosts<'a>(r: &'a Report, file: &str) -> Vec<(&'a str, &'a str)> {
    r.inputs
        .iter()
        .filter(|i| i.path.ends_with(file))
        .map(|i| (i.path.as_str(), i.host.as_str()))
        .collect()
}

fn tickets(dir: &Path) -> PathBuf {
    dir.join("tickets")
}

#[test]
fn nested_case_folders_name_the_host_folder_not_the_case() {
    let g = generated(&["WS-0201", "WS-0202"]);
    let out = tempfile::tempdir().unwrap();
    for h in ["WS-0201", "WS-0202"] {
        copy(
            g.path(),
            h,
            TEXT,
            &tickets(out.path()).join("CASE-1042").join(h),
        );
    }
    let r = run(&tickets(out.path()));
    assert_eq!(hosts(&r), ["WS-0201", "WS-0202"]);
    for (path, host) in text_hosts(&r, "bitsadmin.txt") {
        assert!(path.contains(&format!("/{host}/")), "{path} -> {host}");
    }
    assert_eq!(r.jobs.len(), 2);
}

#[test]
fn a_zip_of_a_case_folder_keeps_its_hosts_apart() {
    let g = generated(&["WS-0201", "WS-0202"]);
    let out = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for h in ["WS-0201", "WS-0202"] {
        all.extend(entries(g.path(), h, TEXT, &format!("case/{h}/")));
        all.extend(entries(g.path(), h, LOGS, &format!("case/{h}/evtx/")));
    }
    std::fs::write(out.path().join("case.zip"), zip(&all)).unwrap();
    let r = run(out.path());
    // Text and event logs of each host folder are one host, its FQDN from the logs.
    assert_eq!(
        hosts(&r),
        ["WS-0201.contoso.local", "WS-0202.contoso.local"]
    );
    let got = text_hosts(&r, "sc-qc-bits.txt");
    assert_eq!(got.len(), 2);
    for (path, host) in got {
        assert!(path.contains("case.zip!case/"), "{path}");
        assert!(
            path.contains(&format!("/{}/", &host[..7])),
            "{path} -> {host}"
        );
    }
}

#[test]
fn zips_inside_case_folders_are_named_by_their_stem() {
    let g = generated(&["WS-0301", "WS-0302"]);
    let out = tempfile::tempdir().unwrap();
    let case = tickets(out.path()).join("CASE-7");
    std::fs::create_dir_all(&case).unwrap();
    for h in ["WS-0301", "WS-0302"] {
        let z = zip(&entries(g.path(), h, TEXT, "collected/logs/"));
        std::fs::write(case.join(format!("{h}.zip")), z).unwrap();
    }
    // A loose note in the case folder is no host.
    std::fs::write(case.join("notes.txt"), "customer called twice").unwrap();
    let r = run(&tickets(out.path()));
    assert_eq!(hosts(&r), ["WS-0301", "WS-0302"]);
    for (path, host) in text_hosts(&r, "bitsadmin.txt") {
        assert!(path.contains(&format!("{host}.zip!")), "{path} -> {host}");
    }
}

#[test]
fn an_event_log_names_the_text_captures_beside_it() {
    // Everything of one machine dropped into the case folder: the event logs' Computer, not
    // the case number, is the host of the text captures too.
    let g = generated(&["WS-0401"]);
    let out = tempfile::tempdir().unwrap();
    let case = tickets(out.path()).join("CASE-9");
    copy(g.path(), "WS-0401", TEXT, &case);
    copy(g.path(), "WS-0401", LOGS, &case);
    let r = run(&tickets(out.path()));
    assert_eq!(hosts(&r), ["WS-0401.contoso.local"]);
    for f in TEXT {
        for (_, host) in text_hosts(&r, f) {
            assert_eq!(host, "WS-0401.contoso.local", "{f}");
        }
    }
    // The job seen in the event log and in bitsadmin is one job.
    assert_eq!(r.jobs.len(), 1, "{:?}", r.jobs);
}

#[test]
fn a_short_name_and_its_fqdn_are_one_host() {
    // Event logs exported to one folder, text captures in a folder named by the short name.
    let g = generated(&["WS-0501", "WS-0502"]);
    let out = tempfile::tempdir().unwrap();
    let root = out.path().join("bundle");
    copy(g.path(), "WS-0501", LOGS, &root.join("EventExports"));
    copy(g.path(), "WS-0501", TEXT, &root.join("WS-0501"));
    // WS-0502 has text only: its short name stays.
    copy(g.path(), "WS-0502", TEXT, &root.join("WS-0502"));
    let r = run(&root);
    assert_eq!(hosts(&r), ["WS-0501.contoso.local", "WS-0502"]);
    assert_eq!(r.jobs.len(), 2, "{:?}", r.jobs);
    // Two FQDNs for one short name: ambiguous, nothing is merged.
    let other = generated_in(&["WS-0501"], "fabrikam.local");
    copy(other.path(), "WS-0501", LOGS, &root.join("OtherForest"));
    let r = run(&root);
    assert_eq!(
        hosts(&r),
        [
            "WS-0501",
            "WS-0501.contoso.local",
            "WS-0501.fabrikam.local",
            "WS-0502"
        ]
    );
}
