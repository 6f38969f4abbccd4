//! Network rules, one scenario each: proxies BITS cannot reach (201), the proxy-specific
//! readings of 0x80070057 and HTTP 407, credentials rejected (204), HTTP features missing
//! (202 + 0x80200013 / 0x80200011; 206/207/210 without throttling), DNS, connect, TLS,
//! timeouts, HTTP 403/404/5xx, a host whose every job fails the same way, and transient codes
//! that are findings only when they persist.

mod rules_support;
use bitsdoctor::diagnose::{Scope, Severity};
use rules_support::*;
use synth::Attempt;

const PROXY: &str = "proxy01.contoso.local:8080";
const MSFT: &str = "http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/04/windows10.0-kb5036892-x64.cab";

fn via(mut j: synth::JobSpec, proxy: &str) -> synth::JobSpec {
    j.proxy = Some(proxy.into());
    j
}

#[test]
fn unreachable_proxy_list_on_two_hosts_is_one_fleet_finding() {
    let proxy_fail = || Attempt::ProxyFail {
        hr: 0x8007_2EFD,
        proxy_list: "proxy-old.contoso.local:8080".into(),
        bypass_list: "<local>".into(),
    };
    let mut a = host("WS-PA");
    a.jobs = vec![job(MSFT, 2, vec![proxy_fail(), proxy_fail(), proxy_fail()])];
    let mut b = host("WS-PB");
    b.jobs = vec![
        job(MSFT, 5, vec![proxy_fail(), proxy_fail()]),
        healthy_job(30),
    ];
    let r = run(&scenario(vec![a, b]));
    let d = one(&r, "proxy-unreachable", None);
    assert_scope(d, Scope::Fleet, &["WS-PA", "WS-PB"]);
    assert_eq!(d.jobs.len(), 2);
    assert_eq!(d.occurrences, 5 + 5, "201s plus the failures they explain");
    assert!(
        d.next_check
            .contains("Test-NetConnection proxy-old.contoso.local -Port 8080"),
        "{}",
        d.next_check
    );
    // The jobs' failures are explained by it, not reported again.
    assert!(
        find(&r, "transfer-failure", None).is_empty(),
        "{}",
        dump(&r)
    );
    assert_explained(d);
}

#[test]
fn invalid_parameter_with_a_proxy_is_about_the_proxy() {
    let mut h = host("WS-ARG");
    h.jobs = vec![via(
        job(MSFT, 2, vec![fail(0x8007_0057); 3]),
        "proxy01:80800",
    )];
    let mut plain = host("WS-ARG2");
    plain.jobs = vec![job(MSFT, 2, vec![fail(0x8007_0057); 3])];
    let r = run(&scenario(vec![h, plain]));
    let both = find(&r, "transfer-failure", Some(0x8007_0057));
    assert_eq!(both.len(), 2, "{}", dump(&r));
    let p = both
        .iter()
        .find(|d| d.hosts.contains(fqdn("WS-ARG").as_str()))
        .unwrap();
    assert_scope(p, Scope::Job, &["WS-ARG"]);
    assert!(p.title.contains("proxy01:80800"), "{}", p.title);
    assert!(
        p.fix.iter().any(|f| f.contains("netsh winhttp set proxy")),
        "{:#?}",
        p.fix
    );
    assert!(
        p.next_check.contains("--proxy http://proxy01:80800"),
        "{}",
        p.next_check
    );
    let g = both
        .iter()
        .find(|d| d.hosts.contains(fqdn("WS-ARG2").as_str()))
        .unwrap();
    assert!(!g.title.contains("proxy"), "{}", g.title);
}

#[test]
fn proxy_authentication_required() {
    let mut h = host("WS-407");
    h.winhttp_proxy = Some(PROXY.into());
    h.jobs = vec![via(job(MSFT, 2, vec![fail(0x8019_0197); 2]), PROXY)];
    let r = run(&scenario(vec![h]));
    let d = one(&r, "transfer-failure", Some(0x8019_0197));
    assert_scope(d, Scope::Job, &["WS-407"]);
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.title.contains("407") && d.title.contains(PROXY),
        "{}",
        d.title
    );
    assert!(d.fix[0].contains(PROXY), "{:#?}", d.fix);
    assert!(d
        .fix
        .iter()
        .any(|f| f.contains("bitsadmin /setcredentials JOB PROXY NEGOTIATE")));
    assert_explained(d);
}

