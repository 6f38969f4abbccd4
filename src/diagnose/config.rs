//! Configuration rules: the BITS service values that `sc` / `reg` captures (and event 17005)
//! show, against the values the WSUS repair sequence sets; and the BITS Group Policy limits.

use super::service::dependency_list;
use super::{Category, Diagnosis, Scope, Severity};
use crate::correlate::{Fleet, Host};
use crate::knowledge::Knowledge;
use crate::model::{Evidence, HResult, When};

/// Default job limits when the policy is not configured (per user 60, per computer 300).
const DEFAULT_MAX_JOBS_PER_USER: u64 = 60;
const DEFAULT_MAX_JOBS_PER_MACHINE: u64 = 300;

const PRIVILEGES: [&str; 5] = [
    "SeCreateGlobalPrivilege",
    "SeImpersonatePrivilege",
    "SeTcbPrivilege",
    "SeAssignPrimaryTokenPrivilege",
    "SeIncreaseQuotaPrivilege",
];

/// A number as sc (hex without prefix for TYPE), reg query (`0x..`) or .reg (`dword:`) write
/// it; `decimal_first` says how to read bare digits.
fn number(v: &str, decimal_first: bool) -> Option<u64> {
    let t = v.trim();
    let t = t.split_whitespace().next().unwrap_or(t);
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if let Some(h) = t.strip_prefix("dword:") {
        return u64::from_str_radix(h, 16).ok();
    }
    if decimal_first {
        t.parse().ok()
    } else {
        u64::from_str_radix(t, 16).ok()
    }
}

struct Check {
    name: &'static str,
    /// Is the value as the repair sequence leaves it?
    ok: fn(&str) -> bool,
    title: &'static str,
    cause: &'static str,
    fix: &'static [&'static str],
    severity: Severity,
    /// The repair value, as the proof quotes it.
    want: &'static str,
    /// Start failures (symptom keys) this value explains.
    covers: &'static [&'static str],
}

