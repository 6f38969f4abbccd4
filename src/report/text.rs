//! The terminal report: root causes first, each with its fix and what it touches; then jobs that
//! did not succeed, the inputs that were not fully read, and warnings.
//!
//! A section that grows with the input shows its first items and then one line saying how many
//! more there are and where they are, so a fleet's report stays readable.
//!
//! The renderer never looks at the terminal: the caller says whether to colour, how wide to
//! wrap and how much to show ([`Options`]). Every value taken from an input goes through
//! [`shown`] before it is written. Sections are plain functions called in order by [`render_with`];
//! a new section is one more function and one more call.

use super::{Report, Status};
use crate::correlate::Outcome;
use crate::diagnose::{Category, Diagnosis, Severity};
use anstyle::{AnsiColor, Style};
use std::borrow::Cow;
use std::fmt::Write;

/// How many jobs, hosts or evidence references a diagnosis lists before "+N more" (all with
/// [`Detail::Verbose`]).
const LIST_CAP: usize = 5;

// Section caps: a terminal is read by a person, so a section that grows with the input shows
// its first items in rank order and then one line saying how many more there are and where to
// find them (`--out` CSVs, `--format json`, or `-v`, which lifts every cap). The samples and the
// corpus fit under every cap.

/// Diagnoses (failures and configuration) shown in full, most important first; also the root
/// causes listed by `-q`. About 12 lines each, so 25 fill a few screens; past that the rest are
/// variations a reader looks up in diagnoses.csv, sorted the same way.
const DIAGNOSES_CAP: usize = 25;

/// Security findings shown in full (one per flagged job, so a compromised fleet has many
/// alike).
const SECURITY_CAP: usize = 20;

/// How many failing updates the updates table shows (about 7 lines each).
const UPDATES_CAP: usize = 10;

/// Jobs with errors listed, one line each (a fleet has thousands; jobs.csv has them all).
const JOBS_CAP: usize = 40;

/// Inputs not read completely listed, one line each (a damaged bundle can have thousands).
const INPUTS_CAP: usize = 25;

/// Warnings listed, one line each.
const WARNINGS_CAP: usize = 25;

/// Width of the label column of a diagnosis (`    cause:    `).
const LABEL: usize = 14;

/// How much the report shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    /// `-q`: the summary line and one line per root cause (as many as diagnoses are shown).
    Quiet,
    /// The default: diagnoses with capped lists, failing jobs, the inputs that were not fully
    /// read with counts, warnings; each section its first items (the caps above), then a line
    /// counting the rest.
    #[default]
    Normal,
    /// `-v`: every list in full and every input.
    Verbose,
}

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Colour severities, outcomes and statuses with ANSI styles.
    pub color: bool,
    /// Wrap lines to this many columns (None: never wrap, as on a pipe).
    pub width: Option<usize>,
    pub detail: Detail,
}

/// Make a value from an input safe for a terminal: see [`crate::term::escape`], the one place
/// this is done (control characters, C1, bidi controls and invisible format characters shown
/// as visible escapes such as `\x1b` and `\u202e`), so a log cannot move the cursor, recolour
/// the screen or reorder what is shown. Colour is added after a value is escaped.
pub fn shown(s: &str) -> Cow<'_, str> {
    crate::term::escape(s)
}

/// The plain-text report with default options (no colour, no wrapping).
pub fn render(r: &Report) -> String {
    render_with(r, &Options::default())
}

/// The report as the terminal shows it.
pub fn render_with(r: &Report, opt: &Options) -> String {
    let mut o = Out {
        s: String::new(),
        opt: *opt,
    };
    summary(&mut o, r);
    diagnoses(&mut o, r);
    if opt.detail == Detail::Quiet {
        return o.s;
    }
    updates(&mut o, r);
    jobs(&mut o, r);
    inputs(&mut o, r);
    warnings(&mut o, r);
    o.s
}

/// The text being written, and how.
struct Out {
    s: String,
    opt: Options,
}

