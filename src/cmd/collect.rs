//! `bitsdoctor collect [--out FILE.zip] [--windows-update-log]`: run the Windows tools that
//! capture what `analyze` reads and zip their output under the machine's name, with a manifest
//! of what ran, what failed and why. The list of commands and the layout are in
//! `bitsdoctor::collect`; this file starts the real processes and writes the zip.
//!
//! Windows only: on another system it says so and exits 2 (the tools it runs exist only on
//! Windows; its tests fake them, and CI runs the Windows build under Wine).

use bitsdoctor::collect::{self, Options, Ran, Runner, Status, Step};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command's output beyond this is not kept (a bitsadmin listing of thousands of jobs is a
/// few MB).
const MAX_CAPTURE_BYTES: u64 = 256 << 20;

/// Starts the tools from the Windows folder (`%SystemRoot%`), never through PATH or the folder
/// bitsdoctor.exe sits in.
struct SystemRunner {
    windows: PathBuf,
}

/// Read a stream to its end, keeping at most `MAX_CAPTURE_BYTES`.
fn read_capped(stream: Option<impl Read>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(mut s) = stream {
        let _ = (&mut s).take(MAX_CAPTURE_BYTES).read_to_end(&mut out);
        let _ = std::io::copy(&mut s, &mut std::io::sink());
    }
    out
}

impl Runner for SystemRunner {
    fn run(&self, program: &str, args: &[String], timeout: Duration) -> Ran {
        let path = self.windows.join(program);
        let spawned = Command::new(&path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ran::NotFound,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Ran::Denied(e.to_string())
            }
            Err(e) => return Ran::Failed(e.to_string()),
        };
        // Both streams are drained while the command runs, so a full pipe never stalls it.
        let out = child.stdout.take();
        let err = child.stderr.take();
        let out = std::thread::spawn(move || read_capped(out));
        let err = std::thread::spawn(move || read_capped(err));
        let started = Instant::now();
        let code = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if started.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    // The readers are left behind: a grandchild may still hold the pipes.
                    return Ran::TimedOut;
                }
                Err(e) => return Ran::Failed(e.to_string()),
            }
        };
        Ran::Exited {
            code,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        }
    }
}

/// A value from a command's output, safe to print on a terminal (see
/// `bitsdoctor::term::escape`, the one place this is done).
fn printable(s: &str) -> String {
    bitsdoctor::term::escape(s).into_owned()
}

/// The summary printed when the bundle is written.
fn summary(c: &collect::Collected, zip: &Path) -> String {
    let mut o = format!(
        "bitsdoctor collect: {} of {} captures collected into {}\n",
        c.collected(),
        c.manifest.steps.len(),
        printable(&zip.to_string_lossy())
    );
    for r in &c.manifest.steps {
        let status = serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        o.push_str(&format!("  {status:<10} {}", r.file));
        if r.status != Status::Collected {
            o.push_str(&format!(" ({})", r.status.explain()));
            if let Some(m) = &r.message {
                o.push_str(&format!(": {}", printable(m)));
            }
        }
        o.push('\n');
    }
    o.push_str(&format!(
        "Analyse it with: bitsdoctor analyze {}\n",
        printable(&zip.to_string_lossy())
    ));
    o
}

/// Write the zip to a temporary file beside `out`, then rename it into place.
fn write_bundle(c: &collect::Collected, out: &Path) -> Result<(), String> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let shown = out.display();
    let tmp = tempfile::Builder::new()
        .prefix(".bitsdoctor-collect-")
        .suffix(".zip.tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let mut file = collect::write_zip(c, tmp).map_err(|e| format!("{shown}: {e}"))?;
    file.flush()
        .map_err(|e| format!("cannot write {shown}: {e}"))?;
    file.persist(out)
        .map_err(|e| format!("cannot write {shown}: {}", e.error))?;
    Ok(())
}

pub fn run(out: Option<&Path>, opts: &Options) -> (String, u8) {
    if !cfg!(windows) {
        eprintln!(
            "bitsdoctor: collect runs on the Windows machine to diagnose (it runs wevtutil, \
             bitsadmin, sc.exe, reg and netsh there); copy the zip it writes here and run \
             `bitsdoctor analyze` on it"
        );
        return (String::new(), 2);
    }
    let host = collect::host_folder(std::env::var("COMPUTERNAME").ok().as_deref());
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(format!("bitsdoctor-{host}.zip")));
    let windows = std::env::var_os("SystemRoot")
        .or_else(|| std::env::var_os("windir"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
    let work = match tempfile::Builder::new()
        .prefix("bitsdoctor-collect-")
        .tempdir()
    {
        Ok(w) => w,
        Err(e) => {
            eprintln!("bitsdoctor: cannot create a temporary folder: {e}");
            return (String::new(), 2);
        }
    };
    let on_step = |s: &Step| {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            eprintln!("running {}", s.command_line());
        }
    };
    let now = Some(jiff::Timestamp::now().to_string());
    let runner = SystemRunner { windows };
    let c = collect::collect(&runner, &host, work.path(), opts, now, &on_step);
    match write_bundle(&c, &out) {
        Ok(()) => (summary(&c, &out), 0),
        Err(e) => {
            eprintln!("bitsdoctor: {e}");
            (String::new(), 2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_bidi_overrides() {
        assert_eq!(printable("a\u{1b}[31mb"), "a\\x1b[31mb");
        assert_eq!(printable("x\u{202E}y"), "x\\u202ey");
        assert_eq!(printable("Zugriff verweigert"), "Zugriff verweigert");
    }

    #[test]
    fn real_runner_reports_a_missing_program() {
        let dir = tempfile::tempdir().unwrap();
        let runner = SystemRunner {
            windows: dir.path().to_path_buf(),
        };
        let ran = runner.run("System32\\no-such-tool.exe", &[], Duration::from_secs(5));
        assert_eq!(ran, Ran::NotFound);
    }
}
