//! Rules about the BITS service itself: start failures, crash loops, slow start and shutdown,
//! exceptions, and cleared logs (which hide history rather than cause failures).

use super::version::{self, Version};
use super::{Category, Diagnosis, Scope, Severity};
use crate::correlate::Fleet;
use crate::knowledge::Knowledge;
use crate::model::HResult;
use std::collections::BTreeMap;

/// What to run to confirm (or rule out) a start failure with `code`.
fn next_check(code: Option<HResult>, ver: &Version) -> String {
    match code.map(|c| c.0) {
        Some(0x8007_0424) => "`sc.exe qc bits`: FAILED 1060 confirms the service registration \
                              is gone; after the repair it prints the configuration and \
                              `sc.exe query bits` shows RUNNING"
            .into(),
        Some(0x8007_043B) => {
            "`reg query \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost\" \
                              /v netsvcs`: BITS missing from the list confirms it; BITS listed \
                              there (and ImagePath `svchost.exe -k netsvcs`) disproves it"
                .into()
        }
        Some(0x8007_0422) => "`sc.exe qc bits`: START_TYPE 4 DISABLED confirms it; any other \
                              start type means a dependency is the disabled one \
                              (`sc.exe qc rpcss`)"
            .into(),
        Some(0x8007_0433 | 0x8007_042C) => {
            let deps = match ver.exact() {
                Some(e) => e.dependencies().join(" and "),
                None => "RpcSs (and EventSystem on Vista to 8.1 / Server 2008 to 2012 R2)".into(),
            };
            format!(
                "`sc.exe qc bits`: DEPENDENCIES must be {deps}; then each of them must show \
                 RUNNING in `sc.exe query NAME`. A dependency that is missing or stopped \
                 confirms it"
            )
        }
        Some(0x8007_0003) => "`dir \"%ALLUSERSPROFILE%\\Microsoft\\Network\\Downloader\"`: a \
                              missing folder confirms it"
            .into(),
        Some(0x8007_0002) => {
            "`reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters \
                              /v ServiceDll`: no value, or a path other than \
                              %SystemRoot%\\System32\\qmgr.dll, confirms it"
                .into()
        }
        Some(0x8007_041D) => "Time `sc.exe start bits`: a start that takes over 30 s, and SCM \
                              7009/7011 beside it, confirm a hang; look at the job queue size \
                              and the disk"
            .into(),
        _ => "`sc.exe start bits` then `sc.exe query bits`: RUNNING after the fix disproves it; \
              the same error again shows the cause is still there"
            .into(),
    }
}

/// The knowledge table's service repair covers every Windows version, one line each; where the
/// host's version is known, those lines become that version's exact commands.
fn repair_for_version(d: &mut Diagnosis, ver: &Version) {
    let Some(era) = ver.exact() else { return };
    let Some(start) = d.fix.iter().position(|f| f.starts_with(REPAIR_FIRST_LINE)) else {
        return;
    };
    let end = d.fix[start..]
        .iter()
        .position(|f| f.starts_with(REPAIR_LAST_LINE))
        .map_or(d.fix.len(), |i| start + i + 1);
    let steps = version::repair_sequence(era);
    d.fix.splice(start..end, steps);
    d.fix.insert(
        start,
        format!(
            "Restore the defaults of {} (elevated prompt; `sc.exe`, since `sc` in PowerShell is Set-Content):",
            era.name()
        ),
    );
}

/// The first and last lines of the knowledge table's service repair.
const REPAIR_FIRST_LINE: &str = "Restore the defaults of the machine's Windows version";
const REPAIR_LAST_LINE: &str = "Start it and confirm it runs";

/// A crash count from which repeated terminations are a loop, not an accident.
const CRASH_LOOP: usize = 3;

