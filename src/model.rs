//! The data every stage shares: observations drawn from inputs, and the small value types
//! (HRESULTs, job ids, times, evidence) they are made of.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A Windows HRESULT. Printed as `0x` + 8 upper-case hex digits, always.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HResult(pub u32);

/// Why a string is not an HRESULT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an error code (expected 0x80200013, 80200013, -2145386477, 2149580819 or a symbol)")]
pub struct BadHResult(pub String);

impl HResult {
    pub const S_OK: HResult = HResult(0);

    /// Severity bit set (an error, not a success or informational code).
    pub fn is_failure(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }
    /// The facility field (bits 16..28).
    pub fn facility(self) -> u16 {
        ((self.0 >> 16) & 0x1FFF) as u16
    }
    /// The code field (low 16 bits).
    pub fn code(self) -> u16 {
        (self.0 & 0xFFFF) as u16
    }
    /// The Win32 error number for `HRESULT_FROM_WIN32` values (facility 7).
    pub fn win32(self) -> Option<u32> {
        (self.is_failure() && self.facility() == 7).then_some(self.code() as u32)
    }
    /// The HTTP status of a `BG_E_HTTP_ERROR_nnn` value (facility 0x19, status in the low word).
    /// The BITS_MC_* message ids at 0x80194000.. are not HTTP statuses.
    pub fn http_status(self) -> Option<u16> {
        let status = self.code();
        (self.0 & 0xFFFF_0000 == 0x8019_0000 && (100..600).contains(&status)).then_some(status)
    }

    /// Parse the numeric forms seen in logs and on the command line: `0x80200013`, `0X80200013`,
    /// bare hex `80200013`, signed decimal `-2145386477`, unsigned decimal `2149580819`,
    /// and the forms `0n2147012889` (WinDbg) and `hr=...` are not accepted here: callers strip
    /// their own prefixes. Symbols are resolved by the knowledge table, not here.
    pub fn parse_number(text: &str) -> Option<HResult> {
        let s = text.trim();
        if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            return parse_hex(hex);
        }
        if let Some(neg) = s.strip_prefix('-') {
            let v: i64 = neg.parse::<u32>().ok()? as i64;
            if v == 0 || v > 0x8000_0000 {
                return None;
            }
            return Some(HResult((-v) as i32 as u32));
        }
        // Eight hex digits with at least one letter or a leading 8/C: the bare-hex form
        // (`80200013`, `80072ee7`). Anything else of digits only is decimal.
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            let decimal_plausible = s.bytes().all(|b| b.is_ascii_digit())
                && s.parse::<u64>().is_ok_and(|v| v < 0x8000_0000)
                && !s.starts_with('8');
            if !decimal_plausible {
                return parse_hex(s);
            }
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse::<u32>().ok().map(HResult);
        }
        None
    }
}

fn parse_hex(hex: &str) -> Option<HResult> {
    if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(HResult)
}

impl fmt::Display for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

impl fmt::Debug for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for HResult {
    type Err = BadHResult;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HResult::parse_number(s).ok_or_else(|| BadHResult(s.to_string()))
    }
}

impl Serialize for HResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A BITS job GUID, printed in canonical form: upper-case, with braces (`{6AF6F4C8-...}`).
/// Held as its 16 bytes in the order the text writes them, so it costs no allocation, compares
/// as its canonical text does, and is formatted only when written out.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid([u8; 16]);

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Guid::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a GUID: {text}")))
    }
}

/// Where the dashes of a GUID's 36-character form are.
const GUID_DASHES: [usize; 4] = [8, 13, 18, 23];

impl Guid {
    /// Accepts a GUID with or without braces, any case. Returns None for anything else.
    pub fn parse(text: &str) -> Option<Guid> {
        let t = text.trim();
        let inner = t
            .strip_prefix('{')
            .and_then(|x| x.strip_suffix('}'))
            .unwrap_or(t);
        let b = inner.as_bytes();
        if b.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut nibbles = 0;
        for (i, c) in b.iter().enumerate() {
            if GUID_DASHES.contains(&i) {
                if *c != b'-' {
                    return None;
                }
                continue;
            }
            let v = (*c as char).to_digit(16)? as u8;
            bytes[nibbles / 2] |= if nibbles % 2 == 0 { v << 4 } else { v };
            nibbles += 1;
        }
        Some(Guid(bytes))
    }

