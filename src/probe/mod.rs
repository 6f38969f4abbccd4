//! `bitsdoctor probe`: ask a live server (directly or through a proxy) what BITS asks it, and
//! judge each answer against what BITS requires of servers and proxies (bits-facts.md section
//! 4). The verdict is named as the error a BITS client would hit, with the fix from the code
//! table, so it reads like the diagnosis `analyze` would give for the same failure.
//!
//! The requests, in BITS's order: a HEAD (the size must come back in Content-Length), a GET for
//! the first bytes with one `Range`, and a GET for the last bytes; every request carries
//! `Accept-Encoding: identity` and follows redirects the way WinHTTP does (at most
//! [`MAX_REDIRECTS`] hops, never from https down to http). At most a few bytes of body are read
//! from any answer. The only hosts contacted are the URL's and the proxy's.
//!
//! This is the one module that talks to the network; it never prints.

pub mod from_report;
pub mod http;

use crate::knowledge::Knowledge;
use crate::model::HResult;
use http::Answer;
use serde::Serialize;
use std::time::Duration;

/// The JSON schema of `probe` output.
pub const SCHEMA: &str = "bitsdoctor/probe/v1";

/// WinHTTP's default limit of automatic redirects.
pub const MAX_REDIRECTS: usize = 10;

/// Bytes asked for in each range request.
pub const RANGE_BYTES: u64 = 16;

const BG_E_MISSING_FILE_SIZE: u32 = 0x8020_0011;
const BG_E_INSUFFICIENT_RANGE_SUPPORT: u32 = 0x8020_0013;
const BG_E_INVALID_SERVER_RESPONSE: u32 = 0x8020_001B;
const BG_E_REMOTE_FILE_CHANGED: u32 = 0x8020_0073;
const ERROR_WINHTTP_INVALID_URL: u32 = 0x8007_2EE5;
const ERROR_WINHTTP_UNRECOGNIZED_SCHEME: u32 = 0x8007_2EE6;
const ERROR_WINHTTP_REDIRECT_FAILED: u32 = 0x8007_2F7C;

/// One request and what its answer shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// `HEAD`, `GET` ...
    pub method: &'static str,
    pub url: String,
    /// The `Range` header sent, if any (`bytes=0-15`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// The answer, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// What the HTTP client reported when there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the answer meets BITS's requirement for this request.
    pub ok: bool,
    /// What the answer shows, in one sentence.
    pub finding: String,
}

/// The outcome of one probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// BITS would download this URL.
    pub ok: bool,
    /// The error a BITS client would hit.
    pub code: Option<HResult>,
    pub symbol: Option<String>,
    /// Why, in one sentence.
    pub summary: String,
    /// The code's meaning from the code table.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub meaning: String,
    /// The fix from the code table (the same steps `analyze` and `explain` give).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fix: Vec<String>,
}

/// One URL probed, directly or through one proxy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub url: String,
    /// The proxy used (`http://host:port`), `None` for a direct connection.
    pub proxy: Option<String>,
    /// Where the redirects (if any) ended.
    pub final_url: String,
    /// Every hop the HEAD was redirected to, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// The file size from the HEAD answer.
    pub size: Option<u64>,
    pub steps: Vec<Step>,
    pub verdict: Verdict,
}

/// Why a probe stopped: the error BITS would hit and what showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub code: HResult,
    pub summary: String,
}

fn bad(code: u32, summary: impl Into<String>) -> Bad {
    Bad {
        code: HResult(code),
        summary: summary.into(),
    }
}

/// BG_E_HTTP_ERROR_nnn for an HTTP status.
fn http_error(status: u16, what: &str) -> Bad {
    bad(
        0x8019_0000 + u32::from(status),
        format!("{what} answered HTTP {status}"),
    )
}

/// Probe `url` directly (`proxy` None) or through `proxy` (`http://host:port`; a bare
/// `host:port` is taken as http), waiting at most `timeout` for each request.
pub fn probe(url: &str, proxy: Option<&str>, timeout: Duration, kb: &Knowledge) -> Probe {
    let proxy = proxy.map(proxy_url);
    let mut p = Probe {
        url: url.to_string(),
        proxy: proxy.clone(),
        final_url: url.to_string(),
        redirects: Vec::new(),
        size: None,
        steps: Vec::new(),
        verdict: Verdict {
            ok: true,
            code: None,
            symbol: None,
            summary: String::new(),
            meaning: String::new(),
            fix: Vec::new(),
        },
    };
    let result = run(&mut p, proxy.as_deref(), timeout);
    p.verdict = match result {
        Ok(summary) => Verdict {
            ok: true,
            code: None,
            symbol: None,
            summary,
            meaning: String::new(),
            fix: Vec::new(),
        },
        Err(b) => {
            let e = kb.explain(b.code);
            Verdict {
                ok: false,
                code: Some(b.code),
                symbol: e.symbol,
                summary: b.summary,
                meaning: e.meaning,
                fix: e.fix,
            }
        }
    };
    p
}

