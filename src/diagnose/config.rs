//! Configuration rules: the BITS service values that `sc` / `reg` captures (and event 17005)
//! show, against the defaults of the Windows version they come from (see `version`); where
//! captures disagree; and the BITS Group Policy limits.

use super::version::{self, Era, Version};
use super::{Category, Diagnosis, Scope, Severity};
use crate::correlate::{Fleet, Host};
use crate::knowledge::Knowledge;
use crate::model::{Evidence, HResult, When};

/// Default job limits when the policy is not configured (per user 60, per computer 300).
const DEFAULT_MAX_JOBS_PER_USER: u64 = 60;
const DEFAULT_MAX_JOBS_PER_MACHINE: u64 = 300;

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

fn list(v: &str) -> Vec<String> {
    v.split(['/', ';', ',', '\n'])
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// One configuration value that is wrong for the host's version.
struct Bad {
    name: &'static str,
    value: String,
    evidence: Evidence,
    severity: Severity,
    title: String,
    cause: String,
    /// The commands that restore the value (bare commands, `sc.exe`).
    fix: Vec<String>,
    /// The value the fix restores, as the proof quotes it.
    want: String,
    /// Start failures (symptom keys) this value explains.
    covers: &'static [&'static str],
}

fn is_local_system(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    v == "localsystem" || v == ".\\localsystem" || v == "nt authority\\system"
}

