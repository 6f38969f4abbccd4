//! The small BITS enums that show up in job listings and event data, as numbers or names:
//! BG_ERROR_CONTEXT, BG_JOB_STATE, BG_JOB_PROXY_USAGE, BG_JOB_PRIORITY, BG_JOB_TYPE,
//! BG_AUTH_TARGET and BG_AUTH_SCHEME. Names are given without their `BG_..._` prefix, in the
//! spelling bitsadmin prints (upper case).

use crate::model::HResult;

const ERROR_CONTEXTS: [(&str, &str, u32); 9] = [
    ("NONE", "No error occurred.", 0x0020_0006),
    ("UNKNOWN", "BITS could not tell where the error came from.", 0x8020_0007),
    (
        "GENERAL_QUEUE_MANAGER",
        "The error came from the BITS transfer queue manager itself.",
        0x8020_0008,
    ),
    (
        "QUEUE_MANAGER_NOTIFICATION",
        "The error happened while BITS was notifying the owning application (notification callback or command line).",
        0x8020_000C,
    ),
    (
        "LOCAL_FILE",
        "The error concerns the local file: access to it, its folder or its volume.",
        0x8020_0009,
    ),
    (
        "REMOTE_FILE",
        "The error concerns the remote file: its URL could not be reached or served.",
        0x8020_000A,
    ),
    (
        "GENERAL_TRANSPORT",
        "The network transfer failed in a way not tied to this file (connection, proxy, name resolution).",
        0x8020_000B,
    ),
    (
        "REMOTE_APPLICATION",
        "The server application failed while processing an upload (upload-reply jobs).",
        0x8020_001E,
    ),
    (
        "SERVER_CERTIFICATE_CALLBACK",
        "The application's own server-certificate validation callback rejected the server or failed.",
        0x8020_0076,
    ),
];

/// `BG_ERROR_CONTEXT_*` name (without prefix) of a context value 0..=8.
pub fn error_context_name(value: u32) -> Option<&'static str> {
    ERROR_CONTEXTS.get(value as usize).map(|c| c.0)
}

/// What a BG_ERROR_CONTEXT value says about where a job error came from.
pub fn error_context_meaning(value: u32) -> Option<&'static str> {
    ERROR_CONTEXTS.get(value as usize).map(|c| c.1)
}

/// The HRESULT whose message text BITS uses to describe a context value (e.g. 5 -> 0x8020000A).
pub fn error_context_code(value: u32) -> Option<HResult> {
    ERROR_CONTEXTS.get(value as usize).map(|c| HResult(c.2))
}

/// The context value of a name as bitsadmin or PowerShell prints it: `BG_ERROR_CONTEXT_REMOTE_FILE`,
/// `REMOTE_FILE`, or PowerShell's `RemoteFile` (any case).
pub fn error_context_value(name: &str) -> Option<u32> {
    find_value(
        ERROR_CONTEXTS.iter().map(|c| c.0),
        name,
        "BG_ERROR_CONTEXT_",
    )
}

const JOB_STATES: [(&str, &str); 9] = [
    ("QUEUED", "Waiting for its turn to transfer."),
    ("CONNECTING", "Connecting to the server."),
    ("TRANSFERRING", "Transferring data."),
    (
        "SUSPENDED",
        "Paused (new jobs start here); needs Resume to run.",
    ),
    (
        "ERROR",
        "Stopped by an error BITS will not retry; needs a fix and Resume, or Cancel.",
    ),
    (
        "TRANSIENT_ERROR",
        "Hit a recoverable error; BITS retries after the retry delay until the no-progress timeout expires.",
    ),
    (
        "TRANSFERRED",
        "All data transferred; the owner must call Complete to get the files.",
    ),
    ("ACKNOWLEDGED", "Completed by the owner; the files are in place."),
    ("CANCELLED", "Cancelled; its temporary files were removed."),
];

/// `BG_JOB_STATE_*` name (without prefix) of a state value 0..=8.
pub fn job_state_name(value: u32) -> Option<&'static str> {
    JOB_STATES.get(value as usize).map(|s| s.0)
}

