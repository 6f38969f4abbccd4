//! Rules over the correlated fleet -> ranked diagnoses.
//!
//! Transfer failures are grouped by (code, remote authority, proxy). A group seen on two or more
//! hosts is one fleet-wide root cause; a host whose failing jobs all fail with one network code
//! against several servers points at the host; the rest are reported per host or per job.
//! Service, configuration and policy rules look at each host's facts.

mod config;
mod fleet;
mod fold;
mod network;
pub mod security;
mod service;
pub mod updates;
pub mod version;

use crate::correlate::{Fleet, Job, Outcome};
use crate::knowledge::{Knowledge, Transient};
use crate::model::{Evidence, HResult, Shared, TimeBasis, Warning, When};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The knowledge table starts fix steps that apply only when the BITS service itself fails to
/// start with a code (rather than a job) with these words.
pub const SERVICE_ONLY_FIX: &str = "If the BITS service itself fails to start";

/// How many evidence references a diagnosis carries at most.
pub const EVIDENCE_CAP: usize = 20;

/// A transient code counts as a persistent problem when a job fails with it this many times
/// with no later success.
pub const PERSIST_THRESHOLD: u32 = 3;

/// A network code that accounts for at least this share of a host's failing jobs, against
/// several servers, is diagnosed as a host problem.
pub const HOST_WIDE_SHARE_PERCENT: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Info,
            Severity::Warning,
            Severity::Error,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Failure,
    Config,
    Security,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Fleet,
    Host,
    Job,
}

/// One finding: what failed, why, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// `D1`, `D2` ... in rank order.
    pub id: String,
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub scope: Scope,
    pub code: Option<HResult>,
    pub symbol: Option<String>,
    pub title: String,
    pub cause: String,
    pub fix: Vec<String>,
    /// What in the inputs shows this.
    pub proof: String,
    /// The next check to run: what would show this diagnosis wrong.
    pub next_check: String,
    pub hosts: BTreeSet<Shared>,
    /// Job keys (`HOST/{GUID}`).
    pub jobs: BTreeSet<String>,
    /// Update keys (`HOST/GUID`, or `HOST/"title"` without a GUID) this diagnosis is about.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub updates: BTreeSet<String>,
    /// For a BITS root cause: the updates whose downloads went through its jobs and did not get
    /// through, one entry per update with the hosts where it is stuck and how it was linked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<updates::BlockedUpdate>,
    pub servers: BTreeSet<String>,
    pub proxies: BTreeSet<String>,
    pub occurrences: u64,
    pub first_seen: When,
    pub last_seen: When,
    /// What `first_seen` / `last_seen` are measured against (set when the report is built).
    pub first_seen_basis: TimeBasis,
    pub last_seen_basis: TimeBasis,
    pub evidence: Vec<Evidence>,
    /// Findings this one explains: ids of the host-level symptoms ranked right under it (a
    /// start failure under the configuration that causes it). Job-level findings it explains
    /// are not listed separately at all: their jobs and evidence are merged into this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explains: Vec<String>,
    /// The id of the diagnosis that explains this one, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<String>,
    /// Position before ranking (links between diagnoses are made before ids exist).
    #[serde(skip)]
    pub(crate) tag: usize,
    /// `tag` of the diagnosis that explains this one.
    #[serde(skip)]
    pub(crate) under: Option<usize>,
    /// What kind of symptom this is, for [`fold`]: `start:0x80070422`, `limit:16398`,
    /// `job:0x80190197` ...
    #[serde(skip)]
    pub(crate) symptom: Option<String>,
    /// The symptoms (same keys) this diagnosis explains on its hosts / in its jobs.
    #[serde(skip)]
    pub(crate) covers: Vec<String>,
}

impl Diagnosis {
    /// Give back the spare room its texts and evidence list grew into: a diagnosis is kept
    /// to the end of the run, and a fleet has hundreds.
    fn settle(&mut self) {
        for text in [
            &mut self.title,
            &mut self.cause,
            &mut self.proof,
            &mut self.next_check,
        ] {
            text.shrink_to_fit();
        }
        for step in &mut self.fix {
            step.shrink_to_fit();
        }
        self.evidence.shrink_to_fit();
    }

