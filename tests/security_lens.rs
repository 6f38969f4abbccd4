//! The security lens on scenario bundles: each rule raised by the job that shows its sign, and
//! not by the ordinary job next to it.

mod rules_support;

use bitsdoctor::app::{analyze, Config};
use bitsdoctor::diagnose::{Category, Diagnosis, Scope, Severity};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report::Report;
use rules_support::*;
use synth::{Attempt, JobSpec, Scenario};

/// A job of `url` created by `process`, succeeding, listed by bitsadmin.
fn job_by(process: &str, url: &str) -> JobSpec {
    let mut j = JobSpec::windows_update(url, vec![Attempt::Succeed]);
    j.title = "payload".into();
    j.owner = "CONTOSO\\j.doe".into();
    j.process = process.into();
    j.in_bitsadmin = true;
    j
}

const SVCHOST: &str = "C:\\Windows\\System32\\svchost.exe";
const WSUS_CAB: &str =
    "http://wsus01.contoso.local:8530/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab";

fn one_host(jobs: Vec<JobSpec>) -> Scenario {
    let mut h = host("WS01");
    h.jobs = jobs;
    scenario(vec![h])
}

fn security(r: &Report) -> Vec<&Diagnosis> {
    r.diagnoses
        .iter()
        .filter(|d| d.rule.starts_with("security."))
        .collect()
}

fn with_rule<'a>(r: &'a Report, rule: &str) -> Vec<&'a Diagnosis> {
    r.diagnoses.iter().filter(|d| d.rule == rule).collect()
}

/// The one finding of `rule`, job-scoped, in category security, explained.
fn the<'a>(r: &'a Report, rule: &str) -> &'a Diagnosis {
    let d = one(r, rule, None);
    assert_eq!(d.category, Category::Security);
    assert_eq!(d.scope, Scope::Job);
    assert_eq!(d.jobs.len(), 1, "{}", d.title);
    assert!(d.title.contains("T1197"), "{}", d.title);
    assert!(d.cause.contains("ATT&CK"), "{}", d.cause);
    assert_explained(d);
    d
}

/// Runs `positive` and `negative` (each one job on one host) and checks that only the
/// positive raises `rule`.
fn check(rule: &str, positive: JobSpec, negative: JobSpec) -> Report {
    let neg = run(&one_host(vec![negative]));
    assert!(
        with_rule(&neg, rule).is_empty(),
        "negative raised {rule}:\n{}",
        dump(&neg)
    );
    let pos = run(&one_host(vec![positive]));
    the(&pos, rule);
    pos
}

#[test]
fn unexpected_creator() {
    let r = check(
        "security.unexpected-creator",
        job_by("C:\\Windows\\SysWOW64\\notepad.exe", WSUS_CAB),
        job_by(SVCHOST, WSUS_CAB),
    );
    let d = the(&r, "security.unexpected-creator");
    assert_eq!(d.severity, Severity::Error);
    assert!(d.proof.contains("notepad.exe"), "{}", d.proof);
}

#[test]
fn lolbas_creator() {
    let r = check(
        "security.lolbas-creator",
        job_by("C:\\Windows\\System32\\desktopimgdownldr.exe", WSUS_CAB),
        job_by(
            "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe",
            WSUS_CAB,
        ),
    );
    assert_eq!(the(&r, "security.lolbas-creator").severity, Severity::Error);
}

#[test]
fn script_hosts() {
    let r = check(
        "security.script-host-creator",
        job_by("C:\\Windows\\System32\\wscript.exe", WSUS_CAB),
        job_by(SVCHOST, WSUS_CAB),
    );
    assert_eq!(
        the(&r, "security.script-host-creator").severity,
        Severity::Warning
    );
    let r = check(
        "security.created-by-powershell",
        job_by(
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            WSUS_CAB,
        ),
        job_by(SVCHOST, WSUS_CAB),
    );
    assert_eq!(
        the(&r, "security.created-by-powershell").severity,
        Severity::Info
    );
}

#[test]
fn created_by_bitsadmin() {
    let r = check(
        "security.created-by-bitsadmin",
        job_by("C:\\Windows\\System32\\bitsadmin.exe", WSUS_CAB),
        job_by(SVCHOST, WSUS_CAB),
    );
    assert_eq!(
        the(&r, "security.created-by-bitsadmin").severity,
        Severity::Info
    );
}

#[test]
fn notification_command_line() {
    let mut pos = job_by(SVCHOST, WSUS_CAB);
    pos.notify_command =
        Some("C:\\Windows\\System32\\cmd.exe /c C:\\Users\\Public\\run.bat".into());
    let r = check("security.notify-command", pos, job_by(SVCHOST, WSUS_CAB));
    let d = the(&r, "security.notify-command");
    assert_eq!(d.severity, Severity::Error);
    assert!(d.proof.contains("run.bat"), "{}", d.proof);
}