    /// A GUID from its 16-byte binary form (first three fields little-endian, as Windows
    /// stores it).
    pub fn from_le_bytes(b: &[u8]) -> Option<Guid> {
        let b: &[u8; 16] = b.try_into().ok()?;
        let mut t = *b;
        t[..4].reverse();
        t[4..6].reverse();
        t[6..8].reverse();
        Some(Guid(t))
    }

    /// The canonical text, on the stack.
    pub fn text(&self) -> GuidText {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [0u8; 38];
        out[0] = b'{';
        out[37] = b'}';
        let mut at = 1;
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out[at] = b'-';
                at += 1;
            }
            out[at] = HEX[(byte >> 4) as usize];
            out[at + 1] = HEX[(byte & 0xf) as usize];
            at += 2;
        }
        GuidText(out)
    }
}

/// A GUID's canonical text (`{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`), without allocating.
#[derive(Clone, Copy)]
pub struct GuidText([u8; 38]);

impl std::ops::Deref for GuidText {
    type Target = str;
    fn deref(&self) -> &str {
        // Only ASCII hex digits, dashes and braces are ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}
impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// When something happened. Event logs give UTC; bitsadmin and other console text print the
/// machine's local time with no zone. A local time is placed on the UTC line once its host's
/// offset is known (inferred from a job seen both in an event log and in a console capture, or
/// given by `--timezone`); until then it is never compared with UTC times as if it were one.
///
/// Order: unknown first, then local times of unknown offset (among themselves), then every
/// placed time (UTC or local with a known offset) by its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum When {
    #[default]
    Unknown,
    /// Local time, offset unknown.
    Local(jiff::civil::DateTime),
    /// Local time with its known UTC offset.
    LocalAt(jiff::civil::DateTime, jiff::tz::Offset),
    Utc(jiff::Timestamp),
}

/// What a time is measured against, as every output states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TimeBasis {
    #[serde(rename = "utc")]
    Utc,
    #[serde(rename = "local-known-offset")]
    LocalKnownOffset,
    #[serde(rename = "local-unknown")]
    LocalUnknown,
    /// No time at all.
    #[serde(rename = "none")]
    None,
}

impl TimeBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeBasis::Utc => "utc",
            TimeBasis::LocalKnownOffset => "local-known-offset",
            TimeBasis::LocalUnknown => "local-unknown",
            TimeBasis::None => "",
        }
    }
}

impl When {
    pub fn utc(&self) -> Option<jiff::Timestamp> {
        match self {
            When::Utc(t) => Some(*t),
            _ => None,
        }
    }
    /// The instant on the UTC line, where the time can be placed there.
    pub fn instant(&self) -> Option<jiff::Timestamp> {
        match self {
            When::Utc(t) => Some(*t),
            When::LocalAt(dt, off) => off.to_timestamp(*dt).ok(),
            _ => None,
        }
    }
    pub fn basis(&self) -> TimeBasis {
        match self {
            When::Unknown => TimeBasis::None,
            When::Local(_) => TimeBasis::LocalUnknown,
            When::LocalAt(..) => TimeBasis::LocalKnownOffset,
            When::Utc(_) => TimeBasis::Utc,
        }
    }
    /// A local time of unknown offset, placed with `offset` (other times are returned as
    /// they are).
    pub fn placed(self, offset: jiff::tz::Offset) -> When {
        match self {
            When::Local(dt) => When::LocalAt(dt, offset),
            other => other,
        }
    }
    /// A local time of unknown offset, placed in `tz` (its offset at that time).
    pub fn placed_in(self, tz: &jiff::tz::TimeZone) -> When {
        match self {
            When::Local(dt) => match dt.to_zoned(tz.clone()) {
                Ok(z) => When::LocalAt(dt, z.offset()),
                Err(_) => self,
            },
            other => other,
        }
    }
    /// How sure the time is: placed times beat local ones of unknown offset, which beat none.
    fn class(&self) -> u8 {
        match self {
            When::Unknown => 0,
            When::Local(_) => 1,
            When::LocalAt(..) | When::Utc(_) => 2,
        }
    }
    /// Widen a first..last range by `t`. Times of the surest class present win: a local time
    /// of unknown offset never becomes the first or last of a range that holds placed times.
    pub fn widen(first: &mut When, last: &mut When, t: When) {
        match t.class().cmp(&first.class()) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Greater => {
                *first = t;
                *last = t;
            }
            std::cmp::Ordering::Equal => {
                if t < *first {
                    *first = t;
                }
                if t > *last {
                    *last = t;
                }
            }
        }
    }
}

