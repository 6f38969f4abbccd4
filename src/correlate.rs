//! Observations -> job timelines, host summaries and update histories.
//!
//! A job is identified by (host, job GUID). Old-schema events without a GUID (Bits-Client 3 v0,
//! 206/207/210, 204) are joined to a job of the same title on the same host.

use crate::model::{ConfigSource, Evidence, Fact, Guid, HResult, Observation, UpdateStage, When};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How a job ended, as far as the inputs show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    /// Errors first, then success.
    Recovered,
    /// Errors and no later success.
    Failing,
    Cancelled,
    InProgress,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Recovered => "recovered",
            Outcome::Failing => "failing",
            Outcome::Cancelled => "cancelled",
            Outcome::InProgress => "in_progress",
        }
    }
}

/// One failure of one job: what the diagnosis rules group on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub time: When,
    pub hr: HResult,
    pub url: String,
    pub proxy: Option<String>,
    pub context: Option<u32>,
    pub event_id: u32,
    pub evidence: Evidence,
}

/// A BITS job's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub host: String,
    /// The job GUID; jobs seen only through old-schema events have none.
    pub id: Option<Guid>,
    pub name: String,
    pub owner: String,
    pub outcome: Outcome,
    /// Failure count per code.
    pub errors: BTreeMap<HResult, u32>,
    pub urls: BTreeSet<String>,
    pub proxies: BTreeSet<String>,
    pub first_seen: When,
    pub last_seen: When,
    /// Snapshot state from bitsadmin / PowerShell listings, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The program that created the job (event 3 `processPath`, v2 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// The program BITS runs when the job finishes (listing or event 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// Files with their local names (event 16403, job listings).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub files: BTreeSet<JobFile>,
    /// The job's no-progress timeout in seconds, where a listing shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_progress_timeout: Option<u64>,
    /// Whether an event 3 (job created) was seen.
    #[serde(skip)]
    pub created: bool,
    #[serde(skip)]
    pub failures: Vec<Failure>,
    /// Time of the last success (event 4, event 60 with S_OK, TRANSFERRED state).
    #[serde(skip)]
    pub last_success: Option<When>,
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
}

/// One file of a job: where it comes from and where it is saved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct JobFile {
    pub remote: String,
    pub local: String,
    /// Named by a Bits-Client 16403 event (rather than a listing).
    #[serde(skip)]
    pub from_16403: bool,
}

impl Job {
    /// A stable key for sorting and for diagnosis job lists: `HOST/{GUID}` or `HOST/"title"`.
    pub fn key(&self) -> String {
        match &self.id {
            Some(g) => format!("{}/{}", self.host, g),
            None => format!("{}/\"{}\"", self.host, self.name),
        }
    }
}

/// An update as WindowsUpdateClient events and WindowsUpdate.log show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    pub host: String,
    pub title: String,
    pub kb: Option<String>,
    pub guid: Option<String>,
    pub revision: Option<u32>,
    pub outcome: UpdateStage,
    pub errors: BTreeMap<HResult, u32>,
    pub jobs: BTreeSet<Guid>,
    pub first_seen: When,
    pub last_seen: When,
    /// Filled by the diagnosis stage.
    pub diagnoses: Vec<String>,
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
}

/// What happened to the BITS service on one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceHistory {
    pub states: Vec<(When, String)>,
    pub start_type_changes: Vec<(When, String, String)>,
    pub start_failures: Vec<StartFailure>,
    pub crashes: Vec<(When, Option<u32>, Evidence)>,
    pub warnings: Vec<ServiceEvent>,
}

/// The service failed to start (SCM 7000/7001/7009/7011/7022/7023/7024, `sc` FAILED lines).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartFailure {
    pub time: When,
    pub event: u32,
    pub error: Option<HResult>,
    pub dependency: Option<String>,
    pub evidence: Evidence,
}

/// A Bits-Client event about the service itself (302, 307, 308, 310, 16392, 16404 ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEvent {
    pub time: When,
    pub event: u32,
    pub hr: Option<HResult>,
    pub seconds: Option<f64>,
    pub evidence: Evidence,
}

/// A job, file or range limit event (16397/16398/16400/16401/16402).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitEvent {
    pub event: u32,
    pub entity: String,
    pub current: Option<u64>,
    pub limit: Option<u64>,
    pub evidence: Evidence,
}

