//! `bitsdoctor explain CODE...`

use crate::Format;
use bitsdoctor::knowledge::{Explanation, Knowledge};
use bitsdoctor::term::escape as t;
use std::fmt::Write;

/// Explain each code. Input that is not a code is reported on stderr and makes the exit
/// code 2; the codes that did resolve are still explained.
pub fn run(kb: &Knowledge, codes: &[String], format: Format) -> (String, u8) {
    let mut found = Vec::new();
    let mut status = 0;
    for c in codes {
        match kb.resolve(c) {
            Ok(code) => found.push(kb.explain(code)),
            Err(e) => {
                // The message quotes the argument: it reaches the terminal escaped.
                eprintln!("bitsdoctor: {}", t(&e.to_string()));
                status = 2;
            }
        }
    }
    let out = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&found).unwrap_or_default();
            s.push('\n');
            s
        }
        _ => found.iter().map(text).collect::<Vec<_>>().join("\n"),
    };
    (out, status)
}

/// One explanation as the terminal shows it.
pub fn text(e: &Explanation) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}  {}{}",
        e.code,
        t(e.symbol.as_deref().unwrap_or("(unknown code)")),
        e.family.map(|f| format!("  [{f}]")).unwrap_or_default()
    );
    // Texts can come from a --knowledge file: escaped like any input.
    let _ = writeln!(o, "  meaning:   {}", t(&e.meaning));
    let _ = writeln!(o, "  transient: {}", e.transient.as_str());
    if !e.cause.is_empty() {
        let _ = writeln!(o, "  cause:     {}", t(&e.cause));
    }
    for (i, step) in e.fix.iter().enumerate() {
        let lead = if i == 0 {
            "  fix:       "
        } else {
            "             "
        };
        let _ = writeln!(o, "{lead}{}. {}", i + 1, t(step));
    }
    let mut decoded = format!(
        "severity {}, facility {}{}, code {}",
        e.severity,
        e.facility,
        e.facility_name
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        e.code.code()
    );
    if let Some(w) = e.win32 {
        let _ = write!(decoded, ", Win32 error {w}");
    }
    if let Some(h) = e.http_status {
        let _ = write!(decoded, ", HTTP status {h}");
    }
    let _ = writeln!(o, "  decoded:   {decoded}");
    o
}