    pub(crate) fn new(
        rule: &'static str,
        category: Category,
        severity: Severity,
        scope: Scope,
    ) -> Self {
        Diagnosis {
            id: String::new(),
            rule,
            category,
            severity,
            scope,
            code: None,
            symbol: None,
            title: String::new(),
            cause: String::new(),
            fix: Vec::new(),
            proof: String::new(),
            next_check: String::new(),
            hosts: BTreeSet::new(),
            jobs: BTreeSet::new(),
            updates: BTreeSet::new(),
            blocks: Vec::new(),
            servers: BTreeSet::new(),
            proxies: BTreeSet::new(),
            occurrences: 0,
            first_seen: When::Unknown,
            last_seen: When::Unknown,
            first_seen_basis: TimeBasis::None,
            last_seen_basis: TimeBasis::None,
            evidence: Vec::new(),
            explains: Vec::new(),
            explained_by: None,
            tag: 0,
            under: None,
            symptom: None,
            covers: Vec::new(),
        }
    }

    /// Count one sighting. Only the [`EVIDENCE_CAP`] smallest records are kept (sorted and
    /// distinct), the ones `rank` would keep of all of them: a fleet diagnosis can cover
    /// millions of failures.
    pub(crate) fn seen(&mut self, t: When, ev: &Evidence) {
        When::widen(&mut self.first_seen, &mut self.last_seen, t);
        self.occurrences += 1;
        crate::vecset::keep_smallest(&mut self.evidence, ev, EVIDENCE_CAP);
    }

    /// Cite records without counting a sighting, keeping the [`EVIDENCE_CAP`] smallest as
    /// [`Diagnosis::seen`] does: a fleet's update or merged diagnosis gathers the records of
    /// thousands of hosts.
    pub(crate) fn cite<'a>(&mut self, evs: impl IntoIterator<Item = &'a Evidence>) {
        for ev in evs {
            crate::vecset::keep_smallest(&mut self.evidence, ev, EVIDENCE_CAP);
        }
    }

    pub(crate) fn with_code(mut self, kb: &Knowledge, code: HResult) -> Self {
        let e = kb.explain(code);
        self.code = Some(code);
        self.symbol = e.symbol.clone();
        if self.cause.is_empty() {
            self.cause = if e.cause.is_empty() {
                e.meaning.clone()
            } else {
                format!("{} {}", e.meaning, e.cause)
            };
        }
        if self.fix.is_empty() {
            self.fix = e.fix.clone();
            // A job that fails with a code the service can also fail to start with (a missing
            // file or folder) needs the job's fix, not the service's.
            if self.rule != "service-start-failure" {
                self.fix.retain(|f| !f.starts_with(SERVICE_ONLY_FIX));
            }
        }
        self
    }
}

/// `scheme://host:port` of a URL, lower-cased; local paths and UNC names as they are.
pub fn authority(url: &str) -> String {
    let u = url.trim();
    if let Some((scheme, rest)) = u.split_once("://") {
        let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
        let scheme = scheme.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "https" => "443",
            "http" => "80",
            _ => "",
        };
        let hp = host_port.to_ascii_lowercase();
        let has_port = hp
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        return if has_port || default.is_empty() {
            format!("{scheme}://{hp}")
        } else {
            format!("{scheme}://{hp}:{default}")
        };
    }
    if let Some(unc) = u.strip_prefix("\\\\") {
        return format!("\\\\{}", unc.split('\\').next().unwrap_or(""));
    }
    if u.len() >= 2 && u.as_bytes()[1] == b':' {
        return "local file".into();
    }
    u.to_string()
}

/// The network codes that say "this host cannot reach things" rather than "this server is bad".
fn is_network_code(hr: HResult) -> bool {
    matches!(
        hr.0,
        0x8007_2EE7 // name not resolved
            | 0x8007_2EFD // cannot connect
            | 0x8007_2EFE // connection error
            | 0x8007_2EE2 // timeout
            | 0x8007_2F8F // secure failure
            | 0x8007_2F7D // secure channel error
            | 0x8007_2F0D // invalid CA
            | 0x8020_0010 // network disconnected
            | 0x8020_002D // connect failure
            | 0x8007_04CF // network unreachable
            | 0x8007_04D0 // host unreachable
            | 0x8007_04C9 // connection refused
            | 0x8007_03EB // no default gateway
            | 0x8007_05B4 // timeout
    )
}

/// Run every rule. `kb` gives meanings, causes and fixes.
/// `lens` adds the security findings (None leaves them out).
pub fn diagnose(fleet: &Fleet, kb: &Knowledge, lens: Option<&security::Lens>) -> Vec<Diagnosis> {
    diagnose_guarded(fleet, kb, lens).0
}