#[test]
fn credentials_rejected_explain_the_401s() {
    let mut h = host("WS-CRED");
    let mut j = job(
        "https://files.contoso.local/share/tool.msi",
        3,
        vec![
            Attempt::CredentialsRejected {
                hr: 0x8019_0191,
                scheme: "NTLM".into(),
                user: "CONTOSO\\j.doe".into()
            };
            2
        ],
    );
    j.title = "Tool download".into();
    j.owner = "CONTOSO\\j.doe".into();
    h.jobs = vec![j, healthy_job(20)];
    let r = run(&scenario(vec![h]));
    let d = one(&r, "credentials-rejected", None);
    assert_scope(d, Scope::Job, &["WS-CRED"]);
    assert_eq!(
        d.jobs.iter().cloned().collect::<Vec<_>>(),
        job_keys(&r, "WS-CRED", "Tool download")
    );
    assert!(
        d.title.contains("files.contoso.local") && d.title.contains("NTLM"),
        "{}",
        d.title
    );
    assert!(d.proof.contains("CONTOSO\\j.doe"), "{}", d.proof);
    assert!(
        find(&r, "transfer-failure", Some(0x8019_0191)).is_empty(),
        "{}",
        dump(&r)
    );
    assert_explained(d);
}

#[test]
fn http_features_missing() {
    let range = || Attempt::Fail202 {
        hr: 0x8020_0013,
        http_version: "HTTP/1.1".into(),
        url_range: "bytes=0-1048575".into(),
    };
    let length = || Attempt::Fail202 {
        hr: 0x8020_0011,
        http_version: "HTTP/1.1".into(),
        url_range: String::new(),
    };
    let mut h = host("WS-HTTP");
    h.jobs = vec![
        job(
            "http://intranet.contoso.local/app/get.aspx?id=7",
            1,
            vec![length()],
        ),
        job(
            "http://mirror.contoso.local/iso/tools.iso",
            5,
            vec![range(), range()],
        ),
    ];
    let mut t = host("WS-THROTTLE");
    t.jobs = vec![
        job(
            "http://old-iis.contoso.local/a.cab",
            1,
            vec![Attempt::Unthrottled { event: 206 }],
        ),
        job(
            "http://old-iis.contoso.local/b.cab",
            2,
            vec![Attempt::Unthrottled { event: 207 }],
        ),
        job(
            "http://old-iis.contoso.local/c.cab",
            3,
            vec![Attempt::Unthrottled { event: 210 }],
        ),
    ];
    let r = run(&scenario(vec![h, t]));
    let len = one(&r, "transfer-failure", Some(0x8020_0011));
    assert_scope(len, Scope::Job, &["WS-HTTP"]);
    assert!(len.next_check.contains("curl.exe -I"), "{}", len.next_check);
    let rng = one(&r, "transfer-failure", Some(0x8020_0013));
    assert_scope(rng, Scope::Job, &["WS-HTTP"]);
    assert_eq!(rng.occurrences, 2, "a 202 and its 61 are one failure");
    assert!(rng.next_check.contains("-r 0-99"), "{}", rng.next_check);
    let throttled = find(&r, "http-throttling", None);
    assert_eq!(throttled.len(), 3, "{}", dump(&r));
    for d in throttled {
        assert_scope(d, Scope::Job, &["WS-THROTTLE"]);
        assert_eq!(d.severity, Severity::Info);
        // Keyed by the job GUID, like every other job list.
        assert!(d.jobs.iter().all(|j| j.contains("/{")), "{:?}", d.jobs);
    }
}

