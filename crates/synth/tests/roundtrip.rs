//! What the builder writes, read back with the evtx crate (the analyzer's reader): every layout
//! with the fields, types and System values the real corpus has; record ids continuous,
//! times increasing; same scenario, same bytes.

use evtx::{EvtxParser, ParserSettings};
use serde_json::Value as Json;
use std::path::Path;
use synth::*;

fn records(path: &Path) -> Vec<Json> {
    let settings = ParserSettings::new().num_threads(1);
    let mut parser = EvtxParser::from_path(path)
        .unwrap()
        .with_configuration(settings);
    parser
        .records_json_value()
        .map(|r| r.expect("readable record").data)
        .collect()
}

fn eid(r: &Json) -> u64 {
    let id = &r["Event"]["System"]["EventID"];
    id.as_u64().or_else(|| id["#text"].as_u64()).unwrap()
}

fn attr<'a>(r: &'a Json, element: &str, name: &str) -> &'a Json {
    &r["Event"]["System"][element]["#attributes"][name]
}

/// A host that exercises every layout the builder has.
fn every_layout() -> Scenario {
    let mut h = HostSpec::new("PC01.example.com", "PC01");
    let mut cancelled = JobSpec::windows_update(
        "http://wsus.example.com:8530/Content/AA/x.cab",
        vec![
            Attempt::Fail {
                hr: 0x8007_2EE7,
                context: 5,
            },
            Attempt::Cancel,
        ],
    );
    cancelled.in_bitsadmin = true;
    let mut failing = JobSpec::windows_update(
        "http://dl.example.com/y.cab",
        vec![Attempt::Fail202 {
            hr: 0x8020_0013,
            http_version: "HTTP/1.1".into(),
            url_range: "bytes=0-99".into(),
        }],
    );
    failing.proxy = Some("proxy.example.com:3128".into());
    failing.in_bitsadmin = true;
    failing.delay_minutes = 5;
    let mut ok = JobSpec::windows_update(
        "http://wsus.example.com:8530/Content/BB/z.cab",
        vec![Attempt::Succeed],
    );
    ok.delay_minutes = 9;
    ok.in_bitsadmin = true;
    h.jobs = vec![cancelled, failing, ok];
    h.service = ServiceSpec {
        start_failures: vec![(7000, 1058), (7023, 1068)],
        crashes: 2,
        slow_start: true,
        state_cycles: 2,
        ..ServiceSpec::default()
    };
    Scenario {
        hosts: vec![h],
        start: "2023-05-01T09:00:00Z".parse().unwrap(),
        seed: 42,
    }
}

