//! PowerShell `Get-BitsTransfer -AllUsers | Format-List *` output (`Name : value` records,
//! values wrapped onto lines indented to the value column, `{a -> b, c -> d}` collections),
//! table views (the default `JobId DisplayName TransferType JobState OwnerAccount`, and any
//! `Select-Object` / `Format-Table` of BitsJob properties), and `Start-BitsTransfer : ...
//! (Exception from HRESULT: 0x...)` error records.
//!
//! A table cell the console cut (`Sus...`, `Transf…`) is completed when it is the start of
//! exactly one value the column can hold (`Sus...` = Suspended), else it is a warning. A table
//! with no JobId or DisplayName column (a second `Select-Object OwnerAccount, Priority,
//! FileList` on the same page) adds its rows to the rows of the table before it when both list
//! the same number of jobs (Get-BitsTransfer lists jobs in the same order), else it is a
//! warning.

use std::borrow::Cow;

use nom::bytes::complete::{tag, take_till, take_while1};
use nom::character::complete::{char, space0};
use nom::combinator::rest;
use nom::{IResult, Parser};

use super::bitsadmin::{lines, local_time, norm_state, observation};
use super::{is_console_noise, NotUnderstood, Parsed, Source};
use crate::model::{Fact, Guid, HResult, JobSnapshot, Locator, When};

type Res<'a, T> = IResult<&'a str, T>;

/// `Name    : value` at column 0 -> (name, value). The value may be empty.
fn field(i: &str) -> Res<'_, (&str, &str)> {
    let (i, name) = take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_').parse(i)?;
    let (i, _) = (space0, char(':')).parse(i)?;
    let (i, v) = rest(i)?;
    let v = v.strip_prefix(' ').unwrap_or(v);
    if !(v.is_empty() || i.is_empty()) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((i, (name, v.trim_end())))
}

