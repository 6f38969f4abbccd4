//! Configuration rules from `sc` / `reg` captures and the BITS policy: the service account,
//! the start type, every value the repair sequence sets, the job-limit policy, and job counts
//! near the limits in the `bitsadmin` listing.

mod rules_support;
use bitsdoctor::diagnose::{Scope, Severity};
use rules_support::*;
use synth::{ConfigSpec, LimitEventSpec};

fn configured(name: &str, config: ConfigSpec) -> synth::HostSpec {
    let mut h = host(name);
    h.jobs = vec![healthy_job(1)];
    h.config = Some(config);
    h
}

#[test]
fn account_other_than_localsystem() {
    let r = run(&scenario(vec![configured(
        "WS-ACCT",
        ConfigSpec {
            object_name: "NT AUTHORITY\\NetworkService".into(),
            ..ConfigSpec::default()
        },
    )]));
    let d = one(&r, "service-config", None);
    assert_scope(d, Scope::Host, &["WS-ACCT"]);
    assert_eq!(d.severity, Severity::Error);
    assert!(d.title.contains("LocalSystem"), "{}", d.title);
    assert_eq!(
        d.fix[..3],
        [
            "sc.exe config bits obj= LocalSystem",
            "sc.exe stop bits",
            "sc.exe start bits"
        ]
    );
    assert!(d.proof.contains("NetworkService"), "{}", d.proof);
    assert_explained(d);
}

#[test]
fn start_type_disabled() {
    let r = run(&scenario(vec![configured(
        "WS-DIS",
        ConfigSpec {
            start: 4,
            ..ConfigSpec::default()
        },
    )]));
    // sc qc and the registry export both say so: one finding.
    let d = one(&r, "service-config", None);
    assert_scope(d, Scope::Host, &["WS-DIS"]);
    assert_eq!(d.severity, Severity::Critical);
    assert!(d.title.contains("disabled"));
    assert!(d
        .fix
        .iter()
        .any(|f| f == "sc.exe config bits start= delayed-auto"));
    assert_explained(d);
}

#[test]
fn every_differing_repair_value_gets_its_exact_command() {
    let r = run(&scenario(vec![configured(
        "WS-CORRUPT",
        ConfigSpec {
            service_type: 0x10,
            error_control: 0,
            dependencies: vec!["EventSystem".into()],
            privileges: vec!["SeCreateGlobalPrivilege".into()],
            sid_type: 0,
            reset_period: 0,
            failure_actions: vec![],
            service_dll: "%SystemRoot%\\System32\\qmgr_old.dll".into(),
            ..ConfigSpec::default()
        },
    )]));
    let d = one(&r, "service-config", None);
    assert_scope(d, Scope::Host, &["WS-CORRUPT"]);
    // A ServiceDll that is not qmgr.dll stops BITS from starting.
    assert_eq!(d.severity, Severity::Critical);
    // A Windows 10 1703+ host (`-p` in the binary path): that version's defaults.
    for want in [
        "sc.exe config bits depend= RpcSs",
        "sc.exe config bits type= share",
        "sc.exe config bits error= normal",
        "sc.exe privs bits SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege/SeDebugPrivilege",
        "sc.exe sidtype bits unrestricted",
        "sc.exe failure bits reset= 86400 actions= restart/60000/restart/120000",
    ] {
        assert!(d.fix.iter().any(|f| f == want), "missing `{want}` in {:#?}", d.fix);
    }
    assert!(d
        .fix
        .iter()
        .any(|f| f.contains("/v ServiceDll") && f.contains("qmgr.dll")));
    assert_eq!(d.fix.first().map(String::as_str), Some("sc.exe stop bits"));
    assert!(d.proof.contains("`-p` in the binary path"), "{}", d.proof);
    // Nothing for the values that are right.
    assert!(
        !d.fix
            .iter()
            .any(|f| f.contains("obj=") || f.contains("binpath=")),
        "{:#?}",
        d.fix
    );
    for name in [
        "DependOnService",
        "Type",
        "ErrorControl",
        "RequiredPrivileges",
        "ServiceSidType",
        "FailureActions",
        "ServiceDll",
    ] {
        assert!(d.proof.contains(name), "{name} not in {}", d.proof);
    }
    assert_explained(d);
}

#[test]
fn one_differing_value_names_itself() {
    let r = run(&scenario(vec![configured(
        "WS-SID",
        ConfigSpec {
            sid_type: 3,
            ..ConfigSpec::default()
        },
    )]));
    let d = one(&r, "service-config", None);
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.title.contains("SID type"), "{}", d.title);
    assert_eq!(
        d.fix,
        [
            "sc.exe stop bits",
            "sc.exe sidtype bits unrestricted",
            "sc.exe start bits",
            "sc.exe query bits (STATE should be 4 RUNNING)"
        ]
    );
}

#[test]
fn peer_caching_policy_demands_no_extra_dependencies() {
    // BITS 3.0 peer caching is gone since Windows 7: EnablePeercaching = 1 adds nothing to the
    // dependencies of a current machine (adding LanmanWorkstation would break BITS where
    // Workstation is disabled).
    let mut peer = configured("WS-PEER", ConfigSpec::default());
    peer.policy = vec![("EnablePeercaching".into(), 1)];
    let r = run(&scenario(vec![peer]));
    assert!(findings(&r).is_empty(), "{}", dump(&r));
    assert!(
        !r.diagnoses
            .iter()
            .flat_map(|d| &d.fix)
            .any(|f| f.contains("LanmanWorkstation")),
        "{}",
        dump(&r)
    );
}

