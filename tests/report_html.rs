//! The HTML report: self-contained, every input value escaped, deterministic.

use bitsdoctor::correlate::{Job, JobDetails, Outcome};
use bitsdoctor::diagnose::{Category, Scope, Severity};
use bitsdoctor::model::{Evidence, HResult, Locator, When};
use bitsdoctor::parse::Warning;
use bitsdoctor::report::{
    html, FailurePoint, HostRow, InputRow, JobRow, Report, Status, Summary, SCHEMA,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const XSS: &str = "<script>alert(1)</script>";

fn utc(s: &str) -> When {
    When::Utc(s.parse().unwrap())
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A report whose every input-derived string is hostile.
fn hostile_report() -> Report {
    let host = "WS01\"><img src=x onerror=alert(1)>";
    let url = format!("http://evil.example/{XSS}?a=1&b='2'");
    let ev = Evidence {
        path: Arc::from(format!("bundle/{XSS}/bits.txt").as_str()),
        at: Locator::Line(7),
    };
    // `Diagnosis` has crate-private fields: start from one the analysis made and change the
    // public ones.
    let mut diagnosis = analyzed(BITSADMIN).diagnoses[0].clone();
    diagnosis.id = "D1".into();
    diagnosis.rule = "transfer-failure";
    diagnosis.category = Category::Failure;
    diagnosis.severity = Severity::Error;
    diagnosis.scope = Scope::Job;
    diagnosis.code = Some(HResult(0x8019_0193));
    diagnosis.symbol = Some("BG_E_HTTP_ERROR_403".into());
    diagnosis.title = format!("job {XSS} fails");
    diagnosis.cause = format!("the server said no {XSS}");
    diagnosis.fix = vec![
        format!("Run `bitsadmin /info {XSS} /verbose` as the owner"),
        "Then `sc stop bits` and `sc start bits`".into(),
    ];
    diagnosis.proof = format!("proof {XSS}");
    diagnosis.next_check = format!("check {XSS}");
    diagnosis.hosts = [host.into()].into();
    diagnosis.jobs = set(&[&format!("{host}/{{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}}")]);
    diagnosis.servers = set(&[&url]);
    diagnosis.proxies = set(&[&format!("proxy{XSS}:8080")]);
    diagnosis.occurrences = 3;
    diagnosis.first_seen = utc("2024-03-11T08:04:26Z");
    diagnosis.last_seen = utc("2024-03-11T09:04:26Z");
    diagnosis.evidence = vec![ev.clone()];
    diagnosis.explains = vec![];
    let job = JobRow::new(
        Job {
            host: host.into(),
            id: bitsdoctor::model::Guid::parse("{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}"),
            name: XSS.into(),
            owner: format!("CONTOSO\\{XSS}").into(),
            outcome: Outcome::Failing,
            errors: [(HResult(0x8019_0193), 3)].into_iter().collect(),
            urls: vec![url.clone().into()].into_iter().collect(),
            proxies: vec![].into_iter().collect(),
            details: JobDetails {
                state: Some(format!("ERROR{XSS}")),
                ..Default::default()
            }
            .boxed(),
            first_seen: utc("2024-03-11T08:04:26Z"),
            last_seen: utc("2024-03-11T09:04:26Z"),
            sources: vec![format!("bundle/{XSS}/bits.txt").into()]
                .into_iter()
                .collect(),
            ..Default::default()
        },
        vec!["D1".into()],
    );
    let host_row = HostRow {
        name: host.into(),
        jobs: 1,
        outcomes: BTreeMap::from([("failing", 1)]),
        service_state_changes: 2,
        service_start_type_changes: 0,
        service_start_failures: 0,
        service_crashes: 0,
        config: BTreeMap::from([(format!("ObjectName{XSS}"), format!("LocalSystem{XSS}"))]),
        policy: BTreeMap::new(),
        winhttp_proxy: Some(format!("{XSS} (bypass none)")),
        service_state: None,
        logs_cleared: vec![XSS.into()],
        diagnoses: vec!["D1".into()],
        clock: None,
    };
    let input = InputRow {
        path: format!("bundle/{XSS}/bits.txt"),
        kind: "bitsadmin".into(),
        host: host.into(),
        status: Status::Partial,
        reason: Some(format!("1 line not understood {XSS}")),
        observations: 5,
        records: 40,
        skipped_records: 0,
        provider_records: BTreeMap::new(),
    };
    let failures = (0..3)
        .map(|i| FailurePoint {
            time: utc(&format!("2024-03-11T0{}:04:26Z", 8 + i / 2)),
            host: 0,
            code: HResult(0x8019_0193),
        })
        .collect();
    Report {
        schema: SCHEMA,
        summary: Summary {
            inputs: 1,
            hosts: 1,
            jobs: 1,
            outcomes: BTreeMap::from([("failing", 1)]),
            diagnoses: BTreeMap::from([("error", 1)]),
            warnings: 1,
        },
        inputs: vec![input],
        hosts: vec![host_row],
        jobs: vec![job],
        updates: vec![],
        diagnoses: vec![diagnosis],
        warnings: vec![Warning {
            path: format!("bundle/{XSS}/bits.txt"),
            at: Some(Locator::Line(3)),
            message: format!("unreadable {XSS}"),
        }],
        window: None,
        unread: vec![],
        failures,
    }
}

#[test]
fn every_input_value_is_escaped() {
    let out = html::render(&hostile_report());
    let lower = out.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a raw script tag got through");
    assert!(!lower.contains("<img"), "a raw img tag got through");
    // ... and the values are still shown, escaped.
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out.contains("http://evil.example/&lt;script&gt;"));
    // Maud quotes every attribute with `"`, so `'` needs no escaping; `"` and `&` do.
    assert!(out.contains("a=1&amp;b='2'"));
    assert!(out.contains("WS01&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // Commands in fix steps are copyable code, escaped too.
    assert!(out.contains(
        "<code class=\"cmd\" title=\"click to select\">bitsadmin /info &lt;script&gt;alert(1)&lt;/script&gt; /verbose</code>"
    ));
    assert!(out.contains("<code class=\"cmd\" title=\"click to select\">sc stop bits</code>"));
}

#[test]
fn the_file_is_self_contained() {
    let out = html::render(&hostile_report());
    let lower = out.to_ascii_lowercase();
    for banned in [
        "<script", "<link", "<iframe", "<img", "@import", "url(", " src=\"",
    ] {
        assert!(!lower.contains(banned), "found {banned}");
    }
    // The only URL-like text outside escaped values is the SVG namespace.
    let hrefs: Vec<&str> = out
        .match_indices("href=\"")
        .map(|(i, _)| &out[i..])
        .collect();
    assert!(
        hrefs.iter().all(|h| h.starts_with("href=\"#")),
        "external link"
    );
    assert!(out.starts_with("<!DOCTYPE html>"));
    assert!(out.contains("<style>"));
    assert!(out.contains("Content-Security-Policy"));
}

#[test]
fn sections_and_balanced_markup() {
    let out = html::render(&hostile_report());
    for id in ["summary", "causes", "timeline", "hosts", "jobs", "inputs"] {
        assert!(out.contains(&format!("<section id=\"{id}\">")), "no {id}");
    }
    for tag in [
        "section", "article", "table", "details", "svg", "dl", "ol", "ul", "div",
    ] {
        let open =
            out.matches(&format!("<{tag}>")).count() + out.matches(&format!("<{tag} ")).count();
        let close = out.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open}, closed {close}");
    }
    // The timeline has bars for the three failures (two buckets), and a legend with the code.
    assert!(out.contains("<svg"));
    assert!(out.matches("<rect x=").count() >= 2);
    assert!(out.contains("<code>0x80190193</code> BG_E_HTTP_ERROR_403"));
    assert!(out.contains("3 failed attempt(s) on 1 host(s)"));
}

#[test]
fn same_report_same_bytes() {
    let r = hostile_report();
    assert!(html::render(&r) == html::render(&r));
}

#[test]
fn empty_report_renders() {
    let mut r = hostile_report();
    r.diagnoses.clear();
    r.jobs.clear();
    r.failures.clear();
    r.hosts.clear();
    let out = html::render(&r);
    assert!(out.contains("No problems found"));
    assert!(out.contains("No failed transfers"));
    assert!(!out.contains("<svg"));
}

const BITSADMIN: &str = "\r
BITSADMIN version 3.0\r
BITS administration utility.\r
(C) Copyright Microsoft Corp.\r
\r
GUID: {E55055F4-339D-4791-BFAE-8FA79602A966} DISPLAY: '<script>alert(1)</script>'\r
TYPE: DOWNLOAD STATE: ERROR OWNER: CONTOSO\\svc-appsync\r
PRIORITY: FOREGROUND FILES: 0 / 1 BYTES: 0 / UNKNOWN\r
CREATION TIME: 3/11/2024 8:04:26 AM MODIFICATION TIME: 3/11/2024 8:04:40 AM\r
COMPLETION TIME: UNKNOWN ACL FLAGS: \r
NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3\r
RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 1\r
PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL\r
ERROR FILE:    https://cdn.example/<script>alert(1)</script>.cab -> D:\\x.cab\r
ERROR CODE:    0x80190193 - HTTP status 403: The client does not have sufficient access rights to the requested server object.\r
ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being processed.\r
DESCRIPTION: \r
JOB FILES:\r
\t0 / UNKNOWN WORKING https://cdn.example/<script>alert(1)</script>.cab -> D:\\x.cab\r
NOTIFICATION COMMAND LINE: none\r
\r
Listed 1 job(s).\r
";

/// `bitsadmin.txt` in a `WS01` folder, analysed.
fn analyzed(bitsadmin: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("WS01");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("bitsadmin.txt"), bitsadmin).unwrap();
    analyze_dir(dir.path())
}

fn analyze_dir(dir: &std::path::Path) -> Report {
    let cfg = bitsdoctor::app::Config {
        paths: vec![dir.to_path_buf()],
        host: None,
        threads: 1,
        ..Default::default()
    };
    let kb = bitsdoctor::knowledge::Knowledge::builtin();
    bitsdoctor::app::analyze(&cfg, &kb).unwrap()
}

#[test]
fn analyzed_bundle_escapes_job_name_and_url() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("WS01")).unwrap();
    std::fs::write(dir.path().join("WS01/bitsadmin.txt"), BITSADMIN).unwrap();
    let r = analyze_dir(dir.path());
    assert_eq!(r.jobs.len(), 1);
    assert_eq!(r.jobs[0].name, XSS);
    assert!(
        r.jobs[0].urls.iter().any(|u| u.contains(XSS)),
        "{:?}",
        r.jobs[0]
    );
    let out = html::render(&r);
    assert!(!out.to_ascii_lowercase().contains("<script"));
    assert!(out.contains("https://cdn.example/&lt;script&gt;alert(1)&lt;/script&gt;.cab"));
    // Same inputs, same bytes.
    assert!(out == html::render(&analyze_dir(dir.path())));
}

