//! The report: everything the analysis found, in the stable v1 shape, and its renderings.

pub mod csv;
pub mod events;
pub mod html;
pub mod index;
pub mod json;
pub mod jsonl;
pub mod text;

use crate::correlate::{Fleet, Job, Outcome, Update};
use crate::diagnose::{Diagnosis, Severity};
use crate::link::LinkMethod;
use crate::model::{Guid, HResult, Shared, TimeBasis, UpdateStage, Warning, When};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const SCHEMA: &str = "bitsdoctor/report/v1";

/// How one input was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Read completely.
    Ok,
    /// Read, but parts of it could not be (see `reason` and the warnings).
    Partial,
    /// Not read: not a kind we know, or unreadable.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct InputRow {
    pub path: String,
    pub kind: String,
    pub host: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub observations: u64,
    /// evtx: records read; text: lines.
    pub records: u64,
    /// evtx: records that could not be read at all; text: lines not understood.
    pub skipped_records: u64,
    /// evtx: records per provider bitsdoctor reads (Bits-Client, Service Control Manager ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provider_records: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRow {
    pub name: String,
    pub jobs: usize,
    pub outcomes: BTreeMap<&'static str, usize>,
    pub service_state_changes: usize,
    pub service_start_type_changes: usize,
    pub service_start_failures: usize,
    pub service_crashes: usize,
    pub config: BTreeMap<String, String>,
    pub policy: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub winhttp_proxy: Option<String>,
    /// The BITS service's current state (`sc query`, else the latest event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_state: Option<ServiceStateRow>,
    pub logs_cleared: Vec<String>,
    /// Diagnosis ids, in rank order (shared with the job rows).
    pub diagnoses: Vec<Shared>,
    /// The host's UTC offset for its console captures' local times, and where it came from
    /// (absent: unknown, so those times stay local).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
}

/// The BITS service's state as last seen: `state` as the source spells it, its number, the
/// service's last exit code (`sc query` WIN32_EXIT_CODE, when not 0), and where it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStateRow {
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win32_exit_code: Option<u32>,
    pub seen: When,
    pub evidence: String,
}

/// A job as the report lists it: the fleet's job itself (moved in, not copied: a fleet has tens
/// of thousands) and the ids of the diagnoses that name it. Reads as the job (`Deref`).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub job: Box<Job>,
    /// Diagnosis ids, in rank order; one allocation per diagnosis, shared by its jobs.
    pub diagnoses: Box<[Shared]>,
}

impl JobRow {
    pub fn new(job: Job, diagnoses: Vec<Shared>) -> JobRow {
        JobRow {
            job: Box::new(job),
            diagnoses: diagnoses.into_boxed_slice(),
        }
    }
}

impl std::ops::Deref for JobRow {
    type Target = Job;
    fn deref(&self) -> &Job {
        &self.job
    }
}

impl std::ops::DerefMut for JobRow {
    fn deref_mut(&mut self) -> &mut Job {
        &mut self.job
    }
}

/// A job row's fields in the order report.json has always written them.
#[derive(Serialize)]
struct JobRowOut<'a> {
    host: &'a Shared,
    id: Option<Guid>,
    name: &'a Shared,
    owner: &'a Shared,
    outcome: Outcome,
    errors: &'a crate::correlate::ErrorCounts,
    urls: &'a [Shared],
    proxies: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    first_seen: When,
    last_seen: When,
    first_seen_basis: TimeBasis,
    last_seen_basis: TimeBasis,
    diagnoses: &'a [Shared],
    /// Every input that mentions the job (an event log and a bitsadmin listing of the same
    /// host give one job with both).
    sources: &'a [Shared],
}

impl Serialize for JobRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let j = &*self.job;
        JobRowOut {
            host: &j.host,
            id: j.id,
            name: &j.name,
            owner: &j.owner,
            outcome: j.outcome,
            errors: &j.errors,
            urls: &j.urls,
            proxies: &j.proxies,
            state: j.state(),
            first_seen: j.first_seen,
            last_seen: j.last_seen,
            first_seen_basis: j.first_seen.basis(),
            last_seen_basis: j.last_seen.basis(),
            diagnoses: &self.diagnoses,
            sources: &j.sources,
        }
        .serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub inputs: usize,
    pub hosts: usize,
    pub jobs: usize,
    pub outcomes: BTreeMap<&'static str, usize>,
    pub diagnoses: BTreeMap<&'static str, usize>,
    pub warnings: usize,
}

