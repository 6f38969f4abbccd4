//! Fleet correlation and ranking: the same failure on several hosts is one root cause listing
//! every host and job; a proxy that strips Range in front of 30 of 50 hosts is exactly one
//! diagnosis while the other failures are reported on their own; a clean bundle gives nothing.

mod rules_support;
use bitsdoctor::diagnose::{Scope, Severity};
use rules_support::*;
use std::collections::BTreeSet;
use synth::{Attempt, ConfigSpec, ServiceSpec};

const PROXY: &str = "proxy02.contoso.local:3128";
const MSFT: &str =
    "http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/04/windows10.0-kb5036892-x64.cab";
const EDGE: &str = "http://msedge.f.dl.delivery.mp.microsoft.com/filestreamingservice/files/0c4a7f0e-1b7e-4a4e-9c1d-3f1b2a6c9d10";

fn range_fail() -> Attempt {
    Attempt::Fail202 {
        hr: 0x8020_0013,
        http_version: "HTTP/1.1".into(),
        url_range: "bytes=0-1048575".into(),
    }
}

fn via_proxy(url: &str, delay: u32, attempts: Vec<Attempt>) -> synth::JobSpec {
    let mut j = job(url, delay, attempts);
    j.proxy = Some(PROXY.into());
    j
}

fn name(i: usize) -> String {
    format!("WS-{i:03}")
}

/// 50 hosts: 1-30 download from Microsoft through PROXY, which strips Range (every even host
/// also fetches an Edge update through it: two servers behind one proxy). 31-50 go direct and
/// download the same Windows Update file fine; among them 31 and 32 are refused by a CDN (403),
/// 33 cannot resolve any name, 34 has BITS disabled, 35 asks for a file that is gone (404) and
/// 36 had a connection drop it recovered from.
fn fifty_hosts() -> synth::Scenario {
    let mut hosts = Vec::new();
    for i in 1..=50 {
        let mut h = host(&name(i));
        h.policy = vec![
            ("MaxJobsPerMachine".into(), 300),
            ("MaxJobsPerUser".into(), 60),
        ];
        h.jobs.push(healthy_job(0));
        if i <= 30 {
            h.winhttp_proxy = Some(PROXY.into());
            h.jobs
                .push(via_proxy(MSFT, 10, vec![range_fail(), range_fail()]));
            if i % 2 == 0 {
                let mut e = via_proxy(EDGE, 25, vec![range_fail()]);
                e.title = "Microsoft Edge Update".into();
                h.jobs.push(e);
            }
        } else {
            h.jobs.push(job(MSFT, 10, vec![Attempt::Succeed]));
        }
        match i {
            31 | 32 => {
                let mut j = job(
                    "https://cdn.fabrikam-apps.example/catalog/catalog-full.cab",
                    15,
                    vec![fail(0x8019_0193)],
                );
                j.title = "AppCatalog sync".into();
                h.jobs.push(j);
            }
            33 => {
                h.jobs = vec![
                    job(
                        "http://wsus01.contoso.local:8530/c/a.cab",
                        1,
                        vec![fail(0x8007_2EE7); 3],
                    ),
                    job(MSFT, 5, vec![fail(0x8007_2EE7); 3]),
                    job(EDGE, 9, vec![fail(0x8007_2EE7); 3]),
                ];
            }
            34 => {
                h.config = Some(ConfigSpec {
                    start: 4,
                    ..ConfigSpec::default()
                });
                h.service = ServiceSpec {
                    start_failures: vec![(7000, 1058); 2],
                    state_cycles: 1,
                    ..ServiceSpec::default()
                };
            }
            35 => h.jobs.push(job(
                "http://intranet.contoso.local/packages/retired.msi",
                20,
                vec![fail(0x8019_0194)],
            )),
            36 => h.jobs.push(job(
                "http://wsus01.contoso.local:8530/c/z.cab",
                30,
                vec![fail(0x8007_2EFE), Attempt::Succeed],
            )),
            _ => {}
        }
        hosts.push(h);
    }
    scenario(hosts)
}