/// Every value of `host` that is wrong for `ver`: on its version where that is known, else on
/// every version still possible.
fn judge(host: &Host, ver: &Version) -> Vec<Bad> {
    let mut bad = Vec::new();
    let get = |name: &str| host.config.get(name).map(|(v, e)| (v.as_str(), e));
    let mut push = |name: &'static str,
                    (value, ev): (&str, &Evidence),
                    severity: Severity,
                    title: &str,
                    cause: &str,
                    fix: Vec<String>,
                    want: String,
                    covers: &'static [&'static str]| {
        bad.push(Bad {
            name,
            value: value.to_string(),
            evidence: ev.clone(),
            severity,
            title: title.to_string(),
            cause: cause.to_string(),
            fix,
            want,
            covers,
        })
    };

    if let Some(v) = get("ObjectName") {
        if !is_local_system(v.0) {
            push(
                "ObjectName",
                v,
                Severity::Error,
                "the BITS service does not run as LocalSystem",
                "BITS only works correctly under the LocalSystem account (on every Windows \
                 version); under any other account it cannot impersonate job owners or reach \
                 their network credentials.",
                vec![
                    "sc.exe config bits obj= LocalSystem".into(),
                    "sc.exe stop bits".into(),
                    "sc.exe start bits".into(),
                    "Check the System log: Bits-Client event 17005 (wrong account) should not appear again".into(),
                ],
                "LocalSystem".into(),
                &[],
            );
        }
    }
    if let Some(v) = get("Start") {
        if number(v.0, true) == Some(4) || v.0.to_ascii_uppercase().contains("DISABLED") {
            let start = if ver.exact() == Some(Era::Xp) {
                "demand"
            } else {
                "delayed-auto"
            };
            push(
                "Start",
                v,
                Severity::Critical,
                "the BITS service is disabled",
                "A disabled BITS cannot start, so every BITS download on the host fails \
                 (0x80070422 for the callers).",
                vec![
                    format!("sc.exe config bits start= {start}"),
                    "sc.exe start bits".into(),
                    "gpupdate /force (if a Group Policy disabled it, fix the policy first)".into(),
                ],
                "2 (automatic, delayed) or 3 (manual: BITS switches itself between the two)".into(),
                &["start:0x80070422"],
            );
        }
    }
    if let Some(v) = get("DependOnService") {
        let have = list(v.0);
        let required = ver.required_dependencies();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !have.iter().any(|h| h.eq_ignore_ascii_case(r)))
            .collect();
        if !missing.is_empty() {
            // A known version gets its default list; otherwise what is there plus what every
            // version needs, so nothing a version may need is taken away.
            let want: Vec<String> = match ver.exact() {
                Some(e) => e.dependencies().iter().map(|s| s.to_string()).collect(),
                None => {
                    let mut w: Vec<String> = required.iter().map(|s| s.to_string()).collect();
                    for d in v.0.split(['/', ';', ',']).map(str::trim) {
                        if !d.is_empty() && !w.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                            w.push(d.to_string());
                        }
                    }
                    w
                }
            };
            let want = want.join("/");
            push(
                "DependOnService",
                v,
                Severity::Error,
                &format!(
                    "the BITS service does not depend on {}",
                    missing.join(" and ")
                ),
                &format!(
                    "BITS needs {} running before it starts; with a dependency missing from \
                     its list it can start too early and fail, and a damaged list makes it \
                     fail to start (0x80070433 / 0x8007042C).",
                    missing.join(" and ")
                ),
                vec![format!("sc.exe config bits depend= {want}")],
                want,
                &["start:0x80070433", "start:0x8007042C"],
            );
        }
    }
    if let Some(v) = get("Type") {
        let ok = v.0.to_ascii_uppercase().contains("SHARE_PROCESS")
            || number(v.0, false) == Some(0x20)
            || number(v.0, true) == Some(0x20)
            || number(v.0, true) == Some(32);
        if !ok {
            push(
                "Type",
                v,
                Severity::Warning,
                "the BITS service type is not a shared-process service",
                "BITS is configured to run inside the shared netsvcs svchost (type 0x20, \
                 WIN32_SHARE_PROCESS) on every version.",
                vec!["sc.exe config bits type= share".into()],
                "0x20 WIN32_SHARE_PROCESS".into(),
                &[],
            );
        }
    }
    if let Some(v) = get("ErrorControl") {
        if !(number(v.0, true) == Some(1) || v.0.to_ascii_uppercase().contains("NORMAL")) {
            push(
                "ErrorControl",
                v,
                Severity::Warning,
                "the BITS service error control is not NORMAL",
                "The default error control of BITS is normal (1) on every version.",
                vec!["sc.exe config bits error= normal".into()],
                "1 NORMAL".into(),
                &[],
            );
        }
    }
    if let Some(v) = get("ImagePath") {
        let lower = v.0.to_ascii_lowercase();
        let netsvcs = lower.contains("svchost.exe") && lower.contains("-k netsvcs");
        let has_p = v.0.split_whitespace().any(|w| w.eq_ignore_ascii_case("-p"));
        let missing_p = netsvcs && !has_p && ver.exact() == Some(Era::Win10);
        if !netsvcs || missing_p {
            let fix = match (ver.exact(), ver.lo, ver.hi) {
                (Some(e), _, _) => vec![format!(
                    "sc.exe config bits binpath= \"{}\"",
                    e.image_path()
                )],
                (None, _, hi) if hi < Era::Win10 => {
                    vec![format!(
                        "sc.exe config bits binpath= \"{}\"",
                        version::IMAGE_PATH
                    )]
                }
                _ => vec![
                    format!(
                        "On {}: sc.exe config bits binpath= \"{}\"",
                        Era::Win10.name(),
                        version::IMAGE_PATH_P
                    ),
                    format!(
                        "On older Windows: sc.exe config bits binpath= \"{}\"",
                        version::IMAGE_PATH
                    ),
                ],
            };
            let want = match ver.exact() {
                Some(e) => e.image_path().to_string(),
                None => format!("{} (with ` -p` from Windows 10 1703)", version::IMAGE_PATH),
            };
            push(
                "ImagePath",
                v,
                if missing_p {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                if missing_p {
                    "the BITS service binary path lacks `-p`"
                } else {
                    "the BITS service binary path is not the netsvcs svchost"
                },
                if missing_p {
                    "On this Windows version BITS runs as `svchost.exe -k netsvcs -p` (the \
                     `-p` applies the svchost process mitigation policy); without it the \
                     service runs, but not as shipped."
                } else {
                    "BITS is hosted by `svchost.exe -k netsvcs`; another binary path means the \
                     service entry was changed or damaged."
                },
                fix,
                want,
                &["start:0x8007043B"],
            );
        }
    }
    if let Some(v) = get("RequiredPrivileges") {
        let have = list(v.0);
        let want = version::privileges_for(ver, v.0);
        let missing: Vec<&str> = want
            .iter()
            .copied()
            .filter(|p| !have.iter().any(|h| h.eq_ignore_ascii_case(p)))
            .collect();
        if !missing.is_empty() && ver.hi >= Era::Vista {
            push(
                "RequiredPrivileges",
                v,
                Severity::Error,
                "the BITS service lacks required privileges",
                &format!(
                    "Without {} BITS cannot impersonate job owners or create its global \
                     objects.",
                    missing.join(", ")
                ),
                vec![format!("sc.exe privs bits {}", want.join("/"))],
                want.join("/"),
                &[],
            );
        }
    }
    if let Some(v) = get("ServiceSidType") {
        if !(number(v.0, true) == Some(1) || v.0.to_ascii_uppercase().contains("UNRESTRICTED")) {
            push(
                "ServiceSidType",
                v,
                Severity::Warning,
                "the BITS service SID type is not UNRESTRICTED",
                "The default service SID type of BITS is unrestricted (1) from Vista on.",
                vec!["sc.exe sidtype bits unrestricted".into()],
                "1 UNRESTRICTED".into(),
                &[],
            );
        }
    }
    if let Some(v) = get("FailureActions") {
        let n = v.0.to_ascii_lowercase().replace(' ', "");
        if !(n.contains("86400") && n.contains("restart/60000/restart/120000")) {
            push(
                "FailureActions",
                v,
                Severity::Warning,
                "the BITS service recovery actions differ from the defaults",
                "By default the SCM restarts BITS after 60 s and again after 120 s, resetting \
                 the count daily; without that a crash leaves BITS stopped.",
                vec![
                    "sc.exe failure bits reset= 86400 actions= restart/60000/restart/120000".into(),
                ],
                "reset=86400;restart/60000/restart/120000".into(),
                &[],
            );
        }
    }
    if let Some(v) = get("ServiceDll") {
        if !v.0.trim().to_ascii_lowercase().ends_with("qmgr.dll") {
            push(
                "ServiceDll",
                v,
                Severity::Critical,
                "the BITS Parameters\\ServiceDll value is wrong or missing",
                "svchost loads BITS from the ServiceDll value under Services\\BITS\\Parameters; \
                 without %SystemRoot%\\System32\\qmgr.dll BITS fails to start (0x80070002).",
                vec![format!(
                    "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters /v ServiceDll /t REG_EXPAND_SZ /d \"{}\" /f",
                    version::SERVICE_DLL
                )],
                version::SERVICE_DLL.into(),
                &["start:0x80070002"],
            );
        }
    }
    bad
}