/// [`diagnose`], each group of rules run so that a panic in it (a bug, never expected) costs
/// that group's findings only: the others are kept, and a warning says which group failed.
pub fn diagnose_guarded(
    fleet: &Fleet,
    kb: &Knowledge,
    lens: Option<&security::Lens>,
) -> (Vec<Diagnosis>, Vec<Warning>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut run = |group: &str, rules: &dyn Fn(&mut Vec<Diagnosis>)| {
        if let Err(why) = guarded(rules, &mut out) {
            warnings.push(Warning {
                path: String::new(),
                at: None,
                message: format!(
                    "internal error in the {group} rules: their findings are left out (please \
                     report it): {why}"
                ),
            });
        }
    };
    run("transfer failure", &|o| transfer_failures(fleet, kb, o));
    run("service", &|o| service::run(fleet, kb, o));
    run("configuration", &|o| config::run(fleet, kb, o));
    run("network", &|o| network::run(fleet, kb, o));
    if let Some(lens) = lens {
        run("security", &|o| security::run(fleet, lens, o));
    }
    run("update", &|o| updates::run(fleet, kb, o));
    fleet::merge(&mut out);
    fold::fold(&mut out);
    updates::place(&mut out);
    updates::blocks(fleet, &mut out);
    rank(&mut out);
    (out, warnings)
}

/// Run `rules` into a list of their own, appended to `out` only when they finish; else the
/// panic's message.
fn guarded(rules: &dyn Fn(&mut Vec<Diagnosis>), out: &mut Vec<Diagnosis>) -> Result<(), String> {
    let mut mine = Vec::new();
    crate::isolate::catch(|| rules(&mut mine))?;
    out.append(&mut mine);
    Ok(())
}

/// How bad a failure with this code is: recovered is info, a code that usually passes on its
/// own a warning, any other an error.
pub(crate) fn failure_severity(e: &crate::knowledge::Explanation, recovered: bool) -> Severity {
    if recovered {
        Severity::Info
    } else if e.transient == Transient::Yes {
        Severity::Warning
    } else {
        Severity::Error
    }
}

