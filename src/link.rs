//! Updates <-> the BITS jobs that carried their downloads, and how each link was made.
//!
//! * [`LinkMethod::JobGuid`]: the update's own record names the job (WindowsUpdate.log `BITS job
//!   {G} failed, updateId = U`, `New download job [UpdateId = U]` then `BITS job initialized,
//!   JobId = {G}`).
//! * [`LinkMethod::ContentHash`]: a job downloads a content file whose SHA-1 (WSUS
//!   `/Content/E7/BA69...F7E7.exe`, Microsoft Update `.../windows10.0-kb5001567-x64_e3c7...ea83.msu`,
//!   the local `SoftwareDistribution\Download\...\ba69...f7e7`) is one a job linked by GUID
//!   downloaded for the same update (on any host: content files are the same everywhere), and
//!   the job's time span lies within [`TIME_WINDOW`] of the update's. This links a host with
//!   only event logs through another host's WindowsUpdate.log.
//! * [`LinkMethod::UrlKb`]: for a job still unlinked, a file name that names a KB
//!   (`.../windows10.0-kb5001567-x64_<sha1>.msu`, as Microsoft Update serves files) links it to
//!   the update of that KB on the same host, within [`TIME_WINDOW`]. WSUS content URLs carry
//!   only the hash, so this helps fleets downloading from Microsoft Update with no log at all.
//!
//! Runs once on the finished fleet; it adds no per-event state.

use crate::correlate::{Fleet, Job, Update};
use crate::model::{Guid, When};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How an update was linked to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkMethod {
    /// The update's record names the job GUID.
    JobGuid,
    /// The job downloads the update's content file (same SHA-1), near the update in time.
    ContentHash,
    /// The job's file name names the update's KB (Microsoft Update's
    /// `windows10.0-kb5001567-x64_<sha1>.msu`), on the same host, near the update in time.
    UrlKb,
}

impl LinkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkMethod::JobGuid => "job_guid",
            LinkMethod::ContentHash => "content_hash",
            LinkMethod::UrlKb => "url_kb",
        }
    }
}

/// How far apart (gap between the two time spans) a job and an update may be for a content
/// hash link: an hour, longer than Windows Update waits before giving up on a download attempt
/// and shorter than the time between two scans (22 hours by default).
pub const TIME_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_secs(3600);

/// The SHA-1 a Windows Update content URL or downloaded file name carries, upper-case: the file
/// stem is the 40 hex digits (WSUS `/Content/XX/<SHA1>.cab`, the SoftwareDistribution file), or
/// ends with `_` and them (`download.windowsupdate.com/.../<name>_<sha1>.msu`).
pub fn content_hash(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = match name.rfind('.') {
        Some(i) => &name[..i],
        None => name,
    };
    let tail = match stem.rfind('_') {
        Some(i) => &stem[i + 1..],
        None => stem,
    };
    (tail.len() == 40 && tail.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| tail.to_ascii_uppercase())
}

/// Every content hash a job's URLs and files carry.
fn job_hashes(j: &Job) -> BTreeSet<String> {
    j.urls
        .iter()
        .map(crate::model::Shared::as_str)
        .chain(
            j.files()
                .iter()
                .flat_map(|f| [f.remote.as_str(), f.local.as_str()]),
        )
        .filter_map(content_hash)
        .collect()
}

/// The update's identity across hosts: its GUID, else its title.
fn identity(u: &Update) -> &str {
    u.guid.as_deref().unwrap_or(&u.title)
}

/// The gap between two time spans (zero when they overlap); `None` when the times cannot be
/// placed on one line (a local time of unknown offset, or no time).
fn gap(a: (When, When), b: (When, When)) -> Option<jiff::SignedDuration> {
    let (a0, a1) = (a.0.instant()?, a.1.instant()?);
    let (b0, b1) = (b.0.instant()?, b.1.instant()?);
    Some(if a1 < b0 {
        b0.duration_since(a1)
    } else if b1 < a0 {
        a0.duration_since(b1)
    } else {
        jiff::SignedDuration::ZERO
    })
}

/// Link every update of `fleet` to its jobs (see the module documentation): fills
/// `Update::links` (and `Update::jobs` with the jobs linked by content hash).
pub fn link(fleet: &mut Fleet) {
    // Job GUID links, as the update records name them.
    for u in &mut fleet.updates {
        for g in &u.jobs {
            u.links.entry(*g).or_insert(LinkMethod::JobGuid);
        }
    }
    by_content_hash(fleet);
    by_url_kb(fleet);
}

