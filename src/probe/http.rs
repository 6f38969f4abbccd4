//! One HTTP request the way BITS makes it, over ureq: no automatic redirects (the probe follows
//! them itself, as WinHTTP does, to judge each hop), `Accept-Encoding: identity`, and at most
//! [`BODY_BYTES`] bytes of body read before the connection is dropped.

use crate::model::HResult;
use std::io::Read;
use std::time::Duration;

/// The most body bytes read from one answer.
pub const BODY_BYTES: u64 = 64;

/// The longest header value kept (longer ones are cut; the probe judges only short headers).
const HEADER_CAP: usize = 512;

/// What BITS sends as its user agent, with our name so server logs can tell the probe apart.
pub const USER_AGENT: &str = "Microsoft BITS/7.8 (bitsdoctor probe)";

/// The answer to one request, reduced to what the judgement needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub status: u16,
    /// `HTTP/1.1`, `HTTP/1.0` ...
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_length: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Body bytes read (never more than [`BODY_BYTES`]).
    pub body_read: u64,
}

/// A request that got no HTTP answer, named as the WinHTTP error a BITS client would log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: HResult,
    /// What the HTTP client said, for the record.
    pub detail: String,
}

/// An agent for one probe: direct, or through an HTTP proxy (`http://host:port`).
pub fn agent(proxy: Option<&str>, timeout: Duration) -> Result<ureq::Agent, Failure> {
    let mut b = ureq::AgentBuilder::new()
        // Only the proxy the user names (or the report lists): never one from the environment.
        .try_proxy_from_env(false)
        .redirects(0)
        .timeout_connect(timeout)
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .max_idle_connections(0);
    if let Some(p) = proxy {
        let proxy = ureq::Proxy::new(p).map_err(|e| Failure {
            code: HResult(0x8007_0057), // E_INVALIDARG: BITS rejects a proxy name it cannot use
            detail: format!("proxy `{p}` is not usable: {e}"),
        })?;
        b = b.proxy(proxy);
    }
    Ok(b.build())
}

/// Send `method` to `url` with an optional `Range: bytes=a-b`, read at most [`BODY_BYTES`].
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    range: Option<(u64, u64)>,
) -> Result<Answer, Failure> {
    let mut req = agent
        .request(method, url)
        .set("Accept", "*/*")
        .set("Accept-Encoding", "identity");
    if let Some((a, b)) = range {
        req = req.set("Range", &format!("bytes={a}-{b}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => return Err(failure(&t)),
    };
    let h = |name: &str| resp.header(name).map(cap);
    let mut answer = Answer {
        status: resp.status(),
        version: cap(resp.http_version()),
        content_length: h("content-length"),
        content_range: h("content-range"),
        content_encoding: h("content-encoding"),
        etag: h("etag"),
        last_modified: h("last-modified"),
        location: h("location"),
        body_read: 0,
    };
    if method != "HEAD" {
        let mut buf = Vec::with_capacity(BODY_BYTES as usize);
        // A short or failed read only means fewer bytes seen; the headers are what is judged.
        let _ = resp.into_reader().take(BODY_BYTES).read_to_end(&mut buf);
        answer.body_read = buf.len() as u64;
    }
    Ok(answer)
}

fn cap(s: &str) -> String {
    let mut end = s.len().min(HEADER_CAP);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The WinHTTP error BITS would log for a request that got no HTTP answer.
fn failure(t: &ureq::Transport) -> Failure {
    use ureq::ErrorKind as K;
    let detail = cap(&t.to_string());
    let code = if let Some(code) = tls_code(t) {
        code
    } else if timed_out(t) {
        0x8007_2EE2 // ERROR_WINHTTP_TIMEOUT
    } else {
        match t.kind() {
            K::Dns => 0x8007_2EE7,              // ERROR_WINHTTP_NAME_NOT_RESOLVED
            K::ConnectionFailed => 0x8007_2EFD, // ERROR_WINHTTP_CANNOT_CONNECT
            K::ProxyConnect => 0x8007_2EFD,
            K::ProxyUnauthorized => 0x8019_0197, // BG_E_HTTP_ERROR_407
            K::InvalidUrl => 0x8007_2EE5,        // ERROR_WINHTTP_INVALID_URL
            K::UnknownScheme => 0x8007_2EE6,     // ERROR_WINHTTP_UNRECOGNIZED_SCHEME
            K::InvalidProxyUrl => 0x8007_0057,
            K::TooManyRedirects => 0x8007_2F7C, // ERROR_WINHTTP_REDIRECT_FAILED
            K::BadStatus | K::BadHeader => 0x8007_2F78, // ERROR_WINHTTP_INVALID_SERVER_RESPONSE
            K::Io | K::HTTP | K::InsecureRequestHttpsOnly => 0x8007_2EFE, // CONNECTION_ERROR
        }
    };
    Failure {
        code: HResult(code),
        detail,
    }
}

/// Every error in the source chain of `t`.
fn chain(t: &ureq::Transport) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    let first = std::error::Error::source(t);
    std::iter::successors(first, |e| e.source())
}

fn timed_out(t: &ureq::Transport) -> bool {
    chain(t).any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            )
        })
    })
}

/// A TLS failure, named as Schannel/WinHTTP would name it.
fn tls_code(t: &ureq::Transport) -> Option<u32> {
    use rustls::{CertificateError as C, Error as E};
    let tls = chain(t).find_map(|e| {
        e.downcast_ref::<E>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<E>())
        })
    })?;
    Some(match tls {
        E::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => 0x8007_2F05, // CERT_DATE_INVALID
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            0x8007_2F06 // CERT_CN_INVALID
        }
        E::InvalidCertificate(C::UnknownIssuer) => 0x8007_2F0D, // SECURE_INVALID_CA
        E::InvalidCertificate(C::Revoked) => 0x8007_2F8A,       // CERT_REVOKED
        E::InvalidCertificate(_) => 0x8007_2F8F,                // SECURE_FAILURE
        _ => 0x8007_2F7D,                                       // SECURE_CHANNEL_ERROR
    })
}
