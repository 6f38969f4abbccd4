//! Bytes -> text, once, for every text input.
//!
//! Handles what Windows tools write: UTF-8 with or without BOM, UTF-16LE / UTF-16BE with BOM
//! (Windows PowerShell `>` / `Out-File`, `reg export`), UTF-16 without BOM when the bytes say so
//! (many NULs at odd or even positions), and legacy single-byte text, flagged lossy: the ANSI
//! code page Windows-1252 (Notepad, PowerShell 5 `Out-File -Encoding Default`) or the OEM code
//! pages 850 / 437 that cmd.exe writes with `>` on Western European / US machines. Which one is
//! chosen by how the non-ASCII characters read in each (letters inside words, no stray control
//! or box-drawing characters). CRLF line ends become LF; lone CRs stay.

use std::borrow::Cow;

/// Decoded text plus what it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, with CRLF normalised to LF and any BOM removed.
    pub text: String,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16le-bom`, `utf-16be`, `utf-16be-bom`,
    /// `windows-1252`, `cp850` or `cp437`.
    pub encoding: &'static str,
    /// Some bytes could not be decoded faithfully (replacement characters were inserted, or a
    /// legacy code page was guessed).
    pub lossy: bool,
}

impl Decoded {
    /// The warning a caller should report for this input, if any.
    pub fn warning(&self) -> Option<String> {
        if !self.lossy {
            return None;
        }
        Some(
            if matches!(self.encoding, "windows-1252" | "cp850" | "cp437") {
                format!(
                    "not UTF-8 or UTF-16: decoded as {} (the legacy code page that reads best); \
                 non-ASCII characters may be wrong",
                    self.encoding
                )
            } else {
                format!(
                    "invalid {} byte sequences replaced with U+FFFD",
                    self.encoding
                )
            },
        )
    }
}

/// Decode a whole input. Never fails: undecodable bytes become U+FFFD and `lossy` is set.
pub fn decode(bytes: &[u8]) -> Decoded {
    let (text, encoding, lossy) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        let (t, lossy) = utf8(rest);
        (t, "utf-8-bom", lossy)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let (t, lossy) = utf16(rest, false);
        (t, "utf-16le-bom", lossy)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let (t, lossy) = utf16(rest, true);
        (t, "utf-16be-bom", lossy)
    } else {
        match utf16_without_bom(bytes) {
            Some(big_endian) => {
                let (t, lossy) = utf16(bytes, big_endian);
                (t, if big_endian { "utf-16be" } else { "utf-16le" }, lossy)
            }
            None => match std::str::from_utf8(bytes) {
                Ok(s) => (s.to_string(), "utf-8", false),
                Err(e) if e.error_len().is_none() && e.valid_up_to() + 4 > bytes.len() => {
                    // Only a truncated final character (a cut-off head): still UTF-8.
                    let (t, _) = utf8(bytes);
                    (t, "utf-8", true)
                }
                Err(_) => {
                    let (t, enc) = legacy(bytes);
                    (t, enc, true)
                }
            },
        }
    };
    Decoded {
        text: normalise_newlines(text),
        encoding,
        lossy,
    }
}

/// Single-byte text: decoded as Windows-1252, CP850 and CP437; the reading that scores best
/// wins (ties keep the earlier: Windows-1252, then CP850).
fn legacy(bytes: &[u8]) -> (String, &'static str) {
    let (ansi, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    let mut best = (plausibility(&ansi), ansi.into_owned(), "windows-1252");
    for (table, name) in [
        (&oem_cp::code_table::DECODING_TABLE_CP850, "cp850"),
        (&oem_cp::code_table::DECODING_TABLE_CP437, "cp437"),
    ] {
        let t = oem_cp::decode_string_complete_table(bytes, table);
        let score = plausibility(&t);
        if score > best.0 {
            best = (score, t, name);
        }
    }
    (best.1, best.2)
}

/// How well the non-ASCII characters of a decoding read as text. Letters score inside words
/// that also hold ASCII letters with a case that fits (no capital right after a small letter);
/// typographic quotes and dashes next to words, and a no-break space before a colon (French
/// typography) score too. C1 control characters, runs of non-ASCII letters with no ASCII
/// letter (`ÕÍÍ`), box drawing outside a drawn line and quotes inside a word cost.
fn plausibility(text: &str) -> i64 {
    let chars: Vec<char> = text.chars().collect();
    let is_box = |c: char| ('\u{2500}'..='\u{259F}').contains(&c);
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    let mut score = 0i64;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() {
            // A whole word: its non-ASCII letters are judged together.
            let end = (i..chars.len())
                .find(|&j| !chars[j].is_alphabetic())
                .unwrap_or(chars.len());
            let word = &chars[i..end];
            let has_ascii = word.iter().any(char::is_ascii_alphabetic);
            for (k, &w) in word.iter().enumerate().filter(|(_, w)| !w.is_ascii()) {
                let prev = if k == 0 { ' ' } else { word[k - 1] };
                score += if word.len() > 1 && !has_ascii {
                    -1
                } else if w.is_lowercase() {
                    if word.len() > 1 {
                        2
                    } else {
                        1
                    }
                } else if prev.is_lowercase() {
                    -1
                } else {
                    2
                };
            }
            i = end;
            continue;
        }
        if !c.is_ascii() {
            let (prev, next) = (if i == 0 { ' ' } else { at(i - 1) }, at(i + 1));
            score += if ('\u{80}'..='\u{9F}').contains(&c) || c == '\u{FFFD}' {
                -3
            } else if is_box(c) {
                if is_box(prev) || is_box(next) {
                    1
                } else {
                    -1
                }
            } else if c.is_whitespace() {
                i64::from(next == ':' || prev.is_ascii_digit())
            } else if matches!(c, '\u{2013}'..='\u{201E}' | '\u{2026}' | '\u{20AC}') {
                if prev.is_alphabetic() && next.is_alphabetic() {
                    -1
                } else {
                    2
                }
            } else {
                0
            };
        }
        i += 1;
    }
    score
}

fn utf8(bytes: &[u8]) -> (String, bool) {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => (s.to_string(), false),
        Cow::Owned(s) => (s, true),
    }
}

fn utf16(bytes: &[u8], big_endian: bool) -> (String, bool) {
    let units = bytes.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    let mut lossy = !bytes.len().is_multiple_of(2);
    let mut out = String::with_capacity(bytes.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                lossy = true;
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    (out, lossy)
}

/// UTF-16 without a BOM: text in Latin script has a NUL in every other byte. Looks at the
/// first 4 KiB; returns Some(big_endian) when at least 40% of the high bytes are NUL and
/// almost none of the low bytes are.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let head = &bytes[..bytes.len().min(4096)];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut even_nul, mut odd_nul) = (0usize, 0usize);
    for p in head.chunks_exact(2) {
        even_nul += usize::from(p[0] == 0);
        odd_nul += usize::from(p[1] == 0);
    }
    if odd_nul * 10 >= pairs * 4 && even_nul * 20 <= pairs {
        Some(false)
    } else if even_nul * 10 >= pairs * 4 && odd_nul * 20 <= pairs {
        Some(true)
    } else {
        None
    }
}

/// Characters that mark a pasted line: comment signs (`#`, `;`, `//`, `REM`-less scripts),
/// mail quotes (`>`), table rules (`|`).
const PREFIX_MARKS: &[char] = &['#', '>', '|', ';', '/'];

