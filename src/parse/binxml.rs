//! A small, strict reader for the part of the EVTX format the fast path needs (MS-EVEN6):
//! chunk and record headers, template definitions (turned into a `Plan`: where the provider,
//! event id, version, computer and each named data field live), and template-instance values.
//!
//! Anything it does not expect is an `Anomaly`; the caller then hands the whole chunk to the
//! evtx crate instead. So this reader only has to be right on the common shape, and it is
//! checked against the crate on every corpus file (tests in `evtx.rs`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

pub const FILE_HEADER_SIZE: usize = 4096;
pub const CHUNK_SIZE: usize = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
const RECORD_HEADER_SIZE: usize = 24;

/// Something the fast reader does not handle; the chunk goes to the full parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly(pub &'static str);

type R<T> = Result<T, Anomaly>;

/// A bounds-checked reader over a chunk: every read past the end (or an offset that
/// overflows) is an `Anomaly`, never a panic. All reads of chunk bytes go through it or
/// through the `*_at` helpers below, which use it.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

const PAST_END: Anomaly = Anomaly("read past the end");

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    /// Move to `pos` (which may be anything; the next read checks it).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }
    /// Skip `n` bytes; the position may end at the end of the buffer, not past it.
    pub fn skip(&mut self, n: usize) -> R<()> {
        match self.pos.checked_add(n) {
            Some(p) if p <= self.buf.len() => {
                self.pos = p;
                Ok(())
            }
            _ => Err(PAST_END),
        }
    }
    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(PAST_END)?;
        let b = self.buf.get(self.pos..end).ok_or(PAST_END)?;
        self.pos = end;
        Ok(b)
    }
    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }
    pub fn u8(&mut self) -> R<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u16(&mut self) -> R<u16> {
        self.array().map(u16::from_le_bytes)
    }
    pub fn u32(&mut self) -> R<u32> {
        self.array().map(u32::from_le_bytes)
    }
    pub fn u64(&mut self) -> R<u64> {
        self.array().map(u64::from_le_bytes)
    }
}

fn u8_at(b: &[u8], at: usize) -> R<u8> {
    Cursor::new(b, at).u8()
}
fn u16_at(b: &[u8], at: usize) -> R<u16> {
    Cursor::new(b, at).u16()
}
fn u32_at(b: &[u8], at: usize) -> R<u32> {
    Cursor::new(b, at).u32()
}
fn u64_at(b: &[u8], at: usize) -> R<u64> {
    Cursor::new(b, at).u64()
}
/// `a + b`, or an anomaly if it overflows.
fn add(a: usize, b: usize) -> R<usize> {
    a.checked_add(b).ok_or(PAST_END)
}

// Integrity (MS-EVEN6 checksums). The one place the CRC32s are checked: the file header's
// (bytes 0..120, stored at 124), each chunk header's (bytes 0..120 and 128..512, stored at 124)
// and each chunk's record data (512 .. free-space offset, stored at 52).

/// What the file header says, and whether its checksum holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    /// Chunks the header declares (often stale, lower, in a log that was not closed).
    pub chunks: u16,
    /// The record number the next record would get.
    pub next_record: u64,
    pub checksum_ok: bool,
}

/// Read the file header (the caller checked its signature and length).
pub fn file_header(h: &[u8]) -> R<FileHeader> {
    let stored = u32_at(h, 124)?;
    Ok(FileHeader {
        chunks: u16_at(h, 42)?,
        next_record: u64_at(h, 24)?,
        checksum_ok: crc32fast::hash(h.get(..120).ok_or(PAST_END)?) == stored,
    })
}

/// What a chunk header says, and whether the chunk's checksums hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    pub first_record: u64,
    pub last_record: u64,
    /// Offset of the first byte after the last record.
    pub free: u32,
    pub header_ok: bool,
    /// The record data checksum holds (false too when the free-space offset is out of range).
    pub data_ok: bool,
}

