//! `netsh winhttp show proxy` output -> `Fact::WinHttpProxy`.
//!
//! ```text
//! Current WinHTTP proxy settings:
//!
//!     Proxy Server(s) :  proxy.example:8080
//!     Bypass List     :  (none)
//! ```
//! or `    Direct access (no proxy server).`

use nom::bytes::complete::{tag, take_until};
use nom::character::complete::{char, space0};
use nom::combinator::rest;
use nom::{IResult, Parser};

use super::bitsadmin::{is_prompt, lines, observation};
use super::{Parsed, Source};
use crate::model::{Fact, Locator, When};

type Res<'a, T> = IResult<&'a str, T>;

/// `Label     :  value` -> (label, value); the label is padded with spaces before the colon.
fn labelled(i: &str) -> Res<'_, (&str, &str)> {
    let (i, label) = take_until(" :").parse(i.trim_start())?;
    let (i, _) = (space0, char(':'), space0).parse(i)?;
    let (i, v) = rest(i)?;
    Ok((i, (label.trim(), v.trim())))
}

fn header(i: &str) -> Res<'_, &str> {
    tag("Current WinHTTP proxy settings:").parse(i.trim())
}

fn none_or(v: &str) -> Option<String> {
    (!v.is_empty() && v != "(none)").then(|| v.to_string())
}

struct Block {
    line: u32,
    direct: bool,
    proxy: Option<String>,
    bypass: Option<String>,
}

fn finish(b: Block, src: &Source, out: &mut Parsed) {
    let fact = Fact::WinHttpProxy {
        direct: b.direct || b.proxy.is_none(),
        proxy: b.proxy,
        bypass: b.bypass,
    };
    out.observations
        .push(observation(src, b.line, When::Unknown, fact));
}

/// Parse `netsh winhttp show proxy` output. Never fails; unknown lines inside the settings
/// block become warnings.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let mut block: Option<Block> = None;
    for (n, line) in lines(text) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if header(t).is_ok() {
            if let Some(b) = block.take() {
                finish(b, src, &mut out);
            }
            block = Some(Block {
                line: n,
                direct: false,
                proxy: None,
                bypass: None,
            });
            continue;
        }
        if is_prompt(t) {
            if let Some(b) = block.take() {
                finish(b, src, &mut out);
            }
            continue;
        }
        let Some(b) = block.as_mut() else { continue };
        if t.starts_with("Direct access") {
            b.direct = true;
            continue;
        }
        match labelled(t) {
            Ok((_, ("Proxy Server(s)", v))) => b.proxy = none_or(v),
            Ok((_, ("Bypass List", v))) => b.bypass = none_or(v),
            _ => out.warn(
                src,
                Some(Locator::Line(n)),
                format!(
                    "netsh: unexpected line in the WinHTTP proxy settings `{}`",
                    t.chars().take(100).collect::<String>()
                ),
            ),
        }
    }
    if let Some(b) = block.take() {
        finish(b, src, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Source = Source {
        path: "b/H/proxy.txt",
        host: "H",
    };

    #[test]
    fn small_parsers() {
        assert_eq!(
            labelled("    Proxy Server(s) :  proxy.example:8080"),
            Ok(("", ("Proxy Server(s)", "proxy.example:8080")))
        );
        assert_eq!(
            labelled("    Bypass List     :  (none)"),
            Ok(("", ("Bypass List", "(none)")))
        );
        assert!(header("Current WinHTTP proxy settings:").is_ok());
    }

    #[test]
    fn direct() {
        let p = parse(
            "\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n\r\n",
            &SRC,
        );
        assert!(p.warnings.is_empty());
        assert_eq!(p.observations.len(), 1);
        assert_eq!(
            p.observations[0].fact,
            Fact::WinHttpProxy {
                direct: true,
                proxy: None,
                bypass: None
            }
        );
        assert_eq!(p.observations[0].evidence.at, Locator::Line(2));
    }

    #[test]
    fn proxy() {
        let p = parse(
            "Current WinHTTP proxy settings:\n\n    Proxy Server(s) :  proxy.example:8080\n    Bypass List     :  <local>;*.contoso.com\n",
            &SRC,
        );
        assert_eq!(
            p.observations[0].fact,
            Fact::WinHttpProxy {
                direct: false,
                proxy: Some("proxy.example:8080".into()),
                bypass: Some("<local>;*.contoso.com".into())
            }
        );
        let p = parse(
            "Current WinHTTP proxy settings:\n\n    Proxy Server(s) :  proxy.example:8080\n    Bypass List     :  (none)\n    something new\n",
            &SRC,
        );
        assert!(matches!(
            &p.observations[0].fact,
            Fact::WinHttpProxy { bypass: None, .. }
        ));
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].at, Some(Locator::Line(5)));
    }

    #[test]
    fn nothing_outside_a_block() {
        let p = parse("Proxy Server(s) :  x\n", &SRC);
        assert!(p.observations.is_empty() && p.warnings.is_empty());
    }
}
