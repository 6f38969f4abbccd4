//! `.zip` bundles, read in place: entries are decompressed into memory one at a time, except
//! event logs, which are streamed to an anonymous temporary file (removed when it is closed)
//! and read from there a chunk at a time, as event logs on disk are: memory stays
//! bounded whatever the size of the log.
//!
//! Folders inside the zip are walked like folders on disk, and a zip inside the zip is opened
//! too, one level deep (a zip inside that is reported, not opened). Hostile archives are
//! expected: every limit in [`ZipLimits`] is checked against the sizes the archive declares
//! before an entry is read *and* against the bytes actually read (the read is capped, so a
//! size that lies costs at most the cap). An entry over a limit, an entry whose name climbs out
//! of the archive (`..`) or is absolute, an encrypted, symbolic-link or corrupt entry, or a
//! compression method we do not read, becomes a warning naming the entry, and the rest of the
//! archive is still read.
//!
//! Entries are named `bundle.zip!HOST/bits.txt` (nested: `bundle.zip!WS01.zip!bits.txt`). Each
//! carries the folders above it inside the bundle, the bundle's own stem first and a nested zip
//! counted as a folder named by its stem (`case.zip!WS01.zip!logs/x` -> `case`, `WS01`,
//! `logs`); host attribution (`ingest::host`) takes the nearest specific one, the same rule as
//! for folders on disk, with the folders outside the bundle in front.

use crate::ingest::host;
use crate::model::Warning;
use std::io::{Read, Seek};
use std::path::Path;

/// Limits that keep a hostile archive from costing more than a bounded amount of time and
/// memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// File entries read per bundle, nested zips' entries included.
    pub max_entries: usize,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes of all entries of one bundle, nested zips' entries included.
    pub max_total_bytes: u64,
    /// Uncompressed : compressed size of one entry ...
    pub max_ratio: u64,
    /// ... checked for entries of at least this many uncompressed bytes (small files of zeros
    /// compress very well and are harmless).
    pub ratio_floor: u64,
    /// Bytes read of an entry that is not an event log or a zip (text is read up to this cap,
    /// the entry is then marked cut).
    pub max_text_bytes: u64,
}

impl Default for ZipLimits {
    /// 10,000 entries, 1 GiB per entry, 2 GiB per bundle, ratio 200:1 above 1 MiB. (Real event
    /// logs and text captures compress 5:1 to 50:1; deflate bombs reach about 1000:1.)
    fn default() -> Self {
        ZipLimits {
            max_entries: 10_000,
            max_entry_bytes: 1 << 30,
            max_total_bytes: 2 << 30,
            max_ratio: 200,
            ratio_floor: 1 << 20,
            max_text_bytes: crate::ingest::MAX_TEXT_BYTES,
        }
    }
}

/// One file read from a bundle.
#[derive(Debug)]
pub struct ZipEntry {
    /// `bundle.zip!HOST/bits.txt`: the bundle's display name, `!`, the entry's name.
    pub display: String,
    /// The folders above the entry inside the bundle, outermost first: the bundle's stem, then
    /// folders and nested zips' stems.
    pub folders: Vec<String>,
    /// The host those folders name alone (`ingest::host::nearest`).
    pub host_hint: Option<String>,
    /// The entry's bytes; for an event log in `log`, only its first bytes (`ElfFile\0`).
    pub bytes: Vec<u8>,
    /// Set when only the first `max_text_bytes` of a larger text entry were read: its size.
    pub cut: Option<u64>,
    /// An event log, whole, in an anonymous temporary file positioned at its start.
    pub log: Option<std::fs::File>,
}

/// Does `head` start like a zip archive (a local file header, or the end record of an empty
/// archive)?
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Formats that are zip archives underneath but documents to us: passed on as entries, not
/// opened.
const DOCUMENT_EXTENSIONS: &[&str] = &[
    "docx", "docm", "xlsx", "xlsm", "pptx", "pptm", "odt", "ods", "odp", "jar", "apk", "nupkg",
    "vsix", "epub", "xpi", "appx", "msix",
];