/// `... (Exception from HRESULT: 0x800704DD)` -> the code.
fn exception_hresult(i: &str) -> Res<'_, HResult> {
    let (i, _) = (take_till(|c| c == '('), tag("(Exception from HRESULT: ")).parse(i)?;
    let (i, code) = take_while1(|c: char| c.is_ascii_alphanumeric()).parse(i)?;
    match HResult::parse_number(code) {
        Some(h) => Ok((i, h)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

/// `{http://srv/a.cab -> C:\a.cab, http://srv/b.cab -> C:\b.cab}`; `...` (the enumeration limit)
/// is dropped.
fn file_list(v: &str) -> Vec<(String, String)> {
    let inner = v.trim();
    let inner = inner
        .strip_prefix('{')
        .map(|x| x.strip_suffix('}').unwrap_or(x))
        .unwrap_or(inner);
    inner
        .split(", ")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "..." && *s != "…")
        .map(|item| match item.find(" -> ") {
            Some(p) => (
                item[..p].trim().to_string(),
                item[p + 4..].trim().to_string(),
            ),
            None if item.contains("://") || item.starts_with("\\\\") => {
                (item.to_string(), String::new())
            }
            None => (String::new(), item.to_string()),
        })
        .collect()
}

fn context_number(v: &str) -> Option<u32> {
    let n = match v {
        "None" => 0,
        "Unknown" => 1,
        "GeneralQueueManager" => 2,
        "QueueManagerNotification" => 3,
        "LocalFile" => 4,
        "RemoteFile" => 5,
        "GeneralTransport" => 6,
        "RemoteApplication" => 7,
        "ServerCertificateCallback" => 8,
        _ => return v.parse().ok(),
    };
    Some(n)
}

fn proxy_usage(v: &str) -> String {
    match v {
        "SystemDefault" | "Preconfig" => "PRECONFIG".to_string(),
        "NoProxy" => "NO_PROXY".to_string(),
        "AutoDetect" => "AUTODETECT".to_string(),
        _ => norm_state(v),
    }
}

fn nonempty_list(v: &str) -> Option<String> {
    let t = v.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t)
        .trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// One Format-List record being read.
#[derive(Default)]
struct Record {
    line: u32,
    snap: JobSnapshot,
    is_job: bool,
    /// The lines it takes, and its first (shown when it is not a job's record).
    lines: u64,
    first: String,
}

/// Apply one `Name : value` pair. Returns false when the value is unreadable.
fn set(r: &mut Record, name: &str, v: &str) -> bool {
    let s = &mut r.snap;
    fn num<T: std::str::FromStr>(slot: &mut Option<T>, v: &str) -> bool {
        if v.is_empty() {
            return true;
        }
        match v.parse() {
            Ok(x) => {
                *slot = Some(x);
                true
            }
            Err(_) => false,
        }
    }
    let word = |v: &str| (!v.is_empty()).then(|| v.to_string());
    match name {
        "JobId" => {
            r.is_job = true;
            s.job = Guid::parse(v);
            return s.job.is_some() || v.is_empty();
        }
        "JobState" => {
            r.is_job = true;
            s.state = (!v.is_empty()).then(|| norm_state(v));
        }
        "DisplayName" => s.display_name = v.to_string(),
        "TransferType" => s.job_type = (!v.is_empty()).then(|| norm_state(v)),
        "OwnerAccount" => s.owner = word(v),
        "Priority" => s.priority = (!v.is_empty()).then(|| v.to_ascii_uppercase()),
        "RetryInterval" => return num(&mut s.retry_delay, v),
        "RetryTimeout" => return num(&mut s.no_progress_timeout, v),
        "TransientErrorCount" => return num(&mut s.error_count, v),
        "ProxyUsage" => s.proxy_usage = (!v.is_empty()).then(|| proxy_usage(v)),
        "ProxyList" => s.proxy_list = nonempty_list(v),
        "ProxyBypassList" => s.proxy_bypass_list = nonempty_list(v),
        "ErrorContext" => match context_number(v) {
            Some(n) => s.error_context = (n != 0).then_some(n),
            None => return v.is_empty(),
        },
        "InternalErrorCode" => match HResult::parse_number(v) {
            Some(h) => s.error_code = (h.0 != 0).then_some(h),
            None => return v.is_empty(),
        },
        "BytesTotal" => {
            let ok = num(&mut s.bytes_total, v);
            if s.bytes_total == Some(u64::MAX) {
                s.bytes_total = None;
            }
            return ok;
        }
        "BytesTransferred" => return num(&mut s.bytes_transferred, v),
        "FilesTotal" => return num(&mut s.files_total, v),
        "FilesTransferred" => return num(&mut s.files_transferred, v),
        "CreationTime" => s.creation_time = local_time(v),
        "ModificationTime" => s.modification_time = local_time(v),
        "TransferCompletionTime" => s.completion_time = local_time(v),
        "FileList" => s.files = file_list(v),
        "NotifyCmdLine" => s.notify_command = nonempty_list(v),
        _ => {}
    }
    true
}

fn finish(r: Record, src: &Source, out: &mut Parsed, unread: &mut NotUnderstood) {
    if !r.is_job {
        // `Name : value` lines that are not a BitsJob's properties.
        unread.lines(r.line, &r.first, r.lines);
        return;
    }
    unread.start();
    let s = r.snap;
    let time = s.modification_time;
    let error = s.error_code.map(|hr| Fact::TransferError {
        job: s.job,
        title: s.display_name.clone(),
        url: match s.files.as_slice() {
            [(remote, _)] => remote.clone(),
            _ => String::new(),
        },
        hr,
        proxy: s.proxy_list.clone(),
        context: s.error_context,
    });
    out.observations.push(observation(
        src,
        r.line,
        time,
        Fact::JobSnapshot(Box::new(s)),
    ));
    if let Some(fact) = error {
        out.observations.push(observation(src, r.line, time, fact));
    }
}

/// Column layout of a table view, from its dashes line: (name, start char, end char or None).
fn table_columns<'a>(header: &'a str, dashes: &str) -> Vec<(&'a str, usize, Option<usize>)> {
    let mut cols: Vec<(&str, usize, Option<usize>)> = Vec::new();
    let mut start = None;
    for (i, c) in dashes.chars().chain(std::iter::once(' ')).enumerate() {
        match (c == '-', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let name = char_slice(header, s, Some(i)).trim();
                if let Some(last) = cols.last_mut() {
                    last.2 = Some(s);
                }
                cols.push((name, s, None));
                start = None;
            }
            _ => {}
        }
    }
    cols
}