#[test]
fn page_title_names_the_bundle_and_inputs_read_completely_are_only_counted() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("CASE-4711");
    std::fs::create_dir_all(bundle.join("WS01")).unwrap();
    std::fs::write(bundle.join("WS01/bitsadmin.txt"), BITSADMIN).unwrap();
    std::fs::write(bundle.join("notes.txt"), "nothing bitsdoctor reads").unwrap();
    let r = analyze_dir(&bundle);
    let out = html::render(&r);
    assert!(
        out.contains("<title>bitsdoctor: CASE-4711 (1 host(s)"),
        "{}",
        &out[..600]
    );
    let inputs = out.split("<section id=\"inputs\">").nth(1).unwrap();
    assert!(
        inputs.contains("1 read completely, 1 not fully read"),
        "{inputs}"
    );
    assert!(inputs.contains("notes.txt"));
    assert!(!inputs.contains("bitsadmin.txt"), "an ok input is listed");
    assert!(!inputs.contains("b-ok"));
}

#[test]
fn chart_shows_service_start_failures_too() {
    // In the samples, WS-LAB-11 has no failed transfer: BITS is disabled and fails to start.
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let r = analyze_dir(&samples);
    let host = "WS-LAB-11.contoso.local";
    assert!(r
        .failures
        .iter()
        .any(|f| r.hosts[f.host as usize].name == host && f.code.0 == 0x8007_0422));
    let out = html::render(&r);
    let chart = out
        .split("<section id=\"timeline\">")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(chart.contains(&format!("<title>{host}</title>")), "{chart}");
    assert!(chart.contains("0x80070422"));
}

