//! bitsdoctor's binary: parse the command line, run, map the result to an exit code
//! (0 success, 1 a diagnosis at or above --fail-on, 2 usage error, nothing readable, or a path
//! named on the command line that could not be read).

#![forbid(unsafe_code)]

mod cli;
mod cmd;

use bitsdoctor::knowledge::Knowledge;
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Output formats the subcommands share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
    Csv,
    Html,
}

fn main() -> ExitCode {
    let parsed = cli::Cli::try_parse().and_then(cli::Cli::into_job);
    let (knowledge_file, color, job) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Colour and wrapping are decided here, from the terminal; the report only follows them.
    let color = color.unwrap_or_else(|| {
        anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
    });
    // Wrap only on a terminal: its width, else COLUMNS; a pipe gets whole lines for grep.
    let width = std::io::stdout()
        .is_terminal()
        .then(|| {
            terminal_size::terminal_size()
                .map(|(w, _)| usize::from(w.0))
                .filter(|&w| w > 0)
                .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        })
        .flatten();
    let kb = match knowledge_file {
        None => Knowledge::builtin(),
        Some(path) => match Knowledge::builtin().with_overrides(&path) {
            Ok(kb) => kb,
            Err(e) => {
                eprintln!("bitsdoctor: {}", bitsdoctor::term::escape(&e.to_string()));
                return ExitCode::from(2);
            }
        },
    };
    let coloured = color
        && matches!(
            job,
            cli::Job::Analyze {
                format: Format::Text,
                ..
            }
        );
    let (out, code) = match job {
        cli::Job::Explain { codes, format } => cmd::explain::run(&kb, &codes, format),
        cli::Job::Codes { format } => (cmd::codes::run(&kb, format), 0),
        cli::Job::Probe {
            target,
            timeout,
            format,
        } => cmd::probe::run(&kb, target, timeout, format),
        cli::Job::Print(text) => (text, 0),
        cli::Job::Analyze {
            config,
            format,
            out: Some(out),
            fail_on,
            each: true,
            ..
        } => cmd::analyze::run_each(&kb, &config, format, &out, fail_on),
        cli::Job::Analyze {
            config,
            format,
            out,
            fail_on,
            detail,
            ..
        } => {
            let text = bitsdoctor::report::text::Options {
                color,
                width,
                detail,
            };
            cmd::analyze::run(&kb, &config, format, out.as_deref(), fail_on, &text)
        }
        cli::Job::Collect { out, options } => cmd::collect::run(out.as_deref(), &options),
        cli::Job::Merge {
            summaries,
            format,
            out,
            fail_on,
        } => cmd::analyze::run_merge(&kb, &summaries, format, out.as_deref(), fail_on),
    };
    // Only the text report is ever coloured; through anstream, a Windows console that does not
    // take ANSI sequences gets the colours through its own API.
    let written = if coloured {
        let mut stdout =
            anstream::AutoStream::new(std::io::stdout().lock(), anstream::ColorChoice::Always);
        stdout
            .write_all(out.as_bytes())
            .and_then(|_| stdout.flush())
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|_| stdout.flush())
    };
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("bitsdoctor: cannot write output: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(code)
}
