//! The command line: clap definitions, turned into plain configs. The only module that knows
//! clap.

use crate::Format;
use bitsdoctor::app::Config;
use bitsdoctor::diagnose::Severity;
use bitsdoctor::hostfilter::HostFilter;
use bitsdoctor::report::text::Detail;
use bitsdoctor::window::{self, End, Window};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bitsdoctor",
    version,
    about = "Diagnose Windows BITS / WSUS download failures from exported logs",
    long_about = "Diagnose Windows BITS / WSUS download failures offline, from exported .evtx \
                  logs and bitsadmin / PowerShell / sc / reg / netsh / WindowsUpdate.log captures."
)]
pub struct Cli {
    /// Extra or replacement code-table entries (CSV in the format of `bitsdoctor codes --format csv`).
    #[arg(long, global = true, value_name = "FILE")]
    pub knowledge: Option<PathBuf>,
    /// Colour the text report: auto (only on a terminal, and not when NO_COLOR is set), always
    /// or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    Text,
    Json,
    /// JSON Lines: one object per line (diagnoses, jobs, updates, warnings, events), each with a `type`
    Jsonl,
    /// diagnoses.csv on stdout (the full set with --out DIR)
    Csv,
    /// one self-contained page
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormatArg {
    Text,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Warning,
    Error,
    Critical,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse exported logs and captures (files, folders) and report what failed, why, and the fix.
    Analyze {
        /// Files or folders (walked recursively).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t = ReportFormatArg::Text)]
        format: ReportFormatArg,
        /// Also write report.json, diagnoses.csv, jobs.csv, updates.csv, events.csv and report.html
        /// into DIR.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Only analyse what happened at or after TIME: 2024-03-11, 2024-03-11T09:00,
        /// "2024-03-11 09:00:00", with Z, +01:00 or [Europe/Berlin] for a zone (none: --timezone,
        /// else UTC), or a span back from the newest event in the inputs (7d, 12h, 30m).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        since: Option<String>,
        /// Only analyse what happened at or before TIME (same forms; a date alone includes
        /// that whole day).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        until: Option<String>,
        /// Zone of times given without one (--since/--until), and of console captures'
        /// local times where no offset can be inferred: an IANA name (Europe/Berlin), UTC, or
        /// an offset (+01:00).
        #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
        timezone: Option<String>,
        /// Only analyse these hosts (repeatable): a short name (WS01), an FQDN
        /// (ws01.corp.example) or a pattern with * and ? (WS-FIN-*), any case.
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
        /// Host name for text captures that nothing else names (given as loose files, not in a
        /// host folder and with no event log beside them). Never renames a known host.
        #[arg(long, value_name = "NAME")]
        text_host: Option<String>,
        /// Exit with code 1 when a diagnosis at or above this severity is found.
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<SeverityArg>,
        /// Worker threads (default: one per core).
        #[arg(long, default_value_t = 0, value_name = "N")]
        threads: usize,
        /// Text report: only the summary line and the root causes.
        #[arg(short, long, conflicts_with = "verbose")]
        quiet: bool,
        /// Text report: every list in full and every input, not only those with problems.
        #[arg(short, long)]
        verbose: bool,
        /// Leave out the security lens (BITS jobs that look like abuse, MITRE ATT&CK T1197).
        #[arg(long)]
        no_security: bool,
        /// Also run the Sigma rules in DIR whose log source is windows / bits-client.
        #[arg(long, value_name = "DIR", conflicts_with = "no_security")]
        sigma: Option<PathBuf>,
        /// Add entries to the security lens's lists (CSV `list,value,note`, as the built-in
        /// src/knowledge/security.csv).
        #[arg(long, value_name = "FILE", conflicts_with = "no_security")]
        security_lists: Option<PathBuf>,
        /// Analyse every zip or folder directly under the paths as a case of its own (own
        /// report in OUT/<case>/, no findings across cases), plus OUT/index.csv and index.html.
        #[arg(long, requires = "out")]
        each: bool,
    },
    /// Merge the summary.json files of several analyses into one fleet report.
    Merge {
        /// summary.json files written by `analyze --out` (or by an earlier merge).
        #[arg(required = true, value_name = "SUMMARY")]
        summaries: Vec<PathBuf>,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t = ReportFormatArg::Text)]
        format: ReportFormatArg,
        /// Also write report.json, diagnoses.csv, jobs.csv, updates.csv, report.html and the
        /// merged summary.json into DIR.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Exit with code 1 when a diagnosis at or above this severity is found.
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<SeverityArg>,
    },
    /// On the Windows machine to diagnose: capture its BITS event logs, job lists, service
    /// configuration, policy and proxy into one zip for `analyze` (no user files, no
    /// credentials). Run it elevated to include every user's jobs and the System log.
    Collect {
        /// The zip to write (default: bitsdoctor-COMPUTERNAME.zip in the current folder).
        #[arg(long, value_name = "FILE.zip")]
        out: Option<PathBuf>,
        /// Also build WindowsUpdate.log with Get-WindowsUpdateLog (takes minutes).
        #[arg(long)]
        windows_update_log: bool,
    },
    /// Explain error codes: meaning, whether BITS retries, and the fix.
    Explain {
        /// Codes in any form: 0x80200013, 80200013, -2145386477, 2149580819, BG_E_INSUFFICIENT_RANGE_SUPPORT.
        #[arg(required = true, value_name = "CODE", allow_negative_numbers = true)]
        codes: Vec<String>,
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
    /// Ask live servers what BITS asks them (HEAD, byte ranges) and name the BITS error a
    /// client would hit. Contacts only the URLs and proxies given (or listed by --from's report).
    Probe {
        /// http(s) URLs of files BITS downloads.
        #[arg(
            value_name = "URL",
            required_unless_present = "from",
            conflicts_with = "from"
        )]
        urls: Vec<String>,
        /// Go through this HTTP proxy (http://host:port or host:port), as BITS would.
        #[arg(long, value_name = "URL")]
        proxy: Option<String>,
        /// Seconds to wait for each request.
        #[arg(long, value_name = "S", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
        timeout: u64,
        /// Check a report's diagnoses: probe each failing server it names, directly and
        /// through the proxies its jobs used.
        #[arg(long, value_name = "REPORT.JSON", conflicts_with = "proxy")]
        from: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
    /// Print the whole code table.
    Codes {
        #[arg(long, value_enum, default_value_t = TableFormatArg::Text)]
        format: TableFormatArg,
    },
    /// Print a shell completion script (bash: `source <(bitsdoctor completions bash)`;
    /// PowerShell: `bitsdoctor completions powershell | Out-String | Invoke-Expression`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `bitsdoctor man > bitsdoctor.1; man ./bitsdoctor.1`.
    Man,
}