/// Job failures grouped by (code, authority, proxy), then by hosts.
fn transfer_failures(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    // (code, authority, proxy) -> failing / recovered jobs, as indices into `fleet.jobs`
    // (sorted by key, so an index orders and identifies a job as its key does).
    #[derive(Default)]
    struct Group {
        persisting: Vec<usize>,
        recovered: Vec<usize>,
    }
    let job = |i: usize| &fleet.jobs[i];
    let mut groups: BTreeMap<(HResult, String, String), Group> = BTreeMap::new();
    for (ji, job) in fleet.jobs.iter().enumerate() {
        // Events of one failure do not all name the proxy (202 does, a 61 may leave it empty):
        // a failure without one went through the proxy its job's other failures name.
        // A job's failures name few URLs: each one's authority is worked out once.
        let mut authorities: Vec<(&str, String)> = Vec::new();
        let failures: Vec<(HResult, usize, Option<&str>)> = job
            .failures
            .iter()
            .map(|f| {
                // A failure line that names no URL (WindowsUpdate.log `hit a transient error`)
                // is about the job's one URL when it has only one.
                let url = match (f.url.is_empty(), job.urls.len()) {
                    (true, 1) => job
                        .urls
                        .iter()
                        .next()
                        .map_or("", crate::model::Shared::as_str),
                    _ => f.url.as_str(),
                };
                let auth = match authorities.iter().position(|(u, _)| *u == url) {
                    Some(i) => i,
                    None => {
                        authorities.push((url, authority(url)));
                        authorities.len() - 1
                    }
                };
                (f.hr, auth, f.proxy.as_deref())
            })
            .collect();
        let mut named: BTreeMap<(HResult, &str), &str> = BTreeMap::new();
        for (hr, auth, proxy) in &failures {
            if let Some(p) = proxy {
                named
                    .entry((*hr, authorities[*auth].1.as_str()))
                    .or_insert(p);
            }
        }
        let mut keys: BTreeSet<(HResult, &str, &str)> = BTreeSet::new();
        for (hr, auth, proxy) in &failures {
            let auth = authorities[*auth].1.as_str();
            let proxy = proxy
                .or_else(|| named.get(&(*hr, auth)).copied())
                .unwrap_or("");
            keys.insert((*hr, auth, proxy));
        }
        for (hr, auth, proxy) in keys {
            let g = groups
                .entry((hr, auth.to_string(), proxy.to_string()))
                .or_default();
            if persists(job, hr, kb) {
                g.persisting.push(ji);
            } else {
                g.recovered.push(ji);
            }
        }
    }

    // Host-level network verdict: one network code accounts for most of a host's persistently
    // failing jobs, against two or more servers. The servers are then not the common factor.
    let mut host_jobs: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let mut code_jobs: BTreeMap<(&str, HResult), BTreeSet<usize>> = BTreeMap::new();
    let mut code_servers: BTreeMap<(&str, HResult), BTreeSet<&str>> = BTreeMap::new();
    for ((hr, auth, _), g) in &groups {
        for &ji in &g.persisting {
            let host = job(ji).host.as_str();
            host_jobs.entry(host).or_default().insert(ji);
            code_jobs.entry((host, *hr)).or_default().insert(ji);
            code_servers.entry((host, *hr)).or_default().insert(auth);
        }
    }
    let host_wide: BTreeSet<(&str, HResult)> = code_jobs
        .iter()
        .filter(|((host, hr), jobs)| {
            let all = host_jobs[host].len();
            is_network_code(*hr)
                && code_servers[&(*host, *hr)].len() >= 2
                && jobs.len() * 100 >= all * HOST_WIDE_SHARE_PERCENT
        })
        .map(|(k, _)| *k)
        .collect();
    for &(host, hr) in &host_wide {
        let mut d = Diagnosis::new(
            "host-network",
            Category::Failure,
            Severity::Error,
            Scope::Host,
        );
        d.hosts.insert(host.into());
        for ((ghr, auth, proxy), g) in &groups {
            if *ghr != hr {
                continue;
            }
            for j in g
                .persisting
                .iter()
                .map(|&i| job(i))
                .filter(|j| j.host == host)
            {
                add_job_failures(&mut d, j, hr);
                if !auth.is_empty() {
                    d.servers.insert(auth.clone());
                }
                if !proxy.is_empty() {
                    d.proxies.insert(proxy.clone());
                }
            }
        }
        let e = kb.explain(hr);
        d.title = format!(
            "{host}: failing jobs fail with {hr} against {} different servers",
            d.servers.len()
        );
        d.proof = format!(
            "{} of {} failing jobs on {host} stop with {hr} ({}), across {} different servers: \
             the servers are not the common factor, the host is",
            d.jobs.len(),
            host_jobs[&host].len(),
            e.symbol.as_deref().unwrap_or("unknown code"),
            d.servers.len()
        );
        d.next_check = format!(
            "On {host}, as the job owner, reach one of the URLs with another client; if that \
             works, the host's name resolution and proxy are fine and the jobs need a closer look"
        );
        out.push(d.with_code(kb, hr));
    }

    // Persisting failures stay apart per server, except where a proxy is the common factor: a
    // code a proxy can cause, through one proxy, on two or more hosts, is one diagnosis however
    // many servers are behind it. Recovered ones are merged per (code, proxy): they need no
    // fix, only a note of what happened where.
    let mut proxy_hosts: BTreeMap<(HResult, &str), BTreeSet<&str>> = BTreeMap::new();
    for ((hr, _, proxy), g) in &groups {
        if proxy.is_empty() || !proxy_attributable(*hr) {
            continue;
        }
        for j in g.persisting.iter().map(|&i| job(i)) {
            if !host_wide.contains(&(j.host.as_str(), *hr)) {
                proxy_hosts
                    .entry((*hr, proxy.as_str()))
                    .or_default()
                    .insert(j.host.as_str());
            }
        }
    }
    type SetKey<'a> = (bool, HResult, &'a str, &'a str);
    let mut sets: BTreeMap<SetKey, (Vec<&Job>, BTreeSet<String>)> = BTreeMap::new();
    let mut in_set: std::collections::HashSet<(SetKey, usize)> = Default::default();
    for ((hr, auth, proxy), g) in &groups {
        let via_proxy = proxy_hosts
            .get(&(*hr, proxy.as_str()))
            .is_some_and(|h| h.len() >= 2);
        for &ji in &g.persisting {
            let j = job(ji);
            if host_wide.contains(&(j.host.as_str(), *hr)) {
                continue;
            }
            let server_key = if via_proxy { "" } else { auth.as_str() };
            let key = (false, *hr, server_key, proxy.as_str());
            let e = sets.entry(key).or_default();
            if in_set.insert((key, ji)) {
                e.0.push(j);
            }
            e.1.insert(auth.clone());
        }
        for &ji in &g.recovered {
            let key = (true, *hr, "", proxy.as_str());
            let e = sets.entry(key).or_default();
            if in_set.insert((key, ji)) {
                e.0.push(job(ji));
            }
            e.1.insert(auth.clone());
        }
    }
    // Once, and only if a diagnosis asks: per server, the jobs that reached it and succeeded
    // (for "who else reaches this server").
    let index: std::cell::OnceCell<ServerIndex> = std::cell::OnceCell::new();
    let index = || index.get_or_init(|| ServerIndex::of(fleet));
    for ((recovered, hr, server_key, proxy), (jobs, servers)) in &sets {
        let (recovered, hr) = (*recovered, *hr);
        let proxy_group = !recovered && server_key.is_empty();
        out.push(transfer_diagnosis(
            fleet,
            &index,
            kb,
            recovered,
            proxy_group,
            hr,
            proxy,
            jobs,
            servers,
        ));
    }
}