impl ChunkHeader {
    /// Records the header says the chunk holds, if that is a count a chunk can hold.
    pub fn declared(&self) -> Option<u64> {
        let n = self
            .last_record
            .checked_sub(self.first_record)?
            .checked_add(1)?;
        (n <= MAX_RECORDS_PER_CHUNK).then_some(n)
    }
}

/// The most records a chunk can hold (the smallest record is 28 bytes).
pub const MAX_RECORDS_PER_CHUNK: u64 = ((CHUNK_SIZE - CHUNK_HEADER_SIZE) / 28) as u64;

/// Read a chunk's header and check its two checksums (the caller checked the signature).
pub fn chunk_header(chunk: &[u8]) -> R<ChunkHeader> {
    let header = chunk.get(..CHUNK_HEADER_SIZE).ok_or(PAST_END)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[..120]);
    crc.update(&header[128..]);
    let free = u32_at(chunk, 48)?;
    let data_ok = chunk
        .get(CHUNK_HEADER_SIZE..free as usize)
        .is_some_and(|data| Ok(crc32fast::hash(data)) == u32_at(chunk, 52));
    Ok(ChunkHeader {
        first_record: u64_at(chunk, 8)?,
        last_record: u64_at(chunk, 16)?,
        free,
        header_ok: crc.finalize() == u32_at(chunk, 124)?,
        data_ok,
    })
}

/// One record's header and the window of its BinXML in the chunk.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord {
    pub id: u64,
    pub filetime: u64,
    /// Chunk offset of the BinXML.
    pub start: usize,
    pub end: usize,
}

/// Every live record of a chunk, or an anomaly if one cannot be read.
pub fn records(chunk: &[u8]) -> R<Vec<RawRecord>> {
    if chunk.len() != CHUNK_SIZE || !chunk.starts_with(b"ElfChnk\0") {
        return Err(Anomaly("not a chunk"));
    }
    let free = (u32_at(chunk, 48)? as usize).min(CHUNK_SIZE);
    let mut out = Vec::with_capacity(128);
    let mut at = CHUNK_HEADER_SIZE;
    while at + RECORD_HEADER_SIZE <= free {
        if chunk.get(at..at + 4) != Some(b"\x2a\x2a\x00\x00") {
            return Err(Anomaly("record magic"));
        }
        let size = u32_at(chunk, at + 4)? as usize;
        if size < RECORD_HEADER_SIZE + 4 || at + size > free {
            return Err(Anomaly("record size"));
        }
        if u32_at(chunk, at + size - 4)? as usize != size {
            return Err(Anomaly("record size copy"));
        }
        out.push(RawRecord {
            id: u64_at(chunk, at + 8)?,
            filetime: u64_at(chunk, at + 16)?,
            start: at + RECORD_HEADER_SIZE,
            end: at + size - 4,
        });
        at += size;
    }
    Ok(out)
}

/// A template instance: which definition, and where its substitution values are. Values are
/// located on demand: most records are dropped after looking at one of them.
#[derive(Debug, Clone)]
pub struct Instance {
    pub def_offset: u32,
    /// Chunk offset of the value descriptors (size u16, type u8, pad u8 each).
    descriptors: usize,
    count: usize,
    /// Chunk offset of the first value.
    data: usize,
}