#[test]
fn local_unc_and_file_sources() {
    let r = check(
        "security.local-source",
        job_by(SVCHOST, "C:\\Windows\\System32\\cmd.exe"),
        job_by(SVCHOST, WSUS_CAB),
    );
    assert_eq!(the(&r, "security.local-source").severity, Severity::Error);
    let r = run(&one_host(vec![job_by(
        SVCHOST,
        "\\\\fs01\\share\\tool.exe",
    )]));
    assert_eq!(the(&r, "security.local-source").severity, Severity::Warning);
    let r = run(&one_host(vec![job_by(
        SVCHOST,
        "file:///C:/Windows/System32/cmd.exe",
    )]));
    assert_eq!(the(&r, "security.local-source").severity, Severity::Error);
}

#[test]
fn raw_ip_addresses() {
    let r = check(
        "security.raw-ip",
        job_by(SVCHOST, "http://203.0.113.7/update.bin"),
        job_by(SVCHOST, WSUS_CAB),
    );
    assert_eq!(the(&r, "security.raw-ip").severity, Severity::Error);
    // Failing again and again: beacon-like, and said so.
    let mut j = job_by(SVCHOST, "http://203.0.113.7/update.bin");
    j.attempts = vec![fail(0x8007_2EFD), fail(0x8007_2EFD), fail(0x8007_2EFD)];
    let r = run(&one_host(vec![j]));
    let d = the(&r, "security.raw-ip");
    assert!(d.cause.contains("keeps failing"), "{}", d.cause);
    // Internal addresses (a WSUS server named by address, failing or not) raise nothing.
    let mut wsus = job_by(
        SVCHOST,
        "http://10.1.2.3:8530/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.exe",
    );
    wsus.attempts = vec![fail(0x8007_2EFD), fail(0x8007_2EFD), fail(0x8007_2EFD)];
    let r = run(&one_host(vec![wsus]));
    assert!(security(&r).is_empty(), "{}", dump(&r));
}

#[test]
fn file_sharing_hosts() {
    let r = check(
        "security.file-sharing-host",
        job_by(SVCHOST, "https://transfer.sh/a1b2/tool.zip"),
        job_by(
            SVCHOST,
            "http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/03/windows10.0-kb5035845-x64.cab",
        ),
    );
    assert_eq!(
        the(&r, "security.file-sharing-host").severity,
        Severity::Error
    );
}

#[test]
fn uncommon_top_level_domains() {
    let r = check(
        "security.uncommon-tld",
        job_by(SVCHOST, "https://cdn.fresh-updates.xyz/pkg/data.cab"),
        // An internal WSUS server (.local) and a .com vendor are ordinary.
        job_by(SVCHOST, WSUS_CAB),
    );
    assert_eq!(the(&r, "security.uncommon-tld").severity, Severity::Warning);
    let r = run(&one_host(vec![job_by(
        SVCHOST,
        "https://downloads.fabrikam.com/agent/data.cab",
    )]));
    assert!(security(&r).is_empty(), "{}", dump(&r));
}

#[test]
fn executables_downloaded() {
    let r = check(
        "security.executable-download",
        job_by(SVCHOST, "https://downloads.fabrikam.com/agent/agent.exe"),
        job_by(SVCHOST, "https://downloads.fabrikam.com/agent/agent.cab"),
    );
    assert_eq!(
        the(&r, "security.executable-download").severity,
        Severity::Warning
    );
}

#[test]
fn payload_folders() {
    let mut pos = job_by(SVCHOST, "https://downloads.fabrikam.com/agent/data.cab");
    pos.local_path = "C:\\Users\\Public\\data.cab".into();
    pos.file_event = true;
    pos.in_bitsadmin = false;
    let mut neg = job_by(SVCHOST, "https://downloads.fabrikam.com/agent/data.cab");
    neg.file_event = true;
    neg.in_bitsadmin = false;
    let r = check("security.payload-folder", pos, neg);
    assert_eq!(the(&r, "security.payload-folder").severity, Severity::Error);
    // The same from the bitsadmin listing's JOB FILES line.
    let mut listed = job_by(SVCHOST, "https://downloads.fabrikam.com/agent/data.cab");
    listed.local_path = "C:\\PerfLogs\\data.cab".into();
    let r = run(&one_host(vec![listed]));
    the(&r, "security.payload-folder");
}

