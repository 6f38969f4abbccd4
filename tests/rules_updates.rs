//! The update-level view on a scenario: one proxy that does not pass HTTP Range requests blocks
//! two updates on three hosts. One host's bundle has its WindowsUpdate.log (which names each
//! update's BITS job), the other two only event logs (their jobs are linked to the updates
//! through the content file hash the first host's log shows). Every view — the fleet diagnosis,
//! the JSON updates, the text and HTML tables, `updates.csv` — says the same.

mod rules_support;
use assert_cmd::Command;
use bitsdoctor::diagnose::Scope;
use bitsdoctor::link::LinkMethod;
use bitsdoctor::report::{self, Report};
use rules_support::*;
use std::collections::BTreeMap;
use synth::{Attempt, UpdateSpec};

const PROXY: &str = "proxy-dmz.contoso.local:8080";
const CU_HASH: &str = "3F2A9C41D0B7E65A8C1F4D2E9B0A7C6D5E4F3A21";
const NET_HASH: &str = "0B7E65A8C1F4D2E9B0A7C6D5E4F3A213F2A9C41D";
const CU: &str =
    "2024-05 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5037768)";
const CU_GUID: &str = "8D3E2A61-5C4B-4F0E-9A7D-1B2C3D4E5F60";
const NET: &str = "2024-05 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 for Windows 10 Version 22H2 for x64 (KB5037036)";
const NET_GUID: &str = "1F0E2D3C-4B5A-4968-8776-A5B4C3D2E1F0";
const HOSTS: [&str; 3] = ["WS-A", "WS-B", "WS-C"];

fn range() -> Attempt {
    Attempt::Fail202 {
        hr: 0x8020_0013,
        http_version: "HTTP/1.1".into(),
        url_range: "bytes=0-1048575".into(),
    }
}

/// A host downloading both updates from WSUS through the proxy, each job failing twice on the
/// missing Range support; WS-A's bundle holds its WindowsUpdate.log instead of update events.
fn scenario3() -> synth::Scenario {
    with_log(|i| i == 0, |i| i != 0)
}

/// The scenario, the hosts whose bundle has a WindowsUpdate.log / update events chosen by
/// their index.
fn with_log(log: impl Fn(usize) -> bool, events: impl Fn(usize) -> bool) -> synth::Scenario {
    let hosts = HOSTS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut h = host(name);
            let content = |hash: &str| format!("{WSUS}/Content/{}/{hash}.cab", &hash[38..]);
            let mut cu = job(&content(CU_HASH), 1 + i as u32, vec![range(), range()]);
            cu.proxy = Some(PROXY.into());
            let mut net = job(&content(NET_HASH), 30 + i as u32, vec![range(), range()]);
            net.proxy = Some(PROXY.into());
            h.jobs = vec![cu, net];
            h.updates = vec![
                UpdateSpec {
                    title: CU.into(),
                    guid: CU_GUID.into(),
                    revision: 1,
                    job: 0,
                },
                UpdateSpec {
                    title: NET.into(),
                    guid: NET_GUID.into(),
                    revision: 200,
                    job: 1,
                },
            ];
            h.windows_update_log = log(i);
            h.update_events = events(i);
            h
        })
        .collect();
    scenario(hosts)
}

