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
