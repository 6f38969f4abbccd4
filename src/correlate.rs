//! Observations -> job timelines, host summaries and update histories.
//!
//! A job is identified by (host, job GUID). Old-schema events without a GUID (Bits-Client 3 v0,
//! 206/207/210, 204) are joined to a job of the same title on the same host.

use crate::model::{
    ConfigSource, Evidence, Fact, Guid, HResult, Observation, Shared, UpdateStage, When,
};
use crate::vecset::VecSet;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How a job ended, as far as the inputs show.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    /// Errors first, then success.
    Recovered,
    /// Errors and no later success.
    Failing,
    Cancelled,
    /// Nothing decisive seen yet.
    #[default]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub time: When,
    pub hr: HResult,
    pub url: Shared,
    pub proxy: Option<Shared>,
    pub context: Option<u32>,
    pub event_id: u32,
    pub evidence: Evidence,
}

/// A BITS job's timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Job {
    pub host: Shared,
    /// The job GUID; jobs seen only through old-schema events have none.
    pub id: Option<Guid>,
    pub name: Shared,
    pub owner: Shared,
    pub outcome: Outcome,
    /// Failure count per code.
    pub errors: ErrorCounts,
    pub urls: VecSet<Shared>,
    pub proxies: VecSet<String>,
    pub first_seen: When,
    pub last_seen: When,
    /// The program that created the job (event 3 `processPath`, v2 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<Shared>,
    /// What listings and rarer events tell of the job (see [`JobDetails`]).
    #[serde(flatten)]
    pub details: Option<Box<JobDetails>>,
    /// Whether an event 3 (job created) was seen.
    #[serde(skip)]
    pub created: bool,
    #[serde(skip)]
    pub failures: Vec<Failure>,
    /// Time of the last success (event 4, event 60 with S_OK, TRANSFERRED state).
    #[serde(skip)]
    pub last_success: Option<When>,
    /// The first few records that mention the job (in path and record order).
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
    /// Every input that mentions the job.
    #[serde(skip)]
    pub sources: VecSet<Shared>,
}

/// What job listings and the rarer events tell of a job. Most jobs of a fleet are known from
/// their event log only and have none of it, so a job holds it boxed, when it has any.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobDetails {
    /// Snapshot state from bitsadmin / PowerShell listings, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The program BITS runs when the job finishes (listing or event 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// Files with their local names (event 16403, job listings).
    #[serde(skip_serializing_if = "<[JobFile]>::is_empty")]
    pub files: VecSet<JobFile>,
    /// The job's no-progress timeout in seconds, where a listing shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_progress_timeout: Option<u64>,
}

impl JobDetails {
    /// Boxed, or none when there is nothing to hold.
    pub fn boxed(self) -> Option<Box<JobDetails>> {
        (self != JobDetails::default()).then(|| Box::new(self))
    }
}

/// Failures per code, in code order: what a job keeps of its failures once they are let go.
/// A job has a code or two, where a map would hold a node with room for eleven.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCounts(Box<[(HResult, u32)]>);

impl ErrorCounts {
    /// The counts of these failures.
    pub fn of(failures: &[Failure]) -> ErrorCounts {
        failures.iter().map(|f| (f.hr, 1)).collect()
    }

    pub fn get(&self, hr: &HResult) -> Option<&u32> {
        let i = self.0.binary_search_by(|(c, _)| c.cmp(hr)).ok()?;
        Some(&self.0[i].1)
    }

