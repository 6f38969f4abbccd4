//! Rules about the BITS service itself: start failures, crash loops, slow start and shutdown,
//! exceptions, and cleared logs (which hide history rather than cause failures).

use super::{Category, Diagnosis, Scope, Severity};
use crate::correlate::Fleet;
use crate::knowledge::Knowledge;
use crate::model::HResult;
use std::collections::BTreeMap;

/// A crash count from which repeated terminations are a loop, not an accident.
const CRASH_LOOP: usize = 3;

pub(super) fn run(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    for (name, host) in &fleet.hosts {
        let s = &host.service;

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
            d.hosts.insert(name.clone());
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
            d.proof = format!(
                "{} start failure(s) of BITS recorded (events {}){}",
                d.occurrences,
                events
                    .iter()
                    .map(|e| if *e == 0 {
                        "sc".to_string()
                    } else {
                        e.to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                if deps.is_empty() {
                    String::new()
                } else {
                    format!("; failed dependency: {}", deps.join(", "))
                }
            );
            d.next_check = "Run `sc query bits` and `sc qc bits` on the host: a RUNNING state \
                            after the fix, and the values the repair sequence sets, disprove it"
                .into();
            out.push(match code {
                Some(c) => d.with_code(kb, c),
                None => {
                    d.cause = "The Service Control Manager could not start BITS.".into();
                    d.fix = vec![
                        "Read the System log around the first failure for the reason".into(),
                        "sc qc bits".into(),
                        "sc start bits".into(),
                    ];
                    d
                }
            });
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
            d.hosts.insert(name.clone());
            d.seen(*t, evid);
            let code = hr.unwrap_or(HResult(0x8000_4005));
            d.title = format!("{name}: BITS reported that it failed to start ({code})");
            d.proof = "Bits-Client event 16392 (service failed to start)".into();
            d.next_check = "`sc query bits` shows RUNNING once fixed".into();
            out.push(d.with_code(kb, code));
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
            d.hosts.insert(name.clone());
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
                "sc stop bits".into(),
                "Clear stuck jobs: `bitsadmin /reset /allusers` (jobs are lost; their owners recreate them)".into(),
                "sc start bits".into(),
                "If it keeps crashing, run the service repair sequence (`bitsdoctor explain 0x80070424`)".into(),
            ];
            d.proof = format!(
                "{} Service Control Manager event(s) 7031/7034 for BITS",
                s.crashes.len()
            );
            d.next_check = "No further 7031/7034 for BITS after the fix".into();
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
                    "sc stop bits".into(),
                    "sc start bits".into(),
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
            d.hosts.insert(name.clone());
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
            d.next_check = format!("No new event {event} after the change");
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
            d.hosts.insert(name.clone());
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
            d.proof = "Microsoft-Windows-Eventlog event 104 (log file cleared)".into();
            d.next_check = "An older backup of the log, if one exists, restores the history".into();
            out.push(d);
        }
    }
}
