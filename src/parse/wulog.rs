//! WindowsUpdate.log: the legacy tab-separated file (`2013-01-27<TAB>10:55:33:204<TAB>1160<TAB>
//! 3ca0<TAB>DnldMgr<TAB>text`, web copies with spaces) and Get-WindowsUpdateLog output
//! (`2020/01/23 15:17:51.1594692 9852  628   DownloadManager text`); lines without a prefix
//! (`[DownloadManager] BITS job ...`) are read too, with no time. Times are naive local times.
//!
//! Lines kept:
//! * `BITS job {G} failed, updateId = U.R, hr = 0x.. [File URL = X, ...]` -> `TransferError`
//!   (job G, url X) and `Update { stage: DownloadFailed, guid: U, revision: R, hr, job: G }`
//! * `BITS job {G} hit a transient error, updateId = U.R <NULL>, error = 0x..` ->
//!   `TransferError` (job G, with the proxy the job uses), U remembered for the job
//! * `DnldMgr: New download job [UpdateId = U.R]` then `* BITS job initialized, JobId = {G}` ->
//!   `JobCreated` and `Update { stage: DownloadStarted, guid: U, revision: R, job: G }`
//! * `* Downloading from URL to PATH` -> `TransferStarted` (the job initialized last, url URL)
//! * `BITS job {G} using proxy = HOST:PORT, bypass = ...` -> the proxy of G's later errors
//! * `BITS job {G} completed successfully` -> `JobCompleted`
//! * `BITS job initialized, JobId = {G}` -> `JobCreated`
//! * `*FAILED* [80244019] Error occurred while downloading update U.R`, `Error 0x800706d9
//!   occurred while downloading update`, `Download failed, error = 0x8024402C` ->
//!   `Update { stage: DownloadFailed }` (joined to the BITS job that failed for U, and not
//!   repeated when that job's failure line already gave it; a line naming no update takes the
//!   update of the job that last hit the same error).
//!
//! Codes are read in every form: `0x`/`0X`, bare 8-digit hex, `[80244019]`, signed decimal.

use std::collections::HashMap;

use nom::bytes::complete::{take_while1, take_while_m_n};
use nom::character::complete::{char, digit1, one_of, space0};
use nom::combinator::{map_res, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::bitsadmin::{guid_braced, lines, observation};
use super::{is_console_noise, NotUnderstood, Parsed, Source};
use crate::model::{Fact, Guid, HResult, UpdateStage, When};

type Res<'a, T> = IResult<&'a str, T>;

fn digits<'a>(n: usize) -> impl Parser<&'a str, Output = i32, Error = nom::error::Error<&'a str>> {
    map_res(
        take_while_m_n(n, n, |c: char| c.is_ascii_digit()),
        str::parse::<i32>,
    )
}

/// The line's time prefix: legacy `2013-01-27<TAB>10:55:33:204` (or `HH:MM:SS`) or
/// Get-WindowsUpdateLog `2020/01/23 15:17:51.1594692`. Returns the rest of the line.
fn time_prefix(i: &str) -> Res<'_, jiff::civil::DateTime> {
    let (i, y) = digits(4).parse(i)?;
    let (i, sep) = one_of("-/").parse(i)?;
    let (i, m) = digits(2).parse(i)?;
    let (i, _) = char(sep).parse(i)?;
    let (i, d) = digits(2).parse(i)?;
    let (i, _) = one_of("\t ").parse(i)?;
    let (i, h) = digits(2).parse(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, mi) = digits(2).parse(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, s) = digits(2).parse(i)?;
    let (i, frac) = opt(preceded(one_of(":."), digit1)).parse(i)?;
    let nanos = frac.map_or(0, |f: &str| {
        let f = &f[..f.len().min(9)];
        f.parse::<i32>().unwrap_or(0) * 10i32.pow(9 - f.len() as u32)
    });
    let fail = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify));
    let dt = jiff::civil::DateTime::new(
        y as i16, m as i8, d as i8, h as i8, mi as i8, s as i8, nanos,
    )
    .map_err(|_| fail())?;
    Ok((i, dt))
}