/// The whole report (JSON schema `bitsdoctor/report/v1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub summary: Summary,
    pub inputs: Vec<InputRow>,
    pub hosts: Vec<HostRow>,
    /// The fleet's jobs, in key order (host, then job).
    pub jobs: Vec<JobRow>,
    pub updates: Vec<Update>,
    pub diagnoses: Vec<Diagnosis>,
    pub warnings: Vec<Warning>,
    /// The time window analysed, when `--since` / `--until` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowRow>,
    /// Every failed attempt of every job, and every failed start of the BITS service, in time
    /// order (for the HTML timeline; not in the JSON).
    #[serde(skip)]
    pub failures: Vec<FailurePoint>,
    /// Paths that could not be read and why (for stderr; each is also an input row or a
    /// warning in the JSON).
    #[serde(skip)]
    pub unread: Vec<crate::app::Unread>,
}

/// The `--since` / `--until` window as applied: absolute UTC ends, and for a relative span
/// what it was counted back from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WindowRow {
    pub since: Option<String>,
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_to: Option<String>,
}

/// One failed transfer attempt (or service start): when, on which host, with which code.
/// A fleet has a point per failed attempt, so the host is named by its place in
/// [`Report::hosts`] (which is in name order, so points order as by host name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FailurePoint {
    pub time: When,
    pub host: u32,
    pub code: HResult,
}

impl Report {
    pub fn build(
        mut inputs: Vec<InputRow>,
        mut fleet: Fleet,
        diagnoses: Vec<Diagnosis>,
        mut warnings: Vec<Warning>,
    ) -> Report {
        let failures = timeline(&mut fleet);
        let mut diagnoses = diagnoses;
        for d in &mut diagnoses {
            d.first_seen_basis = d.first_seen.basis();
            d.last_seen_basis = d.last_seen.basis();
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        warnings.sort();
        warnings.dedup();
        // Per job key, the diagnoses naming it (as positions in `diagnoses`, which is in rank
        // order): borrowed from the diagnoses, which name thousands of jobs in a fleet.
        let mut by_job: Vec<(&str, usize)> =
            Vec::with_capacity(diagnoses.iter().map(|d| d.jobs.len()).sum());
        // One allocation per diagnosis id, shared by the rows that name it.
        let ids: Vec<Shared> = diagnoses.iter().map(|d| d.id.as_str().into()).collect();
        let mut by_host: BTreeMap<&str, Vec<Shared>> = BTreeMap::new();
        for (i, d) in diagnoses.iter().enumerate() {
            by_job.extend(d.jobs.iter().map(|j| (j.as_str(), i)));
            for h in &d.hosts {
                by_host.entry(h).or_default().push(ids[i].clone());
            }
        }
        by_job.sort_unstable();
        // Per host, its job count by outcome (counted, not listed: a fleet has many jobs).
        let mut outcomes_of: BTreeMap<&str, BTreeMap<&'static str, usize>> = BTreeMap::new();
        for j in &fleet.jobs {
            *outcomes_of
                .entry(j.host.as_str())
                .or_default()
                .entry(j.outcome.as_str())
                .or_default() += 1;
        }
        let hosts = fleet
            .hosts
            .values()
            .map(|h| {
                let outcomes = outcomes_of.remove(h.name.as_str()).unwrap_or_default();
                HostRow {
                    name: h.name.clone(),
                    jobs: outcomes.values().sum(),
                    outcomes,
                    service_state_changes: h.service.state_changes as usize,
                    service_start_type_changes: h.service.start_type_changes as usize,
                    service_start_failures: h.service.start_failures.len(),
                    service_crashes: h.service.crashes.len(),
                    config: h
                        .config
                        .iter()
                        .map(|(k, v)| (k.clone(), v.0.clone()))
                        .collect(),
                    policy: h
                        .policy
                        .iter()
                        .map(|(k, v)| (k.clone(), v.0.clone()))
                        .collect(),
                    winhttp_proxy: h.winhttp_proxy.as_ref().map(|(direct, p, b)| {
                        if *direct {
                            "direct".to_string()
                        } else {
                            format!(
                                "{} (bypass {})",
                                p.clone().unwrap_or_default(),
                                b.clone().unwrap_or_else(|| "none".into())
                            )
                        }
                    }),
                    service_state: h.current_state.as_ref().map(|c| ServiceStateRow {
                        state: c.state.clone(),
                        code: c.code,
                        win32_exit_code: h
                            .config
                            .get("Win32ExitCode")
                            .and_then(|v| v.0.parse().ok()),
                        seen: c.time,
                        evidence: c.evidence.to_string(),
                    }),
                    logs_cleared: h.logs_cleared.iter().map(|l| l.1.clone()).collect(),
                    diagnoses: by_host.remove(h.name.as_str()).unwrap_or_default(),
                    clock: None,
                }
            })
            .collect();
        let mut by_update: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for d in &diagnoses {
            for u in &d.updates {
                by_update.entry(u.as_str()).or_default().push(d.id.clone());
            }
        }
        let mut updates = fleet.updates;
        for u in &mut updates {
            let keys: Vec<String> = u
                .jobs
                .iter()
                .map(|g| crate::correlate::job_key(&u.host, g))
                .collect();
            let mut ids: Vec<String> = keys
                .iter()
                .flat_map(|k| naming(&by_job, k))
                .map(|&(_, i)| diagnoses[i].id.clone())
                .chain(
                    by_update
                        .get(u.key().as_str())
                        .into_iter()
                        .flatten()
                        .cloned(),
                )
                .collect();
            ids.sort_by_key(|id| id.trim_start_matches('D').parse::<u32>().unwrap_or(0));
            ids.dedup();
            u.diagnoses = ids;
        }
        let mut sev: BTreeMap<&'static str, usize> = BTreeMap::new();
        for d in &diagnoses {
            *sev.entry(d.severity.as_str()).or_default() += 1;
        }
        let summary = Summary {
            inputs: inputs.len(),
            hosts: fleet.hosts.len(),
            jobs: fleet.jobs.len(),
            outcomes: outcome_counts(fleet.jobs.iter().map(|j| &**j)),
            diagnoses: sev,
            warnings: warnings.len(),
        };
        // Last, the jobs become rows: moved, not copied, so a fleet's jobs are not held twice.
        let jobs: Vec<JobRow> = fleet
            .jobs
            .into_iter()
            .map(|job| JobRow {
                diagnoses: naming(&by_job, &job.key())
                    .map(|&(_, i)| ids[i].clone())
                    .collect(),
                job,
            })
            .collect();
        drop(by_job);
        Report {
            schema: SCHEMA,
            summary,
            inputs,
            hosts,
            jobs,
            updates,
            diagnoses,
            warnings,
            window: None,
            unread: Vec::new(),
            failures,
        }
    }

    /// The most severe diagnosis, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.diagnoses.iter().map(|d| d.severity).max()
    }