#[test]
fn jobs_kept_alive_past_bits_limits() {
    let mut pos = job_by(SVCHOST, WSUS_CAB);
    pos.no_progress_timeout = Some(31_536_000);
    let r = check("security.long-lived", pos, job_by(SVCHOST, WSUS_CAB));
    assert!(the(&r, "security.long-lived").proof.contains("31536000"));
}

#[test]
fn ordinary_update_jobs_raise_nothing() {
    let jobs = vec![
        job_by(SVCHOST, WSUS_CAB),
        job_by(
            SVCHOST,
            "http://download.windowsupdate.com/d/msdownload/update/software/defu/2024/03/am_delta_patch_1.407.386.0_a1b2.exe",
        ),
        job_by(
            "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe",
            "http://msedge.f.dl.delivery.mp.microsoft.com/filestreamingservice/files/6a3c1d2e/MicrosoftEdge_X64_122.0.2365.80.exe",
        ),
        job_by(
            "C:\\Program Files\\Common Files\\microsoft shared\\ClickToRun\\OfficeClickToRun.exe",
            "http://officecdn.microsoft.com/pr/492350f6-3a01-4f97-b9c0-c7c6ddf67d60/Office/Data/16.0.17328.20162/stream.x64.x-none.dat",
        ),
        job_by(
            "C:\\Users\\j.doe\\AppData\\Local\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe",
            "https://oneclient.sfx.ms/Win/Prod/24.040.0225.0003/OneDriveSetup.exe",
        ),
        job_by(
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
            "http://edgedl.me.gvt1.com/edgedl/release2/chrome/acc3g/122.0.6261.112_chrome_installer.exe",
        ),
        job_by(
            "C:\\Program Files\\Mozilla Maintenance Service\\maintenanceservice.exe",
            "https://download-installer.cdn.mozilla.net/pub/firefox/releases/123.0.1/update/win64/en-US/firefox-123.0.1.complete.mar",
        ),
    ];
    let r = run(&one_host(jobs));
    assert!(security(&r).is_empty(), "{}", dump(&r));
}

#[test]
fn no_security_turns_the_lens_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = one_host(vec![job_by(
        "C:\\Windows\\SysWOW64\\notepad.exe",
        "https://transfer.sh/a1b2/tool.exe",
    )]);
    synth::write_bundle(&s, dir.path()).unwrap();
    let cfg = |off| Config {
        paths: vec![dir.path().to_path_buf()],
        threads: 2,
        no_security: off,
        ..Default::default()
    };
    let on = analyze(&cfg(false), Knowledge::shared()).unwrap();
    assert!(security(&on).len() >= 3, "{}", dump(&on));
    let off = analyze(&cfg(true), Knowledge::shared()).unwrap();
    assert!(security(&off).is_empty(), "{}", dump(&off));
}

#[test]
fn user_sigma_rules_run_on_16403_fields() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("public_folder.yml"),
        "title: Test - BITS saves into Users Public\nid: 00000000-0000-4000-8000-000000000001\n\
         status: test\nlogsource:\n    product: windows\n    service: bits-client\n\
         detection:\n    selection:\n        EventID: 16403\n        LocalName|contains: '\\Users\\Public\\'\n\
         \x20   condition: selection\nlevel: high\n",
    )
    .unwrap();
    std::fs::write(
        rules.path().join("other_source.yml"),
        "title: Not for BITS\nlogsource:\n    product: windows\n    service: security\n\
         detection:\n    selection:\n        EventID: 4688\n    condition: selection\nlevel: low\n",
    )
    .unwrap();
    let mut pos = job_by(SVCHOST, "https://downloads.fabrikam.com/agent/data.cab");
    pos.local_path = "C:\\Users\\Public\\data.cab".into();
    pos.file_event = true;
    let mut neg = pos.clone();
    neg.title = "ordinary".into();
    neg.local_path = "C:\\ProgramData\\Fabrikam\\data.cab".into();
    let dir = tempfile::tempdir().unwrap();
    synth::write_bundle(&one_host(vec![pos, neg]), dir.path()).unwrap();
    let cfg = Config {
        paths: vec![dir.path().to_path_buf()],
        threads: 2,
        sigma: Some(rules.path().to_path_buf()),
        ..Default::default()
    };
    let r = analyze(&cfg, Knowledge::shared()).unwrap();
    let hits = with_rule(&r, "security.sigma");
    assert_eq!(hits.len(), 1, "{}", dump(&r));
    assert_eq!(hits[0].severity, Severity::Error);
    assert_eq!(hits[0].jobs.len(), 1);
    assert!(hits[0].title.contains("Users Public"), "{}", hits[0].title);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("other_source.yml")),
        "{:?}",
        r.warnings
    );
}
