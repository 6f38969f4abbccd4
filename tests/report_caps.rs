//! The HTML and text reports stay small at any input size: each section that grows with the
//! input shows its first items and then says how many more there are and where they are, while
//! headings keep the exact totals. A small run (the samples) is shown whole.

use bitsdoctor::correlate::{Job, JobDetails, Outcome, Update};
use bitsdoctor::diagnose::{Category, Diagnosis, Scope, Severity};
use bitsdoctor::model::{Evidence, Guid, HResult, Locator, UpdateStage, When};
use bitsdoctor::parse::Warning;
use bitsdoctor::report::{html, text, FailurePoint, HostRow, InputRow, JobRow, Report, Status};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

const HOSTS: usize = 400;
const CAUSES: usize = 3000;
const FINDINGS: usize = 500;
const JOBS: usize = 5000;
const UPDATES: usize = 1000;
const INPUTS: usize = 3000;
const WARNINGS: usize = 3000;
const TWO_MB: usize = 2 << 20;

fn analyze(dir: &Path) -> Report {
    let cfg = bitsdoctor::app::Config {
        paths: vec![dir.to_path_buf()],
        threads: 1,
        ..Default::default()
    };
    bitsdoctor::app::analyze(&cfg, &bitsdoctor::knowledge::Knowledge::builtin()).unwrap()
}