fn char_slice(s: &str, from: usize, to: Option<usize>) -> &str {
    let mut idx = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()));
    let a = idx.nth(from).unwrap_or(s.len());
    let b = match to {
        Some(t) if t > from => s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .nth(t)
            .unwrap_or(s.len()),
        Some(_) => a,
        None => s.len(),
    };
    &s[a..b.max(a)]
}

/// The output width: the longest line (wrapped lines fill it).
fn max_width(text: &str) -> usize {
    lines(text)
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(40)
}

/// BitsJob properties a table column may show.
const TABLE_COLUMNS: &[&str] = &[
    "JobId",
    "DisplayName",
    "Description",
    "TransferType",
    "JobState",
    "OwnerAccount",
    "Priority",
    "FileList",
    "BytesTotal",
    "BytesTransferred",
    "FilesTotal",
    "FilesTransferred",
    "CreationTime",
    "ModificationTime",
    "TransferCompletionTime",
    "InternalErrorCode",
    "ErrorContext",
    "ErrorDescription",
    "ProxyUsage",
    "ProxyList",
    "TransientErrorCount",
];

const STATES: &[&str] = &[
    "Queued",
    "Connecting",
    "Transferring",
    "Suspended",
    "Error",
    "TransientError",
    "Transferred",
    "Acknowledged",
    "Cancelled",
    "Canceled",
];

/// A table header: BitsJob property names only (at least one known), followed by a rule.
fn table_header(line: &str, next: Option<&str>) -> bool {
    let rule = next.map(str::trim).unwrap_or("");
    let names: Vec<&str> = line.split_whitespace().collect();
    !names.is_empty()
        && rule.starts_with('-')
        && rule.chars().all(|c| c == '-' || c == ' ')
        && names
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        && names.iter().any(|w| TABLE_COLUMNS.contains(w))
}

/// A value the console cut: its visible start, without the ellipsis.
fn cut_value(v: &str) -> Option<&str> {
    v.strip_suffix("...")
        .or_else(|| v.strip_suffix('…'))
        .map(str::trim_end)
}

/// The one value of `choices` that starts with `prefix` (any case).
fn complete<'c>(prefix: &str, choices: &[&'c str]) -> Option<&'c str> {
    let p = prefix.to_ascii_lowercase();
    let mut found = choices
        .iter()
        .filter(|c| c.to_ascii_lowercase().starts_with(&p))
        .map(|c| norm_state(c));
    let first = found.next()?;
    // `Canceled` and `Cancelled` are one state.
    if found.any(|other| other != first) || prefix.is_empty() {
        return None;
    }
    choices
        .iter()
        .copied()
        .find(|c| c.to_ascii_lowercase().starts_with(&p))
}

/// A table being read: its columns, its rows, and the cut values no column could complete.
struct Table<'a> {
    line: u32,
    header: &'a str,
    cols: Vec<(&'a str, usize, Option<usize>)>,
    rows: Vec<(u32, JobSnapshot)>,
    /// column -> (count, first example) of cut values left as they were.
    cut: std::collections::BTreeMap<&'a str, (usize, String)>,
}

impl<'a> Table<'a> {
    fn identified(&self) -> bool {
        self.cols
            .iter()
            .any(|(c, _, _)| matches!(*c, "JobId" | "DisplayName"))
    }

