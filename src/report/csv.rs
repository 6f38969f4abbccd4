//! CSV renderings of the report, for spreadsheets and batch runs over many bundles.
//!
//! Every file is RFC 4180 (comma-separated, CRLF line ends, fields with commas, quotes or line
//! breaks quoted, quotes doubled), UTF-8 without a BOM, and starts with a header row. Cells:
//!
//! - times are ISO 8601: UTC times end in `Z` (`2021-03-15T18:49:19.4443608Z`); times that
//!   bitsadmin printed in the machine's local time carry the host's UTC offset where it is known
//!   (`2002-12-17T13:21:30+01:00`) and are kept as written, with no zone, where it is not
//!   (`2002-12-17T13:21:30`); an unknown time is an empty cell. Beside every time a `*basis`
//!   column says which: `utc`, `local-known-offset`, `local-unknown` (empty when no time);
//! - error codes are `0x` + 8 upper-case hex digits (`0x80072EE7`);
//! - a cell holding a list has **one item per line**: items joined with a line feed (`\n`), so
//!   the cell is quoted; split it on `\n` to get the list back, exactly as the JSON report has it.
//!   An empty list is an empty cell, empty items are left out, and a line break inside an item
//!   (only hostile input has one) is written as a space. `bitsdoctor codes --format csv` and
//!   `--knowledge FILE` use the same convention (fix steps, aliases);
//! - any cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or `'` is prefixed
//!   with `'`, so a spreadsheet shows it as text instead of running it as a formula (job names,
//!   URLs and owners come from the logs and may be written by an attacker). To read a cell back
//!   exactly, drop one leading `'` (see [`uncell`]).
//!
//! `diagnoses.csv`, one row per diagnosis, most important first:
//!
//! | column | content |
//! |---|---|
//! | `id` | `D1`, `D2` ... (rank order) |
//! | `rule` | the rule that found it (`fleet-transfer`, `host-network`, `service-start` ...) |
//! | `category` | `failure`, `config` or `security` |
//! | `severity` | `critical`, `error`, `warning` or `info` |
//! | `scope` | `fleet`, `host` or `job` |
//! | `code` | the error code, empty when the finding has none |
//! | `symbol` | the code's symbolic name (`ERROR_WINHTTP_NAME_NOT_RESOLVED`), if known |
//! | `title` | one line: what is wrong |
//! | `cause` | why |
//! | `fix` | the fix steps, in order, one per line |
//! | `hosts` | affected hosts |
//! | `jobs` | affected jobs as `HOST/{GUID}` |
//! | `servers` | remote authorities (`https://wsus01:8531`) |
//! | `proxies` | proxies involved |
//! | `occurrences` | how many times it was seen |
//! | `first_seen`, `last_seen` | times |
//! | `evidence` | where it shows: `path#record` (event log record id) or `path:line` (text line) |
//! | `first_seen_basis`, `last_seen_basis` | `utc`, `local-known-offset` or `local-unknown` |
//! | `updates` | the updates an update rule is about, as `HOST/{GUID}` (or `HOST/"title"`) |
//! | `blocks` | for a BITS root cause, the updates stuck behind its jobs, one per line: the KB (else the update GUID, else the title), `=`, and on how many hosts it is stuck (`KB5034441=3`); updates.csv has the hosts |
//!
//! `jobs.csv`, one row per BITS job (host, then job id):
//!
//! | column | content |
//! |---|---|
//! | `host` | the host |
//! | `id` | the job GUID (`{6AF6F4C8-...}`), empty for old-schema events without one |
//! | `name` | the job's display name |
//! | `owner` | the job owner |
//! | `outcome` | `succeeded`, `recovered`, `failing`, `cancelled` or `in_progress` |
//! | `state` | the state a bitsadmin / PowerShell listing showed (`TRANSIENT_ERROR` ...), if any |
//! | `errors` | failures per code, one per line: `0x80072EE7=3` |
//! | `urls` | remote URLs |
//! | `proxies` | proxies used |
//! | `first_seen`, `last_seen` | times |
//! | `diagnoses` | ids of the diagnoses that name this job, one per line |
//! | `first_seen_basis`, `last_seen_basis` | `utc`, `local-known-offset` or `local-unknown` |
//!
//! `updates.csv`, one row per update per host (host, then title), as the JSON `updates` list:
//!
//! | column | content |
//! |---|---|
//! | `host` | the host |
//! | `title` | the update's title (empty when only WindowsUpdate.log named it, by GUID) |
//! | `kb` | the KB number the title names (`KB5034441`), if any |
//! | `guid` | the update id, if known |
//! | `revision` | the update revision, if known |
//! | `outcome` | the last stage seen: `download_started`, `download_failed`, `downloaded`, `install_started`, `install_failed`, `installed` or `scan_failed` |
//! | `errors` | failures per code, one per line: `0x80200013=2` |
//! | `jobs` | the BITS jobs that carried its download, as job GUIDs, one per line |
//! | `links` | how each job was linked, one per line: `{GUID}=job_guid` (the update's record names the job), `{GUID}=content_hash` (same content file, near in time) or `{GUID}=url_kb` (the job's file name names the update's KB, near in time) |
//! | `diagnoses` | ids of the diagnoses about it or its jobs, one per line |
//! | `first_seen`, `last_seen` | times |
//! | `first_seen_basis`, `last_seen_basis` | `utc`, `local-known-offset` or `local-unknown` |
//!
//! `events.csv`, the normalized timeline: one row per observation read from the inputs, in time
//! order where times are comparable: rows without a time first, then local times of unknown
//! offset (ordered among themselves only), then every UTC time and local time of known offset
//! by its instant; ties by host and evidence:
//!
//! | column | content |
//! |---|---|
//! | `time` | when |
//! | `host` | the host |
//! | `event_id` | the event id for event log records, empty for text inputs |
//! | `kind` | what the observation is: `job_created`, `transfer_started`, `transfer_stopped`, `transfer_error`, `job_completed`, `job_cancelled`, `job_snapshot`, `proxy_failure`, `http_feature_missing`, `credentials_rejected`, `service_warning`, `service_state`, `service_start_type`, `service_start_failure`, `service_crash`, `service_installed`, `service_config`, `policy`, `win_http_proxy`, `limit_reached`, `log_cleared`, `update` |
//! | `job` | the job GUID, where the observation names one |
//! | `code` | the error code it carries, if any |
//! | `url` | the remote URL (for a job listing: every file's URL) |
//! | `proxy` | the proxy (or proxy list) it names |
//! | `detail` | the rest, as `name=value` pairs, one per line (`title=...`, `owner=...`) |
//! | `path` | the input it was read from |
//! | `record` | the event log record id, for event logs |
//! | `line` | the 1-based line, for text inputs |
//! | `time_basis` | `utc`, `local-known-offset` or `local-unknown` (empty when no time) |

