//! Service rules, one scenario each: BITS failing to start (SCM 7000/7001/7023/7024 and `sc`
//! error lines, decoded against the service-start table), crash loops, slow start and shutdown,
//! and cleared logs.

mod rules_support;
use bitsdoctor::diagnose::{Scope, Severity};
use rules_support::*;
use synth::{ConfigSpec, ServiceSpec};

fn failing_start(name: &str, event: u32, win32: u32) -> synth::HostSpec {
    let mut h = host(name);
    h.jobs = vec![healthy_job(1)];
    h.service = ServiceSpec {
        start_failures: vec![(event, win32), (event, win32)],
        state_cycles: 1,
        ..ServiceSpec::default()
    };
    h
}

#[test]
fn each_start_failure_code_gets_its_own_decoding() {
    let mut peer = failing_start("WS-DEP-PEER", 7001, 1068);
    peer.policy = vec![("EnablePeercaching".into(), 1)];
    let mut vista = failing_start("WS-DEP-VISTA", 7001, 1068);
    vista.config = Some(ConfigSpec::vista());
    vista.bits_version = Some("7.0.6002".into());
    let r = run(&scenario(vec![
        vista,
        failing_start("WS-MISSING", 7000, 1060),
        failing_start("WS-NOTINEXE", 7000, 1083),
        failing_start("WS-DEPDEL", 7000, 1075),
        failing_start("WS-DEPFAIL", 7001, 1068),
        peer,
        failing_start("WS-PATH", 7023, 3),
        failing_start("WS-DLL", 7024, 2),
    ]));
    let starts = find(&r, "service-start-failure", None);
    // WS-DEPFAIL and WS-DEP-PEER fail the same way with the same fix: one fleet finding.
    assert_eq!(starts.len(), 7, "{}", dump(&r));
    let by_host = |h: &str| {
        let d = starts
            .iter()
            .find(|d| d.hosts.contains(fqdn(h).as_str()))
            .unwrap_or_else(|| panic!("no start failure for {h}:\n{}", dump(&r)));
        if matches!(h, "WS-DEPFAIL" | "WS-DEP-PEER") {
            assert_scope(d, Scope::Fleet, &["WS-DEP-PEER", "WS-DEPFAIL"]);
            assert_eq!(d.occurrences, 4, "{}", d.title);
        } else {
            assert_scope(d, Scope::Host, &[h]);
            assert_eq!(d.occurrences, 2, "{}", d.title);
        }
        assert_eq!(d.severity, Severity::Critical);
        assert_explained(d);
        *d
    };
    let fix = |h: &str| by_host(h).fix.join("\n");

    let d = by_host("WS-MISSING");
    assert_eq!(d.code.unwrap().0, 0x8007_0424);
    // The captures are a Windows 10 1703+ machine's: its own defaults, exact commands.
    let missing = fix("WS-MISSING");
    for want in [
        "sc.exe config bits binpath= \"%SystemRoot%\\System32\\svchost.exe -k netsvcs -p\"",
        "sc.exe config bits depend= RpcSs\n",
        "SeIncreaseQuotaPrivilege/SeDebugPrivilege",
    ] {
        assert!(missing.contains(want), "`{want}` not in {missing}");
    }
    assert!(!missing.contains("EventSystem"), "{missing}");
    assert!(
        by_host("WS-MISSING")
            .proof
            .contains("`-p` in the binary path"),
        "{}",
        by_host("WS-MISSING").proof
    );

    assert_eq!(by_host("WS-NOTINEXE").code.unwrap().0, 0x8007_043B);
    assert!(fix("WS-NOTINEXE").contains("netsvcs"));

    for h in ["WS-DEPDEL", "WS-DEPFAIL", "WS-DEP-PEER", "WS-DEP-VISTA"] {
        let d = by_host(h);
        let want = if h == "WS-DEPDEL" {
            0x8007_0433
        } else {
            0x8007_042C
        };
        assert_eq!(d.code.unwrap().0, want, "{h}");
        // Windows 10 depends on RpcSs only; Vista on RpcSs and EventSystem.
        let deps = if h == "WS-DEP-VISTA" {
            "sc.exe config bits depend= RpcSs/EventSystem\n"
        } else {
            "sc.exe config bits depend= RpcSs\n"
        };
        assert!(fix(h).contains(deps), "{h}: {}", fix(h));
        // Peer caching is gone since Windows 7: never http.sys or LanmanWorkstation.
        assert!(!fix(h).contains("LanmanWorkstation"), "{h}: {}", fix(h));
    }
    assert!(
        by_host("WS-DEP-VISTA").proof.contains("BITS build 6002"),
        "{}",
        by_host("WS-DEP-VISTA").proof
    );
    // 7001 names the dependency that failed.
    assert!(
        by_host("WS-DEPFAIL").proof.contains("COM+ Event System"),
        "{}",
        by_host("WS-DEPFAIL").proof
    );

    assert_eq!(by_host("WS-PATH").code.unwrap().0, 0x8007_0003);
    assert_eq!(by_host("WS-DLL").code.unwrap().0, 0x8007_0002);
    assert!(fix("WS-DLL").contains("ServiceDll"), "{}", fix("WS-DLL"));
}

