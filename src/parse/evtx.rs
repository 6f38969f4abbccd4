//! `.evtx` files -> observations, chunk by chunk, in parallel.
//!
//! Every 64 KiB chunk slot after the file header is read (the header's chunk count is often
//! stale in dirty logs). Each chunk goes through the fast reader first (`binxml`): records are
//! walked straight from the bytes, each template definition is planned once per chunk, and a
//! record whose provider we do not read is dropped after two lookups, without rendering. Only
//! records of the providers we read are decoded, from their substitution values. A chunk the
//! fast reader does not understand is handed whole to the evtx crate, which renders its
//! records and feeds the same decoder.

use crate::model::Warning;
use crate::model::{Evidence, Locator, Observation, When};
use crate::parse::binxml::{
    self, decode_value, Anomaly, FieldVal, PlanCache, Plans, Slot, CHUNK_SIZE,
};
use crate::parse::events::{self, Fields, Provider};
use crate::parse::Parsed;
use evtx::{EvtxChunkData, EvtxRecord, ParserSettings};
use rayon::prelude::*;
use serde_json::Value;
use std::fs::File;
use std::sync::Arc;

/// Which reader to use (the full one exists for checking the fast one, and as its fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The fast reader, falling back to the evtx crate per chunk.
    Fast,
    /// The evtx crate for every chunk.
    Full,
}

/// Why a whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvtxFileError {
    #[error("not an evtx file (no ElfFile header)")]
    NotEvtx,
    #[error("truncated evtx file: {0} bytes, shorter than the 4096-byte file header")]
    Truncated(usize),
}

/// What reading one evtx file gave.
#[derive(Debug, Default)]
pub struct EvtxOutcome {
    pub parsed: Parsed,
    /// Records read (whether or not they were of a provider we read).
    pub records: u64,
    /// Records that could not be read at all (bad size, broken BinXML).
    pub bad_records: u64,
    /// Records of the providers we read that could not be decoded.
    pub undecoded: u64,
    /// Chunks the fast reader handed to the evtx crate.
    pub fallback_chunks: u64,
    /// Records per provider we read (decoded or not), e.g. every Bits-Client event.
    pub provider_records: std::collections::BTreeMap<&'static str, u64>,
    /// Records lost: the record numbers the chunk and file headers account for, less the
    /// records read (unreadable records, zeroed, truncated or unreadable chunks, chunks
    /// missing at the end). An estimate where headers are damaged, never below `bad_records`.
    pub lost_records: u64,
    /// Chunks that could not be read at all.
    pub lost_chunks: u64,
    /// Chunks read whose header or record data checksum does not hold.
    pub suspect_chunks: u64,
    /// What is wrong with the file as a whole (header checksum, missing chunks).
    pub file_problems: Vec<String>,
    /// Record number ranges the chunk headers declare (for the accounting).
    ranges: Vec<(u64, u64)>,
}

impl EvtxOutcome {
    fn absorb(&mut self, c: EvtxOutcome) {
        self.parsed.observations.extend(c.parsed.observations);
        self.parsed.warnings.extend(c.parsed.warnings);
        self.records += c.records;
        self.bad_records += c.bad_records;
        self.undecoded += c.undecoded;
        self.fallback_chunks += c.fallback_chunks;
        for (p, n) in c.provider_records {
            *self.provider_records.entry(p).or_default() += n;
        }
        self.lost_chunks += c.lost_chunks;
        self.suspect_chunks += c.suspect_chunks;
        self.ranges.extend(c.ranges);
    }

    /// Was anything lost or doubtful?
    pub fn is_partial(&self) -> bool {
        self.bad_records > 0
            || self.undecoded > 0
            || self.lost_records > 0
            || self.lost_chunks > 0
            || self.suspect_chunks > 0
            || !self.file_problems.is_empty()
    }

    /// Why the input is partial, one clause per problem, with counts.
    pub fn problems(&self) -> Vec<String> {
        let mut parts = self.file_problems.clone();
        if self.bad_records > 0 {
            parts.push(format!(
                "{} unreadable record(s) skipped (corrupt size or BinXML)",
                self.bad_records
            ));
        }
        if self.lost_records > 0 || self.bad_records > 0 {
            parts.push(format!(
                "{} record(s) read, {} lost",
                self.records,
                self.lost_records.max(self.bad_records)
            ));
        }
        if self.lost_chunks > 0 {
            parts.push(format!("{} chunk(s) unreadable", self.lost_chunks));
        }
        if self.suspect_chunks > 0 {
            parts.push(format!(
                "{} chunk(s) failing their checksum (read; values may be altered)",
                self.suspect_chunks
            ));
        }
        if self.undecoded > 0 {
            parts.push(format!("{} record(s) not decoded", self.undecoded));
        }
        parts
    }