/// The closest candidate (update index, gap to the job) within [`TIME_WINDOW`]; when the times
/// cannot be compared, only a single candidate.
fn closest(candidates: &[(usize, Option<jiff::SignedDuration>)]) -> Option<usize> {
    match candidates {
        [(i, None)] => Some(*i),
        _ => candidates
            .iter()
            .filter_map(|(i, d)| d.map(|d| (d, *i)))
            .filter(|(d, _)| *d <= TIME_WINDOW)
            .min()
            .map(|(_, i)| i),
    }
}

/// Link each (update index, job) of `found` by `how` (a link found earlier stays).
fn attach(fleet: &mut Fleet, found: Vec<(usize, Guid)>, how: LinkMethod) {
    for (i, g) in found {
        let u = &mut fleet.updates[i];
        u.jobs.insert(g);
        u.links.entry(g).or_insert(how);
    }
}

/// Every job linked to some update, as (host, GUID).
fn taken(fleet: &Fleet) -> BTreeSet<(String, Guid)> {
    fleet
        .updates
        .iter()
        .flat_map(|u| u.jobs.iter().map(|g| (u.host.to_string(), *g)))
        .collect()
}

fn by_content_hash(fleet: &mut Fleet) {
    // (host, GUID) -> the job, for the jobs that carry a content hash.
    let mut hashes: HashMap<(&str, &Guid), BTreeSet<String>> = HashMap::new();
    for j in &fleet.jobs {
        if let Some(g) = &j.id {
            let h = job_hashes(j);
            if !h.is_empty() {
                hashes.insert((j.host.as_str(), g), h);
            }
        }
    }
    if hashes.is_empty() {
        return;
    }
    // Update identity -> the content hashes of the jobs linked to it by GUID (any host).
    let mut of_update: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in &fleet.updates {
        for g in &u.jobs {
            if let Some(h) = hashes.get(&(u.host.as_str(), g)) {
                of_update
                    .entry(identity(u).to_string())
                    .or_default()
                    .extend(h.iter().cloned());
            }
        }
    }
    if of_update.is_empty() {
        return;
    }
    // Jobs already linked by GUID stay with that update.
    let taken = taken(fleet);
    let mut by_host: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, u) in fleet.updates.iter().enumerate() {
        if of_update.contains_key(identity(u)) {
            by_host.entry(u.host.as_str()).or_default().push(i);
        }
    }
    // Per job with a hash: the closest update of its host that shares it.
    let mut found: Vec<(usize, Guid)> = Vec::new();
    for j in &fleet.jobs {
        let Some(g) = &j.id else { continue };
        if taken.contains(&(j.host.to_string(), *g)) {
            continue;
        }
        let Some(mine) = hashes.get(&(j.host.as_str(), g)) else {
            continue;
        };
        let candidates: Vec<(usize, Option<jiff::SignedDuration>)> = by_host
            .get(j.host.as_str())
            .into_iter()
            .flatten()
            .map(|&i| (i, &fleet.updates[i]))
            .filter(|(_, u)| {
                of_update
                    .get(identity(u))
                    .is_some_and(|h| !h.is_disjoint(mine))
            })
            .map(|(i, u)| {
                let d = gap((j.first_seen, j.last_seen), (u.first_seen, u.last_seen));
                (i, d)
            })
            .collect();
        if let Some(i) = closest(&candidates) {
            found.push((i, *g));
        }
    }
    attach(fleet, found, LinkMethod::ContentHash);
}

