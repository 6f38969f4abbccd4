//! `netsh winhttp show proxy` output -> `Fact::WinHttpProxy`, in the display languages whose
//! published output we have seen (English, German, French, Japanese, Simplified Chinese), and
//! structurally in any other.
//!
//! ```text
//! Current WinHTTP proxy settings:
//!
//!     Proxy Server(s) :  proxy.example:8080
//!     Bypass List     :  (none)
//! ```
//! or `    Direct access (no proxy server).`
//!
//! netsh prints the same shape in every language: a header line naming WinHTTP and ending in a
//! colon, then either one sentence (direct access) or two `label : value` lines, the proxy
//! first and the bypass list second. Known labels are matched by name; a label in a language
//! not listed is taken by its position. A value in parentheses (`(none)`, `(keine)`,
//! `(aucun)`, `(なし)`, `(无)`) means empty.

use super::bitsadmin::{is_prompt, lines, observation};
use super::{is_console_noise, NotUnderstood, Parsed, Source};
use crate::model::{Fact, Locator, When};

/// Header lines seen in published output.
const HEADERS: &[&str] = &[
    "Current WinHTTP proxy settings",
    "Aktuelle WinHTTP-Proxyeinstellungen",
    "Paramètres de proxy WinHTTP actuels",
    "現在の WinHTTP プロキシ設定",
    "当前的 WinHTTP 代理服务器设置",
];

/// Proxy-server labels seen in published output.
const PROXY_LABELS: &[&str] = &[
    "Proxy Server(s)",
    "Proxyserver",
    "Proxyserver(s)",
    "Serveur(s) proxy",
    "プロキシ サーバー",
    "代理服务器",
];

/// Bypass-list labels seen in published output.
const BYPASS_LABELS: &[&str] = &[
    "Bypass List",
    "Umgehungsliste",
    "Liste de contournement",
    "バイパス一覧",
    "绕过列表",
];

/// The header line: a known one, or any short line naming WinHTTP that ends in a colon (ASCII
/// or full-width, perhaps after a no-break space). Returns the text before the colon.
pub(crate) fn header(line: &str) -> Option<&str> {
    let t = line.trim();
    let body = t
        .strip_suffix(':')
        .or_else(|| t.strip_suffix('：'))?
        .trim_end();
    if HEADERS.contains(&body) {
        return Some(body);
    }
    let generic = body.contains("WinHTTP")
        && body.chars().count() <= 60
        && !body.starts_with(|c: char| c.is_ascii_digit())
        && !body.contains(['\\', '/', '=', ':']);
    generic.then_some(body)
}

/// `Label     :  value` -> (label, value): the label ends at the first colon followed by
/// whitespace or the end of the line (a `host:port` value has no space after its colon).
fn labelled(t: &str) -> Option<(&str, &str)> {
    let t = t.trim();
    let p = t.char_indices().find_map(|(p, c)| {
        let after = &t[p + c.len_utf8()..];
        (matches!(c, ':' | '：') && (after.is_empty() || after.starts_with(char::is_whitespace)))
            .then_some((p, c.len_utf8()))
    })?;
    let label = t[..p.0].trim();
    (!label.is_empty()).then(|| (label, t[p.0 + p.1..].trim()))
}

fn none_or(v: &str) -> Option<String> {
    let empty = v.is_empty()
        || (v.starts_with('(') && v.ends_with(')') && !v.contains(['.', ':', ';', '<']));
    (!empty).then(|| v.to_string())
}

struct Block {
    line: u32,
    direct: bool,
    /// Label lines read so far (the first is the proxy, the second the bypass list).
    labels: u32,
    proxy: Option<String>,
    bypass: Option<String>,
}

fn finish(b: Block, src: &Source, out: &mut Parsed) {
    if !b.direct && b.labels == 0 {
        out.warn(
            src,
            Some(Locator::Line(b.line)),
            "netsh: a WinHTTP proxy header with no settings after it",
        );
        return;
    }
    let fact = Fact::WinHttpProxy {
        direct: b.direct || b.proxy.is_none(),
        proxy: b.proxy,
        bypass: b.bypass,
    };
    out.observations
        .push(observation(src, b.line, When::Unknown, fact));
}

