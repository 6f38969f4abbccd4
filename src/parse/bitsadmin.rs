//! `bitsadmin` console output: `/list [/allusers] /verbose` and `/info JOB /verbose` job blocks,
//! the summary `/list` (and non-verbose `/info`) lines, `/geterror` error blocks, the progress
//! display of `/transfer` (`DISPLAY: 'NAME' TYPE: DOWNLOAD STATE: ...` blocks with no GUID,
//! joined to the job by its name); `/monitor`, `/reset`, `/create`, banners and the help screen
//! are recognised and give no jobs.

//!
//! Console copies wrap long values at the window width (80 columns): a line inside a job block
//! that starts with no known label is a continuation of the previous one, joined directly when
//! the previous line filled the window, else with one space (message texts wrapped by words).
//!
//! This module also holds the small text helpers the other text parsers share (line iteration,
//! locale-formatted local times, state names, observation building).

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take, take_till1, take_while1};
use nom::character::complete::{char, digit1, one_of, space0, space1};
use nom::combinator::{map, map_opt, map_res, opt, recognize, rest};
use nom::sequence::{preceded, separated_pair};
use nom::{IResult, Parser};

use super::{is_console_noise, NotUnderstood, Parsed, Source};
use crate::model::{Evidence, Fact, Guid, HResult, JobSnapshot, Locator, Observation, When};

type Res<'a, T> = IResult<&'a str, T>;

// ---------------------------------------------------------------------------------------------
// Shared helpers (used by the other text parsers too).

/// Lines with their 1-based numbers; a trailing CR is dropped so CRLF input reads like LF.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.split('\n').enumerate().map(|(i, l)| {
        let l = l.strip_suffix('\r').unwrap_or(l);
        (u32::try_from(i + 1).unwrap_or(u32::MAX), l)
    })
}

/// An observation of a text input at a line.
pub(crate) fn observation(src: &Source, line: u32, time: When, fact: Fact) -> Observation {
    Observation {
        host: src.host.to_string(),
        time,
        evidence: Evidence {
            path: src.path.into(),
            at: Locator::Line(line),
        },
        event_id: 0,
        fact,
    }
}

/// `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (any case).
pub(crate) fn guid_braced(i: &str) -> Res<'_, Guid> {
    map_opt(
        recognize((char('{'), take(36usize), char('}'))),
        Guid::parse,
    )
    .parse(i)
}

/// A local date and time in one of the user-locale layouts bitsadmin and PowerShell print:
/// `12/20/2018 7:26:28 PM`, `20.12.2018 19:26:28`, `2018/12/20 19:26:28`, `2018-12-20 19:26`,
/// `20/12/2018 19:26:28` (day first when no AM/PM and the first number could be a day).
pub(crate) fn civil_datetime(i: &str) -> Res<'_, jiff::civil::DateTime> {
    let (i, a) = digit1(i)?;
    let (i, sep) = one_of("/.-").parse(i)?;
    let (i, b) = digit1(i)?;
    let (i, _) = char(sep).parse(i)?;
    let (i, c) = digit1(i)?;
    let (i, _) = (opt(char(',')), space1).parse(i)?;
    let (i, (h, mi)) = separated_pair(num::<i8>, char(':'), num::<i8>).parse(i)?;
    let (i, s) = opt(preceded(char(':'), num::<i8>)).parse(i)?;
    let (i, frac) = opt(preceded(one_of(".,"), digit1)).parse(i)?;
    let (i, ampm) = opt(preceded(
        space1,
        alt((
            tag_no_case("AM"),
            tag_no_case("PM"),
            tag_no_case("a.m."),
            tag_no_case("p.m."),
        )),
    ))
    .parse(i)?;
    let fail = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify));
    let n = |s: &str| s.parse::<i32>().map_err(|_| fail());
    let (a_n, b_n, c_n) = (n(a)?, n(b)?, n(c)?);
    let (y, m, d) = if a.len() == 4 {
        (a_n, b_n, c_n)
    } else {
        let y = if c.len() == 2 { 2000 + c_n } else { c_n };
        // Day first unless the separator is `/` and the numbers or an AM/PM say month first.
        let month_first = sep == '/' && a_n <= 12 && (b_n > 12 || ampm.is_some());
        if month_first {
            (y, a_n, b_n)
        } else {
            (y, b_n, a_n)
        }
    };
    let mut h = h;
    if let Some(p) = ampm {
        let pm = p.starts_with(['p', 'P']);
        if h > 12 {
            return Err(fail());
        }
        if pm && h < 12 {
            h += 12;
        } else if !pm && h == 12 {
            h = 0;
        }
    }
    let nanos = frac.map_or(0, |f| {
        let digits = &f[..f.len().min(9)];
        let v: i32 = digits.parse().unwrap_or(0);
        v * 10i32.pow(9 - digits.len() as u32)
    });
    if !(1601..=9999).contains(&y) {
        return Err(fail());
    }
    let dt = jiff::civil::DateTime::new(
        y as i16,
        i8::try_from(m).map_err(|_| fail())?,
        i8::try_from(d).map_err(|_| fail())?,
        h,
        mi,
        s.unwrap_or(0),
        nanos,
    )
    .map_err(|_| fail())?;
    Ok((i, dt))
}

/// A whole value that is a local time; anything else (UNKNOWN, localized AM/PM ...) is
/// `When::Unknown`.
pub(crate) fn local_time(value: &str) -> When {
    match civil_datetime(value.trim()) {
        Ok((rest, dt)) if rest.trim().is_empty() => When::Local(dt),
        _ => When::Unknown,
    }
}

fn num<T: std::str::FromStr>(i: &str) -> Res<'_, T> {
    map_res(digit1, str::parse::<T>).parse(i)
}

/// Canonical job state: upper case with underscores (`TransientError` -> `TRANSIENT_ERROR`),
/// `CANCELED` spelled `CANCELLED`.
pub(crate) fn norm_state(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut prev_lower = false;
    for c in s.trim().chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_uppercase());
    }
    if out == "CANCELED" {
        out = "CANCELLED".to_string();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Small nom parsers for bitsadmin values.

/// A count or `UNKNOWN` (None).
fn count_or_unknown(i: &str) -> Res<'_, Option<u64>> {
    alt((map(tag("UNKNOWN"), |_| None), map(num::<u64>, Some))).parse(i)
}

