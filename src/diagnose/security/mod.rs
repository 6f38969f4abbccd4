//! The security lens: BITS jobs that look like abuse (MITRE ATT&CK T1197, BITS Jobs) beside the
//! failure diagnoses. Every finding is job-scoped and says what was seen, why it matters, the
//! ATT&CK technique and what to check next. It covers what the SigmaHQ Bits-Client rules cover
//! (jobs created by bitsadmin or PowerShell, executable extensions saved, file-sharing hosts,
//! raw IP addresses, uncommon top-level domains, payload folders) and what only a whole-job view
//! shows: a notification command line, a "download" of a local, UNC or `file:` source, a creator
//! that is a LOLBAS program, a script host or a program that never creates jobs, and jobs kept
//! alive far past BITS's own limits. What counts as suspicious is data ([`lists`]); user Sigma
//! rules run through [`sigma`].

pub mod lists;
pub mod sigma;

use super::{Category, Diagnosis, Scope, Severity};
use crate::correlate::{Fleet, Job, Outcome, JOB_EVIDENCE_CAP};
use crate::model::When;
use lists::{file_name, ListKind, Lists};
use sigma::SigmaSet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// BITS's default no-progress timeout (14 days): a job that asks for more keeps retrying
/// long after BITS would have given up.
const DEFAULT_NO_PROGRESS_SECS: u64 = 1_209_600;
/// BITS cancels a job nobody touched for 90 days, and 90 days is the longest download time
/// it allows by default: a job seen alive across more than that outlived both.
const MAX_NORMAL_LIFETIME_SECS: i64 = 90 * 24 * 3600;

/// What the lens judges with.
#[derive(Debug)]
pub struct Lens {
    pub lists: Lists,
    pub sigma: Option<SigmaSet>,
}

impl Default for Lens {
    fn default() -> Self {
        Lens {
            lists: Lists::builtin(),
            sigma: None,
        }
    }
}

/// One sign on one job.
struct Sign {
    rule: &'static str,
    severity: Severity,
    technique: &'static str,
    /// What the finding is about (a program, a host, a folder); jobs with the same rule and
    /// subject on one host make one finding.
    subject: String,
    title: String,
    why: String,
    seen: String,
    next: String,
}

/// Run the lens over every job.
pub fn run(fleet: &Fleet, lens: &Lens, out: &mut Vec<Diagnosis>) {
    // (rule, host, subject) -> (sign, jobs)
    let mut groups: BTreeMap<(&'static str, String, String), (Sign, Vec<&Job>)> = BTreeMap::new();
    for job in &fleet.jobs {
        let mut signs = job_signs(job, &lens.lists);
        if let Some(set) = &lens.sigma {
            signs.extend(sigma_signs(job, set));
        }
        for s in signs {
            let key = (s.rule, job.host.to_string(), s.subject.clone());
            groups
                .entry(key)
                .or_insert_with(|| (s, Vec::new()))
                .1
                .push(job);
        }
    }
    for ((rule, host, _), (sign, jobs)) in groups {
        let mut d = Diagnosis::new(rule, Category::Security, sign.severity, Scope::Job);
        let n = jobs.len();
        d.title = if n == 1 {
            format!("{} on {host} ({})", sign.title, sign.technique)
        } else {
            format!("{} on {host}: {n} jobs ({})", sign.title, sign.technique)
        };
        d.cause = format!("{} ATT&CK {}.", sign.why, technique_name(sign.technique));
        d.proof = format!("Seen: {}.", sign.seen);
        d.next_check = sign.next.clone();
        d.fix = vec![
            "Confirm who created the job and why: ask the job's owner, and check the creating process and its parent in process-creation logs (Sysmon 1 / Security 4688) around the job's first sighting.".to_string(),
            "List the job on the machine: bitsadmin /info <job GUID> /verbose (or Get-BitsTransfer -AllUsers | Where-Object JobId -eq <GUID> | Format-List *), including its notification command line.".to_string(),
            "If it is not legitimate: remove it with bitsadmin /cancel <job GUID> (or Remove-BitsTransfer), check the saved file, and treat the machine as compromised until shown otherwise.".to_string(),
        ];
        d.hosts.insert(host.as_str().into());
        for j in &jobs {
            d.jobs.insert(j.key());
            for u in &j.urls {
                let a = super::authority(u);
                if !a.is_empty() {
                    d.servers.insert(a);
                }
            }
            // One sighting per job, over the job's whole span.
            When::widen(&mut d.first_seen, &mut d.last_seen, j.first_seen);
            When::widen(&mut d.first_seen, &mut d.last_seen, j.last_seen);
            d.occurrences += 1;
            d.cite(j.evidence.iter().take(JOB_EVIDENCE_CAP));
        }
        out.push(d);
    }
}

fn technique_name(t: &str) -> &'static str {
    match t {
        "T1197" => "T1197 (BITS Jobs)",
        "T1197, T1105" => "T1197 (BITS Jobs) and T1105 (Ingress Tool Transfer)",
        "T1197, T1055" => "T1197 (BITS Jobs) and T1055 (Process Injection)",
        "T1197, T1218" => "T1197 (BITS Jobs) and T1218 (System Binary Proxy Execution)",
        "T1197, T1059" => "T1197 (BITS Jobs) and T1059 (Command and Scripting Interpreter)",
        _ => "T1197 (BITS Jobs)",
    }
}

