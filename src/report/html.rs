//! The HTML report: one self-contained file (inline CSS and SVG; no scripts, fonts, images or
//! network) that a support engineer can open from a customer case or attach to a ticket.
//!
//! Sections: summary, failures over time (inline SVG: one lane per host, bars stacked by error
//! code), root causes (each with its fix steps, commands ready to copy), security findings (the
//! security lens, apart from the troubleshooting cards), hosts, jobs, updates with errors, inputs
//! and warnings. The output is deterministic: no clock, no randomness, only the report.
//!
//! The page stays small at any input size: every section that grows with the input lists its
//! first items (the caps below) and then says how many more there are and which file has them.
//!
//! The page is built with maud's `html!` templates, which escape every value put into the
//! markup (`&`, `<`, `>` and `"`; attributes are always double-quoted), in text and in attributes
//! alike: only the style sheet is inserted as it is. Maud does not touch control characters
//! or bidi controls, so the finished page goes through [`safe_text`] once: the template itself
//! writes neither, so whatever it finds came from an input.

use super::{FailurePoint, HostRow, JobRow, Report, Status};
use crate::diagnose::{Category, Diagnosis, EVIDENCE_CAP};
use crate::model::{HResult, Locator, When};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

// Caps on what the page lists. A person reads the page; report.json and the CSVs carry
// everything. Each section shows its first items in rank order and then one line saying how
// many more there are and where they are; headings always count everything. Sized so that a
// page with every section and every list in it full stays well under 2 MB (1.7 MB in
// tests/report_caps.rs; 0.35 MB for a 40-host, 614-diagnosis bench), while the samples and the
// corpus are shown whole.

/// Root-cause cards shown in full, most important first. A card is 3-6 KB on a real fleet and
/// about 15 KB with every list in it full, so 25 cards are 0.1-0.4 MB; the rest are read from
/// diagnoses.csv, sorted the same way.
pub const CAUSE_CARD_CAP: usize = 25;
/// Security findings shown in full (cards like the root causes'). There is one per flagged job,
/// so a compromised fleet has many alike: 15 show what they look like (the corpus has 13).
pub const SECURITY_CARD_CAP: usize = 15;
/// Host cards shown (hosts with findings first): 1-2 KB each, about 4.5 KB with both value
/// tables full; report.json has every host.
pub const HOST_CARD_CAP: usize = 50;
/// Jobs listed in the job table (rows of 0.5-1 KB; jobs.csv has them all).
pub const JOB_TABLE_CAP: usize = 200;
/// Updates listed in the updates table (rows of 1-3 KB, the largest with both host lists full;
/// updates.csv has them all).
pub const UPDATE_TABLE_CAP: usize = 50;
/// Inputs not read completely listed in the inputs table (a damaged bundle can have thousands;
/// report.json lists every input).
pub const INPUT_ROW_CAP: usize = 100;
/// Warnings listed (report.json has every warning).
pub const WARNING_CAP: usize = 100;
/// Items a diagnosis lists (hosts, servers ...) before "+N more".
const LIST_CAP: usize = 8;
/// Items a diagnosis lists inside its "+N more" box at most (the box is for a quick look; the
/// CSVs and report.json have every item). Evidence is shown whole: a diagnosis keeps at most
/// [`EVIDENCE_CAP`] references.
const DETAILS_CAP: usize = 12;
/// Diagnoses named in one host card, job row, update row or "Explains" line (on a big fleet
/// every host is named by hundreds of fleet diagnoses).
const LINK_CAP: usize = 10;
/// Error codes one job or update row lists, one per line.
const CODE_CAP: usize = 6;
/// Rows of a host card's service configuration or BITS policy table (a real host has up to
/// about 15; a crafted registry export could have thousands).
const VALUE_CAP: usize = 25;

/// Host lanes in the timeline before the rest are merged into one.
const CHART_HOSTS: usize = 14;
/// Codes with their own colour in the timeline; the rest are "other".
const CHART_CODES: usize = 8;
/// Buckets on the timeline's x axis at most. With the lanes and colours above the chart has at
/// most 15 x 60 bars of 9 pieces each, so it stays bounded: about 0.5 MB with every piece
/// there, tens of KB in practice.
const CHART_BUCKETS: i64 = 60;

/// The last step for a rendered page: control characters other than tab and line feed (not
/// allowed in HTML text) become U+FFFD, and bidi controls and invisible format characters,
/// which would reorder or hide what the reader sees, are shown as `\u202e` and the like
/// (`term::escape_bidi`). Maud has already escaped the markup characters.
pub fn safe_text(page: String) -> String {
    let control = |c: char| c.is_control() && c != '\t' && c != '\n';
    let page = if page.contains(control) {
        page.replace(control, "\u{FFFD}")
    } else {
        page
    };
    match crate::term::escape_bidi(&page) {
        Cow::Borrowed(_) => page,
        Cow::Owned(escaped) => escaped,
    }
}

