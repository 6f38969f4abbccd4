//! `bitsdoctor probe URL... [--proxy URL]` and `bitsdoctor probe --from report.json`.
//! Exit codes: 0 every check passed, 1 a check found what would make BITS fail, 2 usage error
//! (a URL that is not http(s), a report that cannot be read).

use crate::cli::ProbeTarget;
use crate::Format;
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::probe::{self, from_report, Probe};
use std::fmt::Write;
use std::time::Duration;

pub fn run(kb: &Knowledge, target: ProbeTarget, timeout: Duration, format: Format) -> (String, u8) {
    match target {
        ProbeTarget::Urls { urls, proxy } => urls_run(kb, &urls, proxy.as_deref(), timeout, format),
        ProbeTarget::Report(path) => match from_report::confirm(&path, timeout, kb) {
            Err(e) => {
                eprintln!("bitsdoctor: {e}");
                (String::new(), 2)
            }
            Ok(r) => {
                let failed = r.probes.iter().any(|p| !p.verdict.ok);
                let out = match format {
                    Format::Json => json(&r),
                    _ => from_text(&r),
                };
                (out, u8::from(failed))
            }
        },
    }
}

fn urls_run(
    kb: &Knowledge,
    urls: &[String],
    proxy: Option<&str>,
    timeout: Duration,
    format: Format,
) -> (String, u8) {
    let mut status = 0;
    let mut probes = Vec::new();
    for u in urls {
        let lower = u.trim().to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            eprintln!(
                "bitsdoctor: `{}` is not an http:// or https:// URL; BITS's SMB transfers are not probed",
                term(u)
            );
            status = 2;
            continue;
        }
        probes.push(probe::probe(u.trim(), proxy, timeout, kb));
    }
    if status == 0 && probes.iter().any(|p| !p.verdict.ok) {
        status = 1;
    }
    #[derive(serde::Serialize)]
    struct Out<'a> {
        schema: &'static str,
        probes: &'a [Probe],
    }
    let out = match format {
        Format::Json => json(&Out {
            schema: probe::SCHEMA,
            probes: &probes,
        }),
        _ => probes.iter().map(probe_text).collect::<Vec<_>>().join("\n"),
    };
    (out, status)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// A value from the network or a report, made safe for a terminal (see
/// `bitsdoctor::term::escape`, the one place this is done).
fn term(s: &str) -> String {
    bitsdoctor::term::escape(s).into_owned()
}

/// One probe as the terminal shows it.
fn probe_text(p: &Probe) -> String {
    let mut o = String::new();
    let via = match &p.proxy {
        Some(x) => format!("through proxy {}", term(x)),
        None => "direct".to_string(),
    };
    let _ = writeln!(o, "{}  ({via})", term(&p.url));
    let v = &p.verdict;
    match v.code {
        None => {
            let _ = writeln!(o, "  OK    {}", term(&v.summary));
        }
        Some(code) => {
            let _ = writeln!(
                o,
                "  FAIL  {code} {}: {}",
                v.symbol.as_deref().unwrap_or("(unknown code)"),
                term(&v.summary)
            );
            if !v.meaning.is_empty() {
                let _ = writeln!(o, "  meaning: {}", v.meaning);
            }
            for (i, step) in v.fix.iter().enumerate() {
                let lead = if i == 0 { "  fix:     " } else { "           " };
                let _ = writeln!(o, "{lead}{}. {step}", i + 1);
            }
        }
    }
    for s in &p.steps {
        let answer = match &s.answer {
            Some(a) => {
                let mut t = format!("{} {}", a.status, term(&a.version));
                for (name, val) in [
                    ("Content-Length", &a.content_length),
                    ("Content-Range", &a.content_range),
                    ("Content-Encoding", &a.content_encoding),
                    ("Location", &a.location),
                ] {
                    if let Some(val) = val {
                        let _ = write!(t, ", {name}: {}", term(val));
                    }
                }
                t
            }
            None => format!("no answer: {}", term(s.error.as_deref().unwrap_or(""))),
        };
        let range = s
            .range
            .as_deref()
            .map(|r| format!(" Range {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "    {} {:<4} {}{range} -> {answer}",
            if s.ok { "ok  " } else { "FAIL" },
            s.method,
            term(&s.url)
        );
    }
    o
}

/// `probe --from` as the terminal shows it: each diagnosis and what the live check says, then
/// every probe in detail.
fn from_text(r: &from_report::FromReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "bitsdoctor probe: {} diagnosis(es) of {} checked live, from this machine (a name, \
         route or proxy only the clients use is not tested from here)",
        r.diagnoses.len(),
        term(&r.report)
    );
    for c in &r.diagnoses {
        let _ = writeln!(
            o,
            "\n{} {} {}: {}",
            term(&c.diagnosis),
            c.code,
            term(c.symbol.as_deref().unwrap_or("")),
            c.outcome.as_str().to_uppercase()
        );
        let _ = writeln!(o, "  {}", term(&c.title));
        let _ = writeln!(o, "  {}", term(&c.reading));
        for k in &c.checks {
            let via = match &k.proxy {
                Some(p) => format!("via {}", term(p)),
                None => "direct".into(),
            };
            let result = match k.code {
                None => "ok".to_string(),
                Some(code) => format!("{code} {}", k.symbol.as_deref().unwrap_or("")),
            };
            let _ = writeln!(o, "    {via:<28} {} -> {result}", term(&k.url));
        }
    }
    for n in &r.not_checked {
        let _ = writeln!(o, "\nnot checked: {}", term(n));
    }
    if !r.probes.is_empty() {
        let _ = writeln!(o, "\nprobes:");
        for p in &r.probes {
            let _ = writeln!(o, "{}", probe_text(p));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn terminal_values_are_escaped() {
        assert_eq!(super::term("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(super::term("x\u{202e}y\u{9b}"), "x\\u202ey\\u009b");
        assert_eq!(super::term("http://h/ä"), "http://h/ä");
    }
}
