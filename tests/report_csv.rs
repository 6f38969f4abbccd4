//! The CSV files: headers, one row per kind, formula injection, RFC 4180 quoting, determinism.

use bitsdoctor::correlate::{Job, JobDetails, Outcome};
use bitsdoctor::model::{
    Evidence, Fact, Guid, HResult, JobSnapshot, Locator, Observation, UpdateStage, When,
};
use bitsdoctor::report::{csv as report_csv, JobRow, Report};
use std::collections::BTreeMap;
use std::sync::Arc;

const GUID: &str = "{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}";

fn utc(s: &str) -> When {
    When::Utc(s.parse().unwrap())
}

fn local(s: &str) -> When {
    When::Local(s.parse().unwrap())
}

fn parse(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// A report as the analysis makes it (the 403 job of the samples' SRV-APP-03, from a
/// bitsadmin listing), for rows of every file.
fn analyzed() -> Report {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("WS01")).unwrap();
    std::fs::write(dir.path().join("WS01/bitsadmin.txt"), BITSADMIN).unwrap();
    let cfg = bitsdoctor::app::Config {
        paths: vec![dir.path().to_path_buf()],
        host: None,
        threads: 1,
        ..Default::default()
    };
    bitsdoctor::app::analyze(&cfg, &bitsdoctor::knowledge::Knowledge::builtin()).unwrap()
}

const BITSADMIN: &str = "BITSADMIN version 3.0\r
\r
GUID: {E55055F4-339D-4791-BFAE-8FA79602A966} DISPLAY: 'AppCatalog sync'\r
TYPE: DOWNLOAD STATE: ERROR OWNER: CONTOSO\\svc-appsync\r
PRIORITY: FOREGROUND FILES: 0 / 1 BYTES: 0 / UNKNOWN\r
CREATION TIME: 3/11/2024 8:04:26 AM MODIFICATION TIME: 3/11/2024 8:04:40 AM\r
COMPLETION TIME: UNKNOWN ACL FLAGS: \r
NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3\r
RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 1\r
PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL\r
ERROR FILE:    https://cdn.example/catalog.cab -> D:\\x.cab\r
ERROR CODE:    0x80190193 - HTTP status 403\r
ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being processed.\r
DESCRIPTION: \r
JOB FILES:\r
\t0 / UNKNOWN WORKING https://cdn.example/catalog.cab -> D:\\x.cab\r
NOTIFICATION COMMAND LINE: none\r
\r
Listed 1 job(s).\r
";

fn job(name: &str) -> JobRow {
    JobRow::new(
        Job {
            host: "WS01".into(),
            id: bitsdoctor::model::Guid::parse(GUID),
            name: name.into(),
            owner: "CONTOSO\\alice".into(),
            outcome: Outcome::Failing,
            errors: [(HResult(0x8007_2EE7), 3), (HResult(0x8007_2EFE), 1)]
                .into_iter()
                .collect(),
            urls: vec![
                "http://a.example/x.cab".into(),
                "http://b.example/y.cab".into(),
            ]
            .into_iter()
            .collect(),
            proxies: vec!["proxy01:8080".into()].into_iter().collect(),
            details: JobDetails {
                state: Some("TRANSIENT_ERROR".into()),
                ..Default::default()
            }
            .boxed(),
            first_seen: utc("2024-03-11T08:04:26Z"),
            last_seen: local("2024-03-11T09:04:26"),
            sources: vec!["WS01/bitsadmin.txt".into()].into_iter().collect(),
            ..Default::default()
        },
        vec!["D1".into(), "D4".into()],
    )
}

