//! The HTML report: one self-contained file (inline CSS and SVG; no scripts, fonts, images or
//! network) that a support engineer can open from a customer case or attach to a ticket.
//!
//! Sections: summary, failures over time (inline SVG: one lane per host, bars stacked by error
//! code), root causes (each with its fix steps, commands ready to copy), hosts, jobs, updates
//! with errors, inputs and warnings. Every value that comes from the inputs (host names, job names,
//! owners, URLs, paths, titles ...) goes through [`escape`], in text and in attributes alike.
//! The output is deterministic: no clock, no randomness, only the report.

use super::{FailurePoint, HostRow, JobRow, Report, Status};
use crate::correlate::Outcome;
use crate::diagnose::Diagnosis;
use crate::model::{HResult, Locator, When};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Jobs listed in the job table at most (the rest are counted; jobs.csv has them all).
pub const JOB_TABLE_CAP: usize = 200;
/// Items a diagnosis lists (jobs, evidence ...) before "+N more".
const LIST_CAP: usize = 8;
/// Items a diagnosis lists inside its "+N more" box at most.
const DETAILS_CAP: usize = 40;

/// How many host cards the page shows (hosts with findings first); report.json has every host.
const HOST_CARD_CAP: usize = 100;
/// Host lanes in the timeline before the rest are merged into one.
const CHART_HOSTS: usize = 14;
/// Codes with their own colour in the timeline; the rest are "other".
const CHART_CODES: usize = 8;
/// Buckets on the timeline's x axis at most.
const CHART_BUCKETS: i64 = 60;

/// Escape text for HTML element content and for quoted attribute values; bidi controls and
/// invisible format characters are shown as `\u202e` and the like.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in HTML text.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            // A bidi override would reverse what the reader sees: shown as its escape.
            c if crate::term::is_bidi_or_invisible(c) => {
                out.push_str(&crate::term::escape_bidi(c.encode_utf8(&mut [0; 4])))
            }
            c => out.push(c),
        }
    }
    out
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
    let mut o = String::with_capacity(64 * 1024 + r.jobs.len() * 600);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No network: scripts, styles, images and fonts may only come from this document.
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    let _ = write!(
        o,
        "<title>bitsdoctor: {} ({} host(s), {} diagnosis(es))</title>\n<style>",
        escape(&bundle_name(r)),
        r.summary.hosts,
        r.diagnoses.len()
    );
    o.push_str(CSS);
    o.push_str("</style>\n</head>\n<body>\n");
    header(&mut o, r);
    o.push_str("<main class=\"wrap\">\n");
    summary(&mut o, r);
    timeline(&mut o, r);
    causes(&mut o, r);
    hosts(&mut o, r);
    jobs(&mut o, r);
    updates(&mut o, r);
    inputs(&mut o, r);
    o.push_str("</main>\n<footer class=\"wrap\">");
    let _ = write!(
        o,
        "Generated by bitsdoctor {} · report schema {}",
        escape(env!("CARGO_PKG_VERSION")),
        escape(r.schema)
    );
    o.push_str("</footer>\n</body>\n</html>\n");
    o
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

fn header(o: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = write!(
        o,
        "<header class=\"top\"><div class=\"wrap\"><div class=\"brand\">bitsdoctor</div>\
         <h1>BITS / Windows Update download diagnosis</h1>\
         <p class=\"sub\">{} input(s) · {} host(s) · {} job(s) · {} diagnosis(es)</p><nav>",
        s.inputs,
        s.hosts,
        s.jobs,
        r.diagnoses.len()
    );
    let mut links = vec![
        ("summary", "Summary"),
        ("timeline", "Timeline"),
        ("causes", "Root causes"),
        ("hosts", "Hosts"),
        ("jobs", "Jobs"),
    ];
    if r.updates.iter().any(update_failed) {
        links.push(("updates", "Updates"));
    }
    links.push(("inputs", "Inputs"));
    for (id, label) in links {
        let _ = write!(o, "<a href=\"#{id}\">{label}</a>");
    }
    o.push_str("</nav></div></header>\n");
}

fn count(m: &BTreeMap<&'static str, usize>, k: &str) -> usize {
    m.get(k).copied().unwrap_or(0)
}