impl Out {
    /// `text` in `style` when colouring.
    fn paint<'a>(&self, style: Style, text: &'a str) -> Cow<'a, str> {
        if self.opt.color && style != Style::new() {
            Cow::Owned(format!("{style}{text}{style:#}"))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// One logical line, wrapped to the width with `indent` before continuation lines. `lead`
    /// (already styled) starts the first line and is `lead_width` columns wide.
    fn line(&mut self, lead: &str, lead_width: usize, text: &str, indent: usize) {
        match self.opt.width {
            Some(w) if lead_width + text.chars().count() > w => {
                let pad = " ".repeat(lead_width);
                let hang = " ".repeat(indent);
                let opts = textwrap::Options::new(w.max(indent + 20))
                    .initial_indent(&pad)
                    .subsequent_indent(&hang)
                    .word_separator(textwrap::WordSeparator::AsciiSpace)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation)
                    .break_words(false);
                let wrapped = textwrap::fill(text, opts);
                self.s.push_str(lead);
                self.s.push_str(&wrapped[lead_width.min(wrapped.len())..]);
                self.s.push('\n');
            }
            _ => {
                self.s.push_str(lead);
                self.s.push_str(text);
                self.s.push('\n');
            }
        }
    }

    /// `    label:    value` (label column [`LABEL`] wide).
    fn field(&mut self, label: &str, value: &str) {
        let lead = format!("    {:<w$}", format!("{label}:"), w = LABEL - 4);
        let painted = self.paint(Style::new().dimmed(), &lead).into_owned();
        self.line(&painted, LABEL, value, LABEL);
    }

    /// `cap`, or no cap with [`Detail::Verbose`].
    fn cap(&self, cap: usize) -> usize {
        if self.opt.detail == Detail::Verbose {
            usize::MAX
        } else {
            cap
        }
    }

    /// `  … and N more WHAT: see WHERE`, under a list of `total` items cut at `cap` (nothing
    /// when it was not).
    fn more(&mut self, total: usize, cap: usize, what: &str, see: &str) {
        if total > cap {
            let text = format!("… and {} more {what}: see {see}", total - cap);
            self.line("  ", 2, &text, 4);
        }
    }

    fn heading(&mut self, text: &str) {
        let h = self
            .paint(Style::new().bold().underline(), text)
            .into_owned();
        let _ = writeln!(self.s, "\n{h}");
    }

    /// Items joined with ", ", capped at [`LIST_CAP`] unless verbose.
    fn capped<I, S>(&self, items: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let all: Vec<S> = items.into_iter().collect();
        let cap = if self.opt.detail == Detail::Verbose {
            usize::MAX
        } else {
            LIST_CAP
        };
        let mut s = all
            .iter()
            .take(cap)
            .map(|i| shown(i.as_ref()))
            .collect::<Vec<_>>()
            .join(", ");
        if all.len() > cap {
            let _ = write!(s, " (+{} more)", all.len() - cap);
        }
        s
    }
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .bold()
            .fg_color(Some(AnsiColor::BrightRed.into())),
        Severity::Error => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Warning => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Info => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
    }
}

fn summary(o: &mut Out, r: &Report) {
    let s = &r.summary;
    let outcomes = |k: &str| s.outcomes.get(k).copied().unwrap_or(0);
    let line = format!(
        "bitsdoctor: {} input(s), {} host(s), {} job(s): {} failing, {} recovered, {} succeeded, {} cancelled, {} in progress",
        s.inputs,
        s.hosts,
        s.jobs,
        outcomes("failing"),
        outcomes("recovered"),
        outcomes("succeeded"),
        outcomes("cancelled"),
        outcomes("in_progress"),
    );
    o.line("", 0, &line, 4);
    if let Some(w) = &r.window {
        let window = format!(
            "time window: {} .. {}{}",
            w.since.as_deref().unwrap_or("(open)"),
            w.until.as_deref().unwrap_or("(open)"),
            w.relative_to
                .as_ref()
                .map(|a| format!(", counted back from {a}"))
                .unwrap_or_default()
        );
        o.line("", 0, &window, 4);
    }
}

