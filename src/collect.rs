//! `bitsdoctor collect`: what to run on a Windows machine to produce the bundle `analyze` reads,
//! where each capture goes in it, and the manifest of what ran, what failed and why.
//!
//! Commands run through a [`Runner`], so tests fake them; the runner that starts real processes
//! lives with the subcommand. Nothing here prints. Layout of the zip:
//!
//! ```text
//! HOSTNAME/Microsoft-Windows-Bits-Client%4Operational.evtx    wevtutil epl
//! HOSTNAME/System.evtx                                         wevtutil epl
//! HOSTNAME/Microsoft-Windows-WindowsUpdateClient%4Operational.evtx
//! HOSTNAME/bitsadmin.txt                                       bitsadmin /list /allusers /verbose
//! HOSTNAME/Get-BitsTransfer.txt                                Get-BitsTransfer -AllUsers | Format-List *
//! HOSTNAME/sc-qc-bits.txt ... sc-qfailure-bits.txt             sc.exe qc/query/qprivs/qsidtype/qfailure bits
//! HOSTNAME/reg-bits-service.txt, reg-bits-parameters.txt, reg-bits-policy.txt   reg query
//! HOSTNAME/winhttp-proxy.txt                                   netsh winhttp show proxy
//! HOSTNAME/WindowsUpdate.log                                   Get-WindowsUpdateLog (optional)
//! HOSTNAME/collect-manifest.json                               what ran, what failed and why
//! ```
//!
//! The host folder is what `analyze` takes a text capture's host from. Nothing is collected
//! from user profiles, and no credentials: BITS job listings name their owners and URLs, which
//! is what the diagnosis needs.

use serde::{Deserialize, Serialize};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `schema` value of a collect manifest (how `analyze` recognises one).
pub const MANIFEST_SCHEMA: &str = "bitsdoctor/collect/v1";
/// The manifest's file name inside the host folder.
pub const MANIFEST_FILE: &str = "collect-manifest.json";
/// Longest message kept from a command's error output.
const MAX_MESSAGE_CHARS: usize = 400;

/// Where a step's capture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// The command's standard output.
    Stdout,
    /// A file the command writes (an event log export), at this path.
    File(PathBuf),
}

/// One command of the collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The capture's file name inside the host folder.
    pub file: &'static str,
    /// What the capture holds, in a few words.
    pub what: &'static str,
    /// The program, as a path below the Windows folder (`System32\sc.exe`): tools are never
    /// looked up through PATH or the folder bitsdoctor runs from.
    pub program: &'static str,
    pub args: Vec<String>,
    pub capture: Capture,
    /// Exit code 1 without output means "not there" rather than a failure (a policy key exists
    /// only when a policy is set).
    pub absent_ok: bool,
    /// How long the command may run before it is stopped.
    pub timeout: Duration,
}

impl Step {
    /// The program's file name (`sc.exe`).
    pub fn program_name(&self) -> &'static str {
        self.program.rsplit('\\').next().unwrap_or(self.program)
    }

    /// The command as a person would type it (arguments with spaces quoted).
    pub fn command_line(&self) -> String {
        let mut s = self.program_name().to_string();
        for a in &self.args {
            s.push(' ');
            if a.contains(' ') {
                s.push('"');
                s.push_str(a);
                s.push('"');
            } else {
                s.push_str(a);
            }
        }
        s
    }
}

/// What `collect` may add to the standard set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Also build WindowsUpdate.log with Get-WindowsUpdateLog (slow: minutes).
    pub windows_update_log: bool,
}

const SC: &str = r"System32\sc.exe";
const REG: &str = r"System32\reg.exe";
const WEVTUTIL: &str = r"System32\wevtutil.exe";
const POWERSHELL: &str = r"System32\WindowsPowerShell\v1.0\powershell.exe";
/// PowerShell writes UTF-8 (job names may be in any language) and does not wrap long values.
const PS_PREFIX: &str = "[Console]::OutputEncoding = [Text.Encoding]::UTF8; ";

const MINUTE: Duration = Duration::from_secs(60);

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn export(file: &'static str, what: &'static str, channel: &str, work: &Path) -> Step {
    let path = work.join(file);
    Step {
        file,
        what,
        program: WEVTUTIL,
        args: vec![
            "epl".into(),
            channel.into(),
            path.to_string_lossy().into_owned(),
            "/ow:true".into(),
        ],
        capture: Capture::File(path),
        absent_ok: false,
        timeout: 10 * MINUTE,
    }
}