#[test]
fn sc_start_error_line_is_a_start_failure() {
    let mut h = host("WS-SC");
    h.jobs = vec![healthy_job(1)];
    h.sc_errors = vec![("StartService".into(), 1083)];
    let r = run(&scenario(vec![h]));
    let d = one(&r, "service-start-failure", Some(0x8007_043B));
    assert_scope(d, Scope::Host, &["WS-SC"]);
    assert!(d.proof.contains("sc"), "{}", d.proof);
    assert_explained(d);
}

#[test]
fn disabled_start_type_explains_the_start_failures() {
    let mut h = failing_start("WS-OFF", 7000, 1058);
    h.config = Some(ConfigSpec {
        start: 4,
        ..ConfigSpec::default()
    });
    h.sc_errors = vec![("StartService".into(), 1058)];
    let r = run(&scenario(vec![h]));
    let config = one(&r, "service-config", None);
    let start = one(&r, "service-start-failure", Some(0x8007_0422));
    assert_scope(config, Scope::Host, &["WS-OFF"]);
    // The configuration is the root cause: first, and it names the start failure it explains.
    assert_eq!(r.diagnoses[0].id, config.id, "{}", dump(&r));
    assert_eq!(config.explains, vec![start.id.clone()], "{}", dump(&r));
    assert_eq!(r.diagnoses[1].id, start.id, "{}", dump(&r));
    assert!(start.proof.contains(&config.id), "{}", start.proof);
    // The 7000 events and the sc line are one start-failure finding.
    assert_eq!(start.occurrences, 3);
    assert!(config
        .fix
        .iter()
        .any(|f| f.contains("sc.exe config bits start= delayed-auto")));
}

#[test]
fn crash_loop_and_single_crash() {
    let mut looped = host("WS-LOOP");
    looped.jobs = vec![healthy_job(1)];
    looped.service.crashes = 4;
    let mut once = host("WS-ONCE");
    once.jobs = vec![healthy_job(1)];
    once.service.crashes = 1;
    once.service.crash_event = 7034;
    let r = run(&scenario(vec![looped, once]));
    let crashes = find(&r, "service-crash", None);
    assert_eq!(crashes.len(), 2, "{}", dump(&r));
    let l = crashes
        .iter()
        .find(|d| d.hosts.contains(fqdn("WS-LOOP").as_str()))
        .unwrap();
    assert_scope(l, Scope::Host, &["WS-LOOP"]);
    assert_eq!(l.severity, Severity::Error);
    assert_eq!(l.occurrences, 4);
    assert_explained(l);
    let o = crashes
        .iter()
        .find(|d| d.hosts.contains(fqdn("WS-ONCE").as_str()))
        .unwrap();
    assert_eq!(o.severity, Severity::Warning);
    assert!(o.proof.contains("7034"), "{}", o.proof);
}

#[test]
fn slow_start_and_slow_shutdown() {
    let mut h = host("WS-SLOW");
    h.jobs = vec![healthy_job(1)];
    h.service.slow_start = true;
    h.service.slow_shutdown = Some(95);
    let r = run(&scenario(vec![h]));
    let health = find(&r, "service-health", None);
    assert_eq!(health.len(), 2, "{}", dump(&r));
    for d in &health {
        assert_scope(d, Scope::Host, &["WS-SLOW"]);
        assert_eq!(d.severity, Severity::Warning);
        assert_explained(d);
    }
    assert!(health.iter().any(|d| d.title.contains("started slowly")));
    let shut = health
        .iter()
        .find(|d| d.title.contains("shut down"))
        .unwrap();
    assert!(shut.proof.contains("95 s"), "{}", shut.proof);
}

#[test]
fn cleared_log_is_reported() {
    let mut h = host("WS-CLR");
    h.jobs = vec![healthy_job(1)];
    h.service.logs_cleared = vec![synth::BITS_CHANNEL.into()];
    let r = run(&scenario(vec![h]));
    let d = one(&r, "log-cleared", None);
    assert_scope(d, Scope::Host, &["WS-CLR"]);
    assert!(d.title.contains(synth::BITS_CHANNEL));
    assert!(d.cause.contains("helpdesk"), "{}", d.cause);
    assert_explained(d);
}