fn samples() -> Report {
    analyze(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
}

fn host(i: usize) -> String {
    format!("FLEET-WS-{i:04}.branch-office.contoso.example")
}

fn job_key(i: usize) -> String {
    format!(
        "{}/{{{:08X}-0B48-4C1B-A11A-6D1F7E6E1C7A}}",
        host(i % HOSTS),
        i
    )
}

fn utc(hour: usize, minute: usize) -> When {
    When::Utc(
        format!(
            "2024-03-{:02}T{:02}:{minute:02}:00Z",
            1 + hour / 24,
            hour % 24
        )
        .parse()
        .unwrap(),
    )
}

/// Diagnosis `n` (1-based id), made from a real one of the samples (`Diagnosis` has
/// crate-private fields) with every list longer than a card shows (30 items: a card shows 20
/// at most, so more would only make the test slower).
fn big_diagnosis(template: &Diagnosis, n: usize, security: bool) -> Diagnosis {
    let mut d = template.clone();
    d.id = format!("D{n}");
    d.category = if security {
        Category::Security
    } else {
        Category::Failure
    };
    d.severity = if security {
        Severity::Warning
    } else {
        Severity::Error
    };
    d.scope = Scope::Fleet;
    d.code = Some(HResult(0x8020_0011));
    d.title = format!("0x80200011 through proxy proxy{n:04}.contoso.local:8080 on 30 hosts");
    d.hosts = (0..30).map(|i| host((n + i) % HOSTS).into()).collect();
    d.jobs = (0..30).map(|i| job_key(n * 7 + i)).collect();
    d.servers = (0..30)
        .map(|i| format!("http://wsus{i:03}.contoso.local:8530"))
        .collect();
    d.proxies = (0..30)
        .map(|i| format!("proxy{i:03}.contoso.local:8080"))
        .collect();
    d.blocks = (0..30)
        .map(|i| bitsdoctor::diagnose::updates::BlockedUpdate {
            title: format!("2024-03 Cumulative Update for Windows 11 Version 23H2 ({i})"),
            kb: Some(format!("KB50{i:05}")),
            guid: None,
            hosts: (0..3).map(host).collect(),
            links: BTreeSet::new(),
        })
        .collect();
    d.evidence = (0..30)
        .map(|i| Evidence {
            path: Arc::from(format!("D:/cases/fleet/bench-{:02}.evtx", i % 40).as_str()),
            at: Locator::Record(1000 + i as u64),
        })
        .collect();
    d.explains = (0..30).map(|i| format!("D{}", n + 1 + i)).collect();
    d.explained_by = None;
    d.occurrences = 5000;
    d.first_seen = utc(0, 0);
    d.last_seen = utc(59, 0);
    d
}

/// A report far larger than anyone reads: thousands of diagnoses, jobs, updates, inputs and
/// warnings, hosts named by every diagnosis, and a failure in every lane, bucket and colour
/// of the chart.
fn huge_report() -> Report {
    let mut r = samples();
    let failure = r
        .diagnoses
        .iter()
        .find(|d| d.category == Category::Failure)
        .unwrap()
        .clone();
    let finding = r
        .diagnoses
        .iter()
        .find(|d| d.category == Category::Security)
        .unwrap()
        .clone();
    r.diagnoses = (1..=CAUSES)
        .map(|n| big_diagnosis(&failure, n, false))
        .chain((CAUSES + 1..=CAUSES + FINDINGS).map(|n| big_diagnosis(&finding, n, true)))
        .collect();
    let ids: Vec<String> = r.diagnoses.iter().map(|d| d.id.clone()).collect();
    r.hosts = (0..HOSTS)
        .map(|i| HostRow {
            name: host(i),
            jobs: JOBS / HOSTS,
            outcomes: BTreeMap::from([("failing", JOBS / HOSTS)]),
            service_state_changes: 3,
            service_start_type_changes: 0,
            service_start_failures: 1,
            service_crashes: 0,
            config: (0..60)
                .map(|v| {
                    (
                        format!("ServiceValue{v:02}"),
                        format!("C:\\Windows\\System32\\qmgr{v}.dll"),
                    )
                })
                .collect(),
            policy: (0..60)
                .map(|v| (format!("PolicyValue{v:02}"), format!("{}", v * 1000)))
                .collect(),
            winhttp_proxy: Some("proxy01.contoso.local:8080 (bypass <local>)".into()),
            service_state: None,
            logs_cleared: vec![],
            diagnoses: ids
                .iter()
                .skip(i)
                .step_by(50)
                .map(|id| id.as_str().into())
                .collect(),
            clock: None,
        })
        .collect();
    r.jobs = (0..JOBS)
        .map(|i| {
            JobRow::new(
                Job {
                    host: host(i % HOSTS).into(),
                    id: Guid::parse(job_key(i).split('/').nth(1).unwrap()),
                    name: format!("Windows Update {i}").into(),
                    owner: "NT AUTHORITY\\SYSTEM".into(),
                    outcome: Outcome::Failing,
                    // More codes and URLs than a row shows (the rows shown are the first ones).
                    errors: (0..if i < 300 { 8 } else { 1 })
                        .map(|c| (HResult(0x8019_0100 + c), 3))
                        .collect(),
                    urls: (0..if i < 300 { 5 } else { 1 })
                        .map(|u| {
                            format!("http://wsus01.contoso.local:8530/Content/{i:04}/{u:04}.cab")
                                .into()
                        })
                        .collect(),
                    proxies: vec![].into_iter().collect(),
                    details: JobDetails {
                        state: Some("ERROR".into()),
                        ..Default::default()
                    }
                    .boxed(),
                    first_seen: utc(0, 0),
                    last_seen: utc(1, 0),
                    sources: vec![].into_iter().collect(),
                    ..Default::default()
                },
                ids.iter()
                    .skip(i % 100)
                    .step_by(200)
                    .map(|id| id.as_str().into())
                    .collect(),
            )
        })
        .collect();
    // The first updates (the ones the table shows: most failed hosts first) failed on 50
    // hosts and got through on 50; the others failed on one.
    r.updates = (0..UPDATES)
        .flat_map(|u| {
            let hosts = if u < 150 { 100 } else { 1 };
            (0..hosts).map(move |h| Update {
                host: host(h).into(),
                title: format!("2024-03 Cumulative Update for Windows 11 ({u})").into(),
                kb: Some(format!("KB60{u:05}").into()),
                guid: Some(format!("{u:08x}-1111-2222-3333-444455556666").into()),
                revision: Some(200),
                outcome: if h % 2 == 0 {
                    UpdateStage::DownloadFailed
                } else {
                    UpdateStage::Installed
                },
                errors: (0..8).map(|c| (HResult(0x8024_0000 + c), 1)).collect(),
                log_errors: BTreeMap::new(),
                jobs: BTreeSet::new(),
                links: BTreeMap::new(),
                first_seen: utc(0, 0),
                last_seen: utc(1, 0),
                diagnoses: (0..12)
                    .map(|i| format!("D{}", 1 + (u + i) % CAUSES))
                    .collect(),
                evidence: vec![],
            })
        })
        .collect();
    r.inputs = (0..INPUTS)
        .map(|i| InputRow {
            path: format!("D:/cases/fleet/{}/System-{i}.evtx", host(i % HOSTS)),
            kind: "evtx".into(),
            host: host(i % HOSTS),
            status: Status::Partial,
            reason: Some("the file ends after 23 of the 320 chunks its header declares".into()),
            observations: 10,
            records: 100,
            skipped_records: 5,
            provider_records: BTreeMap::new(),
        })
        .collect();
    r.warnings = (0..WARNINGS)
        .map(|i| Warning {
            path: format!("D:/cases/fleet/{}/System-{i}.evtx", host(i % HOSTS)),
            at: Some(Locator::Record(i as u64)),
            message: "unreadable record skipped in chunk 3: invalid record data size".into(),
        })
        .collect();
    // A failure in every lane (more hosts than lanes), every hourly bucket of 59 hours and
    // more codes than colours.
    r.failures = (0..30)
        .flat_map(|h| {
            (0..60).flat_map(move |b| {
                (0..12).map(move |c| FailurePoint {
                    time: utc(b, c),
                    host: h,
                    code: HResult(0x8019_0190 + c as u32),
                })
            })
        })
        .collect();
    r.failures.sort();
    r.summary.inputs = r.inputs.len();
    r.summary.hosts = r.hosts.len();
    r.summary.jobs = r.jobs.len();
    r.summary.outcomes = BTreeMap::from([("failing", JOBS)]);
    r.summary.diagnoses = BTreeMap::from([("error", CAUSES), ("warning", FINDINGS)]);
    r.summary.warnings = r.warnings.len();
    r
}

/// The part of `page` from `<section id="ID">` to its end.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let from = page
        .split(&format!("<section id=\"{id}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {id}"));
    from.split("</section>").next().unwrap()
}