fn summary(o: &mut String, r: &Report) {
    let s = &r.summary;
    o.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n");
    // Diagnoses by severity.
    let mut sev = String::new();
    for k in ["critical", "error", "warning", "info"] {
        let n = count(&s.diagnoses, k);
        if n > 0 {
            let _ = write!(sev, "<span class=\"badge b-{k}\">{n} {k}</span> ");
        }
    }
    if sev.is_empty() {
        sev.push_str("no problems found");
    }
    stat(o, r.diagnoses.len(), "Diagnoses", &sev);
    let failing = count(&s.outcomes, "failing");
    let mut jobs = String::new();
    for k in [
        "failing",
        "recovered",
        "in_progress",
        "cancelled",
        "succeeded",
    ] {
        let n = count(&s.outcomes, k);
        if n > 0 {
            let _ = write!(jobs, "{n} {} · ", k.replace('_', " "));
        }
    }
    let jobs = jobs.trim_end_matches(" · ").to_string();
    stat(o, s.jobs, "BITS jobs", &jobs);
    stat(o, failing, "Jobs failing", "errors and no later success");
    let affected = r.hosts.iter().filter(|h| !h.diagnoses.is_empty()).count();
    stat(o, s.hosts, "Hosts", &format!("{affected} with a diagnosis"));
    let by_status = |st: Status| r.inputs.iter().filter(|i| i.status == st).count();
    stat(
        o,
        s.inputs,
        "Inputs",
        &format!(
            "{} read · {} partial · {} skipped",
            by_status(Status::Ok),
            by_status(Status::Partial),
            by_status(Status::Skipped)
        ),
    );
    stat(o, s.warnings, "Warnings", "inputs or lines not fully read");
    o.push_str("</div></section>\n");
}