/// Codes a proxy in the path can cause by itself: it strips Range or Content-Length, wants
/// authentication, has a bad name, or cannot reach the outside.
fn proxy_attributable(hr: HResult) -> bool {
    matches!(
        hr.0,
        0x8020_0013 | 0x8020_0011 | 0x8020_0012 | 0x8019_0197 | 0x8007_0057
    ) || is_network_code(hr)
}

/// Is a proxy in play for these jobs: named by their failures or listings, or set as the
/// WinHTTP proxy of their hosts?
fn proxy_in_play(fleet: &Fleet, jobs: &[&Job], proxy: &str) -> Option<String> {
    if !proxy.is_empty() {
        return Some(proxy.to_string());
    }
    for j in jobs {
        if let Some(p) = j.proxies.iter().next() {
            return Some(p.clone());
        }
        if let Some((false, Some(p), _)) = fleet
            .hosts
            .get(j.host.as_str())
            .and_then(|h| h.winhttp_proxy.as_ref())
        {
            return Some(p.clone());
        }
    }
    None
}

/// Per server (`authority` of a URL), the jobs with a success that name it, as indices into
/// `fleet.jobs`: a few servers, so a fleet's jobs cost an index each.
struct ServerIndex {
    by_server: BTreeMap<String, Vec<usize>>,
}