/// `<done> / <total or UNKNOWN>`.
fn count_pair(i: &str) -> Res<'_, (Option<u64>, Option<u64>)> {
    separated_pair(
        count_or_unknown,
        (space0, char('/'), space0),
        count_or_unknown,
    )
    .parse(i)
}

/// An error code value: `0x80072ee7 - The server name ...` -> (code, text).
fn code_and_text(i: &str) -> Res<'_, (HResult, &str)> {
    let (i, hr) = map_opt(
        take_till1(|c: char| c.is_whitespace()),
        HResult::parse_number,
    )
    .parse(i)?;
    let (i, text) = opt(preceded((space0, char('-'), space0), rest)).parse(i)?;
    Ok((i, (hr, text.unwrap_or("").trim())))
}

/// A JOB FILES entry: `0 / UNKNOWN WORKING https://srv/10mb.zip -> c:\10mb.zip`.
struct FileEntry<'a> {
    remote: &'a str,
    local: &'a str,
}

fn file_entry(i: &str) -> Res<'_, FileEntry<'_>> {
    let (i, _) = (space0, count_pair, space1).parse(i)?;
    // The file's state is an upper-case word (WORKING, TRANSFERRED ...): a console-wrapped URL
    // tail such as `0/0 -> C:\x` must not pass for a file entry.
    let (i, _state) = take_while1(|c: char| c.is_ascii_uppercase() || c == '_').parse(i)?;
    let (i, _) = space1(i)?;
    let (remote, local) = split_arrow(i);
    Ok(("", FileEntry { remote, local }))
}

/// `remote -> local`; without an arrow everything is the remote name.
fn split_arrow(s: &str) -> (&str, &str) {
    let arrow = s
        .match_indices('>')
        .map(|(p, _)| p)
        .find(|&p| p >= 2 && s[..p].ends_with(" -") && s[p + 1..].starts_with(' '));
    match arrow {
        Some(p) => (s[..p - 2].trim(), s[p + 2..].trim()),
        None => (s.trim(), ""),
    }
}

/// A summary line: `{GUID} 'name' STATE 0 / 1 0 / UNKNOWN` (name quoted or not).
fn summary_line(i: &str) -> Res<'_, JobSnapshot> {
    let (body, job) = guid_braced(i.trim_start())?;
    let fail = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify));
    let mut body = body.trim_end();
    let mut words = [""; 7];
    for w in words.iter_mut().rev() {
        let (before, word) = body.rsplit_once([' ', '\t']).ok_or_else(fail)?;
        *w = word;
        body = before.trim_end();
    }
    let [state, fd, s1, ft, bd, s2, bt] = words;
    let counts = |a: &str, b: &str| -> Result<(Option<u64>, Option<u64>), _> {
        let a = count_or_unknown(a).map_err(|_| fail())?;
        let b = count_or_unknown(b).map_err(|_| fail())?;
        if !a.0.is_empty() || !b.0.is_empty() {
            return Err(fail());
        }
        Ok((a.1, b.1))
    };
    if s1 != "/" || s2 != "/" || !is_state_word(state) {
        return Err(fail());
    }
    let (files_transferred, files_total) = counts(fd, ft)?;
    let (bytes_transferred, bytes_total) = counts(bd, bt)?;
    Ok((
        "",
        JobSnapshot {
            job: Some(job),
            display_name: unquote(body.trim()).to_string(),
            state: Some(norm_state(state)),
            files_transferred,
            files_total,
            bytes_transferred,
            bytes_total,
            ..JobSnapshot::default()
        },
    ))
}

fn is_state_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .unwrap_or(s)
}

// ---------------------------------------------------------------------------------------------
// Verbose block labels.

/// Every label a verbose job block has, with the label that may follow it on the same line.
const LABELS: &[(&str, Option<&str>)] = &[
    ("GUID:", Some("DISPLAY:")),
    ("DISPLAY:", None),
    ("TYPE:", Some("STATE:")),
    ("STATE:", Some("OWNER:")),
    ("OWNER:", None),
    ("PRIORITY:", Some("FILES:")),
    ("FILES:", Some("BYTES:")),
    ("BYTES:", None),
    ("CREATION TIME:", Some("MODIFICATION TIME:")),
    ("MODIFICATION TIME:", None),
    ("COMPLETION TIME:", Some("ACL FLAGS:")),
    ("ACL FLAGS:", None),
    ("NOTIFY INTERFACE:", Some("NOTIFICATION FLAGS:")),
    ("NOTIFICATION FLAGS:", None),
    ("RETRY DELAY:", Some("NO PROGRESS TIMEOUT:")),
    ("NO PROGRESS TIMEOUT:", Some("ERROR COUNT:")),
    ("ERROR COUNT:", None),
    ("PROXY USAGE:", Some("PROXY LIST:")),
    ("PROXY LIST:", Some("PROXY BYPASS LIST:")),
    ("PROXY BYPASS LIST:", None),
    ("ERROR FILE:", None),
    ("ERROR CODE:", None),
    ("ERROR CONTEXT:", None),
    ("DESCRIPTION:", None),
    ("JOB FILES:", None),
    ("NOTIFICATION COMMAND LINE:", None),
    ("owner MIC integrity level:", None),
    ("owner elevated ?", None),
    ("Peercaching flags", None),
    ("Enable download from peers", None),
    ("Enable serving to peers", None),
    ("CUSTOM HEADERS:", None),
];

fn label_at_start(line: &str) -> Option<(&'static str, Option<&'static str>)> {
    let t = line.trim_start();
    // Every label starts with one of these letters: a cheap reject for most other lines.
    let first = *t.as_bytes().first()?;
    if !matches!(
        first,
        b'A'..=b'G' | b'J' | b'M' | b'N' | b'O' | b'P' | b'R' | b'S' | b'T' | b'o'
    ) {
        return None;
    }
    LABELS
        .iter()
        .copied()
        .find(|(l, _)| l.as_bytes()[0] == first && t.starts_with(l))
}

/// Split one logical line into its `LABEL: value` pairs.
fn split_labels<'a>(line: &'a str, mut f: impl FnMut(&'static str, &'a str)) {
    let Some((mut label, mut next)) = label_at_start(line) else {
        return;
    };
    let mut rest = &line.trim_start()[label.len()..];
    loop {
        let Some(n) = next else {
            f(label, rest.trim());
            return;
        };
        let found = find_label(rest, n);
        match found {
            Some(p) => {
                f(label, rest[..p].trim());
                rest = &rest[p + 1 + n.len()..];
                label = n;
                next = LABELS.iter().find(|(l, _)| *l == n).and_then(|x| x.1);
            }
            None => {
                f(label, rest.trim());
                return;
            }
        }
    }
}

