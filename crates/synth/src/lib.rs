//! Builds bitsdoctor scenario bundles: a declarative [`Scenario`] (hosts, their BITS jobs and
//! what happens to each transfer attempt, the BITS service's history and configuration) becomes
//! a folder per host holding the exported event logs (`Microsoft-Windows-Bits-Client%4Operational.evtx`,
//! `System.evtx`) and the text captures a support engineer collects (`bitsadmin /list /allusers
//! /verbose`, `sc qc|query|qprivs|qfailure|qsidtype bits`, `reg export` of the BITS policy and
//! service keys, `netsh winhttp show proxy`).
//!
//! Event sequences follow the real corpus: per job a Bits-Client 3 (v2), then per attempt a 59
//! and its 60 (success) or 61 (Warning, with the HRESULT as UInt32) sharing one transfer id, a
//! 202 (Error) before the 61 when the server or proxy lacks an HTTP feature, and a final 4 or 5;
//! retries 10 minutes apart. The System log holds Service Control Manager 7036/7040 (normal start
//! and stop cycles), 7000/7023/7031 when asked for, and unrelated services' noise.
//!
//! Everything is derived from the scenario and its seed: same scenario, same bytes.
//!
//! ```no_run
//! let scenario = synth::samples::scenario();
//! let summary = synth::write_bundle(&scenario, std::path::Path::new("samples")).unwrap();
//! println!("{} files", summary.files.len());
//! ```

pub mod bench;
mod events;
mod prng;
pub mod samples;
mod text;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use events::{
    BITS_CHANNEL, BITS_DISPLAY_NAME, BITS_GUID, BITS_PROVIDER, EVENTLOG_GUID, EVENTLOG_PROVIDER,
    SCM_GUID, SCM_PROVIDER,
};
pub use prng::Rng;

/// File names inside a host folder.
pub const BITS_LOG: &str = "Microsoft-Windows-Bits-Client%4Operational.evtx";
pub const SYSTEM_LOG: &str = "System.evtx";
pub const WU_LOG: &str = "Microsoft-Windows-WindowsUpdateClient%4Operational.evtx";

/// A whole bundle: several hosts, one start time, one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub hosts: Vec<HostSpec>,
    /// When the first host's logs begin (UTC).
    pub start: jiff::Timestamp,
    /// Seeds every GUID, process id, jitter and noise event.
    pub seed: u64,
}

/// One machine.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSpec {
    /// FQDN, written as the events' `<Computer>`.
    pub name: String,
    /// Short name: the bundle subfolder (text captures take their host from it).
    pub folder: String,
    pub jobs: Vec<JobSpec>,
    pub service: ServiceSpec,
    /// The BITS service configuration the `sc` / `reg` captures show; `None` = the repair values.
    pub config: Option<ConfigSpec>,
    /// BITS Group Policy values (`HKLM\SOFTWARE\Policies\Microsoft\Windows\BITS`, REG_DWORD).
    pub policy: Vec<(String, u32)>,
    /// `netsh winhttp show proxy`: `Some("proxy:port")` or direct access.
    pub winhttp_proxy: Option<String>,
    pub captures: CaptureSet,
    /// Bits-Client job/file/range limit events (16397/16398/16400/16401/16402), written to the
    /// System log as BITS does.
    pub limit_events: Vec<LimitEventSpec>,
    /// Jobs that only the `bitsadmin` listing shows (created before the logs begin, e.g. leaked
    /// by a script): (owner, count, state). They make the per-owner job counts.
    pub queued_jobs: Vec<(String, u32, String)>,
    /// `sc` commands that failed, captured in `sc-start-bits.txt`: (operation, Win32 error),
    /// e.g. `("StartService", 1058)` -> `[SC] StartService FAILED 1058:`.
    pub sc_errors: Vec<(String, u32)>,
    /// The BITS file version the `bitsadmin` banner shows in brackets on older Windows
    /// (`7.0.6002` on Vista SP2); `None` = a banner without one, as on Windows 10.
    pub bits_version: Option<String>,
    /// Windows updates whose downloads go through the host's jobs.
    pub updates: Vec<UpdateSpec>,
    /// Write the updates as WindowsUpdateClient events (the default): 44 download started in
    /// the System log; then 31 download failed in
    /// `Microsoft-Windows-WindowsUpdateClient%4Operational.evtx` when the job ends in an error,
    /// or 41 downloaded, 43 and 19 installed when it completes.
    pub update_events: bool,
    /// Write the updates into a legacy `WindowsUpdate.log` too, naming each update's BITS job
    /// (`New download job [UpdateId = ...]`, `BITS job initialized, JobId = ...`, `Downloading
    /// from URL`, `BITS job {G} failed, updateId = ..., hr = ...` or `completed successfully`).
    pub windows_update_log: bool,
}

