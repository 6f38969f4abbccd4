//! One parser per input kind. Each turns one decoded input into observations plus warnings and
//! never fails on a whole file: what it cannot read becomes a warning with its line or record.

pub mod binxml;
pub mod bitsadmin;
pub mod events;
pub mod evtx;
pub mod manifest;
pub mod netsh;
pub mod powershell;
pub mod reg;
pub mod sc;
pub mod wulog;

use crate::model::{Locator, Observation};
// Kept here too so parser code can say `super::Warning`; the type lives in the model.
pub use crate::model::Warning;

/// What a parser knows about the input it reads.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The path as the report shows it.
    pub path: &'a str,
    /// The host the input belongs to (text inputs carry none of their own).
    pub host: &'a str,
}

/// What one parser made of one input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub observations: Vec<Observation>,
    pub warnings: Vec<Warning>,
    /// Lines of the capture that are neither part of what the parser reads nor the console
    /// text around captures (one warning among `warnings` names the first of them).
    pub unread_lines: u64,
}

impl Parsed {
    /// The job listings the capture gave, in order.
    pub fn snapshots(&self) -> Vec<&crate::model::JobSnapshot> {
        self.observations
            .iter()
            .filter_map(|o| match &o.fact {
                crate::model::Fact::JobSnapshot(s) => Some(&**s),
                _ => None,
            })
            .collect()
    }

    pub fn warn(&mut self, src: &Source, at: Option<Locator>, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: src.path.to_string(),
            at,
            message: message.into(),
        });
    }
}

/// Header lines above a capture (a note on a paste, a title) that are not counted as lines not
/// understood; a longer text before the capture is counted.
const PREAMBLE_LINES: u64 = 5;

/// The lines of a recognised capture that its parser did not understand: counted and reported
/// as one warning naming the first, so a capture whose later part is garbage keeps what was read
/// and is `partial` with the count.
///
/// Lines before the capture starts (`start`) are a header above a paste and are counted only
/// when there are more than `PREAMBLE_LINES` of them, or when the capture never starts.
#[derive(Debug, Default)]
pub(crate) struct NotUnderstood {
    started: bool,
    before: u64,
    first_before: Option<(u32, String)>,
    count: u64,
    first: Option<(u32, String)>,
}

impl NotUnderstood {
    /// The capture has started: a line the parser understood was seen.
    pub(crate) fn start(&mut self) {
        if !self.started {
            self.started = true;
            if self.before > PREAMBLE_LINES {
                self.count += self.before;
                self.first = self.first_before.take();
            }
        }
    }

    /// A line the parser did not understand.
    pub(crate) fn line(&mut self, n: u32, line: &str) {
        self.lines(n, line, 1);
    }

    /// `count` lines the parser did not understand, from line `n` (`line`) on.
    pub(crate) fn lines(&mut self, n: u32, line: &str, count: u64) {
        let (total, first) = if self.started {
            (&mut self.count, &mut self.first)
        } else {
            (&mut self.before, &mut self.first_before)
        };
        *total += count;
        if first.is_none() {
            let shown: String = line.trim().chars().take(100).collect();
            *first = Some((n, shown));
        }
    }

    /// Add the count to `out` with one warning (`what` names the capture kind).
    pub(crate) fn report(mut self, what: &str, src: &Source, out: &mut Parsed) {
        if !self.started {
            self.count += self.before;
            self.first = self.first_before.take();
        }
        let Some((n, first)) = self.first else {
            return;
        };
        out.unread_lines += self.count;
        out.warn(
            src,
            Some(Locator::Line(n)),
            format!(
                "{what}: {} line(s) not understood and not read, the first: `{first}`",
                self.count
            ),
        );
    }
}

/// Console text around a capture that is no part of it: a cmd or PowerShell prompt with the
/// command it ran, and the header, separators and footer of a PowerShell transcript
/// (`Start-Transcript`).
pub(crate) fn is_console_noise(t: &str) -> bool {
    const TRANSCRIPT_KEYS: &[&str] = &[
        "Start time",
        "End time",
        "Command start time",
        "Username",
        "RunAs User",
        "Configuration Name",
        "Machine",
        "Host Application",
        "Process ID",
        "PSVersion",
        "PSEdition",
        "GitCommitId",
        "OS",
        "Platform",
        "PSCompatibleVersions",
        "BuildVersion",
        "CLRVersion",
        "WSManStackVersion",
        "PSRemotingProtocolVersion",
        "SerializationVersion",
    ];
    let t = t.trim();
    bitsadmin::is_prompt(t)
        || (t.len() >= 10 && t.bytes().all(|b| b == b'*'))
        || t.starts_with("Windows PowerShell transcript ")
        || t.starts_with("PowerShell transcript ")
        || t.starts_with("Transcript started, output file is ")
        || t.starts_with("Transcript stopped, output file is ")
        || t.split_once(':')
            .is_some_and(|(k, _)| TRANSCRIPT_KEYS.contains(&k))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Source = Source {
        path: "b/H/x.txt",
        host: "H",
    };

    #[test]
    fn unread_lines_are_counted_after_the_capture_starts() {
        let mut u = NotUnderstood::default();
        u.line(1, "Output of bitsadmin on WS01, as asked:");
        u.start();
        u.line(9, "  \u{1}garbage");
        u.line(10, "more garbage");
        let mut out = Parsed::default();
        u.report("bitsadmin", &SRC, &mut out);
        assert_eq!(out.unread_lines, 2);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].at, Some(Locator::Line(9)));
        assert!(out.warnings[0].message.contains("2 line(s) not understood"));
    }

    #[test]
    fn a_long_text_before_the_capture_is_counted_too() {
        let mut u = NotUnderstood::default();
        for n in 1..=6 {
            u.line(n, "not a capture");
        }
        u.start();
        let mut out = Parsed::default();
        u.report("sc", &SRC, &mut out);
        assert_eq!(out.unread_lines, 6);
        assert_eq!(out.warnings[0].at, Some(Locator::Line(1)));
    }

    #[test]
    fn a_capture_that_never_starts_counts_every_line() {
        let mut u = NotUnderstood::default();
        u.line(3, "x");
        let mut out = Parsed::default();
        u.report("reg", &SRC, &mut out);
        assert_eq!(out.unread_lines, 1);
        let mut out = Parsed::default();
        NotUnderstood::default().report("reg", &SRC, &mut out);
        assert_eq!(out, Parsed::default());
    }

    #[test]
    fn prompts_and_transcript_lines_are_console_noise() {
        for t in [
            "C:\\Users\\me>bitsadmin /list /allusers /verbose",
            "PS C:\\Windows\\system32> Get-BitsTransfer -AllUsers | Format-List *",
            "**********************",
            "Windows PowerShell transcript start",
            "Start time: 20240301093000",
            "Username: CONTOSO\\admin",
            "Machine: WS01 (Microsoft Windows NT 10.0.19045.0)",
            "Transcript started, output file is C:\\t\\x.txt",
            "Command start time: 20240301093005",
        ] {
            assert!(is_console_noise(t), "{t}");
        }
        for t in ["***", "JobState : Suspended", "random text", "Ausgabe: 3"] {
            assert!(!is_console_noise(t), "{t}");
        }
    }
}