/// Everything known about one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Host {
    pub name: String,
    pub service: ServiceHistory,
    /// Service configuration values (sc / reg / events), reconciled across captures by
    /// [`reconcile_config`]: one value per name, from the capture with the authority for it.
    pub config: BTreeMap<String, (String, Evidence)>,
    /// Values where captures of this host disagree with the one kept in `config`.
    pub config_conflicts: Vec<ConfigConflict>,
    /// Every configuration value seen, with its source, before reconciliation.
    #[serde(skip)]
    pub config_seen: BTreeMap<String, Vec<(String, Evidence, ConfigSource)>>,
    /// Signs of the host's Windows version: (build, Windows 10 or later, what, evidence).
    pub version_signs: Vec<VersionSign>,
    /// BITS Group Policy values.
    pub policy: BTreeMap<String, (String, Evidence)>,
    pub winhttp_proxy: Option<(bool, Option<String>, Option<String>)>,
    pub logs_cleared: Vec<(When, String, String, Evidence)>,
    pub limits: Vec<LimitEvent>,
    /// Credentials rejected: (server, scheme, user, job title, evidence)
    pub credentials_rejected: Vec<(String, String, String, String, Evidence)>,
    /// HTTP feature problems: (feature, hr, url, proxy, job title, http version, range, evidence)
    pub http_features: Vec<HttpFeature>,
    /// Proxy failures (event 201).
    pub proxy_failures: Vec<ProxyFailure>,
    /// The service's state as last seen: a console capture (`sc query`, taken when the bundle
    /// was made) wins over events, else the latest event.
    pub current_state: Option<CurrentState>,
}

/// The BITS service's state as last seen on a host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrentState {
    /// `RUNNING`, `STOPPED`, `STOP_PENDING` ... (as the source spells it; events may be
    /// localized).
    pub state: String,
    /// 1 stopped, 2 start pending, 3 stop pending, 4 running ... where the source has it.
    pub code: Option<u32>,
    pub time: When,
    pub evidence: Evidence,
}

/// Two captures of one host that disagree on a configuration value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigConflict {
    pub name: String,
    /// The value kept (from the capture with the authority for it) and where it came from.
    pub kept: (String, ConfigSource, Evidence),
    /// The other values seen.
    pub others: Vec<(String, ConfigSource, Evidence)>,
}

/// A sign of a host's Windows version (see `Fact::VersionSign`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionSign {
    pub build: Option<u32>,
    pub windows10_or_later: Option<bool>,
    pub what: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpFeature {
    pub time: When,
    pub feature: String,
    pub hr: HResult,
    pub url: String,
    pub proxy: Option<String>,
    pub job: Option<Guid>,
    pub title: String,
    pub http_version: Option<String>,
    pub url_range: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxyFailure {
    pub time: When,
    pub job: Option<Guid>,
    pub title: String,
    pub url: String,
    pub proxy_list: String,
    pub bypass_list: String,
    pub hr: HResult,
    pub evidence: Evidence,
}

/// The correlated view of all inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    pub hosts: BTreeMap<String, Host>,
    pub jobs: Vec<Job>,
    pub updates: Vec<Update>,
}

/// What a timeline step means for the outcome.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Error,
    Success,
    Cancel,
    Other,
}

/// Group observations into hosts, jobs and updates. Job timelines are put in time order here;
/// lists kept per host stay in input order (inputs in path order, records in file order), so
/// the same inputs give the same result without sorting every observation. Everything here is
/// per host, so hosts are correlated in parallel.
pub fn correlate(observations: &[Observation]) -> Fleet {
    let mut by_host: HashMap<&str, Vec<&Observation>> = HashMap::new();
    for o in observations {
        by_host.entry(o.host.as_str()).or_default().push(o);
    }
    let mut hosts: Vec<(&str, Vec<&Observation>)> = by_host.into_iter().collect();
    hosts.sort_by_key(|(h, _)| *h);
    let parts: Vec<(Host, Vec<Job>, Vec<Update>)> = hosts
        .into_par_iter()
        .map(|(name, obs)| correlate_host(name, &obs))
        .collect();
    let mut fleet = Fleet::default();
    for (host, jobs, updates) in parts {
        fleet.jobs.extend(jobs);
        fleet.updates.extend(updates);
        fleet.hosts.insert(host.name.clone(), host);
    }
    // Per-host lists are sorted; job keys (`HOST/...`) can order hosts differently.
    fleet.jobs.sort_by_key(|j| j.key());
    fleet
}

