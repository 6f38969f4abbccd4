//! `bitsdoctor codes`: the whole code table.

use crate::Format;
use bitsdoctor::knowledge::Knowledge;
use std::fmt::Write;

pub fn run(kb: &Knowledge, format: Format) -> String {
    match format {
        Format::Csv => kb.to_csv(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(kb.entries()).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Text | Format::Html | Format::Jsonl => {
            let mut o = String::new();
            for e in kb.entries() {
                let _ = writeln!(
                    o,
                    "{}  {:<48} {:<12} {}",
                    e.code,
                    e.symbol,
                    e.family.as_str(),
                    e.meaning
                );
            }
            o
        }
    }
}