fn shown(name: &str, value: &str) -> String {
    match (name, value.trim().is_empty()) {
        ("ServiceDll", true) => "(missing)".into(),
        (_, true) => "(empty)".into(),
        _ => value.to_string(),
    }
}

/// The account or the start type: a finding of its own.
fn single_diag(name: &str, b: &Bad, ver: &Version) -> Diagnosis {
    let mut d = Diagnosis::new("service-config", Category::Config, b.severity, Scope::Host);
    d.hosts.insert(name.into());
    d.seen(When::Unknown, &b.evidence);
    d.title = format!("{name}: {}", b.title);
    d.cause = b.cause.clone();
    d.fix = b.fix.clone();
    d.covers = b.covers.iter().map(|s| s.to_string()).collect();
    d.proof = format!(
        "{} = {} in {} (the default is {}); {}",
        b.name,
        shown(b.name, &b.value),
        b.evidence,
        b.want,
        ver.describe()
    );
    d.next_check = match b.name {
        "Start" => "`sc.exe qc bits` after the fix: START_TYPE 2 AUTO_START (DELAYED) or 3 \
                    DEMAND_START; if it turns DISABLED again after `gpupdate /force`, a Group \
                    Policy sets it (`gpresult /h gp.html`, System Services)"
            .into(),
        _ => "`sc.exe qc bits` after the fix: SERVICE_START_NAME LocalSystem, and no new \
              Bits-Client 17005 in the System log"
            .into(),
    };
    d
}

