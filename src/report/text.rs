//! The terminal report: root causes first, each with its fix and what it touches; then hosts,
//! jobs that did not succeed, inputs and warnings.

use super::{Report, Status};
use crate::correlate::Outcome;
use std::fmt::Write;

/// How many jobs, hosts or evidence references a diagnosis lists before "+N more".
const LIST_CAP: usize = 5;

fn capped(items: impl IntoIterator<Item = String>) -> String {
    let all: Vec<String> = items.into_iter().collect();
    let mut s = all
        .iter()
        .take(LIST_CAP)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > LIST_CAP {
        let _ = write!(s, " (+{} more)", all.len() - LIST_CAP);
    }
    s
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let outcomes = |k: &str| s.outcomes.get(k).copied().unwrap_or(0);
    let _ = writeln!(
        o,
        "bitsdoctor: {} input(s), {} host(s), {} job(s): {} failing, {} recovered, {} succeeded, {} cancelled, {} in progress",
        s.inputs,
        s.hosts,
        s.jobs,
        outcomes("failing"),
        outcomes("recovered"),
        outcomes("succeeded"),
        outcomes("cancelled"),
        outcomes("in_progress"),
    );
    if let Some(w) = &r.window {
        let _ = writeln!(
            o,
            "time window: {} .. {}{}",
            w.since.as_deref().unwrap_or("(open)"),
            w.until.as_deref().unwrap_or("(open)"),
            w.relative_to
                .as_ref()
                .map(|a| format!(", counted back from {a}"))
                .unwrap_or_default()
        );
    }
    if r.diagnoses.is_empty() {
        let _ = writeln!(o, "\nNo problems found.");
    } else {
        let _ = writeln!(
            o,
            "\n{} diagnosis(es), most important first:",
            r.diagnoses.len()
        );
    }
    for d in &r.diagnoses {
        let _ = writeln!(
            o,
            "\n[{}] {} {:?} {}",
            d.id,
            d.severity.as_str().to_uppercase(),
            d.scope,
            d.title
        );
        if let Some(code) = d.code {
            let _ = writeln!(
                o,
                "    code:     {code}{}",
                d.symbol
                    .as_ref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default()
            );
        }
        if !d.cause.is_empty() {
            let _ = writeln!(o, "    cause:    {}", d.cause);
        }
        for (i, step) in d.fix.iter().enumerate() {
            let lead = if i == 0 {
                "    fix:      "
            } else {
                "              "
            };
            let _ = writeln!(o, "{lead}{}. {step}", i + 1);
        }
        let _ = writeln!(o, "    hosts:    {}", capped(d.hosts.iter().cloned()));
        if !d.jobs.is_empty() {
            let _ = writeln!(
                o,
                "    jobs:     {} {}",
                d.jobs.len(),
                capped(d.jobs.iter().cloned())
            );
        }
        if !d.servers.is_empty() {
            let _ = writeln!(o, "    servers:  {}", capped(d.servers.iter().cloned()));
        }
        if !d.proxies.is_empty() {
            let _ = writeln!(o, "    proxies:  {}", capped(d.proxies.iter().cloned()));
        }
        let _ = writeln!(o, "    proof:    {}", d.proof);
        let _ = writeln!(o, "    check:    {}", d.next_check);
        let seen = match (d.first_seen.to_string(), d.last_seen.to_string()) {
            (f, l) if f.is_empty() => l,
            (f, l) if f == l || l.is_empty() => f,
            (f, l) => format!("{f} .. {l}"),
        };
        let _ = writeln!(
            o,
            "    seen:     {} time(s){}",
            d.occurrences,
            if seen.is_empty() {
                String::new()
            } else {
                format!(", {seen}")
            }
        );
        let _ = writeln!(
            o,
            "    evidence: {}",
            capped(d.evidence.iter().map(|e| e.to_string()))
        );
    }

    let not_ok: Vec<_> = r
        .jobs
        .iter()
        .filter(|j| matches!(j.outcome, Outcome::Failing | Outcome::Recovered))
        .collect();
    if !not_ok.is_empty() {
        let _ = writeln!(o, "\nJobs with errors:");
        for j in not_ok {
            let errors = j
                .errors
                .iter()
                .map(|(c, n)| format!("{c} x{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                o,
                "  {:<10} {} {} \"{}\" {}",
                j.outcome.as_str(),
                j.host,
                j.id.as_deref().unwrap_or("(no id)"),
                j.name,
                errors
            );
        }
    }

    let _ = writeln!(o, "\nInputs:");
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "  {:<8} {:<10} {} ({}, {} observation(s)){}",
            match i.status {
                Status::Ok => "ok",
                Status::Partial => "partial",
                Status::Skipped => "skipped",
            },
            i.kind,
            i.path,
            i.host,
            i.observations,
            i.reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings:");
        for w in &r.warnings {
            let at = match w.at {
                Some(crate::model::Locator::Record(n)) => format!(" record {n}"),
                Some(crate::model::Locator::Line(n)) => format!(":{n}"),
                None => String::new(),
            };
            let _ = writeln!(o, "  {}{}: {}", w.path, at, w.message);
        }
    }
    o
}