use super::Report;
use crate::model::{Evidence, Fact, HResult, Locator, Observation, When};
use std::io::{self, Write};

/// The header of `diagnoses.csv`.
pub const DIAGNOSES_HEADER: [&str; 22] = [
    "id",
    "rule",
    "category",
    "severity",
    "scope",
    "code",
    "symbol",
    "title",
    "cause",
    "fix",
    "hosts",
    "jobs",
    "servers",
    "proxies",
    "occurrences",
    "first_seen",
    "last_seen",
    "evidence",
    "first_seen_basis",
    "last_seen_basis",
    "updates",
    "blocks",
];

/// The header of `jobs.csv`.
pub const JOBS_HEADER: [&str; 14] = [
    "host",
    "id",
    "name",
    "owner",
    "outcome",
    "state",
    "errors",
    "urls",
    "proxies",
    "first_seen",
    "last_seen",
    "diagnoses",
    "first_seen_basis",
    "last_seen_basis",
];

/// The header of `updates.csv`.
pub const UPDATES_HEADER: [&str; 14] = [
    "host",
    "title",
    "kb",
    "guid",
    "revision",
    "outcome",
    "errors",
    "jobs",
    "links",
    "diagnoses",
    "first_seen",
    "last_seen",
    "first_seen_basis",
    "last_seen_basis",
];