/// Every other value that differs from the version's defaults, as one finding: the commands
/// for what differs, between a stop and a start.
fn repair_diag(name: &str, bad: &[&Bad], ver: &Version) -> Diagnosis {
    let severity = bad
        .iter()
        .map(|b| b.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let mut d = Diagnosis::new("service-config", Category::Config, severity, Scope::Host);
    d.hosts.insert(name.into());
    let names: Vec<&str> = bad.iter().map(|b| b.name).collect();
    d.title = if bad.len() == 1 {
        format!("{name}: {}", bad[0].title)
    } else {
        format!(
            "{name}: the BITS service configuration differs from the defaults ({})",
            names.join(", ")
        )
    };
    d.cause = bad
        .iter()
        .map(|b| b.cause.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    d.fix.push("sc.exe stop bits".into());
    let mut proof = Vec::new();
    for b in bad {
        d.seen(When::Unknown, &b.evidence);
        d.covers.extend(b.covers.iter().map(|s| s.to_string()));
        for f in &b.fix {
            if !d.fix.contains(f) {
                d.fix.push(f.clone());
            }
        }
        proof.push(format!(
            "{} = {} (default {}) in {}",
            b.name,
            shown(b.name, &b.value),
            b.want,
            b.evidence
        ));
    }
    d.fix.push("sc.exe start bits".into());
    d.fix
        .push("sc.exe query bits (STATE should be 4 RUNNING)".into());
    d.proof = format!("{}; {}", proof.join("; "), ver.describe());
    d.next_check = format!(
        "Re-capture `sc.exe qc bits`, `sc.exe qprivs bits`, `sc.exe qsidtype bits`, \
         `sc.exe qfailure bits` and `reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS /s` \
         after the fix: {} should then hold the defaults",
        names.join(", ")
    );
    d
}

/// Captures of one host that disagree: shown, with the value that was judged and why.
fn conflicts_diag(name: &str, host: &Host) -> Option<Diagnosis> {
    if host.config_conflicts.is_empty() {
        return None;
    }
    let mut d = Diagnosis::new(
        "service-config-conflict",
        Category::Config,
        Severity::Info,
        Scope::Host,
    );
    d.hosts.insert(name.into());
    let mut parts = Vec::new();
    let mut start_flip = false;
    for c in &host.config_conflicts {
        d.seen(When::Unknown, &c.kept.2);
        let others: Vec<String> = c
            .others
            .iter()
            .map(|(v, from, ev)| {
                d.seen(When::Unknown, ev);
                format!("{} in {} ({ev})", shown(&c.name, v), from.as_str())
            })
            .collect();
        if c.name == "Start" {
            start_flip = true;
        }
        parts.push(format!(
            "{}: {} in {} ({}) against {}",
            c.name,
            shown(&c.name, &c.kept.0),
            c.kept.1.as_str(),
            c.kept.2,
            others.join(", ")
        ));
    }
    let names: Vec<&str> = host
        .config_conflicts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    d.title = format!(
        "{name}: captures disagree on the BITS service configuration ({})",
        names.join(", ")
    );
    d.cause = format!(
        "Captures of this host taken at different times or from different sources give \
         different values. The value judged is the one from `sc qc` (the Service Control \
         Manager's view: the authority for the start type and the binary path), else from the \
         registry, else from the event log.{}",
        if start_flip {
            " BITS switches its own start type between delayed-auto (2) and manual (3) as jobs \
             come and go, so a start type that differs between captures is expected."
        } else {
            ""
        }
    );
    d.fix = vec![
        "Capture the configuration again, all at one time: `sc.exe qc bits` and `reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS /s`".into(),
    ];
    d.proof = parts.join("; ");
    d.next_check = "A fresh `sc.exe qc bits` and `reg query` taken together agree; if they do \
                    not, something changes the service between them (a script, a policy)"
        .into();
    Some(d)
}

pub(super) fn run(fleet: &Fleet, kb: &Knowledge, out: &mut Vec<Diagnosis>) {
    let jobs_of = fleet.jobs_by_host();
    for (name, host) in &fleet.hosts {
        let ver = version::infer(host);
        let bad = judge(host, &ver);
        let mut rest: Vec<&Bad> = Vec::new();
        for b in &bad {
            match b.name {
                "ObjectName" | "Start" => out.push(single_diag(name, b, &ver)),
                _ => rest.push(b),
            }
        }
        if !rest.is_empty() {
            out.push(repair_diag(name, &rest, &ver));
        }
        out.extend(conflicts_diag(name, host));
        policy_limits(name, host, kb, out);
        limit_events(name, host, kb, out);
        let jobs = jobs_of.get(name.as_str()).map_or(&[][..], Vec::as_slice);
        job_counts(name, host, jobs, kb, out);
    }
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
fn job_counts(
    name: &str,
    host: &Host,
    jobs: &[&crate::correlate::Job],
    kb: &Knowledge,
    out: &mut Vec<Diagnosis>,
) {
    let policy = |k: &str, default: u64| {
        host.policy
            .get(k)
            .and_then(|(v, _)| number(v, true))
            .map_or((default, false), |n| (n, true))
    };
    let (user_limit, user_set) = policy("MaxJobsPerUser", DEFAULT_MAX_JOBS_PER_USER);
    let (machine_limit, machine_set) = policy("MaxJobsPerMachine", DEFAULT_MAX_JOBS_PER_MACHINE);
    // Jobs in the queue at capture time: listed, and not finished for good.
    let queued: Vec<&crate::correlate::Job> = jobs
        .iter()
        .copied()
        .filter(|j| {
            j.state()
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
        d.hosts.insert(name.into());
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
        *m.entry(j.state().unwrap_or("?")).or_default() += 1;
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
            d.hosts.insert(name.into());
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
                "sc.exe stop bits".into(),
                "sc.exe start bits".into(),
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
            d.hosts.insert(name.into());
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
        d.hosts.insert(name.into());
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
    use crate::model::Locator;

    #[test]
    fn numbers_in_every_capture_form() {
        assert_eq!(number("0x3c", true), Some(60));
        assert_eq!(number("dword:0000003c", true), Some(60));
        assert_eq!(number("60", true), Some(60));
        assert_eq!(number("20  WIN32_SHARE_PROCESS", false), Some(0x20));
    }

    fn host(values: &[(&str, &str)]) -> Host {
        let mut h = Host::default();
        for (k, v) in values {
            let ev = Evidence {
                path: "H/sc.txt".into(),
                at: Locator::Line(1),
            };
            h.config.insert(k.to_string(), (v.to_string(), ev));
        }
        h
    }

    const WIN10: [(&str, &str); 10] = [
        ("Type", "32"),
        ("Start", "3"),
        ("ErrorControl", "1"),
        ("ImagePath", "C:\\Windows\\System32\\svchost.exe -k netsvcs -p"),
        ("DependOnService", "RpcSs"),
        ("ObjectName", "LocalSystem"),
        ("RequiredPrivileges", "SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege/SeDebugPrivilege"),
        ("ServiceSidType", "1"),
        ("FailureActions", "reset=86400;restart/60000/restart/120000/none/0"),
        ("ServiceDll", "%SystemRoot%\\System32\\qmgr.dll"),
    ];

    fn names(bad: &[Bad]) -> Vec<&str> {
        bad.iter().map(|b| b.name).collect()
    }

    #[test]
    fn windows_10_defaults_are_healthy() {
        let h = host(&WIN10);
        let v = version::infer(&h);
        assert_eq!(v.exact(), Some(Era::Win10));
        assert!(names(&judge(&h, &v)).is_empty());
    }

    #[test]
    fn the_vista_list_is_not_demanded_of_windows_10() {
        // The Vista dependency list on Windows 10 is not the default, but not wrong either.
        let mut values = WIN10.to_vec();
        values[4] = ("DependOnService", "RpcSs/EventSystem");
        let h = host(&values);
        assert!(names(&judge(&h, &version::infer(&h))).is_empty());
    }

    #[test]
    fn unknown_version_flags_only_what_is_wrong_everywhere() {
        let h = host(&[
            ("DependOnService", "EventSystem"),
            ("ObjectName", "LocalSystem"),
        ]);
        let v = version::infer(&h);
        assert_eq!(v.exact(), None);
        let bad = judge(&h, &v);
        assert_eq!(names(&bad), ["DependOnService"]);
        // The fix adds RpcSs and keeps what is there: right on every version.
        assert_eq!(bad[0].fix, ["sc.exe config bits depend= RpcSs/EventSystem"]);
        let h = host(&[("DependOnService", "RpcSs")]);
        assert!(judge(&h, &version::infer(&h)).is_empty());
    }

    #[test]
    fn windows_10_without_p_is_flagged_only_when_the_build_says_1703_on() {
        let mut values = WIN10.to_vec();
        values[3] = ("ImagePath", "C:\\Windows\\System32\\svchost.exe -k netsvcs");
        let mut h = host(&values);
        // No -p and SeDebugPrivilege: Windows 10 before 1703 / Server 2016, healthy.
        assert!(judge(&h, &version::infer(&h)).is_empty());
        h.version_signs.push(crate::correlate::VersionSign {
            build: Some(19045),
            windows10_or_later: None,
            what: "a build string".into(),
            evidence: Evidence {
                path: "H/ver.txt".into(),
                at: Locator::Line(1),
            },
        });
        let v = version::infer(&h);
        assert_eq!(v.exact(), Some(Era::Win10));
        let bad = judge(&h, &v);
        assert_eq!(names(&bad), ["ImagePath"]);
        assert_eq!(
            bad[0].fix,
            ["sc.exe config bits binpath= \"%SystemRoot%\\System32\\svchost.exe -k netsvcs -p\""]
        );
    }

    #[test]
    fn wrong_values_on_every_version() {
        let h = host(&[
            ("ObjectName", "NT AUTHORITY\\NetworkService"),
            ("Start", "4"),
            ("ImagePath", "C:\\evil.exe"),
            ("ServiceDll", ""),
        ]);
        let bad = judge(&h, &version::infer(&h));
        assert_eq!(
            names(&bad),
            ["ObjectName", "Start", "ImagePath", "ServiceDll"]
        );
        assert_eq!(shown("ServiceDll", ""), "(missing)");
    }
}