impl Ord for When {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = |w: &When| match w {
            When::Unknown => (0, None, None, 0, 0),
            When::Local(dt) => (1, None, Some(*dt), 0, 0),
            When::Utc(t) => (2, Some(*t), None, 0, 0),
            When::LocalAt(dt, off) => (2, w.instant(), Some(*dt), 1, off.seconds()),
        };
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for When {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Unknown => Ok(()),
            // RFC 3339 with the fraction kept only as far as it is non-zero.
            When::Utc(t) => write!(f, "{t}"),
            When::LocalAt(dt, off) => write!(f, "{dt}{}", Rfc3339Offset(*off)),
            When::Local(dt) => write!(f, "{dt} (local)"),
        }
    }
}

/// An offset as RFC 3339 writes it: `+01:00`, `-05:30`.
pub struct Rfc3339Offset(pub jiff::tz::Offset);

impl fmt::Display for Rfc3339Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.seconds();
        let sign = if s < 0 { '-' } else { '+' };
        let m = s.unsigned_abs() / 60;
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            When::Unknown => s.serialize_none(),
            When::Utc(t) => s.collect_str(t),
            When::LocalAt(dt, off) => s.collect_str(&format_args!("{dt}{}", Rfc3339Offset(*off))),
            When::Local(dt) => s.collect_str(dt),
        }
    }
}

/// The inverse of `Serialize`: null is unknown, `...Z` is UTC, a time with a numeric offset is
/// local with that offset, one without is local of unknown offset.
impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(When::Unknown);
        };
        let bad = || serde::de::Error::custom(format!("not a time: {text}"));
        if text.ends_with(['Z', 'z']) {
            return text
                .parse::<jiff::Timestamp>()
                .map(When::Utc)
                .map_err(|_| bad());
        }
        // `...+01:00` / `...-05:30`: the civil time, then the offset.
        let split = text
            .len()
            .checked_sub(6)
            .filter(|&i| text.is_char_boundary(i) && matches!(text.as_bytes()[i], b'+' | b'-'));
        if let Some(i) = split {
            let dt = text[..i]
                .parse::<jiff::civil::DateTime>()
                .map_err(|_| bad())?;
            let (sign, hm) = text[i..].split_at(1);
            let (h, m) = hm.split_once(':').ok_or_else(bad)?;
            let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            let secs = (h * 3600 + m * 60) * if sign == "-" { -1 } else { 1 };
            let off = jiff::tz::Offset::from_seconds(secs).map_err(|_| bad())?;
            return Ok(When::LocalAt(dt, off));
        }
        text.parse::<jiff::civil::DateTime>()
            .map(When::Local)
            .map_err(|_| bad())
    }
}

/// Where in an input a fact came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// Shared by every observation of one input.
    #[serde(deserialize_with = "shared_path")]
    pub path: std::sync::Arc<str>,
    #[serde(flatten)]
    pub at: Locator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locator {
    /// EventRecordID of an evtx record.
    Record(u64),
    /// 1-based line number in a text input.
    Line(u32),
}