/// The header of `events.csv`.
pub const EVENTS_HEADER: [&str; 13] = [
    "time",
    "host",
    "event_id",
    "kind",
    "job",
    "code",
    "url",
    "proxy",
    "detail",
    "path",
    "record",
    "line",
    "time_basis",
];

/// Make a cell safe to open in a spreadsheet: one that a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`; so is one that already
/// starts with `'`, which keeps the prefix reversible by [`uncell`].
/// Bidi controls and invisible format characters (U+202E reverses the text a reader sees) are
/// shown as `\u202e` and the like; they have no place in the values bitsdoctor reports.
pub fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    let s = crate::term::escape_bidi(s);
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'') => format!("'{s}").into(),
        _ => s,
    }
}

/// The value a cell written through [`cell`] came from (one leading `'` dropped).
pub fn uncell(s: &str) -> &str {
    s.strip_prefix('\'').unwrap_or(s)
}

/// A list as one cell: items one per line (see the module documentation). Empty items are left
/// out and a line break inside an item becomes a space, so [`split_list`] gives the items back.
pub fn list<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for s in items {
        let s = s.as_ref();
        if s.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        if s.contains(['\n', '\r']) {
            out.extend(
                s.chars()
                    .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c }),
            );
        } else {
            out.push_str(s);
        }
    }
    out
}

/// The items of a list cell (the inverse of [`list`]; an empty cell is an empty list).
pub fn split_list(cell: &str) -> Vec<&str> {
    if cell.is_empty() {
        Vec::new()
    } else {
        cell.split('\n').collect()
    }
}

/// A time as the CSV files write it: ISO 8601, `Z` for UTC, local times as written, empty when
/// unknown.
pub fn time(w: &When) -> String {
    match w {
        When::Unknown => String::new(),
        When::Utc(t) => t.to_string(),
        When::LocalAt(dt, off) => format!("{dt}{}", crate::model::Rfc3339Offset(*off)),
        When::Local(dt) => dt.to_string(),
    }
}

fn code(c: Option<HResult>) -> String {
    c.map(|c| c.to_string()).unwrap_or_default()
}

/// `path#record` or `path:line`.
pub fn evidence(e: &Evidence) -> String {
    match e.at {
        Locator::Record(r) => format!("{}#{r}", e.path),
        Locator::Line(l) => format!("{}:{l}", e.path),
    }
}

/// Rows -> CSV, written as they come (a table of every job is not held whole). Every cell
/// goes through [`cell`]. The first write error is kept and ends the table.
struct Table<W: Write> {
    w: csv::Writer<W>,
    error: Option<csv::Error>,
}

impl<W: Write> Table<W> {
    fn new_in(w: W, header: &[&str]) -> Table<W> {
        let mut t = Table {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(w),
            error: None,
        };
        t.row(header.iter().copied());
        t
    }

    fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if self.error.is_some() {
            return;
        }
        let record: Vec<String> = cells
            .into_iter()
            .map(|c| cell(c.as_ref()).into_owned())
            .collect();
        if let Err(e) = self.w.write_record(&record) {
            self.error = Some(e);
        }
    }

    fn end(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(io::Error::other(e));
        }
        self.w.flush()
    }
}

impl Table<Vec<u8>> {
    fn new(header: &[&str]) -> Table<Vec<u8>> {
        Table::new_in(Vec::new(), header)
    }

    fn finish(self) -> String {
        utf8(
            self.w
                .into_inner()
                .unwrap_or_else(|e| e.into_inner().get_ref().clone()),
        )
    }
}

/// A table written to memory, as text (writing to a Vec cannot fail).
fn to_string(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut bytes = Vec::new();
    let _ = write(&mut bytes);
    utf8(bytes)
}

/// A table's bytes as text: every cell came from a &str, so they are UTF-8.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
}

/// `diagnoses.csv`: one row per diagnosis, in rank order.
pub fn diagnoses(r: &Report) -> String {
    to_string(|w| write_diagnoses(r, w))
}