/// A Windows update downloaded through one of the host's jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateSpec {
    /// The title as WindowsUpdateClient events give it, e.g. `2024-05 Cumulative Update for
    /// Windows 11 Version 23H2 for x64-based Systems (KB5037771)`.
    pub title: String,
    /// The update id, without braces.
    pub guid: String,
    pub revision: u32,
    /// The index in [`HostSpec::jobs`] of the job that downloads it.
    pub job: usize,
}

impl HostSpec {
    /// A host with no jobs, a healthy service with one start/stop cycle, the repair
    /// configuration, and every capture.
    pub fn new(name: &str, folder: &str) -> Self {
        HostSpec {
            name: name.to_string(),
            folder: folder.to_string(),
            jobs: Vec::new(),
            service: ServiceSpec::default(),
            config: None,
            policy: Vec::new(),
            winhttp_proxy: None,
            captures: CaptureSet::all(),
            limit_events: Vec::new(),
            queued_jobs: Vec::new(),
            sc_errors: Vec::new(),
            bits_version: None,
            updates: Vec::new(),
            update_events: true,
            windows_update_log: false,
        }
    }
}

/// One Bits-Client limit event (fields `entityName`, `currentSize`, `currentLimit`).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitEventSpec {
    /// 16397 (per-user limit above per-computer limit), 16398 (per-user limit hit), 16400
    /// (per-computer limit hit), 16401 (files per job), 16402 (ranges per file).
    pub event: u16,
    /// The user, job or file the limit applies to.
    pub entity: String,
    pub current: u64,
    pub limit: u64,
}

/// One BITS job and what happens to each of its transfer attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    pub title: String,
    /// `DOMAIN\user`, e.g. `NT AUTHORITY\SYSTEM`.
    pub owner: String,
    pub url: String,
    /// Where the file goes (bitsadmin's `JOB FILES` line).
    pub local_path: String,
    /// The proxy the transfer events report (`host:port`); `None` = direct.
    pub proxy: Option<String>,
    /// The process that created the job (event 3 `processPath`).
    pub process: String,
    /// The file size.
    pub bytes: u64,
    /// Minutes after the host's logs begin when the job is created.
    pub delay_minutes: u32,
    pub attempts: Vec<Attempt>,
    /// Whether the job is still in the queue when `bitsadmin /list /allusers /verbose` runs.
    pub in_bitsadmin: bool,
    /// The program BITS runs when the job finishes (bitsadmin `NOTIFICATION COMMAND LINE`);
    /// `None` prints `none`.
    pub notify_command: Option<String>,
    /// The job's no-progress timeout in seconds; `None` = BITS's default (1209600).
    pub no_progress_timeout: Option<u64>,
    /// Whether the log has a Bits-Client 16403 naming the job's file (Windows 11 and later).
    pub file_event: bool,
}

impl JobSpec {
    /// A Windows Update download job of `url` owned by SYSTEM.
    pub fn windows_update(url: &str, attempts: Vec<Attempt>) -> Self {
        let file = url.rsplit('/').next().unwrap_or("update.cab");
        JobSpec {
            title: "Windows Update".into(),
            owner: "NT AUTHORITY\\SYSTEM".into(),
            url: url.to_string(),
            local_path: format!(
                "C:\\Windows\\SoftwareDistribution\\Download\\{}",
                file.to_ascii_lowercase()
            ),
            proxy: None,
            process: "C:\\Windows\\System32\\svchost.exe".into(),
            bytes: 1_048_576,
            delay_minutes: 0,
            attempts,
            in_bitsadmin: false,
            notify_command: None,
            no_progress_timeout: None,
            file_event: false,
        }
    }
}