impl ServerIndex {
    fn of(fleet: &Fleet) -> ServerIndex {
        let mut by_server: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, j) in fleet.jobs.iter().enumerate() {
            if j.last_success.is_none() {
                continue;
            }
            let servers: BTreeSet<String> = j.urls.iter().map(|u| authority(u)).collect();
            for s in servers {
                by_server.entry(s).or_default().push(i);
            }
        }
        ServerIndex { by_server }
    }

    /// The jobs with a success that name any of `servers`, each once.
    fn reaching<'a>(&self, fleet: &'a Fleet, servers: &BTreeSet<String>) -> Vec<&'a Job> {
        let mut jobs: Vec<usize> = servers
            .iter()
            .filter_map(|s| self.by_server.get(s))
            .flatten()
            .copied()
            .collect();
        jobs.sort_unstable();
        jobs.dedup();
        jobs.into_iter().map(|i| &*fleet.jobs[i]).collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn transfer_diagnosis<'a>(
    fleet: &'a Fleet,
    index: &dyn Fn() -> &'a ServerIndex,
    kb: &Knowledge,
    recovered: bool,
    proxy_group: bool,
    hr: HResult,
    proxy: &str,
    jobs: &[&Job],
    servers: &BTreeSet<String>,
) -> Diagnosis {
    // A title never shows an empty server or host: failures read from a log line that names
    // no URL say so.
    let named: BTreeSet<String> = servers.iter().filter(|s| !s.is_empty()).cloned().collect();
    let auth = if named.is_empty() {
        "a server the evidence does not name".to_string()
    } else {
        capped_list(&named)
    };
    let hosts: BTreeSet<&str> = jobs.iter().map(|j| j.host.as_str()).collect();
    let scope = if hosts.len() >= 2 {
        Scope::Fleet
    } else if jobs.len() >= 2 {
        Scope::Host
    } else {
        Scope::Job
    };
    let e = kb.explain(hr);
    let severity = failure_severity(&e, recovered);
    let rule = if recovered {
        "transfer-recovered"
    } else {
        "transfer-failure"
    };
    let mut d = Diagnosis::new(rule, Category::Failure, severity, scope);
    d.symptom = Some(format!("job:{hr}"));
    for j in jobs {
        add_job_failures(&mut d, j, hr);
    }
    d.servers.extend(named.iter().cloned());
    if !proxy.is_empty() {
        d.proxies.insert(proxy.to_string());
    }
    let what = e
        .symbol
        .clone()
        .unwrap_or_else(|| "unknown code".to_string());
    let via = if proxy.is_empty() {
        String::new()
    } else {
        format!(" via proxy {proxy}")
    };
    let where_ = match scope {
        Scope::Fleet => format!("{} hosts", hosts.len()),
        _ => hosts
            .iter()
            .next()
            .copied()
            .filter(|h| !h.is_empty())
            .unwrap_or("an unnamed host")
            .to_string(),
    };
    d.title = if recovered {
        format!("{hr} {what} from {auth}{via} on {where_}: recovered")
    } else if proxy_group && servers.len() >= 2 {
        format!(
            "{hr} {what} through proxy {proxy} on {where_}, against {} server(s): the proxy is the common factor",
            servers.len()
        )
    } else {
        format!("{hr} {what} from {auth}{via} on {where_}")
    };
    d.proof = format!(
        "{} transfer failure(s) with {hr} in {} job(s) on {} host(s) against {auth}{via}{}",
        d.occurrences,
        d.jobs.len(),
        hosts.len(),
        if recovered {
            "; every one of these jobs transferred successfully later"
        } else {
            "; no later success"
        }
    );
    if !recovered && !proxy.is_empty() {
        // Do other jobs reach the same servers without this error and without the proxy? Then
        // the server is fine and the proxy is the difference.
        let ours: std::collections::HashSet<*const Job> =
            jobs.iter().map(|j| std::ptr::from_ref(*j)).collect();
        let clean: BTreeSet<&str> = index()
            .reaching(fleet, servers)
            .into_iter()
            .filter(|j| !j.errors.contains_key(&hr))
            .filter(|j| !ours.contains(&std::ptr::from_ref(*j)))
            .filter(|j| !j.proxies.contains(proxy))
            .map(|j| j.host.as_str())
            .collect();
        if !clean.is_empty() {
            d.proof.push_str(&format!(
                "; {} other host(s) download from the same server(s) without the proxy and succeed",
                clean.len()
            ));
        }
    }
    let sample_url = jobs
        .iter()
        .flat_map(|j| {
            j.failures
                .iter()
                .filter(|f| f.hr == hr)
                .map(|f| f.url.clone())
        })
        .find(|u| !u.is_empty())
        .unwrap_or_else(|| "URL".into());
    d.next_check = if recovered {
        "Nothing to do unless it recurs: a later capture with the same code and no success          would make it a finding"
            .into()
    } else {
        match (hr.0, proxy.is_empty()) {
            (0x8020_0013, false) => format!(
                "From an affected host, ask for a byte range through the proxy and without it: \
                 `curl.exe -s -o NUL -D - -r 0-99 --proxy http://{proxy} \"{sample_url}\"` then \
                 the same with `--noproxy \"*\"`; 206 Partial Content only without the proxy \
                 proves the proxy strips Range, 206 through it disproves it"
            ),
            (0x8020_0013, true) => format!(
                "`curl.exe -s -o NUL -D - -r 0-99 \"{sample_url}\"` from an affected host: a 206 \
                 with Content-Range means the server supports Range and something in between \
                 does not"
            ),
            (0x8020_0011, _) => format!(
                "`curl.exe -I \"{sample_url}\"`{}: no Content-Length in the answer confirms it; \
                 a Content-Length there disproves it",
                if proxy.is_empty() {
                    String::new()
                } else {
                    format!(" with and without `--proxy http://{proxy}`")
                }
            ),
            _ => format!(
                "Retry one job after the fix (`bitsadmin /resume JOB`): a Bits-Client 60 with \
                 status 0 and a 4 for {auth} shows it resolved; the same {hr} again shows the \
                 cause is elsewhere"
            ),
        }
    };
    // Proxy-specific readings of codes whose table entry covers several causes.
    let in_play = proxy_in_play(fleet, jobs, proxy);
    match (hr.0, in_play) {
        (0x8007_0057, Some(p)) if !recovered => {
            d.title = format!(
                "{hr} E_INVALIDARG with proxy {p} on {where_}: the proxy name or the job's proxy \
                 credentials are not valid"
            );
            d.cause = format!(
                "BITS rejected the proxy settings it was given for these jobs (proxy {p}): the \
                 proxy name in the job owner's Internet Options or the WinHTTP proxy is not \
                 valid, or credentials with an empty user name were set for a scheme other than \
                 NTLM or Negotiate. The jobs wait in TRANSIENT_ERROR and never get through."
            );
            d.fix = vec![
                "netsh winhttp show proxy".into(),
                format!("Check that `{p}` is a valid host:port (no scheme, no typo) in the job owner's Internet Options and in WinHTTP"),
                format!("Correct it: `netsh winhttp set proxy {} \"<local>\"`, or `netsh winhttp reset proxy` if no proxy is needed", p.trim_start_matches("http://")),
                "If the application sets credentials with an empty user name, make it use NTLM or Negotiate, or remove them: `bitsadmin /removecredentials JOB PROXY BASIC`".into(),
                "bitsadmin /resume JOB".into(),
            ];
            d.next_check = format!(
                "From an affected host, `curl.exe -I --proxy http://{} \"{sample_url}\"`: an \
                 answer through the proxy shows its name is valid, pointing at the credentials",
                p.trim_start_matches("http://")
            );
            d.code = Some(hr);
            d.symbol = e.symbol.clone();
            return d;
        }
        (0x8019_0197, Some(p)) if !recovered => {
            d.title = format!(
                "{hr} HTTP 407: proxy {p} demands authentication the BITS jobs on {where_} do not give"
            );
            d.cause = format!(
                "The proxy {p} answered 407 Proxy Authentication Required. Jobs owned by \
                 services (Windows Update runs as LocalSystem) cannot pass a user's credentials, \
                 so they fail until the proxy lets them through."
            );
            d.fix = vec![
                format!("On {p}: allow the update servers ({auth}) without authentication, or allow the computer accounts"),
                "Or bypass the proxy for an intranet update server: `netsh winhttp set proxy PROXY:PORT \"<local>;SERVER\"`".into(),
                "If a user job must authenticate: `bitsadmin /setcredentials JOB PROXY NEGOTIATE USER PASSWORD`".into(),
                "bitsadmin /resume JOB".into(),
            ];
            d.next_check = format!(
                "`curl.exe -I --proxy http://{p} --proxy-negotiate -U : \"{sample_url}\"` from \
                 an affected host as SYSTEM: a 200 shows the proxy accepts the machine's \
                 credentials; a 407 without `-U :` confirms it wants authentication"
            );
            d.code = Some(hr);
            d.symbol = e.symbol.clone();
            return d;
        }
        _ => {}
    }
    d.with_code(kb, hr)
}