/// [`diagnoses`], written to `w`.
pub fn write_diagnoses(r: &Report, w: impl Write) -> io::Result<()> {
    let mut t = Table::new_in(w, &DIAGNOSES_HEADER);
    for d in &r.diagnoses {
        t.row([
            d.id.clone(),
            d.rule.to_string(),
            enum_str(&d.category),
            d.severity.as_str().to_string(),
            enum_str(&d.scope),
            code(d.code),
            d.symbol.clone().unwrap_or_default(),
            d.title.clone(),
            d.cause.clone(),
            list(&d.fix),
            list(&d.hosts),
            list(&d.jobs),
            list(&d.servers),
            list(&d.proxies),
            d.occurrences.to_string(),
            time(&d.first_seen),
            time(&d.last_seen),
            list(d.evidence.iter().map(evidence)),
            d.first_seen.basis().as_str().to_string(),
            d.last_seen.basis().as_str().to_string(),
            list(&d.updates),
            list(d.blocks.iter().map(|b| {
                let name = b.kb.as_ref().or(b.guid.as_ref()).unwrap_or(&b.title);
                format!("{name}={}", b.hosts.len())
            })),
        ]);
    }
    t.end()
}

/// `jobs.csv`: one row per job, in report order (host, then job).
pub fn jobs(r: &Report) -> String {
    to_string(|w| write_jobs(r, w))
}

/// [`jobs`], written to `w`.
pub fn write_jobs(r: &Report, w: impl Write) -> io::Result<()> {
    let mut t = Table::new_in(w, &JOBS_HEADER);
    for j in &r.jobs {
        t.row([
            j.host.to_string(),
            j.id.map(|g| g.to_string()).unwrap_or_default(),
            j.name.to_string(),
            j.owner.to_string(),
            j.outcome.as_str().to_string(),
            j.state().unwrap_or_default().to_string(),
            list(j.errors.iter().map(|(c, n)| format!("{c}={n}"))),
            list(&j.urls),
            list(&j.proxies),
            time(&j.first_seen),
            time(&j.last_seen),
            list(&j.diagnoses),
            j.first_seen.basis().as_str().to_string(),
            j.last_seen.basis().as_str().to_string(),
        ]);
    }
    t.end()
}

/// `updates.csv`: one row per update per host, in report order.
pub fn updates(r: &Report) -> String {
    to_string(|w| write_updates(r, w))
}

/// [`updates`], written to `w`.
pub fn write_updates(r: &Report, w: impl Write) -> io::Result<()> {
    let mut t = Table::new_in(w, &UPDATES_HEADER);
    for u in &r.updates {
        t.row([
            u.host.to_string(),
            u.title.to_string(),
            u.kb.as_deref().unwrap_or_default().to_string(),
            u.guid.as_deref().unwrap_or_default().to_string(),
            u.revision.map(|v| v.to_string()).unwrap_or_default(),
            enum_str(&u.outcome),
            list(u.errors.iter().map(|(c, n)| format!("{c}={n}"))),
            list(u.jobs.iter().map(|g| g.to_string())),
            list(u.links.iter().map(|(g, m)| format!("{g}={}", m.as_str()))),
            list(&u.diagnoses),
            time(&u.first_seen),
            time(&u.last_seen),
            u.first_seen.basis().as_str().to_string(),
            u.last_seen.basis().as_str().to_string(),
        ]);
    }
    t.end()
}

/// `events.csv`: the normalized timeline, one row per observation, sorted by time, host and
/// evidence so the output does not depend on the order the inputs were read in. (`analyze
/// --out` streams the same rows through [`super::events::Spool`] instead of holding them.)
pub fn events(observations: &[Observation]) -> String {
    let mut t = Table::new(&EVENTS_HEADER);
    for o in event_order(observations) {
        t.row(event_cells(o));
    }
    t.finish()
}

/// The header row of `events.csv`, as bytes.
pub fn events_header() -> Vec<u8> {
    Table::new(&EVENTS_HEADER).finish().into_bytes()
}

/// Encodes observations as `events.csv` rows, one at a time.
pub struct EventRows {
    w: csv::Writer<RowSink>,
    sink: std::rc::Rc<std::cell::RefCell<Vec<u8>>>,
}