/// How much a capture kind is trusted for a configuration value (lower wins): `sc qc` (and the
/// other `sc q*` commands) say what the Service Control Manager uses, a registry capture what
/// is stored, an event what was set at some time. `sc query` holds no configuration: its TYPE
/// is the process the service runs in now (30 where svchost services run split), kept out.
fn authority(name: &str, from: ConfigSource) -> Option<u8> {
    Some(match from {
        ConfigSource::ScQc | ConfigSource::Sc => 0,
        ConfigSource::Registry => 1,
        ConfigSource::EventLog => 2,
        ConfigSource::ScQuery if name == "Type" => return None,
        ConfigSource::ScQuery => 0,
    })
}

/// Do two captures say the same thing? Paths compare with `%SystemRoot%` expanded and case
/// folded, lists as sets, everything else case-insensitively.
fn same_config_value(name: &str, a: &str, b: &str) -> bool {
    fn path(v: &str) -> String {
        let v = v.trim().trim_matches('"').to_ascii_lowercase();
        let v = v
            .replace("%systemroot%", "c:\\windows")
            .replace("%windir%", "c:\\windows");
        v.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    fn set(v: &str) -> BTreeSet<String> {
        v.split(['/', ';', ','])
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    }
    // The registry holds indirect strings (`@%SystemRoot%\\system32\\qmgr.dll,-1000`) that
    // `sc` shows resolved: not comparable.
    if a.trim_start().starts_with('@') || b.trim_start().starts_with('@') {
        return true;
    }
    match name {
        "ImagePath" | "ServiceDll" => path(a) == path(b),
        "DependOnService" | "RequiredPrivileges" => set(a) == set(b),
        _ => a.trim().eq_ignore_ascii_case(b.trim()),
    }
}

/// One value per configuration name from everything the captures of this host say: the value
/// of the most authoritative capture (the first of those, in input order); every value that
/// disagrees with it is kept as a conflict for the report.
pub fn reconcile_config(host: &mut Host) {
    for (name, seen) in std::mem::take(&mut host.config_seen) {
        let mut ranked: Vec<(u8, usize, &(String, Evidence, ConfigSource))> = seen
            .iter()
            .enumerate()
            .filter_map(|(i, v)| authority(&name, v.2).map(|r| (r, i, v)))
            .collect();
        ranked.sort_by_key(|(r, i, _)| (*r, *i));
        let Some((_, _, kept)) = ranked.first().copied() else {
            continue;
        };
        let mut others: Vec<(String, ConfigSource, Evidence)> = Vec::new();
        for (_, _, v) in &ranked[1..] {
            if !same_config_value(&name, &kept.0, &v.0)
                && !others.iter().any(|o| same_config_value(&name, &o.0, &v.0))
            {
                others.push((v.0.clone(), v.2, v.1.clone()));
            }
        }
        if !others.is_empty() {
            host.config_conflicts.push(ConfigConflict {
                name: name.clone(),
                kept: (kept.0.clone(), kept.2, kept.1.clone()),
                others,
            });
        }
        host.config.insert(name, (kept.0.clone(), kept.1.clone()));
    }
}

/// One host's share of the fleet: its facts, its jobs and its updates, each list sorted.
fn correlate_host(name: &str, observations: &[&Observation]) -> (Host, Vec<Job>, Vec<Update>) {
    let mut host = Host {
        name: name.to_string(),
        ..Host::default()
    };
    let title_to_guid = guids_by_title(observations);
    let mut jobs: HashMap<JobRef, JobBuilder> = HashMap::new();
    let mut updates: HashMap<(String, String), Update> = HashMap::new();
    for obs in observations {
        host_fact(&mut host, obs);
        if let Fact::Update { .. } = &obs.fact {
            update_fact(&mut updates, obs);
            continue;
        }
        let Some(job_ref) = job_ref(obs, &title_to_guid) else {
            continue;
        };
        let b = jobs
            .entry(job_ref.clone())
            .or_insert_with(|| JobBuilder::new(&obs.host, &job_ref));
        b.add(obs);
    }
    reconcile_config(&mut host);
    let mut jobs: Vec<Job> = jobs.into_values().map(JobBuilder::finish).collect();
    jobs.sort_by_key(|j| j.key());
    let mut updates: Vec<Update> = updates.into_values().collect();
    updates.sort_by(|a, b| (&a.host, &a.title, &a.guid).cmp(&(&b.host, &b.title, &b.guid)));
    (host, jobs, updates)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum JobRef {
    Id(Guid),
    Title(String),
}

/// For events without a GUID: the GUIDs seen per (host, title), each at its earliest time, in
/// time order.
fn guids_by_title(obs: &[&Observation]) -> HashMap<(String, String), Vec<(When, Guid)>> {
    let mut first: HashMap<(&str, &str, &Guid), When> = HashMap::new();
    for o in obs.iter().copied() {
        let (Some(g), Some(t)) = (o.fact.job(), title_of(&o.fact)) else {
            continue;
        };
        if t.is_empty() {
            continue;
        }
        let at = first.entry((o.host.as_str(), t, g)).or_insert(o.time);
        if o.time < *at {
            *at = o.time;
        }
    }
    let mut map: HashMap<(String, String), Vec<(When, Guid)>> = HashMap::new();
    for ((host, title, guid), time) in first {
        map.entry((host.to_string(), title.to_string()))
            .or_default()
            .push((time, guid.clone()));
    }
    for list in map.values_mut() {
        list.sort();
    }
    map
}

fn title_of(f: &Fact) -> Option<&str> {
    Some(match f {
        Fact::JobCreated { title, .. }
        | Fact::TransferStarted { title, .. }
        | Fact::FileQueued { title, .. }
        | Fact::TransferStopped { title, .. }
        | Fact::TransferError { title, .. }
        | Fact::JobCompleted { title, .. }
        | Fact::JobCancelled { title, .. }
        | Fact::ProxyFailure { title, .. }
        | Fact::HttpFeatureMissing { title, .. } => title,
        Fact::CredentialsRejected { job_title, .. } => job_title,
        Fact::JobSnapshot(s) => &s.display_name,
        _ => return None,
    })
}

fn job_ref(
    obs: &Observation,
    by_title: &HashMap<(String, String), Vec<(When, Guid)>>,
) -> Option<JobRef> {
    match &obs.fact {
        Fact::JobCreated { .. }
        | Fact::TransferStarted { .. }
        | Fact::FileQueued { .. }
        | Fact::NotifyCommand { .. }
        | Fact::TransferStopped { .. }
        | Fact::TransferError { .. }
        | Fact::JobCompleted { .. }
        | Fact::JobCancelled { .. }
        | Fact::JobSnapshot(_)
        | Fact::HttpFeatureMissing { .. }
        | Fact::ProxyFailure { .. } => {}
        _ => return None,
    }
    if let Some(g) = obs.fact.job() {
        return Some(JobRef::Id(g.clone()));
    }
    let title = title_of(&obs.fact)?;
    if title.is_empty() {
        return None;
    }
    // The GUID of the first job with this title seen at or after this event (creation comes
    // before the transfer events that carry the GUID), else the latest one before it.
    let cands = by_title.get(&(obs.host.clone(), title.to_string()));
    let guid = cands.and_then(|c| {
        let i = c.partition_point(|(t, _)| *t < obs.time);
        c.get(i).or_else(|| c.last()).map(|(_, g)| g.clone())
    });
    Some(match guid {
        Some(g) => JobRef::Id(g),
        None => JobRef::Title(title.to_string()),
    })
}

struct JobBuilder {
    job: Job,
    steps: Vec<(When, Step)>,
    snapshot_state: Option<String>,
}

impl JobBuilder {
    fn new(host: &str, r: &JobRef) -> Self {
        let (id, name) = match r {
            JobRef::Id(g) => (Some(g.clone()), String::new()),
            JobRef::Title(t) => (None, t.clone()),
        };
        JobBuilder {
            job: Job {
                host: host.to_string(),
                id,
                name,
                owner: String::new(),
                outcome: Outcome::InProgress,
                errors: BTreeMap::new(),
                urls: BTreeSet::new(),
                proxies: BTreeSet::new(),
                first_seen: When::Unknown,
                last_seen: When::Unknown,
                state: None,
                process: None,
                notify: None,
                files: BTreeSet::new(),
                no_progress_timeout: None,
                created: false,
                failures: Vec::new(),
                last_success: None,
                evidence: Vec::new(),
            },
            steps: Vec::new(),
            snapshot_state: None,
        }
    }

    fn add(&mut self, obs: &Observation) {
        let j = &mut self.job;
        When::widen(&mut j.first_seen, &mut j.last_seen, obs.time);
        j.evidence.push(obs.evidence.clone());
        if let Some(t) = title_of(&obs.fact) {
            if j.name.is_empty() && !t.is_empty() {
                j.name = t.to_string();
            }
        }
        let fail = |j: &mut Job, hr: HResult, url: &str, proxy: &Option<String>, ctx| {
            *j.errors.entry(hr).or_default() += 1;
            j.failures.push(Failure {
                time: obs.time,
                hr,
                url: url.to_string(),
                proxy: proxy.clone().filter(|p| !p.is_empty()),
                context: ctx,
                event_id: obs.event_id,
                evidence: obs.evidence.clone(),
            });
        };
        let step = match &obs.fact {
            Fact::JobCreated { owner, process, .. } => {
                set_owner(j, owner);
                j.created = true;
                if let Some(p) = process.as_ref().filter(|p| !p.is_empty()) {
                    j.process = Some(p.clone());
                }
                Step::Other
            }
            Fact::TransferStarted { url, .. } => {
                add_url(j, url);
                Step::Other
            }
            Fact::FileQueued { remote, local, .. } => {
                add_url(j, remote);
                j.files.insert(JobFile {
                    remote: remote.clone(),
                    local: local.clone(),
                    from_16403: true,
                });
                Step::Other
            }
            Fact::NotifyCommand {
                program,
                parameters,
                ..
            } => {
                let cmd = format!("{program} {parameters}");
                if !cmd.trim().is_empty() {
                    j.notify = Some(cmd.trim().to_string());
                }
                Step::Other
            }
            Fact::TransferStopped { url, hr, proxy, .. } => {
                add_url(j, url);
                add_proxy(j, proxy);
                if hr.is_failure() {
                    fail(j, *hr, url, proxy, None);
                    Step::Error
                } else if *hr == HResult::S_OK {
                    Step::Success
                } else {
                    // A success code other than S_OK (e.g. 0x00040008, partial download):
                    // the transfer stopped without finishing.
                    Step::Other
                }
            }
            Fact::TransferError {
                url,
                hr,
                proxy,
                context,
                ..
            } => {
                add_url(j, url);
                add_proxy(j, proxy);
                fail(j, *hr, url, proxy, *context);
                Step::Error
            }
            Fact::ProxyFailure { url, hr, .. } => {
                add_url(j, url);
                if hr.is_failure() {
                    fail(j, *hr, url, &None, None);
                }
                Step::Error
            }
            Fact::HttpFeatureMissing { url, hr, proxy, .. } => {
                add_url(j, url);
                if hr.is_failure() {
                    add_proxy(j, proxy);
                    fail(j, *hr, url, proxy, None);
                    Step::Error
                } else {
                    Step::Other
                }
            }
            Fact::JobCompleted { owner, .. } => {
                set_owner(j, owner);
                Step::Success
            }
            Fact::JobCancelled { owner, .. } => {
                set_owner(j, owner);
                Step::Cancel
            }
            Fact::JobSnapshot(s) => {
                if let Some(o) = &s.owner {
                    set_owner(j, o);
                }
                for (remote, local) in &s.files {
                    add_url(j, remote);
                    if !local.is_empty() {
                        j.files.insert(JobFile {
                            remote: remote.clone(),
                            local: local.clone(),
                            from_16403: false,
                        });
                    }
                }
                if let Some(c) = s.notify_command.as_ref().filter(|c| !c.trim().is_empty()) {
                    j.notify = Some(c.clone());
                }
                if s.no_progress_timeout.is_some() {
                    j.no_progress_timeout = s.no_progress_timeout;
                }
                if let Some(p) = &s.proxy_list {
                    add_proxy(j, &Some(p.clone()));
                }
                self.snapshot_state = s.state.clone();
                match s.state.as_deref() {
                    Some("TRANSFERRED") | Some("ACKNOWLEDGED") => Step::Success,
                    Some("CANCELLED") | Some("CANCELED") => Step::Cancel,
                    Some("ERROR") | Some("TRANSIENT_ERROR") => Step::Error,
                    _ => Step::Other,
                }
            }
            _ => Step::Other,
        };
        self.steps.push((obs.time, step));
        if step == Step::Success {
            let t = Some(obs.time);
            if j.last_success < t {
                j.last_success = t;
            }
        }
    }

    fn finish(mut self) -> Job {
        self.steps.sort_by_key(|(t, _)| *t);
        let any_error =
            !self.job.failures.is_empty() || self.steps.iter().any(|(_, s)| *s == Step::Error);
        let last_decisive = self
            .steps
            .iter()
            .rev()
            .find(|(_, s)| *s != Step::Other)
            .map(|(_, s)| *s);
        let cancelled = self.steps.iter().any(|(_, s)| *s == Step::Cancel);
        self.job.outcome = match last_decisive {
            _ if cancelled && last_decisive != Some(Step::Success) => Outcome::Cancelled,
            Some(Step::Success) if any_error => Outcome::Recovered,
            Some(Step::Success) => Outcome::Succeeded,
            Some(Step::Error) => Outcome::Failing,
            _ => Outcome::InProgress,
        };
        self.job.state = self.snapshot_state;
        self.job
            .failures
            .sort_by(|a, b| (a.time, &a.evidence).cmp(&(b.time, &b.evidence)));
        dedupe_failures(&mut self.job.failures);
        self.job.errors.clear();
        for f in &self.job.failures {
            *self.job.errors.entry(f.hr).or_default() += 1;
        }
        self.job.evidence.sort();
        self.job.evidence.dedup();
        self.job
    }
}

/// How far apart a 202 and the 61 of the same failed transfer can be logged.
const SAME_ATTEMPT_SECONDS: i64 = 120;

/// One failed attempt is one failure, however many records describe it: a 202 (HTTP feature
/// missing) is followed by the 61 of the same transfer, and a bitsadmin / PowerShell listing or
/// a WindowsUpdate.log line repeats an error the event log already holds.
fn dedupe_failures(failures: &mut Vec<Failure>) {
    let from_log = |f: &Failure| matches!(f.evidence.at, crate::model::Locator::Record(_));
    let logged: Vec<(HResult, When)> = failures
        .iter()
        .filter(|f| from_log(f) && f.event_id == 61)
        .map(|f| (f.hr, f.time))
        .collect();
    let log_codes: BTreeSet<HResult> = failures
        .iter()
        .filter(|f| from_log(f))
        .map(|f| f.hr)
        .collect();
    let near = |a: When, b: When| match (a.instant(), b.instant()) {
        (Some(a), Some(b)) => (a.as_second() - b.as_second()).abs() <= SAME_ATTEMPT_SECONDS,
        _ => false,
    };
    failures.retain(|f| {
        if !from_log(f) {
            return !log_codes.contains(&f.hr);
        }
        if f.event_id == 202 {
            return !logged.iter().any(|(hr, t)| *hr == f.hr && near(*t, f.time));
        }
        true
    });
}

fn set_owner(j: &mut Job, owner: &str) {
    if j.owner.is_empty() && !owner.is_empty() {
        j.owner = owner.to_string();
    }
}

fn add_url(j: &mut Job, url: &str) {
    if !url.is_empty() {
        j.urls.insert(url.to_string());
    }
}

fn add_proxy(j: &mut Job, proxy: &Option<String>) {
    if let Some(p) = proxy {
        if !p.is_empty() {
            j.proxies.insert(p.clone());
        }
    }
}

fn host_fact(host: &mut Host, obs: &Observation) {
    let ev = || obs.evidence.clone();
    let s = &mut host.service;
    match &obs.fact {
        Fact::ServiceState {
            state, state_code, ..
        } => {
            s.states.push((obs.time, state.clone()));
            // A capture without a time was taken when the bundle was made: it is the latest.
            let newer = match &host.current_state {
                None => true,
                Some(c) => {
                    obs.time == When::Unknown || (c.time != When::Unknown && obs.time >= c.time)
                }
            };
            if newer {
                host.current_state = Some(CurrentState {
                    state: state.clone(),
                    code: *state_code,
                    time: obs.time,
                    evidence: ev(),
                });
            }
        }
        Fact::ServiceStartType { from, to, .. } => {
            s.start_type_changes
                .push((obs.time, from.clone(), to.clone()))
        }
        Fact::ServiceStartFailure {
            event,
            error,
            dependency,
            ..
        } => s.start_failures.push(StartFailure {
            time: obs.time,
            event: *event,
            error: *error,
            dependency: dependency.clone(),
            evidence: ev(),
        }),
        Fact::ServiceCrash { count, .. } => s.crashes.push((obs.time, *count, ev())),
        Fact::ServiceWarning { event, hr, seconds } => s.warnings.push(ServiceEvent {
            time: obs.time,
            event: *event,
            hr: *hr,
            seconds: *seconds,
            evidence: ev(),
        }),
        Fact::ServiceInstalled {
            image_path,
            account,
            ..
        } => {
            let seen = &mut host.config_seen;
            for (name, value) in [("ImagePath", image_path), ("ObjectName", account)] {
                seen.entry(name.into()).or_default().push((
                    value.clone(),
                    ev(),
                    ConfigSource::EventLog,
                ));
            }
        }
        Fact::ServiceConfig { name, value, from } => {
            host.config_seen
                .entry(name.clone())
                .or_default()
                .push((value.clone(), ev(), *from));
        }
        Fact::VersionSign {
            build,
            windows10_or_later,
            what,
        } => host.version_signs.push(VersionSign {
            build: *build,
            windows10_or_later: *windows10_or_later,
            what: what.clone(),
            evidence: ev(),
        }),
        Fact::Policy { name, value } => {
            host.policy.insert(name.clone(), (value.clone(), ev()));
        }
        Fact::WinHttpProxy {
            direct,
            proxy,
            bypass,
        } => host.winhttp_proxy = Some((*direct, proxy.clone(), bypass.clone())),
        Fact::LogCleared { channel, user } => {
            host.logs_cleared
                .push((obs.time, channel.clone(), user.clone(), ev()))
        }
        Fact::LimitReached {
            event,
            entity,
            current,
            limit,
        } => host.limits.push(LimitEvent {
            event: *event,
            entity: entity.clone(),
            current: *current,
            limit: *limit,
            evidence: ev(),
        }),
        Fact::CredentialsRejected {
            job_title,
            server,
            scheme,
            user,
            ..
        } => host.credentials_rejected.push((
            server.clone(),
            scheme.clone(),
            user.clone(),
            job_title.clone(),
            ev(),
        )),
        Fact::HttpFeatureMissing {
            job,
            title,
            url,
            proxy,
            hr,
            feature,
            http_version,
            url_range,
        } => host.http_features.push(HttpFeature {
            time: obs.time,
            feature: feature.clone(),
            hr: *hr,
            url: url.clone(),
            proxy: proxy.clone(),
            job: job.clone(),
            title: title.clone(),
            http_version: http_version.clone(),
            url_range: url_range.clone(),
            evidence: ev(),
        }),
        Fact::ProxyFailure {
            job,
            title,
            url,
            proxy_list,
            bypass_list,
            hr,
        } => host.proxy_failures.push(ProxyFailure {
            time: obs.time,
            job: job.clone(),
            title: title.clone(),
            url: url.clone(),
            proxy_list: proxy_list.clone(),
            bypass_list: bypass_list.clone(),
            hr: *hr,
            evidence: ev(),
        }),
        _ => {}
    }
}

/// `KB5034441` from an update title, if it names one.
pub fn kb_of(title: &str) -> Option<String> {
    let i = title.find("KB")?;
    let digits: String = title[i + 2..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (digits.len() >= 6).then(|| format!("KB{digits}"))
}

fn update_fact(updates: &mut HashMap<(String, String), Update>, obs: &Observation) {
    let Fact::Update {
        stage,
        title,
        guid,
        revision,
        hr,
        job,
    } = &obs.fact
    else {
        return;
    };
    let key = guid.clone().unwrap_or_else(|| title.clone());
    let u = updates
        .entry((obs.host.clone(), key))
        .or_insert_with(|| Update {
            host: obs.host.clone(),
            title: String::new(),
            kb: None,
            guid: guid.clone(),
            revision: *revision,
            outcome: *stage,
            errors: BTreeMap::new(),
            jobs: BTreeSet::new(),
            first_seen: obs.time,
            last_seen: obs.time,
            diagnoses: Vec::new(),
            evidence: Vec::new(),
        });
    if u.title.is_empty() && !title.is_empty() {
        u.title = title.clone();
        u.kb = kb_of(title);
    }
    if obs.time >= u.last_seen {
        u.last_seen = obs.time;
        u.outcome = *stage;
    }
    if obs.time < u.first_seen {
        u.first_seen = obs.time;
    }
    if let Some(h) = hr.filter(|h| h.is_failure()) {
        *u.errors.entry(h).or_default() += 1;
    }
    if let Some(j) = job {
        u.jobs.insert(j.clone());
    }
    u.evidence.push(obs.evidence.clone());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Locator;

    fn obs(host: &str, secs: i64, rec: u64, fact: Fact) -> Observation {
        Observation {
            host: host.into(),
            time: When::Utc(jiff::Timestamp::from_second(1_600_000_000 + secs).unwrap()),
            evidence: Evidence {
                path: "t.evtx".into(),
                at: Locator::Record(rec),
            },
            event_id: 0,
            fact,
        }
    }
    fn g(n: u8) -> Option<Guid> {
        Guid::parse(&format!("{n:08X}-0000-0000-0000-000000000000"))
    }
    fn err(job: u8, hr: u32) -> Fact {
        Fact::TransferError {
            job: g(job),
            title: "j".into(),
            url: "http://s/f".into(),
            hr: HResult(hr),
            proxy: None,
            context: None,
        }
    }
    fn done(job: u8) -> Fact {
        Fact::JobCompleted {
            job: g(job),
            title: "j".into(),
            owner: "o".into(),
            file_count: Some(1),
        }
    }

    #[test]
    fn outcomes_follow_the_timeline() {
        let f = correlate(&[
            obs("H", 1, 1, err(1, 0x8007_2EE7)),
            obs("H", 2, 2, done(1)),
            obs("H", 1, 3, err(2, 0x8007_2EE7)),
            obs("H", 1, 4, done(3)),
            obs("H", 1, 5, err(4, 0x8020_0013)),
            obs(
                "H",
                2,
                6,
                Fact::JobCancelled {
                    job: g(4),
                    title: "j".into(),
                    owner: "o".into(),
                },
            ),
        ]);
        let outcomes: Vec<_> = f.jobs.iter().map(|j| j.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Recovered,
                Outcome::Failing,
                Outcome::Succeeded,
                Outcome::Cancelled
            ]
        );
        assert_eq!(f.jobs[1].errors[&HResult(0x8007_2EE7)], 1);
    }

    #[test]
    fn event_60_with_failure_hr_is_not_success() {
        let f = correlate(&[obs(
            "H",
            1,
            1,
            Fact::TransferStopped {
                job: g(1),
                title: "j".into(),
                url: "u".into(),
                hr: HResult(0x8004_0009),
                proxy: None,
                bytes_transferred: None,
            },
        )]);
        assert_eq!(f.jobs[0].outcome, Outcome::Failing);
    }

    #[test]
    fn old_schema_creation_joins_by_title() {
        let f = correlate(&[
            obs(
                "H",
                0,
                1,
                Fact::JobCreated {
                    job: None,
                    title: "backdoor".into(),
                    owner: "IEWIN7\\IEUser".into(),
                    process: None,
                },
            ),
            obs(
                "H",
                1,
                2,
                Fact::TransferStarted {
                    job: g(7),
                    title: "backdoor".into(),
                    url: "C:\\Windows\\system32\\cmd.exe".into(),
                    bytes_total: None,
                },
            ),
        ]);
        assert_eq!(f.jobs.len(), 1);
        assert_eq!(f.jobs[0].owner, "IEWIN7\\IEUser");
        assert_eq!(f.jobs[0].id, g(7));
    }

    #[test]
    fn kb_from_title() {
        assert_eq!(
            kb_of("2023-11 Cumulative Update for Windows 11 (KB5032190)").as_deref(),
            Some("KB5032190")
        );
        assert_eq!(kb_of("Definition Update"), None);
    }
}
