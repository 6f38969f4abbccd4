//! The index of an `analyze --each` run: one row per case (a zip or folder analysed on its
//! own), as `index.csv` and `index.html`.
//!
//! `index.csv` columns: `case` (the case's folder under OUT), `status` (`ok`, or `unreadable`
//! when no input of the case could be read), `hosts`, `jobs`, `failing_jobs`, `diagnoses`,
//! `worst_severity`, `top_root_cause` (the title of the first diagnosis), `report` (the case's
//! `report.html`, relative to the index).

use super::csv::cell;
use super::html::safe_text;
use super::Report;
use crate::diagnose::Severity;
use crate::term::escape;
use maud::{html, PreEscaped, DOCTYPE};
use serde::Serialize;

/// One case of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRow {
    pub case: String,
    pub status: &'static str,
    pub hosts: usize,
    pub jobs: usize,
    pub failing_jobs: usize,
    pub diagnoses: usize,
    pub worst_severity: Option<Severity>,
    pub top_root_cause: Option<String>,
    pub report: String,
}

impl CaseRow {
    pub fn of(case: &str, r: &Report) -> CaseRow {
        CaseRow {
            case: case.to_string(),
            status: "ok",
            hosts: r.summary.hosts,
            jobs: r.summary.jobs,
            failing_jobs: r.summary.outcomes.get("failing").copied().unwrap_or(0),
            diagnoses: r.diagnoses.len(),
            worst_severity: r.worst(),
            top_root_cause: r.diagnoses.first().map(|d| d.title.clone()),
            report: format!("{case}/report.html"),
        }
    }

    /// A case none of whose inputs could be read.
    pub fn unreadable(case: &str) -> CaseRow {
        CaseRow {
            case: case.to_string(),
            status: "unreadable",
            hosts: 0,
            jobs: 0,
            failing_jobs: 0,
            diagnoses: 0,
            worst_severity: None,
            top_root_cause: None,
            report: String::new(),
        }
    }

    fn cells(&self) -> [String; 9] {
        [
            self.case.clone(),
            self.status.to_string(),
            self.hosts.to_string(),
            self.jobs.to_string(),
            self.failing_jobs.to_string(),
            self.diagnoses.to_string(),
            self.worst_severity
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            self.top_root_cause.clone().unwrap_or_default(),
            self.report.clone(),
        ]
    }
}

pub const HEADER: [&str; 9] = [
    "case",
    "status",
    "hosts",
    "jobs",
    "failing_jobs",
    "diagnoses",
    "worst_severity",
    "top_root_cause",
    "report",
];

