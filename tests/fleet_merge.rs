//! Map/reduce gives the same answer as one run: a generated fleet split at random into bundles,
//! each bundle analysed on its own into a summary, the summaries merged, gives the same
//! diagnoses (rule, code, hosts, jobs, occurrences) as one `analyze` of everything.
//!
//! The split is at file level: every event log of every host goes to a bundle at random (so one
//! host's Bits-Client and System logs are often in different bundles, as logs of different days
//! or sites are); a host's text captures go with its System log (a capture names no host of its
//! own: the event log beside it in the folder names it). A job listed by bitsadmin is then often
//! seen in two bundles: its events in one, its listing (state, errors) in another.

mod rules_support;
use bitsdoctor::app::{self, Config};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report::Report;
use bitsdoctor::summary;
use proptest::prelude::*;
use rules_support::*;
use std::path::{Path, PathBuf};
use synth::{Attempt, ConfigSpec};

const PROXIES: [&str; 2] = ["proxy01.contoso.local:8080", "proxy02.contoso.local:3128"];
const URLS: [&str; 3] = [
    "http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/04/windows10.0-kb5036892-x64.cab",
    "http://wsus01.contoso.local:8530/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
    "https://cdn.fabrikam-apps.example/catalog/catalog-full.cab",
];

/// One generated job: url, proxy, attempts (0 = success, 1 = Range stripped, 2.. = codes),
/// listed by bitsadmin.
type GenJob = (usize, Option<usize>, Vec<u8>, bool);
/// One generated host: jobs, BITS disabled, the account changed.
type GenHost = (Vec<GenJob>, bool, bool);

fn attempt(a: u8) -> Attempt {
    match a {
        0 => Attempt::Succeed,
        1 => Attempt::Fail202 {
            hr: 0x8020_0013,
            http_version: "HTTP/1.1".into(),
            url_range: "bytes=0-1048575".into(),
        },
        2 => fail(0x8007_2EE7),
        3 => fail(0x8019_0193),
        _ => fail(0x8007_2EFD),
    }
}

fn fleet(hosts: &[GenHost]) -> synth::Scenario {
    let specs = hosts
        .iter()
        .enumerate()
        .map(|(i, (jobs, disabled, account))| {
            let mut h = host(&format!("WS-{i:02}"));
            for (k, (url, proxy, attempts, listed)) in jobs.iter().enumerate() {
                let mut j = job(
                    URLS[*url],
                    5 + 7 * k as u32,
                    attempts.iter().map(|a| attempt(*a)).collect(),
                );
                j.proxy = proxy.map(|p| PROXIES[p].to_string());
                j.in_bitsadmin = *listed;
                h.jobs.push(j);
            }
            if *disabled || *account {
                let mut c = ConfigSpec::default();
                if *disabled {
                    c.start = 4;
                }
                if *account {
                    c.object_name = "NT AUTHORITY\\NetworkService".into();
                }
                h.config = Some(c);
            }
            h
        })
        .collect();
    scenario(specs)
}

fn gen_hosts() -> impl Strategy<Value = Vec<GenHost>> {
    let job = (
        0..URLS.len(),
        proptest::option::of(0..PROXIES.len()),
        prop::collection::vec(0u8..5, 1..4),
        any::<bool>(),
    );
    let host = (
        prop::collection::vec(job, 1..4),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.15),
    );
    prop::collection::vec(host, 2..7)
}

/// Every file of `all`, as (relative path, bundle), by the rule in the module comment.
fn split(all: &Path, bundles: usize, seed: u64) -> Vec<(PathBuf, usize)> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % bundles as u64) as usize
    };
    let mut out = Vec::new();
    let mut hosts: Vec<PathBuf> = std::fs::read_dir(all)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    hosts.sort();
    for h in hosts {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&h)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let bits = next();
        for f in files {
            let rel = f.strip_prefix(all).unwrap().to_path_buf();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let b = if name == synth::BITS_LOG || !name.ends_with(".evtx") {
                bits
            } else {
                next()
            };
            out.push((rel, b));
        }
    }
    out
}

/// What a diagnosis must keep across a split: rule, code, hosts, jobs, occurrences.
type Key = (String, String, Vec<String>, Vec<String>, u64);