    /// Records the headers account for, less those read (see `lost_records`).
    fn account(&mut self, file: Option<&binxml::FileHeader>, slots: u64) {
        let lo = self.ranges.iter().map(|r| r.0).min();
        let hi = self.ranges.iter().map(|r| r.1).max();
        let next = file.map_or(0, |f| f.next_record);
        let expected = match (lo, hi) {
            (Some(lo), Some(hi)) => hi.max(next.saturating_sub(1)).saturating_sub(lo) + 1,
            _ => 0,
        };
        // Never more than the chunks there are or should be could hold.
        let chunks = slots.max(file.map_or(0, |f| u64::from(f.chunks)));
        let lost = expected
            .saturating_sub(self.records)
            .min(chunks.saturating_mul(binxml::MAX_RECORDS_PER_CHUNK));
        self.lost_records = lost.max(self.bad_records);
    }
}

/// How many unreadable-record messages one file reports in full.
const ERRORS_SHOWN: usize = 5;
/// How many chunk-level messages one file reports in full.
const CHUNK_PROBLEMS_SHOWN: usize = 20;

/// Parse one evtx file held in memory (a zip entry): its chunks are parsed in place.
pub fn parse(data: &[u8], path: &str, reader: Reader) -> Result<EvtxOutcome, EvtxFileError> {
    let head = &data[..data.len().min(binxml::FILE_HEADER_SIZE)];
    let body = data.get(binxml::FILE_HEADER_SIZE..).unwrap_or_default();
    parse_chunks(head, &InMemory(body), path, reader).map_err(|e| match e {
        StreamError::Evtx(e) => e,
        // Chunks held in memory cannot fail to be read.
        StreamError::Io(_) => EvtxFileError::NotEvtx,
    })
}

/// Why an evtx file on disk could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Evtx(#[from] EvtxFileError),
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// Parse one evtx file on disk, as long as it is when this is called (a file that grows
/// meanwhile is read up to that length; one that shrinks gives truncated chunks).
///
/// Each chunk is read with one positioned read into a 64 KiB buffer its worker thread reuses:
/// no per-file buffer, nothing copied twice, and memory does not grow with the file.
pub fn parse_file(file: &File, path: &str, reader: Reader) -> Result<EvtxOutcome, StreamError> {
    let len = file.metadata()?.len();
    let mut head = vec![0u8; binxml::FILE_HEADER_SIZE.min(len as usize)];
    let got = read_at(file, &mut head, 0)?;
    head.truncate(got);
    let body = OnDisk {
        file,
        len: len.saturating_sub(binxml::FILE_HEADER_SIZE as u64),
    };
    parse_chunks(&head, &body, path, reader)
}

/// Where the chunk slots of a file (every 64 KiB after the file header) come from.
trait ChunkSource: Sync {
    /// How many chunk slots there are (the last one may be short).
    fn slots(&self) -> u64;
    /// Slot `i`'s bytes, handed to `f`.
    fn with_chunk<T>(&self, i: u64, f: impl FnOnce(&[u8]) -> T) -> std::io::Result<T>;
}

/// The chunks of a file held in memory.
struct InMemory<'a>(&'a [u8]);

impl ChunkSource for InMemory<'_> {
    fn slots(&self) -> u64 {
        self.0.len().div_ceil(CHUNK_SIZE) as u64
    }
    fn with_chunk<T>(&self, i: u64, f: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
        let start = usize::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(CHUNK_SIZE))
            .map_or(self.0.len(), |s| s.min(self.0.len()));
        let end = start.saturating_add(CHUNK_SIZE).min(self.0.len());
        Ok(f(&self.0[start..end]))
    }
}

/// The chunks of an open file (`len` bytes after the file header).
struct OnDisk<'a> {
    file: &'a File,
    len: u64,
}

