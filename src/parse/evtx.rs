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
use crate::parse::binxml::{self, decode_value, Anomaly, FieldVal, Plans, Slot, CHUNK_SIZE};
use crate::parse::events::{self, Fields, Provider};
use crate::parse::Parsed;
use evtx::{EvtxChunkData, EvtxRecord, ParserSettings};
use rayon::prelude::*;
use serde_json::Value;
use std::io::Read;
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

/// Parse one evtx file held in memory.
pub fn parse(data: &[u8], path: &str, reader: Reader) -> Result<EvtxOutcome, EvtxFileError> {
    let mut input = data;
    parse_stream(&mut input, path, reader).map_err(|e| match e {
        StreamError::Evtx(e) => e,
        // Reading from a slice cannot fail.
        StreamError::Io(_) => EvtxFileError::NotEvtx,
    })
}

/// Why a streamed evtx file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Evtx(#[from] EvtxFileError),
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// How many chunks are read and parsed at a time: memory stays bounded by this window (4 MiB,
/// two of them in flight) whatever the size of the file, and it is wide enough to keep every
/// core busy.
const WINDOW_CHUNKS: usize = 64;

/// Parse one evtx file from a reader, a window of chunks at a time.
pub fn parse_stream(
    input: &mut (impl Read + Send),
    path: &str,
    reader: Reader,
) -> Result<EvtxOutcome, StreamError> {
    let mut header = Vec::with_capacity(binxml::FILE_HEADER_SIZE);
    let got = input
        .by_ref()
        .take(binxml::FILE_HEADER_SIZE as u64)
        .read_to_end(&mut header)?;
    if !header.starts_with(b"ElfFile\0") {
        return Err(EvtxFileError::NotEvtx.into());
    }
    if got < binxml::FILE_HEADER_SIZE {
        return Err(EvtxFileError::Truncated(got).into());
    }
    let shared_path: Arc<str> = Arc::from(path);
    let mut out = EvtxOutcome::default();
    let file = binxml::file_header(&header).ok();
    let declared = match &file {
        Some(f) if f.checksum_ok => u64::from(f.chunks),
        _ => {
            out.file_problems
                .push("file header checksum mismatch (its counts are not trusted)".into());
            0
        }
    };
    let trusted = file.filter(|f| f.checksum_ok);
    let mut slots = 0u64;
    // Two windows: the next one is read while the chunks of the current one are parsed. The
    // buffers are reused and filled without zeroing them first.
    let window = (WINDOW_CHUNKS * CHUNK_SIZE) as u64;
    let mut current = Vec::with_capacity(window as usize);
    let mut next = Vec::with_capacity(window as usize);
    input.by_ref().take(window).read_to_end(&mut current)?;
    let mut first_chunk = 0;
    while !current.is_empty() {
        let more = current.len() as u64 == window;
        next.clear();
        let (outs, read_next) = rayon::join(
            || -> Vec<EvtxOutcome> {
                current
                    .par_chunks(CHUNK_SIZE)
                    .enumerate()
                    .map(|(i, chunk)| {
                        read_chunk(first_chunk + i, chunk, &shared_path, reader, declared)
                    })
                    .collect()
            },
            || {
                if more {
                    input.by_ref().take(window).read_to_end(&mut next)
                } else {
                    Ok(0)
                }
            },
        );
        let adding: usize = outs.iter().map(|c| c.parsed.observations.len()).sum();
        out.parsed.observations.reserve(adding);
        for c in outs {
            out.absorb(c);
        }
        read_next?;
        slots += current.len().div_ceil(CHUNK_SIZE) as u64;
        std::mem::swap(&mut current, &mut next);
        first_chunk += WINDOW_CHUNKS;
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
        out = fast_chunk(chunk, path).ok();
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
    let ids = format!("records {}..{}", head.first_record, head.last_record);
    if !head.header_ok {
        warn(format!(
            "chunk {n}: header checksum mismatch ({ids}?): records read, but its counts and offsets are not trusted"
        ));
    } else if !head.data_ok {
        warn(format!(
            "chunk {n}: record data checksum mismatch ({ids}): records read, but values may be altered"
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
        inst.values(chunk).iter().any(|(ty, b, _)| {
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

fn fast_chunk(chunk: &[u8], path: &Arc<str>) -> Result<EvtxOutcome, Anomaly> {
    let records = binxml::records(chunk)?;
    let mut plans = Plans::default();
    let bits = BitsMention::new();
    let mut out = EvtxOutcome {
        records: records.len() as u64,
        ..EvtxOutcome::default()
    };
    for r in records {
        let inst = binxml::instance(chunk, r.start, r.end)?;
        let plan = plans.get(chunk, inst.def_offset)?;
        let Some(provider) = provider_of(&plan.provider, &inst, chunk) else {
            continue;
        };
        *out.provider_records.entry(provider.name()).or_default() += 1;
        if provider == Provider::Scm && !bits.in_values(&inst, chunk) {
            continue;
        }
        let Some(event_id) = as_u64(&slot_value(plan.event_id.as_ref(), &inst, chunk)) else {
            return Err(Anomaly("event id"));
        };
        let version = as_u64(&slot_value(plan.version.as_ref(), &inst, chunk)).unwrap_or(0);
        let computer = slot_value(plan.computer.as_ref(), &inst, chunk)
            .as_text()
            .map(|c| c.into_owned())
            .unwrap_or_default();
        // The fields: in a nested fragment (manifest events), or in the template itself.
        let (fields_plan, fields_inst) = match plan.nested {
            Some(k) => match inst.value(chunk, k as usize) {
                Some((0x21, b, at)) if !b.is_empty() => {
                    let nested = binxml::instance(chunk, at, at + b.len())?;
                    (plans.get(chunk, nested.def_offset)?, nested)
                }
                _ => (plan.clone(), inst),
            },
            None => (plan.clone(), inst),
        };
        let values = fields_inst.values(chunk);
        let items: Vec<(&str, FieldVal)> = fields_plan
            .fields
            .iter()
            .map(|(name, slot)| {
                let v = match slot {
                    Slot::Fixed(t) => FieldVal::Str(std::borrow::Cow::Borrowed(t)),
                    Slot::Sub(i) => values
                        .get(*i as usize)
                        .map(|(ty, b, _)| decode_value(*ty, b))
                        .unwrap_or(FieldVal::Null),
                };
                (name.as_str(), v)
            })
            .collect();
        let fields = Fields::new(items);
        if let Some(fact) = events::decode(provider, event_id as u32, version, &fields) {
            out.parsed.observations.push(observation(
                computer,
                filetime(r.filetime),
                path,
                r.id,
                event_id as u32,
                fact,
            ));
        }
    }
    Ok(out)
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
