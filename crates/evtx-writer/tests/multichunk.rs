//! Files of many chunks, template reuse within a chunk, determinism, and errors.

mod common;

use common::*;
use evtx_writer::{Event, EvtxWriter, Value, WriteError};

const CHUNK: usize = 65536;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn chunks(bytes: &[u8]) -> Vec<&[u8]> {
    assert_eq!((bytes.len() - 4096) % CHUNK, 0);
    bytes[4096..].chunks(CHUNK).collect()
}

/// The template definitions a chunk's template table chains reach: (offset, GUID).
fn template_defs(chunk: &[u8]) -> Vec<(u32, [u8; 16])> {
    let mut defs = Vec::new();
    for bucket in 0..32 {
        let mut offset = u32_at(chunk, 384 + 4 * bucket);
        while offset != 0 {
            let at = offset as usize;
            defs.push((offset, chunk[at + 4..at + 20].try_into().unwrap()));
            offset = u32_at(chunk, at);
        }
    }
    defs
}

/// The names a chunk's string table chains reach, checking each is in its hash bucket.
fn strings(chunk: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for bucket in 0..64 {
        let mut offset = u32_at(chunk, 128 + 4 * bucket);
        while offset != 0 {
            let at = offset as usize;
            let hash = u16::from_le_bytes([chunk[at + 4], chunk[at + 5]]);
            assert_eq!(usize::from(hash) % 64, bucket);
            let len = usize::from(u16::from_le_bytes([chunk[at + 6], chunk[at + 7]]));
            let units: Vec<u16> = chunk[at + 8..at + 8 + 2 * len]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            names.push(String::from_utf16(&units).unwrap());
            offset = u32_at(chunk, at);
        }
    }
    names
}

fn mixed(n: usize) -> Vec<Event> {
    let layouts = all_layouts();
    (0..n)
        .map(|i| {
            let mut e = layouts[i % layouts.len()].clone();
            e.time = time(i as i64);
            e
        })
        .collect()
}

#[test]
fn five_thousand_events_span_chunks_and_read_back_whole() {
    let events = mixed(5000);
    let bytes = write(&events);
    let chunks = chunks(&bytes);
    assert!(chunks.len() > 10, "{} chunks", chunks.len());
    assert_eq!(
        u64::from(u16::from_le_bytes([bytes[42], bytes[43]])),
        chunks.len() as u64
    );
    assert_eq!(
        u64_at(&bytes, 16),
        chunks.len() as u64 - 1,
        "last chunk number"
    );
    assert_eq!(u64_at(&bytes, 24), 5001, "next record id");

    let records = json_records(&bytes);
    assert_eq!(records.len(), 5000);
    for (i, (id, timestamp, data)) in records.iter().enumerate() {
        assert_eq!(*id, i as u64 + 1);
        assert_eq!(*timestamp, events[i].time);
        assert_eq!(
            data["Event"]["System"]["EventRecordID"],
            serde_json::json!(i + 1)
        );
    }
    // Chunk headers: continuous record ids, first = last + 1 of the one before.
    let mut next = 1;
    for chunk in &chunks {
        assert_eq!(u64_at(chunk, 24), next);
        assert_eq!(u64_at(chunk, 8), next, "first record number");
        let last = u64_at(chunk, 32);
        assert!(last >= next);
        next = last + 1;
    }
    assert_eq!(next, 5001);
    assert_eq!(xml_records(&bytes).len(), 5000);
}

#[test]
fn one_shape_is_one_template_definition_per_chunk() {
    let events: Vec<Event> = (0..3000)
        .map(|i| transfer_stopped(61, 0x8020_0000 + i))
        .collect();
    let bytes = write(&events);
    let all = chunks(&bytes);
    assert!(all.len() > 1);
    for chunk in &all {
        // The System template and the EventData template.
        assert_eq!(template_defs(chunk).len(), 2);
        let names = strings(chunk);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "each name once per chunk");
        assert!(names.contains(&"Data".to_string()));
    }
    // Every layout's shape is its own template; a repeat adds none.
    let layouts = all_layouts();
    let once = write(&layouts);
    let twice = write(&[layouts.clone(), layouts.clone()].concat());
    assert_eq!(chunks(&once).len(), 1);
    assert_eq!(chunks(&twice).len(), 1);
    assert_eq!(
        template_defs(chunks(&once)[0]).len(),
        template_defs(chunks(&twice)[0]).len()
    );
}

#[test]
fn same_events_same_bytes() {
    let events = mixed(700);
    assert_eq!(write(&events), write(&events));
}

#[test]
fn first_record_id_is_configurable() {
    let mut writer = EvtxWriter::with_first_record_id(1912);
    for e in mixed(4) {
        writer.push(&e).unwrap();
    }
    assert_eq!(writer.next_record_id(), 1916);
    let bytes = writer.finish();
    assert_eq!(u64_at(&bytes, 24), 1916);
    let ids: Vec<u64> = json_records(&bytes).iter().map(|r| r.0).collect();
    assert_eq!(ids, [1912, 1913, 1914, 1915]);
}

#[test]
fn no_events_is_one_empty_chunk() {
    let bytes = EvtxWriter::new().finish();
    assert_eq!(bytes.len(), 4096 + CHUNK);
    assert_eq!(json_records(&bytes).len(), 0);
}

#[test]
fn errors_leave_the_writer_unchanged() {
    let mut writer = EvtxWriter::new();
    let mut huge = transfer_stopped(61, 0);
    huge.data
        .push(("url2".into(), Value::Str("x".repeat(15_800))));
    huge.data
        .push(("url3".into(), Value::Str("y".repeat(15_800))));
    let err = writer.push(&huge).unwrap_err();
    assert!(
        matches!(err, WriteError::EventTooLarge { event_id: 61, .. }),
        "{err}"
    );
    let mut bad = transfer_stopped(61, 0);
    bad.data[0].1 = Value::Guid("not-a-guid".into());
    assert!(matches!(
        writer.push(&bad),
        Err(WriteError::InvalidGuid { .. })
    ));
    let mut long = transfer_stopped(61, 0);
    long.data[1].1 = Value::Str("z".repeat(40_000));
    assert!(matches!(
        writer.push(&long),
        Err(WriteError::ValueTooLarge { .. })
    ));
    let mut old = transfer_stopped(61, 0);
    old.time = "1600-12-31T00:00:00Z".parse().unwrap();
    assert!(matches!(
        writer.push(&old),
        Err(WriteError::TimeOutOfRange { .. })
    ));

    assert_eq!(writer.push(&transfer_stopped(61, 0)).unwrap(), 1);
    let bytes = writer.finish();
    assert_eq!(json_records(&bytes).len(), 1);
}

#[test]
fn large_events_near_the_chunk_size_still_fit() {
    // Each about 40 KB: one per chunk.
    let events: Vec<Event> = (0..3)
        .map(|i| {
            let mut e = transfer_stopped(61, i);
            e.data[3].1 = Value::Str("u".repeat(20_000));
            e
        })
        .collect();
    let bytes = write(&events);
    assert_eq!(chunks(&bytes).len(), 3);
    assert_eq!(json_records(&bytes).len(), 3);
}