thread_local! {
    /// The chunk buffer of this worker thread, reused for every chunk of every file.
    static CHUNK_BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

impl ChunkSource for OnDisk<'_> {
    fn slots(&self) -> u64 {
        self.len.div_ceil(CHUNK_SIZE as u64)
    }
    fn with_chunk<T>(&self, i: u64, f: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
        // Taken out and put back, so a nested use on this thread would get its own.
        let mut buf = CHUNK_BUF.take();
        buf.resize(CHUNK_SIZE, 0);
        let at =
            (binxml::FILE_HEADER_SIZE as u64).saturating_add(i.saturating_mul(CHUNK_SIZE as u64));
        let got = read_at(self.file, &mut buf, at);
        let out = got.map(|n| f(&buf[..n]));
        CHUNK_BUF.set(buf);
        out
    }
}

/// Fill `buf` from `file` at offset `at`, as far as the file goes; the bytes read.
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match read_once_at(file, &mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(unix)]
fn read_once_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(windows)]
fn read_once_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

#[cfg(not(any(unix, windows)))]
fn read_once_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(at))?;
    f.read(buf)
}

/// How many chunks are parsed at a time: the per-chunk results held stay bounded whatever the
/// size of the file, and the window is wide enough to keep every core busy.
const WINDOW_CHUNKS: u64 = 256;

/// Parse the chunks of a file whose first bytes (up to the 4096-byte header) are `header`.
fn parse_chunks(
    header: &[u8],
    source: &impl ChunkSource,
    path: &str,
    reader: Reader,
) -> Result<EvtxOutcome, StreamError> {
    if !header.starts_with(b"ElfFile\0") {
        return Err(EvtxFileError::NotEvtx.into());
    }
    if header.len() < binxml::FILE_HEADER_SIZE {
        return Err(EvtxFileError::Truncated(header.len()).into());
    }
    let shared_path: Arc<str> = Arc::from(path);
    let mut out = EvtxOutcome::default();
    let file = binxml::file_header(header).ok();
    let declared = match &file {
        Some(f) if f.checksum_ok => u64::from(f.chunks),
        _ => {
            out.file_problems
                .push("file header checksum mismatch (its counts are not trusted)".into());
            0
        }
    };
    let trusted = file.filter(|f| f.checksum_ok);
    let slots = source.slots();
    let id = FILE_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut first = 0;
    while first < slots {
        let last = slots.min(first + WINDOW_CHUNKS);
        let outs: Vec<std::io::Result<EvtxOutcome>> = (first..last)
            .into_par_iter()
            .map(|i| {
                source.with_chunk(i, |chunk| {
                    read_chunk(i as usize, chunk, &shared_path, id, reader, declared)
                })
            })
            .collect();
        let adding: usize = outs
            .iter()
            .flatten()
            .map(|c| c.parsed.observations.len())
            .sum();
        out.parsed.observations.reserve(adding);
        for c in outs {
            out.absorb(c?);
        }
        first = last;
    }
    if declared > slots {
        out.file_problems.push(format!(
            "the file ends after {slots} of the {declared} chunks its header declares (truncated)"
        ));
    }
    out.account(trusted.as_ref(), slots);
    // Keep the first few unreadable-record and chunk messages, then one line with the rest.
    let (errors, other): (Vec<Warning>, Vec<Warning>) = out
        .parsed
        .warnings
        .drain(..)
        .partition(|w| w.message.starts_with("unreadable record"));
    let (chunks, mut other): (Vec<Warning>, Vec<Warning>) = other
        .into_iter()
        .partition(|w| w.message.starts_with("chunk "));
    for (list, shown, what) in [
        (errors, ERRORS_SHOWN, "unreadable records skipped"),
        (chunks, CHUNK_PROBLEMS_SHOWN, "chunk problems"),
    ] {
        let hidden = list.len().saturating_sub(shown);
        other.extend(list.into_iter().take(shown));
        if hidden > 0 {
            other.push(Warning {
                path: path.to_string(),
                at: None,
                message: format!("{hidden} more {what}"),
            });
        }
    }
    for p in &out.file_problems {
        other.push(Warning {
            path: path.to_string(),
            at: None,
            message: p.clone(),
        });
    }
    out.parsed.warnings = other;
    Ok(out)
}