impl Instance {
    /// Value `i`: (type, bytes, chunk offset).
    pub fn value<'c>(&self, chunk: &'c [u8], i: usize) -> Option<(u8, &'c [u8], usize)> {
        if i >= self.count {
            return None;
        }
        let size_of = |k: usize| u16_at(chunk, self.descriptors + k * 4).map(usize::from);
        let mut at = self.data;
        for k in 0..i {
            at += size_of(k).ok()?;
        }
        let ty = u8_at(chunk, self.descriptors + i * 4 + 2).ok()?;
        Some((ty, chunk.get(at..at + size_of(i).ok()?)?, at))
    }
    /// Every value, located in one pass: (type, bytes, chunk offset). `instance` checked that
    /// the descriptors and values lie in the record; a value that does not is left out.
    pub fn values<'c>(&self, chunk: &'c [u8]) -> impl Iterator<Item = (u8, &'c [u8], usize)> {
        let mut at = self.data;
        let descriptors = chunk
            .get(self.descriptors..self.descriptors + self.count * 4)
            .unwrap_or_default();
        descriptors.chunks_exact(4).map_while(move |d| {
            let size = u16::from_le_bytes([d[0], d[1]]) as usize;
            let v = (d[2], chunk.get(at..at + size)?, at);
            at += size;
            Some(v)
        })
    }
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Read the template instance a fragment starting at `at` consists of.
pub fn instance(chunk: &[u8], at: usize, end: usize) -> R<Instance> {
    let mut c = Cursor::new(chunk, at);
    if u8_at(chunk, at) == Ok(0x0f) {
        c.skip(4)?;
    }
    if c.u8() != Ok(0x0c) {
        return Err(Anomaly("no template instance"));
    }
    c.skip(1 + 4)?; // unknown byte, template id
    let def_offset = c.u32()?;
    if def_offset as usize == c.pos() {
        let data_size = u32_at(chunk, add(c.pos(), 20)?)? as usize;
        c.skip(add(24, data_size)?)?;
    }
    let count = c.u32()? as usize;
    let at = c.pos();
    let end = end.min(chunk.len());
    if count > 4096 || at + count * 4 > end {
        return Err(Anomaly("substitution count"));
    }
    let data = at + count * 4;
    let total: usize = chunk
        .get(at..data)
        .ok_or(PAST_END)?
        .chunks_exact(4)
        .map(|d| u16::from_le_bytes([d[0], d[1]]) as usize)
        .sum();
    if data + total > end {
        return Err(Anomaly("values past the record"));
    }
    Ok(Instance {
        def_offset,
        descriptors: at,
        count,
        data,
    })
}

/// Where a value comes from: text fixed in the template, or a substitution.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    Fixed(String),
    Sub(u16),
}

/// What the fast path needs to know about one template definition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub provider: Option<Slot>,
    pub event_id: Option<Slot>,
    pub version: Option<Slot>,
    pub computer: Option<Slot>,
    /// A substitution outside System holding a nested BinXML fragment: the EventData or
    /// UserData of manifest and classic events alike.
    pub nested: Option<u16>,
    /// Named fields: `Data Name="x"`, `Binary`, and the leaves of `UserData`.
    pub fields: Vec<(String, Slot)>,
}

/// A UTF-16 string from the chunk string table at `offset`.
fn name_at(chunk: &[u8], offset: usize) -> R<String> {
    let mut c = Cursor::new(chunk, add(offset, 6)?);
    let len = c.u16()? as usize;
    utf16(
        c.bytes(len * 2)
            .map_err(|_| Anomaly("name past the chunk"))?,
    )
}