fn stdout(file: &'static str, what: &'static str, program: &'static str, list: &[&str]) -> Step {
    Step {
        file,
        what,
        program,
        args: args(list),
        capture: Capture::Stdout,
        absent_ok: false,
        timeout: 2 * MINUTE,
    }
}

fn reg_query(file: &'static str, what: &'static str, key: &str, absent_ok: bool) -> Step {
    Step {
        absent_ok,
        ..stdout(file, what, REG, &["query", key])
    }
}

/// A PowerShell single-quoted string literal.
fn ps_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Every command `collect` runs, in order; event-log exports and other written files go to
/// `work` (a private temporary folder).
pub fn plan(work: &Path, opts: &Options) -> Vec<Step> {
    let mut steps = vec![
        export(
            "Microsoft-Windows-Bits-Client%4Operational.evtx",
            "BITS client event log",
            "Microsoft-Windows-Bits-Client/Operational",
            work,
        ),
        export(
            "System.evtx",
            "System event log (BITS service start failures and crashes)",
            "System",
            work,
        ),
        export(
            "Microsoft-Windows-WindowsUpdateClient%4Operational.evtx",
            "Windows Update client event log",
            "Microsoft-Windows-WindowsUpdateClient/Operational",
            work,
        ),
        stdout(
            "bitsadmin.txt",
            "BITS jobs of all users (bitsadmin)",
            r"System32\bitsadmin.exe",
            &["/list", "/allusers", "/verbose"],
        ),
        Step {
            args: vec![
                "-NoProfile".into(),
                "-NonInteractive".into(),
                "-Command".into(),
                format!(
                    "{PS_PREFIX}Get-BitsTransfer -AllUsers | Format-List * | Out-String -Width 4096"
                ),
            ],
            ..stdout(
                "Get-BitsTransfer.txt",
                "BITS jobs of all users (PowerShell)",
                POWERSHELL,
                &[],
            )
        },
        stdout(
            "sc-qc-bits.txt",
            "BITS service configuration",
            SC,
            &["qc", "bits", "8192"],
        ),
        stdout(
            "sc-query-bits.txt",
            "BITS service state",
            SC,
            &["query", "bits"],
        ),
        stdout(
            "sc-qprivs-bits.txt",
            "BITS service privileges",
            SC,
            &["qprivs", "bits", "8192"],
        ),
        stdout(
            "sc-qsidtype-bits.txt",
            "BITS service SID type",
            SC,
            &["qsidtype", "bits"],
        ),
        stdout(
            "sc-qfailure-bits.txt",
            "BITS service recovery actions",
            SC,
            &["qfailure", "bits", "8192"],
        ),
        reg_query(
            "reg-bits-service.txt",
            "BITS service registry key",
            r"HKLM\SYSTEM\CurrentControlSet\Services\BITS",
            false,
        ),
        reg_query(
            "reg-bits-parameters.txt",
            "BITS service Parameters key (ServiceDll)",
            r"HKLM\SYSTEM\CurrentControlSet\Services\BITS\Parameters",
            false,
        ),
        reg_query(
            "reg-bits-policy.txt",
            "BITS group policy values",
            r"HKLM\SOFTWARE\Policies\Microsoft\Windows\BITS",
            true,
        ),
        stdout(
            "winhttp-proxy.txt",
            "machine WinHTTP proxy",
            r"System32\netsh.exe",
            &["winhttp", "show", "proxy"],
        ),
    ];
    if opts.windows_update_log {
        let path = work.join("WindowsUpdate.log");
        let command = format!(
            "Get-WindowsUpdateLog -LogPath {} | Out-Null",
            ps_quote(&path.to_string_lossy())
        );
        steps.push(Step {
            file: "WindowsUpdate.log",
            what: "Windows Update log (Get-WindowsUpdateLog)",
            program: POWERSHELL,
            args: vec![
                "-NoProfile".into(),
                "-NonInteractive".into(),
                "-Command".into(),
                command,
            ],
            capture: Capture::File(path),
            absent_ok: false,
            timeout: 15 * MINUTE,
        });
    }
    steps
}

/// How a command ended, as a runner saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// It ran; `code` is None when it was ended without one.
    Exited {
        code: Option<i32>,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    /// The program is not on this machine.
    NotFound,
    /// Starting it was refused.
    Denied(String),
    /// It ran past its timeout and was stopped.
    TimedOut,
    /// It could not be started for another reason.
    Failed(String),
}