    /// Read one row into a snapshot.
    fn row(&mut self, n: u32, line: &str) {
        let named = self.cols.iter().any(|(c, _, _)| *c == "DisplayName");
        let mut snap = JobSnapshot::default();
        for &(name, from, to) in &self.cols {
            let v = char_slice(line, from, to).trim();
            if v.is_empty() {
                continue;
            }
            let cut = cut_value(v);
            let ok = match name {
                // A cut GUID cannot be completed: the job is then known by its name (the default
                // view always cuts the GUID), or the cut is a warning.
                "JobId" => {
                    snap.job = Guid::parse(v);
                    snap.job.is_some() || (cut.is_some() && named)
                }
                "DisplayName" => {
                    snap.display_name = v.to_string();
                    cut.is_none()
                }
                "JobState" => match cut.map_or(Some(v), |p| complete(p, STATES)) {
                    Some(full) => {
                        snap.state = Some(norm_state(full));
                        true
                    }
                    None => false,
                },
                "TransferType" => {
                    match cut.map_or(Some(v), |p| {
                        complete(p, &["Download", "Upload", "UploadReply"])
                    }) {
                        Some(full) => {
                            snap.job_type = Some(norm_state(full));
                            true
                        }
                        None => false,
                    }
                }
                "Priority" => {
                    match cut.map_or(Some(v), |p| {
                        complete(p, &["Foreground", "High", "Normal", "Low"])
                    }) {
                        Some(full) => {
                            snap.priority = Some(full.to_ascii_uppercase());
                            true
                        }
                        None => false,
                    }
                }
                "OwnerAccount" => {
                    snap.owner = cut.is_none().then(|| v.to_string());
                    cut.is_none()
                }
                "FileList" => {
                    // The last item of a cut list is cut too: only whole items are kept.
                    let mut files = file_list(cut.unwrap_or(v));
                    if cut.is_some() {
                        files.pop();
                    }
                    snap.files = files;
                    cut.is_none()
                }
                _ if cut.is_some() => false,
                _ => {
                    let mut r = Record::default();
                    let ok = set(&mut r, name, v);
                    merge(&mut snap, r.snap);
                    ok
                }
            };
            if !ok {
                let e = self.cut.entry(name).or_insert((0, v.to_string()));
                e.0 += 1;
            }
        }
        self.rows.push((n, snap));
    }
}

/// Copy what `from` knows into `into`.
fn merge(into: &mut JobSnapshot, from: JobSnapshot) {
    macro_rules! take {
        ($($f:ident),*) => { $( if from.$f.is_some() { into.$f = from.$f; } )* };
    }
    take!(
        job,
        job_type,
        state,
        owner,
        priority,
        files_transferred,
        files_total,
        bytes_transferred,
        bytes_total,
        error_count,
        error_file,
        error_code,
        error_context,
        proxy_usage,
        proxy_list,
        proxy_bypass_list,
        retry_delay,
        no_progress_timeout,
        notify_command
    );
    if !from.display_name.is_empty() {
        into.display_name = from.display_name;
    }
    for (t, f) in [
        (&mut into.creation_time, from.creation_time),
        (&mut into.modification_time, from.modification_time),
        (&mut into.completion_time, from.completion_time),
    ] {
        if f != When::Unknown {
            *t = f;
        }
    }
    if !from.files.is_empty() {
        into.files = from.files;
    }
}

/// The tables of one input, in order: each identified table's rows become snapshots; a table
/// with no JobId / DisplayName column is added row by row to the table before it.
fn finish_tables(tables: Vec<Table>, src: &Source, out: &mut Parsed) {
    let mut done: Vec<Table> = Vec::new();
    for t in tables {
        for (col, (count, example)) in &t.cut {
            out.warn(
                src,
                Some(Locator::Line(t.line)),
                format!(
                    "powershell: {count} {col} value(s) cut by the console width and not completed (`{}`)",
                    example.chars().take(60).collect::<String>()
                ),
            );
        }
        if t.identified() {
            done.push(t);
            continue;
        }
        match done.last_mut() {
            Some(prev) if prev.rows.len() == t.rows.len() => {
                for ((_, into), (_, from)) in prev.rows.iter_mut().zip(t.rows) {
                    merge(into, from);
                }
            }
            _ => out.warn(
                src,
                Some(Locator::Line(t.line)),
                format!(
                    "powershell: a table with no JobId or DisplayName column (`{}`): its {} row(s) cannot be tied to a job",
                    t.header.split_whitespace().collect::<Vec<_>>().join(" "),
                    t.rows.len()
                ),
            ),
        }
    }
    for t in done {
        for (n, snap) in t.rows {
            out.observations.push(observation(
                src,
                n,
                When::Unknown,
                Fact::JobSnapshot(Box::new(snap)),
            ));
        }
    }
}

