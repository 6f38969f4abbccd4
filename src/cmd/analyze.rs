//! `bitsdoctor analyze PATH...`

use crate::Format;
use bitsdoctor::app::{self, Config, Progress};
use bitsdoctor::diagnose::Severity;
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report;
use std::path::Path;

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

/// Text from an input or a file name, safe to print: control characters (C0, C1) and bidi
/// overrides are shown escaped instead of acting on the terminal.
fn for_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}');
        if c.is_control() || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Write the whole report set into `dir`.
fn write_out(dir: &Path, r: &report::Report) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.json"), report::json::render(r))?;
    std::fs::write(dir.join("diagnoses.csv"), report::csv::diagnoses(r))?;
    std::fs::write(dir.join("jobs.csv"), report::csv::jobs(r))?;
    std::fs::write(dir.join("events.csv"), report::csv::events(&r.observations))?;
    std::fs::write(dir.join("report.html"), report::html::render(r))?;
    Ok(())
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
    let result = app::analyze_with_progress(config, kb, &on_progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Err(e) => {
            if let app::AppError::NothingReadable { unread, .. } = &e {
                refusals(unread);
            }
            eprintln!("bitsdoctor: {e}");
            (String::new(), 2)
        }
        Ok(r) => {
            refusals(&r.unread);
            // Like ripgrep's partial errors: a path named on the command line that could not
            // be read makes the exit code 2, after the report of everything else.
            let named_unread = r.unread.iter().any(|u| u.given);
            if let Some(dir) = out {
                if let Err(e) = write_out(dir, &r) {
                    eprintln!("bitsdoctor: cannot write {}: {e}", dir.display());
                    return (String::new(), 2);
                }
            }
            let text = match format {
                Format::Json => report::json::render(&r),
                Format::Jsonl => report::jsonl::render(&r),
                Format::Csv => report::csv::diagnoses(&r),
                Format::Html => report::html::render(&r),
                Format::Text => report::text::render_with(&r, text),
            };
            let failed = fail_on.is_some_and(|l| app::fails(&r, l));
            let code = if named_unread { 2 } else { u8::from(failed) };
            // The process ends right after the output is written: freeing a report of a large
            // bundle piece by piece would only delay that.
            std::mem::forget(r);
            (text, code)
        }
    }
}