/// Runs one command. The real one starts a process; tests answer from a table.
pub trait Runner {
    /// Run `program` (a path below the Windows folder) with `args`, stopping it after `timeout`.
    fn run(&self, program: &str, args: &[String], timeout: Duration) -> Ran;
}

/// What became of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ran and produced its capture.
    Collected,
    /// Ran and succeeded, but gave nothing (no output, no file).
    Empty,
    /// What it reads does not exist on this machine (a policy key that is not set).
    Absent,
    /// The program is not on this machine.
    Missing,
    /// Access denied (run elevated to collect it).
    Denied,
    /// The command failed.
    Failed,
    /// The command ran too long and was stopped.
    TimedOut,
    /// A status this version does not know (a manifest from a newer bitsdoctor).
    #[serde(other)]
    Other,
}

impl Status {
    /// Why a step that is not `Collected` gave nothing, in words.
    pub fn explain(self) -> &'static str {
        match self {
            Status::Collected => "collected",
            Status::Empty => "the command succeeded but gave nothing",
            Status::Absent => "not present on the machine",
            Status::Missing => "the program is not on the machine",
            Status::Denied => "access denied (run collect elevated)",
            Status::Failed => "the command failed",
            Status::TimedOut => "the command ran too long and was stopped",
            Status::Other => "not collected",
        }
    }
}

/// One manifest line: a step and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The capture's file name in the host folder (the intended one, even when nothing was
    /// written).
    pub file: String,
    pub what: String,
    pub command: String,
    pub status: Status,
    /// Whether the file is in the bundle (a failed command's output is kept when it printed
    /// something: `sc.exe` error text is itself evidence).
    #[serde(default)]
    pub kept: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What ran, what failed and why; written into the bundle and read back by `analyze`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub host: String,
    /// The bitsdoctor version that collected.
    pub tool: String,
    /// When the collection ran (UTC, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    pub steps: Vec<Record>,
}

impl Manifest {
    /// Steps whose capture is not in the bundle, or is only an error message.
    pub fn not_collected(&self) -> impl Iterator<Item = &Record> {
        self.steps.iter().filter(|r| r.status != Status::Collected)
    }
}

/// A file of the bundle: bytes in memory (a command's output), or a file a command wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// The result of a collection, ready to be zipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    /// The host folder's name.
    pub host: String,
    /// (file name in the host folder, content), in plan order.
    pub files: Vec<(String, Content)>,
    pub manifest: Manifest,
}

impl Collected {
    /// The number of captures collected in full.
    pub fn collected(&self) -> usize {
        self.manifest
            .steps
            .iter()
            .filter(|r| r.status == Status::Collected)
            .count()
    }
}

/// A machine name as a folder name: letters, digits, `-`, `_` and `.` kept, anything else `_`;
/// `unknown-host` when there is none.
pub fn host_folder(name: Option<&str>) -> String {
    let cleaned: String = name
        .unwrap_or("")
        .trim()
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('.');
    if cleaned.is_empty() {
        "unknown-host".into()
    } else {
        cleaned.to_string()
    }
}

/// A command's error text, decoded, trimmed and cut to a few hundred characters.
fn message(bytes: &[u8]) -> Option<String> {
    let text = crate::ingest::decode::decode(bytes).text;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut m: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if m.chars().count() > MAX_MESSAGE_CHARS {
        m = m.chars().take(MAX_MESSAGE_CHARS).collect();
        m.push_str("...");
    }
    Some(m)
}

/// Win32 ERROR_ACCESS_DENIED, the exit code of `sc.exe`, `wevtutil` and others when refused.
const EXIT_ACCESS_DENIED: i32 = 5;

/// Does `reg query` output hold a key?
fn registry_data(out: &[u8]) -> bool {
    crate::ingest::decode::decode(out)
        .text
        .lines()
        .any(|l| l.trim_start().starts_with("HKEY_"))
}