/// An error code token: `0x80190194`, `0X80244007`, `80072eef`, `-2145107943`, `[80244019]`.
fn code(i: &str) -> Res<'_, HResult> {
    let (i, _) = opt(char('[')).parse(i)?;
    let (i, tok) = take_while1(|c: char| c.is_ascii_hexdigit() || c == 'x' || c == 'X' || c == '-')
        .parse(i)?;
    let (i, _) = opt(char(']')).parse(i)?;
    match HResult::parse_number(tok) {
        Some(h) => Ok((i, h)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::HexDigit,
        ))),
    }
}

/// The code after `key =` (`hr = 0x..`, `error = 0x..`, `hr=0X..`) somewhere in `m`.
fn code_after(m: &str, key: &str) -> Option<HResult> {
    let mut from = 0;
    while let Some(p) = m[from..].find(key) {
        let at = from + p + key.len();
        if let Ok((_, h)) = preceded((space0, char('='), space0), code).parse(&m[at..]) {
            return Some(h);
        }
        from = at;
    }
    None
}

/// `updateId = {E6EC40C4-...}.201` or `4FED3B54-....200` -> (GUID, revision). The GUID is
/// upper-case without braces, as the WindowsUpdateClient events' `updateGuid` is read, so the
/// log and the events make one record per update.
fn update_id(i: &str) -> Res<'_, (String, Option<u32>)> {
    let i = i.trim_start();
    let (i, raw) = take_while1(|c: char| c.is_ascii_hexdigit() || c == '-' || c == '{' || c == '}')
        .parse(i)?;
    let Some(g) = Guid::parse(raw) else {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    };
    let (i, rev) = opt(preceded(char('.'), map_res(digit1, str::parse::<u32>))).parse(i)?;
    Ok((i, (g.text().trim_matches(['{', '}']).to_string(), rev)))
}

fn update_after(m: &str, key: &str) -> Option<(String, Option<u32>)> {
    let p = m.find(key)?;
    let r = &m[p + key.len()..];
    let r = preceded::<_, _, nom::error::Error<&str>, _, _>(
        (space0, char('='), space0),
        nom::combinator::rest,
    )
    .parse(r)
    .map(|x| x.1)
    .unwrap_or(r);
    update_id(r).ok().map(|x| x.1)
}

/// `File URL = http://..., local path = ...` -> the URL.
fn file_url(m: &str) -> Option<&str> {
    let p = m.find("File URL = ")?;
    let r = &m[p + "File URL = ".len()..];
    let end = r.find([',', ' ']).unwrap_or(r.len());
    Some(r[..end].trim_end_matches('.'))
}

/// What one line says.
#[derive(Debug, PartialEq)]
enum Line<'a> {
    JobFailed {
        job: Guid,
        update: Option<(String, Option<u32>)>,
        hr: HResult,
        url: Option<&'a str>,
    },
    JobTransient {
        job: Guid,
        update: Option<(String, Option<u32>)>,
        hr: HResult,
    },
    JobProxy {
        job: Guid,
        proxy: &'a str,
    },
    NewDownloadJob((String, Option<u32>)),
    DownloadingFrom(&'a str),
    JobCompleted(Guid),
    JobCreated(Guid),
    DownloadFailed {
        update: Option<(String, Option<u32>)>,
        hr: HResult,
    },
    Nothing,
}

