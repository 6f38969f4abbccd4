//! Update failures as diagnoses: one per (update, code), scoped like the transfer failures
//! (fleet when two or more hosts fail the same update with the same code, else host), with the
//! Windows Update agent code's meaning and fix. An update whose download went through BITS jobs
//! that a transfer diagnosis covers is placed under that diagnosis (`explained_by`): the BITS
//! root cause is what to fix first.

use super::{Category, Diagnosis, Scope};
use crate::correlate::{Fleet, Update};
use crate::knowledge::Knowledge;
use crate::link::LinkMethod;
use crate::model::{HResult, UpdateStage, When};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Rule name of an update that still fails.
pub const FAILURE: &str = "update-failure";
/// Rule name of an update that failed and got through later.
pub const RECOVERED: &str = "update-recovered";

/// Did the update get through after its failures (last seen downloaded or installed)?
pub fn got_through(u: &Update) -> bool {
    matches!(u.outcome, UpdateStage::Installed | UpdateStage::Downloaded)
}

/// What the update was doing when it failed, for titles.
fn verb(stage: UpdateStage) -> &'static str {
    match stage {
        UpdateStage::DownloadStarted | UpdateStage::DownloadFailed | UpdateStage::Downloaded => {
            "download"
        }
        UpdateStage::InstallStarted | UpdateStage::InstallFailed | UpdateStage::Installed => {
            "install"
        }
        UpdateStage::ScanFailed => "scan",
    }
}

pub(super) fn run(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    // (update identity, code, got through later) -> the updates (one per host)
    let mut groups: BTreeMap<(String, HResult, bool), Vec<&Update>> = BTreeMap::new();
    for u in &fleet.updates {
        let id = u.guid.as_deref().unwrap_or(&u.title).to_string();
        for hr in u.errors.keys() {
            groups
                .entry((id.clone(), *hr, got_through(u)))
                .or_default()
                .push(u);
        }
    }
    for ((_, hr, recovered), ups) in groups {
        out.push(diagnosis(kb, hr, recovered, &ups));
    }
}

fn diagnosis(kb: &Knowledge, hr: HResult, recovered: bool, ups: &[&Update]) -> Diagnosis {
    let hosts: BTreeSet<&str> = ups.iter().map(|u| u.host.as_str()).collect();
    let scope = if hosts.len() >= 2 {
        Scope::Fleet
    } else {
        Scope::Host
    };
    let e = kb.explain(hr);
    let severity = super::failure_severity(&e, recovered);
    let rule = if recovered { RECOVERED } else { FAILURE };
    let mut d = Diagnosis::new(rule, Category::Failure, severity, scope);
    d.symptom = Some(format!("update:{hr}"));
    // The name and KB of the update: the first record that has a title.
    let named = ups.iter().find(|u| !u.title.is_empty()).unwrap_or(&ups[0]);
    let name = match &named.kb {
        Some(k) if !named.title.contains(k.as_str()) => format!("{} ({k})", named.name()),
        _ => named.name().to_string(),
    };
    // The stage the failure stopped at: the last failing stage of the first update that failed
    // (all of one group share the code, so they failed at the same step).
    let stage = ups
        .iter()
        .map(|u| u.outcome)
        .find(|s| {
            matches!(
                s,
                UpdateStage::DownloadFailed | UpdateStage::InstallFailed | UpdateStage::ScanFailed
            )
        })
        .unwrap_or(UpdateStage::InstallFailed);
    let mut occurrences = 0u64;
    for u in ups {
        d.hosts.insert(u.host.clone());
        d.updates.insert(u.key());
        for j in &u.jobs {
            d.jobs.insert(crate::correlate::job_key(&u.host, j));
        }
        When::widen(&mut d.first_seen, &mut d.last_seen, u.first_seen);
        When::widen(&mut d.first_seen, &mut d.last_seen, u.last_seen);
        occurrences += u64::from(u.errors.get(&hr).copied().unwrap_or(0));
        d.cite(&u.evidence);
    }
    d.occurrences = occurrences;
    let what = e.symbol.clone().unwrap_or_else(|| "unknown code".into());
    let where_ = match scope {
        Scope::Fleet => format!("{} hosts", hosts.len()),
        _ => hosts.iter().next().copied().unwrap_or("").to_string(),
    };
    d.title = if recovered {
        format!("{hr} {what}: {name} on {where_}: got through later")
    } else {
        format!("{hr} {what}: {name} failed to {} on {where_}", verb(stage))
    };
    let hostlist = super::capped_list(&hosts.iter().map(|h| h.to_string()).collect());
    d.proof = format!(
        "{occurrences} failure(s) with {hr} reported by Windows Update for {name} on {hostlist}{}",
        if recovered {
            "; the update was downloaded or installed afterwards on every one of them".to_string()
        } else {
            format!("; the last thing seen is a failed {}", verb(stage))
        }
    );
    d.next_check = if recovered {
        "Nothing to do unless it recurs: a later capture with the same code and no install \
         would make it a finding"
            .into()
    } else {
        format!(
            "After the fix, retry on one host (`UsoClient StartScan` on Windows 10 and later, \
             `wuauclt /detectnow` before) and read `Get-WindowsUpdateLog` (or \
             %windir%\\WindowsUpdate.log): the update installing shows it resolved; {hr} again \
             shows the cause is elsewhere"
        )
    };
    d.with_code(kb, hr)
}