fn list(v: &str) -> Vec<String> {
    v.split(['/', ';', ',', '\n'])
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

const CHECKS: &[Check] = &[
    Check {
        name: "ObjectName",
        ok: |v| {
            let v = v.trim().to_ascii_lowercase();
            v == "localsystem" || v == ".\\localsystem" || v == "nt authority\\system"
        },
        title: "the BITS service does not run as LocalSystem",
        cause: "BITS only works correctly under the LocalSystem account; under any other \
                account it cannot impersonate job owners or reach their network credentials.",
        fix: &["sc config bits obj= LocalSystem", "sc stop bits", "sc start bits", "Check the System log: Bits-Client event 17005 (wrong account) should not appear again"],
        severity: Severity::Error,
        want: "LocalSystem",
        covers: &[],
    },
    Check {
        name: "Start",
        ok: |v| number(v, true) != Some(4) && !v.to_ascii_uppercase().contains("DISABLED"),
        title: "the BITS service is disabled",
        cause: "A disabled BITS cannot start, so every BITS download on the host fails \
                (0x80070422 for the callers).",
        fix: &["sc config bits start= delayed-auto", "sc start bits", "gpupdate /force (if a Group Policy disabled it, fix the policy first)"],
        severity: Severity::Critical,
        want: "2 (automatic, delayed) or 3 (manual)",
        covers: &["start:0x80070422"],
    },
    Check {
        name: "DependOnService",
        ok: |v| {
            let l = list(v);
            l.iter().any(|s| s == "rpcss") && l.iter().any(|s| s == "eventsystem")
        },
        title: "the BITS service dependencies are not RpcSs and EventSystem",
        cause: "BITS needs the RPC service and the COM+ Event System; a missing or wrong \
                dependency list makes it fail to start (0x80070433 / 0x8007042C).",
        fix: &["sc config bits depend= RpcSs/EventSystem"],
        severity: Severity::Error,
        want: "RpcSs/EventSystem",
        covers: &["start:0x80070433", "start:0x8007042C"],
    },
    Check {
        name: "Type",
        ok: |v| {
            v.to_ascii_uppercase().contains("SHARE_PROCESS")
                || number(v, false) == Some(0x20)
                || number(v, true) == Some(0x20)
        },
        title: "the BITS service type is not a shared-process service",
        cause: "BITS runs inside the shared netsvcs svchost (type 0x20, WIN32_SHARE_PROCESS).",
        fix: &["sc config bits type= share"],
        severity: Severity::Warning,
        want: "0x20 WIN32_SHARE_PROCESS",
        covers: &[],
    },
    Check {
        name: "ErrorControl",
        ok: |v| number(v, true) == Some(1) || v.to_ascii_uppercase().contains("NORMAL"),
        title: "the BITS service error control is not NORMAL",
        cause: "The repair sequence sets error control to normal (1).",
        fix: &["sc config bits error= normal"],
        severity: Severity::Warning,
        want: "1 NORMAL",
        covers: &[],
    },
    Check {
        name: "ImagePath",
        ok: |v| {
            let v = v.to_ascii_lowercase();
            v.contains("svchost.exe") && v.contains("-k netsvcs")
        },
        title: "the BITS service binary path is not the netsvcs svchost",
        cause: "BITS is hosted by `svchost.exe -k netsvcs`; another binary path means the \
                service entry was changed or damaged.",
        fix: &["sc config bits binpath= \"%systemroot%\\system32\\svchost.exe -k netsvcs\""],
        severity: Severity::Error,
        want: "%SystemRoot%\\System32\\svchost.exe -k netsvcs",
        covers: &["start:0x8007043B"],
    },
    Check {
        name: "RequiredPrivileges",
        ok: |v| {
            let l = list(v);
            PRIVILEGES
                .iter()
                .all(|p| l.iter().any(|x| x == &p.to_ascii_lowercase()))
        },
        title: "the BITS service lacks required privileges",
        cause: "Without its privileges BITS cannot impersonate job owners or create its global \
                objects.",
        fix: &["sc privs bits SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege"],
        severity: Severity::Error,
        want: "SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege",
        covers: &[],
    },
    Check {
        name: "ServiceSidType",
        ok: |v| number(v, true) == Some(1) || v.to_ascii_uppercase().contains("UNRESTRICTED"),
        title: "the BITS service SID type is not UNRESTRICTED",
        cause: "The repair sequence sets the service SID type to unrestricted (1).",
        fix: &["sc sidtype bits unrestricted"],
        severity: Severity::Warning,
        want: "1 UNRESTRICTED",
        covers: &[],
    },
    Check {
        name: "FailureActions",
        ok: |v| {
            let v = v.to_ascii_lowercase().replace(' ', "");
            v.contains("86400") && v.contains("restart/60000/restart/120000")
        },
        title: "the BITS service recovery actions differ from the defaults",
        cause: "By default the SCM restarts BITS after 60 s and again after 120 s, resetting \
                the count daily; without that a crash leaves BITS stopped.",
        fix: &["sc failure bits reset= 86400 actions= restart/60000/restart/120000"],
        severity: Severity::Warning,
        want: "reset=86400;restart/60000/restart/120000",
        covers: &[],
    },
    Check {
        name: "ServiceDll",
        ok: |v| v.trim().to_ascii_lowercase().ends_with("qmgr.dll"),
        title: "the BITS Parameters\\ServiceDll value is wrong or missing",
        cause: "svchost loads BITS from the ServiceDll value under Services\\BITS\\Parameters; \
                without %SystemRoot%\\System32\\qmgr.dll BITS fails to start (0x80070002).",
        fix: &["reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters /v ServiceDll /t REG_EXPAND_SZ /d ^%SystemRoot^%\\System32\\qmgr.dll /f"],
        severity: Severity::Critical,
        want: "%SystemRoot%\\System32\\qmgr.dll",
        covers: &["start:0x80070002"],
    },
];

fn config_diag(name: &str, check: &Check, value: &str, ev: &Evidence) -> Diagnosis {
    let mut d = Diagnosis::new(
        "service-config",
        Category::Config,
        check.severity,
        Scope::Host,
    );
    d.hosts.insert(name.to_string());
    d.seen(When::Unknown, ev);
    d.title = format!("{name}: {}", check.title);
    d.cause = check.cause.to_string();
    d.fix = check.fix.iter().map(|s| s.to_string()).collect();
    d.covers = check.covers.iter().map(|s| s.to_string()).collect();
    d.proof = format!(
        "{} = {} in {} (the repair value is {})",
        check.name,
        if value.is_empty() { "(empty)" } else { value },
        ev,
        check.want
    );
    d.next_check = match check.name {
        "Start" => "`sc qc bits` after the fix: START_TYPE 2 AUTO_START (DELAYED); if it \
                    turns DISABLED again after `gpupdate /force`, a Group Policy sets it \
                    (`gpresult /h gp.html`, System Services)"
            .into(),
        "ObjectName" => "`sc qc bits` after the fix: SERVICE_START_NAME LocalSystem, and no \
                         new Bits-Client 17005 in the System log"
            .into(),
        _ => format!(
            "Re-capture `sc qc bits` / `reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS /s` \
             after the fix: {} should then read {}",
            check.name, check.want
        ),
    };
    d
}

/// Every value that differs from the repair sequence, other than the account and the start
/// type, as one finding: the `sc` lines for what differs, between a stop and a start.
fn repair_diag(name: &str, bad: &[(&Check, String, &Evidence)], peer_caching: bool) -> Diagnosis {
    let severity = bad
        .iter()
        .map(|b| b.0.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let mut d = Diagnosis::new("service-config", Category::Config, severity, Scope::Host);
    d.hosts.insert(name.to_string());
    let names: Vec<&str> = bad.iter().map(|b| b.0.name).collect();
    d.title = if bad.len() == 1 {
        format!("{name}: {}", bad[0].0.title)
    } else {
        format!(
            "{name}: the BITS service configuration differs from the repair values ({})",
            names.join(", ")
        )
    };
    d.cause = bad.iter().map(|b| b.0.cause).collect::<Vec<_>>().join(" ");
    d.fix.push("sc stop bits".into());
    let mut proof = Vec::new();
    for (check, value, ev) in bad {
        d.seen(When::Unknown, ev);
        d.covers.extend(check.covers.iter().map(|s| s.to_string()));
        let want = if check.name == "DependOnService" {
            dependency_list(peer_caching)
        } else {
            check.want
        };
        for f in check.fix {
            let f = if check.name == "DependOnService" {
                format!("sc config bits depend= {want}")
            } else {
                f.to_string()
            };
            if !d.fix.contains(&f) {
                d.fix.push(f);
            }
        }
        proof.push(format!(
            "{} = {} (repair value {want}) in {ev}",
            check.name,
            if value.is_empty() {
                "(empty)"
            } else {
                value.as_str()
            }
        ));
    }
    d.fix.push("sc start bits".into());
    d.fix
        .push("sc query bits (STATE should be 4 RUNNING)".into());
    d.proof = proof.join("; ");
    d.next_check = format!(
        "Re-capture `sc qc bits`, `sc qprivs bits`, `sc qsidtype bits`, `sc qfailure bits` and \
         `reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS /s` after the fix: {} \
         should then hold the repair values",
        names.join(", ")
    );
    d
}

pub(super) fn run(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    for (name, host) in &fleet.hosts {
        let peer_caching = host
            .policy
            .get("EnablePeercaching")
            .is_some_and(|(v, _)| number(v, true) == Some(1));
        let mut bad: Vec<(&Check, String, &Evidence)> = Vec::new();
        for check in CHECKS {
            let Some((value, ev)) = host.config.get(check.name) else {
                continue;
            };
            let ok = if check.name == "DependOnService" {
                dependencies_ok(value, peer_caching)
            } else {
                (check.ok)(value)
            };
            if ok {
                continue;
            }
            match check.name {
                "ObjectName" | "Start" => out.push(config_diag(name, check, value, ev)),
                _ => bad.push((check, value.clone(), ev)),
            }
        }
        if !bad.is_empty() {
            out.push(repair_diag(name, &bad, peer_caching));
        }
        policy_limits(name, host, kb, out);
        limit_events(name, host, kb, out);
        job_counts(name, host, fleet, kb, out);
    }
}

/// RpcSs and EventSystem; with peer caching on, http and LanmanWorkstation too.
fn dependencies_ok(v: &str, peer_caching: bool) -> bool {
    let l = list(v);
    let has = |s: &str| l.iter().any(|x| x == s);
    has("rpcss")
        && has("eventsystem")
        && (!peer_caching || (has("http") && has("lanmanworkstation")))
}

/// Owners the job limits do not apply to (services; administrators are exempt too, but a
/// listing does not say who is one).
fn exempt(owner: &str) -> bool {
    let o = owner.trim().to_ascii_uppercase();
    o.is_empty()
        || matches!(
            o.as_str(),
            "NT AUTHORITY\\SYSTEM"
                | "NT AUTHORITY\\LOCAL SERVICE"
                | "NT AUTHORITY\\NETWORK SERVICE"
                | "LOCALSYSTEM"
                | "SYSTEM"
        )
}

/// Share of a limit from which a job count is "near" it.
const NEAR_LIMIT_PERCENT: u64 = 90;

/// Job counts per owner (and per computer) in the `bitsadmin` / PowerShell listings, against
/// MaxJobsPerUser / MaxJobsPerMachine (policy, else 60 / 300).
fn job_counts(name: &str, host: &Host, fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    let policy = |k: &str, default: u64| {
        host.policy
            .get(k)
            .and_then(|(v, _)| number(v, true))
            .map_or((default, false), |n| (n, true))
    };
    let (user_limit, user_set) = policy("MaxJobsPerUser", DEFAULT_MAX_JOBS_PER_USER);
    let (machine_limit, machine_set) = policy("MaxJobsPerMachine", DEFAULT_MAX_JOBS_PER_MACHINE);
    // Jobs in the queue at capture time: listed, and not finished for good.
    let queued: Vec<&crate::correlate::Job> = fleet
        .jobs
        .iter()
        .filter(|j| j.host == name)
        .filter(|j| {
            j.state
                .as_deref()
                .is_some_and(|s| !matches!(s, "ACKNOWLEDGED" | "CANCELLED" | "CANCELED"))
        })
        .collect();
    if queued.is_empty() {
        return;
    }
    let mut per_owner: std::collections::BTreeMap<&str, Vec<&crate::correlate::Job>> =
        Default::default();
    for j in &queued {
        if !exempt(&j.owner) {
            per_owner.entry(j.owner.as_str()).or_default().push(j);
        }
    }
    let near = |n: u64, limit: u64| n * 100 >= limit * NEAR_LIMIT_PERCENT;
    let mut push = |what: &str,
                    entity: String,
                    jobs: Vec<&crate::correlate::Job>,
                    limit: u64,
                    from_policy: bool,
                    code: HResult,
                    event: u32| {
        let n = jobs.len() as u64;
        if limit == 0 || !near(n, limit) {
            return;
        }
        let at = n >= limit;
        let mut d = Diagnosis::new(
            "job-limits",
            Category::Failure,
            if at {
                Severity::Error
            } else {
                Severity::Warning
            },
            Scope::Host,
        );
        d.hosts.insert(name.to_string());
        for j in &jobs {
            d.jobs.insert(j.key());
            if let Some(ev) = j.evidence.first() {
                d.seen(j.last_seen, ev);
            }
        }
        d.occurrences = n;
        d.covers.push(format!("limit:{event}"));
        d.title = format!(
            "{name}: {entity} {} {n} BITS jobs, {} the {what} limit of {limit}",
            if what == "per-user" { "owns" } else { "holds" },
            if at { "at" } else { "near" }
        );
        d.proof = format!(
            "{n} jobs of {entity} in the job listing (states: {}); the {what} limit is {limit} \
             ({})",
            state_counts(&jobs),
            if from_policy {
                "set by Group Policy"
            } else {
                "the default; no policy value in the captures"
            }
        );
        d.next_check = format!(
            "`bitsadmin /list /allusers` (or `Get-BitsTransfer -AllUsers | Group-Object \
             OwnerAccount`) now: if {entity} still has about {n} jobs, new jobs fail with {code} \
             (Bits-Client event {event}); far fewer means the queue has drained"
        );
        let mut d = d.with_code(kb, code);
        d.cause = format!(
            "{} {} A new job beyond the limit is refused with {code}.",
            if at {
                format!("{entity} is at the {what} job limit.")
            } else {
                format!(
                    "{entity} is within {}% of the {what} job limit.",
                    100 - NEAR_LIMIT_PERCENT
                )
            },
            d.cause
        );
        d.fix.insert(
            0,
            format!(
                "Find the jobs that never finish (SUSPENDED / ERROR, old CREATION TIME) among the {n}: `bitsadmin /list /allusers /verbose`"
            ),
        );
        out.push(d);
    };
    for (owner, jobs) in per_owner.clone() {
        push(
            "per-user",
            owner.to_string(),
            jobs,
            user_limit,
            user_set,
            HResult(0x8020_0049),
            16398,
        );
    }
    let all: Vec<&crate::correlate::Job> = per_owner.into_values().flatten().collect();
    push(
        "per-computer",
        "the computer".to_string(),
        all,
        machine_limit,
        machine_set,
        HResult(0x8020_0050),
        16400,
    );
}

fn state_counts(jobs: &[&crate::correlate::Job]) -> String {
    let mut m: std::collections::BTreeMap<&str, usize> = Default::default();
    for j in jobs {
        *m.entry(j.state.as_deref().unwrap_or("?")).or_default() += 1;
    }
    m.iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn policy_limits(name: &str, host: &Host, _kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    let get = |k: &str| {
        host.policy
            .get(k)
            .and_then(|(v, ev)| number(v, true).map(|n| (n, ev.clone())))
    };
    let user = get("MaxJobsPerUser");
    let machine = get("MaxJobsPerMachine");
    if user.is_some() || machine.is_some() {
        let u = user.as_ref().map_or(DEFAULT_MAX_JOBS_PER_USER, |x| x.0);
        let m = machine
            .as_ref()
            .map_or(DEFAULT_MAX_JOBS_PER_MACHINE, |x| x.0);
        if u >= m {
            let mut d = Diagnosis::new(
                "job-limits",
                Category::Config,
                Severity::Warning,
                Scope::Host,
            );
            d.hosts.insert(name.to_string());
            for (_, ev) in [&user, &machine].into_iter().flatten() {
                d.seen(When::Unknown, ev);
            }
            d.title = format!(
                "{name}: the per-user BITS job limit ({u}) is not lower than the per-computer limit ({m})"
            );
            d.cause = "BITS expects MaxJobsPerUser to be below MaxJobsPerMachine; otherwise one \
                       user can take every job slot of the computer (event 16397)."
                .into();
            d.fix = vec![
                "Edit the policy: Computer Configuration > Administrative Templates > Network > Background Intelligent Transfer Service (BITS) > Maximum number of BITS jobs for each user (lower it) / for this computer".into(),
                "gpupdate /force".into(),
                "sc stop bits".into(),
                "sc start bits".into(),
                "Check the System log for event 16397: it should no longer appear".into(),
            ];
            d.covers.push("limit:16397".into());
            d.proof = format!(
                "MaxJobsPerUser = {u}{}, MaxJobsPerMachine = {m}{}",
                if user.is_some() {
                    " (policy)"
                } else {
                    " (default)"
                },
                if machine.is_some() {
                    " (policy)"
                } else {
                    " (default)"
                }
            );
            d.next_check =
                "reg query HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS after gpupdate"
                    .into();
            out.push(d);
        }
    }
    let enabled = get("EnableBITSMaxBandwidth").is_some_and(|x| x.0 == 1);
    if let Some((0, ev)) = get("MaxTransferRateOnSchedule") {
        if enabled {
            let mut d = Diagnosis::new(
                "bandwidth-policy",
                Category::Config,
                Severity::Error,
                Scope::Host,
            );
            d.hosts.insert(name.to_string());
            d.seen(When::Unknown, &ev);
            d.title = format!(
                "{name}: a BITS bandwidth policy of 0 blocks transfers during its schedule"
            );
            d.cause = "MaxTransferRateOnSchedule = 0 stops background transfers inside the \
                       schedule (BG_E_BLOCKED_BY_POLICY, 0x8020003E)."
                .into();
            d.fix = vec![
                "Set 'Limit the maximum network bandwidth for BITS background transfers' to a non-zero rate or disable it".into(),
                "gpupdate /force".into(),
            ];
            d.code = Some(HResult(0x8020_003E));
            d.symbol = Some("BG_E_BLOCKED_BY_POLICY".into());
            d.proof = "EnableBITSMaxBandwidth = 1, MaxTransferRateOnSchedule = 0".into();
            d.next_check = "Transfers resume outside the schedule hours".into();
            out.push(d);
        }
    }
}

fn limit_events(name: &str, host: &Host, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    for (event, code, what) in [
        (
            16398u32,
            HResult(0x8020_0049),
            "a user hit the per-user BITS job limit",
        ),
        (
            16400,
            HResult(0x8020_0050),
            "the computer hit the per-computer BITS job limit",
        ),
        (
            16401,
            HResult(0x8020_0051),
            "a job hit the per-job file limit",
        ),
        (
            16402,
            HResult(0x8020_0052),
            "a file hit the per-file range limit",
        ),
        (
            16397,
            HResult(0x8020_0049),
            "the per-user job limit exceeds the per-computer limit",
        ),
    ] {
        let hits: Vec<_> = host.limits.iter().filter(|l| l.event == event).collect();
        if hits.is_empty() {
            continue;
        }
        let sev = if event == 16397 {
            Severity::Warning
        } else {
            Severity::Error
        };
        let cat = if event == 16397 {
            Category::Config
        } else {
            Category::Failure
        };
        let mut d = Diagnosis::new("job-limits", cat, sev, Scope::Host);
        d.hosts.insert(name.to_string());
        d.symptom = Some(format!("limit:{event}"));
        let mut detail = String::new();
        for l in &hits {
            let (entity, cur, lim) = (&l.entity, l.current, l.limit);
            d.seen(When::Unknown, &l.evidence);
            if detail.is_empty() {
                detail = format!(
                    "{}{} of limit {}",
                    if entity.is_empty() {
                        String::new()
                    } else {
                        format!("{entity}: ")
                    },
                    cur.map_or("?".into(), |c| c.to_string()),
                    lim.map_or("?".into(), |c| c.to_string())
                );
            }
        }
        d.title = format!("{name}: {what}");
        d.proof = format!("Bits-Client event {event} x{} ({detail})", hits.len());
        d.next_check =
            "`bitsadmin /list /allusers` after cleaning up: the job count is below the limit"
                .into();
        let mut d = d.with_code(kb, code);
        if event == 16398 || event == 16400 {
            d.fix.insert(0, "List the jobs per owner: `bitsadmin /list /allusers` — cancel jobs that will never finish (`bitsadmin /cancel JOB`)".into());
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_capture_form() {
        assert_eq!(number("0x3c", true), Some(60));
        assert_eq!(number("dword:0000003c", true), Some(60));
        assert_eq!(number("60", true), Some(60));
        assert_eq!(number("20  WIN32_SHARE_PROCESS", false), Some(0x20));
    }

    #[test]
    fn checks_accept_the_repair_values() {
        let good = [
            ("ObjectName", "LocalSystem"),
            ("Start", "2"),
            ("DependOnService", "RpcSs/EventSystem"),
            ("Type", "20  WIN32_SHARE_PROCESS"),
            ("Type", "0x20"),
            ("ErrorControl", "1"),
            ("ImagePath", "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p"),
            ("RequiredPrivileges", "SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege"),
            ("ServiceSidType", "1"),
            ("FailureActions", "reset=86400;restart/60000/restart/120000"),
            ("ServiceDll", "%SystemRoot%\\System32\\qmgr.dll"),
        ];
        for (name, value) in good {
            let c = CHECKS.iter().find(|c| c.name == name).unwrap();
            assert!((c.ok)(value), "{name} = {value}");
        }
        let bad = [
            ("ObjectName", "NT AUTHORITY\\NetworkService"),
            ("Start", "4"),
            ("DependOnService", "RpcSs"),
            ("ImagePath", "C:\\evil.exe"),
            ("ServiceDll", ""),
        ];
        for (name, value) in bad {
            let c = CHECKS.iter().find(|c| c.name == name).unwrap();
            assert!(!(c.ok)(value), "{name} = {value}");
        }
    }
}