/// Read the message part of a line (after any time/PID/TID/component prefix).
fn message(m: &str) -> Line<'_> {
    if let Some(p) = m.find("BITS job ") {
        let r = &m[p + "BITS job ".len()..];
        if let Ok((r, job)) = guid_braced(r) {
            let r = r.trim_start();
            if r.starts_with("failed") {
                if let Some(hr) = code_after(r, "hr").or_else(|| code_after(r, "error")) {
                    return Line::JobFailed {
                        job,
                        update: update_after(r, "updateId"),
                        hr,
                        url: file_url(r),
                    };
                }
            } else if r.starts_with("hit a transient error") {
                if let Some(hr) = code_after(r, "error").or_else(|| code_after(r, "hr")) {
                    return Line::JobTransient {
                        job,
                        update: update_after(r, "updateId"),
                        hr,
                    };
                }
            } else if let Some(p) = r.strip_prefix("using proxy") {
                // `using proxy = HOST:PORT, bypass = <NULL>`
                let v = p.trim_start().trim_start_matches('=').trim_start();
                let proxy = v.split([',', ' ']).next().unwrap_or("");
                if !proxy.is_empty() && proxy != "<NULL>" {
                    return Line::JobProxy { job, proxy };
                }
            } else if r.starts_with("completed successfully") {
                return Line::JobCompleted(job);
            }
        } else if r.starts_with("initialized") {
            if let Some(q) = r.find("JobId") {
                let g = r[q + 5..].trim_start_matches([' ', '=']);
                if let Ok((_, job)) = guid_braced(g) {
                    return Line::JobCreated(job);
                }
            }
        }
        return Line::Nothing;
    }
    if let Some(p) = m.find("New download job [UpdateId") {
        let r = &m[p + "New download job [UpdateId".len()..];
        let r = r.trim_start().trim_start_matches('=');
        if let Ok((_, u)) = update_id(r) {
            return Line::NewDownloadJob(u);
        }
        return Line::Nothing;
    }
    if let Some(p) = m.find("* Downloading from ") {
        let r = &m[p + "* Downloading from ".len()..];
        let url = r.split(" to ").next().unwrap_or("").trim();
        if url.contains("://") || url.starts_with("\\\\") {
            return Line::DownloadingFrom(url);
        }
        return Line::Nothing;
    }
    if let Some(p) = m.find("occurred while downloading update") {
        let before = &m[..p];
        // `*FAILED* [80244019] Error occurred ...` or `Error 0x800706d9 occurred ...`
        let hr = before
            .rfind('[')
            .and_then(|b| code(&before[b..]).ok())
            .or_else(|| {
                before
                    .trim_end()
                    .rsplit(' ')
                    .next()
                    .and_then(|w| code(w).ok())
            })
            .map(|x| x.1);
        if let Some(hr) = hr {
            let after = &m[p + "occurred while downloading update".len()..];
            return Line::DownloadFailed {
                update: update_id(after).ok().map(|x| x.1),
                hr,
            };
        }
        return Line::Nothing;
    }
    if let Some(p) = m.find("Download failed") {
        if let Some(hr) = code_after(&m[p..], "error") {
            return Line::DownloadFailed { update: None, hr };
        }
    }
    Line::Nothing
}

/// Split a line into its time (if it has the prefix) and the rest.
fn split_line(line: &str) -> (When, &str) {
    match time_prefix(line) {
        Ok((rest, dt)) => (When::Local(dt), rest),
        Err(_) => (When::Unknown, line),
    }
}