pub fn utf16(bytes: &[u8]) -> R<String> {
    let bytes = &bytes[..bytes.len() & !1];
    // Most event text is ASCII: copy the low bytes without decoding.
    if bytes.chunks_exact(2).all(|c| c[1] == 0 && c[0] < 0x80) {
        let ascii: Vec<u8> = bytes.iter().step_by(2).copied().collect();
        let mut s = String::from_utf8(ascii).map_err(|_| Anomaly("ascii"))?;
        s.truncate(s.trim_end_matches('\0').len());
        return Ok(s);
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    let mut s: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    s.truncate(s.trim_end_matches('\0').len());
    Ok(s)
}

/// Element and attribute names of one chunk, decoded once each (templates share them).
#[derive(Default)]
pub struct Names(HashMap<usize, Rc<str>>);

impl Names {
    /// Read a name reference at `at`; returns (name, position after it).
    fn name_ref(&mut self, chunk: &[u8], at: usize) -> R<(Rc<str>, usize)> {
        let off = u32_at(chunk, at)? as usize;
        let mut next = at + 4;
        if off == next {
            let len = u16_at(chunk, add(off, 6)?)? as usize;
            next = off + 8 + len * 2 + 2;
        }
        if let Some(n) = self.0.get(&off) {
            return Ok((n.clone(), next));
        }
        let name: Rc<str> = Rc::from(name_at(chunk, off)?);
        self.0.insert(off, name.clone());
        Ok((name, next))
    }
}

/// Build the plan of the template definition at `def_offset`.
pub fn plan(chunk: &[u8], def_offset: usize, names: &mut Names) -> R<Plan> {
    let data_size = u32_at(chunk, add(def_offset, 20)?)? as usize;
    let start = add(def_offset, 24)?;
    let end = add(start, data_size)?;
    if end > chunk.len() {
        return Err(Anomaly("template past the chunk"));
    }
    let mut p = Plan::default();
    let mut path: Vec<Rc<str>> = Vec::with_capacity(8);
    // The attribute a following value belongs to, if any.
    let mut attr: Option<Rc<str>> = None;
    // Attributes of the element being opened (for `Data Name=`).
    let mut attrs: Vec<(Rc<str>, Slot)> = Vec::new();
    // Per open element: its attributes, kept until its content is seen.
    let mut open_attrs: Vec<Vec<(Rc<str>, Slot)>> = Vec::new();
    let mut c = Cursor::new(chunk, start);
    while c.pos() < end {
        let token = c.u8()?;
        match token {
            0x00 => break,
            0x0f => c.skip(3)?,
            0x01 | 0x41 => {
                c.skip(2 + 4)?; // dependency id, data size
                let (name, next) = names.name_ref(chunk, c.pos())?;
                c.seek(next);
                if token == 0x41 {
                    c.skip(4)?;
                }
                path.push(name);
                attrs.clear();
                attr = None;
            }
            0x02 => {
                open_attrs.push(std::mem::take(&mut attrs));
                attr = None;
            }
            0x03 => {
                // An empty element: its attributes are all it has.
                element_done(&mut p, &path, &attrs, None);
                attrs.clear();
                attr = None;
                path.pop();
            }
            0x04 => {
                // Attributes of a non-empty element with no value content (Provider written
                // as <Provider ...></Provider>) still count.
                if let Some(own) = open_attrs.pop() {
                    element_done(&mut p, &path, &own, None);
                }
                path.pop();
            }
            0x05 | 0x45 => {
                if c.u8()? != 0x01 {
                    return Err(Anomaly("non-string fixed value"));
                }
                let len = c.u16()? as usize;
                let text = utf16(c.bytes(len * 2).map_err(|_| Anomaly("value"))?)?;
                slot_seen(
                    &mut p,
                    &path,
                    &mut attr,
                    &mut attrs,
                    &open_attrs,
                    Slot::Fixed(text),
                );
            }
            0x06 | 0x46 => {
                let (name, next) = names.name_ref(chunk, c.pos())?;
                c.seek(next);
                attr = Some(name);
            }
            0x0d | 0x0e => {
                let index = c.u16()?;
                let ty = c.u8().map_err(|_| Anomaly("substitution"))?;
                let in_system = path.iter().any(|s| &**s == "System");
                if ty == 0x21 && attr.is_none() && !in_system {
                    p.nested = Some(index);
                } else {
                    slot_seen(
                        &mut p,
                        &path,
                        &mut attr,
                        &mut attrs,
                        &open_attrs,
                        Slot::Sub(index),
                    );
                }
            }
            // CDATA and processing-instruction data: a counted UTF-16 string, skipped.
            0x07 | 0x47 | 0x0b => {
                let len = c.u16()? as usize;
                c.skip(len * 2)?;
            }
            0x08 | 0x48 => c.skip(2)?,
            0x09 | 0x49 | 0x0a => {
                let (_, next) = names.name_ref(chunk, c.pos())?;
                c.seek(next);
            }
            _ => return Err(Anomaly("unknown token in template")),
        }
    }
    Ok(p)
}

/// A value (fixed text or substitution) seen at the current place in the template.
fn slot_seen(
    p: &mut Plan,
    path: &[Rc<str>],
    attr: &mut Option<Rc<str>>,
    attrs: &mut Vec<(Rc<str>, Slot)>,
    open_attrs: &[Vec<(Rc<str>, Slot)>],
    slot: Slot,
) {
    if let Some(a) = attr.take() {
        attrs.push((a, slot));
        return;
    }
    let own_attrs = open_attrs.last().map(Vec::as_slice).unwrap_or(&[]);
    element_done(p, path, own_attrs, Some(slot));
}

/// Record what an element (with its attributes and content) says, if the plan needs it.
fn element_done(p: &mut Plan, path: &[Rc<str>], attrs: &[(Rc<str>, Slot)], content: Option<Slot>) {
    let n = path.len();
    let last: &str = path.last().map(|s| &**s).unwrap_or("");
    let parent: &str = if n >= 2 { &path[n - 2] } else { "" };
    let in_system = path.iter().any(|s| &**s == "System");
    if in_system {
        match last {
            "Provider" => {
                if let Some((_, s)) = attrs.iter().find(|(a, _)| &**a == "Name") {
                    p.provider = Some(s.clone());
                }
            }
            "EventID" => p.event_id = content.or(p.event_id.take()),
            "Version" => p.version = content.or(p.version.take()),
            "Computer" => p.computer = content.or(p.computer.take()),
            _ => {}
        }
        return;
    }
    let Some(content) = content else { return };
    if parent == "EventData" && last == "Data" {
        if let Some((_, Slot::Fixed(name))) = attrs.iter().find(|(a, _)| &**a == "Name") {
            p.fields.push((name.clone(), content));
        }
    } else if parent == "EventData" && last == "Binary" {
        p.fields.push(("Binary".into(), content));
    } else if !path.iter().any(|s| &**s == "EventData") && n >= 2 {
        // UserData: `<UserData><LogFileCleared><Channel>..`, or the nested fragment that
        // holds `<LogFileCleared><Channel>..`: the leaves are the fields.
        p.fields.push((last.to_string(), content));
    }
}

/// A field value, decoded as far as it is cheap: strings and GUIDs stay bytes until asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldVal<'a> {
    Null,
    Str(Cow<'a, str>),
    /// UTF-16LE text, decoded on use.
    Utf16(&'a [u8]),
    /// A 16-byte GUID, formatted on use.
    Guid(&'a [u8]),
    U(u64),
    I(i64),
    F(f64),
    Bool(bool),
    Bin(Cow<'a, [u8]>),
}

impl FieldVal<'_> {
    /// The same value, borrowed from this one.
    pub fn view(&self) -> FieldVal<'_> {
        match self {
            FieldVal::Null => FieldVal::Null,
            FieldVal::Str(s) => FieldVal::Str(Cow::Borrowed(s)),
            FieldVal::Utf16(b) => FieldVal::Utf16(b),
            FieldVal::Guid(b) => FieldVal::Guid(b),
            FieldVal::U(n) => FieldVal::U(*n),
            FieldVal::I(n) => FieldVal::I(*n),
            FieldVal::F(n) => FieldVal::F(*n),
            FieldVal::Bool(b) => FieldVal::Bool(*b),
            FieldVal::Bin(b) => FieldVal::Bin(Cow::Borrowed(b)),
        }
    }

    /// The value as text, if it is text (a string or a GUID).
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            FieldVal::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            FieldVal::Utf16(b) => utf16(b).ok().map(Cow::Owned),
            FieldVal::Guid(b) => {
                crate::model::Guid::from_le_bytes(b).map(|g| Cow::Owned(g.to_string()))
            }
            _ => None,
        }
    }
}

