//! `bitsdoctor analyze PATH...` (one fleet, or with `--each` one report per case) and
//! `bitsdoctor merge SUMMARY...`.

use crate::Format;
use bitsdoctor::app::{self, Config, Progress};
use bitsdoctor::diagnose::Severity;
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report::events::{Rows, Spool, RUN_BYTES};
use bitsdoctor::report::index::{self, CaseRow};
use bitsdoctor::report::{self, Report};
use bitsdoctor::summary::{self, Summary};
use rayon::prelude::*;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A progress bar on stderr while inputs are read, only when stderr is a terminal.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("reading inputs {pos}/{len} {wide_bar} {elapsed}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// One line on stderr per path that could not be read, and why.
fn refusals(unread: &[app::Unread]) {
    for u in unread {
        eprintln!(
            "bitsdoctor: {}: {}",
            for_terminal(&u.path),
            for_terminal(&u.reason)
        );
    }
}

/// Text from an input or a file name, safe to print (see `bitsdoctor::term::escape`, the one
/// place this is done).
fn for_terminal(s: &str) -> std::borrow::Cow<'_, str> {
    bitsdoctor::term::escape(s)
}

/// The error `e` naming the file it happened on.
fn on(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Write `name` in `dir` to a new temporary file (created new, so a symlink already at that
/// name is never followed). Returns (temporary, final) for [`commit`], which renames it into
/// place once the whole set is written: a failure leaves the old set. Errors name the file.
fn put(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> io::Result<()>,
) -> io::Result<(PathBuf, PathBuf)> {
    let target = dir.join(name);
    // A folder in the way would fail the rename half way through the set: refuse first.
    if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(on(&target, io::Error::other("a folder has this name")));
    }
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|f| {
            let mut w = BufWriter::new(f);
            write(&mut w)?;
            w.flush()
        });
    match result {
        Ok(()) => Ok((tmp, target)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(on(&target, e))
        }
    }
}

/// Rename every written file into place if the set was written whole; else remove them.
/// A symlink at a final name is replaced, never followed.
fn commit(written: Vec<(PathBuf, PathBuf)>, result: io::Result<()>) -> io::Result<()> {
    if let Err(e) = result {
        for (tmp, _) in &written {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (i, (tmp, target)) in written.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, target) {
            for (tmp, _) in &written[i..] {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(on(target, e));
        }
    }
    Ok(())
}

/// Write `events.csv` from the rows spooled while reading, to be put in place with the rest
/// of the set by [`write_report`]. It is written before the report is built: merging its runs
/// then never holds buffers while the fleet's jobs are held.
fn write_events(dir: &Path, spool: Spool) -> io::Result<(PathBuf, PathBuf)> {
    put(dir, "events.csv", |w| spool.finish(w))
}

/// Write `summary.json` (before the report is built from it).
fn write_summary(dir: &Path, s: &Summary) -> io::Result<()> {
    let one = put(dir, "summary.json", |w| s.view().write(w))?;
    commit(vec![one], Ok(()))
}

/// Write the report set into `dir` as one set, with `events` (`events.csv`, written already
/// by [`write_events`]).
fn write_report(dir: &Path, r: &Report, events: Option<(PathBuf, PathBuf)>) -> io::Result<()> {
    let mut written: Vec<(PathBuf, PathBuf)> = events.into_iter().collect();
    let mut all = || -> io::Result<()> {
        written.push(put(dir, "report.json", |w| report::json::write(r, w))?);
        written.push(put(dir, "diagnoses.csv", |w| {
            report::csv::write_diagnoses(r, w)
        })?);
        written.push(put(dir, "jobs.csv", |w| report::csv::write_jobs(r, w))?);
        written.push(put(dir, "updates.csv", |w| {
            report::csv::write_updates(r, w)
        })?);
        written.push(put(dir, "report.html", |w| {
            w.write_all(report::html::render(r).as_bytes())
        })?);
        Ok(())
    };
    let result = all();
    commit(written, result)
}

fn render(r: &Report, format: Format, text: &report::text::Options) -> String {
    match format {
        Format::Json => report::json::render(r),
        Format::Jsonl => report::jsonl::render_head(r),
        Format::Csv => report::csv::diagnoses(r),
        Format::Html => report::html::render(r),
        Format::Text => report::text::render_with(r, text),
    }
}

fn cannot_write(dir: &Path, e: io::Error) -> (String, u8) {
    eprintln!("bitsdoctor: cannot write {}: {e}", dir.display());
    (String::new(), 2)
}

/// Why [`analyze_one`] gave no report to write; with nothing readable, the report of the input
/// rows all the same (for `--format json`).
struct Failed {
    message: String,
    report: Option<Box<Report>>,
}

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Failed {
            message,
            report: None,
        }
    }
}