/// `host:port` -> `http://host:port`; URLs as they are.
pub fn proxy_url(p: &str) -> String {
    let p = p.trim();
    if p.contains("://") {
        p.to_string()
    } else {
        format!("http://{p}")
    }
}

/// The requests in order; the first requirement not met ends the probe.
fn run(p: &mut Probe, proxy: Option<&str>, timeout: Duration) -> Result<String, Bad> {
    check_url(&p.url)?;
    let agent = http::agent(proxy, timeout).map_err(|f| Bad {
        code: f.code,
        summary: f.detail,
    })?;
    let via = if proxy.is_some() {
        " through the proxy"
    } else {
        ""
    };

    let (head, final_url) = follow(p, &agent, "HEAD", None)?;
    p.final_url = final_url.clone();
    let size = match judge_head(&head) {
        Ok(size) => {
            record_last(p, true, format!("HEAD gave the size: {size} bytes"));
            size
        }
        Err(b) => {
            record_last(p, false, b.summary.clone());
            return Err(b);
        }
    };
    p.size = Some(size);
    if size == 0 {
        return Ok(format!(
            "HEAD{via} gives Content-Length 0: an empty file, no byte range to ask for"
        ));
    }
    let n = size.min(RANGE_BYTES);
    for (first, last, which) in [(0, n - 1, "first"), (size - n, size - 1, "last")] {
        let (answer, _) = follow(p, &agent, "GET", Some((first, last)))?;
        match judge_range(&answer, first, last, size, &head) {
            Ok(()) => record_last(
                p,
                true,
                format!(
                    "206 Partial Content for the {which} {n} byte(s), Content-Range {}",
                    answer.content_range.as_deref().unwrap_or("")
                ),
            ),
            Err(b) => {
                record_last(p, false, b.summary.clone());
                return Err(b);
            }
        }
    }
    let version = if head.version.eq_ignore_ascii_case("HTTP/1.0") {
        " (HTTP/1.0, which BITS accepts because HEAD and Range work)"
    } else {
        ""
    };
    Ok(format!(
        "HEAD{via} gives the size ({size} bytes) and byte ranges at the start and the end come \
         back as 206 with matching Content-Range and the same validators{version}"
    ))
}

fn record_last(p: &mut Probe, ok: bool, finding: String) {
    if let Some(s) = p.steps.last_mut() {
        s.ok = ok;
        s.finding = finding;
    }
}