/// Decode one substitution value of the types event data uses.
pub fn decode_value(ty: u8, b: &[u8]) -> FieldVal<'_> {
    let le = |n: usize| -> Option<u64> {
        (b.len() >= n).then(|| {
            let mut a = [0u8; 8];
            a[..n].copy_from_slice(&b[..n]);
            u64::from_le_bytes(a)
        })
    };
    let v = match ty {
        0x00 => Some(FieldVal::Null),
        0x01 => Some(FieldVal::Utf16(b)),
        0x02 => Some(FieldVal::Str(Cow::Owned(
            String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .to_string(),
        ))),
        0x03 => le(1).map(|v| FieldVal::I(v as u8 as i8 as i64)),
        0x05 => le(2).map(|v| FieldVal::I(v as u16 as i16 as i64)),
        0x07 => le(4).map(|v| FieldVal::I(v as u32 as i32 as i64)),
        0x09 => le(8).map(|v| FieldVal::I(v as i64)),
        0x04 => le(1).map(FieldVal::U),
        0x06 => le(2).map(FieldVal::U),
        0x08 | 0x14 => le(4).map(FieldVal::U),
        0x0a | 0x15 | 0x11 => le(8).map(FieldVal::U),
        0x10 => le(b.len().min(8)).map(FieldVal::U),
        0x0b => le(4).map(|v| FieldVal::F(f32::from_bits(v as u32) as f64)),
        0x0c => le(8).map(|v| FieldVal::F(f64::from_bits(v))),
        0x0d => le(4).map(|v| FieldVal::Bool(v != 0)),
        0x0e | 0x21 => Some(FieldVal::Bin(Cow::Borrowed(b))),
        0x0f if b.len() == 16 => Some(FieldVal::Guid(b)),
        _ => Some(FieldVal::Null),
    };
    v.unwrap_or(FieldVal::Null)
}

