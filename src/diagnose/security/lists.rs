//! The lists the security lens judges jobs by: vendor hosts that are never suspicious,
//! file-sharing hosts, common top-level domains, LOLBAS programs, script hosts, processes that
//! have no business creating BITS jobs, extensions and folders. They are data, not code: the
//! embedded `security.csv` (columns `list,value,note`), which `--security-lists FILE` extends in
//! the same format.

use std::collections::BTreeMap;
use std::path::Path;

/// The embedded lists, exactly as shipped.
pub const SECURITY_CSV: &str = include_str!("../../knowledge/security.csv");

/// Largest lists file read (the embedded one is a few KiB).
const MAX_LISTS_BYTES: u64 = 4 << 20;

/// Which list an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListKind {
    /// Hosts whose downloads raise nothing (a suffix match on the host name).
    VendorHost,
    /// File-sharing, paste and tunnel hosts (a suffix match on the host name).
    FileSharing,
    /// Top-level domains that are not unusual for a download.
    CommonTld,
    /// Top-level domains of internal networks and reserved names (never "uncommon").
    InternalTld,
    /// Living-off-the-land programs that download (LOLBAS), matched on the file name.
    Lolbas,
    /// Script hosts, matched on the file name.
    ScriptHost,
    /// Tools made for creating jobs by hand (bitsadmin).
    JobTool,
    /// Programs that never create BITS jobs themselves.
    UnexpectedCreator,
    /// Saved-file extensions that run code.
    SuspiciousExtension,
    /// Folders payloads are dropped into.
    SuspiciousFolder,
}

impl ListKind {
    fn parse(s: &str) -> Option<ListKind> {
        Some(match s {
            "vendor_host" => ListKind::VendorHost,
            "file_sharing" => ListKind::FileSharing,
            "common_tld" => ListKind::CommonTld,
            "internal_tld" => ListKind::InternalTld,
            "lolbas" => ListKind::Lolbas,
            "script_host" => ListKind::ScriptHost,
            "job_tool" => ListKind::JobTool,
            "unexpected_creator" => ListKind::UnexpectedCreator,
            "suspicious_extension" => ListKind::SuspiciousExtension,
            "suspicious_folder" => ListKind::SuspiciousFolder,
            _ => return None,
        })
    }
}

/// A lists file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ListsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {what}")]
    Bad {
        path: String,
        line: u64,
        what: String,
    },
}

/// The lists, values lower-cased, each with the note that says why it is there.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    entries: BTreeMap<ListKind, Vec<(String, String)>>,
}

impl Lists {
    /// The embedded lists.
    pub fn builtin() -> Lists {
        let mut l = Lists::default();
        l.extend_from_csv(SECURITY_CSV, "security.csv")
            .expect("the embedded security lists parse");
        l
    }

