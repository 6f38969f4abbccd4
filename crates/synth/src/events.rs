//! Scenario -> the events of one host's two logs, shaped as the real corpus has them.

use crate::prng::Rng;
use crate::{Attempt, ConfigSpec, HostSpec};
use evtx_writer::{Event, EvtxWriter, UserData, Value, WriteError};
use jiff::{SignedDuration, Timestamp};

pub const BITS_PROVIDER: &str = "Microsoft-Windows-Bits-Client";
pub const BITS_GUID: &str = "{ef1cc15b-46c1-414e-bb95-e76b077bd51e}";
pub const BITS_CHANNEL: &str = "Microsoft-Windows-Bits-Client/Operational";
pub const SCM_PROVIDER: &str = "Service Control Manager";
pub const SCM_GUID: &str = "{555908d1-a6d7-4695-8e1e-26931d2012f4}";
pub const BITS_DISPLAY_NAME: &str = "Background Intelligent Transfer Service";
pub const EVENTLOG_PROVIDER: &str = "Microsoft-Windows-Eventlog";
pub const EVENTLOG_GUID: &str = "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}";
pub const SYSTEM_SID: &str = "S-1-5-18";
pub const WU_PROVIDER: &str = "Microsoft-Windows-WindowsUpdateClient";
pub const WU_GUID: &str = "{945a8954-c147-4acd-923f-40c45405a658}";
pub const WU_CHANNEL: &str = "Microsoft-Windows-WindowsUpdateClient/Operational";

/// A job as the capture time sees it.
#[derive(Debug, Clone)]
pub(crate) struct BuiltJob {
    pub spec: usize,
    pub id: String,
    /// bitsadmin state word.
    pub state: &'static str,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub completed: Option<Timestamp>,
    /// Transient errors counted by BITS.
    pub error_count: u32,
    /// The last error (hr, context), if the job is in an error state.
    pub error: Option<(u32, u32)>,
    pub bytes_done: u64,
    /// Size known to BITS (None = UNKNOWN).
    pub bytes_total: Option<u64>,
}

/// One host's logs and what the text captures need to know.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub bits: Vec<Event>,
    pub system: Vec<Event>,
    /// WindowsUpdateClient/Operational (only when the host has updates).
    pub wu: Vec<Event>,
    pub jobs: Vec<BuiltJob>,
    pub service_running: bool,
    pub config: ConfigSpec,
    /// Jobs only the bitsadmin listing shows: (id, owner, state, created).
    pub queued: Vec<(String, String, String, Timestamp)>,
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

fn g(v: &str) -> Value {
    Value::Guid(v.to_string())
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

fn micros(n: u64) -> SignedDuration {
    SignedDuration::from_micros(n as i64)
}

/// A Bits-Client Operational event as Windows 10 writes it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn bits_event(
    computer: &str,
    id: u16,
    version: u8,
    level: u8,
    opcode: u8,
    time: Timestamp,
    pid: u32,
    tid: u32,
    data: Vec<(&str, Value)>,
) -> Event {
    Event {
        provider: BITS_PROVIDER.into(),
        provider_guid: Some(BITS_GUID.into()),
        event_id: id,
        version,
        level,
        opcode,
        keywords: 0x4000_0000_0000_0000,
        time,
        process_id: pid,
        thread_id: tid,
        channel: BITS_CHANNEL.into(),
        computer: computer.into(),
        user_sid: Some(SYSTEM_SID.into()),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        ..Event::default()
    }
}