/// Is value `ty`/`b` the UTF-16 string `want` (ASCII, case-insensitive)?
pub fn value_is(ty: u8, b: &[u8], want: &str) -> bool {
    let b = match ty {
        0x01 => {
            let mut b = b;
            while b.len() >= 2 && b[b.len() - 2..] == [0, 0] {
                b = &b[..b.len() - 2];
            }
            b
        }
        _ => return false,
    };
    b.len() == want.len() * 2
        && want
            .bytes()
            .zip(b.chunks_exact(2))
            .all(|(c, u)| u[1] == 0 && u[0].eq_ignore_ascii_case(&c))
}

/// Plans of the template definitions seen in earlier chunks, by template GUID (the key the
/// evtx crate gives a template outside its chunk, in its WEVT template cache): a template's
/// plan is the same in every chunk, only the offsets of its names differ. The GUIDs come from
/// the input, so the map keeps the standard (SipHash) hasher, and it is emptied when full.
#[derive(Default)]
pub struct PlanCache(HashMap<[u8; 16], Rc<Plan>>);

impl PlanCache {
    /// The most plans kept (a few dozen templates cover a real log).
    const MAX: usize = 4096;

    fn get(&self, guid: &[u8; 16]) -> Option<Rc<Plan>> {
        self.0.get(guid).cloned()
    }

    fn insert(&mut self, guid: [u8; 16], plan: Rc<Plan>) {
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        self.0.insert(guid, plan);
    }
}

/// Plans per template definition offset, for one chunk (a few dozen at most: a short list
/// beats hashing), taken from the cache of earlier chunks where it has them.
pub struct Plans<'c> {
    plans: Vec<(u32, Result<Rc<Plan>, Anomaly>)>,
    names: Names,
    seen: &'c mut PlanCache,
}

impl<'c> Plans<'c> {
    pub fn new(seen: &'c mut PlanCache) -> Self {
        Plans {
            plans: Vec::new(),
            names: Names::default(),
            seen,
        }
    }