fn diagnoses(o: &mut Out, r: &Report) {
    if r.diagnoses.is_empty() {
        let _ = writeln!(o.s, "\nNo problems found.");
        return;
    }
    if o.opt.detail == Detail::Quiet {
        let roots: Vec<&Diagnosis> = r
            .diagnoses
            .iter()
            .filter(|d| d.explained_by.is_none())
            .collect();
        let _ = writeln!(o.s, "\n{} root cause(s):", roots.len());
        let cap = o.cap(DIAGNOSES_CAP);
        for d in roots.iter().take(cap) {
            title_line(o, d, "");
        }
        o.more(roots.len(), cap, "root cause(s)", SEE_DIAGNOSES);
        return;
    }
    // Failures and configuration first; the security lens has a section of its own.
    let (security, rest): (Vec<&Diagnosis>, Vec<&Diagnosis>) = r
        .diagnoses
        .iter()
        .partition(|d| d.category == Category::Security);
    if rest.is_empty() {
        let _ = writeln!(
            o.s,
            "\nNo transfer, service or configuration problems found."
        );
    } else {
        let _ = writeln!(o.s, "\n{} diagnosis(es), most important first:", rest.len());
        let cap = o.cap(DIAGNOSES_CAP);
        for d in rest.iter().take(cap) {
            diagnosis(o, d);
        }
        if rest.len() > cap {
            o.s.push('\n');
        }
        o.more(rest.len(), cap, "diagnosis(es)", SEE_DIAGNOSES);
    }
    if !security.is_empty() {
        o.heading(&format!(
            "Security (MITRE ATT&CK T1197): {} finding(s)",
            security.len()
        ));
        let cap = o.cap(SECURITY_CAP);
        for d in security.iter().take(cap) {
            diagnosis(o, d);
        }
        if security.len() > cap {
            o.s.push('\n');
        }
        o.more(security.len(), cap, "finding(s)", SEE_DIAGNOSES);
    }
}

/// Where the diagnoses a capped list leaves out are.
const SEE_DIAGNOSES: &str = "diagnoses.csv (written by --out DIR) or --format json; -v lists all";

/// `[D1] CRITICAL Host title`, the severity coloured.
fn title_line(o: &mut Out, d: &Diagnosis, before: &str) {
    let sev = d.severity.as_str().to_uppercase();
    let lead = format!(
        "{before}[{}] {} {:?} ",
        d.id,
        o.paint(severity_style(d.severity), &sev),
        d.scope
    );
    let width = before.len() + d.id.len() + 4 + sev.len() + format!("{:?}", d.scope).len();
    let title = shown(&d.title);
    let title = o.paint(Style::new().bold(), &title).into_owned();
    o.line(&lead, width, &title, 4);
}

fn diagnosis(o: &mut Out, d: &Diagnosis) {
    title_line(o, d, "\n");
    if let Some(code) = d.code {
        let symbol = d.symbol.as_deref().map(shown).unwrap_or_default();
        o.field("code", format!("{code} {symbol}").trim_end());
    }
    if !d.cause.is_empty() {
        o.field("cause", &shown(&d.cause));
    }
    for (i, step) in d.fix.iter().enumerate() {
        let number = format!("{}. ", i + 1);
        let lead = if i == 0 {
            format!(
                "{}{number}",
                o.paint(Style::new().dimmed(), "    fix:      ")
            )
        } else {
            format!("{:LABEL$}{number}", "")
        };
        o.line(
            &lead,
            LABEL + number.len(),
            &shown(step),
            LABEL + number.len(),
        );
    }
    let hosts = o.capped(&d.hosts);
    o.field("hosts", &hosts);
    if !d.jobs.is_empty() {
        let jobs = format!("{} {}", d.jobs.len(), o.capped(&d.jobs));
        o.field("jobs", &jobs);
    }
    if !d.servers.is_empty() {
        let servers = o.capped(&d.servers);
        o.field("servers", &servers);
    }
    if !d.proxies.is_empty() {
        let proxies = o.capped(&d.proxies);
        o.field("proxies", &proxies);
    }
    o.field("proof", &shown(&d.proof));
    o.field("check", &shown(&d.next_check));
    let seen = match (d.first_seen.to_string(), d.last_seen.to_string()) {
        (f, l) if f.is_empty() => l,
        (f, l) if f == l || l.is_empty() => f,
        (f, l) => format!("{f} .. {l}"),
    };
    let seen = format!(
        "{} time(s){}",
        d.occurrences,
        if seen.is_empty() {
            String::new()
        } else {
            format!(", {seen}")
        }
    );
    o.field("seen", &seen);
    let evidence = o.capped(d.evidence.iter().map(|e| e.to_string()));
    o.field("evidence", &evidence);
}

