//! "Never repeat a finding already explained": links symptoms to the diagnosis that explains
//! them.
//!
//! * A host-level symptom (a start failure, a limit event) explained by a configuration or
//!   policy finding on the same host stays in the list, because its events date the problem,
//!   but it is ranked right under its cause and says so (`explained_by`; the cause lists it in
//!   `explains`). A support engineer reads the cause and its fix first, then the symptom.
//! * A job-level transfer finding explained by a fleet or host diagnosis (jobs that could not
//!   reach their proxy, whose credentials were rejected ...) is not reported again: its jobs,
//!   occurrences and evidence are merged into the explaining diagnosis, whose proof names it.

use super::Diagnosis;

pub(super) fn fold(out: &mut Vec<Diagnosis>) {
    for (i, d) in out.iter_mut().enumerate() {
        d.tag = i;
    }
    let n = out.len();
    let mut drop = vec![false; n];
    for c in 0..n {
        let Some(key) = out[c].symptom.clone() else {
            continue;
        };
        let job_level = out[c].rule.starts_with("transfer-");
        let parent = (0..n).find(|&p| {
            let (pd, cd) = (&out[p], &out[c]);
            p != c
                && !drop[p]
                && pd.under.is_none()
                && pd.covers.contains(&key)
                && if job_level {
                    !cd.jobs.is_empty() && cd.jobs.is_subset(&pd.jobs)
                } else {
                    // A symptom on hosts that all have the cause (one host, or some of a
                    // fleet finding's hosts).
                    !cd.hosts.is_empty() && cd.hosts.is_subset(&pd.hosts)
                }
        });
        let Some(p) = parent else { continue };
        if job_level {
            let child = out[c].clone();
            let pd = &mut out[p];
            pd.servers.extend(child.servers);
            pd.proxies.extend(child.proxies);
            pd.cite(&child.evidence);
            pd.occurrences += child.occurrences;
            let (first, last) = (&mut pd.first_seen, &mut pd.last_seen);
            crate::model::When::widen(first, last, child.first_seen);
            crate::model::When::widen(first, last, child.last_seen);
            pd.proof = format!(
                "{}; this also explains the job failures with {} {} in the same job(s) ({} \
                 failure(s)), which are therefore not listed separately",
                pd.proof,
                child.code.map(|c| c.to_string()).unwrap_or_default(),
                child.symbol.as_deref().unwrap_or(""),
                child.occurrences
            );
            drop[c] = true;
        } else {
            out[c].under = Some(p);
        }
    }
    let mut i = 0;
    out.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}
