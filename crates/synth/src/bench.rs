//! Large mixed-provider `.evtx` corpora for benches: mostly Security-log-like logon events,
//! Service Control Manager noise for many services, a few per cent Bits-Client job sequences
//! (with failures) and some WindowsUpdateClient events about a fixed catalogue of updates. Never committed (`bench-data/`).

use crate::events::{scm_event, BITS_DISPLAY_NAME, SYSTEM_SID};
use crate::prng::Rng;
use evtx_writer::{Event, EvtxWriter, Value};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

const SECURITY: &str = "Microsoft-Windows-Security-Auditing";
const SECURITY_GUID: &str = "{54849625-5478-4994-a5ba-3e3b0328c30d}";
const WUC: &str = "Microsoft-Windows-WindowsUpdateClient";
const WUC_GUID: &str = "{945a8954-c147-4acd-923f-40c45405a658}";

/// What [`write_bench`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchSummary {
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    pub records: u64,
    /// Bits-Client event id -> count, over all files.
    pub bits_events: BTreeMap<u16, u64>,
    /// Service Control Manager events about BITS (7036, 7040) -> count.
    pub scm_bits_events: BTreeMap<u16, u64>,
    /// BITS jobs written, and those whose last attempt failed.
    pub jobs: u64,
    pub failing_jobs: u64,
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "svc-backup",
    "svc-sql",
];
const SERVICES: &[(&str, &str)] = &[
    ("Windows Modules Installer", "TrustedInstaller"),
    ("Windows Update", "wuauserv"),
    ("Delivery Optimization", "DoSvc"),
    ("Windows Error Reporting Service", "WerSvc"),
    ("Device Setup Manager", "DsmSvc"),
    ("Network Setup Service", "NetSetupSvc"),
    ("Software Protection", "sppsvc"),
    ("Windows Defender Antivirus Service", "WinDefend"),
    ("Print Spooler", "Spooler"),
    ("Windows Time", "W32Time"),
    ("Remote Registry", "RemoteRegistry"),
    ("Microsoft Store Install Service", "InstallService"),
];
const FAIL_CODES: &[u32] = &[
    0x8020_0013,
    0x8007_2EE7,
    0x8019_0193,
    0x8007_2EFE,
    0x8019_0194,
    0x8020_0011,
];

fn security(pc: &str, id: u16, t: Timestamp, rng: &mut Rng) -> Event {
    let user = *rng.pick(USERS);
    let logon_id = rng.next_u64() & 0xff_ffff;
    let user_sid = format!(
        "S-1-5-21-3623811015-3361044348-30300820-{}",
        1100 + rng.range(0, 40)
    );
    let (task, version, data): (u16, u8, Vec<(&str, Value)>) = match id {
        4624 => (
            12544,
            2,
            vec![
                ("SubjectUserSid", Value::Sid(SYSTEM_SID.into())),
                ("SubjectUserName", s(&format!("{}$", pc.split('.').next().unwrap_or(pc)))),
                ("SubjectDomainName", s("CONTOSO")),
                ("SubjectLogonId", Value::HexInt64(0x3e7)),
                ("TargetUserSid", Value::Sid(user_sid)),
                ("TargetUserName", s(user)),
                ("TargetDomainName", s("CONTOSO")),
                ("TargetLogonId", Value::HexInt64(logon_id)),
                ("LogonType", Value::U32(*rng.pick(&[2, 3, 3, 3, 5, 10]))),
                ("LogonProcessName", s("Kerberos")),
                ("AuthenticationPackageName", s("Kerberos")),
                ("WorkstationName", s("-")),
                ("LogonGuid", Value::Guid(rng.guid())),
                ("TransmittedServices", s("-")),
                ("LmPackageName", s("-")),
                ("KeyLength", Value::U32(0)),
                ("ProcessId", Value::HexInt64(0x2d4)),
                ("ProcessName", s("C:\\Windows\\System32\\lsass.exe")),
                ("IpAddress", s(&format!("10.20.{}.{}", rng.range(0, 255), rng.range(1, 254)))),
                ("IpPort", s(&rng.range(49152, 65535).to_string())),
                ("ImpersonationLevel", s("%%1833")),
                ("RestrictedAdminMode", s("-")),
                ("TargetOutboundUserSid", Value::Sid("S-1-0-0".into())),
                ("TargetOutboundUserName", s("-")),
                ("TargetOutboundDomainName", s("-")),
                ("VirtualAccount", s("%%1843")),
                ("TargetLinkedLogonId", Value::HexInt64(0)),
                ("ElevatedToken", s("%%1842")),
            ],
        ),
        4634 => (
            12545,
            0,
            vec![
                ("TargetUserSid", Value::Sid(user_sid)),
                ("TargetUserName", s(user)),
                ("TargetDomainName", s("CONTOSO")),
                ("TargetLogonId", Value::HexInt64(logon_id)),
                ("LogonType", Value::U32(3)),
            ],
        ),
        _ => (
            12548,
            0,
            vec![
                ("SubjectUserSid", Value::Sid(user_sid)),
                ("SubjectUserName", s(user)),
                ("SubjectDomainName", s("CONTOSO")),
                ("SubjectLogonId", Value::HexInt64(logon_id)),
                ("PrivilegeList", s("SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeImpersonatePrivilege")),
            ],
        ),
    };
    Event {
        provider: SECURITY.into(),
        provider_guid: Some(SECURITY_GUID.into()),
        event_id: id,
        version,
        level: 0,
        task,
        keywords: 0x8020_0000_0000_0000,
        time: t,
        process_id: 724,
        thread_id: rng.range(700, 9000) as u32 & !3,
        channel: "Security".into(),
        computer: pc.into(),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        ..Event::default()
    }
}