/// A capture pasted into a script or a mail with the same prefix on (nearly) every line
/// (`    #Name : value`, `> GUID: {...}`, `// ...`): the text with that prefix removed, and the
/// prefix. The prefix is blanks and mark characters only (never letters or digits, so a shared
/// date or path stays), taken up to its last mark plus one space when every prefixed line has
/// one, so the capture's own indentation (sc fields, netsh labels, wrapped values) stays. It
/// must start at least 4 of 5 non-blank lines (a header comment above the paste may differ);
/// lines without it are kept as they are, lines that are only the prefix (`>`) become blank.
/// None when the text has no such prefix.
pub fn strip_line_prefix(text: &str) -> Option<String> {
    // The leading run of blanks and marks of each non-blank line, counted.
    let lead = |l: &str| -> usize {
        let blanks = l.len() - l.trim_start().len();
        let marks = l[blanks..]
            .find(|c: char| !PREFIX_MARKS.contains(&c))
            .unwrap_or(l.len() - blanks);
        blanks + marks
    };
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut total = 0usize;
    for line in text.lines().take(2000) {
        let l = line.trim_end();
        if l.is_empty() {
            continue;
        }
        total += 1;
        let run = &l[..lead(l)];
        if !run.contains(PREFIX_MARKS) {
            // An unprefixed line early on: not a pasted capture (cheap exit for big logs).
            if total > 8 && counts.is_empty() {
                return None;
            }
            continue;
        }
        *counts.entry(run).or_default() += 1;
    }
    let (&run, &n) = counts.iter().max_by_key(|(r, n)| (**n, r.len()))?;
    if n < 2 || n * 5 < total * 4 {
        return None;
    }
    // A line that is only marks (`>`, `#`) is a blank line of the paste.
    let only_marks =
        |l: &str| !l.trim().is_empty() && l.trim().chars().all(|c| PREFIX_MARKS.contains(&c));
    let spaced = text
        .lines()
        .filter(|l| l.starts_with(run) && !only_marks(l))
        .all(|l| l[run.len()..].starts_with(' '));
    let prefix = if spaced {
        format!("{run} ")
    } else {
        run.to_string()
    };
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let l = line.strip_suffix('\r').unwrap_or(line);
        match l
            .strip_prefix(prefix.as_str())
            .or_else(|| l.strip_prefix(run))
        {
            Some(rest) if !only_marks(l) => out.push_str(rest),
            _ if only_marks(l) && l.trim_start().starts_with(run.trim_start()) => {}
            _ => out.push_str(l),
        }
    }
    Some(out)
}

