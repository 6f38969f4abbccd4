//! `bitsdoctor analyze PATH...`

use crate::Format;
use bitsdoctor::app::{self, Config, Progress};
use bitsdoctor::diagnose::Severity;
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report;

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

pub fn run(
    kb: &Knowledge,
    config: &Config,
    format: Format,
    fail_on: Option<Severity>,
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
            eprintln!("bitsdoctor: {e}");
            (String::new(), 2)
        }
        Ok(r) => {
            let text = match format {
                Format::Json => report::json::render(&r),
                _ => report::text::render(&r),
            };
            let failed = fail_on.is_some_and(|l| app::fails(&r, l));
            (text, u8::from(failed))
        }
    }
}