#[test]
fn a_huge_report_gives_a_small_page_that_counts_everything() {
    let r = huge_report();
    let page = html::render(&r);
    let sizes: Vec<(&str, usize)> = [
        "summary", "timeline", "causes", "security", "hosts", "jobs", "updates", "inputs",
    ]
    .into_iter()
    .map(|id| (id, section(&page, id).len()))
    .collect();
    println!("page {} bytes; sections {sizes:?}", page.len());
    assert!(page.len() < TWO_MB, "{} bytes: {sizes:?}", page.len());

    // Without the caps the root causes alone would be far larger: a card is as big as the
    // cards shown.
    let causes = section(&page, "causes");
    let cards = causes.matches("<article ").count();
    assert_eq!(cards, html::CAUSE_CARD_CAP);
    assert!(
        causes.len() / cards * CAUSES > 10 * TWO_MB,
        "{}",
        causes.len()
    );

    // The most important ones are the ones shown, then one line counts the rest.
    assert!(causes.contains("id=\"D1\">") && causes.contains(&format!("id=\"D{cards}\">")));
    assert!(!causes.contains(&format!("id=\"D{}\">", cards + 1)));
    let more = format!(
        "… and {} more diagnosis(es): see diagnoses.csv",
        CAUSES - html::CAUSE_CARD_CAP
    );
    assert_eq!(causes.matches(&more).count(), 1, "{more}");
    let security = section(&page, "security");
    assert_eq!(
        security.matches("<article ").count(),
        html::SECURITY_CARD_CAP
    );
    assert!(security.contains(&format!(
        "… and {} more finding(s): see diagnoses.csv",
        FINDINGS - html::SECURITY_CARD_CAP
    )));
    // The other sections say what they leave out, and where it is.
    for (id, text) in [
        (
            "hosts",
            format!(
                "… and {} more host(s): see report.json",
                HOSTS - html::HOST_CARD_CAP
            ),
        ),
        (
            "jobs",
            format!(
                "… and {} more job(s): see jobs.csv",
                JOBS - html::JOB_TABLE_CAP
            ),
        ),
        (
            "updates",
            format!(
                "… and {} more update(s) with errors: see updates.csv",
                UPDATES - html::UPDATE_TABLE_CAP
            ),
        ),
        (
            "inputs",
            format!(
                "… and {} more input(s) not fully read: see report.json",
                INPUTS - html::INPUT_ROW_CAP
            ),
        ),
        (
            "inputs",
            format!(
                "… and {} more warning(s): see report.json",
                WARNINGS - html::WARNING_CAP
            ),
        ),
    ] {
        assert!(section(&page, id).contains(&text), "{id}: {text}");
    }

    // Headings and the summary count everything, not what is shown.
    let all = CAUSES + FINDINGS;
    for heading in [
        format!("host(s), {all} diagnosis(es))</title>"),
        format!("{HOSTS} host(s) · {JOBS} job(s) · {all} diagnosis(es)"),
        format!("<div class=\"n\">{all}</div>"),
        format!("Root causes<span class=\"count\">{CAUSES} diagnosis(es), most important first"),
        format!("Security<span class=\"count\">{FINDINGS} finding(s)"),
        format!("Hosts<span class=\"count\">{HOSTS}</span>"),
        format!("Jobs<span class=\"count\">{JOBS} job(s), failing first"),
        format!("Updates with errors<span class=\"count\">{UPDATES} update(s)"),
        format!("Inputs<span class=\"count\">{INPUTS}</span>"),
        format!("Warnings<span class=\"count\">{WARNINGS}</span>"),
    ] {
        assert!(page.contains(&heading), "{heading}");
    }

    // A diagnosis without a card on the page is named, not linked.
    let jobs = section(&page, "jobs");
    assert!(jobs.contains("<a href=\"#D1\">D1</a>"));
    let hidden = format!("D{}", html::CAUSE_CARD_CAP + 1);
    assert!(jobs.contains(&format!("{hidden}, ")), "{hidden}");
    assert!(!page.contains(&format!("href=\"#{hidden}\"")));
}

