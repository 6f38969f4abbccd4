//! JSON rendering of the report (schema `bitsdoctor/report/v1`).

use super::Report;

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"report could not be serialized: {e}\"}}"));
    s.push('\n');
    s
}

/// The same JSON, written to `w` as it is serialized (a large report is never one string).
pub fn write(report: &Report, w: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    w.write_all(b"\n")
}