/// Position of ` LABEL` in `s` where the label ends the string or is followed by a space.
fn find_label(s: &str, label: &str) -> Option<usize> {
    // Spaces are found with memchr; the label is compared only after one.
    s.match_indices(' ').map(|(p, _)| p).find(|&p| {
        let after = &s[p + 1..];
        after.starts_with(label) && after.as_bytes().get(label.len()).is_none_or(|&b| b == b' ')
    })
}

/// An unlisted `UPPER CASE LABEL:` (newer bitsadmin builds add fields).
fn looks_like_label(line: &str) -> bool {
    let Some(p) = line.find(':') else {
        return false;
    };
    p > 1
        && p < 32
        && line[..p]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b' ' || b == b'_' || b == b'-')
}

// ---------------------------------------------------------------------------------------------
// The line classifier and the block parser.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Blank,
    Prompt,
    Banner,
    Listed,
    Monitor,
    GuidLine,
    /// `DISPLAY: 'NAME' TYPE: ... STATE: ...`: the first line of a `/transfer` progress block.
    DisplayLine,
    Summary,
    Label,
    Other,
}

fn is_banner(t: &str) -> bool {
    if !matches!(t.as_bytes().first(), Some(b'B' | b'(' | b'A' | b'T')) {
        return false;
    }
    t.starts_with("BITSADMIN version")
        || t.starts_with("BITS administration utility")
        || t.starts_with("(C) Copyright")
        || t.starts_with("BITSAdmin is deprecated")
        || t.starts_with("Administrative tools for the BITS service")
        || t == "Transfer complete."
}

/// The Windows build in a banner `BITSADMIN version 3.0 [ 7.5.7601 ]` (BITS's file version
/// `7.x.BUILD` carries the OS build); none when the banner has no version in brackets.
fn banner_build(line: &str) -> Option<u32> {
    let t = line.trim().strip_prefix("BITSADMIN version")?;
    let inner = t.split_once('[')?.1.split_once(']')?.0.trim();
    let mut parts = inner.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let _minor: u32 = parts.next()?.parse().ok()?;
    let build: u32 = parts.next()?.parse().ok()?;
    (major >= 6 && (2000..100_000).contains(&build)).then_some(build)
}

/// A command prompt echo: `C:\\Users\\me>bitsadmin /list` or `PS C:\\> Get-BitsTransfer`.
pub(crate) fn is_prompt(t: &str) -> bool {
    let t = t.strip_prefix("PS ").unwrap_or(t);
    let b = t.as_bytes();
    b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\' && t.contains('>')
}

/// The first line of a `/transfer` progress block.
pub(crate) fn is_display_line(t: &str) -> bool {
    t.starts_with("DISPLAY: ") && t.contains(" TYPE: ") && t.contains(" STATE: ")
}

/// `'NAME' TYPE: DOWNLOAD STATE: ...` (the value of a `/transfer` DISPLAY line) -> (name, the
/// `TYPE: ...` rest). The name is quoted and may hold anything, `TYPE:` too.
fn display_value(v: &str) -> Option<(&str, &str)> {
    let p = match v.strip_prefix('\'') {
        Some(q) => q.find("' TYPE: ").map(|p| p + 2)?,
        None => v.rfind(" TYPE: ")?,
    };
    Some((unquote(v[..p].trim()), v[p..].trim_start()))
}

fn classify(line: &str) -> Class {
    let t = line.trim();
    if t.is_empty() {
        Class::Blank
    } else if is_banner(t) {
        Class::Banner
    } else if is_prompt(t) {
        Class::Prompt
    } else if t.starts_with("Listed ") && t.ends_with("job(s).") {
        Class::Listed
    } else if t.starts_with("MONITORING BACKGROUND COPY MANAGER") {
        Class::Monitor
    } else if t.starts_with("GUID:") {
        Class::GuidLine
    } else if is_display_line(t) {
        Class::DisplayLine
    } else if label_at_start(line).is_some() || looks_like_label(t) {
        Class::Label
    } else if t.starts_with('{') && guid_braced(t).is_ok() {
        Class::Summary
    } else {
        Class::Other
    }
}

