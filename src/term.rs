//! Terminal safety: the one place a value taken from an input (a job name, host, URL, proxy,
//! path, a line of a capture) is made safe before it reaches a terminal.
//!
//! Job names, URLs and host names are chosen by whoever created a BITS job, attackers
//! included. Printed raw, an escape sequence could clear the screen, write the clipboard
//! (OSC 52), rewrite the line (CR) or reverse the text that follows (U+202E). [`escape`] shows
//! every such character as a visible escape instead: `\x1b` for C0 controls and DEL, `\u009b`
//! for C1 controls, `\u202e` for bidi controls and other invisible format characters. A
//! backslash is left as it is (Windows paths are full of them), so `\x1b` in the output may
//! also be those four characters in the input; the report never needs to tell them apart.
//!
//! Renderers that add their own escape sequences (colour) must add them after escaping the
//! values, never escape a string that already holds them.

use std::borrow::Cow;
use std::fmt::Write;

/// Would a terminal (or a text renderer, for the bidi and invisible ones) act on `c` rather
/// than show it?
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_or_invisible(c)
}

/// Bidi embeddings, overrides, isolates and marks, and the invisible characters that hide or
/// reorder text: U+061C, U+180E, U+200B..U+200F, U+2028..U+202E, U+2060..U+206F, U+FEFF,
/// U+FFF9..U+FFFB.
pub fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn push_escaped(out: &mut String, c: char) {
    let n = c as u32;
    let _ = if n < 0x80 {
        write!(out, "\\x{n:02x}")
    } else {
        write!(out, "\\u{n:04x}")
    };
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = s.find(&unsafe_char) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value from an input, safe for a terminal: every control character (C0 including tab,
/// CR and line feed, DEL, C1) and every bidi or invisible format character shown as a
/// visible escape. A single line stays a single line.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

/// Only the bidi and invisible format characters shown as escapes: for HTML and CSV, where
/// control characters are handled by their own escaping but a bidi override would still
/// reverse the text a reader sees.
pub fn escape_bidi(s: &str) -> Cow<'_, str> {
    escape_where(s, is_bidi_or_invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bidi_and_c1_characters_are_shown_visibly() {
        let hostile = "job\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\rname\u{202e}gpj.exe\u{9b}31m\u{7f}";
        assert_eq!(
            escape(hostile),
            "job\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x0dname\\u202egpj.exe\\u009b31m\\x7f"
        );
        assert_eq!(escape("a\tb\nc"), "a\\x09b\\x0ac");
        assert_eq!(
            escape("\u{2066}x\u{2069}\u{200b}\u{feff}"),
            "\\u2066x\\u2069\\u200b\\ufeff"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in [
            "C:\\Windows\\System32\\bits.dll",
            "http://wsus.contoso.local:8530/Content/ab.cab",
            "Zürich 北京 Ελλάδα مرحبا",
            "",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn bidi_only_escaping_keeps_controls_for_the_caller() {
        assert_eq!(escape_bidi("a\u{202e}b\u{1b}"), "a\\u202eb\u{1b}");
    }

    proptest::proptest! {
        #[test]
        fn nothing_unsafe_survives(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{2000}-\\u{2070}a-z]*") {
            let e = escape(&s);
            proptest::prop_assert!(!e.chars().any(is_unsafe), "{e:?}");
            let b = escape_bidi(&s);
            proptest::prop_assert!(!b.chars().any(is_bidi_or_invisible));
        }
    }
}
