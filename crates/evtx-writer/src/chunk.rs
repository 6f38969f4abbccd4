//! One 64 KiB chunk being filled with records.
//!
//! A record is `**\0\0`, its size, its id, its FILETIME, the BinXML, zero padding to a multiple
//! of 8 bytes (as Windows pads), and a copy of the size.

use crate::binxml::Buf;
use crate::error::WriteError;
use crate::event::Event;
use crate::header::{put_u32, put_u64, seal_chunk, ChunkSummary, CHUNK_HEADER_SIZE, CHUNK_SIZE};
use crate::layout;
use crate::tables::{Additions, Scope, Tables};
use crate::value::filetime;

/// Size of a record header (magic, size, id, time).
const RECORD_HEADER_SIZE: usize = 24;

/// A chunk in progress.
#[derive(Debug)]
pub(crate) struct Chunk {
    data: Vec<u8>,
    tables: Tables,
    free: usize,
    ids: Option<(u64, u64)>,
    last_record_offset: u32,
}

/// What [`Chunk::push`] did.
pub(crate) enum Pushed {
    Added,
    /// The record did not fit; nothing changed. `size` is what it needed.
    Full {
        size: usize,
    },
}

impl Chunk {
    pub(crate) fn new() -> Self {
        Chunk {
            data: vec![0; CHUNK_SIZE],
            tables: Tables::default(),
            free: CHUNK_HEADER_SIZE,
            ids: None,
            last_record_offset: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ids.is_none()
    }

    /// Appends `event` as record `id` if it fits.
    pub(crate) fn push(&mut self, id: u64, event: &Event) -> Result<Pushed, WriteError> {
        let offset = u32::try_from(self.free).unwrap_or(u32::MAX);
        let (record, additions) = build_record(&self.tables, offset, id, event)?;
        if self.free + record.len() > CHUNK_SIZE {
            return Ok(Pushed::Full { size: record.len() });
        }
        self.data[self.free..self.free + record.len()].copy_from_slice(&record);
        self.tables.commit(additions);
        self.last_record_offset = offset;
        self.free += record.len();
        self.ids = Some(match self.ids {
            Some((first, _)) => (first, id),
            None => (id, id),
        });
        Ok(Pushed::Added)
    }

    /// The finished chunk bytes, header and CRCs filled in.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let summary = ChunkSummary {
            ids: self.ids,
            last_record_offset: self.last_record_offset,
            free_space_offset: u32::try_from(self.free).unwrap_or(u32::MAX),
        };
        seal_chunk(
            &mut self.data,
            summary,
            self.tables.string_buckets(),
            self.tables.template_buckets(),
        );
        self.data
    }
}

/// The largest record an empty chunk can take.
pub(crate) const MAX_RECORD_SIZE: usize = CHUNK_SIZE - CHUNK_HEADER_SIZE;

/// Builds record `id` for chunk offset `offset`, returning its bytes and the table entries it
/// defined.
fn build_record(
    tables: &Tables,
    offset: u32,
    id: u64,
    event: &Event,
) -> Result<(Vec<u8>, Additions), WriteError> {
    let mut scope = Scope::new(tables);
    let mut buf = Buf::new(offset.wrapping_add(RECORD_HEADER_SIZE as u32));
    let system = layout::system(event, id)?;
    buf.fragment_header();
    let payload = |scope: &mut Scope<'_>, at: u32| layout::payload(event, scope, at);
    buf.template_instance(&mut scope, &system.tree, system.values, Some(&payload))?;
    buf.eof();

    let unpadded = RECORD_HEADER_SIZE + buf.bytes.len() + 4;
    let size = unpadded.div_ceil(8) * 8;
    let size32 = u32::try_from(size).unwrap_or(u32::MAX);
    let mut record = vec![0u8; size];
    record[..4].copy_from_slice(b"**\0\0");
    put_u32(&mut record, 4, size32);
    put_u64(&mut record, 8, id);
    put_u64(&mut record, 16, filetime("TimeCreated", event.time)?);
    record[RECORD_HEADER_SIZE..RECORD_HEADER_SIZE + buf.bytes.len()].copy_from_slice(&buf.bytes);
    put_u32(&mut record, size - 4, size32);
    Ok((record, scope.additions()))
}