/// Parse PowerShell BITS output. Never fails.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let mut it = lines(text).peekable();
    let mut rec: Option<Record> = None;
    let mut table: Option<Table> = None;
    let mut tables: Vec<Table> = Vec::new();
    let mut width: Option<usize> = None;
    let mut unread = NotUnderstood::default();

    while let Some((n, line)) = it.next() {
        if line.trim().is_empty() {
            if let Some(r) = rec.take() {
                finish(r, src, &mut out, &mut unread);
            }
            tables.extend(table.take());
            continue;
        }
        if let Some(t) = table.as_mut() {
            t.row(n, line);
            continue;
        }
        let t = line.trim_start();
        if rec.is_none() && table_header(line, it.peek().map(|x| x.1)) {
            if let Some(&(_, dashes)) = it.peek() {
                unread.start();
                table = Some(Table {
                    line: n,
                    header: line,
                    cols: table_columns(line, dashes),
                    rows: Vec::new(),
                    cut: Default::default(),
                });
                it.next();
                continue;
            }
        }
        if error_record(t).is_some() {
            // An error record; its HRESULT may be on a wrapped line further down. Its other
            // lines (`At line:1 char:1`, `+ CategoryInfo ...`) run to the next blank line.
            unread.start();
            let mut msg = Cow::Borrowed(t);
            while let Some(&(_, next)) = it.peek() {
                if next.trim().is_empty() {
                    break;
                }
                if exception_hresult(&msg).is_err() {
                    msg = Cow::Owned(format!("{} {}", msg.trim_end(), next.trim()));
                }
                it.next();
            }
            let bits = error_record(t).is_some_and(|c| {
                matches!(
                    c,
                    "Start-BitsTransfer"
                        | "Get-BitsTransfer"
                        | "Resume-BitsTransfer"
                        | "Complete-BitsTransfer"
                )
            });
            if let (true, Ok((_, hr))) = (bits, exception_hresult(&msg)) {
                let fact = Fact::TransferError {
                    job: None,
                    title: String::new(),
                    url: String::new(),
                    hr,
                    proxy: None,
                    context: None,
                };
                out.observations
                    .push(observation(src, n, When::Unknown, fact));
            }
            continue;
        }
        if rec.is_none() && is_console_noise(t) {
            continue;
        }
        let Ok((_, (name, first))) = field(line) else {
            if rec.is_some() {
                out.warn(
                    src,
                    Some(Locator::Line(n)),
                    format!(
                        "powershell: unexpected line in a Format-List record `{}`",
                        t.chars().take(100).collect::<String>()
                    ),
                );
            } else {
                unread.line(n, line);
            }
            continue;
        };
        // Continuation lines are indented to the value column.
        let mut value = Cow::Borrowed(first);
        let mut lines = 1;
        let mut prev_len = line.chars().count();
        while let Some(&(_, next)) = it.peek() {
            if !next.starts_with(' ') || next.trim().is_empty() {
                break;
            }
            let piece = next.trim();
            // Format-List wraps by words; a line that fills the whole width was cut mid-word.
            let width = *width.get_or_insert_with(|| max_width(text));
            value = if prev_len >= width {
                Cow::Owned(format!("{value}{piece}"))
            } else {
                Cow::Owned(format!("{value} {piece}"))
            };
            prev_len = next.chars().count();
            it.next();
            lines += 1;
        }
        let r = rec.get_or_insert_with(|| Record {
            line: n,
            first: t.chars().take(100).collect(),
            ..Record::default()
        });
        r.lines += lines;
        if !set(r, name, value.trim()) {
            out.warn(
                src,
                Some(Locator::Line(n)),
                format!("powershell: unreadable {name} value `{}`", value.trim()),
            );
        }
    }
    if let Some(r) = rec.take() {
        finish(r, src, &mut out, &mut unread);
    }
    tables.extend(table.take());
    finish_tables(tables, src, &mut out);
    unread.report("powershell", src, &mut out);
    out
}

