//! Network rules that are not plain transfer failures: proxies BITS could not reach (201),
//! credentials a server rejected (204), and URLs downloaded without throttling because the
//! server lacks HEAD, Content-Length or Content-Range (206/207/210). Transfer failures with a
//! code (61, 202 ...) are grouped by the engine itself.

use super::{authority, Category, Diagnosis, Scope, Severity};
use crate::correlate::Fleet;
use crate::knowledge::Knowledge;
use crate::model::When;
use std::collections::BTreeMap;

pub(super) fn run(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    proxies_unreachable(fleet, kb, out);
    credentials(fleet, out);
    throttling(fleet, out);
}

/// The job key (`HOST/{GUID}`) of the job an event without a GUID is about: of `host`'s jobs
/// named `title`, the last one created at or before `time` (as the correlation joins them),
/// else every job of that name; `HOST/"title"` when there is none.
fn jobs_named(fleet: &Fleet, host: &str, title: &str, time: When) -> Vec<String> {
    let named: Vec<&crate::correlate::Job> = fleet
        .jobs
        .iter()
        .filter(|j| j.host == host && j.name == title)
        .map(|j| &**j)
        .collect();
    if named.is_empty() {
        return vec![crate::correlate::titled_key(host, title)];
    }
    if time != When::Unknown {
        if let Some(j) = named
            .iter()
            .filter(|j| j.first_seen != When::Unknown && j.first_seen <= time)
            .max_by_key(|j| j.first_seen)
        {
            return vec![j.key()];
        }
    }
    named.iter().map(|j| j.key()).collect()
}

fn scope_of(hosts: usize, jobs: usize) -> Scope {
    if hosts >= 2 {
        Scope::Fleet
    } else if jobs >= 2 {
        Scope::Host
    } else {
        Scope::Job
    }
}

/// Event 201, grouped by proxy list across hosts.
fn proxies_unreachable(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    let mut groups: BTreeMap<String, Diagnosis> = BTreeMap::new();
    for (name, host) in &fleet.hosts {
        for p in &host.proxy_failures {
            let d = groups.entry(p.proxy_list.clone()).or_insert_with(|| {
                Diagnosis::new(
                    "proxy-unreachable",
                    Category::Failure,
                    Severity::Error,
                    Scope::Host,
                )
            });
            d.hosts.insert(name.as_str().into());
            d.jobs.insert(match &p.job {
                Some(g) => crate::correlate::job_key(name, g),
                None => crate::correlate::titled_key(name, &p.title),
            });
            d.servers.insert(authority(&p.url));
            d.proxies.insert(p.proxy_list.clone());
            d.seen(p.time, &p.evidence);
            if p.hr.is_failure() {
                let key = format!("job:{}", p.hr);
                if !d.covers.contains(&key) {
                    d.covers.push(key);
                }
                d.code.get_or_insert(p.hr);
            }
        }
    }
    for (list, mut d) in groups {
        d.scope = scope_of(d.hosts.len(), d.jobs.len());
        d.title = format!("no proxy in the list \"{list}\" could be reached");
        d.cause = "BITS tried every proxy the job was given and reached none of them; BITS \
                   retries periodically, but nothing transfers until a proxy answers."
            .into();
        d.fix = vec![
            format!("From an affected host: `Test-NetConnection` to each proxy in \"{list}\""),
            "netsh winhttp show proxy".into(),
            "Fix the proxy name/port in the job owner's settings (or the WinHTTP proxy for service jobs): `netsh winhttp set proxy PROXY:PORT \"<local>\"`".into(),
            "bitsadmin /resume JOB".into(),
        ];
        d.proof = format!(
            "{} Bits-Client event(s) 201 in {} job(s) on {} host(s), every one naming the proxy \
             list \"{list}\"",
            d.occurrences,
            d.jobs.len(),
            d.hosts.len()
        );
        let first = list
            .split([';', ' '])
            .find(|p| !p.is_empty())
            .unwrap_or(&list);
        let (phost, pport) = first
            .trim_start_matches("http://")
            .rsplit_once(':')
            .unwrap_or((first, "8080"));
        d.next_check = format!(
            "From an affected host: `Test-NetConnection {phost} -Port {pport}`; \
             TcpTestSucceeded False confirms the proxy is unreachable from there, True points at \
             the proxy refusing BITS (check its logs)"
        );
        if let Some(code) = d.code {
            let (title, cause, fix, proof, next) = (
                std::mem::take(&mut d.title),
                std::mem::take(&mut d.cause),
                std::mem::take(&mut d.fix),
                std::mem::take(&mut d.proof),
                std::mem::take(&mut d.next_check),
            );
            d = d.with_code(kb, code);
            d.title = title;
            d.cause = cause;
            d.fix = fix;
            d.proof = proof;
            d.next_check = next;
        }
        out.push(d);
    }
}