#[test]
fn a_huge_report_gives_a_short_text_report_that_counts_everything() {
    let r = huge_report();
    let out = text::render(&r);
    println!("text {} bytes, {} lines", out.len(), out.lines().count());
    // Cards of 30 lines here (the template has 18 fix steps), 12-15 on a real fleet.
    assert!(out.lines().count() < 1500, "{} lines", out.lines().count());
    assert!(out.len() < 250_000, "{} bytes", out.len());
    for line in [
        format!("{CAUSES} diagnosis(es), most important first:"),
        "… and 2975 more diagnosis(es): see diagnoses.csv (written by --out DIR) or --format json; -v lists all".to_string(),
        format!("Security (MITRE ATT&CK T1197): {FINDINGS} finding(s)"),
        "… and 480 more finding(s): see diagnoses.csv".to_string(),
        format!("Updates that failed: {UPDATES} (most hosts first):"),
        "… and 990 more failing update(s): see updates.csv".to_string(),
        format!("Jobs with errors: {JOBS}"),
        "… and 4960 more job(s) with errors: see jobs.csv".to_string(),
        "… and 2975 more input(s) not fully read: see --format json or -v".to_string(),
        format!("Warnings: {WARNINGS}"),
        "… and 2975 more warning(s): see --format json or -v".to_string(),
    ] {
        assert_eq!(out.matches(&line).count(), 1, "{line}");
    }
    // The first diagnoses are the ones shown.
    assert!(out.contains("\n[D25] ERROR") && !out.contains("\n[D26] ERROR"));
    // `-q` lists the root causes, capped the same way.
    let quiet = text::render_with(
        &r,
        &text::Options {
            detail: text::Detail::Quiet,
            ..Default::default()
        },
    );
    assert!(quiet.contains(&format!("{} root cause(s):", CAUSES + FINDINGS)));
    assert!(quiet.contains("… and 3475 more root cause(s): see diagnoses.csv"));
    assert!(quiet.lines().count() < 40, "{quiet}");
    // `-v` asks for everything.
    let verbose = text::render_with(
        &r,
        &text::Options {
            detail: text::Detail::Verbose,
            ..Default::default()
        },
    );
    assert!(verbose.contains(&format!("\n[D{CAUSES}] ERROR")));
    assert!(!verbose.contains("… and "));
    // which is what the caps save a reader from.
    assert!(verbose.len() > 50 * out.len(), "{}", verbose.len());
}