/// Where [`EventRows`] writes: a buffer it takes each row out of.
struct RowSink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for RowSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Default for EventRows {
    fn default() -> Self {
        let sink = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        EventRows {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(RowSink(sink.clone())),
            sink,
        }
    }
}

impl EventRows {
    /// Append the row of one observation (with its CRLF) to `out`, cells made safe as
    /// [`cell`] says.
    pub fn row(&mut self, o: &Observation, out: &mut Vec<u8>) {
        let cells = event_cells(o);
        // Writing to memory cannot fail; a failure would only drop the row, never panic.
        let _ = self
            .w
            .write_record(cells.iter().map(|c| cell(c).into_owned()));
        let _ = self.w.flush();
        // The buffer is reused for the next row.
        let mut sink = self.sink.borrow_mut();
        out.extend_from_slice(&sink);
        sink.clear();
    }
}

/// The cells of one `events.csv` row.
fn event_cells(o: &Observation) -> [String; 13] {
    let f = fields(&o.fact);
    let (record, line) = match o.evidence.at {
        Locator::Record(n) => (n.to_string(), String::new()),
        Locator::Line(n) => (String::new(), n.to_string()),
    };
    [
        time(&o.time),
        o.host.clone(),
        if o.event_id == 0 {
            String::new()
        } else {
            o.event_id.to_string()
        },
        kind(&o.fact).to_string(),
        o.fact.job().map(|g| g.to_string()).unwrap_or_default(),
        code(f.code),
        f.url,
        f.proxy.unwrap_or_default(),
        list(f.detail),
        o.evidence.path.to_string(),
        record,
        line,
        o.time.basis().as_str().to_string(),
    ]
}

/// Observations in the order of `events.csv` ([`super::events::order`]).
pub fn event_order(observations: &[Observation]) -> Vec<&Observation> {
    let mut order: Vec<&Observation> = observations.iter().collect();
    order.sort_by(|a, b| super::events::order(a, b));
    order
}

/// The serde name of a unit-like enum value (`Category::Failure` -> `failure`).
fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The `kind` tag `Fact` serializes with.
pub fn kind(f: &Fact) -> &'static str {
    match f {
        Fact::JobCreated { .. } => "job_created",
        Fact::TransferStarted { .. } => "transfer_started",
        Fact::FileQueued { .. } => "file_queued",
        Fact::NotifyCommand { .. } => "notify_command",
        Fact::TransferStopped { .. } => "transfer_stopped",
        Fact::TransferError { .. } => "transfer_error",
        Fact::JobCompleted { .. } => "job_completed",
        Fact::JobCancelled { .. } => "job_cancelled",
        Fact::JobSnapshot(_) => "job_snapshot",
        Fact::ProxyFailure { .. } => "proxy_failure",
        Fact::HttpFeatureMissing { .. } => "http_feature_missing",
        Fact::CredentialsRejected { .. } => "credentials_rejected",
        Fact::ServiceWarning { .. } => "service_warning",
        Fact::ServiceState { .. } => "service_state",
        Fact::ServiceStartType { .. } => "service_start_type",
        Fact::ServiceStartFailure { .. } => "service_start_failure",
        Fact::ServiceCrash { .. } => "service_crash",
        Fact::ServiceInstalled { .. } => "service_installed",
        Fact::ServiceConfig { .. } => "service_config",
        Fact::Policy { .. } => "policy",
        Fact::VersionSign { .. } => "version_sign",
        Fact::WinHttpProxy { .. } => "win_http_proxy",
        Fact::LimitReached { .. } => "limit_reached",
        Fact::LogCleared { .. } => "log_cleared",
        Fact::Update { .. } => "update",
    }
}

/// The columns of one fact that `events.csv` spreads out.
#[derive(Default)]
struct Fields {
    code: Option<HResult>,
    url: String,
    proxy: Option<String>,
    detail: Vec<String>,
}

impl Fields {
    fn put(&mut self, name: &str, value: impl std::fmt::Display) {
        let v = value.to_string();
        if !v.is_empty() {
            self.detail.push(format!("{name}={v}"));
        }
    }
    fn opt(&mut self, name: &str, value: Option<impl std::fmt::Display>) {
        if let Some(v) = value {
            self.put(name, v);
        }
    }
}