/// Event 204, grouped by (server, scheme).
fn credentials(fleet: &Fleet, out: &mut Vec<Diagnosis>) {
    let mut groups: BTreeMap<(String, String), Diagnosis> = BTreeMap::new();
    for (name, host) in &fleet.hosts {
        for (server, scheme, user, title, ev) in &host.credentials_rejected {
            let d = groups
                .entry((server.clone(), scheme.clone()))
                .or_insert_with(|| {
                    Diagnosis::new(
                        "credentials-rejected",
                        Category::Security,
                        Severity::Error,
                        Scope::Host,
                    )
                });
            d.hosts.insert(name.as_str().into());
            for key in jobs_named(fleet, name, title, When::Unknown) {
                if let Some(j) = fleet.job(&key) {
                    for hr in j.errors.keys() {
                        let k = format!("job:{hr}");
                        if !d.covers.contains(&k) {
                            d.covers.push(k);
                        }
                    }
                }
                d.jobs.insert(key);
            }
            d.servers.insert(server.clone());
            if !user.is_empty() {
                d.proof = format!("user {user}");
            }
            d.seen(crate::model::When::Unknown, ev);
        }
    }
    for ((server, scheme), mut d) in groups {
        d.scope = scope_of(d.hosts.len(), d.jobs.len());
        let user = std::mem::take(&mut d.proof);
        d.title = format!("{server} rejected the credentials BITS sent ({scheme})");
        d.cause = "The server (or proxy) refused the user name and password set on the job for \
                   this authentication scheme."
            .into();
        d.fix = vec![
            "Check the account is allowed on the server, and its password is current".into(),
            "Set the credentials again: `bitsadmin /setcredentials JOB SERVER NEGOTIATE USER PASSWORD` (NTLM/NEGOTIATE for domain accounts)".into(),
            "bitsadmin /resume JOB".into(),
        ];
        d.proof = format!(
            "{} Bits-Client event(s) 204 for {server}, scheme {scheme}{}",
            d.occurrences,
            if user.is_empty() {
                String::new()
            } else {
                format!(", {user}")
            }
        );
        d.next_check = format!(
            "Log on as the job's user and open a URL on {server} with those credentials: \
             if the server refuses them too, the account or password is wrong; after \
             `bitsadmin /setcredentials`, a Bits-Client 203 (credentials accepted) for {server} \
             shows it fixed"
        );
        out.push(d);
    }
}

/// Events 206/207/210: downloaded without throttling. Not a failure; worth knowing.
fn throttling(fleet: &Fleet, out: &mut Vec<Diagnosis>) {
    let mut groups: BTreeMap<(String, String), Diagnosis> = BTreeMap::new();
    for (name, host) in &fleet.hosts {
        for f in host.http_features.iter().filter(|f| !f.hr.is_failure()) {
            let d = groups
                .entry((f.feature.clone(), authority(&f.url)))
                .or_insert_with(|| {
                    Diagnosis::new(
                        "http-throttling",
                        Category::Failure,
                        Severity::Info,
                        Scope::Host,
                    )
                });
            d.hosts.insert(name.as_str().into());
            match &f.job {
                Some(g) => {
                    d.jobs.insert(crate::correlate::job_key(name, g));
                }
                None => d.jobs.extend(jobs_named(fleet, name, &f.title, f.time)),
            }
            d.servers.insert(authority(&f.url));
            d.seen(f.time, &f.evidence);
        }
    }
    for ((feature, server), mut d) in groups {
        d.scope = scope_of(d.hosts.len(), d.jobs.len());
        let what = match feature.as_str() {
            "head" => "HEAD requests",
            "content-length" => "a Content-Length header",
            _ => "Content-Range responses",
        };
        d.title =
            format!("{server} does not send {what}: BITS downloads from it without throttling");
        d.cause = "BITS needs HEAD, Content-Length and Content-Range to throttle a download. \
                   Without them it still downloads, at full speed, which can swamp slow links."
            .into();
        d.fix = vec![
            format!("Check the server or proxy in front of {server}: HEAD must return Content-Length and ranged GETs must return 206 with Content-Range"),
            "If a proxy strips these headers, exempt the update server from it".into(),
        ];
        d.proof = format!(
            "{} Bits-Client event(s) 206/207/210 for {server}",
            d.occurrences
        );
        d.next_check = match feature.as_str() {
            "head" => format!("`curl.exe -I` a URL on {server}: an error or 405 confirms HEAD is not served"),
            "content-length" => format!("`curl.exe -I` a URL on {server}: no Content-Length header confirms it"),
            _ => format!("`curl.exe -s -o NUL -D - -r 0-99` a URL on {server}: a 200 instead of 206 Partial Content confirms it"),
        };
        out.push(d);
    }
}