/// The updates that failed somewhere, most hosts first: where, with which codes, and the
/// diagnoses that explain them with how their BITS jobs were linked.
fn updates(o: &mut Out, r: &Report) {
    let lines: Vec<_> = super::update_lines(r)
        .into_iter()
        .filter(|l| !l.failed.is_empty())
        .collect();
    if lines.is_empty() {
        return;
    }
    let cap = o.cap(UPDATES_CAP);
    o.heading(&format!(
        "Updates that failed: {} (most hosts first):",
        lines.len()
    ));
    for l in lines.iter().take(cap) {
        let name = match l.kb {
            Some(kb) if !l.name.contains(kb) => format!("{} ({kb})", shown(l.name)),
            _ => shown(l.name).into_owned(),
        };
        let name = o.paint(Style::new().bold(), &name).into_owned();
        o.line("\n  ", 2, &name, 4);
        let failed = format!("{} host(s): {}", l.failed.len(), o.capped(&l.failed));
        o.field("failed", &failed);
        if !l.succeeded.is_empty() {
            let ok = format!("{} host(s): {}", l.succeeded.len(), o.capped(&l.succeeded));
            o.field("through", &ok);
        }
        if !l.pending.is_empty() {
            let p = format!("{} host(s): {}", l.pending.len(), o.capped(&l.pending));
            o.field("pending", &p);
        }
        let codes = o.capped(l.codes.iter().map(|(c, n)| format!("{c} x{n}")));
        if !codes.is_empty() {
            o.field("codes", &codes);
        }
        if !l.diagnoses.is_empty() {
            let findings = o.capped(&l.diagnoses);
            o.field("findings", &findings);
        }
        let links = if l.links.is_empty() {
            "no BITS job linked".to_string()
        } else {
            let how: Vec<&str> = l.links.iter().map(|m| m.as_str()).collect();
            format!("BITS jobs linked by {}", how.join(", "))
        };
        o.field("jobs", &links);
    }
    if lines.len() > cap {
        o.s.push('\n');
    }
    o.more(
        lines.len(),
        cap,
        "failing update(s)",
        "updates.csv (written by --out DIR) or --format json; -v lists all",
    );
}

