//! Bytes -> text, once, for every text input.
//!
//! Handles what Windows tools write: UTF-8 with or without BOM, UTF-16LE / UTF-16BE with BOM
//! (Windows PowerShell `>` / `Out-File`, `reg export`), UTF-16 without BOM when the bytes say so
//! (many NULs at odd or even positions), and legacy single-byte text (console / ANSI code page),
//! which is decoded as Windows-1252 and flagged lossy. CRLF line ends become LF; lone CRs stay.

use std::borrow::Cow;

/// Decoded text plus what it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, with CRLF normalised to LF and any BOM removed.
    pub text: String,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16le-bom`, `utf-16be`, `utf-16be-bom` or
    /// `windows-1252`.
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
        Some(if self.encoding == "windows-1252" {
            "not UTF-8 or UTF-16: decoded as Windows-1252; non-ASCII characters may be wrong"
                .to_string()
        } else {
            format!(
                "invalid {} byte sequences replaced with U+FFFD",
                self.encoding
            )
        })
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
                    let (t, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                    (t.into_owned(), "windows-1252", true)
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
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert_eq!(decode(b"").text, "");
        assert_eq!(decode(b"\xFF\xFE").text, "");
        assert_eq!(decode(b"a").text, "a");
        assert_eq!(decode(b"\r").text, "\r");
    }
}