/// `a, b, c` or `a, b, c and N more`.
fn capped_list(items: &BTreeSet<String>) -> String {
    let mut s = items.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 3 {
        s.push_str(&format!(" and {} more", items.len() - 3));
    }
    s
}

fn add_job_failures(d: &mut Diagnosis, j: &Job, hr: HResult) {
    d.hosts.insert(j.host.clone());
    d.jobs.insert(j.key());
    for f in j.failures.iter().filter(|f| f.hr == hr) {
        d.seen(f.time, &f.evidence);
        if let Some(p) = &f.proxy {
            d.proxies.insert(p.to_string());
        }
    }
}

/// Does the failure `hr` persist in this job? Non-transient codes always do unless the job
/// succeeded afterwards; transient ones only when the job never succeeded after them and it
/// is not still in the middle of retrying a few times.
fn persists(job: &Job, hr: HResult, kb: &Knowledge) -> bool {
    let last_fail = job
        .failures
        .iter()
        .filter(|f| f.hr == hr)
        .map(|f| f.time)
        .max();
    let recovered_later = matches!((job.last_success, last_fail), (Some(s), Some(f)) if s >= f);
    if recovered_later || job.outcome == Outcome::Recovered || job.outcome == Outcome::Succeeded {
        return false;
    }
    if kb.explain(hr).transient != Transient::Yes {
        return true;
    }
    let count = job.errors.get(&hr).copied().unwrap_or(0);
    count >= PERSIST_THRESHOLD || job.outcome != Outcome::InProgress
}

