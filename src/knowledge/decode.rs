//! Explaining codes: table entries, the HTTP family rule, and plain HRESULT decoding for codes
//! nobody listed.

use super::{Entry, Explanation, Family, Transient};
use crate::model::HResult;

/// The `FACILITY_*` name (without prefix) of a facility number, for the facilities in
/// `winerror.h` that can plausibly show up around BITS and Windows Update.
pub fn facility_name(facility: u16) -> Option<&'static str> {
    Some(match facility {
        0 => "NULL",
        1 => "RPC",
        2 => "DISPATCH",
        3 => "STORAGE",
        4 => "ITF",
        7 => "WIN32",
        8 => "WINDOWS",
        9 => "SECURITY",
        10 => "CONTROL",
        11 => "CERT",
        12 => "INTERNET",
        13 => "MEDIASERVER",
        14 => "MSMQ",
        15 => "SETUPAPI",
        16 => "SCARD",
        17 => "COMPLUS",
        18 => "AAF",
        19 => "URT",
        20 => "ACS",
        21 => "DPLAY",
        22 => "UMI",
        23 => "SXS",
        24 => "WINDOWS_CE",
        25 => "HTTP",
        26 => "USERMODE_COMMONLOG",
        27 => "WER",
        31 => "USERMODE_FILTER_MANAGER",
        32 => "BACKGROUNDCOPY",
        33 => "CONFIGURATION",
        34 => "STATE_MANAGEMENT",
        35 => "METADIRECTORY",
        36 => "WINDOWSUPDATE",
        37 => "DIRECTORYSERVICE",
        38 => "GRAPHICS",
        39 => "SHELL",
        40 => "TPM_SERVICES",
        41 => "TPM_SOFTWARE",
        48 => "PLA",
        49 => "FVE",
        50 => "FWP",
        51 => "WINRM",
        52 => "NDIS",
        53 => "USERMODE_HYPERVISOR",
        54 => "CMI",
        55 => "USERMODE_VIRTUALIZATION",
        56 => "USERMODE_VOLMGR",
        57 => "BCD",
        58 => "USERMODE_VHD",
        60 => "SDIAG",
        61 => "WEBSERVICES",
        80 => "WINDOWS_DEFENDER",
        81 => "OPC",
        208 => "DELIVERY_OPTIMIZATION",
        _ => return None,
    })
}

/// The standard reason phrase of an HTTP status (RFC 9110 and a few registered extras).
pub fn http_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        449 => "Retry With",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

pub(super) fn explain(entry: Option<&Entry>, code: HResult) -> Explanation {
    let facility = code.facility();
    let mut x = Explanation {
        code,
        known: false,
        source: "decoded",
        symbol: None,
        family: None,
        meaning: String::new(),
        transient: Transient::Unknown,
        cause: String::new(),
        fix: Vec::new(),
        severity: if code.is_failure() {
            "error"
        } else {
            "success"
        },
        facility,
        facility_name: facility_name(facility),
        win32: code.win32(),
        http_status: code.http_status(),
    };
    if let Some(e) = entry {
        x.known = true;
        x.source = "table";
        x.symbol = Some(e.symbol.clone());
        x.family = Some(e.family);
        x.meaning = e.meaning.clone();
        x.transient = e.transient;
        x.cause = e.cause.clone();
        x.fix = e.fix.clone();
    } else if let Some(status) = x.http_status {
        http_rule(&mut x, status);
    } else {
        decoded(&mut x);
    }
    x
}