/// A Service Control Manager event in the System log. `binary` is written as UTF-16LE with a
/// terminating NUL (`BITS/4`, `BITS`), as SCM does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scm_event(
    computer: &str,
    id: u16,
    qualifiers: u16,
    time: Timestamp,
    pid: u32,
    tid: u32,
    params: &[&str],
    binary: Option<&str>,
    user_sid: Option<&str>,
) -> Event {
    Event {
        provider: SCM_PROVIDER.into(),
        provider_guid: Some(SCM_GUID.into()),
        event_source_name: Some(SCM_PROVIDER.into()),
        event_id: id,
        qualifiers: Some(qualifiers),
        level: match qualifiers {
            49152 => 2,
            32768 => 3,
            _ => 4,
        },
        keywords: 0x8080_0000_0000_0000,
        time,
        process_id: pid,
        thread_id: tid,
        channel: "System".into(),
        computer: computer.into(),
        user_sid: user_sid.map(String::from),
        data: params
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("param{}", i + 1), s(p)))
            .collect(),
        binary: binary.map(|b| {
            b.encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect()
        }),
        ..Event::default()
    }
}

/// The 17 fields of Bits-Client 60/61 v1.
#[allow(clippy::too_many_arguments)]
fn transfer_stopped(
    computer: &str,
    id: u16,
    time: Timestamp,
    pid: u32,
    tid: u32,
    xfer: &str,
    job: &str,
    title: &str,
    url: &str,
    hr: u32,
    file_time: u64,
    length: u64,
    done: u64,
    proxy: &str,
) -> Event {
    let mut e = bits_event(
        computer,
        id,
        1,
        if id == 61 { 3 } else { 4 },
        2,
        time,
        pid,
        tid,
        vec![
            ("transferId", g(xfer)),
            ("name", s(title)),
            ("Id", g(job)),
            ("url", s(url)),
            ("peer", s("")),
            ("hr", Value::U32(hr)),
            ("fileTime", Value::FileTime(file_time)),
            ("fileLength", Value::U64(length)),
            ("bytesTotal", Value::U64(length)),
            ("bytesTransferred", Value::U64(done)),
            ("proxy", s(proxy)),
            ("peerProtocolFlags", Value::U32(0)),
            ("bytesTransferredFromPeer", Value::U64(0)),
            ("AdditionalInfoHr", Value::U32(0)),
            ("PeerContextInfo", Value::U16(0)),
            ("bandwidthLimit", Value::U64(u64::MAX)),
            ("ignoreBandwidthLimitsOnLan", Value::Bool(false)),
        ],
    );
    e.activity_id = Some(xfer.into());
    e
}

/// Other services whose 7036 events fill a real System log (display name, key name).
const NOISE_SERVICES: &[(&str, &str)] = &[
    ("Windows Modules Installer", "TrustedInstaller"),
    ("Windows Update", "wuauserv"),
    ("Delivery Optimization", "DoSvc"),
    ("Microsoft Store Install Service", "InstallService"),
    ("Windows Error Reporting Service", "WerSvc"),
    ("Device Setup Manager", "DsmSvc"),
    (
        "WinHTTP Web Proxy Auto-Discovery Service",
        "WinHttpAutoProxySvc",
    ),
];

fn filetime(t: Timestamp) -> u64 {
    evtx_writer::filetime("fileTime", t).unwrap_or(0)
}

