//! `analyze --each` (one report per case, no findings across cases, an index) and `merge`
//! (summaries of bundles reduced into one fleet report) end to end.

mod rules_support;
use assert_cmd::Command;
use rules_support::*;
use std::path::Path;
use synth::Attempt;

const PROXY: &str = "proxy01.contoso.local:8080";
const MSFT: &str =
    "http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/04/windows10.0-kb5036892-x64.cab";

fn bitsdoctor() -> Command {
    Command::cargo_bin("bitsdoctor").unwrap()
}

fn range_fail() -> Attempt {
    Attempt::Fail202 {
        hr: 0x8020_0013,
        http_version: "HTTP/1.1".into(),
        url_range: "bytes=0-1048575".into(),
    }
}

/// Case `k`: WS-SHARED (the same name in every case, healthy) and WS-k, whose download of MSFT
/// through PROXY (the same proxy in every case) fails because the proxy strips Range.
fn case(k: usize) -> synth::Scenario {
    let mut shared = host("WS-SHARED");
    shared.jobs.push(healthy_job(0));
    let mut failing = host(&format!("WS-{k}"));
    failing.winhttp_proxy = Some(PROXY.into());
    let mut j = job(MSFT, 10, vec![range_fail(), range_fail()]);
    j.proxy = Some(PROXY.into());
    failing.jobs.push(j);
    scenario(vec![shared, failing])
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|x| x.unwrap()).collect()
}

fn column(path: &Path, name: &str) -> usize {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.headers().unwrap().iter().position(|h| h == name).unwrap()
}