#[test]
fn the_samples_are_shown_whole() {
    let r = samples();
    let page = html::render(&r);
    assert!(!page.contains("… and "), "something of the samples is cut");
    for d in &r.diagnoses {
        assert!(
            page.contains(&format!("<a href=\"#{}\">", d.id))
                || page.contains(&format!(" id=\"{}\">", d.id)),
            "{}",
            d.id
        );
        assert!(page.contains(&format!(" id=\"{}\">", d.id)), "{}", d.id);
    }
    let out = text::render(&r);
    assert!(!out.contains("… and "), "{out}");
    for d in &r.diagnoses {
        assert!(out.contains(&format!("[{}] ", d.id)), "{}", d.id);
    }
}

/// A capped job list starts with the fleet's worst jobs wherever they are: failing before
/// recovered, the most errors first, not every job of the host whose name sorts first.
#[test]
fn the_capped_job_lists_start_with_the_worst_jobs_of_any_host() {
    let mut r = samples();
    let recovered = r
        .jobs
        .iter()
        .find(|j| j.outcome == Outcome::Recovered)
        .unwrap()
        .clone();
    let failing = r
        .jobs
        .iter()
        .find(|j| j.outcome == Outcome::Failing)
        .unwrap()
        .clone();
    // More recovered jobs than any list shows, on the host that sorts first.
    let mut first = Vec::new();
    for i in 0..JOBS / 10 {
        let mut j = recovered.clone();
        j.host = "AAA-FIRST.contoso.local".into();
        j.id = Guid::parse(&format!("{{{i:08X}-0B48-4C1B-A11A-6D1F7E6E1C7A}}"));
        first.push(j);
    }
    // The worst job, on the host that sorts last.
    let mut worst = failing.clone();
    worst.host = "ZZZ-LAST.contoso.local".into();
    worst.errors = [(HResult(0x8020_0013), 500)].into_iter().collect();
    first.append(&mut r.jobs);
    first.push(worst);
    r.jobs = first;

    let out = text::render(&r);
    let listed: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Jobs with errors"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(listed[0].contains("ZZZ-LAST.contoso.local"), "{listed:?}");
    let failing_lines = listed.iter().filter(|l| l.contains("failing")).count();
    assert!(
        listed[..failing_lines]
            .iter()
            .all(|l| l.contains("failing")),
        "{listed:?}"
    );
    assert!(failing_lines >= 2, "{listed:?}");

    let page = html::render(&r);
    let rows: Vec<&str> = section(&page, "jobs").split("<tr>").skip(2).collect();
    assert!(rows[0].contains("ZZZ-LAST.contoso.local"), "{}", rows[0]);
    assert!(rows[1].contains("b-failing"), "{}", rows[1]);
}
