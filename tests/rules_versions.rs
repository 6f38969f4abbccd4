//! Service and configuration rules judged against the Windows version the captures come from
//! (bits-facts.md 3.6a): healthy defaults of current Windows give no finding, an older machine
//! is held to its own defaults, repairs restore the version's defaults, captures that disagree
//! are shown, and no fix step is a bare `sc` (in PowerShell that is Set-Content).

mod rules_support;
use bitsdoctor::app::{analyze, Config};
use bitsdoctor::diagnose::{Diagnosis, Severity};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report::{Report, Status};
use rules_support::*;
use synth::{CaptureSet, ConfigSpec, HostSpec};

/// A host with every capture, `reg query` of the service and policy keys included.
fn machine(name: &str, config: ConfigSpec) -> HostSpec {
    let mut h = host(name);
    h.jobs = vec![healthy_job(1)];
    h.captures = CaptureSet {
        reg_query: true,
        ..CaptureSet::all()
    };
    h.config = Some(config);
    h
}

fn service_config(r: &Report) -> &Diagnosis {
    one(r, "service-config", None)
}

fn fix(d: &Diagnosis) -> String {
    d.fix.join("\n")
}

/// No fix step anywhere is a bare `sc` command.
fn assert_no_bare_sc(r: &Report) {
    for d in &r.diagnoses {
        for f in &d.fix {
            assert!(
                !f.trim_start().starts_with("sc ") && !f.contains("`sc "),
                "{}: bare sc in `{f}`",
                d.title
            );
        }
    }
}

#[test]
fn default_windows_10_11_server_2016_and_2022_give_no_finding() {
    let r = run(&scenario(vec![
        machine("WIN10", ConfigSpec::windows10()),
        machine("WIN11", ConfigSpec::windows11()),
        machine("SRV2016", ConfigSpec::server2016()),
        machine("SRV2022", ConfigSpec::windows10()),
    ]));
    assert!(findings(&r).is_empty(), "{}", dump(&r));
    // sc qc, sc query (TYPE 30 on the split-svchost machines), qprivs, qsidtype, qfailure,
    // the .reg exports and `reg query` of both keys were all read.
    for name in ["WIN10", "WIN11", "SRV2016", "SRV2022"] {
        let inputs: Vec<_> = r
            .inputs
            .iter()
            .filter(|i| i.path.contains(&format!("/{name}/")))
            .collect();
        for file in [
            "sc-qc-bits.txt",
            "sc-query-bits.txt",
            "sc-qprivs-bits.txt",
            "sc-qsidtype-bits.txt",
            "sc-qfailure-bits.txt",
            "reg-query-bits.txt",
            "bits-service.reg",
        ] {
            let i = inputs
                .iter()
                .find(|i| i.path.ends_with(file))
                .unwrap_or_else(|| panic!("{name}/{file} not read"));
            assert_eq!(i.status, Status::Ok, "{}", i.path);
            assert!(i.observations > 0, "{}", i.path);
        }
        // No policy key: `reg query` says so, which is "no policy", not an unreadable input.
        let policy = inputs
            .iter()
            .find(|i| i.path.ends_with("reg-query-bits-policy.txt"))
            .unwrap();
        assert_eq!((policy.kind.as_str(), policy.status), ("reg", Status::Ok));
    }
    assert!(
        r.warnings.is_empty(),
        "{:?}",
        r.warnings.iter().map(|w| &w.message).collect::<Vec<_>>()
    );
}

#[test]
fn vista_missing_eventsystem_gets_the_vista_repair() {
    let mut h = machine(
        "VISTA",
        ConfigSpec {
            dependencies: vec!["RpcSs".into()],
            ..ConfigSpec::vista()
        },
    );
    h.bits_version = Some("7.0.6002".into());
    let r = run(&scenario(vec![h]));
    let d = service_config(&r);
    assert_scope(d, bitsdoctor::diagnose::Scope::Host, &["VISTA"]);
    assert_eq!(d.severity, Severity::Error);
    assert!(d.title.contains("EventSystem"), "{}", d.title);
    assert_eq!(
        d.fix,
        [
            "sc.exe stop bits",
            "sc.exe config bits depend= RpcSs/EventSystem",
            "sc.exe start bits",
            "sc.exe query bits (STATE should be 4 RUNNING)"
        ]
    );
    assert!(d.proof.contains("Windows Vista to 8.1"), "{}", d.proof);
    assert!(d.proof.contains("BITS build 6002"), "{}", d.proof);
    assert_explained(d);
    // The same Vista machine with its defaults is healthy.
    let mut ok = machine("VISTA-OK", ConfigSpec::vista());
    ok.bits_version = Some("7.0.6002".into());
    let r = run(&scenario(vec![ok]));
    assert!(findings(&r).is_empty(), "{}", dump(&r));
}