/// Three cases with overlapping host and proxy names: together they make one fleet finding
/// (the proxy on three hosts); with --each each case is reported on its own (its own hosts
/// only, no fleet finding) and the index names each case.
#[test]
fn each_case_is_its_own_fleet() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = tmp.path().join("queue");
    for k in 1..=3 {
        synth::write_bundle(&case(k), &cases.join(format!("CASE-{k}"))).unwrap();
    }
    // Together, the three are one fleet: the proxy is the common factor of three hosts.
    let together = tmp.path().join("together");
    bitsdoctor()
        .args(["analyze"])
        .arg(&cases)
        .arg("--out")
        .arg(&together)
        .assert()
        .success();
    let d = together.join("diagnoses.csv");
    let (scope, hosts) = (column(&d, "scope"), column(&d, "hosts"));
    assert!(
        csv_rows(&d)
            .iter()
            .any(|r| &r[scope] == "fleet" && r[hosts].lines().count() == 3),
        "one run of all three cases should find the proxy across them"
    );

    let out = tmp.path().join("out");
    let stdout = bitsdoctor()
        .args(["analyze", "--each"])
        .arg(&cases)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    for k in 1..=3 {
        let dir = out.join(format!("CASE-{k}"));
        for f in [
            "report.json",
            "diagnoses.csv",
            "jobs.csv",
            "updates.csv",
            "events.csv",
            "report.html",
            "summary.json",
        ] {
            assert!(dir.join(f).is_file(), "{}/{f}", dir.display());
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        let hosts: Vec<&str> = report["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap())
            .collect();
        let mine = fqdn(&format!("WS-{k}"));
        assert_eq!(hosts, [mine.as_str(), fqdn("WS-SHARED").as_str()]);
        let diagnoses = report["diagnoses"].as_array().unwrap();
        assert!(!diagnoses.is_empty(), "case {k} has a failing job");
        for d in diagnoses {
            assert_ne!(d["scope"], "fleet", "case {k}: {d}");
            for h in d["hosts"].as_array().unwrap() {
                assert!(hosts.contains(&h.as_str().unwrap()), "case {k}: {d}");
            }
        }
        assert!(stdout.contains(&format!("CASE-{k}: ok")), "{stdout}");
    }
    let index = out.join("index.csv");
    let rows = csv_rows(&index);
    let names: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(names, ["CASE-1", "CASE-2", "CASE-3"]);
    let (h, link) = (column(&index, "hosts"), column(&index, "report"));
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(&r[h], "2");
        assert_eq!(&r[link], format!("CASE-{}/report.html", k + 1));
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for k in 1..=3 {
        assert!(html.contains(&format!("href=\"CASE-{k}/report.html\"")));
    }
}

/// A zip is a case too, named without `.zip`; names that clash are made unique; the output
/// folder inside the queue is not a case; a case nothing can be read from is listed as such.
#[test]
fn zips_clashes_and_unreadable_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let queue = tmp.path().join("queue");
    synth::write_bundle(&case(1), &queue.join("A")).unwrap();
    let zip_path = queue.join("A.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let src = queue.join("A");
        for host in std::fs::read_dir(&src).unwrap() {
            let host = host.unwrap().path();
            for file in std::fs::read_dir(&host).unwrap() {
                let file = file.unwrap().path();
                let name = file
                    .strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                z.start_file(name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                std::io::Write::write_all(&mut z, &std::fs::read(&file).unwrap()).unwrap();
            }
        }
        z.finish().unwrap();
    }
    std::fs::create_dir_all(queue.join("empty case")).unwrap();
    std::fs::write(queue.join("notes.txt"), "not a case").unwrap();
    let out = queue.join("out");
    bitsdoctor()
        .args(["analyze", "--each"])
        .arg(&queue)
        .arg("--out")
        .arg(&out)
        .args(["--format", "csv"])
        .assert()
        .success()
        .stderr(predicates::str::contains("notes.txt"));
    let rows = csv_rows(&out.join("index.csv"));
    let got: Vec<(&str, &str)> = rows.iter().map(|r| (&r[0], &r[1])).collect();
    assert_eq!(
        got,
        [("A", "ok"), ("A-2", "ok"), ("empty_case", "unreadable")]
    );
    // The folder and the zip of the same bundle give the same diagnoses.
    let a = std::fs::read_to_string(out.join("A/diagnoses.csv")).unwrap();
    let b = std::fs::read_to_string(out.join("A-2/diagnoses.csv")).unwrap();
    let strip = |s: &str| -> Vec<String> {
        let mut r = csv::Reader::from_reader(s.as_bytes());
        r.records()
            .map(|x| {
                let x = x.unwrap();
                format!("{} {} {} {}", &x[1], &x[5], &x[10], &x[14])
            })
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
}

#[test]
fn each_needs_out() {
    bitsdoctor()
        .args(["analyze", "--each", "samples"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .code(2);
}

/// `merge` of the summaries of two bundles written by `analyze --out` gives the diagnoses of
/// one `analyze` of both (rule, code, hosts, jobs, occurrences), and its own summary.json
/// can be merged again.
#[test]
fn merge_of_bundles_equals_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let site = |k: usize| tmp.path().join(format!("site-{k}"));
    for k in 1..=2 {
        synth::write_bundle(&case(k), &site(k)).unwrap();
        bitsdoctor()
            .arg("analyze")
            .arg(site(k))
            .arg("--out")
            .arg(tmp.path().join(format!("out-{k}")))
            .assert()
            .success();
    }
    let one = tmp.path().join("one");
    bitsdoctor()
        .arg("analyze")
        .arg(site(1))
        .arg(site(2))
        .arg("--out")
        .arg(&one)
        .assert()
        .success();
    let merged = tmp.path().join("merged");
    bitsdoctor()
        .arg("merge")
        .arg(tmp.path().join("out-1/summary.json"))
        .arg(tmp.path().join("out-2/summary.json"))
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let again = tmp.path().join("again");
    bitsdoctor()
        .arg("merge")
        .arg(merged.join("summary.json"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    let key = |dir: &Path| -> Vec<String> {
        let d = dir.join("diagnoses.csv");
        let cols: Vec<usize> = ["scope", "rule", "code", "hosts", "jobs", "occurrences"]
            .iter()
            .map(|c| column(&d, c))
            .collect();
        let mut k: Vec<String> = csv_rows(&d)
            .iter()
            .map(|r| cols.iter().map(|c| &r[*c]).collect::<Vec<_>>().join("|"))
            .collect();
        k.sort();
        k
    };
    assert!(
        key(&one).iter().any(|k| k.starts_with("fleet")),
        "{:?}",
        key(&one)
    );
    assert_eq!(key(&merged), key(&one));
    assert_eq!(key(&again), key(&one));
    assert!(!merged.join("events.csv").exists());
}
