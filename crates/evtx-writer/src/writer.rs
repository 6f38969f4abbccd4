//! [`EvtxWriter`]: events in, EVTX file bytes out.

use std::io;
use std::path::Path;

use crate::chunk::{Chunk, Pushed, MAX_RECORD_SIZE};
use crate::error::WriteError;
use crate::event::Event;
use crate::header::file_header;

/// Builds an EVTX file in memory.
///
/// Events become records in the order pushed, with consecutive record ids from 1 (or
/// [`EvtxWriter::with_first_record_id`]). A chunk takes records until the next one does not
/// fit, then a new chunk starts; names and template definitions are per chunk. The output
/// depends only on the events: same events, same bytes.
#[derive(Debug)]
pub struct EvtxWriter {
    chunks: Vec<Vec<u8>>,
    current: Chunk,
    next_id: u64,
}

impl Default for EvtxWriter {
    fn default() -> Self {
        EvtxWriter::new()
    }
}

impl EvtxWriter {
    /// A writer whose first record id is 1.
    pub fn new() -> Self {
        EvtxWriter::with_first_record_id(1)
    }

    /// A writer whose first record id is `first` (e.g. a log that wrapped, or a trimmed one).
    pub fn with_first_record_id(first: u64) -> Self {
        EvtxWriter {
            chunks: Vec::new(),
            current: Chunk::new(),
            next_id: first,
        }
    }

    /// The id the next pushed event gets.
    pub fn next_record_id(&self) -> u64 {
        self.next_id
    }

    /// Appends `event`; returns its record id. On error nothing was written.
    pub fn push(&mut self, event: &Event) -> Result<u64, WriteError> {
        let id = self.next_id;
        let next_id = id.checked_add(1).ok_or(WriteError::RecordIdOverflow)?;
        if let Pushed::Full { size } = self.current.push(id, event)? {
            if self.current.is_empty() {
                return Err(too_large(event, size));
            }
            // 65535 chunks at most: the one being closed plus those before it.
            if self.chunks.len() + 1 >= usize::from(u16::MAX) {
                return Err(WriteError::TooManyChunks);
            }
            let mut fresh = Chunk::new();
            if let Pushed::Full { size } = fresh.push(id, event)? {
                return Err(too_large(event, size));
            }
            let full = std::mem::replace(&mut self.current, fresh);
            self.chunks.push(full.finish());
        }
        self.next_id = next_id;
        Ok(id)
    }

    /// Appends every event in order; returns the id of the last (or the next id if none).
    pub fn extend<'e>(
        &mut self,
        events: impl IntoIterator<Item = &'e Event>,
    ) -> Result<u64, WriteError> {
        let mut last = self.next_id;
        for event in events {
            last = self.push(event)?;
        }
        Ok(last)
    }

    /// The file's bytes. A writer without events gives a file with one empty chunk, as Windows
    /// leaves a cleared log.
    pub fn finish(self) -> Vec<u8> {
        let EvtxWriter {
            mut chunks,
            current,
            next_id,
        } = self;
        if !current.is_empty() || chunks.is_empty() {
            chunks.push(current.finish());
        }
        let count = u16::try_from(chunks.len()).unwrap_or(u16::MAX);
        let mut out = file_header(count, next_id);
        out.reserve(chunks.len() * crate::header::CHUNK_SIZE);
        for chunk in chunks {
            out.extend_from_slice(&chunk);
        }
        out
    }

    /// Writes the file to `path`.
    pub fn write_to(self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, self.finish())
    }
}

fn too_large(event: &Event, size: usize) -> WriteError {
    WriteError::EventTooLarge {
        event_id: event.event_id,
        size,
        max: MAX_RECORD_SIZE,
    }
}