/// The host name of a URL (no port, no brackets), lower-cased; None for local paths.
pub fn url_host(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    let hp = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let hp = hp.rsplit('@').next().unwrap_or(hp);
    let host = if let Some(v6) = hp.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        hp.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// The path part of a URL without query or fragment.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
    path.split(['?', '#']).next().unwrap_or("")
}

/// What kind of non-HTTP source a job "downloads" from.
#[derive(Debug, PartialEq, Eq)]
enum LocalSource {
    /// `C:\...`, `C:/...`
    Path,
    /// `\\server\share\...`
    Unc,
    /// `file:` URL
    FileUrl,
}

fn local_source(url: &str) -> Option<LocalSource> {
    let u = url.trim();
    let b = u.as_bytes();
    // Bytes, not a str slice: the fifth byte may be inside a character (found by fuzzing).
    if b.len() >= 5 && b[..5].eq_ignore_ascii_case(b"file:") {
        return Some(LocalSource::FileUrl);
    }
    if u.starts_with("\\\\") || u.starts_with("//") {
        return Some(LocalSource::Unc);
    }
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
    {
        return Some(LocalSource::Path);
    }
    None
}

fn job_signs(job: &Job, lists: &Lists) -> Vec<Sign> {
    let mut signs = Vec::new();

    // Who created the job.
    if let Some(p) = job.process.as_deref().filter(|p| !p.trim().is_empty()) {
        let prog = file_name(p).to_ascii_lowercase();
        let next_proc = format!(
            "Find the {prog} process (PID in event 3) in process-creation logs and see what started it; check whether {prog} runs from its usual folder ({p})."
        );
        if let Some((_, note)) = lists.program_in(ListKind::UnexpectedCreator, p) {
            signs.push(Sign {
                rule: "security.unexpected-creator",
                severity: Severity::Error,
                technique: "T1197, T1055",
                subject: prog.clone(),
                title: format!("BITS job created by {prog}, a program that never creates jobs"),
                why: format!(
                    "{prog}: {note}. Malware injected into a harmless process uses BITS to fetch its next stage or talk to its controller, so the traffic leaves under the BITS service's name."
                ),
                seen: format!("event 3 processPath {p}"),
                next: next_proc.clone(),
            });
        } else if let Some((_, note)) = lists.program_in(ListKind::Lolbas, p) {
            signs.push(Sign {
                rule: "security.lolbas-creator",
                severity: Severity::Error,
                technique: "T1197, T1218",
                subject: prog.clone(),
                title: format!("BITS job created by the LOLBAS program {prog}"),
                why: format!(
                    "{prog} ({note}) is a signed Windows program that attackers use to download files without bringing a tool of their own."
                ),
                seen: format!("event 3 processPath {p}"),
                next: next_proc.clone(),
            });
        } else if let Some((_, note)) = lists.program_in(ListKind::ScriptHost, p) {
            let powershell = matches!(prog.as_str(), "powershell.exe" | "pwsh.exe");
            signs.push(Sign {
                rule: if powershell {
                    "security.created-by-powershell"
                } else {
                    "security.script-host-creator"
                },
                severity: if powershell {
                    Severity::Info
                } else {
                    Severity::Warning
                },
                technique: "T1197, T1059",
                subject: prog.clone(),
                title: format!("BITS job created from a script host ({prog})"),
                why: format!(
                    "The job was created by {note}. Administrators script BITS too, but scripts that download payloads through BITS are a common first stage; the job's files and URLs say which."
                ),
                seen: format!("event 3 processPath {p}"),
                next: format!(
                    "Look up the script that ran at that time (PowerShell 4104 script-block logs, command lines in 4688 / Sysmon 1) and check what the job downloaded. {next_proc}"
                ),
            });
        } else if let Some((_, note)) = lists.program_in(ListKind::JobTool, p) {
            signs.push(Sign {
                rule: "security.created-by-bitsadmin",
                severity: Severity::Info,
                technique: "T1197",
                subject: prog.clone(),
                title: "BITS job created with bitsadmin".to_string(),
                why: format!(
                    "The job was created by {note}. Software creates its jobs through the BITS API, so a bitsadmin job was typed or scripted; attackers use it to download and to persist."
                ),
                seen: format!("event 3 processPath {p}"),
                next: "Find the bitsadmin command line (4688 / Sysmon 1) and check the job's URL, saved file and notification command line.".to_string(),
            });
        }
    }

    // A program BITS runs when the job finishes or fails.
    if let Some(cmd) = job
        .notify()
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"))
    {
        signs.push(Sign {
            rule: "security.notify-command",
            severity: Severity::Error,
            technique: "T1197",
            subject: cmd.to_string(),
            title: "BITS job runs a program when it completes".to_string(),
            why: "A notification command line makes the BITS service start a program when the job finishes or fails; it survives reboots and is the persistence half of T1197. Ordinary software does not set one.".to_string(),
            seen: format!("notification command line {cmd}"),
            next: "Check the program and arguments the job runs, whether that file exists and who wrote it, and whether the job is kept failing on purpose so the command runs again.".to_string(),
        });
    }

    // Sources that are not web servers.
    for url in &job.urls {
        let Some(kind) = local_source(url) else {
            continue;
        };
        let (severity, what) = match kind {
            LocalSource::Path => (Severity::Error, "a local file"),
            LocalSource::FileUrl => (Severity::Error, "a file: URL"),
            LocalSource::Unc => (Severity::Warning, "a network share (UNC path)"),
        };
        signs.push(Sign {
            rule: "security.local-source",
            severity,
            technique: "T1197",
            subject: url.to_string(),
            title: format!("BITS job copies {what} instead of downloading"),
            why: format!(
                "The job's source is {what} ({url}). Update software downloads over HTTP(S); copying a local program with BITS is how attackers plant a job that runs that program through its notification command line and comes back after every reboot."
            ),
            seen: format!("source {url}"),
            next: "Check the job's notification command line and its saved file; compare the source file with a known-good copy.".to_string(),
        });
    }

    // Remote hosts and files.
    let failing = matches!(job.outcome, Outcome::Failing);
    for url in &job.urls {
        let Some(host) = url_host(url) else { continue };
        if lists.host_in(ListKind::VendorHost, &host).is_some() {
            continue;
        }
        if is_wsus_content(url) {
            // Update content from the organisation's own WSUS server (by name or address).
            continue;
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            // Internal addresses are left alone, as the Sigma rule does: WSUS servers and
            // intranet shares are often named by address.
            if !is_internal(&ip) {
                let mut why = format!(
                "The job downloads from a bare public IP address ({ip}) with no name behind it. Software updates come from named servers; payload servers and quickly rented machines often have none."
            );
                if failing {
                    why.push_str(" The job keeps failing against it, the pattern of a beacon retrying a server that is gone.");
                }
                signs.push(Sign {
                rule: "security.raw-ip",
                severity: Severity::Error,
                technique: "T1197, T1105",
                subject: ip.to_string(),
                title: format!("BITS job downloads from the IP address {ip}"),
                why,
                seen: format!("URL {url}"),
                next: format!("Find what runs at {ip} (owner, other connections to it in proxy and firewall logs) and check the saved file."),
            });
            }
        } else {
            if let Some((domain, note)) = lists.host_in(ListKind::FileSharing, &host) {
                signs.push(Sign {
                    rule: "security.file-sharing-host",
                    severity: Severity::Error,
                    technique: "T1197, T1105",
                    subject: domain.clone(),
                    title: format!("BITS job downloads from the file-sharing host {host}"),
                    why: format!(
                        "{domain} ({note}) lets anyone publish a file; attackers stage payloads there because the traffic looks ordinary."
                    ),
                    seen: format!("URL {url}"),
                    next: "Fetch the URL from an isolated machine or look it up in threat intelligence, and check the saved file's hash.".to_string(),
                });
            }
            let tld = host.rsplit('.').next().unwrap_or("");
            if host.contains('.') && !lists.common_tld(tld) && !same_domain(&host, &job.host) {
                signs.push(Sign {
                    rule: "security.uncommon-tld",
                    severity: Severity::Warning,
                    technique: "T1197, T1105",
                    subject: format!(".{tld}"),
                    title: format!("BITS job downloads from a .{tld} domain"),
                    why: format!(
                        "{host} is under .{tld}, a top-level domain the software that normally uses BITS does not download from; cheap domains are favoured for throw-away payload servers."
                    ),
                    seen: format!("URL {url}"),
                    next: format!("Check who owns {host} and what the job saved."),
                });
            }
        }
        let file = file_name(url_path(url));
        if let Some((ext, note)) = lists.suffix_in(ListKind::SuspiciousExtension, file) {
            signs.push(Sign {
                rule: "security.executable-download",
                severity: Severity::Warning,
                technique: "T1197, T1105",
                subject: ext.clone(),
                title: format!("BITS job downloads a {ext} file"),
                why: format!(
                    "The job fetches {file} ({note}) from {host}, which is not on the list of update hosts; code fetched with BITS bypasses the browser's download checks."
                ),
                seen: format!("URL {url}"),
                next: "Check the saved file's hash and signature and whether it was run afterwards.".to_string(),
            });
        }
    }

    // Where files were saved (16403 and job listings).
    for f in job.files() {
        let local = f.local.as_str();
        if let Some((folder, note)) = lists.contained_in(ListKind::SuspiciousFolder, local) {
            signs.push(Sign {
                rule: "security.payload-folder",
                severity: Severity::Error,
                technique: "T1197, T1105",
                subject: folder.clone(),
                title: format!("BITS job saves into {folder}"),
                why: format!(
                    "The job saves {local} into {folder} ({note}), a folder payloads are dropped into; software updates save under their own program or cache folders."
                ),
                seen: format!("remote {} saved as {local}", f.remote),
                next: "Check the saved file (hash, signature) and whether anything ran it.".to_string(),
            });
        }
        // The Sigma rule's own filter: programs saved under AppData from a .com host are
        // usually browser and chat updaters.
        let sigma_filter =
            local.to_ascii_lowercase().contains("\\appdata\\") && f.remote.contains(".com");
        let vendor = is_wsus_content(&f.remote)
            || url_host(&f.remote)
                .is_some_and(|h| lists.host_in(ListKind::VendorHost, &h).is_some());
        if !sigma_filter && !vendor {
            if let Some((ext, note)) = lists.suffix_in(ListKind::SuspiciousExtension, local) {
                signs.push(Sign {
                    rule: "security.executable-download",
                    severity: Severity::Warning,
                    technique: "T1197, T1105",
                    subject: ext.clone(),
                    title: format!("BITS job downloads a {ext} file"),
                    why: format!(
                        "The job saves {local} ({note}); code fetched with BITS bypasses the browser's download checks."
                    ),
                    seen: format!("remote {} saved as {local}", f.remote),
                    next: "Check the saved file's hash and signature and whether it was run afterwards.".to_string(),
                });
            }
        }
    }

    // Kept alive past what BITS allows by default.
    let asked = job
        .no_progress_timeout()
        .filter(|t| *t > DEFAULT_NO_PROGRESS_SECS);
    let lived = match (job.first_seen.utc(), job.last_seen.utc()) {
        (Some(a), Some(b)) => (b.as_second() - a.as_second() > MAX_NORMAL_LIFETIME_SECS)
            .then(|| (b.as_second() - a.as_second()) / 86_400),
        _ => None,
    };
    if asked.is_some() || (lived.is_some() && failing) {
        let seen = match (asked, lived) {
            (Some(t), _) => {
                format!("NO PROGRESS TIMEOUT {t} s (default {DEFAULT_NO_PROGRESS_SECS} s)")
            }
            (None, Some(days)) => format!("the same job failing across {days} days"),
            _ => String::new(),
        };
        signs.push(Sign {
            rule: "security.long-lived",
            severity: Severity::Warning,
            technique: "T1197",
            subject: String::new(),
            title: "BITS job kept alive far past BITS's own limits".to_string(),
            why: "BITS gives up on a job that makes no progress for 14 days and cancels jobs idle for 90; a job set to retry for longer, or still retrying after months, is how a BITS persistence job keeps its notification command coming back.".to_string(),
            seen,
            next: "Check the job's retry settings and notification command line, and who created it.".to_string(),
        });
    }
    signs
}