/// Read every entry of the zip file at `path` (shown in reports as `display`), handing each to
/// `visit` as it is read, so only one entry is in memory at a time.
pub fn visit_file(
    path: &Path,
    display: &str,
    limits: &ZipLimits,
    visit: &mut dyn FnMut(ZipEntry),
) -> Vec<Warning> {
    let mut r = Reader::new(display, limits, visit);
    match std::fs::File::open(path) {
        Ok(f) => r.archive(std::io::BufReader::new(f), display, &[], 0),
        Err(e) => r.warn(display, format!("cannot read: {e}")),
    }
    r.warnings
}

/// Like [`visit_file`] for a zip already in memory.
pub fn visit_bytes(
    bytes: &[u8],
    display: &str,
    limits: &ZipLimits,
    visit: &mut dyn FnMut(ZipEntry),
) -> Vec<Warning> {
    let mut r = Reader::new(display, limits, visit);
    r.archive(std::io::Cursor::new(bytes), display, &[], 0);
    r.warnings
}

/// Every entry of the zip file at `path`, in name order, with the warnings. Holds all entries
/// in memory (at most `limits.max_total_bytes`); [`visit_file`] holds one at a time.
pub fn entries(path: &Path, display: &str, limits: &ZipLimits) -> (Vec<ZipEntry>, Vec<Warning>) {
    let mut out = Vec::new();
    let warnings = visit_file(path, display, limits, &mut |e| out.push(e));
    out.sort_by(|a, b| a.display.cmp(&b.display));
    (out, warnings)
}

/// Like [`entries`] for a zip already in memory.
pub fn entries_from_bytes(
    bytes: &[u8],
    display: &str,
    limits: &ZipLimits,
) -> (Vec<ZipEntry>, Vec<Warning>) {
    let mut out = Vec::new();
    let warnings = visit_bytes(bytes, display, limits, &mut |e| out.push(e));
    out.sort_by(|a, b| a.display.cmp(&b.display));
    (out, warnings)
}

/// Bytes of an entry read before deciding what it is (and of text, before reading on).
const HEAD: u64 = 64 * 1024;

/// Copy an event log entry (`head`, then up to `rest` bytes of `f`) to an anonymous temporary
/// file, rewound; `size` counts the bytes copied (also when the copy fails). `None` when no
/// temporary file can be made.
fn spool(
    head: &[u8],
    f: &mut impl Read,
    rest: u64,
    size: &mut u64,
) -> std::io::Result<Option<std::fs::File>> {
    use std::io::Write;
    let Ok(mut file) = tempfile::tempfile() else {
        return Ok(None);
    };
    file.write_all(head)?;
    *size = head.len() as u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut f = f.take(rest);
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        file.write_all(&buf[..n])?;
        *size += n as u64;
    }
    file.rewind()?;
    Ok(Some(file))
}

/// The last part of a display name without its extension: `x/WS01.zip` -> `WS01`.
fn stem(display: &str) -> Option<String> {
    let last = display.rsplit(['/', '\\', '!']).next()?;
    let stem = Path::new(last).file_stem()?.to_string_lossy().to_string();
    (!stem.is_empty()).then_some(stem)
}

fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Why an entry name is refused: it would leave the archive's root or is absolute.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if name.contains('\0') {
        return Some("a NUL byte in its name");
    }
    if name.starts_with(['/', '\\']) {
        return Some("an absolute path");
    }
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("a drive letter");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Some("a `..` component");
    }
    None
}

struct Reader<'a> {
    limits: &'a ZipLimits,
    visit: &'a mut dyn FnMut(ZipEntry),
    warnings: Vec<Warning>,
    /// File entries still allowed.
    entries_left: usize,
    /// Uncompressed bytes still allowed.
    bytes_left: u64,
    /// The outermost zip's stem: the first folder of every entry.
    bundle_stem: Option<String>,
    entry_limit_reported: bool,
}