fn read_chunk(
    n: usize,
    chunk: &[u8],
    path: &Arc<str>,
    file: u64,
    reader: Reader,
    declared: u64,
) -> EvtxOutcome {
    let warn = |message: String| EvtxOutcome {
        parsed: Parsed {
            observations: Vec::new(),
            warnings: vec![Warning {
                path: path.to_string(),
                at: None,
                message,
            }],
            unread_lines: 0,
        },
        lost_chunks: 1,
        ..EvtxOutcome::default()
    };
    if chunk.iter().all(|b| *b == 0) {
        // Unused slots after the chunks in use are zeros; inside them, records were lost.
        if (n as u64) < declared {
            return warn(format!(
                "chunk {n}: all zeros, inside the {declared} chunks the file header declares: its records are lost"
            ));
        }
        return EvtxOutcome::default();
    }
    if chunk.len() < CHUNK_SIZE {
        return warn(format!(
            "chunk {n}: truncated ({} of {CHUNK_SIZE} bytes): not read",
            chunk.len()
        ));
    }
    if !chunk.starts_with(b"ElfChnk\0") {
        return warn(format!("chunk {n}: no chunk signature: not read"));
    }
    let mut out = None;
    if reader == Reader::Fast {
        out = fast_chunk(chunk, path, file).ok();
    }
    let mut out = out.unwrap_or_else(|| {
        let mut out = full_chunk(n, chunk, path);
        out.fallback_chunks = u64::from(reader == Reader::Fast);
        out
    });
    check_chunk(n, chunk, &mut out, path);
    out
}

/// Check a chunk's checksums and that it gave the records its header declares.
fn check_chunk(n: usize, chunk: &[u8], out: &mut EvtxOutcome, path: &Arc<str>) {
    let Ok(head) = binxml::chunk_header(chunk) else {
        return;
    };
    let mut warn = |message: String| {
        out.parsed.warnings.push(Warning {
            path: path.to_string(),
            at: None,
            message,
        })
    };
    let ids = || format!("records {}..{}", head.first_record, head.last_record);
    if !head.header_ok {
        warn(format!(
            "chunk {n}: header checksum mismatch ({}?): records read, but its counts and offsets are not trusted",
            ids()
        ));
    } else if !head.data_ok {
        warn(format!(
            "chunk {n}: record data checksum mismatch ({}): records read, but values may be altered",
            ids()
        ));
    }
    let declared = head.declared();
    if let Some(d) = declared {
        if out.records + out.bad_records < d {
            warn(format!(
                "chunk {n}: {} of the {d} records its header declares read",
                out.records
            ));
        }
        out.ranges.push((head.first_record, head.last_record));
    }
    if !head.header_ok || !head.data_ok {
        out.suspect_chunks += 1;
    }
}

/// A provider's name from a plan slot.
fn provider_of(slot: &Option<Slot>, inst: &binxml::Instance, chunk: &[u8]) -> Option<Provider> {
    match slot {
        Some(Slot::Fixed(name)) => Provider::from_name(name),
        Some(Slot::Sub(i)) => {
            let (ty, b, _) = inst.value(chunk, *i as usize)?;
            Provider::ALL
                .into_iter()
                .find(|p| binxml::value_is(ty, b, p.name()))
        }
        None => None,
    }
}

/// Service Control Manager records are decoded only when one of their values mentions BITS
/// (the key name in param4 or the `BITS/n` binary, the display name, the service name of
/// 7045). A superset: the decoder makes the final call.
struct BitsMention([memchr::memmem::Finder<'static>; 3]);

impl BitsMention {
    /// The finders, built once.
    fn get() -> &'static Self {
        static FINDERS: std::sync::LazyLock<BitsMention> =
            std::sync::LazyLock::new(BitsMention::new);
        &FINDERS
    }

    fn new() -> Self {
        BitsMention([
            memchr::memmem::Finder::new(b"B\0I\0T\0S\0"),
            memchr::memmem::Finder::new(b"b\0i\0t\0s\0"),
            memchr::memmem::Finder::new(
                b"B\0a\0c\0k\0g\0r\0o\0u\0n\0d\0 \0I\0n\0t\0e\0l\0l\0i\0g\0e\0n\0t\0",
            ),
        ])
    }

    fn in_values(&self, inst: &binxml::Instance, chunk: &[u8]) -> bool {
        inst.values(chunk).any(|(ty, b, _)| {
            matches!(ty, 0x01 | 0x0e | 0x21) && self.0.iter().any(|f| f.find(b).is_some())
        })
    }
}

fn slot_value<'a>(
    slot: Option<&'a Slot>,
    inst: &binxml::Instance,
    chunk: &'a [u8],
) -> FieldVal<'a> {
    match slot {
        Some(Slot::Fixed(t)) => FieldVal::Str(std::borrow::Cow::Borrowed(t)),
        Some(Slot::Sub(i)) => inst
            .value(chunk, *i as usize)
            .map(|(ty, b, _)| decode_value(ty, b))
            .unwrap_or(FieldVal::Null),
        None => FieldVal::Null,
    }
}