#[test]
fn diagnoses_csv_header_and_row() {
    let r = analyzed();
    let out = report_csv::diagnoses(&r);
    let rows = parse(&out);
    assert_eq!(
        rows[0],
        [
            "id",
            "rule",
            "category",
            "severity",
            "scope",
            "code",
            "symbol",
            "title",
            "cause",
            "fix",
            "hosts",
            "jobs",
            "servers",
            "proxies",
            "occurrences",
            "first_seen",
            "last_seen",
            "evidence",
            "first_seen_basis",
            "last_seen_basis",
            "updates",
            "blocks"
        ]
    );
    assert_eq!(rows.len(), 1 + r.diagnoses.len());
    let d = &r.diagnoses[0];
    let row = &rows[1];
    assert_eq!(row[0], d.id);
    assert_eq!(row[1], d.rule);
    assert_eq!(row[2], "failure");
    assert_eq!(row[3], d.severity.as_str());
    assert_eq!(row[4], "job");
    assert_eq!(row[5], "0x80190193");
    assert_eq!(row[6], "BG_E_HTTP_ERROR_403");
    assert_eq!(row[9], d.fix.join("\n"));
    assert_eq!(row[10], "WS01");
    assert_eq!(row[11], "WS01/{E55055F4-339D-4791-BFAE-8FA79602A966}");
    assert_eq!(row[12], "https://cdn.example:443");
    assert_eq!(row[14], d.occurrences.to_string());
    // bitsadmin prints local times: kept as written, no zone.
    assert_eq!(row[15], "2024-03-11T08:04:40");
    assert!(row[17].ends_with("WS01/bitsadmin.txt:3"), "{}", row[17]);
    // ... and say so: the offset of that host is unknown.
    assert_eq!(
        (row[18].as_str(), row[19].as_str()),
        ("local-unknown", "local-unknown")
    );
    assert!(out.ends_with("\r\n"));
}

#[test]
fn jobs_csv_header_and_row() {
    let mut r = analyzed();
    r.jobs = vec![job("Windows Update")];
    let rows = parse(&report_csv::jobs(&r));
    assert_eq!(
        rows[0],
        [
            "host",
            "id",
            "name",
            "owner",
            "outcome",
            "state",
            "errors",
            "urls",
            "proxies",
            "first_seen",
            "last_seen",
            "diagnoses",
            "first_seen_basis",
            "last_seen_basis"
        ]
    );
    assert_eq!(
        rows[1],
        [
            "WS01",
            GUID,
            "Windows Update",
            "CONTOSO\\alice",
            "failing",
            "TRANSIENT_ERROR",
            "0x80072EE7=3\n0x80072EFE=1",
            "http://a.example/x.cab\nhttp://b.example/y.cab",
            "proxy01:8080",
            "2024-03-11T08:04:26Z",
            "2024-03-11T09:04:26",
            "D1\nD4",
            "utc",
            "local-unknown"
        ]
    );
}

#[test]
fn formula_injection_is_neutralised() {
    let mut r = analyzed();
    let payloads = [
        "=cmd|' /C calc'!A0",
        "+1+2",
        "-2+3",
        "@SUM(A1:A2)",
        "\tleading tab",
        "\rleading CR",
    ];
    r.jobs = payloads
        .iter()
        .map(|p| {
            let mut j = job(p);
            j.job.owner = (*p).into();
            j.job.urls = [(*p).into()].into_iter().collect();
            j
        })
        .collect();
    let out = report_csv::jobs(&r);
    let rows = parse(&out);
    for (p, row) in payloads.iter().zip(&rows[1..]) {
        let want = format!("'{p}");
        assert_eq!(row[2], want, "name");
        assert_eq!(row[3], want, "owner");
        // In a list cell a line break inside an item is a space: nothing left to neutralise.
        let want_url = if p.starts_with('\r') {
            p.replacen('\r', " ", 1)
        } else {
            want.clone()
        };
        assert_eq!(row[7], want_url, "urls");
    }
    assert!(out.contains("'=cmd|' /C calc'!A0"));
    // Nothing else is touched.
    assert!(out.contains(",\"0x80072EE7=3\n0x80072EFE=1\","));
}

#[test]
fn diagnosis_cells_are_neutralised_too() {
    let mut r = analyzed();
    r.diagnoses[0].title = "=HYPERLINK(\"http://evil\")".into();
    r.diagnoses[0].servers = ["-evil.example".to_string()].into();
    let rows = parse(&report_csv::diagnoses(&r));
    assert_eq!(rows[1][7], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(rows[1][12], "'-evil.example");
}

#[test]
fn commas_quotes_and_newlines_are_quoted() {
    let mut r = analyzed();
    let name = "Update, \"urgent\"\r\nsecond line";
    r.jobs = vec![job(name)];
    let out = report_csv::jobs(&r);
    assert!(
        out.contains("\"Update, \"\"urgent\"\"\r\nsecond line\""),
        "{out}"
    );
    let rows = parse(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][2], name);
    assert_eq!(rows[1].len(), 14);
}

fn ev(path: &str, at: Locator) -> Evidence {
    Evidence {
        path: Arc::from(path),
        at,
    }
}