thread_local! {
    /// The texts read so far by the innermost [`sharing_texts`] call on this thread, if any.
    static TEXTS: std::cell::RefCell<Option<std::collections::HashSet<std::sync::Arc<str>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `read`, giving every evidence path and every [`Shared`] text it deserializes one
/// allocation per distinct text, where each would otherwise get its own: a folded state read
/// back repeats a path per evidence record, and a name, owner, program and URL per job.
/// Within a [`SharingTexts`] scope (or another call) on this thread, the texts join it.
pub fn sharing_texts<T>(read: impl FnOnce() -> T) -> T {
    if TEXTS.with(|p| p.borrow().is_some()) {
        return read();
    }
    let _texts = SharingTexts::enter();
    read()
}

/// [`sharing_texts`] for as long as this lives, across any number of reads on this thread:
/// the hosts a worker finishes share one allocation per distinct text (every host of a fleet
/// has its own record of the same updates, titled alike).
pub struct SharingTexts {
    outer: Option<std::collections::HashSet<std::sync::Arc<str>>>,
}

impl SharingTexts {
    pub fn enter() -> SharingTexts {
        SharingTexts {
            outer: TEXTS.with(|p| p.borrow_mut().replace(Default::default())),
        }
    }
}

impl Drop for SharingTexts {
    fn drop(&mut self) {
        let outer = self.outer.take();
        TEXTS.with(|p| *p.borrow_mut() = outer);
    }
}

/// How many texts a [`sharing_texts`] scope remembers before it starts afresh: the texts that
/// repeat (a host's paths, the titles of updates every host has) come back soon and are
/// shared again, and a scope that outlives many reads holds a small table, not one entry per
/// URL of the fleet.
const TEXTS_REMEMBERED: usize = 4096;

/// `text` as the allocation [`sharing_texts`] already made for it, if one is running.
fn share(text: std::borrow::Cow<'_, str>) -> std::sync::Arc<str> {
    TEXTS.with(|p| match p.borrow_mut().as_mut() {
        Some(seen) => match seen.get(&*text) {
            Some(a) => a.clone(),
            None => {
                if seen.len() >= TEXTS_REMEMBERED {
                    seen.clear();
                }
                let a: std::sync::Arc<str> = text.into();
                seen.insert(a.clone());
                a
            }
        },
        None => text.into(),
    })
}

fn shared_path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::sync::Arc<str>, D::Error> {
    Ok(share(<std::borrow::Cow<'de, str>>::deserialize(d)?))
}

/// Text that many records repeat: a job's name, owner, program, URL and source path, and its
/// host's name. Clones share one allocation, and so do equal texts read back under
/// [`sharing_texts`]. Compares, hashes, prints and serializes as the text itself.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared(std::sync::Arc<str>);

impl Shared {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Shared {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Shared {
    fn from(s: &str) -> Self {
        Shared(s.into())
    }
}

impl From<String> for Shared {
    fn from(s: String) -> Self {
        Shared(s.into())
    }
}

impl From<std::sync::Arc<str>> for Shared {
    fn from(s: std::sync::Arc<str>) -> Self {
        Shared(s)
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<String> for Shared {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Shared {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Shared(share(<std::borrow::Cow<'de, str>>::deserialize(d)?)))
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Locator::Record(r) => write!(f, "{} record {r}", self.path),
            Locator::Line(l) => write!(f, "{}:{l}", self.path),
        }
    }
}

/// One fact drawn from one input entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub host: String,
    pub time: When,
    pub evidence: Evidence,
    /// The event id for evtx records (0 for text inputs), kept for the events table.
    pub event_id: u32,
    pub fact: Fact,
}

/// What an input entry says. Job-related facts carry the job GUID where the source has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// Bits-Client 3. Old-schema (v0) events have no GUID: joined by title and time.
    JobCreated {
        job: Option<Guid>,
        title: String,
        owner: String,
        process: Option<String>,
    },
    /// Bits-Client 59.
    TransferStarted {
        job: Option<Guid>,
        title: String,
        url: String,
        bytes_total: Option<u64>,
    },
    /// Bits-Client 60: the transfer stopped; `hr` is usually S_OK, but not always.
    TransferStopped {
        job: Option<Guid>,
        title: String,
        url: String,
        hr: HResult,
        proxy: Option<String>,
        bytes_transferred: Option<u64>,
    },
    /// Bits-Client 61 (transfer stopped with an error), 211, 200, a bitsadmin ERROR CODE line,
    /// or a WindowsUpdate.log "BITS job ... failed" line.
    TransferError {
        job: Option<Guid>,
        title: String,
        url: String,
        hr: HResult,
        proxy: Option<String>,
        context: Option<u32>,
    },
    /// Bits-Client 16403: a file was added to a job (remote URL and the local name it is
    /// saved as).
    FileQueued {
        job: Option<Guid>,
        title: String,
        remote: String,
        local: String,
    },
    /// Bits-Client 6: the program (and its arguments) BITS runs when the job completes or
    /// fails, i.e. a notification command line.
    NotifyCommand {
        job: Option<Guid>,
        program: String,
        parameters: String,
    },
    /// Bits-Client 4.
    JobCompleted {
        job: Option<Guid>,
        title: String,
        owner: String,
        file_count: Option<u32>,
    },
    /// Bits-Client 5, 16384 (administrator cancel), 16389 (scavenged).
    JobCancelled {
        job: Option<Guid>,
        title: String,
        owner: String,
    },
    /// A job as a bitsadmin / Get-BitsTransfer listing shows it at capture time.
    JobSnapshot(Box<JobSnapshot>),
    /// Bits-Client 201: no proxy in the job's list could be reached.
    ProxyFailure {
        job: Option<Guid>,
        title: String,
        url: String,
        proxy_list: String,
        bypass_list: String,
        hr: HResult,
    },
    /// Bits-Client 202 (and 206/207/210 as warnings): the server or proxy lacks an HTTP
    /// feature BITS needs.
    HttpFeatureMissing {
        job: Option<Guid>,
        title: String,
        url: String,
        proxy: Option<String>,
        hr: HResult,
        /// Which feature: `range`, `content-length`, `head`, `content-range`, or `unknown`.
        feature: String,
        http_version: Option<String>,
        url_range: Option<String>,
    },
    /// Bits-Client 204 (203 = accepted is not a fact we keep).
    CredentialsRejected {
        job_title: String,
        server: String,
        url: String,
        scheme: String,
        user: String,
    },
    /// A BITS warning about the service itself: 302 slow start, 307 slow job-list write,
    /// 308 slow shutdown, 310 peer helpers failed, 16392 failed to start, 16404 exception ...
    ServiceWarning {
        event: u32,
        hr: Option<HResult>,
        seconds: Option<f64>,
    },
    /// SCM 7036, `sc query` STATE: the service entered a state (raw text, maybe localized,
    /// plus the state number where the source has one: 1 stopped .. 4 running).
    ServiceState {
        service: String,
        state: String,
        state_code: Option<u32>,
    },
    /// SCM 7040: start type changed (localized texts kept as given).
    ServiceStartType {
        service: String,
        from: String,
        to: String,
    },
    /// SCM 7000/7001/7009/7011/7022/7023/7024, `[SC] ... FAILED nnnn:`.
    ServiceStartFailure {
        service: String,
        event: u32,
        error: Option<HResult>,
        dependency: Option<String>,
    },
    /// SCM 7031/7034: the service terminated unexpectedly.
    ServiceCrash { service: String, count: Option<u32> },
    /// SCM 7045: a service was installed.
    ServiceInstalled {
        service: String,
        image_path: String,
        account: String,
    },
    /// Configuration read from `sc qc` / `reg query` / `.reg` / an event: one name = value per
    /// fact, with the kind of capture it came from (several captures of one host are reconciled
    /// by it, see `correlate`).
    ServiceConfig {
        name: String,
        value: String,
        from: ConfigSource,
    },
    /// A BITS Group Policy value (HKLM\SOFTWARE\Policies\Microsoft\Windows\BITS).
    Policy { name: String, value: String },
    /// A sign of the Windows version the input comes from: an OS build number (the
    /// `bitsadmin` banner's `[ 7.5.7601 ]`), or only whether it is Windows 10 or later (the
    /// WindowsUpdate.log format). `what` says where it was seen, for the report.
    VersionSign {
        build: Option<u32>,
        windows10_or_later: Option<bool>,
        what: String,
    },
    /// `netsh winhttp show proxy`.
    WinHttpProxy {
        direct: bool,
        proxy: Option<String>,
        bypass: Option<String>,
    },
    /// Bits-Client 16397/16398/16400/16401/16402: a job, file or range limit was hit or is
    /// misconfigured (`entity` is the user, job or file the limit applies to).
    LimitReached {
        event: u32,
        entity: String,
        current: Option<u64>,
        limit: Option<u64>,
    },
    /// Microsoft-Windows-Eventlog 104 for a channel we read.
    LogCleared { channel: String, user: String },
    /// WindowsUpdateClient events and WindowsUpdate.log lines about one update.
    Update {
        stage: UpdateStage,
        title: String,
        guid: Option<String>,
        revision: Option<u32>,
        hr: Option<HResult>,
        job: Option<Guid>,
    },
}

/// The kind of capture a service configuration value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    /// `sc qc`: the Service Control Manager's configuration.
    ScQc,
    /// `sc query` / `sc queryex`: the running service's status (its TYPE is the process it
    /// runs in now, not the configured type).
    ScQuery,
    /// `sc qprivs` / `sc qfailure` / `sc qsidtype` / `sc qdescription` and failed `sc` lines.
    Sc,
    /// `reg query` output or a `.reg` export of the service key.
    Registry,
    /// An event record (SCM 7045, Bits-Client 17005).
    EventLog,
}

impl ConfigSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::ScQc => "sc qc",
            ConfigSource::ScQuery => "sc query",
            ConfigSource::Sc => "sc",
            ConfigSource::Registry => "registry",
            ConfigSource::EventLog => "event log",
        }
    }
}

/// A problem with part of an input. The rest of the input is still read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Warning {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Locator>,
    pub message: String,
}

/// Where an update got to, in the order it gets there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStage {
    DownloadStarted,
    DownloadFailed,
    Downloaded,
    InstallStarted,
    InstallFailed,
    Installed,
    ScanFailed,
}