fn fields(fact: &Fact) -> Fields {
    let mut f = Fields::default();
    match fact {
        Fact::JobCreated {
            title,
            owner,
            process,
            ..
        } => {
            f.put("title", title);
            f.put("owner", owner);
            f.opt("process", process.as_ref());
        }
        Fact::TransferStarted {
            title,
            url,
            bytes_total,
            ..
        } => {
            f.url = url.clone();
            f.put("title", title);
            f.opt("bytes_total", *bytes_total);
        }
        Fact::FileQueued {
            title,
            remote,
            local,
            ..
        } => {
            f.url = remote.clone();
            f.put("title", title);
            f.put("local", local);
        }
        Fact::NotifyCommand {
            program,
            parameters,
            ..
        } => {
            f.put("program", program);
            f.put("parameters", parameters);
        }
        Fact::TransferStopped {
            title,
            url,
            hr,
            proxy,
            bytes_transferred,
            ..
        } => {
            f.url = url.clone();
            f.code = Some(*hr);
            f.proxy = proxy.clone();
            f.put("title", title);
            f.opt("bytes_transferred", *bytes_transferred);
        }
        Fact::TransferError {
            title,
            url,
            hr,
            proxy,
            context,
            ..
        } => {
            f.url = url.clone();
            f.code = Some(*hr);
            f.proxy = proxy.clone();
            f.put("title", title);
            f.opt("context", *context);
        }
        Fact::JobCompleted {
            title,
            owner,
            file_count,
            ..
        } => {
            f.put("title", title);
            f.put("owner", owner);
            f.opt("file_count", *file_count);
        }
        Fact::JobCancelled { title, owner, .. } => {
            f.put("title", title);
            f.put("owner", owner);
        }
        Fact::JobSnapshot(s) => {
            f.url = list(s.files.iter().map(|(remote, _)| remote));
            f.code = s.error_code;
            f.proxy = s.proxy_list.clone();
            f.put("title", &s.display_name);
            f.opt("state", s.state.as_ref());
            f.opt("owner", s.owner.as_ref());
            f.opt("type", s.job_type.as_ref());
            f.opt(
                "files",
                s.files_transferred.map(|n| match s.files_total {
                    Some(t) => format!("{n}/{t}"),
                    None => n.to_string(),
                }),
            );
            f.opt(
                "bytes",
                s.bytes_transferred.map(|n| match s.bytes_total {
                    Some(t) => format!("{n}/{t}"),
                    None => format!("{n}/UNKNOWN"),
                }),
            );
            f.opt("errors", s.error_count);
            f.opt("error_context", s.error_context);
            f.opt("error_file", s.error_file.as_ref());
            f.opt("proxy_usage", s.proxy_usage.as_ref());
            f.opt("proxy_bypass", s.proxy_bypass_list.as_ref());
            f.put("created", time(&s.creation_time));
            f.put("modified", time(&s.modification_time));
            f.put("completed", time(&s.completion_time));
        }
        Fact::ProxyFailure {
            title,
            url,
            proxy_list,
            bypass_list,
            hr,
            ..
        } => {
            f.url = url.clone();
            f.code = Some(*hr);
            f.proxy = Some(proxy_list.clone());
            f.put("title", title);
            f.put("bypass", bypass_list);
        }
        Fact::HttpFeatureMissing {
            title,
            url,
            proxy,
            hr,
            feature,
            http_version,
            url_range,
            ..
        } => {
            f.url = url.clone();
            f.code = Some(*hr);
            f.proxy = proxy.clone();
            f.put("title", title);
            f.put("feature", feature);
            f.opt("http_version", http_version.as_ref());
            f.opt("range", url_range.as_ref());
        }
        Fact::CredentialsRejected {
            job_title,
            server,
            url,
            scheme,
            user,
        } => {
            f.url = url.clone();
            f.put("title", job_title);
            f.put("server", server);
            f.put("scheme", scheme);
            f.put("user", user);
        }
        Fact::ServiceWarning { event, hr, seconds } => {
            f.code = *hr;
            f.put("event", event);
            f.opt("seconds", *seconds);
        }
        Fact::ServiceState {
            service,
            state,
            state_code,
        } => {
            f.put("service", service);
            f.put("state", state);
            f.opt("state_code", *state_code);
        }
        Fact::ServiceStartType { service, from, to } => {
            f.put("service", service);
            f.put("from", from);
            f.put("to", to);
        }
        Fact::ServiceStartFailure {
            service,
            event,
            error,
            dependency,
        } => {
            f.code = *error;
            f.put("service", service);
            f.put("event", event);
            f.opt("dependency", dependency.as_ref());
        }
        Fact::ServiceCrash { service, count } => {
            f.put("service", service);
            f.opt("count", *count);
        }
        Fact::ServiceInstalled {
            service,
            image_path,
            account,
        } => {
            f.put("service", service);
            f.put("image_path", image_path);
            f.put("account", account);
        }
        Fact::ServiceConfig { name, value, .. } | Fact::Policy { name, value } => {
            f.put("name", name);
            f.put("value", value);
        }
        Fact::VersionSign {
            build,
            windows10_or_later,
            what,
        } => {
            f.opt("build", *build);
            f.opt("windows10_or_later", *windows10_or_later);
            f.put("what", what);
        }
        Fact::WinHttpProxy {
            direct,
            proxy,
            bypass,
        } => {
            f.proxy = proxy.clone();
            f.put("direct", direct);
            f.opt("bypass", bypass.as_ref());
        }
        Fact::LimitReached {
            event,
            entity,
            current,
            limit,
        } => {
            f.put("event", event);
            f.put("entity", entity);
            f.opt("current", *current);
            f.opt("limit", *limit);
        }
        Fact::LogCleared { channel, user } => {
            f.put("channel", channel);
            f.put("user", user);
        }
        Fact::Update {
            stage,
            title,
            guid,
            revision,
            hr,
            ..
        } => {
            f.code = *hr;
            f.put("stage", enum_str(stage));
            f.put("title", title);
            f.opt("update", guid.as_ref());
            f.opt("revision", *revision);
        }
    }
    f
}