/// One update a fleet is offered: every host draws from the same catalogue, as machines
/// served by one WSUS see the same month's updates.
#[derive(Debug, Clone)]
struct Update {
    guid: String,
    title: String,
    revision: u32,
}

/// Updates in the catalogue: a month's cumulative, .NET, servicing-stack, driver and
/// definition updates for a few product versions.
const CATALOGUE_SIZE: usize = 48;

fn catalogue(root: &Rng) -> Vec<Update> {
    const KINDS: &[&str] = &[
        "Cumulative Update for Windows 11 Version 23H2 for x64-based Systems",
        "Cumulative Update for Windows 10 Version 22H2 for x64-based Systems",
        "Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 for Windows 11, version 23H2 for x64",
        "Servicing Stack Update for Windows Server 2019 for x64-based Systems",
        "Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems",
        "Security Intelligence Update for Microsoft Defender Antivirus",
        "Windows Malicious Software Removal Tool x64",
        "Intel - System - 10.1.19.4",
    ];
    let mut rng = root.fork("catalogue");
    (0..CATALOGUE_SIZE)
        .map(|i| {
            let month = 1 + i / KINDS.len();
            let kb = rng.range(5_030_000, 5_040_000);
            Update {
                guid: rng.guid(),
                title: format!("2024-{month:02} {} (KB{kb})", KINDS[i % KINDS.len()]),
                revision: rng.range(1, 300) as u32,
            }
        })
        .collect()
}

fn wuc(pc: &str, t: Timestamp, rng: &mut Rng, updates: &[Update]) -> Event {
    let id = *rng.pick(&[44u16, 43, 19, 19, 20]);
    let u = rng.pick(updates);
    let mut data = Vec::new();
    if id == 20 {
        data.push((
            "errorCode",
            Value::HexInt32(*rng.pick(&[0x8024_2016u32, 0x8007_0643, 0x8024_0022])),
        ));
    }
    data.push(("updateTitle", s(&u.title)));
    data.push(("updateGuid", Value::Guid(u.guid.clone())));
    data.push(("updateRevisionNumber", Value::U32(u.revision)));
    if id == 19 || id == 20 {
        data.push((
            "serviceGuid",
            Value::Guid("{9482f4b4-e343-43b6-b170-9a65bc822c77}".into()),
        ));
    }
    Event {
        provider: WUC.into(),
        provider_guid: Some(WUC_GUID.into()),
        event_id: id,
        version: 1,
        level: if id == 20 { 2 } else { 4 },
        task: 1,
        opcode: if id == 44 { 12 } else { 13 },
        keywords: 0x8000_0000_0000_4000,
        time: t,
        process_id: 3456,
        thread_id: rng.range(700, 9000) as u32 & !3,
        channel: "System".into(),
        computer: pc.into(),
        user_sid: Some(SYSTEM_SID.into()),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        ..Event::default()
    }
}