/// What to run, free of clap.
pub enum Job {
    Analyze {
        config: Config,
        format: Format,
        out: Option<PathBuf>,
        fail_on: Option<Severity>,
        detail: Detail,
        each: bool,
    },
    Merge {
        summaries: Vec<PathBuf>,
        format: Format,
        out: Option<PathBuf>,
        fail_on: Option<Severity>,
    },
    Collect {
        out: Option<PathBuf>,
        options: bitsdoctor::collect::Options,
    },
    Explain {
        codes: Vec<String>,
        format: Format,
    },
    Codes {
        format: Format,
    },
    Probe {
        target: ProbeTarget,
        timeout: std::time::Duration,
        format: Format,
    },
    /// Print text made from the command line's own definition (completions, the man page).
    Print(String),
}

/// What `probe` checks.
pub enum ProbeTarget {
    Urls {
        urls: Vec<String>,
        proxy: Option<String>,
    },
    Report(PathBuf),
}

impl FormatArg {
    fn plain(self) -> Format {
        match self {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
        }
    }
}

impl ReportFormatArg {
    fn plain(self) -> Format {
        match self {
            ReportFormatArg::Text => Format::Text,
            ReportFormatArg::Json => Format::Json,
            ReportFormatArg::Jsonl => Format::Jsonl,
            ReportFormatArg::Csv => Format::Csv,
            ReportFormatArg::Html => Format::Html,
        }
    }
}