/// What one transfer attempt does.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// 59 then 60 (hr 0); the job completes (4) when it is the last attempt.
    Succeed,
    /// 59 then 61 with `hr`; `context` is the BG_ERROR_CONTEXT bitsadmin shows (5 = remote file).
    Fail { hr: u32, context: u32 },
    /// 59, 202 (the server or proxy lacks an HTTP feature), then 61 with `hr`.
    Fail202 {
        hr: u32,
        http_version: String,
        url_range: String,
    },
    /// Bits-Client 201: no proxy in `proxy_list` could be reached; `hr` is the event's `error`.
    /// No 59/61: BITS did not get as far as a transfer.
    ProxyFail {
        hr: u32,
        proxy_list: String,
        bypass_list: String,
    },
    /// 59, Bits-Client 204 v1 (the server rejected the job's credentials for `scheme`), then 61
    /// with `hr` (typically 0x80190191 or 0x80190197).
    CredentialsRejected {
        hr: u32,
        scheme: String,
        user: String,
    },
    /// 59, a throttling warning (206 no HEAD, 207 no Content-Length, 210 no Content-Range),
    /// then 60 with S_OK: downloaded, without throttling.
    Unthrottled { event: u16 },
    /// The job is cancelled (5).
    Cancel,
}

/// What happens to the BITS service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// (SCM event 7000/7001/7023/7024, Win32 error), one per failed start, an hour apart after
    /// the normal cycles. 7001 names `COM+ Event System` as the dependency that failed.
    pub start_failures: Vec<(u32, u32)>,
    /// Unexpected terminations (SCM `crash_event`).
    pub crashes: u32,
    /// 7031 (terminated unexpectedly, with a recovery action) or 7034 (without one).
    pub crash_event: u16,
    /// A Bits-Client 302 (slow start) at the first start.
    pub slow_start: bool,
    /// A Bits-Client 308 (shutdown delayed this many seconds) at the first stop.
    pub slow_shutdown: Option<u32>,
    /// Eventlog 104 (log cleared) in the System log, one per channel named, after the cycles.
    pub logs_cleared: Vec<String>,
    /// Normal start/stop cycles: 7040 demand->auto, 7036 running, 7036 stopped, 7040
    /// auto->demand. Not a problem; must not be diagnosed.
    pub state_cycles: u32,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            start_failures: Vec::new(),
            crashes: 0,
            crash_event: 7031,
            slow_start: false,
            slow_shutdown: None,
            logs_cleared: Vec::new(),
            state_cycles: 2,
        }
    }
}

/// The BITS service configuration as `sc` and `reg export` show it. The default is a healthy
/// Windows 10 1703+ / 11 / Server 2019+ machine ([`ConfigSpec::windows10`]); the other
/// constructors give the defaults of older versions (bits-facts.md 3.6a). A scenario overrides
/// one value to plant a fault.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSpec {
    /// Service type (0x20 = WIN32_SHARE_PROCESS).
    pub service_type: u32,
    /// The TYPE `sc query` shows for the running service: 0x30 (`30  WIN32`) where svchost
    /// services run split (Windows 10 1703 on with enough memory); `None` = `service_type`.
    pub query_type: Option<u32>,
    /// 2 automatic, 3 manual (demand), 4 disabled.
    pub start: u32,
    pub delayed_auto: bool,
    pub error_control: u32,
    pub image_path: String,
    pub dependencies: Vec<String>,
    pub object_name: String,
    pub privileges: Vec<String>,
    /// 0 NONE, 1 UNRESTRICTED, 3 RESTRICTED.
    pub sid_type: u32,
    pub reset_period: u32,
    /// (action 1 = restart, 0 = none, delay ms).
    pub failure_actions: Vec<(u32, u32)>,
    /// Empty = the value is missing from the Parameters key.
    pub service_dll: String,
}