fn normalise_newlines(text: String) -> String {
    if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        v.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        v
    }

    const SAMPLE: &str = "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: myDownloadJob\r\n\
                          TYPE: DOWNLOAD STATE: TRANSIENT_ERROR OWNER: domain\\user\r\n";
    const WANT: &str = "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: myDownloadJob\n\
                        TYPE: DOWNLOAD STATE: TRANSIENT_ERROR OWNER: domain\\user\n";

    #[test]
    fn utf8_plain_and_bom() {
        let d = decode(SAMPLE.as_bytes());
        assert_eq!(
            (d.text.as_str(), d.encoding, d.lossy),
            (WANT, "utf-8", false)
        );
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(SAMPLE.as_bytes());
        let d = decode(&b);
        assert_eq!(
            (d.text.as_str(), d.encoding, d.lossy),
            (WANT, "utf-8-bom", false)
        );
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let d = decode(&utf16le(SAMPLE, true));
        assert_eq!(
            (d.text.as_str(), d.encoding, d.lossy),
            (WANT, "utf-16le-bom", false)
        );
        let d = decode(&utf16le(SAMPLE, false));
        assert_eq!((d.text.as_str(), d.encoding), (WANT, "utf-16le"));
        let mut be = vec![0xFE, 0xFF];
        be.extend(SAMPLE.encode_utf16().flat_map(|u| u.to_be_bytes()));
        let d = decode(&be);
        assert_eq!((d.text.as_str(), d.encoding), (WANT, "utf-16be-bom"));
        let d = decode(&be[2..]);
        assert_eq!((d.text.as_str(), d.encoding), (WANT, "utf-16be"));
    }

    #[test]
    fn utf16_odd_length_and_lone_surrogate_are_lossy() {
        let mut b = utf16le("Current WinHTTP proxy settings:", true);
        b.push(0x41);
        assert!(decode(&b).lossy);
        let b = [0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00];
        let d = decode(&b);
        assert!(d.lossy);
        assert_eq!(d.text, "\u{FFFD}A");
    }

    #[test]
    fn legacy_code_page_is_windows_1252() {
        let d = decode(b"OWNER: DOM\\J\xFCrgen \x80 \x93x\x94\r\n");
        assert_eq!(d.encoding, "windows-1252");
        assert!(d.lossy);
        assert_eq!(
            d.text,
            "OWNER: DOM\\J\u{FC}rgen \u{20AC} \u{201C}x\u{201D}\n"
        );
        assert!(d.warning().is_some());
        // French text saved by Notepad (ANSI): `è` is 0xE8 there, a capital thorn in CP850.
        let d = decode(b"Param\xE8tres de proxy WinHTTP actuels :\r\n");
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text, "Param\u{E8}tres de proxy WinHTTP actuels :\n");
    }

    #[test]
    fn cmd_redirect_in_cp850_decodes_without_replacement() {
        // `netsh winhttp show proxy > proxy.txt` in a French cmd.exe (CP850): `è` is 0x8A and
        // the no-break space before the colon 0xFF.
        let fr = b"\r\nParam\x8Atres de proxy WinHTTP actuels\xFF:\r\n\r\n    Acc\x8As direct (sans serveur proxy).\r\n";
        let d = decode(fr);
        assert_eq!(d.encoding, "cp850");
        assert_eq!(
            d.text,
            "\nParam\u{E8}tres de proxy WinHTTP actuels\u{A0}:\n\n    Acc\u{E8}s direct (sans serveur proxy).\n"
        );
        assert!(!d.text.contains('\u{FFFD}'));
        let de = b"OWNER: CONTOSO\\J\x81rgen Gr\x94\xE1e f\x81r \x84rger\r\n";
        let d = decode(de);
        assert_eq!(d.encoding, "cp850");
        assert_eq!(
            d.text,
            "OWNER: CONTOSO\\J\u{FC}rgen Gr\u{F6}\u{DF}e f\u{FC}r \u{E4}rger\n"
        );
        assert!(!d.text.contains('\u{FFFD}'));
        assert!(d.warning().unwrap().contains("cp850"));
    }

    #[test]
    fn cp437_when_its_reading_is_better() {
        // A US console frame with mixed single/double lines (only CP437 has those at 0xD5,
        // 0xB8, 0xD4, 0xBE) around a name.
        let d = decode(b"\xD5\xCD\xCD\xB8\r\n\xB3 M\x81ller \xB3\r\n\xD4\xCD\xCD\xBE\r\n");
        assert_eq!(d.encoding, "cp437");
        assert_eq!(
            d.text,
            "\u{2552}\u{2550}\u{2550}\u{2555}\n\u{2502} M\u{FC}ller \u{2502}\n\u{2558}\u{2550}\u{2550}\u{255B}\n"
        );
    }

    #[test]
    fn common_line_prefix_is_stripped() {
        let script = "    #JobId       : 873c4db1-4b60-4a49-bd62-0631aacd4099\n    #DisplayName : MyTransfer\n    #Description : This is a file transfer that uses the Background Intelligent\n    #              Transfer Service (BITS).\n    #\n    #JobState    : Suspended\n";
        let text = strip_line_prefix(script).unwrap();
        assert_eq!(
            text,
            "JobId       : 873c4db1-4b60-4a49-bd62-0631aacd4099\nDisplayName : MyTransfer\nDescription : This is a file transfer that uses the Background Intelligent\n              Transfer Service (BITS).\n\nJobState    : Suspended\n"
        );
        let mail = "> GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: job\n> TYPE: DOWNLOAD STATE: ERROR OWNER: d\\u\n>\n> JOB FILES:\n>         0 / 1 WORKING http://a/b -> C:\\b\n";
        let text = strip_line_prefix(mail).unwrap();
        assert_eq!(
            text,
            "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: job\nTYPE: DOWNLOAD STATE: ERROR OWNER: d\\u\n\nJOB FILES:\n        0 / 1 WORKING http://a/b -> C:\\b\n"
        );
    }

    #[test]
    fn no_prefix_no_change() {
        // Indentation alone is the capture's own; one line is not a pattern; a prefix must be
        // on every line.
        assert_eq!(
            strip_line_prefix("SERVICE_NAME: bits\n        TYPE               : 20\n"),
            None
        );
        assert_eq!(
            strip_line_prefix("    Proxy Server(s) :  p:1\n    Bypass List     :  (none)\n"),
            None
        );
        assert_eq!(strip_line_prefix("# one line\n"), None);
        assert_eq!(strip_line_prefix("# a\nb\nc\n# d\n"), None);
        // A header comment above a prefixed paste does not stop it.
        assert_eq!(
            strip_line_prefix(
                "# from the ticket\n    #A : 1\n    #B : 2\n    #C : 3\n    #D : 4\n"
            )
            .as_deref(),
            Some("# from the ticket\nA : 1\nB : 2\nC : 3\nD : 4\n")
        );
        assert_eq!(
            strip_line_prefix("2020/01/23 15:17:51.1 1 2 DownloadManager a\n2020/01/23 15:17:52.1 1 2 DownloadManager b\n"),
            None
        );
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert_eq!(decode(b"").text, "");
        assert_eq!(decode(b"\xFF\xFE").text, "");
        assert_eq!(decode(b"a").text, "a");
        assert_eq!(decode(b"\r").text, "\r");
    }
}