/// `[DownloadManager] ...`: a line of an excerpt that names its component.
fn component_tag(line: &str) -> bool {
    line.trim_start()
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .is_some_and(|(c, _)| !c.is_empty() && c.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Parse a WindowsUpdate.log. Never fails; log lines about other things are skipped, and lines
/// that are not log lines at all are counted as not understood.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    // update id -> BITS job that last failed for it, and (update, hr) already reported.
    let mut job_of_update: HashMap<String, Guid> = HashMap::new();
    let mut reported: HashMap<String, HResult> = HashMap::new();
    // The update a `New download job` line announced (for the next job initialized), the job
    // initialized last (for `Downloading from`), each job's proxy and update, and the job that
    // last hit each error.
    let mut pending_update: Option<(String, Option<u32>)> = None;
    let mut current_job: Option<Guid> = None;
    let mut proxy_of_job: HashMap<Guid, String> = HashMap::new();
    let mut update_of_job: HashMap<Guid, (String, Option<u32>)> = HashMap::new();
    let mut job_of_error: HashMap<HResult, Guid> = HashMap::new();
    let mut unread = NotUnderstood::default();
    for (n, line) in lines(text) {
        let (time, rest) = split_line(line);
        // A log line has the time prefix; an excerpt without it, its component in brackets.
        let log_line = time != When::Unknown || component_tag(line);
        if log_line {
            unread.start();
        }
        // Cheap filter: every line we keep mentions a job or a download.
        if !(line.contains("job") || line.contains("ownload") || line.contains("BITS")) {
            if !log_line && !line.trim().is_empty() && !is_console_noise(line) {
                unread.line(n, line);
            }
            continue;
        }
        let obs = |fact| observation(src, n, time, fact);
        let msg = message(rest);
        if !matches!(msg, Line::Nothing) {
            unread.start();
        }
        match msg {
            Line::Nothing => {
                if !log_line && !line.trim().is_empty() && !is_console_noise(line) {
                    unread.line(n, line);
                }
            }
            Line::JobCreated(job) => {
                current_job = Some(job);
                out.observations.push(obs(Fact::JobCreated {
                    job: Some(job),
                    title: String::new(),
                    owner: String::new(),
                    process: None,
                }));
                if let Some((guid, revision)) = pending_update.take() {
                    update_of_job.insert(job, (guid.clone(), revision));
                    job_of_update.insert(guid.clone(), job);
                    out.observations.push(obs(Fact::Update {
                        stage: UpdateStage::DownloadStarted,
                        title: String::new(),
                        guid: Some(guid),
                        revision,
                        hr: None,
                        job: Some(job),
                    }));
                }
            }
            Line::NewDownloadJob(update) => pending_update = Some(update),
            Line::DownloadingFrom(url) => {
                if let Some(job) = &current_job {
                    out.observations.push(obs(Fact::TransferStarted {
                        job: Some(*job),
                        title: String::new(),
                        url: url.to_string(),
                        bytes_total: None,
                    }));
                }
            }
            Line::JobProxy { job, proxy } => {
                proxy_of_job.insert(job, proxy.to_string());
            }
            Line::JobCompleted(job) => out.observations.push(obs(Fact::JobCompleted {
                job: Some(job),
                title: String::new(),
                owner: String::new(),
                file_count: None,
            })),
            Line::JobTransient { job, update, hr } => {
                if let Some((guid, revision)) = update {
                    update_of_job.insert(job, (guid.clone(), revision));
                    job_of_update.insert(guid, job);
                }
                job_of_error.insert(hr, job);
                out.observations.push(obs(Fact::TransferError {
                    proxy: proxy_of_job.get(&job).cloned(),
                    job: Some(job),
                    title: String::new(),
                    url: String::new(),
                    hr,
                    context: None,
                }))
            }
            Line::JobFailed {
                job,
                update,
                hr,
                url,
            } => {
                job_of_error.insert(hr, job);
                out.observations.push(obs(Fact::TransferError {
                    job: Some(job),
                    title: String::new(),
                    url: url.unwrap_or("").to_string(),
                    hr,
                    proxy: proxy_of_job.get(&job).cloned(),
                    context: None,
                }));
                let (guid, revision) = update.unzip();
                if let Some(g) = &guid {
                    job_of_update.insert(g.clone(), job);
                    reported.insert(g.clone(), hr);
                }
                out.observations.push(obs(Fact::Update {
                    stage: UpdateStage::DownloadFailed,
                    title: String::new(),
                    guid,
                    revision: revision.flatten(),
                    hr: Some(hr),
                    job: Some(job),
                }));
            }
            Line::DownloadFailed { update, hr } => {
                // No update named: the one of the job that last hit this error.
                let update = update.or_else(|| update_of_job.get(job_of_error.get(&hr)?).cloned());
                let (guid, revision) = update.unzip();
                if let Some(g) = &guid {
                    if reported.remove(g) == Some(hr) {
                        continue;
                    }
                }
                let job = guid.as_ref().and_then(|g| job_of_update.get(g)).cloned();
                out.observations.push(obs(Fact::Update {
                    stage: UpdateStage::DownloadFailed,
                    title: String::new(),
                    guid,
                    revision: revision.flatten(),
                    hr: Some(hr),
                    job,
                }));
            }
        }
    }
    unread.report("WindowsUpdate.log", src, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Locator;

    const SRC: Source = Source {
        path: "b/H/WindowsUpdate.log",
        host: "H",
    };

    fn g(s: &str) -> Guid {
        Guid::parse(s).unwrap()
    }

    #[test]
    fn prefixes() {
        let (t, rest) = split_line("2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}");
        assert_eq!(t, When::Local("2013-01-27T10:55:33.204".parse().unwrap()));
        assert!(rest.starts_with("\t1160"));
        let (t, _) = split_line(
            "2020/01/23 15:17:51.1594692 9852  628   DownloadManager *FAILED* [80244019] x",
        );
        assert_eq!(
            t,
            When::Local("2020-01-23T15:17:51.1594692".parse().unwrap())
        );
        let (t, _) = split_line("2005-06-01 18:30:03 992 810 Misc = Logging initialized");
        assert_eq!(t, When::Local("2005-06-01T18:30:03".parse().unwrap()));
        assert_eq!(split_line("[DownloadManager] BITS job").0, When::Unknown);
    }

    #[test]
    fn codes_in_every_form() {
        for (s, want) in [
            ("0x80190194", 0x8019_0194),
            ("0X80244007", 0x8024_4007),
            ("80072eef", 0x8007_2EEF),
            ("[80244019]", 0x8024_4019),
            ("-2145107943", 0x8024_4019),
        ] {
            assert_eq!(code(s).map(|x| x.1), Ok(HResult(want)), "{s}");
        }
        assert_eq!(
            code_after("hr=0X80244007", "hr"),
            Some(HResult(0x8024_4007))
        );
        assert_eq!(
            code_after("Send failed with hr = 80072eef.", "hr"),
            Some(HResult(0x8007_2EEF))
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            message("BITS job {0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E} failed, updateId = 4FED3B54-C444-49B9-950F-301402B8B6B2.200, hr = 0x80190194. File URL = http://wsus:8530/Content/12/ABC.cab, local path = C:\\Windows\\SoftwareDistribution\\Download\\x"),
            Line::JobFailed {
                job: g("0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E"),
                update: Some(("4FED3B54-C444-49B9-950F-301402B8B6B2".into(), Some(200))),
                hr: HResult(0x8019_0194),
                url: Some("http://wsus:8530/Content/12/ABC.cab"),
            }
        );
        assert_eq!(
            message("[DownloadManager] BITS job {A4AC06DD-1111-2222-3333-444455556666} hit a transient error, updateId = {D053C08A-1111-2222-3333-444455556666}.200 <NULL>, error = 0x800706D9"),
            Line::JobTransient {
                job: g("A4AC06DD-1111-2222-3333-444455556666"),
                update: Some(("D053C08A-1111-2222-3333-444455556666".into(), Some(200))),
                hr: HResult(0x8007_06D9)
            }
        );
        assert_eq!(
            message(
                "\tDnldMgr\tBITS job {082DB2AF-902B-4457-810C-62B6E2D3A034} completed successfully"
            ),
            Line::JobCompleted(g("082DB2AF-902B-4457-810C-62B6E2D3A034"))
        );
        assert_eq!(
            message("  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}"),
            Line::JobCreated(g("082DB2AF-902B-4457-810C-62B6E2D3A034"))
        );
        assert_eq!(
            message(" 9852  628   DownloadManager *FAILED* [80244019] Error occurred while downloading update 4FED3B54-C444-49B9-950F-301402B8B6B2.200; notifying dependent calls."),
            Line::DownloadFailed { update: Some(("4FED3B54-C444-49B9-950F-301402B8B6B2".into(), Some(200))), hr: HResult(0x8024_4019) }
        );
        assert_eq!(
            message("DownloadManager    Error 0x800706d9 occurred while downloading update; notifying dependent calls."),
            Line::DownloadFailed { update: None, hr: HResult(0x8007_06D9) }
        );
        assert_eq!(
            message(" 1404 10a0 AU   # WARNING: Download failed, error = 0x8024402C"),
            Line::DownloadFailed {
                update: None,
                hr: HResult(0x8024_402C)
            }
        );
        assert_eq!(
            message("PT WARNING: Exceeded max server round trips: 0x80244010"),
            Line::Nothing
        );
    }

    #[test]
    fn whole_log() {
        let text = "2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}
2013-01-27\t10:55:44:276\t1160\t4348\tDnldMgr\tBITS job {082DB2AF-902B-4457-810C-62B6E2D3A034} completed successfully
2016-10-19\t11:23:47:610\t1532\t1f40\tPT\t+++++++++++  PT: Synchronizing server updates  +++++++++++
2020/01/23 15:17:51.1568965 9852  628   DownloadManager BITS job {0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E} failed, updateId = 4FED3B54-C444-49B9-950F-301402B8B6B2.200, hr = 0x80190194. File URL = http://wsus:8530/a.cab, local path = C:\\x
2020/01/23 15:17:51.1594692 9852  628   DownloadManager *FAILED* [80190194] Error occurred while downloading update 4FED3B54-C444-49B9-950F-301402B8B6B2.200; notifying dependent calls.
2020/01/23 15:17:52.1594692 9852  628   DownloadManager *FAILED* [80244019] Error occurred while downloading update 4FED3B54-C444-49B9-950F-301402B8B6B2.200; notifying dependent calls.
2013-05-16 10:41:01:577 1404 10a0 AU   # WARNING: Download failed, error = 0x8024402C
";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty());
        let kinds: Vec<_> = p
            .observations
            .iter()
            .map(|o| match &o.fact {
                Fact::JobCreated { .. } => "created",
                Fact::JobCompleted { .. } => "completed",
                Fact::TransferError { .. } => "error",
                Fact::Update { .. } => "update",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "created",
                "completed",
                "error",
                "update",
                "update",
                "update"
            ]
        );
        assert_eq!(p.observations[2].evidence.at, Locator::Line(4));
        match &p.observations[2].fact {
            Fact::TransferError { url, hr, job, .. } => {
                assert_eq!(url, "http://wsus:8530/a.cab");
                assert_eq!(*hr, HResult(0x8019_0194));
                assert_eq!(
                    job.as_ref(),
                    Some(&g("0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E"))
                );
            }
            f => panic!("{f:?}"),
        }
        // The second download failure (other code) is joined to the job that failed.
        match &p.observations[4].fact {
            Fact::Update {
                job, hr, revision, ..
            } => {
                assert_eq!(
                    job.as_ref(),
                    Some(&g("0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E"))
                );
                assert_eq!(*hr, Some(HResult(0x8024_4019)));
                assert_eq!(*revision, Some(200));
            }
            f => panic!("{f:?}"),
        }
        assert_eq!(p.observations[4].evidence.at, Locator::Line(6));
    }

    #[test]
    fn legacy_download_job_url_proxy_and_update() {
        let text = "2013-01-27\t10:55:33:188\t1160\t3ca0\tDnldMgr\t***********  DnldMgr: New download job [UpdateId = {6C58C1C1-7F37-4F1C-AE0F-20B7F1A4B9A2}.201]  ***********
2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}
2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * Downloading from http://wsus01.contoso.com:8530/Content/3A/ABC.cab to C:\\Windows\\SoftwareDistribution\\Download\\abc.cab (full file).
2013-01-27\t10:55:33:220\t1160\t3ca0\tDnldMgr\tBITS job {082DB2AF-902B-4457-810C-62B6E2D3A034} using proxy = proxy.contoso.com:8080, bypass = <NULL>
2013-01-27\t10:56:03:220\t1160\t3ca0\tDnldMgr\tBITS job {082DB2AF-902B-4457-810C-62B6E2D3A034} hit a transient error, updateId = {6C58C1C1-7F37-4F1C-AE0F-20B7F1A4B9A2}.201 <NULL>, error = 0x80072EE2
";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty());
        let job = Some(g("082DB2AF-902B-4457-810C-62B6E2D3A034"));
        let facts: Vec<&Fact> = p.observations.iter().map(|o| &o.fact).collect();
        assert_eq!(facts.len(), 4, "{facts:?}");
        assert!(matches!(facts[0], Fact::JobCreated { job: j, .. } if *j == job));
        assert_eq!(
            facts[1],
            &Fact::Update {
                stage: UpdateStage::DownloadStarted,
                title: String::new(),
                guid: Some("6C58C1C1-7F37-4F1C-AE0F-20B7F1A4B9A2".into()),
                revision: Some(201),
                hr: None,
                job,
            }
        );
        assert!(matches!(
            facts[2],
            Fact::TransferStarted { job: j, url, .. } if *j == job && url == "http://wsus01.contoso.com:8530/Content/3A/ABC.cab"
        ));
        assert!(matches!(
            facts[3],
            Fact::TransferError { job: j, hr, proxy: Some(px), .. }
                if *j == job && *hr == HResult(0x8007_2EE2) && px == "proxy.contoso.com:8080"
        ));
        assert_eq!(p.observations[2].evidence.at, Locator::Line(3));
    }

    #[test]
    fn transient_error_gives_its_update_to_a_later_failure_line() {
        let text = "2020/01/23 15:17:51.1568965 9852  628   DownloadManager BITS job {A4AC06DD-1111-2222-3333-444455556666} hit a transient error, updateId = {D053C08A-1111-2222-3333-444455556666}.200 <NULL>, error = 0x800706D9
2020/01/23 15:17:51.1594692 9852  628   DownloadManager Error 0x800706d9 occurred while downloading update; notifying dependent calls.
";
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 2);
        match &p.observations[1].fact {
            Fact::Update {
                stage,
                guid,
                revision,
                job,
                hr,
                ..
            } => {
                assert_eq!(*stage, UpdateStage::DownloadFailed);
                assert_eq!(
                    guid.as_deref(),
                    Some("D053C08A-1111-2222-3333-444455556666")
                );
                assert_eq!(*revision, Some(200));
                assert_eq!(job, &Some(g("A4AC06DD-1111-2222-3333-444455556666")));
                assert_eq!(*hr, Some(HResult(0x8007_06D9)));
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn a_log_followed_by_garbage_keeps_its_lines_and_counts_the_rest() {
        let text = "2020/01/23 15:17:51.1568965 9852  628   DownloadManager BITS job {A4AC06DD-1111-2222-3333-444455556666} hit a transient error, updateId = {D053C08A-1111-2222-3333-444455556666}.200 <NULL>, error = 0x800706D9
2020/01/23 15:17:52.0000000 9852  628   Agent       * Found 0 updates and 0 categories in search
";
        let clean = parse(text, &SRC);
        let p = parse(&format!("{text}\u{1}garbage\nmore job garbage\n"), &SRC);
        assert_eq!(p.observations, clean.observations);
        assert_eq!((p.unread_lines, p.warnings.len()), (2, 1));
        assert_eq!(p.warnings[0].at, Some(crate::model::Locator::Line(3)));
        // An excerpt without times, its component in brackets, is read and understood.
        let p = parse("[DownloadManager] BITS job {A4AC06DD-1111-2222-3333-444455556666} hit a transient error, updateId = {D053C08A-1111-2222-3333-444455556666}.200 <NULL>, error = 0x800706D9\n[Agent] * Found 0 updates\n", &SRC);
        assert_eq!((p.observations.len(), p.unread_lines), (1, 0));
    }
}