/// What a BG_JOB_STATE value means for the job.
pub fn job_state_meaning(value: u32) -> Option<&'static str> {
    JOB_STATES.get(value as usize).map(|s| s.1)
}

/// The state value of a name: `BG_JOB_STATE_TRANSIENT_ERROR`, `TRANSIENT_ERROR`,
/// PowerShell's `TransientError`, and the `CANCELED` spelling of the bitsadmin docs.
pub fn job_state_value(name: &str) -> Option<u32> {
    if name.trim().eq_ignore_ascii_case("CANCELED") {
        return Some(8);
    }
    find_value(JOB_STATES.iter().map(|s| s.0), name, "BG_JOB_STATE_")
}

const PROXY_USAGES: [&str; 4] = ["PRECONFIG", "NO_PROXY", "OVERRIDE", "AUTODETECT"];

/// `BG_JOB_PROXY_USAGE_*` name (without prefix) of a value 0..=3.
pub fn proxy_usage_name(value: u32) -> Option<&'static str> {
    PROXY_USAGES.get(value as usize).copied()
}

/// The proxy-usage value of a name (`BG_JOB_PROXY_USAGE_PRECONFIG`, `PRECONFIG`, `NoProxy` ...).
pub fn proxy_usage_value(name: &str) -> Option<u32> {
    find_value(PROXY_USAGES.iter().copied(), name, "BG_JOB_PROXY_USAGE_")
}

const PRIORITIES: [&str; 4] = ["FOREGROUND", "HIGH", "NORMAL", "LOW"];

/// `BG_JOB_PRIORITY_*` name (without prefix) of a value 0..=3.
pub fn priority_name(value: u32) -> Option<&'static str> {
    PRIORITIES.get(value as usize).copied()
}

/// The priority value of a name (`BG_JOB_PRIORITY_NORMAL`, `NORMAL`, `Normal`).
pub fn priority_value(name: &str) -> Option<u32> {
    find_value(PRIORITIES.iter().copied(), name, "BG_JOB_PRIORITY_")
}

const JOB_TYPES: [&str; 3] = ["DOWNLOAD", "UPLOAD", "UPLOAD_REPLY"];

/// `BG_JOB_TYPE_*` name (without prefix) of a value 0..=2.
pub fn job_type_name(value: u32) -> Option<&'static str> {
    JOB_TYPES.get(value as usize).copied()
}

/// The job-type value of a name (`BG_JOB_TYPE_UPLOAD_REPLY`, `UPLOAD-REPLY`, `UploadReply` ...).
pub fn job_type_value(name: &str) -> Option<u32> {
    find_value(JOB_TYPES.iter().copied(), name, "BG_JOB_TYPE_")
}

/// `BG_AUTH_TARGET_*` name of a value 1..=2.
pub fn auth_target_name(value: u32) -> Option<&'static str> {
    match value {
        1 => Some("SERVER"),
        2 => Some("PROXY"),
        _ => None,
    }
}

/// `BG_AUTH_SCHEME_*` name of a value 1..=5.
pub fn auth_scheme_name(value: u32) -> Option<&'static str> {
    match value {
        1 => Some("BASIC"),
        2 => Some("DIGEST"),
        3 => Some("NTLM"),
        4 => Some("NEGOTIATE"),
        5 => Some("PASSPORT"),
        _ => None,
    }
}

/// Match `name` against upper-case underscore names, ignoring case, the prefix, and the
/// separators `_`, `-` and space (so PowerShell's `TransientError` matches `TRANSIENT_ERROR`).
fn find_value<'a>(names: impl Iterator<Item = &'a str>, name: &str, prefix: &str) -> Option<u32> {
    let t = name.trim();
    let t = match t.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(prefix) => &t[prefix.len()..],
        _ => t,
    };
    let squash = |s: &str| -> Vec<u8> {
        s.bytes()
            .filter(|b| !matches!(b, b'_' | b'-' | b' '))
            .map(|b| b.to_ascii_uppercase())
            .collect()
    };
    let want = squash(t);
    if want.is_empty() {
        return None;
    }
    names
        .enumerate()
        .find(|(_, n)| squash(n) == want)
        .map(|(i, _)| i as u32)
}