/// Place each update diagnosis whose BITS jobs a transfer diagnosis covers under it (the one
/// covering most of its jobs; ties to the earlier one). Runs after [`super::fold::fold`] gave
/// every diagnosis its tag. The jobs then leave the update diagnosis: a job is explained by
/// one diagnosis (the update's own record still lists its jobs).
pub(super) fn place(out: &mut [Diagnosis]) {
    for c in 0..out.len() {
        if !out[c].rule.starts_with("update-") {
            continue;
        }
        let jobs = std::mem::take(&mut out[c].jobs);
        if jobs.is_empty() || out[c].under.is_some() {
            continue;
        }
        let best = out
            .iter()
            .filter(|p| p.rule == "transfer-failure" || p.rule == "host-network")
            .map(|p| (p.jobs.intersection(&jobs).count(), p.tag))
            .filter(|(n, _)| *n > 0)
            .min_by_key(|(n, tag)| (std::cmp::Reverse(*n), *tag));
        if let Some((_, tag)) = best {
            out[c].under = Some(tag);
            let keys = out[c].updates.clone();
            if let Some(p) = out.iter_mut().find(|p| p.tag == tag) {
                p.updates.extend(keys);
            }
        }
    }
}

/// One update a BITS diagnosis stops.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedUpdate {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The hosts where the update did not get through.
    pub hosts: BTreeSet<String>,
    /// How its jobs were linked to it (`job_guid`, `content_hash`).
    pub links: BTreeSet<LinkMethod>,
}

/// How many blocked updates a diagnosis's proof names (the JSON lists them all).
const PROOF_CAP: usize = 5;