/// A time for people: `2021-03-15 18:49:19 UTC`, local times marked `(local)`.
fn when(w: &When) -> String {
    match w {
        When::Unknown => String::new(),
        When::Utc(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        When::LocalAt(dt, off) => format!(
            "{} (local, UTC{})",
            dt.strftime("%Y-%m-%d %H:%M:%S"),
            crate::model::Rfc3339Offset(*off)
        ),
        When::Local(dt) => format!(
            "{} (local, offset unknown)",
            dt.strftime("%Y-%m-%d %H:%M:%S")
        ),
    }
}

fn seen(first: &When, last: &When) -> String {
    match (when(first), when(last)) {
        (f, l) if f.is_empty() => l,
        (f, l) if l.is_empty() || f == l => f,
        (f, l) => format!("{f} – {l}"),
    }
}

const CSS: &str = r#"
:root{--ink:#1d2433;--muted:#5b6577;--line:#e3e7ee;--bg:#f5f7fa;--card:#fff;--accent:#1f4e8c;
--critical:#8e1537;--error:#c62828;--warning:#d46b08;--info:#1565c0;--ok:#2e7d32}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code,pre,.mono{font-family:ui-monospace,"Cascadia Mono",Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
header.top{background:#16243d;color:#fff;padding:22px 0 0}
.wrap{max-width:1200px;margin:0 auto;padding:0 28px}
header.top .brand{font-size:12px;letter-spacing:.14em;text-transform:uppercase;color:#9fb3d9}
header.top h1{margin:4px 0 6px;font-size:24px;font-weight:600}
header.top .sub{color:#c7d3ea;margin:0 0 16px}
nav{display:flex;gap:2px;flex-wrap:wrap}
nav a{color:#c7d3ea;text-decoration:none;padding:8px 14px;border-radius:6px 6px 0 0;font-size:13px}
nav a:hover{background:#22355a;color:#fff}
main{padding:8px 0 40px}
section{margin-top:28px}
h2{font-size:18px;margin:0 0 12px;font-weight:600}
h2 .count{color:var(--muted);font-weight:400;font-size:14px;margin-left:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.stat .n{font-size:26px;font-weight:650;line-height:1.1}
.stat .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.stat .d{margin-top:6px;font-size:12.5px;color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:11.5px;font-weight:600;letter-spacing:.03em;color:#fff;vertical-align:1px;white-space:nowrap}
.b-critical{background:var(--critical)}.b-error{background:var(--error)}.b-warning{background:var(--warning)}.b-info{background:var(--info)}
.b-failing{background:var(--error)}.b-recovered{background:#b7791f}.b-succeeded{background:var(--ok)}.b-cancelled{background:#78808f}.b-in_progress{background:var(--info)}
.b-ok{background:var(--ok)}.b-partial{background:var(--warning)}.b-skipped{background:#78808f}
.chip{display:inline-block;border:1px solid var(--line);background:#f8fafc;border-radius:6px;padding:0 7px;margin:1px 3px 1px 0;font-size:12.5px}
.dx{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--info);border-radius:10px;padding:16px 20px;margin-bottom:14px}
.dx.s-critical{border-left-color:var(--critical)}.dx.s-error{border-left-color:var(--error)}.dx.s-warning{border-left-color:var(--warning)}
.dx h3{margin:6px 0 4px;font-size:16px;font-weight:600}
.dx .meta{color:var(--muted);font-size:12.5px}
.dx .meta b{color:var(--ink);font-weight:600}
.dx .code{font-size:13px;margin:2px 0 8px}
.dx .code code{background:#eef2f8;border-radius:4px;padding:1px 6px}
.dx p{margin:6px 0}
.fix{background:#f3f8f3;border:1px solid #d5e8d5;border-radius:8px;padding:8px 14px 8px 12px;margin:10px 0}
.fix h4{margin:0 0 2px;font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--ok)}
.fix ol{margin:4px 0;padding-left:22px}
.fix li{margin:3px 0}
code.cmd{background:#1e2738;color:#e8eef8;border-radius:4px;padding:1px 6px;user-select:all;cursor:copy;white-space:pre-wrap}
dl.facts{display:grid;grid-template-columns:110px 1fr;gap:3px 12px;margin:10px 0 0;font-size:13px}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
details summary{cursor:pointer;color:var(--accent)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px}
.chart svg{display:block;max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin-top:8px;font-size:12.5px}
.legend span.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.note{color:var(--muted);font-size:12.5px;margin:6px 0 0}
.hosts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
.host{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.host.flag{border-left:5px solid var(--error)}
.host h3{margin:0 0 4px;font-size:15px;overflow-wrap:anywhere}
.host table{margin-top:6px}
table{border-collapse:collapse;width:100%;background:var(--card)}
table.grid{border:1px solid var(--line);border-radius:10px;overflow:hidden;font-size:13px}
table.grid th{background:#eef2f8;text-align:left;font-weight:600;font-size:12px;color:#3a4457;padding:7px 10px;border-bottom:1px solid var(--line);white-space:nowrap}
table.grid td{padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
table.grid td.url{overflow-wrap:anywhere;min-width:240px}
.nowrap{white-space:nowrap}
.host details{margin-top:6px;font-size:12.5px}
table.grid tr:last-child td{border-bottom:0}
table.kv td{padding:1px 8px 1px 0;font-size:12.5px;border:0;vertical-align:top;overflow-wrap:anywhere}
table.kv td:first-child{color:var(--muted);white-space:nowrap}
.small{font-size:12px;color:var(--muted)}
.num{text-align:right;font-variant-numeric:tabular-nums}
ul.warn{margin:0;padding-left:20px}
ul.warn li{margin:2px 0;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding:14px 0 30px}
.scroll{overflow-x:auto;max-width:100%}
@media (max-width:600px){.wrap{padding-left:10px;padding-right:10px}.hosts{grid-template-columns:1fr}
table.grid{display:block;overflow-x:auto}dl.facts{grid-template-columns:1fr}dl.facts dt{margin-top:4px}
.chart{overflow-x:auto}.chart svg{max-width:none;min-width:640px}.dx{padding:12px 12px}nav{overflow-x:auto;white-space:nowrap}}
@media print{nav{display:none}header.top{background:#fff;color:#000}.dx,.host,.panel{break-inside:avoid}}
"#;

/// The whole report as one HTML document.
pub fn render(r: &Report) -> String {
    // Failures and configuration are the troubleshooting cards; the security lens's findings
    // have a section of their own.
    let (security, rest): (Vec<&Diagnosis>, Vec<&Diagnosis>) = r
        .diagnoses
        .iter()
        .partition(|d| d.category == Category::Security);
    // The diagnoses that get a card on this page: links to the others are plain ids.
    let shown: Shown = rest
        .iter()
        .take(CAUSE_CARD_CAP)
        .chain(security.iter().take(SECURITY_CARD_CAP))
        .map(|d| d.id.as_str())
        .collect();
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n" meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                // No network: scripts, styles, images and fonts may only come from this
                // document.
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"; "\n"
                title {
                    "bitsdoctor: " (bundle_name(r)) " (" (r.summary.hosts) " host(s), "
                    (r.diagnoses.len()) " diagnosis(es))"
                }
                "\n"
                style { (PreEscaped(CSS)) }
                "\n"
            }
            "\n"
            body {
                "\n"
                (header(r, !security.is_empty()))
                main class="wrap" {
                    "\n"
                    (summary(r))
                    (timeline(r))
                    (causes(&rest, security.len(), &shown))
                    (security_section(&security, &shown))
                    (hosts(r, &shown))
                    (jobs(r, &shown))
                    (updates(r, &shown))
                    (inputs(r))
                }
                "\n"
                footer class="wrap" {
                    "Generated by bitsdoctor " (env!("CARGO_PKG_VERSION"))
                    " · report schema " (r.schema)
                }
                "\n"
            }
            "\n"
        }
        "\n"
    };
    safe_text(page.into_string())
}

/// What the report is about, for the page title: the folder or zip the inputs share (their
/// common parent's last part), else the single input's name.
fn bundle_name(r: &Report) -> String {
    let split = |p: &str| -> Vec<String> {
        p.split(['/', '\\', '!'])
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut common: Option<Vec<String>> = None;
    for i in &r.inputs {
        let mut parts = split(&i.path);
        parts.pop(); // the file itself
        common = Some(match common {
            None => parts,
            Some(c) => c
                .into_iter()
                .zip(parts)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common
        .and_then(|c| c.last().cloned())
        .or_else(|| r.inputs.first().and_then(|i| split(&i.path).pop()))
        .unwrap_or_else(|| "no inputs".to_string())
}

fn header(r: &Report, security: bool) -> Markup {
    let s = &r.summary;
    let mut links = vec![
        ("summary", "Summary"),
        ("timeline", "Timeline"),
        ("causes", "Root causes"),
    ];
    if security {
        links.push(("security", "Security"));
    }
    links.extend([("hosts", "Hosts"), ("jobs", "Jobs")]);
    if !update_rows(r).is_empty() {
        links.push(("updates", "Updates"));
    }
    links.push(("inputs", "Inputs"));
    html! {
        header class="top" { div class="wrap" {
            div class="brand" { "bitsdoctor" }
            h1 { "BITS / Windows Update download diagnosis" }
            p class="sub" {
                (s.inputs) " input(s) · " (s.hosts) " host(s) · " (s.jobs) " job(s) · "
                (r.diagnoses.len()) " diagnosis(es)"
            }
            nav { @for (id, label) in links { a href={ "#" (id) } { (label) } } }
        } }
        "\n"
    }
}

fn count(m: &BTreeMap<&'static str, usize>, k: &str) -> usize {
    m.get(k).copied().unwrap_or(0)
}

fn summary(r: &Report) -> Markup {
    let s = &r.summary;
    let severities: Vec<(&str, usize)> = ["critical", "error", "warning", "info"]
        .into_iter()
        .map(|k| (k, count(&s.diagnoses, k)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let by_severity = html! {
        @for (k, n) in &severities { span class={ "badge b-" (k) } { (n) " " (k) } " " }
        @if severities.is_empty() { "no problems found" }
    };
    let jobs = [
        "failing",
        "recovered",
        "in_progress",
        "cancelled",
        "succeeded",
    ]
    .into_iter()
    .map(|k| (k, count(&s.outcomes, k)))
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
    .collect::<Vec<_>>()
    .join(" · ");
    let affected = r.hosts.iter().filter(|h| !h.diagnoses.is_empty()).count();
    let by_status = |st: Status| r.inputs.iter().filter(|i| i.status == st).count();
    html! {
        section id="summary" { h2 { "Summary" } div class="cards" {
            "\n"
            (stat(r.diagnoses.len(), "Diagnoses", by_severity))
            (stat(s.jobs, "BITS jobs", html! { (jobs) }))
            (stat(count(&s.outcomes, "failing"), "Jobs failing", html! { "errors and no later success" }))
            (stat(s.hosts, "Hosts", html! { (affected) " with a diagnosis" }))
            (stat(s.inputs, "Inputs", html! {
                (by_status(Status::Ok)) " read · " (by_status(Status::Partial)) " partial · "
                (by_status(Status::Skipped)) " skipped"
            }))
            (stat(s.warnings, "Warnings", html! { "inputs or lines not fully read" }))
        } }
        "\n"
    }
}

/// A summary card.
fn stat(n: usize, label: &str, detail: Markup) -> Markup {
    html! {
        div class="stat" { div class="l" { (label) } div class="n" { (n) } div class="d" { (detail) } }
        "\n"
    }
}

/// Words a fix step that is a bare command starts with.
const COMMANDS: &[&str] = &[
    "sc",
    "sc.exe",
    "bitsadmin",
    "gpupdate",
    "gpresult",
    "netsh",
    "reg",
    "nslookup",
    "ipconfig",
    "certutil",
    "curl",
    "curl.exe",
    "wevtutil",
    "net",
    "powershell",
];

/// Is `s` a command (`sc start bits`, `Get-BitsTransfer -AllUsers`) rather than prose?
fn is_command(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("");
    COMMANDS.contains(&first)
        || first.split_once('-').is_some_and(|(verb, noun)| {
            verb.len() > 1
                && verb.chars().all(|c| c.is_ascii_alphabetic())
                && verb.starts_with(|c: char| c.is_ascii_uppercase())
                && noun.starts_with(|c: char| c.is_ascii_uppercase())
        })
}

/// A command to copy: a click selects all of it.
fn command(cmd: &str) -> Markup {
    html! { code class="cmd" title="click to select" { (cmd) } }
}

/// Fix steps quote commands in backticks: those become `<code class="cmd">` (click selects the
/// whole command). A step that is a bare command (`sc start bits`, maybe followed by a
/// parenthesised remark) is one command.
fn step(s: &str) -> Markup {
    if !s.contains('`') && is_command(s) {
        let (cmd, rest) = match s.find(" (") {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        return html! { (command(cmd)) (rest) };
    }
    html! {
        @for (i, part) in s.split('`').enumerate() {
            @if i % 2 == 1 && !part.is_empty() { (command(part)) } @else { (part) }
        }
    }
}

/// The first `shown` items, then up to `details` more behind a "+N more" box.
fn capped_list<'a>(
    items: impl IntoIterator<Item = &'a str>,
    mono: bool,
    shown: usize,
    details: usize,
) -> Markup {
    let all: Vec<&str> = items.into_iter().collect();
    let class = if mono { "chip mono" } else { "chip" };
    let rest = all.get(shown..).unwrap_or_default();
    html! {
        @for s in all.iter().take(shown) { span class=(class) { (s) } }
        @if !rest.is_empty() {
            details {
                summary { "+" (rest.len()) " more" }
                @for s in rest.iter().take(details) { span class=(class) { (s) } }
                @if rest.len() > details {
                    span class="small" {
                        " +" (rest.len() - details) " more (see the JSON or CSV report)"
                    }
                }
            }
        }
    }
}

/// The ids of the diagnoses that have a card on the page.
type Shown<'a> = BTreeSet<&'a str>;

/// Diagnoses by id, comma-separated, the first [`LINK_CAP`] of them and then "+N more": a link
/// for each one with a card on the page, the bare id for the others (diagnoses.csv has them).
fn diagnosis_links<'a, S: AsRef<str> + 'a>(
    ids: impl IntoIterator<Item = &'a S>,
    shown: &Shown,
) -> Markup {
    let ids: Vec<&str> = ids.into_iter().map(AsRef::as_ref).collect();
    html! {
        @for (i, id) in ids.iter().take(LINK_CAP).enumerate() {
            @if i > 0 { ", " }
            @if shown.contains(id) { a href={ "#" (id) } { (id) } } @else { (id) }
        }
        @if ids.len() > LINK_CAP {
            " " span class="small" { "+" (ids.len() - LINK_CAP) " more" }
        }
    }
}

/// `… and N more WHAT: see WHERE.`, under a list cut at its cap (nothing when it was not).
fn more(total: usize, cap: usize, what: &str, see: &str) -> Markup {
    html! {
        @if total > cap {
            p class="note more" { "… and " (total - cap) " more " (what) ": see " (see) "." }
            "\n"
        }
    }
}

/// The troubleshooting cards: failures and configuration, the most important
/// [`CAUSE_CARD_CAP`] in full.
fn causes(diagnoses: &[&Diagnosis], security: usize, shown: &Shown) -> Markup {
    html! {
        section id="causes" {
            h2 {
                "Root causes"
                span class="count" { (diagnoses.len()) " diagnosis(es), most important first" }
            }
            "\n"
            @if diagnoses.is_empty() {
                div class="panel" {
                    @if security == 0 {
                        "No problems found in the inputs."
                    } @else {
                        "No transfer, service or configuration problems found in the inputs."
                    }
                }
            }
            @for d in diagnoses.iter().take(CAUSE_CARD_CAP) { (diagnosis(d, shown)) }
            (more(diagnoses.len(), CAUSE_CARD_CAP, "diagnosis(es)",
                "diagnoses.csv or report.json, which list every one in this order"))
        }
        "\n"
    }
}

/// The security lens's findings (MITRE ATT&CK T1197, BITS Jobs): jobs that look like abuse,
/// apart from the troubleshooting cards, the first [`SECURITY_CARD_CAP`] in full. Left out when
/// there are none.
fn security_section(findings: &[&Diagnosis], shown: &Shown) -> Markup {
    if findings.is_empty() {
        return html! {};
    }
    html! {
        section id="security" {
            h2 {
                "Security"
                span class="count" { (findings.len()) " finding(s), MITRE ATT&CK T1197 (BITS Jobs)" }
            }
            p class="note" {
                "BITS jobs that look like abuse rather than a failed download: not a fault to "
                "fix, but something to check with whoever owns the host."
            }
            "\n"
            @for d in findings.iter().take(SECURITY_CARD_CAP) { (diagnosis(d, shown)) }
            (more(findings.len(), SECURITY_CARD_CAP, "finding(s)",
                "diagnoses.csv (category security) or report.json"))
        }
        "\n"
    }
}

fn diagnosis(d: &Diagnosis, shown: &Shown) -> Markup {
    let sev = d.severity.as_str();
    let mut facts: Vec<(&str, Markup)> = vec![
        ("Proof", step(&d.proof)),
        ("Next check", step(&d.next_check)),
        (
            "Hosts",
            capped_list(
                d.hosts.iter().map(|s| s.as_str()),
                false,
                LIST_CAP,
                DETAILS_CAP,
            ),
        ),
    ];
    if !d.jobs.is_empty() {
        facts.push((
            "Jobs",
            html! {
                (d.jobs.len()) " job(s) "
                (capped_list(d.jobs.iter().map(|s| s.as_str()), true, 4, DETAILS_CAP))
            },
        ));
    }
    facts.push((
        "Servers",
        capped_list(
            d.servers.iter().map(|s| s.as_str()),
            true,
            LIST_CAP,
            DETAILS_CAP,
        ),
    ));
    facts.push((
        "Proxies",
        capped_list(
            d.proxies.iter().map(|s| s.as_str()),
            true,
            LIST_CAP,
            DETAILS_CAP,
        ),
    ));
    let blocked: Vec<String> = d
        .blocks
        .iter()
        .map(|b| {
            let name = if b.title.is_empty() {
                b.guid.as_deref().unwrap_or("(unnamed update)")
            } else {
                &b.title
            };
            let kb = match &b.kb {
                Some(k) if !name.contains(k.as_str()) => format!(" ({k})"),
                _ => String::new(),
            };
            let how: Vec<&str> = b.links.iter().map(|m| m.as_str()).collect();
            format!(
                "{name}{kb}: {} host(s), linked by {}",
                b.hosts.len(),
                how.join(", ")
            )
        })
        .collect();
    facts.push((
        "Blocks updates",
        capped_list(
            blocked.iter().map(|s| s.as_str()),
            false,
            LIST_CAP,
            DETAILS_CAP,
        ),
    ));
    let when = seen(&d.first_seen, &d.last_seen);
    facts.push((
        "Seen",
        html! { (d.occurrences) " time(s)" @if !when.is_empty() { ", " (when) } },
    ));
    let evidence: Vec<String> = d
        .evidence
        .iter()
        .map(|e| match e.at {
            Locator::Record(n) => format!("{} record {n}", e.path),
            Locator::Line(n) => format!("{}:{n}", e.path),
        })
        .collect();
    facts.push((
        "Evidence",
        capped_list(evidence.iter().map(|s| s.as_str()), true, 3, EVIDENCE_CAP),
    ));
    if let Some(by) = &d.explained_by {
        facts.push(("Explained by", diagnosis_links([by], shown)));
    }
    facts.push(("Explains", diagnosis_links(&d.explains, shown)));
    html! {
        article class={ "dx s-" (sev) } id=(d.id) {
            div class="meta" {
                span class={ "badge b-" (sev) } { (sev.to_uppercase()) } " "
                b { (d.id) } " · " (scope_str(d)) " · " (category_str(d)) " · rule "
                span class="mono" { (d.rule) }
            }
            h3 { (d.title) }
            @if let Some(code) = d.code {
                div class="code" {
                    code { (code) }
                    @if let Some(sym) = &d.symbol { " " span class="mono" { (sym) } }
                }
            }
            @if !d.cause.is_empty() { p { (d.cause) } }
            @if !d.fix.is_empty() {
                div class="fix" { h4 { "Fix" } ol { @for s in &d.fix { li { (step(s)) } } } }
            }
            dl class="facts" {
                @for (label, body) in facts.iter().filter(|f| !f.1 .0.is_empty()) {
                    dt { (label) } dd { (body) }
                }
            }
        }
        "\n"
    }
}

fn scope_str(d: &Diagnosis) -> &'static str {
    match d.scope {
        crate::diagnose::Scope::Fleet => "fleet",
        crate::diagnose::Scope::Host => "host",
        crate::diagnose::Scope::Job => "job",
    }
}

fn category_str(d: &Diagnosis) -> &'static str {
    match d.category {
        Category::Failure => "failure",
        Category::Config => "config",
        Category::Security => "security",
    }
}

/// A point in time as seconds, local times read as if they were UTC (they are only compared
/// with each other).
fn seconds(w: &When) -> Option<i64> {
    match w {
        When::Unknown => None,
        When::Utc(_) | When::LocalAt(..) => w.instant().map(|t| t.as_second()),
        When::Local(dt) => dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_second()),
    }
}

const PALETTE: [&str; CHART_CODES] = [
    "#4e79a7", "#e15759", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
];
const OTHER_COLOUR: &str = "#b8bec9";

/// Bucket sizes the timeline may use, in seconds.
const BUCKETS: [(i64, &str); 16] = [
    (60, "1 minute"),
    (300, "5 minutes"),
    (900, "15 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (3 * 3600, "3 hours"),
    (6 * 3600, "6 hours"),
    (12 * 3600, "12 hours"),
    (86400, "1 day"),
    (2 * 86400, "2 days"),
    (7 * 86400, "1 week"),
    (14 * 86400, "2 weeks"),
    (30 * 86400, "30 days"),
    (91 * 86400, "91 days"),
    (365 * 86400, "365 days"),
    (5 * 365 * 86400, "5 years"),
];

fn timeline(r: &Report) -> Markup {
    let utc: Vec<&FailurePoint> = r
        .failures
        .iter()
        .filter(|f| f.time.instant().is_some())
        .collect();
    let (points, local) = if utc.is_empty() {
        let local: Vec<&FailurePoint> = r
            .failures
            .iter()
            .filter(|f| matches!(f.time, When::Local(_)))
            .collect();
        (local, true)
    } else {
        (utc, false)
    };
    let left_out = r.failures.len() - points.len();
    html! {
        section id="timeline" { h2 { "Failures over time" } div class="panel chart" {
            @if points.is_empty() {
                p class="note" {
                    @if r.failures.is_empty() {
                        "No failed transfers in the inputs."
                    } @else {
                        "The failures in the inputs carry no time: nothing to chart."
                    }
                }
            } @else {
                (chart(&points, &r.hosts, local, &code_symbols(r)))
                @if left_out > 0 {
                    p class="note" {
                        (left_out) " failure(s) with "
                        (if local { "unknown" } else { "local or unknown" })
                        " times are not charted."
                    }
                }
            }
        } }
        "\n"
    }
}

/// Symbols for the codes the diagnoses name.
fn code_symbols(r: &Report) -> BTreeMap<HResult, String> {
    r.diagnoses
        .iter()
        .filter_map(|d| Some((d.code?, d.symbol.clone()?)))
        .collect()
}

/// One stacked bar of the timeline: where it is and what it counts (its pieces are drawn by
/// the lane's paths; the bar is one hover target).
struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    title: String,
}

/// One host's lane in the timeline.
struct Lane {
    y0: f64,
    name: String,
    shown_name: String,
    total: usize,
    /// Path data per colour slot: every piece of that colour in the lane, as one `<path>`
    /// (a rectangle is ~30 bytes of path data, so a full chart stays a few hundred KB).
    paths: Vec<String>,
    bars: Vec<Bar>,
}

/// One lane per host, bars stacked by code. `points` is not empty.
fn chart(
    points: &[&FailurePoint],
    hosts: &[HostRow],
    local: bool,
    symbols: &BTreeMap<HResult, String>,
) -> Markup {
    let host_of = |p: &FailurePoint| hosts.get(p.host as usize).map_or("", |h| h.name.as_str());
    let secs: Vec<i64> = points.iter().filter_map(|p| seconds(&p.time)).collect();
    let (Some(&t0), Some(&t1)) = (secs.iter().min(), secs.iter().max()) else {
        return html! {};
    };
    let span = t1 - t0;
    let (size, size_label) = BUCKETS
        .iter()
        .copied()
        .find(|(s, _)| span / s < CHART_BUCKETS)
        .unwrap_or(BUCKETS[BUCKETS.len() - 1]);
    let start = t0.div_euclid(size) * size;
    let n = ((t1 - start) / size + 1).max(1) as usize;

    // Codes by count: the top ones get a colour each.
    let mut by_code: BTreeMap<HResult, usize> = BTreeMap::new();
    let mut by_host: BTreeMap<&str, usize> = BTreeMap::new();
    for p in points {
        *by_code.entry(p.code).or_default() += 1;
        *by_host.entry(host_of(p)).or_default() += 1;
    }
    let mut codes: Vec<(HResult, usize)> = by_code.into_iter().collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let coloured: Vec<(HResult, usize)> = codes.iter().take(CHART_CODES).copied().collect();
    let slot = |c: HResult| {
        coloured
            .iter()
            .position(|x| x.0 == c)
            .unwrap_or(CHART_CODES)
    };
    let mut hosts: Vec<(&str, usize)> = by_host.into_iter().collect();
    hosts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<&str> = hosts.iter().take(CHART_HOSTS).map(|h| h.0).collect();
    let other_hosts = hosts.len().saturating_sub(CHART_HOSTS);
    let lanes = shown.len() + usize::from(other_hosts > 0);

    // counts[lane][bucket][slot]
    let mut counts = vec![vec![[0usize; CHART_CODES + 1]; n]; lanes];
    for p in points {
        let Some(t) = seconds(&p.time) else { continue };
        let b = (((t - start) / size) as usize).min(n - 1);
        let lane = shown
            .iter()
            .position(|h| *h == host_of(p))
            .unwrap_or(lanes - 1);
        counts[lane][b][slot(p.code)] += 1;
    }
    let peak = counts
        .iter()
        .flat_map(|l| l.iter().map(|b| b.iter().sum::<usize>()))
        .max()
        .unwrap_or(1)
        .max(1);

    let (label_w, total_w, width) = (190.0, 60.0, 1100.0);
    let plot_w = width - label_w - total_w;
    let (lane_h, top, axis_h) = (34.0, 8.0, 30.0);
    let height = top + lanes as f64 * lane_h + axis_h;
    let bw = plot_w / n as f64;
    let gap = if bw > 6.0 { 2.0 } else { 0.5 };
    let fmt = |s: i64| {
        let t = jiff::Timestamp::from_second(s).unwrap_or_default();
        if size >= 86400 {
            t.strftime("%Y-%m-%d").to_string()
        } else {
            t.strftime("%m-%d %H:%M").to_string()
        }
    };
    let zone = if local { " (local time)" } else { " UTC" };
    let step = n.div_ceil(6).max(1);
    let axis_y = top + lanes as f64 * lane_h;

    let lanes: Vec<Lane> = counts
        .iter()
        .enumerate()
        .map(|(lane, row)| {
            let y0 = top + lane as f64 * lane_h;
            let name = match shown.get(lane) {
                Some(h) => h.to_string(),
                None => format!("{other_hosts} other host(s)"),
            };
            let shown_name = if name.chars().count() > 28 {
                format!("{}…", name.chars().take(27).collect::<String>())
            } else {
                name.clone()
            };
            let base = y0 + lane_h - 4.0;
            let scale = (lane_h - 8.0) / peak as f64;
            let mut paths = vec![String::new(); CHART_CODES + 1];
            let mut bars = Vec::new();
            for (b, slots) in row.iter().enumerate() {
                let x = label_w + b as f64 * bw + gap / 2.0;
                let width = (bw - gap).max(0.5);
                let mut y = base;
                let mut parts = Vec::new();
                for (k, &c) in slots.iter().enumerate().filter(|(_, &c)| c > 0) {
                    let height = (c as f64 * scale).max(1.5);
                    y -= height;
                    let _ = write!(
                        paths[k],
                        "M{} {}h{}v{}h-{}z",
                        f1(x),
                        f1(y),
                        f1(width),
                        f1(height),
                        f1(width)
                    );
                    let code = match coloured.get(k) {
                        Some((code, _)) => code.to_string(),
                        None => "other codes".to_string(),
                    };
                    parts.push(format!("{c} × {code}"));
                }
                if !parts.is_empty() {
                    bars.push(Bar {
                        x,
                        y,
                        width,
                        height: base - y,
                        title: format!(
                            "{shown_name}, from {}{zone}: {}",
                            fmt(start + b as i64 * size),
                            parts.join(", ")
                        ),
                    });
                }
            }
            Lane {
                y0,
                total: row.iter().map(|b| b.iter().sum::<usize>()).sum(),
                name,
                shown_name,
                paths,
                bars,
            }
        })
        .collect();
    let ticks: Vec<(f64, &str, String)> = (0..=n)
        .step_by(step)
        .map(|b| {
            let anchor = if b == 0 {
                "start"
            } else if b == n {
                "end"
            } else {
                "middle"
            };
            (
                label_w + b as f64 * bw,
                anchor,
                fmt(start + b as i64 * size),
            )
        })
        .collect();
    let other_codes = codes.len().saturating_sub(CHART_CODES);
    let other_total: usize = codes.iter().skip(CHART_CODES).map(|c| c.1).sum();

    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height) }
            width=(width) height=(height) role="img" aria-label="failures per host over time"
            font-family="system-ui,Segoe UI,Arial,sans-serif" font-size="12" {
            // Zebra lanes and faint grid lines under the bars.
            @for lane in lanes.iter().step_by(2) {
                rect x="0" y=(lane.y0) width=(width) height=(lane_h) fill="#f6f8fb" {}
            }
            @for (x, _, _) in &ticks {
                line x1=(f1(*x)) y1=(top) x2=(f1(*x)) y2=(axis_y) stroke="#dde2ea"
                    stroke-dasharray="3 3" {}
            }
            @for lane in &lanes {
                text x="8" y=(f1(lane.y0 + lane_h / 2.0 + 4.0)) fill="#1d2433" {
                    title { (lane.name) } (lane.shown_name)
                }
                text x=(f1(width - 8.0)) y=(f1(lane.y0 + lane_h / 2.0 + 4.0))
                    text-anchor="end" fill="#5b6577" { (lane.total) }
                @for (k, d) in lane.paths.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
                    path d=(d) fill=(PALETTE.get(k).copied().unwrap_or(OTHER_COLOUR)) {}
                }
                // One transparent hover target per bar, over its pieces.
                @for bar in &lane.bars {
                    rect x=(f1(bar.x)) y=(f1(bar.y)) width=(f1(bar.width))
                        height=(f1(bar.height)) fill="transparent" { title { (bar.title) } }
                }
            }
            // Axis: a line and about six labels on bucket boundaries.
            line x1=(label_w) y1=(axis_y) x2=(f1(label_w + plot_w)) y2=(axis_y)
                stroke="#9aa3b2" {}
            @for (x, anchor, label) in &ticks {
                line x1=(f1(*x)) y1=(axis_y) x2=(f1(*x)) y2=(f1(axis_y + 4.0))
                    stroke="#9aa3b2" {}
                text x=(f1(*x)) y=(f1(axis_y + 18.0)) text-anchor=(anchor) fill="#5b6577" {
                    (label)
                }
            }
        }
        div class="legend" {
            @for (k, (code, total)) in coloured.iter().enumerate() {
                span {
                    span class="sw" style={ "background:" (PALETTE[k]) } {}
                    code { (code) } " " (symbols.get(code).map(String::as_str).unwrap_or(""))
                    " " span class="small" { "(" (total) ")" }
                }
            }
            @if other_codes > 0 {
                span {
                    span class="sw" style={ "background:" (OTHER_COLOUR) } {}
                    (other_codes) " other code(s) " span class="small" { "(" (other_total) ")" }
                }
            }
        }
        p class="note" {
            (points.len()) " failed attempt(s) on " (hosts.len()) " host(s), " (fmt(t0)) " to "
            (fmt(t1)) (zone) "; one bar per " (size_label)
            "; lanes share one scale (tallest bar: " (peak) ")."
        }
    }
}

/// A coordinate with one decimal.
fn f1(x: f64) -> String {
    format!("{x:.1}")
}

fn hosts(r: &Report, shown: &Shown) -> Markup {
    // Hosts with findings first, then by name.
    let mut order: Vec<&HostRow> = r.hosts.iter().collect();
    order.sort_by_key(|h| (h.diagnoses.is_empty(), h.name.as_str()));
    html! {
        section id="hosts" {
            h2 { "Hosts" span class="count" { (r.hosts.len()) } }
            "\n"
            div class="hosts" { @for h in order.iter().take(HOST_CARD_CAP) { (host(h, shown)) } }
            (more(order.len(), HOST_CARD_CAP, "host(s)", "report.json, which lists every host"))
        }
        "\n"
    }
}

fn host(h: &HostRow, shown: &Shown) -> Markup {
    let service = [
        (h.service_start_failures, "start failure(s)"),
        (h.service_crashes, "crash(es)"),
        (h.service_state_changes, "state change(s)"),
        (h.service_start_type_changes, "start type change(s)"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, l)| format!("{n} {l}"))
    .collect::<Vec<_>>()
    .join(", ");
    let rows: Vec<(&str, Markup)> = [
        ("diagnoses", diagnosis_links(&h.diagnoses, shown)),
        ("BITS service", html! { (service) }),
        (
            "WinHTTP proxy",
            html! { (h.winhttp_proxy.as_deref().unwrap_or("")) },
        ),
        ("logs cleared", html! { (h.logs_cleared.join(", ")) }),
    ]
    .into_iter()
    .filter(|(_, v)| !v.0.is_empty())
    .collect();
    html! {
        div class=(if h.diagnoses.is_empty() { "host" } else { "host flag" }) {
            h3 { (h.name) }
            div {
                span class="chip" { (h.jobs) " job(s)" }
                @for (k, n) in &h.outcomes {
                    span class={ "badge b-" (k) } { (n) " " (k.replace('_', " ")) } " "
                }
            }
            table class="kv" { @for (k, v) in &rows { tr { td { (k) } td { (v) } } } }
            @for (label, values) in [("service configuration", &h.config), ("BITS policy", &h.policy)] {
                @if !values.is_empty() {
                    details {
                        summary { (label) " (" (values.len()) " value(s))" }
                        table class="kv" {
                            @for (k, v) in values.iter().take(VALUE_CAP) {
                                tr { td { (k) } td class="mono" { (v) } }
                            }
                        }
                        @if values.len() > VALUE_CAP {
                            span class="small" {
                                "… and " (values.len() - VALUE_CAP) " more: see report.json"
                            }
                        }
                    }
                }
            }
        }
        "\n"
    }
}

/// Error codes with their counts, one per line, the first [`CODE_CAP`] of them.
fn error_counts<'a, N: std::fmt::Display + 'a>(
    errors: impl ExactSizeIterator<Item = (&'a HResult, &'a N)>,
) -> Markup {
    let all = errors.len();
    html! {
        @for (i, (code, n)) in errors.take(CODE_CAP).enumerate() {
            @if i > 0 { br; }
            (code) (PreEscaped("&nbsp;")) "×" (n)
        }
        @if all > CODE_CAP {
            br; span class="small" { "+" (all - CODE_CAP) " more" }
        }
    }
}

fn jobs(r: &Report, shown: &Shown) -> Markup {
    let order = r.jobs_by_concern();
    html! {
        section id="jobs" {
            h2 { "Jobs" span class="count" { (r.jobs.len()) " job(s), failing first, most errors first" } }
            "\n"
            @if r.jobs.is_empty() {
                div class="panel" { "No BITS jobs in the inputs." }
            } @else {
                div class="scroll" { table class="grid" {
                    thead { tr {
                        th { "Outcome" } th { "Host" } th { "Job" } th { "Owner" } th { "Errors" }
                        th { "URLs" } th { "Seen" } th { "Diagnoses" }
                    } }
                    tbody {
                        "\n"
                        @for j in order.iter().take(JOB_TABLE_CAP) { (job(j, shown)) }
                    }
                } }
                (more(r.jobs.len(), JOB_TABLE_CAP, "job(s)",
                    "jobs.csv or report.json, which list every job"))
            }
        }
        "\n"
    }
}

fn job(j: &JobRow, shown: &Shown) -> Markup {
    let outcome = j.outcome.as_str();
    html! {
        tr {
            td {
                span class={ "badge b-" (outcome) } { (outcome.replace('_', " ")) }
                @if let Some(state) = j.state() { div class="small" { (state) } }
            }
            td { (j.host) }
            td { (j.name) div class="small mono" { (j.id.map(|g| g.text()).as_deref().unwrap_or("(no id)")) } }
            td { (j.owner) }
            td class="mono nowrap" { (error_counts(j.errors.iter())) }
            td class="mono url" { (url_cell(&j.urls)) }
            td class="small nowrap" { (seen_cell(&j.first_seen, &j.last_seen)) }
            td { (diagnosis_links(&j.diagnoses, shown)) }
        }
        "\n"
    }
}

/// First and last time on two lines (one when they are the same).
fn seen_cell(first: &When, last: &When) -> Markup {
    let (f, l) = (when(first), when(last));
    html! {
        @if f.is_empty() || l.is_empty() || f == l {
            (if f.is_empty() { &l } else { &f })
        } @else {
            (f) br; (l)
        }
    }
}

fn url_cell<S: AsRef<str>>(urls: &[S]) -> Markup {
    const SHOWN: usize = 3;
    html! {
        @for (i, u) in urls.iter().take(SHOWN).enumerate() { @if i > 0 { br; } (u.as_ref()) }
        @if urls.len() > SHOWN {
            br; span class="small" { "+" (urls.len() - SHOWN) " more" }
        }
    }
}

/// The updates the updates table shows: failed somewhere, or with error codes.
fn update_rows(r: &Report) -> Vec<super::UpdateLine<'_>> {
    super::update_lines(r)
        .into_iter()
        .filter(|l| !l.failed.is_empty() || !l.codes.is_empty())
        .collect()
}

/// A host count and the first hosts, the rest behind "+N more".
fn host_cell(hosts: &BTreeSet<&str>) -> Markup {
    html! {
        @if !hosts.is_empty() {
            b { (hosts.len()) } " "
            (capped_list(hosts.iter().copied(), false, 3, DETAILS_CAP))
        }
    }
}

/// One row per update (all hosts together): where it failed and got through, its codes, the
/// diagnoses that explain it, and how its BITS jobs were linked to it.
fn updates(r: &Report, shown: &Shown) -> Markup {
    let rows = update_rows(r);
    if rows.is_empty() {
        return html! {};
    }
    html! {
        section id="updates" {
            h2 {
                "Updates with errors"
                span class="count" { (rows.len()) " update(s), most failed hosts first" }
            }
            "\n"
            div class="scroll" { table class="grid" {
                thead { tr {
                    th { "Update" } th { "Failed on" } th { "Through on" } th { "Errors" }
                    th { "Diagnoses" } th { "BITS jobs linked by" }
                } }
                tbody {
                    "\n"
                    @for l in rows.iter().take(UPDATE_TABLE_CAP) {
                        tr {
                            td {
                                (l.name)
                                @if let Some(kb) = l.kb {
                                    @if !l.name.contains(kb) { " " span class="chip" { (kb) } }
                                }
                            }
                            td { (host_cell(&l.failed)) }
                            td { (host_cell(&l.succeeded)) }
                            td class="mono nowrap" { (error_counts(l.codes.iter())) }
                            td { (diagnosis_links(&l.diagnoses, shown)) }
                            td class="mono" {
                                @if l.links.is_empty() {
                                    span class="small" { "not linked" }
                                } @else {
                                    @for (i, m) in l.links.iter().enumerate() {
                                        @if i > 0 { br; }
                                        (m.as_str())
                                    }
                                }
                            }
                        }
                        "\n"
                    }
                }
            } }
            (more(rows.len(), UPDATE_TABLE_CAP, "update(s) with errors",
                "updates.csv or report.json, which list every update"))
        }
        "\n"
    }
}

fn inputs(r: &Report) -> Markup {
    // Inputs read completely are counted, not listed (report.json lists every input): on a
    // large bundle their rows were most of the page.
    let ok = r.inputs.iter().filter(|i| i.status == Status::Ok).count();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &r.inputs {
        *kinds.entry(i.kind.as_str()).or_default() += 1;
    }
    let kinds = kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let problems: Vec<_> = r.inputs.iter().filter(|i| i.status != Status::Ok).collect();
    html! {
        section id="inputs" {
            h2 { "Inputs" span class="count" { (r.inputs.len()) } }
            "\n"
            p class="note" {
                (ok) " read completely, " (problems.len()) " not fully read (" (kinds)
                "); every input is listed in report.json."
            }
            "\n"
            @if !problems.is_empty() {
                div class="scroll" { table class="grid" {
                    thead { tr {
                        th { "Status" } th { "Kind" } th { "Path" } th { "Host" }
                        th class="num" { "Observations" } th class="num" { "Records / lines" }
                        th { "Note" }
                    } }
                    tbody {
                        @for i in problems.iter().take(INPUT_ROW_CAP) {
                            @let status = match i.status {
                                Status::Ok => "ok",
                                Status::Partial => "partial",
                                Status::Skipped => "skipped",
                            };
                            tr {
                                td { span class={ "badge b-" (status) } { (status) } }
                                td { (i.kind) }
                                td class="mono" { (i.path) }
                                td { (i.host.replace(';', ", ")) }
                                td class="num" { (i.observations) }
                                td class="num" { (i.records) }
                                td class="small" { (i.reason.as_deref().unwrap_or("")) }
                            }
                            "\n"
                        }
                    }
                } }
                "\n"
                (more(problems.len(), INPUT_ROW_CAP, "input(s) not fully read",
                    "report.json, which lists every input"))
            }
            @if !r.warnings.is_empty() {
                h2 style="margin-top:20px" {
                    "Warnings" span class="count" { (r.warnings.len()) }
                }
                div class="panel" { ul class="warn" {
                    @for w in r.warnings.iter().take(WARNING_CAP) {
                        @let at = match w.at {
                            Some(Locator::Record(n)) => format!(" record {n}"),
                            Some(Locator::Line(n)) => format!(":{n}"),
                            None => String::new(),
                        };
                        li { span class="mono" { (w.path) (at) } ": " (w.message) }
                    }
                } }
                "\n"
                (more(r.warnings.len(), WARNING_CAP, "warning(s)",
                    "report.json, which lists every warning"))
            }
        }
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_made_safe_after_maud_escaped_it() {
        let page = html! { p title=(r#"<a href="x" onclick='y'>&</a>"#) { "<b>&" } };
        assert_eq!(
            page.into_string(),
            r#"<p title="&lt;a href=&quot;x&quot; onclick='y'&gt;&amp;&lt;/a&gt;">&lt;b&gt;&amp;</p>"#
        );
        assert_eq!(
            safe_text("bell\u{7}\r\ttab\n".into()),
            "bell\u{FFFD}\u{FFFD}\ttab\n"
        );
        assert_eq!(safe_text("a\u{202e}b\u{2066}".into()), "a\\u202eb\\u2066");
        assert_eq!(safe_text("Zürich 北京".into()), "Zürich 北京");
    }

    #[test]
    fn fix_steps_quote_commands() {
        let step = |s: &str| super::step(s).into_string();
        assert_eq!(
            step("Run `sc config bits obj= LocalSystem` then <reboot>"),
            "Run <code class=\"cmd\" title=\"click to select\">sc config bits obj= LocalSystem</code> then &lt;reboot&gt;"
        );
        assert_eq!(
            step("`<x>`"),
            "<code class=\"cmd\" title=\"click to select\">&lt;x&gt;</code>"
        );
        assert_eq!(
            step("gpupdate /force (if a policy <did> it)"),
            "<code class=\"cmd\" title=\"click to select\">gpupdate /force</code> (if a policy &lt;did&gt; it)"
        );
        assert_eq!(
            step("Get-BitsTransfer -AllUsers"),
            "<code class=\"cmd\" title=\"click to select\">Get-BitsTransfer -AllUsers</code>"
        );
        assert_eq!(step("Set the proxy"), "Set the proxy");
        assert_eq!(step("Check-in first"), "Check-in first");
    }

    #[test]
    fn diagnosis_links_name_the_rest_and_link_only_cards_on_the_page() {
        let ids: Vec<String> = (1..=13).map(|i| format!("D{i}")).collect();
        let shown: Shown = ["D1", "D3"].into_iter().collect();
        let out = diagnosis_links(&ids, &shown).into_string();
        assert!(out.starts_with("<a href=\"#D1\">D1</a>, D2, <a href=\"#D3\">D3</a>, D4"));
        assert!(
            out.contains(", D10 <span class=\"small\">+3 more</span>"),
            "{out}"
        );
        assert!(!out.contains("D11"));
        assert_eq!(
            diagnosis_links(&ids[..2], &shown)
                .into_string()
                .matches(", ")
                .count(),
            1
        );
    }

    #[test]
    fn lists_are_capped_with_a_pointer_to_the_files() {
        let items: Vec<String> = (0..60).map(|i| format!("h{i}")).collect();
        let out =
            capped_list(items.iter().map(String::as_str), false, 8, DETAILS_CAP).into_string();
        assert_eq!(
            out.matches("<span class=\"chip\">").count(),
            8 + DETAILS_CAP
        );
        assert!(out.contains("<summary>+52 more</summary>"), "{out}");
        let beyond = 60 - 8 - DETAILS_CAP;
        assert!(
            out.contains(&format!(" +{beyond} more (see the JSON or CSV report)")),
            "{out}"
        );
        assert_eq!(capped_list([], true, 3, DETAILS_CAP).into_string(), "");
    }
}