/// One observation of every kind of fact.
fn every_kind() -> Vec<Observation> {
    let g = Guid::parse(GUID);
    let hr = HResult(0x8020_0013);
    let facts = vec![
        Fact::JobCreated {
            job: g,
            title: "Windows Update".into(),
            owner: "NT AUTHORITY\\SYSTEM".into(),
            process: Some("svchost.exe".into()),
        },
        Fact::TransferStarted {
            job: g,
            title: "Windows Update".into(),
            url: "http://wsus:8530/a.cab".into(),
            bytes_total: Some(1024),
        },
        Fact::TransferStopped {
            job: g,
            title: "Windows Update".into(),
            url: "http://wsus:8530/a.cab".into(),
            hr: HResult(0),
            proxy: None,
            bytes_transferred: Some(0),
        },
        Fact::TransferError {
            job: g,
            title: "Windows Update".into(),
            url: "http://wsus:8530/a.cab".into(),
            hr,
            proxy: Some("proxy01:8080".into()),
            context: Some(5),
        },
        Fact::JobCompleted {
            job: g,
            title: "Windows Update".into(),
            owner: "NT AUTHORITY\\SYSTEM".into(),
            file_count: Some(1),
        },
        Fact::JobCancelled {
            job: g,
            title: "Windows Update".into(),
            owner: "NT AUTHORITY\\SYSTEM".into(),
        },
        Fact::JobSnapshot(Box::new(JobSnapshot {
            job: g,
            display_name: "Windows Update".into(),
            state: Some("ERROR".into()),
            error_code: Some(hr),
            files: vec![("http://wsus:8530/a.cab".into(), "C:\\a.cab".into())],
            ..Default::default()
        })),
        Fact::ProxyFailure {
            job: g,
            title: "Windows Update".into(),
            url: "http://wsus:8530/a.cab".into(),
            proxy_list: "proxy01:8080".into(),
            bypass_list: "<local>".into(),
            hr: HResult(0x8007_2EE7),
        },
        Fact::HttpFeatureMissing {
            job: g,
            title: "Windows Update".into(),
            url: "http://wsus:8530/a.cab".into(),
            proxy: Some("proxy01:8080".into()),
            hr,
            feature: "range".into(),
            http_version: Some("HTTP/1.1".into()),
            url_range: None,
        },
        Fact::CredentialsRejected {
            job_title: "Windows Update".into(),
            server: "wsus".into(),
            url: "http://wsus:8530/a.cab".into(),
            scheme: "NTLM".into(),
            user: "alice".into(),
        },
        Fact::ServiceWarning {
            event: 302,
            hr: None,
            seconds: Some(30.0),
        },
        Fact::ServiceState {
            service: "BITS".into(),
            state: "running".into(),
            state_code: Some(4),
        },
        Fact::ServiceStartType {
            service: "BITS".into(),
            from: "demand start".into(),
            to: "disabled".into(),
        },
        Fact::ServiceStartFailure {
            service: "BITS".into(),
            event: 7000,
            error: Some(HResult(0x8007_0422)),
            dependency: None,
        },
        Fact::ServiceCrash {
            service: "BITS".into(),
            count: Some(1),
        },
        Fact::ServiceInstalled {
            service: "BITS".into(),
            image_path: "svchost.exe -k netsvcs".into(),
            account: "LocalSystem".into(),
        },
        Fact::ServiceConfig {
            name: "Start".into(),
            value: "4".into(),
            from: bitsdoctor::model::ConfigSource::ScQc,
        },
        Fact::Policy {
            name: "MaxJobsPerUser".into(),
            value: "60".into(),
        },
        Fact::WinHttpProxy {
            direct: false,
            proxy: Some("proxy01:8080".into()),
            bypass: Some("<local>".into()),
        },
        Fact::LimitReached {
            event: 16398,
            entity: "alice".into(),
            current: Some(61),
            limit: Some(60),
        },
        Fact::LogCleared {
            channel: "System".into(),
            user: "admin".into(),
        },
        Fact::Update {
            stage: UpdateStage::DownloadFailed,
            title: "KB5035845".into(),
            guid: None,
            revision: Some(1),
            hr: Some(hr),
            job: g,
        },
    ];
    facts
        .into_iter()
        .enumerate()
        .map(|(i, fact)| Observation {
            host: "WS01".into(),
            time: utc(&format!("2024-03-11T08:{:02}:00Z", i)),
            evidence: if i % 2 == 0 {
                ev("WS01/System.evtx", Locator::Record(100 + i as u64))
            } else {
                ev("WS01/bitsadmin.txt", Locator::Line(i as u32 + 1))
            },
            event_id: if i % 2 == 0 { 61 } else { 0 },
            fact,
        })
        .collect()
}