/// The part of `page` from `<section id="ID">` to its end.
fn section<'a>(page: &'a str, id: &str) -> Option<&'a str> {
    let from = page.split(&format!("<section id=\"{id}\">")).nth(1)?;
    from.split("</section>").next()
}

#[test]
fn security_findings_have_their_own_section() {
    let mut r = hostile_report();
    let mut finding = r.diagnoses[0].clone();
    finding.id = "D2".into();
    finding.rule = "security.notify-command";
    finding.category = Category::Security;
    finding.severity = Severity::Warning;
    finding.title = format!("job runs a command when it ends {XSS}");
    r.diagnoses.push(finding);
    r.summary.diagnoses.insert("warning", 1);
    let out = html::render(&r);
    assert!(!out.to_ascii_lowercase().contains("<script"));
    let causes = section(&out, "causes").unwrap();
    let security = section(&out, "security").expect("no security section");
    assert!(causes.contains("<article class=\"dx s-error\" id=\"D1\">"));
    assert!(!causes.contains("id=\"D2\""), "{causes}");
    assert!(causes.contains("1 diagnosis(es), most important first"));
    assert!(security.contains("<article class=\"dx s-warning\" id=\"D2\">"));
    assert!(security.contains("job runs a command when it ends &lt;script&gt;"));
    assert!(security.contains("1 finding(s), MITRE ATT&amp;CK T1197"));
    assert!(!security.contains("id=\"D1\""));
    // Linked from the navigation, placed after the root causes and before the hosts.
    assert!(out.contains("<a href=\"#security\">Security</a>"));
    let at = |id: &str| out.find(&format!("<section id=\"{id}\">")).unwrap();
    assert!(at("causes") < at("security") && at("security") < at("hosts"));

    // Only security findings: the troubleshooting section says nothing else was found.
    r.diagnoses.remove(0);
    let out = html::render(&r);
    assert!(section(&out, "causes")
        .unwrap()
        .contains("No transfer, service or configuration problems found"));
    assert!(section(&out, "security").unwrap().contains("id=\"D2\""));

    // No security findings: no section and no link.
    let out = html::render(&hostile_report());
    assert!(section(&out, "security").is_none());
    assert!(!out.contains("href=\"#security\""));
}

