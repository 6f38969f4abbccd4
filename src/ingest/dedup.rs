//! Duplicate inputs: the same file given twice (a copy under another name) is read once, and
//! event-log records that two exports of one host's log both hold are counted once.

use crate::ingest::walk::Found;
use crate::model::{Locator, Observation};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;
use std::io::Read;

/// A file left out because another file with the same content is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub file: Found,
    /// The display path of the file that is read instead.
    pub read_instead: String,
}

/// Split `found` (in path order) into the files to read and the copies of them: files of equal
/// size and equal content are read once, the first in path order. An event log names its own
/// host, so two copies of one are one log wherever they lie; any other file is one machine's
/// capture only within its host folder (two machines' identical `sc qc` outputs are two
/// facts). Only files that share their size with another are read here, so the usual bundle
/// costs one `stat` per file.
pub fn same_content(found: Vec<Found>) -> (Vec<Found>, Vec<Copy>) {
    let mut by_size: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, f) in found.iter().enumerate() {
        if let Ok(m) = std::fs::metadata(&f.path) {
            if m.len() > 0 {
                by_size.entry(m.len()).or_default().push(i);
            }
        }
    }
    let mut copy_of: HashMap<usize, usize> = HashMap::new();
    for group in by_size.values().filter(|g| g.len() > 1) {
        let mut first_with: HashMap<(u64, Option<&str>), usize> = HashMap::new();
        for &i in group {
            let Some((h, is_log)) = content_hash(&found[i].path) else {
                continue;
            };
            let host = if is_log {
                None
            } else {
                found[i].host_hint.as_deref()
            };
            match first_with.get(&(h, host)) {
                Some(&first) => {
                    copy_of.insert(i, first);
                }
                None => {
                    first_with.insert((h, host), i);
                }
            }
        }
    }
    let names: Vec<String> = found.iter().map(|f| f.display.clone()).collect();
    let mut keep = Vec::with_capacity(found.len());
    let mut copies = Vec::new();
    for (i, f) in found.into_iter().enumerate() {
        match copy_of.get(&i) {
            Some(&first) => copies.push(Copy {
                file: f,
                read_instead: names[first].clone(),
            }),
            None => keep.push(f),
        }
    }
    (keep, copies)
}

/// A 64-bit hash of a file's bytes (the same on every run), and whether it is an event log.
fn content_hash(path: &std::path::Path) -> Option<(u64, bool)> {
    let mut file = std::fs::File::open(path).ok()?;
    // SipHash-2-4 with fixed keys; deprecated only as a general-purpose hasher.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(0x6269_7473, 0x646f_6374);
    let mut buf = vec![0u8; 1 << 16];
    let mut head: Option<bool> = None;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                head.get_or_insert_with(|| buf[..n].starts_with(b"ElfFile\0"));
                h.write(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some((h.finish(), head.unwrap_or(false)))
}

/// What [`drop_repeated_records`] removed from one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated {
    /// Observations dropped (their records are counted from the other input).
    pub observations: u64,
    /// The input that holds them and is counted (the first in order).
    pub counted_in: String,
}

/// Event-log observations are one record of one host's log: the same host, record id, time
/// and event id in two inputs (two overlapping exports of System.evtx) is one record, counted
/// from the first input that holds it. `inputs` are (display path, observations) in path order.
pub fn drop_repeated_records(
    inputs: &mut [(&str, &mut Vec<Observation>)],
) -> Vec<Option<Repeated>> {
    type Key = (String, u64, Option<jiff::Timestamp>, u32);
    let mut owner: HashMap<Key, usize> = HashMap::new();
    let mut out = vec![None; inputs.len()];
    for (i, (_, obs)) in inputs.iter().enumerate() {
        for o in obs.iter() {
            if let Locator::Record(r) = o.evidence.at {
                let key = (o.host.clone(), r, o.time.utc(), o.event_id);
                owner.entry(key).or_insert(i);
            }
        }
    }
    let names: Vec<String> = inputs.iter().map(|(p, _)| p.to_string()).collect();
    for (i, (_, obs)) in inputs.iter_mut().enumerate() {
        let mut dropped = 0;
        let mut counted_in = None;
        obs.retain(|o| {
            let Locator::Record(r) = o.evidence.at else {
                return true;
            };
            let key = (o.host.clone(), r, o.time.utc(), o.event_id);
            match owner.get(&key) {
                Some(&first) if first != i => {
                    dropped += 1;
                    counted_in.get_or_insert(first);
                    false
                }
                _ => true,
            }
        });
        if let Some(first) = counted_in {
            out[i] = Some(Repeated {
                observations: dropped,
                counted_in: names[first].clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Fact, When};

    fn rec(path: &str, id: u64, secs: i64) -> Observation {
        Observation {
            host: "WS01.corp.example".into(),
            time: When::Utc(jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap()),
            evidence: Evidence {
                path: path.into(),
                at: Locator::Record(id),
            },
            event_id: 61,
            fact: Fact::ServiceCrash {
                service: "BITS".into(),
                count: None,
            },
        }
    }

    #[test]
    fn overlapping_exports_count_each_record_once() {
        let mut a = vec![
            rec("a.evtx", 1, 1),
            rec("a.evtx", 2, 2),
            rec("a.evtx", 3, 3),
        ];
        let mut b = vec![
            rec("b.evtx", 2, 2),
            rec("b.evtx", 3, 3),
            rec("b.evtx", 4, 4),
        ];
        // Same record id at another time: another log (or a cleared one), kept.
        let mut c = vec![rec("c.evtx", 1, 99)];
        let mut inputs = [("a.evtx", &mut a), ("b.evtx", &mut b), ("c.evtx", &mut c)];
        let r = drop_repeated_records(&mut inputs);
        assert_eq!(r[0], None);
        assert_eq!(
            r[1],
            Some(Repeated {
                observations: 2,
                counted_in: "a.evtx".into()
            })
        );
        assert_eq!(r[2], None);
        assert_eq!(a.len(), 3);
        assert_eq!(b.len(), 1);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn copies_are_found_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, host: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            Found {
                path: p,
                display: name.into(),
                folders: vec![host.into()],
                host_hint: Some(host.into()),
            }
        };
        let found = vec![
            write("a.txt", "WS01", "same bytes"),
            write("b.txt", "WS01", "same bytex"),
            write("c - Copy.txt", "WS01", "same bytes"),
            write("d.txt", "WS01", "other"),
            // Another machine's identical capture is its own fact.
            write("e.txt", "WS02", "same bytes"),
            // An event log names its host itself: a copy anywhere is the same log.
            write("f.evtx", "WS01", "ElfFile\0 log"),
            write("g.evtx", "WS02", "ElfFile\0 log"),
        ];
        let (keep, copies) = same_content(found);
        let kept: Vec<&str> = keep.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(kept, ["a.txt", "b.txt", "d.txt", "e.txt", "f.evtx"]);
        let copied: Vec<(&str, &str)> = copies
            .iter()
            .map(|c| (c.file.display.as_str(), c.read_instead.as_str()))
            .collect();
        assert_eq!(copied, [("c - Copy.txt", "a.txt"), ("g.evtx", "f.evtx")]);
    }
}