fn key(r: &Report) -> Vec<Key> {
    let mut k: Vec<_> = r
        .diagnoses
        .iter()
        .map(|d| {
            let mut hosts: Vec<String> = d.hosts.iter().map(|h| h.to_string()).collect();
            hosts.sort();
            let mut jobs: Vec<String> = d.jobs.iter().cloned().collect();
            jobs.sort();
            (
                d.rule.to_string(),
                d.code.map(|c| c.to_string()).unwrap_or_default(),
                hosts,
                jobs,
                d.occurrences,
            )
        })
        .collect();
    k.sort();
    k
}

fn config(path: &Path) -> Config {
    Config {
        paths: vec![path.to_path_buf()],
        threads: 2,
        ..Config::default()
    }
}

/// Analyse each bundle into a summary, round-trip it through its JSON file, merge in bundle
/// order.
fn merged(bundles: &[PathBuf]) -> Report {
    let kb = Knowledge::shared();
    let dir = tempfile::tempdir().unwrap();
    let summaries = bundles.iter().enumerate().map(|(i, b)| {
        let s = app::in_pool(2, || app::collect(&config(b), &|_| {}, &[]))
            .unwrap()
            .unwrap();
        let file = dir.path().join(format!("summary-{i}.json"));
        let mut w = std::fs::File::create(&file).unwrap();
        s.view().write(&mut w).unwrap();
        summary::read(&file).unwrap()
    });
    let all = summary::combine(summaries.collect::<Vec<_>>());
    let (lens, _) = app::security_lens(&Config::default()).unwrap();
    app::in_pool(2, || all.report(kb, lens.as_ref())).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn split_analyse_merge_equals_one_analysis(hosts in gen_hosts(), bundles in 2usize..5, seed in any::<u64>()) {
        let tmp = tempfile::tempdir().unwrap();
        let all = tmp.path().join("all");
        synth::write_bundle(&fleet(&hosts), &all).unwrap();
        let one = app::analyze(&config(&all), Knowledge::shared()).unwrap();

        let mut used = Vec::new();
        for (rel, b) in split(&all, bundles, seed) {
            let dest = tmp.path().join(format!("bundle-{b}")).join(&rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(all.join(&rel), &dest).unwrap();
            if !used.contains(&b) {
                used.push(b);
            }
        }
        used.sort();
        let paths: Vec<PathBuf> = used.iter().map(|b| tmp.path().join(format!("bundle-{b}"))).collect();
        let merged = merged(&paths);
        prop_assert!(!one.diagnoses.is_empty() || hosts.iter().all(|h| h.0.iter().all(|j| j.2.iter().all(|a| *a == 0))));
        prop_assert_eq!(key(&merged), key(&one), "\none:\n{}\nmerged:\n{}", dump(&one), dump(&merged));
        prop_assert_eq!(merged.summary.jobs, one.summary.jobs);
        prop_assert_eq!(merged.summary.hosts, one.summary.hosts);
    }
}

/// A merge of one summary is the analysis it came from (the summary holds everything the
/// rules need), and a summary of another schema is refused.
#[test]
fn a_summary_round_trips_and_its_schema_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    let mut scenario = fleet(&[
        (vec![(0, Some(0), vec![1, 1], true)], false, false),
        (vec![(0, Some(0), vec![1], false)], true, false),
    ]);
    // An update downloaded by the failing job: its failure diagnosis cites the update's
    // records, which a summary must carry as well.
    scenario.hosts[0].updates = vec![synth::UpdateSpec {
        title: "2024-04 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5036892)".into(),
        guid: "3B9D2D5F-6C41-4E0A-9B8E-1F2A3C4D5E6F".into(),
        revision: 1,
        job: 0,
    }];
    synth::write_bundle(&scenario, &all).unwrap();
    let one = app::analyze(&config(&all), Knowledge::shared()).unwrap();
    let merged = merged(std::slice::from_ref(&all));
    assert_eq!(merged.diagnoses, one.diagnoses);
    assert_eq!(merged.jobs, one.jobs);
    assert_eq!(merged.updates, one.updates);
    assert!(!one.diagnoses.is_empty());
    assert!(
        one.diagnoses
            .iter()
            .any(|d| d.rule.starts_with("update") && !d.evidence.is_empty()),
        "no update diagnosis with evidence:\n{}",
        dump(&one)
    );

    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"schema":"bitsdoctor/summary/v0","inputs":[],"warnings":[],"state":{"hosts":{}}}"#,
    )
    .unwrap();
    let e = summary::read(&bad).unwrap_err().to_string();
    assert!(e.contains("bitsdoctor/summary/v0"), "{e}");
    std::fs::write(&bad, "not json").unwrap();
    assert!(summary::read(&bad).is_err());
}