/// Build both logs of `host`, its logs starting at `start`.
pub(crate) fn build_host(
    host: &HostSpec,
    start: Timestamp,
    rng: &mut Rng,
) -> Result<Built, WriteError> {
    let pc = host.name.as_str();
    let mut bits: Vec<Event> = Vec::new();
    let mut system: Vec<Event> = Vec::new();
    let scm_pid = rng.range(600, 980) as u32 & !3;
    let mut bits_pid = rng.range(1000, 9000) as u32 & !3;
    let tids: Vec<u32> = (0..6).map(|_| rng.range(1000, 12000) as u32 & !3).collect();
    let tid = |rng: &mut Rng| *rng.pick(&tids);
    let config = host.config.clone().unwrap_or_default();

    // --- jobs ---------------------------------------------------------------------------
    let mut jobs = Vec::new();
    let mut last = start;
    for (k, j) in host.jobs.iter().enumerate() {
        let id = rng.guid();
        let created = start
            + secs(120 + i64::from(j.delay_minutes) * 60 + rng.range(0, 50) as i64)
            + micros(rng.range(0, 999_999));
        bits.push(bits_event(
            pc,
            3,
            2,
            4,
            0,
            created,
            bits_pid,
            tid(rng),
            vec![
                ("jobTitle", s(&j.title)),
                ("jobId", g(&id)),
                ("jobOwner", s(&j.owner)),
                ("processPath", s(&j.process)),
                ("processId", Value::U32(rng.range(1000, 15000) as u32 & !3)),
            ],
        ));
        if j.file_event {
            bits.push(bits_event(
                pc,
                16403,
                0,
                4,
                0,
                created + micros(500),
                bits_pid,
                tid(rng),
                vec![
                    ("User", s(&j.owner)),
                    ("jobTitle", s(&j.title)),
                    ("jobId", g(&id)),
                    ("jobOwner", s(&j.owner)),
                    ("fileCount", Value::U32(1)),
                    ("RemoteName", s(&j.url)),
                    ("LocalName", s(&j.local_path)),
                    ("processId", Value::U32(rng.range(1000, 15000) as u32 & !3)),
                ],
            ));
        }
        let mut built = BuiltJob {
            spec: k,
            id: id.clone(),
            state: "QUEUED",
            created,
            modified: created,
            completed: None,
            error_count: 0,
            error: None,
            bytes_done: 0,
            bytes_total: None,
        };
        let server_time = filetime(start - secs(86_400 * rng.range(3, 40) as i64));
        let proxy = j.proxy.clone().unwrap_or_default();
        for (a, attempt) in j.attempts.iter().enumerate() {
            let t = created
                + secs(1 + a as i64 * 600 + rng.range(0, 20) as i64)
                + micros(rng.range(0, 999_999));
            let xfer = rng.guid();
            let is_last = a + 1 == j.attempts.len();
            if let Attempt::ProxyFail {
                hr,
                proxy_list,
                bypass_list,
            } = attempt
            {
                bits.push(bits_event(
                    pc,
                    201,
                    0,
                    3,
                    0,
                    t,
                    bits_pid,
                    tid(rng),
                    vec![
                        ("job", s(&j.title)),
                        ("jobId", g(&id)),
                        ("jobOwner", s(&j.owner)),
                        ("url", s(&j.url)),
                        ("transferId", g(&xfer)),
                        ("proxyServerList", s(proxy_list)),
                        ("proxyBypassList", s(bypass_list)),
                        ("error", Value::U32(*hr)),
                    ],
                ));
                built.error_count += 1;
                built.error = Some((*hr, 6));
                built.state = "TRANSIENT_ERROR";
                built.modified = t;
                last = last.max(t);
                continue;
            }
            if let Attempt::Cancel = attempt {
                bits.push(bits_event(
                    pc,
                    5,
                    0,
                    4,
                    0,
                    t,
                    bits_pid,
                    tid(rng),
                    vec![
                        ("User", s(&j.owner)),
                        ("jobTitle", s(&j.title)),
                        ("jobId", g(&id)),
                        ("jobOwner", s(&j.owner)),
                        ("fileCount", Value::U32(1)),
                    ],
                ));
                built.state = "CANCELLED";
                built.modified = t;
                last = last.max(t);
                break;
            }
            let known = built.bytes_total;
            let mut started = bits_event(
                pc,
                59,
                1,
                4,
                1,
                t,
                bits_pid,
                tid(rng),
                vec![
                    ("transferId", g(&xfer)),
                    ("name", s(&j.title)),
                    ("Id", g(&id)),
                    ("url", s(&j.url)),
                    ("peer", s("")),
                    (
                        "fileTime",
                        Value::FileTime(if known.is_some() { server_time } else { 0 }),
                    ),
                    ("fileLength", Value::U64(known.unwrap_or(u64::MAX))),
                    ("bytesTotal", Value::U64(known.unwrap_or(u64::MAX))),
                    ("bytesTransferred", Value::U64(built.bytes_done)),
                    ("bytesTransferredFromPeer", Value::U64(0)),
                ],
            );
            started.activity_id = Some(xfer.clone());
            bits.push(started);
            match attempt {
                Attempt::Succeed | Attempt::Unthrottled { .. } => {
                    if let Attempt::Unthrottled { event } = attempt {
                        bits.push(bits_event(
                            pc,
                            *event,
                            0,
                            3,
                            0,
                            t + micros(rng.range(100_000, 900_000)),
                            bits_pid,
                            tid(rng),
                            vec![("jobName", s(&j.title)), ("url", s(&j.url))],
                        ));
                    }
                    let dur = 2 + (j.bytes / 2_000_000).min(600) as i64;
                    let t2 = t + secs(dur) + micros(rng.range(0, 999_999));
                    bits.push(transfer_stopped(
                        pc,
                        60,
                        t2,
                        bits_pid,
                        tid(rng),
                        &xfer,
                        &id,
                        &j.title,
                        &j.url,
                        0,
                        server_time,
                        j.bytes,
                        j.bytes,
                        &proxy,
                    ));
                    built.bytes_done = j.bytes;
                    built.bytes_total = Some(j.bytes);
                    built.modified = t2;
                    built.error = None;
                    if is_last {
                        let t3 = t2 + micros(rng.range(5_000, 90_000));
                        bits.push(bits_event(
                            pc,
                            4,
                            1,
                            4,
                            0,
                            t3,
                            bits_pid,
                            tid(rng),
                            vec![
                                ("User", s(&j.owner)),
                                ("jobTitle", s(&j.title)),
                                ("jobId", g(&id)),
                                ("jobOwner", s(&j.owner)),
                                ("fileCount", Value::U32(1)),
                                ("bytesTransferred", Value::U64(j.bytes)),
                                ("bytesTransferredFromPeer", Value::U64(0)),
                            ],
                        ));
                        built.state = "TRANSFERRED";
                        built.completed = Some(t3);
                        built.modified = t3;
                        last = last.max(t3);
                    } else {
                        built.state = "TRANSFERRING";
                        last = last.max(t2);
                    }
                }
                Attempt::Fail { .. } | Attempt::CredentialsRejected { .. } => {
                    let (hr, context) = match attempt {
                        Attempt::Fail { hr, context } => (hr, context),
                        Attempt::CredentialsRejected { hr, .. } => (hr, &5),
                        _ => unreachable!(),
                    };
                    let t2 = t + secs(rng.range(1, 8) as i64) + micros(rng.range(0, 999_999));
                    if let Attempt::CredentialsRejected { scheme, user, .. } = attempt {
                        let server = j
                            .url
                            .split_once("://")
                            .map_or("", |(_, r)| r.split(['/', ':']).next().unwrap_or(""));
                        bits.push(bits_event(
                            pc,
                            204,
                            1,
                            2,
                            0,
                            t2 - micros(rng.range(1_000, 90_000)),
                            bits_pid,
                            tid(rng),
                            vec![
                                ("server", s(server)),
                                ("job", s(&j.title)),
                                ("url", s(&j.url)),
                                ("scheme", s(scheme)),
                                ("user", s(user)),
                            ],
                        ));
                    }
                    bits.push(transfer_stopped(
                        pc,
                        61,
                        t2,
                        bits_pid,
                        tid(rng),
                        &xfer,
                        &id,
                        &j.title,
                        &j.url,
                        *hr,
                        0,
                        known.unwrap_or(u64::MAX),
                        built.bytes_done,
                        &proxy,
                    ));
                    built.error_count += 1;
                    built.error = Some((*hr, *context));
                    built.state = if transient(*hr) {
                        "TRANSIENT_ERROR"
                    } else {
                        "ERROR"
                    };
                    built.modified = t2;
                    last = last.max(t2);
                }
                Attempt::Fail202 {
                    hr,
                    http_version,
                    url_range,
                } => {
                    let t2 = t + secs(rng.range(1, 3) as i64) + micros(rng.range(0, 999_999));
                    let mut e = bits_event(
                        pc,
                        202,
                        0,
                        2,
                        0,
                        t2,
                        bits_pid,
                        tid(rng),
                        vec![
                            ("jobName", s(&j.title)),
                            ("jobOwner", s(&j.owner)),
                            ("jobId", g(&id)),
                            ("url", s(&j.url)),
                            ("xferId", g(&xfer)),
                            ("proxy", s(&proxy)),
                            ("hr", Value::U32(*hr)),
                            (
                                "fileLength",
                                Value::U64(if *hr == 0x8020_0011 {
                                    u64::MAX
                                } else {
                                    j.bytes
                                }),
                            ),
                            ("HTTPVersion", s(http_version)),
                            ("URLRange", s(url_range)),
                        ],
                    );
                    e.activity_id = Some(xfer.clone());
                    bits.push(e);
                    let t3 = t2 + micros(rng.range(200, 9_000));
                    bits.push(transfer_stopped(
                        pc,
                        61,
                        t3,
                        bits_pid,
                        tid(rng),
                        &xfer,
                        &id,
                        &j.title,
                        &j.url,
                        *hr,
                        0,
                        known.unwrap_or(u64::MAX),
                        built.bytes_done,
                        &proxy,
                    ));
                    built.error_count += 1;
                    built.error = Some((*hr, 5));
                    built.state = "ERROR";
                    built.modified = t3;
                    last = last.max(t3);
                }
                Attempt::Cancel | Attempt::ProxyFail { .. } => unreachable!(),
            }
        }
        jobs.push(built);
    }

    // --- service history ----------------------------------------------------------------
    let display = BITS_DISPLAY_NAME;
    let job_window_end = last + secs(240);
    let mut running = false;
    let mut cycle_start = start + secs(60) + micros(rng.range(0, 999_999));
    let first_bits = bits.iter().map(|e| e.time).min().unwrap_or(cycle_start);
    if cycle_start > first_bits {
        cycle_start = first_bits - secs(30);
    }
    let mut cycle_end = job_window_end.max(cycle_start + secs(900));
    for c in 0..host.service.state_cycles {
        let sid = Some(SYSTEM_SID);
        let up = cycle_start;
        system.push(scm_event(
            pc,
            7040,
            16384,
            up - micros(rng.range(20_000, 400_000)),
            scm_pid,
            tid(rng),
            &[display, "demand start", "auto start", "BITS"],
            None,
            sid,
        ));
        system.push(scm_event(
            pc,
            7036,
            16384,
            up,
            scm_pid,
            tid(rng),
            &[display, "running"],
            Some("BITS/4"),
            None,
        ));
        if c > 0 {
            // A new service process: Bits-Client 306 (job list loaded) from its pid.
            bits_pid = rng.range(1000, 9000) as u32 & !3;
        }
        bits.push(bits_event(
            pc,
            306,
            0,
            5,
            0,
            up + micros(rng.range(50_000, 400_000)),
            bits_pid,
            tid(rng),
            vec![],
        ));
        if c == 0 && host.service.slow_start {
            bits.push(bits_event(
                pc,
                302,
                0,
                3,
                0,
                up + micros(rng.range(500_000, 900_000)),
                bits_pid,
                tid(rng),
                vec![],
            ));
        }
        // Noise: other services start and stop during the cycle.
        for _ in 0..rng.range(2, 5) {
            let (dn, key) = *rng.pick(NOISE_SERVICES);
            let t = up + secs(rng.range(10, 800) as i64) + micros(rng.range(0, 999_999));
            system.push(scm_event(
                pc,
                7036,
                16384,
                t,
                scm_pid,
                tid(rng),
                &[dn, "running"],
                Some(&format!("{key}/4")),
                None,
            ));
            let t2 = t + secs(rng.range(30, 200) as i64);
            system.push(scm_event(
                pc,
                7036,
                16384,
                t2,
                scm_pid,
                tid(rng),
                &[dn, "stopped"],
                Some(&format!("{key}/1")),
                None,
            ));
        }
        let last_cycle = c + 1 == host.service.state_cycles;
        let stays_up = last_cycle && host.service.start_failures.is_empty();
        if stays_up {
            running = true;
            break;
        }
        let down = cycle_end + micros(rng.range(0, 999_999));
        if let (0, Some(delay)) = (c, host.service.slow_shutdown) {
            bits.push(bits_event(
                pc,
                308,
                0,
                3,
                0,
                down - micros(rng.range(50_000, 400_000)),
                bits_pid,
                tid(rng),
                vec![("number", Value::U32(delay))],
            ));
        }
        system.push(scm_event(
            pc,
            7036,
            16384,
            down,
            scm_pid,
            tid(rng),
            &[display, "stopped"],
            Some("BITS/1"),
            None,
        ));
        system.push(scm_event(
            pc,
            7040,
            16384,
            down + micros(rng.range(20_000, 400_000)),
            scm_pid,
            tid(rng),
            &[display, "auto start", "demand start", "BITS"],
            None,
            sid,
        ));
        cycle_start = down + secs(3 * 3600 + rng.range(0, 1800) as i64);
        cycle_end = cycle_start + secs(600 + rng.range(0, 900) as i64);
    }
    if host.service.state_cycles == 0 {
        running = host.service.start_failures.is_empty();
    }
    let mut t = cycle_start;
    for n in 0..host.service.crashes {
        t += secs(1800 + rng.range(0, 600) as i64);
        let count = (n + 1).to_string();
        let params: Vec<&str> = if host.service.crash_event == 7034 {
            vec![display, &count]
        } else {
            vec![display, &count, "60000", "1", "Restart the service"]
        };
        system.push(scm_event(
            pc,
            host.service.crash_event,
            49152,
            t,
            scm_pid,
            tid(rng),
            &params,
            Some("BITS"),
            None,
        ));
        system.push(scm_event(
            pc,
            7036,
            16384,
            t + secs(60),
            scm_pid,
            tid(rng),
            &[display, "running"],
            Some("BITS/4"),
            None,
        ));
        running = true;
    }
    if !host.service.start_failures.is_empty() {
        running = false;
        t += secs(1200);
        if config.start == 4 {
            system.push(scm_event(
                pc,
                7040,
                16384,
                t,
                scm_pid,
                tid(rng),
                &[display, "demand start", "disabled", "BITS"],
                None,
                Some(SYSTEM_SID),
            ));
        }
        for (event, error) in &host.service.start_failures {
            t += secs(3600 + rng.range(0, 900) as i64) + micros(rng.range(0, 999_999));
            let err = format!("%%{error}");
            let params: Vec<&str> = if *event == 7001 {
                vec![display, "COM+ Event System", &err]
            } else {
                vec![display, &err]
            };
            system.push(scm_event(
                pc,
                *event as u16,
                49152,
                t,
                scm_pid,
                tid(rng),
                &params,
                Some("BITS"),
                None,
            ));
        }
    }
    for l in &host.limit_events {
        t += secs(600 + rng.range(0, 600) as i64) + micros(rng.range(0, 999_999));
        let mut e = bits_event(
            pc,
            l.event,
            0,
            if l.event == 16397 { 3 } else { 2 },
            0,
            t,
            bits_pid,
            tid(rng),
            vec![
                ("entityName", s(&l.entity)),
                ("currentSize", Value::U64(l.current)),
                ("currentLimit", Value::U64(l.limit)),
            ],
        );
        e.channel = "System".into();
        system.push(e);
    }
    for channel in &host.service.logs_cleared {
        t += secs(300 + rng.range(0, 300) as i64) + micros(rng.range(0, 999_999));
        system.push(Event {
            provider: EVENTLOG_PROVIDER.into(),
            provider_guid: Some(EVENTLOG_GUID.into()),
            event_id: 104,
            task: 104,
            keywords: 0x8000_0000_0000_0000,
            time: t,
            process_id: rng.range(600, 1500) as u32 & !3,
            thread_id: tid(rng),
            channel: "System".into(),
            computer: pc.into(),
            user_sid: Some(SYSTEM_SID.into()),
            user_data: Some(UserData {
                element: "LogFileCleared".into(),
                namespace: Some(
                    "http://manifests.microsoft.com/win/2004/08/windows/eventlog".into(),
                ),
                fields: vec![
                    ("SubjectUserName".into(), s("helpdesk")),
                    ("SubjectDomainName".into(), s("CONTOSO")),
                    ("Channel".into(), s(channel)),
                    ("BackupPath".into(), s("")),
                ],
            }),
            ..Event::default()
        });
    }
    let mut queued = Vec::new();
    for (owner, count, state) in &host.queued_jobs {
        for _ in 0..*count {
            let created = start - secs(86_400 * rng.range(2, 60) as i64);
            queued.push((rng.guid(), owner.clone(), state.clone(), created));
        }
    }
    let mut wu = Vec::new();
    if !host.updates.is_empty() && host.update_events {
        update_events(host, &jobs, rng, &mut system, &mut wu);
    }
    bits.sort_by_key(|e| e.time);
    system.sort_by_key(|e| e.time);
    wu.sort_by_key(|e| e.time);
    Ok(Built {
        bits,
        system,
        wu,
        jobs,
        service_running: running,
        config,
        queued,
    })
}