/// A summary card. `detail` is trusted markup built here (numbers and fixed words only).
fn stat(o: &mut String, n: usize, label: &str, detail: &str) {
    let _ = writeln!(
        o,
        "<div class=\"stat\"><div class=\"l\">{}</div><div class=\"n\">{n}</div><div class=\"d\">{detail}</div></div>",
        escape(label)
    );
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

/// Fix steps quote commands in backticks: those become `<code class="cmd">` (click selects the
/// whole command). A step that is a bare command (`sc start bits`, maybe followed by a
/// parenthesised remark) is one command.
fn step(s: &str) -> String {
    if !s.contains('`') && is_command(s) {
        let (cmd, rest) = match s.find(" (") {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        return format!(
            "<code class=\"cmd\" title=\"click to select\">{}</code>{}",
            escape(cmd),
            escape(rest)
        );
    }
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 && !part.is_empty() {
            let _ = write!(
                out,
                "<code class=\"cmd\" title=\"click to select\">{}</code>",
                escape(part)
            );
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// The first `shown` items, the rest behind a "+N more" box.
fn capped_list<'a>(items: impl IntoIterator<Item = &'a str>, mono: bool, shown: usize) -> String {
    let all: Vec<&str> = items.into_iter().collect();
    let item = |s: &str| {
        if mono {
            format!("<span class=\"chip mono\">{}</span>", escape(s))
        } else {
            format!("<span class=\"chip\">{}</span>", escape(s))
        }
    };
    let mut out: String = all.iter().take(shown).map(|s| item(s)).collect();
    if all.len() > shown {
        let rest = &all[shown..];
        let _ = write!(out, "<details><summary>+{} more</summary>", rest.len());
        for s in rest.iter().take(DETAILS_CAP) {
            out.push_str(&item(s));
        }
        if rest.len() > DETAILS_CAP {
            let _ = write!(
                out,
                "<span class=\"small\"> +{} more (see the JSON or CSV report)</span>",
                rest.len() - DETAILS_CAP
            );
        }
        out.push_str("</details>");
    }
    out
}

fn causes(o: &mut String, r: &Report) {
    let _ = writeln!(
        o,
        "<section id=\"causes\"><h2>Root causes<span class=\"count\">{} diagnosis(es), most important first</span></h2>",
        r.diagnoses.len()
    );
    if r.diagnoses.is_empty() {
        o.push_str("<div class=\"panel\">No problems found in the inputs.</div>");
    }
    for d in &r.diagnoses {
        diagnosis(o, d);
    }
    o.push_str("</section>\n");
}

fn diagnosis(o: &mut String, d: &Diagnosis) {
    let sev = d.severity.as_str();
    let _ = write!(
        o,
        "<article class=\"dx s-{sev}\" id=\"{}\"><div class=\"meta\"><span class=\"badge b-{sev}\">{}</span> <b>{}</b> · {} · {} · rule <span class=\"mono\">{}</span></div>",
        escape(&d.id),
        sev.to_uppercase(),
        escape(&d.id),
        scope_str(d),
        category_str(d),
        escape(d.rule),
    );
    let _ = write!(o, "<h3>{}</h3>", escape(&d.title));
    if let Some(code) = d.code {
        let _ = write!(o, "<div class=\"code\"><code>{code}</code>");
        if let Some(sym) = &d.symbol {
            let _ = write!(o, " <span class=\"mono\">{}</span>", escape(sym));
        }
        o.push_str("</div>");
    }
    if !d.cause.is_empty() {
        let _ = write!(o, "<p>{}</p>", escape(&d.cause));
    }
    if !d.fix.is_empty() {
        o.push_str("<div class=\"fix\"><h4>Fix</h4><ol>");
        for s in &d.fix {
            let _ = write!(o, "<li>{}</li>", step(s));
        }
        o.push_str("</ol></div>");
    }
    o.push_str("<dl class=\"facts\">");
    let mut fact = |label: &str, html: String| {
        if !html.is_empty() {
            let _ = write!(o, "<dt>{label}</dt><dd>{html}</dd>");
        }
    };
    fact("Proof", step(&d.proof));
    fact("Next check", step(&d.next_check));
    fact(
        "Hosts",
        capped_list(d.hosts.iter().map(|s| s.as_str()), false, LIST_CAP),
    );
    if !d.jobs.is_empty() {
        fact(
            "Jobs",
            format!(
                "{} job(s) {}",
                d.jobs.len(),
                capped_list(d.jobs.iter().map(|s| s.as_str()), true, 4)
            ),
        );
    }
    fact(
        "Servers",
        capped_list(d.servers.iter().map(|s| s.as_str()), true, LIST_CAP),
    );
    fact(
        "Proxies",
        capped_list(d.proxies.iter().map(|s| s.as_str()), true, LIST_CAP),
    );
    let when = seen(&d.first_seen, &d.last_seen);
    fact(
        "Seen",
        if when.is_empty() {
            format!("{} time(s)", d.occurrences)
        } else {
            format!("{} time(s), {}", d.occurrences, escape(&when))
        },
    );
    let ev: Vec<String> = d
        .evidence
        .iter()
        .map(|e| match e.at {
            Locator::Record(n) => format!("{} record {n}", e.path),
            Locator::Line(n) => format!("{}:{n}", e.path),
        })
        .collect();
    fact(
        "Evidence",
        capped_list(ev.iter().map(|s| s.as_str()), true, 3),
    );
    if let Some(by) = &d.explained_by {
        fact(
            "Explained by",
            format!("<a href=\"#{0}\">{0}</a>", escape(by)),
        );
    }
    if !d.explains.is_empty() {
        fact(
            "Explains",
            d.explains
                .iter()
                .map(|id| format!("<a href=\"#{0}\">{0}</a>", escape(id)))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    o.push_str("</dl></article>\n");
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
        crate::diagnose::Category::Failure => "failure",
        crate::diagnose::Category::Config => "config",
        crate::diagnose::Category::Security => "security",
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

fn timeline(o: &mut String, r: &Report) {
    o.push_str("<section id=\"timeline\"><h2>Failures over time</h2><div class=\"panel chart\">");
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
    if points.is_empty() {
        o.push_str(if r.failures.is_empty() {
            "<p class=\"note\">No failed transfers in the inputs.</p>"
        } else {
            "<p class=\"note\">The failures in the inputs carry no time: nothing to chart.</p>"
        });
        o.push_str("</div></section>\n");
        return;
    }
    let _ = write!(o, "{}", chart(&points, local, &code_symbols(r)));
    let left_out = r.failures.len() - points.len();
    if left_out > 0 {
        let _ = write!(
            o,
            "<p class=\"note\">{left_out} failure(s) with {} times are not charted.</p>",
            if local { "unknown" } else { "local or unknown" }
        );
    }
    o.push_str("</div></section>\n");
}

/// Symbols for the codes the diagnoses name.
fn code_symbols(r: &Report) -> BTreeMap<HResult, String> {
    r.diagnoses
        .iter()
        .filter_map(|d| Some((d.code?, d.symbol.clone()?)))
        .collect()
}

/// One lane per host, bars stacked by code. `points` is not empty.
fn chart(points: &[&FailurePoint], local: bool, symbols: &BTreeMap<HResult, String>) -> String {
    let secs: Vec<i64> = points.iter().filter_map(|p| seconds(&p.time)).collect();
    let (Some(&t0), Some(&t1)) = (secs.iter().min(), secs.iter().max()) else {
        return String::new();
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
        *by_host.entry(p.host.as_str()).or_default() += 1;
    }
    let mut codes: Vec<(HResult, usize)> = by_code.into_iter().collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let coloured: Vec<HResult> = codes.iter().take(CHART_CODES).map(|c| c.0).collect();
    let slot = |c: HResult| coloured.iter().position(|x| *x == c).unwrap_or(CHART_CODES);
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
        let lane = shown.iter().position(|h| *h == p.host).unwrap_or(lanes - 1);
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

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"failures per host over time\" font-family=\"system-ui,Segoe UI,Arial,sans-serif\" font-size=\"12\">"
    );
    // Zebra lanes and faint grid lines under the bars.
    let axis_y = top + lanes as f64 * lane_h;
    for lane in (0..lanes).step_by(2) {
        let y0 = top + lane as f64 * lane_h;
        let _ = write!(
            s,
            "<rect x=\"0\" y=\"{y0}\" width=\"{width}\" height=\"{lane_h}\" fill=\"#f6f8fb\"/>"
        );
    }
    for b in (0..=n).step_by(step) {
        let x = label_w + b as f64 * bw;
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{axis_y}\" stroke=\"#dde2ea\" stroke-dasharray=\"3 3\"/>"
        );
    }
    for (lane, row) in counts.iter().enumerate() {
        let y0 = top + lane as f64 * lane_h;
        let name = match shown.get(lane) {
            Some(h) => h.to_string(),
            None => format!("{other_hosts} other host(s)"),
        };
        let total: usize = row.iter().map(|b| b.iter().sum::<usize>()).sum();
        let shown_name = if name.chars().count() > 28 {
            format!("{}…", name.chars().take(27).collect::<String>())
        } else {
            name.clone()
        };
        let _ = write!(
            s,
            "<text x=\"8\" y=\"{:.1}\" fill=\"#1d2433\"><title>{}</title>{}</text>",
            y0 + lane_h / 2.0 + 4.0,
            escape(&name),
            escape(&shown_name)
        );
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#5b6577\">{total}</text>",
            width - 8.0,
            y0 + lane_h / 2.0 + 4.0
        );
        let base = y0 + lane_h - 4.0;
        let scale = (lane_h - 8.0) / peak as f64;
        for (b, slots) in row.iter().enumerate() {
            let x = label_w + b as f64 * bw + gap / 2.0;
            let mut y = base;
            for (k, &c) in slots.iter().enumerate() {
                if c == 0 {
                    continue;
                }
                let h = (c as f64 * scale).max(1.5);
                y -= h;
                let code = if k < coloured.len() {
                    coloured[k].to_string()
                } else {
                    "other codes".to_string()
                };
                let colour = PALETTE.get(k).copied().unwrap_or(OTHER_COLOUR);
                let from = start + b as i64 * size;
                let _ = write!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{}: {c} × {} from {}{zone}</title></rect>",
                    (bw - gap).max(0.5),
                    escape(&name),
                    escape(&code),
                    escape(&fmt(from)),
                );
            }
        }
    }
    // Axis: a line and about six labels on bucket boundaries.
    let _ = write!(
        s,
        "<line x1=\"{label_w}\" y1=\"{axis_y}\" x2=\"{:.1}\" y2=\"{axis_y}\" stroke=\"#9aa3b2\"/>",
        label_w + plot_w
    );
    for b in (0..=n).step_by(step) {
        let x = label_w + b as f64 * bw;
        let anchor = if b == 0 {
            "start"
        } else if b == n {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#9aa3b2\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"#5b6577\">{}</text>",
            axis_y + 4.0,
            axis_y + 18.0,
            escape(&fmt(start + b as i64 * size))
        );
    }
    s.push_str("</svg>");

    let mut legend = String::from("<div class=\"legend\">");
    for (k, code) in coloured.iter().enumerate() {
        let total = codes
            .iter()
            .find(|c| c.0 == *code)
            .map(|c| c.1)
            .unwrap_or(0);
        let _ = write!(
            legend,
            "<span><span class=\"sw\" style=\"background:{}\"></span><code>{code}</code> {} <span class=\"small\">({total})</span></span>",
            PALETTE[k],
            symbols.get(code).map(|s| escape(s)).unwrap_or_default()
        );
    }
    if codes.len() > CHART_CODES {
        let rest: usize = codes.iter().skip(CHART_CODES).map(|c| c.1).sum();
        let _ = write!(
            legend,
            "<span><span class=\"sw\" style=\"background:{OTHER_COLOUR}\"></span>{} other code(s) <span class=\"small\">({rest})</span></span>",
            codes.len() - CHART_CODES
        );
    }
    legend.push_str("</div>");
    let _ = write!(
        s,
        "{legend}<p class=\"note\">{} failed attempt(s) on {} host(s), {} to {}{zone}; one bar per {size_label}; lanes share one scale (tallest bar: {peak}).</p>",
        points.len(),
        hosts.len(),
        escape(&fmt(t0)),
        escape(&fmt(t1)),
    );
    s
}

fn hosts(o: &mut String, r: &Report) {
    let _ = writeln!(
        o,
        "<section id=\"hosts\"><h2>Hosts<span class=\"count\">{}</span></h2><div class=\"hosts\">",
        r.hosts.len()
    );
    // Hosts with findings first, then by name.
    let mut order: Vec<&HostRow> = r.hosts.iter().collect();
    order.sort_by_key(|h| (h.diagnoses.is_empty(), h.name.as_str()));
    for h in order.iter().take(HOST_CARD_CAP) {
        host(o, h);
    }
    o.push_str("</div>");
    if order.len() > HOST_CARD_CAP {
        let _ = write!(
            o,
            "<p class=\"note\">{} more host(s) not shown here: report.json lists every host.</p>",
            order.len() - HOST_CARD_CAP
        );
    }
    o.push_str("</section>\n");
}

fn host(o: &mut String, h: &HostRow) {
    let flag = if h.diagnoses.is_empty() { "" } else { " flag" };
    let _ = write!(
        o,
        "<div class=\"host{flag}\"><h3>{}</h3><div>",
        escape(&h.name)
    );
    let _ = write!(o, "<span class=\"chip\">{} job(s)</span>", h.jobs);
    for (k, n) in &h.outcomes {
        let _ = write!(
            o,
            "<span class=\"badge b-{0}\">{n} {1}</span> ",
            escape(k),
            escape(&k.replace('_', " "))
        );
    }
    o.push_str("</div><table class=\"kv\">");
    let mut kv = |k: &str, v: String| {
        if !v.is_empty() {
            let _ = write!(o, "<tr><td>{}</td><td>{v}</td></tr>", escape(k));
        }
    };
    if !h.diagnoses.is_empty() {
        kv(
            "diagnoses",
            h.diagnoses
                .iter()
                .map(|id| format!("<a href=\"#{0}\">{0}</a>", escape(id)))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
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
    kv("BITS service", service);
    kv(
        "WinHTTP proxy",
        h.winhttp_proxy.as_deref().map(escape).unwrap_or_default(),
    );
    kv(
        "logs cleared",
        h.logs_cleared
            .iter()
            .map(|l| escape(l))
            .collect::<Vec<_>>()
            .join(", "),
    );
    o.push_str("</table>");
    for (label, values) in [
        ("service configuration", &h.config),
        ("BITS policy", &h.policy),
    ] {
        if values.is_empty() {
            continue;
        }
        let _ = write!(
            o,
            "<details><summary>{label} ({} value(s))</summary><table class=\"kv\">",
            values.len()
        );
        for (k, v) in values {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"mono\">{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        o.push_str("</table></details>");
    }
    o.push_str("</div>\n");
}

fn outcome_rank(o: Outcome) -> u8 {
    match o {
        Outcome::Failing => 0,
        Outcome::Recovered => 1,
        Outcome::InProgress => 2,
        Outcome::Cancelled => 3,
        Outcome::Succeeded => 4,
    }
}

fn jobs(o: &mut String, r: &Report) {
    let _ = writeln!(
        o,
        "<section id=\"jobs\"><h2>Jobs<span class=\"count\">{} job(s), failing first</span></h2>",
        r.jobs.len()
    );
    if r.jobs.is_empty() {
        o.push_str("<div class=\"panel\">No BITS jobs in the inputs.</div></section>\n");
        return;
    }
    let mut order: Vec<&JobRow> = r.jobs.iter().collect();
    order.sort_by_key(|j| outcome_rank(j.outcome));
    o.push_str("<div class=\"scroll\"><table class=\"grid\"><thead><tr><th>Outcome</th><th>Host</th><th>Job</th><th>Owner</th><th>Errors</th><th>URLs</th><th>Seen</th><th>Diagnoses</th></tr></thead><tbody>\n");
    for j in order.iter().take(JOB_TABLE_CAP) {
        let outcome = j.outcome.as_str();
        let _ = writeln!(
            o,
            "<tr><td><span class=\"badge b-{outcome}\">{}</span>{}</td><td>{}</td><td>{}<div class=\"small mono\">{}</div></td><td>{}</td><td class=\"mono nowrap\">{}</td><td class=\"mono url\">{}</td><td class=\"small nowrap\">{}</td><td>{}</td></tr>",
            outcome.replace('_', " "),
            j.state
                .as_ref()
                .map(|s| format!("<div class=\"small\">{}</div>", escape(s)))
                .unwrap_or_default(),
            escape(&j.host),
            escape(&j.name),
            escape(j.id.as_deref().unwrap_or("(no id)")),
            escape(&j.owner),
            j.errors
                .iter()
                .map(|(c, n)| format!("{c}&nbsp;×{n}"))
                .collect::<Vec<_>>()
                .join("<br>"),
            url_cell(&j.urls),
            seen_cell(&j.first_seen, &j.last_seen),
            j.diagnoses
                .iter()
                .map(|id| format!("<a href=\"#{0}\">{0}</a>", escape(id)))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    o.push_str("</tbody></table></div>");
    if r.jobs.len() > JOB_TABLE_CAP {
        let _ = write!(
            o,
            "<p class=\"note\">{} more job(s) not listed here: jobs.csv and the JSON report list every job.</p>",
            r.jobs.len() - JOB_TABLE_CAP
        );
    }
    o.push_str("</section>\n");
}

/// First and last time on two lines (one when they are the same).
fn seen_cell(first: &When, last: &When) -> String {
    let (f, l) = (when(first), when(last));
    if f.is_empty() || l.is_empty() || f == l {
        escape(if f.is_empty() { &l } else { &f })
    } else {
        format!("{}<br>{}", escape(&f), escape(&l))
    }
}

fn url_cell(urls: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut out = urls
        .iter()
        .take(SHOWN)
        .map(|u| escape(u))
        .collect::<Vec<_>>()
        .join("<br>");
    if urls.len() > SHOWN {
        let _ = write!(
            out,
            "<br><span class=\"small\">+{} more</span>",
            urls.len() - SHOWN
        );
    }
    out
}

fn update_failed(u: &crate::correlate::Update) -> bool {
    use crate::model::UpdateStage as S;
    matches!(
        u.outcome,
        S::DownloadFailed | S::InstallFailed | S::ScanFailed
    ) || !u.errors.is_empty()
}

fn updates(o: &mut String, r: &Report) {
    let failed: Vec<_> = r.updates.iter().filter(|u| update_failed(u)).collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "<section id=\"updates\"><h2>Updates with errors<span class=\"count\">{} of {} update(s)</span></h2>\n<table class=\"grid\"><thead><tr><th>Host</th><th>Update</th><th>Outcome</th><th>Errors</th><th>Seen</th><th>Diagnoses</th></tr></thead><tbody>",
        failed.len(),
        r.updates.len()
    );
    for u in failed {
        let stage = serde_json::to_value(u.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"small nowrap\">{}</td><td>{}</td></tr>",
            escape(&u.host),
            escape(&u.title),
            u.kb.as_ref()
                .map(|kb| format!(" <span class=\"chip\">{}</span>", escape(kb)))
                .unwrap_or_default(),
            escape(&stage.replace('_', " ")),
            u.errors
                .iter()
                .map(|(c, n)| format!("{c}&nbsp;×{n}"))
                .collect::<Vec<_>>()
                .join("<br>"),
            seen_cell(&u.first_seen, &u.last_seen),
            u.diagnoses
                .iter()
                .map(|id| format!("<a href=\"#{0}\">{0}</a>", escape(id)))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    o.push_str("</tbody></table></section>\n");
}

fn inputs(o: &mut String, r: &Report) {
    // Inputs read completely are counted, not listed (report.json lists every input): on a
    // large bundle their rows were most of the page.
    let ok = r.inputs.iter().filter(|i| i.status == Status::Ok).count();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &r.inputs {
        *kinds.entry(i.kind.as_str()).or_default() += 1;
    }
    let kinds = kinds
        .iter()
        .map(|(k, n)| format!("{n} {}", escape(k)))
        .collect::<Vec<_>>()
        .join(", ");
    let problems: Vec<_> = r.inputs.iter().filter(|i| i.status != Status::Ok).collect();
    let _ = writeln!(
        o,
        "<section id=\"inputs\"><h2>Inputs<span class=\"count\">{}</span></h2>\n<p class=\"note\">{ok} read completely, {} not fully read ({kinds}); every input is listed in report.json.</p>",
        r.inputs.len(),
        problems.len()
    );
    if !problems.is_empty() {
        o.push_str("<div class=\"scroll\"><table class=\"grid\"><thead><tr><th>Status</th><th>Kind</th><th>Path</th><th>Host</th><th class=\"num\">Observations</th><th class=\"num\">Records / lines</th><th>Note</th></tr></thead><tbody>");
    }
    for i in problems {
        let status = match i.status {
            Status::Ok => "ok",
            Status::Partial => "partial",
            Status::Skipped => "skipped",
        };
        let _ = writeln!(
            o,
            "<tr><td><span class=\"badge b-{status}\">{status}</span></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"small\">{}</td></tr>",
            escape(&i.kind),
            escape(&i.path),
            escape(&i.host.replace(';', ", ")),
            i.observations,
            i.records,
            escape(i.reason.as_deref().unwrap_or("")),
        );
    }
    if r.inputs.iter().any(|i| i.status != Status::Ok) {
        o.push_str("</tbody></table></div>\n");
    }
    if !r.warnings.is_empty() {
        let _ = write!(
            o,
            "<h2 style=\"margin-top:20px\">Warnings<span class=\"count\">{}</span></h2><div class=\"panel\"><ul class=\"warn\">",
            r.warnings.len()
        );
        for w in &r.warnings {
            let at = match w.at {
                Some(Locator::Record(n)) => format!(" record {n}"),
                Some(Locator::Line(n)) => format!(":{n}"),
                None => String::new(),
            };
            let _ = write!(
                o,
                "<li><span class=\"mono\">{}</span>: {}</li>",
                escape(&format!("{}{at}", w.path)),
                escape(&w.message)
            );
        }
        o.push_str("</ul></div>\n");
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("bell\u{7}"), "bell\u{FFFD}");
        assert_eq!(escape("a\u{202e}b\u{2066}"), "a\\u202eb\\u2066");
    }

    #[test]
    fn fix_steps_quote_commands() {
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
}