fn as_u64(v: &FieldVal) -> Option<u64> {
    match v {
        FieldVal::U(n) => Some(*n),
        v => v.as_text()?.trim().parse().ok(),
    }
}

/// FILETIME (100 ns since 1601) -> UTC; a zero FILETIME means the writer had no time.
fn filetime(ft: u64) -> When {
    if ft == 0 {
        return When::Unknown;
    }
    let secs = (ft / 10_000_000) as i64 - 11_644_473_600;
    let nanos = ((ft % 10_000_000) * 100) as i32;
    jiff::Timestamp::new(secs, nanos)
        .map(When::Utc)
        .unwrap_or(When::Unknown)
}

fn fast_chunk(chunk: &[u8], path: &Arc<str>, file: u64) -> Result<EvtxOutcome, Anomaly> {
    PLANS.with_borrow_mut(|caches| {
        // The cache of this file, so that no input can change how another one is read.
        let at = match caches.iter().position(|(id, _)| *id == file) {
            Some(at) => at,
            None => {
                if caches.len() >= FILES_CACHED {
                    caches.remove(0);
                }
                caches.push((file, PlanCache::default()));
                caches.len() - 1
            }
        };
        fast_chunk_with(chunk, path, &mut caches[at].1)
    })
}

/// How many files' template plans a worker thread keeps.
const FILES_CACHED: usize = 4;