/// A line bitsadmin prints to acknowledge a command that changes jobs (`/create`, `/reset`,
/// `/addfile`, `/resume` ...): `Created job {GUID}.`, `{GUID} canceled.`, `2 out of 2 jobs
/// canceled.`, `Job resumed.`, `Added URL -> FILE to job.`. They give nothing to read.
fn is_acknowledgement(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("created job {") {
        return true;
    }
    if let Ok((rest, _)) = guid_braced(t) {
        // `{GUID} canceled.`: one word and a full stop.
        let rest = rest.trim();
        return rest.ends_with('.') && !rest.contains(' ') && rest.len() > 1;
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    match words.as_slice() {
        [n, "out", "of", m, "jobs", last] => {
            n.parse::<u64>().is_ok() && m.parse::<u64>().is_ok() && last.ends_with('.')
        }
        ["Job", last] => last.ends_with('.'),
        ["Added", .., "to", "job."] => true,
        _ => false,
    }
}

/// A bitsadmin command line shown without a prompt (`bitsadmin /list /allusers /verbose`).
fn is_command(t: &str) -> bool {
    let w = t.split_whitespace().next().unwrap_or("");
    w.eq_ignore_ascii_case("bitsadmin") || w.eq_ignore_ascii_case("bitsadmin.exe")
}

/// The first line of bitsadmin's help screen (`/?`, or a command it could not read).
fn is_help_start(t: &str) -> bool {
    t.get(..16)
        .is_some_and(|h| h.eq_ignore_ascii_case("USAGE: BITSADMIN"))
}

/// A job block being read.
#[derive(Default)]
struct Block {
    line: u32,
    snap: JobSnapshot,
    in_files: bool,
    /// A `/geterror` block: error lines with no GUID line before them.
    error_only: bool,
}

/// Parse bitsadmin output. Never fails; unreadable values inside a job block become warnings,
/// and lines that are neither bitsadmin output nor console text are counted as not understood.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let mut it = lines(text).map(|(n, l)| (n, l, classify(l))).peekable();
    let mut block: Option<Block> = None;
    let mut monitor = false;
    let mut command_guid: Option<Guid> = None;
    let mut unread = NotUnderstood::default();
    // Inside the help screen: its lines are read as help until the next prompt or banner.
    let mut help = false;

    let mut after_blank = false;

    while let Some((n, line, class)) = it.next() {
        if class == Class::Blank {
            after_blank = true;
            continue;
        }
        if !matches!(class, Class::Other | Class::Label) {
            unread.start();
        }
        if help {
            if matches!(class, Class::Prompt | Class::Banner) {
                help = false;
            } else {
                continue;
            }
        }
        if block.is_none() && is_help_start(line.trim()) {
            unread.start();
            help = true;
            continue;
        }
        let was_blank = std::mem::replace(&mut after_blank, false);
        if class == Class::Other && was_blank {
            // Free text after a blank line is not part of the job block before it.
            if let Some(b) = block.take() {
                finish(b, src, &mut out);
            }
        }
        match class {
            Class::Banner
            | Class::Prompt
            | Class::Listed
            | Class::Monitor
            | Class::GuidLine
            | Class::DisplayLine
            | Class::Summary => {
                if let Some(b) = block.take() {
                    finish(b, src, &mut out);
                }
                monitor = match class {
                    Class::Monitor => true,
                    Class::Summary => monitor,
                    _ => false,
                };
            }
            _ => {}
        }
        if class == Class::Banner {
            if let Some(build) = banner_build(line) {
                let fact = Fact::VersionSign {
                    build: Some(build),
                    windows10_or_later: None,
                    what: format!("`bitsadmin` banner (BITS build {build})"),
                };
                out.observations
                    .push(observation(src, n, When::Unknown, fact));
            }
        }
        if class == Class::Summary {
            if monitor || is_acknowledgement(line.trim()) {
                continue;
            }
            let mut logical = Cow::Borrowed(line);
            let mut prev_len = width(line);
            let mut joined = Vec::new();
            loop {
                if let Ok((_, snap)) = summary_line(&logical) {
                    let fact = Fact::JobSnapshot(Box::new(snap));
                    out.observations
                        .push(observation(src, n, When::Unknown, fact));
                    break;
                }
                // A summary line wrapped by the console: try joining the next line once or twice.
                match it.peek() {
                    Some(&(m, next, Class::Other)) if joined.len() < 2 => {
                        logical = Cow::Owned(join(&logical, prev_len, next));
                        prev_len = width(next);
                        it.next();
                        joined.push((m, next));
                    }
                    _ => {
                        unread.line(n, line);
                        for (m, next) in joined {
                            unread.line(m, next);
                        }
                        break;
                    }
                }
            }
            continue;
        }
        if matches!(class, Class::GuidLine | Class::DisplayLine) {
            block = Some(Block {
                line: n,
                ..Block::default()
            });
        }
        if class == Class::Prompt || (class == Class::Other && block.is_none()) {
            // A command echo (`C:\>bitsadmin /geterror {GUID}`) names the job for an error block.
            if let Some(p) = line.find('{') {
                if let Ok((_, g)) = guid_braced(&line[p..]) {
                    command_guid = Some(g);
                }
            }
            let t = line.trim();
            if class == Class::Prompt || is_acknowledgement(t) || is_command(t) {
                unread.start();
            } else if !is_console_noise(t) {
                unread.line(n, line);
            }
            continue;
        }
        if class == Class::Label && block.is_none() {
            let t = line.trim_start();
            if t.starts_with("ERROR FILE:") || t.starts_with("ERROR CODE:") {
                block = Some(Block {
                    line: n,
                    error_only: true,
                    snap: JobSnapshot {
                        job: command_guid,
                        ..JobSnapshot::default()
                    },
                    ..Block::default()
                });
                unread.start();
            } else {
                unread.line(n, line);
                continue;
            }
        }
        let Some(b) = block.as_mut() else {
            continue;
        };
        if !matches!(
            class,
            Class::Label | Class::GuidLine | Class::DisplayLine | Class::Other
        ) {
            continue;
        }
        // Gather console-wrapped continuation lines into one logical line.
        // After a line that filled the console, a piece that merely looks like a label (the
        // tail of a label cut in two, `ASS LIST: NULL`) continues it too.
        let mut logical = Cow::Borrowed(line);
        let mut prev_len = width(line);
        while let Some(&(_, next, next_class)) = it.peek() {
            let continues = match next_class {
                Class::Other => file_entry(next).is_err(),
                Class::Label => prev_len >= 80 && label_at_start(next).is_none(),
                _ => false,
            };
            if !continues {
                break;
            }
            logical = Cow::Owned(join(&logical, prev_len, next));
            prev_len = width(next);
            it.next();
        }
        apply(b, &logical, n, src, &mut out);
    }
    if let Some(b) = block.take() {
        finish(b, src, &mut out);
    }
    unread.report("bitsadmin", src, &mut out);
    out
}

/// Columns a line takes (only counted when it could have filled an 80-column console).
fn width(line: &str) -> usize {
    if line.len() < 80 {
        line.len()
    } else {
        line.chars().count()
    }
}

/// Join a continuation: directly when the previous physical line filled the console width,
/// else with one space.
fn join(prev: &str, prev_len: usize, next: &str) -> String {
    if prev_len >= 80 {
        format!("{prev}{next}")
    } else {
        format!("{} {}", prev.trim_end(), next.trim_start())
    }
}

