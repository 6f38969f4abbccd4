//! Structure-aware: a real chunk from samples/ (valid records and templates), patched at the
//! places the fast reader trusts (template definition offsets and sizes, substitution
//! descriptors and counts, record sizes, the free-space offset), with its checksums fixed so
//! the patched chunk looks intact. The fuzzer's bytes choose the patches.
#![no_main]
use bitsdoctor::parse::evtx::{parse, Reader};
use libfuzzer_sys::fuzz_target;

const SAMPLES: [&[u8]; 2] = [
    include_bytes!("../../samples/WS-FIN-01/Microsoft-Windows-Bits-Client%4Operational.evtx"),
    include_bytes!("../../samples/WS-FIN-01/System.evtx"),
];

fn fix_checksums(c: &mut [u8]) {
    let free = u32::from_le_bytes(c[48..52].try_into().unwrap()) as usize;
    let data = crc32fast::hash(&c[512..free.clamp(512, c.len())]);
    c[52..56].copy_from_slice(&data.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&c[..120]);
    h.update(&c[128..512]);
    c[124..128].copy_from_slice(&h.finalize().to_le_bytes());
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut patches)) = data.split_first() else {
        return;
    };
    let mut file = SAMPLES[usize::from(pick & 1)].to_vec();
    let chunk = &mut file[4096..4096 + 65536];
    // Each patch: u16 offset into the chunk, a width (1, 2 or 4 bytes), the value.
    while patches.len() >= 7 {
        let at = usize::from(u16::from_le_bytes([patches[0], patches[1]]));
        let width = [1usize, 2, 4, 4][usize::from(patches[2] & 3)];
        let value = &patches[3..3 + width];
        let end = (at + width).min(chunk.len());
        chunk[at..end].copy_from_slice(&value[..end - at]);
        patches = &patches[3 + width..];
    }
    if pick & 2 == 0 {
        fix_checksums(chunk);
    }
    let _ = parse(&file, "fuzz.evtx", Reader::Fast);
});
