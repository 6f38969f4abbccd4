//! User-supplied Sigma rules for the Bits-Client log (`--sigma DIR`), evaluated with the
//! `sigma-rust` crate. bitsdoctor keeps jobs, not raw records, so each job is turned back into
//! the events it was seen through, with the field names the Bits-Client manifest uses (and so
//! the names Sigma rules use): event 3 (`jobTitle`, `jobId`, `jobOwner`, `processPath`), event 59
//! (`name`, `Id`, `url`) for every remote URL seen in a transfer event, and event 16403
//! (`jobTitle`, `jobId`, `jobOwner`, `RemoteName`, `LocalName`) for every file a 16403 named.
//! Only rules whose log source is `product: windows, service: bits-client` are used.

use crate::correlate::Job;
use std::path::Path;

/// Largest rule file read.
const MAX_RULE_BYTES: u64 = 1 << 20;
/// Most rule files read from one folder.
const MAX_RULES: usize = 10_000;

/// One loaded rule.
#[derive(Debug)]
pub struct SigmaRule {
    /// The file it came from, relative to the folder given.
    pub file: String,
    pub title: String,
    pub id: Option<String>,
    pub level: Option<String>,
    rule: sigma_rust::Rule,
}

/// The rules of a folder, and what was left out and why.
#[derive(Debug, Default)]
pub struct SigmaSet {
    pub rules: Vec<SigmaRule>,
    /// `file: reason` for every file not used (another log source, not a rule, too large).
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SigmaError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a folder of Sigma rules")]
    NotAFolder { path: String },
}

impl SigmaSet {
    /// Load every `.yml` / `.yaml` file under `dir` (sorted by path, so output is stable).
    pub fn load(dir: &Path) -> Result<SigmaSet, SigmaError> {
        let shown = dir.display().to_string();
        if !dir.is_dir() {
            return Err(SigmaError::NotAFolder { path: shown });
        }
        let mut files: Vec<_> = walkdir::WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().to_ascii_lowercase();
                n.ends_with(".yml") || n.ends_with(".yaml")
            })
            .map(|e| e.into_path())
            .collect();
        files.sort();
        let mut set = SigmaSet::default();
        for path in files {
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            if set.rules.len() >= MAX_RULES {
                set.skipped
                    .push(format!("{rel}: more than {MAX_RULES} rules"));
                continue;
            }
            match load_one(&path) {
                Ok(Some(rule)) => set.rules.push(SigmaRule {
                    file: rel,
                    title: rule.title.clone(),
                    id: rule.id.clone(),
                    level: rule.level.as_ref().map(|l| format!("{l:?}").to_lowercase()),
                    rule,
                }),
                Ok(None) => set
                    .skipped
                    .push(format!("{rel}: log source is not windows / bits-client")),
                Err(why) => set.skipped.push(format!("{rel}: {why}")),
            }
        }
        Ok(set)
    }

    /// The rules a job matches, each with the event it matched through.
    pub fn matches<'a>(&'a self, job: &Job) -> Vec<(&'a SigmaRule, String)> {
        let events = job_events(job);
        let mut out = Vec::new();
        for r in &self.rules {
            if let Some((_, shown)) = events.iter().find(|(e, _)| r.rule.is_match(e)) {
                out.push((r, shown.clone()));
            }
        }
        out
    }
}

fn load_one(path: &Path) -> Result<Option<sigma_rust::Rule>, String> {
    let bytes = crate::capped::read_capped(path, MAX_RULE_BYTES).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let rule = sigma_rust::rule_from_yaml(&text).map_err(|e| format!("not a Sigma rule: {e}"))?;
    let ls = &rule.logsource;
    let is =
        |v: &Option<String>, want: &str| v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(want));
    if is(&ls.product, "windows") && is(&ls.service, "bits-client") {
        Ok(Some(rule))
    } else {
        Ok(None)
    }
}

/// The events a job was seen through, rebuilt with Bits-Client field names, each with a short
/// description for the finding.
fn job_events(job: &Job) -> Vec<(sigma_rust::Event, String)> {
    let id = job.id.as_ref().map(|g| g.to_string()).unwrap_or_default();
    let mut out = Vec::new();
    let base = |eid: u32| {
        let mut e = sigma_rust::Event::new();
        e.insert("EventID", i64::from(eid));
        e.insert("Channel", "Microsoft-Windows-Bits-Client/Operational");
        e.insert("Provider_Name", "Microsoft-Windows-Bits-Client");
        e.insert("Computer", job.host.as_str());
        e
    };
    if job.created {
        let mut e = base(3);
        e.insert("jobTitle", job.name.as_str());
        e.insert("jobId", id.as_str());
        e.insert("jobOwner", job.owner.as_str());
        let mut shown = "event 3".to_string();
        if let Some(p) = &job.process {
            e.insert("processPath", p.as_str());
            shown = format!("event 3, processPath {p}");
        }
        out.push((e, shown));
    }
    for url in &job.urls {
        let mut e = base(59);
        e.insert("name", job.name.as_str());
        e.insert("Id", id.as_str());
        e.insert("url", url.as_str());
        out.push((e, format!("event 59, url {url}")));
    }
    for f in job.files().iter().filter(|f| f.from_16403) {
        let mut e = base(16403);
        e.insert("jobTitle", job.name.as_str());
        e.insert("jobId", id.as_str());
        e.insert("jobOwner", job.owner.as_str());
        e.insert("RemoteName", f.remote.as_str());
        e.insert("LocalName", f.local.as_str());
        out.push((
            e,
            format!("event 16403, RemoteName {} LocalName {}", f.remote, f.local),
        ));
    }
    out
}