fn apply(b: &mut Block, line: &str, n: u32, src: &Source, out: &mut Parsed) {
    let t = line.trim_start();
    if let Some((name, rest)) = t
        .strip_prefix("DISPLAY: ")
        .filter(|_| is_display_line(t))
        .and_then(display_value)
    {
        b.snap.display_name = name.to_string();
        return apply(b, rest, n, src, out);
    }
    if b.in_files {
        if label_at_start(t).is_none() {
            match file_entry(t) {
                Ok((_, f)) => b
                    .snap
                    .files
                    .push((f.remote.to_string(), f.local.to_string())),
                Err(_) => out.warn(
                    src,
                    Some(Locator::Line(n)),
                    format!("bitsadmin: unreadable JOB FILES entry `{}`", clip(t)),
                ),
            }
            return;
        }
        b.in_files = false;
    }
    if label_at_start(t).is_none() {
        if !looks_like_label(t) {
            out.warn(
                src,
                Some(Locator::Line(n)),
                format!("bitsadmin: unexpected line in a job block `{}`", clip(t)),
            );
        }
        return;
    }
    let mut bad: Option<&'static str> = None;
    let s = &mut b.snap;
    let mut in_files = false;
    split_labels(line, |label, v| {
        let ok = match label {
            "GUID:" => {
                s.job = guid_braced(v).ok().map(|x| x.1);
                s.job.is_some()
            }
            "DISPLAY:" => {
                s.display_name = unquote(v).to_string();
                true
            }
            "TYPE:" => set_word(&mut s.job_type, v),
            "STATE:" => {
                s.state = (!v.is_empty()).then(|| norm_state(v));
                true
            }
            "OWNER:" => set_word(&mut s.owner, v),
            "PRIORITY:" => set_word(&mut s.priority, v),
            "FILES:" => match count_pair(v) {
                Ok(("", (a, b))) => {
                    (s.files_transferred, s.files_total) = (a, b);
                    true
                }
                _ => false,
            },
            "BYTES:" => match count_pair(strip_percent(v)) {
                Ok(("", (a, b))) => {
                    (s.bytes_transferred, s.bytes_total) = (a, b);
                    true
                }
                _ => false,
            },
            "CREATION TIME:" => set_time(&mut s.creation_time, v),
            "MODIFICATION TIME:" => set_time(&mut s.modification_time, v),
            "COMPLETION TIME:" => set_time(&mut s.completion_time, v),
            "RETRY DELAY:" => set_num(&mut s.retry_delay, v),
            "NO PROGRESS TIMEOUT:" => set_num(&mut s.no_progress_timeout, v),
            "ERROR COUNT:" => set_num(&mut s.error_count, v),
            "PROXY USAGE:" => set_word(&mut s.proxy_usage, v),
            "PROXY LIST:" => set_nullable(&mut s.proxy_list, v),
            "PROXY BYPASS LIST:" => set_nullable(&mut s.proxy_bypass_list, v),
            "ERROR FILE:" => {
                let (remote, _) = split_arrow(v);
                s.error_file = (!remote.is_empty()).then(|| remote.to_string());
                true
            }
            "ERROR CODE:" => match code_and_text(v) {
                Ok((_, (hr, _))) => {
                    s.error_code = Some(hr);
                    true
                }
                Err(_) => false,
            },
            "ERROR CONTEXT:" => match code_and_text(v) {
                Ok((_, (hr, _))) => {
                    s.error_context = Some(hr.0);
                    true
                }
                Err(_) => false,
            },
            "NOTIFICATION COMMAND LINE:" => {
                s.notify_command =
                    (!v.is_empty() && !v.eq_ignore_ascii_case("none")).then(|| v.to_string());
                true
            }
            "JOB FILES:" => {
                in_files = true;
                true
            }
            _ => true,
        };
        if !ok && bad.is_none() {
            bad = Some(label);
        }
    });
    b.in_files = in_files;
    if let Some(label) = bad {
        out.warn(
            src,
            Some(Locator::Line(n)),
            format!("bitsadmin: unreadable {label} value in `{}`", clip(t)),
        );
    }
}

/// `1024 / 10240 (10%)` (the `/transfer` display) -> `1024 / 10240`.
fn strip_percent(v: &str) -> &str {
    match v.rsplit_once(" (") {
        Some((pair, pct)) if pct.ends_with("%)") => pair.trim_end(),
        _ => v,
    }
}

/// A time value; `false` (a warning) for one that is neither a time, `UNKNOWN`, empty nor the
/// null time bitsadmin prints for "never" (1/1/0001).
fn set_time(slot: &mut When, v: &str) -> bool {
    *slot = local_time(v);
    let v = v.trim();
    *slot != When::Unknown
        || v.is_empty()
        || v.eq_ignore_ascii_case("UNKNOWN")
        || v.starts_with("1/1/0001")
}

fn set_word(slot: &mut Option<String>, v: &str) -> bool {
    *slot = (!v.is_empty()).then(|| v.to_string());
    true
}

fn set_nullable(slot: &mut Option<String>, v: &str) -> bool {
    *slot = (!v.is_empty() && !v.eq_ignore_ascii_case("NULL")).then(|| v.to_string());
    true
}

fn set_num<T: std::str::FromStr>(slot: &mut Option<T>, v: &str) -> bool {
    match v.parse() {
        Ok(x) => {
            *slot = Some(x);
            true
        }
        Err(_) => v.is_empty(),
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((p, _)) => &s[..p],
        None => s,
    }
}