impl<'a> Reader<'a> {
    fn new(display: &str, limits: &'a ZipLimits, visit: &'a mut dyn FnMut(ZipEntry)) -> Self {
        Reader {
            limits,
            visit,
            warnings: Vec::new(),
            entries_left: limits.max_entries,
            bytes_left: limits.max_total_bytes,
            bundle_stem: stem(display),
            entry_limit_reported: false,
        }
    }

    fn warn(&mut self, path: &str, message: String) {
        self.warnings.push(Warning {
            path: path.to_string(),
            at: None,
            message,
        });
    }

    /// Read one archive. `outer` is the logical folder path leading to it inside the bundle
    /// (the outer zip's folders, then the nested zip's own stem), `depth` 0 for the bundle.
    fn archive<R: Read + Seek>(&mut self, reader: R, display: &str, outer: &[String], depth: u8) {
        let mut zip = match ::zip::ZipArchive::new(reader) {
            Ok(z) => z,
            Err(e) => {
                self.warn(display, format!("not a readable zip archive: {e}"));
                return;
            }
        };
        if zip.has_duplicate_names() {
            // The central directory lists a name twice: only one of them can be reached (the
            // last), and an attacker can hide the first behind it. Said, not silently dropped.
            self.warn(
                display,
                "holds several entries of the same name: only the last of each is read".into(),
            );
        }
        for i in 0..zip.len() {
            // What the central directory declares, before anything is decompressed.
            let (name, is_dir, is_symlink, encrypted, declared, compressed) =
                match zip.by_index_data(i) {
                    Ok(m) => (
                        m.name()
                            .map(|n| n.to_string())
                            .unwrap_or_else(|_| String::from_utf8_lossy(m.name_raw()).into()),
                        m.is_dir(),
                        m.is_symlink(),
                        m.encrypted(),
                        m.size(),
                        m.compressed_size(),
                    ),
                    Err(e) => {
                        self.warn(display, format!("entry {i} unreadable: {e}"));
                        continue;
                    }
                };
            if is_dir {
                continue;
            }
            let shown = format!("{display}!{name}");
            if self.entries_left == 0 {
                if !self.entry_limit_reported {
                    self.entry_limit_reported = true;
                    self.warn(
                        display,
                        format!(
                            "more than {} files in the bundle: the rest are not read",
                            self.limits.max_entries
                        ),
                    );
                }
                return;
            }
            self.entries_left -= 1;
            if let Some(why) = unsafe_name(&name) {
                self.warn(
                    &shown,
                    format!("refused: {why} (the archive may be hostile); not read"),
                );
                continue;
            }
            if is_symlink {
                self.warn(&shown, "symbolic link: not followed".into());
                continue;
            }
            if encrypted {
                self.warn(&shown, "encrypted: not read".into());
                continue;
            }
            if declared > self.limits.max_entry_bytes {
                let msg = format!(
                    "declares {declared} bytes uncompressed, over the limit of {} per file: not read",
                    self.limits.max_entry_bytes
                );
                self.warn(&shown, msg);
                continue;
            }
            if declared > self.bytes_left {
                let msg = format!(
                    "declares {declared} bytes uncompressed, over what is left of the {} bytes read per bundle: not read",
                    self.limits.max_total_bytes
                );
                self.warn(&shown, msg);
                continue;
            }
            if declared >= self.limits.ratio_floor
                && declared / compressed.max(1) > self.limits.max_ratio
            {
                let msg = format!(
                    "compression ratio {}:1 ({declared} bytes from {compressed}) is over {}:1, a zip bomb: not read",
                    declared / compressed.max(1),
                    self.limits.max_ratio
                );
                self.warn(&shown, msg);
                continue;
            }
            let text_cap = self.limits.max_text_bytes;
            let mut bytes = Vec::with_capacity(declared.min(text_cap).min(HEAD) as usize);
            let mut cut = None;
            let mut log = None;
            // Bytes read: one more than declared tells a lying size from an honest one.
            let mut size = 0u64;
            let read = match zip.by_index(i) {
                // The first bytes say what the entry is. Text is read up to its cap; a zip
                // whole; an event log whole, into a temporary file.
                Ok(mut f) => (&mut f)
                    .take(declared.saturating_add(1).min(HEAD).min(text_cap.max(8)))
                    .read_to_end(&mut bytes)
                    .and_then(|_| {
                        let rest = declared.saturating_add(1) - bytes.len() as u64;
                        if bytes.starts_with(b"ElfFile\0") {
                            match spool(&bytes, &mut f, rest, &mut size)? {
                                Some(file) => {
                                    log = Some(file);
                                    bytes.truncate(8);
                                    return Ok(0);
                                }
                                // No temporary file to be had: read it into memory.
                                None => return f.take(rest).read_to_end(&mut bytes),
                            }
                        }
                        if is_zip(&bytes) {
                            return f.take(rest).read_to_end(&mut bytes);
                        }
                        let more = declared.saturating_add(1).min(text_cap);
                        let more = more.saturating_sub(bytes.len() as u64);
                        (&mut f).take(more).read_to_end(&mut bytes)?;
                        if declared > text_cap {
                            cut = Some(declared);
                        }
                        Ok(0)
                    }),
                Err(e) => {
                    self.warn(&shown, format!("cannot be read: {e}"));
                    continue;
                }
            };
            size = size.max(bytes.len() as u64);
            if let Err(e) = read {
                // The zip reader checks sizes too: an error once the declared size is reached is
                // the same lie caught one step earlier.
                let msg = if size >= declared && declared > 0 {
                    format!("inflates beyond its declared size of {declared} bytes ({e}), a zip bomb: not read")
                } else {
                    format!("corrupt: {e}: not read")
                };
                self.warn(&shown, msg);
                continue;
            }
            if size > declared {
                let msg = format!(
                    "inflates beyond its declared size of {declared} bytes, a zip bomb: not read"
                );
                self.warn(&shown, msg);
                continue;
            }
            let mut dirs: Vec<String> = outer.to_vec();
            let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
            if let Some((_, folders)) = parts.split_last() {
                dirs.extend(folders.iter().map(|s| s.to_string()));
            }
            if is_zip(&bytes) && !DOCUMENT_EXTENSIONS.contains(&extension(&name).as_str()) {
                if depth >= 1 {
                    self.warn(
                        &shown,
                        "a zip inside a zip inside a zip: not opened (one level of nesting is read)"
                            .into(),
                    );
                    continue;
                }
                // The nested zip's bytes are dropped once it is read: only its entries count.
                if let Some(s) = stem(&name) {
                    dirs.push(s);
                }
                self.archive(std::io::Cursor::new(&bytes), &shown, &dirs, depth + 1);
                continue;
            }
            self.bytes_left -= size;
            let folders: Vec<String> = self.bundle_stem.iter().cloned().chain(dirs).collect();
            (self.visit)(ZipEntry {
                display: shown,
                host_hint: host::nearest(&folders).map(str::to_string),
                folders,
                bytes,
                cut,
                log,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_recognised() {
        for n in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\x",
            "C:\\x",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(unsafe_name(n).is_some(), "{n:?}");
        }
        for n in ["a/b.txt", "..a/b", "a/..b", "WS01/logs/System.evtx"] {
            assert_eq!(unsafe_name(n), None, "{n:?}");
        }
    }

    #[test]
    fn stems() {
        assert_eq!(stem("cases/WS01.zip").as_deref(), Some("WS01"));
        assert_eq!(stem("b.zip!HOST/inner.ZIP").as_deref(), Some("inner"));
        assert_eq!(stem("C:\\x\\WS02.zip").as_deref(), Some("WS02"));
    }

    #[test]
    fn garbage_is_a_warning() {
        let (e, w) = entries_from_bytes(b"PK\x03\x04 not really", "x.zip", &ZipLimits::default());
        assert!(e.is_empty());
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("not a readable zip"), "{w:?}");
    }
}