#[test]
fn events_csv_has_a_row_per_kind() {
    let obs = every_kind();
    let rows = parse(&report_csv::events(&obs));
    assert_eq!(
        rows[0],
        [
            "time",
            "host",
            "event_id",
            "kind",
            "job",
            "code",
            "url",
            "proxy",
            "detail",
            "path",
            "record",
            "line",
            "time_basis"
        ]
    );
    assert_eq!(rows.len(), 1 + obs.len());
    for (o, row) in obs.iter().zip(&rows[1..]) {
        // The kind column is the tag the JSON uses.
        let tag = serde_json::to_value(&o.fact).unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(row[3], tag);
        assert!(row[0].ends_with('Z'));
        assert_eq!(row[12], "utc");
        assert_eq!(row[1], "WS01");
        match o.evidence.at {
            Locator::Record(n) => {
                assert_eq!(
                    (row[2].as_str(), row[9].as_str()),
                    ("61", "WS01/System.evtx")
                );
                assert_eq!((row[10].clone(), row[11].as_str()), (n.to_string(), ""));
            }
            Locator::Line(n) => {
                assert_eq!(row[2], "", "text inputs have no event id");
                assert_eq!((row[10].as_str(), row[11].clone()), ("", n.to_string()));
            }
        }
    }
    let by_kind: BTreeMap<&str, &Vec<String>> =
        rows[1..].iter().map(|r| (r[3].as_str(), r)).collect();
    assert_eq!(by_kind.len(), 22, "every kind once");
    let err = by_kind["transfer_error"];
    assert_eq!(err[4], GUID);
    assert_eq!(err[5], "0x80200013");
    assert_eq!(err[6], "http://wsus:8530/a.cab");
    assert_eq!(err[7], "proxy01:8080");
    assert_eq!(err[8], "title=Windows Update\ncontext=5");
    assert_eq!(by_kind["service_start_failure"][5], "0x80070422");
    assert_eq!(by_kind["transfer_stopped"][5], "0x00000000");
    assert_eq!(
        by_kind["job_snapshot"][8],
        "title=Windows Update\nstate=ERROR"
    );
    assert_eq!(by_kind["policy"][8], "name=MaxJobsPerUser\nvalue=60");
    assert_eq!(by_kind["credentials_rejected"][4], "", "no GUID");
}

#[test]
fn events_are_sorted_whatever_the_input_order() {
    let obs = every_kind();
    let mut reversed = obs.clone();
    reversed.reverse();
    assert_eq!(report_csv::events(&obs), report_csv::events(&reversed));
    // Unknown times first (empty cell), then local, then UTC.
    let mut mixed = obs[..2].to_vec();
    mixed[0].time = When::Unknown;
    mixed[1].time = local("2024-03-11T07:00:00");
    let rows = parse(&report_csv::events(&[mixed[1].clone(), mixed[0].clone()]));
    assert_eq!(rows[1][0], "");
    assert_eq!(rows[2][0], "2024-03-11T07:00:00");
}

#[test]
fn same_report_same_bytes() {
    let a = analyzed();
    let b = analyzed();
    // The temporary folder differs: compare with the paths made the same.
    let strip = |s: String, r: &Report| {
        let root = r.inputs[0].path.split("/WS01/").next().unwrap().to_string();
        s.replace(&root, "ROOT")
    };
    assert_eq!(
        strip(report_csv::diagnoses(&a), &a),
        strip(report_csv::diagnoses(&b), &b)
    );
    assert_eq!(report_csv::jobs(&a), report_csv::jobs(&b));
    assert_eq!(report_csv::diagnoses(&a), report_csv::diagnoses(&a));
    let obs = every_kind();
    assert_eq!(report_csv::events(&obs), report_csv::events(&obs));
}

#[test]
fn empty_inputs_give_the_header_only() {
    let mut r = analyzed();
    r.diagnoses.clear();
    r.jobs.clear();
    assert_eq!(parse(&report_csv::diagnoses(&r)).len(), 1);
    assert_eq!(parse(&report_csv::jobs(&r)).len(), 1);
    assert_eq!(
        report_csv::events(&[]),
        "time,host,event_id,kind,job,code,url,proxy,detail,path,record,line,time_basis\r\n"
    );
}