#[test]
fn analyzed_security_findings_are_apart_from_the_root_causes() {
    // The samples hold one job the security lens flags.
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let r = analyze_dir(&samples);
    let out = html::render(&r);
    let causes = section(&out, "causes").unwrap();
    let security = section(&out, "security").expect("no security section");
    let mut flagged = 0;
    for d in &r.diagnoses {
        let article = format!(" id=\"{}\">", d.id);
        if d.category == Category::Security {
            flagged += 1;
            assert!(
                security.contains(&article) && !causes.contains(&article),
                "{}",
                d.id
            );
        } else {
            assert!(
                causes.contains(&article) && !security.contains(&article),
                "{}",
                d.id
            );
        }
    }
    assert!(flagged > 0, "the samples have no security finding");
}

#[test]
fn controls_and_bidi_from_an_input_never_reach_the_page_raw() {
    let mut r = hostile_report();
    r.jobs[0].name = "update\u{202e}gpj.exe\u{1b}[2J\u{7}".into();
    r.diagnoses[0].title = "title \u{2066}x\u{2069}".into();
    let out = html::render(&r);
    assert!(!out.contains(
        |c: char| (c.is_control() && c != '\n') || bitsdoctor::term::is_bidi_or_invisible(c)
    ));
    assert!(
        out.contains("update\\u202egpj.exe\u{FFFD}[2J\u{FFFD}"),
        "job name"
    );
    assert!(out.contains("<h3>title \\u2066x\\u2069</h3>"));
}