/// Analyse one set of paths as one fleet; with `out`, write the full set there. Returns the
/// report and, for `--format jsonl`, its `event` lines.
fn analyze_one(
    kb: &Knowledge,
    config: &Config,
    out: Option<&Path>,
    jsonl: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(Report, Vec<u8>), Failed> {
    let spool = match out {
        None => None,
        Some(dir) => Some(
            std::fs::create_dir_all(dir)
                .and_then(|_| Spool::new(dir))
                .map_err(|e| format!("cannot write {}: {e}", dir.display()))?,
        ),
    };
    let lines = match jsonl {
        false => None,
        true => Some(
            Spool::with(&std::env::temp_dir(), Rows::Jsonl, RUN_BYTES)
                .map_err(|e| format!("cannot write a temporary file: {e}"))?,
        ),
    };
    let spools: Vec<&Spool> = spool.iter().chain(lines.iter()).collect();
    let (lens, lens_warnings) = app::security_lens(config).map_err(|e| e.to_string())?;
    let summary = match app::collect(config, progress, &spools) {
        Ok(s) => s,
        Err(e) => {
            let mut failed = Failed::from(e.to_string());
            if let app::AppError::NothingReadable {
                unread, summary, ..
            } = e
            {
                refusals(&unread);
                failed.report = Some(Box::new((*summary).report(kb, lens.as_ref())));
            }
            return Err(failed);
        }
    };
    for s in &spools {
        s.flush();
    }
    let mut events = None;
    if let Some(dir) = out {
        let cannot = |e: io::Error| format!("cannot write {}: {e}", dir.display());
        write_summary(dir, &summary).map_err(cannot)?;
        if let Some(spool) = spool {
            events = Some(write_events(dir, spool).map_err(cannot)?);
        }
    }
    let mut summary = summary;
    summary.warnings.extend(lens_warnings);
    let report = summary.report(kb, lens.as_ref());
    if let Some(dir) = out {
        write_report(dir, &report, events)
            .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    }
    let mut lines_out = Vec::new();
    if let Some(lines) = lines {
        lines
            .finish(&mut lines_out)
            .map_err(|e| format!("cannot read a temporary file: {e}"))?;
    }
    Ok((report, lines_out))
}

pub fn run(
    kb: &Knowledge,
    config: &Config,
    format: Format,
    out: Option<&Path>,
    fail_on: Option<Severity>,
    text: &report::text::Options,
) -> (String, u8) {
    let bar = progress_bar();
    let on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            match p {
                Progress::Found(n) => bar.set_length(n as u64),
                Progress::Read => bar.inc(1),
                Progress::Analysing => bar.finish_and_clear(),
            }
        }
    };
    let jsonl = format == Format::Jsonl;
    let result = app::in_pool(config.threads, || {
        analyze_one(kb, config, out, jsonl, &on_progress)
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result
        .map_err(|e| Failed::from(e.to_string()))
        .and_then(|r| r)
    {
        Err(f) => {
            eprintln!("bitsdoctor: {}", f.message);
            // With nothing readable, a machine-readable report still has every input's row.
            let text = match (f.report, format) {
                (Some(r), Format::Json) => render(&r, format, text),
                _ => String::new(),
            };
            (text, 2)
        }
        Ok((r, events)) => {
            let mut text = render(&r, format, text);
            text.push_str(&String::from_utf8_lossy(&events));
            refusals(&r.unread);
            // Like ripgrep's partial errors: a path named on the command line that could not
            // be read makes the exit code 2, after the report of everything else.
            let named_unread = r.unread.iter().any(|u| u.given);
            let failed = fail_on.is_some_and(|l| app::fails(&r, l));
            let code = if named_unread { 2 } else { u8::from(failed) };
            // The process ends right after the output is written: freeing a report of a large
            // bundle piece by piece would only delay that.
            std::mem::forget(r);
            (text, code)
        }
    }
}

/// `analyze --each`: every case on its own (cases in parallel), `OUT/<case>/` each, plus
/// `OUT/index.csv` and `OUT/index.html`. Stdout gets the index.
pub fn run_each(
    kb: &Knowledge,
    config: &Config,
    format: Format,
    out: &Path,
    fail_on: Option<Severity>,
) -> (String, u8) {
    if let Err(e) = std::fs::create_dir_all(out) {
        return cannot_write(out, e);
    }
    let (cases, other) = app::cases(&config.paths, Some(out));
    for p in &other {
        eprintln!(
            "bitsdoctor: not a case (neither a folder nor a zip): {}",
            p.display()
        );
    }
    if cases.is_empty() {
        eprintln!("bitsdoctor: no case (folder or zip) under the paths given");
        return (String::new(), 2);
    }
    let done = app::in_pool(config.threads, || {
        cases
            .par_iter()
            .map(|case| {
                let cfg = Config {
                    paths: vec![case.path.clone()],
                    ..config.clone()
                };
                let dir: PathBuf = out.join(&case.name);
                match analyze_one(kb, &cfg, Some(&dir), false, &|_| {}) {
                    Ok((r, _)) => {
                        let failed = fail_on.is_some_and(|l| app::fails(&r, l));
                        Ok((CaseRow::of(&case.name, &r), failed))
                    }
                    Err(e) if e.message.starts_with("cannot write") => Err(e.message),
                    Err(e) => {
                        eprintln!("bitsdoctor: {}: {}", case.name, e.message);
                        Ok((CaseRow::unreadable(&case.name), false))
                    }
                }
            })
            .collect::<Result<Vec<_>, String>>()
    });
    let rows = match done.map_err(|e| e.to_string()).and_then(|r| r) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("bitsdoctor: {e}");
            return (String::new(), 2);
        }
    };
    let failed = rows.iter().any(|(_, f)| *f);
    let rows: Vec<CaseRow> = rows.into_iter().map(|(r, _)| r).collect();
    let mut files = Vec::new();
    let result = put(out, "index.csv", |w| {
        w.write_all(index::csv(&rows).as_bytes())
    })
    .and_then(|f| {
        files.push(f);
        put(out, "index.html", |w| {
            w.write_all(index::html(&rows).as_bytes())
        })
    })
    .map(|f| files.push(f));
    let written = commit(files, result);
    if let Err(e) = written {
        return cannot_write(out, e);
    }
    let text = match format {
        Format::Csv => index::csv(&rows),
        Format::Html => index::html(&rows),
        Format::Json | Format::Jsonl => {
            serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
        }
        Format::Text => index::text(&rows),
    };
    (text, u8::from(failed))
}