#[test]
fn per_user_limit_not_below_per_computer_limit() {
    let mut h = host("WS-GPO");
    h.jobs = vec![healthy_job(1)];
    h.policy = vec![
        ("MaxJobsPerMachine".into(), 200),
        ("MaxJobsPerUser".into(), 250),
    ];
    h.limit_events = vec![LimitEventSpec {
        event: 16397,
        entity: String::new(),
        current: 250,
        limit: 200,
    }];
    let r = run(&scenario(vec![h]));
    let limits = find(&r, "job-limits", None);
    assert_eq!(limits.len(), 2, "{}", dump(&r));
    let policy = limits
        .iter()
        .find(|d| d.title.contains("not lower"))
        .unwrap();
    assert_scope(policy, Scope::Host, &["WS-GPO"]);
    assert_eq!(policy.severity, Severity::Warning);
    let fix = policy.fix.join("\n");
    for want in [
        "Background Intelligent Transfer Service (BITS)",
        "gpupdate /force",
        "sc.exe stop bits",
        "sc.exe start bits",
        "16397",
    ] {
        assert!(fix.contains(want), "`{want}` not in {fix}");
    }
    assert!(
        policy.proof.contains("250") && policy.proof.contains("200"),
        "{}",
        policy.proof
    );
    // The 16397 event says the same thing: listed under the policy finding.
    let event = limits.iter().find(|d| d.id != policy.id).unwrap();
    assert_eq!(policy.explains, vec![event.id.clone()]);
    assert_eq!(event.explained_by.as_ref(), Some(&policy.id));
    assert_explained(policy);
}

#[test]
fn job_count_at_the_per_user_limit_explains_the_refused_jobs() {
    let mut h = host("WS-LEAK");
    h.jobs = vec![healthy_job(1)];
    h.queued_jobs = vec![
        ("CONTOSO\\svc-sync".into(), 60, "SUSPENDED".into()),
        // Services are exempt: 80 SYSTEM jobs are no finding.
        ("NT AUTHORITY\\SYSTEM".into(), 80, "QUEUED".into()),
    ];
    h.limit_events = vec![LimitEventSpec {
        event: 16398,
        entity: "CONTOSO\\svc-sync".into(),
        current: 60,
        limit: 60,
    }];
    let r = run(&scenario(vec![h]));
    let both = find(&r, "job-limits", Some(0x8020_0049));
    assert_eq!(both.len(), 2, "{}", dump(&r));
    // The count in the listing is the root cause; the 16398 event is listed under it.
    let count = both.iter().find(|d| !d.explains.is_empty()).unwrap();
    let event = both.iter().find(|d| d.explains.is_empty()).unwrap();
    assert_eq!(count.explains, vec![event.id.clone()]);
    assert_eq!(event.explained_by.as_ref(), Some(&count.id));
    assert!(event.proof.contains("16398"), "{}", event.proof);
    assert_scope(count, Scope::Host, &["WS-LEAK"]);
    assert_eq!(count.severity, Severity::Error);
    assert_eq!(count.jobs.len(), 60);
    assert!(
        count.title.contains("CONTOSO\\svc-sync") && count.title.contains("60"),
        "{}",
        count.title
    );
    assert!(count.proof.contains("60 SUSPENDED"), "{}", count.proof);
    assert_explained(count);
}

#[test]
fn job_counts_near_the_limits() {
    let mut user = host("WS-NEAR");
    user.jobs = vec![healthy_job(1)];
    user.queued_jobs = vec![("CONTOSO\\a.user".into(), 55, "ERROR".into())];
    let mut machine = host("SRV-BUSY");
    machine.jobs = vec![healthy_job(1)];
    machine.policy = vec![
        ("MaxJobsPerMachine".into(), 100),
        ("MaxJobsPerUser".into(), 50),
    ];
    machine.queued_jobs = vec![
        ("CONTOSO\\a".into(), 30, "QUEUED".into()),
        ("CONTOSO\\b".into(), 30, "SUSPENDED".into()),
        ("CONTOSO\\c".into(), 32, "QUEUED".into()),
    ];
    let r = run(&scenario(vec![user, machine]));
    let u = one(&r, "job-limits", Some(0x8020_0049));
    assert_scope(u, Scope::Host, &["WS-NEAR"]);
    assert_eq!(u.severity, Severity::Warning);
    assert!(
        u.title.contains("near") && u.title.contains("60"),
        "{}",
        u.title
    );
    let m = one(&r, "job-limits", Some(0x8020_0050));
    assert_scope(m, Scope::Host, &["SRV-BUSY"]);
    assert_eq!(m.severity, Severity::Warning);
    assert_eq!(m.jobs.len(), 92);
    assert!(m.title.contains("100"), "{}", m.title);
    assert!(m.proof.contains("Group Policy"), "{}", m.proof);
}

#[test]
fn limit_events_alone() {
    let mut h = host("WS-FULL");
    h.jobs = vec![healthy_job(1)];
    h.limit_events = vec![LimitEventSpec {
        event: 16400,
        entity: String::new(),
        current: 300,
        limit: 300,
    }];
    let r = run(&scenario(vec![h]));
    let d = one(&r, "job-limits", Some(0x8020_0050));
    assert_scope(d, Scope::Host, &["WS-FULL"]);
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.proof.contains("16400") && d.proof.contains("300"),
        "{}",
        d.proof
    );
    assert_explained(d);
}