#[test]
fn range_stripping_proxy_in_front_of_30_of_50_hosts() {
    let r = run(&fifty_hosts());
    let range: Vec<_> = r
        .diagnoses
        .iter()
        .filter(|d| d.code.map(|c| c.0) == Some(0x8020_0013))
        .collect();
    assert_eq!(range.len(), 1, "{}", dump(&r));
    let d = range[0];
    let want: BTreeSet<String> = (1..=30).map(|i| fqdn(&name(i))).collect();
    assert_eq!(d.rule, "transfer-failure");
    assert_eq!(d.scope, Scope::Fleet);
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(hosts_of(d), want.into_iter().collect::<Vec<_>>());
    assert_eq!(d.proxies, BTreeSet::from([PROXY.to_string()]));
    assert_eq!(d.jobs.len(), 30 + 15, "every failing job on every host");
    assert_eq!(d.occurrences, 30 * 2 + 15);
    assert_eq!(
        d.servers,
        BTreeSet::from([
            "http://download.windowsupdate.com:80".to_string(),
            "http://msedge.f.dl.delivery.mp.microsoft.com:80".to_string()
        ])
    );
    assert!(d.title.contains(PROXY), "{}", d.title);
    // The hosts that reach the same server directly and succeed are part of the proof.
    assert!(
        d.proof.contains("without the proxy and succeed"),
        "{}",
        d.proof
    );
    assert!(
        d.next_check.contains(&format!("--proxy http://{PROXY}")),
        "{}",
        d.next_check
    );
    assert_explained(d);

    // The other failures, each on its own.
    let cdn = one(&r, "transfer-failure", Some(0x8019_0193));
    assert_scope(cdn, Scope::Fleet, &["WS-031", "WS-032"]);
    assert_eq!(cdn.jobs.len(), 2);
    let dns = one(&r, "host-network", Some(0x8007_2EE7));
    assert_scope(dns, Scope::Host, &["WS-033"]);
    assert!(find(&r, "transfer-failure", Some(0x8007_2EE7)).is_empty());
    let off = one(&r, "service-config", None);
    assert_scope(off, Scope::Host, &["WS-034"]);
    let start = one(&r, "service-start-failure", Some(0x8007_0422));
    assert_eq!(start.explained_by.as_ref(), Some(&off.id));
    let gone = one(&r, "transfer-failure", Some(0x8019_0194));
    assert_scope(gone, Scope::Job, &["WS-035"]);
    let rec = one(&r, "transfer-recovered", Some(0x8007_2EFE));
    assert_eq!(rec.severity, Severity::Info);
    assert_eq!(r.diagnoses.len(), 7, "{}", dump(&r));

    // Ranking: severity, then hosts, then jobs; the start failure right under its cause.
    let order: Vec<(&str, Option<u32>)> = r
        .diagnoses
        .iter()
        .map(|d| (d.rule, d.code.map(|c| c.0)))
        .collect();
    assert_eq!(
        order,
        [
            ("service-config", None),
            ("service-start-failure", Some(0x8007_0422)),
            ("transfer-failure", Some(0x8020_0013)),
            ("transfer-failure", Some(0x8019_0193)),
            ("host-network", Some(0x8007_2EE7)),
            ("transfer-failure", Some(0x8019_0194)),
            ("transfer-recovered", Some(0x8007_2EFE)),
        ],
        "{}",
        dump(&r)
    );
    // Every job is listed by at most one diagnosis.
    let mut seen = BTreeSet::new();
    for d in &r.diagnoses {
        for j in &d.jobs {
            assert!(seen.insert(j.clone()), "{j} listed twice:\n{}", dump(&r));
        }
    }
}

#[test]
fn same_server_failure_on_two_hosts_is_one_fleet_diagnosis() {
    let mk = |n: &str| {
        let mut h = host(n);
        h.jobs = vec![
            job("https://cdn.example/pkg/a.cab", 1, vec![fail(0x8019_0193)]),
            job(
                "https://cdn.example/pkg/b.cab",
                9,
                vec![fail(0x8019_0193); 2],
            ),
            healthy_job(20),
        ];
        h
    };
    let r = run(&scenario(vec![mk("WS-A"), mk("WS-B"), mk("WS-C")]));
    let d = one(&r, "transfer-failure", Some(0x8019_0193));
    assert_scope(d, Scope::Fleet, &["WS-A", "WS-B", "WS-C"]);
    assert_eq!(d.jobs.len(), 6);
    assert_eq!(d.occurrences, 9);
    assert_eq!(r.diagnoses.len(), 1, "{}", dump(&r));
}