#[test]
fn every_layout_reads_back_with_the_real_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let summary = write_bundle(&every_layout(), dir.path()).unwrap();
    let host = &summary.hosts[0];
    let bits = records(&dir.path().join("PC01").join(BITS_LOG));
    let system = records(&dir.path().join("PC01").join(SYSTEM_LOG));
    assert_eq!(bits.len() as u64, host.bits_records);
    assert_eq!(system.len() as u64, host.system_records);

    for log in [&bits, &system] {
        let ids: Vec<u64> = log
            .iter()
            .map(|r| r["Event"]["System"]["EventRecordID"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, (1..=log.len() as u64).collect::<Vec<_>>());
        let times: Vec<&str> = log
            .iter()
            .map(|r| attr(r, "TimeCreated", "SystemTime").as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        for r in log.iter() {
            assert_eq!(r["Event"]["System"]["Computer"], "PC01.example.com");
        }
    }

    let ids: Vec<u64> = bits.iter().map(eid).collect();
    for want in [3, 59, 60, 61, 202, 4, 5, 302, 306] {
        assert!(ids.contains(&want), "no {want} in {ids:?}");
    }
    let job_ids = &host.job_ids;
    for r in &bits {
        let sys = &r["Event"]["System"];
        let d = &r["Event"]["EventData"];
        assert_eq!(attr(r, "Provider", "Guid"), BITS_GUID);
        assert_eq!(sys["Channel"], BITS_CHANNEL);
        assert_eq!(sys["Keywords"], "0x4000000000000000");
        assert_eq!(attr(r, "Security", "UserID"), "S-1-5-18");
        let (level, version, opcode) = (
            sys["Level"].as_u64().unwrap(),
            sys["Version"].as_u64().unwrap(),
            sys["Opcode"].as_u64().unwrap(),
        );
        match eid(r) {
            3 => {
                assert_eq!((level, version, opcode), (4, 2, 0));
                let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
                assert_eq!(
                    keys,
                    ["jobTitle", "jobId", "jobOwner", "processPath", "processId"]
                );
                assert!(d["processId"].is_u64());
                let id = d["jobId"].as_str().unwrap();
                assert!(job_ids.iter().any(|j| j == id), "{id}");
            }
            59 => {
                assert_eq!((level, version, opcode), (4, 1, 1));
                assert_eq!(d.as_object().unwrap().len(), 10);
                assert_eq!(attr(r, "Correlation", "ActivityID"), &d["transferId"]);
            }
            60 | 61 => {
                assert_eq!((version, opcode), (1, 2));
                assert_eq!(level, if eid(r) == 61 { 3 } else { 4 });
                assert_eq!(d.as_object().unwrap().len(), 17);
                assert!(
                    d["hr"].is_u64(),
                    "hr renders as a decimal number: {}",
                    d["hr"]
                );
                assert_eq!(d["hr"].as_u64() == Some(0), eid(r) == 60);
                assert_eq!(attr(r, "Correlation", "ActivityID"), &d["transferId"]);
                // Its 59 came first with the same transfer id and job id.
                let start = bits
                    .iter()
                    .find(|x| {
                        eid(x) == 59 && x["Event"]["EventData"]["transferId"] == d["transferId"]
                    })
                    .expect("a 59");
                assert_eq!(start["Event"]["EventData"]["Id"], d["Id"]);
            }
            202 => {
                assert_eq!((level, version), (2, 0));
                assert_eq!(d["hr"].as_u64(), Some(0x8020_0013));
                assert_eq!(d["proxy"], "proxy.example.com:3128");
                assert_eq!(d["URLRange"], "bytes=0-99");
            }
            4 => {
                assert_eq!((level, version), (4, 1));
                assert_eq!(d.as_object().unwrap().len(), 7);
            }
            5 => assert_eq!(d.as_object().unwrap().len(), 5),
            302 => assert_eq!(level, 3),
            306 => assert_eq!(level, 5),
            other => panic!("unexpected event {other}"),
        }
    }

    let scm: Vec<&Json> = system
        .iter()
        .filter(|r| attr(r, "Provider", "Name") == "Service Control Manager")
        .collect();
    assert_eq!(scm.len(), system.len());
    let mut seen = std::collections::BTreeSet::new();
    for r in scm {
        let sys = &r["Event"]["System"];
        let d = &r["Event"]["EventData"];
        assert_eq!(attr(r, "Provider", "Guid"), SCM_GUID);
        assert_eq!(
            attr(r, "Provider", "EventSourceName"),
            "Service Control Manager"
        );
        assert_eq!(sys["Keywords"], "0x8080000000000000");
        let q = attr(r, "EventID", "Qualifiers").as_u64().unwrap();
        let bits = d["param1"] == BITS_DISPLAY_NAME;
        if bits {
            seen.insert(eid(r));
        }
        match eid(r) {
            7036 => {
                assert_eq!(q, 16384);
                let bin = d["Binary"].as_str().unwrap();
                if bits {
                    assert!(
                        [
                            "42004900540053002F0034000000",
                            "42004900540053002F0031000000"
                        ]
                        .contains(&bin),
                        "{bin}"
                    );
                }
            }
            7040 => {
                assert_eq!(q, 16384);
                assert_eq!(d["param4"], "BITS");
                assert_eq!(attr(r, "Security", "UserID"), "S-1-5-18");
            }
            7000 | 7023 => {
                assert_eq!((q, sys["Level"].as_u64()), (49152, Some(2)));
                let p2 = d["param2"].as_str().unwrap();
                assert!(p2 == "%%1058" || p2 == "%%1068", "{p2}");
                assert_eq!(d["Binary"], "4200490054005300".to_string() + "0000");
            }
            7031 => {
                assert_eq!(q, 49152);
                assert_eq!(d.as_object().unwrap().len(), 6);
            }
            other => panic!("unexpected SCM event {other}"),
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [7000, 7023, 7031, 7036, 7040]
    );
}

#[test]
fn text_captures_have_the_real_layouts() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(&every_layout(), dir.path()).unwrap();
    let host = dir.path().join("PC01");
    let bitsadmin = std::fs::read_to_string(host.join("bitsadmin.txt")).unwrap();
    assert!(bitsadmin.starts_with("\r\nBITSADMIN version 3.0\r\nBITS administration utility.\r\n"));
    // The cancelled job is gone from the queue; the failing and the finished ones are listed.
    assert!(bitsadmin.ends_with("Listed 2 job(s).\r\n"), "{bitsadmin}");
    assert!(bitsadmin.contains("TYPE: DOWNLOAD STATE: ERROR OWNER: NT AUTHORITY\\SYSTEM\r\n"));
    assert!(bitsadmin.contains("ERROR CODE:    0x80200013 - The server does not support"));
    assert!(bitsadmin.contains("ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being processed.\r\n"));
    assert!(bitsadmin.contains("TYPE: DOWNLOAD STATE: TRANSFERRED OWNER: NT AUTHORITY\\SYSTEM\r\n"));
    let qc = std::fs::read_to_string(host.join("sc-qc-bits.txt")).unwrap();
    assert!(qc.contains("        START_TYPE         : 2   AUTO_START  (DELAYED)\r\n"));
    // The default host is a Windows 10 1703+ machine: RpcSs only, `-p`.
    assert!(qc.contains(
        "        DEPENDENCIES       : RpcSs\r\n        SERVICE_START_NAME : LocalSystem\r\n"
    ));
    assert!(qc.contains("svchost.exe -k netsvcs -p\r\n"));
    let query = std::fs::read_to_string(host.join("sc-query-bits.txt")).unwrap();
    assert!(query.contains("STATE              : 1  STOPPED"));
    assert!(query.contains("TYPE               : 30  WIN32\r\n"));
    let reg = std::fs::read(host.join("bits-service.reg")).unwrap();
    assert_eq!(&reg[..2], &[0xFF, 0xFE]);
    let units: Vec<u16> = reg[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]\r\n"));
    assert!(text.contains("\"FailureActions\"=hex:80,51,01,00,00,00,00,00,00,00,00,00,03,00,00,00,14,00,00,\\\r\n  00,01,00,00,00,60,ea,00,00,01,00,00,00,c0,d4,01,00,00,00,00,00,00,00,00,00\r\n"), "{text}");
    assert!(text.lines().all(|l| l.len() <= 80));
}

#[test]
fn same_scenario_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let s = samples::scenario();
    let fa = write_bundle(&s, a.path()).unwrap();
    let fb = write_bundle(&s, b.path()).unwrap();
    assert_eq!(fa, fb);
    for f in &fa.files {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{}",
            f.display()
        );
    }
    let mut other = s.clone();
    other.seed += 1;
    let c = tempfile::tempdir().unwrap();
    write_bundle(&other, c.path()).unwrap();
    let f = Path::new("WS-FIN-01").join(BITS_LOG);
    assert_ne!(
        std::fs::read(a.path().join(&f)).unwrap(),
        std::fs::read(c.path().join(&f)).unwrap()
    );
}

#[test]
fn bench_corpus_counts_what_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = bench::write_bench(dir.path(), 2, 2, 7).unwrap();
    assert_eq!(s.files.len(), 2);
    let mut bits = std::collections::BTreeMap::<u16, u64>::new();
    let mut total = 0;
    let mut providers = std::collections::BTreeSet::new();
    for f in &s.files {
        for r in records(f) {
            total += 1;
            let p = attr(&r, "Provider", "Name").as_str().unwrap().to_string();
            if p == BITS_PROVIDER {
                *bits.entry(eid(&r) as u16).or_default() += 1;
            }
            providers.insert(p);
        }
    }
    assert_eq!(total, s.records);
    assert_eq!(bits, s.bits_events);
    assert_eq!(providers.len(), 4, "{providers:?}");
    assert!(s.bytes > 1_000_000, "{}", s.bytes);
}
