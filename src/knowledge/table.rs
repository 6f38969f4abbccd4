//! Reading and writing the knowledge CSV (RFC 4180, header `code,symbol,aliases,family,
//! transient,meaning,cause,fix`; columns are matched by name, extra columns are ignored).

use super::{Entry, Family, KnowledgeError, Transient, CSV_HEADER};
use crate::model::HResult;
use std::collections::HashMap;

/// Column positions of the eight known columns.
struct Columns([usize; 8]);

const CODE: usize = 0;
const SYMBOL: usize = 1;
const ALIASES: usize = 2;
const FAMILY: usize = 3;
const TRANSIENT: usize = 4;
const MEANING: usize = 5;
const CAUSE: usize = 6;
const FIX: usize = 7;

pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Entry>, KnowledgeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();

    let header_line;
    let columns = loop {
        match rdr.read_record(&mut record) {
            Err(e) => return Err(csv_error(origin, e)),
            Ok(false) => {
                return Err(KnowledgeError::Record {
                    origin: origin.to_string(),
                    line: 1,
                    message: "empty file: expected the header code,symbol,aliases,family,transient,meaning,cause,fix".into(),
                })
            }
            Ok(true) => {
                // Skip blank lines before the header.
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                header_line = line_of(&record);
                break header_columns(&record, origin, header_line)?;
            }
        }
    };
    let width = record.len();

    let mut out = Vec::with_capacity(text.len() / 300 + 1);
    let mut seen: HashMap<HResult, u64> = HashMap::with_capacity(text.len() / 300 + 1);
    loop {
        match rdr.read_record(&mut record) {
            Err(e) => return Err(csv_error(origin, e)),
            Ok(false) => break,
            Ok(true) => {}
        }
        let line = line_of(&record);
        if record.len() == 1 && record[0].trim().is_empty() {
            continue; // blank line
        }
        if record.len() != width {
            return Err(KnowledgeError::Record {
                origin: origin.to_string(),
                line,
                message: format!(
                    "expected {width} fields like the header (line {header_line}), found {}",
                    record.len()
                ),
            });
        }
        let entry = parse_record(&record, &columns, origin, line)?;
        if let Some(first) = seen.insert(entry.code, line) {
            return Err(field_error(
                origin,
                line,
                CODE,
                format!("{} is listed twice (first on line {first})", entry.code),
            ));
        }
        out.push(entry);
    }
    Ok(out)
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

fn csv_error(origin: &str, e: csv::Error) -> KnowledgeError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        _ => e.to_string(),
    };
    KnowledgeError::Record {
        origin: origin.to_string(),
        line,
        message,
    }
}

fn field_error(origin: &str, line: u64, column: usize, message: String) -> KnowledgeError {
    KnowledgeError::Field {
        origin: origin.to_string(),
        line,
        field: CSV_HEADER[column],
        message,
    }
}

fn header_columns(
    record: &csv::StringRecord,
    origin: &str,
    line: u64,
) -> Result<Columns, KnowledgeError> {
    let mut cols = [usize::MAX; 8];
    for (i, name) in record.iter().enumerate() {
        let name = name.trim();
        if let Some(k) = CSV_HEADER.iter().position(|h| h.eq_ignore_ascii_case(name)) {
            if cols[k] != usize::MAX {
                return Err(KnowledgeError::Record {
                    origin: origin.to_string(),
                    line,
                    message: format!("column '{}' appears twice in the header", CSV_HEADER[k]),
                });
            }
            cols[k] = i;
        }
    }
    if let Some(k) = cols.iter().position(|&c| c == usize::MAX) {
        return Err(KnowledgeError::MissingColumn {
            origin: origin.to_string(),
            line,
            column: CSV_HEADER[k],
        });
    }
    Ok(Columns(cols))
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && HResult::parse_number(s).is_none()
}

fn parse_record(
    record: &csv::StringRecord,
    cols: &Columns,
    origin: &str,
    line: u64,
) -> Result<Entry, KnowledgeError> {
    let fields: [&str; 8] = std::array::from_fn(|k| record.get(cols.0[k]).unwrap_or(""));
    build_entry(fields).map_err(|(k, m)| field_error(origin, line, k, m))
}

/// Validate the eight cells of one row (in `CSV_HEADER` order) into an entry; on failure, the
/// column index and what is wrong with it.
fn build_entry(f: [&str; 8]) -> Result<Entry, (usize, String)> {
    let code_text = f[CODE].trim();
    let code = HResult::parse_number(code_text)
        .ok_or_else(|| (CODE, format!("{code_text:?} is not an error code")))?;

    let symbol = f[SYMBOL].trim();
    if !is_symbol(symbol) {
        return Err((
            SYMBOL,
            format!("{symbol:?} is not a symbol (letters, digits and '_', e.g. BG_E_NOT_FOUND)"),
        ));
    }

    let mut aliases = Vec::new();
    // One alias per line (the list convention of every CSV bitsdoctor writes); `;` is still
    // accepted between aliases, as tables written by earlier versions have it.
    for a in f[ALIASES].split(['\n', ';']) {
        let a = a.trim();
        if a.is_empty() {
            continue;
        }
        if !is_symbol(a) {
            return Err((ALIASES, format!("{a:?} is not a symbol")));
        }
        aliases.push(a.to_string());
    }

    let family = Family::parse(f[FAMILY]).ok_or_else(|| {
        (
            FAMILY,
            format!(
                "{:?} is not a family (one of {})",
                f[FAMILY].trim(),
                Family::ALL.map(Family::as_str).join(", ")
            ),
        )
    })?;

    let transient = Transient::parse(f[TRANSIENT]).ok_or_else(|| {
        (
            TRANSIENT,
            format!("{:?} is not yes, no or unknown", f[TRANSIENT].trim()),
        )
    })?;

    let meaning = f[MEANING].trim();
    if meaning.is_empty() {
        return Err((MEANING, "is empty".into()));
    }
    let cause = f[CAUSE].trim();

    let fix: Vec<String> = f[FIX]
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if fix.is_empty() {
        return Err((FIX, "is empty: give at least one step".into()));
    }

    Ok(Entry {
        code,
        symbol: symbol.to_string(),
        aliases,
        family,
        transient,
        meaning: meaning.to_string(),
        cause: cause.to_string(),
        fix,
    })
}