/// `bitsdoctor merge SUMMARY...`: reduce per-bundle summaries, in the order given, into one
/// fleet report (with `--out`, the report set and the merged summary; no events.csv, which
/// summaries do not carry).
pub fn run_merge(
    kb: &Knowledge,
    files: &[PathBuf],
    format: Format,
    out: Option<&Path>,
    fail_on: Option<Severity>,
) -> (String, u8) {
    let mut summaries = Vec::with_capacity(files.len());
    for f in files {
        match summary::read(f) {
            Ok(s) => summaries.push(s),
            Err(e) => {
                eprintln!("bitsdoctor: {e}");
                return (String::new(), 2);
            }
        }
    }
    let all = summary::combine(summaries);
    if let Some(dir) = out {
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| write_summary(dir, &all)) {
            return cannot_write(dir, e);
        }
    }
    let lens = match app::security_lens(&Config::default()) {
        Ok((lens, _)) => lens,
        Err(e) => {
            eprintln!("bitsdoctor: {e}");
            return (String::new(), 2);
        }
    };
    let r = all.report(kb, lens.as_ref());
    if let Some(dir) = out {
        if let Err(e) = write_report(dir, &r, None) {
            return cannot_write(dir, e);
        }
    }
    let failed = fail_on.is_some_and(|l| app::fails(&r, l));
    let text = report::text::Options::default();
    (render(&r, format, &text), u8::from(failed))
}