    pub fn get(&mut self, chunk: &[u8], def_offset: u32) -> R<Rc<Plan>> {
        if let Some((_, p)) = self.plans.iter().find(|(o, _)| *o == def_offset) {
            return p.clone();
        }
        let at = def_offset as usize;
        let guid = chunk
            .get(at.saturating_add(4)..at.saturating_add(20))
            .and_then(|g| <[u8; 16]>::try_from(g).ok());
        let p = match guid.and_then(|g| self.seen.get(&g)) {
            Some(p) => Ok(p),
            None => {
                let p = plan(chunk, at, &mut self.names).map(Rc::new);
                if let (Ok(p), Some(g)) = (&p, guid) {
                    self.seen.insert(g, p.clone());
                }
                p
            }
        };
        self.plans.push((def_offset, p.clone()));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode() {
        assert_eq!(
            decode_value(0x08, &2147954407u32.to_le_bytes()),
            FieldVal::U(2147954407)
        );
        assert_eq!(
            decode_value(0x01, &[b'B', 0, b'I', 0, 0, 0])
                .as_text()
                .unwrap(),
            "BI"
        );
        assert_eq!(decode_value(0x07, &(-5i32).to_le_bytes()), FieldVal::I(-5));
        assert_eq!(decode_value(0x08, &[1, 2]), FieldVal::Null);
        let g = [
            0x35, 0xa0, 0xe0, 0x3f, 0x15, 0x7a, 0x3f, 0x4f, 0x94, 0xb1, 0x19, 0x45, 0xff, 0xa8,
            0x30, 0x67,
        ];
        assert_eq!(
            decode_value(0x0f, &g).as_text().unwrap(),
            "{3FE0A035-7A15-4F3F-94B1-1945FFA83067}"
        );
    }

    #[test]
    fn value_is_compares_utf16_ascii_case_insensitively() {
        let b: Vec<u8> = "BITS\0"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(value_is(0x01, &b, "bits"));
        assert!(!value_is(0x01, &b, "bit"));
        assert!(!value_is(0x08, &b, "BITS"));
    }

    #[test]
    fn junk_is_an_anomaly_not_a_panic() {
        let mut chunk = vec![0u8; CHUNK_SIZE];
        assert!(records(&chunk).is_err());
        chunk[..8].copy_from_slice(b"ElfChnk\0");
        chunk[48..52].copy_from_slice(&70000u32.to_le_bytes());
        chunk[512..516].copy_from_slice(b"\x2a\x2a\x00\x00");
        chunk[516..520].copy_from_slice(&5u32.to_le_bytes());
        assert!(records(&chunk).is_err());
        assert!(plan(&chunk, 65530, &mut Names::default()).is_err());
        assert!(instance(&chunk, 65535, 65536).is_err());
    }

    #[test]
    fn template_ending_at_the_chunk_end_on_a_value_token_is_an_anomaly() {
        // The shape that used to panic (index 65536): a definition whose one byte of data is
        // a 0x05 value token, the chunk's last byte.
        let mut chunk = vec![0u8; CHUNK_SIZE];
        chunk[..8].copy_from_slice(b"ElfChnk\0");
        let def = CHUNK_SIZE - 25;
        chunk[def + 20..def + 24].copy_from_slice(&1u32.to_le_bytes());
        chunk[CHUNK_SIZE - 1] = 0x05;
        assert_eq!(
            plan(&chunk, def, &mut Names::default()),
            Err(Anomaly("read past the end"))
        );
        // Each token that reads past the end, in the same place.
        for token in [0x01, 0x06, 0x07, 0x08, 0x09, 0x0d, 0x0f] {
            chunk[CHUNK_SIZE - 1] = token;
            assert!(
                plan(&chunk, def, &mut Names::default()).is_err(),
                "{token:#x}"
            );
        }
        assert!(plan(&chunk, usize::MAX - 3, &mut Names::default()).is_err());
    }

    #[test]
    fn cursor_reads_are_bounded() {
        let b = [1u8, 2, 3];
        let mut c = Cursor::new(&b, 0);
        assert_eq!(c.u16(), Ok(0x0201));
        assert_eq!(c.u16(), Err(Anomaly("read past the end")));
        assert_eq!(c.u8(), Ok(3));
        assert!(c.u8().is_err());
        assert!(c.skip(0).is_ok());
        assert!(c.skip(1).is_err());
        assert!(Cursor::new(&b, usize::MAX).bytes(2).is_err());
    }
}