/// The privileges BITS holds from Vista on.
const PRIVILEGES: [&str; 5] = [
    "SeCreateGlobalPrivilege",
    "SeImpersonatePrivilege",
    "SeTcbPrivilege",
    "SeAssignPrimaryTokenPrivilege",
    "SeIncreaseQuotaPrivilege",
];

impl ConfigSpec {
    /// Windows 10 1703 and later, Windows 11, Server 2019 / 2022: `-p`, RpcSs only,
    /// SeDebugPrivilege, `sc query` TYPE 30.
    pub fn windows10() -> Self {
        let mut privileges = PRIVILEGES.map(String::from).to_vec();
        privileges.push("SeDebugPrivilege".into());
        ConfigSpec {
            service_type: 0x20,
            query_type: Some(0x30),
            start: 2,
            delayed_auto: true,
            error_control: 1,
            image_path: "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p".into(),
            dependencies: vec!["RpcSs".into()],
            object_name: "LocalSystem".into(),
            privileges,
            sid_type: 1,
            reset_period: 86400,
            failure_actions: vec![(1, 60000), (1, 120000), (0, 0)],
            service_dll: "%SystemRoot%\\System32\\qmgr.dll".into(),
        }
    }

    /// Windows 11 and Server 2022 share the Windows 10 1703+ defaults.
    pub fn windows11() -> Self {
        Self::windows10()
    }

    /// Server 2016 (and Windows 10 before 1703): no `-p`, one shared svchost; SeDebugPrivilege
    /// as on Windows 10.
    pub fn server2016() -> Self {
        ConfigSpec {
            query_type: None,
            image_path: "%SystemRoot%\\System32\\svchost.exe -k netsvcs".into(),
            ..Self::windows10()
        }
    }

    /// Vista to 8.1 / Server 2008 to 2012 R2: RpcSs and EventSystem, five privileges.
    pub fn vista() -> Self {
        ConfigSpec {
            query_type: None,
            image_path: "%SystemRoot%\\System32\\svchost.exe -k netsvcs".into(),
            dependencies: vec!["RpcSs".into(), "EventSystem".into()],
            privileges: PRIVILEGES.map(String::from).to_vec(),
            failure_actions: vec![(1, 60000), (1, 120000)],
            ..Self::windows10()
        }
    }
}

impl Default for ConfigSpec {
    fn default() -> Self {
        Self::windows10()
    }
}

/// Which text captures a host folder gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSet {
    /// `bitsadmin.txt`: `bitsadmin /list /allusers /verbose`.
    pub bitsadmin: bool,
    /// `sc-qc-bits.txt`.
    pub sc_qc: bool,
    /// `sc-query-bits.txt`.
    pub sc_query: bool,
    /// `sc-qprivs-bits.txt`, `sc-qfailure-bits.txt`, `sc-qsidtype-bits.txt`.
    pub sc_extra: bool,
    /// `bits-policy.reg` (UTF-16LE with BOM).
    pub policy_reg: bool,
    /// `bits-service.reg` (UTF-16LE with BOM): `Services\BITS` and its `Parameters`.
    pub service_reg: bool,
    /// `winhttp-proxy.txt`.
    pub winhttp: bool,
    /// `reg-query-bits.txt` (`reg query HKLM\SYSTEM\CurrentControlSet\Services\BITS /s`) and
    /// `reg-query-bits-policy.txt` (`reg query` of the policy key: an error when no policy is
    /// set, as on a machine without one).
    pub reg_query: bool,
}

impl CaptureSet {
    pub fn all() -> Self {
        CaptureSet {
            bitsadmin: true,
            sc_qc: true,
            sc_query: true,
            sc_extra: true,
            policy_reg: true,
            service_reg: true,
            winhttp: true,
            reg_query: false,
        }
    }
    pub fn none() -> Self {
        CaptureSet {
            bitsadmin: false,
            sc_qc: false,
            sc_query: false,
            sc_extra: false,
            policy_reg: false,
            service_reg: false,
            winhttp: false,
            reg_query: false,
        }
    }
}