/// One BITS job's events starting at `t`; returns them and whether the job ends failing.
fn bits_job(pc: &str, t: Timestamp, rng: &mut Rng) -> (Vec<Event>, bool) {
    let mut h = crate::HostSpec::new(pc, "x");
    let fail = rng.range(0, 99) < 35;
    let attempts = if fail {
        let hr = *rng.pick(FAIL_CODES);
        let n = rng.range(1, 4) as usize;
        if hr == 0x8020_0013 || hr == 0x8020_0011 {
            vec![
                crate::Attempt::Fail202 {
                    hr,
                    http_version: "HTTP/1.1".into(),
                    url_range: "bytes=0-1048575".into()
                };
                n
            ]
        } else {
            vec![crate::Attempt::Fail { hr, context: 5 }; n]
        }
    } else if rng.range(0, 9) == 0 {
        vec![
            crate::Attempt::Fail {
                hr: 0x8007_2EFE,
                context: 6,
            },
            crate::Attempt::Succeed,
        ]
    } else {
        vec![crate::Attempt::Succeed]
    };
    let server = rng.range(1, 40);
    let mut j = crate::JobSpec::windows_update(
        &format!(
            "http://wsus{server:02}.contoso.local:8530/Content/{:02X}/{:016X}.cab",
            rng.range(0, 255),
            rng.next_u64()
        ),
        attempts,
    );
    if rng.range(0, 3) == 0 {
        j.proxy = Some("proxy01.contoso.local:8080".into());
    }
    h.jobs = vec![j];
    h.service.state_cycles = 0;
    let built = crate::events::build_host(&h, t - SignedDuration::from_secs(120), rng)
        .expect("valid events");
    (built.bits, fail)
}

/// Writes `files` evtx files of about `mb` MB together into `out`.
pub fn write_bench(out: &Path, mb: u64, files: u32, seed: u64) -> io::Result<BenchSummary> {
    std::fs::create_dir_all(out)?;
    let mut summary = BenchSummary::default();
    let per_file = mb * 1_048_576 / u64::from(files.max(1));
    let root = Rng::new(seed);
    let updates = catalogue(&root);
    for f in 0..files {
        let mut rng = root.fork(&format!("file{f}"));
        let pc = format!("BENCH-{:04}.contoso.local", f + 1);
        let mut w = EvtxWriter::new();
        let mut t: Timestamp = "2024-01-01T00:00:00Z".parse().expect("valid time");
        t += SignedDuration::from_secs(i64::from(f) * 86_400);
        let mut pending: Vec<Event> = Vec::new(); // BITS events due later, sorted descending
        let mut written = 0u64;
        // About 525 bytes per record on average (measured); the summary has the real size.
        let mut est = 0u64;
        while est < per_file {
            t += SignedDuration::from_micros(rng.range(1_000, 400_000) as i64);
            while pending.last().is_some_and(|e| e.time <= t) {
                let e = pending.pop().expect("checked");
                *summary.bits_events.entry(e.event_id).or_default() += 1;
                w.push(&e).map_err(io::Error::other)?;
                written += 1;
            }
            let roll = rng.range(0, 999);
            let e = if roll < 820 {
                let id = *rng.pick(&[4624u16, 4624, 4634, 4634, 4672]);
                security(&pc, id, t, &mut rng)
            } else if roll < 920 {
                let (dn, key) = *rng.pick(SERVICES);
                if rng.range(0, 9) == 0 {
                    let bits = rng.range(0, 3) == 0;
                    let (dn, key) = if bits {
                        (BITS_DISPLAY_NAME, "BITS")
                    } else {
                        (dn, key)
                    };
                    if bits {
                        *summary.scm_bits_events.entry(7040).or_default() += 1;
                    }
                    scm_event(
                        &pc,
                        7040,
                        16384,
                        t,
                        688,
                        1012,
                        &[dn, "demand start", "auto start", key],
                        None,
                        Some(SYSTEM_SID),
                    )
                } else {
                    let bits = rng.range(0, 5) == 0;
                    let (dn, key) = if bits {
                        (BITS_DISPLAY_NAME, "BITS")
                    } else {
                        (dn, key)
                    };
                    if bits {
                        *summary.scm_bits_events.entry(7036).or_default() += 1;
                    }
                    let (state, n) = if rng.range(0, 1) == 0 {
                        ("running", 4)
                    } else {
                        ("stopped", 1)
                    };
                    scm_event(
                        &pc,
                        7036,
                        16384,
                        t,
                        688,
                        1012,
                        &[dn, state],
                        Some(&format!("{key}/{n}")),
                        None,
                    )
                }
            } else if roll < 993 {
                wuc(&pc, t, &mut rng, &updates)
            } else {
                let (events, failing) = bits_job(&pc, t, &mut rng);
                summary.jobs += 1;
                summary.failing_jobs += u64::from(failing);
                pending.extend(events);
                pending.sort_by_key(|e| std::cmp::Reverse(e.time));
                continue;
            };
            w.push(&e).map_err(io::Error::other)?;
            written += 1;
            est = written * 525;
        }
        for e in pending.into_iter().rev() {
            *summary.bits_events.entry(e.event_id).or_default() += 1;
            w.push(&e).map_err(io::Error::other)?;
            written += 1;
        }
        let bytes = w.finish();
        let path = out.join(format!("bench-{:02}.evtx", f + 1));
        std::fs::write(&path, &bytes)?;
        summary.bytes += bytes.len() as u64;
        summary.records += written;
        summary.files.push(path);
    }
    Ok(summary)
}