/// Fast path for the embedded table, which is in the canonical form `write` produces (exact
/// header, LF line ends, codes ascending): a zero-copy scan instead of the general CSV reader.
/// Returns None on anything unexpected, and the caller falls back to [`parse`], which is the
/// authority (the tests check that both agree on `codes.csv`).
pub(super) fn parse_canonical(text: &str) -> Option<Vec<Entry>> {
    let header = CSV_HEADER.join(",");
    let mut rest = text.strip_prefix(header.as_str())?.strip_prefix('\n')?;
    let mut out: Vec<Entry> = Vec::with_capacity(text.len() / 400 + 1);
    let mut unescaped: [String; 8] = Default::default();
    while !rest.is_empty() {
        let mut cells: [&str; 8] = [""; 8];
        let mut escaped = [false; 8];
        for k in 0..8 {
            let (cell, has_escapes, after) = next_cell(rest)?;
            let sep = if k == 7 { b'\n' } else { b',' };
            if after.as_bytes().first() != Some(&sep) {
                return None;
            }
            rest = &after[1..];
            cells[k] = cell;
            escaped[k] = has_escapes;
            if has_escapes {
                unescaped[k] = cell.replace("\"\"", "\"");
            }
        }
        let fields: [&str; 8] = std::array::from_fn(|k| {
            if escaped[k] {
                unescaped[k].as_str()
            } else {
                cells[k]
            }
        });
        let entry = build_entry(fields).ok()?;
        if out.last().is_some_and(|p| p.code >= entry.code) {
            return None;
        }
        out.push(entry);
    }
    Some(out)
}

/// One cell at the start of `s`: (raw content with any `""` still doubled, whether it has
/// such escapes, remainder starting at the separator).
fn next_cell(s: &str) -> Option<(&str, bool, &str)> {
    if let Some(body) = s.strip_prefix('"') {
        let b = body.as_bytes();
        let mut i = 0;
        let mut escapes = false;
        loop {
            i += body[i..].find('"')?;
            if b.get(i + 1) == Some(&b'"') {
                escapes = true;
                i += 2;
            } else {
                return Some((&body[..i], escapes, &body[i + 1..]));
            }
        }
    } else {
        let end = s
            .bytes()
            .position(|b| matches!(b, b',' | b'\n' | b'"' | b'\r'))?;
        if matches!(s.as_bytes()[end], b'"' | b'\r') {
            return None;
        }
        Some((&s[..end], false, &s[end..]))
    }
}

/// Decode a knowledge file: UTF-8 (BOM optional) or UTF-16 with a BOM (what Windows
/// PowerShell 5.1 `>` writes).
pub(super) fn decode_text(bytes: &[u8], origin: &str) -> Result<String, KnowledgeError> {
    let utf16 = |be: bool| -> Result<String, KnowledgeError> {
        let body = &bytes[2..];
        if !body.len().is_multiple_of(2) {
            return Err(KnowledgeError::Encoding {
                origin: origin.to_string(),
                message: "UTF-16 text with an odd number of bytes".into(),
            });
        }
        let units = body.chunks_exact(2).map(|c| {
            if be {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| KnowledgeError::Encoding {
                origin: origin.to_string(),
                message: format!("invalid UTF-16 ({e})"),
            })
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        _ => {
            let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match std::str::from_utf8(b) {
                Ok(s) => Ok(s.to_string()),
                Err(e) => {
                    let line = b[..e.valid_up_to()].iter().filter(|&&c| c == b'\n').count() + 1;
                    Err(KnowledgeError::Encoding {
                        origin: origin.to_string(),
                        message: format!(
                            "line {line}: not UTF-8 (byte offset {}); save the file as UTF-8",
                            e.valid_up_to()
                        ),
                    })
                }
            }
        }
    }
}

/// Write entries in the `codes.csv` format.
pub(super) fn write(entries: &[Entry]) -> String {
    let mut out = String::with_capacity(entries.len() * 400);
    out.push_str(&CSV_HEADER.join(","));
    out.push('\n');
    for e in entries {
        let code = e.code.to_string();
        let aliases = crate::report::csv::list(&e.aliases);
        let fix = crate::report::csv::list(&e.fix);
        let cells: [&str; 8] = [
            &code,
            &e.symbol,
            &aliases,
            e.family.as_str(),
            e.transient.as_str(),
            &e.meaning,
            &e.cause,
            &fix,
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_cell(&mut out, cell);
        }
        out.push('\n');
    }
    out
}

fn push_cell(out: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}