fn http_rule(x: &mut Explanation, status: u16) {
    x.known = true;
    x.source = "http-rule";
    x.symbol = Some(format!("BG_E_HTTP_ERROR_{status}"));
    x.family = Some(Family::Http);
    x.meaning = match http_reason(status) {
        Some(reason) => format!(
            "The server or a proxy on the way answered the request with HTTP status {status} ({reason})."
        ),
        None => format!(
            "The server or a proxy on the way answered the request with HTTP status {status}, which has no standard name."
        ),
    };
    let url_check = "Request the job's URL as the job owner and read the status line and headers: `Invoke-WebRequest -Method Head -UseDefaultCredentials -Uri URL` (or `curl.exe -I URL`)";
    let resume = "Once the server answers normally, resume the job: `bitsadmin /resume {JOB}`";
    match status {
        400..=499 => {
            x.cause = "The server, or a proxy between the client and the server, refused the request; the status number says why (address, permissions, rate limit, request form).".into();
            x.fix.push(url_check.into());
            if status == 429 {
                x.fix.push("The server is rate-limiting this client: honour its Retry-After header, spread the downloads over time or lower the number of clients hitting it at once".into());
            }
            x.fix.push("Find the request in the server's and the proxy's logs at the failure time and correct the URL, permission or rule that produced the status".into());
            x.fix.push(resume.into());
        }
        500..=599 => {
            x.cause =
                "The server, or a proxy/gateway in front of it, failed while serving the request."
                    .into();
            x.fix.push(url_check.into());
            x.fix
                .push("Check the server's health and its error log at the failure time".into());
            x.fix.push("If a proxy is in the path, test the URL with the proxy bypassed to see which side fails: `netsh winhttp show proxy`".into());
            x.fix.push(resume.into());
        }
        _ => {
            x.cause = "BITS received a status it cannot use for a download in progress (an informational, success or redirect status it does not accept at that point).".into();
            x.fix.push(url_check.into());
            x.fix.push("Point the job at the final URL of the content (no redirect), served as a static file that answers HEAD and Range requests".into());
            x.fix.push(resume.into());
        }
    }
}

fn decoded(x: &mut Explanation) {
    let code = x.code;
    let fac = match x.facility_name {
        Some(n) => format!("facility {n} ({})", x.facility),
        None => format!("facility {}", x.facility),
    };
    let kind = if code.is_failure() {
        "error"
    } else {
        "success/information code"
    };
    let mut fix = vec![format!(
        "On a Windows machine, print the system's text for the code: `certutil -error {code}`"
    )];
    if let Some(w) = x.win32 {
        if (12000..=12193).contains(&w) {
            x.family = Some(Family::WinHttp);
            x.meaning = format!(
                "A WinHTTP error ({w}) returned as an HRESULT; it is not in bitsdoctor's table."
            );
            x.cause = "The HTTP stack (WinHTTP) failed on the network or TLS side of the transfer; the number says where.".into();
            fix.push(format!("`net helpmsg {w}` may not know WinHTTP numbers; look {w} up in the WinHTTP error list (ERROR_WINHTTP_*)"));
            fix.push(
                "Check the proxy and name resolution as the job owner: `netsh winhttp show proxy`, `nslookup HOST`"
                    .into(),
            );
        } else {
            x.family = Some(Family::Win32);
            x.meaning = format!(
                "Win32 error {w} returned as an HRESULT ({fac}); it is not in bitsdoctor's table."
            );
            x.cause =
                "A Windows API call failed; the Win32 error number says which condition.".into();
            fix.push(format!("`net helpmsg {w}` prints the Win32 message text"));
        }
    } else {
        x.meaning = format!(
            "An {kind} not in bitsdoctor's table: {fac}, code 0x{:04X}.",
            code.code()
        );
        if code.0 & 0xC000_0000 == 0xC000_0000 || code.0 & 0x1000_0000 != 0 {
            x.meaning.push_str(
                " Its top bits mark it as an NTSTATUS value (or one mapped into an HRESULT), not a plain HRESULT.",
            );
        }
        x.cause = "Unknown to bitsdoctor; the facility names the component that raised it.".into();
        match x.facility {
            0x20 => {
                x.family = Some(if code.is_failure() {
                    Family::Bits
                } else {
                    Family::BitsSuccess
                });
                x.cause = "A BITS code that no published bitsmsg.h defines; the job's error context tells which part of the transfer failed.".into();
                fix.push(
                    "Show the job with its error context: `bitsadmin /info {JOB} /verbose`".into(),
                );
            }
            0x24 => {
                x.family = Some(Family::Wu);
                x.cause = "A Windows Update agent code missing from bitsdoctor's table.".into();
                fix.push("Read the Windows Update log around the failure: `Get-WindowsUpdateLog` (Windows 10 and later) or %windir%\\WindowsUpdate.log".into());
            }
            0x19 => {
                x.family = Some(Family::BitsMessage);
            }
            _ => {}
        }
    }
    fix.push(
        "Look in the Bits-Client/Operational and System event logs at the failure time for the component that logged it"
            .into(),
    );
    fix.push(
        "If the code matters to you, add it to a --knowledge file so the next run explains it"
            .into(),
    );
    x.fix = fix;
}