#[test]
fn one_proxy_without_range_support_blocks_two_updates_on_three_hosts() {
    let r = run(&scenario3());
    // The one fleet diagnosis: 0x80200013 through the proxy on every host.
    let bits: Vec<_> = find(&r, "transfer-failure", Some(0x8020_0013))
        .into_iter()
        .filter(|d| d.explained_by.is_none())
        .collect();
    assert_eq!(bits.len(), 1, "{}", dump(&r));
    let d = bits[0];
    assert_scope(d, Scope::Fleet, &HOSTS);
    assert!(d.proxies.contains(PROXY), "{:?}", d.proxies);
    // It lists the two updates it blocks, with their KB, hosts and how they were linked.
    assert_eq!(d.blocks.len(), 2, "{:?}", d.blocks);
    for (b, (title, kb)) in d.blocks.iter().zip([(NET, "KB5037036"), (CU, "KB5037768")]) {
        assert_eq!(b.title, title);
        assert_eq!(b.kb.as_deref(), Some(kb));
        let hosts: Vec<String> = HOSTS.iter().map(|h| fqdn(h)).collect();
        assert_eq!(b.hosts.iter().cloned().collect::<Vec<_>>(), hosts);
        assert_eq!(
            b.links.iter().copied().collect::<Vec<_>>(),
            [LinkMethod::JobGuid, LinkMethod::ContentHash]
        );
    }
    assert!(d.proof.contains("It blocks 2 update(s)"), "{}", d.proof);

    // Per host and update: failed, linked to exactly the job that carried it, by the job GUID
    // where WindowsUpdate.log names it, else by the content hash.
    assert_eq!(r.updates.len(), 6);
    for u in &r.updates {
        let short = u.host.split('.').next().unwrap();
        let want = if short == "WS-A" {
            LinkMethod::JobGuid
        } else {
            LinkMethod::ContentHash
        };
        assert_eq!(
            serde_json::to_value(u.outcome).unwrap(),
            "download_failed",
            "{u:?}"
        );
        assert_eq!(u.links.len(), 1, "{u:?}");
        assert_eq!(u.links.values().next(), Some(&want), "{u:?}");
        let job = r
            .jobs
            .iter()
            .find(|j| j.host == u.host && j.id.as_ref() == u.jobs.first())
            .expect("the linked job is in the report");
        let hash = if u.guid.as_deref() == Some(CU_GUID) {
            CU_HASH
        } else {
            NET_HASH
        };
        assert!(job.urls[0].contains(hash), "{:?} -> {:?}", u.guid, job.urls);
        assert!(u.diagnoses.contains(&d.id), "{u:?}");
        assert_eq!(
            u.errors.get(&bitsdoctor::model::HResult(0x8020_0013)),
            Some(&1)
        );
    }

    // The updates table: both failed on the three hosts, the fleet diagnosis, the link method.
    let lines = report::update_lines(&r);
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert_eq!(l.failed.len(), 3, "{l:?}");
        assert!(l.succeeded.is_empty());
        assert!(l.diagnoses.contains(&d.id.as_str()), "{l:?}");
        assert_eq!(l.links.len(), 2);
    }
    let text = report::text::render(&r);
    let table = &text[text.find("Updates that failed: 2").expect(&text)..];
    for (title, _) in [(CU, 0), (NET, 1)] {
        let at = table.find(title).expect(table);
        let entry = &table[at..];
        let entry = &entry[..entry[title.len()..]
            .find("\n\n")
            .map_or(entry.len(), |e| e + title.len())];
        assert!(
            entry.contains("3 host(s): WS-A.contoso.local, WS-B.contoso.local, WS-C.contoso.local"),
            "{entry}"
        );
        assert!(entry.contains(&d.id), "{entry}");
        assert!(
            entry.contains("BITS jobs linked by job_guid, content_hash"),
            "{entry}"
        );
    }

    // The HTML updates table: one row per update with the same facts, and the fleet card
    // names the updates it blocks.
    let html = report::html::render(&r);
    let at = html
        .find("<section id=\"updates\">")
        .expect("updates section");
    let section = &html[at..at + html[at..].find("</section>").unwrap()];
    let rows: Vec<&str> = section.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 2, "{section}");
    for (row, title) in rows.iter().zip([NET, CU]) {
        let title = title.replace('&', "&amp;");
        assert!(row.contains(&title[..40]), "{row}");
        assert!(row.contains("<b>3</b>"), "failed on 3 hosts: {row}");
        assert!(row.contains(&format!("href=\"#{}\"", d.id)), "{row}");
        assert!(row.contains("job_guid<br>content_hash"), "{row}");
        assert!(row.contains("0x80200013"), "{row}");
    }
    let card = &html[html.find(&format!("id=\"{}\"", d.id)).unwrap()..];
    let card = &card[..card.find("</article>").unwrap()];
    assert!(card.contains("Blocks updates"), "{card}");
    assert!(
        card.contains("(KB5037768): 3 host(s), linked by job_guid, content_hash"),
        "{card}"
    );
}