/// A job as listed by bitsadmin or Get-BitsTransfer. Everything is optional: summary lists
/// carry little, verbose listings much.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobSnapshot {
    pub job: Option<Guid>,
    pub display_name: String,
    pub job_type: Option<String>,
    /// Upper-case state name without prefix: QUEUED, CONNECTING, TRANSFERRING, SUSPENDED,
    /// ERROR, TRANSIENT_ERROR, TRANSFERRED, ACKNOWLEDGED, CANCELLED.
    pub state: Option<String>,
    pub owner: Option<String>,
    pub priority: Option<String>,
    pub files_transferred: Option<u64>,
    pub files_total: Option<u64>,
    pub bytes_transferred: Option<u64>,
    /// None when the listing says UNKNOWN.
    pub bytes_total: Option<u64>,
    pub creation_time: When,
    pub modification_time: When,
    pub completion_time: When,
    pub error_count: Option<u32>,
    pub error_file: Option<String>,
    pub error_code: Option<HResult>,
    pub error_context: Option<u32>,
    pub proxy_usage: Option<String>,
    pub proxy_list: Option<String>,
    pub proxy_bypass_list: Option<String>,
    pub retry_delay: Option<u64>,
    pub no_progress_timeout: Option<u64>,
    pub notify_command: Option<String>,
    /// (remote URL, local path) pairs.
    pub files: Vec<(String, String)>,
}