/// The URL must be http(s) and well formed, as WinHTTP requires.
fn check_url(url: &str) -> Result<url::Url, Bad> {
    let u = url::Url::parse(url).map_err(|e| {
        bad(
            ERROR_WINHTTP_INVALID_URL,
            format!("`{url}` is not a valid URL: {e}"),
        )
    })?;
    match u.scheme() {
        "http" | "https" if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(u),
        "http" | "https" => Err(bad(ERROR_WINHTTP_INVALID_URL, "the URL names no host")),
        other => Err(bad(
            ERROR_WINHTTP_UNRECOGNIZED_SCHEME,
            format!("scheme `{other}` is not http or https"),
        )),
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Send one request to the probe's URL and follow its redirects as WinHTTP does; every hop is
/// a step. Returns the final answer and where it came from.
fn follow(
    p: &mut Probe,
    agent: &ureq::Agent,
    method: &'static str,
    range: Option<(u64, u64)>,
) -> Result<(Answer, String), Bad> {
    let mut current = p.url.clone();
    let mut hops: Vec<String> = Vec::new();
    loop {
        let mut step = Step {
            method,
            url: current.clone(),
            range: range.map(|(a, b)| format!("bytes={a}-{b}")),
            answer: None,
            error: None,
            ok: false,
            finding: String::new(),
        };
        let answer = match http::send(agent, method, &current, range) {
            Ok(a) => a,
            Err(f) => {
                step.error = Some(f.detail.clone());
                step.finding = format!("no answer: {}", f.detail);
                p.steps.push(step);
                return Err(Bad {
                    code: f.code,
                    summary: format!("{method}: {}", f.detail),
                });
            }
        };
        step.answer = Some(answer.clone());
        let location = answer
            .location
            .clone()
            .filter(|_| is_redirect(answer.status));
        let Some(location) = location else {
            p.steps.push(step);
            return Ok((answer, current));
        };
        let next = next_hop(&current, &location, hops.len());
        step.ok = next.is_ok();
        step.finding = match &next {
            Ok(n) => format!("HTTP {} redirect to {n}", answer.status),
            Err(b) => b.summary.clone(),
        };
        p.steps.push(step);
        let next = next?;
        if method == "HEAD" {
            p.redirects.push(next.clone());
        }
        hops.push(next.clone());
        current = next;
    }
}

/// Where a redirect leads, refused where WinHTTP refuses it by default: from https to http,
/// to another scheme, or after [`MAX_REDIRECTS`] hops.
fn next_hop(current: &str, location: &str, hops: usize) -> Result<String, Bad> {
    let base = url::Url::parse(current)
        .map_err(|e| bad(ERROR_WINHTTP_REDIRECT_FAILED, format!("bad URL: {e}")))?;
    let next = base.join(location).map_err(|e| {
        bad(
            ERROR_WINHTTP_REDIRECT_FAILED,
            format!("redirect to `{location}`, which is not a URL: {e}"),
        )
    })?;
    if hops >= MAX_REDIRECTS {
        return Err(bad(
            ERROR_WINHTTP_REDIRECT_FAILED,
            format!("more than {MAX_REDIRECTS} redirects (WinHTTP's default limit)"),
        ));
    }
    match (base.scheme(), next.scheme()) {
        ("https", "http") => Err(bad(
            ERROR_WINHTTP_REDIRECT_FAILED,
            format!("redirect from https down to http ({next}), which WinHTTP refuses by default"),
        )),
        (_, "http" | "https") => Ok(next.to_string()),
        (_, other) => Err(bad(
            ERROR_WINHTTP_REDIRECT_FAILED,
            format!("redirect to a `{other}` URL ({next})"),
        )),
    }
}

fn encoded(a: &Answer) -> Option<&str> {
    a.content_encoding
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
}

/// The HEAD answer must be 200 with the file size in Content-Length, for the file itself (no
/// content coding applied although BITS asked for `identity`).
pub fn judge_head(a: &Answer) -> Result<u64, Bad> {
    if a.status != 200 {
        return Err(http_error(a.status, "HEAD"));
    }
    if let Some(enc) = encoded(a) {
        return Err(bad(
            BG_E_INVALID_SERVER_RESPONSE,
            format!(
                "HEAD answered with Content-Encoding {enc} although the request asked for \
                 identity: sizes and ranges would be of the encoded form, not of the file"
            ),
        ));
    }
    let Some(len) = a.content_length.as_deref() else {
        return Err(bad(
            BG_E_MISSING_FILE_SIZE,
            "HEAD answered 200 without Content-Length: the file size is unknown",
        ));
    };
    len.trim().parse::<u64>().map_err(|_| {
        bad(
            BG_E_MISSING_FILE_SIZE,
            format!("HEAD answered with Content-Length `{len}`, which is not a size"),
        )
    })
}

/// `bytes FIRST-LAST/TOTAL` (TOTAL may be `*`).
fn parse_content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.trim().split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?, total))
}

/// A validator with its weakness marker removed (`W/"x"` and `"x"` name the same version).
fn strong(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix("W/").unwrap_or(v)
}