/// Severity, then number of hosts, then jobs, then occurrences; ties broken by title. A
/// diagnosis explained by another is placed right after it, whatever its own rank.
fn rank(out: &mut Vec<Diagnosis>) {
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.hosts.len().cmp(&a.hosts.len()))
            .then(b.jobs.len().cmp(&a.jobs.len()))
            .then(b.occurrences.cmp(&a.occurrences))
            .then(a.rule.cmp(b.rule))
            .then(a.title.cmp(&b.title))
    });
    let present: BTreeSet<usize> = out.iter().map(|d| d.tag).collect();
    let all = std::mem::take(out);
    let (children, tops): (Vec<Diagnosis>, Vec<Diagnosis>) = all
        .into_iter()
        .partition(|d| d.under.is_some_and(|u| present.contains(&u)));
    let mut children: Vec<Option<Diagnosis>> = children.into_iter().map(Some).collect();
    for d in tops {
        let tag = d.tag;
        out.push(d);
        for c in children.iter_mut() {
            if c.as_ref().is_some_and(|c| c.under == Some(tag)) {
                out.extend(c.take());
            }
        }
    }
    let mut ids: BTreeMap<usize, String> = BTreeMap::new();
    for (i, d) in out.iter_mut().enumerate() {
        d.id = format!("D{}", i + 1);
        ids.insert(d.tag, d.id.clone());
        d.evidence.sort();
        d.evidence.dedup();
        d.evidence.truncate(EVIDENCE_CAP);
    }
    let titles: BTreeMap<usize, String> = out.iter().map(|d| (d.tag, d.title.clone())).collect();
    for i in 0..out.len() {
        let Some(u) = out[i].under else { continue };
        let parent_id = ids[&u].clone();
        let child_id = out[i].id.clone();
        let d = &mut out[i];
        d.proof = format!("{}; explained by {parent_id} ({})", d.proof, titles[&u]);
        d.explained_by = Some(parent_id.clone());
        if let Some(p) = out.iter_mut().find(|p| p.id == parent_id) {
            p.explains.push(child_id);
        }
    }
    for d in out.iter_mut() {
        d.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_normalises_urls() {
        assert_eq!(
            authority("http://WSUS01:8530/Content/AB/x.cab"),
            "http://wsus01:8530"
        );
        assert_eq!(
            authority("https://download.windowsupdate.com/a"),
            "https://download.windowsupdate.com:443"
        );
        assert_eq!(authority("http://user@host/x"), "http://host:80");
        assert_eq!(authority("\\\\fs01\\share\\f.bin"), "\\\\fs01");
        assert_eq!(authority("C:\\Windows\\system32\\cmd.exe"), "local file");
    }

    proptest::proptest! {
        /// Capping while counting keeps what `rank` keeps of every record: the smallest
        /// `EVIDENCE_CAP`, distinct, in order; the count and the times still cover them all.
        #[test]
        fn seen_keeps_the_records_rank_would(
            seen in proptest::collection::vec((0u8..3, 0u64..60, 0i64..1000), 0..120)
        ) {
            let mut d = Diagnosis::new("r", Category::Failure, Severity::Error, Scope::Job);
            let mut all = Vec::new();
            for (path, record, secs) in &seen {
                let ev = Evidence {
                    path: format!("host{path}/System.evtx").into(),
                    at: crate::model::Locator::Record(*record),
                };
                let t = When::Utc(jiff::Timestamp::from_second(*secs).unwrap());
                d.seen(t, &ev);
                all.push(ev);
            }
            all.sort();
            all.dedup();
            all.truncate(EVIDENCE_CAP);
            proptest::prop_assert_eq!(&d.evidence, &all);
            proptest::prop_assert_eq!(d.occurrences as usize, seen.len());
            let secs = seen.iter().map(|s| s.2);
            let t = |s: Option<i64>| {
                s.map_or(When::Unknown, |s| When::Utc(jiff::Timestamp::from_second(s).unwrap()))
            };
            proptest::prop_assert_eq!(d.first_seen, t(secs.clone().min()));
            proptest::prop_assert_eq!(d.last_seen, t(secs.max()));
        }
    }

    #[test]
    fn a_group_of_rules_that_panics_loses_only_its_own_findings() {
        let cfg = crate::app::Config {
            paths: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")],
            ..Default::default()
        };
        let report = crate::app::analyze(&cfg, Knowledge::shared()).unwrap();
        let d = report.diagnoses[0].clone();
        let mut out = Vec::new();
        assert_eq!(guarded(&|o| o.push(d.clone()), &mut out), Ok(()));
        let why = guarded(
            &|o| {
                o.push(d.clone());
                panic!("a rule's bug");
            },
            &mut out,
        );
        assert_eq!(why, Err("a rule's bug".to_string()));
        assert_eq!(out, [d]);
    }

    #[test]
    fn severities_order() {
        assert!(Severity::Critical > Severity::Error);
        assert_eq!(Severity::parse("Warning"), Some(Severity::Warning));
        assert_eq!(Severity::parse("bogus"), None);
    }
}