fn jobs(o: &mut Out, r: &Report) {
    let not_ok: Vec<_> = r
        .jobs_by_concern()
        .into_iter()
        .filter(|j| matches!(j.outcome, Outcome::Failing | Outcome::Recovered))
        .collect();
    if not_ok.is_empty() {
        return;
    }
    o.heading(&format!("Jobs with errors: {}", not_ok.len()));
    let cap = o.cap(JOBS_CAP);
    for j in not_ok.iter().take(cap) {
        let errors = j
            .errors
            .iter()
            .map(|(c, n)| format!("{c} x{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let outcome = format!("{:<10}", j.outcome.as_str());
        let style = match j.outcome {
            Outcome::Failing => Style::new().fg_color(Some(AnsiColor::Red.into())),
            _ => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        };
        let lead = format!("  {} ", o.paint(style, &outcome));
        let text = format!(
            "{} {} \"{}\" {}",
            shown(&j.host),
            shown(j.id.map(|g| g.text()).as_deref().unwrap_or("(no id)")),
            shown(&j.name),
            errors
        );
        o.line(&lead, 13, &text, 13);
    }
    o.more(
        not_ok.len(),
        cap,
        "job(s) with errors",
        "jobs.csv (written by --out DIR) or --format json; -v lists all",
    );
}

fn inputs(o: &mut Out, r: &Report) {
    let count = |s: Status| r.inputs.iter().filter(|i| i.status == s).count();
    let (ok, partial, skipped) = (
        count(Status::Ok),
        count(Status::Partial),
        count(Status::Skipped),
    );
    let mut kinds: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for i in &r.inputs {
        *kinds.entry(i.kind.as_str()).or_default() += 1;
    }
    let kinds = kinds
        .iter()
        .map(|(k, n)| format!("{n} {}", shown(k)))
        .collect::<Vec<_>>()
        .join(", ");
    o.heading("Inputs:");
    let mut counts = format!("{ok} read completely");
    if partial > 0 {
        let _ = write!(
            counts,
            ", {}",
            o.paint(
                Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                &format!("{partial} partly")
            )
        );
    }
    if skipped > 0 {
        let _ = write!(
            counts,
            ", {}",
            o.paint(
                Style::new().fg_color(Some(AnsiColor::Red.into())),
                &format!("{skipped} skipped")
            )
        );
    }
    if !kinds.is_empty() {
        let _ = write!(counts, " ({kinds})");
    }
    o.line("  ", 2, &counts, 4);
    let verbose = o.opt.detail == Detail::Verbose;
    let listed: Vec<_> = r
        .inputs
        .iter()
        .filter(|i| verbose || i.status != Status::Ok)
        .collect();
    let cap = o.cap(INPUTS_CAP);
    for i in listed.iter().take(cap) {
        let (status, style) = match i.status {
            Status::Ok => ("ok", Style::new()),
            Status::Partial => (
                "partial",
                Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            ),
            Status::Skipped => (
                "skipped",
                Style::new().fg_color(Some(AnsiColor::Red.into())),
            ),
        };
        let lead = format!("  {} ", o.paint(style, &format!("{status:<8}")));
        let mut about = Vec::new();
        if !i.host.is_empty() {
            about.push(shown(&i.host).into_owned());
        }
        if i.status != Status::Skipped {
            about.push(format!("{} observation(s)", i.observations));
        }
        let text = format!(
            "{:<10} {}{}{}",
            shown(&i.kind),
            shown(&i.path),
            if about.is_empty() {
                String::new()
            } else {
                format!(" ({})", about.join(", "))
            },
            i.reason
                .as_ref()
                .map(|r| format!(": {}", shown(r)))
                .unwrap_or_default()
        );
        o.line(&lead, 11, &text, 13);
    }
    o.more(
        listed.len(),
        cap,
        "input(s) not fully read",
        "--format json or -v, which list every input",
    );
    if !verbose && ok > 0 {
        let _ = writeln!(o.s, "  (-v lists every input)");
    }
}

fn warnings(o: &mut Out, r: &Report) {
    if r.warnings.is_empty() {
        return;
    }
    o.heading(&format!("Warnings: {}", r.warnings.len()));
    let cap = o.cap(WARNINGS_CAP);
    for w in r.warnings.iter().take(cap) {
        let at = match w.at {
            Some(crate::model::Locator::Record(n)) => format!(" record {n}"),
            Some(crate::model::Locator::Line(n)) => format!(":{n}"),
            None => String::new(),
        };
        let text = format!("{}{}: {}", shown(&w.path), at, shown(&w.message));
        o.line("  ", 2, &text, 4);
    }
    o.more(
        r.warnings.len(),
        cap,
        "warning(s)",
        "--format json or -v, which list every warning",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_controls_and_bidi_only() {
        assert_eq!(shown("C:\\Windows\\x.log"), "C:\\Windows\\x.log");
        assert_eq!(shown("Grüße ✓"), "Grüße ✓");
        assert_eq!(shown("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(shown("x\u{202e}gpj.exe"), "x\\u202egpj.exe");
        assert_eq!(shown("c1\u{9b}2J"), "c1\\u009b2J");
        assert_eq!(shown("tab\tnl\n"), "tab\\x09nl\\x0a");
    }

    #[test]
    fn wrapped_lines_keep_the_label_column() {
        let mut o = Out {
            s: String::new(),
            opt: Options {
                width: Some(40),
                ..Options::default()
            },
        };
        o.field(
            "cause",
            "one two three four five six seven eight nine ten eleven twelve",
        );
        let lines: Vec<&str> = o.s.lines().collect();
        assert!(lines.len() > 1, "{:?}", o.s);
        assert!(lines[0].starts_with("    cause:    one two"));
        for l in &lines {
            assert!(l.chars().count() <= 40, "{l:?}");
        }
        for l in &lines[1..] {
            assert!(l.starts_with(&" ".repeat(LABEL)) && !l[LABEL..].starts_with(' '));
        }
        // A word longer than the width is kept whole (a URL or a path stays copyable).
        o.s.clear();
        let url = format!("https://{}/x.cab", "a".repeat(60));
        o.field("servers", &url);
        assert!(o.s.contains(&url));
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = Out {
            s: String::new(),
            opt: Options::default(),
        };
        assert_eq!(
            plain.paint(severity_style(Severity::Critical), "CRITICAL"),
            "CRITICAL"
        );
        let colour = Out {
            s: String::new(),
            opt: Options {
                color: true,
                ..Options::default()
            },
        };
        let p = colour.paint(severity_style(Severity::Critical), "CRITICAL");
        assert!(p.starts_with('\x1b') && p.contains("CRITICAL") && p.ends_with("\x1b[0m"));
    }
}