#[test]
fn windows_10_faults_get_windows_10_repairs() {
    let r = run(&scenario(vec![
        machine(
            "W10-NORPC",
            ConfigSpec {
                dependencies: vec![],
                ..ConfigSpec::windows10()
            },
        ),
        machine(
            "W10-ACCT",
            ConfigSpec {
                object_name: "NT AUTHORITY\\LocalService".into(),
                ..ConfigSpec::windows10()
            },
        ),
        machine(
            "W10-NODLL",
            ConfigSpec {
                service_dll: String::new(),
                ..ConfigSpec::windows10()
            },
        ),
    ]));
    assert_no_bare_sc(&r);
    let of = |h: &str| -> &Diagnosis {
        let hits: Vec<&Diagnosis> = find(&r, "service-config", None)
            .into_iter()
            .filter(|d| d.hosts.contains(fqdn(h).as_str()))
            .collect();
        assert_eq!(hits.len(), 1, "{h}:\n{}", dump(&r));
        hits[0]
    };
    // Every repair is Windows 10's: never EventSystem, never without SeDebugPrivilege or -p.
    for h in ["W10-NORPC", "W10-ACCT", "W10-NODLL"] {
        let d = of(h);
        let f = fix(d);
        assert!(!f.contains("EventSystem"), "{h}: {f}");
        assert!(!f.contains("netsvcs\""), "{h}: {f}");
        assert!(
            d.proof.contains("Windows 10 1703 or later"),
            "{h}: {}",
            d.proof
        );
        assert!(
            d.proof.contains("`-p` in the binary path"),
            "{h}: {}",
            d.proof
        );
        assert_explained(d);
    }
    let d = of("W10-NORPC");
    assert_eq!(d.severity, Severity::Error);
    assert!(d.title.contains("RpcSs"), "{}", d.title);
    assert!(
        d.fix
            .contains(&"sc.exe config bits depend= RpcSs".to_string()),
        "{}",
        fix(d)
    );
    let d = of("W10-ACCT");
    assert!(d.title.contains("LocalSystem"), "{}", d.title);
    assert_eq!(d.fix[0], "sc.exe config bits obj= LocalSystem");
    let d = of("W10-NODLL");
    assert_eq!(d.severity, Severity::Critical);
    assert!(d.proof.contains("ServiceDll = (missing)"), "{}", d.proof);
    assert!(
        d.fix.iter().any(|f| f.starts_with("reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters /v ServiceDll /t REG_EXPAND_SZ /d \"%SystemRoot%\\System32\\qmgr.dll\"")),
        "{}",
        fix(d)
    );
}

#[test]
fn unknown_version_flags_only_what_is_wrong_everywhere() {
    // Only `sc qc`: no privileges, no build, no `-p`. The Vista list is not demanded, and a
    // missing RpcSs is, with a fix that keeps what is there.
    let mut plain = machine(
        "OLD-OR-NEW",
        ConfigSpec {
            image_path: "%SystemRoot%\\System32\\svchost.exe -k netsvcs".into(),
            ..ConfigSpec::windows10()
        },
    );
    plain.captures = CaptureSet {
        sc_qc: true,
        ..CaptureSet::none()
    };
    let mut norpc = machine(
        "NO-RPC",
        ConfigSpec {
            image_path: "%SystemRoot%\\System32\\svchost.exe -k netsvcs".into(),
            dependencies: vec!["EventSystem".into()],
            ..ConfigSpec::windows10()
        },
    );
    norpc.captures = plain.captures;
    let r = run(&scenario(vec![plain, norpc]));
    let d = service_config(&r);
    assert_scope(d, bitsdoctor::diagnose::Scope::Host, &["NO-RPC"]);
    assert!(
        d.fix
            .contains(&"sc.exe config bits depend= RpcSs/EventSystem".to_string()),
        "{}",
        fix(d)
    );
    assert!(d.proof.contains("only what is wrong"), "{}", d.proof);
}

/// Write `files` (name, text) into a host folder and analyse it.
fn analyze_files(files: &[(&str, &str)]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("WS-MIX");
    std::fs::create_dir_all(&host).unwrap();
    for (name, text) in files {
        std::fs::write(host.join(name), text).unwrap();
    }
    let cfg = Config {
        paths: vec![dir.path().to_path_buf()],
        threads: 1,
        ..Config::default()
    };
    analyze(&cfg, Knowledge::shared()).unwrap()
}

const SC_QC: &str = "[SC] QueryServiceConfig SUCCESS\r\n\r\nSERVICE_NAME: bits\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n        START_TYPE         : 3   DEMAND_START\r\n        ERROR_CONTROL      : 1   NORMAL\r\n        BINARY_PATH_NAME   : C:\\WINDOWS\\System32\\svchost.exe -k netsvcs -p\r\n        LOAD_ORDER_GROUP   : \r\n        TAG                : 0\r\n        DISPLAY_NAME       : Background Intelligent Transfer Service\r\n        DEPENDENCIES       : RpcSs\r\n        SERVICE_START_NAME : LocalSystem\r\n";