/// The cmdlet of a PowerShell error record's first line: `Start-BitsTransfer : message`
/// (Windows PowerShell) or `Start-BitsTransfer: message` (PowerShell 7).
fn error_record(t: &str) -> Option<&str> {
    let (cmdlet, _) = t.split_once(':')?;
    let cmdlet = cmdlet.trim_end();
    let (verb, noun) = cmdlet.split_once('-')?;
    let word = |w: &str| {
        w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && w.chars().all(|c| c.is_ascii_alphanumeric())
    };
    (word(verb) && word(noun)).then_some(cmdlet)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Source = Source {
        path: "b/HOST/bits.txt",
        host: "HOST",
    };

    const FL: &str = "
JobId                   : 873c4db1-4b60-4a49-bd62-0631aacd4099
DisplayName             : MyTransfer
Description             : This is a file transfer that uses the Background Intelligent Transfer
                          Service (BITS).
TransferType            : Download
JobState                : TransientError
OwnerAccount            : CONTOSO\\svc-wsus
Priority                : Foreground
RetryInterval           : 600
RetryTimeout            : 1209600
TransientErrorCount     : 3
ProxyUsage              : SystemDefault
ErrorContext            : RemoteFile
ErrorCondition          : TransientError
InternalErrorCode       : -2147012889
ErrorDescription        : The server name or address could not be resolved
ErrorContextDescription : The error occurred while the remote file was being processed.
BytesTotal              : 18446744073709551615
BytesTransferred        : 0
FilesTotal              : 1
FilesTransferred        : 0
CreationTime            : 5/9/2011 3:22:54 PM
ModificationTime        : 5/9/2011 3:23:10 PM
TransferCompletionTime  : 1/1/0001 12:00:00 AM
FileList                : {http://wsus.contoso.com:8530/Content/AB/0123456789ABCDEF0123456789ABCDEF01234567.cab -> C:\\Windows\\Softwar
                          eDistribution\\Download\\x.cab}
ProxyList               :
ProxyBypassList         :

JobId                   : 0b138008-304b-4264-b021-fd04455588ff
DisplayName             : job3
JobState                : Transferred
InternalErrorCode       : 0
";

    fn snaps(p: &Parsed) -> Vec<&JobSnapshot> {
        p.snapshots()
    }

    #[test]
    fn small_parsers() {
        assert_eq!(
            field("JobId                   : 873c4db1"),
            Ok(("", ("JobId", "873c4db1")))
        );
        assert_eq!(
            field("ProxyList               :"),
            Ok(("", ("ProxyList", "")))
        );
        assert!(field("                          Service (BITS).").is_err());
        assert_eq!(
            exception_hresult("Start-BitsTransfer : The operation being requested was not performed because the user has not logged on to the network. The specified service does not exist. (Exception from HRESULT: 0x800704DD)").map(|x| x.1),
            Ok(HResult(0x8007_04DD))
        );
        assert_eq!(
            file_list("{http://a/x.cab -> C:\\x.cab, http://a/y.cab -> C:\\y.cab, ...}"),
            vec![
                ("http://a/x.cab".to_string(), "C:\\x.cab".to_string()),
                ("http://a/y.cab".to_string(), "C:\\y.cab".to_string())
            ]
        );
        assert_eq!(
            file_list("{C:\\backups\\_UTILS.BAK}"),
            vec![(String::new(), "C:\\backups\\_UTILS.BAK".to_string())]
        );
    }

    #[test]
    fn format_list_records() {
        let p = parse(FL, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.observations.len(), 3);
        let Fact::JobSnapshot(s) = &p.observations[0].fact else {
            panic!()
        };
        assert_eq!(
            s.job.as_ref().unwrap().to_string(),
            "{873C4DB1-4B60-4A49-BD62-0631AACD4099}"
        );
        assert_eq!(s.state.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(s.job_type.as_deref(), Some("DOWNLOAD"));
        assert_eq!(s.priority.as_deref(), Some("FOREGROUND"));
        assert_eq!(s.proxy_usage.as_deref(), Some("PRECONFIG"));
        assert_eq!(s.error_code, Some(HResult(0x8007_2EE7)));
        assert_eq!(s.error_context, Some(5));
        assert_eq!(s.error_count, Some(3));
        assert_eq!(s.bytes_total, None);
        assert_eq!(s.completion_time, When::Unknown);
        assert_eq!(
            s.files,
            [(
                "http://wsus.contoso.com:8530/Content/AB/0123456789ABCDEF0123456789ABCDEF01234567.cab".to_string(),
                "C:\\Windows\\SoftwareDistribution\\Download\\x.cab".to_string()
            )]
        );
        assert_eq!(p.observations[0].evidence.at, Locator::Line(2));
        assert!(matches!(
            &p.observations[1].fact,
            Fact::TransferError { hr, context: Some(5), url, .. } if *hr == HResult(0x8007_2EE7) && url.ends_with(".cab")
        ));
        let Fact::JobSnapshot(s) = &p.observations[2].fact else {
            panic!()
        };
        assert_eq!(s.state.as_deref(), Some("TRANSFERRED"));
        assert_eq!(s.error_code, None);
    }

    #[test]
    fn table_view() {
        let text = "
JobId               DisplayName         TransferType JobState            OwnerAccount
-----               -----------         ------------ --------            ------------
873c4db1-4b60-4a... MyTransfer          Download     TransientError      CONTOSO\\user
0b138008-304b-426... job3                Download     Transferred         CONTOSO\\user
";
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 2);
        let Fact::JobSnapshot(s) = &p.observations[0].fact else {
            panic!()
        };
        assert_eq!(s.job, None);
        assert_eq!(s.display_name, "MyTransfer");
        assert_eq!(s.state.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(s.owner.as_deref(), Some("CONTOSO\\user"));
        assert_eq!(p.observations[0].evidence.at, Locator::Line(4));
    }

    #[test]
    fn cut_table_values_are_completed_or_warned() {
        assert_eq!(complete("Sus", STATES), Some("Suspended"));
        assert_eq!(complete("Transi", STATES), Some("TransientError"));
        assert_eq!(complete("Tra", STATES), None);
        assert_eq!(complete("Canc", STATES), Some("Cancelled"));
        let text = "
JobId               DisplayName         TransferType JobState            OwnerAccount
-----               -----------         ------------ --------            ------------
873c4db1-4b60-4a... WU Download 7       Download     Sus...              NT AUTHORITY\\SY...
0b138008-304b-426... Inventory feed      Download     Tra...              CONTOSO\\svc-inv
";
        let p = parse(text, &SRC);
        let s = snaps(&p);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].state.as_deref(), Some("SUSPENDED"));
        assert_eq!(s[0].owner, None);
        assert_eq!(s[1].state, None);
        assert_eq!(s[1].owner.as_deref(), Some("CONTOSO\\svc-inv"));
        // One warning per column with cut values left as they were.
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p
            .warnings
            .iter()
            .any(|w| w.message.contains("JobState") && w.message.contains("Tra...")));
        assert!(p.warnings.iter().all(|w| w.at == Some(Locator::Line(2))));
    }

    #[test]
    fn second_table_is_added_to_the_first() {
        let text = "
JobId                                DisplayName    JobState
-----                                -----------    --------
873c4db1-4b60-4a49-bd62-0631aacd4099 WU Download 7  TransientError
0b138008-304b-4264-b021-fd04455588ff Inventory feed Transferred

OwnerAccount        Priority   FileList
------------        --------   --------
NT AUTHORITY\\SYSTEM Foreground {http://wsus01:8530/Content/AB/x.cab -> C:\\Windows\\Softwar...
CONTOSO\\svc-inv     Normal     {http://inv.contoso.com/feed.xml -> C:\\ProgramData\\feed.xml}
";
        let p = parse(text, &SRC);
        let s = snaps(&p);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].owner.as_deref(), Some("NT AUTHORITY\\SYSTEM"));
        assert_eq!(s[0].priority.as_deref(), Some("FOREGROUND"));
        // The cut file list keeps no half item, and says so.
        assert!(s[0].files.is_empty());
        assert_eq!(
            s[1].files,
            [(
                "http://inv.contoso.com/feed.xml".to_string(),
                "C:\\ProgramData\\feed.xml".to_string()
            )]
        );
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].message.contains("FileList"));
        // Without a table of the same length before it, the second table is a warning.
        let alone = "