    pub fn contains_key(&self, hr: &HResult) -> bool {
        self.get(hr).is_some()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&HResult, &u32)> {
        self.0.iter().map(|(c, n)| (c, n))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &HResult> {
        self.0.iter().map(|(c, _)| c)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &u32> {
        self.0.iter().map(|(_, n)| n)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Counts of the same code add up.
impl FromIterator<(HResult, u32)> for ErrorCounts {
    fn from_iter<I: IntoIterator<Item = (HResult, u32)>>(iter: I) -> Self {
        let mut all: Vec<(HResult, u32)> = iter.into_iter().collect();
        all.sort_unstable_by_key(|(hr, _)| *hr);
        let mut counts: Vec<(HResult, u32)> = Vec::with_capacity(all.len());
        for (hr, n) in all {
            match counts.last_mut() {
                Some((last, sum)) if *last == hr => *sum = sum.saturating_add(n),
                _ => counts.push((hr, n)),
            }
        }
        ErrorCounts(counts.into_boxed_slice())
    }
}

/// A map from code to count, as the map it replaces was.
impl Serialize for ErrorCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// One file of a job: where it comes from and where it is saved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobFile {
    pub remote: String,
    pub local: String,
    /// Named by a Bits-Client 16403 event (rather than a listing). Kept in a summary (user
    /// Sigma rules match 16403 fields), written only when set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_16403: bool,
}

impl Job {
    /// Snapshot state from bitsadmin / PowerShell listings, if any.
    pub fn state(&self) -> Option<&str> {
        self.details.as_ref()?.state.as_deref()
    }

    /// The program BITS runs when the job finishes, if known.
    pub fn notify(&self) -> Option<&str> {
        self.details.as_ref()?.notify.as_deref()
    }

    /// The job's files, where known.
    pub fn files(&self) -> &[JobFile] {
        self.details.as_ref().map_or(&[], |d| &d.files[..])
    }

    /// The job's no-progress timeout in seconds, where a listing shows it.
    pub fn no_progress_timeout(&self) -> Option<u64> {
        self.details.as_ref()?.no_progress_timeout
    }

    /// A stable key for sorting and for diagnosis job lists: `HOST/{GUID}` or `HOST/"title"`.
    pub fn key(&self) -> String {
        match &self.id {
            Some(g) => job_key(&self.host, g),
            None => titled_key(&self.host, &self.name),
        }
    }
}

/// `HOST/{GUID}`, the key of a job with an id.
pub fn job_key(host: &str, id: &Guid) -> String {
    key_of(host, &[&id.text()])
}

/// `HOST/"title"`, the key of a job or update known by its title only.
pub fn titled_key(host: &str, title: &str) -> String {
    key_of(host, &["\"", title, "\""])
}

/// `HOST/` and `parts`, made at its exact size: diagnoses hold a key per job and update they
/// name, and a fleet's diagnoses name thousands.
fn key_of(host: &str, parts: &[&str]) -> String {
    let mut key =
        String::with_capacity(host.len() + 1 + parts.iter().map(|p| p.len()).sum::<usize>());
    key.push_str(host);
    key.push('/');
    for p in parts {
        key.push_str(p);
    }
    key
}

/// An update as WindowsUpdateClient events and WindowsUpdate.log show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// Shared texts: every host of a fleet has its own record of the same updates.
    pub host: Shared,
    pub title: Shared,
    pub kb: Option<Shared>,
    pub guid: Option<Shared>,
    pub revision: Option<u32>,
    pub outcome: UpdateStage,
    pub errors: BTreeMap<HResult, u32>,
    /// Failures per code that WindowsUpdate.log lines report, kept apart while folding: a
    /// bundle with both the log and the WindowsUpdateClient events holds each failure twice,
    /// so the finished record counts a code as often as the source that saw it most often
    /// (empty once the host is finished).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_errors: BTreeMap<HResult, u32>,
    pub jobs: BTreeSet<Guid>,
    /// How each job in `jobs` was linked (see [`crate::link`]); filled when the fleet is
    /// finished.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<Guid, crate::link::LinkMethod>,
    pub first_seen: When,
    pub last_seen: When,
    /// Filled by the diagnosis stage.
    pub diagnoses: Vec<String>,
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
}

impl Update {
    /// Fold the log's failure counts into `errors` (see `log_errors`).
    fn settle_errors(&mut self) {
        for (hr, n) in std::mem::take(&mut self.log_errors) {
            let e = self.errors.entry(hr).or_default();
            *e = (*e).max(n);
        }
    }

    /// `HOST/GUID`, or `HOST/"title"` for an update known only by its title.
    pub fn key(&self) -> String {
        match &self.guid {
            Some(g) => key_of(&self.host, &[g]),
            None => titled_key(&self.host, &self.title),
        }
    }

    /// A name for people: the title, else the GUID.
    pub fn name(&self) -> &str {
        if self.title.is_empty() {
            self.guid.as_deref().unwrap_or("(unnamed update)")
        } else {
            &self.title
        }
    }
}

/// What happened to the BITS service on one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceHistory {
    /// State changes seen (7036, `sc query`): counted, as the report shows them; the latest
    /// is `Host::current_state`. A list would grow with every event of a busy log.
    pub state_changes: u64,
    /// Start-type changes seen (7040): counted, as the report shows them.
    pub start_type_changes: u64,
    pub start_failures: Vec<StartFailure>,
    pub crashes: Vec<(When, Option<u32>, Evidence)>,
    pub warnings: Vec<ServiceEvent>,
}

/// The service failed to start (SCM 7000/7001/7009/7011/7022/7023/7024, `sc` FAILED lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartFailure {
    pub time: When,
    pub event: u32,
    pub error: Option<HResult>,
    pub dependency: Option<String>,
    pub evidence: Evidence,
}

/// A Bits-Client event about the service itself (302, 307, 308, 310, 16392, 16404 ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEvent {
    pub time: When,
    pub event: u32,
    pub hr: Option<HResult>,
    pub seconds: Option<f64>,
    pub evidence: Evidence,
}

/// A job, file or range limit event (16397/16398/16400/16401/16402).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitEvent {
    pub event: u32,
    pub entity: String,
    pub current: Option<u64>,
    pub limit: Option<u64>,
    pub evidence: Evidence,
}

/// Everything known about one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    pub service: ServiceHistory,
    /// Service configuration values (sc / reg / events), reconciled across captures by
    /// [`reconcile_config`]: one value per name, from the capture with the authority for it.
    pub config: BTreeMap<String, (String, Evidence)>,
    /// Values where captures of this host disagree with the one kept in `config`.
    pub config_conflicts: Vec<ConfigConflict>,
    /// Every configuration value seen, with its source, before reconciliation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigConflict {
    pub name: String,
    /// The value kept (from the capture with the authority for it) and where it came from.
    pub kept: (String, ConfigSource, Evidence),
    /// The other values seen.
    pub others: Vec<(String, ConfigSource, Evidence)>,
}

/// A sign of a host's Windows version (see `Fact::VersionSign`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSign {
    pub build: Option<u32>,
    pub windows10_or_later: Option<bool>,
    pub what: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Boxed: a job is made as its folded state is freed and takes its place, where one list
    /// of every job inline would be a new block as large as all of them.
    pub jobs: Vec<Box<Job>>,
    pub updates: Vec<Update>,
}

impl Fleet {
    /// Each host's jobs, gathered in one pass: rules and rows that go host by host look them
    /// up here instead of scanning every job of the fleet for every host.
    pub fn jobs_by_host(&self) -> BTreeMap<&str, Vec<&Job>> {
        let mut of: BTreeMap<&str, Vec<&Job>> = BTreeMap::new();
        for j in &self.jobs {
            of.entry(j.host.as_str()).or_default().push(j);
        }
        of
    }

    /// The first job with this key (`HOST/{GUID}` or `HOST/"title"`): the jobs are sorted by
    /// key.
    pub fn job(&self, key: &str) -> Option<&Job> {
        let i = self.jobs.partition_point(|j| j.key().as_str() < key);
        self.jobs.get(i).filter(|j| j.key() == key).map(|j| &**j)
    }
}

/// What a timeline step means for the outcome.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Step {
    Error,
    Success,
    Cancel,
    Other,
}

/// How many records an update keeps as evidence (the first ones in path and record order);
/// counts and times are kept whole.
pub const EVIDENCE_CAP: usize = 8;

/// How many records a job keeps as evidence, the same way: a rule that names a job without a
/// failure of it to cite cites these (the security lens up to this many, the job-limit rule
/// the first). Failures keep their own records.
pub const JOB_EVIDENCE_CAP: usize = 4;

/// Observations folded into per-host, per-job and per-update state as they are read, so
/// memory follows the number of jobs, not the number of events. States merge: folding inputs
/// one by one, or folding each on its own and merging the states in input order, gives the
/// same fleet (this is what `merge` reduces per-bundle summaries with).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetState {
    /// Boxed: most states are one input's, of one host, and a map node has room for eleven.
    pub hosts: BTreeMap<String, Box<HostState>>,
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