/// Give every BITS diagnosis (a failure that names jobs, not an update diagnosis) the updates
/// that went through its jobs and did not get through: `blocks`, and their keys in `updates`.
pub(super) fn blocks(fleet: &Fleet, out: &mut [Diagnosis]) {
    // Job key -> (update, how linked), for updates that did not get through.
    let mut of_job: HashMap<String, Vec<(&Update, LinkMethod)>> = HashMap::new();
    for u in fleet.updates.iter().filter(|u| !got_through(u)) {
        for (g, m) in &u.links {
            of_job
                .entry(format!("{}/{g}", u.host))
                .or_default()
                .push((u, *m));
        }
    }
    if of_job.is_empty() {
        return;
    }
    for d in out.iter_mut() {
        if d.rule.starts_with("update-") || d.category == Category::Security {
            continue;
        }
        // Identity (GUID, else title) -> the update; a title from any host's record.
        let mut found: BTreeMap<&str, BlockedUpdate> = BTreeMap::new();
        for (u, m) in d.jobs.iter().filter_map(|j| of_job.get(j)).flatten() {
            let id = u.guid.as_deref().unwrap_or(&u.title);
            let b = found.entry(id).or_insert_with(|| BlockedUpdate {
                title: String::new(),
                kb: None,
                guid: u.guid.as_deref().map(str::to_string),
                hosts: BTreeSet::new(),
                links: BTreeSet::new(),
            });
            if b.title.is_empty() && !u.title.is_empty() {
                b.title = u.title.to_string();
                b.kb = u.kb.as_deref().map(str::to_string);
            }
            b.hosts.insert(u.host.to_string());
            b.links.insert(*m);
            d.updates.insert(u.key());
        }
        if found.is_empty() {
            continue;
        }
        d.blocks = found.into_values().collect();
        d.blocks
            .sort_by(|a, b| (&a.title, &a.guid).cmp(&(&b.title, &b.guid)));
        let names: Vec<String> = d
            .blocks
            .iter()
            .map(|b| {
                let name = if b.title.is_empty() {
                    b.guid.clone().unwrap_or_default()
                } else {
                    b.title.clone()
                };
                let kb = match &b.kb {
                    Some(k) if !name.contains(k.as_str()) => format!(" ({k})"),
                    _ => String::new(),
                };
                format!("{name}{kb} on {} host(s)", b.hosts.len())
            })
            .collect();
        let more = names.len().saturating_sub(PROOF_CAP);
        d.proof = format!(
            "{}{}It blocks {} update(s): {}{}.",
            d.proof,
            match d.proof.chars().last() {
                None => "",
                Some('.') => " ",
                Some(_) => ". ",
            },
            names.len(),
            names[..names.len().min(PROOF_CAP)].join("; "),
            if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Severity;
    use crate::model::{Evidence, Guid, Locator};

    fn up(host: &str, title: &str, outcome: UpdateStage, hr: u32, job: Option<&str>) -> Update {
        let t = When::Utc(jiff::Timestamp::from_second(1_600_000_000).unwrap());
        Update {
            host: host.into(),
            title: title.into(),
            kb: crate::correlate::kb_of(title).map(Into::into),
            guid: Some("A4D96D35-FFA1-45B3-B2F1-927F03DB4D1D".into()),
            revision: Some(201),
            outcome,
            errors: BTreeMap::from([(HResult(hr), 2)]),
            jobs: job.and_then(Guid::parse).into_iter().collect(),
            log_errors: BTreeMap::new(),
            links: BTreeMap::new(),
            first_seen: t,
            last_seen: t,
            diagnoses: Vec::new(),
            evidence: vec![Evidence {
                path: format!("{host}.evtx").into(),
                at: Locator::Record(7),
            }],
        }
    }

    fn fleet(updates: Vec<Update>) -> Fleet {
        Fleet {
            updates,
            ..Default::default()
        }
    }

    const CU: &str = "2024-01 Cumulative Update for Windows 11 (KB5034441)";

    #[test]
    fn same_update_and_code_on_two_hosts_is_one_fleet_diagnosis() {
        let kb = Knowledge::builtin();
        let f = fleet(vec![
            up("PC1", CU, UpdateStage::InstallFailed, 0x8024_8007, None),
            up("PC2", CU, UpdateStage::InstallFailed, 0x8024_8007, None),
            up("PC3", CU, UpdateStage::InstallFailed, 0x8024_6013, None),
        ]);
        let mut out = Vec::new();
        run(&f, &kb, &mut out);
        assert_eq!(out.len(), 2);
        let fleet_d = out.iter().find(|d| d.scope == Scope::Fleet).unwrap();
        assert_eq!(fleet_d.rule, FAILURE);
        assert_eq!(fleet_d.symbol.as_deref(), Some("WU_E_DS_NODATA"));
        assert_eq!(fleet_d.hosts.len(), 2);
        assert_eq!(fleet_d.occurrences, 4);
        assert!(fleet_d.title.contains("KB5034441"), "{}", fleet_d.title);
        assert!(fleet_d.title.contains("failed to install on 2 hosts"));
        assert!(!fleet_d.fix.is_empty());
        let host_d = out.iter().find(|d| d.scope == Scope::Host).unwrap();
        assert_eq!(host_d.symbol.as_deref(), Some("WU_E_DM_UPDATEREMOVED"));
        assert_eq!(host_d.hosts.iter().next().unwrap(), "PC3");
    }

    #[test]
    fn an_update_installed_after_its_failure_is_recovered_info() {
        let kb = Knowledge::builtin();
        let f = fleet(vec![up(
            "PC1",
            CU,
            UpdateStage::Installed,
            0x8024_001E,
            None,
        )]);
        let mut out = Vec::new();
        run(&f, &kb, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, RECOVERED);
        assert_eq!(out[0].severity, Severity::Info);
        assert_eq!(out[0].symbol.as_deref(), Some("WU_E_SERVICE_STOP"));
        assert!(out[0]
            .updates
            .contains("PC1/A4D96D35-FFA1-45B3-B2F1-927F03DB4D1D"));
    }

    #[test]
    fn an_update_whose_job_a_transfer_diagnosis_covers_is_placed_under_it() {
        let kb = Knowledge::builtin();
        let job = "0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E";
        let f = fleet(vec![up(
            "PC1",
            CU,
            UpdateStage::DownloadFailed,
            0x8024_6009,
            Some(job),
        )]);
        let mut out = Vec::new();
        let mut bits = Diagnosis::new(
            "transfer-failure",
            Category::Failure,
            Severity::Error,
            Scope::Job,
        );
        bits.jobs
            .insert(format!("PC1/{}", Guid::parse(job).unwrap()));
        let other = Diagnosis::new(
            "transfer-failure",
            Category::Failure,
            Severity::Error,
            Scope::Job,
        );
        out.push(other);
        out.push(bits);
        run(&f, &kb, &mut out);
        for (i, d) in out.iter_mut().enumerate() {
            d.tag = i;
        }
        assert_eq!(out[2].jobs.iter().next(), out[1].jobs.iter().next());
        place(&mut out);
        assert_eq!(out[2].under, Some(1));
        assert!(
            out[2].jobs.is_empty(),
            "the job is the transfer diagnosis's"
        );
        assert!(out[2].title.contains("failed to download"));
        assert!(out[1]
            .updates
            .contains("PC1/A4D96D35-FFA1-45B3-B2F1-927F03DB4D1D"));
        assert!(out[0].updates.is_empty());
    }
}