pub(super) fn run(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    for (name, host) in &fleet.hosts {
        let s = &host.service;

        let ver = version::infer(host);
        // Start failures, one diagnosis per error code. SCM timeouts carry 1053.
        let mut by_code: BTreeMap<Option<HResult>, Vec<_>> = BTreeMap::new();
        for f in &s.start_failures {
            by_code.entry(f.error).or_default().push(f);
        }
        for (code, fails) in by_code {
            let mut d = Diagnosis::new(
                "service-start-failure",
                Category::Failure,
                Severity::Critical,
                Scope::Host,
            );
            d.hosts.insert(name.as_str().into());
            let mut events: Vec<u32> = Vec::new();
            let mut deps: Vec<String> = Vec::new();
            for f in &fails {
                d.seen(f.time, &f.evidence);
                if !events.contains(&f.event) {
                    events.push(f.event);
                }
                if let Some(dep) = &f.dependency {
                    if !deps.contains(dep) {
                        deps.push(dep.clone());
                    }
                }
            }
            let code_text = code.map(|c| c.to_string()).unwrap_or("no code".into());
            d.title = format!("{name}: the BITS service failed to start ({code_text})");
            d.symptom = Some(format!("start:{code_text}"));
            let sources: Vec<String> = events
                .iter()
                .map(|e| match e {
                    0 => "`sc` error line".to_string(),
                    e => format!("SCM event {e}"),
                })
                .collect();
            d.proof = format!(
                "{} failed start(s) of BITS with {code_text} ({}){}{}",
                d.occurrences,
                sources.join(", "),
                match (d.first_seen, d.last_seen) {
                    (crate::model::When::Unknown, _) => String::new(),
                    (f, l) if f == l => format!(", at {f}"),
                    (f, l) => format!(", from {f} to {l}"),
                },
                if deps.is_empty() {
                    String::new()
                } else {
                    format!("; the dependency that failed: {}", deps.join(", "))
                }
            );
            d.next_check = next_check(code, &ver);
            if !ver.signs.is_empty() {
                d.proof = format!("{}; {}", d.proof, ver.describe());
            }
            let mut d = match code {
                Some(c) => d.with_code(kb, c),
                None => {
                    d.cause = "The Service Control Manager could not start BITS.".into();
                    d.fix = vec![
                        "Read the System log around the first failure for the reason".into(),
                        "sc.exe qc bits".into(),
                        "sc.exe start bits".into(),
                    ];
                    d
                }
            };
            repair_for_version(&mut d, &ver);
            out.push(d);
        }

        // Event 16392: BITS itself reports that it failed to start.
        for w in s.warnings.iter().filter(|w| w.event == 16392) {
            let (t, hr, evid) = (&w.time, &w.hr, &w.evidence);
            let mut d = Diagnosis::new(
                "service-start-failure",
                Category::Failure,
                Severity::Critical,
                Scope::Host,
            );
            d.hosts.insert(name.as_str().into());
            d.seen(*t, evid);
            let code = hr.unwrap_or(HResult(0x8000_4005));
            d.title = format!("{name}: BITS reported that it failed to start ({code})");
            d.symptom = Some(format!("start:{code}"));
            d.proof =
                format!("Bits-Client event 16392 (service failed to start) at {t}, error {code}");
            d.next_check = next_check(Some(code), &ver);
            let mut d = d.with_code(kb, code);
            repair_for_version(&mut d, &ver);
            out.push(d);
        }

        if !s.crashes.is_empty() {
            let loop_ = s.crashes.len() >= CRASH_LOOP;
            let mut d = Diagnosis::new(
                "service-crash",
                Category::Failure,
                if loop_ {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                Scope::Host,
            );
            d.hosts.insert(name.as_str().into());
            for (t, _, ev) in &s.crashes {
                d.seen(*t, ev);
            }
            d.title = if loop_ {
                format!(
                    "{name}: the BITS service crashes repeatedly ({} times)",
                    s.crashes.len()
                )
            } else {
                format!("{name}: the BITS service terminated unexpectedly")
            };
            d.cause = "The svchost process hosting BITS ended without a clean stop. Jobs survive \
                       (they are persisted) but transfers stall until the service restarts; a \
                       loop usually means a corrupt job database or a faulting module."
                .into();
            d.fix = vec![
                "Check the Application log for the faulting module at the same times".into(),
                "sc.exe stop bits".into(),
                "Clear stuck jobs: `bitsadmin /reset /allusers` (jobs are lost; their owners recreate them)".into(),
                "sc.exe start bits".into(),
                "If it keeps crashing, run the service repair sequence (`bitsdoctor explain 0x80070424`)".into(),
            ];
            let most = s.crashes.iter().filter_map(|c| c.1).max();
            d.proof = format!(
                "{} Service Control Manager event(s) 7031/7034 for BITS{}{}",
                s.crashes.len(),
                most.map_or(String::new(), |n| format!(
                    ", the SCM counting up to {n} termination(s)"
                )),
                match (d.first_seen, d.last_seen) {
                    (crate::model::When::Unknown, _) => String::new(),
                    (f, l) if f == l => format!(", at {f}"),
                    (f, l) => format!(", from {f} to {l}"),
                }
            );
            d.next_check = "The Application log at the same times: an Application Error (1000) \
                            for svchost.exe naming qmgr.dll or another module shows what crashes; \
                            after the fix, no further 7031/7034 for BITS"
                .into();
            out.push(d);
        }

        // Slow start (302), slow job-list writes (307), slow shutdown (308), exceptions (16404).
        for (event, title, cause, fix) in [
            (
                302u32,
                "the BITS service started slowly",
                "BITS took long enough to start that it warned about it; often a large job \
                 queue or a slow disk at boot.",
                vec![
                    "Count the jobs: `bitsadmin /list /allusers` — cancel stale ones".to_string(),
                    "Enable the Bits-Client Analytic log to see where start-up time goes".into(),
                ],
            ),
            (
                307,
                "BITS took a long time to save its job list",
                "Writing a change to the job list took seconds; usually too many jobs.",
                vec![
                    "bitsadmin /list /allusers".to_string(),
                    "Cancel jobs that will never finish: `bitsadmin /cancel JOB`".into(),
                ],
            ),
            (
                308,
                "the BITS service was slow to shut down",
                "BITS shut down but was delayed; a slow shutdown can hold up reboots after \
                 updates.",
                vec![
                    "Check for many active jobs at shutdown: `bitsadmin /list /allusers`".to_string(),
                    "Look for disk or antivirus delays on %ALLUSERSPROFILE%\\Microsoft\\Network\\Downloader".into(),
                ],
            ),
            (
                16404,
                "the BITS service caught an internal exception",
                "BITS hit an unexpected exception in one of its functions.",
                vec![
                    "Note the function, line and code in event 16404".to_string(),
                    "sc.exe stop bits".into(),
                    "sc.exe start bits".into(),
                    "If it recurs, apply the latest cumulative update".into(),
                ],
            ),
        ] {
            let hits: Vec<_> = s.warnings.iter().filter(|w| w.event == event).collect();
            if hits.is_empty() {
                continue;
            }
            let mut d = Diagnosis::new(
                "service-health",
                Category::Failure,
                if event == 16404 { Severity::Error } else { Severity::Warning },
                Scope::Host,
            );
            d.hosts.insert(name.as_str().into());
            let mut longest: Option<f64> = None;
            for w in &hits {
                d.seen(w.time, &w.evidence);
                if let Some(s) = w.seconds {
                    longest = Some(longest.map_or(s, |l: f64| l.max(s)));
                }
                if d.code.is_none() {
                    d.code = w.hr;
                }
            }
            d.title = format!("{name}: {title}");
            d.cause = cause.into();
            d.fix = fix;
            d.proof = format!(
                "Bits-Client event {event} x{}{}",
                hits.len(),
                longest.map_or(String::new(), |s| format!(", longest {s:.0} s"))
            );
            d.next_check = match event {
                302 | 307 => "Count the queued jobs (`bitsadmin /list /allusers`): hundreds of \
                              jobs explain it; a short queue points at the disk or antivirus"
                    .into(),
                308 => "Check how many jobs were transferring at shutdown \
                        (`bitsadmin /list /allusers` before a restart); no new 308 after \
                        cleaning up confirms it"
                    .into(),
                _ => format!("No new event {event} after the change"),
            };
            out.push(d);
        }

        // Cleared logs: not a failure, but the history before them is gone.
        for (t, channel, user, ev) in &host.logs_cleared {
            let mut d = Diagnosis::new(
                "log-cleared",
                Category::Security,
                Severity::Warning,
                Scope::Host,
            );
            d.hosts.insert(name.as_str().into());
            d.seen(*t, ev);
            d.title = format!("{name}: the {channel} log was cleared");
            d.cause = format!(
                "{} cleared the {channel} log; events before {} are missing, so failures before \
                 then cannot be diagnosed from this log.",
                if user.is_empty() { "Someone" } else { user },
                t
            );
            d.fix = vec![
                "Ask who cleared the log and why; collect a fresh export after the next failure"
                    .into(),
                format!("wevtutil epl \"{channel}\" bits.evtx"),
            ];
            d.proof = format!(
                "Microsoft-Windows-Eventlog event 104 at {t}: the {channel} log was cleared{}",
                if user.is_empty() {
                    String::new()
                } else {
                    format!(" by {user}")
                }
            );
            d.next_check = format!(
                "Ask for an earlier export of the {channel} log (or the backup event 104 names, \
                 if any): only records from before {t} can show whether BITS failed before the \
                 log was cleared"
            );
            out.push(d);
        }
    }
}
