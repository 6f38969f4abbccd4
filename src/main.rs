//! bitsdoctor's binary: parse the command line, run, map the result to an exit code
//! (0 success, 1 a diagnosis at or above --fail-on, 2 usage error or nothing readable).

#![forbid(unsafe_code)]

mod cli;
mod cmd;

use bitsdoctor::knowledge::Knowledge;
use clap::Parser;
use std::io::Write;
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
    let (knowledge_file, job) = match parsed {
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
    let kb = match knowledge_file {
        None => Knowledge::builtin(),
        Some(path) => match Knowledge::builtin().with_overrides(&path) {
            Ok(kb) => kb,
            Err(e) => {
                eprintln!("bitsdoctor: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let (out, code) = match job {
        cli::Job::Explain { codes, format } => cmd::explain::run(&kb, &codes, format),
        cli::Job::Codes { format } => (cmd::codes::run(&kb, format), 0),
        cli::Job::Probe {
            target,
            timeout,
            format,
        } => cmd::probe::run(&kb, target, timeout, format),
        cli::Job::Analyze {
            config,
            format,
            out,
            fail_on,
        } => cmd::analyze::run(&kb, &config, format, out.as_deref(), fail_on),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("bitsdoctor: cannot write output: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(code)
}