/// One host's folded state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostState {
    pub host: Host,
    /// Boxed: a host of few jobs would otherwise hold a map node with room for eleven.
    jobs: BTreeMap<Guid, Box<JobState>>,
    /// Job facts without a GUID (old-schema events), joined to a job by title at the end
    /// (each job keeps the titles it was seen under, with their earliest times, for that).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<Observation>,
    /// Keyed by update GUID, else title. Boxed: updates are most of a run's state, and a map
    /// node's free slots then cost a pointer each, not an update. A summary keeps each
    /// update's evidence, which the report's update list leaves out.
    #[serde(with = "updates_with_evidence")]
    updates: BTreeMap<Box<str>, Box<Update>>,
}

/// A host's updates as a summary holds them: each with its evidence (records the update
/// failure diagnoses cite), which `Update` leaves out of `report.json`.
mod updates_with_evidence {
    use super::Update;
    use crate::model::Evidence;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        update: &'a Update,
        #[serde(skip_serializing_if = "<[Evidence]>::is_empty")]
        evidence: &'a [Evidence],
    }

    #[derive(Deserialize)]
    struct In {
        #[serde(flatten)]
        update: Update,
        #[serde(default)]
        evidence: Vec<Evidence>,
    }

    pub fn serialize<S: Serializer>(
        updates: &BTreeMap<Box<str>, Box<Update>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(updates.iter().map(|(k, u)| {
            (
                k,
                Out {
                    update: u,
                    evidence: &u.evidence,
                },
            )
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Box<str>, Box<Update>>, D::Error> {
        let read = BTreeMap::<Box<str>, In>::deserialize(d)?;
        Ok(read
            .into_iter()
            .map(|(k, i)| {
                let mut u = i.update;
                u.evidence = i.evidence;
                (k, Box::new(u))
            })
            .collect())
    }
}

/// One job's folded timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct JobState {
    /// The first title the job was seen under, and the earliest time it was.
    name: Shared,
    #[serde(default)]
    named_at: When,
    /// Other titles it was seen under, each at its earliest time (rare: a job renamed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retitled: Vec<(String, When)>,
    owner: Shared,
    failures: Vec<Failure>,
    urls: VecSet<Shared>,
    proxies: VecSet<String>,
    first_seen: When,
    last_seen: When,
    last_success: Option<When>,
    /// The latest success, error or cancellation (a later input wins a tie).
    decisive: Option<(When, Step)>,
    error_step: bool,
    cancelled: bool,
    /// Set once a listing showed the job: the state the last listing gave.
    snapshot: Option<Option<String>>,
    evidence: VecSet<Evidence>,
    sources: VecSet<Shared>,
    process: Option<Shared>,
    notify: Option<String>,
    files: VecSet<JobFile>,
    no_progress_timeout: Option<u64>,
    created: bool,
    /// The earliest CREATION TIME a listing gave: the job's first sighting unless a log
    /// recorded its creation (a log's time is exact; a listing prints whole seconds).
    #[serde(default)]
    listed_created: When,
}

/// Keep in `slot` the earliest of the surest class of time (as `When::widen` does for a first
/// sighting).
fn earliest(slot: &mut When, t: When) {
    let mut last = *slot;
    When::widen(slot, &mut last, t);
}

impl FleetState {
    /// Fold one observation in.
    pub fn add(&mut self, obs: &Observation) {
        let h = match self.hosts.get_mut(obs.host.as_str()) {
            Some(h) => h,
            None => self.hosts.entry(obs.host.clone()).or_insert_with(|| {
                Box::new(HostState {
                    host: Host {
                        name: obs.host.clone(),
                        ..Host::default()
                    },
                    ..HostState::default()
                })
            }),
        };
        h.add(obs);
    }

    /// Merge `later` in, as if its observations had been folded after these.
    pub fn absorb(&mut self, later: FleetState) {
        for (name, h) in later.hosts {
            self.absorb_host(name, h);
        }
    }

    /// Merge one host's state in, as if its observations had been folded after these.
    pub fn absorb_host(&mut self, name: String, later: Box<HostState>) {
        match self.hosts.get_mut(&name) {
            Some(mine) => mine.absorb(*later),
            None => {
                self.hosts.insert(name, later);
            }
        }
    }

    /// Give hosts new names (`renames`: old -> new), as if their observations had named them
    /// so. Refused, changing nothing, when a new name is taken (by a host of this state, or by
    /// two hosts renamed alike): their observations would have been folded together, in
    /// record order, which renaming folded states cannot give.
    pub fn rename_hosts(&mut self, renames: &BTreeMap<String, String>) -> bool {
        let moving: Vec<(&String, &String)> = self
            .hosts
            .keys()
            .filter_map(|h| renames.get(h).map(|to| (h, to)))
            .collect();
        let mut targets = BTreeSet::new();
        for (_, to) in &moving {
            if self.hosts.contains_key(to.as_str()) || !targets.insert(to.as_str()) {
                return false;
            }
        }
        let moving: Vec<(String, String)> = moving
            .into_iter()
            .map(|(h, to)| (h.clone(), to.clone()))
            .collect();
        for (from, to) in moving {
            let Some(mut h) = self.hosts.remove(&from) else {
                continue;
            };
            h.host.name.clone_from(&to);
            let shared = Shared::from(to.as_str());
            for u in h.updates.values_mut() {
                u.host = shared.clone();
            }
            for o in &mut h.pending {
                o.host.clone_from(&to);
            }
            self.hosts.insert(to, h);
        }
        true
    }

    /// Jobs, hosts and updates, each list sorted. Hosts are independent: finished in parallel.
    pub fn finish(self) -> Fleet {
        Fleet::from_hosts(
            self.hosts
                .into_values()
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|h| h.finish())
                .collect(),
        )
    }
}

/// One host's finished state: the host, its jobs and its updates, each list sorted.
pub type FinishedHost = (Host, Vec<Box<Job>>, Vec<Update>);

impl Fleet {
    /// The fleet of these finished hosts (in any order), with updates linked to their jobs.
    pub fn from_hosts(parts: Vec<FinishedHost>) -> Fleet {
        // Room for every job and update at once: growing the lists while the hosts' own are
        // still held would copy them and hold up to twice their size for a moment. (Jobs are
        // boxed: each takes the place its folded state just freed, where one list of every
        // job would be a new block as large as all of them.)
        let mut fleet = Fleet {
            jobs: Vec::with_capacity(parts.iter().map(|p| p.1.len()).sum()),
            updates: Vec::with_capacity(parts.iter().map(|p| p.2.len()).sum()),
            ..Fleet::default()
        };
        for (host, jobs, updates) in parts {
            fleet.jobs.extend(jobs);
            fleet.updates.extend(updates);
            fleet.hosts.insert(host.name.clone(), host);
        }
        // Per-host lists are sorted; job keys (`HOST/...`) can order hosts differently (`A.B/`
        // comes before `A/`). A stable sort of the hosts' runs by their keys' `HOST/` prefix
        // gives the order of the keys without making one for each job.
        fn prefix(j: &Job) -> impl Iterator<Item = &u8> {
            j.host.as_bytes().iter().chain(b"/")
        }
        fleet.jobs.sort_by(|a, b| prefix(a).cmp(prefix(b)));
        crate::link::link(&mut fleet);
        fleet
    }
}

/// Group observations into hosts, jobs and updates. Job timelines are put in time order; lists
/// kept per host stay in input order (inputs in path order, records in file order), so the same
/// inputs give the same result without sorting every observation.
pub fn correlate(observations: &[Observation]) -> Fleet {
    let mut state = FleetState::default();
    for o in observations {
        state.add(o);
    }
    state.finish()
}

impl HostState {
    fn add(&mut self, obs: &Observation) {
        host_fact(&mut self.host, obs);
        if let Fact::Update { .. } = &obs.fact {
            update_fact(&mut self.updates, obs);
            return;
        }
        if !is_job_fact(&obs.fact) {
            return;
        }
        let title = title_of(&obs.fact).unwrap_or("");
        match obs.fact.job() {
            Some(g) => match self.jobs.get_mut(g) {
                Some(j) => j.add(obs),
                None => self.jobs.entry(*g).or_default().add(obs),
            },
            None if !title.is_empty() => self.pending.push(obs.clone()),
            None => {}
        }
    }

    /// Merge `later` in, as if its observations had been folded after these.
    pub(crate) fn absorb(&mut self, later: HostState) {
        absorb_host(&mut self.host, later.host);
        for (g, j) in later.jobs {
            match self.jobs.get_mut(&g) {
                Some(mine) => mine.absorb(*j),
                None => {
                    self.jobs.insert(g, j);
                }
            }
        }
        self.pending.extend(later.pending);
        for (k, u) in later.updates {
            match self.updates.get_mut(&k) {
                Some(mine) => absorb_update(mine, *u),
                None => {
                    self.updates.insert(k, u);
                }
            }
        }
    }

    // Boxed jobs on purpose: see `Fleet::from_hosts`.
    /// The host, its jobs and its updates.
    pub(crate) fn finish(mut self) -> FinishedHost {
        reconcile_config(&mut self.host);
        let name = Shared::from(self.host.name.as_str());
        // Old-schema events join the GUID of the first job with their title seen at or after
        // them (creation comes before the transfer events that carry the GUID), else the
        // latest one before them.
        let titles: Vec<Option<&str>> = self.pending.iter().map(|o| title_of(&o.fact)).collect();
        let joins: Vec<Option<Guid>> = if titles.is_empty() {
            Vec::new()
        } else {
            let mut by_title: HashMap<&str, Vec<(When, Guid)>> = HashMap::new();
            for (g, j) in &self.jobs {
                for (title, at) in j.titles() {
                    by_title.entry(title).or_default().push((at, *g));
                }
            }
            by_title.values_mut().for_each(|c| c.sort());
            self.pending
                .iter()
                .zip(&titles)
                .map(|(obs, title)| {
                    let c = by_title.get((*title)?)?;
                    let i = c.partition_point(|(t, _)| *t < obs.time);
                    c.get(i).or_else(|| c.last()).map(|(_, g)| *g)
                })
                .collect()
        };
        let mut jobs: HashMap<JobRef, Box<JobState>> = self
            .jobs
            .into_iter()
            .map(|(g, j)| (JobRef::Id(g), j))
            .collect();
        for ((obs, title), guid) in self.pending.iter().zip(&titles).zip(joins) {
            let Some(title) = *title else {
                continue;
            };
            let r = match guid {
                Some(g) => JobRef::Id(g),
                None => JobRef::Title(title.to_string()),
            };
            jobs.entry(r).or_default().add(obs);
        }
        let mut jobs: Vec<Box<Job>> = jobs
            .into_iter()
            .map(|(r, j)| Box::new(j.finish(&name, r)))
            .collect();
        jobs.sort_by_cached_key(|j| j.key());
        let mut updates: Vec<Update> = self.updates.into_values().map(|u| *u).collect();
        for u in &mut updates {
            u.settle_errors();
            // Only a failure diagnosis cites an update's records: an update that never failed
            // lets go of them (each host of a fleet holds its own record of the same updates,
            // most of them without a failure).
            if u.errors.is_empty() {
                u.evidence = Vec::new();
            } else {
                u.evidence.shrink_to_fit();
            }
        }
        updates.sort_by(|a, b| (&a.host, &a.title, &a.guid).cmp(&(&b.host, &b.title, &b.guid)));
        (self.host, jobs, updates)
    }
}

/// Host facts of `later` after those of `h`: lists appended, single values replaced.
fn absorb_host(h: &mut Host, later: Host) {
    let (s, l) = (&mut h.service, later.service);
    s.state_changes += l.state_changes;
    s.start_type_changes += l.start_type_changes;
    s.start_failures.extend(l.start_failures);
    s.crashes.extend(l.crashes);
    s.warnings.extend(l.warnings);
    h.config.extend(later.config);
    for (name, seen) in later.config_seen {
        h.config_seen.entry(name).or_default().extend(seen);
    }
    h.config_conflicts.extend(later.config_conflicts);
    h.version_signs.extend(later.version_signs);
    h.policy.extend(later.policy);
    if later.winhttp_proxy.is_some() {
        h.winhttp_proxy = later.winhttp_proxy;
    }
    if let Some(l) = later.current_state {
        // As `host_fact` decides for one more observation.
        let newer = match &h.current_state {
            None => true,
            Some(c) => l.time == When::Unknown || (c.time != When::Unknown && l.time >= c.time),
        };
        if newer {
            h.current_state = Some(l);
        }
    }
    h.logs_cleared.extend(later.logs_cleared);
    h.limits.extend(later.limits);
    h.credentials_rejected.extend(later.credentials_rejected);
    h.http_features.extend(later.http_features);
    h.proxy_failures.extend(later.proxy_failures);
}

fn is_job_fact(f: &Fact) -> bool {
    matches!(
        f,
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
            | Fact::ProxyFailure { .. }
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum JobRef {
    Id(Guid),
    Title(String),
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

/// Keep the `JOB_EVIDENCE_CAP` smallest.
fn keep_evidence(set: &mut VecSet<Evidence>, e: &Evidence) {
    set.keep_smallest(e, JOB_EVIDENCE_CAP);
}

impl JobState {
    fn add(&mut self, obs: &Observation) {
        let j = self;
        When::widen(&mut j.first_seen, &mut j.last_seen, obs.time);
        keep_evidence(&mut j.evidence, &obs.evidence);
        if !j.sources.contains(&*obs.evidence.path) {
            j.sources.insert(obs.evidence.path.clone().into());
        }
        if let Some(t) = title_of(&obs.fact).filter(|t| !t.is_empty()) {
            j.saw_title(t, obs.time);
        }
        let fail = |j: &mut JobState, hr: HResult, url: &str, proxy: &Option<String>, ctx| {
            // The job's own copy of the URL, which `add_url` has just made sure of.
            let url = j.urls.get(url).cloned().unwrap_or_else(|| url.into());
            j.failures.push(Failure {
                time: obs.time,
                hr,
                url,
                proxy: proxy.as_deref().filter(|p| !p.is_empty()).map(Shared::from),
                context: ctx,
                event_id: obs.event_id,
                evidence: obs.evidence.clone(),
            });
        };
        let step = match &obs.fact {
            Fact::JobCreated { owner, process, .. } => {
                j.set_owner(owner);
                j.created = true;
                if let Some(p) = process.as_ref().filter(|p| !p.is_empty()) {
                    j.process = Some(p.as_str().into());
                }
                Step::Other
            }
            Fact::TransferStarted { url, .. } => {
                j.add_url(url);
                Step::Other
            }
            Fact::FileQueued { remote, local, .. } => {
                j.add_url(remote);
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
                j.add_url(url);
                j.add_proxy(proxy);
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
                j.add_url(url);
                j.add_proxy(proxy);
                fail(j, *hr, url, proxy, *context);
                Step::Error
            }
            Fact::ProxyFailure { url, hr, .. } => {
                j.add_url(url);
                if hr.is_failure() {
                    fail(j, *hr, url, &None, None);
                }
                Step::Error
            }
            Fact::HttpFeatureMissing { url, hr, proxy, .. } => {
                j.add_url(url);
                if hr.is_failure() {
                    j.add_proxy(proxy);
                    fail(j, *hr, url, proxy, None);
                    Step::Error
                } else {
                    Step::Other
                }
            }
            Fact::JobCompleted { owner, .. } => {
                j.set_owner(owner);
                Step::Success
            }
            Fact::JobCancelled { owner, .. } => {
                j.set_owner(owner);
                Step::Cancel
            }
            Fact::JobSnapshot(s) => {
                if let Some(o) = &s.owner {
                    j.set_owner(o);
                }
                if s.creation_time != When::Unknown {
                    earliest(&mut j.listed_created, s.creation_time);
                }
                for (remote, local) in &s.files {
                    j.add_url(remote);
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
                    j.add_proxy(&Some(p.clone()));
                }
                j.snapshot = Some(s.state.clone());
                match s.state.as_deref() {
                    Some("TRANSFERRED") | Some("ACKNOWLEDGED") => Step::Success,
                    Some("CANCELLED") | Some("CANCELED") => Step::Cancel,
                    Some("ERROR") | Some("TRANSIENT_ERROR") => Step::Error,
                    _ => Step::Other,
                }
            }
            _ => Step::Other,
        };
        j.step(obs.time, step);
    }

    fn step(&mut self, t: When, step: Step) {
        match step {
            Step::Other => return,
            Step::Error => self.error_step = true,
            Step::Cancel => self.cancelled = true,
            Step::Success => {
                if self.last_success < Some(t) {
                    self.last_success = Some(t);
                }
            }
        }
        if self.decisive.is_none_or(|(at, _)| t >= at) {
            self.decisive = Some((t, step));
        }
    }

    fn absorb(&mut self, later: JobState) {
        // The surest class of time wins, then the earliest and the latest (as `add` does).
        When::widen(&mut self.first_seen, &mut self.last_seen, later.first_seen);
        When::widen(&mut self.first_seen, &mut self.last_seen, later.last_seen);
        for e in &later.evidence {
            keep_evidence(&mut self.evidence, e);
        }
        self.sources.extend(later.sources);
        if self.name.is_empty() {
            self.name = later.name;
            self.named_at = later.named_at;
        } else if !later.name.is_empty() {
            self.saw_title(&later.name, later.named_at);
        }
        for (title, at) in &later.retitled {
            self.saw_title(title, *at);
        }
        if self.owner.is_empty() {
            self.owner = later.owner;
        }
        self.failures.extend(later.failures);
        self.urls.extend(later.urls);
        self.proxies.extend(later.proxies);
        self.last_success = self.last_success.max(later.last_success);
        self.error_step |= later.error_step;
        self.cancelled |= later.cancelled;
        if let Some((t, s)) = later.decisive {
            if self.decisive.is_none_or(|(at, _)| t >= at) {
                self.decisive = Some((t, s));
            }
        }
        if later.snapshot.is_some() {
            self.snapshot = later.snapshot;
        }
        if later.process.is_some() {
            self.process = later.process;
        }
        if later.notify.is_some() {
            self.notify = later.notify;
        }
        self.files.extend(later.files);
        if later.no_progress_timeout.is_some() {
            self.no_progress_timeout = later.no_progress_timeout;
        }
        self.created |= later.created;
        earliest(&mut self.listed_created, later.listed_created);
    }

    /// The job was seen under a (non-empty) title at `at`: the first title names it; each
    /// title keeps its earliest time.
    fn saw_title(&mut self, title: &str, at: When) {
        let slot = if self.name.is_empty() {
            self.name = title.into();
            self.named_at = at;
            return;
        } else if self.name == title {
            &mut self.named_at
        } else if let Some(i) = self.retitled.iter().position(|(t, _)| t == title) {
            &mut self.retitled[i].1
        } else {
            self.retitled.push((title.to_string(), at));
            return;
        };
        if at < *slot {
            *slot = at;
        }
    }

    /// Every title the job was seen under, each at its earliest time.
    fn titles(&self) -> impl Iterator<Item = (&str, When)> {
        let named = (!self.name.is_empty()).then_some((self.name.as_str(), self.named_at));
        named
            .into_iter()
            .chain(self.retitled.iter().map(|(t, at)| (t.as_str(), *at)))
    }

    fn set_owner(&mut self, owner: &str) {
        if self.owner.is_empty() && !owner.is_empty() {
            self.owner = owner.into();
        }
    }

    fn add_url(&mut self, url: &str) {
        if !url.is_empty() && !self.urls.contains(url) {
            self.urls.insert(url.into());
        }
    }

    fn add_proxy(&mut self, proxy: &Option<String>) {
        if let Some(p) = proxy {
            if !p.is_empty() && !self.proxies.contains(p) {
                self.proxies.insert(p.clone());
            }
        }
    }

    fn finish(self, host: &Shared, r: JobRef) -> Job {
        let (id, mut name) = match r {
            JobRef::Id(g) => (Some(g), Shared::default()),
            JobRef::Title(t) => (None, t.into()),
        };
        if !self.name.is_empty() {
            name = self.name;
        }
        // A job is first seen when it was created: the log's record of that, else the
        // CREATION TIME a listing gave (listings are taken at their MODIFICATION TIME).
        let (mut first_seen, mut last_seen) = (self.first_seen, self.last_seen);
        if !self.created {
            When::widen(&mut first_seen, &mut last_seen, self.listed_created);
        }
        let any_error = !self.failures.is_empty() || self.error_step;
        let last_decisive = self.decisive.map(|(_, s)| s);
        let outcome = match last_decisive {
            _ if self.cancelled && last_decisive != Some(Step::Success) => Outcome::Cancelled,
            Some(Step::Success) if any_error => Outcome::Recovered,
            Some(Step::Success) => Outcome::Succeeded,
            Some(Step::Error) => Outcome::Failing,
            _ => Outcome::InProgress,
        };
        let mut failures = self.failures;
        failures.sort_by(|a, b| (a.time, &a.evidence).cmp(&(b.time, &b.evidence)));
        dedupe_failures(&mut failures);
        // The list grew by doubling as the job was folded (or read back from a summary or the
        // spill file): a fleet's jobs would hold about as much room again as their failures.
        failures.shrink_to_fit();
        let errors = ErrorCounts::of(&failures);
        Job {
            host: host.clone(),
            id,
            name,
            owner: self.owner,
            outcome,
            errors,
            urls: self.urls,
            proxies: self.proxies,
            first_seen,
            last_seen,
            process: self.process,
            details: JobDetails {
                state: self.snapshot.flatten(),
                notify: self.notify,
                files: self.files,
                no_progress_timeout: self.no_progress_timeout,
            }
            .boxed(),
            created: self.created,
            failures,
            last_success: self.last_success,
            evidence: self.evidence.into_iter().collect(),
            sources: self.sources,
        }
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

fn host_fact(host: &mut Host, obs: &Observation) {
    let ev = || obs.evidence.clone();
    let s = &mut host.service;
    match &obs.fact {
        Fact::ServiceState {
            state, state_code, ..
        } => {
            s.state_changes += 1;
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
        Fact::ServiceStartType { .. } => s.start_type_changes += 1,
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
            job: *job,
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
            job: *job,
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

fn update_fact(updates: &mut BTreeMap<Box<str>, Box<Update>>, obs: &Observation) {
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
    let key = guid.as_deref().unwrap_or(title);
    if !updates.contains_key(key) {
        updates.insert(
            key.into(),
            Box::new(new_update(obs, guid, *revision, *stage)),
        );
    }
    let Some(u) = updates.get_mut(key) else {
        return;
    };
    if u.title.is_empty() && !title.is_empty() {
        u.title = title.as_str().into();
        u.kb = kb_of(title).map(Shared::from);
    }
    // The latest record says where the update got to; the span keeps the surest times (a log
    // line of unknown offset never becomes the first time of a record with event times).
    if obs.time >= u.last_seen {
        u.outcome = *stage;
    }
    When::widen(&mut u.first_seen, &mut u.last_seen, obs.time);
    if let Some(h) = hr.filter(|h| h.is_failure()) {
        let counts = match obs.evidence.at {
            crate::model::Locator::Line(_) => &mut u.log_errors,
            crate::model::Locator::Record(_) => &mut u.errors,
        };
        *counts.entry(h).or_default() += 1;
    }
    if let Some(j) = job {
        u.jobs.insert(*j);
    }
    if u.evidence.len() < EVIDENCE_CAP {
        // Most updates have one record: room for one, not the four a first push makes.
        if u.evidence.is_empty() {
            u.evidence.reserve_exact(1);
        }
        u.evidence.push(obs.evidence.clone());
    }
}

/// An update first seen in `obs`, before its facts are added.
fn new_update(
    obs: &Observation,
    guid: &Option<String>,
    revision: Option<u32>,
    stage: UpdateStage,
) -> Update {
    Update {
        host: obs.host.as_str().into(),
        title: Shared::default(),
        kb: None,
        guid: guid.as_deref().map(Shared::from),
        revision,
        outcome: stage,
        errors: BTreeMap::new(),
        log_errors: BTreeMap::new(),
        jobs: BTreeSet::new(),
        links: BTreeMap::new(),
        first_seen: obs.time,
        last_seen: obs.time,
        diagnoses: Vec::new(),
        evidence: Vec::new(),
    }
}

/// `later`'s records of the same update after those of `u` (as `update_fact` would fold them).
fn absorb_update(u: &mut Update, later: Update) {
    if u.title.is_empty() && !later.title.is_empty() {
        u.title = later.title;
        u.kb = later.kb;
    }
    if later.last_seen >= u.last_seen {
        u.outcome = later.outcome;
    }
    When::widen(&mut u.first_seen, &mut u.last_seen, later.first_seen);
    When::widen(&mut u.first_seen, &mut u.last_seen, later.last_seen);
    for (hr, n) in later.errors {
        *u.errors.entry(hr).or_default() += n;
    }
    for (hr, n) in later.log_errors {
        *u.log_errors.entry(hr).or_default() += n;
    }
    u.jobs.extend(later.jobs);
    u.evidence.extend(later.evidence);
    u.evidence.truncate(EVIDENCE_CAP);
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
    /// `all[..at]` and `all[at..]` folded into states of their own, the second merged into
    /// the first.
    fn fold_split(all: &[Observation], at: usize) -> Fleet {
        let mut split = FleetState::default();
        for o in &all[..at] {
            split.add(o);
        }
        let mut later = FleetState::default();
        for o in &all[at..] {
            later.add(o);
        }
        split.absorb(later);
        split.finish()
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
        assert_eq!(f.jobs[1].errors.get(&HResult(0x8007_2EE7)), Some(&1));
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

    /// A job seen under two titles: an old-schema event with either title joins it, the
    /// second title at the time it was first seen, whether the events are folded in one state
    /// or in two merged ones.
    #[test]
    fn old_schema_events_join_a_job_by_any_title_it_had() {
        let started = |secs, title: &str| {
            obs(
                "H",
                secs,
                secs as u64,
                Fact::TransferStarted {
                    job: g(7),
                    title: title.into(),
                    url: "http://wsus/a.cab".into(),
                    bytes_total: None,
                },
            )
        };
        let created = |secs, title: &str| {
            obs(
                "H",
                secs,
                secs as u64,
                Fact::JobCreated {
                    job: None,
                    title: title.into(),
                    owner: format!("CORP\\{title}"),
                    process: None,
                },
            )
        };
        let all = [
            started(10, "first"),
            started(20, "second"),
            // Before both sightings of "second", after the only other job with that title.
            created(15, "second"),
            created(5, "first"),
            obs(
                "H",
                1,
                1,
                Fact::TransferStarted {
                    job: g(8),
                    title: "second".into(),
                    url: "http://wsus/b.cab".into(),
                    bytes_total: None,
                },
            ),
        ];
        let one = correlate(&all);
        // Job 7 is named "first" in one state and "second" in the other.
        let merged = fold_split(&all, 1);
        for f in [&one, &merged] {
            assert_eq!(f.jobs.len(), 2);
            let j7 = f.jobs.iter().find(|j| j.id == g(7)).unwrap();
            assert_eq!(j7.name, "first");
            // Both creations join job 7: "second" was first seen on it at 20, after the
            // event at 15; job 8's sighting at 1 is before it.
            assert_eq!(j7.owner, "CORP\\second");
            assert!(j7.created);
            assert!(f
                .jobs
                .iter()
                .find(|j| j.id == g(8))
                .unwrap()
                .owner
                .is_empty());
        }
    }

    /// A job keeps its `JOB_EVIDENCE_CAP` first records however its events are split
    /// between states, and in whatever order they come; its failures keep their own.
    #[test]
    fn a_job_keeps_its_first_records_as_evidence() {
        let all: Vec<Observation> = [9u64, 3, 7, 1, 8, 2, 6, 4, 5]
            .iter()
            .map(|&rec| obs("H", rec as i64, rec, err(1, 0x8007_0005)))
            .collect();
        for f in [correlate(&all), fold_split(&all, 4)] {
            let j = &f.jobs[0];
            let records: Vec<Locator> = j.evidence.iter().map(|e| e.at).collect();
            assert_eq!(records, (1..=4).map(Locator::Record).collect::<Vec<_>>());
            assert_eq!(j.failures.len(), 9);
        }
    }

    /// Folding a prefix and a suffix on their own and merging the states gives the fleet
    /// of folding everything in one go, wherever the split falls.
    #[test]
    fn merged_states_equal_one_fold() {
        let created_v0 = |secs| {
            obs(
                "H",
                secs,
                20 + secs as u64,
                Fact::JobCreated {
                    job: None,
                    title: "j".into(),
                    owner: "o".into(),
                    process: None,
                },
            )
        };
        let all = vec![
            created_v0(0),
            obs("H", 1, 1, err(1, 0x8007_2EE7)),
            obs("G", 1, 2, err(2, 0x8020_0013)),
            obs("H", 3, 3, done(1)),
            obs("G", 0, 4, err(2, 0x8020_0013)),
            obs(
                "H",
                4,
                5,
                Fact::ServiceConfig {
                    name: "Start".into(),
                    value: "4".into(),
                    from: crate::model::ConfigSource::ScQc,
                },
            ),
            obs(
                "H",
                5,
                6,
                Fact::Update {
                    stage: UpdateStage::DownloadFailed,
                    title: "KB5032190".into(),
                    guid: Some("u1".into()),
                    revision: Some(1),
                    hr: Some(HResult(0x8024_402C)),
                    job: g(1),
                },
            ),
            obs(
                "H",
                2,
                7,
                Fact::Update {
                    stage: UpdateStage::Downloaded,
                    title: String::new(),
                    guid: Some("u1".into()),
                    revision: Some(1),
                    hr: None,
                    job: None,
                },
            ),
            obs(
                "G",
                9,
                8,
                Fact::JobCancelled {
                    job: g(2),
                    title: "j".into(),
                    owner: "p".into(),
                },
            ),
            created_v0(7),
            obs("H", 1, 9, err(3, 0x8007_0005)),
            obs(
                "H",
                6,
                10,
                Fact::ServiceConfig {
                    name: "Start".into(),
                    value: "2".into(),
                    from: crate::model::ConfigSource::Registry,
                },
            ),
        ];
        let whole = correlate(&all);
        for k in 0..=all.len() {
            let mut a = FleetState::default();
            all[..k].iter().for_each(|o| a.add(o));
            let mut b = FleetState::default();
            all[k..].iter().for_each(|o| b.add(o));
            a.absorb(b);
            assert_eq!(a.finish(), whole, "split at {k}");
        }
    }

    #[test]
    fn kb_from_title() {
        assert_eq!(
            kb_of("2023-11 Cumulative Update for Windows 11 (KB5032190)").as_deref(),
            Some("KB5032190")
        );
        assert_eq!(kb_of("Definition Update"), None);
    }

    /// A listing taken at `modified` of job 1, created at `created` (seconds, UTC).
    fn listed(created: i64, modified: i64) -> Observation {
        let at = |secs| When::Utc(jiff::Timestamp::from_second(1_600_000_000 + secs).unwrap());
        let snap = crate::model::JobSnapshot {
            job: g(1),
            creation_time: at(created),
            modification_time: at(modified),
            ..Default::default()
        };
        let mut o = obs("H", modified, 9, Fact::JobSnapshot(Box::new(snap)));
        o.evidence.at = Locator::Line(1);
        o
    }

    #[test]
    fn a_job_is_first_seen_when_it_was_created() {
        let t = |secs: i64| When::Utc(jiff::Timestamp::from_second(1_600_000_000 + secs).unwrap());
        // A listing alone: its CREATION TIME, not the MODIFICATION TIME it was taken at.
        let f = correlate(&[listed(10, 50)]);
        assert_eq!((f.jobs[0].first_seen, f.jobs[0].last_seen), (t(10), t(50)));
        // A log that recorded the creation (exact) wins over the listing's (whole seconds).
        let created = obs(
            "H",
            12,
            1,
            Fact::JobCreated {
                job: g(1),
                title: "j".into(),
                owner: "o".into(),
                process: None,
            },
        );
        let all = [listed(10, 50), created.clone()];
        let f = correlate(&all);
        assert_eq!((f.jobs[0].first_seen, f.jobs[0].last_seen), (t(12), t(50)));
        // In whichever order or split the inputs are folded.
        let f = correlate(&[created.clone(), listed(10, 50)]);
        assert_eq!(f.jobs[0].first_seen, t(12));
        let mut a = FleetState::default();
        a.add(&listed(10, 50));
        let mut b = FleetState::default();
        b.add(&created);
        a.absorb(b);
        assert_eq!(a.finish().jobs[0].first_seen, t(12));
        // Another log event without the creation does not hide the listing's creation.
        let f = correlate(&[obs("H", 30, 2, err(1, 0x8007_2EE7)), listed(10, 50)]);
        assert_eq!(f.jobs[0].first_seen, t(10));
    }

    /// Counts are per code, in code order, the same code adding up; written as the map they
    /// replace was.
    #[test]
    fn error_counts_sum_per_code_in_code_order() {
        let c: ErrorCounts = [
            (HResult(0x8007_2EFE), 1),
            (HResult(0x8007_2EE7), 2),
            (HResult(0x8007_2EFE), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            c.iter().map(|(h, n)| (h.0, *n)).collect::<Vec<_>>(),
            [(0x8007_2EE7, 2), (0x8007_2EFE, 4)]
        );
        assert_eq!(c.get(&HResult(0x8007_2EFE)), Some(&4));
        assert!(!c.contains_key(&HResult(0x8020_0013)));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"0x80072EE7":2,"0x80072EFE":4}"#
        );
        assert!(ErrorCounts::of(&[]).is_empty());
    }

    /// A job with nothing but its log holds no details; one a listing showed holds them.
    #[test]
    fn details_are_held_only_when_there_are_some() {
        assert_eq!(JobDetails::default().boxed(), None);
        let listed = JobDetails {
            state: Some("TRANSFERRED".into()),
            ..JobDetails::default()
        };
        assert_eq!(listed.clone().boxed(), Some(Box::new(listed)));
    }

    /// Jobs are in the order of their keys across hosts whose names differ only past a
    /// character that sorts before `/` (`A-C/` < `A.B/` < `A/`, where the hosts sort `A` first).
    #[test]
    fn jobs_are_in_key_order_across_hosts_with_a_common_start() {
        let f = correlate(&[
            obs("A", 1, 1, err(1, 0x8007_2EE7)),
            obs("A.B", 2, 2, err(2, 0x8007_2EE7)),
            obs("A-C", 3, 3, err(3, 0x8007_2EE7)),
            obs("A", 4, 4, err(4, 0x8007_2EE7)),
        ]);
        let keys: Vec<String> = f.jobs.iter().map(|j| j.key()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let hosts: Vec<&str> = f.jobs.iter().map(|j| j.host.as_str()).collect();
        assert_eq!(hosts, ["A-C", "A.B", "A", "A"]);
    }

    /// An update that failed keeps the records a failure diagnosis cites; one that never
    /// failed keeps none.
    #[test]
    fn only_a_failed_update_keeps_its_records() {
        let update = |rec: u64, guid: &str, hr: Option<u32>| {
            obs(
                "H",
                rec as i64,
                rec,
                Fact::Update {
                    stage: match hr {
                        Some(_) => UpdateStage::DownloadFailed,
                        None => UpdateStage::Downloaded,
                    },
                    title: format!("update {guid}"),
                    guid: Some(guid.into()),
                    revision: Some(1),
                    hr: hr.map(HResult),
                    job: None,
                },
            )
        };
        let f = correlate(&[
            update(1, "u1", None),
            update(2, "u1", Some(0x8024_402C)),
            update(3, "u2", None),
        ]);
        let evidence = |guid: &str| {
            let u = f.updates.iter().find(|u| u.guid.as_deref() == Some(guid));
            u.unwrap().evidence.len()
        };
        assert_eq!(evidence("u1"), 2);
        assert_eq!(evidence("u2"), 0);
    }
}