/// The answer to `Range: bytes=FIRST-LAST` must be 206 for exactly those bytes of a file of
/// `size` bytes, not content-coded, with the validators the HEAD answer gave.
pub fn judge_range(a: &Answer, first: u64, last: u64, size: u64, head: &Answer) -> Result<(), Bad> {
    let asked = format!("bytes={first}-{last}");
    match a.status {
        206 => {}
        200 => {
            return Err(bad(
                BG_E_INSUFFICIENT_RANGE_SUPPORT,
                format!(
                    "GET with Range {asked} answered 200 with the whole file: the server or a \
                     proxy in between ignored the Range header"
                ),
            ))
        }
        s => return Err(http_error(s, &format!("GET with Range {asked}"))),
    }
    if let Some(enc) = encoded(a) {
        return Err(bad(
            BG_E_INVALID_SERVER_RESPONSE,
            format!(
                "206 with Content-Encoding {enc}: the bytes are a range of the encoded form, \
                 not of the file"
            ),
        ));
    }
    let Some(cr) = a.content_range.as_deref() else {
        return Err(bad(
            BG_E_INSUFFICIENT_RANGE_SUPPORT,
            format!("GET with Range {asked} answered 206 without Content-Range"),
        ));
    };
    let Some((a0, a1, total)) = parse_content_range(cr) else {
        return Err(bad(
            BG_E_INVALID_SERVER_RESPONSE,
            format!("206 with Content-Range `{cr}`, which is not a byte range"),
        ));
    };
    if a0 != first || a1 < a0 || a1 > last {
        return Err(bad(
            BG_E_INVALID_SERVER_RESPONSE,
            format!("asked for {asked}, the answer's Content-Range is `{cr}`"),
        ));
    }
    if total.is_some_and(|t| t != size) {
        return Err(bad(
            BG_E_INVALID_SERVER_RESPONSE,
            format!("HEAD gave {size} bytes, the Content-Range `{cr}` another size"),
        ));
    }
    if let Some(len) = a.content_length.as_deref() {
        if len.trim().parse::<u64>().ok() != Some(a1 - a0 + 1) {
            return Err(bad(
                BG_E_INVALID_SERVER_RESPONSE,
                format!("Content-Range `{cr}` but Content-Length {len}"),
            ));
        }
    }
    for (name, h, g) in [
        ("ETag", &head.etag, &a.etag),
        ("Last-Modified", &head.last_modified, &a.last_modified),
    ] {
        if let (Some(h), Some(g)) = (h, g) {
            if strong(h) != strong(g) {
                return Err(bad(
                    BG_E_REMOTE_FILE_CHANGED,
                    format!(
                        "{name} differs between HEAD ({h}) and the GET for {asked} ({g}): to \
                         BITS the file changed between requests (servers behind one name that \
                         disagree do this too)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(len: Option<&str>) -> Answer {
        Answer {
            status: 200,
            version: "HTTP/1.1".into(),
            content_length: len.map(str::to_string),
            etag: Some("\"6650a1b2-2800\"".into()),
            last_modified: Some("Fri, 24 May 2024 14:03:30 GMT".into()),
            ..Answer::default()
        }
    }

    fn partial(cr: &str, len: &str) -> Answer {
        Answer {
            status: 206,
            content_range: Some(cr.into()),
            content_length: Some(len.into()),
            ..head(None)
        }
    }

    #[test]
    fn head_needs_200_and_a_size() {
        assert_eq!(judge_head(&head(Some("10240"))), Ok(10240));
        let b = judge_head(&head(None)).unwrap_err();
        assert_eq!(b.code, HResult(BG_E_MISSING_FILE_SIZE));
        let b = judge_head(&head(Some("ten"))).unwrap_err();
        assert_eq!(b.code, HResult(BG_E_MISSING_FILE_SIZE));
        let mut nf = head(Some("153"));
        nf.status = 404;
        assert_eq!(judge_head(&nf).unwrap_err().code, HResult(0x8019_0194));
        let mut gz = head(Some("512"));
        gz.content_encoding = Some("gzip".into());
        assert_eq!(
            judge_head(&gz).unwrap_err().code,
            HResult(BG_E_INVALID_SERVER_RESPONSE)
        );
        gz.content_encoding = Some("identity".into());
        assert_eq!(judge_head(&gz), Ok(512));
    }

    #[test]
    fn range_needs_206_with_the_asked_bytes() {
        let h = head(Some("10240"));
        assert_eq!(
            judge_range(&partial("bytes 0-15/10240", "16"), 0, 15, 10240, &h),
            Ok(())
        );
        assert_eq!(
            judge_range(
                &partial("bytes 10224-10239/10240", "16"),
                10224,
                10239,
                10240,
                &h
            ),
            Ok(())
        );
        // A shorter range than asked is allowed; a different start is not.
        assert_eq!(
            judge_range(&partial("bytes 0-7/10240", "8"), 0, 15, 10240, &h),
            Ok(())
        );
        let code = |a: &Answer| judge_range(a, 0, 15, 10240, &h).unwrap_err().code.0;
        assert_eq!(
            code(&partial("bytes 1-16/10240", "16")),
            BG_E_INVALID_SERVER_RESPONSE
        );
        assert_eq!(
            code(&partial("bytes 0-15/9999", "16")),
            BG_E_INVALID_SERVER_RESPONSE
        );
        assert_eq!(
            code(&partial("bytes 0-15/10240", "10240")),
            BG_E_INVALID_SERVER_RESPONSE
        );
        assert_eq!(code(&partial("0-15", "16")), BG_E_INVALID_SERVER_RESPONSE);
        let mut whole = head(Some("10240"));
        whole.status = 200;
        assert_eq!(code(&whole), BG_E_INSUFFICIENT_RANGE_SUPPORT);
        let mut bare = partial("x", "16");
        bare.content_range = None;
        assert_eq!(code(&bare), BG_E_INSUFFICIENT_RANGE_SUPPORT);
        let mut gz = partial("bytes 0-15/10240", "16");
        gz.content_encoding = Some("gzip".into());
        assert_eq!(code(&gz), BG_E_INVALID_SERVER_RESPONSE);
        let mut moved = partial("bytes 0-15/10240", "16");
        moved.etag = Some("\"6650a1b2-2801\"".into());
        assert_eq!(code(&moved), BG_E_REMOTE_FILE_CHANGED);
        moved.etag = Some("W/\"6650a1b2-2800\"".into());
        assert_eq!(judge_range(&moved, 0, 15, 10240, &h), Ok(()));
        let mut unsat = head(None);
        unsat.status = 416;
        assert_eq!(code(&unsat), 0x8019_01A0);
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("bytes 0-15/10240"),
            Some((0, 15, Some(10240)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, 9, None)));
        assert_eq!(parse_content_range("bytes */10240"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }

    #[test]
    fn redirects_as_winhttp_follows_them() {
        assert_eq!(
            next_hop("http://wsus01:8530/Content/a.cab", "/b.cab", 0).unwrap(),
            "http://wsus01:8530/b.cab"
        );
        assert_eq!(
            next_hop("http://a.example/x", "https://b.example/y", 3).unwrap(),
            "https://b.example/y"
        );
        let down = next_hop("https://a.example/x", "http://a.example/x", 0).unwrap_err();
        assert_eq!(down.code, HResult(ERROR_WINHTTP_REDIRECT_FAILED));
        let far = next_hop("http://a.example/x", "/y", MAX_REDIRECTS).unwrap_err();
        assert_eq!(far.code, HResult(ERROR_WINHTTP_REDIRECT_FAILED));
        let ftp = next_hop("http://a.example/x", "ftp://a.example/x", 0).unwrap_err();
        assert_eq!(ftp.code, HResult(ERROR_WINHTTP_REDIRECT_FAILED));
    }

    #[test]
    fn urls_and_proxies() {
        assert_eq!(
            check_url("ftp://files.example/a").unwrap_err().code,
            HResult(ERROR_WINHTTP_UNRECOGNIZED_SCHEME)
        );
        assert_eq!(
            check_url("C:\\temp\\a.cab").unwrap_err().code,
            HResult(ERROR_WINHTTP_UNRECOGNIZED_SCHEME)
        );
        assert_eq!(
            check_url("http//wsus01/a").unwrap_err().code,
            HResult(ERROR_WINHTTP_INVALID_URL)
        );
        assert!(check_url("https://wsus01.contoso.local:8531/Content/a.cab").is_ok());
        assert_eq!(
            proxy_url("proxy02.contoso.local:3128"),
            "http://proxy02.contoso.local:3128"
        );
        assert_eq!(proxy_url(" http://10.0.0.5:8080 "), "http://10.0.0.5:8080");
    }

    #[test]
    fn a_bad_url_is_judged_without_any_request() {
        let p = probe(
            "gopher://x/y",
            None,
            Duration::from_secs(1),
            Knowledge::shared(),
        );
        assert!(p.steps.is_empty());
        assert!(!p.verdict.ok);
        assert_eq!(
            p.verdict.code,
            Some(HResult(ERROR_WINHTTP_UNRECOGNIZED_SCHEME))
        );
        assert_eq!(
            p.verdict.symbol.as_deref(),
            Some("ERROR_WINHTTP_UNRECOGNIZED_SCHEME")
        );
        assert!(!p.verdict.fix.is_empty());
    }
}