#[cfg(test)]
mod tests {
    #[test]
    fn bidi_controls_in_cells_are_shown_visibly() {
        assert_eq!(cell("invoice\u{202e}gpj.exe"), "invoice\\u202egpj.exe");
        assert_eq!(cell("\u{202e}=1+1"), "\\u202e=1+1");
        assert_eq!(cell("=1+1"), "'=1+1");
    }

    use super::*;

    #[test]
    fn formula_cells_are_prefixed() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(s), format!("'{s}"), "{s:?}");
        }
        for s in ["", "a=b", "0x80072EE7", " =x"] {
            assert_eq!(cell(s), s, "{s:?}");
        }
        for s in ["", "=1", "'quoted", "''", "x"] {
            assert_eq!(uncell(&cell(s)), s, "{s:?}");
        }
    }

    #[test]
    fn list_cells_split_back() {
        let items = [
            "sc.exe config bits start= delayed-auto; then reboot",
            "a;b",
            "x",
        ];
        let c = list(items);
        assert_eq!(
            c,
            "sc.exe config bits start= delayed-auto; then reboot\na;b\nx"
        );
        assert_eq!(split_list(&c), items);
        assert_eq!(split_list(&list(Vec::<String>::new())), Vec::<&str>::new());
        assert_eq!(split_list(&list(["", "a", ""])), ["a"]);
        assert_eq!(split_list(&list(["a\r\nb", "c"])), ["a  b", "c"]);
    }

    #[test]
    fn times_are_iso_8601() {
        let utc: jiff::Timestamp = "2021-03-15T18:49:19.4443608Z".parse().unwrap();
        assert_eq!(time(&When::Utc(utc)), "2021-03-15T18:49:19.4443608Z");
        let local: jiff::civil::DateTime = "2002-12-17T13:21:30".parse().unwrap();
        assert_eq!(time(&When::Local(local)), "2002-12-17T13:21:30");
        assert_eq!(time(&When::Unknown), "");
    }
}