thread_local! {
    /// The plans of the templates this worker thread has seen in the chunks of the files it
    /// read last, by file (see `FILE_IDS`).
    static PLANS: std::cell::RefCell<Vec<(u64, PlanCache)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A number for each file read in this process, for its plan cache.
static FILE_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn fast_chunk_with(
    chunk: &[u8],
    path: &Arc<str>,
    seen: &mut PlanCache,
) -> Result<EvtxOutcome, Anomaly> {
    let records = binxml::records(chunk)?;
    let mut plans = Plans::new(seen);
    let bits = BitsMention::get();
    let mut out = EvtxOutcome {
        records: records.len() as u64,
        ..EvtxOutcome::default()
    };
    // Records per provider (in the order of `Provider::ALL`).
    let mut per_provider = [0u64; Provider::ALL.len()];
    // The values of the record being decoded (the buffer is reused).
    let mut values = Vec::new();
    // The last computer name seen, as stored and decoded: a chunk rarely holds two.
    let mut host: Option<((u8, &[u8]), String)> = None;
    for r in records {
        let inst = binxml::instance(chunk, r.start, r.end)?;
        let plan = plans.get(chunk, inst.def_offset)?;
        let Some(provider) = provider_of(&plan.provider, &inst, chunk) else {
            continue;
        };
        // `Provider::ALL` lists the providers in their declared order.
        per_provider[provider as usize] += 1;
        if provider == Provider::Scm && !bits.in_values(&inst, chunk) {
            continue;
        }
        let Some(event_id) = as_u64(&slot_value(plan.event_id.as_ref(), &inst, chunk)) else {
            return Err(Anomaly("event id"));
        };
        let version = as_u64(&slot_value(plan.version.as_ref(), &inst, chunk)).unwrap_or(0);
        // The fields: in a nested fragment (manifest events), or in the template itself.
        let (fields_plan, fields_inst) = match plan.nested {
            Some(k) => match inst.value(chunk, k as usize) {
                Some((0x21, b, at)) if !b.is_empty() => {
                    let nested = binxml::instance(chunk, at, at + b.len())?;
                    (plans.get(chunk, nested.def_offset)?, nested)
                }
                _ => (plan.clone(), inst.clone()),
            },
            None => (plan.clone(), inst.clone()),
        };
        values.clear();
        values.extend(fields_inst.values(chunk));
        let fields = Fields::planned(&fields_plan.fields, &values);
        let Some(fact) = events::decode(provider, event_id as u32, version, &fields) else {
            continue;
        };
        let computer = match plan.computer.as_ref() {
            Some(Slot::Sub(i)) => inst.value(chunk, *i as usize).map(|(ty, b, _)| (ty, b)),
            _ => None,
        };
        let computer = match (computer, &host) {
            (Some(raw), Some((seen, name))) if *seen == raw => name.clone(),
            (Some((ty, b)), _) => {
                let name = text_of(decode_value(ty, b));
                host = Some(((ty, b), name.clone()));
                name
            }
            (None, _) => text_of(slot_value(plan.computer.as_ref(), &inst, chunk)),
        };
        out.parsed.observations.push(observation(
            computer,
            filetime(r.filetime),
            path,
            r.id,
            event_id as u32,
            fact,
        ));
    }
    for (p, n) in Provider::ALL.into_iter().zip(per_provider) {
        if n > 0 {
            out.provider_records.insert(p.name(), n);
        }
    }
    Ok(out)
}

/// A value as owned text (empty if it is not text).
fn text_of(v: FieldVal) -> String {
    v.as_text().map(|c| c.into_owned()).unwrap_or_default()
}

fn observation(
    host: String,
    time: When,
    path: &Arc<str>,
    record: u64,
    event_id: u32,
    fact: crate::model::Fact,
) -> Observation {
    Observation {
        host: if host.is_empty() {
            "unknown".into()
        } else {
            host
        },
        time,
        evidence: Evidence {
            path: path.clone(),
            at: Locator::Record(record),
        },
        event_id,
        fact,
    }
}

/// The evtx crate reads the chunk; every record is rendered to JSON and decoded.
fn full_chunk(n: usize, chunk: &[u8], path: &Arc<str>) -> EvtxOutcome {
    let mut out = EvtxOutcome::default();
    let warn = |out: &mut EvtxOutcome, message: String| {
        out.parsed.warnings.push(Warning {
            path: path.to_string(),
            at: None,
            message,
        })
    };
    let mut data = match EvtxChunkData::new(chunk.to_vec(), false) {
        Ok(d) => d,
        Err(e) => {
            warn(
                &mut out,
                format!("chunk {n}: not read: {}", error_chain(&e)),
            );
            out.lost_chunks = 1;
            return out;
        }
    };
    let settings = Arc::new(ParserSettings::default().separate_json_attributes(false));
    let mut parsed = match data.parse(settings) {
        Ok(c) => c,
        Err(e) => {
            warn(
                &mut out,
                format!("chunk {n}: not read: {}", error_chain(&e)),
            );
            out.lost_chunks = 1;
            return out;
        }
    };
    for record in parsed.iter() {
        match record {
            Err(e) => {
                out.bad_records += 1;
                warn(
                    &mut out,
                    format!(
                        "unreadable record skipped in chunk {n}: {}",
                        error_chain(&e)
                    ),
                );
            }
            Ok(record) => {
                out.records += 1;
                match full_record(&record, path) {
                    Ok(Some((provider, o))) => {
                        *out.provider_records.entry(provider.name()).or_default() += 1;
                        out.parsed.observations.extend(o);
                    }
                    Ok(None) => {}
                    Err(message) => {
                        out.undecoded += 1;
                        out.parsed.warnings.push(Warning {
                            path: path.to_string(),
                            at: Some(Locator::Record(record.event_record_id)),
                            message,
                        });
                    }
                }
            }
        }
    }
    out
}

/// A record of a provider we read, and its observation if it makes one.
type FullRecord = Option<(Provider, Option<Observation>)>;

fn full_record(record: &EvtxRecord<'_>, path: &Arc<str>) -> Result<FullRecord, String> {
    let rendered = record
        .clone()
        .into_json_value()
        .map_err(|e| format!("record could not be rendered: {}", error_chain(&e)))?
        .data;
    let system = &rendered["Event"]["System"];
    let Some(provider) = system["Provider"]["#attributes"]["Name"]
        .as_str()
        .and_then(Provider::from_name)
    else {
        return Ok(None);
    };
    let event_id = match &system["EventID"] {
        Value::Number(n) => n.as_u64(),
        Value::Object(o) => o.get("#text").and_then(|t| {
            t.as_u64()
                .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or("record has no EventID")?;
    let version = system["Version"].as_u64().unwrap_or(0);
    let host = system["Computer"].as_str().unwrap_or("").to_string();
    let event = &rendered["Event"];
    let fields = if event["UserData"].is_object() {
        // UserData holds one element whose children are the fields.
        let inner = event["UserData"]
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| !k.starts_with('#')))
            .map(|(_, v)| v)
            .unwrap_or(&Value::Null);
        Fields::from_json(inner)
    } else {
        Fields::from_json(&event["EventData"])
    };
    let time = if record.timestamp.as_second() <= -11_644_473_600 {
        When::Unknown
    } else {
        When::Utc(record.timestamp)
    };
    let observation = events::decode(provider, event_id as u32, version, &fields).map(|fact| {
        observation(
            host,
            time,
            path,
            record.event_record_id,
            event_id as u32,
            fact,
        )
    });
    Ok(Some((provider, observation)))
}

/// An error and its causes on one line: "failed to read record ...: invalid data size ...".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes_convert() {
        assert_eq!(filetime(0), When::Unknown);
        assert_eq!(
            filetime(132_466_418_298_968_975).to_string(),
            "2020-10-08T14:43:49.8968975Z"
        );
    }

    #[test]
    fn non_evtx_and_truncated_files_are_errors() {
        assert!(matches!(
            parse(b"hello", "x", Reader::Fast),
            Err(EvtxFileError::NotEvtx)
        ));
        let mut short = b"ElfFile\0".to_vec();
        short.resize(100, 0);
        assert!(matches!(
            parse(&short, "x", Reader::Fast),
            Err(EvtxFileError::Truncated(100))
        ));
    }

    /// A file header declaring `chunks` chunks, with its checksum right.
    fn file_header(chunks: u16, next_record: u64) -> Vec<u8> {
        let mut h = b"ElfFile\0".to_vec();
        h.resize(binxml::FILE_HEADER_SIZE, 0);
        h[24..32].copy_from_slice(&next_record.to_le_bytes());
        h[42..44].copy_from_slice(&chunks.to_le_bytes());
        let crc = crc32fast::hash(&h[..120]);
        h[124..128].copy_from_slice(&crc.to_le_bytes());
        h
    }

    #[test]
    fn junk_chunks_become_warnings() {
        let mut data = file_header(0, 1);
        data.extend(std::iter::repeat_n(0xAB, CHUNK_SIZE));
        data.extend(std::iter::repeat_n(0x00, CHUNK_SIZE));
        data.extend(b"ElfChnk\0junk");
        let out = parse(&data, "x", Reader::Fast).unwrap();
        assert_eq!(out.records, 0);
        assert_eq!(out.lost_chunks, 2);
        assert!(out.is_partial());
        let msgs: Vec<_> = out.parsed.warnings.iter().map(|w| &w.message).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("no chunk signature"));
        assert!(msgs[1].contains("truncated"));
    }

    #[test]
    fn zeroed_slots_count_only_inside_the_declared_chunks() {
        let mut data = file_header(2, 1);
        data.extend(std::iter::repeat_n(0x00, 3 * CHUNK_SIZE));
        let out = parse(&data, "x", Reader::Fast).unwrap();
        assert_eq!(out.lost_chunks, 2);
        let msgs: Vec<_> = out.parsed.warnings.iter().map(|w| &w.message).collect();
        assert!(msgs[0].starts_with("chunk 0: all zeros"), "{msgs:?}");
        assert!(msgs[1].starts_with("chunk 1: all zeros"), "{msgs:?}");
        assert_eq!(msgs.len(), 2, "{msgs:?}");
    }

    /// What a reading gave, as one comparable text.
    fn outcome_text(o: &EvtxOutcome) -> String {
        format!(
            "{:?}\n{:?}\n{} {} {} {} {:?} {} {} {} {:?} {:?}",
            o.parsed.observations,
            o.parsed.warnings,
            o.records,
            o.bad_records,
            o.undecoded,
            o.fallback_chunks,
            o.provider_records,
            o.lost_records,
            o.lost_chunks,
            o.suspect_chunks,
            o.file_problems,
            o.ranges
        )
    }

    #[test]
    fn a_file_on_disk_reads_as_the_same_bytes_in_memory() {
        let sample = "samples/WS-FIN-01/Microsoft-Windows-Bits-Client%4Operational.evtx";
        let mut data = std::fs::read(sample).unwrap();
        // More chunks than one window, and a short last slot.
        let chunks = data[binxml::FILE_HEADER_SIZE..].to_vec();
        for _ in 0..(WINDOW_CHUNKS as usize * CHUNK_SIZE / chunks.len() + 1) {
            data.extend_from_slice(&chunks);
        }
        data.extend_from_slice(&chunks[..1000]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.evtx");
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        let on_disk = parse_file(&file, "x", Reader::Fast).unwrap();
        let in_memory = parse(&data, "x", Reader::Fast).unwrap();
        assert!(on_disk.records > 1000 && on_disk.lost_chunks == 1);
        assert!(!on_disk.parsed.observations.is_empty());
        assert_eq!(outcome_text(&on_disk), outcome_text(&in_memory));
        // A file shorter than its header, and one that is not an event log.
        std::fs::write(&path, &data[..100]).unwrap();
        let short = parse_file(&File::open(&path).unwrap(), "x", Reader::Fast);
        assert!(matches!(
            short,
            Err(StreamError::Evtx(EvtxFileError::Truncated(100)))
        ));
        std::fs::write(&path, b"hello").unwrap();
        let junk = parse_file(&File::open(&path).unwrap(), "x", Reader::Fast);
        assert!(matches!(
            junk,
            Err(StreamError::Evtx(EvtxFileError::NotEvtx))
        ));
    }

    #[test]
    fn template_plans_are_reused_within_a_file_never_across_files() {
        let sample = "samples/WS-FIN-01/Microsoft-Windows-Bits-Client%4Operational.evtx";
        let good = std::fs::read(sample).unwrap();
        let chunk = &good[binxml::FILE_HEADER_SIZE..];
        let r = binxml::records(chunk).unwrap()[0];
        let def = binxml::instance(chunk, r.start, r.end).unwrap().def_offset as usize;
        // The same chunk with its first template's first token broken (its GUID kept): the
        // fast reader cannot plan it.
        let mut broken = good.clone();
        broken[binxml::FILE_HEADER_SIZE + def + 24] = 0xff;
        let alone = parse(&broken, "b", Reader::Fast).unwrap();
        assert_eq!(alone.fallback_chunks, 1);
        // Read after the good file (on every worker), it still is not planned from the good
        // file's templates.
        let mut records = 0;
        for _ in 0..4 {
            records = parse(&good, "g", Reader::Fast).unwrap().records;
        }
        let after = parse(&broken, "b", Reader::Fast).unwrap();
        assert_eq!(after.fallback_chunks, 1);
        // Within one file, a chunk whose template is planned in an earlier chunk reads fast
        // (the broken chunk after a good one), without the full reader.
        let mut both = good.clone();
        both.extend_from_slice(&broken[binxml::FILE_HEADER_SIZE..]);
        let on_one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let out = on_one_thread.install(|| parse(&both, "gb", Reader::Fast).unwrap());
        assert_eq!(out.fallback_chunks, 0);
        assert_eq!(out.records, 2 * records);
    }

    #[test]
    fn a_header_with_a_bad_checksum_or_missing_chunks_is_a_problem() {
        let mut data = file_header(3, 1);
        data.extend(std::iter::repeat_n(0x00, CHUNK_SIZE));
        let out = parse(&data, "x", Reader::Fast).unwrap();
        assert!(out.file_problems[0].contains("after 1 of the 3 chunks"));
        data[42] = 1; // checksum no longer holds
        let out = parse(&data, "x", Reader::Fast).unwrap();
        assert_eq!(out.file_problems.len(), 1);
        assert!(out.file_problems[0].contains("file header checksum mismatch"));
        assert!(out.is_partial());
    }
}