/// Split CSV text into rows of cells (the `'` formula guard taken off).
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(|c| report::csv::uncell(c).to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn updates_csv_round_trips_into_the_json_updates() {
    let bundle = tempfile::tempdir().unwrap();
    synth::write_bundle(&scenario3(), bundle.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["analyze", "--out"])
        .arg(out.path())
        .arg(bundle.path())
        .assert()
        .code(predicates::ord::le(1));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let updates = json["updates"].as_array().unwrap();
    let csv = rows(&std::fs::read_to_string(out.path().join("updates.csv")).unwrap());
    assert_eq!(csv.len(), updates.len());
    assert_eq!(csv.len(), 6);
    let list = |c: &str| -> Vec<String> {
        report::csv::split_list(c)
            .into_iter()
            .map(String::from)
            .collect()
    };
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mut failures = 0u64;
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    for (row, u) in csv.iter().zip(updates) {
        assert_eq!(row["host"], u["host"].as_str().unwrap());
        assert_eq!(row["title"], u["title"].as_str().unwrap());
        assert_eq!(row["guid"], u["guid"].as_str().unwrap_or(""));
        assert_eq!(row["kb"], u["kb"].as_str().unwrap_or(""));
        assert_eq!(row["outcome"], u["outcome"].as_str().unwrap());
        *by_outcome.entry(row["outcome"].clone()).or_default() += 1;
        let errors: Vec<String> = u["errors"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        assert_eq!(list(&row["errors"]), errors);
        for e in list(&row["errors"]) {
            failures += e.split_once('=').unwrap().1.parse::<u64>().unwrap();
        }
        assert_eq!(list(&row["jobs"]), strings(&u["jobs"]));
        let links: Vec<String> = u["links"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(g, m)| format!("{g}={}", m.as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(list(&row["links"]), links);
        assert!(!links.is_empty());
        assert_eq!(list(&row["diagnoses"]), strings(&u["diagnoses"]));
        assert_eq!(row["first_seen"].is_empty(), u["first_seen"].is_null());
    }
    assert_eq!(failures, 6, "one failure per host and update");
    assert_eq!(by_outcome.get("download_failed"), Some(&6));

    // diagnoses.csv says which updates each root cause blocks, as the JSON does.
    let diagnoses = json["diagnoses"].as_array().unwrap();
    let csv = rows(&std::fs::read_to_string(out.path().join("diagnoses.csv")).unwrap());
    assert_eq!(csv.len(), diagnoses.len());
    let mut blocking = 0;
    for (row, d) in csv.iter().zip(diagnoses) {
        assert_eq!(row["id"], d["id"].as_str().unwrap());
        let blocks: Vec<String> = d["blocks"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|b| {
                        let name = b["kb"].as_str().or(b["guid"].as_str());
                        let name = name.unwrap_or_else(|| b["title"].as_str().unwrap());
                        format!("{name}={}", b["hosts"].as_array().unwrap().len())
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(list(&row["blocks"]), blocks);
        assert_eq!(list(&row["updates"]), strings(&d["updates"]));
        if !blocks.is_empty() {
            blocking += 1;
            assert_eq!(list(&row["blocks"]), ["KB5037036=3", "KB5037768=3"]);
        }
    }
    assert_eq!(blocking, 1, "the proxy's diagnosis blocks both updates");
}

#[test]
fn a_windows_update_log_gives_the_same_update_records_as_the_events() {
    // WS-A has the log, WS-B the events, for the same updates, jobs and failures.
    let r: Report = run(&scenario3());
    let of = |host: &str| {
        let mut v: Vec<_> = r
            .updates
            .iter()
            .filter(|u| u.host == fqdn(host))
            .map(|u| {
                (
                    u.guid.clone(),
                    u.revision,
                    u.outcome,
                    u.errors.clone(),
                    u.jobs.len(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(of("WS-A").len(), 2);
    assert_eq!(of("WS-A"), of("WS-B"));
}

#[test]
fn a_bundle_with_both_the_log_and_the_events_counts_each_failure_once() {
    // WS-B has both; WS-C only the events: the same records, one failure per update.
    let r: Report = run(&with_log(|i| i < 2, |i| i != 0));
    let of = |host: &str| {
        let mut v: Vec<_> = r
            .updates
            .iter()
            .filter(|u| u.host == fqdn(host))
            .map(|u| {
                (
                    u.guid.clone(),
                    u.revision,
                    u.outcome,
                    u.errors.clone(),
                    u.jobs.len(),
                    u.first_seen.basis(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(of("WS-B").len(), 2);
    assert_eq!(of("WS-B"), of("WS-C"));
    let both = r.updates.iter().find(|u| u.host == fqdn("WS-B")).unwrap();
    assert!(both.log_errors.is_empty());
    assert_eq!(both.links.values().next(), Some(&LinkMethod::JobGuid));
    assert!(
        both.evidence
            .iter()
            .any(|e| e.path.ends_with("WindowsUpdate.log"))
            && both.evidence.iter().any(|e| e.path.ends_with(".evtx")),
        "{:?}",
        both.evidence
    );
}

#[test]
fn without_any_log_a_microsoft_update_file_name_links_by_its_kb() {
    // Two hosts downloading the cumulative update straight from Microsoft Update through the
    // proxy; no WindowsUpdate.log anywhere, so no GUID or hash to learn from.
    let url = "http://download.windowsupdate.com/d/msdownload/update/software/secu/2024/05/windows10.0-kb5037768-x64_3f2a9c41d0b7e65a8c1f4d2e9b0a7c6d5e4f3a21.cab";
    let hosts = ["WS-D", "WS-E"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut h = host(name);
            let mut j = job(url, 1 + i as u32, vec![range(), range()]);
            j.proxy = Some(PROXY.into());
            h.jobs = vec![j];
            h.updates = vec![UpdateSpec {
                title: CU.into(),
                guid: CU_GUID.into(),
                revision: 1,
                job: 0,
            }];
            h
        })
        .collect();
    let r = run(&scenario(hosts));
    assert_eq!(r.updates.len(), 2);
    for u in &r.updates {
        assert_eq!(u.links.len(), 1, "{u:?}");
        assert_eq!(u.links.values().next(), Some(&LinkMethod::UrlKb), "{u:?}");
    }
    let d = find(&r, "transfer-failure", Some(0x8020_0013))
        .into_iter()
        .find(|d| d.explained_by.is_none())
        .expect("the BITS diagnosis");
    assert_eq!(d.blocks.len(), 1, "{:?}", d.blocks);
    assert_eq!(d.blocks[0].hosts.len(), 2);
    assert_eq!(
        d.blocks[0].links.iter().copied().collect::<Vec<_>>(),
        [LinkMethod::UrlKb]
    );
}