/// Run one step and decide what became of it.
fn run_step(runner: &dyn Runner, step: &Step) -> (Record, Option<Content>) {
    let ran = runner.run(step.program, &step.args, step.timeout);
    let mut record = Record {
        file: step.file.to_string(),
        what: step.what.to_string(),
        command: step.command_line(),
        status: Status::Failed,
        kept: false,
        exit_code: None,
        message: None,
    };
    let (code, out, err) = match ran {
        Ran::NotFound => {
            record.status = Status::Missing;
            return (record, None);
        }
        Ran::Denied(why) => {
            record.status = Status::Denied;
            record.message = message(why.as_bytes());
            return (record, None);
        }
        Ran::TimedOut => {
            record.status = Status::TimedOut;
            return (record, None);
        }
        Ran::Failed(why) => {
            record.message = message(why.as_bytes());
            return (record, None);
        }
        Ran::Exited {
            code,
            stdout,
            stderr,
        } => (code, stdout, stderr),
    };
    record.exit_code = code;
    let printed = !out.iter().all(u8::is_ascii_whitespace);
    let produced = match &step.capture {
        Capture::Stdout => printed,
        Capture::File(path) => std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0),
    };
    // reg.exe exits 1 for a key that is not there, with its error on stderr (Windows) or
    // stdout (Wine); what it printed is then no capture.
    let absent = step.absent_ok && code == Some(1) && !registry_data(&out);
    record.status = match code {
        _ if absent => Status::Absent,
        Some(0) if produced => Status::Collected,
        Some(0) => Status::Empty,
        Some(EXIT_ACCESS_DENIED) => Status::Denied,
        _ => Status::Failed,
    };
    if record.status != Status::Collected {
        // Tools print their errors on either stream.
        record.message = message(&err).or_else(|| if printed { message(&out) } else { None });
    }
    let content = match &step.capture {
        _ if absent || !produced => None,
        Capture::Stdout => Some(Content::Bytes(out)),
        Capture::File(path) => Some(Content::File(path.clone())),
    };
    record.kept = content.is_some();
    (record, content)
}

/// Run every step of the plan through `runner`. Never fails: whatever a step does is recorded
/// in the manifest. `on_step` is called before each step (for progress).
pub fn collect(
    runner: &dyn Runner,
    host: &str,
    work: &Path,
    opts: &Options,
    collected_at: Option<String>,
    on_step: &dyn Fn(&Step),
) -> Collected {
    let mut files = Vec::new();
    let mut steps = Vec::new();
    for step in plan(work, opts) {
        on_step(&step);
        let (record, content) = run_step(runner, &step);
        if let Some(c) = content {
            files.push((step.file.to_string(), c));
        }
        steps.push(record);
    }
    Collected {
        host: host.to_string(),
        files,
        manifest: Manifest {
            schema: MANIFEST_SCHEMA.into(),
            host: host.to_string(),
            tool: concat!("bitsdoctor ", env!("CARGO_PKG_VERSION")).into(),
            collected_at,
            steps,
        },
    }
}

/// Why the bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the zip entry {entry}: {source}")]
    Zip {
        entry: String,
        source: zip::result::ZipError,
    },
    #[error("cannot write the zip entry {entry}: {source}")]
    Write {
        entry: String,
        source: std::io::Error,
    },
}

/// Write the bundle as a zip: every file under `HOST/`, then `HOST/collect-manifest.json`.
pub fn write_zip<W: Write + Seek>(c: &Collected, w: W) -> Result<W, CollectError> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(w);
    let base = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let start = |zip: &mut zip::ZipWriter<W>, entry: &str, large: bool| {
        zip.start_file(entry, base.large_file(large))
            .map_err(|source| CollectError::Zip {
                entry: entry.to_string(),
                source,
            })
    };
    for (name, content) in &c.files {
        let entry = format!("{}/{name}", c.host);
        let written = match content {
            Content::Bytes(b) => {
                start(&mut zip, &entry, false)?;
                zip.write_all(b)
            }
            Content::File(path) => {
                let read_err = |source| CollectError::Read {
                    path: path.to_string_lossy().into_owned(),
                    source,
                };
                let mut f = std::fs::File::open(path).map_err(read_err)?;
                let len = f.metadata().map_err(read_err)?.len();
                start(&mut zip, &entry, len >= u64::from(u32::MAX))?;
                std::io::copy(&mut f, &mut zip).map(|_| ())
            }
        };
        written.map_err(|source| CollectError::Write { entry, source })?;
    }
    let entry = format!("{}/{MANIFEST_FILE}", c.host);
    start(&mut zip, &entry, false)?;
    serde_json::to_vec_pretty(&c.manifest)
        .map_err(std::io::Error::other)
        .and_then(|json| zip.write_all(&json))
        .map_err(|source| CollectError::Write {
            entry: entry.clone(),
            source,
        })?;
    zip.finish()
        .map_err(|source| CollectError::Zip { entry, source })
}

#[cfg(test)]
mod tests;
