//! The same configuration or service fault on several hosts is one fleet finding: a Group
//! Policy or an image usually causes it, and 200 copies of one card hide everything else.
//!
//! Host-level findings of the configuration and service rules are grouped by what they say with
//! the host's name taken out (rule, code, severity, title, cause, fix). A group of two or more
//! hosts becomes one `fleet` diagnosis listing every host, with the evidence, occurrences and
//! times of all of them; a finding on one host only stays as it is.

use super::{Category, Diagnosis, Scope};
use std::collections::BTreeMap;

/// How many host names the merged proof names before "+N more".
const PROOF_HOSTS: usize = 5;

fn mergeable(d: &Diagnosis) -> bool {
    d.scope == Scope::Host
        && d.hosts.len() == 1
        && (d.category == Category::Config || d.rule.starts_with("service-"))
}

/// What the finding says, with its host's name replaced by a placeholder.
fn key(d: &Diagnosis) -> Option<String> {
    let host = d.hosts.iter().next()?;
    let generic = |s: &str| s.replace(host.as_str(), "\u{0}");
    let mut k = format!(
        "{}\u{1}{:?}\u{1}{:?}\u{1}{}\u{1}{}",
        d.rule,
        d.code,
        d.severity,
        generic(&d.title),
        generic(&d.cause)
    );
    for f in &d.fix {
        k.push('\u{1}');
        k.push_str(&generic(f));
    }
    Some(k)
}

pub(super) fn merge(out: &mut Vec<Diagnosis>) {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in out.iter().enumerate() {
        if mergeable(d) {
            if let Some(k) = key(d) {
                groups.entry(k).or_default().push(i);
            }
        }
    }
    let mut drop = vec![false; out.len()];
    for members in groups.values().filter(|m| m.len() > 1) {
        let first = members[0];
        let host = out[first].hosts.iter().next().cloned().unwrap_or_default();
        let mut merged = out[first].clone();
        for &m in &members[1..] {
            let d = out[m].clone();
            merged.hosts.extend(d.hosts);
            merged.jobs.extend(d.jobs);
            merged.servers.extend(d.servers);
            merged.proxies.extend(d.proxies);
            merged.cite(&d.evidence);
            merged.occurrences += d.occurrences;
            merged.covers.extend(d.covers);
            crate::model::When::widen(&mut merged.first_seen, &mut merged.last_seen, d.first_seen);
            crate::model::When::widen(&mut merged.first_seen, &mut merged.last_seen, d.last_seen);
            drop[m] = true;
        }
        merged.covers.sort();
        merged.covers.dedup();
        let n = merged.hosts.len();
        let rest = merged
            .title
            .strip_prefix(&format!("{host}: "))
            .map(str::to_string)
            .unwrap_or_else(|| merged.title.replace(host.as_str(), "each host"));
        merged.title = format!("{n} hosts: {rest}");
        merged.scope = Scope::Fleet;
        let mut list = merged
            .hosts
            .iter()
            .take(PROOF_HOSTS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = n.saturating_sub(PROOF_HOSTS);
        if more > 0 {
            list.push_str(&format!(" (+{more} more)"));
        }
        merged.proof = format!(
            "the same on {n} hosts ({list}), likely one Group Policy or image; on {host}: {}",
            merged.proof
        );
        out[first] = merged;
    }
    let mut i = 0;
    out.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}