#[test]
fn clean_bundle_gives_no_diagnosis() {
    let mut hosts = Vec::new();
    for (i, n) in ["WS-OK1", "WS-OK2", "SRV-OK3"].iter().enumerate() {
        let mut h = host(n);
        h.policy = vec![
            ("MaxJobsPerMachine".into(), 300),
            ("MaxJobsPerUser".into(), 60),
            ("EnablePeercaching".into(), 0),
        ];
        h.service.state_cycles = 3 + i as u32;
        h.jobs = vec![healthy_job(0), job(MSFT, 12, vec![Attempt::Succeed])];
        h.jobs[1].in_bitsadmin = true;
        h.queued_jobs = vec![("CONTOSO\\user".into(), 10, "SUSPENDED".into())];
        if i == 1 {
            h.winhttp_proxy = Some(PROXY.into());
            h.jobs[1].proxy = Some(PROXY.into());
        }
        hosts.push(h);
    }
    let r = run(&scenario(hosts));
    assert!(r.diagnoses.is_empty(), "{}", dump(&r));
    assert_eq!(r.hosts.len(), 3);
    assert!(r
        .hosts
        .iter()
        .all(|h| h.service_state_changes > 0 && h.service_start_type_changes > 0));
}

/// 200 hosts from one image with BITS disabled, every one failing to start it: one fleet
/// finding naming all 200 (with its start failures folded under it), in every format.
#[test]
fn two_hundred_hosts_with_one_configuration_fault_give_one_fleet_card() {
    let hosts: Vec<synth::HostSpec> = (1..=200)
        .map(|i| {
            let mut h = host(&format!("WS-{i:03}"));
            h.jobs = vec![healthy_job(1)];
            h.config = Some(ConfigSpec {
                start: 4,
                ..ConfigSpec::default()
            });
            if i == 7 {
                // One host has a second, unrelated fault of its own: it stays a host finding.
                h.config = Some(ConfigSpec {
                    start: 4,
                    object_name: "NT AUTHORITY\\NetworkService".into(),
                    ..ConfigSpec::default()
                });
            }
            h
        })
        .collect();
    let r = run(&scenario(hosts));
    let disabled: Vec<_> = r
        .diagnoses
        .iter()
        .filter(|d| d.rule == "service-config" && d.title.contains("disabled"))
        .collect();
    assert_eq!(disabled.len(), 1, "{}", dump(&r));
    let d = disabled[0];
    assert_eq!(d.scope, Scope::Fleet);
    assert_eq!(d.severity, Severity::Critical);
    assert_eq!(d.hosts.len(), 200, "{}", dump(&r));
    assert!(d.title.starts_with("200 hosts: "), "{}", d.title);
    assert!(d.proof.contains("the same on 200 hosts"), "{}", d.proof);
    assert!(d.evidence.len() > 1);
    // Host 7's own second fault stays a host finding.
    let own: Vec<_> = r
        .diagnoses
        .iter()
        .filter(|x| x.title.contains("LocalSystem"))
        .collect();
    assert_eq!(own.len(), 1);
    assert_scope(own[0], Scope::Host, &["WS-007"]);
    assert!(d
        .fix
        .iter()
        .any(|f| f == "sc.exe config bits start= delayed-auto"));
    // No host-level copy of it is left.
    assert!(!r.diagnoses.iter().any(|x| x.id != d.id
        && x.scope == Scope::Host
        && x.rule == "service-config"
        && x.hosts.len() == 1
        && x.title.ends_with("the BITS service is disabled")));
    assert!(r.diagnoses.len() < 10, "{}", dump(&r));

    // Every format shows it once.
    let json = bitsdoctor::report::json::render(&r);
    assert_eq!(
        json.matches(&format!("\"title\": \"{}\"", d.title)).count(),
        1
    );
    let csv = bitsdoctor::report::csv::diagnoses(&r);
    assert_eq!(csv.matches(&d.title).count(), 1);
    let text = bitsdoctor::report::text::render(&r);
    assert_eq!(text.matches(&d.title).count(), 1, "{text}");
    let html = bitsdoctor::report::html::render(&r);
    assert_eq!(
        html.matches(&format!("<h3>{}</h3>", d.title)).count(),
        1,
        "one card"
    );
    assert!(
        html.len() < 1_000_000,
        "HTML of 200 hosts is {} bytes",
        html.len()
    );
}