    /// The jobs in the order a capped list shows them: failing, recovered, in progress,
    /// cancelled, succeeded; within each, the most errors first, then the latest seen, then by
    /// host and job. A fleet's first rows are then its worst jobs on any host, not every job
    /// of the host whose name sorts first.
    pub fn jobs_by_concern(&self) -> Vec<&JobRow> {
        let mut order: Vec<&JobRow> = self.jobs.iter().collect();
        // Stable: equal keys keep report order (host, then job). The key is cheap to work out
        // again, where caching it would hold one per job of the fleet.
        order.sort_by_key(|j| {
            let errors: u64 = j.errors.values().map(|&n| u64::from(n)).sum();
            (
                outcome_rank(j.outcome),
                std::cmp::Reverse(errors),
                std::cmp::Reverse(j.last_seen),
            )
        });
        order
    }
}

/// Failing first, succeeded last.
fn outcome_rank(o: Outcome) -> u8 {
    match o {
        Outcome::Failing => 0,
        Outcome::Recovered => 1,
        Outcome::InProgress => 2,
        Outcome::Cancelled => 3,
        Outcome::Succeeded => 4,
    }
}

/// One update across the fleet, for the update tables: where it failed and got through, its
/// codes, the diagnoses that name it or its jobs, and how its jobs were linked.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateLine<'a> {
    /// The title (from any host's record), else the GUID.
    pub name: &'a str,
    pub kb: Option<&'a str>,
    pub failed: BTreeSet<&'a str>,
    pub succeeded: BTreeSet<&'a str>,
    /// Hosts where it was last seen started, neither failed nor through.
    pub pending: BTreeSet<&'a str>,
    /// Failures per code, over all hosts.
    pub codes: BTreeMap<HResult, u32>,
    /// Diagnosis ids, in rank order.
    pub diagnoses: Vec<&'a str>,
    pub links: BTreeSet<LinkMethod>,
}