/// `index.csv` (RFC 4180, CRLF, formula-like cells prefixed with `'`).
pub fn csv(rows: &[CaseRow]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(HEADER);
    for r in rows {
        let _ = w.write_record(r.cells().iter().map(|c| cell(c).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// One line per case, for the terminal.
pub fn text(rows: &[CaseRow]) -> String {
    let mut o = format!("bitsdoctor: {} case(s)\n", rows.len());
    for r in rows {
        let worst = r.worst_severity.map(|s| s.as_str()).unwrap_or("-");
        o.push_str(&format!(
            "{}: {}, {} host(s), {} job(s), {} failing, {} diagnosis(es), worst {}{}\n",
            escape(&r.case),
            r.status,
            r.hosts,
            r.jobs,
            r.failing_jobs,
            r.diagnoses,
            worst,
            r.top_root_cause
                .as_deref()
                .map(|t| format!(": {}", escape(t)))
                .unwrap_or_default()
        ));
    }
    o
}

/// The index page's style sheet.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
th{background:#f3f3f3}.critical,.error{color:#b00020}.warning{color:#8a5a00}";

/// Cases `index.html` lists: a batch of thousands stays a page a person can open (every case
/// is in `index.csv`).
pub const HTML_CASE_CAP: usize = 1000;

/// Characters of a case name or root-cause title `index.html` shows (`index.csv` has them whole).
const HTML_CELL_CHARS: usize = 200;

/// At most `cap` rows for the page: all of them in their order when they fit, else the ones
/// with the worst findings (worst severity, then most failing jobs, then unreadable cases,
/// then by name).
fn worst_first(rows: &[CaseRow], cap: usize) -> Vec<&CaseRow> {
    let mut shown: Vec<&CaseRow> = rows.iter().collect();
    if shown.len() > cap {
        shown.sort_by(|a, b| {
            (b.worst_severity, b.failing_jobs, b.status == "unreadable")
                .cmp(&(a.worst_severity, a.failing_jobs, a.status == "unreadable"))
                .then_with(|| a.case.cmp(&b.case))
        });
        shown.truncate(cap);
    }
    shown
}

/// `s` cut to `HTML_CELL_CHARS` characters, with `…` when cut.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(HTML_CELL_CHARS) {
        None => s.into(),
        Some((at, _)) => format!("{}…", &s[..at]).into(),
    }
}

/// `index.html`: a self-contained page with one row per case (the [`HTML_CASE_CAP`] with the
/// worst findings when there are more), linking each case's report. Built like the report
/// page: maud escapes every value, [`safe_text`] the control and bidi characters.
pub fn html(rows: &[CaseRow]) -> String {
    let shown = worst_first(rows, HTML_CASE_CAP);
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'";
                title { "bitsdoctor cases" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                "\n"
                h1 { "bitsdoctor: " (rows.len()) " case(s)" }
                "\n"
                @if shown.len() < rows.len() {
                    p {
                        "The " (shown.len()) " cases with the worst findings, worst first; "
                        "index.csv lists all " (rows.len()) "."
                    }
                    "\n"
                }
                table {
                    "\n"
                    tr {
                        th { "case" } th { "status" } th { "hosts" } th { "jobs" }
                        th { "failing jobs" } th { "diagnoses" } th { "worst" }
                        th { "top root cause" }
                    }
                    "\n"
                    @for r in &shown {
                        @let worst = r.worst_severity.map(|s| s.as_str()).unwrap_or("");
                        tr {
                            td {
                                @if r.report.is_empty() {
                                    (clip(&r.case))
                                } @else {
                                    a href=(link(&r.report)) { (clip(&r.case)) }
                                }
                            }
                            td { (r.status) }
                            td { (r.hosts) }
                            td { (r.jobs) }
                            td { (r.failing_jobs) }
                            td { (r.diagnoses) }
                            td class=(worst) { (worst) }
                            td { (clip(r.top_root_cause.as_deref().unwrap_or(""))) }
                        }
                        "\n"
                    }
                }
                "\n"
            }
        }
        "\n"
    };
    safe_text(page.into_string())
}

/// A relative link: every byte outside unreserved characters and `/` percent-encoded.
fn link(path: &str) -> String {
    let mut o = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(case: &str) -> CaseRow {
        CaseRow {
            case: case.into(),
            status: "ok",
            hosts: 2,
            jobs: 3,
            failing_jobs: 1,
            diagnoses: 1,
            worst_severity: Some(Severity::Error),
            top_root_cause: Some("=HYPERLINK(\"x\") <b>".into()),
            report: format!("{case}/report.html"),
        }
    }

    #[test]
    fn index_cells_are_safe() {
        let rows = [row("CASE 1 <x>")];
        let c = csv(&rows);
        assert!(c.starts_with("case,status,hosts,jobs,failing_jobs,diagnoses,worst_severity,top_root_cause,report\r\n"));
        assert!(c.contains(",\"'=HYPERLINK"), "{c}");
        let h = html(&rows);
        assert!(h.contains("href=\"CASE%201%20%3Cx%3E/report.html\""), "{h}");
        assert!(h.contains("CASE 1 &lt;x&gt;") && !h.contains("<b>"), "{h}");
        assert!(h.contains("Content-Security-Policy"), "{h}");
        let t = text(&[row("CASE\u{1b}[2J\u{202e}2")]);
        assert!(
            t.starts_with("bitsdoctor: 1 case(s)\nCASE\\x1b[2J\\u202e2: ok,"),
            "{t}"
        );
    }

    /// A batch of more cases than the page lists: the worst ones, a note pointing to
    /// index.csv (which keeps every case), and long names cut; the page stays small.
    #[test]
    fn a_large_batch_lists_its_worst_cases_and_stays_small() {
        // A case is a file or folder name (255 bytes at most); a title quotes the inputs.
        let long = "x".repeat(100_000);
        let name = "n".repeat(240);
        let rows: Vec<CaseRow> = (0..HTML_CASE_CAP + 500)
            .map(|i| {
                let mut r = row(&format!("case-{i:05}-{name}"));
                r.top_root_cause = Some(long.clone());
                r.worst_severity = Some(if i % 3 == 0 {
                    Severity::Critical
                } else {
                    Severity::Info
                });
                r.failing_jobs = i;
                r
            })
            .collect();
        let h = html(&rows);
        assert!(h.len() < 2 << 20, "{} bytes", h.len());
        assert!(h.contains(&format!(
            "The {HTML_CASE_CAP} cases with the worst findings"
        )));
        assert!(h.contains(&format!("index.csv lists all {}.", rows.len())));
        // The critical cases come first, most failing jobs first; the page has no room for
        // the info case with the fewest.
        let last = (HTML_CASE_CAP + 500 - 1) / 3 * 3;
        let top = h
            .find(&format!(">case-{last:05}-"))
            .expect("the worst case is listed");
        let critical = h.find(">case-00000-").expect("a critical case is listed");
        assert!(top < critical);
        assert!(!h.contains(">case-00001-"));
        assert_eq!(
            csv(&rows).lines().count(),
            rows.len() + 1,
            "index.csv keeps every case"
        );
        // A few cases are all listed, in their order.
        let h = html(&[row("b"), row("a")]);
        assert!(h.find(">b<").unwrap() < h.find(">a<").unwrap());
        assert!(!h.contains("worst findings"));
    }
}