    /// Add the entries of a lists file (`list,value,note`) to these lists.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), ListsError> {
        let shown = path.display().to_string();
        let bytes =
            crate::capped::read_capped(path, MAX_LISTS_BYTES).map_err(|source| ListsError::Io {
                path: shown.clone(),
                source,
            })?;
        let text = String::from_utf8(bytes).map_err(|_| ListsError::Io {
            path: shown.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
        })?;
        self.extend_from_csv(&text, &shown)
    }

    /// Add the entries of a lists CSV text.
    pub fn extend_from_csv(&mut self, text: &str, path: &str) -> Result<(), ListsError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        for rec in rdr.records() {
            let rec = rec.map_err(|e| ListsError::Bad {
                path: path.to_string(),
                line: e.position().map(|p| p.line()).unwrap_or(0),
                what: e.to_string(),
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let bad = |what: String| ListsError::Bad {
                path: path.to_string(),
                line,
                what,
            };
            let list = rec.get(0).unwrap_or("").trim();
            let value = rec.get(1).unwrap_or("").trim();
            let note = rec.get(2).unwrap_or("").trim();
            let kind =
                ListKind::parse(list).ok_or_else(|| bad(format!("unknown list '{list}'")))?;
            if value.is_empty() {
                return Err(bad("empty value".to_string()));
            }
            let v = self.entries.entry(kind).or_default();
            let value = value.to_ascii_lowercase();
            if !v.iter().any(|(x, _)| *x == value) {
                v.push((value, note.to_string()));
            }
        }
        Ok(())
    }

    fn list(&self, kind: ListKind) -> &[(String, String)] {
        self.entries.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The entry of `kind` whose value is `host` or a parent domain of it.
    pub fn host_in(&self, kind: ListKind, host: &str) -> Option<&(String, String)> {
        let host = host.to_ascii_lowercase();
        self.list(kind).iter().find(|(d, _)| {
            host == *d
                || (host.len() > d.len()
                    && host.ends_with(d.as_str())
                    && host.as_bytes()[host.len() - d.len() - 1] == b'.')
        })
    }

    /// The entry of `kind` equal to a program's file name (`C:\x\bitsadmin.exe` -> `bitsadmin.exe`).
    pub fn program_in(&self, kind: ListKind, path: &str) -> Option<&(String, String)> {
        let name = file_name(path).to_ascii_lowercase();
        self.list(kind).iter().find(|(p, _)| *p == name)
    }

    /// The entry of `kind` that `text` ends with (case-insensitive).
    pub fn suffix_in(&self, kind: ListKind, text: &str) -> Option<&(String, String)> {
        let text = text.to_ascii_lowercase();
        self.list(kind)
            .iter()
            .find(|(s, _)| text.ends_with(s.as_str()))
    }

    /// The entry of `kind` that `text` contains (case-insensitive, `/` read as `\`).
    pub fn contained_in(&self, kind: ListKind, text: &str) -> Option<&(String, String)> {
        let text = text.to_ascii_lowercase().replace('/', "\\");
        self.list(kind)
            .iter()
            .find(|(s, _)| text.contains(s.as_str()))
    }

    /// Whether a top-level domain is on the common or the internal list.
    pub fn common_tld(&self, tld: &str) -> bool {
        let tld = tld.to_ascii_lowercase();
        [ListKind::CommonTld, ListKind::InternalTld]
            .iter()
            .any(|k| self.list(*k).iter().any(|(t, _)| *t == tld))
    }
}

/// The last component of a Windows or URL path.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lists_load_and_match() {
        let l = Lists::builtin();
        assert!(l
            .host_in(ListKind::VendorHost, "download.windowsupdate.com")
            .is_some());
        assert!(l
            .host_in(ListKind::VendorHost, "evilwindowsupdate.com")
            .is_none());
        assert!(l.host_in(ListKind::FileSharing, "a.uguu.se").is_some());
        assert!(l
            .program_in(
                ListKind::Lolbas,
                r"C:\Windows\System32\desktopimgdownldr.exe"
            )
            .is_some());
        assert!(l
            .program_in(ListKind::JobTool, r"C:\Windows\System32\BITSADMIN.EXE")
            .is_some());
        assert!(l
            .suffix_in(ListKind::SuspiciousExtension, "payload.EXE")
            .is_some());
        assert!(l
            .contained_in(ListKind::SuspiciousFolder, "C:/Users/Public/x.txt")
            .is_some());
        assert!(l.common_tld("COM") && l.common_tld("local") && !l.common_tld("se"));
    }

    #[test]
    fn user_lists_extend_and_report_bad_lines() {
        let mut l = Lists::builtin();
        l.extend_from_csv(
            "list,value,note\nvendor_host,updates.example.org,our mirror\n",
            "x",
        )
        .unwrap();
        assert!(l
            .host_in(ListKind::VendorHost, "updates.example.org")
            .is_some());
        let e = l
            .extend_from_csv("list,value,note\nvendor_host,a,\nnope,b,\n", "f.csv")
            .unwrap_err();
        assert_eq!(e.to_string(), "f.csv:3: unknown list 'nope'");
    }
}
