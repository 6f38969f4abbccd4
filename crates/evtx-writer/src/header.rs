//! The file header (4096 bytes) and chunk header (512 bytes) layouts, with their CRC32s.

/// Size of the file header block.
pub(crate) const FILE_HEADER_SIZE: usize = 4096;
/// Size of a chunk.
pub(crate) const CHUNK_SIZE: usize = 65536;
/// Size of a chunk header, string and template tables included; records start here.
pub(crate) const CHUNK_HEADER_SIZE: usize = 512;

/// The file header: `ElfFile\0`, first and last chunk numbers, next record id, header size 128,
/// version 3.1, header block size 4096, chunk count, flags 0 (clean), CRC32 of bytes 0..120.
pub(crate) fn file_header(chunk_count: u16, next_record_id: u64) -> Vec<u8> {
    let mut h = vec![0u8; FILE_HEADER_SIZE];
    h[..8].copy_from_slice(b"ElfFile\0");
    put_u64(&mut h, 8, 0);
    put_u64(&mut h, 16, u64::from(chunk_count.saturating_sub(1)));
    put_u64(&mut h, 24, next_record_id);
    put_u32(&mut h, 32, 128);
    put_u16(&mut h, 36, 1);
    put_u16(&mut h, 38, 3);
    put_u16(&mut h, 40, FILE_HEADER_SIZE as u16);
    put_u16(&mut h, 42, chunk_count);
    put_u32(&mut h, 120, 0);
    let crc = crc32fast::hash(&h[..120]);
    put_u32(&mut h, 124, crc);
    h
}

/// What a chunk header says about its records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkSummary {
    /// First and last record ids (and numbers); `None` for a chunk without records, which
    /// Windows marks with first number 1 and all-ones ids.
    pub ids: Option<(u64, u64)>,
    pub last_record_offset: u32,
    pub free_space_offset: u32,
}

/// Fills in the header of `chunk` (records and tables already in place): `ElfChnk\0`, record
/// numbers and ids, header size 128, offsets, the records' CRC32 (bytes 512..free space), flags
/// 0, and the header CRC32 over bytes 0..120 and 128..512.
pub(crate) fn seal_chunk(
    chunk: &mut [u8],
    summary: ChunkSummary,
    strings: &[u32; 64],
    templates: &[u32; 32],
) {
    chunk[..8].copy_from_slice(b"ElfChnk\0");
    let (first_number, last_number, first_id, last_id) = match summary.ids {
        Some((first, last)) => (first, last, first, last),
        None => (1, u64::MAX, u64::MAX, u64::MAX),
    };
    put_u64(chunk, 8, first_number);
    put_u64(chunk, 16, last_number);
    put_u64(chunk, 24, first_id);
    put_u64(chunk, 32, last_id);
    put_u32(chunk, 40, 128);
    put_u32(chunk, 44, summary.last_record_offset);
    put_u32(chunk, 48, summary.free_space_offset);
    for (i, offset) in strings.iter().enumerate() {
        put_u32(chunk, 128 + 4 * i, *offset);
    }
    for (i, offset) in templates.iter().enumerate() {
        put_u32(chunk, 384 + 4 * i, *offset);
    }
    let free = (summary.free_space_offset as usize).clamp(CHUNK_HEADER_SIZE, chunk.len());
    let records_crc = crc32fast::hash(&chunk[CHUNK_HEADER_SIZE..free]);
    put_u32(chunk, 52, records_crc);
    put_u32(chunk, 120, 0);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&chunk[..120]);
    hasher.update(&chunk[128..CHUNK_HEADER_SIZE]);
    put_u32(chunk, 124, hasher.finalize());
}

fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
