//! Shared by the `rules_*` scenario tests: write a scenario bundle with the builder, analyse it
//! with the library pipeline, and look diagnoses up by rule and code.
#![allow(dead_code)]

use bitsdoctor::app::{analyze, Config};
use bitsdoctor::diagnose::{Diagnosis, Scope, Severity};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report::Report;
use synth::{Attempt, HostSpec, JobSpec, Scenario};

pub const WSUS: &str = "http://wsus01.contoso.local:8530";

/// Analyse `scenario` as `bitsdoctor analyze DIR` would.
pub fn run(scenario: &Scenario) -> Report {
    let dir = tempfile::tempdir().unwrap();
    synth::write_bundle(scenario, dir.path()).unwrap();
    let cfg = Config {
        paths: vec![dir.path().to_path_buf()],
        host: None,
        threads: 2,
        ..Default::default()
    };
    analyze(&cfg, Knowledge::shared()).unwrap()
}

pub fn scenario(hosts: Vec<HostSpec>) -> Scenario {
    Scenario {
        hosts,
        start: "2024-05-06T08:00:00Z".parse().unwrap(),
        seed: 0xb175_7e57,
    }
}

/// `NAME.contoso.local`, folder `NAME`.
pub fn host(name: &str) -> HostSpec {
    HostSpec::new(&format!("{name}.contoso.local"), name)
}

pub fn fqdn(name: &str) -> String {
    format!("{name}.contoso.local")
}

/// A Windows Update job from WSUS that succeeds.
pub fn healthy_job(delay: u32) -> JobSpec {
    let mut j = JobSpec::windows_update(
        &format!("{WSUS}/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab"),
        vec![Attempt::Succeed],
    );
    j.delay_minutes = delay;
    j
}

/// A job of `url` whose attempts are `attempts`.
pub fn job(url: &str, delay: u32, attempts: Vec<Attempt>) -> JobSpec {
    let mut j = JobSpec::windows_update(url, attempts);
    j.delay_minutes = delay;
    j
}

pub fn fail(hr: u32) -> Attempt {
    Attempt::Fail { hr, context: 5 }
}

/// Every diagnosis of `rule` (and `code`, when given).
pub fn find<'a>(r: &'a Report, rule: &str, code: Option<u32>) -> Vec<&'a Diagnosis> {
    r.diagnoses
        .iter()
        .filter(|d| d.rule == rule && code.is_none_or(|c| d.code.map(|x| x.0) == Some(c)))
        .collect()
}

/// The one diagnosis of `rule` (and `code`); fails listing what was found otherwise.
pub fn one<'a>(r: &'a Report, rule: &str, code: Option<u32>) -> &'a Diagnosis {
    let hits = find(r, rule, code);
    assert_eq!(
        hits.len(),
        1,
        "want one {rule} {code:x?}; got:\n{}",
        dump(r)
    );
    hits[0]
}

/// `rule scope severity code title` per diagnosis, for failure messages.
pub fn dump(r: &Report) -> String {
    r.diagnoses
        .iter()
        .map(|d| {
            format!(
                "{} {} {:?} {:?} {} {} hosts={} jobs={} explains={:?}",
                d.id,
                d.rule,
                d.scope,
                d.severity,
                d.code.map(|c| c.to_string()).unwrap_or_default(),
                d.title,
                d.hosts.len(),
                d.jobs.len(),
                d.explains
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn hosts_of(d: &Diagnosis) -> Vec<String> {
    d.hosts.iter().map(|h| h.to_string()).collect()
}

/// The job keys (`HOST/{GUID}`) of host `name`'s jobs whose name is `title`.
pub fn job_keys(r: &Report, name: &str, title: &str) -> Vec<String> {
    r.jobs
        .iter()
        .filter(|j| j.host == fqdn(name) && j.name == title)
        .map(|j| {
            format!(
                "{}/{}",
                j.host,
                j.id.map(|g| g.to_string()).unwrap_or_default()
            )
        })
        .collect()
}

/// Diagnoses at warning or above.
pub fn findings(r: &Report) -> Vec<&Diagnosis> {
    r.diagnoses
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .collect()
}

pub fn assert_scope(d: &Diagnosis, scope: Scope, hosts: &[&str]) {
    assert_eq!(d.scope, scope, "{}", d.title);
    let want: Vec<String> = hosts.iter().map(|h| fqdn(h)).collect();
    assert_eq!(hosts_of(d), want, "{}", d.title);
}

/// Proof and next check are there and say something concrete.
pub fn assert_explained(d: &Diagnosis) {
    assert!(d.proof.len() > 20, "{}: proof `{}`", d.title, d.proof);
    assert!(
        d.next_check.len() > 20,
        "{}: next check `{}`",
        d.title,
        d.next_check
    );
    assert!(!d.fix.is_empty(), "{}: no fix", d.title);
    assert!(!d.evidence.is_empty(), "{}: no evidence", d.title);
}
