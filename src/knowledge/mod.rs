//! What bitsdoctor knows about error codes: one embedded table (`codes.csv`) of BITS, HTTP,
//! WinHTTP, Win32, COM and Windows Update agent codes with their meaning, cause, whether BITS
//! retries them by itself, and the fix as concrete steps. `--knowledge FILE` adds or replaces
//! entries in the same format; codes nobody listed are still explained by decoding them.
//!
//! ```
//! use bitsdoctor::knowledge::Knowledge;
//! use bitsdoctor::model::HResult;
//! let k = Knowledge::builtin();
//! let hr = k.resolve("bg_e_insufficient_range_support").unwrap();
//! assert_eq!(hr, HResult(0x8020_0013));
//! assert!(k.explain(hr).fix.iter().any(|s| s.contains("Range")));
//! ```

mod decode;
pub mod enums;
mod table;

use crate::model::{BadHResult, HResult};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

pub use decode::{facility_name, http_reason};
pub use enums::*;

/// The embedded code table, exactly as shipped.
pub const CODES_CSV: &str = include_str!("codes.csv");

/// The header every knowledge CSV carries (column order of `to_csv`; readers match by name).
pub const CSV_HEADER: [&str; 8] = [
    "code",
    "symbol",
    "aliases",
    "family",
    "transient",
    "meaning",
    "cause",
    "fix",
];