/// A WindowsUpdateClient event (v1 field names; `errorCode` as HexInt32).
fn wu_event(
    computer: &str,
    id: u16,
    level: u8,
    time: Timestamp,
    pid: u32,
    channel: &str,
    data: Vec<(&str, Value)>,
) -> Event {
    Event {
        provider: WU_PROVIDER.into(),
        provider_guid: Some(WU_GUID.into()),
        event_id: id,
        version: 1,
        level,
        keywords: 0x8000_0000_0000_0000,
        time,
        process_id: pid,
        thread_id: pid + 4,
        channel: channel.into(),
        computer: computer.into(),
        user_sid: Some(SYSTEM_SID.into()),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        ..Event::default()
    }
}

/// Each update's WindowsUpdateClient events, following the job that downloads it: 44 just
/// before the job is created; 31 with the job's error after its last failed attempt; 41, 43
/// and 19 after it completes.
fn update_events(
    host: &HostSpec,
    jobs: &[BuiltJob],
    rng: &mut Rng,
    system: &mut Vec<Event>,
    wu: &mut Vec<Event>,
) {
    let pc = host.name.as_str();
    let pid = rng.range(1000, 9000) as u32 & !3;
    for u in &host.updates {
        let Some(j) = jobs.get(u.job) else { continue };
        let named = || {
            vec![
                ("updateTitle", s(&u.title)),
                ("updateGuid", g(&u.guid)),
                ("updateRevisionNumber", Value::U32(u.revision)),
            ]
        };
        system.push(wu_event(
            pc,
            44,
            4,
            j.created - micros(rng.range(200_000, 900_000)),
            pid,
            "System",
            named(),
        ));
        if let Some(done) = j.completed {
            let t = done + micros(rng.range(100_000, 900_000));
            wu.push(wu_event(pc, 41, 4, t, pid, WU_CHANNEL, named()));
            system.push(wu_event(pc, 43, 4, t + secs(60), pid, "System", named()));
            system.push(wu_event(pc, 19, 4, t + secs(240), pid, "System", named()));
        } else if let Some((hr, _)) = j.error {
            let mut data = named();
            data.insert(1, ("errorCode", Value::HexInt32(hr)));
            let t = j.modified + micros(rng.range(100_000, 900_000));
            wu.push(wu_event(pc, 31, 2, t, pid, WU_CHANNEL, data));
        }
    }
}

/// Whether BITS retries the job by itself after `hr` (TRANSIENT_ERROR) or stops (ERROR).
fn transient(hr: u32) -> bool {
    hr & 0xffff_0000 == 0x8007_0000 || matches!(hr, 0x8020_0010 | 0x8019_01F7 | 0x8019_01F8)
}

/// The evtx file of `events`.
pub(crate) fn evtx_bytes(events: &[Event]) -> std::io::Result<Vec<u8>> {
    let mut w = EvtxWriter::new();
    for e in events {
        w.push(e).map_err(std::io::Error::other)?;
    }
    Ok(w.finish())
}