fn finish(b: Block, src: &Source, out: &mut Parsed) {
    let s = b.snap;
    let time = s.modification_time;
    if let Some(hr) = s.error_code.filter(|h| h.0 != 0) {
        let fact = Fact::TransferError {
            job: s.job,
            title: s.display_name.clone(),
            url: s.error_file.clone().unwrap_or_default(),
            hr,
            proxy: s.proxy_list.clone(),
            context: s.error_context,
        };
        if b.error_only {
            out.observations.push(observation(src, b.line, time, fact));
            return;
        }
        out.observations.push(observation(
            src,
            b.line,
            time,
            Fact::JobSnapshot(Box::new(s)),
        ));
        out.observations.push(observation(src, b.line, time, fact));
    } else if !b.error_only {
        out.observations.push(observation(
            src,
            b.line,
            time,
            Fact::JobSnapshot(Box::new(s)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_build_from_the_bracketed_version() {
        assert_eq!(
            banner_build("BITSADMIN version 3.0 [ 7.5.7601 ]"),
            Some(7601)
        );
        assert_eq!(
            banner_build("BITSADMIN version 3.0 [ 7.8.19041.1 ]"),
            Some(19041)
        );
        assert_eq!(banner_build("BITSADMIN version 3.0"), None);
        assert_eq!(banner_build("BITSADMIN version 3.0 [ x ]"), None);
    }

    const SRC: Source = Source {
        path: "bundle/HOST1/bitsadmin.txt",
        host: "HOST1",
    };

    fn dt(s: &str) -> When {
        When::Local(s.parse().unwrap())
    }

    fn snaps(p: &Parsed) -> Vec<&JobSnapshot> {
        p.snapshots()
    }

    #[test]
    fn an_invalid_time_is_a_warning_not_a_silent_unknown() {
        let mut t = When::Unknown;
        assert!(!set_time(&mut t, "13/45/2024 7:56:24 AM"));
        assert_eq!(t, When::Unknown);
        for ok in [
            "UNKNOWN",
            "",
            "1/1/0001 12:00:00 AM",
            "3/11/2024 7:56:24 AM",
        ] {
            assert!(set_time(&mut t, ok), "{ok}");
        }
        assert_eq!(t, dt("2024-03-11T07:56:24"));
    }

    #[test]
    fn times_in_several_locales() {
        assert_eq!(
            local_time("12/20/2018 7:26:28 PM"),
            dt("2018-12-20T19:26:28")
        );
        assert_eq!(
            local_time("12/17/2002 1:21:17 PM"),
            dt("2002-12-17T13:21:17")
        );
        assert_eq!(local_time("20.12.2018 19:26:28"), dt("2018-12-20T19:26:28"));
        assert_eq!(local_time("2018/12/20 19:26:28"), dt("2018-12-20T19:26:28"));
        assert_eq!(local_time("2026/06/17 19:18:02"), dt("2026-06-17T19:18:02"));
        assert_eq!(local_time("20/12/2018 19:26:28"), dt("2018-12-20T19:26:28"));
        assert_eq!(local_time("5/9/2011 3:22:54 PM"), dt("2011-05-09T15:22:54"));
        assert_eq!(
            local_time("1/1/2019 12:05:00 AM"),
            dt("2019-01-01T00:05:00")
        );
        assert_eq!(local_time("UNKNOWN"), When::Unknown);
        assert_eq!(local_time("1/1/0001 12:00:00 AM"), When::Unknown);
        assert_eq!(local_time("20.12.2018 19:26:28 nachm."), When::Unknown);
        assert_eq!(local_time("13/13/2018 10:00:00"), When::Unknown);
    }

    #[test]
    fn states_are_canonical() {
        assert_eq!(norm_state("TransientError"), "TRANSIENT_ERROR");
        assert_eq!(norm_state("TRANSIENT_ERROR"), "TRANSIENT_ERROR");
        assert_eq!(norm_state("Canceled"), "CANCELLED");
        assert_eq!(norm_state("Transferred"), "TRANSFERRED");
    }

    #[test]
    fn small_parsers_on_real_values() {
        assert_eq!(count_pair("0 / UNKNOWN"), Ok(("", (Some(0), None))));
        assert_eq!(
            count_pair("18162 / 18162"),
            Ok(("", (Some(18162), Some(18162))))
        );
        let (_, (hr, text)) =
            code_and_text("0x80072ee7 - The server name or address could not be resolved").unwrap();
        assert_eq!(hr, HResult(0x8007_2EE7));
        assert_eq!(text, "The server name or address could not be resolved");
        let (_, f) =
            file_entry("        0 / UNKNOWN WORKING https://downloadsrv/10mb.zip -> c:\\10mb.zip")
                .unwrap();
        assert_eq!(
            (f.remote, f.local),
            ("https://downloadsrv/10mb.zip", "c:\\10mb.zip")
        );
        assert!(file_entry("processed.").is_err());
    }

    #[test]
    fn label_lines_split() {
        let mut got = vec![];
        split_labels(
            "TYPE: DOWNLOAD STATE: TRANSIENT_ERROR OWNER: NT AUTHORITY\\SYSTEM",
            |l, v| got.push((l, v)),
        );
        assert_eq!(
            got,
            [
                ("TYPE:", "DOWNLOAD"),
                ("STATE:", "TRANSIENT_ERROR"),
                ("OWNER:", "NT AUTHORITY\\SYSTEM")
            ]
        );
        got.clear();
        split_labels(
            "COMPLETION TIME: 12/20/2018 7:26:30 PM ACL FLAGS:",
            |l, v| got.push((l, v)),
        );
        assert_eq!(
            got,
            [
                ("COMPLETION TIME:", "12/20/2018 7:26:30 PM"),
                ("ACL FLAGS:", "")
            ]
        );
        got.clear();
        split_labels(
            "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: 'a STATE: b'",
            |l, v| got.push((l, v)),
        );
        assert_eq!(
            got,
            [
                ("GUID:", "{482FCAF0-74BF-469B-8929-5CCD028C9499}"),
                ("DISPLAY:", "'a STATE: b'")
            ]
        );
        got.clear();
        split_labels("PROXY USAGE: OVERRIDE PROXY LIST: http://p1:8080 http://p2:8080 PROXY BYPASS LIST: <local>", |l, v| got.push((l, v)));
        assert_eq!(
            got,
            [
                ("PROXY USAGE:", "OVERRIDE"),
                ("PROXY LIST:", "http://p1:8080 http://p2:8080"),
                ("PROXY BYPASS LIST:", "<local>")
            ]
        );
    }

    const DOC: &str = "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: myDownloadJob
TYPE: DOWNLOAD STATE: TRANSIENT_ERROR OWNER: domain\\user
PRIORITY: NORMAL FILES: 0 / 1 BYTES: 0 / UNKNOWN
CREATION TIME: 12/17/2002 1:21:17 PM MODIFICATION TIME: 12/17/2002 1:21:30 PM
COMPLETION TIME: UNKNOWN
NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3
RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 0
PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL
ERROR FILE:    https://downloadsrv/10mb.zip -> c:\\10mb.zip
ERROR CODE:    0x80072ee7 - The server name or address could not be resolved
ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being
processed.
DESCRIPTION:
JOB FILES:
0 / UNKNOWN WORKING https://downloadsrv/10mb.zip -> c:\\10mb.zip
NOTIFICATION COMMAND LINE: none
";

    #[test]
    fn doc_verbose_block() {
        let p = parse(DOC, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.observations.len(), 2);
        let s = snaps(&p)[0];
        assert_eq!(
            s.job.as_ref().unwrap().to_string(),
            "{482FCAF0-74BF-469B-8929-5CCD028C9499}"
        );
        assert_eq!(s.display_name, "myDownloadJob");
        assert_eq!(s.state.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(s.owner.as_deref(), Some("domain\\user"));
        assert_eq!((s.files_transferred, s.files_total), (Some(0), Some(1)));
        assert_eq!((s.bytes_transferred, s.bytes_total), (Some(0), None));
        assert_eq!(s.creation_time, dt("2002-12-17T13:21:17"));
        assert_eq!(s.completion_time, When::Unknown);
        assert_eq!(
            (s.retry_delay, s.no_progress_timeout, s.error_count),
            (Some(600), Some(1209600), Some(0))
        );
        assert_eq!(s.proxy_usage.as_deref(), Some("PRECONFIG"));
        assert_eq!(s.proxy_list, None);
        assert_eq!(s.error_code, Some(HResult(0x8007_2EE7)));
        assert_eq!(s.error_context, Some(5));
        assert_eq!(
            s.error_file.as_deref(),
            Some("https://downloadsrv/10mb.zip")
        );
        assert_eq!(s.notify_command, None);
        assert_eq!(
            s.files,
            [(
                "https://downloadsrv/10mb.zip".to_string(),
                "c:\\10mb.zip".to_string()
            )]
        );
        let o = &p.observations[1];
        assert_eq!(o.evidence.at, Locator::Line(1));
        assert_eq!(o.host, "HOST1");
        assert_eq!(o.time, dt("2002-12-17T13:21:30"));
        match &o.fact {
            Fact::TransferError {
                job,
                url,
                hr,
                context,
                proxy,
                title,
            } => {
                assert!(job.is_some());
                assert_eq!(url, "https://downloadsrv/10mb.zip");
                assert_eq!(*hr, HResult(0x8007_2EE7));
                assert_eq!(*context, Some(5));
                assert_eq!(*proxy, None);
                assert_eq!(title, "myDownloadJob");
            }
            f => panic!("{f:?}"),
        }
    }

    const WIN10: &str = "C:\\Program Files (x86)\\Microsoft Visual Studio\\2017\\Enterprise>bitsadmin /list /verbose

BITSADMIN version 3.0
BITS administration utility.
(C) Copyright Microsoft Corp.

GUID: {40918B85-1BF6-417D-A8C5-D6A8E55D0F3A} DISPLAY: 'Microsoft Outlook Offline
 Address Book c1e4b87ef61c7bdcaf0b6ab1c0'
TYPE: DOWNLOAD STATE: TRANSFERRED OWNER: REDMOND\\stahl
PRIORITY: HIGH FILES: 1 / 1 BYTES: 18162 / 18162
CREATION TIME: 12/20/2018 7:26:28 PM MODIFICATION TIME: 12/20/2018 7:26:30 PM
COMPLETION TIME: 12/20/2018 7:26:30 PM ACL FLAGS:
NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3
RETRY DELAY: 300 NO PROGRESS TIMEOUT: 3600 ERROR COUNT: 1
PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL
DESCRIPTION: Microsoft Outlook Offline Address Book Directory
JOB FILES:
        18162 / 18162 WORKING https://outlook.office365.com/OAB/e9f05585-ab02-4e
1a-80e2-36a7e0fcec7/oab.xml -> C:\\Users\\stahl\\AppData\\Local\\Microsoft\\Outlook\\oab.xml
NOTIFICATION COMMAND LINE: none
owner MIC integrity level: MEDIUM
owner elevated ?           false

Peercaching flags
\t Enable download from peers      :false
\t Enable serving to peers         :false

CUSTOM HEADERS: X-User-Identity: SMTP:someone@outlook.com
";

    #[test]
    fn win10_verbose_with_wrapping_and_peercaching() {
        let p = parse(WIN10, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.observations.len(), 1);
        let s = snaps(&p)[0];
        assert_eq!(
            s.display_name,
            "Microsoft Outlook Offline Address Book c1e4b87ef61c7bdcaf0b6ab1c0"
        );
        assert_eq!(s.state.as_deref(), Some("TRANSFERRED"));
        assert_eq!(s.priority.as_deref(), Some("HIGH"));
        assert_eq!(s.completion_time, dt("2018-12-20T19:26:30"));
        assert_eq!(s.error_count, Some(1));
        assert_eq!(s.error_code, None);
        assert_eq!(
            s.files,
            [(
                "https://outlook.office365.com/OAB/e9f05585-ab02-4e1a-80e2-36a7e0fcec7/oab.xml"
                    .to_string(),
                "C:\\Users\\stahl\\AppData\\Local\\Microsoft\\Outlook\\oab.xml".to_string()
            )]
        );
        assert_eq!(p.observations[0].evidence.at, Locator::Line(7));
    }

    #[test]
    fn transfer_progress_display_without_guid() {
        let text = "C:\\>bitsadmin /transfer \"Nightly sync\" /download /priority normal https://files.contoso.com/a.zip C:\\t\\a.zip

BITSADMIN version 3.0
BITS administration utility.
(C) Copyright Microsoft Corp.

DISPLAY: 'Nightly sync' TYPE: DOWNLOAD STATE: TRANSIENT_ERROR
PRIORITY: NORMAL FILES: 0 / 1 BYTES: 0 / UNKNOWN
ERROR FILE:    https://files.contoso.com/a.zip -> C:\\t\\a.zip
ERROR CODE:    0x80200059 - Der Server hat die Anforderung nicht erfolgreich
beantwortet.
ERROR CONTEXT: 0x00000005 - Beim Verarbeiten der Remotedatei ist ein Fehler aufgetreten.
";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let s = snaps(&p);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].job, None);
        assert_eq!(s[0].display_name, "Nightly sync");
        assert_eq!(s[0].job_type.as_deref(), Some("DOWNLOAD"));
        assert_eq!(s[0].state.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(
            (s[0].files_transferred, s[0].files_total),
            (Some(0), Some(1))
        );
        assert_eq!(s[0].error_code, Some(HResult(0x8020_0059)));
        assert_eq!(p.observations[0].evidence.at, Locator::Line(7));
        match &p.observations[1].fact {
            Fact::TransferError {
                job,
                title,
                url,
                hr,
                context,
                ..
            } => {
                assert_eq!(*job, None);
                assert_eq!(title, "Nightly sync");
                assert_eq!(url, "https://files.contoso.com/a.zip");
                assert_eq!(*hr, HResult(0x8020_0059));
                assert_eq!(*context, Some(5));
            }
            f => panic!("{f:?}"),
        }
        // A finished transfer: the percentage and the closing line are read too.
        let done = "DISPLAY: 'x TYPE: y' TYPE: DOWNLOAD STATE: TRANSFERRED\nPRIORITY: FOREGROUND FILES: 1 / 1 BYTES: 2048 / 2048 (100%)\nTransfer complete.\n";
        let p = parse(done, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let s = snaps(&p);
        assert_eq!(s[0].display_name, "x TYPE: y");
        assert_eq!(s[0].state.as_deref(), Some("TRANSFERRED"));
        assert_eq!(s[0].bytes_total, Some(2048));
    }

    #[test]
    fn summary_list_and_listed() {
        let text = "{6AF46E48-41D3-453F-B7AF-A694BBC823F7} job1 SUSPENDED 0 / 0 0 / 0
{482FCAF0-74BF-469B-8929-5CCD028C9499} 'my job 2' TRANSIENT_ERROR 0 / 1 0 / UNKNOWN

Listed 2 job(s).
";
        let p = parse(text, &SRC);
        let s = snaps(&p);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].display_name, "job1");
        assert_eq!(s[0].state.as_deref(), Some("SUSPENDED"));
        assert_eq!(s[1].display_name, "my job 2");
        assert_eq!(s[1].bytes_total, None);
        assert_eq!(s[1].files_total, Some(1));
        assert_eq!(p.observations[1].evidence.at, Locator::Line(2));
    }

    #[test]
    fn monitor_reset_create_give_no_jobs() {
        for text in [
            "MONITORING BACKGROUND COPY MANAGER(5 second refresh)\n{6AF46E48-41D3-453F-B7AF-A694BBC823F7} job1 SUSPENDED 0 / 0 0 / 0\n",
            "{DC61A20C-44AB-4768-B175-8000D02545B9} canceled.\n{BB6E91F3-6EDA-4BB4-9E01-5C5CBB5411F8} canceled.\n2 out of 2 jobs canceled.\n",
            "created job {C775D194-090F-431F-B5FB-8334D00D1CB6}\n",
            "Created job {C775D194-090F-431F-B5FB-8334D00D1CB6}.\n",
        ] {
            let p = parse(text, &SRC);
            assert!(p.observations.is_empty(), "{text}: {:?}", p.observations);
            assert!(p.warnings.is_empty());
        }
    }

    #[test]
    fn geterror_block() {
        let text = "C:\\>bitsadmin /geterror {482FCAF0-74BF-469B-8929-5CCD028C9499}
ERROR FILE:    http://downloadsrv/10mb.zip -> c:\\10mb.zip
ERROR CODE:    0x80190194 - HTTP status 404: The requested URL does not exist on the server.
ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being processed.
";
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 1);
        match &p.observations[0].fact {
            Fact::TransferError {
                job,
                url,
                hr,
                context,
                ..
            } => {
                assert_eq!(
                    job.as_ref().unwrap().to_string(),
                    "{482FCAF0-74BF-469B-8929-5CCD028C9499}"
                );
                assert_eq!(url, "http://downloadsrv/10mb.zip");
                assert_eq!(*hr, HResult(0x8019_0194));
                assert_eq!(*context, Some(5));
            }
            f => panic!("{f:?}"),
        }
        assert_eq!(p.observations[0].evidence.at, Locator::Line(2));
    }

    #[test]
    fn bad_values_warn_with_line() {
        let text = "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: x\nPRIORITY: NORMAL FILES: zero / 1 BYTES: 0 / 0\n";
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 1);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].at, Some(Locator::Line(2)));
    }

    #[test]
    fn help_screen_gives_nothing() {
        let text = "\nBITSADMIN version 3.0 [ 7.5.7601 ]\nBITS administration utility.\n(C) Copyright 2000-2006 Microsoft Corp.\n\nUSAGE: BITSADMIN [/RAWRETURN] [/WRAP | /NOWRAP] command\n/LIST    [/ALLUSERS] [/VERBOSE]     List the jobs\n/INFO <job> [/VERBOSE]                   Displays information about the job\n";
        let p = parse(text, &SRC);
        // No job; only the Windows build the banner carries.
        let facts: Vec<&Fact> = p.observations.iter().map(|o| &o.fact).collect();
        assert_eq!(
            facts,
            [&Fact::VersionSign {
                build: Some(7601),
                windows10_or_later: None,
                what: "`bitsadmin` banner (BITS build 7601)".into(),
            }]
        );
        assert!(p.warnings.is_empty());
    }

    const GARBAGE: &str =
        "\n\u{1}\u{7f}x9!kq garbage\n\u{fffd}\u{fffd}more garbage\nWEIRD: thing\n";

    #[test]
    fn a_job_followed_by_garbage_keeps_the_job_and_counts_the_lines() {
        let clean = parse(DOC, &SRC);
        let p = parse(&format!("{DOC}{GARBAGE}"), &SRC);
        assert_eq!(p.observations, clean.observations);
        assert_eq!(p.unread_lines, 3);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert_eq!(p.warnings[0].at, Some(Locator::Line(18)));
        assert!(p.warnings[0].message.contains("3 line(s) not understood"));
        // A summary line that does not read as one is counted too.
        let p = parse(
            "{6AF46E48-41D3-453F-B7AF-A694BBC823F7} job1 SUSPENDED 0 / 0 0 / 0\n{6AF46E48-41D3-453F-B7AF-A694BBC823F7} ???\n",
            &SRC,
        );
        assert_eq!((snaps(&p).len(), p.unread_lines), (1, 1));
    }

    #[test]
    fn console_text_around_a_capture_is_understood() {
        let text = format!(
            "Here is what the server shows:
**********************
Windows PowerShell transcript start
Start time: 20240301093000
Username: CONTOSO\\admin
Machine: WS01 (Microsoft Windows NT 10.0.19045.0)
**********************
Transcript started, output file is C:\\t\\x.txt
PS C:\\> bitsadmin /create myjob

BITSADMIN version 3.0
BITS administration utility.
(C) Copyright Microsoft Corp.

Created job {{C775D194-090F-431F-B5FB-8334D00D1CB6}}.
PS C:\\> bitsadmin /reset
{{DC61A20C-44AB-4768-B175-8000D02545B9}} canceled.
2 out of 2 jobs canceled.
bitsadmin /resume myjob
Job resumed.
Added https://srv/a.zip -> C:\\a.zip to job.
PS C:\\> bitsadmin /info myjob /verbose

{DOC}
PS C:\\> bitsadmin /?

USAGE: BITSADMIN [/RAWRETURN] [/WRAP | /NOWRAP] command
The following commands are available:

/LIST    [/ALLUSERS] [/VERBOSE]     List the jobs
/INFO <job> [/VERBOSE]                   Displays information about the job
**********************
Windows PowerShell transcript end
End time: 20240301093010
**********************
"
        );
        let p = parse(&text, &SRC);
        assert_eq!(p.unread_lines, 0, "{:?}", p.warnings);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(snaps(&p).len(), 1);
        // Never sliced inside a character (found by the proptest in tests/text_corpus.rs).
        assert!(!is_help_start("¤𐹠@Ýj~\u{fffd}𝋈🕴.|"));
    }
}