/// The report's updates grouped by update (GUID, else title): the ones that failed on most
/// hosts first, then by name.
pub fn update_lines(r: &Report) -> Vec<UpdateLine<'_>> {
    let mut by_id: BTreeMap<&str, UpdateLine> = BTreeMap::new();
    for u in &r.updates {
        let id = u.guid.as_deref().unwrap_or(&u.title);
        let line = by_id.entry(id).or_insert_with(|| UpdateLine {
            name: u.name(),
            kb: None,
            failed: BTreeSet::new(),
            succeeded: BTreeSet::new(),
            pending: BTreeSet::new(),
            codes: BTreeMap::new(),
            diagnoses: Vec::new(),
            links: BTreeSet::new(),
        });
        if line.kb.is_none() && !u.title.is_empty() {
            line.name = &u.title;
            line.kb = u.kb.as_deref();
        }
        let host = u.host.as_str();
        match u.outcome {
            UpdateStage::DownloadFailed | UpdateStage::InstallFailed | UpdateStage::ScanFailed => {
                line.failed.insert(host)
            }
            UpdateStage::Downloaded | UpdateStage::Installed => line.succeeded.insert(host),
            UpdateStage::DownloadStarted | UpdateStage::InstallStarted => line.pending.insert(host),
        };
        for (c, n) in &u.errors {
            *line.codes.entry(*c).or_default() += n;
        }
        line.diagnoses
            .extend(u.diagnoses.iter().map(String::as_str));
        line.links.extend(u.links.values().copied());
    }
    let mut lines: Vec<UpdateLine> = by_id.into_values().collect();
    for l in &mut lines {
        l.diagnoses
            .sort_by_key(|id| id.trim_start_matches('D').parse::<u32>().unwrap_or(0));
        l.diagnoses.dedup();
    }
    lines.sort_by(|a, b| {
        b.failed
            .len()
            .cmp(&a.failed.len())
            .then_with(|| a.name.cmp(b.name))
    });
    lines
}

/// The entries of `by_job` (sorted) for job `key`.
fn naming<'a>(by_job: &'a [(&str, usize)], key: &str) -> std::slice::Iter<'a, (&'a str, usize)> {
    let from = by_job.partition_point(|(k, _)| *k < key);
    let to = from + by_job[from..].partition_point(|(k, _)| *k == key);
    by_job[from..to].iter()
}

fn outcome_counts<'a>(jobs: impl Iterator<Item = &'a Job>) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for j in jobs {
        *m.entry(j.outcome.as_str()).or_default() += 1;
    }
    m
}

/// Every failed attempt of every job, and every failed start of the BITS service, as timeline
/// points in order. The rules are done with a job's failed attempts and evidence records by
/// now and its row keeps neither: they are freed here, first, so what the report is built
/// from next fits in their room.
fn timeline(fleet: &mut Fleet) -> Vec<FailurePoint> {
    for j in &mut fleet.jobs {
        j.evidence = Vec::new();
    }
    let mut points: Vec<FailurePoint> = Vec::with_capacity(
        fleet.jobs.iter().map(|j| j.failures.len()).sum::<usize>()
            + fleet
                .hosts
                .values()
                .map(|h| h.service.start_failures.len())
                .sum::<usize>(),
    );
    // Service start failures belong on the timeline too: a host whose BITS cannot start has
    // no transfer to fail, and would otherwise be missing from it.
    for (i, h) in fleet.hosts.values().enumerate() {
        points.extend(h.service.start_failures.iter().filter_map(|f| {
            Some(FailurePoint {
                time: f.time,
                host: i as u32,
                code: f.error?,
            })
        }));
    }
    // The host rows are made from `fleet.hosts`, in the same order.
    let names: Vec<&str> = fleet.hosts.keys().map(String::as_str).collect();
    for j in &mut fleet.jobs {
        if j.failures.is_empty() {
            continue;
        }
        if let Ok(host) = names.binary_search(&j.host.as_str()) {
            points.extend(j.failures.iter().map(|f| FailurePoint {
                time: f.time,
                host: host as u32,
                code: f.hr,
            }));
        }
        j.failures = Vec::new();
    }
    // Points equal in order are equal in every field: an unstable sort gives the same list.
    points.sort_unstable();
    points
}