/// The fast reader against the evtx crate on every real log of the shared corpus.
#[cfg(test)]
mod corpus_tests {
    use super::*;

    fn evtx_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                evtx_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "evtx") {
                out.push(p);
            }
        }
    }

    #[test]
    fn fast_and_full_readers_agree_on_the_corpus() {
        let Some(root) = std::env::var_os("BITSDOCTOR_CORPUS") else {
            eprintln!("BITSDOCTOR_CORPUS is not set: skipping");
            return;
        };
        let mut files = Vec::new();
        evtx_files(std::path::Path::new(&root), &mut files);
        assert!(files.len() >= 19, "{files:?}");
        let mut fast_chunks = 0;
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let name = f.to_string_lossy().to_string();
            let fast = parse(&data, &name, Reader::Fast).unwrap();
            let full = parse(&data, &name, Reader::Full).unwrap();
            let key = |o: &Observation| (o.evidence.clone(), format!("{o:?}"));
            let mut a: Vec<_> = fast.parsed.observations.iter().map(key).collect();
            let mut b: Vec<_> = full.parsed.observations.iter().map(key).collect();
            a.sort();
            b.sort();
            assert_eq!(a.len(), b.len(), "{name}\nfast {a:#?}\nfull {b:#?}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x, y, "{name}");
            }
            assert_eq!(fast.records, full.records, "{name}");
            assert_eq!(fast.bad_records, full.bad_records, "{name}");
            let chunks = (data.len() - binxml::FILE_HEADER_SIZE).div_ceil(CHUNK_SIZE) as u64;
            fast_chunks += chunks - fast.fallback_chunks;
        }
        // The fast reader must actually be used, not fall back everywhere.
        assert!(
            fast_chunks > 100,
            "only {fast_chunks} chunks read by the fast reader"
        );
    }
}