/// Which family of codes an entry belongs to. Printed (and written to CSV) as the strings of
/// [`Family::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Family {
    /// BITS errors, `0x8020xxxx`.
    #[serde(rename = "bits")]
    Bits,
    /// BITS success/information codes, `0x0020xxxx`.
    #[serde(rename = "bits-success")]
    BitsSuccess,
    /// Names only old SDK headers define (`0x8020002F`-`0x8020003D`).
    #[serde(rename = "bits-legacy")]
    BitsLegacy,
    /// BITS_MC_* message-table ids (`0x80194000`..), not job errors.
    #[serde(rename = "bits-message")]
    BitsMessage,
    /// BG_E_HTTP_ERROR_nnn, `0x80190000 + status`.
    #[serde(rename = "http")]
    Http,
    /// WinHTTP errors 12000..=12193 as HRESULTs (`0x80072EE0`..`0x80072FA1`).
    #[serde(rename = "winhttp")]
    WinHttp,
    /// Other Win32 errors as HRESULTs (`0x8007xxxx`).
    #[serde(rename = "win32")]
    Win32,
    /// COM / OLE codes (`0x8000xxxx`, `0x8004xxxx`).
    #[serde(rename = "com")]
    Com,
    /// Windows Update agent codes (`0x8024xxxx`, `0x0024xxxx`).
    #[serde(rename = "wu")]
    Wu,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::Bits,
        Family::BitsSuccess,
        Family::BitsLegacy,
        Family::BitsMessage,
        Family::Http,
        Family::WinHttp,
        Family::Win32,
        Family::Com,
        Family::Wu,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Bits => "bits",
            Family::BitsSuccess => "bits-success",
            Family::BitsLegacy => "bits-legacy",
            Family::BitsMessage => "bits-message",
            Family::Http => "http",
            Family::WinHttp => "winhttp",
            Family::Win32 => "win32",
            Family::Com => "com",
            Family::Wu => "wu",
        }
    }

    /// Case-insensitive inverse of [`Family::as_str`].
    pub fn parse(text: &str) -> Option<Family> {
        let t = text.trim();
        Family::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether BITS (or the agent) recovers from the code by itself, as far as a source documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transient {
    /// Documented to be retried automatically (job goes to TRANSIENT_ERROR, or waits and resumes).
    Yes,
    /// Documented to stop the job (ERROR state) until someone fixes the cause and resumes it.
    No,
    /// No source says.
    Unknown,
}

impl Transient {
    pub fn as_str(self) -> &'static str {
        match self {
            Transient::Yes => "yes",
            Transient::No => "no",
            Transient::Unknown => "unknown",
        }
    }

    /// Case-insensitive inverse of [`Transient::as_str`].
    pub fn parse(text: &str) -> Option<Transient> {
        let t = text.trim();
        [Transient::Yes, Transient::No, Transient::Unknown]
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the code table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub code: HResult,
    pub symbol: String,
    pub aliases: Vec<String>,
    pub family: Family,
    pub transient: Transient,
    pub meaning: String,
    pub cause: String,
    /// One step per element, in order.
    pub fix: Vec<String>,
}

impl Entry {
    /// The symbol and every alias.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.symbol.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// The largest `--knowledge` file read.
pub const MAX_KNOWLEDGE_BYTES: u64 = 16 << 20;

/// Why a knowledge file could not be used. Every variant names the file (`origin`).
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("{path}: cannot read knowledge file: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Encoding { origin: String, message: String },
    #[error("{origin}:{line}: missing column '{column}' (the header must name code,symbol,aliases,family,transient,meaning,cause,fix)")]
    MissingColumn {
        origin: String,
        line: u64,
        column: &'static str,
    },
    #[error("{origin}:{line}: field '{field}': {message}")]
    Field {
        origin: String,
        line: u64,
        field: &'static str,
        message: String,
    },
    #[error("{origin}:{line}: {message}")]
    Record {
        origin: String,
        line: u64,
        message: String,
    },
}

/// Everything known about one code, whether or not it is in the table. `explain` always
/// produces one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub code: HResult,
    /// In the table, or an HTTP status derived by the `0x80190000 + N` rule.
    pub known: bool,
    /// Where the text came from: `table`, `http-rule` (an HTTP status not listed in the table) or
    /// `decoded` (nothing known beyond the HRESULT fields).
    pub source: &'static str,
    pub symbol: Option<String>,
    pub family: Option<Family>,
    pub meaning: String,
    pub transient: Transient,
    pub cause: String,
    pub fix: Vec<String>,
    /// `error` when the severity bit is set, else `success`.
    pub severity: &'static str,
    pub facility: u16,
    pub facility_name: Option<&'static str>,
    /// The Win32 error number of a facility-7 failure.
    pub win32: Option<u32>,
    /// The HTTP status of a `0x8019xxxx` code whose low word is 100..=599.
    pub http_status: Option<u16>,
}

/// The code table with its lookup indexes.
#[derive(Debug, Clone)]
pub struct Knowledge {
    /// Sorted by code, codes unique.
    entries: Vec<Entry>,
    /// Upper-case symbol or alias -> index into `entries`.
    /// Built on first use: most runs look codes up by number only.
    by_name: OnceLock<HashMap<String, usize>>,
}

impl Knowledge {
    /// The embedded table. The table is checked by the unit tests, so it always parses.
    pub fn builtin() -> Knowledge {
        let entries = table::parse_canonical(CODES_CSV).unwrap_or_else(|| {
            Self::from_csv(CODES_CSV, "codes.csv")
                .expect("the embedded codes.csv parses (checked by the knowledge tests)")
        });
        Knowledge::from_entries(entries)
    }

    /// The embedded table, parsed once per process.
    pub fn shared() -> &'static Knowledge {
        static SHARED: OnceLock<Knowledge> = OnceLock::new();
        SHARED.get_or_init(Knowledge::builtin)
    }

    /// Parse knowledge CSV text. `origin` names the text in error messages (usually its path).
    /// Codes must be unique within one text.
    pub fn from_csv(text: &str, origin: &str) -> Result<Vec<Entry>, KnowledgeError> {
        table::parse(text, origin)
    }

    /// A table from entries in any order; for a code given twice, the later entry wins.
    pub fn from_entries(entries: Vec<Entry>) -> Knowledge {
        let k = Knowledge {
            entries: Vec::new(),
            by_name: OnceLock::new(),
        };
        if entries.windows(2).all(|w| w[0].code < w[1].code) {
            // Already sorted and unique (the embedded table): no merge needed.
            let mut k = Knowledge { entries, ..k };
            k.reindex();
            return k;
        }
        k.merge(entries)
    }

    /// Add `entries`, replacing any entry with the same code.
    pub fn merge(mut self, entries: Vec<Entry>) -> Knowledge {
        let mut by_code: HashMap<HResult, Entry> = HashMap::with_capacity(entries.len());
        for e in entries {
            by_code.insert(e.code, e);
        }
        for e in &mut self.entries {
            if let Some(new) = by_code.remove(&e.code) {
                *e = new;
            }
        }
        self.entries.extend(by_code.into_values());
        self.entries.sort_by_key(|e| e.code);
        self.reindex();
        self
    }

    /// `--knowledge FILE`: read `path` (same CSV format as `codes.csv`; UTF-8, or UTF-16 with a
    /// BOM) and add or replace entries by code.
    pub fn with_overrides(self, path: &Path) -> Result<Knowledge, KnowledgeError> {
        let origin = path.display().to_string();
        // Read with a cap: the built-in table is under 1 MiB, and `/dev/zero` never ends.
        let bytes = crate::capped::read_capped(path, MAX_KNOWLEDGE_BYTES).map_err(|source| {
            KnowledgeError::Io {
                path: origin.clone(),
                source,
            }
        })?;
        let text = table::decode_text(&bytes, &origin)?;
        let entries = Self::from_csv(&text, &origin)?;
        Ok(self.merge(entries))
    }

    fn reindex(&mut self) {
        self.by_name = OnceLock::new();
    }

    /// Upper-case symbol or alias -> entry index.
    fn names(&self) -> &HashMap<String, usize> {
        self.by_name.get_or_init(|| self.name_index())
    }

    fn name_index(&self) -> HashMap<String, usize> {
        // Primary symbols first, then aliases; within each pass the lowest code wins, so a name
        // listed at two codes (WU_E_REDIRECTOR_UNEXPECTED) resolves to the lower one.
        let mut by_name = HashMap::with_capacity(self.entries.len() * 2);
        for (i, e) in self.entries.iter().enumerate() {
            by_name.entry(e.symbol.to_ascii_uppercase()).or_insert(i);
        }
        for (i, e) in self.entries.iter().enumerate() {
            for a in &e.aliases {
                by_name.entry(a.to_ascii_uppercase()).or_insert(i);
            }
        }
        by_name
    }

    /// The table entry for `code`.
    pub fn get(&self, code: HResult) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&code, |e| e.code)
            .ok()
            .map(|i| &self.entries[i])
    }

    /// The table entry whose symbol or alias is `name` (case-insensitive).
    pub fn by_symbol(&self, name: &str) -> Option<&Entry> {
        let name = name.trim();
        let mut buf = [0u8; 96];
        let idx = if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name.as_bytes());
            b.make_ascii_uppercase();
            // Upper-casing ASCII bytes keeps UTF-8 valid.
            let key = std::str::from_utf8(b).ok()?;
            self.names().get(key)
        } else {
            self.names().get(&name.to_ascii_uppercase())
        };
        idx.map(|&i| &self.entries[i])
    }

    /// A code as a user or a log writes it: `0x80200013`, `0X80200013`, `80200013`,
    /// `-2145386477`, `2149580819`, or a symbol or alias in any case (`BG_E_HTTP_ERROR_nnn`
    /// works for every status 100..=599, listed or not).
    pub fn resolve(&self, text: &str) -> Result<HResult, BadHResult> {
        if let Some(hr) = HResult::parse_number(text) {
            return Ok(hr);
        }
        if let Some(e) = self.by_symbol(text) {
            return Ok(e.code);
        }
        let t = text.trim();
        if let Some(n) = t
            .get(..16)
            .filter(|p| p.eq_ignore_ascii_case("BG_E_HTTP_ERROR_"))
            .and_then(|_| t[16..].parse::<u16>().ok())
            .filter(|n| (100..=599).contains(n) && t.len() == 19)
        {
            return Ok(HResult(0x8019_0000 | u32::from(n)));
        }
        Err(BadHResult(text.to_string()))
    }

    /// Explain any code: the table entry if there is one, an HTTP status for unlisted
    /// `0x8019xxxx` codes, otherwise what the HRESULT fields say.
    pub fn explain(&self, code: HResult) -> Explanation {
        decode::explain(self.get(code), code)
    }

    /// Every entry, sorted by code.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The table in the format of `codes.csv` (header, LF line ends, fix steps one per line
    /// inside the quoted cell), so it can be edited and read back with `--knowledge`.
    pub fn to_csv(&self) -> String {
        table::write(&self.entries)
    }
}

#[cfg(test)]
mod tests;