const SC_QUERY: &str = "\r\nSERVICE_NAME: bits\r\n        TYPE               : 30  WIN32\r\n        STATE              : 4  RUNNING\r\n                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\r\n        WIN32_EXIT_CODE    : 0  (0x0)\r\n        SERVICE_EXIT_CODE  : 0  (0x0)\r\n        CHECKPOINT         : 0x0\r\n        WAIT_HINT          : 0x0\r\n";

fn reg_query(start: u32, image: &str) -> String {
    format!(
        "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\r\n    Start    REG_DWORD    {start:#x}\r\n    ImagePath    REG_EXPAND_SZ    {image}\r\n    Type    REG_DWORD    0x20\r\n\r\n"
    )
}

#[test]
fn sc_qc_is_the_authority_and_contradictions_are_shown() {
    // sc qc says DEMAND_START, the registry 2 (BITS flips itself): not a fault, but shown; the
    // running TYPE 30 of `sc query` is no configuration and no contradiction. The verdict
    // does not depend on file-name order.
    let a = analyze_files(&[
        (
            "a-reg.txt",
            &reg_query(2, "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p"),
        ),
        ("b-sc-qc.txt", SC_QC),
        ("c-sc-query.txt", SC_QUERY),
    ]);
    let b = analyze_files(&[
        ("a-sc-query.txt", SC_QUERY),
        ("b-sc-qc.txt", SC_QC),
        (
            "c-reg.txt",
            &reg_query(2, "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p"),
        ),
    ]);
    for r in [&a, &b] {
        assert!(findings(r).is_empty(), "{}", dump(r));
        let d = one(r, "service-config-conflict", None);
        assert_eq!(d.severity, Severity::Info);
        assert!(d.title.contains("Start"), "{}", d.title);
        assert!(!d.title.contains("Type"), "{}", d.title);
        assert!(
            d.proof.contains("Start: 3 in sc qc") && d.proof.contains("2 in registry"),
            "{}",
            d.proof
        );
        assert!(
            d.cause.contains("switches its own start type"),
            "{}",
            d.cause
        );
        let host = &r.hosts[0];
        assert_eq!(host.config.get("Start").map(String::as_str), Some("3"));
        assert_eq!(host.config.get("Type").map(String::as_str), Some("32"));
    }
    // A registry binary path that is not BITS's while sc qc shows the right one: sc qc is
    // judged, the registry value is shown.
    let r = analyze_files(&[
        ("reg.txt", &reg_query(3, "C:\\Temp\\evil.exe")),
        ("sc-qc.txt", SC_QC),
    ]);
    assert!(findings(&r).is_empty(), "{}", dump(&r));
    let d = one(&r, "service-config-conflict", None);
    assert!(d.proof.contains("evil.exe"), "{}", d.proof);
}

#[test]
fn no_fix_step_anywhere_is_a_bare_sc() {
    // Every rule that suggests sc commands, in one run.
    let mut failing = machine("W10-FAIL", ConfigSpec::windows10());
    failing.service = synth::ServiceSpec {
        start_failures: vec![(7000, 1060), (7001, 1068), (7024, 2), (7000, 1058)],
        crashes: 3,
        slow_start: true,
        ..synth::ServiceSpec::default()
    };
    failing.sc_errors = vec![("StartService".into(), 1083)];
    let broken = machine(
        "W10-BROKEN",
        ConfigSpec {
            start: 4,
            object_name: "NT AUTHORITY\\LocalService".into(),
            dependencies: vec![],
            sid_type: 0,
            failure_actions: vec![],
            error_control: 0,
            service_type: 0x10,
            image_path: "C:\\evil.exe".into(),
            ..ConfigSpec::windows10()
        },
    );
    let mut gpo = machine("W10-GPO", ConfigSpec::windows10());
    gpo.policy = vec![
        ("MaxJobsPerMachine".into(), 100),
        ("MaxJobsPerUser".into(), 200),
    ];
    let r = run(&scenario(vec![failing, broken, gpo]));
    assert!(r.diagnoses.len() >= 8, "{}", dump(&r));
    assert!(
        r.diagnoses
            .iter()
            .flat_map(|d| &d.fix)
            .any(|f| f.contains("sc.exe ")),
        "{}",
        dump(&r)
    );
    assert_no_bare_sc(&r);
    // The same in the rendered reports.
    let text = bitsdoctor::report::text::render(&r);
    let json = serde_json::to_string(&r).unwrap();
    for out in [&text, &json] {
        assert!(!out.contains("`sc "), "bare sc in a report");
        assert!(!out.contains("\"sc "), "bare sc step in a report");
    }
    // And in every fix of the knowledge table (what `explain` prints).
    for e in Knowledge::shared().entries() {
        for f in &e.fix {
            assert!(
                !f.starts_with("sc ") && !f.contains("`sc "),
                "{}: {f}",
                e.code
            );
        }
    }
}