/// `KB5001567` from a URL's or path's file name (`windows10.0-kb5001567-x64_....msu`), if it
/// names one (6 to 8 digits after `kb`, not part of a longer word).
pub fn url_kb(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let b = name.as_bytes();
    let mut from = 0;
    while let Some(p) = name[from..].find("kb") {
        let at = from + p;
        let digits = b[at + 2..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let before_ok = at == 0 || !b[at - 1].is_ascii_alphanumeric();
        let after_ok = b.get(at + 2 + digits).is_none_or(|c| !c.is_ascii_digit());
        if before_ok && (6..=8).contains(&digits) && after_ok {
            return Some(format!("KB{}", &name[at + 2..at + 2 + digits]));
        }
        from = at + 2;
    }
    None
}

fn by_url_kb(fleet: &mut Fleet) {
    let mut by_host: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, u) in fleet.updates.iter().enumerate() {
        if let Some(kb) = &u.kb {
            by_host
                .entry((u.host.as_str(), kb.as_str()))
                .or_default()
                .push(i);
        }
    }
    if by_host.is_empty() {
        return;
    }
    let taken = taken(fleet);
    let mut found: Vec<(usize, Guid)> = Vec::new();
    for j in &fleet.jobs {
        let Some(g) = &j.id else { continue };
        let kbs: BTreeSet<String> = j
            .urls
            .iter()
            .map(crate::model::Shared::as_str)
            .chain(j.files().iter().map(|f| f.remote.as_str()))
            .filter_map(url_kb)
            .collect();
        // One KB per job, else it is not clear which update the job carried.
        let [kb] = kbs.iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        if taken.contains(&(j.host.to_string(), *g)) {
            continue;
        }
        let candidates: Vec<(usize, Option<jiff::SignedDuration>)> = by_host
            .get(&(j.host.as_str(), kb.as_str()))
            .into_iter()
            .flatten()
            .map(|&i| {
                let u = &fleet.updates[i];
                (
                    i,
                    gap((j.first_seen, j.last_seen), (u.first_seen, u.last_seen)),
                )
            })
            .collect();
        if let Some(i) = closest(&candidates) {
            found.push((i, *g));
        }
    }
    attach(fleet, found, LinkMethod::UrlKb);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::Outcome;
    use crate::model::UpdateStage;

    #[test]
    fn content_hashes_of_real_url_forms() {
        // WindowsUpdate.log `Downloading from ... to ...` (LogJoint test sample, 2013).
        assert_eq!(
            content_hash(
                "http://sup-eu1-nlb.europe.corp.microsoft.com/Content/E7/BA6933C31C37166A9CAAC87AA635AB5A5BFDF7E7.exe"
            )
            .as_deref(),
            Some("BA6933C31C37166A9CAAC87AA635AB5A5BFDF7E7")
        );
        assert_eq!(
            content_hash(
                "C:\\windows\\SoftwareDistribution\\Download\\29e9d7b4b531db72a29aea5b8094b5cd\\ba6933c31c37166a9caac87aa635ab5a5bfdf7e7"
            )
            .as_deref(),
            Some("BA6933C31C37166A9CAAC87AA635AB5A5BFDF7E7")
        );
        assert_eq!(
            content_hash(
                "http://download.windowsupdate.com/d/msdownload/update/software/updt/2021/03/windows10.0-kb5001567-x64_e3c7e1cb6fa3857b5b0c8cf487e7e16213b1ea83.msu"
            )
            .as_deref(),
            Some("E3C7E1CB6FA3857B5B0C8CF487E7E16213B1EA83")
        );
        // Not content files: a 64-digit hash, a short one, no file name.
        for url in [
            "http://storage.googleapis.com/update-delta/x/17f6e5d11e18da93834a470f7266ede269d3660ac7a4c31c0d0acdb0c4c34ba2.crxd",
            "https://g.live.com/odclientsettings/Prod",
            "http://wsus:8530/Content/E7/BA6933C31C37166A9CAAC87AA635AB5A5BFDF7E.cab",
            "",
        ] {
            assert_eq!(content_hash(url), None, "{url}");
        }
    }

    #[test]
    fn kb_of_microsoft_update_file_names() {
        assert_eq!(
            url_kb("http://download.windowsupdate.com/d/msdownload/update/software/updt/2021/03/windows10.0-kb5001567-x64_e3c7e1cb6fa3857b5b0c8cf487e7e16213b1ea83.msu").as_deref(),
            Some("KB5001567")
        );
        assert_eq!(
            url_kb("http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/04/windows10.0-kb5036892-x64.cab").as_deref(),
            Some("KB5036892")
        );
        // A KB in a folder, too few digits, or inside a word is not the file's.
        for url in [
            "http://x/kb5001567/setup.exe",
            "http://x/windows-kb123.cab",
            "http://x/backb5001567.cab",
            "http://wsus:8530/Content/E7/BA6933C31C37166A9CAAC87AA635AB5A5BFDF7E7.cab",
        ] {
            assert_eq!(url_kb(url), None, "{url}");
        }
    }

    #[test]
    fn a_job_whose_file_names_the_kb_links_to_that_update_on_its_host() {
        let cu = "http://download.windowsupdate.com/d/msdownload/update/software/secu/2024/05/windows10.0-kb5037768-x64_3f2a9c41d0b7e65a8c1f4d2e9b0a7c6d5e4f3a21.cab";
        let mut u = update("PC1", U1, None, 0, 30);
        u.kb = Some("KB5037768".into());
        let mut far = update("PC2", U1, None, 0, 30);
        far.kb = Some("KB5037768".into());
        let mut f = Fleet {
            jobs: vec![job("PC1", J1, cu, 5, 20), job("PC2", J2, cu, 900, 910)],
            updates: vec![u, far],
            ..Default::default()
        };
        link(&mut f);
        assert_eq!(
            f.updates[0].links.get(&Guid::parse(J1).unwrap()),
            Some(&LinkMethod::UrlKb)
        );
        assert!(f.updates[1].jobs.is_empty(), "15 hours apart: no link");
    }

    fn at(min: i64) -> When {
        When::Utc(jiff::Timestamp::from_second(1_700_000_000 + min * 60).unwrap())
    }

    fn job(host: &str, g: &str, url: &str, from: i64, to: i64) -> Box<Job> {
        Box::new(Job {
            host: host.into(),
            id: Guid::parse(g),
            name: "Windows Update".into(),
            owner: "NT AUTHORITY\\SYSTEM".into(),
            outcome: Outcome::Failing,
            errors: Default::default(),
            urls: [url.into()].into_iter().collect(),
            proxies: Default::default(),
            first_seen: at(from),
            last_seen: at(to),
            process: None,
            details: None,
            created: true,
            failures: Vec::new(),
            last_success: None,
            evidence: Vec::new(),
            sources: Default::default(),
        })
    }

    fn update(host: &str, guid: &str, job: Option<&str>, from: i64, to: i64) -> Update {
        Update {
            host: host.into(),
            title: Default::default(),
            kb: None,
            guid: Some(guid.into()),
            revision: Some(1),
            outcome: UpdateStage::DownloadFailed,
            errors: BTreeMap::new(),
            jobs: job.and_then(Guid::parse).into_iter().collect(),
            log_errors: BTreeMap::new(),
            links: BTreeMap::new(),
            first_seen: at(from),
            last_seen: at(to),
            diagnoses: Vec::new(),
            evidence: Vec::new(),
        }
    }

    const J1: &str = "{11111111-0000-0000-0000-000000000001}";
    const J2: &str = "{22222222-0000-0000-0000-000000000002}";
    const J3: &str = "{33333333-0000-0000-0000-000000000003}";
    const U1: &str = "AAAAAAAA-0000-0000-0000-000000000001";
    const U2: &str = "BBBBBBBB-0000-0000-0000-000000000002";
    const HASH1: &str = "http://wsus:8530/Content/E7/BA6933C31C37166A9CAAC87AA635AB5A5BFDF7E7.cab";
    const HASH2: &str = "http://wsus:8530/Content/01/0123456789ABCDEF0123456789ABCDEF01234501.cab";

    #[test]
    fn a_job_named_by_the_update_log_links_by_guid_and_teaches_its_hash_to_other_hosts() {
        let mut f = Fleet {
            jobs: vec![
                job("PC1", J1, HASH1, 0, 30),
                // PC2: the same content file, near PC2's own record of the update.
                job("PC2", J2, HASH1, 100, 130),
                // PC2: another file at the same time: not this update's.
                job("PC2", J3, HASH2, 100, 130),
            ],
            updates: vec![
                update("PC1", U1, Some(J1), 0, 30),
                update("PC2", U1, None, 95, 140),
            ],
            ..Default::default()
        };
        link(&mut f);
        let pc1 = &f.updates[0];
        assert_eq!(
            pc1.links.get(&Guid::parse(J1).unwrap()),
            Some(&LinkMethod::JobGuid)
        );
        let pc2 = &f.updates[1];
        assert_eq!(pc2.jobs, BTreeSet::from([Guid::parse(J2).unwrap()]));
        assert_eq!(
            pc2.links.get(&Guid::parse(J2).unwrap()),
            Some(&LinkMethod::ContentHash)
        );
    }

    #[test]
    fn a_content_hash_link_needs_the_job_near_the_update_in_time() {
        let mut f = Fleet {
            jobs: vec![
                job("PC1", J1, HASH1, 0, 30),
                job("PC2", J2, HASH1, 1000, 1010),
            ],
            updates: vec![
                update("PC1", U1, Some(J1), 0, 30),
                update("PC2", U1, None, 0, 30),
            ],
            ..Default::default()
        };
        link(&mut f);
        assert!(f.updates[1].jobs.is_empty(), "16 hours apart: no link");
    }

    #[test]
    fn a_shared_content_file_goes_to_the_closest_update() {
        let mut f = Fleet {
            jobs: vec![
                job("PC1", J1, HASH1, 0, 10),
                job("PC1", J2, HASH1, 500, 510),
                job("PC2", J3, HASH1, 500, 505),
            ],
            updates: vec![
                update("PC1", U1, Some(J1), 0, 10),
                update("PC1", U2, Some(J2), 500, 510),
                update("PC2", U1, None, 0, 10),
                update("PC2", U2, None, 490, 520),
            ],
            ..Default::default()
        };
        link(&mut f);
        assert!(f.updates[2].jobs.is_empty());
        assert_eq!(
            f.updates[3].links.get(&Guid::parse(J3).unwrap()),
            Some(&LinkMethod::ContentHash)
        );
    }
}