impl SeverityArg {
    fn plain(self) -> Severity {
        match self {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Warning => Severity::Warning,
            SeverityArg::Error => Severity::Error,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// A usage error the parser could not catch alone (exit code 2, with the usage line).
fn usage<E: std::fmt::Display>(e: E) -> clap::Error {
    use clap::CommandFactory;
    Cli::command().error(clap::error::ErrorKind::ValueValidation, e)
}

/// Turn the time arguments into a window and a zone, or a usage error saying what is accepted.
fn times(
    since: Option<String>,
    until: Option<String>,
    timezone: Option<String>,
) -> Result<(Window, Option<jiff::tz::TimeZone>), clap::Error> {
    let usage = usage::<window::TimeError>;
    let tz = timezone
        .as_deref()
        .map(window::parse_zone)
        .transpose()
        .map_err(usage)?;
    let zone = tz.clone().unwrap_or(jiff::tz::TimeZone::UTC);
    let bound = |text: Option<String>, end| {
        text.map(|t| window::parse_bound(&t, &zone, end))
            .transpose()
            .map_err(usage)
    };
    let window =
        Window::new(bound(since, End::Since)?, bound(until, End::Until)?).map_err(usage)?;
    Ok((window, tz))
}

impl Cli {
    /// The job to run (with the knowledge file and the colour choice: None decides from the
    /// terminal and NO_COLOR), or a usage error the parser could not catch alone.
    pub fn into_job(self) -> Result<(Option<PathBuf>, Option<bool>, Job), clap::Error> {
        let job = match self.command {
            Command::Analyze {
                paths,
                format,
                out,
                since,
                until,
                timezone,
                hosts,
                text_host,
                fail_on,
                threads,
                quiet,
                verbose,
                no_security,
                sigma,
                security_lists,
                each,
            } => {
                let (window, timezone) = times(since, until, timezone)?;
                let host_filter = HostFilter::new(&hosts).map_err(usage)?;
                Job::Analyze {
                    config: Config {
                        paths,
                        host: text_host,
                        host_filter,
                        threads,
                        window,
                        timezone,
                        no_security,
                        sigma,
                        security_lists,
                    },
                    format: format.plain(),
                    out,
                    fail_on: fail_on.map(SeverityArg::plain),
                    detail: match (quiet, verbose) {
                        (true, _) => Detail::Quiet,
                        (_, true) => Detail::Verbose,
                        _ => Detail::Normal,
                    },
                    each,
                }
            }
            Command::Merge {
                summaries,
                format,
                out,
                fail_on,
            } => Job::Merge {
                summaries,
                format: format.plain(),
                out,
                fail_on: fail_on.map(SeverityArg::plain),
            },
            Command::Collect {
                out,
                windows_update_log,
            } => Job::Collect {
                out,
                options: bitsdoctor::collect::Options { windows_update_log },
            },
            Command::Explain { codes, format } => Job::Explain {
                codes,
                format: format.plain(),
            },
            Command::Probe {
                urls,
                proxy,
                timeout,
                from,
                format,
            } => Job::Probe {
                target: match from {
                    Some(path) => ProbeTarget::Report(path),
                    None => ProbeTarget::Urls { urls, proxy },
                },
                timeout: std::time::Duration::from_secs(timeout),
                format: format.plain(),
            },
            Command::Completions { shell } => Job::Print(completions(shell)),
            Command::Man => Job::Print(man_page()),
            Command::Codes { format } => Job::Codes {
                format: match format {
                    TableFormatArg::Text => Format::Text,
                    TableFormatArg::Csv => Format::Csv,
                    TableFormatArg::Json => Format::Json,
                },
            },
        };
        let color = match self.color {
            ColorArg::Auto => None,
            ColorArg::Always => Some(true),
            ColorArg::Never => Some(false),
        };
        Ok((self.knowledge, color, job))
    }
}

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "bitsdoctor", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The manual page (roff): the command, then a section per subcommand with its synopsis,
/// description and options.
pub fn man_page() -> String {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd.clone()).render(&mut out);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        let sub = sub.clone().bin_name(format!("bitsdoctor {name}"));
        let man = clap_mangen::Man::new(sub);
        let _ = writeln!(out, ".SH \"BITSDOCTOR {}\"", name.to_uppercase());
        for render in [
            clap_mangen::Man::render_synopsis_section,
            clap_mangen::Man::render_description_section,
            clap_mangen::Man::render_options_section,
        ] {
            let mut section = Vec::new();
            let _ = render(&man, &mut section);
            out.extend(strip_heading(&section));
            out.extend(b".PP\n");
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A rendered man section without its `.SH` line (the subcommand's section heads it).
fn strip_heading(section: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(section);
    text.lines()
        .filter(|l| !l.starts_with(".SH "))
        .flat_map(|l| [l, "\n"])
        .collect::<String>()
        .into_bytes()
}
