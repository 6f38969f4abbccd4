//! Event logs are folded into per-host state as soon as they are read, before the hosts of
//! every input are known. When a log's short host name is later joined to its FQDN (named by
//! another input), the folded state is renamed, or the log is read again when its rows were
//! already written or a host filter looked at the old name. The oracle: a relative window that
//! reaches far back (`--since 36500d`) folds nothing early, so every report must equal that
//! run's, but for the window itself.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use synth::{Attempt, CaptureSet, HostSpec, JobSpec, Scenario};

const FAR_BACK: &[&str] = &["--since", "36500d"];

/// A workgroup-era log naming `WS-0601` and a later log naming `WS-0601.contoso.local`, each
/// with one failing job, in two folders.
fn bundle() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let host = |name: &str, folder: &str, hr: u32| {
        let mut s = HostSpec::new(name, folder);
        s.jobs = vec![JobSpec::windows_update(
            "http://wsus01.contoso.local:8530/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
            vec![Attempt::Fail { hr, context: 5 }],
        )];
        s.captures = CaptureSet::none();
        s
    };
    let scenario = Scenario {
        hosts: vec![
            host("WS-0601", "before-join", 0x8007_2EE7),
            host("WS-0601.contoso.local", "after-join", 0x8019_0194),
        ],
        start: "2024-05-06T08:00:00Z".parse().unwrap(),
        seed: 11,
    };
    synth::write_bundle(&scenario, dir.path()).unwrap();
    dir
}

fn analyze(paths: &[&Path], args: &[&str]) -> std::process::Output {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .arg("analyze")
        .args(paths)
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON report without its window row (the one thing the oracle's window changes).
fn report(paths: &[&Path], args: &[&str]) -> Value {
    let out = analyze(paths, &[args, &["--format", "json"]].concat());
    without_window(serde_json::from_slice(&out.stdout).unwrap())
}

fn without_window(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("window");
    v
}

fn hosts(r: &Value) -> Vec<&str> {
    r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect()
}

#[test]
fn a_log_folded_under_a_short_name_joins_its_fqdn_as_if_folded_late() {
    let b = bundle();
    let early = report(&[b.path()], &[]);
    assert_eq!(hosts(&early), ["WS-0601.contoso.local"]);
    assert_eq!(
        early["jobs"].as_array().unwrap().len(),
        2,
        "{}",
        early["jobs"]
    );
    assert_eq!(early, report(&[b.path()], FAR_BACK));
}

#[test]
fn a_host_filter_on_the_joined_name_keeps_the_log_named_short() {
    let b = bundle();
    let filter = ["--host", "WS-0601.contoso.local"];
    let early = report(&[b.path()], &filter);
    assert_eq!(
        early["jobs"].as_array().unwrap().len(),
        2,
        "{}",
        early["jobs"]
    );
    assert_eq!(
        early,
        report(&[b.path()], &[&filter[..], FAR_BACK].concat())
    );
}

#[test]
fn rows_written_under_the_short_name_are_written_again_under_the_joined_name() {
    let b = bundle();
    let out = tempfile::tempdir().unwrap();
    let (early, late) = (out.path().join("early"), out.path().join("late"));
    analyze(&[b.path()], &["--out", early.to_str().unwrap()]);
    analyze(
        &[b.path()],
        &[&["--out", late.to_str().unwrap()], FAR_BACK].concat(),
    );
    let events = std::fs::read_to_string(early.join("events.csv")).unwrap();
    assert!(events.lines().count() > 10, "{events}");
    assert!(!events.contains(",WS-0601,"), "{events}");
    assert_eq!(
        events,
        std::fs::read_to_string(late.join("events.csv")).unwrap()
    );
    let json = |d: &Path| -> Value {
        without_window(
            serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap(),
        )
    };
    assert_eq!(json(&early), json(&late));
}

/// Real logs, some naming one machine by its short name and its FQDN (a domain join within
/// one log): the same report as folding everything late.
#[test]
fn the_corpus_gives_the_same_report_folded_early_or_late() {
    let Some(corpus) = std::env::var_os("BITSDOCTOR_CORPUS") else {
        eprintln!("BITSDOCTOR_CORPUS is not set: skipping the corpus test");
        return;
    };
    let corpus = Path::new(&corpus);
    let early = report(&[corpus], &[]);
    assert!(early["jobs"].as_array().unwrap().len() > 100);
    assert_eq!(early, report(&[corpus], FAR_BACK));
}