/// The job a fact is about, where it names one.
impl Fact {
    pub fn job(&self) -> Option<&Guid> {
        match self {
            Fact::JobCreated { job, .. }
            | Fact::TransferStarted { job, .. }
            | Fact::TransferStopped { job, .. }
            | Fact::TransferError { job, .. }
            | Fact::JobCompleted { job, .. }
            | Fact::JobCancelled { job, .. }
            | Fact::ProxyFailure { job, .. }
            | Fact::HttpFeatureMissing { job, .. }
            | Fact::FileQueued { job, .. }
            | Fact::NotifyCommand { job, .. }
            | Fact::Update { job, .. } => job.as_ref(),
            Fact::JobSnapshot(s) => s.job.as_ref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads under one `SharingTexts` scope share texts with each other (two hosts' records of
    /// one update title); separate reads outside it do not; the scope ends with the guard.
    #[test]
    fn reads_within_a_scope_share_texts_across_reads() {
        let read =
            || -> Shared { sharing_texts(|| serde_json::from_str(r#""KB5034441""#)).unwrap() };
        let (a, b) = {
            let _scope = SharingTexts::enter();
            (read(), read())
        };
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
        let (c, d) = (read(), read());
        assert!(!std::sync::Arc::ptr_eq(&c.0, &d.0));
        assert!(!std::sync::Arc::ptr_eq(&a.0, &c.0));
        // Past what a scope remembers it starts afresh, and still reads every text right.
        let _scope = SharingTexts::enter();
        for i in 0..TEXTS_REMEMBERED + 10 {
            let t: Shared = serde_json::from_str(&format!("\"t{i}\"")).unwrap();
            assert_eq!(t, format!("t{i}"));
        }
    }

    #[test]
    fn shared_texts_read_back_share_one_allocation_and_equal_paths_too() {
        let json = r#"[["NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\SYSTEM"], {"path": "NT AUTHORITY\\SYSTEM", "record": 7}]"#;
        let (texts, ev): (Vec<Shared>, Evidence) =
            sharing_texts(|| serde_json::from_str(json)).expect("valid");
        assert_eq!(texts[0], "NT AUTHORITY\\SYSTEM");
        assert!(std::sync::Arc::ptr_eq(&texts[0].0, &texts[1].0));
        assert!(std::sync::Arc::ptr_eq(&texts[0].0, &ev.path));
        // Outside a sharing run, each text is its own.
        let (apart, _): (Vec<Shared>, Evidence) = serde_json::from_str(json).expect("valid");
        assert!(!std::sync::Arc::ptr_eq(&apart[0].0, &apart[1].0));
        // It writes, prints and orders as the text it holds.
        assert_eq!(
            serde_json::to_string(&texts[0]).unwrap(),
            r#""NT AUTHORITY\\SYSTEM""#
        );
        assert_eq!(
            format!("{}|{:?}", texts[0], texts[0]),
            r#"NT AUTHORITY\SYSTEM|"NT AUTHORITY\\SYSTEM""#
        );
        let (a, b) = (Shared::from("a"), Shared::from("b"));
        assert!(a < b);
    }

    #[test]
    fn hresult_accepts_every_numeric_form() {
        let want = HResult(0x8020_0013);
        for s in [
            "0x80200013",
            "0X80200013",
            "80200013",
            "-2145386477",
            "2149580819",
            " 0x80200013 ",
        ] {
            assert_eq!(HResult::parse_number(s), Some(want), "{s}");
        }
        assert_eq!(
            HResult::parse_number("80072ee7"),
            Some(HResult(0x8007_2EE7))
        );
        assert_eq!(HResult::parse_number("0"), Some(HResult(0)));
        assert_eq!(HResult::parse_number("0x0"), Some(HResult(0)));
    }

    #[test]
    fn hresult_rejects_non_codes() {
        for s in [
            "",
            "0x",
            "hello",
            "0x1234567890",
            "-0",
            "-3000000000",
            "12.5",
            "0xZZ",
            "99999999999",
        ] {
            assert_eq!(HResult::parse_number(s), None, "{s}");
        }
    }

    #[test]
    fn hresult_prints_upper_hex_always() {
        assert_eq!(HResult(0x8007_2ee7).to_string(), "0x80072EE7");
        assert_eq!(HResult(0x40008).to_string(), "0x00040008");
        assert_eq!(
            serde_json::to_string(&HResult(0x8019_0193)).unwrap(),
            "\"0x80190193\""
        );
    }

    #[test]
    fn hresult_decodes_fields() {
        let h = HResult(0x8007_0422);
        assert_eq!(h.facility(), 7);
        assert_eq!(h.win32(), Some(1058));
        assert_eq!(HResult(0x8019_01AD).http_status(), Some(429));
        assert_eq!(HResult(0x8019_4000).http_status(), None);
        assert_eq!(HResult(0x8020_0013).win32(), None);
    }

    fn utc(s: &str) -> When {
        When::Utc(s.parse().unwrap())
    }
    fn local(s: &str) -> When {
        When::Local(s.parse().unwrap())
    }

    #[test]
    fn placed_local_times_order_with_utc_by_instant() {
        let plus2 = jiff::tz::Offset::from_hours(2).unwrap();
        let at = local("2024-03-11T10:30:00").placed(plus2);
        assert_eq!(at.instant(), Some("2024-03-11T08:30:00Z".parse().unwrap()));
        assert!(utc("2024-03-11T08:00:00Z") < at);
        assert!(at < utc("2024-03-11T09:00:00Z"));
        assert_eq!(at.to_string(), "2024-03-11T10:30:00+02:00");
        assert_eq!(at.basis(), TimeBasis::LocalKnownOffset);
        // Unknown offset: never between UTC times.
        assert!(local("2024-03-11T10:30:00") < utc("2000-01-01T00:00:00Z"));
        assert_eq!(local("2024-03-11T10:30:00").instant(), None);
    }

    #[test]
    fn a_range_prefers_placed_times() {
        let (mut first, mut last) = (When::Unknown, When::Unknown);
        When::widen(&mut first, &mut last, local("2024-03-11T08:41:44"));
        assert_eq!(
            (first, last),
            (local("2024-03-11T08:41:44"), local("2024-03-11T08:41:44"))
        );
        When::widen(&mut first, &mut last, utc("2024-03-11T08:12:03Z"));
        When::widen(&mut first, &mut last, local("2024-03-11T07:00:00"));
        When::widen(&mut first, &mut last, When::Unknown);
        When::widen(&mut first, &mut last, utc("2024-03-11T08:41:44Z"));
        assert_eq!(first, utc("2024-03-11T08:12:03Z"));
        assert_eq!(last, utc("2024-03-11T08:41:44Z"));
    }

    #[test]
    fn times_read_back_as_written() {
        let dt = jiff::civil::date(2024, 3, 11).at(7, 56, 39, 228_431_000);
        for w in [
            When::Unknown,
            When::Local(dt),
            When::LocalAt(
                dt,
                jiff::tz::Offset::from_seconds(-(5 * 3600 + 1800)).unwrap(),
            ),
            When::LocalAt(dt, jiff::tz::Offset::from_hours(1).unwrap()),
            When::Utc("2024-03-11T07:56:39.228431Z".parse().unwrap()),
        ] {
            let json = serde_json::to_string(&w).unwrap();
            assert_eq!(serde_json::from_str::<When>(&json).unwrap(), w, "{json}");
        }
        assert!(serde_json::from_str::<When>("\"yesterday\"").is_err());
    }

    #[test]
    fn guid_is_canonical() {
        let g = Guid::parse("6af6f4c8-0b48-4c1b-a11a-6d1f7e6e1c7a").unwrap();
        assert_eq!(&*g.text(), "{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}");
        assert_eq!(
            Guid::parse("{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}"),
            Some(g)
        );
        assert_eq!(Guid::parse("not-a-guid"), None);
        let bytes = [
            0x35, 0xa0, 0xe0, 0x3f, 0x15, 0x7a, 0x3f, 0x4f, 0x94, 0xb1, 0x19, 0x45, 0xff, 0xa8,
            0x30, 0x67,
        ];
        assert_eq!(
            Guid::from_le_bytes(&bytes),
            Guid::parse("{3fe0a035-7a15-4f3f-94b1-1945ffa83067}")
        );
        assert_eq!(Guid::from_le_bytes(&bytes[..15]), None);
        assert_eq!(Guid::parse("{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7}"), None);
        assert_eq!(Guid::parse("{6AF6F4C8-0B48-4C1B-A11A+6D1F7E6E1C7A}"), None);
        assert_eq!(Guid::parse("{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1CéA}"), None);
    }

    proptest::proptest! {
        /// A GUID orders, prints and reads back as its canonical text does.
        #[test]
        fn guid_orders_and_prints_as_its_text(a: [u8; 16], b: [u8; 16], lower: bool) {
            let (ga, gb) = (Guid::from_le_bytes(&a).unwrap(), Guid::from_le_bytes(&b).unwrap());
            let (ta, tb) = (ga.to_string(), gb.to_string());
            proptest::prop_assert_eq!(ga.cmp(&gb), ta.cmp(&tb));
            let shown = if lower { ta.to_lowercase() } else { ta.clone() };
            proptest::prop_assert_eq!(Guid::parse(&shown), Some(ga));
            proptest::prop_assert_eq!(serde_json::to_string(&ga).unwrap(), format!("\"{ta}\""));
            proptest::prop_assert_eq!(serde_json::from_str::<Guid>(&format!("\"{shown}\"")).unwrap(), ga);
        }
    }
}