OwnerAccount        Priority
------------        --------
CONTOSO\\svc-inv     Normal
";
        let p = parse(alone, &SRC);
        assert!(p.observations.is_empty());
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].message.contains("cannot be tied to a job"));
    }

    #[test]
    fn error_record() {
        let text = "Start-BitsTransfer : The operation being requested was not performed because the user has not\nlogged on to the network. (Exception from HRESULT: 0x800704DD)\nAt line:1 char:1\n";
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 1);
        assert!(
            matches!(p.observations[0].fact, Fact::TransferError { hr, .. } if hr == HResult(0x8007_04DD))
        );
    }

    #[test]
    fn bad_number_warns() {
        let p = parse(
            "JobId : 873c4db1-4b60-4a49-bd62-0631aacd4099\nBytesTotal : lots\n",
            &SRC,
        );
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].at, Some(Locator::Line(2)));
        assert_eq!(p.observations.len(), 1);
    }

    #[test]
    fn a_record_followed_by_garbage_keeps_it_and_counts_the_lines() {
        let clean = parse(FL, &SRC);
        let p = parse(
            &format!("{FL}\n\u{1}@@ garbage\nCity : Paris\nCountry : France\n"),
            &SRC,
        );
        assert_eq!(p.observations, clean.observations);
        // The garbage line, then a record of properties no BitsJob has (two lines).
        assert_eq!(
            (p.unread_lines, p.warnings.len()),
            (3, 1),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn transcripts_prompts_and_error_records_are_understood() {
        let text = format!(
            "**********************
Windows PowerShell transcript start
Start time: 20240301093000
Username: CONTOSO\\admin
PSVersion: 5.1.19041.3803
**********************
PS C:\\> Start-BitsTransfer -Source http://srv/x.zip -Destination C:\\x.zip
Start-BitsTransfer : The server name or address could not be resolved (Exception from
HRESULT: 0x80072EE7)
At line:1 char:1
+ Start-BitsTransfer -Source http://srv/x.zip -Destination C:\\x.zip
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidOperation: (:) [Start-BitsTransfer], COMException
    + FullyQualifiedErrorId : StartBitsTransferCOMException

PS C:\\> Get-Service BITSX
Get-Service : Cannot find any service with service name 'BITSX'.
At line:1 char:1

PS C:\\> Get-BitsTransfer -AllUsers | Format-List *
{FL}
**********************
Windows PowerShell transcript end
End time: 20240301093010
**********************
"
        );
        let p = parse(&text, &SRC);
        assert_eq!(p.unread_lines, 0, "{:?}", p.warnings);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert!(p.observations.iter().any(|o| matches!(
            o.fact,
            Fact::TransferError {
                hr: HResult(0x8007_2EE7),
                ..
            }
        )));
    }
}