/// What [`write_bundle`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundleSummary {
    /// Files written, relative to the bundle folder, sorted.
    pub files: Vec<PathBuf>,
    pub hosts: Vec<HostSummary>,
}

/// Per host: how many records each log got, and the event ids in them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostSummary {
    pub name: String,
    pub folder: String,
    pub bits_records: u64,
    pub system_records: u64,
    /// Bits-Client event id -> count.
    pub bits_events: BTreeMap<u16, u64>,
    /// System-log (provider, event id) -> count.
    pub system_events: BTreeMap<(String, u16), u64>,
    /// Job GUIDs in the order of the scenario's jobs.
    pub job_ids: Vec<String>,
}

/// Exports of one host's Bits-Client log as `write_bundle` writes it, each holding only the
/// records `from..to` (0-based, record ids `from + 1 ...`), as a log saved at different times
/// or trimmed: ranges that overlap give overlapping exports of one log.
pub fn bits_log_exports(
    s: &Scenario,
    host: usize,
    ranges: &[std::ops::Range<usize>],
) -> io::Result<Vec<Vec<u8>>> {
    let root = Rng::new(s.seed);
    let mut offset = jiff::SignedDuration::ZERO;
    for (i, h) in s.hosts.iter().enumerate() {
        let mut rng = root.fork(&h.name);
        let start = s.start + offset;
        offset += jiff::SignedDuration::from_secs(rng.range(180, 540) as i64);
        if i != host {
            continue;
        }
        let built = events::build_host(h, start, &mut rng).map_err(io::Error::other)?;
        return ranges
            .iter()
            .map(|r| {
                let n = built.bits.len();
                let events = &built.bits[r.start.min(n)..r.end.min(n)];
                let mut w = evtx_writer::EvtxWriter::with_first_record_id(r.start as u64 + 1);
                for e in events {
                    w.push(e).map_err(io::Error::other)?;
                }
                Ok(w.finish())
            })
            .collect();
    }
    Err(io::Error::other(format!("no host {host} in the scenario")))
}

/// Writes `s` under `out` (created if missing): one folder per host. Existing files of the same
/// names are replaced; nothing else in `out` is touched.
pub fn write_bundle(s: &Scenario, out: &Path) -> io::Result<BundleSummary> {
    let mut summary = BundleSummary::default();
    let root = Rng::new(s.seed);
    let mut offset = jiff::SignedDuration::ZERO;
    for (i, host) in s.hosts.iter().enumerate() {
        let mut rng = root.fork(&host.name);
        let start = s.start + offset;
        offset += jiff::SignedDuration::from_secs(rng.range(180, 540) as i64);
        let dir = out.join(&host.folder);
        std::fs::create_dir_all(&dir)?;
        let built = events::build_host(host, start, &mut rng).map_err(io::Error::other)?;
        let mut hs = HostSummary {
            name: host.name.clone(),
            folder: host.folder.clone(),
            job_ids: built.jobs.iter().map(|j| j.id.clone()).collect(),
            ..HostSummary::default()
        };
        for e in &built.bits {
            *hs.bits_events.entry(e.event_id).or_default() += 1;
        }
        for e in &built.system {
            *hs.system_events
                .entry((e.provider.clone(), e.event_id))
                .or_default() += 1;
        }
        hs.bits_records = built.bits.len() as u64;
        hs.system_records = built.system.len() as u64;
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (BITS_LOG.into(), events::evtx_bytes(&built.bits)?),
            (SYSTEM_LOG.into(), events::evtx_bytes(&built.system)?),
        ];
        if !built.wu.is_empty() {
            files.push((WU_LOG.into(), events::evtx_bytes(&built.wu)?));
        }
        files.extend(text::captures(host, &built, i));
        for (name, bytes) in files {
            std::fs::write(dir.join(&name), bytes)?;
            summary.files.push(Path::new(&host.folder).join(name));
        }
        summary.hosts.push(hs);
    }
    summary.files.sort();
    Ok(summary)
}