#[test]
fn dns_connect_tls_timeout_and_http_statuses() {
    let cases: &[(&str, u32, Severity)] = &[
        (
            "http://wsus-gone.contoso.local:8530/c/a.cab",
            0x8007_2EE7,
            Severity::Warning,
        ),
        ("http://10.9.9.9/c/b.cab", 0x8007_2EFD, Severity::Warning),
        (
            "https://tls.contoso.local/c/c.cab",
            0x8007_2F8F,
            Severity::Error,
        ),
        (
            "http://slow.contoso.local/c/d.cab",
            0x8007_2EE2,
            Severity::Warning,
        ),
        ("https://cdn.example/c/e.cab", 0x8019_0193, Severity::Error),
        (
            "https://cdn.example/c/missing.cab",
            0x8019_0194,
            Severity::Error,
        ),
        (
            "http://app.contoso.local/c/f.cab",
            0x8019_01F4,
            Severity::Error,
        ),
        (
            "http://app2.contoso.local/c/g.cab",
            0x8019_01F7,
            Severity::Warning,
        ),
    ];
    let mut hosts = Vec::new();
    for (i, (url, hr, _)) in cases.iter().enumerate() {
        let mut h = host(&format!("WS-NET{i}"));
        h.jobs = vec![job(url, 1, vec![fail(*hr); 3]), healthy_job(40)];
        hosts.push(h);
    }
    let r = run(&scenario(hosts));
    for (i, (_, hr, sev)) in cases.iter().enumerate() {
        let d = one(&r, "transfer-failure", Some(*hr));
        assert_scope(d, Scope::Job, &[&format!("WS-NET{i}")]);
        let e = Knowledge::shared().explain(bitsdoctor::model::HResult(*hr));
        // Transient codes that persist are warnings; the rest errors.
        let want = if e.transient == bitsdoctor::knowledge::Transient::Yes {
            Severity::Warning
        } else {
            Severity::Error
        };
        assert_eq!(d.severity, want, "{}", d.title);
        let _ = sev;
        assert_eq!(d.occurrences, 3);
        assert_explained(d);
    }
    assert_eq!(findings(&r).len(), cases.len(), "{}", dump(&r));
}
use bitsdoctor::knowledge::Knowledge;

#[test]
fn one_network_error_against_several_servers_points_at_the_host() {
    let mut h = host("WS-NODNS");
    h.jobs = vec![
        job(
            "http://wsus01.contoso.local:8530/c/a.cab",
            1,
            vec![fail(0x8007_2EE7); 3],
        ),
        job(
            "http://download.windowsupdate.com/c/b.cab",
            5,
            vec![fail(0x8007_2EE7); 3],
        ),
        job(
            "https://msedge.f.dl.delivery.mp.microsoft.com/c/c.exe",
            9,
            vec![fail(0x8007_2EE7); 4],
        ),
    ];
    let r = run(&scenario(vec![h]));
    let d = one(&r, "host-network", Some(0x8007_2EE7));
    assert_scope(d, Scope::Host, &["WS-NODNS"]);
    assert_eq!(d.jobs.len(), 3);
    assert_eq!(d.servers.len(), 3);
    assert!(
        find(&r, "transfer-failure", None).is_empty(),
        "{}",
        dump(&r)
    );
    assert_explained(d);
}

#[test]
fn transient_codes_are_findings_only_when_they_persist() {
    let mut h = host("WS-FLAKY");
    h.jobs = vec![
        job(MSFT, 1, vec![fail(0x8007_2EFE), Attempt::Succeed]),
        job(
            "http://wsus-old.contoso.local:8530/x.cab",
            3,
            vec![fail(0x8007_2EE7); 4],
        ),
    ];
    let r = run(&scenario(vec![h]));
    let rec = one(&r, "transfer-recovered", Some(0x8007_2EFE));
    assert_eq!(rec.severity, Severity::Info);
    let per = one(&r, "transfer-failure", Some(0x8007_2EE7));
    assert_eq!(per.severity, Severity::Warning);
    assert!(find(&r, "transfer-failure", Some(0x8007_2EFE)).is_empty());
}