/// Parse `netsh winhttp show proxy` output. Never fails; lines that are neither netsh output
/// nor console text are counted as not understood (one warning names the first).
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let mut block: Option<Block> = None;
    let mut unread = NotUnderstood::default();
    for (n, line) in lines(text) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if header(t).is_some() {
            unread.start();
            if let Some(b) = block.take() {
                finish(b, src, &mut out);
            }
            block = Some(Block {
                line: n,
                direct: false,
                labels: 0,
                proxy: None,
                bypass: None,
            });
            continue;
        }
        if is_prompt(t) {
            unread.start();
            if let Some(b) = block.take() {
                finish(b, src, &mut out);
            }
            continue;
        }
        let Some(b) = block.as_mut() else {
            if !is_console_noise(t) {
                unread.line(n, line);
            }
            continue;
        };
        match labelled(t) {
            Some((label, v)) if PROXY_LABELS.contains(&label) => {
                b.proxy = none_or(v);
                b.labels += 1;
            }
            Some((label, v)) if BYPASS_LABELS.contains(&label) => {
                b.bypass = none_or(v);
                b.labels += 1;
            }
            // A label in a language not listed: netsh prints the proxy, then the bypass list.
            Some((_, v)) if b.labels < 2 && !b.direct => {
                if b.labels == 0 {
                    b.proxy = none_or(v);
                } else {
                    b.bypass = none_or(v);
                }
                b.labels += 1;
            }
            // The one sentence of direct access (`Direct access (no proxy server).`,
            // `直接アクセス (プロキシ サーバーなし)。` ...): no label, nothing else in the block.
            None if b.labels == 0 && !b.direct => b.direct = true,
            _ if is_console_noise(t) => {}
            _ => unread.line(n, line),
        }
    }
    if let Some(b) = block.take() {
        finish(b, src, &mut out);
    }
    unread.report("netsh", src, &mut out);
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
            Some(("Proxy Server(s)", "proxy.example:8080"))
        );
        assert_eq!(
            labelled("    Bypass List     :  (none)"),
            Some(("Bypass List", "(none)"))
        );
        assert_eq!(
            labelled("    プロキシ サーバー:  http=a:80;https=b:443"),
            Some(("プロキシ サーバー", "http=a:80;https=b:443"))
        );
        assert_eq!(labelled("    Direct access (no proxy server)."), None);
        assert!(header("Current WinHTTP proxy settings:").is_some());
        assert!(header("Paramètres de proxy WinHTTP actuels\u{A0}:").is_some());
        assert!(header("当前的 WinHTTP 代理服务器设置:").is_some());
        // Not a header: log lines and paths that mention WinHTTP.
        assert!(header("2020/01/23 15:17:51 WinHTTP:").is_none());
        assert!(header("C:\\WinHTTP\\x:").is_none());
        assert_eq!(none_or("(keine)"), None);
        assert_eq!(none_or("(なし)"), None);
        assert_eq!(none_or("<local>"), Some("<local>".into()));
    }

    fn proxy_of(text: &str) -> (Fact, usize) {
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 1, "{text}: {:?}", p.warnings);
        (p.observations[0].fact.clone(), p.warnings.len())
    }

    fn with_proxy(proxy: &str, bypass: Option<&str>) -> Fact {
        Fact::WinHttpProxy {
            direct: false,
            proxy: Some(proxy.into()),
            bypass: bypass.map(str::to_string),
        }
    }

    const DIRECT: Fact = Fact::WinHttpProxy {
        direct: true,
        proxy: None,
        bypass: None,
    };

    #[test]
    fn german_capture_gives_the_proxy() {
        let de = "\r\nAktuelle WinHTTP-Proxyeinstellungen:\r\n\r\n    Proxyserver:  proxy.contoso.de:3128\r\n    Umgehungsliste:  (keine)\r\n\r\n";
        assert_eq!(proxy_of(de), (with_proxy("proxy.contoso.de:3128", None), 0));
        let direct =
            "\nAktuelle WinHTTP-Proxyeinstellungen:\n\n    Direkter Zugriff (kein Proxyserver).\n";
        assert_eq!(proxy_of(direct), (DIRECT, 0));
    }

    #[test]
    fn french_capture_gives_the_proxy() {
        // French typography: a no-break space before the colons.
        let fr = "\nParamètres de proxy WinHTTP actuels\u{A0}:\n\n    Serveur(s) proxy\u{A0}:  10.1.2.3:8080\n    Liste de contournement\u{A0}:  <local>;*.exemple.fr\n";
        assert_eq!(
            proxy_of(fr),
            (with_proxy("10.1.2.3:8080", Some("<local>;*.exemple.fr")), 0)
        );
        let direct =
            "\nParamètres de proxy WinHTTP actuels :\n\n    Accès direct (sans serveur proxy).\n";
        assert_eq!(proxy_of(direct), (DIRECT, 0));
    }

    #[test]
    fn japanese_and_chinese_captures() {
        let ja = "\n現在の WinHTTP プロキシ設定:\n\n    プロキシ サーバー:  proxy.example.co.jp:8080\n    バイパス一覧     :  *.example.co.jp;<local>\n";
        assert_eq!(
            proxy_of(ja),
            (
                with_proxy("proxy.example.co.jp:8080", Some("*.example.co.jp;<local>")),
                0
            )
        );
        let ja_direct =
            "現在の WinHTTP プロキシ設定:\n    直接アクセス (プロキシ サーバーなし)。\n";
        assert_eq!(proxy_of(ja_direct), (DIRECT, 0));
        let zh = "\n当前的 WinHTTP 代理服务器设置:\n\n    代理服务器:  127.0.0.1:7897\n    绕过列表     :  (无)\n";
        assert_eq!(proxy_of(zh), (with_proxy("127.0.0.1:7897", None), 0));
    }

    #[test]
    fn other_languages_by_position() {
        // The shape of a language whose labels are not listed (placeholder words, not a
        // real translation): the first label line is the proxy, the second the bypass list.
        let text = "\nXx WinHTTP yy:\n\n    Label one:  px.example:8080\n    Label two:  <local>\n";
        assert_eq!(
            proxy_of(text),
            (with_proxy("px.example:8080", Some("<local>")), 0)
        );
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
        assert!(p.observations.is_empty());
        assert_eq!(p.unread_lines, 1);
    }

    #[test]
    fn settings_followed_by_garbage_keep_the_proxy_and_count_the_lines() {
        let text = "Current WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n\n";
        let clean = parse(text, &SRC);
        let p = parse(&format!("{text}\u{1b}[2J junk\njunk two\n"), &SRC);
        assert_eq!(p.observations, clean.observations);
        assert_eq!((p.unread_lines, p.warnings.len()), (2, 1));
        assert_eq!(p.warnings[0].at, Some(Locator::Line(5)));
        // A prompt and a header above the paste are not counted.
        let p = parse(
            &format!("Proxy of WS01, as asked:\nC:\\Windows\\system32>netsh winhttp show proxy\n\n{text}"),
            &SRC,
        );
        assert_eq!((p.unread_lines, p.warnings.len()), (0, 0));
    }
}