/// Whether a URL is WSUS update content: `/Content/XX/<40 hex digits>.<ext>`, the layout
/// WSUS serves the files it mirrors from Microsoft in.
fn is_wsus_content(url: &str) -> bool {
    let path = url_path(url);
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let (Some(content), Some(dir), Some(file), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let stem = file.split('.').next().unwrap_or("");
    content.eq_ignore_ascii_case("content")
        && dir.len() == 2
        && hex(dir)
        && stem.len() == 40
        && hex(stem)
}

/// Whether a server is in the machine's own DNS domain (`wsus.corp.example.net` for
/// `PC1.corp.example.net`).
fn same_domain(server: &str, machine: &str) -> bool {
    match machine.to_ascii_lowercase().split_once('.') {
        Some((_, domain)) if domain.contains('.') => {
            server == domain || server.ends_with(&format!(".{domain}"))
        }
        _ => false,
    }
}

fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn sigma_signs(job: &Job, set: &SigmaSet) -> Vec<Sign> {
    set.matches(job)
        .into_iter()
        .map(|(r, shown)| {
            let severity = match r.level.as_deref() {
                Some("critical") => Severity::Critical,
                Some("high") => Severity::Error,
                Some("medium") => Severity::Warning,
                _ => Severity::Info,
            };
            let id = r.id.clone().unwrap_or_else(|| r.file.clone());
            Sign {
                rule: "security.sigma",
                severity,
                technique: "T1197",
                subject: id.clone(),
                title: format!("Sigma: {}", r.title),
                why: format!(
                    "The Sigma rule '{}' ({}, level {}) matches this job.",
                    r.title,
                    id,
                    r.level.as_deref().unwrap_or("unset")
                ),
                seen: shown,
                next: format!("Read the rule's false-positive notes in {} and check the job as for any other security finding.", r.file),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            url_host("https://a.uguu.se/x.7z").as_deref(),
            Some("a.uguu.se")
        );
        assert_eq!(
            url_host("http://user@192.168.10.254:80/calc.exe").as_deref(),
            Some("192.168.10.254")
        );
        assert_eq!(
            url_host("http://[fe80::1]:8080/x").as_deref(),
            Some("fe80::1")
        );
        assert_eq!(url_host(r"C:\Windows\system32\cmd.exe"), None);
        assert_eq!(url_host("file:///C:/x.exe"), None);
    }

    #[test]
    fn local_sources() {
        assert_eq!(
            local_source(r"C:\Windows\system32\cmd.exe"),
            Some(LocalSource::Path)
        );
        assert_eq!(local_source(r"\\srv\share\x.exe"), Some(LocalSource::Unc));
        assert_eq!(local_source("FILE:///c:/x"), Some(LocalSource::FileUrl));
        assert_eq!(local_source("https://x/y"), None);
        // A character across byte 5 (the fuzz reproducer's URL) is no file: URL and no panic.
        assert_eq!(local_source("http\u{ff}\u{ff}l://inv.contoso.com/x"), None);
        assert_eq!(local_source("file\u{ff}//x"), None);
    }

    #[test]
    fn wsus_content_urls() {
        assert!(is_wsus_content(
            "http://10.0.0.5:8530/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.exe"
        ));
        assert!(!is_wsus_content("http://10.0.0.5/Content/4E/payload.exe"));
        assert!(!is_wsus_content(
            "http://x/a/Content/4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.exe"
        ));
    }

    #[test]
    fn url_paths() {
        assert_eq!(url_path("http://h/a/b.exe?x=1"), "/a/b.exe");
        assert_eq!(url_path("http://h"), "");
    }
}
